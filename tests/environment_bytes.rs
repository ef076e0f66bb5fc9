//! `COMBTEST_*` variables as the system gives them: a value or a name that is not UTF-8 is an
//! error naming the variable (never a variable taken as unset, never a name that skips the
//! unknown-name check), while a path is taken as it is: not UTF-8, or with spaces, it is used
//! unchanged. The environment is process-wide, so every test of this binary holds one lock.
#![cfg(unix)]

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use combtest::prelude::*;

static ENV: Mutex<()> = Mutex::new(());

#[action(options = 0..3)]
fn step(n: u32, v: &mut Vec<u32>) {
    v.push(n);
}

fn run(log_dir: Option<&Path>) -> Result<Report<Vec<u32>>, combtest::Error> {
    let builder = Combtest::new(Vec::new()).then(step::action());
    match log_dir {
        Some(dir) => builder.log_dir(dir).run(),
        None => builder.run(),
    }
}

/// Runs `f` with the variable set, then removes it.
fn with_var<T>(name: &OsStr, value: &OsStr, f: impl FnOnce() -> T) -> T {
    let _lock = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    std::env::set_var(name, value);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::env::remove_var(name);
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn bytes(raw: &[u8]) -> OsString {
    OsString::from_vec(raw.to_vec())
}

#[test]
fn a_value_that_is_not_utf8_is_an_error_naming_the_variable() {
    for name in [
        "COMBTEST_THREADS",
        "COMBTEST_WALKS",
        "COMBTEST_VERBOSE",
        "COMBTEST_SHARD",
    ] {
        let error = with_var(OsStr::new(name), &bytes(b"2\xff"), || run(None)).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("{name}=\"2\u{fffd}\" is invalid"))
                && text.contains("not valid UTF-8"),
            "{text}"
        );
    }
}

#[test]
fn a_name_that_is_not_utf8_is_checked_too() {
    let error = with_var(&bytes(b"COMBTEST_WALK\xff"), OsStr::new("3"), || run(None)).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("COMBTEST_WALK\u{fffd}=\"3\" is invalid")
            && text.contains("combtest knows no such variable")
            && text.contains("not valid UTF-8"),
        "{text}"
    );
}

/// The folder `run` wrote its files into, inside `dir`.
fn only_run_folder(dir: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

#[test]
fn a_log_dir_that_is_not_utf8_is_used_as_given() {
    let scratch = common::scratch("env-bytes-log");
    let mut dir = scratch.clone().into_os_string().into_vec();
    dir.extend_from_slice(b"/logs-\xff");
    let dir = PathBuf::from(OsString::from_vec(dir));
    let report = with_var(OsStr::new("COMBTEST_LOG_DIR"), dir.as_os_str(), || {
        run(None)
    })
    .unwrap();
    assert_eq!(report.walk_count, 3);
    let folder = only_run_folder(&dir);
    assert!(folder.join("trace.jsonl").is_file());
    assert!(report.files.iter().all(|file| file.starts_with(&dir)));
}

#[test]
fn a_log_dir_with_spaces_is_not_trimmed() {
    let scratch = common::scratch("env-bytes-spaces");
    let dir = scratch.join("logs ");
    let report = with_var(OsStr::new("COMBTEST_LOG_DIR"), dir.as_os_str(), || {
        run(None)
    })
    .unwrap();
    assert_eq!(report.walk_count, 3);
    only_run_folder(&dir);
    assert!(!scratch.join("logs").exists(), "the path was changed");
}

#[test]
fn a_replay_path_that_is_not_utf8_is_used_as_given() {
    let scratch = common::scratch("env-bytes-replay");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut trace = scratch.into_os_string().into_vec();
    trace.extend_from_slice(b"/trace-\xff.jsonl");
    let mut value = trace.clone();
    value.extend_from_slice(b"@all");
    let error = with_var(OsStr::new("COMBTEST_REPLAY"), &bytes(&value), || run(None)).unwrap_err();
    let text = error.to_string();
    // The path reached the file system, unchanged: only the file is missing.
    assert!(
        text.contains("trace-\u{fffd}.jsonl: cannot open the trace file"),
        "{text}"
    );
    assert!(!text.contains("not valid UTF-8"), "{text}");
}
