//! Faster rebuilds of combtest tests: links combtest's runtime into a test binary as a shared
//! library.
//!
//! A test binary that uses combtest contains combtest's runtime and the crates it is built
//! on (serde_json, tracing, crossbeam and, with the default features, indicatif and
//! tracing-subscriber), with their debug info. Relinking all of that is most of what a
//! rebuild of a small test file costs after an edit. With this crate, the runtime lives in
//! one shared library built once, and an edit relinks only the test's own code.
//!
//! # Use
//!
//! Add it beside `combtest`:
//!
//! ```toml
//! [dev-dependencies]
//! combtest = "0.1"
//! combtest-dylib = "0.1"
//! ```
//!
//! and name it once in each test file whose binary should link it (a crate that is only
//! listed in `Cargo.toml` is not linked):
//!
//! ```ignore
//! use combtest_dylib as _;
//! use combtest::prelude::*;
//! ```
//!
//! Nothing else changes: the tests use `combtest` as before, with the features their own
//! `combtest` dependency asks for (this crate adds none).
//!
//! # What it changes
//!
//! - The test binary loads `libcombtest_dylib.so` (`.dylib` on macOS) and the Rust standard
//!   library's shared library at start. `cargo test`, `cargo nextest run` and combtest's
//!   replay commands (which are `cargo test` commands) set the library path that finds them;
//!   to run the test binary directly, add `target/debug/deps` and the toolchain's library
//!   directory (`$(rustc --print sysroot)/lib`) to `LD_LIBRARY_PATH` (`DYLD_LIBRARY_PATH`
//!   on macOS).
//! - Cargo builds a dependency that is a shared library against the shared standard library,
//!   but a member of your own workspace that you build by name gets a static one, which a
//!   test cannot link ("cannot satisfy dependencies so `std` only shows up once"). Use this
//!   crate from crates.io, or as a path dependency that is not a member of your workspace.
//! - It is for test and debug builds. A binary you ship should link combtest statically, as
//!   it does without this crate.
//! - It is tested on Linux. On Windows a DLL may export at most 65,535 symbols, a limit that
//!   large crates linked as Rust shared libraries have run into.
//!
//! `BENCHMARKS.md` in the repository measures the rebuild with and without it
//! (`combtest-bench/compile-cost/measure.py --sides combtest,combtest-dylib,rstest`).

// Naming combtest makes it part of this library, and so the copy test binaries link.
#[doc(no_inline)]
pub use combtest;
