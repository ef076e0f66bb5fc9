//! The report of a run, and the failure report a failing test prints.

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::analysis::cancels::CancelCount;
use super::analysis::data::{Cause, Evidence, FailureGroup, HeatMap};
use crate::config::shard::Shard;
use crate::model::outcome::{Failure, FailureKind, WalkSummary};

/// How many failure groups the failure report shows in full; the rest are counted.
pub const SHOWN_GROUPS: usize = 10;

/// Refuted suspects the failure report shows per group (all are in `Report::groups`).
const SHOWN_REFUTED: usize = 2;

/// Lines of a state the failure report shows at most (the whole state is in
/// `Report::failures`, and with a log directory in a file of the run's folder).
pub const STATE_LINES: usize = 40;

/// Bytes of a state the failure report shows at most.
pub const STATE_BYTES: usize = 4096;

/// What a run did.
///
/// Every count refers to the walks this run considered: all walks of the order, or those
/// selected with `COMBTEST_WALKS` / `Combtest::walks`.
///
/// `Report` prints the failure report with `Display`, and serializes to JSON
/// (`serde_json::to_string(&report)`) when `S: Serialize`.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [1, 2])]
/// fn pick(n: i32, state: &mut Vec<i32>) { state.push(n); }
///
/// let report = combtest! { order: [pick, pick], state: Vec::new(), gather_states: flat };
/// assert_eq!(report.walk_count, 4);
/// assert_eq!(report.states, vec![vec![1, 1], vec![1, 2], vec![2, 1], vec![2, 2]]);
/// assert!(report.is_success());
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report<S> {
    /// The test that ran (`module::function`), when known.
    pub test: Option<String>,
    /// Size of the walk space: the product of every action's option count.
    pub total_walks: u64,
    /// Walks that ran (passed, failed or cancelled).
    pub walk_count: u64,
    /// Walks that failed.
    pub error_count: u64,
    /// Walks that were cancelled.
    pub cancel_count: u64,
    /// Walks removed by the filter before running (they keep their ids).
    pub skipped_count: u64,
    /// Segment executions started, empty segments included (one per walk per segment).
    pub segment_count: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock time of the run, from loading the options to the last walk.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub elapsed: Duration,
    /// Every failed walk, sorted by walk id.
    pub failures: Vec<Failure>,
    /// The failures grouped by what failed (the failing action and its normalised message),
    /// largest group first, each with its causes.
    #[serde(default)]
    pub groups: Vec<FailureGroup>,
    /// Whether every walk of the space ran, so that causes can be exact.
    #[serde(default)]
    pub evidence: Evidence,
    /// Cancelled walks counted per action and normalised reason, most frequent first.
    #[serde(default)]
    pub cancels: Vec<CancelCount>,
    /// Failure rates per pair of options of the positions the causes name (the heat maps
    /// of `report.html`).
    #[serde(default)]
    pub heat_maps: Vec<HeatMap>,
    /// With [`Gather::Flat`](crate::Gather) or `Full`: the final state of every walk that
    /// ran, sorted by walk id (skipped walks have none).
    pub states: Vec<S>,
    /// With [`Gather::Full`](crate::Gather): the id, outcome and branch of each walk of
    /// `states`, index for index.
    pub walks: Vec<WalkSummary>,
    /// Files written by the run.
    pub files: Vec<PathBuf>,
    /// The shard this run was, when the walks were split across processes.
    pub shard: Option<Shard>,
    /// What the walks covered, when a covering array chose them.
    pub coverage: Option<Coverage>,
    /// The run's files that could not be written (disk full, a state's `Debug` panicking
    /// while `states.json` is written), with the reason. The outcomes above are complete
    /// regardless; a run with such an error is not a success, since what it was asked to
    /// leave behind is missing.
    #[serde(default)]
    pub output_errors: Vec<String>,
    /// The run's folder in the log directory, when the run had one.
    #[serde(default)]
    pub run_folder: Option<PathBuf>,
    /// The command that replays the failed walks recorded in the run's trace
    /// (`COMBTEST_REPLAY=<run folder> cargo test ...`), when a trace was written and a walk
    /// failed.
    #[serde(default)]
    pub replay_failed: Option<String>,
}

