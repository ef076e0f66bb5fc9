use combtest::prelude::*;

#[action]
fn needs_options(value: u32, state: &mut Vec<u32>) {
    state.push(value);
}

fn main() {}
