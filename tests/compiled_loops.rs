//! The compiled loops of `combtest!` orders (static dispatch, nested loops): a filtered run
//! stays in them, and what they report — walks, skips, failures with their action and state
//! — is what the general kernel reports for the same order.
//!
//! `combtest::__private::compiled_walks` counts the walks the compiled loops ran or skipped in
//! this process; the tests of this file take turns so that each sees only its own runs.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use combtest::__private::{compiled_filter_calls, compiled_segments, compiled_walks};
use combtest::prelude::*;
use combtest::{Report, StateSource};

mod common;
use common::scratch;

/// Held by each test of this file: the compiled walks counter is shared by the process.
static TURN: Mutex<()> = Mutex::new(());

/// Walks of the runs below: three actions of four options.
const WALKS: u64 = 64;

/// The params a walk ran, in order.
#[derive(Debug, Default)]
struct Steps {
    params: Vec<u32>,
    /// Counts the clones of the state of each run: clone `fail_on` panics (0: none).
    clones: Option<&'static AtomicUsize>,
    fail_on: usize,
}

impl Clone for Steps {
    fn clone(&self) -> Self {
        if let Some(clones) = self.clones {
            let call = clones.fetch_add(1, Ordering::SeqCst) + 1;
            if call == self.fail_on {
                panic!("clone number {call} breaks");
            }
        }
        Steps {
            params: self.params.clone(),
            ..*self
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if self.params == [3, 3, 3] && !std::thread::panicking() {
            panic!("dropping the state of walk 3-3-3 breaks");
        }
    }
}

#[action(options = 0..4)]
fn first(n: u32, steps: &mut Steps) {
    steps.params.push(n);
}

#[action(options = 0..4)]
fn second(n: u32, steps: &mut Steps) {
    steps.params.push(n);
    if steps.params == [1, 2] {
        panic!("second breaks after 1 then 2");
    }
}

#[action(options = 0..4)]
fn third(n: u32, steps: &mut Steps) -> Result<(), String> {
    steps.params.push(n);
    if steps.params == [2, 0, 3] {
        return Err("third refuses 2-0-3".into());
    }
    Ok(())
}

/// Keeps walks whose first param is not 0 and whose third option is not the second: about
/// half of the walks, rejected in runs that break up the chunks.
fn keep(walk: &Walk) -> bool {
    walk.param::<u32>(0) != Some(&0) && walk.option_index(2) != 1
}

/// Times `counted_keep` was asked.
static ASKED: AtomicU64 = AtomicU64::new(0);

/// `keep`, counting the walks it is asked about.
fn counted_keep(walk: &Walk) -> bool {
    ASKED.fetch_add(1, Ordering::SeqCst);
    keep(walk)
}

/// What a report says of its walks, for comparing two runs of one order.
fn summary(report: &Report<Steps>) -> Vec<String> {
    let mut lines = vec![format!(
        "walks {} errors {} cancels {} skipped {}",
        report.walk_count, report.error_count, report.cancel_count, report.skipped_count
    )];
    lines.extend(report.failures.iter().map(|f| {
        format!(
            "walk {} at {} ({}): {:?} {} | state {}",
            f.walk_id, f.failed_position, f.failed_action, f.kind, f.message, f.state
        )
    }));
    lines
}

/// The same order through the builder, whose walks the general kernel runs.
fn general(state: Steps, filter: Option<fn(&Walk) -> bool>, threads: usize) -> Report<Steps> {
    general_logged(state, filter, threads, None)
}

/// [`general`], writing a trace to `log_dir` if given.
fn general_logged(
    state: Steps,
    filter: Option<fn(&Walk) -> bool>,
    threads: usize,
    log_dir: Option<&std::path::Path>,
) -> Report<Steps> {
    let mut combtest = Combtest::new(state)
        .then(first::action())
        .then(second::action())
        .then(third::action())
        .threads(threads);
    if let Some(keep) = filter {
        combtest = combtest.filter(keep);
    }
    if let Some(dir) = log_dir {
        combtest = combtest.log_dir(dir);
    }
    combtest.run_checked(false)
}

#[test]
fn a_filtered_run_stays_in_the_compiled_loops_and_reports_what_the_general_kernel_does() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 2] {
        ASKED.store(0, Ordering::SeqCst);
        let before = compiled_walks();
        let compiled = combtest! {
            order: [first, second, third],
            state: Steps::default(),
            threads: threads,
            filter: counted_keep,
            panic_on_failure: false,
        };
        assert_eq!(
            compiled_walks() - before,
            WALKS,
            "every walk, run or skipped, went through the compiled loops ({threads} threads)"
        );
        let asked = ASKED.load(Ordering::SeqCst);

        ASKED.store(0, Ordering::SeqCst);
        let before = compiled_walks();
        let reference = general(Steps::default(), Some(counted_keep), threads);
        assert_eq!(
            compiled_walks(),
            before,
            "the builder runs the general kernel"
        );
        // Both runs ask the filter about each walk twice: as it runs, and once more for the
        // analysis of the failures, which keeps the answers for all its visits.
        assert_eq!(asked, 2 * WALKS);
        assert_eq!(asked, ASKED.load(Ordering::SeqCst));

        assert_eq!(summary(&compiled), summary(&reference));
        // 3 of 4 first params, 3 of 4 third options: 36 walks run, 28 skipped.
        assert_eq!((compiled.walk_count, compiled.skipped_count), (36, 28));
        // Walks 1-2-x (x = 0, 2, 3) panic in `second`, 2-0-3 returns an error and 3-3-3
        // panics while its state is dropped.
        let ids: Vec<u64> = compiled.failures.iter().map(|f| f.walk_id).collect();
        assert_eq!(ids, [24, 26, 27, 35, 63], "{compiled}");
    }
}

