use combtest::prelude::*;
use std::rc::Rc;

// The future holds an `Rc` across an await: it cannot move between worker threads.
#[action(options = [1, 2])]
async fn later(value: u8, state: &mut Vec<u8>) {
    let held = Rc::new(value);
    std::future::ready(()).await;
    state.push(*held);
}

fn main() {}
