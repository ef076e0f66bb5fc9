//! The runner's own cost, isolated with actions that do almost nothing:
//! - per walk: 10^4 walks of two trivial actions, divided by the walk count;
//! - per action: 1000 walks of 3 and of 10 trivial actions, whose difference is 7 actions.
//!
//! Each through `combtest!` (statically dispatched) and the builder (dynamically
//! dispatched), on one thread so that the figures do not depend on the machine's load.
//!
//! Run with `cargo bench -p combtest-bench`.

use std::hint::black_box;

use combtest::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[action(options = 0..100)]
fn hundred(n: u64, total: &mut u64) {
    *total = total.wrapping_add(black_box(n));
}

#[action(options = 0..10)]
fn ten(n: u64, total: &mut u64) {
    *total = total.wrapping_add(black_box(n));
}

#[action(options = [1])]
fn one(n: u64, total: &mut u64) {
    *total = total.wrapping_add(black_box(n));
}

fn per_walk(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_walk");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("combtest!, 10^4 walks of 2 actions", |b| {
        b.iter(|| combtest! { order: [hundred, hundred], state: 0u64, threads: 1 })
    });
    group.bench_function("builder, 10^4 walks of 2 actions", |b| {
        b.iter(|| {
            Combtest::new(0u64)
                .then(hundred::action())
                .then(hundred::action())
                .threads(1)
                .run()
                .unwrap()
        })
    });
    group.finish();
}

fn per_action(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_action");
    group.throughput(Throughput::Elements(1_000));
    // 1000 walks each: `ten` three times, then `one` 0 or 7 times.
    group.bench_with_input(BenchmarkId::new("combtest!", "3 actions"), &(), |b, _| {
        b.iter(|| combtest! { order: [ten, ten, ten], state: 0u64, threads: 1 })
    });
    group.bench_with_input(BenchmarkId::new("combtest!", "10 actions"), &(), |b, _| {
        b.iter(|| {
            combtest! {
                order: [ten, ten, ten, one, one, one, one, one, one, one],
                state: 0u64,
                threads: 1,
            }
        })
    });
    let builder = |extra: usize| {
        let mut order = vec![ten::action(), ten::action(), ten::action()];
        order.extend((0..extra).map(|_| one::action()));
        Combtest::new(0u64).order(order).threads(1).run().unwrap()
    };
    group.bench_with_input(BenchmarkId::new("builder", "3 actions"), &0, |b, &n| {
        b.iter(|| builder(n))
    });
    group.bench_with_input(BenchmarkId::new("builder", "10 actions"), &7, |b, &n| {
        b.iter(|| builder(n))
    });
    group.finish();
}

criterion_group!(benches, per_walk, per_action);
criterion_main!(benches);
