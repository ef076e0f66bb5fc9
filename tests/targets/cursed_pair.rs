//! The failing tests of tests/targets/replay_in_an_example.rs and replay_in_a_bench.rs, one
//! with `combtest!` and one with the builder API: a pair of choices fails one walk of 400
//! (left 13, right 7, walk 267).

use combtest::prelude::*;

#[action(options = 0..20)]
fn left(n: u32, pair: &mut (u32, u32)) {
    pair.0 = n;
}

#[action(options = 0..20)]
fn right(n: u32, pair: &mut (u32, u32)) -> Result<(), String> {
    pair.1 = n;
    if *pair == (13, 7) {
        return Err(format!("the pair {pair:?} is cursed"));
    }
    Ok(())
}

#[test]
#[ignore = "fails on purpose; run by tests/replay-layouts.rs"]
fn cursed_pair() {
    combtest! { order: [left, right], state: (0, 0) };
}

#[test]
#[ignore = "fails on purpose; run by tests/replay-layouts.rs"]
fn builder_cursed_pair() {
    Combtest::new((0, 0))
        .then(left::action())
        .then(right::action())
        .run_or_panic();
}
