//! What the benchmark examples share: T1's state and step, and their timing, in which
//! compared workloads run in turn, round after round, and each keeps its best time.

use std::time::{Duration, Instant};

/// A workload of a comparison: the walks it must report, and the code that runs it.
pub type Workload<'a> = (u64, Box<dyn FnMut() -> u64 + 'a>);

/// Best of `rounds` timings of each workload, run in turn in every round: whatever else the
/// machine does at a given moment slows the compared workloads alike.
pub fn interleaved(rounds: usize, workloads: &mut [Workload<'_>]) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; workloads.len()];
    for _ in 0..rounds {
        for ((walks, f), best) in workloads.iter_mut().zip(&mut best) {
            let start = Instant::now();
            assert_eq!(f(), *walks);
            *best = (*best).min(start.elapsed());
        }
    }
    best
}

/// T1's per-walk state: three words, like a small system's state.
#[derive(Clone, Debug, Default)]
pub struct Small {
    pub a: u64,
    pub b: u64,
    pub c: u64,
}

/// T1's action body: a few arithmetic operations on the state.
#[inline(always)]
pub fn step(p: u64, s: &mut Small) {
    s.a = s.a.wrapping_mul(31).wrapping_add(p);
    s.b ^= s.a >> 3;
    s.c = s.c.wrapping_add(p);
}

/// T2's walks by hand: all 2 x 10^6 states held at once, as a serial action in the middle of
/// each walk requires, each made from `initial` and stepped through the first three actions,
/// then each branch's stepped through the last three after the branch's serial action;
/// `step` is an action (it keeps the state in memory, as an action through `&mut` does).
/// `held` keeps its memory from one call to the next, as combtest keeps its held states'
/// memory; a fresh `Vec` makes the call pay for its memory, as a loop of its own would.
#[inline(never)]
// `examples/paths.rs` shares this file and has no serial action.
#[allow(dead_code)]
pub fn held_loops<S: Clone>(held: &mut Vec<S>, initial: S, step: impl Fn(u64, &mut S)) -> u64 {
    held.clear();
    for _branch in 0..2u64 {
        for p0 in 0..10u64 {
            for p1 in 0..10 {
                for p2 in 0..10 {
                    for _rest in 0..1000 {
                        let mut s = initial.clone();
                        for p in [p0, p1, p2] {
                            step(p, &mut s);
                        }
                        held.push(s);
                    }
                }
            }
        }
    }
    for (branch, states) in held.chunks_mut(1_000_000).enumerate() {
        std::hint::black_box(branch);
        let mut states = states.iter_mut();
        for _first in 0..1000 {
            for p3 in 0..10u64 {
                for p4 in 0..10 {
                    for p5 in 0..10 {
                        let s = states.next().expect("one state per walk");
                        for p in [p3, p4, p5] {
                            step(p, s);
                        }
                    }
                }
            }
        }
    }
    held.len() as u64
}
