//! Every `COMBTEST_*` variable combtest reads, and how the process environment is read.
//!
//! An environment variable overrides the setting made in code, so that a failing walk can be
//! replayed, or CI can change the thread count, without editing the test. An empty variable
//! counts as unset. Any `COMBTEST_*` variable combtest does not know is an error naming it:
//! a typo must not silently run something else. Variables are read as the system gives them:
//! a value that is not UTF-8 is an error naming its variable, except for a path
//! (`COMBTEST_LOG_DIR`, the trace of `COMBTEST_REPLAY`), which is used as given, untrimmed.

use std::ffi::{OsStr, OsString};

use crate::error::Error;

/// Selects walks by id: `17,40-45`, or `17@<fingerprint>` to check the walk did not change.
pub const ENV_WALKS: &str = "COMBTEST_WALKS";
/// Number of worker threads (a positive integer, at most 1024).
pub const ENV_THREADS: &str = "COMBTEST_THREADS";
/// Raises the gathering level: `flat` or `full` (never lowers what the code asks for).
pub const ENV_GATHER: &str = "COMBTEST_GATHER";
/// Verbosity of combtest's own `tracing` events: `0` warn, `1` info, `2` debug, `3` trace.
pub const ENV_VERBOSE: &str = "COMBTEST_VERBOSE";
/// Directory for trace files: one folder per run, created if missing. A relative path is
/// taken from the workspace root of the package whose test runs (found from the
/// `CARGO_MANIFEST_DIR` cargo sets), so that it names one folder for every package of a
/// workspace; outside cargo, from the working directory.
pub const ENV_LOG_DIR: &str = "COMBTEST_LOG_DIR";
/// Replays walks recorded in a trace: `path` (its failed walks), `path@all`, or
/// `path@17,40-45` (recorded ids), where `path` is a run's folder or its `trace.jsonl`.
pub const ENV_REPLAY: &str = "COMBTEST_REPLAY";
/// Which run of the test `COMBTEST_WALKS` and `COMBTEST_REPLAY` select walks of, for a test
/// that makes several runs (several `combtest!` blocks, or a helper called more than once):
/// `2` is the test's second run; the test's other runs run the walks their code selects
/// (all of them, unless it sets `walks` or `replay`). Without it, the two select walks of
/// every run. Replay commands set it for any run but the test's first; the replay of a
/// first run applies to the later runs too, so `COMBTEST_BLOCK=1` keeps it to the first.
pub const ENV_BLOCK: &str = "COMBTEST_BLOCK";
/// The progress display: `on` or `off` (default: on when stderr is a terminal outside CI).
pub const ENV_PROGRESS: &str = "COMBTEST_PROGRESS";
/// The shard of the walks this process runs: `i/n` (1-based), `auto` or `auto/n`; see
/// [`Shard`](crate::Shard). A shard that leaves out a walk `COMBTEST_WALKS` names with its
/// fingerprint, or a walk a replay names, is an error before any walk runs.
pub const ENV_SHARD: &str = "COMBTEST_SHARD";

/// Where to write the run's JUnit XML file (besides `junit.xml` in the log directory's run
/// folder), for CI dashboards.
pub const ENV_JUNIT: &str = "COMBTEST_JUNIT";

/// How long a walk may run: an async walk past it is dropped and fails, a sync walk fails
/// when it comes back, or is named and, if stuck, ends the run (see the crate docs, "Walks
/// that run too long"): `30s`, `500ms`, `2m`, or a number of seconds.
pub const ENV_TIMEOUT: &str = "COMBTEST_TIMEOUT";
/// How many async walks each worker thread keeps in flight (a positive integer).
pub const ENV_CONCURRENCY: &str = "COMBTEST_CONCURRENCY";

/// Every variable combtest knows.
pub(crate) const KNOWN_VARIABLES: &[&str] = &[
    ENV_SHARD,
    ENV_TIMEOUT,
    ENV_CONCURRENCY,
    ENV_WALKS,
    ENV_THREADS,
    ENV_GATHER,
    ENV_VERBOSE,
    ENV_LOG_DIR,
    ENV_REPLAY,
    ENV_BLOCK,
    ENV_PROGRESS,
    ENV_JUNIT,
];

/// The value of a variable of the process environment, if it is set, as the system gives it
/// (paths need not be UTF-8).
pub(crate) fn process_var(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// The names of the process environment's variables, as the system gives them.
pub(crate) fn process_names() -> impl Iterator<Item = OsString> {
    std::env::vars_os().map(|(name, _)| name)
}

/// The text of variable `name`: a value that is not UTF-8 is an error naming the variable,
/// never a variable taken as unset.
pub(crate) fn text_value(name: &str, value: OsString) -> Result<String, Error> {
    value.into_string().map_err(|raw| Error::InvalidSetting {
        source: name.into(),
        value: raw.to_string_lossy().into_owned(),
        detail: "the value is not valid UTF-8 (shown with U+FFFD where it is not)".into(),
    })
}

/// Refuses any `COMBTEST_*` name combtest does not know, suggesting the nearest known one; a
/// name that starts with `COMBTEST_` but is not UTF-8 is refused too.
pub(crate) fn check_names(names: impl IntoIterator<Item = OsString>) -> Result<(), Error> {
    for name in names {
        match name.to_str() {
            Some(name) if name.starts_with("COMBTEST_") && !KNOWN_VARIABLES.contains(&name) => {
                return Err(unknown_variable(name));
            }
            Some(_) => {}
            None if name.as_encoded_bytes().starts_with(b"COMBTEST_") => {
                return Err(Error::InvalidSetting {
                    source: name.to_string_lossy().into_owned(),
                    value: process_var_lossy(&name),
                    detail: format!(
                        "combtest knows no such variable, and its name is not valid UTF-8 \
                         (shown with U+FFFD where it is not); known: {}",
                        KNOWN_VARIABLES.join(", ")
                    ),
                });
            }
            None => {}
        }
    }
    Ok(())
}

fn process_var_lossy(name: &OsStr) -> String {
    std::env::var_os(name)
        .map(|value| value.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn unknown_variable(name: &str) -> Error {
    let suggestion = KNOWN_VARIABLES
        .iter()
        .min_by_key(|known| strsim::levenshtein(name, known))
        .filter(|known| strsim::levenshtein(name, known) <= 3)
        .map(|known| format!("did you mean {known}? "))
        .unwrap_or_default();
    Error::InvalidSetting {
        source: name.into(),
        value: process_var_lossy(OsStr::new(name)),
        detail: format!(
            "combtest knows no such variable; {suggestion}known: {}",
            KNOWN_VARIABLES.join(", ")
        ),
    }
}
