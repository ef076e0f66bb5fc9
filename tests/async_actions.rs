//! Async actions and serial actions, as a user writes them: mixed with sync ones, many walks
//! in flight, barriers kept, timeouts, and from inside `#[tokio::test]` of either flavour.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod common;

use combtest::prelude::*;
use combtest::FailureKind;

#[derive(Clone, Debug, Default)]
struct Log {
    steps: Vec<String>,
}

#[action(options = [1u32, 2, 3])]
fn sync_step(n: u32, log: &mut Log) {
    log.steps.push(format!("sync {n}"));
}

/// Fails on 2, panics on 3 (when `fail` is on), cancels on 4.
#[action(options = [1u32, 2, 3, 4])]
async fn async_step(n: u32, log: &mut Log) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    match n {
        2 => return Err(format!("async step refused {n}")),
        3 => panic!("async step panicked on {n}"),
        4 => cancel!("4 is out of scope"),
        _ => {}
    }
    log.steps.push(format!("async {n}"));
    Ok(())
}

#[test]
fn async_and_sync_actions_mix_with_exact_counts() {
    let report = combtest! {
        order: [sync_step, async_step, sync_step],
        state: Log::default(),
        gather_states: full,
        panic_on_failure: false,
    };
    // 3 x 4 x 3 walks; async_step's options 2 and 3 fail, 4 cancels.
    assert_eq!(report.walk_count, 36);
    assert_eq!(report.error_count, 18);
    assert_eq!(report.cancel_count, 9);
    let panics = report
        .failures
        .iter()
        .filter(|f| f.kind == FailureKind::Panic)
        .count();
    assert_eq!(panics, 9);
    let panic = report
        .failures
        .iter()
        .find(|f| f.kind == FailureKind::Panic)
        .unwrap();
    assert_eq!(panic.message, "async step panicked on 3");
    assert!(panic
        .location
        .as_deref()
        .unwrap()
        .contains("async_actions.rs"));
    assert_eq!(panic.failed_action, "async_step");
    // Walk 0 passed and ran every step in order.
    assert_eq!(report.states[0].steps, ["sync 1", "async 1", "sync 1"]);
    assert_eq!(report.walks[0].outcome, Outcome::Pass);
}

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[action(options = 0..500u32)]
async fn wait_for_io(_n: u32, _log: &mut Log) {
    let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    PEAK.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(10)).await;
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
}

#[test]
fn many_walks_are_in_flight_per_thread() {
    let report = combtest! {
        order: [wait_for_io],
        state: Log::default(),
        threads: 1,
        concurrency: 50,
    };
    assert_eq!(report.walk_count, 500);
    let peak = PEAK.load(Ordering::SeqCst);
    assert!(
        (2..=50).contains(&peak),
        "walks waiting on a timer overlap on one thread, up to the concurrency: {peak}"
    );
}

#[derive(Debug, Default)]
struct Server {
    config: u32,
    walks_in_flight: AtomicUsize,
    serial_runs: Vec<u32>,
}

#[action(options = [1u32, 2, 3, 4])]
async fn request(n: u32, log: &mut Log, server: &Server) {
    server.walks_in_flight.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2)).await;
    log.steps.push(format!("{}:{n}", server.config));
    server.walks_in_flight.fetch_sub(1, Ordering::SeqCst);
}

#[serial_action(options = [10u32, 20])]
async fn reconfigure(config: u32, server: &mut Server) -> Result<(), String> {
    let in_flight = server.walks_in_flight.load(Ordering::SeqCst);
    if in_flight != 0 {
        return Err(format!(
            "{in_flight} walks in flight during a serial action"
        ));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    server.config = config;
    server.serial_runs.push(config);
    Ok(())
}

#[test]
fn async_serial_actions_keep_their_barrier() {
    let report = combtest! {
        order: [request, reconfigure, request],
        state: Log::default(),
        shared: Server::default(),
        threads: 2,
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 32);
    assert_eq!(report.segment_count, 64);
    // Serial wheels are the most significant: walks 0-15 ran reconfigure(10).
    assert_eq!(report.states[0].steps, ["0:1", "10:1"]);
    assert_eq!(report.states[31].steps, ["0:4", "20:4"]);
}

#[action(options = [5u64, 10_000])]
async fn slow(millis: u64, _log: &mut Log) {
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

#[test]
fn an_async_walk_past_its_timeout_fails_and_the_run_goes_on() {
    let report = combtest! {
        order: [sync_step, slow],
        state: Log::default(),
        timeout: Duration::from_millis(200),
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (6, 3));
    let failure = &report.failures[0];
    assert_eq!(failure.kind, FailureKind::Timeout);
    assert_eq!(failure.message, "timed out after 200ms in slow(10000)");
    assert_eq!(failure.failed_action, "slow");
}

fn timer_walks() -> Report<Log> {
    combtest! {
        order: [sync_step, async_step, sync_step],
        state: Log::default(),
        walks: "0-2,12-14",
    }
}

#[tokio::test(flavor = "current_thread")]
async fn runs_inside_a_current_thread_tokio_test() {
    let report = timer_walks();
    assert_eq!(report.walk_count, 6);
    // The test's own runtime still works after the run.
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_inside_a_multi_thread_tokio_test() {
    let report = timer_walks();
    assert_eq!(report.walk_count, 6);
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[action(options = 0..6u32)]
async fn probe(n: u32, log: &mut Log) -> Result<(), String> {
    tokio::task::yield_now().await;
    log.steps.push(n.to_string());
    if log.steps == ["4", "1"] {
        return Err("probe 4 then 1 is refused".into());
    }
    Ok(())
}

#[tokio::test]
#[ignore = "fails on purpose; run by the replay of an async failure reproduces it"]
async fn async_probe_pairs() {
    combtest! { order: [probe, probe], state: Log::default() };
}

fn run_probe_pairs(walks: Option<&str>) -> String {
    common::run_failing_test("async_probe_pairs", walks)
}

#[test]
fn the_replay_of_an_async_failure_reproduces_it() {
    let output = run_probe_pairs(None);
    assert!(output.contains("1 of 36 walks failed"), "{output}");
    let replay = common::first_replay(&output);
    // 4 * 6 + 1
    assert!(replay.starts_with("COMBTEST_WALKS=25@"), "{replay}");
    assert!(
        replay.ends_with("-- async_probe_pairs --exact --include-ignored"),
        "{replay}"
    );
    let walks = common::walks_of(replay);
    let replayed = run_probe_pairs(Some(walks));
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    assert!(replayed.contains("walk 25 "), "{replayed}");
    assert!(replayed.contains("probe(4) -> probe(1)"), "{replayed}");
}
