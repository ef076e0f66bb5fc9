//! A doctest holding a `combtest!` block, for `tests/replay_doctest.rs`: it fails one walk
//! only when `SUITE_FAIL_DOCTEST` is set, so that the suite stays green, and the checking test
//! runs the replay command it prints.
//!
//! ```
//! use combtest::prelude::*;
//!
//! #[action(options = 0..5)]
//! fn left(n: u32, pair: &mut (u32, u32)) {
//!     pair.0 = n;
//! }
//!
//! #[action(options = 0..5)]
//! fn right(n: u32, pair: &mut (u32, u32)) -> Result<(), String> {
//!     pair.1 = n;
//!     if std::env::var_os("SUITE_FAIL_DOCTEST").is_some() && *pair == (3, 1) {
//!         return Err(format!("the pair {pair:?} is cursed"));
//!     }
//!     Ok(())
//! }
//!
//! combtest! { order: [left, right], state: (0, 0) };
//! ```
