//! Replay under cargo-nextest, as a user does it: a failing test run by `cargo nextest run`
//! prints a replay command in nextest's form; running that command runs exactly that test and
//! the failed walk.
//!
//! The failing test is `#[ignore]`d so that the suite stays green. The checking test runs
//! `cargo nextest run` as a separate process, then the printed command through a shell. It is
//! skipped, saying so on stderr, when cargo-nextest is not installed.

use std::io::Write;
use std::path::Path;
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

mod under_nextest {
    use super::*;

    #[test]
    #[ignore = "fails on purpose; run by the_nextest_replay_command_runs_exactly_the_failed_walk"]
    fn cursed_pair() {
        combtest! { order: [left, right], state: (0, 0) };
    }

    /// A second failing test whose name contains the first's: the printed filter must match
    /// the whole name, not a part of it.
    #[test]
    #[ignore = "fails on purpose; must not run when cursed_pair is replayed"]
    fn cursed_pair_too() {
        panic!("cursed_pair_too ran");
    }
}

/// Where `cargo` runs: the workspace root, which holds this package.
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(workspace_root())
        .env_remove("COMBTEST_WALKS")
        .env_remove("NEXTEST");
    command
}

fn nextest_installed() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn the_nextest_replay_command_runs_exactly_the_failed_walk() {
    if !nextest_installed() {
        // Written past the test harness's capture, so that the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the_nextest_replay_command_runs_exactly_the_failed_walk: cargo-nextest is \
             not installed (`cargo install cargo-nextest` to run it)"
        );
        return;
    }
    let first = cargo()
        .args([
            "nextest",
            "run",
            "-p",
            "combtest-suite",
            "--test",
            "replay-nextest",
            "--run-ignored",
            "all",
            "--no-fail-fast",
            "-E",
            "test(=under_nextest::cursed_pair)",
        ])
        .output()
        .unwrap();
    let output = text(&first);
    assert!(
        !first.status.success(),
        "the cursed pair must fail:\n{output}"
    );
    assert!(output.contains("1 of 400 walks failed"), "{output}");
    let replay = common::first_replay(&output);
    // 13 * 20 + 7
    assert!(replay.starts_with("COMBTEST_WALKS=267@"), "{replay}");
    assert!(
        replay.ends_with(
            "cargo nextest run -p combtest-suite --test replay-nextest --run-ignored all \
             -E 'test(=under_nextest::cursed_pair)'"
        ),
        "{replay}"
    );

    // The printed command, as a user pastes it into a shell.
    let replayed = Command::new("sh")
        .args(["-c", replay])
        .current_dir(workspace_root())
        .env_remove("COMBTEST_WALKS")
        .env_remove("NEXTEST")
        .output()
        .unwrap();
    let output = text(&replayed);
    assert!(
        !replayed.status.success(),
        "the replay must fail:\n{output}"
    );
    // Exactly one test ran: not `cursed_pair_too`, not the checking test.
    assert!(
        output.contains("1 test run: 0 passed, 1 failed"),
        "{output}"
    );
    assert!(!output.contains("cursed_pair_too ran"), "{output}");
    // And exactly the failed walk.
    assert!(output.contains("1 of 1 walks failed"), "{output}");
    assert!(output.contains("walk 267 "), "{output}");
    assert!(output.contains("left(13) -> right(7)"), "{output}");
}
