//! Where a run's test is, for the command that runs it again: the compile-time location of a
//! `combtest!` block, the running test's real name, and the cargo target that holds it.
//!
//! The block's own location names the function that contains it, which is not always the
//! test: a block may sit in a helper called by a `#[test]`, or in a test that a macro
//! generated (`f::case_1`). libtest names each test's thread with the test's full path, so
//! the thread that starts a run names the test whenever the run starts on a test thread.

use std::collections::HashMap;
use std::sync::Mutex;

use super::cargo_features::{features_option, BuiltFeatures};
use super::cargo_target::{declared_names, Build, CargoTarget, TargetKind};

/// Where a `combtest!` block sits, captured at compile time so that replay commands name the
/// right package, test target and test function.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct TestLocation {
    /// `CARGO_PKG_NAME` of the crate that holds the test.
    pub package: &'static str,
    /// `CARGO_CRATE_NAME` of the crate that holds the test.
    pub crate_name: &'static str,
    /// Whether the crate is an integration test (`tests/*.rs`, where Cargo sets
    /// `CARGO_TARGET_TMPDIR`), as opposed to a library's or binary's unit tests.
    pub integration_test: bool,
    /// `CARGO_BIN_NAME` when the crate is a binary.
    pub bin_name: Option<&'static str>,
    /// `type_name` of a function item declared inside the function that holds the block.
    pub marker_path: &'static str,
    /// `file!()` of the block: the source file, relative to the workspace root.
    pub source_file: &'static str,
    /// `CARGO_MANIFEST_DIR` of the package that holds the test.
    pub manifest_dir: &'static str,
    /// `cfg!(debug_assertions)` of the crate that holds the test: off in the release
    /// profile, so that the replay command says `--release` when the place of the test's
    /// binary does not say how cargo built it (a doctest's).
    pub debug_assertions: bool,
    /// `cfg!(test)` of the crate that holds the block: off when the block sits in a library
    /// a test calls (a test-support crate, the package's own `pub mod testing`), whose
    /// target is not the test's.
    pub test_build: bool,
    /// The features the package declares, each with whether this build has it on; `None`
    /// when the macro could not read them (a build outside cargo).
    pub features: Option<&'static [DeclaredFeature]>,
}

/// A feature of the package that holds a `combtest!` block, as the block was built: the
/// replay command asks for the features the test ran with, since without them a test behind
/// `#[cfg(feature = ...)]` would not exist (and `cargo test` would run nothing and pass) or a
/// walk would run on different code.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct DeclaredFeature {
    /// The name `--features` takes.
    pub name: &'static str,
    /// `cfg!(feature = name)` of the block's crate.
    pub enabled: bool,
}

impl TestLocation {
    /// The cargo options that select the features the block's package was built with (see
    /// [`BuiltFeatures::options`]); none when the macro could not read them.
    fn feature_options(&self) -> String {
        let Some(features) = self.features else {
            return String::new();
        };
        BuiltFeatures::new(
            features.iter().filter(|f| f.enabled).map(|f| f.name),
            features.iter().any(|f| f.name == "default"),
            std::path::Path::new(self.manifest_dir),
        )
        .options()
    }
}

impl TestLocation {
    /// `module::function` of the function that holds the block, as libtest would name it if
    /// it is the test: the marker's path without the crate, the marker itself, and closure
    /// segments.
    pub fn function_name(&self) -> String {
        let mut segments: Vec<&str> = self
            .marker_path
            .split("::")
            .filter(|s| !s.starts_with('{'))
            .collect();
        segments.pop(); // the marker function
        if !segments.is_empty() {
            segments.remove(0); // the crate
        }
        segments.join("::")
    }

    /// The name of the integration test target, as `cargo test --test` takes it.
    ///
    /// Cargo turns the `-` of a target name into `_` for the crate name, so the crate name
    /// alone cannot give it back. The target is found by the source file of the block
    /// (`tests/ecosystem-fit.rs`, `tests/ecosystem-fit/main.rs`), else among the `[[test]]`
    /// targets the package's `Cargo.toml` names, else by the files in the package's `tests/`
    /// folder, else it is the crate name.
    pub fn test_target(&self) -> String {
        let names_this_crate = |name: &str| name.replace('-', "_") == self.crate_name;
        let from_source = target_candidates(self.source_file)
            .into_iter()
            .find(|name| names_this_crate(name));
        if let Some(name) = from_source {
            return name;
        }
        if !self.crate_name.contains('_') {
            return self.crate_name.to_string();
        }
        package_test_target(self.manifest_dir, self.crate_name)
            .unwrap_or_else(|| self.crate_name.to_string())
    }

    /// The benchmark target that holds the block, when it is one: cargo builds a benchmark's
    /// tests as it builds an integration test (`CARGO_TARGET_TMPDIR` is set), and `cargo
    /// test` names it `--bench`. Found by its file (`benches/x.rs`, `benches/x/main.rs`),
    /// else among the `[[bench]]` targets the package's `Cargo.toml` names.
    fn bench_target(&self) -> Option<String> {
        if !self.integration_test {
            return None;
        }
        if let Some(name) = bench_target(self.source_file) {
            return Some(name);
        }
        let manifest = std::path::Path::new(self.manifest_dir).join("Cargo.toml");
        let text = std::fs::read_to_string(manifest).ok()?;
        declared_names(&text, TargetKind::Bench)
            .into_iter()
            .find(|name| name.replace('-', "_") == self.crate_name)
    }
}

