//! A test without a subscriber must not blind the subscriber of another test to the events
//! of its actions. tracing caches each callsite's interest for the whole process, computed
//! from the first thread that reaches it while a single dispatcher is registered; combtest
//! keeps a second one registered so that the interest is computed over every subscriber.
//! One test in this binary, so that the callsite below is fresh when it starts.

use std::sync::mpsc;

use combtest::prelude::*;

mod common;
use common::Captured;

/// The user's own code, with an event, called from an action and from elsewhere.
fn user_code() {
    tracing::info!("user event");
}

#[action(options = [1, 2])]
fn add(n: u32, total: &mut u32) {
    user_code();
    *total += n;
}

#[test]
fn a_thread_without_a_subscriber_does_not_silence_another_threads_subscriber() {
    // This thread has no subscriber. It runs combtest once (which registers combtest's
    // dispatchers), then reaches the user's callsite first, while the other thread holds
    // the only other subscriber.
    let report = combtest! { order: [add], state: 0, threads: 1 };
    assert_eq!(report.walk_count, 2);

    let captured = Captured::default();
    let (installed, wait_installed) = mpsc::channel();
    let (go, wait_go) = mpsc::channel::<()>();
    let writer = captured.clone();
    let observer = std::thread::spawn(move || {
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        installed.send(()).unwrap();
        wait_go.recv().unwrap();
        combtest! { order: [add], state: 0, verbose: 1, threads: 1 }
    });
    wait_installed.recv().unwrap();
    user_code();
    go.send(()).unwrap();
    assert_eq!(observer.join().unwrap().walk_count, 2);
    let text = captured.text();
    assert_eq!(text.matches("user event").count(), 2, "{text:?}");
    assert!(text.contains("combtest run ends"), "{text:?}");
}
