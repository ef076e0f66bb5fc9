//! The README's first test, as a user keeps it once the bug it finds is fixed: it must pass
//! when run alone, under the replay command of one of its walks, as well as in full. And as
//! the README gives it, with the bug: its failure report is the one the README shows.

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

/// The README's first test as the README gives it, with the bug its failure report shows:
/// the same state and `type_text`, and `set_checkbox` before the fix.
mod as_in_the_readme {
    use super::{type_text, Form};
    use combtest::prelude::*;

    #[action]
    fn set_checkbox(on: bool, form: &mut Form) -> Result<(), String> {
        if on && form.text.is_empty() {
            cancel!("an empty form has nothing to confirm");
        }
        if on && form.text == "1234" {
            return Err("checkbox must refuse numeric text".into());
        }
        form.checked = on;
        Ok(())
    }

    /// The README's sample failure report, its lines as printed.
    fn readme_report() -> Vec<&'static str> {
        let readme = include_str!("../README.md");
        let intro = readme
            .find("The failure report")
            .expect("the README shows a failure report");
        let start = intro + readme[intro..].find("```text\n").unwrap() + "```text\n".len();
        let length = readme[start..].find("```").unwrap();
        readme[start..start + length].lines().collect()
    }

    #[test]
    fn these_actions_are_the_readme_s() {
        let this_file = include_str!("readme_first_test.rs");
        let kinds = ["#[action", "fn ", "if ", "return ", "cancel!", "form."];
        let lines: Vec<&str> = super::readme_first_test()
            .lines()
            .map(|line| line.split(" //").next().unwrap().trim())
            .filter(|line| kinds.iter().any(|kind| line.starts_with(kind)))
            .filter(|line| !line.starts_with("fn form_combinations"))
            .collect();
        assert!(lines.len() >= 8, "{lines:?}");
        for line in lines {
            assert!(
                this_file.contains(line),
                "the README's first test has `{line}`, which this module does not"
            );
        }
    }

    #[test]
    fn form_combinations() {
        let report = combtest! {
            order: [type_text, set_checkbox, type_text],
            state: Form::default(),
            threads: 2,
            panic_on_failure: false,
        };
        // What differs from the README's run: how long it took, and the package, test
        // target and test path.
        let text = report
            .to_string()
            .replace(
                "-p combtest-suite --test readme_first_test -- as_in_the_readme::",
                "-p app --test form -- ",
            )
            .replace("combtest in as_in_the_readme::", "combtest in ");
        let printed: Vec<&str> = text.lines().collect();
        let readme = readme_report();
        assert_eq!(printed.len(), readme.len(), "{text}");
        // Under nextest the replay line is a `cargo nextest run` command, as it should be:
        // there only the walk it names is compared.
        let nextest = std::env::var_os("NEXTEST").is_some();
        for (line, (printed, shown)) in printed.iter().zip(&readme).enumerate() {
            let (printed, shown) = if line == 0 {
                (without_elapsed(printed), without_elapsed(shown))
            } else if nextest && shown.trim_start().starts_with("replay:") {
                (before_cargo(printed), before_cargo(shown))
            } else {
                (printed.to_string(), shown.to_string())
            };
            assert_eq!(printed, shown, "line {} of the report:\n{text}", line + 1);
        }
    }

    /// A replay line up to its cargo command: the walk it names.
    fn before_cargo(line: &str) -> String {
        line.split(" cargo ").next().unwrap_or(line).to_string()
    }

    /// The summary line without the run's duration (`..., in 453.62µs (...`).
    fn without_elapsed(line: &str) -> String {
        let (head, tail) = line.split_once(", in ").expect("the summary says how long");
        let (_, rest) = tail
            .split_once(" (")
            .expect("the summary ends with the space");
        format!("{head}, in _ ({rest}")
    }
}
