//! A trace writes passing walks as runs of ids after a header holding the order's options,
//! and full records only for the walks that failed or were cancelled. Every walk of the run
//! still reads back, with its options and its outcome, whichever executor and kernel ran it,
//! and a replay of all of them runs every walk again.

use combtest::prelude::*;
use combtest::{Report, WalkRecord, TRACE_FILE};

mod common;
use common::scratch;

#[action(options = 0..4u32)]
fn first(n: u32, s: &mut Vec<u32>) {
    s.push(n);
}

#[action(options = ["a", "b", "c"])]
fn second(tag: &'static str, s: &mut Vec<u32>) -> Result<(), String> {
    s.push(tag.len() as u32);
    if s[0] == 2 && tag == "b" {
        return Err("2 then b".into());
    }
    if s[0] == 3 && tag == "c" {
        cancel!("3 then c");
    }
    Ok(())
}

#[action(options = [10u64, 20])]
fn third(n: u64, s: &mut Vec<u32>) {
    s.push(n as u32);
}

#[serial_action(options = [0u8, 1])]
fn barrier(_: u8, _: &mut ()) {}

/// The outcome walk (first, second) should have.
fn expected(first: u32, second: &str) -> &'static str {
    match (first, second) {
        (2, "b") => "fail",
        (3, "c") => "cancel",
        _ => "pass",
    }
}

fn trace_lines(report: &Report<Vec<u32>>) -> usize {
    let trace = report
        .files
        .iter()
        .find(|f| f.ends_with(TRACE_FILE))
        .unwrap();
    std::fs::read_to_string(trace).unwrap().lines().count()
}

/// Checks that every walk id of the run reads back once, with the params its id picks; and,
/// for a run on one thread, that passing walks took a few lines.
fn check_round_trip(report: &Report<Vec<u32>>, serial: bool, threads: usize) -> Vec<WalkRecord> {
    let mut walks = combtest::read_trace(report.run_folder.as_ref().unwrap()).unwrap();
    walks.sort_by_key(|w| w.walk_id);
    let ids: Vec<u64> = walks.iter().map(|w| w.walk_id).collect();
    assert_eq!(ids, (0..report.total_walks).collect::<Vec<_>>());
    let tags = ["a", "b", "c"];
    for walk in &walks {
        // Serial actions are the most significant digits of an id.
        let (branch, id) = if serial {
            (Some(walk.walk_id / 24), walk.walk_id % 24)
        } else {
            (None, walk.walk_id)
        };
        let (f, s, t) = (id / 6, (id / 2) % 3, id % 2);
        let params: Vec<serde_json::Value> = walk.steps.iter().map(|s| s.param.clone()).collect();
        let mut want = vec![
            serde_json::json!(f),
            serde_json::json!(tags[s as usize]),
            serde_json::json!([10, 20][t as usize]),
        ];
        if let Some(branch) = branch {
            want.insert(2, serde_json::json!(branch));
            assert_eq!(walk.branch, vec![branch as usize], "{walk:?}");
        }
        assert_eq!(params, want, "{walk:?}");
        assert_eq!(walk.steps[1].param_debug, format!("{:?}", tags[s as usize]));
        assert_eq!(
            walk.outcome,
            expected(f as u32, tags[s as usize]),
            "{walk:?}"
        );
        assert_eq!(walk.fingerprint.len(), 16);
    }
    // Full records only for the walks that did not pass, plus the header and a few runs. On
    // more threads, how many runs depends on how the workers shared the walks out.
    let stopped = report.error_count + report.cancel_count;
    assert!(
        threads > 1
            || (trace_lines(report) as u64) < stopped + 1 + 2 * (stopped + 1) * (1 + serial as u64),
        "{} lines for {stopped} stopped walks",
        trace_lines(report)
    );
    walks
}

#[test]
fn every_walk_of_a_compact_trace_reads_back_with_its_options_and_outcome() {
    for threads in [1, 2] {
        every_walk_reads_back_on(threads);
    }
}

fn every_walk_reads_back_on(threads: usize) {
    let dir = scratch(&format!("compact-trace-{threads}"));
    // The compiled loops (combtest!), the general kernel (the builder), and held walks.
    let compiled = combtest! {
        order: [first, second, third],
        state: Vec::new(),
        log_dir: dir.clone(),
        threads: threads,
        panic_on_failure: false,
    };
    let general = Combtest::new(Vec::new())
        .then(first::action())
        .then(second::action())
        .then(third::action())
        .threads(threads)
        .log_dir(&dir)
        .run()
        .unwrap();
    for report in [&compiled, &general] {
        assert_eq!(report.error_count, 2);
        assert_eq!(report.cancel_count, 2);
        check_round_trip(report, false, threads);
    }
    let held = Combtest::new(Vec::new())
        .then(first::action())
        .then(second::action())
        .then(barrier::action())
        .then(third::action())
        .threads(threads)
        .log_dir(&dir)
        .run()
        .unwrap();
    assert_eq!(held.error_count, 4);
    let walks = check_round_trip(&held, true, threads);
    let failed = walks.iter().find(|w| w.outcome == "fail").unwrap();
    assert_eq!(failed.failed_action.as_deref(), Some("second"));
    assert_eq!(failed.error.as_deref(), Some("2 then b"));
}

#[test]
fn a_replay_of_every_walk_of_a_compact_trace_runs_them_all() {
    let dir = scratch("compact-trace-replay");
    let recorded = combtest! {
        order: [first, second, third],
        state: Vec::new(),
        log_dir: dir.clone(),
        threads: 2,
        panic_on_failure: false,
    };
    let folder = recorded.run_folder.clone().unwrap();
    let replay = |walks: &str| {
        Combtest::new(Vec::new())
            .then(first::action())
            .then(second::action())
            .then(third::action())
            .replay(format!("{}{walks}", folder.display()))
            .run()
            .unwrap()
    };
    let all = replay("@all");
    assert_eq!(all.walk_count, 24);
    assert_eq!(all.error_count, 2);
    assert_eq!(all.cancel_count, 2);
    // Walk 1 passed: it is in a run of passing walks, and replays alone.
    let one = replay("@1");
    assert_eq!(one.walk_count, 1);
    assert_eq!(one.error_count, 0);
    // The failed walks only, by default.
    assert_eq!(replay("").walk_count, 2);
}
