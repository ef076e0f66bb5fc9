//! Both ends of a replay: the command a failure report prints to run one walk again, the
//! check that a pinned walk id still names the same walk, and reading a trace back to find
//! its recorded walks in today's order.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::test_location::RunLocation;
use super::trace::{WalkRecord, TRACE_FILE};
use crate::config::env::{ENV_REPLAY, ENV_WALKS};
use crate::config::replay::{Replay, ReplayWalks};
use crate::error::Error;
use crate::model::plan::OrderFacts;
use crate::model::walk_id::{Fingerprint, WalkSelection};

/// The replay command of one walk: the id pinned to its fingerprint, and the test command.
pub(crate) fn replay_command(
    location: &RunLocation,
    walk_id: u64,
    fingerprint: Fingerprint,
) -> String {
    let walks = format!("{ENV_WALKS}={walk_id}@{fingerprint}");
    match &location.command {
        Some(command) => format!("{walks} {command}"),
        None => format!("{walks} (set it and run this program again)"),
    }
}

/// The command that replays the failed walks recorded in the run folder `folder`.
pub(crate) fn replay_run_command(location: &RunLocation, folder: &Path) -> String {
    let replay = format!("{ENV_REPLAY}={}", shell_word(&folder.to_string_lossy()));
    match &location.command {
        Some(command) => format!("{replay} {command}"),
        None => format!("{replay} (set it and run this program again)"),
    }
}

/// `text` as one word of a POSIX shell: as it is when it holds only characters no shell
/// treats specially, else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:,@=%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Refuses ids given with a fingerprint that no longer matches today's walk.
pub(crate) fn check_fingerprints(
    plan: &OrderFacts,
    selection: &WalkSelection,
) -> Result<(), Error> {
    /// How far to look for the walk's new id; beyond it the error only says it moved.
    const SEARCH_LIMIT: u64 = 10_000_000;
    let mut options = vec![0; plan.names.len()];
    for &(id, expected) in selection.pinned() {
        plan.space.decode(id, &mut options);
        let actual = plan.fingerprint(&options);
        if actual != expected {
            return Err(Error::StaleWalk {
                id,
                expected: expected.to_string(),
                actual: actual.to_string(),
                now_at: plan.find_fingerprint(expected, SEARCH_LIMIT),
            });
        }
    }
    Ok(())
}

/// The longest line a trace record may take. A record holds a walk's params as JSON: far
/// less than this, unless the file is not a trace at all (`/dev/zero`, a binary file).
pub(crate) const MAX_RECORD_BYTES: u64 = 16 << 20;

