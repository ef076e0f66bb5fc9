//! Running walks: the per-walk machinery both executors share, and the streaming executor for
//! orders without serial actions.
//!
//! Without serial actions a walk runs from start to end in one go on a fresh state, which is
//! dropped right after, so memory stays flat however many walks there are. Orders with serial
//! actions keep their walks resident between barriers; see [`crate::barrier`].

use std::fmt;
use std::ops::Range;
use std::time::Instant;

use tracing::level_filters::LevelFilter;

use crate::action::{LoadedAction, StepResult};
use crate::outcome::{Failure, FailureKind, Outcome, WalkSummary};
use crate::panic_capture::{Catcher, Unwound};
use crate::plan::Plan;
use crate::pool::{self, Dispenser};
use crate::progress::Progress;
use crate::report::{replay_command, TestLocation};
use crate::runner::StateSource;
use crate::settings::Gather;
use crate::trace::TraceBuffer;
use crate::walk::{OrderView, Walk};
use crate::walk_id::WalkSelection;

/// What a worker makes its walks' states from: its own clone of the initial value (so that
/// `S` need not be `Sync`), or the shared factory.
pub(crate) enum Template<'a, S> {
    Value(S),
    Factory(&'a (dyn Fn() -> S + Send + Sync)),
}

impl<S: Clone> Template<'_, S> {
    #[inline]
    pub(crate) fn make(&self) -> S {
        match self {
            Template::Value(state) => state.clone(),
            Template::Factory(make) => make(),
        }
    }
}

/// What one worker counted and kept; merged once at the end of the run.
pub(crate) struct Tally<S> {
    pub(crate) walks: u64,
    pub(crate) errors: u64,
    pub(crate) cancels: u64,
    pub(crate) skipped: u64,
    pub(crate) segments: u64,
    pub(crate) failures: Vec<Failure>,
    /// With gathering on: each walk's id, final state and (at the full level) summary.
    pub(crate) gathered: Vec<(u64, S, Option<WalkSummary>)>,
    /// With a log directory: this worker's pending trace records.
    pub(crate) trace: Option<TraceBuffer>,
}

impl<S> Default for Tally<S> {
    fn default() -> Self {
        Tally {
            walks: 0,
            errors: 0,
            cancels: 0,
            skipped: 0,
            segments: 0,
            failures: Vec::new(),
            gathered: Vec::new(),
            trace: None,
        }
    }
}

impl<S> Tally<S> {
    /// A tally that records walks into `trace`, if given.
    pub(crate) fn new(trace: Option<TraceBuffer>) -> Self {
        Tally {
            trace,
            ..Tally::default()
        }
    }

    /// Appends the trace record of a finished walk, if this tally records; the failure
    /// details come from the failure just recorded.
    pub(crate) fn record<G>(
        &mut self,
        plan: &Plan<S, G>,
        id: u64,
        options: &[usize],
        outcome: &Outcome,
        duration_ns: u64,
    ) {
        let Tally {
            trace, failures, ..
        } = self;
        if let Some(trace) = trace {
            // The streaming executor records right after the failure (the last one); the
            // barrier executor at the end, with the failures sorted by id.
            let failure = match outcome {
                Outcome::Fail => match failures.last() {
                    Some(last) if last.walk_id == id => Some(last),
                    _ => failures
                        .binary_search_by_key(&id, |f| f.walk_id)
                        .ok()
                        .map(|i| &failures[i]),
                }
                .map(|f| (f.failed_action.as_str(), f.message.as_str())),
                _ => None,
            };
            trace.record(plan, id, options, outcome, failure, duration_ns);
        }
    }

    /// Merges another worker's tally into this one (its trace buffer is flushed).
    pub(crate) fn absorb(&mut self, other: Tally<S>) {
        self.walks += other.walks;
        self.errors += other.errors;
        self.cancels += other.cancels;
        self.skipped += other.skipped;
        self.segments += other.segments;
        self.failures.extend(other.failures);
        self.gathered.extend(other.gathered);
    }
}

/// How a stretch of one walk (a segment, or a serial action for its branch) ended.
pub(crate) enum StepEnd {
    Completed,
    Failed {
        position: usize,
        kind: FailureKind,
        message: String,
        location: Option<String>,
    },
    Cancelled(String),
}

