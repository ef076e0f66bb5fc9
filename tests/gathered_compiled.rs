//! Flat gathering in the compiled loops of `combtest!` orders: a run gathering flat states
//! stays in them, and gathers what the general kernel gathers for the same order — every
//! walk's final state in walk-id order, failed and cancelled walks included, none for a walk
//! whose state could not be made — on one thread and two, with walks that panic, return an
//! error or cancel in the middle of a chunk, and with a filter or a trace.
//!
//! `combtest::__private::compiled_walks` counts the walks the compiled loops ran or skipped in
//! this process; the tests of this file take turns so that each sees only its own runs.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Mutex;

use combtest::__private::compiled_walks;
use combtest::prelude::*;
use combtest::Report;

mod common;
use common::scratch;

/// Held by each test of this file: the compiled walks counter is shared by the process.
static TURN: Mutex<()> = Mutex::new(());

/// Walks of the runs below: three actions of four options; walk id `(p0 * 4 + p1) * 4 + p2`.
const WALKS: u64 = 64;

/// The params a walk ran, in order. Counts its live instances, to prove that every state is
/// dropped exactly once (gathered ones with the report).
#[derive(Default)]
struct Steps {
    params: Vec<u32>,
    /// Counts the live states of a run, and the clones made: clone `fail_on` panics (0:
    /// none).
    counters: Option<&'static Counters>,
    fail_on: usize,
}

struct Counters {
    live: AtomicIsize,
    clones: AtomicUsize,
}

impl Counters {
    const fn new() -> Self {
        Counters {
            live: AtomicIsize::new(0),
            clones: AtomicUsize::new(0),
        }
    }

    fn reset(&self) {
        self.live.store(0, Ordering::SeqCst);
        self.clones.store(0, Ordering::SeqCst);
    }

    /// A fresh template state, counted as live.
    fn template(&'static self, fail_on: usize) -> Steps {
        self.live.fetch_add(1, Ordering::SeqCst);
        Steps {
            params: Vec::new(),
            counters: Some(self),
            fail_on,
        }
    }
}

/// Only the params: the counters move while other walks run.
impl std::fmt::Debug for Steps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steps")
            .field("params", &self.params)
            .finish()
    }
}

