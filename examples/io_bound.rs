//! Walks that wait on I/O: 1,000 walks that each wait 10 ms, as async actions awaiting a
//! timer (many in flight per worker thread) against the same waits as sync sleeps (one walk
//! per thread). Then a system test's shape: 36 walks whose actions take 5 ms each around a
//! serial action, on 1 thread against 2. Run it with
//! `cargo run --release --example io_bound`.

use std::time::{Duration, Instant};

use combtest::prelude::*;

const WAIT: Duration = Duration::from_millis(10);

#[action(options = 0..1000u32)]
async fn request(_n: u32, done: &mut u32) {
    tokio::time::sleep(WAIT).await;
    *done += 1;
}

#[action(options = 0..1000u32)]
fn blocking_request(_n: u32, done: &mut u32) {
    std::thread::sleep(WAIT);
    *done += 1;
}

#[action(options = 0..6u32)]
fn connect(_n: u32, steps: &mut u32) {
    std::thread::sleep(Duration::from_millis(5));
    *steps += 1;
}

#[serial_action(options = ["restart"])]
fn restart_server(_what: &'static str, _shared: &mut ()) {}

#[action(options = 0..6u32)]
fn query(_n: u32, steps: &mut u32) {
    std::thread::sleep(Duration::from_millis(5));
    *steps += 1;
}

fn held_walks(threads: usize) -> Duration {
    let started = Instant::now();
    let report = combtest! {
        order: [connect, restart_server, query],
        state: 0u32,
        shared: (),
        threads: threads,
        progress: false,
    };
    assert_eq!(report.walk_count, 36);
    started.elapsed()
}

fn main() {
    let threads = 2;
    println!("1,000 walks, each waiting {WAIT:?}, on {threads} worker threads\n");

    let started = Instant::now();
    let sync =
        combtest! { order: [blocking_request], state: 0u32, threads: threads, progress: false };
    let sync_time = started.elapsed();
    assert_eq!(sync.walk_count, 1000);

    let mut rows = vec![("sync sleeps (baseline)", sync_time, "-".to_string())];
    for concurrency in [1, 16, 64, 256] {
        let started = Instant::now();
        let report = combtest! {
            order: [request],
            state: 0u32,
            threads: threads,
            concurrency: concurrency,
            progress: false,
        };
        assert_eq!(report.walk_count, 1000);
        rows.push(("async timers", started.elapsed(), concurrency.to_string()));
    }

    println!(
        "{:<28} {:>12} {:>10} {:>8}",
        "", "concurrency", "time", "ratio"
    );
    for (name, time, concurrency) in rows {
        let ratio = sync_time.as_secs_f64() / time.as_secs_f64();
        let millis = time.as_secs_f64() * 1000.0;
        println!("{name:<28} {concurrency:>12} {millis:>7.0} ms {ratio:>7.1}x");
    }
    println!("\nratio = sync time / time (higher is faster)");

    println!("\n36 walks of two 5 ms actions around a serial action");
    let one = held_walks(1);
    let two = held_walks(2);
    println!("1 thread  {:>7.0} ms", one.as_secs_f64() * 1000.0);
    println!(
        "2 threads {:>7.0} ms  speed-up {:.2}x",
        two.as_secs_f64() * 1000.0,
        one.as_secs_f64() / two.as_secs_f64()
    );
}
