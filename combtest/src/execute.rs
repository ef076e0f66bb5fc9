//! Running walks: the per-walk machinery both executors share, and the streaming executor for
//! orders without serial actions.
//!
//! Without serial actions a walk runs from start to end in one go on a fresh state, which is
//! dropped right after, so memory stays flat however many walks there are. Orders with serial
//! actions keep their walks resident between barriers; see [`crate::barrier`].

use std::fmt;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use tracing::level_filters::LevelFilter;

use crate::action::{LoadedAction, StepResult, Stop};
use crate::fast::{FastWalk, QuietWalks};
use crate::outcome::{Failure, FailureKind, Outcome, WalkSummary};
use crate::panic_capture::{Catcher, Unwound, WalkScope};
use crate::plan::{Plan, Segment};
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
#[derive(Clone)]
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
            Ok(Ok(())) => StepEnd::Completed,
            Ok(Err(stop)) => match *stop {
                Stop::Cancelled(reason) => StepEnd::Cancelled(reason),
                Stop::Failed(message) => StepEnd::Failed {
                    position,
                    kind: FailureKind::Error,
                    message,
                    location: None,
                },
            },
            Err(Unwound::Cancelled(reason)) => StepEnd::Cancelled(reason),
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
    pub(crate) walks: bool,
    pub(crate) actions: bool,
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
    /// The walk's actions statically dispatched, when `combtest!` could bind its order.
    pub(crate) fast: Option<&'a dyn FastWalk<S, G>>,
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

    /// Runs the regular actions of `segment` on one walk, stopping at the first that does not
    /// go on; `position` follows along so that an unwind can be pinned to its action. The
    /// caller catches unwinds (once per chunk of walks, not once per walk).
    #[inline]
    pub(crate) fn run_actions(
        &self,
        shared: &G,
        traced: Traced,
        segment: &Segment,
        options: &[usize],
        position: &mut usize,
        state: &mut S,
    ) -> StepResult {
        if let (Some(fast), false) = (self.fast, traced.actions) {
            return fast.run(options, segment.mask, position, state, shared);
        }
        for at in segment.actions.clone() {
            *position = at;
            let action = &self.plan.actions[at];
            let option = options[at];
            if traced.actions {
                tracing::trace!(action = &*action.name, param = %ParamText(action, option), "action");
            }
            action.walk_step().run(option, state, shared)?;
        }
        Ok(())
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
            // The state's `Debug` is the test's own code: a panic there must not lose the
            // walk's failure.
            state: crate::panic_capture::quietly(|| format!("{state:#?}"))
                .unwrap_or_else(|message| format!("<the state's Debug panicked: {message}>")),
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
    let dispenser = Dispenser::new(selection, threads);
    let workers = (0..pool::worker_count(threads, &dispenser))
        .map(|_| (source.template(), Tally::new(trace())))
        .collect();
    let workers = pool::run(workers, &dispenser, |(template, tally), ids| {
        let before = (tally.walks + tally.skipped, tally.errors);
        let mut stream = Stream {
            runner,
            shared,
            template,
            traced: Traced::new(runner.level),
            timed: tally.trace.is_some(),
            options: vec![0; plan.actions.len()],
            cursor: Cursor::default(),
            state: None,
            quiet_pass: false,
        };
        stream.quiet_pass = runner.gather == Gather::Off && !stream.timed && !stream.traced.walks;
        for range in ids {
            stream.run_range(tally, range.clone());
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
    // Without serial actions a walk is a single segment.
    total.segments = total.walks;
    total
}

/// Where the walk code of a chunk stands, kept outside `catch_unwind` so that an unwind can
/// be pinned to its walk and position.
#[derive(Default)]
struct Cursor {
    id: u64,
    position: usize,
    in_filter: bool,
    started: Option<Instant>,
}

/// One worker's view of the streaming run.
struct Stream<'s, 'r, S, G> {
    runner: &'s WalkRunner<'r, S, G>,
    shared: &'s G,
    template: &'s Template<'s, S>,
    traced: Traced,
    timed: bool,
    options: Vec<usize>,
    cursor: Cursor,
    /// The state of the walk running now; outside the catch so that a panicking walk's
    /// state can still be reported.
    state: Option<S>,
    /// Whether a passing walk needs nothing beyond being counted (no gathering, no trace,
    /// no walk events).
    quiet_pass: bool,
}

impl<S, G> Stream<'_, '_, S, G>
where
    S: Clone + fmt::Debug,
{
    /// Runs the walks of `range` under one `catch_unwind`, entered again after each walk
    /// that unwinds: panic bookkeeping is paid per chunk, not per walk.
    fn run_range(&mut self, tally: &mut Tally<S>, range: Range<u64>) {
        let plan = self.runner.plan;
        let scope = self.runner.catcher.enter();
        plan.space.decode(range.start, &mut self.options);
        self.cursor.id = range.start;
        while self.cursor.id < range.end {
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                self.run_walks(&scope, tally, range.end);
            }));
            let Err(payload) = result else {
                break;
            };
            if self.cursor.in_filter {
                // The test's own filter panicked: not a walk failure. It printed as usual.
                drop(scope);
                panic::resume_unwind(payload);
            }
            let id = self.cursor.id;
            // A walk may unwind out of loops that keep no odometer: find its options.
            plan.space.decode(id, &mut self.options);
            let Some(state) = self.state.take() else {
                // The walk's actions were over: the panic came from recording it (the
                // state's `Debug`, say). That is no walk outcome to report; say what it was.
                let message = scope.unwound(payload).message();
                drop(scope);
                panic!("combtest: a panic while recording walk {id}, after its actions: {message}");
            };
            let end = StepEnd::from_caught(Err(scope.unwound(payload)), self.cursor.position);
            self.finish_walk(tally, id, state, end);
            self.next(range.end);
        }
    }

    /// Runs walks from the cursor to `end`.
    #[inline]
    fn run_walks(&mut self, scope: &WalkScope, tally: &mut Tally<S>, end_id: u64) {
        let runner = self.runner;
        if let (Some(fast), None, true) = (runner.fast, runner.filter, self.quiet_pass) {
            return self.run_compiled(fast, tally, end_id);
        }
        while self.cursor.id < end_id {
            let id = self.cursor.id;
            if let Some(keep) = runner.filter {
                let walk = Walk {
                    id,
                    options: &self.options,
                    order: runner.view,
                };
                self.cursor.in_filter = true;
                let kept = scope.outside(|| keep(&walk));
                self.cursor.in_filter = false;
                if !kept {
                    tally.skipped += 1;
                    self.next(end_id);
                    continue;
                }
            }
            let _walk = runner.walk_span(self.traced, id, &self.options);
            tally.walks += 1;
            self.cursor.started = self.timed.then(Instant::now);
            let state = self.state.insert(self.template.make());
            let result = runner.run_actions(
                self.shared,
                self.traced,
                &runner.plan.segments[0],
                &self.options,
                &mut self.cursor.position,
                state,
            );
            if result.is_ok() && self.quiet_pass {
                // A passing walk that nothing records: only the counters above remember it.
                self.state = None;
            } else {
                let state = self.state.take().expect("the walk's state was just made");
                let end = StepEnd::from_caught(Ok(result), self.cursor.position);
                self.finish_walk(tally, id, state, end);
            }
            self.next(end_id);
        }
    }

    /// Runs walks from the cursor to `end` in the order's compiled loops, when passing walks
    /// are only counted; each walk that does not pass is settled here. Kept apart from
    /// [`Stream::run_walks`] so that the general loop compiles as before.
    #[inline(never)]
    fn run_compiled(&mut self, fast: &dyn FastWalk<S, G>, tally: &mut Tally<S>, end_id: u64) {
        let runner = self.runner;
        // Passing walks are only counted: the order's own compiled loop runs them, and
        // hands back each walk that does not pass.
        while self.cursor.id < end_id {
            let result = fast.run_quiet(
                QuietWalks {
                    options: &self.options,
                    id: &mut self.cursor.id,
                    end: end_id,
                    position: &mut self.cursor.position,
                    state: &mut self.state,
                    template: self.template,
                    walks: &mut tally.walks,
                },
                self.shared,
            );
            // The loops left the options behind: find them from the id.
            if self.cursor.id < end_id {
                runner.plan.space.decode(self.cursor.id, &mut self.options);
            }
            if result.is_err() {
                let id = self.cursor.id;
                let state = self.state.take().expect("the failed walk's state is kept");
                let end = StepEnd::from_caught(Ok(result), self.cursor.position);
                self.finish_walk(tally, id, state, end);
                self.next(end_id);
            }
        }
    }

    /// Settles, traces, records and gathers a finished walk.
    fn finish_walk(&mut self, tally: &mut Tally<S>, id: u64, state: S, end: StepEnd) {
        let runner = self.runner;
        let outcome = runner
            .settle(tally, id, &self.options, &state, end)
            .unwrap_or(Outcome::Pass);
        runner.walk_ends(self.traced, &outcome);
        let nanos = self.cursor.started.map_or(0, |start| {
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
        });
        tally.record(runner.plan, id, &self.options, &outcome, nanos);
        runner.gather(tally, id, state, outcome);
    }

    /// Moves the cursor to the next walk of the range.
    #[inline]
    fn next(&mut self, end: u64) {
        self.cursor.id += 1;
        if self.cursor.id < end {
            self.runner.plan.space.advance(&mut self.options);
        }
    }
}

/// Formats a param only if a subscriber asks for it.
struct ParamText<'a, S, G>(&'a LoadedAction<S, G>, usize);

impl<S, G> fmt::Display for ParamText<'_, S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.params().debug(self.1))
    }
}
