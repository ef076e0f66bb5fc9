//! Failed, panicking and cancelled walks, and the failure report a failing test prints.

use combtest::prelude::*;
use combtest::FailureKind;

#[action(options = ["only"])]
fn always_fails(label: &'static str, _state: &mut u32) -> Result<(), String> {
    Err(format!("{label} option is broken"))
}

/// Runs `f`, expecting it to panic with a `String` message, and returns the message.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the combtest should fail the test");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a panic message")
}

#[test]
fn one_always_failing_action() {
    let report = combtest! { order: [always_fails], state: 0u32, panic_on_failure: false };
    assert_eq!(report.walk_count, 1);
    assert_eq!(report.error_count, 1);
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!(failure.walk_id, 0);
    assert_eq!(failure.failed_action, "always_fails");
    assert_eq!(failure.kind, FailureKind::Error);
    assert_eq!(failure.message, "only option is broken");
    assert_eq!(failure.state, "0");

    // The same run without the switch fails the test with the failure report.
    let message = panic_message(|| {
        combtest! { order: [always_fails], state: 0u32 };
    });
    assert!(message.contains("1 of 1 walks failed"), "{message}");
    assert!(
        message.contains("always_fails(\"only\") returned an error"),
        "{message}"
    );
    assert!(message.contains("only option is broken"), "{message}");
    let replay = format!("COMBTEST_WALKS=0@{}", failure.fingerprint);
    assert!(message.contains(&replay), "{message}");
    assert!(
        message.contains(
            "cargo test -p combtest-suite --test failures -- one_always_failing_action --exact \
             --include-ignored"
        ),
        "{message}"
    );
}

#[action(options = 0..10)]
fn fails_every_time(n: u32, _state: &mut u32) -> Result<(), String> {
    Err(format!("walk with {n} fails"))
}

