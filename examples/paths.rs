//! Each path a user can turn on, against a hand-written loop doing the same work in the same
//! run: a filter reading a param, gathering final states, the builder, failing walks, and a
//! trace. The builder is also measured against the fair loop calling each action, not
//! inlined, directly and through a trait object: the second is the most any path running
//! actions chosen at run time can reach. Run it with `cargo run --release --example paths`; `BENCHMARKS.md` records the
//! results.
//!
//! Every workload walks the T1 space (6 actions x 10 options, a few arithmetic operations
//! each) on one thread, except the trace, which walks 10^5 walks (5 actions) so its files
//! stay small. Each baseline is the fair nested loop of `examples/bench.rs` (the state is
//! dropped, not passed to `black_box` by value) with what a user's own loop would add for the
//! same feature: an `if` for the filter, a push into a `Vec` for gathering, the failing walks'
//! ids and messages collected for failures. Figures are the best of several rounds, the
//! workloads interleaved in every round so that whatever else the machine does slows them
//! alike.

use std::hint::black_box;
use std::time::Duration;

#[path = "support/shared.rs"]
mod shared;
use shared::{interleaved, step, Small, Workload};

use combtest::prelude::*;

/// Whether a walk ending in this state fails: about 1% of the T1 walks.
#[inline(always)]
fn fails(s: &Small) -> bool {
    s.a % 100 == 7
}

