use combtest::prelude::*;

#[action(options = [1, 2])]
fn writes_shared(value: u8, state: &mut Vec<u8>, shared: &mut Vec<u8>) {
    state.push(value);
    shared.push(value);
}

fn main() {}
