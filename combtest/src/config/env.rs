//! Every `COMBTEST_*` variable combtest reads, and how the process environment is read.
//!
//! An environment variable overrides the setting made in code, so that a failing walk can be
//! replayed, or CI can change the thread count, without editing the test. An empty variable
//! counts as unset. Any `COMBTEST_*` variable combtest does not know is an error naming it:
//! a typo must not silently run something else.

use crate::error::Error;

/// Selects walks by id: `17,40-45`, or `17@<fingerprint>` to check the walk did not change.
pub const ENV_WALKS: &str = "COMBTEST_WALKS";
/// Number of worker threads (a positive integer).
pub const ENV_THREADS: &str = "COMBTEST_THREADS";
/// Raises the gathering level: `flat` or `full` (never lowers what the code asks for).
pub const ENV_GATHER: &str = "COMBTEST_GATHER";
/// Verbosity of combtest's own `tracing` events: `0` warn, `1` info, `2` debug, `3` trace.
pub const ENV_VERBOSE: &str = "COMBTEST_VERBOSE";
/// Directory for trace files: one folder per run, created if missing.
pub const ENV_LOG_DIR: &str = "COMBTEST_LOG_DIR";
/// Replays walks recorded in a trace file: `path` (its failed walks), `path@all`, or
/// `path@17,40-45` (recorded ids).
pub const ENV_REPLAY: &str = "COMBTEST_REPLAY";
/// The progress display: `on` or `off` (default: on when stderr is a terminal outside CI).
pub const ENV_PROGRESS: &str = "COMBTEST_PROGRESS";
/// The shard of the walks this process runs: `i/n` (1-based), `auto` or `auto/n`; see
/// [`Shard`](crate::Shard).
pub const ENV_SHARD: &str = "COMBTEST_SHARD";

/// Where to write the run's JUnit XML file (besides `junit.xml` in the log directory's run
/// folder), for CI dashboards.
pub const ENV_JUNIT: &str = "COMBTEST_JUNIT";

/// How long an async walk may run before it is dropped and fails, and after which a sync
/// walk is named as stuck: `30s`, `500ms`, `2m`, or a number of seconds.
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
    ENV_PROGRESS,
    ENV_JUNIT,
];

/// The value of a variable of the process environment, if it is set.
pub(crate) fn process_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The names of the process environment's variables.
pub(crate) fn process_names() -> impl Iterator<Item = String> {
    std::env::vars_os().filter_map(|(name, _)| name.into_string().ok())
}

/// Refuses any `COMBTEST_*` name combtest does not know, suggesting the nearest known one.
pub(crate) fn check_names(names: impl IntoIterator<Item = String>) -> Result<(), Error> {
    for name in names {
        if name.starts_with("COMBTEST_") && !KNOWN_VARIABLES.contains(&name.as_str()) {
            return Err(unknown_variable(&name));
        }
    }
    Ok(())
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
        value: process_var(name).unwrap_or_default(),
        detail: format!(
            "combtest knows no such variable; {suggestion}known: {}",
            KNOWN_VARIABLES.join(", ")
        ),
    }
}
