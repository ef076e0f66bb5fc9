//! How walks run, and the per-walk rules both executors share.
//!
//! Orders without serial actions stream: each walk runs from start to end on a fresh state,
//! dropped right after ([`stream`]). Orders with serial actions hold their walks between
//! barriers ([`barrier`], [`held`]). Both run chunks of walks on the worker pool ([`pool`]),
//! and share what is decided here, once:
//! - which kernel runs a chunk: the order's compiled loops ([`compiled`]) or the general one
//!   ([`WalkRunner::kernel`]);
//! - how a chunk resumes after a walk unwinds ([`run_resuming`]), with one [`Cursor`];
//! - the unit of walk time ([`Stopwatch`], whole nanoseconds).

pub(crate) mod abort;
#[cfg(feature = "async")]
pub(crate) mod async_walks;
pub(crate) mod barrier;
pub(crate) mod budget;
pub(crate) mod compiled;
pub(crate) mod compiled_filter;
pub(crate) mod compiled_gather;
pub(crate) mod executors;
pub(crate) mod failure_record;
pub(crate) mod gathered;
pub(crate) mod held;
pub(crate) mod id_order;
pub(crate) mod pool;
pub(crate) mod positions;
pub(crate) mod spare;
pub(crate) mod state_faults;
pub(crate) mod stream;
pub(crate) mod unwind;
pub(crate) mod watchdog;

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use tracing::level_filters::LevelFilter;

use self::compiled::CompiledKernel;
use self::held::Status;
use self::unwind::{Catcher, Unwound, WalkScope};
use self::watchdog::{Beat, Describe, LongWalk, Watch};
use crate::config::Gather;
use crate::model::action::{LoadedAction, StepResult, Stop};
use crate::model::fingerprint_prefixes::FingerprintPrefixes;
use crate::model::outcome::{Failure, FailureKind, Outcome};
use crate::model::plan::{Plan, Segment};
use crate::model::walk::{OrderView, Walk};
use crate::output::analysis::cancels::{CancelTally, StoppedRoom};
use crate::output::progress::Progress;
use crate::output::replay::replay_command;
use crate::output::test_location::RunLocation;
use crate::output::trace::TraceBuffer;

/// What one worker counted and kept; merged once at the end of the run.
pub(crate) struct Tally<S> {
    pub(crate) walks: u64,
    pub(crate) errors: u64,
    pub(crate) cancels: u64,
    /// The cancels counted per position and normalised reason.
    pub(crate) cancel_reasons: CancelTally,
    pub(crate) skipped: u64,
    pub(crate) segments: u64,
    pub(crate) failures: Vec<Failure>,
    /// With gathering on: each walk's id, final state and (at the full level) summary.
    pub(crate) gathered: gathered::Gathered<S>,
    /// With a log directory: this worker's pending trace records.
    pub(crate) trace: Option<TraceBuffer>,
    /// With a log directory: the position of the action that cancelled each cancelled walk
    /// not recorded yet, by walk id, for its trace record (kept by the tallies whose walks
    /// are recorded, here or by the tally they are merged into).
    pub(crate) cancelled_at: Option<Vec<(u64, usize)>>,
    /// The hash of the last failed walk's fingerprint after each position, which the next
    /// failure of this worker starts from where their options agree.
    pub(crate) fingerprints: FingerprintPrefixes,
}

impl<S> Default for Tally<S> {
    fn default() -> Self {
        Tally {
            walks: 0,
            errors: 0,
            cancels: 0,
            cancel_reasons: CancelTally::default(),
            skipped: 0,
            segments: 0,
            failures: Vec::new(),
            gathered: gathered::Gathered::default(),
            trace: None,
            cancelled_at: None,
            fingerprints: FingerprintPrefixes::default(),
        }
    }
}

impl<S> Tally<S> {
    /// A tally that records walks into `trace`, if given.
    pub(super) fn new(trace: Option<TraceBuffer>) -> Self {
        Tally {
            cancelled_at: trace.is_some().then(Vec::new),
            trace,
            ..Tally::default()
        }
    }