/// The integration test target of the package in `manifest_dir` whose crate is `crate_name`:
/// among the `[[test]]` targets its `Cargo.toml` names, else among the files and folders of
/// its `tests/` folder (`tests/x.rs`, `tests/x/main.rs`). `None` when no target or more than
/// one fits.
fn package_test_target(manifest_dir: &str, crate_name: &str) -> Option<String> {
    let names_this_crate = |name: &str| name.replace('-', "_") == crate_name;
    let manifest = std::path::Path::new(manifest_dir).join("Cargo.toml");
    let declared = std::fs::read_to_string(manifest)
        .map(|text| declared_names(&text, TargetKind::Test))
        .unwrap_or_default();
    if let Some(name) = declared.into_iter().find(|name| names_this_crate(name)) {
        return Some(name);
    }
    let tests_dir = std::path::Path::new(manifest_dir).join("tests");
    let mut found: Vec<String> = std::fs::read_dir(tests_dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            match name.strip_suffix(".rs") {
                Some(stem) => Some(stem.to_string()),
                None => entry.path().join("main.rs").is_file().then_some(name),
            }
        })
        .filter(|name| names_this_crate(name))
        .collect();
    found.sort();
    found.dedup();
    match found.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// What a command says when the features its test was built with are not known (a doctest, a
/// binary out of cargo's target folder) and the package has features: a test behind a
/// feature that is off by default would not be built, and the command would run nothing.
const UNKNOWN_FEATURES: &str = "the features the test was built with were not found: if it \
                                was built with --features or --no-default-features, add them";

/// What a command whose target is not known says: without a target, `cargo test` runs every
/// target's tests but examples' and benchmarks', so a test in one of those would run nothing.
const UNKNOWN_TARGET: &str = "the test's target was not found: for a test in an example or \
                              a benchmark, add --example or --bench and its name";

/// What the running test process can tell about its test: the package (`CARGO_PKG_NAME`,
/// which `cargo test` and `cargo nextest run` set for it), the binary's cargo target (from its
/// dep-info file, see [`CargoTarget::of_binary`]), and how and where cargo built it. The
/// block's own location says neither for a block in a library the test calls, nor anything
/// for a run of the builder API; without the package and target, a replay command could run
/// no test and pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunningBinary {
    package: Option<String>,
    target: Option<CargoTarget>,
    /// Whether it runs from cargo's `examples` folder: cargo sets `CARGO_BIN_NAME` for
    /// examples as for binaries, and only this tells them apart.
    example: bool,
    /// Whether it is a doctest, which rustdoc builds and runs in a folder of its own.
    doctest: bool,
    /// How cargo built it, when it sits in cargo's target folder.
    build: Option<Build>,
    /// The features cargo built it with, from its fingerprint.
    features: Option<BuiltFeatures>,
    /// Whether its package has features (`[features]`, or an optional dependency), which
    /// a command must name when the binary's own are not known.
    package_has_features: bool,
}

impl RunningBinary {
    /// What this process's environment and binary say.
    fn current() -> Self {
        let exe = std::env::current_exe().ok();
        let package = std::env::var("CARGO_PKG_NAME")
            .ok()
            .filter(|p| !p.is_empty());
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR");
        let (target, features) = match (&exe, &package, &manifest_dir) {
            (Some(exe), Some(package), Some(dir)) => {
                let dir = std::path::Path::new(dir);
                (
                    CargoTarget::of_binary(exe, dir, package),
                    BuiltFeatures::of_binary(exe, package, dir),
                )
            }
            _ => (None, None),
        };
        let package_has_features = manifest_dir
            .is_some_and(|dir| crate::output::cargo_features::has_features(dir.as_ref()));
        let folder = exe
            .as_deref()
            .and_then(|exe| exe.parent())
            .and_then(|dir| dir.file_name())
            .and_then(|dir| dir.to_str());
        let doctest = folder.is_some_and(|dir| dir.starts_with("rustdoctest"));
        RunningBinary {
            package,
            target,
            example: folder == Some("examples"),
            doctest,
            // rustdoc's folder may sit in the target folder (`TMPDIR=target/tmp`), where
            // its name would read as a profile's.
            build: exe.as_deref().filter(|_| !doctest).and_then(Build::of),
            features,
            package_has_features,
        }
    }

    /// Whether a command for a run that knows no features of its own must say that the test's
    /// were not found: the binary's fingerprint did not say them, and the package has some.
    fn features_unknown(&self) -> bool {
        self.features.is_none() && self.package_has_features
    }

    /// The cargo options that build the test as it was built: from where its binary sits
    /// in cargo's target folder, else (a doctest, compiled by rustdoc elsewhere) from the
    /// debug assertions of the crate that holds it (`--release` without them).
    fn build_options(&self, debug_assertions: bool, harness: Harness) -> String {
        match &self.build {
            Some(build) => build.options(harness == Harness::Nextest),
            None if debug_assertions => String::new(),
            None => String::from(" --release"),
        }
    }

    /// `example` or `bin`, as cargo's options name the binary target.
    fn program_kind(&self) -> &'static str {
        if self.example {
            "example"
        } else {
            "bin"
        }
    }

    /// The feature options of the test's own build, for a run whose block does not know
    /// them (the block is not in the test's package, or there is no block): the features
    /// cargo's fingerprint of the binary lists, else those the binary's target requires,
    /// without which cargo would refuse to build the target.
    fn feature_options(&self) -> String {
        match (&self.features, &self.target) {
            (Some(features), _) => features.options(),
            (None, Some(target)) => {
                let required: Vec<&str> = target
                    .required_features
                    .iter()
                    .map(String::as_str)
                    .collect();
                features_option(&required)
            }
            (None, None) => String::new(),
        }
    }
}

/// Names an integration test target may have, given a source file of it: the component
/// after each `tests` folder of the path, without `.rs`.
fn target_candidates(source_file: &str) -> Vec<String> {
    let components: Vec<&str> = source_file.split(['/', '\\']).collect();
    components
        .windows(2)
        .filter(|pair| pair[0] == "tests")
        .map(|pair| pair[1].strip_suffix(".rs").unwrap_or(pair[1]).to_string())
        .collect()
}

