//! When the run's files cannot be written — the disk is full, the folder is gone, a state's
//! `Debug` panics while `states.json` is written — the run still returns its report with every
//! failure, and states the error beside it.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use combtest::prelude::*;

/// A state whose `Debug` panics once an action set it to 3 — but not while a failure is
/// described (the failing walk's state is 1).
#[derive(Clone, Default)]
struct Touchy(u32);

impl std::fmt::Debug for Touchy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == 3 {
            panic!("Touchy(3) cannot be shown");
        }
        write!(f, "Touchy({})", self.0)
    }
}

#[action(options = 0..5)]
fn set(n: u32, state: &mut Touchy) -> Result<(), String> {
    state.0 = n;
    if n == 1 {
        return Err("one is wrong".into());
    }
    Ok(())
}

#[test]
fn a_panicking_debug_while_writing_states_keeps_the_report() {
    let dir = common::scratch("output-faults-states");
    let report = combtest! {
        order: [set],
        state: Touchy(0),
        gather_states: flat,
        log_dir: &dir,
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (5, 1), "{report}");
    assert_eq!(report.failures[0].walk_id, 1);
    assert_eq!(report.output_errors.len(), 1, "{:?}", report.output_errors);
    let error = &report.output_errors[0];
    assert!(
        error.contains("states.json was not written")
            && error.contains("the Debug of walk 3's state panicked: Touchy(3) cannot be shown"),
        "{error}"
    );
    assert!(!report.is_success());
    let text = report.to_string();
    assert!(text.contains("the run's files are incomplete: "), "{text}");
    assert!(text.contains("one is wrong"), "{text}");
    // The summary was still written, and names the error.
    let summary = report
        .files
        .iter()
        .find(|file| file.ends_with("summary.json"))
        .expect("the summary is written");
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(summary.contains("Touchy(3) cannot be shown"), "{summary}");
}

static REMOVED: AtomicBool = AtomicBool::new(false);
static LOG_DIR: std::sync::Mutex<Option<std::path::PathBuf>> = std::sync::Mutex::new(None);

/// Removes the run's folder while the run goes on, as a full or failing disk would lose it.
#[action(options = 0..5)]
fn lose_the_folder(n: u32, state: &mut Vec<u32>) -> Result<(), String> {
    state.push(n);
    if !REMOVED.swap(true, Ordering::SeqCst) {
        let dir = LOG_DIR.lock().unwrap().clone().unwrap();
        for run in std::fs::read_dir(dir).unwrap() {
            std::fs::remove_dir_all(run.unwrap().path()).unwrap();
        }
    }
    if n == 4 {
        return Err("four is wrong".into());
    }
    Ok(())
}

#[test]
fn a_run_folder_that_cannot_be_written_keeps_the_report() {
    let dir = common::scratch("output-faults-gone");
    *LOG_DIR.lock().unwrap() = Some(dir.clone());
    let report = combtest! {
        order: [lose_the_folder],
        state: Vec::new(),
        log_dir: &dir,
        threads: 1,
        panic_on_failure: false,
    };
    assert_eq!((report.walk_count, report.error_count), (5, 1), "{report}");
    assert_eq!(report.failures[0].message, "four is wrong");
    assert!(
        report
            .output_errors
            .iter()
            .any(|error| error.contains("summary.json")),
        "{:?}",
        report.output_errors
    );
    assert!(
        !report
            .files
            .iter()
            .any(|file| file.ends_with("summary.json")),
        "{:?}",
        report.files
    );
    let text = report.to_string();
    assert!(
        text.contains("the run's files are incomplete: cannot write"),
        "{text}"
    );
}
