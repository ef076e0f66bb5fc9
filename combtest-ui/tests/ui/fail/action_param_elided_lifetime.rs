use combtest::prelude::*;

#[action(options = ["alice", "bob"])]
fn log_in(name: &str, users: &mut Vec<String>) {
    users.push(name.to_string());
}

fn main() {}
