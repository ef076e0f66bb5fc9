use combtest::prelude::*;

trait Store {
    fn put(&mut self, value: u8);
}

#[action(options = [1, 2])]
fn returns_impl(value: u8, state: &mut Vec<u8>) -> impl std::fmt::Debug {
    state.push(value);
}

#[action(options = [1, 2])]
fn state_impl(value: u8, state: &mut impl Store) {
    state.put(value);
}

fn main() {}