impl StepEnd {
    /// Classifies what caught walk code returned; `position` is where it stopped.
    pub(crate) fn from_caught(result: Result<StepResult, Unwound>, position: usize) -> Self {
        match result {
            Ok(StepResult::Done) => StepEnd::Completed,
            Ok(StepResult::Cancelled(reason)) | Err(Unwound::Cancelled(reason)) => {
                StepEnd::Cancelled(reason)
            }
            Ok(StepResult::Failed(message)) => StepEnd::Failed {
                position,
                kind: FailureKind::Error,
                message,
                location: None,
            },
            Err(Unwound::Panicked(panic)) => StepEnd::Failed {
                position,
                kind: FailureKind::Panic,
                message: panic.message,
                location: panic.location,
            },
        }
    }
}

/// Which per-walk tracing is on. Decided once per chunk: asking `tracing` at every walk and
/// action costs more than the actions of a small walk.
#[derive(Clone, Copy)]
pub(crate) struct Traced {
    walks: bool,
    actions: bool,
}

impl Traced {
    /// What both the subscribers and combtest's verbosity (`cap`) let through.
    pub(crate) fn new(cap: LevelFilter) -> Self {
        let level = LevelFilter::current().min(cap);
        Traced {
            walks: level >= tracing::Level::DEBUG,
            actions: level >= tracing::Level::TRACE,
        }
    }
}

/// The time a walk's actions take, measured only when a trace records it.
pub(crate) struct Stopwatch(Option<Instant>);

impl Stopwatch {
    #[inline]
    pub(crate) fn start(on: bool) -> Self {
        Stopwatch(on.then(Instant::now))
    }

    #[inline]
    pub(crate) fn nanos(&self) -> u64 {
        self.0.map_or(0, |start| {
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
        })
    }
}

/// Everything needed to run walks, borrowed for the whole run.
pub(crate) struct WalkRunner<'a, S, G> {
    pub(crate) plan: &'a Plan<S, G>,
    pub(crate) view: &'a OrderView<'a>,
    pub(crate) filter: Option<&'a (dyn Fn(&Walk<'_>) -> bool + Send + Sync)>,
    pub(crate) gather: Gather,
    pub(crate) location: Option<&'a TestLocation>,
    pub(crate) catcher: Catcher,
    /// The highest level of combtest's own events (the verbosity).
    pub(crate) level: LevelFilter,
    pub(crate) progress: Option<&'a Progress>,
}

impl<S, G> WalkRunner<'_, S, G>
where
    S: Clone + fmt::Debug,
{
    /// The span of one walk, with its id and fingerprint, when walks are traced.
    #[inline]
    pub(crate) fn walk_span(
        &self,
        traced: Traced,
        id: u64,
        options: &[usize],
    ) -> Option<tracing::span::EnteredSpan> {
        traced.walks.then(|| {
            let fingerprint = self.plan.fingerprint(options);
            tracing::debug_span!("walk", id, %fingerprint).entered()
        })
    }

    /// The debug event that closes a walk, when walks are traced.
    #[inline]
    pub(crate) fn walk_ends(&self, traced: Traced, outcome: &Outcome) {
        if traced.walks {
            tracing::debug!(?outcome, "walk ends");
        }
    }

    /// Whether the filter keeps walk `id`; counts it as skipped if not.
    #[inline]
    pub(crate) fn keep(&self, tally: &mut Tally<S>, id: u64, options: &[usize]) -> bool {
        let Some(keep) = self.filter else {
            return true;
        };
        let walk = Walk {
            id,
            options,
            order: self.view,
        };
        let kept = keep(&walk);
        if !kept {
            tally.skipped += 1;
        }
        kept
    }

    /// Runs the regular actions at `positions` of one walk, stopping at the first that does
    /// not complete.
    #[inline]
    pub(crate) fn run_segment(
        &self,
        shared: &G,
        traced: Traced,
        positions: Range<usize>,
        options: &[usize],
        state: &mut S,
    ) -> StepEnd {
        let actions: &[LoadedAction<S, G>] = &self.plan.actions;
        let mut at = positions.start;
        let result = self.catcher.catch(|| {
            for position in positions {
                at = position;
                let action = &actions[position];
                let option = options[position];
                if traced.actions {
                    tracing::trace!(
                        action = &*action.name,
                        param = %ParamText(action, option),
                        "action"
                    );
                }
                match action.walk_step().run(option, state, shared) {
                    StepResult::Done => {}
                    other => return other,
                }
            }
            StepResult::Done
        });
        StepEnd::from_caught(result, at)
    }

    /// Counts how a stretch of walk `id` ended, records its failure, and returns the walk's
    /// outcome if it is over (`None` while it is still live).
    pub(crate) fn settle(
        &self,
        tally: &mut Tally<S>,
        id: u64,
        options: &[usize],
        state: &S,
        end: StepEnd,
    ) -> Option<Outcome> {
        match end {
            StepEnd::Completed => None,
            StepEnd::Cancelled(reason) => {
                tally.cancels += 1;
                Some(Outcome::Cancel { reason })
            }
            StepEnd::Failed {
                position,
                kind,
                message,
                location,
            } => {
                tally.errors += 1;
                tally
                    .failures
                    .push(self.failure(id, options, state, position, kind, message, location));
                Some(Outcome::Fail)
            }
        }
    }

    /// Keeps a walk's final state, if the run gathers states.
    #[inline]
    pub(crate) fn gather(&self, tally: &mut Tally<S>, id: u64, state: S, outcome: Outcome) {
        match self.gather {
            Gather::Off => {}
            Gather::Flat => tally.gathered.push((id, state, None)),
            Gather::Full => tally
                .gathered
                .push((id, state, Some(self.plan.summary(id, outcome)))),
        }
    }

    /// The full record of a failed walk (off the hot path: only failures pay for it).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    pub(crate) fn failure(
        &self,
        id: u64,
        options: &[usize],
        state: &S,
        position: usize,
        kind: FailureKind,
        message: String,
        location: Option<String>,
    ) -> Failure {
        let fingerprint = self.plan.fingerprint(options);
        let action = self.plan.actions[position].name.to_string();
        tracing::debug!(walk = id, %action, %message, "walk failed");
        Failure {
            walk_id: id,
            fingerprint,
            steps: self.plan.describe(options),
            failed_position: position,
            failed_action: action,
            kind,
            message,
            location,
            state: format!("{state:#?}"),
            replay: replay_command(self.location, id, fingerprint),
        }
    }
}

