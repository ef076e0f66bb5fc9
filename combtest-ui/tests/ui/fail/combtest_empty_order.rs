use combtest::prelude::*;

fn main() {
    let _ = combtest! { order: [], state: 0u8 };
}
