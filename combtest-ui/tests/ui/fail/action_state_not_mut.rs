use combtest::prelude::*;

#[action(options = [1, 2])]
fn shared_state(value: u8, state: &Vec<u8>) {
    let _ = (value, state);
}

fn main() {}
