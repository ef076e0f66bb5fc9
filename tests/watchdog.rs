//! Sync walks that run too long: a walk back past its timeout fails as timed out, and a walk
//! that never comes back is named as it happens and ends the run with the report of everything
//! that finished, instead of hanging the test.
//!
//! The stuck runs end their process, so they are `#[ignore]`d tests run by the checking tests
//! as separate processes of this very binary.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use combtest::prelude::*;
use combtest::FailureKind;

#[action(options = [1u64, 150])]
fn nap(millis: u64, naps: &mut Vec<u64>) {
    std::thread::sleep(Duration::from_millis(millis));
    naps.push(millis);
}

#[action(options = [1u64, 2])]
fn after(n: u64, naps: &mut Vec<u64>) {
    naps.push(n);
}

#[test]
fn a_sync_walk_back_past_its_timeout_fails_and_skips_the_rest_of_its_walk() {
    let report = combtest! {
        order: [nap, after],
        state: Vec::new(),
        timeout: Duration::from_millis(100),
        gather_states: flat,
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (4, 2));
    for failure in &report.failures {
        assert_eq!(failure.kind, FailureKind::Timeout);
        assert_eq!(failure.failed_action, "nap");
        assert!(
            failure
                .message
                .ends_with(", past the timeout of 100ms, by the end of nap(150)"),
            "{}",
            failure.message
        );
    }
    // The timed-out walks stopped after `nap`: `after` never ran on them.
    assert_eq!(report.states[2], [150]);
    assert_eq!(report.states[3], [150]);
    assert_eq!(report.states[0], [1, 1]);
}

#[action(options = [120u64, 1050])]
fn doze(millis: u64, _: &mut ()) {
    std::thread::sleep(Duration::from_millis(millis));
}

#[test]
fn walks_past_one_timeout_are_one_group_whatever_their_time_and_param() {
    let report = combtest! {
        order: [doze],
        state: (),
        timeout: Duration::from_millis(100),
        threads: 2,
        panic_on_failure: false,
    };
    assert_eq!(report.error_count, 2);
    // Their messages differ in the param and in the unit of their time.
    let ran: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert!(
        ran[0].contains("ms, past") && ran[1].contains("s, past"),
        "{ran:?}"
    );
    assert!(!ran[1].contains("ms, past"), "{ran:?}");
    assert_eq!(report.groups.len(), 1, "{report}");
    let group = &report.groups[0];
    assert_eq!((group.count, group.kind), (2, FailureKind::Timeout));
    assert_eq!(group.message, "past the timeout of 100ms");
    assert!(
        report
            .to_string()
            .contains("2 walks, doze timed out: past the timeout of 100ms"),
        "{report}"
    );
}

#[action(options = [true, false])]
fn refuse(refused: bool, _: &mut u32) -> Result<(), String> {
    if refused {
        return Err("refused on purpose".into());
    }
    Ok(())
}

