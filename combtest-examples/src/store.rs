//! A key-value store served over HTTP by axum, its modes switched at run time through an
//! admin endpoint, and the combtest actions that drive it with a hyper client.
//!
//! The server ([`StoreServer::start`]) listens on 127.0.0.1 on a port the system picks, on a
//! runtime of its own. Each walk holds one keep-alive HTTP/1.1 connection ([`Session`]),
//! writes its own key, then, after a serial action switched the server's mode, sends two
//! requests and checks each status against what the mode allows:
//!
//! | mode | `GET` | `PUT` | `DELETE` |
//! |---|---|---|---|
//! | read-write | 200, or 404 once deleted | 201 | 204, or 404 once deleted |
//! | read-only | 200 | 403 | 403 |
//! | maintenance | 503 | 503 | 503 |
//!
//! The server has one planted mistake: its `DELETE` handler checks for maintenance but not
//! for read-only mode, so a read-only store still deletes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use combtest::prelude::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// What the store accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// Reads and writes.
    ReadWrite,
    /// Reads only: writes answer 403.
    ReadOnly,
    /// Nothing: every request answers 503.
    Maintenance,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::ReadWrite => "read-write",
            Mode::ReadOnly => "read-only",
            Mode::Maintenance => "maintenance",
        }
    }

    fn from_name(name: &str) -> Option<Mode> {
        [Mode::ReadWrite, Mode::ReadOnly, Mode::Maintenance]
            .into_iter()
            .find(|mode| mode.name() == name)
    }
}

/// The server's state: the values and the mode, which the admin endpoint changes while the
/// server runs.
#[derive(Clone)]
struct Store {
    values: Arc<Mutex<HashMap<String, String>>>,
    mode: Arc<RwLock<Mode>>,
}

impl Store {
    fn mode(&self) -> Mode {
        *self.mode.read().unwrap()
    }
}

async fn read(State(store): State<Store>, Path(key): Path<String>) -> (StatusCode, String) {
    if store.mode() == Mode::Maintenance {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    match store.values.lock().unwrap().get(&key) {
        Some(value) => (StatusCode::OK, value.clone()),
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

async fn write(State(store): State<Store>, Path(key): Path<String>, value: String) -> StatusCode {
    match store.mode() {
        Mode::Maintenance => StatusCode::SERVICE_UNAVAILABLE,
        Mode::ReadOnly => StatusCode::FORBIDDEN,
        Mode::ReadWrite => {
            store.values.lock().unwrap().insert(key, value);
            StatusCode::CREATED
        }
    }
}

async fn remove(State(store): State<Store>, Path(key): Path<String>) -> StatusCode {
    // The planted mistake: read-only mode is not checked here.
    if store.mode() == Mode::Maintenance {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match store.values.lock().unwrap().remove(&key) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

async fn set_mode(State(store): State<Store>, name: String) -> StatusCode {
    match Mode::from_name(&name) {
        Some(mode) => {
            *store.mode.write().unwrap() = mode;
            StatusCode::OK
        }
        None => StatusCode::BAD_REQUEST,
    }
}

/// The store, serving on 127.0.0.1 on a runtime of its own until dropped.
pub struct StoreServer {
    address: SocketAddr,
    /// Requests served, counted by the server.
    served: Arc<AtomicU64>,
    /// Mode switches the admin endpoint accepted.
    pub mode_switches: u32,
    runtime: Option<tokio::runtime::Runtime>,
}

impl StoreServer {
    /// Binds 127.0.0.1 on a free port and serves the store in read-write mode.
    pub fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("store-server")
            .enable_all()
            .build()?;
        let store = Store {
            values: Arc::default(),
            mode: Arc::new(RwLock::new(Mode::ReadWrite)),
        };
        let served = Arc::new(AtomicU64::new(0));
        let counter = served.clone();
        let app = Router::new()
            .route("/items/{key}", get(read).put(write).delete(remove))
            .route("/admin/mode", put(set_mode))
            .layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    counter.fetch_add(1, Ordering::Relaxed);
                    next.run(request)
                },
            ))
            .with_state(store);
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let address = listener.local_addr()?;
        runtime.spawn(async move { axum::serve(listener, app).await });
        Ok(StoreServer {
            address,
            served,
            mode_switches: 0,
            runtime: Some(runtime),
        })
    }

    /// Where the store listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Requests the server answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for StoreServer {
    fn drop(&mut self) {
        // Stop serving without waiting for idle keep-alive connections.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An HTTP request a walk sends about its own key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Request {
    /// `GET /items/{key}`.
    Get,
    /// `PUT /items/{key}`.
    Put,
    /// `DELETE /items/{key}`.
    Delete,
}

/// One walk's client: its own key, one keep-alive connection, and what it expects of the
/// store. Not `Clone`: a connection is not shared between walks.
pub struct Session {
    address: SocketAddr,
    key: String,
    connection: Option<SendRequest<Full<Bytes>>>,
    /// The mode the serial action last switched the store to.
    mode: Mode,
    /// Whether the walk's key holds a value.
    stored: bool,
}

impl Session {
    /// A client of the store at `address`, with a key of its own; it connects on its first
    /// request.
    pub fn new(address: SocketAddr) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Session {
            address,
            key: format!("walk-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
            connection: None,
            mode: Mode::ReadWrite,
            stored: false,
        }
    }

    /// Sends one request on the walk's connection, and returns the status and body.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<(StatusCode, String), String> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => {
                let stream = tokio::net::TcpStream::connect(self.address)
                    .await
                    .map_err(|e| format!("connect to {}: {e}", self.address))?;
                let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| format!("handshake: {e}"))?;
                // The connection's I/O runs beside the walk, until the walk drops its sender.
                tokio::spawn(driver);
                self.connection.insert(sender)
            }
        };
        connection
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.address.to_string())
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| e.to_string())?;
        let response = connection
            .send_request(request)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {path}: body: {e}"))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// What the store must answer to `request` in the walk's mode; updates the walk's model.
    fn expect(&mut self, request: Request) -> StatusCode {
        match (self.mode, request) {
            (Mode::Maintenance, _) => StatusCode::SERVICE_UNAVAILABLE,
            (_, Request::Get) if self.stored => StatusCode::OK,
            (_, Request::Get) => StatusCode::NOT_FOUND,
            (Mode::ReadOnly, _) => StatusCode::FORBIDDEN,
            (Mode::ReadWrite, Request::Put) => {
                self.stored = true;
                StatusCode::CREATED
            }
            (Mode::ReadWrite, Request::Delete) if self.stored => {
                self.stored = false;
                StatusCode::NO_CONTENT
            }
            (Mode::ReadWrite, Request::Delete) => StatusCode::NOT_FOUND,
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("key", &self.key)
            .field("mode", &self.mode)
            .field("stored", &self.stored)
            .finish_non_exhaustive()
    }
}