#[test]
fn ten_failing_walks_on_one_thread_all_run_and_all_fail() {
    let report = combtest! {
        order: [fails_every_time],
        state: 0u32,
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!(report.threads, 1);
    assert_eq!(report.walk_count, 10);
    assert_eq!(report.error_count, 10);
    let ids: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(ids, (0..10).collect::<Vec<_>>());
    for (n, failure) in report.failures.iter().enumerate() {
        assert_eq!(failure.message, format!("walk with {n} fails"));
    }
    // The ten failures differ only in a number: one group, shown once with its first walk.
    let text = report.to_string();
    assert_eq!(report.groups.len(), 1);
    assert_eq!(report.groups[0].message, "walk with <n> fails");
    assert_eq!(report.groups[0].walk_ids, (0..10).collect::<Vec<_>>());
    assert_eq!(text.matches("replay:").count(), 1, "{text}");
    assert!(
        text.contains("10 walks, fails_every_time returned an error: walk with <n> fails"),
        "{text}"
    );
    assert!(text.contains("message: walk with 0 fails"), "{text}");
}

#[action(options = [1, 2, 3])]
fn panics_on_two(n: i32, total: &mut i32) {
    if n == 2 {
        panic!("two is not allowed (total {total})");
    }
    *total += n;
}

#[test]
fn a_panic_fails_only_its_walk_with_message_and_location() {
    let report = combtest! {
        order: [panics_on_two, panics_on_two],
        state: 0,
        threads: 2,
        gather_states: full,
        panic_on_failure: false,
    };
    assert_eq!(report.walk_count, 9);
    // Walks containing a 2: (1,2) (2,*) (3,2) = 5.
    assert_eq!(report.error_count, 5);
    let failed: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(failed, vec![1, 3, 4, 5, 7]);
    let failure = &report.failures[0];
    assert_eq!(failure.kind, FailureKind::Panic);
    assert_eq!(failure.message, "two is not allowed (total 1)");
    assert_eq!(failure.failed_position, 1);
    let location = failure.location.as_deref().unwrap();
    assert!(location.starts_with("tests/failures.rs:"), "{location}");
    assert_eq!(report.failures[1].failed_position, 0);
    // The other walks passed.
    let passed: Vec<u64> = report
        .walks
        .iter()
        .filter(|w| w.outcome == Outcome::Pass)
        .map(|w| w.walk_id)
        .collect();
    assert_eq!(passed, vec![0, 2, 6, 8]);
    assert_eq!(report.states[8], 6);
    let text = report.to_string();
    assert!(text.contains("panics_on_two(2) panicked"), "{text}");
    assert!(text.contains("at:      tests/failures.rs:"), "{text}");
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Trail {
    steps: Vec<String>,
}

#[action(options = ["a", "b"])]
fn start(s: &'static str, trail: &mut Trail) {
    trail.steps.push(format!("start {s}"));
}

#[action(options = ["go", "stop", "stop by value"])]
fn maybe_cancel(choice: &'static str, trail: &mut Trail) -> Result<(), Cancel> {
    trail.steps.push(format!("before {choice}"));
    match choice {
        "stop" => cancel!("{choice} was chosen"),
        "stop by value" => Err(Cancel::new("returned")),
        _ => Ok(()),
    }
}

#[action(options = [1, 2])]
fn finish(n: u8, trail: &mut Trail) {
    trail.steps.push(format!("finish {n}"));
}

#[test]
fn cancelled_walks_stop_there_and_are_not_failures() {
    let report = combtest! {
        order: [start, maybe_cancel, finish],
        state: Trail::default(),
        gather_states: full,
    };
    assert_eq!(report.walk_count, 12);
    assert_eq!(report.error_count, 0);
    assert_eq!(report.cancel_count, 8);
    assert!(report.is_success());
    for (summary, state) in report.walks.iter().zip(&report.states) {
        let choice = (summary.walk_id / 2) % 3;
        match choice {
            0 => {
                assert_eq!(summary.outcome, Outcome::Pass);
                assert_eq!(state.steps.len(), 3);
            }
            _ => {
                let reason = if choice == 1 {
                    "stop was chosen"
                } else {
                    "returned"
                };
                assert_eq!(
                    summary.outcome,
                    Outcome::Cancel {
                        reason: reason.into()
                    }
                );
                // Later actions did not run, and the state is as the action left it.
                assert_eq!(state.steps.len(), 2, "{state:?}");
                assert!(state.steps[1].starts_with("before stop"));
            }
        }
    }
}

#[test]
fn cancel_outside_a_walk_panics_with_the_reason() {
    let message = panic_message(|| {
        let mut trail = Trail::default();
        let _ = maybe_cancel("stop", &mut trail);
    });
    assert!(message.contains("outside a combtest walk"), "{message}");
    assert!(message.contains("stop was chosen"), "{message}");
}

#[action(options = Vec::<u8>::new())]
fn no_options(_n: u8, _state: &mut u32) {}

#[test]
fn an_action_without_options_is_an_error_before_any_walk() {
    let message = panic_message(|| {
        combtest! { order: [always_fails, no_options], state: 0u32 };
    });
    assert!(
        message.contains("action `no_options` (position 1 of the order) has no options"),
        "{message}"
    );
    let error = Combtest::new(0u32)
        .then(no_options::action())
        .run()
        .unwrap_err();
    assert_eq!(
        error,
        combtest::Error::NoOptions {
            action: "no_options".into(),
            position: 0
        }
    );
}

#[test]
fn an_empty_order_is_an_error() {
    let error = Combtest::new(0u32).run().unwrap_err();
    assert_eq!(error, combtest::Error::EmptyOrder);
    assert!(error.to_string().contains("the order is empty"));
}

#[test]
fn selected_ids_out_of_range_are_an_error() {
    let error = Combtest::new(0u32)
        .then(fails_every_time::action())
        .walks("3,10")
        .run()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "walks: walk 10 does not exist: this order has 10 walks (ids 0-9)"
    );
}

#[test]
fn a_stale_fingerprint_is_detected_and_the_walk_found() {
    let first = Combtest::new(0u32)
        .then(fails_every_time::action())
        .run()
        .unwrap();
    let walk_3 = first.failures[3].fingerprint;
    // The same action with its options in another order: walk 3 is now walk 6.
    let reordered = Action::new(
        "fails_every_time",
        || (0..10u32).rev(),
        |_: u32, _: &mut u32, _: &()| {},
    );
    let error = Combtest::new(0u32)
        .then(reordered)
        .walks(format!("3@{walk_3}"))
        .run()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(&format!("walk 3@{walk_3} is stale")),
        "{text}"
    );
    assert!(text.contains(&format!("now walk 6@{walk_3}")), "{text}");
}

