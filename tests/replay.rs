//! Replay as a user does it: a failing test prints a replay command; running the test again
//! with that `COMBTEST_WALKS` runs exactly the failed walk.
//!
//! The failing test is `#[ignore]`d so that the suite stays green; the checking test runs
//! this very test binary as a separate process, as `cargo test` would.

use std::process::Command;

mod common;

use combtest::prelude::*;

#[action(options = 0..20)]
fn left(n: u32, pair: &mut (u32, u32)) {
    pair.0 = n;
}

#[action(options = 0..20)]
fn right(n: u32, pair: &mut (u32, u32)) -> Result<(), String> {
    pair.1 = n;
    if pair.0 == 13 && n == 7 {
        return Err(format!("the pair {pair:?} is cursed"));
    }
    Ok(())
}

#[test]
#[ignore = "fails on purpose; run by replay_command_runs_exactly_the_failed_walk"]
fn cursed_pair() {
    combtest! { order: [left, right], state: (0, 0) };
}

fn run_cursed_pair(walks: Option<&str>) -> String {
    common::run_failing_test("cursed_pair", walks)
}

#[test]
fn replay_command_runs_exactly_the_failed_walk() {
    let output = run_cursed_pair(None);
    assert!(output.contains("1 of 400 walks failed"), "{output}");
    // The failing test names the cause, and replays its group's first walk.
    assert!(
        output.contains("failure group 1 of 1: 1 walk, right returned an error"),
        "{output}"
    );
    assert!(
        output.contains("cause:   left(13) ∧ right(7) (exact"),
        "{output}"
    );
    // 13 * 20 + 7
    let replay = common::first_replay(&output);
    assert!(replay.starts_with("COMBTEST_WALKS=267@"), "{replay}");
    assert!(
        replay.ends_with(
            "cargo test -p combtest-suite --test replay -- cursed_pair --exact --include-ignored"
        ),
        "{replay}"
    );
    let walks = common::walks_of(replay);

    let replayed = run_cursed_pair(Some(walks));
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    // No other walk ran to tell a suspect by: none is named, rather than every choice of
    // the walk as one that "0 of 0 others" have. The exact cause stands: the only walk
    // with both choices ran and failed.
    assert!(!replayed.contains("suspect:"), "{replayed}");
    assert!(
        replayed.contains("cause:   left(13) ∧ right(7) (exact"),
        "{replayed}"
    );
    assert!(replayed.contains("walk 267 "), "{replayed}");
    assert!(
        replayed.contains("the pair (13, 7) is cursed"),
        "{replayed}"
    );
    assert!(replayed.contains("left(13) -> right(7)"), "{replayed}");
}

/// With a log directory, the failure report names the run's folder and the command that
/// replays the failed walks of its trace; that command, run as printed (with libtest's
/// `--include-ignored`, since the failing test is ignored here), runs exactly those walks.
#[test]
fn the_report_names_the_run_folder_and_its_replay_command() {
    let log_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("replay-run-folder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&log_dir);
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["cursed_pair", "--exact", "--include-ignored"])
        .env_remove("COMBTEST_WALKS")
        .env_remove("COMBTEST_REPLAY")
        .env("COMBTEST_LOG_DIR", &log_dir)
        .output()
        .unwrap();
    let output = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let folder = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("run folder: "))
        .unwrap_or_else(|| panic!("no run folder in:\n{output}"));
    assert!(
        std::path::Path::new(folder).starts_with(&log_dir),
        "{folder} is not in {}",
        log_dir.display()
    );
    assert!(std::path::Path::new(folder).join("trace.jsonl").is_file());
    let replay = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("replay its failed walks: "))
        .unwrap_or_else(|| panic!("no replay command in:\n{output}"));
    assert_eq!(
        replay,
        format!(
            "COMBTEST_REPLAY={folder} cargo test -p combtest-suite --test replay -- cursed_pair \
             --exact --include-ignored"
        )
    );

    let (_, replayed) = common::run_as_printed(replay, &[]);
    // Exactly the one test, and exactly its failed walk.
    common::assert_replayed_walk(&replayed, 267);
}

#[test]
#[ignore = "fails on purpose; run by the_replay_of_a_test_s_second_run_selects_walks_of_that_run"]
fn two_runs() {
    let first = combtest! { order: [left], state: (0, 0) };
    eprintln!("the first run ran {} walks", first.walk_count);
    combtest! { order: [left, right], state: (0, 0) };
}

