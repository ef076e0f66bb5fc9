//! Panics inside walks are recorded, not printed once per walk; panics elsewhere still reach
//! the panic hook that was installed before combtest's. One test in this binary, so that the
//! counting hook below is in place before combtest first runs.

use std::sync::atomic::{AtomicUsize, Ordering};

use combtest::prelude::*;

static HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);

#[action(options = 0..10_000)]
fn always_panics(n: u32, _state: &mut ()) {
    panic!("walk {n} panics");
}

#[action(options = [0u8, 1])]
fn bit(n: u8, bits: &mut Vec<u8>) {
    bits.push(n);
    if bits.len() == 4 && n == 0 {
        panic!("the last bit is zero");
    }
}

#[test]
fn ten_thousand_panicking_walks_stay_quiet_and_other_panics_still_print() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let report =
        combtest! { order: [always_panics], state: (), threads: 2, panic_on_failure: false };
    assert_eq!(report.error_count, 10_000);
    assert_eq!(report.failures[9_999].message, "walk 9999 panics");
    assert_eq!(
        HOOK_CALLS.load(Ordering::SeqCst),
        0,
        "walk panics must not be printed"
    );

    // A single extra walk run to confirm a suspected cause is no replay: it stays quiet too.
    let confirmed = combtest! {
        order: [bit, bit, bit, bit],
        state: Vec::new(),
        covering: 2,
        confirm_causes: 1,
        panic_on_failure: false,
    };
    assert_eq!(confirmed.evidence.confirmation_walks, 1);
    assert_eq!(confirmed.groups[0].causes[0].to_string(), "bit#4(0)");
    let confirmation = confirmed.groups[0].causes[0].confirmation.as_ref().unwrap();
    assert!(confirmation.confirmed(), "{confirmed}");
    assert_eq!(
        HOOK_CALLS.load(Ordering::SeqCst),
        0,
        "the extra walk's panic was printed"
    );

    // A panic outside any walk still goes through the hook installed before combtest's.
    let outside = std::panic::catch_unwind(|| panic!("outside any walk"));
    assert!(outside.is_err());
    assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 1);

    // So does the panic with which a failing combtest fails its test.
    let failing = std::panic::catch_unwind(|| {
        combtest! { order: [always_panics], state: (), walks: "0-2" };
    });
    assert!(failing.is_err());
    assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 2);
}
