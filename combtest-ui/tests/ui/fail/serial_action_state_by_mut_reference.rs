use combtest::prelude::*;

#[action(options = [1, 2])]
fn push(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

// Meant to reach the walks' states, but a serial action's `&mut` argument is the shared
// context.
#[serial_action(options = [true])]
fn clear_all(clear: bool, states: &mut Vec<u8>) {
    if clear {
        states.clear();
    }
}

fn main() {
    let _ = combtest! { order: [push, clear_all, push], state: Vec::new() };
}