/// Runs the ignored test `test` of this binary alone with `variables` set; its output.
fn run_with(test: &str, variables: &[(&str, &str)]) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--include-ignored", "--test-threads=1"])
        .env_remove("COMBTEST_WALKS")
        .env_remove("COMBTEST_REPLAY")
        .env_remove("COMBTEST_BLOCK")
        .env_remove("NEXTEST")
        .envs(variables.iter().copied())
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// A test with two runs, the second failing: its replay command names the run, and run as
/// printed, the first run runs all its walks and the second only the failed one.
#[test]
fn the_replay_of_a_test_s_second_run_selects_walks_of_that_run() {
    let output = run_with("two_runs", &[]);
    assert!(output.contains("the first run ran 20 walks"), "{output}");
    assert!(output.contains("1 of 400 walks failed"), "{output}");
    let replay = common::first_replay(&output);
    let variables: Vec<(&str, &str)> = replay
        .split_whitespace()
        .map_while(|word| word.split_once('='))
        .collect();
    assert_eq!(variables.len(), 2, "{replay}");
    assert!(variables[0].1.starts_with("267@"), "{replay}");
    assert_eq!(variables[1], ("COMBTEST_BLOCK", "2"), "{replay}");
    assert!(
        replay.ends_with("--test replay -- two_runs --exact --include-ignored"),
        "{replay}"
    );

    let replayed = run_with("two_runs", &variables);
    assert!(
        replayed.contains("the first run ran 20 walks"),
        "{replayed}"
    );
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    assert!(replayed.contains("walk 267 "), "{replayed}");
    assert!(
        replayed.contains("the pair (13, 7) is cursed"),
        "{replayed}"
    );

    // Without the run's number, the walks are every run's: the first has no walk 267, and
    // the error points to the number.
    let every_run = run_with("two_runs", &variables[..1]);
    assert!(
        every_run.contains("is stale: today walk 267 has fingerprint none")
            && every_run.contains("COMBTEST_BLOCK names the run the id is of")
            && !every_run.contains("the first run ran"),
        "{every_run}"
    );
    // The number alone selects nothing: an error, not a run of every walk.
    let alone = run_with("two_runs", &variables[1..]);
    assert!(
        alone.contains("COMBTEST_BLOCK") && alone.contains("neither is set"),
        "{alone}"
    );
}

/// A replay command run where `COMBTEST_SHARD` is still set (a CI job's environment): a
/// shard that leaves its walk out is an error that says so, not a run of nothing that
/// passes; a shard that holds it replays it.
#[test]
fn a_replay_command_under_a_shard_that_leaves_its_walk_out_is_an_error() {
    let output = run_cursed_pair(None);
    let replay = common::first_replay(&output);
    let walks = common::walks_of(replay);
    assert!(walks.starts_with("267@"), "{replay}");

    // 400 walks in two shares: walk 267 is in the second.
    let left_out = run_with(
        "cursed_pair",
        &[("COMBTEST_WALKS", walks), ("COMBTEST_SHARD", "1/2")],
    );
    assert!(
        left_out.contains(&format!(
            "COMBTEST_SHARD=\"1/2\" is invalid: this shard leaves out walk {walks} that \
             COMBTEST_WALKS names, which would not run; unset COMBTEST_SHARD to run it"
        )),
        "{left_out}"
    );
    assert!(
        !left_out.contains("walks failed"),
        "no walk ran: {left_out}"
    );
    assert!(left_out.contains("test result: FAILED"), "{left_out}");

    let held = run_with(
        "cursed_pair",
        &[("COMBTEST_WALKS", walks), ("COMBTEST_SHARD", "2/2")],
    );
    assert!(held.contains("1 of 1 walks failed"), "{held}");
    assert!(held.contains("the pair (13, 7) is cursed"), "{held}");
}

#[test]
#[ignore = "fails on purpose; run by a_builder_run_s_replay_command_names_its_package_and_target"]
fn builder_cursed_pair() {
    Combtest::new((0, 0))
        .then(left::action())
        .then(right::action())
        .run_or_panic();
}

/// A run of the builder API has no `combtest!` block to say where it is: its replay command
/// takes the package and the target from what cargo tells the test process, so that run
/// from a workspace whose root is another package it still runs the test. Run as printed, it
/// runs exactly the failed walk.
#[test]
fn a_builder_run_s_replay_command_names_its_package_and_target() {
    let output = common::run_failing_test("builder_cursed_pair", None);
    let replay = common::first_replay(&output);
    assert!(replay.starts_with("COMBTEST_WALKS=267@"), "{replay}");
    assert!(
        replay.ends_with(
            "cargo test -p combtest-suite --test replay -- builder_cursed_pair --exact \
             --include-ignored"
        ),
        "{replay}"
    );
    let (_, replayed) = common::run_as_printed(replay, &[]);
    common::assert_replayed_walk(&replayed, 267);
}