    /// Appends the trace record of a finished walk, if this tally records; the failure
    /// details come from the failure just recorded.
    pub(super) fn record<G>(
        &mut self,
        plan: &Plan<S, G>,
        id: u64,
        options: &[usize],
        outcome: &Outcome,
        duration_ns: u64,
    ) {
        let Tally {
            trace,
            failures,
            cancelled_at,
            ..
        } = self;
        if let Some(trace) = trace {
            // The streaming executor records right after the failure or cancel (the last
            // one); the barrier executor at the end, with both sorted by id.
            let ended_at = match outcome {
                Outcome::Fail => match failures.last() {
                    Some(last) if last.walk_id == id => Some(last),
                    _ => failures
                        .binary_search_by_key(&id, |f| f.walk_id)
                        .ok()
                        .map(|i| &failures[i]),
                }
                .map(|f| (f.failed_position, f.message.as_str())),
                Outcome::Cancel { reason } => {
                    let cancelled_at = cancelled_at.get_or_insert_with(Vec::new);
                    let position = match cancelled_at.last() {
                        Some(&(last, position)) if last == id => {
                            cancelled_at.pop();
                            Some(position)
                        }
                        _ => cancelled_at
                            .binary_search_by_key(&id, |&(cancelled, _)| cancelled)
                            .ok()
                            .map(|i| cancelled_at[i].1),
                    };
                    position.map(|position| (position, reason.as_str()))
                }
                Outcome::Pass => None,
            };
            trace.record(plan, id, options, outcome, ended_at, duration_ns);
        }
    }

    /// Merges another worker's tally into this one (its trace buffer is flushed).
    pub(super) fn absorb(&mut self, other: Tally<S>) {
        self.walks += other.walks;
        self.errors += other.errors;
        self.cancels += other.cancels;
        self.cancel_reasons.absorb(other.cancel_reasons);
        self.skipped += other.skipped;
        self.segments += other.segments;
        // The first tally's failures are taken whole: a run with many failures would
        // otherwise copy every record once more.
        if self.failures.is_empty() {
            self.failures = other.failures;
        } else {
            self.failures.extend(other.failures);
        }
        self.gathered.absorb(other.gathered);
        if let (Some(mine), Some(theirs)) = (&mut self.cancelled_at, other.cancelled_at) {
            mine.extend(theirs);
        }
    }
}

/// How a stretch of one walk (a segment, or a serial action for its branch) ended.
#[derive(Clone)]
pub(super) enum StepEnd {
    Completed,
    Failed {
        position: usize,
        kind: FailureKind,
        message: String,
        location: Option<String>,
    },
    Cancelled {
        position: usize,
        reason: String,
    },
}

impl StepEnd {
    /// Classifies what caught walk code returned; `position` is where it stopped.
    pub(super) fn from_caught(result: Result<StepResult, Unwound>, position: usize) -> Self {
        match result {
            Ok(Ok(())) => StepEnd::Completed,
            Ok(Err(stop)) => match *stop {
                Stop::Cancelled(reason) => StepEnd::Cancelled { position, reason },
                Stop::Failed(message) => StepEnd::Failed {
                    position,
                    kind: FailureKind::Error,
                    message,
                    location: None,
                },
                Stop::TimedOut(message) => StepEnd::Failed {
                    position,
                    kind: FailureKind::Timeout,
                    message,
                    location: None,
                },
            },
            Err(Unwound::Cancelled(reason)) => StepEnd::Cancelled { position, reason },
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
pub(super) struct Traced {
    pub(super) walks: bool,
    pub(super) actions: bool,
}

impl Traced {
    /// What both the subscribers and combtest's verbosity (`cap`) let through.
    pub(super) fn new(cap: LevelFilter) -> Self {
        let level = LevelFilter::current().min(cap);
        Traced {
            walks: level >= tracing::Level::DEBUG,
            actions: level >= tracing::Level::TRACE,
        }
    }
}

/// Everything needed to run walks, borrowed for the whole run.
pub(crate) struct WalkRunner<'a, S, G> {
    pub(crate) plan: &'a Plan<S, G>,
    pub(crate) view: &'a OrderView<'a>,
    pub(crate) filter: Option<&'a (dyn Fn(&Walk<'_>) -> bool + Send + Sync)>,
    /// Whether `filter` is the one compiled into the order's kernel (`combtest!`'s
    /// `filter:`), which the compiled loops then call directly.
    pub(crate) filter_compiled: bool,
    pub(crate) gather: Gather,
    /// The test the run belongs to, for replay commands.
    pub(crate) location: &'a RunLocation,
    pub(crate) catcher: Catcher,
    /// The highest level of combtest's own events (the verbosity).
    pub(crate) level: LevelFilter,
    /// The order's compiled kernel, when `combtest!` could bind its order.
    pub(crate) compiled: Option<&'a dyn CompiledKernel<S, G>>,
    pub(crate) progress: Option<&'a Progress>,
    /// The watch over long walks, which also keeps the walk timeout.
    pub(crate) watch: &'a Watch,
    /// Room left in the run's list of walks cancelled before the last position.
    pub(crate) stopped_room: StoppedRoom,
}

