//! The subscriber combtest installs when the test installs none: `RUST_LOG` picks what it
//! prints, `COMBTEST_VERBOSE` still sets the level of combtest's own events, a malformed
//! `RUST_LOG` is named, and the captured output holds no ANSI escapes (the root package
//! turns on `tracing-subscriber`'s `ansi` feature, as a user's default-featured
//! `tracing-subscriber` would).
//!
//! The fallback subscriber reads the environment of the process, so each case runs the
//! `child` test of this binary in a child process with its own environment.

use std::process::Command;

use combtest::prelude::*;

#[action(options = [1, 2])]
fn chatty(n: u32, seen: &mut Vec<u32>) {
    tracing::warn!(n, "warning from an action");
    tracing::debug!(n, "debug from an action");
    tracing::trace!(n, "trace from an action");
    seen.push(n);
}

#[test]
#[ignore = "run as a child process, with its own RUST_LOG, by the tests below"]
fn child() {
    let report = combtest! { order: [chatty], state: Vec::new(), threads: 1 };
    assert_eq!(report.walk_count, 2);
}

/// Runs `child` with these variables (and no inherited `RUST_LOG`, `COMBTEST_*` or
/// `NO_COLOR`), and returns what it printed.
fn run_child(vars: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name == "RUST_LOG" || name == "NO_COLOR" || name.starts_with("COMBTEST_") {
            command.env_remove(&*name);
        }
    }
    command.envs(vars.iter().copied());
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child run failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the child test did not run:\n{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escapes in the output:\n{text}"
    );
    text
}

#[test]
fn without_rust_log_it_prints_warnings() {
    let text = run_child(&[]);
    assert_eq!(text.matches("warning from an action").count(), 2, "{text}");
    assert!(!text.contains("debug from an action"), "{text}");
    assert!(!text.contains("combtest run starts"), "{text}");
}

#[test]
fn rust_log_picks_targets_and_levels() {
    let text = run_child(&[("RUST_LOG", "fallback_subscriber=debug")]);
    assert_eq!(text.matches("debug from an action").count(), 2, "{text}");
    assert!(!text.contains("trace from an action"), "{text}");
    // RUST_LOG names no level for combtest, so its own events stay off.
    assert!(!text.contains("combtest run starts"), "{text}");

    let text = run_child(&[("RUST_LOG", "fallback_subscriber=warn,combtest=info")]);
    assert!(text.contains("combtest run starts"), "{text}");
    assert!(!text.contains("debug from an action"), "{text}");
}

#[test]
fn combtest_verbose_sets_combtests_own_level_beside_rust_log() {
    let text = run_child(&[
        ("RUST_LOG", "fallback_subscriber=trace,combtest=off"),
        ("COMBTEST_VERBOSE", "1"),
    ]);
    assert!(text.contains("combtest run starts"), "{text}");
    assert_eq!(text.matches("trace from an action").count(), 2, "{text}");
}

#[test]
fn a_malformed_rust_log_is_named_and_the_default_applies() {
    let text = run_child(&[("RUST_LOG", "fallback_subscriber=loud")]);
    assert!(
        text.contains("RUST_LOG=\"fallback_subscriber=loud\" is malformed"),
        "{text}"
    );
    assert_eq!(text.matches("warning from an action").count(), 2, "{text}");
    assert!(!text.contains("debug from an action"), "{text}");
}
