//! The compile-time interface: what users see when they misuse the macros. The `.stderr`
//! files are reviewed like any user-facing text. (The forms the macros accept are compiled
//! and run by the root package's `tests/macro_forms.rs`.)
//!
//! This package exists so that the scratch project trybuild builds from this package's
//! dependencies holds only `combtest` and trybuild, and so that the root package's examples
//! do not build trybuild. With compile-fail cases only, trybuild type-checks them in one
//! `cargo check` and links nothing.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