impl<S, G> WalkRunner<'_, S, G>
where
    S: fmt::Debug,
{
    /// The span of one walk, with its id and fingerprint, when walks are traced.
    #[inline]
    pub(super) fn walk_span(
        &self,
        traced: Traced,
        id: u64,
        options: &[usize],
    ) -> Option<tracing::span::EnteredSpan> {
        traced
            .walks
            .then(|| enter_walk_span(id, &self.plan.fingerprint(options)))
    }

    /// The debug event that closes a walk, when walks are traced.
    #[inline]
    pub(super) fn walk_ends(&self, traced: Traced, outcome: &Outcome) {
        if traced.walks {
            log_walk_end(outcome);
        }
    }

    /// Whether the filter keeps walk `id`; counts it as skipped if not.
    #[inline]
    pub(super) fn keep(&self, tally: &mut Tally<S>, id: u64, options: &[usize]) -> bool {
        let Some(keep) = self.filter else {
            return true;
        };
        let walk = Walk::new(id, options, self.view);
        let kept = keep(&walk);
        if !kept {
            tally.skipped += 1;
        }
        kept
    }

    /// Runs the regular actions of `segment` on one walk, stopping at the first that does not
    /// go on; `position` follows along so that an unwind can be pinned to its action. The
    /// caller catches unwinds (once per chunk of walks, not once per walk). `dispatch` is the
    /// general kernel's (see [`Kernel::General`]).
    /// `beat` is told each action, so that a walk running long is named at its action; with a
    /// walk timeout, the walk's time is checked after each (the kernel is then
    /// [`Kernel::General`] without dispatch).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_actions(
        &self,
        shared: &G,
        traced: Traced,
        dispatch: Option<&dyn CompiledKernel<S, G>>,
        beat: &Beat<'_>,
        segment: &Segment,
        options: &[usize],
        position: &mut usize,
        state: &mut S,
    ) -> StepResult {
        if let Some(compiled) = dispatch {
            let result = compiled.run(options, segment.mask, position, state, shared);
            if result.is_ok() && !segment.actions.is_empty() {
                // A passing compiled walk writes no position: leave the one the loop below
                // leaves, so that what runs next reads the same cursor on either kernel.
                *position = segment.actions.end - 1;
            }
            return result;
        }
        for at in segment.actions.clone() {
            *position = at;
            let action = &self.plan.actions[at];
            let option = options[at];
            if traced.actions {
                log_action(&action.name, &ParamText(action, option));
            }
            beat.action(at);
            action.walk_step().run(option, state, shared)?;
            beat.check_time(|| {
                crate::model::step_text::StepText {
                    name: &action.name,
                    param: ParamText(action, option),
                }
                .to_string()
            })?;
        }
        Ok(())
    }

    /// Counts how a stretch of walk `id` ended, records its failure, and returns the walk's
    /// outcome if it is over (`None` while it is still live).
    pub(super) fn settle(
        &self,
        tally: &mut Tally<S>,
        id: u64,
        options: &[usize],
        state: Option<&S>,
        end: StepEnd,
    ) -> Option<Outcome> {
        match end {
            StepEnd::Completed => None,
            StepEnd::Cancelled { position, reason } => {
                tally.cancels += 1;
                if let Some(cancelled_at) = &mut tally.cancelled_at {
                    cancelled_at.push((id, position));
                }
                tally.cancel_reasons.add(position, &reason, id);
                if position + 1 < self.plan.actions.len() {
                    tally
                        .cancel_reasons
                        .stopped_early(id, position, &self.stopped_room);
                }
                Some(Outcome::Cancel { reason })
            }
            StepEnd::Failed {
                position,
                kind,
                message,
                location,
            } => {
                tally.errors += 1;
                let prefixes = &mut tally.fingerprints;
                let fingerprint = self.plan.fingerprint_from(prefixes, options);
                let failure = self.failure(
                    id,
                    options,
                    fingerprint,
                    state,
                    position,
                    kind,
                    message,
                    location,
                );
                self.watch.failed(&failure);
                tally.failures.push(failure);
                Some(Outcome::Fail)
            }
        }
    }

    /// Keeps a walk's final state, if the run gathers states.
    #[inline]
    pub(super) fn gather(&self, tally: &mut Tally<S>, id: u64, state: S, outcome: Outcome) {
        match self.gather {
            Gather::Off => {}
            Gather::Flat => tally.gathered.push(id, state, None),
            Gather::Full => tally
                .gathered
                .push(id, state, Some(self.plan.summary(id, outcome))),
        }
    }
}

