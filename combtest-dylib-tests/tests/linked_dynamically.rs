//! A test binary that names `combtest_dylib` runs combtest's runtime from the shared library,
//! and its failing walks report and replay as they do without it.

use combtest::prelude::*;
use combtest_dylib as _;

// The root package's test helpers (standard library only), as its replay tests use them.
#[path = "../../tests/common/mod.rs"]
mod common;

#[action(options = 0..10)]
fn left(n: u32, pair: &mut (u32, u32)) {
    pair.0 = n;
}

#[action(options = 0..10)]
fn right(n: u32, pair: &mut (u32, u32)) -> Result<(), String> {
    pair.1 = n;
    if pair.0 == 7 && n == 3 {
        return Err(format!("the pair {pair:?} is cursed"));
    }
    Ok(())
}

#[action(options = 0..10)]
fn other_right(n: u32, pair: &mut (u32, u32)) {
    pair.1 = n;
}

#[test]
#[ignore = "fails on purpose; run by a_failing_walk_reports_and_replays_as_without_the_library"]
fn cursed_pair() {
    combtest! { order: [left, right], state: (0, 0) };
}

#[test]
fn every_walk_runs() {
    let report = combtest! {
        order: [left, other_right],
        state: (0, 0),
        gather_states: flat,
    };
    assert_eq!(report.total_walks, 100);
    assert_eq!(report.walk_count, 100);
    let mut pairs = report.states;
    pairs.sort_unstable();
    let every: Vec<(u32, u32)> = (0..10).flat_map(|a| (0..10).map(move |b| (a, b))).collect();
    assert_eq!(pairs, every);
}

#[action(options = 0..3)]
fn noted(n: u32, total: &mut u32) {
    tracing::info!(n, "user event");
    *total += n;
}

/// The test and the runtime share one `tracing`: a subscriber the test installs sees the
/// runtime's events, and the test's own from its workers. With two copies of `tracing` (one
/// in the library, one in the binary) the runtime's events would go to a dispatcher the
/// test never set.
#[test]
fn a_subscriber_the_test_installs_sees_the_runtime_events() {
    let captured = common::Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || {
        combtest! { order: [noted, noted], state: 0, threads: 2 }
    });
    assert_eq!(report.walk_count, 9);
    let text = captured.text();
    let count = |message: &str| text.lines().filter(|l| l.contains(message)).count();
    assert_eq!(
        count("combtest run starts"),
        1,
        "the runtime's event:\n{text}"
    );
    assert_eq!(count("user event"), 18, "two actions per walk:\n{text}");
}

/// combtest's own (non-generic) code is in the shared library's mapping, not in the test
/// binary's: without `use combtest_dylib as _;` it would be in the binary.
#[cfg(target_os = "linux")]
#[test]
fn the_runtime_runs_from_the_shared_library() {
    // A function of combtest's that is neither generic nor `#[inline]`, so that its code is
    // compiled only into combtest (and so into the library), never into the test binary.
    let runtime_code = combtest::ShardResult::file_name as fn(_) -> String as usize;
    let mapped_file = combtest_dylib_tests::file_mapped_at(runtime_code);
    let mapped_file = mapped_file.expect("the runtime's code is mapped");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        mapped_file.contains("libcombtest_dylib"),
        "combtest's code runs from {mapped_file}, not from libcombtest_dylib"
    );
    // The standard library is shared too, so that the library and the binary use one copy.
    assert!(
        maps.lines().any(|line| line.contains("/libstd-")),
        "no shared standard library in\n{maps}"
    );
}

fn run_cursed_pair(walks: Option<&str>) -> String {
    common::run_failing_test("cursed_pair", walks)
}

/// The replay command runs as `cargo test` runs this binary (`common::run_failing_test`): the
/// child inherits the library path that cargo (or nextest) set for this test, as the printed
/// command would set it.
#[test]
fn a_failing_walk_reports_and_replays_as_without_the_library() {
    let output = run_cursed_pair(None);
    assert!(output.contains("1 of 100 walks failed"), "{output}");
    assert!(
        output.contains("cause:   left(7) ∧ right(3) (exact"),
        "{output}"
    );
    let replay = common::first_replay(&output);
    // 7 * 10 + 3
    assert!(replay.starts_with("COMBTEST_WALKS=73@"), "{replay}");
    assert!(
        replay.ends_with(
            "cargo test -p combtest-dylib-tests --test linked_dynamically -- cursed_pair --exact \
             --include-ignored"
        ),
        "{replay}"
    );
    let walks = common::walks_of(replay);

    let replayed = run_cursed_pair(Some(walks));
    assert!(replayed.contains("1 of 1 walks failed"), "{replayed}");
    assert!(replayed.contains("walk 73 "), "{replayed}");
    assert!(replayed.contains("the pair (7, 3) is cursed"), "{replayed}");
}