/// The line of the doctest whose code holds a function named `function`: rustdoc wraps each
/// doctest's code in `_doctest_main_<file>_<line>_<n>`, `<line>` that of its opening fence.
fn doctest_line(function: &str) -> Option<u32> {
    let wrapper = function
        .rsplit("::")
        .find(|segment| segment.starts_with("_doctest_main_"))?;
    let mut numbers = wrapper.rsplit('_');
    let _index = numbers.next()?.parse::<u32>().ok()?;
    numbers.next()?.parse().ok()
}

/// Whether a thread name is a test's path as libtest names test threads: identifiers joined
/// by `::`. `main`, a worker's name or a doctest's (`src/lib.rs - f (line 3)`) is not.
fn is_test_path(name: &str) -> bool {
    name != "main"
        && name.split("::").all(|segment| {
            let mut chars = segment.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// What runs the tests, for the form of the replay command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Harness {
    /// `cargo test`: libtest takes the test's name and `--exact`.
    CargoTest,
    /// `cargo nextest run`, which sets `NEXTEST=1` in every test process: the test is
    /// chosen by a filterset.
    Nextest,
}

impl Harness {
    /// The harness of this process, told by the variable nextest sets.
    pub(crate) fn current() -> Self {
        if std::env::var_os("NEXTEST").is_some_and(|value| value == "1") {
            Harness::Nextest
        } else {
            Harness::CargoTest
        }
    }

    /// The command that runs test `test` of `target` (`--test x`, `--lib`, or none) of
    /// `package` (or the current one) alone, built as `build` says (`--release`, ...) with
    /// `features` (`--features ...`); both start with a space when not empty.
    fn test_command(
        self,
        package: Option<&str>,
        target: Option<&str>,
        test: &str,
        build: &str,
        features: &str,
    ) -> String {
        let mut command = match self {
            Harness::CargoTest => String::from("cargo test"),
            Harness::Nextest => String::from("cargo nextest run"),
        };
        command.push_str(build);
        if let Some(package) = package {
            command.push_str(&format!(" -p {package}"));
        }
        command.push_str(features);
        if let Some(target) = target {
            command.push_str(&format!(" {target}"));
        }
        match self {
            Harness::CargoTest => {
                command.push_str(&format!(" -- {test} --exact --include-ignored"))
            }
            // `=` matches the whole name; ignored tests run too, as `--exact` runs a test
            // named on libtest's command line only when it is not ignored: a replay must
            // run the walk whatever the test's attributes.
            Harness::Nextest => command.push_str(&format!(" --run-ignored all -E 'test(={test})'")),
        }
        command
    }
}

/// The test a run belongs to and the command that runs it again, decided once, on the thread
/// that starts the run.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunLocation {
    /// The running test's name (`module::test`), when known.
    pub(crate) test_name: Option<String>,
    /// The command that runs the test again, without the variables that select walks.
    pub(crate) command: Option<String>,
}

impl RunLocation {
    /// Where a run started on a thread named `thread_name` is, in this process's harness.
    pub(crate) fn resolve(location: Option<&TestLocation>, thread_name: Option<&str>) -> Self {
        // Read once per process: a test binary runs many runs, and what its environment and
        // files say does not change.
        static BINARY: std::sync::OnceLock<RunningBinary> = std::sync::OnceLock::new();
        let binary = BINARY.get_or_init(RunningBinary::current);
        Self::resolve_in(location, thread_name, Harness::current(), binary)
    }

    /// Counts a run of this location's test starting in this process: its 1-based place
    /// among the runs of the test (`combtest!` blocks and builder runs), which a replay
    /// command names when it is not the first ([`ENV_BLOCK`](crate::config::env::ENV_BLOCK)).
    /// A test runs its blocks in the same order each time, and alone when it is replayed,
    /// so the count names the same run in the replay.
    pub(crate) fn count_run(&self) -> u32 {
        static RUNS: Mutex<Option<HashMap<Option<String>, u32>>> = Mutex::new(None);
        let mut runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
        let count = runs
            .get_or_insert_with(HashMap::new)
            .entry(self.test_name.clone())
            .or_insert(0);
        *count += 1;
        *count
    }

    /// Where a run started on a thread named `thread_name` is. A test thread names the test
    /// (the block may sit in a helper the test calls); off a test thread the block's
    /// enclosing function is the best guess. The package and target are the running
    /// binary's when it can tell them (`binary`), else the block's.
    pub(crate) fn resolve_in(
        location: Option<&TestLocation>,
        thread_name: Option<&str>,
        harness: Harness,
        binary: &RunningBinary,
    ) -> Self {
        let running_test = thread_name
            .filter(|name| is_test_path(name))
            .map(str::to_string);
        let Some(location) = location else {
            return Self::without_block(running_test, harness, binary);
        };
        let release = binary.build_options(location.debug_assertions, harness);
        let features = location.feature_options();
        if let (Some(bin), None, "main") = (
            location.bin_name,
            &running_test,
            location.function_name().as_str(),
        ) {
            if !binary.doctest {
                // `cargo run`, even from a program a nextest test spawned: its profile
                // option is `--profile`.
                let release = binary.build_options(location.debug_assertions, Harness::CargoTest);
                return RunLocation {
                    test_name: Some("main".into()),
                    command: Some(format!(
                        "cargo run{release} -p {}{features} --{} {bin}",
                        location.package,
                        binary.program_kind()
                    )),
                };
            }
        }
        let function = location.function_name();
        if running_test.is_none() {
            // A doctest runs as a program of its own, on its `main` thread: nothing names
            // the item it documents, which its test name holds. Its name cannot select it
            // either: rustdoc splits the test arguments cargo gives it at spaces, and every
            // doctest's name has some (`src/lib.rs - item (line 3)`). Its file can.
            let file = location.source_file;
            let doctest = match doctest_line(&function) {
                Some(line) => Some(format!(
                    " -- '{file}' # a doctest: the one at line {line} of {file}; this runs the \
                     doctests of that file"
                )),
                // A doctest with its own `fn main`, or one rustdoc built from a file of its
                // own (edition 2024): its folder tells it, and the file when it is the
                // package's.
                None if binary.doctest && !std::path::Path::new(file).is_absolute() => {
                    Some(format!(
                        " -- '{file}' # a doctest of {file}: this runs the doctests of that file"
                    ))
                }
                None if binary.doctest => Some(
                    " # a doctest: rustdoc did not say which, so this runs them all".to_string(),
                ),
                None => None,
            };
            if let Some(selection) = doctest {
                return RunLocation {
                    command: Some(format!(
                        "cargo test{release} -p {}{features} --doc{selection}",
                        location.package
                    )),
                    test_name: Some(function),
                };
            }
        }
        let guessed = running_test.is_none();
        let test = running_test.unwrap_or(function);
        // The block may sit in a library the test calls (a test-support crate), whose package,
        // target and features are not the test's: the running binary names the test's.
        let package = binary.package.as_deref().unwrap_or(location.package);
        let in_test_package = package == location.package;
        let features = if in_test_package {
            features
        } else {
            binary.feature_options()
        };
        let target = match &binary.target {
            Some(target) => Some(target.option()),
            None if in_test_package && location.test_build => Some(location.target(binary)),
            None => None,
        };
        let mut command =
            harness.test_command(Some(package), target.as_deref(), &test, &release, &features);
        let mut notes = Vec::new();
        if guessed {
            // Run as printed, a wrong name would run no test and pass.
            notes.push(format!(
                "the run did not start on a test's thread: `{test}` holds the block; if it is \
                 not the test, name the test in its place"
            ));
        }
        if target.is_none() {
            notes.push(UNKNOWN_TARGET.to_string());
        }
        if !in_test_package && binary.features_unknown() {
            notes.push(UNKNOWN_FEATURES.to_string());
        }
        if !notes.is_empty() {
            command.push_str(&format!(" # {}", notes.join("; ")));
        }
        RunLocation {
            command: Some(command),
            test_name: Some(test),
        }
    }

    /// Where a run of the builder API is, which has no block to say: the running test and
    /// binary.
    fn without_block(
        running_test: Option<String>,
        harness: Harness,
        binary: &RunningBinary,
    ) -> Self {
        let release = binary.build_options(cfg!(debug_assertions), harness);
        let features = binary.feature_options();
        let unknown_features = if binary.features_unknown() {
            format!("; {UNKNOWN_FEATURES}")
        } else {
            String::new()
        };
        if running_test.is_none() && binary.doctest {
            let package = binary
                .package
                .as_deref()
                .map(|p| format!(" -p {p}"))
                .unwrap_or_default();
            return RunLocation {
                command: Some(format!(
                    "cargo test{release}{package}{features} --doc # a doctest: rustdoc did not \
                     say which, so this runs them all{unknown_features}"
                )),
                test_name: None,
            };
        }
        let target = binary.target.as_ref().map(CargoTarget::option);
        RunLocation {
            command: running_test.as_ref().map(|test| {
                let mut command = harness.test_command(
                    binary.package.as_deref(),
                    target.as_deref(),
                    test,
                    &release,
                    &features,
                );
                let mut notes = Vec::new();
                if target.is_none() {
                    notes.push(UNKNOWN_TARGET);
                }
                if binary.features_unknown() {
                    notes.push(UNKNOWN_FEATURES);
                }
                if !notes.is_empty() {
                    command.push_str(&format!(" # {}", notes.join("; ")));
                }
                command
            }),
            test_name: running_test,
        }
    }
}

impl TestLocation {
    /// The target of the test that holds the block, from where the block is, when the
    /// running binary cannot tell it: `--bench`, `--test`, `--bin`/`--example` or `--lib`.
    fn target(&self, binary: &RunningBinary) -> String {
        if let Some(bench) = self.bench_target() {
            // Benchmarks are built like integration tests (`CARGO_TARGET_TMPDIR` is set) but
            // `cargo test` names them `--bench`.
            format!("--bench {bench}")
        } else if self.integration_test {
            format!("--test {}", self.test_target())
        } else if let Some(bin) = self.bin_name {
            format!("--{} {bin}", binary.program_kind())
        } else {
            "--lib".to_string()
        }
    }
}

/// The benchmark target a source file is in: `benches/x.rs` or `benches/x/main.rs` (and the
/// modules beside it) is in `x`. A file under `tests/benches/` is an integration test's
/// module: the first of the two folders decides.
fn bench_target(source_file: &str) -> Option<String> {
    let components: Vec<&str> = source_file.split(['/', '\\']).collect();
    let (at, _) = components
        .iter()
        .enumerate()
        .find(|(_, c)| **c == "tests" || **c == "benches")
        .filter(|(_, c)| **c == "benches")?;
    let name = components.get(at + 1)?;
    Some(name.strip_suffix(".rs").unwrap_or(name).to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn location(marker_path: &'static str, integration_test: bool) -> TestLocation {
        TestLocation {
            package: "app",
            crate_name: "gui",
            integration_test,
            bin_name: None,
            marker_path,
            source_file: "tests/gui.rs",
            manifest_dir: "/nonexistent",
            debug_assertions: true,
            test_build: true,
            features: None,
        }
    }

    /// The command of a run of `location` started on the thread of test `suite::t`, in a
    /// binary that says nothing of itself.
    fn command(location: &TestLocation, harness: Harness) -> String {
        RunLocation::resolve_in(
            Some(location),
            Some("suite::t"),
            harness,
            &RunningBinary::default(),
        )
        .command
        .unwrap()
    }

    #[test]
    fn function_names_drop_crate_marker_and_closures() {
        let plain = location("gui::gui_combinations::__combtest_test_marker", true);
        assert_eq!(plain.function_name(), "gui_combinations");
        let nested = location(
            "app::ui::tests::works::{{closure}}::__combtest_test_marker",
            false,
        );
        assert_eq!(nested.function_name(), "ui::tests::works");
    }

    #[test]
    fn cargo_commands_name_the_target() {
        let command = |location: &TestLocation, thread: Option<&str>| {
            RunLocation::resolve_in(
                Some(location),
                thread,
                Harness::CargoTest,
                &RunningBinary::default(),
            )
            .command
            .unwrap()
        };
        let integration = location("gui::t::__m", true);
        assert_eq!(
            command(&integration, Some("t")),
            "cargo test -p app --test gui -- t --exact --include-ignored"
        );
        let unit = location("app::m::t::__m", false);
        assert_eq!(
            command(&unit, Some("m::t")),
            "cargo test -p app --lib -- m::t --exact --include-ignored"
        );
        let program = TestLocation {
            bin_name: Some("tool"),
            ..location("app::main::__m", false)
        };
        assert_eq!(command(&program, None), "cargo run -p app --bin tool");
    }

    #[test]
    fn the_test_thread_names_the_test() {
        let helper = location("gui::helpers::check::__m", true);
        let resolved = RunLocation::resolve_in(
            Some(&helper),
            Some("suite::f::case_1"),
            Harness::CargoTest,
            &RunningBinary::default(),
        );
        assert_eq!(resolved.test_name.as_deref(), Some("suite::f::case_1"));
        assert_eq!(
            resolved.command.as_deref(),
            Some("cargo test -p app --test gui -- suite::f::case_1 --exact --include-ignored")
        );
        for not_a_test in ["main", "combtest-worker-0", "src/lib.rs - f (line 3)", ""] {
            let resolved = RunLocation::resolve_in(
                Some(&helper),
                Some(not_a_test),
                Harness::CargoTest,
                &RunningBinary::default(),
            );
            assert_eq!(resolved.test_name.as_deref(), Some("helpers::check"));
            // The command says the name is a guess, where a wrong one would run no test.
            let command = resolved.command.unwrap();
            assert!(
                command.starts_with(
                    "cargo test -p app --test gui -- helpers::check --exact --include-ignored # \
                     the run did not start on a test's thread: `helpers::check` holds the block"
                ),
                "{command}"
            );
        }
        let builder_only = RunLocation::resolve_in(
            None,
            Some("m::t"),
            Harness::CargoTest,
            &RunningBinary::default(),
        );
        assert_eq!(
            builder_only.command.as_deref(),
            Some(
                format!("cargo test -- m::t --exact --include-ignored # {UNKNOWN_TARGET}").as_str()
            )
        );
        let in_a_package = RunningBinary {
            package: Some("app".into()),
            target: Some(CargoTarget {
                kind: TargetKind::Test,
                name: "ecosystem-fit".into(),
                required_features: vec!["slow".into()],
            }),
            ..RunningBinary::default()
        };
        let builder_in_cargo =
            RunLocation::resolve_in(None, Some("m::t"), Harness::Nextest, &in_a_package);
        assert_eq!(
            builder_in_cargo.command.as_deref(),
            Some(
                "cargo nextest run -p app --features slow --test ecosystem-fit --run-ignored all \
                 -E 'test(=m::t)'"
            )
        );
        assert_eq!(
            RunLocation::resolve_in(
                None,
                Some("main"),
                Harness::CargoTest,
                &RunningBinary::default()
            )
            .command,
            None
        );
    }

    #[test]
    fn a_block_in_a_library_the_test_calls_replays_the_test_s_target() {
        let test = |kind, name: &str| RunningBinary {
            package: Some("app".into()),
            target: Some(CargoTarget {
                kind,
                name: name.into(),
                required_features: Vec::new(),
            }),
            ..RunningBinary::default()
        };
        const SLOW: &[DeclaredFeature] = &[feature("slow", true)];
        // A test-support crate of another package: its package, target and features are
        // not the test's.
        let support = TestLocation {
            package: "support",
            crate_name: "support",
            integration_test: false,
            test_build: false,
            features: Some(SLOW),
            ..location("support::check_pairs::__m", false)
        };
        let command = |location: &TestLocation, binary: &RunningBinary| {
            RunLocation::resolve_in(
                Some(location),
                Some("via_support_fails"),
                Harness::CargoTest,
                binary,
            )
            .command
            .unwrap()
        };
        assert_eq!(
            command(&support, &test(TargetKind::Test, "via_support")),
            "cargo test -p app --test via_support -- via_support_fails --exact --include-ignored"
        );
        // Without the binary's target, no target rather than the library's.
        let unknown = RunningBinary {
            package: Some("app".into()),
            ..RunningBinary::default()
        };
        assert_eq!(
            command(&support, &unknown),
            format!("cargo test -p app -- via_support_fails --exact --include-ignored # {UNKNOWN_TARGET}")
        );
        // The package's own library, called by its integration test of the same name.
        let own_lib = TestLocation {
            package: "app",
            crate_name: "app",
            test_build: false,
            features: Some(SLOW),
            ..support
        };
        assert_eq!(
            command(&own_lib, &test(TargetKind::Test, "app")),
            "cargo test -p app --features slow --test app -- via_support_fails --exact \
             --include-ignored"
        );
        assert_eq!(
            command(&own_lib, &unknown),
            format!(
                "cargo test -p app --features slow -- via_support_fails --exact \
                 --include-ignored # {UNKNOWN_TARGET}"
            )
        );
        // A library's unit test whose binary has the name of an integration test.
        let unit = TestLocation {
            test_build: true,
            ..own_lib
        };
        assert_eq!(
            command(&unit, &test(TargetKind::Lib, "app")),
            "cargo test -p app --features slow --lib -- via_support_fails --exact \
             --include-ignored"
        );
    }

    #[test]
    fn a_doctest_rustdoc_does_not_name_runs_the_doctests_of_its_file_or_package() {
        let doctest = RunningBinary {
            doctest: true,
            ..RunningBinary::default()
        };
        let with_main = TestLocation {
            marker_path: "rust_out::main::__m",
            integration_test: false,
            bin_name: None,
            source_file: "src/lib.rs",
            ..location("x::__m", false)
        };
        let command = |location: &TestLocation| {
            RunLocation::resolve_in(Some(location), Some("main"), Harness::CargoTest, &doctest)
                .command
                .unwrap()
        };
        assert_eq!(
            command(&with_main),
            "cargo test -p app --doc -- 'src/lib.rs' # a doctest of src/lib.rs: this runs the \
             doctests of that file"
        );
        let bundled = TestLocation {
            marker_path: "rust_out::__doctest_0::main::__m",
            source_file: "/tmp/rustdoctestAb12/doctest_bundle_2024.rs",
            ..with_main
        };
        assert_eq!(
            command(&bundled),
            "cargo test -p app --doc # a doctest: rustdoc did not say which, so this runs them \
             all"
        );
        // A program's `main` in a doctest is the doctest's.
        let program_like = TestLocation {
            bin_name: Some("tool"),
            ..with_main
        };
        assert!(command(&program_like).starts_with("cargo test -p app --doc"));
    }

    #[test]
    fn a_block_s_integration_test_is_found_among_the_package_s_tests() {
        let dir = std::env::temp_dir().join(format!("combtest-binary-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tests/suite")).unwrap();
        std::fs::write(dir.join("tests/ecosystem-fit.rs"), "").unwrap();
        std::fs::write(dir.join("tests/suite/main.rs"), "").unwrap();
        std::fs::create_dir_all(dir.join("tests/fixtures")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        let dir_text = dir.to_str().unwrap();
        assert_eq!(
            package_test_target(dir_text, "ecosystem_fit").as_deref(),
            Some("ecosystem-fit")
        );
        assert_eq!(
            package_test_target(dir_text, "suite").as_deref(),
            Some("suite")
        );
        // A folder without `main.rs` is no target; nor is the library's own test binary.
        assert_eq!(package_test_target(dir_text, "fixtures"), None);
        assert_eq!(package_test_target(dir_text, "app"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_build_is_read_from_where_the_binary_sits_in_cargo_s_target_folder() {
        let root = std::env::temp_dir().join(format!("combtest-build-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let target = root.join("target");
        std::fs::create_dir_all(&target).unwrap();
        // As cargo lays it out: both marks in the target folder, a tag in a triple's folder.
        let tag = "Signature: 8a477f597d28d172789f06886806bc55";
        std::fs::write(target.join("CACHEDIR.TAG"), tag).unwrap();
        std::fs::write(target.join(".rustc_info.json"), "{}").unwrap();
        let triple = target.join("x86_64-unknown-linux-musl");
        std::fs::create_dir_all(&triple).unwrap();
        std::fs::write(triple.join("CACHEDIR.TAG"), tag).unwrap();
        let options = |relative: &str| Build::of(&target.join(relative)).map(|b| b.options(false));
        assert_eq!(
            options("debug/deps/gui-0123456789abcdef").as_deref(),
            Some("")
        );
        assert_eq!(
            options("release/deps/gui-0123456789abcdef").as_deref(),
            Some(" --release")
        );
        assert_eq!(
            options("ci/deps/gui-0123456789abcdef").as_deref(),
            Some(" --profile ci")
        );
        assert_eq!(
            options("panic-abort/examples/abort_on_panic").as_deref(),
            Some(" --profile panic-abort")
        );
        assert_eq!(options("debug/tool").as_deref(), Some(""));
        assert_eq!(
            options("x86_64-unknown-linux-musl/release/deps/gui-0123456789abcdef").as_deref(),
            Some(" --release --target x86_64-unknown-linux-musl")
        );
        // Outside a target folder (rustdoc compiles a doctest in a folder of its own): the
        // crate's debug assertions decide.
        assert_eq!(Build::of(&root.join("rustdoctestAb12/rust_out")), None);
        let doctest = RunningBinary::default();
        assert_eq!(doctest.build_options(true, Harness::CargoTest), "");
        assert_eq!(doctest.build_options(false, Harness::Nextest), " --release");
        let in_ci = RunningBinary {
            build: Build::of(&target.join("ci/deps/gui-0123456789abcdef")),
            ..RunningBinary::default()
        };
        // The binary's place wins over the debug assertions, which a profile may turn off.
        assert_eq!(
            in_ci.build_options(false, Harness::CargoTest),
            " --profile ci"
        );
        // nextest's own `--profile` names a nextest profile; `cargo run` has no other.
        assert_eq!(
            in_ci.build_options(true, Harness::Nextest),
            " --cargo-profile ci"
        );
        let program = TestLocation {
            bin_name: Some("tool"),
            ..location("app::main::__m", false)
        };
        assert_eq!(
            RunLocation::resolve_in(Some(&program), None, Harness::Nextest, &in_ci)
                .command
                .unwrap(),
            "cargo run --profile ci -p app --bin tool"
        );
        let located = location("gui::suite::t::__m", true);
        assert_eq!(
            RunLocation::resolve_in(Some(&located), Some("suite::t"), Harness::CargoTest, &in_ci)
                .command
                .unwrap(),
            "cargo test --profile ci -p app --test gui -- suite::t --exact --include-ignored"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn hyphenated_targets_are_named_as_cargo_names_them() {
        let hyphenated = TestLocation {
            crate_name: "ecosystem_fit",
            source_file: "member/tests/ecosystem-fit.rs",
            ..location("ecosystem_fit::t::__m", true)
        };
        assert_eq!(hyphenated.test_target(), "ecosystem-fit");
        let folder = TestLocation {
            source_file: "tests/ecosystem-fit/main.rs",
            ..hyphenated
        };
        assert_eq!(folder.test_target(), "ecosystem-fit");
        let underscored = TestLocation {
            source_file: "tests/ecosystem_fit.rs",
            ..hyphenated
        };
        assert_eq!(underscored.test_target(), "ecosystem_fit");
        // A block in a shared module: found from the package's `tests/` folder, else the
        // crate name.
        let shared = TestLocation {
            source_file: "tests/common/mod.rs",
            ..hyphenated
        };
        assert_eq!(shared.test_target(), "ecosystem_fit");
    }

    #[test]
    fn a_doctest_s_replay_runs_the_doctests_of_its_file_and_says_which() {
        let doctest = TestLocation {
            integration_test: false,
            source_file: "src/lib.rs",
            ..location("dt::main::_doctest_main_src_lib_rs_3_0::__m", false)
        };
        assert_eq!(doctest_line(&doctest.function_name()), Some(3));
        let resolved = RunLocation::resolve_in(
            Some(&doctest),
            Some("main"),
            Harness::CargoTest,
            &RunningBinary::default(),
        );
        assert_eq!(
            resolved.command.as_deref(),
            Some(
                "cargo test -p app --doc -- 'src/lib.rs' # a doctest: the one at line 3 of \
                 src/lib.rs; this runs the doctests of that file"
            )
        );
        assert_eq!(doctest_line("suite::check"), None);
        assert_eq!(doctest_line("a::_doctest_main_x"), None);
    }

    #[test]
    fn test_targets_declared_in_the_manifest_are_named_as_declared() {
        let manifest = r#"
[package]
name = "app"

[[test]]
name = "my-custom"   # outside tests/
path = "checks/foo.rs"

[[bench]]
name = "my-bench"

[[test]]
path = "checks/bar.rs"
name = "other-one"
"#;
        assert_eq!(
            declared_names(manifest, TargetKind::Test),
            ["my-custom", "other-one"]
        );
        let dir = std::env::temp_dir().join(format!("combtest-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        let manifest_dir: &'static str = Box::leak(dir.display().to_string().into_boxed_str());
        let custom = TestLocation {
            crate_name: "my_custom",
            source_file: "checks/foo.rs",
            manifest_dir,
            ..location("my_custom::t::__m", true)
        };
        assert_eq!(custom.test_target(), "my-custom");
        let unknown = TestLocation {
            crate_name: "not_declared",
            ..custom
        };
        assert_eq!(unknown.test_target(), "not_declared");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nextest_and_release_runs_get_their_own_commands() {
        let debug = location("gui::suite::t::__m", true);
        assert_eq!(
            command(&debug, Harness::Nextest),
            "cargo nextest run -p app --test gui --run-ignored all -E 'test(=suite::t)'"
        );
        let release = TestLocation {
            debug_assertions: false,
            ..debug
        };
        assert_eq!(
            command(&release, Harness::Nextest),
            "cargo nextest run --release -p app --test gui --run-ignored all -E 'test(=suite::t)'"
        );
        assert_eq!(
            command(&release, Harness::CargoTest),
            "cargo test --release -p app --test gui -- suite::t --exact --include-ignored"
        );
        let unit = location("app::suite::t::__m", false);
        assert_eq!(
            command(&unit, Harness::Nextest),
            "cargo nextest run -p app --lib --run-ignored all -E 'test(=suite::t)'"
        );
        let program = TestLocation {
            bin_name: Some("tool"),
            debug_assertions: false,
            ..location("app::main::__m", false)
        };
        let run = RunLocation::resolve_in(
            Some(&program),
            None,
            Harness::Nextest,
            &RunningBinary::default(),
        );
        assert_eq!(
            run.command.unwrap(),
            "cargo run --release -p app --bin tool"
        );
        // An example's tests and program, and a benchmark's tests.
        let example = RunningBinary {
            example: true,
            ..RunningBinary::default()
        };
        let run = RunLocation::resolve_in(Some(&program), None, Harness::CargoTest, &example);
        assert_eq!(
            run.command.unwrap(),
            "cargo run --release -p app --example tool"
        );
        let example_test = TestLocation {
            bin_name: Some("tool"),
            ..location("tool::suite::t::__m", false)
        };
        let run = RunLocation::resolve_in(
            Some(&example_test),
            Some("suite::t"),
            Harness::CargoTest,
            &example,
        );
        assert_eq!(
            run.command.unwrap(),
            "cargo test -p app --example tool -- suite::t --exact --include-ignored"
        );
        assert_eq!(bench_target("tests/benches/speed.rs"), None);
        for source_file in [
            "benches/speed.rs",
            "benches/speed/main.rs",
            "benches/speed/parts.rs",
        ] {
            let bench = TestLocation {
                source_file,
                crate_name: "speed",
                ..location("speed::suite::t::__m", true)
            };
            assert_eq!(
                command(&bench, Harness::CargoTest),
                "cargo test -p app --bench speed -- suite::t --exact --include-ignored",
                "{source_file}"
            );
        }
    }

    const fn feature(name: &'static str, enabled: bool) -> DeclaredFeature {
        DeclaredFeature { name, enabled }
    }

    /// A package folder whose manifest's `default` turns on `fast`, with `slow` and the
    /// optional dependency `zstd` besides; leaked, as a block's `manifest_dir` is static.
    fn package_with_features() -> &'static str {
        let dir =
            std::env::temp_dir().join(format!("combtest-location-features-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"app\"\n[features]\ndefault = [\"fast\"]\nfast = []\n\
             slow = []\n[dependencies]\nzstd = { version = \"0.13\", optional = true }\n",
        )
        .unwrap();
        Box::leak(dir.into_os_string().into_string().unwrap().into_boxed_str())
    }

    #[test]
    fn commands_ask_for_the_features_the_test_ran_with() {
        const DEFAULTS: &[DeclaredFeature] = &[
            feature("default", true),
            feature("fast", true),
            feature("slow", false),
            feature("zstd", false),
        ];
        const DEFAULTS_AND_MORE: &[DeclaredFeature] = &[
            feature("default", true),
            feature("fast", true),
            feature("slow", true),
            feature("zstd", true),
        ];
        const NO_DEFAULTS: &[DeclaredFeature] = &[
            feature("default", false),
            feature("fast", true),
            feature("slow", false),
            feature("zstd", false),
        ];
        const NO_DEFAULT_DECLARED: &[DeclaredFeature] = &[feature("slow", true)];
        let manifest_dir = package_with_features();
        let with = |features: &'static [DeclaredFeature]| TestLocation {
            features: Some(features),
            manifest_dir,
            ..location("gui::suite::t::__m", true)
        };
        assert_eq!(
            command(&with(DEFAULTS), Harness::CargoTest),
            "cargo test -p app --test gui -- suite::t --exact --include-ignored"
        );
        assert_eq!(
            command(&with(DEFAULTS_AND_MORE), Harness::CargoTest),
            "cargo test -p app --features slow,zstd --test gui -- suite::t --exact \
             --include-ignored"
        );
        assert_eq!(
            command(&with(NO_DEFAULTS), Harness::Nextest),
            "cargo nextest run -p app --no-default-features --features fast --test gui \
             --run-ignored all -E 'test(=suite::t)'"
        );
        assert_eq!(
            command(&with(NO_DEFAULT_DECLARED), Harness::CargoTest),
            "cargo test -p app --features slow --test gui -- suite::t --exact --include-ignored"
        );
        let program = TestLocation {
            bin_name: Some("tool"),
            ..with(NO_DEFAULTS)
        };
        let program = TestLocation {
            marker_path: "app::main::__m",
            integration_test: false,
            ..program
        };
        assert_eq!(
            RunLocation::resolve_in(
                Some(&program),
                None,
                Harness::CargoTest,
                &RunningBinary::default()
            )
            .command
            .unwrap(),
            "cargo run -p app --no-default-features --features fast --bin tool"
        );
        let doctest = TestLocation {
            marker_path: "app::_doctest_main_src_lib_rs_3_0::__m",
            integration_test: false,
            source_file: "src/lib.rs",
            ..with(DEFAULTS_AND_MORE)
        };
        let doc = RunLocation::resolve_in(
            Some(&doctest),
            None,
            Harness::CargoTest,
            &RunningBinary::default(),
        );
        assert!(doc
            .command
            .unwrap()
            .starts_with("cargo test -p app --features slow,zstd --doc -- 'src/lib.rs' "),);

        // A builder run, or a block in another package, knows no features of the test's
        // own: the binary's fingerprint says them, and they win over the target's required
        // features.
        let fingerprinted = |enabled: &[&str]| RunningBinary {
            package: Some("app".into()),
            target: Some(CargoTarget {
                kind: TargetKind::Test,
                name: "gui".into(),
                required_features: vec!["slow".into()],
            }),
            features: Some(BuiltFeatures::new(
                enabled.iter().copied(),
                true,
                std::path::Path::new(manifest_dir),
            )),
            ..RunningBinary::default()
        };
        let builder_run = |binary: &RunningBinary| {
            RunLocation::resolve_in(None, Some("suite::t"), Harness::CargoTest, binary)
                .command
                .unwrap()
        };
        assert_eq!(
            builder_run(&fingerprinted(&["fast", "slow"])),
            "cargo test -p app --no-default-features --features fast,slow --test gui -- \
             suite::t --exact --include-ignored"
        );
        assert_eq!(
            builder_run(&fingerprinted(&["default", "fast", "slow"])),
            "cargo test -p app --features slow --test gui -- suite::t --exact --include-ignored"
        );
        let in_support_crate = TestLocation {
            package: "support",
            ..with(DEFAULTS_AND_MORE)
        };
        assert_eq!(
            RunLocation::resolve_in(
                Some(&in_support_crate),
                Some("suite::t"),
                Harness::CargoTest,
                &fingerprinted(&["fast", "slow"]),
            )
            .command
            .unwrap(),
            "cargo test -p app --no-default-features --features fast,slow --test gui -- \
             suite::t --exact --include-ignored"
        );
        let unknown = RunningBinary {
            features: None,
            ..fingerprinted(&[])
        };
        assert_eq!(
            builder_run(&unknown),
            "cargo test -p app --features slow --test gui -- suite::t --exact --include-ignored"
        );
        // Not found, in a package that has features: the command says so, as the test may be
        // behind one of them. A builder run in a doctest has neither a fingerprint nor a block.
        let unknown = RunningBinary {
            package_has_features: true,
            ..unknown
        };
        assert_eq!(
            builder_run(&unknown),
            format!(
                "cargo test -p app --features slow --test gui -- suite::t --exact \
                 --include-ignored # {UNKNOWN_FEATURES}"
            )
        );
        let doctest = RunningBinary {
            package: Some("app".into()),
            doctest: true,
            package_has_features: true,
            ..RunningBinary::default()
        };
        assert_eq!(
            RunLocation::resolve_in(None, None, Harness::CargoTest, &doctest)
                .command
                .unwrap(),
            format!(
                "cargo test -p app --doc # a doctest: rustdoc did not say which, so this runs \
                 them all; {UNKNOWN_FEATURES}"
            )
        );
        assert_eq!(
            RunLocation::resolve_in(
                Some(&in_support_crate),
                Some("suite::t"),
                Harness::CargoTest,
                &unknown,
            )
            .command
            .unwrap(),
            format!(
                "cargo test -p app --features slow --test gui -- suite::t --exact \
                 --include-ignored # {UNKNOWN_FEATURES}"
            )
        );
    }
}
