//! A test without a subscriber that runs combtest first must not blind the subscriber of
//! another test to combtest's events (tracing caches each callsite's interest process-wide).
//! One test in this binary, so that combtest's callsites are fresh when it starts.

use std::sync::mpsc;

use combtest::prelude::*;

mod common;
use common::Captured;

#[action(options = [1, 2])]
fn add(n: u32, total: &mut u32) {
    *total += n;
}

#[test]
fn a_run_without_a_subscriber_does_not_silence_another_threads_subscriber() {
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
    // This thread has no subscriber (and asks for no verbosity, so combtest installs none)
    // and reaches combtest's callsites first.
    let report = combtest! { order: [add], state: 0, threads: 1 };
    assert_eq!(report.walk_count, 2);
    go.send(()).unwrap();
    assert_eq!(observer.join().unwrap().walk_count, 2);
    let text = captured.text();
    assert!(text.contains("combtest run starts"), "{text:?}");
    assert!(text.contains("combtest run ends"), "{text:?}");
}