#[test]
fn a_panicking_filter_fails_the_test_with_its_own_message() {
    #[serial_action(options = [1, 2])]
    fn serial(_n: u8) {}
    for with_serial in [false, true] {
        let message = panic_message(move || {
            let mut run = Combtest::new(0u32).then(fails_every_time::action());
            if with_serial {
                run = run.then(serial::action());
            }
            let _ = run
                .filter(|walk: &Walk| {
                    assert!(walk.id() != 3, "the filter refuses to look at walk 3");
                    true
                })
                .threads(2)
                .run();
        });
        assert!(
            message.contains("the filter refuses to look at walk 3"),
            "{message}"
        );
    }
}

#[derive(Clone)]
struct LoudState;

impl std::fmt::Debug for LoudState {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("this state cannot be printed")
    }
}

#[test]
fn a_failed_walk_whose_state_cannot_be_printed_is_still_reported() {
    #[serial_action(options = [1])]
    fn serial(_n: u8) {}
    for with_serial in [false, true] {
        let mut run = Combtest::new(LoudState).then(Action::new(
            "fails",
            || [1u8, 2],
            |_: u8, _: &mut LoudState, _: &()| Err("no"),
        ));
        if with_serial {
            run = run.then(serial::action());
        }
        let report = run.threads(1).run().unwrap();
        assert_eq!(report.error_count, 2);
        assert_eq!(
            report.failures[0].state,
            "<the state's Debug panicked: this state cannot be printed>"
        );
    }
}

/// The ids of the walks that reached their end.
type Finished = std::sync::Arc<std::sync::Mutex<Vec<u64>>>;

// Four digits, one per action: a walk's state is its own id, built digit by digit.
#[action(options = 0..10u64)]
fn thousands(d: u64, id: &mut u64) {
    *id = *id * 10 + d;
}

#[action(options = 0..10u64)]
fn hundreds(d: u64, id: &mut u64) {
    *id = *id * 10 + d;
    if *id == 42 {
        panic!("prefix 42 is cursed");
    }
}

#[action(options = 0..10u64)]
fn tens(d: u64, id: &mut u64) {
    *id = *id * 10 + d;
}

#[action(options = 0..10u64)]
fn units(d: u64, id: &mut u64, finished: &Finished) -> Result<(), String> {
    *id = *id * 10 + d;
    let id = *id;
    if id % 97 == 0 {
        return Err(format!("{id} is a multiple of 97"));
    }
    if id % 89 == 5 {
        panic!("{id} is 5 mod 89");
    }
    if id % 83 == 7 {
        cancel!("{id} is 7 mod 83");
    }
    finished.lock().unwrap().push(id);
    Ok(())
}

/// How walk `id` of `[thousands, hundreds, tens, units]` ends: the failing action and
/// its kind, `Some(None)` for a cancel, `None` for a pass.
fn expected_end(id: u64) -> Option<Option<(&'static str, FailureKind)>> {
    if id / 100 == 42 {
        Some(Some(("hundreds", FailureKind::Panic)))
    } else if id % 97 == 0 {
        Some(Some(("units", FailureKind::Error)))
    } else if id % 89 == 5 {
        Some(Some(("units", FailureKind::Panic)))
    } else if id % 83 == 7 {
        Some(None)
    } else {
        None
    }
}

