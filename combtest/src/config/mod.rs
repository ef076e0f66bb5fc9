//! What the user asked for: the settings made in code, resolved against the `COMBTEST_*`
//! environment variables ([`env`]).
//!
//! An environment variable overrides the setting made in code. A malformed value is an error
//! naming the variable, raised before any walk runs.

pub(crate) mod env;
pub(crate) mod log_dir;
pub(crate) mod replay;
pub(crate) mod shard;

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use self::env::{
    ENV_BLOCK, ENV_CONCURRENCY, ENV_GATHER, ENV_JUNIT, ENV_LOG_DIR, ENV_PROGRESS, ENV_REPLAY,
    ENV_SHARD, ENV_THREADS, ENV_TIMEOUT, ENV_VERBOSE, ENV_WALKS,
};
use self::replay::Replay;
use self::shard::Shard;
use crate::error::Error;
use crate::model::walk_id::WalkSelection;

/// Which final states a run hands back in its [`Report`](crate::Report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gather {
    /// No states (the default): memory stays flat however many walks run.
    #[default]
    Off,
    /// `Report::states`: the final state of every walk that ran, sorted by walk id.
    Flat,
    /// As `Flat`, plus `Report::walks`: each walk's id, outcome and branch, index by index.
    Full,
}

impl Gather {
    fn parse(text: &str, source: &str) -> Result<Self, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => Ok(Gather::Off),
            "flat" => Ok(Gather::Flat),
            "full" => Ok(Gather::Full),
            _ => Err(Error::InvalidSetting {
                source: source.into(),
                value: text.into(),
                detail: "expected `off`, `flat` or `full`".into(),
            }),
        }
    }
}

/// The settings made in code, before the environment is consulted.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) threads: Option<usize>,
    pub(crate) gather: Gather,
    pub(crate) walks: Option<String>,
    pub(crate) verbose: Option<u8>,
    pub(crate) log_dir: Option<PathBuf>,
    pub(crate) replay: Option<String>,
    pub(crate) progress: Option<bool>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) concurrency: Option<usize>,
    pub(crate) shard: Option<Shard>,
    pub(crate) covering: Option<Covering>,
    pub(crate) junit: Option<PathBuf>,
    /// Leave failures ungrouped and without causes.
    pub(crate) skip_analysis: bool,
    /// Extra walks at most to confirm suspected causes.
    pub(crate) confirm_causes: Option<u64>,
}

/// t-wise coverage instead of the full product: see [`Combtest::covering`](crate::Combtest::covering).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Covering {
    /// `None` until `covering(strength)` asks for an array.
    pub(crate) strength: Option<usize>,
    pub(crate) seed: u64,
    /// Walks that must be run, one JSON param per position.
    pub(crate) must_include: Vec<Vec<serde_json::Value>>,
    /// Unresolved combinations are an error before any walk runs, not a warning.
    pub(crate) strict: bool,
}

/// The settings a run uses, after the environment overrode what it sets.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) threads: usize,
    /// Whether the user set the threads (in code or `COMBTEST_THREADS`): a run that did not
    /// shares the machine with the other runs of the process.
    pub(crate) threads_told: bool,
    pub(crate) gather: Gather,
    /// The walks to run and where that list came from; `None` runs them all.
    pub(crate) walks: Option<(WalkSelection, String)>,
    /// `None`: no level asked for; events go to whatever subscriber the test installed.
    pub(crate) verbose: Option<u8>,
    pub(crate) log_dir: Option<PathBuf>,
    pub(crate) replay: Option<Replay>,
    /// `None`: decide from the terminal and `CI`.
    pub(crate) progress: Option<bool>,
    /// How long an async walk may run; after it a sync walk is named as stuck.
    pub(crate) timeout: Option<Duration>,
    /// `COMBTEST_TIMEOUT` as given, when the timeout came from it: a replay command sets it
    /// again, so that the walk it runs is stopped as it was.
    pub(crate) timeout_from_env: Option<String>,
    /// Async walks in flight per worker thread.
    pub(crate) concurrency: usize,
    pub(crate) shard: Option<Shard>,
    /// Where the shard was set: `COMBTEST_SHARD` or `shard`.
    pub(crate) shard_source: &'static str,
    pub(crate) covering: Option<Covering>,
    /// Where to write a JUnit XML file besides the run folder's.
    pub(crate) junit: Option<PathBuf>,
    pub(crate) skip_analysis: bool,
    pub(crate) confirm_causes: Option<u64>,
}

