//! combtest against the loops a user would otherwise write, in one run, with ratios.
//! Run it with `cargo run --release --example bench`; `BENCHMARKS.md` records the results.
//!
//! - T1: 6 actions x 10 options = 10^6 walks on a small state, each action a few arithmetic
//!   operations. Baselines: hand-written nested loops on 1 thread, and the same loops split
//!   across as many threads as combtest uses.
//! - T2: T1 with a serial action of 2 options after the third action (2 x 10^6 walks, held
//!   in memory across the barrier), per walk against T1, and against hand-written loops that
//!   hold the states the same way (1 thread).
//! - T3: actions of about a microsecond of CPU work each: combtest on 1 thread against all
//!   threads (the parallel speed-up).
//! - T4: peak resident memory of child processes running 10^5 and 10^7 walks without serial
//!   actions, and T2's memory per walk held across a barrier (Linux).
//! - Held 1 KiB states: T2's shape over a 1 KiB state (2 x 10^6 walks, 2 GiB held), per walk,
//!   with the page faults and the share of the time the kernel took (Linux), in a run of a
//!   fresh process and in the runs after it; and the same for hand-written loops holding the
//!   same states in a `Vec`, what any way of holding them pays.
//!
//! Every figure is the best of several rounds, the one least disturbed by whatever else the
//! machine runs; ratios compare figures taken in this same run.

use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/shared.rs"]
mod shared;
use shared::{held_loops, interleaved, step, Small};

