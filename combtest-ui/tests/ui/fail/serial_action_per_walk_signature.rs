use combtest::prelude::*;

#[serial_action(options = [1, 2])]
fn per_walk(value: u8, state: &mut Vec<u8>, shared: &()) {
    let _ = (value, state, shared);
}

fn main() {}
