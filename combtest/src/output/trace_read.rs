//! Reading a trace back: its header, the full records of the walks that did not pass, and the
//! runs of passing walks, whose options follow from their ids and the header.
//!
//! A replay reads traces through [`for_each_line`]; [`read_trace`] gives every recorded walk
//! as a [`WalkRecord`], passing walks included.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use super::trace::{PassedRun, TraceHeader, WalkRecord, TRACE_FILE, TRACE_FORMAT, TRACE_VERSION};
use crate::error::Error;
use crate::model::action::option_hash;
use crate::model::outcome::Outcome;
use crate::model::walk_id::{Fingerprint, WalkSpace};

/// The longest line a trace record may take. A record holds a walk's params as JSON: far
/// less than this, unless the file is not a trace at all (`/dev/zero`, a binary file).
pub(crate) const MAX_RECORD_BYTES: u64 = 16 << 20;

/// The longest header: it holds every option of every action, which an action with
/// millions of options takes past [`MAX_RECORD_BYTES`]. Only a first line that opens as a
/// trace header is read this far.
pub(crate) const MAX_HEADER_BYTES: u64 = 1 << 30;

/// How a trace header's line begins (its first field is written first).
const HEADER_START: &[u8] = br#"{"trace":"combtest""#;

/// One line of a trace.
pub(crate) enum TraceLine {
    /// The first line: the order and its options.
    Header(Box<TraceHeader>),
    /// Consecutive walks that all passed.
    Passed(PassedRun),
    /// A walk's full record (one that failed or was cancelled, or any walk of a trace without
    /// runs of passing walks).
    Walk(Box<WalkRecord>),
}

/// What a line is, from its fields: `trace` opens the header, `passed` a run of passing walks,
/// anything else is a walk's record.
fn parse_line(text: &str) -> Result<TraceLine, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    if value.get("passed").is_some() {
        serde_json::from_value(value).map(TraceLine::Passed)
    } else if value.get("trace").is_some() && value.get("walk_id").is_none() {
        serde_json::from_value(value).map(|h| TraceLine::Header(Box::new(h)))
    } else {
        serde_json::from_value(value).map(|w| TraceLine::Walk(Box::new(w)))
    }
}

