use combtest::prelude::*;

#[action(options = [1, 2])]
fn add(state: &mut Vec<u32>, n: u32) {
    state.push(n);
}

fn main() {
    // The placeholder companion keeps this use quiet: the one error is on the function.
    let _ = combtest! { order: [add], state: Vec::new() };
}
