//! Serial actions: barriers, branches, once-per-branch execution.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use combtest::prelude::*;

/// Every walk records what ran in it, in order: `('a', option)` for an action at position
/// `a`, and the same for serial actions (recorded into each walk of the branch).
type Trail = Vec<(char, usize)>;

#[derive(Debug, Default)]
struct Runs {
    /// (name, param) of every serial action execution, in order.
    serial: Mutex<Vec<(char, usize)>>,
}

#[action(options = 0..5)]
fn a5(i: usize, t: &mut Trail, _: &Runs) {
    t.push(('a', i));
}

#[action(options = 0..10)]
fn b10(i: usize, t: &mut Trail, _: &Runs) {
    t.push(('b', i));
}

#[action(options = 0..3)]
fn c3(i: usize, t: &mut Trail, _: &Runs) {
    t.push(('c', i));
}

#[serial_action(options = 0..5)]
fn s5(j: usize, runs: &mut Runs, walks: States<'_, Trail>) {
    runs.serial.lock().unwrap().push(('S', j));
    for t in walks {
        t.push(('S', j));
    }
}

#[serial_action(options = 0..2)]
fn t2(j: usize, runs: &mut Runs, mut walks: States<'_, Trail>) {
    runs.serial.lock().unwrap().push(('T', j));
    for t in walks.iter_mut() {
        t.push(('T', j));
    }
}

#[test]
fn a5_b10_s5_c3_t2_runs_1500_walks_in_4500_segments() {
    let report = combtest! {
        order: [a5, b10, s5, c3, t2],
        state: Trail::new(),
        shared: Runs::default(),
        gather_states: full,
    };
    assert_eq!(report.walk_count, 1500);
    assert_eq!(
        report.segment_count, 4500,
        "three per walk, the last one empty"
    );
    assert_eq!(report.error_count, 0);
    let distinct: HashSet<&Trail> = report.states.iter().collect();
    assert_eq!(distinct.len(), 1500, "every combination exactly once");
    // Serial wheels first: id = (s * 2 + t) * 150 + a * 30 + b * 3 + c.
    for (id, trail) in report.states.iter().enumerate() {
        let (branch, walk) = (id / 150, id % 150);
        let (s, t) = (branch / 2, branch % 2);
        let (a, b, c) = (walk / 30, walk / 3 % 10, walk % 3);
        assert_eq!(
            trail,
            &vec![('a', a), ('b', b), ('S', s), ('c', c), ('T', t)],
            "walk {id}"
        );
        assert_eq!(report.walks[id].branch, vec![s, t], "walk {id}");
    }
}

#[test]
fn serial_actions_run_once_per_branch_depth_first() {
    let runs = std::sync::Arc::new(Runs::default());
    #[serial_action(options = 0..5)]
    fn s5_logged(j: usize, runs: &mut std::sync::Arc<Runs>) {
        runs.serial.lock().unwrap().push(('S', j));
    }
    #[serial_action(options = 0..2)]
    fn t2_logged(j: usize, runs: &mut std::sync::Arc<Runs>) {
        runs.serial.lock().unwrap().push(('T', j));
    }
    #[action(options = 0..5)]
    fn a(i: usize, t: &mut Trail, _: &std::sync::Arc<Runs>) {
        t.push(('a', i));
    }
    let report = combtest! {
        order: [a, a, s5_logged, a, t2_logged],
        state: Trail::new(),
        shared: runs.clone(),
    };
    assert_eq!(report.walk_count, 5 * 5 * 5 * 5 * 2);
    let serial = runs.serial.lock().unwrap().clone();
    assert_eq!(serial.iter().filter(|(n, _)| *n == 'S').count(), 5);
    assert_eq!(serial.iter().filter(|(n, _)| *n == 'T').count(), 10);
    // Depth first: S(j) is followed by its whole subtree before S(j + 1).
    let mut expected = Vec::new();
    for j in 0..5 {
        expected.extend([('S', j), ('T', 0), ('T', 1)]);
    }
    assert_eq!(serial, expected);
}

#[action(options = 0..5)]
fn first5(i: usize, t: &mut Trail) {
    t.push(('a', i));
}

#[action(options = 0..10)]
fn second10(i: usize, t: &mut Trail) {
    t.push(('b', i));
}

#[serial_action(options = 0..5)]
fn lead5(j: usize, walks: States<'_, Trail>) {
    for t in walks {
        t.push(('L', j));
    }
}

