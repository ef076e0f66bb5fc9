//! A panic in the test's own code that combtest calls for a walk outside its actions — the
//! state's `Clone`, a state factory, the state's `Drop`, a param's `Debug` — fails that walk,
//! with a message saying where it happened; the run goes on and returns its report. Checked
//! for orders with and without serial actions.

use std::sync::atomic::{AtomicUsize, Ordering};

use combtest::prelude::*;
use combtest::FailureKind;
use serde::Serialize;

/// A state whose `Clone` panics on its `fail_on`-th call: each test has its own counter.
#[derive(Debug)]
struct CloneFails {
    clones: &'static AtomicUsize,
    fail_on: usize,
}

impl Clone for CloneFails {
    fn clone(&self) -> Self {
        let call = self.clones.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.fail_on {
            panic!("clone number {call} breaks");
        }
        CloneFails { ..*self }
    }
}

#[action(options = 0..5)]
fn touch(_n: u32, _state: &mut CloneFails) {}

#[test]
fn a_panicking_clone_fails_its_walk_only() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    // One worker: its template is clone 1, walk 0's state clone 2, walk 1's clone 3.
    let report = combtest! {
        order: [touch],
        state: CloneFails { clones: &CLONES, fail_on: 3 },
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (5, 1), "{report}");
    let failure = &report.failures[0];
    assert_eq!(failure.walk_id, 1);
    assert_eq!(failure.kind, FailureKind::State);
    assert!(
        failure.message.contains("while its state was made")
            && failure.message.contains("before any action ran")
            && failure.message.contains("clone number 3 breaks"),
        "{}",
        failure.message
    );
    let text = report.to_string();
    assert!(text.contains("walk 1 (fingerprint"), "{text}");
    assert!(
        text.contains("its state panicked outside its actions"),
        "{text}"
    );
    assert!(!text.contains("after its actions"), "{text}");
}

#[test]
fn a_panicking_clone_fails_its_walk_only_with_serial_actions() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    // One worker: its template is clone 1, walk 0's state clone 2, walk 1's clone 3. Held
    // walks' states are cloned a chunk at a time: the walks after the one that failed go on.
    let report = combtest! {
        order: [touch, pause, touch],
        state: CloneFails { clones: &CLONES, fail_on: 3 },
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (50, 1), "{report}");
    let failure = &report.failures[0];
    assert_eq!(failure.walk_id, 1);
    assert_eq!(failure.kind, FailureKind::State);
    assert!(
        failure.message.contains("clone number 3 breaks"),
        "{}",
        failure.message
    );
    // Every other walk was made: one clone each, the template's and the failed one's.
    assert_eq!(CLONES.load(Ordering::SeqCst), 51);
}

static FIRST_RUNS: AtomicUsize = AtomicUsize::new(0);

#[action(options = 0..100)]
fn before_pause(_n: u32, _state: &mut CloneFails) {
    FIRST_RUNS.fetch_add(1, Ordering::SeqCst);
}

#[action(options = 0..100)]
fn after_pause(_n: u32, _state: &mut CloneFails) {}

#[test]
fn a_panicking_clone_among_thousands_of_held_walks_fails_its_walk_only() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    // Held states are made a few thousand at a time, each batch running the actions before
    // the serial action as soon as it is made: a clone that panics in a later batch fails
    // its walk, and every other walk is made and runs them once.
    let report = combtest! {
        order: [before_pause, pause, after_pause],
        state: CloneFails { clones: &CLONES, fail_on: 6_000 },
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!(
        (report.walk_count, report.error_count),
        (20_000, 1),
        "{report}"
    );
    // One worker: its template is clone 1, walk `k`'s state clone `k + 2`.
    assert_eq!(report.failures[0].walk_id, 5_998);
    assert_eq!(report.failures[0].kind, FailureKind::State);
    assert_eq!(FIRST_RUNS.load(Ordering::SeqCst), 19_999);
}

#[derive(Clone, Debug, Default)]
struct Server;

#[action(options = 0..3)]
fn call(n: u32, calls: &mut Vec<u32>, _server: &Server) {
    calls.push(n);
}

#[serial_action(options = [1, 2])]
fn restart(_version: u32, _server: &mut Server) {}

