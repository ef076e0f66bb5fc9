//! A `tracing` subscriber installed by the test sees the events of every walk, from every
//! worker thread.

use combtest::prelude::*;

mod common;
use common::Captured;

/// Each worker's first walk waits here until the other worker has started one too, so both
/// workers run walks however the machine schedules them.
static BOTH_WORKERS: std::sync::Barrier = std::sync::Barrier::new(2);

thread_local! {
    static MET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[action(options = 0..25)]
fn work(n: u64, total: &mut u64) {
    if !MET.with(|met| met.replace(true)) {
        BOTH_WORKERS.wait();
    }
    tracing::info!(n, "user event");
    *total += n;
}

#[test]
fn a_test_subscriber_sees_events_from_every_worker() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_thread_names(true)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || {
        combtest! { order: [work, work], state: 0, threads: 2 }
    });
    assert_eq!(report.walk_count, 625);
    let text = captured.text();
    let user_events: Vec<&str> = text.lines().filter(|l| l.contains("user event")).collect();
    assert_eq!(user_events.len(), 1250, "two actions per walk");
    // Events of both workers reach the test's (thread-local) subscriber, inside walk spans.
    for worker in ["combtest-worker-0", "combtest-worker-1"] {
        assert!(
            user_events.iter().any(|l| l.contains(worker)),
            "no event from {worker}"
        );
    }
    assert!(
        user_events.iter().all(|l| l.contains("walk{id=")),
        "events carry the walk span"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("action=\"work\""))
            .count(),
        1250
    );
    assert!(text.contains("combtest run starts"));
    assert!(text.contains("combtest run ends"));
}