impl Settings {
    /// Applies the environment, read through `var` (the process environment in a run), to
    /// the test's run number `run_of_test` (1 for its first; see [`ENV_BLOCK`]).
    pub(crate) fn resolve(
        &self,
        var: impl Fn(&str) -> Option<OsString>,
        variables: impl IntoIterator<Item = OsString>,
        run_of_test: u32,
    ) -> Result<Resolved, Error> {
        env::check_names(variables)?;
        // A value that is not UTF-8 is an error naming its variable; an empty one is unset.
        let text = |name: &str| -> Result<Option<String>, Error> {
            match var(name) {
                Some(value) => Ok(Some(env::text_value(name, value)?)
                    .filter(|text: &String| !text.trim().is_empty())),
                None => Ok(None),
            }
        };
        // A path is taken as the system gives it: not trimmed, and not necessarily UTF-8.
        let path = |name: &str| var(name).filter(|value| !value.is_empty());
        let var = text;

        let (threads, threads_told) = match var(ENV_THREADS)? {
            Some(text) => (parse_threads(&text, ENV_THREADS)?, true),
            None => match self.threads {
                Some(n) => (parse_threads(&n.to_string(), "threads")?, true),
                None => (
                    std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
                    false,
                ),
            },
        };
        let gather = match var(ENV_GATHER)? {
            Some(text) => Gather::parse(&text, ENV_GATHER)?.max(self.gather),
            None => self.gather,
        };
        // The variables that select walks select them in every run of the test, or in the
        // one `COMBTEST_BLOCK` names. Every run reads and checks them all the same.
        let block = match var(ENV_BLOCK)? {
            Some(text) => Some(parse_block(&text, ENV_BLOCK)?),
            None => None,
        };
        let env_selects = block.is_none_or(|block| block == run_of_test);
        let walks_from_env = var(ENV_WALKS)?
            .map(|text| WalkSelection::parse(&text, ENV_WALKS))
            .transpose()?;
        let replay_from_env = path(ENV_REPLAY)
            .map(|text| Replay::parse_os(&text, ENV_REPLAY))
            .transpose()?;
        if let (Some(block), None, None) = (block, &walks_from_env, &replay_from_env) {
            return Err(Error::InvalidSetting {
                source: ENV_BLOCK.into(),
                value: block.to_string(),
                detail: format!(
                    "it says which run of the test {ENV_WALKS} or {ENV_REPLAY} selects walks \
                     of, and neither is set"
                ),
            });
        }
        let walks = match (walks_from_env.filter(|_| env_selects), &self.walks) {
            (Some(selection), _) => Some((selection, ENV_WALKS.into())),
            (None, Some(text)) => Some((WalkSelection::parse(text, "walks")?, "walks".into())),
            (None, None) => None,
        };
        let verbose = match var(ENV_VERBOSE)? {
            Some(text) => Some(parse_verbosity(&text, ENV_VERBOSE)?),
            None => match self.verbose {
                Some(level) => Some(parse_verbosity(&level.to_string(), "verbose")?),
                None => None,
            },
        };
        let log_dir = path(ENV_LOG_DIR)
            .map(PathBuf::from)
            .or_else(|| self.log_dir.clone());
        let replay = match (replay_from_env.filter(|_| env_selects), &self.replay) {
            (Some(replay), _) => Some(replay),
            (None, Some(text)) => Some(Replay::parse(text, "replay")?),
            (None, None) => None,
        };
        if let (Some(replay), Some((_, walks_source))) = (&replay, &walks) {
            return Err(Error::InvalidSetting {
                source: replay.source.clone(),
                value: replay.path.display().to_string(),
                detail: format!(
                    "{walks_source} selects walks too; a replay selects the walks it runs from \
                     the trace (`path@17,40-45` for recorded ids), so set only one of them"
                ),
            });
        }
        let timeout_from_env = var(ENV_TIMEOUT)?;
        let timeout = match &timeout_from_env {
            Some(text) => Some(parse_duration(text, ENV_TIMEOUT)?),
            None if self.timeout == Some(Duration::ZERO) => {
                return Err(Error::InvalidSetting {
                    source: "timeout".into(),
                    value: "0s".into(),
                    detail: "expected a positive duration; a zero timeout would fail every walk"
                        .into(),
                })
            }
            None => self.timeout,
        };
        let concurrency = match var(ENV_CONCURRENCY)? {
            Some(text) => parse_concurrency(&text, ENV_CONCURRENCY)?,
            None => match self.concurrency {
                Some(n) => parse_concurrency(&n.to_string(), "concurrency")?,
                None => DEFAULT_CONCURRENCY,
            },
        };
        let progress = match var(ENV_PROGRESS)? {
            Some(text) => Some(parse_switch(&text, ENV_PROGRESS)?),
            None => self.progress,
        };
        let (shard, shard_source) = match var(ENV_SHARD)? {
            Some(text) => (Some(shard::parse(&text, ENV_SHARD, &var)?), ENV_SHARD),
            None => {
                let shard = self.shard.map(|shard| shard.checked("shard")).transpose()?;
                (shard, "shard")
            }
        };
        let junit = path(ENV_JUNIT)
            .map(PathBuf::from)
            .or_else(|| self.junit.clone());
        Ok(Resolved {
            junit,
            skip_analysis: self.skip_analysis,
            confirm_causes: self.confirm_causes,
            threads,
            threads_told,
            gather,
            walks,
            verbose,
            log_dir,
            replay,
            progress,
            timeout,
            timeout_from_env,
            concurrency,
            shard,
            shard_source,
            covering: self.covering.clone(),
        })
    }

