//! The main example: a small form with a text box, a checkbox and an application-wide theme,
//! tested in every combination. Run it with `cargo run --example gui`.
//!
//! A form rejects checking the box while it holds numeric text. The walks that do so fail,
//! and the report shows each with a replay command; walks that make no sense (checking an
//! empty form) are cancelled instead. Switching the theme is global to the application, so it
//! is a serial action: it runs once per theme, while no walk runs, and records itself into the
//! forms of its branch.

use combtest::prelude::*;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Options)]
enum Theme {
    Light,
    Dark,
}

/// The application: one for the whole run, shared by every walk.
#[derive(Debug, Default)]
struct App {
    theme: Option<Theme>,
    theme_switches: u32,
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
fn type_text(text: &'static str, form: &mut Form, app: &App) {
    assert_eq!(
        form.theme, app.theme,
        "every form follows the application's theme"
    );
    form.text = text.to_string();
}

#[action]
fn set_checkbox(on: bool, form: &mut Form, _app: &App) -> Result<(), String> {
    if on && form.text.is_empty() {
        cancel!("an empty form has nothing to confirm");
    }
    form.check(on)
}

#[serial_action]
fn switch_theme(theme: Theme, app: &mut App, forms: States<'_, Form>) {
    app.theme = Some(theme);
    app.theme_switches += 1;
    for form in forms {
        form.theme = Some(theme);
    }
}

fn main() {
    let report = combtest! {
        order: [type_text, set_checkbox, switch_theme, type_text],
        state: Form::default(),
        shared: App::default(),
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