#[serial_action(options = 0..2)]
fn trail2(j: usize, walks: States<'_, Trail>) {
    for t in walks {
        t.push(('T', j));
    }
}

#[test]
fn leading_and_trailing_serial_actions() {
    let report = combtest! {
        order: [lead5, first5, second10, trail2],
        state: Trail::new(),
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 500);
    assert_eq!(report.segment_count, 1000);
    for (id, trail) in report.states.iter().enumerate() {
        let (branch, walk) = (id / 50, id % 50);
        let expected = vec![
            ('L', branch / 2),
            ('a', walk / 10),
            ('b', walk % 10),
            ('T', branch % 2),
        ];
        assert_eq!(trail, &expected, "walk {id}");
    }
}

#[test]
fn adjacent_serial_actions_exercise_every_combination() {
    let report = combtest! {
        order: [lead5, trail2, first5],
        state: Trail::new(),
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 50);
    assert_eq!(
        report.segment_count, 100,
        "the segment between the two serial actions is empty"
    );
    let distinct: HashSet<&Trail> = report.states.iter().collect();
    assert_eq!(distinct.len(), 50);
    assert_eq!(report.states[49], vec![('L', 4), ('T', 1), ('a', 4)]);
}

#[test]
fn an_order_of_one_serial_action() {
    let report = combtest! { order: [trail2], state: Trail::new(), gather_states: flat };
    assert_eq!(report.walk_count, 2);
    assert_eq!(report.segment_count, 2);
    assert_eq!(report.states, vec![vec![('T', 0)], vec![('T', 1)]]);
}

/// Counters that prove when each segment ran relative to the serial action. A `static`, so
/// the test can read them after the run.
struct Instruments {
    in_flight: AtomicUsize,
    first_done: AtomicUsize,
    second_started: AtomicUsize,
    serial_running: AtomicBool,
    violations: AtomicUsize,
    serial_saw: Mutex<Vec<(usize, usize, usize)>>,
}

impl Instruments {
    const fn new() -> Self {
        Instruments {
            in_flight: AtomicUsize::new(0),
            first_done: AtomicUsize::new(0),
            second_started: AtomicUsize::new(0),
            serial_running: AtomicBool::new(false),
            violations: AtomicUsize::new(0),
            serial_saw: Mutex::new(Vec::new()),
        }
    }

