//! SQLite through rusqlite: 36 walks, each on its own database file, with the journal mode
//! changed under open transactions. The repository layer trusts `PRAGMA journal_mode`, and
//! SQLite does not change the journal mode inside an open transaction: exactly the walks
//! whose transaction was open when the serial action ran fail, for one of two reasons.

use std::collections::BTreeMap;

use combtest::prelude::*;
use combtest_examples::ledger::{begin, deposit, end, set_journal_mode, Ledger};

#[test]
fn journal_mode_changes_inside_open_transactions_are_found() {
    let report = combtest! {
        order: [begin, set_journal_mode, deposit, end],
        state: || Ledger::open().expect("a database file in the temp folder"),
        panic_on_failure: false,
    };
    // 3 ways to begin x 3 journal modes x 2 deposits x 2 ways to end.
    assert_eq!(report.walk_count, 36);
    assert_eq!(report.cancel_count, 0);
    assert_eq!(report.error_count, 12, "{report}");

    // Every failure is found at the end of its walk, and the cause is the pair of what the
    // walk began with and the journal mode the serial action set.
    // Each cause fails its 4 walks (2 deposits x 2 ways to end).
    let mut causes = BTreeMap::new();
    for failure in &report.failures {
        assert_eq!(failure.failed_action, "end");
        let begun = &*failure.steps[0].param_debug;
        let mode = &*failure.steps[1].param_debug;
        *causes
            .entry((begun, mode, failure.message.as_str()))
            .or_insert(0) += 1;
    }
    let expected: BTreeMap<_, _> = [
        // A transaction that has written: the pragma is silently ignored.
        (
            "Written",
            "Truncate",
            "journal_mode is delete, but the ledger was set to truncate",
        ),
        (
            "Written",
            "Wal",
            "journal_mode is delete, but the ledger was set to wal",
        ),
        // A transaction that has not written yet: only a change into WAL is refused.
        (
            "Open",
            "Wal",
            "PRAGMA journal_mode = wal: cannot change into wal mode from within a transaction",
        ),
    ]
    .into_iter()
    .map(|cause| (cause, 4))
    .collect();
    assert_eq!(causes, expected);

    // The report shows them with a command that replays each.
    assert!(report
        .failures
        .iter()
        .all(|f| f.replay.contains("COMBTEST_WALKS=")));
    let text = report.to_string();
    assert!(text.contains("12 of 36 walks failed"), "{text}");
}
