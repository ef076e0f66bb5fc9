//! A test without a subscriber that runs combtest first must not blind the subscriber of
//! another test to combtest's events (tracing caches each callsite's interest process-wide).
//! One test in this binary, so that combtest's callsites are fresh when it starts.

use std::io::Write;
use std::sync::{mpsc, Arc, Mutex};

use combtest::prelude::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("combtest run starts"), "{text:?}");
    assert!(text.contains("combtest run ends"), "{text:?}");
}
