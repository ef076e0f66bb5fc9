use combtest::prelude::*;

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {
    // The filter is reported once, on itself, and the block's other mistakes still are.
    let _ = combtest! {
        order: [count],
        state: Vec::new(),
        filter: |walk: Walk| walk.id() > 0,
        threads: "2",
    };
    let _ = combtest! { order: [count], state: Vec::new(), filter: 5 };
}