    /// [`Settings::resolve`] against the process environment.
    pub(crate) fn resolve_from_env(&self, run_of_test: u32) -> Result<Resolved, Error> {
        self.resolve(env::process_var, env::process_names(), run_of_test)
    }
}

/// The most worker threads a run takes: more than any machine's cores, fewer than the
/// threads a system refuses to spawn. Walks waiting on I/O need no thread each (see
/// `COMBTEST_CONCURRENCY`).
pub(crate) const MAX_THREADS: usize = 1024;

fn parse_threads(text: &str, source: &str) -> Result<usize, Error> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        Ok(n) if n > MAX_THREADS => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: format!(
                "at most {MAX_THREADS} worker threads; async walks waiting on I/O need no \
                 thread each (see COMBTEST_CONCURRENCY)"
            ),
        }),
        _ => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: format!("expected a positive number of worker threads, at most {MAX_THREADS}"),
        }),
    }
}

/// Async walks each worker thread keeps in flight unless told otherwise: enough that walks
/// waiting on I/O or timers keep both cores of a small machine busy.
pub(crate) const DEFAULT_CONCURRENCY: usize = 64;

fn parse_concurrency(text: &str, source: &str) -> Result<usize, Error> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: "expected a positive number of async walks in flight per worker thread".into(),
        }),
    }
}

/// `30s`, `500ms`, `2m`, `1h`, or a plain number of seconds (`1.5`).
pub(crate) fn parse_duration(text: &str, source: &str) -> Result<Duration, Error> {
    let text_trimmed = text.trim();
    let (number, unit) = match text_trimmed.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text_trimmed.split_at(at),
        None => (text_trimmed, "s"),
    };
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|n| n * scale)
        .filter(|seconds| *seconds > 0.0)
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: "expected a positive duration such as `30s`, `500ms`, `2m` or `1.5`".into(),
        })
}

