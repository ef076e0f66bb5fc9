//! The root package has no code of its own: it holds the examples and the integration tests.
//! This library target exists for the README, whose examples run here as doctests. (The
//! `combtest` crate cannot include the README in its own docs: the README lives outside its
//! package, so a packaged `combtest` would not find it.)

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
