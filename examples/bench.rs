//! Throughput of combtest against the nested loops a user would otherwise write, in the same
//! run. Run it with `cargo run --release --example bench`.
//!
//! T1: 6 actions x 10 options = 10^6 walks on a small state; each action does a few
//! arithmetic operations. Baselines: the nested loops on one thread, and the same loops split
//! across as many threads as combtest uses.

use std::hint::black_box;
use std::time::{Duration, Instant};

use combtest::prelude::*;

#[derive(Clone, Debug, Default)]
struct Small {
    a: u64,
    b: u64,
    c: u64,
}

#[inline(always)]
fn step(p: u64, s: &mut Small) {
    s.a = s.a.wrapping_mul(31).wrapping_add(p);
    s.b ^= s.a >> 3;
    s.c = s.c.wrapping_add(p);
}

#[action(options = 0..10)]
fn op(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

const WALKS: u64 = 1_000_000;

/// The hand-written baseline: every combination, each on a fresh state, walks
/// `first_digit_range` of the outermost loop only (to split the work across threads).
fn nested_loops(outer: std::ops::Range<u64>) -> u64 {
    let initial = Small::default();
    let mut walks = 0;
    for p0 in outer {
        for p1 in 0..10 {
            for p2 in 0..10 {
                for p3 in 0..10 {
                    for p4 in 0..10 {
                        for p5 in 0..10 {
                            let mut s = initial.clone();
                            for p in [p0, p1, p2, p3, p4, p5] {
                                step(p, black_box(&mut s));
                            }
                            black_box(s);
                            walks += 1;
                        }
                    }
                }
            }
        }
    }
    walks
}

fn threaded_loops(threads: u64) -> u64 {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || nested_loops(t * 10 / threads..(t + 1) * 10 / threads)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn combtest_run(threads: usize) -> u64 {
    let report = combtest! {
        order: [op, op, op, op, op, op],
        state: Small::default(),
        threads: threads,
    };
    report.walk_count
}

/// Best of `rounds` timings: the least disturbed by whatever else the machine runs.
fn best(rounds: usize, mut f: impl FnMut() -> u64) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            assert_eq!(f(), WALKS);
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn rate(d: Duration) -> f64 {
    WALKS as f64 / d.as_secs_f64()
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rounds = 5;
    println!("T1: 6 actions x 10 options = {WALKS} walks, best of {rounds} runs, {threads} threads available\n");
    let loop_1 = best(rounds, || nested_loops(0..10));
    let loop_n = best(rounds, || threaded_loops(threads as u64));
    let comb_1 = best(rounds, || combtest_run(1));
    let comb_n = best(rounds, || combtest_run(threads));
    println!("{:<34} {:>12} {:>16} {:>8}", "", "time", "walks/s", "ratio");
    let row = |name: &str, d: Duration, base: Duration| {
        println!(
            "{name:<34} {:>12.2?} {:>16.0} {:>8.2}",
            d,
            rate(d),
            base.as_secs_f64() / d.as_secs_f64()
        );
    };
    row("nested loops, 1 thread", loop_1, loop_1);
    row("combtest, 1 thread", comb_1, loop_1);
    row(&format!("nested loops, {threads} threads"), loop_n, loop_n);
    row(&format!("combtest, {threads} threads"), comb_n, loop_n);
    println!(
        "\nratio = baseline time / time at the same thread count (1.00 = as fast as the loops)"
    );
}
