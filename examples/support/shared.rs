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