/// The kernel that runs a chunk of walks.
#[derive(Clone, Copy)]
pub(super) enum Kernel<'a, S, G> {
    /// The order's compiled loops: a passing walk is run and counted, nothing more.
    Compiled(&'a dyn CompiledKernel<S, G>),
    /// One walk at a time, with everything a walk may need recorded. Its actions are
    /// statically dispatched through the compiled kernel when there is one and no action
    /// event is asked for, and through the actions' trait objects otherwise.
    General(Option<&'a dyn CompiledKernel<S, G>>),
}

impl<'a, S, G> WalkRunner<'a, S, G> {
    /// Which kernel runs a chunk: the one decision both executors take, once per chunk.
    ///
    /// The compiled loops run a chunk when `combtest!` bound the order and a passing walk
    /// needs nothing beyond being run and counted: no walk events (`traced`), no timing for a
    /// trace (`timed`), and nothing that looks at passing walks one by one (`seen_singly`:
    /// gathered states, or a filter with a trace, when streaming; a chunk whose ids a filter
    /// broke up when held). When streaming, the compiled loops ask a filter themselves. With
    /// a walk timeout, actions run one by one through their trait objects, each told to the
    /// watchdog and timed.
    #[inline]
    pub(super) fn kernel(
        &self,
        traced: Traced,
        timed: bool,
        seen_singly: bool,
    ) -> Kernel<'a, S, G> {
        if self.times_walks() {
            return Kernel::General(None);
        }
        // When panics abort, each walk tells its thread its id (see `abort`): the general
        // kernel does, the compiled loops do not.
        match self.compiled {
            Some(compiled) if !traced.walks && !timed && !seen_singly && !abort::PANICS_ABORT => {
                Kernel::Compiled(compiled)
            }
            compiled => Kernel::General(compiled.filter(|_| !traced.actions)),
        }
    }
}

impl<'a, S, G> WalkRunner<'a, S, G> {
    /// The beat a worker of this run keeps.
    pub(super) fn beat(&self) -> Beat<'a> {
        self.watch.beat()
    }

    /// Whether walks have a timeout the workers check: they are then timed one by one.
    #[inline]
    pub(super) fn times_walks(&self) -> bool {
        self.watch.limit().is_some()
    }
}

impl<S, G> Describe for WalkRunner<'_, S, G>
where
    Self: Sync,
    S: fmt::Debug,
{
    fn long_walk(&self, id: u64, position: Option<usize>, message: String) -> LongWalk {
        let plan = self.plan;
        let mut options = vec![0; plan.actions.len()];
        plan.space.decode(id, &mut options);
        let fingerprint = plan.fingerprint(&options);
        let action = position.map(|at| {
            let action = &plan.actions[at];
            crate::model::step_text::StepText {
                name: &action.name,
                param: ParamText(action, options[at]),
            }
            .to_string()
        });
        let failed_position = position.unwrap_or(0);
        LongWalk {
            action,
            failure: Failure {
                walk_id: id,
                fingerprint,
                steps: self.describe(&options),
                failed_position,
                failed_action: plan.actions[failed_position].name.to_string(),
                kind: FailureKind::Timeout,
                message,
                location: None,
                state: String::new(),
                replay: replay_command(self.location, id, fingerprint),
            },
        }
    }
}

/// How async walks run: how many at once per worker thread, and for how long at most. The
/// executors take it for an order with async actions, `None` otherwise.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "async"), allow(dead_code))]
pub(crate) struct AsyncLimits {
    pub(crate) concurrency: usize,
    pub(crate) timeout: Option<std::time::Duration>,
}

/// Times a walk's actions for its trace record, when a trace records durations. Walk time has
/// one unit everywhere: whole nanoseconds, as traces write it.
#[derive(Clone, Copy, Default)]
pub(super) struct Stopwatch(Option<Instant>);

impl Stopwatch {
    /// Starts timing, if `timed`.
    #[inline]
    pub(super) fn start(timed: bool) -> Self {
        Stopwatch(timed.then(Instant::now))
    }

    /// Nanoseconds since the start; 0 when not timed.
    pub(super) fn nanos(self) -> u64 {
        self.0.map_or(0, |start| {
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
        })
    }
}

