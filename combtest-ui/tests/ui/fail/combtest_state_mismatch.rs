use combtest::prelude::*;

#[action(options = [1, 2])]
fn on_numbers(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

#[action(options = ["a"])]
fn on_text(value: &'static str, state: &mut String) {
    state.push_str(value);
}

fn main() {
    let _ = combtest! { order: [on_numbers, on_text], state: Vec::new() };
}
