use combtest::prelude::*;

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

fn main() {
    let _ = combtest! { order: [count], state: Vec::new(), filter: || true };
    let _ = combtest! {
        order: [count],
        state: Vec::new(),
        filter: |walk: &Walk, id: u64| walk.id() == id,
    };
}