#[test]
fn the_loops_call_the_combtest_filter_directly_and_a_builder_filter_through_its_object() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 2] {
        // A closure that captures: its type, not a function pointer, reaches the loops.
        let skipped_first = 0u32;
        let before = compiled_filter_calls();
        let compiled = combtest! {
            order: [first, second, third],
            state: Steps::default(),
            threads: threads,
            filter: move |walk: &Walk| walk.param::<u32>(0) != Some(&skipped_first)
                && walk.option_index(2) != 1,
            panic_on_failure: false,
        };
        assert!(
            compiled_filter_calls() > before,
            "the compiled loops asked the filter compiled into them ({threads} threads)"
        );
        let before = compiled_filter_calls();
        let reference = general(Steps::default(), Some(keep), threads);
        assert_eq!(
            compiled_filter_calls(),
            before,
            "a builder's filter is not compiled into any loops"
        );
        assert_eq!(summary(&compiled), summary(&reference));
        assert_eq!((compiled.walk_count, compiled.skipped_count), (36, 28));
    }
}

#[test]
fn a_combtest_filter_beside_a_partial_filter_is_asked_with_it() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // On whole walks a walk runs only if both allow it: the compiled loops ask both
    // together, not the filter alone.
    let before = compiled_walks();
    let both = combtest! {
        order: [first, second, third],
        state: Steps::default(),
        threads: 1,
        filter: keep,
        partial_filter: |walk: &Walk| (walk.param::<u32>(1) == Some(&3)).then_some(false),
        panic_on_failure: false,
    };
    assert_eq!(compiled_walks() - before, WALKS, "in the compiled loops");
    let reference = Combtest::new(Steps::default())
        .then(first::action())
        .then(second::action())
        .then(third::action())
        .threads(1)
        .filter(keep)
        .partial_filter(|walk: &Walk| (walk.param::<u32>(1) == Some(&3)).then_some(false))
        .run_checked(false);
    assert_eq!(summary(&both), summary(&reference));
    // `keep` allows 36 walks, 9 of which have 3 second.
    assert_eq!((both.walk_count, both.skipped_count), (27, 37));
}

#[test]
fn every_way_of_giving_the_state_runs_in_the_compiled_loops() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let reference = general(Steps::default(), Some(keep), 2);
    // A value is cloned for each walk and a factory called, directly or from a
    // `StateSource`: the loops make each walk's state either way, and report what the
    // general kernel does.
    let by_closure = || {
        combtest! {
            order: [first, second, third],
            state: || Steps::default(),
            threads: 2,
            filter: keep,
            panic_on_failure: false,
        }
    };
    let by_value = || {
        combtest! {
            order: [first, second, third],
            state: Steps::default(),
            threads: 2,
            filter: keep,
            panic_on_failure: false,
        }
    };
    let by_source_value = || {
        combtest! {
            order: [first, second, third],
            state: StateSource::value(Steps::default()),
            threads: 2,
            filter: keep,
            panic_on_failure: false,
        }
    };
    let by_source_factory = || {
        combtest! {
            order: [first, second, third],
            state: StateSource::factory(Steps::default),
            threads: 2,
            filter: keep,
            panic_on_failure: false,
        }
    };
    let runs: [(&str, &dyn Fn() -> Report<Steps>); 4] = [
        ("closure", &by_closure),
        ("value", &by_value),
        ("StateSource::value", &by_source_value),
        ("StateSource::factory", &by_source_factory),
    ];
    for (form, run) in runs {
        let before = compiled_walks();
        let report = run();
        assert_eq!(compiled_walks() - before, WALKS, "state: {form}");
        assert_eq!(summary(&report), summary(&reference), "state: {form}");
    }
}