/// What a covering array covers: see [`Combtest::covering`](crate::Combtest::covering).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The strength t: every combination of options of any t positions.
    pub strength: usize,
    /// Walks in the array (before any shard or filter of the run).
    pub walks: u64,
    /// t-way combinations covered.
    pub covered: u64,
    /// t-way combinations of the order.
    pub total: u64,
    /// Size of the full product, the walks an exhaustive run has (`u128::MAX` when even a
    /// `u128` cannot hold it). When it exceeds `u64::MAX`, the walks of the array are
    /// numbered by their row in it: walk `i` is row `i`, and `Report::total_walks` counts the
    /// rows.
    pub full_product: u128,
    /// Combinations in no walk the filter allows, as `action(param)` lists.
    pub infeasible: Vec<Vec<String>>,
    /// Combinations for which no allowed walk was found, without proof that none exists
    /// (their completions were too many to search).
    pub unresolved: Vec<Vec<String>>,
}

fn seconds<Ser: Serializer>(elapsed: &Duration, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
    serializer.serialize_f64(elapsed.as_secs_f64())
}

fn from_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
}

impl<S> Report<S> {
    /// No walk failed, and at least one ran, unless this is a shard whose share of the walks
    /// was empty (more shards than walks): that shard has nothing to run, which is no failure.
    pub fn is_success(&self) -> bool {
        let nothing_to_run =
            self.shard.is_some() && self.walk_count == 0 && self.skipped_count == 0;
        self.error_count == 0
            && (self.walk_count > 0 || nothing_to_run)
            && self.output_errors.is_empty()
    }

    /// Everything but the gathered states, which need not be serializable: what
    /// `summary.json` holds.
    pub(crate) fn summary_view(&self) -> Report<()> {
        Report {
            test: self.test.clone(),
            total_walks: self.total_walks,
            walk_count: self.walk_count,
            error_count: self.error_count,
            cancel_count: self.cancel_count,
            skipped_count: self.skipped_count,
            segment_count: self.segment_count,
            threads: self.threads,
            elapsed: self.elapsed,
            failures: self.failures.clone(),
            groups: self.groups.clone(),
            evidence: self.evidence.clone(),
            cancels: self.cancels.clone(),
            heat_maps: self.heat_maps.clone(),
            states: Vec::new(),
            walks: self.walks.clone(),
            files: self.files.clone(),
            shard: self.shard,
            coverage: self.coverage.clone(),
            output_errors: self.output_errors.clone(),
            run_folder: self.run_folder.clone(),
            replay_failed: self.replay_failed.clone(),
        }
    }

    /// The first line of the failure report: counts and time, and a warning when a covering
    /// array left combinations unresolved (see [`Combtest::covering_strict`](crate::Combtest::covering_strict)).
    pub fn summary(&self) -> String {
        let test = self
            .test
            .as_deref()
            .map(|t| format!(" in {t}"))
            .unwrap_or_default();
        // Combinations a covering array left uncovered without proof are said on the line
        // every reader of the report sees, not only in `coverage`.
        let unresolved = match &self.coverage {
            Some(coverage) if !coverage.unresolved.is_empty() => format!(
                "; warning: {} combinations unresolved, not covered",
                coverage.unresolved.len()
            ),
            _ => String::new(),
        };
        let threads = counted(self.threads as u64, "thread");
        format!(
            "combtest{test}: {} of {} walks failed, {} cancelled, {} skipped, in {:.2?} \
             ({} walks in the space, {threads}){unresolved}",
            self.error_count,
            self.walk_count,
            self.cancel_count,
            self.skipped_count,
            self.elapsed,
            self.total_walks,
        )
    }
}

impl<S> Report<S> {
    /// The report without its gathered states, and the states.
    pub(crate) fn set_states_aside(self) -> (Report<()>, Vec<S>) {
        self.replace_states(Vec::new())
    }

