//! The README's first test, as a user keeps it once the bug it finds is fixed: it must pass
//! when run alone, under the replay command of one of its walks, as well as in full.

use std::process::Command;

use combtest::prelude::*;

#[derive(Clone, Debug, Default)]
struct Form {
    text: String,
    checked: bool,
}

#[action(options = ["", "hello", "1234"])]
fn type_text(text: &'static str, form: &mut Form) {
    form.text = text.to_string();
}

#[action]
fn set_checkbox(on: bool, form: &mut Form) -> Result<(), String> {
    if on && form.text.is_empty() {
        cancel!("an empty form has nothing to confirm");
    }
    // Fixed: numeric text is now confirmed like any other.
    form.checked = on;
    Ok(())
}

#[test]
fn form_combinations() {
    let report = combtest! {
        order: [type_text, set_checkbox, type_text],
        state: Form::default(),
    };
    assert_eq!(report.total_walks, 18);
}

/// The first Rust block of the README.
fn readme_first_test() -> &'static str {
    let readme = include_str!("../README.md");
    let start = readme.find("```rust\n").expect("a Rust block") + "```rust\n".len();
    let length = readme[start..].find("```").expect("the block ends");
    &readme[start..start + length]
}

#[test]
fn the_readme_asserts_what_this_test_asserts() {
    let readme = readme_first_test();
    let assertions: Vec<&str> = readme
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("assert"))
        .collect();
    assert!(!assertions.is_empty(), "{readme}");
    let this_file = include_str!("readme_first_test.rs");
    for assertion in assertions {
        assert!(
            this_file.contains(assertion),
            "the README asserts `{assertion}`, which this test does not check under a replay"
        );
    }
}

#[test]
fn the_readme_test_passes_under_a_replay_of_one_walk() {
    // Walk 15 is the one the README's failure report prints a replay command for.
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["form_combinations", "--exact"])
        .env("COMBTEST_WALKS", "15")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("running 1 test"), "{text}");
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("test result: ok. 1 passed; 0 failed"),
        "{text}"
    );
}
