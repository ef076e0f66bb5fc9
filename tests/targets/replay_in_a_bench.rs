//! A benchmark target whose tests hold a failing `combtest!` block (`cargo test --bench
//! replay-in-a-bench`): its replay command must name the benchmark, as
//! tests/replay-layouts.rs checks.

#[path = "cursed_pair.rs"]
mod cursed_pair;