    /// Instruments an action: counts it in flight and checks no serial action runs.
    fn during(&self, work: impl FnOnce()) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.serial_running.load(Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        work();
        if self.serial_running.load(Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Instruments a serial action: records what it saw when it started.
    fn serial(&self) {
        self.serial_running.store(true, Ordering::SeqCst);
        self.serial_saw.lock().unwrap().push((
            self.in_flight.load(Ordering::SeqCst),
            self.first_done.load(Ordering::SeqCst),
            self.second_started.load(Ordering::SeqCst),
        ));
        std::thread::yield_now();
        self.serial_running.store(false, Ordering::SeqCst);
    }
}

fn busy(sum: &mut u64, n: u64) {
    // Some work, so that a broken barrier would overlap.
    *sum = (0..200 + n).fold(*sum, |acc, k| acc.wrapping_mul(31).wrapping_add(k));
}

static CONFIG: Instruments = Instruments::new();

#[action(options = 0..40)]
fn before(n: u64, sum: &mut u64) {
    CONFIG.during(|| busy(sum, n));
    CONFIG.first_done.fetch_add(1, Ordering::SeqCst);
}

#[action(options = 0..40)]
fn after(n: u64, sum: &mut u64) {
    CONFIG.second_started.fetch_add(1, Ordering::SeqCst);
    CONFIG.during(|| busy(sum, n));
}

#[serial_action(options = ["reconfigured"])]
fn global_config(_setting: &'static str) {
    CONFIG.serial();
}

#[test]
fn a_global_config_change_runs_once_between_the_two_segments() {
    let report = combtest! {
        order: [before, global_config, after],
        state: 0u64,
        threads: 2,
    };
    assert_eq!(report.walk_count, 1600);
    assert_eq!(report.segment_count, 3200);
    let saw = CONFIG.serial_saw.lock().unwrap().clone();
    // Exactly once; after every walk finished the first segment, before any started the second,
    // with nothing in flight.
    assert_eq!(saw, vec![(0, 1600, 0)]);
    assert_eq!(CONFIG.second_started.load(Ordering::SeqCst), 1600);
    assert_eq!(CONFIG.violations.load(Ordering::SeqCst), 0);
}

static EXCLUSIVE: Instruments = Instruments::new();

#[action(options = 0..20)]
fn instrumented(n: u64, sum: &mut u64) {
    EXCLUSIVE.during(|| busy(sum, n));
}

#[serial_action(options = 0..4)]
fn exclusive(_n: u8) {
    EXCLUSIVE.serial();
}

#[test]
fn serial_actions_run_while_no_walk_runs() {
    let report = combtest! {
        order: [instrumented, exclusive, instrumented, exclusive, instrumented],
        state: 0u64,
        threads: 2,
    };
    assert_eq!(report.walk_count, 20 * 4 * 20 * 4 * 20);
    let saw = EXCLUSIVE.serial_saw.lock().unwrap().clone();
    assert_eq!(
        saw.len(),
        4 + 16,
        "4 options, then 4 per option of the first"
    );
    assert!(
        saw.iter().all(|&(in_flight, _, _)| in_flight == 0),
        "{saw:?}"
    );
    assert_eq!(EXCLUSIVE.violations.load(Ordering::SeqCst), 0);
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Steps {
    ran: Vec<&'static str>,
}

static SERIAL_SAW_IDS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

#[action(options = [0, 1, 2, 3])]
fn setup(n: u8, steps: &mut Steps) -> Result<(), String> {
    steps.ran.push("setup");
    if n == 2 {
        return Err("setup 2 fails".into());
    }
    if n == 3 {
        cancel!("setup 3 cancels");
    }
    Ok(())
}

#[serial_action(options = [0, 1])]
fn checkpoint(_n: u8, mut walks: States<'_, Steps>) {
    SERIAL_SAW_IDS.lock().unwrap().extend(walks.ids());
    for (_, steps) in walks.iter_mut_with_ids() {
        steps.ran.push("checkpoint");
    }
}

#[action(options = [0])]
fn second_segment(_n: u8, steps: &mut Steps) {
    steps.ran.push("second");
}

#[test]
fn failed_and_cancelled_walks_leave_the_branch() {
    let report = combtest! {
        order: [setup, checkpoint, second_segment],
        state: Steps::default(),
        gather_states: full,
        panic_on_failure: false,
    };
    assert_eq!(report.walk_count, 8);
    assert_eq!((report.error_count, report.cancel_count), (2, 2));
    // Walks (setup, checkpoint, second): id = checkpoint * 4 + setup.
    let saw = SERIAL_SAW_IDS.lock().unwrap().clone();
    assert_eq!(
        saw,
        vec![0, 1, 4, 5],
        "the serial action never sees failed or cancelled walks"
    );
    for (summary, steps) in report.walks.iter().zip(&report.states) {
        match summary.walk_id % 4 {
            0 | 1 => {
                assert_eq!(summary.outcome, Outcome::Pass);
                assert_eq!(steps.ran, vec!["setup", "checkpoint", "second"]);
            }
            2 => {
                assert_eq!(summary.outcome, Outcome::Fail);
                assert_eq!(
                    steps.ran,
                    vec!["setup"],
                    "no later segment for a failed walk"
                );
            }
            _ => {
                assert_eq!(
                    summary.outcome,
                    Outcome::Cancel {
                        reason: "setup 3 cancels".into()
                    }
                );
                assert_eq!(steps.ran, vec!["setup"]);
            }
        }
    }
    // Failed walks count one segment; passing walks two.
    assert_eq!(report.segment_count, 4 * 2 + 4);
}

static SWITCH_RUNS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

#[serial_action(options = ["ok", "fail", "cancel", "panic", "ok again"])]
fn switch(mode: &'static str, walks: States<'_, Steps>) -> Result<(), String> {
    SWITCH_RUNS.lock().unwrap().push(mode);
    for steps in walks {
        steps.ran.push(mode);
    }
    match mode {
        "fail" => Err("the switch broke".into()),
        "cancel" => cancel!("the switch is unavailable"),
        "panic" => panic!("the switch exploded"),
        _ => Ok(()),
    }
}

static LATER_RUNS: AtomicUsize = AtomicUsize::new(0);

#[serial_action(options = [1, 2])]
fn later(_n: u8) {
    LATER_RUNS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_failing_or_cancelling_serial_action_ends_its_branch_and_the_run_goes_on() {
    let report = combtest! {
        order: [second_segment, setup, switch, second_segment, later],
        state: Steps::default(),
        gather_states: full,
        panic_on_failure: false,
    };
    assert_eq!(report.walk_count, 4 * 5 * 2);
    assert_eq!(
        SWITCH_RUNS.lock().unwrap().clone(),
        vec!["ok", "fail", "cancel", "panic", "ok again"]
    );
    // `later` runs only in the branches that went on: "ok" and "ok again".
    assert_eq!(LATER_RUNS.load(Ordering::SeqCst), 2 * 2);
    // In each branch of `switch`, setup 0 and 1 were live when it ran; 2 failed, 3 cancelled.
    let failures_of_switch: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.failed_action == "switch")
        .collect();
    assert_eq!(
        failures_of_switch.len(),
        2 * 2 * 2,
        "fail and panic branches, 2 live walks, 2 later options"
    );
    let broke = failures_of_switch
        .iter()
        .find(|f| f.message == "the switch broke")
        .unwrap();
    assert_eq!(broke.failed_position, 2);
    assert!(
        broke.steps[2].to_string() == "switch(\"fail\")",
        "{:?}",
        broke.steps
    );
    let exploded = failures_of_switch
        .iter()
        .find(|f| f.message == "the switch exploded")
        .unwrap();
    assert!(exploded
        .location
        .as_deref()
        .unwrap()
        .starts_with("tests/serial.rs:"));
    for (summary, steps) in report.walks.iter().zip(&report.states) {
        let mode = summary.branch[0];
        let setup = summary.walk_id % 4;
        match (mode, setup) {
            (_, 2) => assert_eq!(summary.outcome, Outcome::Fail),
            (_, 3) => assert!(matches!(summary.outcome, Outcome::Cancel { .. })),
            (0 | 4, _) => {
                assert_eq!(summary.outcome, Outcome::Pass);
                assert_eq!(steps.ran.len(), 4, "{steps:?}");
            }
            (1 | 3, _) => assert_eq!(summary.outcome, Outcome::Fail),
            (2, _) => assert_eq!(
                summary.outcome,
                Outcome::Cancel {
                    reason: "the switch is unavailable".into()
                }
            ),
            _ => unreachable!(),
        }
    }
}

static SELECTED_RUNS: Mutex<Vec<(char, usize)>> = Mutex::new(Vec::new());

#[serial_action(options = 0..4)]
fn selected_outer(j: usize) {
    SELECTED_RUNS.lock().unwrap().push(('O', j));
}

#[serial_action(options = 0..3)]
fn selected_inner(j: usize) {
    SELECTED_RUNS.lock().unwrap().push(('I', j));
}

#[action(options = 0..5)]
fn selected_action(i: usize, t: &mut Trail) {
    t.push(('a', i));
}

#[test]
fn selections_and_filters_run_serial_actions_only_where_walks_remain() {
    // Branch (outer, inner) holds ids (outer * 3 + inner) * 5 .. + 5.
    let report = combtest! {
        order: [selected_action, selected_outer, selected_inner],
        state: Trail::new(),
        walks: "16-18, 52",
        // Walk 17 is filtered out; 52 is branch (3, 1).
        filter: |walk: &Walk| walk.id() != 17,
        gather_states: full,
    };
    assert_eq!(report.walk_count, 3);
    assert_eq!(report.skipped_count, 1);
    let ids: Vec<u64> = report.walks.iter().map(|w| w.walk_id).collect();
    assert_eq!(ids, vec![16, 18, 52]);
    assert_eq!(report.walks[0].branch, vec![1, 0]);
    assert_eq!(report.walks[2].branch, vec![3, 1]);
    assert_eq!(
        SELECTED_RUNS.lock().unwrap().clone(),
        vec![('O', 1), ('I', 0), ('O', 3), ('I', 1)]
    );
}

#[derive(Debug, Default)]
struct Server {
    version: u32,
}

#[action(options = [1, 2])]
fn call(n: u32, seen: &mut Vec<u32>, server: &Server) {
    seen.push(server.version * 10 + n);
}

#[serial_action(options = [1, 2, 3])]
fn upgrade(version: u32, server: &mut Server) {
    server.version = version;
}

#[test]
fn a_serial_action_changes_the_shared_context_its_branch_sees() {
    let report = combtest! {
        order: [call, upgrade, call],
        state: Vec::new(),
        shared: Server::default(),
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 12);
    for (id, seen) in report.states.iter().enumerate() {
        let (version, first, second) = (id / 4 + 1, id / 2 % 2 + 1, id % 2 + 1);
        assert_eq!(
            seen,
            &vec![first as u32, (version * 10 + second) as u32],
            "walk {id}"
        );
    }
}

/// The ids of the walks that reached their end, by their four digits.
type Finished = std::sync::Arc<Mutex<Vec<u64>>>;

// Four digits around a serial action: a walk's state is its digits, built one by one.
#[action(options = 0..10u64)]
fn thousands(d: u64, n: &mut u64, _: &Finished) {
    *n = *n * 10 + d;
}

#[action(options = 0..10u64)]
fn hundreds(d: u64, n: &mut u64, _: &Finished) {
    *n = *n * 10 + d;
    if *n == 42 {
        panic!("prefix 42 is cursed");
    }
}

#[serial_action(options = 0..2u8)]
fn flip(_side: u8, _: &mut Finished) {}

#[action(options = 0..10u64)]
fn tens(d: u64, n: &mut u64, _: &Finished) {
    *n = *n * 10 + d;
}

#[action(options = 0..10u64)]
fn units(d: u64, n: &mut u64, finished: &Finished) -> Result<(), String> {
    *n = *n * 10 + d;
    let n = *n;
    if n % 97 == 0 {
        return Err(format!("{n} is a multiple of 97"));
    }
    if n % 89 == 5 {
        panic!("{n} is 5 mod 89");
    }
    if n % 83 == 7 {
        cancel!("{n} is 7 mod 83");
    }
    finished.lock().unwrap().push(n);
    Ok(())
}

/// How a walk with digits `n` ends: the failing action, `Some(None)` for a cancel, `None`
/// for a pass.
fn expected_end(n: u64) -> Option<Option<&'static str>> {
    if n / 100 == 42 {
        Some(Some("hundreds"))
    } else if n % 97 == 0 || n % 89 == 5 {
        Some(Some("units"))
    } else if n % 83 == 7 {
        Some(None)
    } else {
        None
    }
}

#[test]
fn held_walks_that_stop_amid_many_passing_ones_leave_the_others_untouched() {
    for threads in [1, 2] {
        let finished = Finished::default();
        let report = combtest! {
            order: [thousands, hundreds, flip, tens, units],
            state: 0u64,
            shared: finished.clone(),
            threads: threads,
            panic_on_failure: false,
        };
        // The serial action's wheel is the most significant: walk `side * 10^4 + n`.
        let walks = |end: fn(Option<Option<&'static str>>) -> bool| -> Vec<u64> {
            (0..20_000)
                .filter(|&id| end(expected_end(id % 10_000)))
                .collect()
        };
        let expected_failures = walks(|end| matches!(end, Some(Some(_))));
        let cancels = walks(|end| end == Some(None)).len() as u64;
        let mut expected_passes: Vec<u64> = walks(|end| end.is_none())
            .into_iter()
            .map(|id| id % 10_000)
            .collect();
        expected_passes.sort_unstable();

        assert_eq!(report.walk_count, 20_000);
        assert_eq!(report.cancel_count, cancels, "threads: {threads}");
        let failed: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
        assert_eq!(failed, expected_failures, "threads: {threads}");
        for failure in &report.failures {
            let (id, n) = (failure.walk_id, failure.walk_id % 10_000);
            let action = expected_end(n).unwrap().unwrap();
            assert_eq!(failure.failed_action, action, "walk {id}");
            // The walk is described by its own options, and its state is where it stopped.
            let params: Vec<String> = failure
                .steps
                .iter()
                .map(|s| s.param_debug.to_string())
                .collect();
            let digits = format!("{n:04}");
            let expected = [
                &digits[..1],
                &digits[1..2],
                &(id / 10_000).to_string(),
                &digits[2..3],
                &digits[3..],
            ];
            assert_eq!(params, expected, "walk {id}");
            let stopped_at = if action == "hundreds" { n / 100 } else { n };
            assert_eq!(failure.state, stopped_at.to_string(), "walk {id}");
        }
        let mut finished = finished.lock().unwrap().clone();
        finished.sort_unstable();
        assert_eq!(finished, expected_passes, "threads: {threads}");
    }
}