#[test]
fn faults_in_the_compiled_loops_fail_their_walk_at_their_action_with_its_state() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    // One worker: its template is clone 1, walk 0's state clone 2, so clone 11 is walk 9's.
    let state = || Steps {
        params: Vec::new(),
        clones: Some(&CLONES),
        fail_on: 11,
    };
    CLONES.store(0, Ordering::SeqCst);
    let before = compiled_walks();
    let compiled = combtest! {
        order: [first, second, third],
        state: state(),
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!(
        compiled_walks() - before,
        WALKS,
        "the compiled loops ran every walk"
    );
    CLONES.store(0, Ordering::SeqCst);
    let reference = general(state(), None, 1);
    assert_eq!(summary(&compiled), summary(&reference));

    assert_eq!(
        (
            compiled.walk_count,
            compiled.error_count,
            compiled.skipped_count
        ),
        (WALKS, 7, 0),
        "{compiled}"
    );
    let failures: Vec<(u64, usize, &str)> = compiled
        .failures
        .iter()
        .map(|f| (f.walk_id, f.failed_position, f.failed_action.as_str()))
        .collect();
    assert_eq!(
        failures,
        [
            (9, 0, "first"),
            (24, 1, "second"),
            (25, 1, "second"),
            (26, 1, "second"),
            (27, 1, "second"),
            (35, 2, "third"),
            (63, 2, "third"),
        ]
    );
    let by_id = |id: u64| compiled.failures.iter().find(|f| f.walk_id == id).unwrap();
    assert!(by_id(9).message.contains("clone number 11 breaks"));
    assert!(by_id(9).message.contains("while its state was made"));
    // The state a panicking action left is the failure's, its params up to the panic.
    assert!(by_id(25).message.contains("second breaks after 1 then 2"));
    assert!(by_id(25)
        .state
        .contains("params: [\n        1,\n        2,\n    ]"));
    assert!(by_id(35).message.contains("third refuses 2-0-3"));
    assert!(by_id(35).state.contains("2,\n        0,\n        3,"));
    assert!(by_id(63).message.contains("while its state was dropped"));
}

#[test]
fn a_panicking_filter_in_the_compiled_loops_fails_the_test_with_its_own_message() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 2] {
        let before = compiled_filter_calls();
        let caught = std::panic::catch_unwind(|| {
            combtest! {
                order: [first, second, third],
                state: Steps::default(),
                threads: threads,
                filter: |walk: &Walk| {
                    assert!(walk.id() != 40, "the filter refuses to look at walk 40");
                    true
                },
                panic_on_failure: false,
            }
        });
        let payload = caught.expect_err("the filter's panic ends the run");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            message.contains("the filter refuses to look at walk 40"),
            "{message}"
        );
        // The loops ask the filter about the walks ahead of them before running them: the
        // walks before walk 40 may not have run.
        assert!(
            compiled_filter_calls() > before,
            "the compiled loops asked the filter compiled into them"
        );
    }
}

/// The walks `recorded_keep` was asked about, in the order asked.
static ASKED_IDS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// `keep`, recording the walks it is asked about.
fn recorded_keep(walk: &Walk) -> bool {
    ASKED_IDS.lock().unwrap().push(walk.id());
    keep(walk)
}

#[action(options = 0..4)]
fn fourth(n: u32, steps: &mut Steps) {
    steps.params.push(n);
}

