//! Replay commands for the layouts tests really have: a `combtest!` block in a helper that a
//! `#[test]` calls, and tests a macro generates beside the function that holds the block (as
//! rstest's `#[case]` and `#[values]` do: `f::case_1` calls `f`). This file's name has a
//! hyphen, as `tests/ecosystem-fit.rs` does: its crate is `replay_layouts`, its target
//! `replay-layouts`.
//!
//! The failing tests are `#[ignore]`d so that the suite stays green; the checking tests run
//! this very test binary as a separate process, as `cargo test` would, with the arguments the
//! printed command gives libtest.

use std::path::Path;
use std::process::Command;

mod common;

use combtest::prelude::*;
// The actions of the library's own block: this file's helper runs them in a block of its own.
use combtest_suite::testing::{left, right};

/// A helper with the block: the test that calls it is what a replay must run.
fn check_pairs(cursed: (u32, u32)) {
    combtest! { order: [left, right], state: (0, 0, cursed) };
}

#[test]
#[ignore = "fails on purpose; run by a_helper_called_by_a_test_replays_that_test"]
fn calls_the_helper() {
    check_pairs((13, 7));
}

/// What a parametrizing macro generates: the body stays a function `name`, and a module of the
/// same name holds one `#[test]` per case, calling it.
macro_rules! cases {
    ($name:ident: $($case:ident => $cursed:expr),* $(,)?) => {
        fn $name(cursed: (u32, u32)) {
            check_pairs(cursed);
        }
        mod $name {
            $(
                #[test]
                #[ignore = "fails on purpose; run by a_generated_case_replays_that_case"]
                fn $case() {
                    super::$name($cursed);
                }
            )*
        }
    };
}

cases!(cursed_cases: case_1 => (2, 3), case_2 => (4, 5));

/// The output of this test binary run with `args` (and the ignored tests included), with
/// `COMBTEST_WALKS` set to `walks` if given.
fn run_this_binary(args: &[&str], walks: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(args).env_remove("COMBTEST_WALKS");
    if !args.contains(&"--include-ignored") {
        command.arg("--include-ignored");
    }
    if let Some(walks) = walks {
        command.env("COMBTEST_WALKS", walks);
    }
    let output = command.output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// Runs the failing test `test`, takes the replay command it prints, checks that it names this
/// package and target, and runs it: exactly one test must run, failing at the same walk.
fn replay_runs_exactly(test: &str, expected_walk: &str, cursed: &str) {
    let output = run_this_binary(&[test, "--exact"], None);
    assert!(output.contains("running 1 test"), "{output}");
    assert!(output.contains("1 of 400 walks failed"), "{output}");
    let replay = common::first_replay(&output);
    let (walks, command) = replay
        .strip_prefix("COMBTEST_WALKS=")
        .and_then(|rest| rest.split_once(' '))
        .unwrap_or_else(|| panic!("not a replay command: {replay}"));
    assert!(walks.starts_with(&format!("{expected_walk}@")), "{replay}");

    let (cargo, libtest) = command
        .split_once(" -- ")
        .unwrap_or_else(|| panic!("no test arguments in: {replay}"));
    let cargo: Vec<&str> = cargo.split_whitespace().collect();
    assert_eq!(
        cargo,
        [
            "cargo",
            "test",
            "-p",
            env!("CARGO_PKG_NAME"),
            "--test",
            "replay-layouts"
        ],
        "{replay}"
    );
    // The target cargo takes is this file's name.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replay-layouts.rs");
    assert!(target.is_file(), "{}", target.display());

    let libtest: Vec<&str> = libtest.split_whitespace().collect();
    assert_eq!(libtest, [test, "--exact", "--include-ignored"], "{replay}");
    // On one test thread too, as a replay is often run.
    let mut one_thread = libtest.clone();
    one_thread.push("--test-threads=1");
    let replayed = run_this_binary(&one_thread, Some(walks));
    assert!(replayed.contains("running 1 test"), "{replayed}");
    assert!(
        replayed.contains("test result: FAILED. 0 passed; 1 failed"),
        "{replayed}"
    );
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    assert!(
        replayed.contains(&format!("walk {expected_walk} ")),
        "{replayed}"
    );
    assert!(replayed.contains(cursed), "{replayed}");
}

#[test]
#[ignore = "fails on purpose; run by a_block_in_a_library_the_test_calls_replays_that_test"]
fn calls_the_library() {
    combtest_suite::testing::check_cursed_pair((4, 5));
}

/// The block sits in the package's library, compiled without `cfg(test)` for this test: the
/// command names this test's target, not the library (`--lib` would run no test and pass).
#[test]
fn a_block_in_a_library_the_test_calls_replays_that_test() {
    // 4 * 20 + 5
    replay_runs_exactly("calls_the_library", "85", "the pair (4, 5) is cursed");
}

#[test]
fn a_helper_called_by_a_test_replays_that_test() {
    // 13 * 20 + 7
    replay_runs_exactly("calls_the_helper", "267", "the pair (13, 7) is cursed");
}

#[test]
fn a_generated_case_replays_that_case() {
    // 2 * 20 + 3 and 4 * 20 + 5
    replay_runs_exactly("cursed_cases::case_1", "43", "the pair (2, 3) is cursed");
    replay_runs_exactly("cursed_cases::case_2", "85", "the pair (4, 5) is cursed");
}

#[test]
fn a_hyphenated_test_file_is_named_as_cargo_names_its_target() {
    // The crate is `replay_layouts`; `cargo test --test replay_layouts` would be refused.
    assert_eq!(env!("CARGO_CRATE_NAME"), "replay_layouts");
    let output = run_this_binary(&["calls_the_helper", "--exact"], None);
    assert!(
        output.contains("--test replay-layouts -- calls_the_helper --exact"),
        "{output}"
    );
}

/// An example's tests and a benchmark target's tests (`tests/targets/`, declared in this
/// package's manifest under hyphenated names), with `combtest!` and with the builder API, run
/// as a user runs them: the replay command names the target as `cargo test` takes it, and
/// run as printed it runs exactly the failed walk.
#[test]
fn an_example_s_and_a_benchmark_s_tests_replay_in_their_own_target() {
    let targets = [
        "--example replay-in-an-example",
        "--bench replay-in-a-bench",
    ];
    let tests = ["cursed_pair", "builder_cursed_pair"];
    for (target, test) in targets.iter().flat_map(|t| tests.map(|test| (t, test))) {
        let command = format!(
            "cargo test -p {} {target} -- cursed_pair::{test} --exact --include-ignored",
            env!("CARGO_PKG_NAME")
        );
        let (_, output) = common::run_as_printed(&command, &[]);
        assert!(output.contains("1 of 400 walks failed"), "{output}");
        let replay = common::first_replay(&output);
        // 13 * 20 + 7
        assert!(replay.starts_with("COMBTEST_WALKS=267@"), "{replay}");
        assert!(replay.ends_with(&command), "{replay}");
        let (_, replayed) = common::run_as_printed(replay, &[]);
        common::assert_replayed_walk(&replayed, 267);
    }
}
