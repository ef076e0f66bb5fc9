use combtest::prelude::*;

fn main() {
    let _ = combtest! { state: 0u8 };
}