    /// The report holding `states` instead of its own, and its own.
    fn replace_states<T>(self, states: Vec<T>) -> (Report<T>, Vec<S>) {
        let report = Report {
            test: self.test,
            total_walks: self.total_walks,
            walk_count: self.walk_count,
            error_count: self.error_count,
            cancel_count: self.cancel_count,
            skipped_count: self.skipped_count,
            segment_count: self.segment_count,
            threads: self.threads,
            elapsed: self.elapsed,
            failures: self.failures,
            groups: self.groups,
            evidence: self.evidence,
            cancels: self.cancels,
            heat_maps: self.heat_maps,
            states,
            walks: self.walks,
            files: self.files,
            shard: self.shard,
            coverage: self.coverage,
            output_errors: self.output_errors,
            run_folder: self.run_folder,
            replay_failed: self.replay_failed,
        };
        (report, self.states)
    }
}

/// The failure report of a run (its `Display`), written by code compiled once in this crate,
/// not once per state type.
pub(crate) fn failure_text(report: &Report<()>) -> String {
    report.to_string()
}

impl Report<()> {
    /// The report with the gathered states: a run assembles, explains and writes its report
    /// without them, in code compiled once in this crate rather than once per state type,
    /// and attaches them last.
    pub(crate) fn with_states<S>(self, states: Vec<S>) -> Report<S> {
        self.replace_states(states).0
    }
}

impl<S> fmt::Display for Report<S> {
    /// The failure report: the summary line, the first failures in full, one replay command
    /// each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        if let Some(coverage) = &self.coverage {
            write!(
                f,
                "\n{}-wise coverage: {} walks of {} cover {} of {} combinations",
                coverage.strength,
                coverage.walks,
                coverage.full_product,
                coverage.covered,
                coverage.total
            )?;
            if !coverage.infeasible.is_empty() || !coverage.unresolved.is_empty() {
                write!(
                    f,
                    " ({} infeasible under the filter, {} unresolved)",
                    coverage.infeasible.len(),
                    coverage.unresolved.len()
                )?;
            }
            if let Some(first) = coverage.unresolved.first() {
                write!(
                    f,
                    "\nwarning: {} combinations are unresolved (no allowed walk found, none \
                     proven impossible), e.g. {}; they are in `Report::coverage`, and \
                     `covering_strict` makes them an error",
                    coverage.unresolved.len(),
                    first.join(" ")
                )?;
            }
        }
        for error in &self.output_errors {
            write!(f, "\nthe run's files are incomplete: {error}")?;
        }
        if self.walk_count == 0 && !self.is_success() && self.output_errors.is_empty() {
            write!(
                f,
                "\nno walk ran: every walk considered was removed by the filter \
                 ({} skipped); a combtest that runs nothing tests nothing",
                self.skipped_count
            )?;
        }
        if let Some(causes) = causes_note(self) {
            write!(f, "\n{causes}")?;
            if self.evidence.confirmation_walks > 0 {
                write!(
                    f,
                    "; {} more walks ran to confirm them",
                    self.evidence.confirmation_walks
                )?;
            }
        }
        let groups = self.groups.len();
        for (at, group) in self.groups.iter().take(SHOWN_GROUPS).enumerate() {
            write!(f, "\n\nfailure group {} of {groups}: ", at + 1)?;
            GroupText {
                group,
                failure: self.representative(group),
            }
            .fmt(f)?;
        }
        // Without the analysis, the first failures are shown one by one.
        if groups == 0 {
            for failure in self.failures.iter().take(SHOWN_GROUPS) {
                let text = FailureText {
                    failure,
                    state_file: None,
                    first: false,
                };
                write!(f, "\n\n{text}")?;
            }
            if self.failures.len() > SHOWN_GROUPS {
                write!(
                    f,
                    "\n\n... and {} more failed walks (all are in `Report::failures`)",
                    self.failures.len() - SHOWN_GROUPS
                )?;
            }
        }
        if groups > SHOWN_GROUPS {
            write!(
                f,
                "\n\n... and {} more failure groups (all are in `Report::groups`)",
                groups - SHOWN_GROUPS
            )?;
        }
        if !self.cancels.is_empty() {
            f.write_str("\n\ncancelled:")?;
            for cancel in &self.cancels {
                write!(
                    f,
                    "\n  {} at {}: {}",
                    counted(cancel.count, "walk"),
                    cancel.action,
                    cancel.reason
                )?;
            }
        }
        // Last, where a reader looks for what to run next.
        if let Some(folder) = &self.run_folder {
            write!(f, "\n\nrun folder: {}", folder.display())?;
            if let Some(replay) = &self.replay_failed {
                write!(f, "\nreplay its failed walks: {replay}")?;
            }
        }
        Ok(())
    }
}

