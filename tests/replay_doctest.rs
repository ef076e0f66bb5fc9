//! A doctest's replay command, run as printed, runs the doctests of its file, and among them
//! the failed walk again. The doctest (`src/replay_doctest.rs`) fails only when
//! `SUITE_FAIL_DOCTEST` is set.

mod common;

/// Runs `command` as printed, with the doctest set to fail.
fn shell(command: &str) -> String {
    common::run_as_printed(command, &[("SUITE_FAIL_DOCTEST", "1")]).1
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
    common::assert_replayed_walk(&replayed, 16);
}
