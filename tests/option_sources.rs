//! An action's option expression is evaluated once per run, however many positions of the
//! order the action takes: a source that gives another list on each call (a random sample,
//! a clock, a counter) still gives every position the same list.

use std::sync::atomic::{AtomicU32, Ordering};

use combtest::prelude::*;

static COMBTEST_CALLS: AtomicU32 = AtomicU32::new(0);

/// Another list on each call: `[10c, 10c + 1]` for the `c`-th call.
fn shifting(calls: &AtomicU32) -> Vec<u32> {
    let call = calls.fetch_add(1, Ordering::SeqCst);
    vec![10 * call, 10 * call + 1]
}

#[action(options = shifting(&COMBTEST_CALLS))]
fn pick(n: u32, picked: &mut Vec<u32>) {
    picked.push(n);
}

#[test]
fn an_action_listed_three_times_evaluates_its_options_once() {
    let report = combtest! {
        order: [pick, pick, pick],
        state: Vec::new(),
        gather_states: flat,
    };
    assert_eq!(COMBTEST_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(report.walk_count, 8);
    // Every position picks from the one list.
    assert_eq!(report.states[0], [0, 0, 0]);
    assert_eq!(report.states[7], [1, 1, 1]);
}

#[test]
fn a_cloned_action_evaluates_its_options_once() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let pick = Action::new(
        "pick",
        || shifting(&CALLS),
        |n: u32, picked: &mut Vec<u32>, _: &()| picked.push(n),
    );
    let report = Combtest::new(Vec::new())
        .then(pick.clone())
        .then(pick)
        .gather_states(Gather::Flat)
        .run()
        .unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(report.states, [[0, 0], [0, 1], [1, 0], [1, 1]]);
}