impl Clone for Steps {
    fn clone(&self) -> Self {
        if let Some(counters) = self.counters {
            let call = counters.clones.fetch_add(1, Ordering::SeqCst) + 1;
            if call == self.fail_on {
                panic!("clone number {call} breaks");
            }
            counters.live.fetch_add(1, Ordering::SeqCst);
        }
        Steps {
            params: self.params.clone(),
            ..*self
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if let Some(counters) = self.counters {
            counters.live.fetch_sub(1, Ordering::SeqCst);
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
    if steps.params == [3, 1] {
        cancel!("second cancels after 3 then 1");
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

/// The params of the final state of each walk `keep` accepts, in walk-id order: walks 1-2-x
/// panic and 3-1-x cancel in `second`, with two params; the others (2-0-3 too, which fails in
/// `third`) end with three.
fn expected_params(keep: impl Fn(u64) -> bool) -> Vec<Vec<u32>> {
    let mut states = Vec::new();
    for p0 in 0..4u32 {
        for p1 in 0..4 {
            for p2 in 0..4 {
                let id = u64::from((p0 * 4 + p1) * 4 + p2);
                if !keep(id) {
                    continue;
                }
                states.push(match [p0, p1] {
                    [1, 2] | [3, 1] => vec![p0, p1],
                    _ => vec![p0, p1, p2],
                });
            }
        }
    }
    states
}

fn params(report: &Report<Steps>) -> Vec<Vec<u32>> {
    report.states.iter().map(|s| s.params.clone()).collect()
}

/// What a report says of its walks, for comparing two runs of one order.
fn summary(report: &Report<Steps>) -> Vec<String> {
    let mut lines = vec![format!(
        "walks {} errors {} cancels {} skipped {} states {}",
        report.walk_count,
        report.error_count,
        report.cancel_count,
        report.skipped_count,
        report.states.len()
    )];
    lines.extend(report.failures.iter().map(|f| {
        format!(
            "walk {} at {} ({}): {:?} {} | state {}",
            f.walk_id, f.failed_position, f.failed_action, f.kind, f.message, f.state
        )
    }));
    lines
}

/// The same order through the builder, whose walks the general kernel runs, gathering flat.
fn general(state: Steps, filter: Option<fn(&Walk) -> bool>, threads: usize) -> Report<Steps> {
    let mut combtest = Combtest::new(state)
        .then(first::action())
        .then(second::action())
        .then(third::action())
        .threads(threads)
        .gather_states(Gather::Flat);
    if let Some(keep) = filter {
        combtest = combtest.filter(keep);
    }
    combtest.run_checked(false)
}

#[test]
fn flat_gathering_stays_in_the_compiled_loops_and_gathers_every_walk_in_id_order() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    static COUNTERS: Counters = Counters::new();
    for threads in [1, 2] {
        COUNTERS.reset();
        let before = compiled_walks();
        let compiled = combtest! {
            order: [first, second, third],
            state: COUNTERS.template(0),
            threads: threads,
            gather_states: flat,
            panic_on_failure: false,
        };
        assert_eq!(
            compiled_walks() - before,
            WALKS,
            "every walk went through the compiled loops ({threads} threads)"
        );
        assert_eq!(
            params(&compiled),
            expected_params(|_| true),
            "{threads} threads: one state per walk, in walk-id order"
        );
        // Walks 1-2-x panic, 2-0-3 returns an error, 3-1-x cancel.
        let failed: Vec<u64> = compiled.failures.iter().map(|f| f.walk_id).collect();
        assert_eq!(failed, [24, 25, 26, 27, 35], "{compiled}");
        assert_eq!(compiled.cancel_count, 4);
        assert_eq!(
            COUNTERS.live.load(Ordering::SeqCst),
            WALKS as isize,
            "{threads} threads: the run kept exactly the gathered states alive"
        );
        let compiled_summary = summary(&compiled);
        drop(compiled);
        assert_eq!(
            COUNTERS.live.load(Ordering::SeqCst),
            0,
            "{threads} threads: every state was dropped exactly once"
        );

        COUNTERS.reset();
        let before = compiled_walks();
        let reference = general(COUNTERS.template(0), None, threads);
        assert_eq!(
            compiled_walks(),
            before,
            "the builder runs the general kernel"
        );
        assert_eq!(compiled_summary, summary(&reference));
        assert_eq!(params(&reference), expected_params(|_| true));
    }
}

#[test]
fn a_state_that_cannot_be_made_leaves_no_state_and_the_walks_after_it_are_gathered() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    static COUNTERS: Counters = Counters::new();
    // One worker: its template is clone 1, walk 0's state clone 2, so clone 11 is walk 9's.
    COUNTERS.reset();
    let before = compiled_walks();
    let compiled = combtest! {
        order: [first, second, third],
        state: COUNTERS.template(11),
        threads: 1,
        gather_states: flat,
        panic_on_failure: false,
    };
    assert_eq!(compiled_walks() - before, WALKS);
    assert_eq!(params(&compiled), expected_params(|id| id != 9));
    let failed: Vec<u64> = compiled.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(failed, [9, 24, 25, 26, 27, 35], "{compiled}");
    assert!(compiled.failures[0]
        .message
        .contains("clone number 11 breaks"));
    assert_eq!(COUNTERS.live.load(Ordering::SeqCst), WALKS as isize - 1);
    let compiled_summary = summary(&compiled);
    drop(compiled);
    assert_eq!(COUNTERS.live.load(Ordering::SeqCst), 0);

    COUNTERS.reset();
    let reference = general(COUNTERS.template(11), None, 1);
    assert_eq!(compiled_summary, summary(&reference));
}

/// Keeps walks whose first param is not 0 and whose third option is not the second: about
/// half of the walks, rejected in runs that break up the chunks.
fn keep(walk: &Walk) -> bool {
    walk.param::<u32>(0) != Some(&0) && walk.option_index(2) != 1
}

fn kept_id(id: u64) -> bool {
    id / 16 != 0 && id % 4 != 1
}

#[test]
fn a_filtered_gathering_run_stays_in_the_compiled_loops_and_gathers_the_kept_walks() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 2] {
        let before = compiled_walks();
        let compiled = combtest! {
            order: [first, second, third],
            state: Steps::default(),
            threads: threads,
            filter: keep,
            gather_states: flat,
            panic_on_failure: false,
        };
        assert_eq!(compiled_walks() - before, WALKS, "{threads} threads");
        assert_eq!((compiled.walk_count, compiled.skipped_count), (36, 28));
        assert_eq!(params(&compiled), expected_params(kept_id));
        assert_eq!(
            summary(&compiled),
            summary(&general(Steps::default(), Some(keep), threads))
        );
    }
}

#[test]
fn the_states_file_of_a_traced_gathering_run_pairs_each_state_with_its_walk() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("gathered-compiled-trace");
    let before = compiled_walks();
    let report = combtest! {
        order: [first, second, third],
        state: Steps::default(),
        threads: 2,
        gather_states: flat,
        log_dir: &dir,
        panic_on_failure: false,
    };
    assert_eq!(
        compiled_walks() - before,
        WALKS,
        "a trace writing passing walks as runs of ids keeps the compiled loops"
    );
    let expected: Vec<u64> = (0..WALKS).collect();
    assert_eq!(params(&report), expected_params(|_| true));
    let states_path = report
        .files
        .iter()
        .find(|f| f.ends_with("states.json"))
        .expect("a gathering traced run writes its states");
    let states: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(states_path).unwrap()).unwrap();
    let states = states.as_array().unwrap();
    let ids: Vec<u64> = states
        .iter()
        .map(|s| s["walk_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, expected);
    for (written, state) in states.iter().zip(&report.states) {
        assert_eq!(written["state"], format!("{state:?}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
