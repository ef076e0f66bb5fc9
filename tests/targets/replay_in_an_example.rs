//! An example whose tests hold a failing `combtest!` block (`cargo test --example
//! replay-in-an-example`): its replay command must name the example, as tests/replay-layouts.rs
//! checks.

#[path = "cursed_pair.rs"]
mod cursed_pair;

fn main() {}
