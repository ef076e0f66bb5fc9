//! Reading a trace back for a replay: a last record cut short (a killed run) skips only that
//! record, with a warning; a file that is no trace (a FIFO, a device, a huge line) is a clear
//! error, never a hang or an exhausted memory; a walk recorded twice is named.

use std::path::{Path, PathBuf};

use combtest::prelude::*;
use combtest::TRACE_FILE;

mod common;
use common::{scratch, Captured};

#[action(options = 0..10)]
fn pick(n: u32, picked: &mut Vec<u32>) -> Result<(), String> {
    picked.push(n);
    if n == 3 || n == 9 {
        return Err(format!("{n} is cursed"));
    }
    Ok(())
}

/// Runs the order once with a log directory: walks 3 and 9 fail. Returns its trace.
fn recorded_trace(name: &str) -> PathBuf {
    let dir = scratch(name);
    let report = Combtest::new(Vec::new())
        .then(pick::action())
        .threads(1)
        .log_dir(&dir)
        .run()
        .unwrap();
    assert_eq!(report.error_count, 2);
    report
        .files
        .into_iter()
        .find(|file| file.ends_with(TRACE_FILE))
        .unwrap()
}

fn replay(trace: &Path) -> Result<Report<Vec<u32>>, combtest::Error> {
    Combtest::new(Vec::new())
        .then(pick::action())
        .replay(trace.to_str().unwrap())
        .run()
}

#[test]
fn a_cut_last_record_is_skipped_with_a_warning() {
    let trace = recorded_trace("trace-cut");
    let text = std::fs::read_to_string(&trace).unwrap();
    // Threads(1): walks are recorded in id order, walk 9 last. Cut it mid-record.
    let last = text.trim_end().rsplit('\n').next().unwrap();
    assert!(last.contains("\"walk_id\":9"), "{last}");
    std::fs::write(&trace, &text[..text.len() - last.len() / 2]).unwrap();

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || replay(&trace)).unwrap();
    // Walk 3 is replayed; walk 9's record is cut.
    assert_eq!(report.walk_count, 1);
    assert_eq!(report.failures[0].walk_id, 3);
    let log = captured.text();
    assert!(
        log.contains("WARN")
            && log.contains("the trace's last record is cut short")
            // The header, walks 0-2 as one run of passing walks, walk 3, walks 4-8, walk 9.
            && log.contains("line=5"),
        "{log}"
    );
}

#[test]
fn a_malformed_line_before_the_end_is_still_an_error() {
    let trace = recorded_trace("trace-malformed");
    let text = std::fs::read_to_string(&trace).unwrap();
    std::fs::write(&trace, format!("{{\"walk_id\":\n{text}")).unwrap();
    let error = replay(&trace).unwrap_err().to_string();
    assert!(
        error.contains("line 1 is not a combtest walk record"),
        "{error}"
    );
}

#[test]
fn a_walk_recorded_twice_is_named() {
    let trace = recorded_trace("trace-twice");
    let text = std::fs::read_to_string(&trace).unwrap();
    // Line 3 is walk 3's full record; line 2 the run of passing walks 0-2.
    let third = text.lines().nth(2).unwrap();
    assert!(third.contains("\"walk_id\":3"), "{third}");
    std::fs::write(&trace, format!("{text}{third}\n")).unwrap();
    let error = replay(&trace).unwrap_err().to_string();
    assert!(
        error.contains("walk 3 is recorded twice, on lines 3 and 6"),
        "{error}"
    );
    // A run of passing walks that covers a recorded walk again.
    std::fs::write(
        &trace,
        format!("{text}{{\"passed\":[1,2],\"duration_ns\":0}}\n"),
    )
    .unwrap();
    let error = replay(&trace).unwrap_err().to_string();
    assert!(
        error.contains("walk 1 is recorded twice, on lines 2 and 6"),
        "{error}"
    );
    // Two runs' traces joined.
    std::fs::write(&trace, format!("{text}{text}")).unwrap();
    let error = replay(&trace).unwrap_err().to_string();
    assert!(error.contains("line 6 opens another trace"), "{error}");
}

#[test]
fn files_that_are_no_trace_are_refused_without_blocking() {
    let dir = scratch("trace-not-regular");
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("trace.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for not_a_file in [fifo.as_path(), Path::new("/dev/zero"), dir.as_path()] {
        let error = replay(not_a_file).unwrap_err().to_string();
        assert!(error.contains("not a regular file"), "{error}");
    }
}

#[test]
fn a_line_longer_than_a_record_can_be_is_refused() {
    let dir = scratch("trace-long-line");
    std::fs::create_dir_all(&dir).unwrap();
    let huge = dir.join("trace.jsonl");
    std::fs::write(&huge, vec![b'x'; (17 << 20) as usize]).unwrap();
    let error = replay(&huge).unwrap_err().to_string();
    assert!(
        error.contains("line 1 is longer than 16 MiB: not a combtest walk record"),
        "{error}"
    );
}

#[test]
fn a_run_folder_replays_its_trace() {
    let trace = recorded_trace("trace-folder");
    let folder = trace.parent().unwrap();
    let report = replay(folder).unwrap();
    let failed: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(failed, [3, 9]);
    assert_eq!(report.walk_count, 2);
    // A folder that is no run's folder says what a replay takes.
    let empty = scratch("trace-empty-folder");
    std::fs::create_dir_all(&empty).unwrap();
    let error = replay(&empty).unwrap_err().to_string();
    assert!(
        error.contains("a folder without a readable trace.jsonl")
            && error.contains("a replay takes a run's folder or its trace.jsonl"),
        "{error}"
    );
}
