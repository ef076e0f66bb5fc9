//! Errors that stop a run before any walk runs: bad orders, bad settings, bad environment.
//!
//! Failures of walks are not errors of the run; they are outcomes, collected in the
//! [`Report`](crate::Report).

use std::fmt;
use std::path::PathBuf;

/// Why a run could not start. Every variant says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The order has no action: it would run no walk.
    EmptyOrder,
    /// An action's option source produced no option: the order would run no walk.
    NoOptions {
        /// The action's name.
        action: String,
        /// Its position in the order (0-based).
        position: usize,
    },
    /// The number of walks does not fit in a `u64`.
    TooManyWalks {
        /// The option count of every wheel.
        option_counts: Vec<usize>,
    },
    /// A setting or environment variable has a value that cannot be used.
    InvalidSetting {
        /// The environment variable or builder setting.
        source: String,
        /// The value given.
        value: String,
        /// What is wrong and what is expected.
        detail: String,
    },
    /// A selected walk id does not exist in this order.
    WalkOutOfRange {
        /// Where the id came from.
        source: String,
        /// The id.
        id: u64,
        /// How many walks the order has.
        total: u64,
    },
    /// A walk id was given with a fingerprint that no longer matches: the order or the
    /// options changed since the id was recorded.
    StaleWalk {
        /// The walk id.
        id: u64,
        /// The fingerprint given.
        expected: String,
        /// The fingerprint of today's walk with that id.
        actual: String,
        /// Today's id of the walk with the given fingerprint, if it still exists.
        now_at: Option<u64>,
    },
    /// The log directory, or a file in it, cannot be created or written.
    LogDir {
        /// The directory or file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// A file asked for outside the log directory (the JUnit file of
    /// [`Combtest::junit`](crate::Combtest::junit), `COMBTEST_JUNIT`) cannot be created or
    /// written.
    OutputFile {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// A trace file cannot be replayed: unreadable, malformed, or recorded for walks that no
    /// longer exist.
    Replay {
        /// The trace file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Two options of one action cannot be told apart in a trace: they serialize alike
    /// (`f64::NAN` and `f64::INFINITY` both serialize to `null`), so their walks would share a
    /// fingerprint and a replay could run the other one.
    IndistinguishableOptions {
        /// The action's name.
        action: String,
        /// Its position in the order (0-based).
        position: usize,
        /// The first of the two options, as `Debug` prints it.
        first: String,
        /// The second one, as `Debug` prints it.
        second: String,
        /// What both are recorded as.
        recorded_as: String,
    },
    /// The covering array asked for cannot be built.
    Covering {
        /// What is wrong.
        message: String,
    },
    /// Shard results cannot be merged: missing, duplicated, or from different runs.
    Merge {
        /// What is wrong, naming the files.
        message: String,
    },
    /// An option could not be serialized (for fingerprints and traces).
    Unserializable {
        /// The action's name.
        action: String,
        /// The option, as `Debug` prints it.
        param: String,
        /// The serializer's message.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyOrder => write!(
                f,
                "the order is empty: a combtest needs at least one action, and would run no walk"
            ),
            Error::NoOptions { action, position } => write!(
                f,
                "action `{action}` (position {position} of the order) has no options, so the \
                 order has no walks; give it at least one option"
            ),
            Error::TooManyWalks { option_counts } => write!(
                f,
                "the walk space is larger than 2^64 walks (option counts {option_counts:?}); \
                 an exhaustive run cannot cover it: cover it with t-wise covering arrays or \
                 sampling, or split the order"
            ),
            Error::InvalidSetting {
                source,
                value,
                detail,
            } => write!(f, "{source}={value:?} is invalid: {detail}"),
            Error::WalkOutOfRange { source, id, total } => write!(
                f,
                "{source}: walk {id} does not exist: this order has {total} walks (ids 0-{})",
                total.saturating_sub(1)
            ),
            Error::StaleWalk {
                id,
                expected,
                actual,
                now_at,
            } => {
                write!(
                    f,
                    "walk {id}@{expected} is stale: today walk {id} has fingerprint {actual}, \
                     so the order or its options changed since it was recorded"
                )?;
                match now_at {
                    Some(now) => write!(f, "; that walk is now walk {now}@{expected}"),
                    None => write!(
                        f,
                        "; no walk of today's order has that fingerprint (if the test makes \
                         several runs, COMBTEST_BLOCK names the run the id is of)"
                    ),
                }
            }
            Error::LogDir { path, message } => write!(
                f,
                "cannot write the log directory {}: {message}",
                path.display()
            ),
            Error::OutputFile { path, message } => {
                write!(f, "cannot write {}: {message}", path.display())
            }
            Error::Replay { path, message } => {
                write!(f, "cannot replay {}: {message}", path.display())
            }
            Error::IndistinguishableOptions {
                action,
                position,
                first,
                second,
                recorded_as,
            } => write!(
                f,
                "action `{action}` (position {position} of the order) has options {first} and \
                 {second}, which a trace cannot tell apart (both are recorded as \
                 {recorded_as}): a pinned walk id or a replay could run the other one; give \
                 them distinct serialized forms or keep only one"
            ),
            Error::Merge { message } => write!(f, "cannot merge the shards: {message}"),
            Error::Covering { message } => write!(f, "cannot build the covering array: {message}"),
            Error::Unserializable {
                action,
                param,
                message,
            } => write!(
                f,
                "option {param} of action `{action}` cannot be serialized ({message}); options \
                 must serialize for fingerprints and traces"
            ),
        }
    }
}

impl std::error::Error for Error {}
