use combtest::prelude::*;

#[action(options = [1, 2])]
fn verify(state: &mut Vec<u32>) {
    assert!(state.len() < 10);
}

fn main() {}