/// Calls `visit` with each line of the trace file `trace` and its number. Each line is at most
/// [`MAX_RECORD_BYTES`] long. A last line cut short, as a killed run leaves it, is skipped
/// with a warning; every whole line before it is read.
pub(crate) fn for_each_line(
    trace: &Path,
    shown_path: &Path,
    mut visit: impl FnMut(usize, TraceLine) -> Result<(), String>,
) -> Result<(), String> {
    let file = File::open(trace).map_err(|e| format!("cannot open the trace file: {e}"))?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    for line_number in 1.. {
        line.clear();
        let read = (&mut reader)
            .take(MAX_RECORD_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read the trace file: {e}"))?;
        if read == 0 {
            break;
        }
        let mut read = read as u64;
        if line_number == 1
            && read > MAX_RECORD_BYTES
            && line.last() != Some(&b'\n')
            && line.starts_with(HEADER_START)
        {
            read += (&mut reader)
                .take(MAX_HEADER_BYTES - read + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("cannot read the trace file: {e}"))?
                as u64;
        }
        let whole = line.last() == Some(&b'\n');
        let limit = if line.starts_with(HEADER_START) && line_number == 1 {
            MAX_HEADER_BYTES
        } else {
            MAX_RECORD_BYTES
        };
        if !whole && read > limit {
            return Err(format!(
                "line {line_number} is longer than {} MiB: not a combtest walk record; is \
                 this a trace.jsonl file?",
                limit >> 20
            ));
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(&text) {
            Ok(parsed) => visit(line_number, parsed)?,
            // The last line, cut short: the run that wrote it was killed mid-record.
            Err(e) if !whole && e.is_eof() => {
                tracing::warn!(
                    trace = %shown_path.display(),
                    line = line_number,
                    "the trace's last record is cut short (the run that wrote it was \
                     stopped); reading the whole records before it"
                );
                break;
            }
            Err(e) => {
                return Err(format!(
                    "line {line_number} is not a combtest walk record ({e}); is this a \
                     trace.jsonl file?"
                ))
            }
        }
    }
    Ok(())
}

/// A trace's header made ready to describe the walks of its runs of passing walks.
pub(crate) struct Decoder {
    header: TraceHeader,
    /// How the run numbered its walks, when it wrote runs of passing walks (it did only when
    /// ids number the full product; a covering array's rows are written as full records).
    space: Option<WalkSpace>,
    option_hashes: Vec<Vec<u64>>,
}

impl Decoder {
    /// Checks the header and numbers its walks as the run that wrote it did.
    pub(crate) fn new(header: TraceHeader) -> Result<Self, String> {
        if header.trace != TRACE_FORMAT {
            return Err(format!(
                "the header names the format {:?}, not {TRACE_FORMAT:?}",
                header.trace
            ));
        }
        // Another version may number or write its walks otherwise: decoding it as this one
        // could name the wrong walks.
        if header.version != TRACE_VERSION {
            return Err(format!(
                "the trace is of version {} of its format; this combtest reads version \
                 {TRACE_VERSION}: replay it with the combtest that wrote it",
                header.version
            ));
        }
        let radices: Vec<usize> = header.actions.iter().map(|a| a.options.len()).collect();
        let serial: Vec<bool> = header.actions.iter().map(|a| a.serial).collect();
        let space = match header.passed_runs {
            true => Some(
                WalkSpace::new(&radices, &serial)
                    .map_err(|e| format!("the header's order cannot be numbered: {e}"))?,
            ),
            false => None,
        };
        let option_hashes = header
            .actions
            .iter()
            .map(|a| {
                let hashes = a.options.iter().map(|o| option_hash(&a.action, &o.param));
                hashes.collect()
            })
            .collect();
        Ok(Decoder {
            header,
            space,
            option_hashes,
        })
    }

    /// The record of walk `id` of a run of passing walks.
    pub(crate) fn passing_walk(&self, id: u64) -> Result<WalkRecord, String> {
        let Some(space) = &self.space else {
            return Err(format!(
                "a run of passing walks holds walk {id}, but the header says this trace \
                 records every walk in full"
            ));
        };
        if id >= space.total() {
            return Err(format!(
                "walk {id} is past the {} walks of the trace's order",
                space.total()
            ));
        }
        let mut options = vec![0; self.header.actions.len()];
        space.decode(id, &mut options);
        let steps = self
            .header
            .actions
            .iter()
            .zip(&options)
            .map(|(action, &option)| super::trace::RecordedStep {
                action: action.action.clone(),
                param: action.options[option].param.clone(),
                param_debug: action.options[option].param_debug.clone(),
            })
            .collect();
        let branch = (self.header.actions.iter().zip(&options))
            .filter(|(action, _)| action.serial)
            .map(|(_, &option)| option)
            .collect();
        Ok(WalkRecord {
            walk_id: id,
            fingerprint: Fingerprint::of(&self.option_hashes, &options).to_string(),
            branch,
            steps,
            outcome: outcome_name(&Outcome::Pass).into(),
            error: None,
            failed_action: None,
            failed_position: None,
            duration_ns: 0,
        })
    }
}

/// How a trace writes an outcome.
pub(crate) fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Cancel { .. } => "cancel",
    }
}

/// Every walk a trace records, in the order of its lines: the full records of the walks that
/// failed or were cancelled, and each walk of its runs of passing walks, described from the
/// trace's header (a passing walk read from a run has `duration_ns` 0: the run records the
/// total of its walks). `path` is a run's folder or its `trace.jsonl`.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = 0..4)]
/// fn add(n: u32, total: &mut u32) -> Result<(), String> {
///     *total += n;
///     if *total == 5 { Err("five".into()) } else { Ok(()) }
/// }
///
/// let dir = std::env::temp_dir().join(format!("combtest-doc-read-trace-{}", std::process::id()));
/// let report = Combtest::new(0u32).then(add::action()).then(add::action()).log_dir(&dir).run().unwrap();
/// let walks = combtest::read_trace(report.run_folder.as_ref().unwrap()).unwrap();
/// assert_eq!(walks.len(), 16);
/// let failed: Vec<u64> = walks.iter().filter(|w| w.outcome == "fail").map(|w| w.walk_id).collect();
/// assert_eq!(failed.len(), 2); // 2 + 3 and 3 + 2
/// assert!(walks.iter().all(|w| w.steps.len() == 2));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_trace(path: impl AsRef<Path>) -> Result<Vec<WalkRecord>, Error> {
    let path = path.as_ref();
    let fail = |message: String| Error::Replay {
        path: path.to_path_buf(),
        message,
    };
    let trace = trace_path(path).map_err(fail)?;
    let mut decoder: Option<Decoder> = None;
    let mut walks = Vec::new();
    for_each_line(&trace, path, |line_number, line| {
        match line {
            TraceLine::Header(header) => {
                if decoder.is_some() {
                    return Err(second_header(line_number));
                }
                decoder = Some(Decoder::new(*header)?);
            }
            TraceLine::Walk(walk) => walks.push(*walk),
            TraceLine::Passed(run) => {
                let decoder = decoder.as_ref().ok_or_else(|| no_header(line_number))?;
                for id in run_ids(&run, line_number)? {
                    walks.push(decoder.passing_walk(id)?);
                }
            }
        }
        Ok(())
    })
    .map_err(fail)?;
    Ok(walks)
}

