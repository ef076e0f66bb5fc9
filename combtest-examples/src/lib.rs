//! combtest against real software, as a user writes it: each module is a system under test
//! and the actions that drive it; `examples/` runs them and prints the report, `tests/`
//! runs them in CI with the exact outcomes asserted.
//!
//! - [`ledger`]: SQLite through `rusqlite`: one database file and connection per walk,
//!   transactions, and a serial action that changes the journal mode of every live walk's
//!   connection.
//! - [`store`]: an axum HTTP server started inside the test on 127.0.0.1, driven by a hyper
//!   client from async actions, with a serial action that switches the running server's
//!   mode.

pub mod ledger;
pub mod store;