impl<S> Report<S> {
    /// The failure a group shows: its representative's.
    fn representative(&self, group: &FailureGroup) -> Option<&Failure> {
        self.failures
            .binary_search_by_key(&group.representative, |f| f.walk_id)
            .ok()
            .map(|i| &self.failures[i])
    }
}

/// One failure group: what failed and how often, its causes, and its representative walk.
struct GroupText<'a> {
    group: &'a FailureGroup,
    failure: Option<&'a Failure>,
}

impl fmt::Display for GroupText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = self.group;
        let serial = if group.serial { "serial action " } else { "" };
        writeln!(
            f,
            "{}, {serial}{} {}: {}",
            counted(group.count, "walk"),
            group.action,
            how(group.kind),
            indent(&group.message, 2)
        )?;
        if group.serial {
            writeln!(
                f,
                "  serial:  it runs once per branch; when it fails, every live walk of the \
                 branch fails with it, so it is shown once"
            )?;
        }
        let refuted = |cause: &&Cause| {
            cause
                .confirmation
                .as_ref()
                .is_some_and(|c| c.counterexample.is_some())
        };
        for cause in &group.causes {
            if cause.exact {
                writeln!(
                    f,
                    "  cause:   {cause} (exact: every walk with it failed this way; {})",
                    cause.evidence()
                )?;
            } else if !refuted(&cause) {
                writeln!(f, "  suspect: {cause} ({})", cause.evidence())?;
            }
        }
        // Refuted suspects say what is not the cause: the first few are enough.
        let refuted: Vec<&Cause> = group.causes.iter().filter(refuted).collect();
        for cause in refuted.iter().take(SHOWN_REFUTED) {
            writeln!(f, "  suspect: {cause} ({})", cause.evidence())?;
        }
        if refuted.len() > SHOWN_REFUTED {
            writeln!(
                f,
                "  ... and {} more refuted suspects (all are in `Report::groups`)",
                refuted.len() - SHOWN_REFUTED
            )?;
        }
        if group.unexplained > 0 {
            writeln!(f, "  {}", unexplained_text(group.unexplained))?;
        }
        match self.failure {
            Some(failure) => write!(
                f,
                "{}",
                FailureText {
                    failure,
                    state_file: group.state_file.as_deref(),
                    first: true,
                }
            ),
            None => write!(
                f,
                "  walk {} is its first\n  replay:  {}",
                group.representative, group.replay
            ),
        }
    }
}

/// How a failing action failed, as the reports say it.
pub(crate) fn how(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Error => "returned an error",
        FailureKind::Panic => "panicked",
        FailureKind::Timeout => "timed out",
        FailureKind::State => "panicked in its state's code, outside its actions",
        FailureKind::Judged => "failed the walk through States::fail",
    }
}

/// One failed walk in full, its state cut to [`STATE_LINES`] and [`STATE_BYTES`]: a
/// group's representative (`first`), or a walk shown on its own.
pub(crate) struct FailureText<'a> {
    pub(crate) failure: &'a Failure,
    /// Where the whole state is, when it was written out.
    pub(crate) state_file: Option<&'a std::path::Path>,
    /// Whether the walk is shown as its group's first.
    pub(crate) first: bool,
}

