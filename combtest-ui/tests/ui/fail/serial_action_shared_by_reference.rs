use combtest::prelude::*;

#[serial_action(options = [1, 2])]
fn reads_only(value: u8, shared: &Vec<u8>) {
    let _ = (value, shared);
}

fn main() {}
