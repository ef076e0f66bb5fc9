use combtest::prelude::*;

#[action(options = [1, 2])]
fn too_many(value: u8, state: &mut Vec<u8>, shared: &(), extra: u8) {
    let _ = (value, state, shared, extra);
}

fn main() {}
