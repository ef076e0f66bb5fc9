//! SQLite through rusqlite: every walk on its own database file, the journal mode changed
//! under open transactions by a serial action. Prints the failure report: the repository
//! layer trusts `PRAGMA journal_mode`, which SQLite ignores or refuses inside an open
//! transaction.
//!
//! `cargo run -p combtest-examples --example sqlite`

use combtest::prelude::*;
use combtest_examples::ledger::{begin, deposit, end, set_journal_mode, Ledger};

fn main() {
    let report = combtest! {
        order: [begin, set_journal_mode, deposit, end],
        state: || Ledger::open().expect("a database file in the temp folder"),
        panic_on_failure: false,
    };
    // The failure report: counts, then the first failures in full with a replay command.
    println!("{report}");
    println!(
        "\n{} of {} walks failed, as expected: the layer trusts PRAGMA journal_mode inside \
         open transactions (tests/sqlite.rs asserts each cause).",
        report.error_count, report.walk_count
    );
}
