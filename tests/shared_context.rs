//! The shared context as tests have it: lent from the test (`shared: &pool`,
//! `shared: &mut app`), of a type that borrows from the test itself (not `'static`), and
//! handed back after a run that owned it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use combtest::prelude::*;

/// A connection pool, as a test makes one and shares it with every walk.
#[derive(Debug, Default)]
struct Pool {
    checkouts: AtomicU32,
}

#[action(options = [1u32, 2, 3])]
fn query(n: u32, rows: &mut Vec<u32>, pool: &Pool) {
    pool.checkouts.fetch_add(1, Ordering::Relaxed);
    rows.push(n);
}

#[action(options = [10u32, 20])]
async fn query_later(n: u32, rows: &mut Vec<u32>, pool: &Pool) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    pool.checkouts.fetch_add(1, Ordering::Relaxed);
    rows.push(n);
}

#[test]
fn a_borrowed_shared_context_stays_the_tests() {
    let pool = Pool::default();
    let report = combtest! {
        order: [query, query],
        state: Vec::new(),
        shared: &pool,
    };
    assert_eq!(report.walk_count, 9);
    // The pool is still the test's: every walk checked out of it twice.
    assert_eq!(pool.checkouts.load(Ordering::Relaxed), 18);
}

#[test]
fn async_walks_read_a_borrowed_shared_context() {
    let pool = Pool::default();
    let report = combtest! {
        order: [query, query_later],
        state: Vec::new(),
        shared: &pool,
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 6);
    assert_eq!(report.states[5], [3, 20]);
    assert_eq!(pool.checkouts.load(Ordering::Relaxed), 12);
}

/// A server configuration that serial actions change between stretches of walks.
#[derive(Debug, Default)]
struct Server {
    version: u32,
    /// Every version the server ran, in order.
    history: Vec<u32>,
    requests: AtomicU32,
}

#[action(options = [1u32, 2])]
fn request(n: u32, seen: &mut Vec<(u32, u32)>, server: &Server) {
    server.requests.fetch_add(1, Ordering::Relaxed);
    seen.push((n, server.version));
}

#[serial_action(options = [7u32, 8])]
fn upgrade(version: u32, server: &mut Server) {
    server.version = version;
    server.history.push(version);
}

#[serial_action(options = [9u32])]
async fn upgrade_later(version: u32, server: &mut Server) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    server.version = version;
    server.history.push(version);
}

#[test]
fn serial_actions_change_a_context_lent_mutably() {
    let mut server = Server::default();
    let report = combtest! {
        order: [request, upgrade, request, upgrade_later, request],
        state: Vec::new(),
        shared: &mut server,
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 16);
    // Walk 15: request(2) on version 0, upgrade(8), request(2), upgrade_later(9), request(2).
    assert_eq!(report.states[15], [(2, 0), (2, 8), (2, 9)]);
    // The server is the test's again, as the serial actions left it.
    assert_eq!(server.history, [7, 9, 8, 9]);
    assert_eq!(server.version, 9);
    assert_eq!(server.requests.load(Ordering::Relaxed), 48);
}

/// A context that borrows from the test, so its type is not `'static`: a view of a fixture
/// and a log that outlive the run.
struct Fixture<'a> {
    names: &'a [&'a str],
    log: &'a Mutex<Vec<String>>,
}

#[action(options = [0usize, 1])]
fn greet(at: usize, greeted: &mut Vec<String>, fixture: &Fixture<'_>) {
    let name = fixture.names[at];
    fixture.log.lock().unwrap().push(format!("hello {name}"));
    greeted.push(name.to_string());
}

#[test]
fn a_shared_context_need_not_be_static() {
    let names = [String::from("ada"), String::from("grace")];
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let log = Mutex::new(Vec::new());
    let report = combtest! {
        order: [greet, greet],
        state: Vec::<String>::new(),
        shared: Fixture { names: &names, log: &log },
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 4);
    assert_eq!(report.states[1], ["ada", "grace"]);
    let mut log = log.into_inner().unwrap();
    log.sort();
    assert_eq!(log.len(), 8);
    assert_eq!(log[0], "hello ada");
}

#[test]
fn the_builder_lends_and_hands_back_the_shared_context() {
    // Lent: the builder takes `&pool` like `combtest!` does.
    let pool = Pool::default();
    let report = Combtest::with_shared(Vec::new(), &pool)
        .then(query::action())
        .threads(2)
        .run()
        .expect("a valid order");
    assert_eq!(report.walk_count, 3);
    assert_eq!(pool.checkouts.load(Ordering::Relaxed), 3);

    // Owned: the run hands it back.
    let (report, server) = Combtest::with_shared(Vec::new(), Server::default())
        .then(request::action())
        .then(upgrade::action())
        .threads(2)
        .run_and_return_shared();
    assert_eq!(report.expect("a valid order").walk_count, 4);
    assert_eq!(server.history, [7, 8]);
    assert_eq!(server.requests.load(Ordering::Relaxed), 4);

    // Even when the run could not start.
    let (report, server) = Combtest::with_shared(Vec::new(), Server::default())
        .then(request::action())
        .walks("99")
        .run_and_return_shared();
    assert!(report.is_err(), "walk 99 is out of range");
    assert!(server.history.is_empty());
}
