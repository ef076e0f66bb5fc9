use combtest::prelude::*;

#[action(options = [1, 2])]
fn returns_a_number(value: u8, state: &mut Vec<u8>) -> usize {
    state.push(value);
    state.len()
}

fn main() {}
