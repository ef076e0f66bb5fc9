use combtest::prelude::*;

#[action(options = [1])]
struct NotAFunction;

fn main() {}
