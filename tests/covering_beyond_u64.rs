//! Covering arrays of orders whose full product does not fit a `u64` (the README's 20 actions
//! with 10 options: 10^20 walks). Their walks are numbered by their row in the array; the
//! replay command of a failed walk runs exactly that walk again, and sharding, merging and
//! replaying from a trace work as for any run.

use combtest::prelude::*;
use combtest::{merge_shards, TRACE_FILE};

mod common;
use common::scratch;

/// The walk's options, position by position; the pair (3 first, 7 last) fails.
#[action(options = 0..10)]
fn knob(n: u32, picked: &mut Vec<u32>) -> Result<(), String> {
    picked.push(n);
    if picked.len() == 20 && picked[0] == 3 && n == 7 {
        return Err(format!("knobs {picked:?} clash"));
    }
    Ok(())
}

#[test]
#[ignore = "fails on purpose; run by a_failed_walk_of_a_huge_covering_array_replays_alone"]
fn twenty_knobs() {
    combtest! {
        order: [
            knob, knob, knob, knob, knob, knob, knob, knob, knob, knob,
            knob, knob, knob, knob, knob, knob, knob, knob, knob, knob,
        ],
        state: Vec::new(),
        covering: 2,
    };
}

fn twenty_knobs_builder() -> Combtest<Vec<u32>> {
    Combtest::new(Vec::new())
        .order((0..20).map(|_| knob::action()))
        .covering(2)
}

fn run_twenty_knobs(walks: Option<&str>) -> String {
    common::run_failing_test("twenty_knobs", walks)
}

#[test]
fn a_huge_covering_array_runs_and_covers_every_pair() {
    let report = twenty_knobs_builder().run().unwrap();
    let coverage = report.coverage.clone().unwrap();
    assert_eq!(coverage.full_product, 10u128.pow(20));
    assert_eq!(coverage.covered, coverage.total);
    assert_eq!(report.total_walks, report.walk_count);
    assert_eq!(coverage.walks, report.walk_count);
    assert!(report.walk_count < 400, "{}", report.walk_count);
    // The pair (3, 7) of the first and last knobs is covered, so some walk clashes.
    assert!(report.error_count >= 1);
    // Without a covering array, such an order is still refused before any walk runs.
    let error = Combtest::new(Vec::new())
        .order((0..20).map(|_| knob::action()))
        .run()
        .unwrap_err();
    assert!(
        error.to_string().contains("larger than 2^64 walks"),
        "{error}"
    );
}

#[test]
fn a_failed_walk_of_a_huge_covering_array_replays_alone() {
    let output = run_twenty_knobs(None);
    let replay = common::first_replay(&output);
    assert!(
        replay.ends_with("--test covering_beyond_u64 -- twenty_knobs --exact --include-ignored"),
        "{replay}"
    );
    let walks = common::walks_of(replay);
    let id = walks.split('@').next().unwrap();
    let message = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("message: "))
        .unwrap();

    let replayed = run_twenty_knobs(Some(walks));
    assert!(replayed.contains("running 1 test"), "{replayed}");
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    assert!(replayed.contains(&format!("walk {id} ")), "{replayed}");
    assert!(replayed.contains(message), "{replayed}");
}

#[test]
fn huge_covering_arrays_shard_merge_and_replay_from_a_trace() {
    let whole = twenty_knobs_builder().run().unwrap();
    let dir = scratch("covering-beyond-u64");
    for i in 1..=3 {
        twenty_knobs_builder()
            .shard((i, 3))
            .log_dir(dir.join(format!("s{i}")))
            .run()
            .unwrap();
    }
    let merged = merge_shards([&dir]).unwrap();
    assert_eq!(
        (merged.walk_count, merged.error_count, merged.total_walks),
        (whole.walk_count, whole.error_count, whole.total_walks)
    );
    let ids = |r: &Report<()>| r.failures.iter().map(|f| f.walk_id).collect::<Vec<_>>();
    let whole_ids: Vec<u64> = whole.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(ids(&merged), whole_ids);

    let logged = twenty_knobs_builder()
        .log_dir(dir.join("traced"))
        .run()
        .unwrap();
    let trace = logged
        .files
        .iter()
        .find(|file| file.ends_with(TRACE_FILE))
        .unwrap();
    let replayed = twenty_knobs_builder()
        .replay(trace.to_str().unwrap())
        .run()
        .unwrap();
    let replayed_ids: Vec<u64> = replayed.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(replayed_ids, whole_ids);
    assert_eq!(replayed.walk_count, whole_ids.len() as u64);
}

#[test]
fn serial_actions_in_a_huge_order_are_refused() {
    let pause = Action::serial(
        "pause",
        || [1u32, 2],
        |_: u32, _: &mut (), _: States<'_, Vec<u32>>| {},
    );
    let error = Combtest::new(Vec::new())
        .order((0..20).map(|_| knob::action()))
        .then(pause)
        .covering(2)
        .run()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("serial actions cannot branch on"),
        "{error}"
    );
}
