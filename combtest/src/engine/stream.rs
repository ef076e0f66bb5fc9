//! The streaming executor, for orders without serial actions: each walk runs from start to
//! end in one go on a fresh state, dropped right after, so memory stays flat however many
//! walks there are.

use std::any::Any;
use std::fmt;

use super::abort;
use super::compiled::{CompiledKernel, QuietWalks};
use super::compiled_filter::WalkFilter;
use super::held::Status;
use super::pool::{self, Dispenser};
use super::positions::{DROPPING_STATE, MAKING_STATE};
use super::state_faults::StateFault;
use super::unwind::WalkScope;
use super::watchdog::Beat;
use super::{
    run_resuming, Cursor, ForeignUnwind, Kernel, Resumable, StepEnd, Stopwatch, Tally, Traced,
    WalkRunner,
};
use crate::config::Gather;
use crate::model::outcome::Outcome;
use crate::model::state::{StateSource, Template};
use crate::model::walk::Walk;
use crate::model::walk_id::WalkSelection;
use crate::output::trace::TraceBuffer;

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
    S: Send + fmt::Debug,
    G: Sync,
{
    let plan = runner.plan;
    debug_assert_eq!(plan.segments.len(), 1, "an order without serial actions");
    let dispenser = Dispenser::new(selection, threads);
    let workers = (0..pool::worker_count(threads, &dispenser))
        .map(|_| (source.template(), Tally::new(trace()), runner.beat()))
        .collect();
    let workers = pool::run(workers, &dispenser, |(template, tally, beat), ids| {
        let before = (tally.walks + tally.skipped, tally.errors);
        let traced = Traced::new(runner.level);
        // Gathered states look at passing walks one by one. The compiled loops ask a filter
        // themselves, but write passing walks to a trace as runs of ids, which the walks a
        // filter skips would break up.
        let seen_singly =
            runner.gather != Gather::Off || (runner.filter.is_some() && tally.trace.is_some());
        // A trace that writes passing walks as runs of ids lets the compiled loops run them,
        // timed a run at a time; otherwise each walk is timed for its own record.
        let runs = tally.trace.as_ref().map(TraceBuffer::writes_passed_runs);
        let kernel = runner.kernel(
            traced,
            runner.times_walks() || runs == Some(false),
            seen_singly,
        );
        let timed =
            runner.times_walks() || (runs.is_some() && matches!(kernel, Kernel::General(_)));
        let mut stream = Stream {
            runner,
            shared,
            template,
            tally,
            traced,
            timed,
            kernel,
            quiet_pass: runner.gather == Gather::Off && !timed && !traced.walks,
            options: vec![0; plan.actions.len()],
            cursor: Cursor::default(),
            end: 0,
            loops_from: 0,
            loops_started: Stopwatch::default(),
            state: None,
            beat: beat.as_mut(),
        };
        for range in ids {
            plan.space.decode(range.start, &mut stream.options);
            stream.cursor.at = range.start;
            stream.end = range.end;
            run_resuming(runner.catcher, &mut stream);
        }
        if let Some(beat) = beat {
            beat.idle();
        }
        if let Some(progress) = runner.progress {
            let done = tally.walks + tally.skipped - before.0;
            progress.add(done, tally.errors - before.1);
        }
    });
    let mut total = Tally::default();
    for (_, tally, _) in workers {
        total.absorb(tally);
    }
    // Without serial actions a walk is a single segment.
    total.segments = total.walks;
    total
}

/// One worker's view of the streaming run, over one chunk of walk ids.
struct Stream<'s, 'r, S, G> {
    runner: &'s WalkRunner<'r, S, G>,
    shared: &'s G,
    template: &'s Template<'s, S>,
    tally: &'s mut Tally<S>,
    traced: Traced,
    timed: bool,
    kernel: Kernel<'r, S, G>,
    /// Whether a passing walk needs nothing beyond being counted (no gathering, no trace,
    /// no walk events).
    quiet_pass: bool,
    /// The options of the walk at the cursor (the compiled loops leave them behind; see
    /// [`Stream::run_compiled`]).
    options: Vec<usize>,
    /// The id of the walk running now.
    cursor: Cursor<u64>,
    /// The end of the id range being run.
    end: u64,
    /// With a trace: the first walk the compiled loops ran that is not recorded yet, and when
    /// the loops started on it (they record no passing walk one by one).
    loops_from: u64,
    loops_started: Stopwatch,
    /// The state of the walk running now; outside the catch so that a panicking walk's
    /// state can still be reported.
    state: Option<S>,
    /// The worker's beat, when the run is watched.
    beat: Option<&'s mut Beat<'r>>,
}

