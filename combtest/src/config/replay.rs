//! The replay request: which recorded walks of a trace file to run again.

use std::ffi::OsStr;
use std::path::PathBuf;

use crate::error::Error;
use crate::model::walk_id::WalkSelection;

/// Which recorded walks of a trace file to run again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Replay {
    pub(crate) path: PathBuf,
    pub(crate) walks: ReplayWalks,
    /// Where the request came from, for errors.
    pub(crate) source: String,
}

/// The recorded walks a replay runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReplayWalks {
    /// The walks recorded as failed (the default).
    Failed,
    /// Every recorded walk.
    All,
    /// These recorded ids.
    Ids(WalkSelection),
}

impl Replay {
    /// `path`, `path@all` or `path@17,40-45`. A path may contain `@` itself: only a suffix
    /// that reads as `all` or as walk ids is taken as the selection.
    pub(crate) fn parse(text: &str, source: &str) -> Result<Self, Error> {
        let (path, walks) = match text.rsplit_once('@') {
            Some((path, "all")) => (path, ReplayWalks::All),
            Some((path, ids)) if ids.trim().starts_with(|c: char| c.is_ascii_digit()) => {
                (path, ReplayWalks::Ids(WalkSelection::parse(ids, source)?))
            }
            _ => (text, ReplayWalks::Failed),
        };
        Replay::from_parts(text, PathBuf::from(path), walks, source)
    }

    /// [`Replay::parse`] of a variable's value, whose path part need not be UTF-8 (it is a
    /// path, taken as the system gives it); the selection after `@` must be.
    pub(crate) fn parse_os(text: &OsStr, source: &str) -> Result<Self, Error> {
        if let Some(text) = text.to_str() {
            return Replay::parse(text, source);
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let bytes = text.as_bytes();
            let lossy = text.to_string_lossy();
            let selection = bytes.iter().rposition(|&b| b == b'@').and_then(|at| {
                let suffix = std::str::from_utf8(&bytes[at + 1..]).ok()?;
                let walks = match suffix {
                    "all" => ReplayWalks::All,
                    ids if ids.trim().starts_with(|c: char| c.is_ascii_digit()) => {
                        return Some(
                            WalkSelection::parse(ids, source)
                                .map(|ids| (at, ReplayWalks::Ids(ids))),
                        )
                    }
                    _ => return None,
                };
                Some(Ok((at, walks)))
            });
            let (path, walks) = match selection.transpose()? {
                Some((at, walks)) => (OsStr::from_bytes(&bytes[..at]), walks),
                None => (text, ReplayWalks::Failed),
            };
            Replay::from_parts(&lossy, PathBuf::from(path), walks, source)
        }
        #[cfg(not(unix))]
        Err(Error::InvalidSetting {
            source: source.into(),
            value: text.to_string_lossy().into_owned(),
            detail: "the value is not valid UTF-8".into(),
        })
    }

    /// A replay of the trace at `path`, which is taken as given: a path is never trimmed.
    fn from_parts(
        text: &str,
        path: PathBuf,
        walks: ReplayWalks,
        source: &str,
    ) -> Result<Self, Error> {
        if path.as_os_str().to_string_lossy().trim().is_empty() {
            return Err(Error::InvalidSetting {
                source: source.into(),
                value: text.into(),
                detail: "expected a run's folder or its trace file, optionally followed by `@all` or `@17,40-45`"
                    .into(),
            });
        }
        Ok(Replay {
            path,
            walks,
            source: source.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::ENV_REPLAY;

    #[test]
    fn replay_specs() {
        let replay = Replay::parse("t/trace.jsonl", ENV_REPLAY).unwrap();
        assert_eq!(replay.path, PathBuf::from("t/trace.jsonl"));
        assert_eq!(replay.walks, ReplayWalks::Failed);
        assert_eq!(
            Replay::parse("a@b/t.jsonl@all", "x").unwrap().walks,
            ReplayWalks::All
        );
        let ids = Replay::parse("a@b/t.jsonl@3,5-6", "x").unwrap();
        assert_eq!(ids.path, PathBuf::from("a@b/t.jsonl"));
        assert!(matches!(ids.walks, ReplayWalks::Ids(s) if s.len() == 3));
        // A suffix that is not a selection belongs to the path.
        assert_eq!(
            Replay::parse("me@host.jsonl", "x").unwrap().path,
            PathBuf::from("me@host.jsonl")
        );
    }
}