/// Where the walk code of a chunk stands, kept outside `catch_unwind` so that an unwind can be
/// pinned to its walk (`at`, in the executor's own terms) and its action (`position`).
#[derive(Default)]
pub(super) struct Cursor<At> {
    /// The walk running now.
    pub(super) at: At,
    /// The position of the action running now.
    pub(super) position: usize,
    /// The test's own code (a filter) is running: an unwind now is not the walk's.
    pub(super) in_test_code: bool,
    /// The walk's time so far.
    pub(super) started: Stopwatch,
}

/// Walk code of one chunk that [`run_resuming`] runs.
pub(super) trait Resumable {
    /// Runs the chunk's walks from the cursor to the end.
    fn run_from_cursor(&mut self, scope: &WalkScope);

    /// The code at the cursor unwound with `payload`: settles the walk there and moves the
    /// cursor past it, or says why the unwind is not a walk's and must go on.
    fn settle_unwound(
        &mut self,
        scope: &WalkScope,
        payload: Box<dyn Any + Send>,
    ) -> Result<(), ForeignUnwind>;
}

/// An unwind that no walk outcome can hold.
pub(super) enum ForeignUnwind {
    /// The test's own code panicked (it printed as usual): pass the panic on.
    Resume(Box<dyn Any + Send>),
    /// combtest cannot go on: panic with this message, outside walk code so that it prints.
    Panic(String),
}

/// The resume-after-unwind protocol: runs a chunk's walk code under one `catch_unwind`,
/// entered again after each walk that unwinds, so that panic bookkeeping is paid per chunk
/// and not per walk.
pub(super) fn run_resuming(catcher: Catcher, chunk: &mut impl Resumable) {
    let scope = catcher.enter();
    loop {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| chunk.run_from_cursor(&scope)));
        let Err(payload) = caught else {
            return;
        };
        if let Err(escape) = chunk.settle_unwound(&scope, payload) {
            drop(scope);
            match escape {
                ForeignUnwind::Resume(payload) => panic::resume_unwind(payload),
                ForeignUnwind::Panic(message) => panic!("{message}"),
            }
        }
    }
}

/// What a worker of a parallel stretch over held walks keeps.
pub(super) struct Worker<S> {
    pub(super) tally: Tally<S>,
    /// Why each walk it cancelled was cancelled.
    pub(super) reasons: Vec<(u64, String)>,
    /// The options of the walk it runs.
    pub(super) options: Vec<usize>,
    /// Walks that failed before they were held (their state panicked while it was made):
    /// no chunk holds them, so the trace records them apart.
    pub(super) unheld: Vec<u64>,
}

impl<S> Worker<S> {
    /// A worker of a run whose walks are recorded in a trace (`traced`) once merged.
    pub(super) fn new(positions: usize, traced: bool) -> Self {
        Worker {
            tally: Tally {
                cancelled_at: traced.then(Vec::new),
                ..Tally::default()
            },
            reasons: Vec::new(),
            options: vec![0; positions],
            unheld: Vec::new(),
        }
    }

    /// Records the end of a stretch of walk `id`, returning its new status.
    pub(super) fn settle(&mut self, id: u64, outcome: Option<Outcome>) -> Status {
        let status = Status::of(outcome.as_ref());
        if let Some(Outcome::Cancel { reason }) = outcome {
            self.reasons.push((id, reason));
        }
        status
    }
}

// The tracing events of a walk, made by functions compiled once in this crate rather than
// inside code generic over the state (each event site there would be compiled again, with
// its subscriber lookup, for every state type a test uses). They run only when walks are
// traced.

/// Enters the span of walk `id`.
#[inline(never)]
fn enter_walk_span(id: u64, fingerprint: &dyn fmt::Display) -> tracing::span::EnteredSpan {
    tracing::debug_span!("walk", id, %fingerprint).entered()
}

/// The debug event that closes a walk.
#[inline(never)]
fn log_walk_end(outcome: &Outcome) {
    tracing::debug!(?outcome, "walk ends");
}

/// The trace event of an action about to run with `param`.
#[inline(never)]
fn log_action(action: &str, param: &dyn fmt::Display) {
    tracing::trace!(action, param = %param, "action");
}

/// Formats a param only if a subscriber asks for it.
struct ParamText<'a, S, G>(&'a LoadedAction<S, G>, usize);

impl<S, G> fmt::Display for ParamText<'_, S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.params().debug(self.1))
    }
}
