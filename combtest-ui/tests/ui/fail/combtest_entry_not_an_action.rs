use combtest::prelude::*;

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn plain(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

struct Config;

fn main() {
    let _ = combtest! { order: [count, plain], state: Vec::new() };
    let _ = combtest! { order: [count, Config], state: Vec::new() };
}
