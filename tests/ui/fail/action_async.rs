use combtest::prelude::*;

#[action(options = [1, 2])]
async fn later(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {}
