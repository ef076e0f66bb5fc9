use combtest::prelude::*;

#[action(options = [1, 2])]
fn push(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {
    let _ = combtest! { order: [push], state: Vec::new(), gather_states: yes };
}
