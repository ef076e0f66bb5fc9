use combtest::prelude::*;

#[action(options = [1, 2])]
fn no_state(value: u8) {
    let _ = value;
}

fn main() {
    // The placeholder companion keeps this use quiet: the one error is on the function.
    let _ = combtest! { order: [no_state], state: 0u8 };
}