/// Reads the walks a replay asks for from a trace file (or a run's folder holding one) and finds each one in today's order,
/// by action name and param value. Returns today's ids.
///
/// Only a regular file is read (a FIFO would block forever, a device never end), each record
/// at most [`MAX_RECORD_BYTES`] long. A last line cut short, as a killed run leaves it, is
/// skipped with a warning; every whole record before it is replayed.
pub(crate) fn replay_selection(plan: &OrderFacts, replay: &Replay) -> Result<WalkSelection, Error> {
    let fail = |message: String| Error::Replay {
        path: replay.path.clone(),
        message,
    };
    let trace = trace_path(&replay.path).map_err(fail)?;
    let file = File::open(&trace).map_err(|e| fail(format!("cannot open the trace file: {e}")))?;
    let mut reader = BufReader::new(file);
    let mut ids = Vec::new();
    let mut recorded = 0u64;
    // The line of each recorded id, to name both lines of an id recorded twice.
    let mut lines_of: HashMap<u64, usize> = HashMap::new();
    let mut line = Vec::new();
    for line_number in 1.. {
        line.clear();
        let read = (&mut reader)
            .take(MAX_RECORD_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| fail(format!("cannot read the trace file: {e}")))?;
        if read == 0 {
            break;
        }
        let whole = line.last() == Some(&b'\n');
        if !whole && read as u64 > MAX_RECORD_BYTES {
            return Err(fail(format!(
                "line {line_number} is longer than {} MiB: not a combtest walk record; is \
                 this a trace.jsonl file?",
                MAX_RECORD_BYTES >> 20
            )));
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let record: WalkRecord = match serde_json::from_str(&text) {
            Ok(record) => record,
            // The last line, cut short: the run that wrote it was killed mid-record.
            Err(e) if !whole && e.is_eof() => {
                tracing::warn!(
                    trace = %replay.path.display(),
                    line = line_number,
                    "the trace's last record is cut short (the run that wrote it was \
                     stopped); replaying the {recorded} whole records before it"
                );
                break;
            }
            Err(e) => {
                return Err(fail(format!(
                    "line {line_number} is not a combtest walk record ({e}); is this a \
                     trace.jsonl file?"
                )))
            }
        };
        if let Some(first) = lines_of.insert(record.walk_id, line_number) {
            return Err(fail(format!(
                "walk {} is recorded twice, on lines {first} and {line_number}; a trace \
                 records each walk of one run once (are two runs' traces joined?)",
                record.walk_id
            )));
        }
        recorded += 1;
        let wanted = match &replay.walks {
            ReplayWalks::Failed => record.outcome == "fail",
            ReplayWalks::All => true,
            ReplayWalks::Ids(selection) => selection.contains(record.walk_id),
        };
        if wanted {
            ids.push(find_walk(plan, &record).map_err(fail)?);
        }
    }
    if let ReplayWalks::Ids(selection) = &replay.walks {
        if ids.len() as u64 != selection.len() {
            return Err(fail(format!(
                "the trace has {} of the {} walks asked for",
                ids.len(),
                selection.len()
            )));
        }
    }
    if ids.is_empty() {
        let what = if recorded == 0 {
            "no walk"
        } else {
            "no failed walk"
        };
        return Err(fail(format!(
            "the trace records {what} to replay; `{}@all` replays every recorded walk",
            replay.path.display()
        )));
    }
    Ok(WalkSelection::from_ids(ids))
}

/// The trace a replay reads: the path itself when it is a regular file, or the
/// [`TRACE_FILE`] inside it when it is a run's folder, as the failure report prints it.
///
/// Only a regular file is read: a FIFO would block forever, a device never end.
fn trace_path(path: &Path) -> Result<PathBuf, String> {
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

/// Today's id of a recorded walk: each recorded param matched by value against today's
/// options of the action at the same position.
fn find_walk(plan: &OrderFacts, record: &WalkRecord) -> Result<u64, String> {
    let names: Vec<&str> = plan.names.iter().map(|name| &**name).collect();
    let recorded: Vec<&str> = record.steps.iter().map(|s| s.action.as_str()).collect();
    if names != recorded {
        return Err(format!(
            "walk {} was recorded for the order {recorded:?}, but this order is {names:?}",
            record.walk_id
        ));
    }
    let mut options = Vec::with_capacity(names.len());
    for (position, step) in record.steps.iter().enumerate() {
        let option = plan.option_json[position]
            .iter()
            .position(|json| *json == step.param)
            .ok_or_else(|| {
                format!(
                    "walk {} ran action `{}` (position {position}) with param {}, which is no \
                     longer one of its options",
                    record.walk_id, step.action, step.param
                )
            })?;
        options.push(option);
    }
    plan.space.find(&options).ok_or_else(|| {
        format!(
            "walk {} is not one of the walks of today's covering array (its options are, \
             but not together); did the seed, the filter or the strength change?",
            record.walk_id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Outcome;
    use crate::output::test_location::Harness;
    use crate::output::trace::tests::{plan, record_line};

    #[test]
    fn run_folders_are_quoted_for_the_shell() {
        assert_eq!(shell_word("/t/x-1_2.3"), "/t/x-1_2.3");
        assert_eq!(shell_word("/my logs/it's"), r"'/my logs/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn replay_commands_pin_the_walk() {
        let location = RunLocation::resolve_in(
            Some(&super::super::test_location::tests::location(
                "gui::t::__m",
                true,
            )),
            None,
            Harness::CargoTest,
        );
        let replay = replay_command(&location, 17, Fingerprint(0xab));
        assert_eq!(
            replay,
            "COMBTEST_WALKS=17@00000000000000ab cargo test -p app --test gui -- t --exact --include-ignored"
        );
    }

    #[test]
    fn recorded_walks_are_found_by_value() {
        let recorded = plan(vec![1, 2, 3]);
        let record: WalkRecord =
            serde_json::from_str(&record_line(&recorded, 5, &[2, 1], Outcome::Pass)).unwrap();
        // Today the options moved: 3 is now the first option of `a`.
        let today = plan(vec![3, 1]);
        assert_eq!(find_walk(&today, &record), Ok(1));
        let removed = plan(vec![1, 2]);
        let error = find_walk(&removed, &record).unwrap_err();
        assert!(
            error.contains("action `a` (position 0) with param 3"),
            "{error}"
        );
    }
}
