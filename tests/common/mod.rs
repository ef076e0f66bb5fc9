//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own share of these

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A writer for `tracing_subscriber::fmt` that keeps what it is given, to read back.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A fresh, empty directory under Cargo's scratch space for integration tests.
pub fn scratch(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the ignored test `test` of this test binary as a process of its own, as `cargo test`
/// would, with `COMBTEST_WALKS` set to `walks` (or unset), and returns its stdout and stderr.
/// The test is one that fails on purpose: its run must fail.
pub fn run_failing_test(test: &str, walks: Option<&str>) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--include-ignored", "--test-threads=1"])
        .env_remove("COMBTEST_WALKS")
        // As `cargo test` runs it, also when this test runs under nextest (which would make
        // the printed replay command a nextest one).
        .env_remove("NEXTEST");
    if let Some(walks) = walks {
        command.env("COMBTEST_WALKS", walks);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "{test} must fail");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// The first replay command a failure report printed (its `replay:` line).
pub fn first_replay(output: &str) -> &str {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix("replay:  "))
        .unwrap_or_else(|| panic!("no replay command in:\n{output}"))
}

/// The `COMBTEST_WALKS` value a printed replay command sets.
pub fn walks_of(replay: &str) -> &str {
    replay
        .split_whitespace()
        .next()
        .and_then(|first| first.strip_prefix("COMBTEST_WALKS="))
        .unwrap_or_else(|| panic!("not a replay command: {replay}"))
}

/// Runs a printed command as a user runs it: through the shell, in this package's folder,
/// without the variables that select walks, write traces or shard a run (the command sets
/// those it needs) and without nextest's marker, with `variables` set. Returns whether it
/// succeeded, and its stdout and stderr.
pub fn run_as_printed(command: &str, variables: &[(&str, &str)]) -> (bool, String) {
    let mut shell = std::process::Command::new("sh");
    shell
        .args(["-c", command])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "COMBTEST_WALKS",
        "COMBTEST_REPLAY",
        "COMBTEST_BLOCK",
        "COMBTEST_LOG_DIR",
        "COMBTEST_SHARD",
        "NEXTEST",
    ] {
        shell.env_remove(name);
    }
    let output = shell.envs(variables.iter().copied()).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Asserts that a replay's output shows one test run and failing (`cargo test`'s summary of
/// the binary that held it), in exactly one walk, walk `walk`.
pub fn assert_replayed_walk(output: &str, walk: u64) {
    assert!(
        output.contains("test result: FAILED. 0 passed; 1 failed"),
        "{output}"
    );
    assert!(output.contains("1 of 1 walks failed"), "{output}");
    assert!(output.contains(&format!("walk {walk} ")), "{output}");
}
