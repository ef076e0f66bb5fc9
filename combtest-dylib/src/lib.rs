//! Faster rebuilds of combtest tests: links combtest's runtime into a test binary as a shared
//! library.
//!
//! A test binary that uses combtest contains combtest's runtime and the crates it is built
//! on (serde_json, tracing, crossbeam and, with the default features, tokio, futures-util,
//! indicatif and tracing-subscriber), with their debug info. Relinking all of that is most of
//! what a rebuild of a small test file costs after an edit. With this crate, the runtime
//! lives in one shared library built once, and an edit relinks only the test's own code and
//! the instances of combtest's generic code for its types.
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
//! `combtest` dependency asks for (this crate adds none), and crates both the test and
//! combtest use (`tracing`, `serde`, `tokio`) are linked once, from the library, so a
//! subscriber the test installs still sees combtest's events.
//!
//! # What it changes
//!
//! - The test binary loads `libcombtest_dylib.so` (`.dylib` on macOS) and the Rust standard
//!   library's shared library at start. `cargo test`, `cargo nextest run` and the replay
//!   commands combtest prints (which are `cargo test` or `cargo nextest run` commands) set
//!   the library path that finds them. To run the test binary by its path, or from a
//!   debugger, add both directories to it:
//!   `LD_LIBRARY_PATH=target/debug/deps:$(rustc --print target-libdir)` (`DYLD_LIBRARY_PATH`
//!   on macOS).
//! - Cargo builds a shared library against the shared standard library only when it is a
//!   dependency of what is built, not one of the packages selected. As a member of your
//!   workspace, any build that selects it (a plain `cargo test` at a virtual workspace's
//!   root, `--workspace`, `-p combtest-dylib`) builds it with a static one, which a test
//!   cannot link ("cannot satisfy dependencies so `std` only shows up once"), and cargo
//!   keeps reusing that build until this crate is built again. Use it from crates.io, or as a
//!   path dependency that is not a member of your workspace.
//! - A test binary can link only one Rust shared library holding a given crate: with another
//!   one that also holds serde or tracing (`bevy_dylib`, say), use one of the two.
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
