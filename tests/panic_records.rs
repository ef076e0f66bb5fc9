//! A failed walk carries its own panic's message and location, or says the location is
//! unknown: never an older panic's, even when walk code caught a panic itself before, or
//! re-raises a panic from another thread with `resume_unwind` (as thread pools do).

use combtest::prelude::*;

#[action(options = 0..3)]
fn step(n: u32, seen: &mut Vec<u32>) {
    seen.push(n);
    match n {
        // Walk code that handles a panic of its own: not a failure.
        0 => {
            let handled = std::panic::catch_unwind(|| panic!("handled inside walk {}", 0));
            assert!(handled.is_err());
        }
        // A panic on another thread, re-raised here as a pool re-raises it.
        2 => {
            let payload = std::thread::spawn(|| panic!("panicked on a pool thread"))
                .join()
                .unwrap_err();
            std::panic::resume_unwind(payload);
        }
        _ => {}
    }
}

#[test]
fn a_re_raised_panic_is_not_reported_with_an_older_message() {
    let report = combtest! {
        order: [step],
        state: Vec::new(),
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!(report.error_count, 1, "{report}");
    let failure = &report.failures[0];
    assert_eq!(failure.walk_id, 2);
    assert_eq!(failure.message, "panicked on a pool thread");
    assert_eq!(failure.location, None);
    let text = report.to_string();
    assert!(
        text.contains("at:      unknown (the panic was re-raised without its location"),
        "{text}"
    );
    assert!(!text.contains("handled inside walk"), "{text}");
}

#[action(options = 0..2)]
fn fails_in_place(n: u32, seen: &mut Vec<u32>) {
    seen.push(n);
    if n == 1 {
        panic!("walk {n} fails here");
    }
}

#[test]
fn a_panic_keeps_its_own_location() {
    let report = combtest! {
        order: [fails_in_place],
        state: Vec::new(),
        threads: 1,
        panic_on_failure: false,
    };
    let failure = &report.failures[0];
    assert_eq!(failure.message, "walk 1 fails here");
    let location = failure.location.as_deref().unwrap();
    assert!(
        location.starts_with("tests/panic_records.rs:52:"),
        "{location}"
    );
}