/// Runs every selected walk of an order without serial actions, each from start to end on a
/// fresh state, on `threads` workers.
pub(crate) fn stream<S, G>(
    runner: &WalkRunner<'_, S, G>,
    selection: &WalkSelection,
    threads: usize,
    source: &StateSource<S>,
    shared: &G,
    trace: impl Fn() -> Option<TraceBuffer>,
) -> Tally<S>
where
    S: Clone + Send + fmt::Debug,
    G: Sync,
{
    let plan = runner.plan;
    debug_assert_eq!(plan.segments.len(), 1, "an order without serial actions");
    let positions = plan.segments[0].actions.clone();
    let dispenser = Dispenser::new(selection, threads);
    let workers = (0..pool::worker_count(threads, &dispenser))
        .map(|_| (source.template(), Tally::new(trace())))
        .collect();
    let workers = pool::run(workers, &dispenser, |(template, tally), ids| {
        let traced = Traced::new(runner.level);
        let timed = tally.trace.is_some();
        let before = (tally.walks + tally.skipped, tally.errors);
        let mut options = vec![0; plan.actions.len()];
        for range in ids {
            plan.space.decode(range.start, &mut options);
            for id in range.clone() {
                if id != range.start {
                    plan.space.advance(&mut options);
                }
                if !runner.keep(tally, id, &options) {
                    continue;
                }
                let _walk = runner.walk_span(traced, id, &options);
                let mut state = template.make();
                tally.walks += 1;
                tally.segments += 1;
                let stopwatch = Stopwatch::start(timed);
                let end =
                    runner.run_segment(shared, traced, positions.clone(), &options, &mut state);
                let outcome = runner
                    .settle(tally, id, &options, &state, end)
                    .unwrap_or(Outcome::Pass);
                runner.walk_ends(traced, &outcome);
                tally.record(plan, id, &options, &outcome, stopwatch.nanos());
                runner.gather(tally, id, state, outcome);
            }
        }
        if let Some(progress) = runner.progress {
            let done = tally.walks + tally.skipped - before.0;
            progress.add(done, tally.errors - before.1);
        }
    });
    let mut total = Tally::default();
    for (_, tally) in workers {
        total.absorb(tally);
    }
    total
}

/// Formats a param only if a subscriber asks for it.
struct ParamText<'a, S, G>(&'a LoadedAction<S, G>, usize);

impl<S, G> fmt::Display for ParamText<'_, S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.params().debug(self.1))
    }
}
