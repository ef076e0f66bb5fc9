//! Both ends of a replay: the command a failure report prints to run one walk again, the
//! check that a pinned walk id still names the same walk, and reading a trace back to find
//! its recorded walks in today's order.

use std::ops::RangeInclusive;
use std::path::Path;

use super::test_location::RunLocation;
use super::trace::WalkRecord;
use super::trace_read::{
    for_each_line, no_header, run_ids, second_header, trace_path, Decoder, TraceLine,
};
use crate::config::env::{ENV_REPLAY, ENV_WALKS};
use crate::config::replay::{Replay, ReplayWalks};
use crate::error::Error;
use crate::model::plan::OrderFacts;
use crate::model::walk_id::{Fingerprint, WalkSelection};

/// The replay command of one walk: the id pinned to its fingerprint, and the test command.
/// The test command is resolved once per run; each failing walk only adds its own part,
/// written straight into a string of the right size without `write!`: a run with many
/// failing walks makes one per failure, and the formatting machinery costs several times
/// the digits.
pub(crate) fn replay_command(
    location: &RunLocation,
    walk_id: u64,
    fingerprint: Fingerprint,
) -> String {
    let command = location
        .command
        .as_deref()
        .unwrap_or("(set it and run this program again)");
    let mut id_buffer = itoa::Buffer::new();
    let id = id_buffer.format(walk_id);
    let mut hex_digits = [0u8; 16];
    let hex = hex16(fingerprint.0, &mut hex_digits);
    // `NAME=` + the id + `@` + 16 hex digits + ` ` + the command.
    let mut line =
        String::with_capacity(ENV_WALKS.len() + id.len() + hex.len() + 3 + command.len());
    line.push_str(ENV_WALKS);
    line.push('=');
    line.push_str(id);
    line.push('@');
    line.push_str(hex);
    line.push(' ');
    line.push_str(command);
    line
}

/// `value` as 16 lowercase hex digits, as `{:016x}` (a fingerprint's `Display`) writes it.
fn hex16(value: u64, digits: &mut [u8; 16]) -> &str {
    for (at, digit) in digits.iter_mut().enumerate() {
        let nibble = (value >> (60 - 4 * at)) & 0xf;
        *digit = b"0123456789abcdef"[nibble as usize];
    }
    std::str::from_utf8(digits).expect("ASCII digits")
}

/// The command that replays the failed walks recorded in the run folder `folder`.
pub(crate) fn replay_run_command(location: &RunLocation, folder: &Path) -> String {
    let replay = format!("{ENV_REPLAY}={}", shell_word(&folder.to_string_lossy()));
    match &location.command {
        Some(command) => format!("{replay} {command}"),
        None => format!("{replay} (set it and run this program again)"),
    }
}

