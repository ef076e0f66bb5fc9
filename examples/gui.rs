//! The main example: a small form with a text box, a checkbox and a theme, tested in every
//! combination. Run it with `cargo run --example gui`.
//!
//! A form rejects checking the box while it holds numeric text. The walks that do so fail,
//! and the report shows each with a replay command; walks that make no sense (checking an
//! empty form) are cancelled instead.

use combtest::prelude::*;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Options)]
enum Theme {
    Light,
    Dark,
}

#[derive(Clone, Debug, Default)]
struct Form {
    text: String,
    checked: bool,
    theme: Option<Theme>,
}

impl Form {
    fn check(&mut self, on: bool) -> Result<(), String> {
        if on && self.text.chars().all(|c| c.is_ascii_digit()) && !self.text.is_empty() {
            return Err(format!(
                "the box cannot be checked while the text is {:?}",
                self.text
            ));
        }
        self.checked = on;
        Ok(())
    }
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
    form.check(on)
}

#[action]
fn switch_theme(theme: Theme, form: &mut Form) {
    form.theme = Some(theme);
}

fn main() {
    let report = combtest! {
        order: [type_text, set_checkbox, switch_theme, type_text],
        state: Form::default(),
        panic_on_failure: false,
    };
    println!("{report}");
    println!();
    println!(
        "{} walks: {} passed, {} failed (expected: every walk that checks the box on \"1234\"), {} cancelled",
        report.walk_count,
        report.walk_count - report.error_count - report.cancel_count,
        report.error_count,
        report.cancel_count
    );
}
