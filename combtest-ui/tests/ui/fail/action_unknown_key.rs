use combtest::prelude::*;

#[action(option = [1, 2])]
fn typo(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {}