/// Makes every replay command of the run set the variable `name` to `value` too: a setting
/// that changes how a walk runs (its timeout) must hold when it runs again.
pub(crate) fn set_in_replays(location: &mut RunLocation, name: &str, value: &str) {
    if let Some(command) = &mut location.command {
        *command = format!("{name}={} {command}", shell_word(value));
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
    let total = plan.space.total();
    for &(id, expected) in selection.pinned() {
        if id >= total {
            // Pinned, an id past today's walks is a stale one: say so, and where it went.
            return Err(Error::StaleWalk {
                id,
                expected: expected.to_string(),
                actual: format!("none, as today's order has {total} walks"),
                now_at: plan.find_fingerprint(expected, SEARCH_LIMIT),
            });
        }
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

/// Reads the walks a replay asks for from a trace file (or a run's folder holding one) and
/// finds each one in today's order, by action name and param value. Returns today's ids.
///
/// Only a regular file is read (a FIFO would block forever, a device never end), each record
/// at most [`MAX_RECORD_BYTES`](super::trace_read::MAX_RECORD_BYTES) long. A last line cut
/// short, as a killed run leaves it, is skipped with a warning; every whole record before it
/// is replayed. Runs of passing walks are read only when passing walks are asked for.
pub(crate) fn replay_selection(plan: &OrderFacts, replay: &Replay) -> Result<WalkSelection, Error> {
    let fail = |message: String| Error::Replay {
        path: replay.path.clone(),
        message,
    };
    let trace = trace_path(&replay.path).map_err(fail)?;
    let mut ids = Vec::new();
    let mut recorded = 0u64;
    // The lines recording each id (a run of ids or a single one), to name both lines of an id
    // recorded twice.
    let mut spans: Vec<(u64, u64, usize)> = Vec::new();
    let mut decoder: Option<Decoder> = None;
    let wanted = |record: &WalkRecord, ids: &mut Vec<u64>| -> Result<(), String> {
        let wanted = match &replay.walks {
            ReplayWalks::Failed => record.outcome == "fail",
            ReplayWalks::All => true,
            ReplayWalks::Ids(selection) => selection.contains(record.walk_id),
        };
        if wanted {
            ids.push(find_walk(plan, record)?);
        }
        Ok(())
    };
    for_each_line(&trace, &replay.path, |line_number, line| {
        match line {
            TraceLine::Header(header) => {
                if decoder.is_some() {
                    return Err(second_header(line_number));
                }
                decoder = Some(Decoder::new(*header)?);
            }
            TraceLine::Walk(record) => {
                spans.push((record.walk_id, record.walk_id, line_number));
                recorded += 1;
                wanted(&record, &mut ids)?;
            }
            TraceLine::Passed(run) => {
                let decoder = decoder.as_ref().ok_or_else(|| no_header(line_number))?;
                let (first, last) = run_ids(&run, line_number)?.into_inner();
                spans.push((first, last, line_number));
                recorded += last - first + 1;
                // Only the asked-for ids of the run are decoded: one walk of a run of
                // millions replays as fast as a walk recorded on its own line.
                let asked: Vec<RangeInclusive<u64>> = match &replay.walks {
                    ReplayWalks::Failed => Vec::new(),
                    ReplayWalks::All => vec![first..=last],
                    ReplayWalks::Ids(selection) => selection
                        .intersect(&(first..last.saturating_add(1)))
                        .ranges()
                        .iter()
                        .map(|range| range.start..=range.end - 1)
                        .collect(),
                };
                for id in asked.into_iter().flatten() {
                    wanted(&decoder.passing_walk(id)?, &mut ids)?;
                }
            }
        }
        Ok(())
    })
    .map_err(fail)?;
    spans.sort_unstable();
    if let Some(pair) = spans.windows(2).find(|pair| pair[1].0 <= pair[0].1) {
        let (earlier, later) = (pair[0].2.min(pair[1].2), pair[0].2.max(pair[1].2));
        return Err(fail(format!(
            "walk {} is recorded twice, on lines {earlier} and {later}; a trace records each \
             walk of one run once (are two runs' traces joined?)",
            pair[1].0
        )));
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
    use crate::output::test_location::{Harness, RunningBinary};
    use crate::output::trace::tests::{plan, record_line};

    #[test]
    fn run_folders_are_quoted_for_the_shell() {
        assert_eq!(shell_word("/t/x-1_2.3"), "/t/x-1_2.3");
        assert_eq!(shell_word("/my logs/it's"), r"'/my logs/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn hand_written_hex_digits_are_what_the_formatter_writes() {
        let values = [
            0,
            1,
            9,
            10,
            99,
            100,
            12_345,
            u64::from(u32::MAX),
            u64::MAX / 10,
            u64::MAX - 1,
            u64::MAX,
        ];
        for value in values.into_iter().chain((0..64).map(|bit| 1u64 << bit)) {
            assert_eq!(hex16(value, &mut [0; 16]), Fingerprint(value).to_string());
        }
    }

    #[test]
    fn a_pinned_id_past_today_s_walks_is_stale_and_found() {
        let plan = plan(vec![1, 2, 3]);
        let total = plan.space.total();
        let options = [2, 1];
        let today = plan.space.find(&options).unwrap();
        let pinned = format!("{}@{}", total + 5, plan.fingerprint(&options));
        let selection = WalkSelection::parse(&pinned, "COMBTEST_WALKS").unwrap();
        let err = check_fingerprints(&plan, &selection)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is stale"), "{err}");
        assert!(
            err.contains(&format!("today's order has {total} walks")),
            "{err}"
        );
        assert!(
            err.contains(&format!("that walk is now walk {today}@")),
            "{err}"
        );
    }

    #[test]
    fn replay_commands_pin_the_walk() {
        let location = RunLocation::resolve_in(
            Some(&super::super::test_location::tests::location(
                "gui::t::__m",
                true,
            )),
            Some("t"),
            Harness::CargoTest,
            &RunningBinary::default(),
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