#[test]
fn walks_that_stop_amid_many_passing_ones_leave_the_others_untouched() {
    for threads in [1, 2] {
        let finished = Finished::default();
        let report = combtest! {
            order: [thousands, hundreds, tens, units],
            state: 0u64,
            shared: finished.clone(),
            threads: threads,
            panic_on_failure: false,
        };
        let expected_failures: Vec<u64> = (0..10_000)
            .filter(|&id| matches!(expected_end(id), Some(Some(_))))
            .collect();
        let expected_passes: Vec<u64> = (0..10_000)
            .filter(|&id| expected_end(id).is_none())
            .collect();
        let cancels = (0..10_000)
            .filter(|&id| expected_end(id) == Some(None))
            .count() as u64;

        assert_eq!(report.walk_count, 10_000);
        assert_eq!(report.cancel_count, cancels, "threads: {threads}");
        assert_eq!(report.error_count, expected_failures.len() as u64);
        let failed: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
        assert_eq!(failed, expected_failures, "threads: {threads}");
        for failure in &report.failures {
            let id = failure.walk_id;
            let (action, kind) = expected_end(id).unwrap().unwrap();
            assert_eq!(failure.failed_action, action, "walk {id}");
            assert_eq!(failure.kind, kind, "walk {id}");
            // The walk is described by its own options, and its state is where it stopped.
            let digits: Vec<String> = failure
                .steps
                .iter()
                .map(|s| s.param_debug.to_string())
                .collect();
            assert_eq!(digits.concat(), format!("{id:04}"), "walk {id}");
            let stopped_at = if action == "hundreds" { id / 100 } else { id };
            assert_eq!(failure.state, stopped_at.to_string(), "walk {id}");
        }
        let mut finished = finished.lock().unwrap().clone();
        finished.sort_unstable();
        assert_eq!(finished, expected_passes, "threads: {threads}");
    }
}

/// A serial action: with one in the order, walks run branch by branch (the barrier
/// executor) and are recorded at the end of each branch, not as each walk ends.
#[serial_action(options = [0, 1])]
fn branch(_: u8, _: &mut (), _: States<'_, Trail>) {}

/// Every cancelled walk's trace record names the action that cancelled it, its position and
/// the reason, whichever executor ran it.
#[test]
fn the_trace_names_the_action_that_cancelled_a_walk() {
    fn trace_of(report: &Report<Trail>) -> Vec<combtest::WalkRecord> {
        let trace = report
            .files
            .iter()
            .find(|file| file.ends_with(combtest::TRACE_FILE))
            .expect("a trace");
        // Passing walks are written as runs of ids; the reader describes each of them.
        combtest::read_trace(trace).unwrap()
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cancel-trace-{}", std::process::id()));
    let streamed = combtest! {
        order: [start, maybe_cancel, finish],
        state: Trail::default(),
        log_dir: dir.clone(),
        threads: 2,
    };
    let branched = combtest! {
        order: [start, maybe_cancel, branch, finish],
        state: Trail::default(),
        log_dir: dir.clone(),
        threads: 2,
    };
    for (report, cancels) in [(&streamed, 8), (&branched, 16)] {
        let records = trace_of(report);
        let cancelled: Vec<_> = records.iter().filter(|r| r.outcome == "cancel").collect();
        assert_eq!(cancelled.len(), cancels);
        for record in cancelled {
            assert_eq!(
                record.failed_action.as_deref(),
                Some("maybe_cancel"),
                "{record:?}"
            );
            assert_eq!(record.failed_position, Some(1), "{record:?}");
            let choice = record.steps[1].param.as_str().unwrap();
            let reason = if choice == "stop" {
                "stop was chosen"
            } else {
                "returned"
            };
            assert_eq!(record.error.as_deref(), Some(reason), "{record:?}");
        }
        for record in records.iter().filter(|r| r.outcome == "pass") {
            assert_eq!(record.failed_action, None);
            assert_eq!(record.failed_position, None);
        }
    }
}
