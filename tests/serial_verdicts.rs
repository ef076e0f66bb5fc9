//! Serial actions that judge single walks: `States::fail` and `States::cancel` end one walk
//! of the branch, with a message, while the rest of the branch goes on.

use combtest::prelude::*;
use combtest::{FailureKind, Outcome};

#[action(options = 0..4u32)]
fn deposit(n: u32, ledger: &mut Vec<String>) {
    ledger.push(format!("deposit {n}"));
}

/// Fails the walks whose deposit was 1, cancels those whose deposit was 2, per branch.
#[serial_action(options = ["nightly", "weekly"])]
fn audit(kind: &'static str, mut walks: States<'_, Vec<String>>) {
    let mut judged = Vec::new();
    for (id, ledger) in walks.iter_mut_with_ids() {
        ledger.push(format!("audit {kind}"));
        if ledger[0] == "deposit 1" {
            judged.push((id, true));
        } else if ledger[0] == "deposit 2" {
            judged.push((id, false));
        }
    }
    for (id, fail) in judged {
        if fail {
            walks.fail(id, format!("{kind} audit: a deposit of 1 is refused"));
        } else {
            walks.cancel(id, "deposits of 2 are not audited");
        }
    }
}

#[action(options = ["close"])]
fn close(what: &'static str, ledger: &mut Vec<String>) {
    ledger.push(what.to_string());
}

#[test]
fn a_serial_action_fails_and_cancels_single_walks_and_the_branch_goes_on() {
    let report = combtest! {
        order: [deposit, audit, close],
        state: Vec::new(),
        gather_states: full,
        panic_on_failure: false,
    };
    // 2 branches x 4 deposits; per branch one walk fails and one is cancelled.
    assert_eq!(report.walk_count, 8);
    assert_eq!((report.error_count, report.cancel_count), (2, 2));
    let failed: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    // Ids: the serial action is the outer wheel: "nightly" 0-3, "weekly" 4-7.
    assert_eq!(failed, [1, 5]);
    let failure = &report.failures[1];
    assert_eq!(failure.failed_action, "audit");
    assert_eq!(failure.kind, FailureKind::Judged);
    assert_eq!(failure.message, "weekly audit: a deposit of 1 is refused");
    // The report says the serial action failed these walks, not that it failed itself and
    // took its branch with it.
    let group = report
        .groups
        .iter()
        .find(|g| g.action == "audit")
        .expect("a group of the judged walks");
    assert!(!group.serial);
    let text = report.to_string();
    assert!(
        text.contains("1 walk, audit failed the walk through States::fail: "),
        "{text}"
    );
    assert!(
        !text.contains("every live walk of the branch fails"),
        "{text}"
    );
    assert!(failure.state.contains("audit weekly"), "{}", failure.state);
    // The judged walks ran no further; the others ran to the end.
    for (walk, ledger) in report.walks.iter().zip(&report.states) {
        let closed = ledger.last().map(String::as_str) == Some("close");
        match ledger[0].as_str() {
            "deposit 1" => assert_eq!(walk.outcome, Outcome::Fail),
            "deposit 2" => assert!(
                matches!(&walk.outcome, Outcome::Cancel { reason } if reason == "deposits of 2 are not audited")
            ),
            _ => {
                assert_eq!(walk.outcome, Outcome::Pass);
                assert!(closed, "{ledger:?}");
                continue;
            }
        }
        assert!(!closed, "a judged walk ran on: {ledger:?}");
    }
}

#[serial_action(options = ["check"])]
async fn remote_check(_: &'static str, mut walks: States<'_, Vec<String>>) {
    tokio::task::yield_now().await;
    let last = *walks.ids().last().expect("a branch has live walks");
    walks.fail(last, "the remote check refused the last walk");
}

#[test]
fn an_async_serial_action_judges_single_walks_too() {
    let report = combtest! {
        order: [deposit, remote_check, close],
        state: Vec::new(),
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (4, 1));
    assert_eq!(report.failures[0].walk_id, 3);
    assert_eq!(report.failures[0].failed_action, "remote_check");
}

#[serial_action(options = ["stray"])]
fn judge_a_stranger(_: &'static str, mut walks: States<'_, Vec<String>>) {
    walks.fail(99, "not ours");
}

#[test]
fn judging_a_walk_outside_the_branch_fails_the_branch_saying_so() {
    let report = combtest! {
        order: [deposit, judge_a_stranger],
        state: Vec::new(),
        panic_on_failure: false,
    };
    assert_eq!(report.error_count, 4);
    let failure = &report.failures[0];
    assert_eq!(failure.kind, FailureKind::Panic);
    assert_eq!(
        failure.message,
        "combtest: walk 99 is not a live walk of this branch (4 live walks, ids 0 to 3)"
    );
}