/// The ids of a run of passing walks, both ends included; an empty run is an error, as no
/// run combtest writes is empty.
pub(crate) fn run_ids(run: &PassedRun, line_number: usize) -> Result<RangeInclusive<u64>, String> {
    let [first, last] = run.passed;
    if first > last {
        return Err(format!(
            "line {line_number} records the empty run {first}..{last}"
        ));
    }
    Ok(first..=last)
}

/// The trace a replay reads: the path itself when it is a regular file, or the
/// [`TRACE_FILE`] inside it when it is a run's folder, as the failure report prints it.
///
/// Only a regular file is read: a FIFO would block forever, a device never end.
pub(crate) fn trace_path(path: &Path) -> Result<PathBuf, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot open the trace file: {e}"))?;
    if metadata.is_dir() {
        let trace = path.join(TRACE_FILE);
        return match std::fs::metadata(&trace) {
            Ok(inner) if inner.is_file() => Ok(trace),
            Ok(_) => Err(format!(
                "the folder's {TRACE_FILE} is not a regular file (a folder, a FIFO or a device)"
            )),
            Err(e) => Err(format!(
                "a folder without a readable {TRACE_FILE} ({e}): a replay takes a run's folder \
                 or its {TRACE_FILE}"
            )),
        };
    }
    if !metadata.is_file() {
        return Err(format!(
            "not a regular file or a folder (a FIFO or a device): a replay takes a run's \
             folder or its {TRACE_FILE}"
        ));
    }
    Ok(path.to_path_buf())
}

/// The error of a header that is not the first.
pub(crate) fn second_header(line_number: usize) -> String {
    format!(
        "line {line_number} opens another trace: a trace records one run (are two runs' \
         traces joined?)"
    )
}

/// The error of a run of passing walks before any header.
pub(crate) fn no_header(line_number: usize) -> String {
    format!(
        "line {line_number} records a run of passing walks, but no header before it says \
         which walks its ids are"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::trace::{TraceAction, TraceOption};

    /// The header of a trace of one action, `pick`, with `options` options `0..options`.
    fn header(options: u64, version: u32) -> TraceHeader {
        TraceHeader {
            trace: TRACE_FORMAT.into(),
            version,
            passed_runs: true,
            actions: vec![TraceAction {
                action: "pick".into(),
                serial: false,
                options: (0..options)
                    .map(|n| TraceOption {
                        param: serde_json::json!(n),
                        param_debug: n.to_string(),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn a_header_longer_than_a_record_is_read_whole() {
        // An action with half a million options: a header line over 16 MiB.
        let header = header(500_000, TRACE_VERSION);
        let mut text = serde_json::to_string(&header).unwrap();
        assert!(text.len() as u64 > MAX_RECORD_BYTES);
        text.push_str("\n{\"passed\":[0,499999],\"duration_ns\":7}\n");
        let path =
            std::env::temp_dir().join(format!("combtest-big-header-{}.jsonl", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let mut seen = Vec::new();
        let read = for_each_line(&path, &path, |number, line| {
            seen.push(match line {
                TraceLine::Header(header) => (number, header.actions[0].options.len() as u64),
                TraceLine::Passed(run) => (number, run.passed[1]),
                TraceLine::Walk(_) => (number, u64::MAX),
            });
            Ok(())
        });
        std::fs::remove_file(&path).unwrap();
        read.unwrap();
        assert_eq!(seen, [(1, 500_000), (2, 499_999)]);
    }

    #[test]
    fn a_header_of_another_version_is_refused() {
        assert!(Decoder::new(header(1, TRACE_VERSION)).is_ok());
        let refused = Decoder::new(header(1, TRACE_VERSION + 1)).err().unwrap();
        let named = format!("version {} of its format", TRACE_VERSION + 1);
        assert!(refused.contains(&named), "{refused}");
    }

    #[test]
    fn an_empty_run_is_refused_by_reading_and_by_replay_alike() {
        let header = header(9, TRACE_VERSION);
        let mut text = serde_json::to_string(&header).unwrap();
        text.push_str(
            "\n{\"passed\":[0,3],\"duration_ns\":7}\n{\"passed\":[6,5],\"duration_ns\":1}\n",
        );
        let path =
            std::env::temp_dir().join(format!("combtest-empty-run-{}.jsonl", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let read = read_trace(&path);
        std::fs::remove_file(&path).unwrap();
        let message = read.expect_err("an empty run is an error").to_string();
        assert!(
            message.contains("line 3 records the empty run 6..5"),
            "{message}"
        );
        let run = PassedRun {
            passed: [2, 4],
            duration_ns: 0,
        };
        assert_eq!(run_ids(&run, 2), Ok(2..=4));
    }
}
