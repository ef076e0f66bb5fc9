//! An axum server on 127.0.0.1, driven by a hyper client from async actions, its mode
//! switched by a serial action while it runs. Prints the failure report: the server's
//! planted mistake lets a read-only store delete.
//!
//! `cargo run -p combtest-examples --example server`

use combtest::prelude::*;
use combtest_examples::store::{put_value, request, switch_mode, Session, StoreServer};

fn main() {
    let mut server = StoreServer::start().expect("a server on 127.0.0.1");
    let address = server.address();
    println!("serving on http://{address}");
    let report = combtest! {
        order: [put_value, switch_mode, request, request],
        state: move || Session::new(address),
        shared: &mut server,
        panic_on_failure: false,
    };
    println!("{report}");
    println!(
        "\n{} of {} walks failed, as expected: a read-only store still deletes \
         (tests/server.rs asserts which). The server answered {} requests and switched \
         mode {} times.",
        report.error_count,
        report.walk_count,
        server.served(),
        server.mode_switches
    );
}