/// Stores a first value under the walk's key.
#[action(options = ["apple", "pear"])]
pub async fn put_value(value: &'static str, session: &mut Session) -> Result<(), String> {
    let path = format!("/items/{}", session.key);
    let (status, _) = session.send("PUT", &path, value).await?;
    if status != StatusCode::CREATED {
        return Err(format!("PUT answered {status}, expected 201 Created"));
    }
    session.stored = true;
    Ok(())
}

/// Switches the running store's mode through its admin endpoint, alone (no walk has a
/// request in flight), and tells every live walk of the branch.
#[serial_action(options = [Mode::ReadWrite, Mode::ReadOnly, Mode::Maintenance])]
pub async fn switch_mode(
    mode: Mode,
    server: &mut StoreServer,
    mut sessions: States<'_, Session>,
) -> Result<(), String> {
    let mut admin = Session::new(server.address());
    let (status, _) = admin.send("PUT", "/admin/mode", mode.name()).await?;
    if status != StatusCode::OK {
        return Err(format!("switching to {} answered {status}", mode.name()));
    }
    server.mode_switches += 1;
    for session in sessions.iter_mut() {
        session.mode = mode;
    }
    Ok(())
}

/// Sends one request about the walk's key and checks the status against the mode.
#[action(options = [Request::Get, Request::Put, Request::Delete])]
pub async fn request(request: Request, session: &mut Session) -> Result<(), String> {
    let path = format!("/items/{}", session.key);
    let (method, body) = match request {
        Request::Get => ("GET", ""),
        Request::Put => ("PUT", "plum"),
        Request::Delete => ("DELETE", ""),
    };
    let mode = session.mode;
    let expected = session.expect(request);
    let (status, _) = session.send(method, &path, body).await?;
    if status != expected {
        return Err(format!(
            "{method} answered {status} in {} mode, expected {expected}",
            mode.name()
        ));
    }
    Ok(())
}