#[test]
fn the_loops_ask_the_filter_about_each_walk_once_in_id_order_around_failures() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // 1,024 walks: a worker's chunks hold several walks, failing ones among them.
    let walks = 1024;
    for threads in [1, 2] {
        ASKED_IDS.lock().unwrap().clear();
        let before = compiled_walks();
        let report = combtest! {
            order: [first, second, third, fourth, fourth],
            state: Steps::default(),
            threads: threads,
            filter: recorded_keep,
            explain_failures: false,
            panic_on_failure: false,
        };
        assert_eq!(compiled_walks() - before, walks);
        // The loops leave at each failing walk (48 panics in `second`, 16 errors in
        // `third`) and come back after it: the answers asked ahead are kept, not asked again.
        assert_eq!(report.error_count, 64, "{report}");
        let mut asked = std::mem::take(&mut *ASKED_IDS.lock().unwrap());
        if threads == 1 {
            assert_eq!(asked, (0..walks).collect::<Vec<_>>());
        } else {
            asked.sort_unstable();
            assert_eq!(asked, (0..walks).collect::<Vec<_>>(), "each walk once");
        }
    }
}

#[action(options = 0..7)]
fn wide(n: u32, steps: &mut Steps) -> Result<(), String> {
    steps.params.push(n);
    if steps.params == [1, 3] {
        panic!("wide breaks after 1 then 3");
    }
    if steps.params == [3, 4, 4] {
        return Err("wide refuses 3-4-4".into());
    }
    Ok(())
}

/// Over five `wide` positions (16,807 walks), keeps long stretches whole (with failing walks
/// inside them), rejects stretches whole, and mixes its answers between, recording the walks
/// it is asked about in `ASKED_IDS`. With seven options a position, the stretches end inside
/// the workers' chunks of walks (powers of two long) and inside rows.
///
/// It also checks that the walk it is asked about is walk `id` by every accessor: the loops
/// give a row's turning position apart from the others (see `Walk`).
fn stretches_keep(walk: &Walk) -> bool {
    ASKED_IDS.lock().unwrap().push(walk.id());
    let params: Vec<u32> = (0..5).map(|p| *walk.param::<u32>(p).unwrap()).collect();
    let id = params
        .iter()
        .fold(0, |id, &param| id * 7 + u64::from(param));
    assert_eq!(
        walk.id(),
        id,
        "the params of walk {}: {params:?}",
        walk.id()
    );
    for (position, &param) in params.iter().enumerate() {
        // `wide`'s options are 0..7: each param is its option's index.
        assert_eq!(walk.option_index(position), param as usize, "{walk:?}");
        assert!(walk.is_chosen(position), "{walk:?}");
    }
    let shown: Vec<String> = params
        .iter()
        .map(|param| format!("wide({param})"))
        .collect();
    assert_eq!(walk.to_string(), shown.join(" -> "));
    kept_by_stretches(&params)
}

/// Which walks `stretches_keep` keeps, by their params:
/// - first param 2: none (2,401 walks in a row);
/// - first param 4: none whose second param is 0 (343 in a row), nor 4-1-0-0-5, in the
///   middle of a row a few walks after them;
/// - first param 5: those whose last param is not a multiple of 3 (mixed answers);
/// - first param 6: all but 6-5-2-1-4 to 6-5-2-1-6, the end of a row after a long stretch;
/// - any other first param: all.
fn kept_by_stretches(params: &[u32]) -> bool {
    match params[0] {
        2 => false,
        4 => params[1] != 0 && params[1..] != [1, 0, 0, 5],
        5 => params[4] % 3 != 0,
        6 => !(params[1..4] == [5, 2, 1] && params[4] >= 4),
        _ => true,
    }
}

