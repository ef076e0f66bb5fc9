//! Several combtest tests running at once in one test binary share the machine's cores: a
//! run that was not told its threads leases what the others left (one at least), instead of
//! every run spawning a worker per core.
//!
//! One test in its own binary, so that no other test's run shares the budget meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use combtest::prelude::*;

static STARTED: AtomicBool = AtomicBool::new(false);
static RELEASED: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// Walk 0 holds its run open until the test releases it.
#[action(options = 0..4u32)]
fn hold(n: u32, _: &mut u32) {
    if n == 0 {
        STARTED.store(true, Ordering::SeqCst);
        let (released, wake) = &RELEASED;
        let guard = released.lock().unwrap();
        let (guard, waited) = wake
            .wait_timeout_while(guard, Duration::from_secs(60), |released| !*released)
            .unwrap();
        assert!(
            *guard && !waited.timed_out(),
            "the test never released the run"
        );
    }
}

#[action(options = 0..100u32)]
fn quick(n: u32, sum: &mut u32) {
    *sum += n;
}

#[test]
fn runs_at_once_share_the_cores() {
    std::env::remove_var("COMBTEST_THREADS");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let holding = std::thread::spawn(|| combtest! { order: [hold], state: 0u32 });
    while !STARTED.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // The first run leased every core: this one gets what is left, one at least.
    let squeezed = combtest! { order: [quick], state: 0u32 };
    // Threads set by the user are used as set.
    let told = combtest! { order: [quick], state: 0u32, threads: 3 };
    let (released, wake) = &RELEASED;
    *released.lock().unwrap() = true;
    wake.notify_all();
    let holding = holding.join().unwrap();
    assert_eq!(holding.threads, cores);
    assert_eq!(squeezed.threads, 1);
    assert_eq!(squeezed.walk_count, 100);
    assert_eq!(told.threads, 3);
    // Once the runs are over, a run has the whole machine again.
    let alone = combtest! { order: [quick], state: 0u32 };
    assert_eq!(alone.threads, cores);
}