#[action(options = 0..6u32)]
fn spin(n: u32, count: &mut u32) {
    *count += n;
    if n == 3 {
        // A walk that never comes back.
        loop {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[serial_action(options = ["a", "b"])]
fn reconfigure(_name: &'static str, _shared: &mut ()) {}

#[test]
#[ignore = "hangs on purpose; run by a_walk_that_never_returns_ends_the_run_naming_it"]
fn spins_forever() {
    combtest! {
        order: [refuse, spin],
        state: 0u32,
        timeout: Duration::from_secs(1),
        threads: 2,
    };
}

#[test]
#[ignore = "hangs on purpose; run by a_held_walk_that_never_returns_ends_the_run_naming_it"]
fn spins_forever_between_barriers() {
    combtest! {
        order: [refuse, reconfigure, spin],
        state: 0u32,
        shared: (),
        timeout: Duration::from_secs(1),
        threads: 2,
    };
}

#[action(options = 0..4u32)]
async fn block_the_worker(n: u32, count: &mut u32) {
    tokio::task::yield_now().await;
    *count += n;
    if n == 2 {
        // A sync call that never returns, inside an async walk: no timer can drop it.
        loop {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
#[ignore = "hangs on purpose; run by an_async_walk_that_blocks_its_worker_ends_the_run_naming_it"]
fn blocks_an_async_worker() {
    combtest! {
        order: [refuse, block_the_worker],
        state: 0u32,
        timeout: Duration::from_secs(1),
        threads: 2,
    };
}

/// Runs one ignored test of this binary as its own process, killing it if it outlives
/// `patience`; returns its exit code and stderr.
fn run_alone(test: &str, patience: Duration) -> (Option<i32>, String) {
    run_alone_with(test, &[], patience)
}

/// [`run_alone`], with these variables set.
fn run_alone_with(
    test: &str,
    variables: &[(&str, &str)],
    patience: Duration,
) -> (Option<i32>, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--include-ignored", "--test-threads=1"])
        .env_remove("COMBTEST_WALKS")
        .env_remove("COMBTEST_TIMEOUT")
        .envs(variables.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            return (
                status.code(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            );
        }
        if started.elapsed() > patience {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{test} still ran after {patience:?}: the run hung\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The replay command printed for walk `id`.
fn replay_of(stderr: &str, id: u64) -> &str {
    let prefix = format!("COMBTEST_WALKS={id}@");
    stderr
        .lines()
        .filter_map(|line| line.trim().strip_prefix("replay:"))
        .map(str::trim)
        .find(|replay| replay.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no replay command for walk {id} in:\n{stderr}"))
}

/// Checks that the ignored test `test` ended its process as a run a stuck walk would hang:
/// walk `id` named as it ran long in `action`, then the run ended with the failures before it.
fn assert_ended_naming(test: &str, id: u64, action: &str) -> String {
    // The patience only keeps a regression from hanging the suite; the run ends well before.
    let (code, stderr) = run_alone(test, Duration::from_secs(120));
    assert_eq!(code, Some(101), "{stderr}");
    // Named as it happens: id, action and param, how long, and the replay command.
    let named = format!("combtest: walk {id} (fingerprint ");
    assert!(stderr.contains(&named), "{stderr}");
    let past = format!(", past the timeout of 1s in {action}");
    assert!(stderr.contains(&past), "{stderr}");
    // Then the run ends, with what finished before: the walks that failed on their own.
    let ended = format!("combtest: walk {id} still running");
    assert!(stderr.contains(&ended), "{stderr}");
    assert!(stderr.contains("refused on purpose"), "{stderr}");
    stderr
}

#[test]
fn a_walk_that_never_returns_ends_the_run_naming_it() {
    // refuse(false) -> spin(3) is 6 + 3.
    let stderr = assert_ended_naming("spins_forever", 9, "spin(3)");
    assert!(
        replay_of(&stderr, 9)
            .ends_with("--test watchdog -- spins_forever --exact --include-ignored"),
        "{stderr}"
    );
    // The stuck walk is reported as timed out.
    assert!(stderr.contains("spin(3) timed out"), "{stderr}");
    assert!(
        stderr.contains("a thread cannot be stopped, so the run ended here"),
        "{stderr}"
    );
}

#[test]
fn a_held_walk_that_never_returns_ends_the_run_naming_it() {
    // Serial wheel first: reconfigure("a") is ids 0-11; refuse(false) -> spin(3) is 6 + 3.
    assert_ended_naming("spins_forever_between_barriers", 9, "spin(3)");
}

#[test]
fn an_async_walk_that_blocks_its_worker_ends_the_run_naming_it() {
    // refuse(false) -> block_the_worker(2) is 4 + 2.
    assert_ended_naming("blocks_an_async_worker", 6, "block_the_worker(2)");
}

#[test]
#[ignore = "hangs on purpose; run by a_builder_walk_that_never_returns_ends_the_run_naming_it"]
fn builder_spins_forever() {
    // The builder's order runs in the general kernel, whose walks without a timeout tell the
    // watchdog only their range: with one, each walk and action is told.
    let _ = Combtest::new(0u32)
        .order([refuse::action(), spin::action()])
        .timeout(Duration::from_secs(1))
        .threads(2)
        .run();
}

#[test]
fn a_builder_walk_that_never_returns_ends_the_run_naming_it() {
    // refuse(false) -> spin(3) is 6 + 3.
    let stderr = assert_ended_naming("builder_spins_forever", 9, "spin(3)");
    assert!(stderr.contains("spin(3) timed out"), "{stderr}");
}

#[test]
#[ignore = "hangs on purpose; run by a_walk_stopped_by_the_timeout_variable_replays_with_it"]
fn spins_forever_under_the_variable() {
    combtest! {
        order: [refuse, spin],
        state: 0u32,
        threads: 2,
    };
}

/// The variables a replay command sets before its command: `NAME=value` words up to the
/// first that is not one.
fn variables_of(replay: &str) -> Vec<(&str, &str)> {
    replay
        .split_whitespace()
        .map_while(|word| word.split_once('='))
        .filter(|(name, _)| name.starts_with("COMBTEST_"))
        .collect()
}

#[test]
fn a_walk_stopped_by_the_timeout_variable_replays_with_it() {
    let test = "spins_forever_under_the_variable";
    let patience = Duration::from_secs(120);
    let (code, stderr) = run_alone_with(test, &[("COMBTEST_TIMEOUT", "1s")], patience);
    assert_eq!(code, Some(101), "{stderr}");
    // refuse(false) -> spin(3) is 6 + 3.
    let replay = replay_of(&stderr, 9);
    let variables = variables_of(replay);
    assert_eq!(variables.len(), 2, "{replay}");
    assert_eq!(variables[1], ("COMBTEST_TIMEOUT", "1s"), "{replay}");
    assert!(
        replay.ends_with(
            "--test watchdog -- spins_forever_under_the_variable --exact --include-ignored"
        ),
        "{replay}"
    );
    // Run as printed, the walk alone is stopped by the same timeout again: the run ends
    // naming it, instead of hanging.
    let (code, again) = run_alone_with(test, &variables, patience);
    assert_eq!(code, Some(101), "{again}");
    assert!(again.contains("combtest: walk 9 still running"), "{again}");
    assert!(
        again.contains("before it, 0 of 1 selected walks"),
        "{again}"
    );
}

/// A number from the stuck run's report: `before it, {ended} of {selected} selected walks
/// (or walk segments) had ended: {failed} failed`.
fn ended_and_failed(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|line| line.contains("selected walks (or walk segments) had ended"))
        .unwrap_or_else(|| panic!("no count of the walks that ended in:\n{stderr}"));
    let number_after = |words: &str| -> usize {
        let rest = &line[line.find(words).unwrap() + words.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .find(|part| !part.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    (number_after("before it, "), number_after("had ended: "))
}

#[test]
fn a_run_a_stuck_walk_ends_keeps_every_walk_that_ended_in_its_trace() {
    let log_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("watchdog-trace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&log_dir);
    let log = log_dir.to_str().unwrap();
    let patience = Duration::from_secs(120);
    let (code, stderr) = run_alone_with("spins_forever", &[("COMBTEST_LOG_DIR", log)], patience);
    assert_eq!(code, Some(101), "{stderr}");
    let (ended, failed) = ended_and_failed(&stderr);
    // refuse(true) fails walks 0-5; the other worker ends every walk but the stuck 9.
    assert_eq!((ended, failed), (11, 6), "{stderr}");
    assert!(
        stderr.contains("Every walk that ended is in the trace "),
        "{stderr}"
    );

    // Each walk that ended has its record, though no worker's buffer was full.
    let folder = std::fs::read_dir(&log_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.is_dir())
        .unwrap_or_else(|| panic!("no run folder in {log_dir:?}"));
    let walks = combtest::read_trace(&folder).unwrap();
    let mut ids: Vec<u64> = walks.iter().map(|walk| walk.walk_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11], "{walks:?}");
    let failed_ids: Vec<u64> = walks
        .iter()
        .filter(|walk| walk.outcome == "fail")
        .map(|walk| walk.walk_id)
        .collect();
    assert_eq!(failed_ids.len(), 6, "{walks:?}");

    // The printed command replays the failed walks from that trace, and only them.
    let replay = stderr
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("COMBTEST_REPLAY="))
        .unwrap_or_else(|| panic!("no trace replay command in:\n{stderr}"));
    let variables = variables_of(replay);
    assert_eq!(variables.len(), 1, "{replay}");
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["spins_forever", "--exact", "--include-ignored"])
        .env_remove("COMBTEST_WALKS")
        .env_remove("COMBTEST_TIMEOUT")
        .envs(variables.iter().copied())
        .output()
        .unwrap();
    let replayed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(replayed.contains("6 of 6 walks failed"), "{replayed}");
    std::fs::remove_dir_all(&log_dir).unwrap();
}

#[serial_action(options = [0u64, 600])]
fn slow_upgrade(millis: u64, _shared: &mut ()) {
    std::thread::sleep(Duration::from_millis(millis));
}

#[test]
#[ignore = "slow on purpose; run by a_serial_action_running_long_is_named_and_waited_for"]
fn a_slow_serial_action() {
    let report = combtest! {
        order: [refuse, slow_upgrade, spin_free],
        state: 0u32,
        shared: (),
        timeout: Duration::from_millis(100),
        panic_on_failure: false,
    };
    // refuse(true) fails its walks; the others pass, the slow branch's too.
    assert_eq!((report.walk_count, report.error_count), (8, 4));
}

#[action(options = [1u32, 2])]
fn spin_free(n: u32, count: &mut u32) {
    *count += n;
}

#[test]
fn a_serial_action_running_long_is_named_and_waited_for() {
    let (code, stderr) = run_alone("a_slow_serial_action", Duration::from_secs(120));
    // The run waited for it and ended as usual.
    assert_eq!(code, Some(0), "{stderr}");
    // Serial wheel first: slow_upgrade(600) holds walks 4-7.
    assert!(
        stderr.contains(
            "combtest: serial action slow_upgrade(600) for the branch of walks 4-7 has run "
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "past the timeout of 100ms; a serial action is neither timed out nor stopped"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("slow_upgrade(0)"), "{stderr}");
}