impl fmt::Display for FailureText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failure = self.failure;
        let step = &failure.steps[failure.failed_position];
        let (indent_by, role) = if self.first {
            ("  ", " is the first")
        } else {
            ("", "")
        };
        if failure.kind == FailureKind::State {
            writeln!(
                f,
                "{indent_by}walk {} (fingerprint {}){role}: its state panicked outside its \
                 actions",
                failure.walk_id, failure.fingerprint
            )?;
        } else {
            writeln!(
                f,
                "{indent_by}walk {} (fingerprint {}){role}: {step} {}",
                failure.walk_id,
                failure.fingerprint,
                how(failure.kind)
            )?;
        }
        let walk: Vec<String> = failure.steps.iter().map(ToString::to_string).collect();
        writeln!(f, "  walk:    {}", walk.join(" -> "))?;
        writeln!(
            f,
            "  failed:  {step} (position {})",
            failure.failed_position
        )?;
        writeln!(f, "  message: {}", indent(&failure.message, 11))?;
        match (&failure.location, failure.kind) {
            (Some(location), _) => writeln!(f, "  at:      {location}")?,
            // A panic re-raised with `resume_unwind` (as thread pools do) carries no place.
            (None, FailureKind::Panic) => writeln!(
                f,
                "  at:      unknown (the panic was re-raised without its location, as \
                 `resume_unwind` does)"
            )?,
            (None, _) => {}
        }
        let (state, cut) = capped(&failure.state);
        writeln!(f, "  state:   {}", indent(state, 11))?;
        if cut {
            match self.state_file {
                Some(path) => writeln!(
                    f,
                    "           ... (cut; the whole state is in {})",
                    path.display()
                )?,
                None => writeln!(
                    f,
                    "           ... (cut; the whole state is in `Report::failures`)"
                )?,
            }
        }
        write!(f, "  replay:  {}", failure.replay)
    }
}

/// The first [`STATE_LINES`] lines of a state, at most [`STATE_BYTES`] bytes, and whether
/// anything was cut.
pub(crate) fn capped(state: &str) -> (&str, bool) {
    let mut end = state.len().min(STATE_BYTES);
    while !state.is_char_boundary(end) {
        end -= 1;
    }
    if let Some((at, _)) = state.match_indices('\n').nth(STATE_LINES - 1) {
        end = end.min(at);
    }
    (&state[..end], end < state.len())
}

/// Indents every line after the first, so multi-line values stay inside their field.
fn indent(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            let _ = write!(out, "\n{:width$}", "");
        }
        out.push_str(line);
    }
    out
}

/// What the causes of a run of part of the space rest on, when a walk failed: "causes not
/// marked exact are suspicions: a selection of walks ran; 27 of 81 walks ran". The failure
/// report and the HTML page say it alike.
pub(crate) fn causes_note<S>(report: &Report<S>) -> Option<String> {
    let note = report
        .evidence
        .note
        .as_ref()
        .filter(|_| report.error_count > 0)?;
    // Part of the space ran: a cause is exact only if all of its walks did.
    let causes = report.groups.iter().flat_map(|g| &g.causes);
    let causes = match (causes.clone().next(), causes.clone().any(|c| c.exact)) {
        (None, _) => "no causes named",
        (Some(_), false) => "causes are suspicions",
        (Some(_), true) => "causes not marked exact are suspicions",
    };
    Some(format!("{causes}: {note}"))
}

/// `1 walk`, `2 walks`: a count with its noun, plural when it is not one.
pub(crate) fn counted(count: u64, noun: &str) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{s}")
}

/// The line saying how many walks of a group none of its causes explains.
pub(crate) fn unexplained_text(walks: u64) -> String {
    let have = if walks == 1 { "has" } else { "have" };
    format!(
        "{} of the group {have} none of these causes",
        counted(walks, "walk")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_one_are_singular() {
        assert_eq!(counted(1, "thread"), "1 thread");
        assert_eq!(counted(2, "thread"), "2 threads");
        assert_eq!(counted(0, "walk"), "0 walks");
        assert_eq!(
            unexplained_text(1),
            "1 walk of the group has none of these causes"
        );
        assert_eq!(
            unexplained_text(3),
            "3 walks of the group have none of these causes"
        );
    }

    #[test]
    fn indent_keeps_multiline_values_aligned() {
        assert_eq!(indent("a\nb", 2), "a\n  b");
    }

    #[test]
    fn states_are_capped_by_lines_and_bytes() {
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let (shown, cut) = capped(&long);
        assert!(cut);
        assert_eq!(shown.lines().count(), STATE_LINES);
        let wide = "é".repeat(STATE_BYTES);
        let (shown, cut) = capped(&wide);
        assert!(cut && shown.len() <= STATE_BYTES);
        assert_eq!(capped("short"), ("short", false));
    }
}
