use combtest::prelude::*;

/// A connection cannot be cloned: a `state:` value is cloned per walk.
#[derive(Debug)]
struct Connection;

#[action(options = [1])]
fn touch(_n: u32, _db: &mut Connection) {}

fn main() {
    let _ = combtest! { order: [touch], state: Connection };
}
