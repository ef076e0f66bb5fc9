use combtest::prelude::*;

#[action(options = [1, "two", 3])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {}