#[test]
fn stretches_the_filter_keeps_or_rejects_whole_run_as_each_answer_says() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let walks = 7u64.pow(5);
    let every_walk = (0..walks).map(|id| {
        let mut params = vec![0; 5];
        let mut rest = id as u32;
        for param in params.iter_mut().rev() {
            *param = rest % 7;
            rest /= 7;
        }
        params
    });
    // The final state of each walk that runs: its params, up to the action that failed
    // for walks 1-3-x-x-x (a panic) and 3-4-4-x-x (an error).
    let ran: Vec<Vec<u32>> = every_walk
        .filter(|p| kept_by_stretches(p))
        .map(|p| match p[..] {
            [1, 3, ..] => vec![1, 3],
            [3, 4, 4, ..] => vec![3, 4, 4],
            _ => p,
        })
        .collect();
    for threads in [1, 2] {
        for gathered in [false, true] {
            ASKED_IDS.lock().unwrap().clear();
            let before = compiled_walks();
            let compiled = if gathered {
                combtest! {
                    order: [wide, wide, wide, wide, wide],
                    state: Steps::default(),
                    threads: threads,
                    filter: stretches_keep,
                    gather_states: flat,
                    explain_failures: false,
                    panic_on_failure: false,
                }
            } else {
                combtest! {
                    order: [wide, wide, wide, wide, wide],
                    state: Steps::default(),
                    threads: threads,
                    filter: stretches_keep,
                    explain_failures: false,
                    panic_on_failure: false,
                }
            };
            let run = format!("{threads} threads, gathered {gathered}");
            assert_eq!(compiled_walks() - before, walks, "{run}");
            let mut asked = std::mem::take(&mut *ASKED_IDS.lock().unwrap());
            if threads == 1 {
                assert!(
                    asked == (0..walks).collect::<Vec<_>>(),
                    "in id order: {run}"
                );
            }
            asked.sort_unstable();
            assert!(asked == (0..walks).collect::<Vec<_>>(), "each once: {run}");

            // Rejected: 2,401 (first param 2), 343 + 1 (4-0-x-x-x, 4-1-0-0-5), 1,029 (5,
            // last param 0, 3 or 6), 3 (6-5-2-1-4 to 6).
            assert_eq!(compiled.skipped_count, 3777, "{run}: {compiled}");
            assert_eq!(compiled.walk_count, walks - 3777, "{run}");
            // 343 walks 1-3-x-x-x panic, 49 walks 3-4-4-x-x return an error.
            assert_eq!(compiled.error_count, 392, "{run}: {compiled}");
            if gathered {
                let states: Vec<Vec<u32>> = compiled
                    .states
                    .iter()
                    .map(|state| state.params.clone())
                    .collect();
                assert!(states == ran, "the walks that ran, by their params: {run}");
            }

            let reference = Combtest::new(Steps::default())
                .order((0..5).map(|_| wide::action()))
                .filter(stretches_keep)
                .threads(threads)
                .explain_failures(false)
                .run_checked(false);
            assert_eq!(summary(&compiled), summary(&reference), "{run}");
        }
    }
}

/// Each walk's id and outcome as a run's trace reads back.
fn traced_outcomes(report: &Report<Steps>) -> Vec<(u64, String)> {
    let folder = report
        .run_folder
        .as_ref()
        .expect("a traced run has a folder");
    let mut walks: Vec<(u64, String)> = combtest::read_trace(folder)
        .unwrap()
        .into_iter()
        .map(|walk| (walk.walk_id, walk.outcome))
        .collect();
    walks.sort();
    walks
}

#[test]
fn a_filtered_traced_run_records_the_walks_the_general_kernel_records() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("compiled-filter-trace");
    let compiled = combtest! {
        order: [first, second, third],
        state: Steps::default(),
        threads: 2,
        filter: keep,
        log_dir: dir.clone(),
        panic_on_failure: false,
    };
    let reference = general_logged(Steps::default(), Some(keep), 2, Some(&dir));
    assert_eq!(summary(&compiled), summary(&reference));
    let traced = traced_outcomes(&compiled);
    assert_eq!(traced, traced_outcomes(&reference));
    // The walks the filter skipped are not recorded as passing.
    assert_eq!(traced.len() as u64, compiled.walk_count, "{traced:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[serial_action(options = [0, 1])]
fn pause(_n: u32) {}

/// `[first, pause, second, third]` through the builder, whose walks the general kernel
/// runs, writing a trace to `log_dir` if given.
fn general_held(threads: usize, log_dir: Option<&std::path::Path>) -> Report<Steps> {
    let mut combtest = Combtest::new(Steps::default())
        .then(first::action())
        .then(pause::action())
        .then(second::action())
        .then(third::action())
        .threads(threads);
    if let Some(dir) = log_dir {
        combtest = combtest.log_dir(dir);
    }
    combtest.run().expect("a valid order")
}

#[test]
fn held_walks_run_their_segments_in_the_compiled_loops_and_fail_as_the_general_kernel_says() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let before = compiled_segments();
    let compiled = combtest! {
        order: [first, pause, second, third],
        state: Steps::default(),
        threads: 1,
        panic_on_failure: false,
    };
    // Every walk's first segment, and its second: no walk fails before the serial action.
    assert_eq!(
        compiled_segments() - before,
        2 * 2 * WALKS,
        "the compiled loops ran every segment"
    );
    let reference = general_held(1, None);
    assert_eq!(summary(&compiled), summary(&reference));

    // In each branch of `pause`: walks 1-2-x panic in `second` (4), 2-0-3 stops in `third`,
    // and dropping 3-3-3's state panics.
    assert_eq!(
        (compiled.walk_count, compiled.error_count),
        (2 * WALKS, 2 * 6),
        "{compiled}"
    );
    let failures: Vec<(u64, usize)> = compiled
        .failures
        .iter()
        .map(|f| (f.walk_id, f.failed_position))
        .collect();
    let branch = |offset: u64| {
        [
            (offset + 24, 2),
            (offset + 25, 2),
            (offset + 26, 2),
            (offset + 27, 2),
            (offset + 35, 3),
            (offset + 63, 3),
        ]
    };
    let expected: Vec<(u64, usize)> = branch(0).into_iter().chain(branch(WALKS)).collect();
    assert_eq!(failures, expected);
    let by_id = |id: u64| compiled.failures.iter().find(|f| f.walk_id == id).unwrap();
    assert!(by_id(WALKS + 25)
        .message
        .contains("second breaks after 1 then 2"));
    assert!(by_id(WALKS + 25)
        .state
        .contains("params: [\n        1,\n        2,\n    ]"));
    assert!(by_id(35).message.contains("third refuses 2-0-3"));
    assert!(by_id(WALKS + 63)
        .message
        .contains("while its state was dropped"));
}

