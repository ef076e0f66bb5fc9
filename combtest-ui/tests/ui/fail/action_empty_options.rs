use combtest::prelude::*;

#[action(options = [])]
fn nothing(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {}
