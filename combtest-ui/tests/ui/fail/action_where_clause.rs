use combtest::prelude::*;

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>)
where
    u8: Copy,
{
    state.push(value);
}

fn main() {}
