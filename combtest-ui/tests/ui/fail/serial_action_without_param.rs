use combtest::prelude::*;

#[serial_action]
fn reset(state: &mut Vec<u8>) {
    state.clear();
}

#[serial_action]
fn restart(server: &mut u32, states: States<'_, Vec<u8>>) {
    let _ = (server, states);
}

fn main() {}