/// An action of T2 for [`held_loops`]: `step` on the state, kept in memory.
fn t2_step(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

use combtest::prelude::*;

#[action(options = 0..10)]
fn op(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

#[serial_action(options = [0, 1])]
fn switch(p: u64) {
    black_box(p);
}

const T1_WALKS: u64 = 1_000_000;
const ROUNDS: usize = 9;

/// The hand-written baseline of T1: every combination, each on a fresh state. Runs the
/// outermost action's options in `outer` only, so the work can be split across threads.
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
                            // `black_box(&mut s)` before each step already keeps every
                            // step's work, as combtest's actions keep theirs. The state is
                            // dropped like combtest drops it: passing it to `black_box` by
                            // value after its last write would add a store-forwarding stall
                            // that combtest does not pay.
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

fn threaded_loops(threads: u64) -> u64 {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || nested_loops(t * 10 / threads..(t + 1) * 10 / threads)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn t1(threads: usize) -> u64 {
    combtest! { order: [op, op, op, op, op, op], state: Small::default(), threads: threads }
        .walk_count
}

fn t2(threads: usize) -> u64 {
    combtest! {
        order: [op, op, op, switch, op, op, op],
        state: Small::default(),
        threads: threads,
    }
    .walk_count
}

/// Iterations of `spin` that take about a microsecond on this machine.
fn calibrate_microsecond() -> u64 {
    let iterations = 10_000;
    let start = Instant::now();
    for _ in 0..100 {
        black_box(spin(iterations, 1));
    }
    let per_iteration = start.elapsed().as_secs_f64() / (100 * iterations) as f64;
    ((1e-6 / per_iteration) as u64).max(1)
}

#[inline(never)]
fn spin(iterations: u64, seed: u64) -> u64 {
    (0..iterations).fold(seed, |acc, k| {
        black_box(acc.wrapping_mul(6364136223846793005).wrapping_add(k))
    })
}

static SPIN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[action(options = 0..10)]
fn microsecond(p: u64, s: &mut u64) {
    *s = spin(SPIN.load(std::sync::atomic::Ordering::Relaxed), *s ^ p);
}

fn t3(threads: usize) -> u64 {
    combtest! {
        order: [microsecond, microsecond, microsecond, microsecond],
        state: 0u64,
        threads: threads,
    }
    .walk_count
}

fn per_second(walks: u64, d: Duration) -> f64 {
    walks as f64 / d.as_secs_f64()
}

fn row(name: &str, walks: u64, d: Duration, ratio: f64) {
    println!(
        "{name:<36} {d:>10.2?} {:>14.0} {ratio:>8.2}",
        per_second(walks, d)
    );
}

fn header(title: &str) {
    println!("\n{title}\n");
    println!("{:<36} {:>10} {:>14} {:>8}", "", "time", "walks/s", "ratio");
}

/// A state of 1 KiB, of which each action changes one word.
#[derive(Clone, Debug)]
struct Kib([u64; 128]);

const HELD_KIB_ROUNDS: usize = 3;

/// T2's order over a 1 KiB state: 2 x 10^6 walks held across the serial action.
fn held_kib(threads: usize) -> u64 {
    let op = || {
        Action::new(
            "op",
            || 0..10u64,
            |p: u64, s: &mut Kib, _: &()| {
                let s = black_box(s);
                let word = (p as usize * 13) % 128;
                s.0[word] = s.0[word].wrapping_mul(31).wrapping_add(p);
            },
        )
    };
    let switch = Action::serial(
        "switch",
        || 0..2u64,
        |p: u64, _: &mut (), _: States<'_, Kib>| {
            black_box(p);
        },
    );
    Combtest::new(Kib([0; 128]))
        .order([op(), op(), op(), switch, op(), op(), op()])
        .threads(threads)
        .run()
        .expect("a valid order")
        .walk_count
}

/// Minor page faults, and user and system CPU time in seconds, of this process (Linux only).
fn faults_and_cpu() -> Option<(u64, f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // Clock ticks per second: 100 on Linux unless configured otherwise.
    let tick = 100.0;
    Some((
        number(7)?,
        number(11)? as f64 / tick,
        number(12)? as f64 / tick,
    ))
}

/// T2's walks over a 1 KiB state by hand ([`held_loops`]), in a `Vec` of the run's own,
/// freed at its end, as a loop of its own would hold them.
fn held_kib_loop() -> u64 {
    let op = |p: u64, s: &mut Kib| {
        let s = black_box(s);
        let word = (p as usize * 13) % 128;
        s.0[word] = s.0[word].wrapping_mul(31).wrapping_add(p);
    };
    let mut held = Vec::with_capacity(2 * T1_WALKS as usize);
    held_loops(&mut held, Kib([0; 128]), op)
}

/// The child side of the held 1 KiB workload: its rounds, in a fresh process; `threads` 0
/// runs the hand-written loop instead.
fn held_kib_child(threads: usize) {
    for round in 0..HELD_KIB_ROUNDS {
        let before = faults_and_cpu();
        let start = Instant::now();
        let walks = if threads == 0 {
            held_kib_loop()
        } else {
            held_kib(threads)
        };
        let elapsed = start.elapsed();
        let (faults, system) = match (before, faults_and_cpu()) {
            (Some((f0, u0, s0)), Some((f1, u1, s1))) => {
                let cpu = (u1 - u0) + (s1 - s0);
                (
                    format!("{:>8.3}", (f1 - f0) as f64 / walks as f64),
                    format!(
                        "{:>6.0}%",
                        if cpu > 0.0 {
                            (s1 - s0) * 100.0 / cpu
                        } else {
                            0.0
                        }
                    ),
                )
            }
            _ => ("n/a".into(), "n/a".into()),
        };
        println!(
            "{:<36} {:>10.2?} {:>8.0} ns/walk {faults} faults/walk {system} kernel",
            if threads == 0 {
                format!("held 1 KiB, hand-written loop, run {}", round + 1)
            } else {
                format!("held 1 KiB, {threads} thread(s), run {}", round + 1)
            },
            elapsed,
            elapsed.as_secs_f64() * 1e9 / walks as f64,
        );
    }
}

fn held_kib_table(threads: usize) {
    println!(
        "\nHeld 1 KiB states: T2's order over a 1 KiB state, 2 x 10^6 walks (2 GiB held), \
         each thread count in a fresh process, then a hand-written loop holding the same \
         states (1 thread)\n"
    );
    let exe = std::env::current_exe().expect("the bench's own path");
    // 0: the hand-written loop.
    for threads in [1, threads, 0] {
        let out = std::process::Command::new(&exe)
            .args(["--held-kib-child", &threads.to_string()])
            .output();
        match out {
            Ok(out) => print!("{}", String::from_utf8_lossy(&out.stdout)),
            Err(e) => println!("held 1 KiB, {threads} thread(s): cannot run: {e}"),
        }
    }
}

/// Peak resident set size of this process, in KiB (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The T4 workloads, each run alone in a child process: (name, option counts, serial).
const MEMORY: &[(&str, &[u64], Option<u64>)] = &[
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

/// The order of a memory workload, built at run time: its option counts vary.
fn memory_order(option_counts: &[u64], serial: Option<u64>) -> Vec<Action<Small>> {
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

/// The child side of T4: runs one workload and prints its peak RSS.
fn memory_child(index: usize) {
    let (_, counts, serial) = MEMORY[index];
    Combtest::new(Small::default())
        .order(memory_order(counts, serial))
        .threads(2)
        .run()
        .expect("a valid order");
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
    println!("\nT4: peak RSS of a child process running one workload\n");
    for ((name, _, _), peak) in MEMORY.iter().zip(&peaks) {
        match peak {
            Some(kib) => println!("{name:<36} {:>10.1} MiB", *kib as f64 / 1024.0),
            None => println!("{name:<36} {:>14}", "n/a"),
        }
    }
    if let [Some(small), Some(large), Some(held_small), Some(held_large)] = peaks[..] {
        println!(
            "\nwithout serial actions, 10^7 walks peak at {:.2}x the peak of 10^5 walks",
            large as f64 / small as f64
        );
        let per_walk = (held_large - held_small) as f64 * 1024.0 / 1_800_000.0;
        println!(
            "held across a barrier: {per_walk:.1} bytes per walk for a {}-byte state \
             (difference between 2 x 10^6 and 2 x 10^5 held walks)",
            std::mem::size_of::<Small>()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, index] = &args[..] {
        if flag == "--memory-child" {
            return memory_child(index.parse().expect("a workload index"));
        }
        if flag == "--held-kib-child" {
            return held_kib_child(index.parse().expect("a thread count"));
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("combtest benchmark: {threads} threads available, best of {ROUNDS} rounds");
    println!("ratio = baseline time / time (1.00: as fast as the baseline)");

    header("T1: 6 actions x 10 options = 10^6 walks");
    let t2_walks = 2 * T1_WALKS;
    // The hand-written loops holding T2's states keep their memory between rounds.
    let mut held = Vec::new();
    let times = interleaved(
        ROUNDS,
        &mut [
            (T1_WALKS, Box::new(|| nested_loops(0..10))),
            (T1_WALKS, Box::new(|| t1(1))),
            (T1_WALKS, Box::new(|| threaded_loops(threads as u64))),
            (T1_WALKS, Box::new(|| t1(threads))),
            (t2_walks, Box::new(|| t2(1))),
            (t2_walks, Box::new(|| t2(threads))),
            (
                t2_walks,
                Box::new(|| held_loops(&mut held, Small::default(), t2_step)),
            ),
        ],
    );
    let [loop_1, comb_1, loop_n, comb_n, t2_1, t2_n, held_1] = times[..] else {
        unreachable!("one time per workload")
    };
    let ratio = |base: Duration, d: Duration| base.as_secs_f64() / d.as_secs_f64();
    row("nested loops, 1 thread", T1_WALKS, loop_1, 1.0);
    row(
        "combtest, 1 thread",
        T1_WALKS,
        comb_1,
        ratio(loop_1, comb_1),
    );
    row(
        &format!("nested loops, {threads} threads"),
        T1_WALKS,
        loop_n,
        1.0,
    );
    row(
        &format!("combtest, {threads} threads"),
        T1_WALKS,
        comb_n,
        ratio(loop_n, comb_n),
    );

    header("T2: T1 with a serial action of 2 options after the third action");
    let per_walk = |walks: u64, d: Duration| d.as_secs_f64() / walks as f64;
    for (label, t1_time, t2_time) in [
        ("1 thread", comb_1, t2_1),
        (&*format!("{threads} threads"), comb_n, t2_n),
    ] {
        let t2_ratio = per_walk(T1_WALKS, t1_time) / per_walk(t2_walks, t2_time);
        row(&format!("T1, {label} (baseline)"), T1_WALKS, t1_time, 1.0);
        row(&format!("T2, {label}"), t2_walks, t2_time, t2_ratio);
    }
    for (label, t1_time, t2_time) in [
        ("1 thread", comb_1, t2_1),
        (&*format!("{threads} threads"), comb_n, t2_n),
    ] {
        println!(
            "\nT2 per-walk cost, {label}: {:.1} ns = {:.2}x T1's {:.1} ns",
            per_walk(t2_walks, t2_time) * 1e9,
            per_walk(t2_walks, t2_time) / per_walk(T1_WALKS, t1_time),
            per_walk(T1_WALKS, t1_time) * 1e9
        );
    }

    println!(
        "\nT2 against hand-written loops holding its states the same way, 1 thread: \
         {:.1} ns per walk for the loops, ratio {:.2}",
        per_walk(t2_walks, held_1) * 1e9,
        ratio(held_1, t2_1)
    );

    let spin_iterations = calibrate_microsecond();
    SPIN.store(spin_iterations, std::sync::atomic::Ordering::Relaxed);
    header(&format!(
        "T3: 4 actions x 10 options of ~1 us of CPU each ({spin_iterations} iterations)"
    ));
    let t3_walks = 10_000;
    let times = interleaved(
        5,
        &mut [
            (t3_walks, Box::new(|| t3(1))),
            (t3_walks, Box::new(|| t3(threads))),
        ],
    );
    let [t3_1, t3_n] = times[..] else {
        unreachable!("one time per workload")
    };
    row("combtest, 1 thread (baseline)", t3_walks, t3_1, 1.0);
    row(
        &format!("combtest, {threads} threads"),
        t3_walks,
        t3_n,
        ratio(t3_1, t3_n),
    );
    println!(
        "\nparallel speed-up with {threads} threads: {:.2}x",
        ratio(t3_1, t3_n)
    );

    held_kib_table(threads);

    memory_table();
}
