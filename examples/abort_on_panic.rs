//! A combtest in a program built with `panic = "abort"`: nothing unwinds, so the first
//! panicking walk ends the process. Before it does, combtest prints the walk's id, its panic
//! and its replay command. Run with `cargo run --profile panic-abort --example abort_on_panic`
//! (add `-- cancel` to see what `cancel!` says under the abort strategy, or `-- cancel-value`
//! for the cancel that works: returning `Err(Cancel)`).

use combtest::prelude::*;

#[action(options = 0..10)]
fn step(n: u32, seen: &mut Vec<u32>) {
    seen.push(n);
    if n == 7 {
        panic!("seven is not allowed");
    }
}

#[action(options = 0..10)]
fn maybe_cancel(n: u32, seen: &mut Vec<u32>) {
    seen.push(n);
    if n == 4 {
        cancel!("four is out of scope");
    }
}

#[action(options = 0..10)]
fn cancel_by_value(n: u32, seen: &mut Vec<u32>) -> Result<(), Cancel> {
    seen.push(n);
    if n == 4 {
        return Err(Cancel::new("four is out of scope"));
    }
    Ok(())
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("cancel") => {
            combtest! { order: [maybe_cancel], state: Vec::new(), threads: 1 };
        }
        Some("cancel-value") => {
            let report = combtest! { order: [cancel_by_value], state: Vec::new(), threads: 1 };
            println!(
                "{} walks, {} cancelled",
                report.walk_count, report.cancel_count
            );
        }
        _ => {
            combtest! { order: [step], state: Vec::new(), threads: 2 };
        }
    }
}
