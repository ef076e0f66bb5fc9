//! The root package holds the examples and the integration tests. This library target exists
//! for the README, whose examples run here as doctests (the `combtest` crate cannot include
//! the README in its own docs: the README lives outside its package, so a packaged `combtest`
//! would not find it), for [`testing`], a helper that integration tests call, and for a
//! doctest whose replay command `tests/replay_doctest.rs` runs.

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[doc(hidden)]
pub mod replay_doctest;

/// A `combtest!` block in a library that tests call, as a test-support crate or a package's
/// own `pub mod testing` holds one: `tests/replay-layouts.rs` checks that its replay command
/// names the calling test and its target, not this library.
pub mod testing {
    use combtest::prelude::*;

    /// Sets the pair's first number.
    #[action(options = 0..20)]
    pub fn left(n: u32, pair: &mut (u32, u32, (u32, u32))) {
        pair.0 = n;
    }

    /// Sets the pair's second number; the pair given as the state's third field fails.
    #[action(options = 0..20)]
    pub fn right(n: u32, pair: &mut (u32, u32, (u32, u32))) -> Result<(), String> {
        pair.1 = n;
        if (pair.0, pair.1) == pair.2 {
            return Err(format!("the pair {:?} is cursed", (pair.0, pair.1)));
        }
        Ok(())
    }

    /// Runs every pair of 20 x 20 options; the pair `cursed` fails.
    pub fn check_cursed_pair(cursed: (u32, u32)) {
        combtest! { order: [left, right], state: (0, 0, cursed) };
    }
}
