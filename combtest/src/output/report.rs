//! The report of a run, and the failure report a failing test prints.

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::shard::Shard;
use crate::model::outcome::{Failure, FailureKind, WalkSummary};

/// How many failures the failure report shows in full; the rest are counted.
pub const SHOWN_FAILURES: usize = 5;

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
    /// Size of the full product, the walks an exhaustive run has.
    pub full_product: u64,
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
        self.error_count == 0 && (self.walk_count > 0 || nothing_to_run)
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
            states: Vec::new(),
            walks: self.walks.clone(),
            files: self.files.clone(),
            shard: self.shard,
            coverage: self.coverage.clone(),
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
        format!(
            "combtest{test}: {} of {} walks failed, {} cancelled, {} skipped, in {:.2?} \
             ({} walks in the space, {} threads){unresolved}",
            self.error_count,
            self.walk_count,
            self.cancel_count,
            self.skipped_count,
            self.elapsed,
            self.total_walks,
            self.threads,
        )
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
        if self.walk_count == 0 && !self.is_success() {
            write!(
                f,
                "\nno walk ran: every walk considered was removed by the filter \
                 ({} skipped); a combtest that runs nothing tests nothing",
                self.skipped_count
            )?;
        }
        for failure in self.failures.iter().take(SHOWN_FAILURES) {
            write!(f, "\n\n{}", FailureText(failure))?;
        }
        if self.failures.len() > SHOWN_FAILURES {
            let more = self.failures.len() - SHOWN_FAILURES;
            let walks = if more == 1 { "walk" } else { "walks" };
            write!(
                f,
                "\n\n... and {more} more failed {walks} (all are in `Report::failures`)"
            )?;
        }
        Ok(())
    }
}

/// One failure in full, as the failure report shows it.
pub(crate) struct FailureText<'a>(pub(crate) &'a Failure);

impl fmt::Display for FailureText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failure = self.0;
        let step = &failure.steps[failure.failed_position];
        let how = match failure.kind {
            FailureKind::Error => "returned an error",
            FailureKind::Panic => "panicked",
            FailureKind::Timeout => "timed out",
        };
        writeln!(
            f,
            "walk {} (fingerprint {}): {step} {how}",
            failure.walk_id, failure.fingerprint
        )?;
        let walk: Vec<String> = failure.steps.iter().map(ToString::to_string).collect();
        writeln!(f, "  walk:    {}", walk.join(" -> "))?;
        writeln!(
            f,
            "  failed:  {step} (position {})",
            failure.failed_position
        )?;
        writeln!(f, "  message: {}", indent(&failure.message, 11))?;
        if let Some(location) = &failure.location {
            writeln!(f, "  at:      {location}")?;
        }
        writeln!(f, "  state:   {}", indent(&failure.state, 11))?;
        write!(f, "  replay:  {}", failure.replay)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_keeps_multiline_values_aligned() {
        assert_eq!(indent("a\nb", 2), "a\n  b");
    }
}