impl<S, G> Resumable for Stream<'_, '_, S, G>
where
    S: fmt::Debug,
{
    #[inline]
    fn run_from_cursor(&mut self, scope: &WalkScope) {
        match self.kernel {
            Kernel::Compiled(compiled) => self.run_compiled(compiled, scope),
            Kernel::General(dispatch) => self.run_general(scope, dispatch),
        }
    }

    fn settle_unwound(
        &mut self,
        scope: &WalkScope,
        payload: Box<dyn Any + Send>,
    ) -> Result<(), ForeignUnwind> {
        if self.cursor.in_test_code {
            // The test's own filter panicked: not a walk failure. It printed as usual.
            return Err(ForeignUnwind::Resume(payload));
        }
        if matches!(self.kernel, Kernel::Compiled(_)) {
            self.trace_passed_in_loops();
        }
        let id = self.cursor.at;
        // A walk may unwind out of loops that keep no odometer: find its options.
        self.runner.plan.space.decode(id, &mut self.options);
        let state = self.state.take();
        match (state, StateFault::at(self.cursor.position)) {
            (state, Some(fault)) => {
                // The state's Clone, factory or Drop panicked: the walk fails, saying where.
                drop(state);
                let message = scope.unwound(payload).message();
                let end = StepEnd::from_fault(self.runner, fault, &message);
                let runner = self.runner;
                let outcome = runner
                    .settle(self.tally, id, &self.options, None, end)
                    .unwrap_or(Outcome::Fail);
                runner.walk_ends(self.traced, &outcome);
                let nanos = self.cursor.started.nanos();
                self.tally
                    .record(runner.plan, id, &self.options, &outcome, nanos);
            }
            (Some(state), None) => {
                let end = StepEnd::from_caught(Err(scope.unwound(payload)), self.cursor.position);
                self.finish_walk(id, state, end);
            }
            (None, None) => {
                // The walk was settled: the panic came from recording it. That is no walk
                // outcome to report; say what it was.
                let message = scope.unwound(payload).message();
                return Err(ForeignUnwind::Panic(format!(
                    "combtest: a panic while recording walk {id}, after its actions: {message}"
                )));
            }
        }
        self.next();
        Ok(())
    }
}

