//! Settings of a run, from the builder and from `COMBTEST_*` environment variables.
//!
//! An environment variable overrides the setting made in code, so that a failing walk can be
//! replayed, or CI can change the thread count, without editing the test. An empty variable
//! counts as unset. A malformed value, and any `COMBTEST_*` variable combtest does not know,
//! is an error naming the variable: a typo must not silently run something else.

use std::num::NonZeroUsize;

use serde::Serialize;

use crate::walk_id::WalkSelection;
use crate::Error;

/// Selects walks by id: `17,40-45`, or `17@<fingerprint>` to check the walk did not change.
pub const ENV_WALKS: &str = "COMBTEST_WALKS";
/// Number of worker threads (a positive integer).
pub const ENV_THREADS: &str = "COMBTEST_THREADS";
/// Raises the gathering level: `flat` or `full` (never lowers what the code asks for).
pub const ENV_GATHER: &str = "COMBTEST_GATHER";

const KNOWN_VARIABLES: &[&str] = &[ENV_WALKS, ENV_THREADS, ENV_GATHER];

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
}

/// The settings a run uses, after the environment overrode what it sets.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) threads: usize,
    pub(crate) gather: Gather,
    /// The walks to run and where that list came from; `None` runs them all.
    pub(crate) walks: Option<(WalkSelection, String)>,
}

impl Settings {
    /// Applies the environment, read through `var` (the process environment in a run).
    pub(crate) fn resolve(
        &self,
        var: impl Fn(&str) -> Option<String>,
        variables: impl IntoIterator<Item = String>,
    ) -> Result<Resolved, Error> {
        for name in variables {
            if name.starts_with("COMBTEST_") && !KNOWN_VARIABLES.contains(&name.as_str()) {
                return Err(unknown_variable(&name));
            }
        }
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());

        let threads = match var(ENV_THREADS) {
            Some(text) => parse_threads(&text, ENV_THREADS)?,
            None => match self.threads {
                Some(n) => parse_threads(&n.to_string(), "threads")?,
                None => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            },
        };
        let gather = match var(ENV_GATHER) {
            Some(text) => Gather::parse(&text, ENV_GATHER)?.max(self.gather),
            None => self.gather,
        };
        let walks = match (var(ENV_WALKS), &self.walks) {
            (Some(text), _) => Some((WalkSelection::parse(&text, ENV_WALKS)?, ENV_WALKS.into())),
            (None, Some(text)) => Some((WalkSelection::parse(text, "walks")?, "walks".into())),
            (None, None) => None,
        };
        Ok(Resolved {
            threads,
            gather,
            walks,
        })
    }

    /// [`Settings::resolve`] against the process environment.
    pub(crate) fn resolve_from_env(&self) -> Result<Resolved, Error> {
        self.resolve(
            |name| std::env::var(name).ok(),
            std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
        )
    }
}

fn parse_threads(text: &str, source: &str) -> Result<usize, Error> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::InvalidSetting {
            source: source.into(),
            value: text.into(),
            detail: "expected a positive number of worker threads".into(),
        }),
    }
}

fn unknown_variable(name: &str) -> Error {
    let suggestion = KNOWN_VARIABLES
        .iter()
        .min_by_key(|known| edit_distance(name, known))
        .filter(|known| edit_distance(name, known) <= 3)
        .map(|known| format!("did you mean {known}? "))
        .unwrap_or_default();
    Error::InvalidSetting {
        source: name.into(),
        value: std::env::var(name).unwrap_or_default(),
        detail: format!(
            "combtest knows no such variable; {suggestion}known: {}",
            KNOWN_VARIABLES.join(", ")
        ),
    }
}

/// Levenshtein distance, for "did you mean" on a handful of short names.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(settings: &Settings, env: &[(&str, &str)]) -> Result<Resolved, Error> {
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        settings.resolve(lookup, env.iter().map(|(k, _)| k.to_string()))
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
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
