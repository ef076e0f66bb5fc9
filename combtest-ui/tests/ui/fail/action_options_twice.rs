use combtest::prelude::*;

#[action(options = [1], options = [2])]
fn twice(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {}
