//! A replay command asks for the features its test ran with. Without them, cargo builds the
//! test with the default features: a test behind `#[cfg(feature = ...)]` does not exist
//! there, and the command runs nothing and passes.
//!
//! The checking test builds and runs this test target as a user would with features other
//! than the default ones (`--no-default-features --features suite-extra`, features the suite
//! declares for this), takes the replay command the failing test prints, and runs it as
//! printed.

mod common;

#[cfg(feature = "suite-extra")]
mod only_with_the_extra_feature {
    use combtest::prelude::*;

    #[action(options = 0..10)]
    fn left(n: u32, pair: &mut (u32, u32)) {
        pair.0 = n;
    }

    #[action(options = 0..10)]
    fn right(n: u32, pair: &mut (u32, u32)) -> Result<(), String> {
        pair.1 = n;
        if *pair == (4, 2) && cfg!(not(feature = "suite-default")) {
            return Err(format!("the pair {pair:?} is cursed"));
        }
        Ok(())
    }

    #[test]
    #[ignore = "fails on purpose; run by a_replay_command_asks_for_the_features_of_its_run"]
    fn cursed_pair() {
        combtest! { order: [left, right], state: (0, 0) };
    }

    #[test]
    #[ignore = "fails on purpose; run by a_builder_run_s_replay_command_asks_for_the_features_of_its_run"]
    fn cursed_pair_by_the_builder() {
        Combtest::new((0, 0))
            .then(left::action())
            .then(right::action())
            .run_or_panic();
    }
}

/// The features this target's failing tests are built with: not the default ones.
const FEATURES: &str = "--no-default-features --features suite-extra";

/// The same, as a replay command names them.
const PRINTED_FEATURES: &str = FEATURES;

/// Builds and runs `test` of this target with [`FEATURES`], as a user would, and returns the
/// first replay command it prints, checking that it names the features.
fn replay_command_of(test: &str) -> String {
    let command = |features: &str| {
        format!(
            "cargo test -p combtest-suite {features} --test replay_features -- {test} --exact \
             --include-ignored"
        )
    };
    let (_, run) = common::run_as_printed(&command(FEATURES), &[]);
    assert!(run.contains("1 of 100 walks failed"), "{run}");
    let replay = common::first_replay(&run).to_string();
    // 4 * 10 + 2
    assert!(replay.starts_with("COMBTEST_WALKS=42@"), "{replay}");
    assert!(replay.ends_with(&command(PRINTED_FEATURES)), "{replay}");
    replay
}

#[test]
fn a_replay_command_asks_for_the_features_of_its_run() {
    let replay = replay_command_of("only_with_the_extra_feature::cursed_pair");
    let (_, replayed) = common::run_as_printed(&replay, &[]);
    common::assert_replayed_walk(&replayed, 42);
    assert!(replayed.contains("the pair (4, 2) is cursed"), "{replayed}");

    // What the command would do without the features: build the default test target, in
    // which the test does not exist, and pass having run nothing.
    let without_features = replay.replace(&format!(" {PRINTED_FEATURES}"), "");
    assert_ne!(without_features, replay);
    let (_, without) = common::run_as_printed(&without_features, &[]);
    assert!(
        without.contains("test result: ok. 0 passed; 0 failed"),
        "{without}"
    );
}

/// A run of the builder API has no block to read the package's features with `cfg!`: its
/// command takes them from the fingerprint cargo keeps of the test binary.
#[test]
fn a_builder_run_s_replay_command_asks_for_the_features_of_its_run() {
    let replay = replay_command_of("only_with_the_extra_feature::cursed_pair_by_the_builder");
    let (_, replayed) = common::run_as_printed(&replay, &[]);
    common::assert_replayed_walk(&replayed, 42);
    assert!(replayed.contains("the pair (4, 2) is cursed"), "{replayed}");
}