/// The total `duration_ns` of the runs of passing walks in a run folder's trace.
fn passed_runs_nanos(report: &Report<Steps>) -> u64 {
    let folder = report
        .run_folder
        .as_ref()
        .expect("a traced run has a folder");
    let trace = std::fs::read_to_string(folder.join(combtest::TRACE_FILE)).unwrap();
    trace
        .lines()
        .filter(|line| line.starts_with("{\"passed\""))
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["duration_ns"].as_u64().unwrap()
        })
        .sum()
}

#[test]
fn a_traced_run_with_a_serial_action_keeps_its_segments_in_the_compiled_loops() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("compiled-held-trace");
    for threads in [1, 2] {
        let before = compiled_segments();
        let compiled = combtest! {
            order: [first, pause, second, third],
            state: Steps::default(),
            threads: threads,
            log_dir: dir.clone(),
            panic_on_failure: false,
        };
        assert_eq!(
            compiled_segments() - before,
            2 * 2 * WALKS,
            "the compiled loops ran every segment of the traced run ({threads} threads)"
        );
        let reference = general_held(threads, Some(&dir));
        assert_eq!(summary(&compiled), summary(&reference));
        let traced = traced_outcomes(&compiled);
        assert_eq!(traced, traced_outcomes(&reference));
        assert_eq!(traced.len() as u64, 2 * WALKS);
        assert_eq!(
            traced
                .iter()
                .filter(|(_, outcome)| outcome != "pass")
                .count(),
            12,
            "{traced:?}"
        );
        // The loops are timed a call at a time, and the time goes to the walks that ran.
        assert!(passed_runs_nanos(&compiled) > 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// How long a slow walk of `ends` sleeps: a lower bound on its time, never an upper one.
const SLOW: std::time::Duration = std::time::Duration::from_millis(2);

#[action(options = 0..20)]
fn lead(n: u32, steps: &mut Steps) {
    steps.params.push(n);
}

/// Options 0-2 pass slowly, 3 fails at once, 4 fails slowly.
#[action(options = 0..5)]
fn ends(n: u32, _: &mut Steps) -> Result<(), String> {
    if n != 3 {
        std::thread::sleep(SLOW);
    }
    match n {
        0..=2 => Ok(()),
        3 => Err("fails at once".into()),
        _ => Err("fails slowly".into()),
    }
}

#[test]
fn a_walk_that_stops_in_the_held_loops_is_timed_alone_or_not_at_all() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("compiled-held-durations");
    // The serial action first: every walk's time is that of its one segment after it.
    let report = combtest! {
        order: [pause, lead, ends],
        state: Steps::default(),
        threads: 1,
        log_dir: dir.clone(),
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (200, 80));
    let folder = report
        .run_folder
        .as_ref()
        .expect("a traced run has a folder");
    let walks = combtest::read_trace(folder).unwrap();
    let failed = |message: &str| {
        walks
            .iter()
            .filter(move |walk| walk.error.as_deref() == Some(message))
            .map(|walk| walk.duration_ns)
            .collect::<Vec<u64>>()
    };
    // A fast failure comes after slow walks that passed in the same call of the loops: it
    // is given none of their time.
    let fast = failed("fails at once");
    assert_eq!(fast, vec![0; 40]);
    // A slow failure is the first walk of the call after a stop: timed alone, exactly.
    let slow = failed("fails slowly");
    assert_eq!(slow.len(), 40);
    assert!(
        slow.iter().all(|&nanos| nanos >= SLOW.as_nanos() as u64),
        "{slow:?}"
    );
    // The slow passing walks' time is in their runs.
    assert!(passed_runs_nanos(&report) >= 120 * SLOW.as_nanos() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A position past the order is a panic for a filter's accessors, as they document, in the
/// compiled loops (which give the filter the turning position apart) and in the general
/// kernel alike.
#[test]
fn a_filter_asking_past_the_order_panics_in_every_kernel() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let asks: [fn(&Walk) -> bool; 2] = [
        |walk| walk.option_index(usize::MAX) == 0,
        |walk| walk.is_chosen(usize::MAX),
    ];
    for ask in asks {
        let compiled = std::panic::catch_unwind(|| {
            combtest! {
                order: [wide, wide],
                state: Steps::default(),
                filter: ask,
                panic_on_failure: false,
            }
        });
        assert!(compiled.is_err(), "combtest! took the position");
        let general = std::panic::catch_unwind(|| {
            Combtest::new(Steps::default())
                .order([wide::action(), wide::action()])
                .filter(ask)
                .run()
        });
        assert!(general.is_err(), "the builder took the position");
    }
}

/// The actions a walk ran, in order, with their params.
#[derive(Clone, Debug, Default, PartialEq)]
struct Trail(Vec<(char, u32)>);

#[action(options = 0..2)]
fn trail_a(n: u32, trail: &mut Trail) {
    trail.0.push(('a', n));
}

#[action(options = 0..3)]
fn trail_b(n: u32, trail: &mut Trail) {
    trail.0.push(('b', n));
}

#[serial_action(options = [0, 1])]
fn turn(_n: u32) {}

/// The final state of every walk, by id, when the builder's general kernel runs `order`.
fn general_trails(order: Vec<combtest::Action<Trail>>) -> Vec<Trail> {
    let report = Combtest::new(Trail::default())
        .order(order)
        .threads(2)
        .gather_states(combtest::Gather::Flat)
        .run()
        .expect("a valid order");
    report.states
}

#[test]
fn held_walks_run_each_segment_s_actions_whatever_the_segment_s_number() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // Six segments: the held loops take the segments past the fourth (those after the
    // fourth and fifth serial actions) by their mask, the others by their number.
    let before = compiled_segments();
    let compiled = combtest! {
        order: [trail_a, turn, trail_b, turn, trail_a, turn, trail_b, turn, trail_a, turn, trail_b],
        state: Trail::default(),
        threads: 2,
        gather_states: flat,
    };
    let walks = 2 * 3 * 2 * 3 * 2 * 3 * 32;
    assert_eq!(compiled.walk_count, walks);
    assert_eq!(
        compiled_segments() - before,
        6 * walks,
        "the compiled loops ran every segment"
    );
    let a = trail_a::action;
    let b = trail_b::action;
    let t = turn::action;
    let general = general_trails(vec![a(), t(), b(), t(), a(), t(), b(), t(), a(), t(), b()]);
    assert_eq!(compiled.states.len() as u64, walks);
    assert!(compiled.states.iter().all(|trail| trail.0.len() == 6));
    assert!(
        compiled.states == general,
        "the compiled loops ran other actions"
    );

    // A leading serial action, two adjacent ones (an empty segment between them) and a
    // trailing one: the actions are in segments 1 and 3, and segments 2 and 4 are empty
    // (started all the same, as the report counts them).
    let before = compiled_segments();
    let compiled = combtest! {
        order: [turn, trail_a, turn, turn, trail_b, turn],
        state: Trail::default(),
        threads: 2,
        gather_states: flat,
    };
    let walks = 2 * 3 * 16;
    assert_eq!(compiled.walk_count, walks);
    assert_eq!(compiled_segments() - before, 4 * walks);
    let general = general_trails(vec![t(), a(), t(), t(), b(), t()]);
    assert_eq!(compiled.states, general);
    assert_eq!(compiled.states[0].0, [('a', 0), ('b', 0)]);
    assert_eq!(compiled.states[5].0, [('a', 1), ('b', 2)]);
}
