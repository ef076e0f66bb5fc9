use combtest::prelude::*;

#[action(options = 0..)]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {
    let _ = combtest! { order: [count], state: Vec::new() };
}
