//! The compile-time interface: what users see when they misuse the macros (the `.stderr`
//! files are reviewed like any user-facing text), and every form the macros accept.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
