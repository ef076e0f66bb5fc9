//! One T1 workload, run once, for counting its instructions: wall-clock figures on a shared
//! machine vary by tens of percent between runs, instruction counts do not.
//!
//! ```sh
//! cargo build --release --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/instructions loop
//! ```
//!
//! A run count after the workload's name runs it that many times in the process (for `perf`).
//!
//! Workloads (10^6 walks each, one thread): `loop`, the fair hand-written loop of
//! `examples/bench.rs`; `combtest`, T1's `combtest!`; `loop-if` and `filter`, the same with a
//! filter reading the first param (an `if` in the loop), as in `examples/paths.rs`;
//! `filter-mixed`, a filter that rejects every other walk (its answers change from walk to
//! walk), and `filter-block`, one that rejects a tenth of the walks in one block;
//! `loop-gather` and `gather`, the same gathering each walk's final state (a push into a
//! `Vec` in the loop, `gather_states: flat`), as in `examples/paths.rs`; `gather-full`, the
//! same at the full level (a summary per walk), and `gather-2`, flat on two threads; `t2`,
//! T2's `combtest!` (2 x 10^6 walks held across a serial action), and `t2-loop`, a
//! hand-written loop that holds T2's states the same way (every state made and run through
//! the first three actions, then each branch's states through the last three). Subtract
//! `setup` (a `combtest!` run of one walk of six actions) from a `combtest!` workload's total for its walks'
//! own instructions; divide by 10^6 for instructions per walk. `builder` runs T1's order
//! built at run time (the general path), `builder-setup` its one-walk counterpart;
//! `builder-failing` and `builder-explained` the same with about 1% of the walks failing
//! (10,001 of them, as in `examples/paths.rs`), failures not explained and explained: their
//! difference from `builder`, over 10,001, is a failure's own cost.

use std::hint::black_box;

#[path = "support/shared.rs"]
#[allow(dead_code)]
mod shared;
use shared::{held_loops, step, Small};

use combtest::prelude::*;

#[action(options = 0..10)]
fn op(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

#[serial_action(options = [0, 1])]
fn switch(p: u64) {
    black_box(p);
}

#[action(options = [0])]
fn once(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

/// `op`, failing about 1% of the T1 walks (those `examples/paths.rs` fails).
#[action(options = 0..10)]
fn op_checked(p: u64, s: &mut Small) -> Result<(), String> {
    step(p, black_box(s));
    if s.a % 100 == 7 {
        return Err(format!("a = {}", s.a));
    }
    Ok(())
}

/// The builder's run of T1's order (the general path), its last action `last`.
fn builder(last: combtest::Action<Small>, explain: bool) -> u64 {
    let report = Combtest::new(Small::default())
        .order((0..5).map(|_| op::action()))
        .then(last)
        .threads(1)
        .explain_failures(explain)
        .run_checked(false);
    black_box(report.failures.len());
    report.walk_count
}

/// The fair loop of `examples/bench.rs`, with the filter of `examples/paths.rs` if `filtered`.
#[inline(always)]
fn nested_loops(filtered: bool) -> u64 {
    let initial = Small::default();
    let mut walks = 0;
    for p0 in 0..10u64 {
        for p1 in 0..10 {
            for p2 in 0..10 {
                for p3 in 0..10 {
                    for p4 in 0..10 {
                        for p5 in 0..10 {
                            if filtered && black_box(p0) == 99 {
                                continue;
                            }
                            let mut s = initial.clone();
                            for p in [p0, p1, p2, p3, p4, p5] {
                                step(p, black_box(&mut s));
                            }
                            walks += 1;
                        }
                    }
                }
            }
        }
    }
    walks
}

/// T1's `combtest!` gathering each walk's final state (`gather_states: flat`).
fn gather_flat(threads: usize) -> u64 {
    let report = combtest! {
        order: [op, op, op, op, op, op],
        state: Small::default(),
        threads: threads,
        gather_states: flat,
    };
    assert_eq!(report.states.len() as u64, report.walk_count);
    report.walk_count
}

fn main() {
    let workload = std::env::args().nth(1).unwrap_or_default();
    // Runs of the workload in this process (default 1): later runs reuse memory the first
    // faulted in, as the rounds of `examples/bench.rs` do.
    let runs: usize = std::env::args()
        .nth(2)
        .map_or(1, |n| n.parse().expect("a run count"));
    let mut held = Vec::new();
    let mut walks = 0;
    for _ in 0..runs {
        walks = run(&workload, &mut held);
    }
    println!("{workload}: {walks} walks, {runs} run(s)");
}

fn run(workload: &str, held: &mut Vec<Small>) -> u64 {
    match workload {
        "loop" => nested_loops(false),
        "loop-if" => nested_loops(true),
        "combtest" => {
            combtest! { order: [op, op, op, op, op, op], state: Small::default(), threads: 1 }
                .walk_count
        }
        "filter" => {
            combtest! {
                order: [op, op, op, op, op, op],
                state: Small::default(),
                threads: 1,
                filter: |walk: &Walk| walk.param::<u64>(0) != Some(&99),
            }
            .walk_count
        }
        "filter-mixed" => {
            combtest! {
                order: [op, op, op, op, op, op],
                state: Small::default(),
                threads: 1,
                filter: |walk: &Walk| walk.param::<u64>(5).is_some_and(|p| p % 2 == 0),
            }
            .walk_count
        }
        "filter-block" => {
            combtest! {
                order: [op, op, op, op, op, op],
                state: Small::default(),
                threads: 1,
                filter: |walk: &Walk| walk.param::<u64>(0) != Some(&3),
            }
            .walk_count
        }
        "loop-gather" => {
            let mut states = Vec::new();
            let initial = Small::default();
            for p0 in 0..10u64 {
                for p1 in 0..10 {
                    for p2 in 0..10 {
                        for p3 in 0..10 {
                            for p4 in 0..10 {
                                for p5 in 0..10 {
                                    let mut s = initial.clone();
                                    for p in [p0, p1, p2, p3, p4, p5] {
                                        step(p, black_box(&mut s));
                                    }
                                    states.push(s);
                                }
                            }
                        }
                    }
                }
            }
            black_box(&states);
            states.len() as u64
        }
        "gather" => gather_flat(1),
        "gather-full" => {
            let report = combtest! {
                order: [op, op, op, op, op, op],
                state: Small::default(),
                threads: 1,
                gather_states: full,
            };
            assert_eq!(report.walks.len() as u64, report.walk_count);
            report.walk_count
        }
        "gather-2" => gather_flat(2),
        "builder" => builder(op::action(), false),
        "builder-failing" => builder(op_checked::action(), false),
        "builder-explained" => builder(op_checked::action(), true),
        "builder-setup" => {
            Combtest::new(Small::default())
                .order((0..6).map(|_| once::action()))
                .threads(1)
                .run_checked(false)
                .walk_count
        }
        "t2" => {
            combtest! {
                order: [op, op, op, switch, op, op, op],
                state: Small::default(),
                threads: 1,
            }
            .walk_count
        }
        "t2-loop" => held_loops(held, Small::default(), |p, s| step(p, black_box(s))),
        "setup" => {
            combtest! {
                order: [once, once, once, once, once, once],
                state: Small::default(),
                threads: 1,
            }
            .walk_count
        }
        other => {
            eprintln!(
                "unknown workload {other:?}: loop, combtest, loop-if, filter, filter-mixed, \
                 filter-block, loop-gather, \
                 gather, gather-full, gather-2, t2, t2-loop, setup, builder, builder-failing, \
                 builder-explained or builder-setup"
            );
            std::process::exit(2);
        }
    }
}
