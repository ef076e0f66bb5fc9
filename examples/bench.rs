//! Throughput and memory of combtest against the nested loops a user would otherwise write,
//! in the same run. Run it with `cargo run --release --example bench`.
//!
//! - T1: 6 actions x 10 options = 10^6 walks on a small state; each action does a few
//!   arithmetic operations. Baselines: the nested loops on one thread, and the same loops
//!   split across as many threads as combtest uses.
//! - T2: T1 with a serial action of 2 options after the third action (2 x 10^6 walks, held
//!   in memory across the barrier); compared per walk with T1.
//! - Memory: peak resident set size of child processes running one workload each (Linux).

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

/// A T1-shaped order of regular actions with the given option counts, plus a serial action
/// of `serial` options after the third action when asked.
fn order(option_counts: &[u64], serial: Option<u64>) -> Vec<Action<Small>> {
    let mut order: Vec<Action<Small>> = option_counts
        .iter()
        .map(|&n| {
            Action::new(
                "op",
                move || 0..n,
                |p: u64, s: &mut Small, _: &()| step(p, black_box(s)),
            )
        })
        .collect();
    if let Some(n) = serial {
        let switch = Action::serial(
            "switch",
            move || 0..n,
            |p: u64, _: &mut (), _: States<'_, Small>| {
                black_box(p);
            },
        );
        order.insert(3, switch);
    }
    order
}

fn builder_run(option_counts: &[u64], serial: Option<u64>, threads: usize) -> u64 {
    Combtest::new(Small::default())
        .order(order(option_counts, serial))
        .threads(threads)
        .run()
        .expect("a valid order")
        .walk_count
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
    best_of(rounds, WALKS, &mut f)
}

fn best_of(rounds: usize, walks: u64, f: &mut impl FnMut() -> u64) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            assert_eq!(f(), walks);
            start.elapsed()
        })
        .min()
        .unwrap()
}

/// Peak resident set size of this process, in KiB (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The memory workloads, each run alone in a child process: (name, option counts, serial).
const MEMORY: &[(&str, &[u64], Option<u64>)] = &[
    ("baseline: 1 walk", &[1], None),
    (
        "10^5 walks, no serial action",
        &[10, 10, 10, 10, 10, 1],
        None,
    ),
    (
        "10^7 walks, no serial action",
        &[10, 10, 10, 10, 10, 10, 10],
        None,
    ),
    (
        "2 x 10^5 walks held (T2 shape)",
        &[10, 10, 10, 10, 10, 1],
        Some(2),
    ),
    (
        "2 x 10^6 walks held (T2)",
        &[10, 10, 10, 10, 10, 10],
        Some(2),
    ),
];

/// Runs memory workload `index` and prints its peak RSS: the child side of `memory_table`.
fn memory_child(index: usize) {
    let (_, counts, serial) = MEMORY[index];
    builder_run(counts, serial, 2);
    println!("{}", peak_rss_kib().unwrap_or(0));
}

fn memory_table() {
    let exe = std::env::current_exe().expect("the bench's own path");
    let peaks: Vec<Option<u64>> = (0..MEMORY.len())
        .map(|i| {
            let out = std::process::Command::new(&exe)
                .args(["--memory-child", &i.to_string()])
                .output()
                .ok()?;
            String::from_utf8(out.stdout)
                .ok()?
                .trim()
                .parse()
                .ok()
                .filter(|&kib| kib > 0)
        })
        .collect();
    println!("\nMemory: peak RSS of a child process running one workload\n");
    for ((name, _, _), peak) in MEMORY.iter().zip(&peaks) {
        match peak {
            Some(kib) => println!("{name:<34} {:>10.1} MiB", *kib as f64 / 1024.0),
            None => println!("{name:<34} {:>14}", "n/a"),
        }
    }
    if let [Some(_), Some(small), Some(large), Some(held_small), Some(held_large)] = peaks[..] {
        println!(
            "\nno serial action: 10^7 walks peak at {:.2}x the peak of 10^5 walks",
            large as f64 / small as f64
        );
        let per_walk = (held_large - held_small) as f64 * 1024.0 / 1_800_000.0;
        println!(
            "held across a barrier: {per_walk:.1} bytes per walk (state of {} bytes), from the \
             difference between 2 x 10^6 and 2 x 10^5 held walks",
            std::mem::size_of::<Small>()
        );
    }
}

fn rate(d: Duration) -> f64 {
    WALKS as f64 / d.as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, index] = &args[..] {
        if flag == "--memory-child" {
            return memory_child(index.parse().expect("a workload index"));
        }
    }
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

    let t1_counts = [10; 6];
    let t1 = best_of(rounds, WALKS, &mut || {
        builder_run(&t1_counts, None, threads)
    });
    let t2 = best_of(rounds, 2 * WALKS, &mut || {
        builder_run(&t1_counts, Some(2), threads)
    });
    let t1_walk = t1.as_secs_f64() / WALKS as f64;
    let t2_walk = t2.as_secs_f64() / (2 * WALKS) as f64;
    println!(
        "\nT2: T1 with a serial action of 2 options after the third action ({} walks)\n",
        2 * WALKS
    );
    println!("{:<34} {:>12} {:>16}", "", "time", "ns per walk");
    let row = |name: String, d: Duration, per_walk: f64| {
        println!("{name:<34} {d:>12.2?} {:>16.1}", per_walk * 1e9);
    };
    row(format!("T1 (builder), {threads} threads"), t1, t1_walk);
    row(format!("T2, {threads} threads"), t2, t2_walk);
    println!("\nT2 per-walk cost = {:.2}x T1's", t2_walk / t1_walk);

    memory_table();
}