#[action(options = 0..10)]
fn op(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

#[action(options = 0..10)]
fn op_checked(p: u64, s: &mut Small) -> Result<(), String> {
    step(p, black_box(s));
    if fails(s) {
        return Err(format!("a = {}", s.a));
    }
    Ok(())
}

/// A serial action of two options: walks with it are held across its barrier.
#[serial_action(options = [0, 1])]
fn switch(p: u64) {
    black_box(p);
}

const T1_WALKS: u64 = 1_000_000;
const TRACE_WALKS: u64 = 100_000;
const HELD_TRACE_WALKS: u64 = 200_000;
const ROUNDS: usize = 7;

/// The fair hand-written loop over `depth` actions of 10 options (5 or 6), calling `visit`
/// with each walk's id and final state.
#[inline(always)]
fn nested_loops(depth: u32, mut visit: impl FnMut(u64, &Small)) -> u64 {
    let initial = Small::default();
    let mut id = 0;
    let outer = if depth == 6 { 10 } else { 1 };
    for p0 in 0..outer {
        for p1 in 0..10 {
            for p2 in 0..10 {
                for p3 in 0..10 {
                    for p4 in 0..10 {
                        for p5 in 0..10 {
                            let mut s = initial.clone();
                            if depth == 6 {
                                step(p0, black_box(&mut s));
                            }
                            for p in [p1, p2, p3, p4, p5] {
                                step(p, black_box(&mut s));
                            }
                            visit(id, &s);
                            id += 1;
                        }
                    }
                }
            }
        }
    }
    id
}

fn plain_loop() -> u64 {
    nested_loops(6, |_, _| {})
}

/// `op`'s body as a function the loop calls and cannot inline.
#[inline(never)]
fn op_called(p: u64, s: &mut Small) {
    step(p, black_box(s));
}

/// The fair loop calling each of its six actions through `call`, not inlined: `op_called`
/// directly, or through a trait object as a loop over actions chosen at run time must.
#[inline(always)]
fn loop_calling(call: impl Fn(usize, u64, &mut Small)) -> u64 {
    let initial = Small::default();
    let mut id = 0;
    for p0 in 0..10u64 {
        for p1 in 0..10 {
            for p2 in 0..10 {
                for p3 in 0..10 {
                    for p4 in 0..10 {
                        for p5 in 0..10 {
                            let mut s = initial.clone();
                            for (position, p) in [p0, p1, p2, p3, p4, p5].into_iter().enumerate() {
                                call(position, p, &mut s);
                            }
                            id += 1;
                        }
                    }
                }
            }
        }
    }
    id
}

fn loop_calling_directly() -> u64 {
    loop_calling(|_, p, s| op_called(p, s))
}

/// An action as a trait object.
type DynAction<'a> = &'a dyn Fn(u64, &mut Small);

/// The actions as trait objects the compiler cannot see through, one per position: the
/// least a path running an order built at run time (the builder's) must do per action.
fn loop_calling_trait_objects() -> u64 {
    let actions: [DynAction<'_>; 6] = black_box([&op_called; 6]);
    loop_calling(|position, p, s| actions[position](p, s))
}

/// A filter that reads the first param and keeps every walk, written as the user's `if`.
fn loop_with_if() -> u64 {
    let mut kept = 0;
    let initial = Small::default();
    for p0 in 0..10u64 {
        for p1 in 0..10 {
            for p2 in 0..10 {
                for p3 in 0..10 {
                    for p4 in 0..10 {
                        for p5 in 0..10 {
                            if black_box(p0) == 99 {
                                continue;
                            }
                            let mut s = initial.clone();
                            for p in [p0, p1, p2, p3, p4, p5] {
                                step(p, black_box(&mut s));
                            }
                            kept += 1;
                        }
                    }
                }
            }
        }
    }
    kept
}

fn loop_gathering() -> u64 {
    let mut states = Vec::new();
    nested_loops(6, |_, s| states.push(s.clone()));
    black_box(&states);
    states.len() as u64
}

fn loop_collecting_failures(failures: &mut u64) -> u64 {
    let mut failed: Vec<(u64, String)> = Vec::new();
    let walks = nested_loops(6, |id, s| {
        if fails(s) {
            failed.push((id, format!("a = {}", s.a)));
        }
    });
    black_box(&failed);
    *failures = failed.len() as u64;
    walks
}

fn combtest_plain() -> u64 {
    combtest! { order: [op, op, op, op, op, op], state: Small::default(), threads: 1 }.walk_count
}

fn combtest_filter() -> u64 {
    combtest! {
        order: [op, op, op, op, op, op],
        state: Small::default(),
        threads: 1,
        filter: |walk: &Walk| walk.param::<u64>(0) != Some(&99),
    }
    .walk_count
}

fn combtest_gathering() -> u64 {
    let report = combtest! {
        order: [op, op, op, op, op, op],
        state: Small::default(),
        threads: 1,
        gather_states: flat,
    };
    assert_eq!(report.states.len() as u64, report.walk_count);
    report.walk_count
}

fn builder() -> u64 {
    Combtest::new(Small::default())
        .order((0..6).map(|_| op::action()))
        .threads(1)
        .run()
        .unwrap()
        .walk_count
}

fn combtest_failing(explain: bool, failures: &mut u64) -> u64 {
    let report = Combtest::new(Small::default())
        .order((0..5).map(|_| op::action()))
        .then(op_checked::action())
        .threads(1)
        .explain_failures(explain)
        .run_checked(false);
    *failures = report.failures.len() as u64;
    report.walk_count
}

fn trace_loop() -> u64 {
    nested_loops(5, |_, _| {})
}

fn combtest_untraced_small() -> u64 {
    combtest! { order: [op, op, op, op, op], state: Small::default(), threads: 1 }.walk_count
}

fn combtest_traced(dir: &std::path::Path) -> u64 {
    combtest! {
        order: [op, op, op, op, op],
        state: Small::default(),
        threads: 1,
        log_dir: dir,
    }
    .walk_count
}

fn combtest_held_untraced() -> u64 {
    combtest! { order: [op, op, switch, op, op, op], state: Small::default(), threads: 1 }
        .walk_count
}

fn combtest_held_traced(dir: &std::path::Path) -> u64 {
    combtest! {
        order: [op, op, switch, op, op, op],
        state: Small::default(),
        threads: 1,
        log_dir: dir,
    }
    .walk_count
}

fn row(name: &str, walks: u64, d: Duration, baseline: Duration) {
    println!(
        "{name:<44} {d:>10.2?} {:>8.1} ns/walk {:>8.2}",
        d.as_secs_f64() * 1e9 / walks as f64,
        baseline.as_secs_f64() / d.as_secs_f64()
    );
}

fn main() {
    println!(
        "paths on 1 thread, best of {ROUNDS} interleaved rounds; ratio = loop time / path time\n"
    );

    let mut loop_failures = 0;
    let mut combtest_failures = 0;
    let mut explained_failures = 0;
    let best = {
        let mut workloads: Vec<Workload<'_>> = vec![
            (T1_WALKS, Box::new(plain_loop)),
            (T1_WALKS, Box::new(combtest_plain)),
            (T1_WALKS, Box::new(loop_with_if)),
            (T1_WALKS, Box::new(combtest_filter)),
            (T1_WALKS, Box::new(loop_gathering)),
            (T1_WALKS, Box::new(combtest_gathering)),
            (T1_WALKS, Box::new(builder)),
            (
                T1_WALKS,
                Box::new(|| loop_collecting_failures(&mut loop_failures)),
            ),
            (
                T1_WALKS,
                Box::new(|| combtest_failing(false, &mut combtest_failures)),
            ),
            (
                T1_WALKS,
                Box::new(|| combtest_failing(true, &mut explained_failures)),
            ),
            (T1_WALKS, Box::new(loop_calling_directly)),
            (T1_WALKS, Box::new(loop_calling_trait_objects)),
        ];
        interleaved(ROUNDS, &mut workloads)
    };
    assert_eq!(loop_failures, combtest_failures);
    assert_eq!(loop_failures, explained_failures);

    row("fair loop", T1_WALKS, best[0], best[0]);
    row("combtest! (T1)", T1_WALKS, best[1], best[0]);
    row("loop with an `if` on a param", T1_WALKS, best[2], best[2]);
    row(
        "combtest! with `filter:` reading a param",
        T1_WALKS,
        best[3],
        best[2],
    );
    row(
        "loop pushing each state into a Vec",
        T1_WALKS,
        best[4],
        best[4],
    );
    row(
        "combtest! with `gather_states: flat`",
        T1_WALKS,
        best[5],
        best[4],
    );
    row("builder (general path)", T1_WALKS, best[6], best[0]);
    row(
        "loop calling its actions, not inlined",
        T1_WALKS,
        best[10],
        best[0],
    );
    row(
        "loop calling its actions' trait objects",
        T1_WALKS,
        best[11],
        best[0],
    );
    println!(
        "  builder / loop calling its actions' trait objects: {:.2}",
        best[11].as_secs_f64() / best[6].as_secs_f64()
    );
    row("loop collecting failures", T1_WALKS, best[7], best[7]);
    row(
        "builder, failures, explain_failures off",
        T1_WALKS,
        best[8],
        best[7],
    );
    row("builder, failures, explained", T1_WALKS, best[9], best[7]);
    let extra = |path: Duration, base: Duration| {
        (path.as_secs_f64() - base.as_secs_f64()) * 1e6 / loop_failures as f64
    };
    // A failing walk's own work (its check, its message, keeping it) is what the loop
    // collecting failures pays beyond the fair loop, per failure.
    let own = extra(best[7], best[0]);
    println!(
        "  {loop_failures} failing walks ({:.2}%): {:.2} us per failure beyond the builder's \
         passing walks, {:.2} us explained; the walk's own work (the loop's cost per failure) \
         {own:.2} us, so {:.2} us beyond it ({:.2} us explained)",
        loop_failures as f64 * 100.0 / T1_WALKS as f64,
        extra(best[8], best[6]),
        extra(best[9], best[6]),
        extra(best[8], best[6]) - own,
        extra(best[9], best[6]) - own,
    );

    let dir = std::env::temp_dir().join(format!("combtest-paths-{}", std::process::id()));
    let held_dir = std::env::temp_dir().join(format!("combtest-paths-held-{}", std::process::id()));
    let best = {
        let dir = dir.clone();
        let held_dir = held_dir.clone();
        let mut workloads: Vec<Workload<'_>> = vec![
            (TRACE_WALKS, Box::new(trace_loop)),
            (TRACE_WALKS, Box::new(combtest_untraced_small)),
            (TRACE_WALKS, Box::new(move || combtest_traced(&dir))),
            (HELD_TRACE_WALKS, Box::new(combtest_held_untraced)),
            (
                HELD_TRACE_WALKS,
                Box::new(move || combtest_held_traced(&held_dir)),
            ),
        ];
        interleaved(ROUNDS, &mut workloads)
    };
    let trace_bytes: u64 = walk_dir_bytes(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&held_dir);
    println!();
    row(
        "fair loop, 5 actions (10^5 walks)",
        TRACE_WALKS,
        best[0],
        best[0],
    );
    row("combtest!, 5 actions", TRACE_WALKS, best[1], best[0]);
    row(
        "combtest! with `log_dir` (trace on)",
        TRACE_WALKS,
        best[2],
        best[0],
    );
    println!(
        "  trace on / off: {:.2}x; {:.2} bytes written per walk per run",
        best[2].as_secs_f64() / best[1].as_secs_f64(),
        trace_bytes as f64 / (ROUNDS as u64 * TRACE_WALKS) as f64
    );
    row(
        "combtest! with a serial action (2 x 10^5 walks)",
        HELD_TRACE_WALKS,
        best[3],
        best[3],
    );
    row(
        "the same with `log_dir` (trace on)",
        HELD_TRACE_WALKS,
        best[4],
        best[3],
    );
    println!(
        "  trace on / off with a serial action: {:.2}x",
        best[4].as_secs_f64() / best[3].as_secs_f64(),
    );
}

/// Bytes of every file under `dir`, all runs together.
fn walk_dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(m) if m.is_dir() => walk_dir_bytes(&entry.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
