use std::cell::Cell;

use combtest::prelude::*;

#[action(options = [Cell::new(1)])]
fn cell(value: Cell<u8>, state: &mut Vec<u8>) {
    state.push(value.get());
}

fn main() {}
