//! Under `panic = "abort"` a panicking walk ends the process: combtest prints the walk's id,
//! its panic and its replay command first, and `cancel!` says clearly that it cannot work
//! (an action returning `Err(Cancel)` cancels without unwinding). Checked by building
//! `examples/abort_on_panic.rs` with the workspace's `panic-abort` profile and running it.

use std::process::{Command, Output};

mod common;

fn run_example(args: &[&str]) -> (Output, String) {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let mut command = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    command
        .args(["run", "--quiet", "--manifest-path", manifest])
        .args(["-p", env!("CARGO_PKG_NAME"), "--profile", "panic-abort"])
        .args(["--example", "abort_on_panic", "--"])
        .args(args)
        .env_remove("COMBTEST_WALKS");
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output, text)
}

#[test]
fn a_panicking_walk_says_which_walk_before_the_process_aborts() {
    let (output, text) = run_example(&[]);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("combtest: walk 7 panicked, and panic = \"abort\" ends the process here"),
        "{text}"
    );
    assert!(text.contains("message: seven is not allowed"), "{text}");
    assert!(
        text.contains("at:      examples/abort_on_panic.rs:13:"),
        "{text}"
    );
    let replay = common::first_replay(&text);
    // The command builds the example as it was built: with the `panic-abort` profile.
    assert!(
        replay.starts_with("COMBTEST_WALKS=7@")
            && replay.ends_with(
                "cargo run --profile panic-abort -p combtest-suite --example abort_on_panic"
            ),
        "{replay}"
    );
    // Run as printed, it runs that walk alone: it panics again, in walk 7, and aborts.
    let (succeeded, text) = common::run_as_printed(replay, &[]);
    assert!(!succeeded, "{text}");
    assert!(text.contains("walk 7 panicked"), "{text}");
    assert_eq!(text.matches("panicked, and panic").count(), 1, "{text}");
}

#[test]
fn cancel_says_it_cannot_unwind_and_a_returned_cancel_works() {
    let (output, text) = run_example(&["cancel"]);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("combtest: cancel!(\"four is out of scope\") in walk 4 cannot stop the walk")
            && text.contains("panic = \"abort\"")
            && text.contains("Err(Cancel::new(..))"),
        "{text}"
    );
    let (output, text) = run_example(&["cancel-value"]);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("10 walks, 1 cancelled"), "{text}");
}
