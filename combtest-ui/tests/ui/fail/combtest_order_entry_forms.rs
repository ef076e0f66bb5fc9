use combtest::prelude::*;

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {
    // A call, a repeat and a literal, each reported on itself; the unknown key after them is
    // still reported.
    let _ = combtest! { order: [count()], state: Vec::new(), theads: 2 };
    let _ = combtest! { order: [count; 3], state: Vec::new() };
    let _ = combtest! { order: [count, 7], state: Vec::new() };
    // An attribute on an entry would be dropped with the rest of the entry's tokens.
    let _ = combtest! { order: [count, #[cfg(any())] count], state: Vec::new() };
}
