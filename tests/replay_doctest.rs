//! A doctest's replay command, run as printed, runs the doctests of its file, and among them
//! the failed walk again. The doctest (`src/replay_doctest.rs`) fails only when
//! `SUITE_FAIL_DOCTEST` is set.

use std::process::Command;

mod common;

/// Runs `command` through the shell in this package's folder with `SUITE_FAIL_DOCTEST` set,
/// as a user runs a printed command; its output.
fn shell(command: &str) -> String {
    let output = Command::new("sh")
        .args(["-c", command])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SUITE_FAIL_DOCTEST", "1")
        .env_remove("COMBTEST_WALKS")
        .env_remove("COMBTEST_REPLAY")
        .env_remove("COMBTEST_SHARD")
        .env_remove("NEXTEST")
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn a_doctest_s_replay_command_runs_the_doctests_of_its_file_and_the_failed_walk() {
    let run = shell("cargo test -p combtest-suite --doc -- src/replay_doctest.rs");
    assert!(run.contains("1 of 25 walks failed"), "{run}");
    let replay = common::first_replay(&run);
    // 3 * 5 + 1
    assert!(replay.starts_with("COMBTEST_WALKS=16@"), "{replay}");
    assert!(
        replay.contains(
            "cargo test -p combtest-suite --doc -- 'src/replay_doctest.rs' # a doctest: the one \
             at line 5 of src/replay_doctest.rs"
        ),
        "{replay}"
    );
    let replayed = shell(replay);
    // Only this file's doctest ran, and in it only the failed walk.
    assert!(replayed.contains("running 1 test"), "{replayed}");
    assert!(
        replayed.contains("test result: FAILED. 0 passed; 1 failed"),
        "{replayed}"
    );
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    assert!(replayed.contains("walk 16 "), "{replayed}");
}