impl<S, G> Stream<'_, '_, S, G>
where
    S: fmt::Debug,
{
    /// Runs walks from the cursor to the end, one at a time.
    #[inline]
    fn run_general(&mut self, scope: &WalkScope, dispatch: Option<&dyn CompiledKernel<S, G>>) {
        let runner = self.runner;
        while self.cursor.at < self.end {
            let id = self.cursor.at;
            if let Some(keep) = runner.filter {
                let walk = Walk {
                    id,
                    options: &self.options,
                    order: runner.view,
                };
                self.cursor.in_test_code = true;
                let kept = scope.outside(|| keep(&walk));
                self.cursor.in_test_code = false;
                if !kept {
                    self.tally.skipped += 1;
                    self.next();
                    continue;
                }
            }
            if let Some(beat) = self.beat.as_deref_mut() {
                if !beat.walk(id) {
                    // The run is ending (see `watchdog`): no walk starts.
                    self.cursor.at = self.end;
                    return;
                }
            }
            let _walk = runner.walk_span(self.traced, id, &self.options);
            abort::walk_starts(Some(id));
            self.tally.walks += 1;
            self.cursor.started = Stopwatch::start(self.timed);
            self.cursor.position = MAKING_STATE;
            let state = self.state.insert(self.template.make());
            let result = runner.run_actions(
                self.shared,
                self.traced,
                dispatch,
                self.beat.as_deref(),
                &runner.plan.segments[0],
                &self.options,
                &mut self.cursor.position,
                state,
            );
            if result.is_ok() && self.quiet_pass {
                // A passing walk that nothing records: only the counters above remember it.
                self.cursor.position = DROPPING_STATE;
                drop(self.state.take());
                if let Some(beat) = self.beat.as_deref() {
                    beat.ended(Status::Live);
                }
            } else {
                let state = self.state.take().expect("the walk's state was just made");
                let end = StepEnd::from_caught(Ok(result), self.cursor.position);
                self.finish_walk(id, state, end);
            }
            self.next();
        }
    }

    /// Runs walks from the cursor to the end in the order's compiled loops, which only count
    /// a passing walk; each walk that does not pass is settled here. Kept apart from
    /// [`Stream::run_general`] so that the general loop compiles as before.
    #[inline(never)]
    fn run_compiled(&mut self, compiled: &dyn CompiledKernel<S, G>, scope: &WalkScope) {
        let runner = self.runner;
        while self.cursor.at < self.end {
            if let Some(beat) = self.beat.as_deref_mut() {
                if !beat.chunk(self.cursor.at, self.end - self.cursor.at) {
                    self.cursor.at = self.end;
                    return;
                }
            }
            self.loops_from = self.cursor.at;
            self.loops_started = Stopwatch::start(self.tally.trace.is_some());
            // The loops step the odometer only for a filter: without one, it stays at the
            // first walk.
            let first = self.cursor.at;
            let mut odometer = Vec::new();
            let filter = runner.filter.map(|keep| {
                odometer.clone_from(&self.options);
                WalkFilter {
                    keep,
                    order: runner.view,
                    space: &runner.plan.space,
                    scope,
                    options: &mut odometer,
                    at: first,
                    fastest: runner.plan.space.fastest_wheel(),
                    in_test_code: &mut self.cursor.in_test_code,
                }
            });
            let result = compiled.run_quiet(
                QuietWalks {
                    options: &self.options,
                    id: &mut self.cursor.at,
                    end: self.end,
                    position: &mut self.cursor.position,
                    state: &mut self.state,
                    template: self.template,
                    walks: &mut self.tally.walks,
                    skipped: &mut self.tally.skipped,
                },
                filter,
                self.shared,
            );
            self.trace_passed_in_loops();
            // The loops left the options behind: find them from the id.
            if self.cursor.at < self.end {
                self.runner
                    .plan
                    .space
                    .decode(self.cursor.at, &mut self.options);
            }
            if result.is_err() {
                let id = self.cursor.at;
                let state = self.state.take().expect("the failed walk's state is kept");
                let end = StepEnd::from_caught(Ok(result), self.cursor.position);
                self.finish_walk(id, state, end);
                self.next();
            }
        }
    }

    /// Settles, traces, records and gathers (or drops) a finished walk's state.
    fn finish_walk(&mut self, id: u64, state: S, end: StepEnd) {
        let nanos = self.cursor.started.nanos();
        let status = self.runner.finish_walk(
            self.tally,
            id,
            &self.options,
            state,
            end,
            self.traced,
            nanos,
        );
        if let Some(beat) = self.beat.as_deref() {
            beat.ended(status);
        }
    }

    /// Records in the trace, if any, that the walks the compiled loops ran before the cursor
    /// passed: they stopped at the cursor, at the end of the range or at a walk that did not.
    fn trace_passed_in_loops(&mut self) {
        if let Some(trace) = &mut self.tally.trace {
            if self.cursor.at > self.loops_from {
                trace.passed(
                    self.loops_from,
                    self.cursor.at - 1,
                    self.loops_started.nanos(),
                );
            }
        }
        self.loops_from = self.cursor.at;
    }

    /// Moves the cursor to the next walk of the range.
    #[inline]
    fn next(&mut self) {
        self.cursor.at += 1;
        if self.cursor.at < self.end {
            self.runner
                .plan
                .space
                .advance(self.cursor.at, &mut self.options);
        }
    }
}
