use combtest::prelude::*;

#[action(options = vec!["one", "two"])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {}