/// A run of the test, 1-based.
fn parse_block(text: &str, source: &str) -> Result<u32, Error> {
    match text.trim().parse::<u32>() {
        Ok(run) if run >= 1 => Ok(run),
        _ => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: "expected the number of a run of the test, 1 for its first".into(),
        }),
    }
}

fn parse_verbosity(text: &str, source: &str) -> Result<u8, Error> {
    match text.trim().parse::<u8>() {
        Ok(level) if level <= 3 => Ok(level),
        _ => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: "expected 0 (warn), 1 (info), 2 (debug) or 3 (trace)".into(),
        }),
    }
}

fn parse_switch(text: &str, source: &str) -> Result<bool, Error> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: "expected `on` or `off`".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(settings: &Settings, env: &[(&str, &str)]) -> Result<Resolved, Error> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        };
        settings.resolve(lookup, env.iter().map(|(k, _)| OsString::from(k)), 1)
    }

    #[test]
    fn environment_overrides_code() {
        let settings = Settings {
            threads: Some(3),
            ..Settings::default()
        };
        assert_eq!(resolve(&settings, &[]).unwrap().threads, 3);
        assert_eq!(
            resolve(&settings, &[(ENV_THREADS, "5")]).unwrap().threads,
            5
        );
        assert_eq!(
            resolve(&settings, &[(ENV_THREADS, " ")]).unwrap().threads,
            3
        );
    }

    #[test]
    fn gather_from_the_environment_only_raises() {
        let settings = Settings {
            gather: Gather::Flat,
            ..Settings::default()
        };
        assert_eq!(
            resolve(&settings, &[(ENV_GATHER, "off")]).unwrap().gather,
            Gather::Flat
        );
        assert_eq!(
            resolve(&settings, &[(ENV_GATHER, "full")]).unwrap().gather,
            Gather::Full
        );
    }

    #[test]
    fn malformed_values_name_the_variable() {
        for (name, value) in [
            (ENV_THREADS, "0"),
            (ENV_THREADS, "many"),
            (ENV_GATHER, "all"),
            (ENV_WALKS, "1-x"),
            (ENV_VERBOSE, "4"),
            (ENV_PROGRESS, "maybe"),
            (ENV_REPLAY, "@all"),
        ] {
            let err = resolve(&Settings::default(), &[(name, value)]).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(name) && text.contains(value), "{text}");
        }
    }

    #[test]
    fn unknown_variables_are_errors_with_a_suggestion() {
        let err = resolve(&Settings::default(), &[("COMBTEST_WALK", "3")]).unwrap_err();
        assert!(
            err.to_string().contains("did you mean COMBTEST_WALKS?"),
            "{err}"
        );
        assert!(resolve(&Settings::default(), &[("OTHER_WALK", "3")]).is_ok());
    }

    #[test]
    fn walks_from_code_and_environment() {
        let settings = Settings {
            walks: Some("1-2".into()),
            ..Settings::default()
        };
        let (selection, source) = resolve(&settings, &[]).unwrap().walks.unwrap();
        assert_eq!((selection.len(), source.as_str()), (2, "walks"));
        let (selection, source) = resolve(&settings, &[(ENV_WALKS, "7")])
            .unwrap()
            .walks
            .unwrap();
        assert_eq!((selection.len(), source.as_str()), (1, ENV_WALKS));
    }

    #[test]
    fn the_walks_the_environment_selects_are_those_of_one_run_of_the_test() {
        let lookup = |env: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                env.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let names = |env: &[(&str, &str)]| -> Vec<OsString> {
            env.iter().map(|(k, _)| OsString::from(k)).collect()
        };
        let in_code = Settings {
            walks: Some("1".into()),
            ..Settings::default()
        };
        let selected = |env: &'static [(&'static str, &'static str)], run: u32| {
            in_code
                .resolve(lookup(env), names(env), run)
                .unwrap()
                .walks
                .map(|(selection, source)| (selection.len(), source))
        };
        // Every run by default, the one named otherwise; the others keep the code's.
        let walks: &[(&str, &str)] = &[(ENV_WALKS, "3-5")];
        assert_eq!(selected(walks, 1), Some((3, ENV_WALKS.to_string())));
        assert_eq!(selected(walks, 2), Some((3, ENV_WALKS.to_string())));
        let second: &[(&str, &str)] = &[(ENV_WALKS, "3-5"), (ENV_BLOCK, "2")];
        assert_eq!(selected(second, 1), Some((1, "walks".to_string())));
        assert_eq!(selected(second, 2), Some((3, ENV_WALKS.to_string())));
        // Every run checks the variables, the ones they do not select for too.
        let bad: &[(&str, &str)] = &[(ENV_WALKS, "x"), (ENV_BLOCK, "2")];
        assert!(in_code.resolve(lookup(bad), names(bad), 1).is_err());
        for block in ["0", "-1", "two"] {
            let err = resolve(
                &Settings::default(),
                &[(ENV_WALKS, "1"), (ENV_BLOCK, block)],
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains(ENV_BLOCK), "{block}: {err}");
        }
        let err = resolve(&Settings::default(), &[(ENV_BLOCK, "2")]).unwrap_err();
        assert!(err.to_string().contains("neither is set"), "{err}");
    }

    #[test]
    fn replay_and_walks_are_exclusive() {
        let err = resolve(
            &Settings::default(),
            &[(ENV_REPLAY, "t.jsonl"), (ENV_WALKS, "3")],
        )
        .unwrap_err();
        assert!(err.to_string().contains("set only one of them"), "{err}");
    }

    #[test]
    fn a_zero_timeout_is_refused_from_code_as_from_the_variable() {
        let settings = Settings {
            timeout: Some(Duration::ZERO),
            ..Settings::default()
        };
        let err = resolve(&settings, &[]).unwrap_err().to_string();
        assert!(err.contains("timeout") && err.contains("positive"), "{err}");
        let err = resolve(&Settings::default(), &[(ENV_TIMEOUT, "0")]).unwrap_err();
        assert!(err.to_string().contains("positive duration"), "{err}");
        let settings = Settings {
            timeout: Some(Duration::from_nanos(1)),
            ..Settings::default()
        };
        assert!(resolve(&settings, &[]).is_ok());
    }

    #[test]
    fn timeouts_and_concurrency() {
        let resolved = resolve(
            &Settings::default(),
            &[(ENV_TIMEOUT, "250ms"), (ENV_CONCURRENCY, "8")],
        )
        .unwrap();
        assert_eq!(resolved.timeout, Some(Duration::from_millis(250)));
        // Kept as given, for the replay commands.
        assert_eq!(resolved.timeout_from_env.as_deref(), Some("250ms"));
        assert_eq!(resolved.concurrency, 8);
        let resolved = resolve(&Settings::default(), &[]).unwrap();
        assert_eq!(
            (resolved.timeout, resolved.concurrency),
            (None, DEFAULT_CONCURRENCY)
        );
        for (text, seconds) in [("30s", 30.0), ("2m", 120.0), ("1.5", 1.5), ("1h", 3600.0)] {
            assert_eq!(
                parse_duration(text, "t").unwrap().as_secs_f64(),
                seconds,
                "{text}"
            );
        }
        for bad in ["0s", "-1s", "fast", "3 fortnights", ""] {
            let err = parse_duration(bad, ENV_TIMEOUT).unwrap_err().to_string();
            assert!(err.contains(ENV_TIMEOUT), "{bad}: {err}");
        }
        assert!(resolve(&Settings::default(), &[(ENV_CONCURRENCY, "0")]).is_err());
    }

    #[test]
    fn verbosity_and_progress() {
        let resolved = resolve(
            &Settings::default(),
            &[(ENV_VERBOSE, "2"), (ENV_PROGRESS, "off")],
        )
        .unwrap();
        assert_eq!(
            (resolved.verbose, resolved.progress),
            (Some(2), Some(false))
        );
        let resolved = resolve(&Settings::default(), &[]).unwrap();
        assert_eq!((resolved.verbose, resolved.progress), (None, None));
    }
}