#[test]
fn a_panicking_factory_fails_its_walk_with_serial_actions() {
    static BUILT: AtomicUsize = AtomicUsize::new(0);
    let report = combtest! {
        order: [call, restart, call],
        state: || {
            if BUILT.fetch_add(1, Ordering::SeqCst) == 4 {
                panic!("the fixture is out of ports");
            }
            Vec::new()
        },
        shared: Server,
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!(report.walk_count, 18, "{report}");
    assert_eq!(report.error_count, 1, "{report}");
    let failure = &report.failures[0];
    assert_eq!(failure.walk_id, 4);
    assert!(
        failure.message.contains("while its state was made")
            && failure.message.contains("the fixture is out of ports"),
        "{}",
        failure.message
    );
    assert!(
        failure.replay.starts_with("COMBTEST_WALKS=4@"),
        "{}",
        failure.replay
    );
}

/// A state whose `Drop` panics when an action set it to 2.
#[derive(Clone, Debug, Default)]
struct DropFails(u32);

impl Drop for DropFails {
    fn drop(&mut self) {
        if self.0 == 2 && !std::thread::panicking() {
            panic!("dropping {} breaks", self.0);
        }
    }
}

#[action(options = 0..4)]
fn set(n: u32, state: &mut DropFails) {
    state.0 = n;
}

#[serial_action(options = [1, 2])]
fn pause(_n: u32) {}

#[test]
fn a_panicking_drop_fails_its_walk() {
    let streamed = combtest! {
        order: [set],
        state: DropFails(0),
        panic_on_failure: false,
    };
    let held = combtest! {
        order: [pause, set],
        state: DropFails(0),
        panic_on_failure: false,
    };
    for (report, failed) in [(&streamed, vec![2]), (&held, vec![2, 6])] {
        let ids: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
        assert_eq!(ids, failed, "{report}");
        assert_eq!(report.error_count, failed.len() as u64);
        for failure in &report.failures {
            assert!(
                failure.message.contains("while its state was dropped")
                    && failure.message.contains("dropping 2 breaks"),
                "{}",
                failure.message
            );
        }
    }
}

/// An option whose `Debug` panics for one value.
#[derive(Clone, Serialize)]
struct Shy(u32);

impl std::fmt::Debug for Shy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == 1 {
            panic!("Shy(1) will not be printed");
        }
        write!(f, "Shy({})", self.0)
    }
}

#[action(options = [Shy(0), Shy(1)])]
fn shy(option: Shy, seen: &mut Vec<u32>) {
    seen.push(option.0);
}

#[action(options = [0, 1])]
fn check(n: u32, seen: &mut Vec<u32>) -> Result<(), String> {
    if seen == &[1] && n == 1 {
        return Err("found the shy walk".into());
    }
    Ok(())
}

#[serial_action(options = [0])]
fn settle_down(_n: u32) {}

#[test]
fn a_panicking_param_debug_does_not_lose_the_report() {
    let streamed = combtest! {
        order: [shy, check],
        state: Vec::new(),
        panic_on_failure: false,
    };
    let held = combtest! {
        order: [settle_down, shy, check],
        state: Vec::new(),
        panic_on_failure: false,
    };
    for report in [streamed, held] {
        assert_eq!(report.error_count, 1, "{report}");
        let failure = &report.failures[0];
        assert_eq!(failure.message, "found the shy walk");
        let shown: Vec<&str> = failure.steps.iter().map(|s| &*s.param_debug).collect();
        assert!(
            shown.contains(&"<its Debug panicked: Shy(1) will not be printed>"),
            "{shown:?}"
        );
    }
}

#[test]
fn the_builder_path_fails_the_walk_too() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    // The builder runs the general loop; gathering makes it look at each walk.
    let report = Combtest::new(CloneFails {
        clones: &CLONES,
        fail_on: 4,
    })
    .then(touch::action())
    .threads(1)
    .gather_states(Gather::Flat)
    .run()
    .unwrap();
    // The builder's own value is cloned once into the worker's template: walk 1 is clone 3,
    // walk 2 clone 4.
    assert_eq!((report.walk_count, report.error_count), (5, 1), "{report}");
    assert_eq!(report.failures[0].walk_id, 2);
    assert_eq!(report.states.len(), 4);
}

#[action(options = 0..4)]
async fn set_later(n: u32, state: &mut DropFails) {
    state.0 = n;
}

#[test]
fn async_walks_fail_on_a_panicking_drop_or_clone_too() {
    let report = combtest! {
        order: [set_later],
        state: DropFails(0),
        panic_on_failure: false,
    };
    let ids: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(ids, [2], "{report}");
    assert!(report.failures[0]
        .message
        .contains("while its state was dropped"));

    static BUILT: AtomicUsize = AtomicUsize::new(0);
    let report = combtest! {
        order: [set_later],
        state: || {
            if BUILT.fetch_add(1, Ordering::SeqCst) == 1 {
                panic!("no second state");
            }
            DropFails(0)
        },
        threads: 1,
        concurrency: 1,
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (4, 2), "{report}");
    let made: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert!(
        made.iter()
            .any(|m| m.contains("while its state was made") && m.contains("no second state")),
        "{made:?}"
    );
}
