use combtest::prelude::*;

#[derive(Clone, Debug)]
struct Point {
    x: i32,
}

#[action(options = [Point { x: 1 }])]
fn place(point: Point, state: &mut Vec<i32>) {
    state.push(point.x);
}

fn main() {}
