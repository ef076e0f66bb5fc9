//! Every key of `combtest!`, and the builder the block stands for.
use combtest::prelude::*;

#[action(options = [1, 2, 3])]
fn add(n: u32, total: &mut u32) {
    *total += n;
}

/// A block written by a `macro_rules!` of the user's, its keys passed on as tokens.
macro_rules! block_of_tokens {
    ($($key:tt)*) => {
        combtest! { $($key)* }
    };
}

/// A block whose order entries a `macro_rules!` takes as paths.
macro_rules! block_of_paths {
    ($($action:path),*) => {
        combtest! { order: [$($action),*], state: 0, shared: () }
    };
}

pub fn run() {
    // Tokens through a macro keep their meaning: the state and shared context are checked
    // where they are written without leaving the block's own names.
    let report = block_of_tokens!(order: [add], state: 0, shared: ());
    assert_eq!(report.walk_count, 3);
    let report = block_of_paths!(add, self::add);
    assert_eq!(report.walk_count, 9);
    let report = combtest! {
        order: [add, add],
        state: 0,
        shared: (),
        threads: 2,
        filter: |walk: &Walk| walk.id() != 4,
        gather_states: full,
        walks: "0-5",
        verbose: 0,
        progress: false,
        panic_on_failure: true,
    };
    assert_eq!((report.walk_count, report.skipped_count), (5, 1));

    // A factory state, a `Gather` variable (in braces: a bare name is a level), no shared
    // context.
    let level = Gather::Flat;
    let report = combtest! { order: [add], state: || 10, gather_states: { level } };
    assert_eq!(report.states, vec![11, 12, 13]);

    // No state: `Default::default()` for each walk.
    let report = combtest! { order: [add], gather_states: flat };
    assert_eq!(report.states, vec![1, 2, 3]);

    let report = Combtest::new(0u32)
        .then(add::action())
        .then(add::action())
        .run()
        .unwrap();
    assert_eq!(report.walk_count, 9);
}
