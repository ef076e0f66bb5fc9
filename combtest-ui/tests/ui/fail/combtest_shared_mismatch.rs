use combtest::prelude::*;

struct Server;
struct Database;

#[action(options = [1, 2])]
fn call(value: u8, state: &mut Vec<u8>, _server: &Server) {
    state.push(value);
}

#[action(options = [3])]
fn query(value: u8, state: &mut Vec<u8>, _db: &Database) {
    state.push(value);
}

fn main() {
    let _ = combtest! { order: [call, query], state: Vec::new(), shared: Server };
}
