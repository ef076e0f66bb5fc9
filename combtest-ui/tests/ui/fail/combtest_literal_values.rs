use combtest::prelude::*;

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {
    let _ = combtest! { order: [count], state: Vec::new(), gather_states: true };
    let _ = combtest! { order: [count], state: Vec::new(), gather_states: "flat" };
    let _ = combtest! { order: [count], state: Vec::new(), threads: 0 };
    let level = 3u8;
    let _ = combtest! { order: [count], state: Vec::new(), gather_states: { level } };
}
