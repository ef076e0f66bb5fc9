//! The streaming executor, for orders without serial actions: each walk runs from start to
//! end in one go on a fresh state, dropped right after, so memory stays flat however many
//! walks there are.

use std::any::Any;
use std::fmt;

use super::abort;
use super::compiled::{CompiledKernel, QuietWalks};
use super::compiled_filter::{Answers, FilterCall, FilterWalks};
use super::held::Status;
use super::pool::{self, Dispenser};
use super::positions::{MarkOnUnwind, DROPPING_STATE, MAKING_STATE};
use super::state_faults::StateFault;
use super::unwind::WalkScope;
use super::watchdog::Beat;
use super::{
    run_resuming, Cursor, ForeignUnwind, Kernel, Resumable, StepEnd, Stopwatch, Tally, Traced,
    WalkRunner,
};
use crate::config::Gather;
use crate::model::action::{StepResult, WalkStep};
use crate::model::outcome::Outcome;
use crate::model::state::{StateSource, Template};
use crate::model::walk::Walk;
use crate::model::walk_id::{NextOptions, WalkSelection, WalkSpace};
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
        // Full gathering summarizes each passing walk. The compiled loops gather flat states
        // and ask a filter themselves, but write passing walks to a trace as runs of ids,
        // which the walks a filter skips would break up.
        let seen_singly =
            runner.gather == Gather::Full || (runner.filter.is_some() && tally.trace.is_some());
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
        let quiet_pass = runner.gather == Gather::Off && !timed && !traced.walks;
        let lean = lean_steps(runner, &kernel, quiet_pass);
        let mut stream = Stream {
            runner,
            shared,
            template,
            tally,
            traced,
            timed,
            kernel,
            quiet_pass,
            lean: lean.as_deref(),
            options: vec![0; plan.actions.len()],
            cursor: Cursor::default(),
            end: 0,
            loops_from: 0,
            loops_started: Stopwatch::default(),
            state: None,
            beat,
            answers: Answers::default(),
        };
        for range in ids {
            plan.space.decode(range.start, &mut stream.options);
            stream.cursor.at = range.start;
            stream.end = range.end;
            run_resuming(runner.catcher, &mut stream);
        }
        beat.idle();
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

/// One action of the lean loop: its step. The lean loop runs orders without serial actions,
/// whose one segment is every position in order: an action's position is its index.
type LeanStep<'r, S, G> = &'r dyn WalkStep<S, G>;

/// The steps of [`Stream::run_lean`], when it can run a worker's chunks: the general kernel
/// without static dispatch, with nothing that looks at a passing walk (`quiet_pass`), no
/// filter and no walk timeout (a timed walk checks its time after each action).
fn lean_steps<'r, S, G>(
    runner: &WalkRunner<'r, S, G>,
    kernel: &Kernel<'r, S, G>,
    quiet_pass: bool,
) -> Option<Vec<LeanStep<'r, S, G>>> {
    let lean = matches!(kernel, Kernel::General(None))
        && quiet_pass
        && runner.filter.is_none()
        && !runner.times_walks();
    let plan = runner.plan;
    debug_assert_eq!(plan.segments[0].actions, 0..plan.actions.len());
    lean.then(|| {
        plan.actions
            .iter()
            .map(|action| action.walk_step())
            .collect()
    })
}

/// What the lean loop runs walks with: everything it reads, looked up before the loop.
struct LeanWalks<'a, 'r, S, G> {
    /// The step of each action of the walk, by position.
    steps: &'a [LeanStep<'r, S, G>],
    space: &'a WalkSpace,
    next_options: NextOptions,
    shared: &'a G,
    template: &'a Template<'a, S>,
    beat: &'a Beat<'r>,
}

/// Why the lean loop stopped.
enum LeanEnd {
    /// Every walk of the range ran and passed.
    Ran,
    /// The run is ending (see `watchdog`): no walk starts.
    Stopping,
    /// The walk at the cursor did not pass: its state is kept for its record.
    Failed(StepResult),
}

/// The id of the walk the lean loop runs, kept where the compiler can hold it in a register,
/// and given back to the cursor (with the count of walks started) once per call: when the
/// loop returns ([`LeanCounter::publish`]), or when a walk unwinds (its drop, which counts
/// the walk that unwinds as started).
struct LeanCounter<'a> {
    at: &'a mut u64,
    walks: &'a mut u64,
    first: u64,
    id: u64,
}

impl LeanCounter<'_> {
    /// Writes the id of the walk at the cursor, and counts the walks started since the last
    /// write: those before it, and it too if it is `in_progress` (it stopped or unwinds).
    #[inline(always)]
    fn write(&mut self, in_progress: bool) {
        *self.at = self.id;
        *self.walks += self.id - self.first + u64::from(in_progress);
        self.first = self.id;
    }

    #[inline(always)]
    fn publish(mut self, stopped: bool) {
        self.write(stopped);
        std::mem::forget(self);
    }
}

impl Drop for LeanCounter<'_> {
    /// Only an unwind drops the counter: the walk at `id` unwinds.
    fn drop(&mut self) {
        self.write(true);
    }
}

impl<S, G> LeanWalks<'_, '_, S, G> {
    /// Runs walks from `cursor.at` to `end` (whose options are `options`) one at a time,
    /// each on a fresh state in `state`, until one does not pass; counts each in `walks`.
    /// A walk that unwinds leaves the cursor on it, as [`Stream::run_general`] does.
    ///
    /// The cursor's id, position and walk count are written only when they are read: on
    /// return, at a walk that stops, and (by guards) while a walk unwinds. The watchdog is
    /// told the range of walks once, as the compiled loops tell it theirs: the lean loop runs
    /// only without a timeout, when a walk running long is named by its range.
    #[inline(never)]
    fn run(
        self,
        options: &mut [usize],
        cursor: &mut Cursor<u64>,
        end: u64,
        state: &mut Option<S>,
        walks: &mut u64,
    ) -> LeanEnd {
        let Cursor { at, position, .. } = cursor;
        if *at < end && !self.beat.chunk(*at, end - *at) {
            return LeanEnd::Stopping;
        }
        let first = *at;
        let mut counter = LeanCounter {
            at,
            walks,
            first,
            id: first,
        };
        let options = &mut options[..self.steps.len()];
        while counter.id < end {
            abort::walk_starts(Some(counter.id));
            let making = MarkOnUnwind::new(&mut *position, MAKING_STATE);
            let walk_state = self.template.make_into(state);
            making.disarm();
            for (at, (&step, &option)) in self.steps.iter().zip(&*options).enumerate() {
                let acting = MarkOnUnwind::new(&mut *position, at);
                let result = step.run(option, walk_state, self.shared);
                acting.disarm();
                if result.is_err() {
                    *position = at;
                    counter.publish(true);
                    return LeanEnd::Failed(result);
                }
            }
            // The lean loop runs only when nothing reads how many walks a worker ended: a
            // passing walk tells the watchdog nothing more.
            let dropping = MarkOnUnwind::new(&mut *position, DROPPING_STATE);
            drop(state.take());
            dropping.disarm();
            counter.id += 1;
            if counter.id < end {
                self.next_options.step(self.space, counter.id, options);
            }
        }
        counter.publish(false);
        LeanEnd::Ran
    }
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
    /// The steps of the general kernel's lean loop ([`Stream::run_lean`]), when it runs the
    /// chunk: `(position, step)` of each action, looked up once per worker.
    lean: Option<&'s [LeanStep<'r, S, G>]>,
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
    /// The worker's beat.
    beat: &'s mut Beat<'r>,
    /// The filter's answers for the walks just ahead of the compiled loops: kept across
    /// their calls (a walk that does not pass leaves them), so each walk is asked once.
    answers: Answers,
}

impl<S, G> Resumable for Stream<'_, '_, S, G>
where
    S: fmt::Debug,
{
    #[inline]
    fn run_from_cursor(&mut self, scope: &WalkScope) {
        match self.kernel {
            Kernel::Compiled(compiled) => self.run_compiled(compiled, scope),
            Kernel::General(_) if self.lean.is_some() => self.run_lean(),
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
                let walk = Walk::new(id, &self.options, runner.view);
                self.cursor.in_test_code = true;
                let kept = scope.outside(|| keep(&walk));
                self.cursor.in_test_code = false;
                if !kept {
                    self.tally.skipped += 1;
                    self.next();
                    continue;
                }
            }
            if !self.beat.walk(id) {
                // The run is ending (see `watchdog`): no walk starts.
                self.cursor.at = self.end;
                return;
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
                self.beat,
                &runner.plan.segments[0],
                &self.options,
                &mut self.cursor.position,
                state,
            );
            if result.is_ok() && self.quiet_pass {
                // A passing walk that nothing records: only the counters above remember it.
                self.cursor.position = DROPPING_STATE;
                drop(self.state.take());
                self.beat.ended(Status::Live);
            } else {
                let state = self.state.take().expect("the walk's state was just made");
                let end = StepEnd::from_caught(Ok(result), self.cursor.position);
                self.finish_walk(id, state, end);
            }
            self.next();
        }
    }

    /// Runs walks from the cursor to the end, one at a time, when a passing walk needs
    /// nothing but its actions run and being counted, through the actions' trait objects
    /// (the builder's orders): what [`Stream::run_general`] does in that case, without what
    /// it would check at every walk and action only to find it off. The steps were looked up
    /// once per worker, so an action costs a store of its position (for panic attribution and
    /// the watchdog) and one indirect call. A walk that does not pass is settled by
    /// [`Stream::finish_walk`] as in the general loop.
    fn run_lean(&mut self) {
        let Some(steps) = self.lean else {
            return;
        };
        let plan = self.runner.plan;
        while self.cursor.at < self.end {
            let Stream {
                shared,
                template,
                tally,
                options,
                cursor,
                end,
                state,
                beat,
                ..
            } = self;
            let walks = LeanWalks {
                steps,
                space: &plan.space,
                next_options: NextOptions::new(&plan.space),
                shared,
                template,
                beat,
            };
            match walks.run(options, cursor, *end, state, &mut tally.walks) {
                LeanEnd::Ran => {}
                LeanEnd::Stopping => self.cursor.at = self.end,
                LeanEnd::Failed(result) => {
                    let id = self.cursor.at;
                    let state = self.state.take().expect("the failed walk's state is kept");
                    let end = StepEnd::from_caught(Ok(result), self.cursor.position);
                    self.finish_walk(id, state, end);
                    self.next();
                }
            }
        }
    }

    /// Runs walks from the cursor to the end in the order's compiled loops, which only count
    /// a passing walk; each walk that does not pass is settled here. Kept apart from
    /// [`Stream::run_general`] so that the general loop compiles as before.
    #[inline(never)]
    fn run_compiled(&mut self, compiled: &dyn CompiledKernel<S, G>, scope: &WalkScope) {
        let runner = self.runner;
        while self.cursor.at < self.end {
            if !self.beat.chunk(self.cursor.at, self.end - self.cursor.at) {
                self.cursor.at = self.end;
                return;
            }
            self.loops_from = self.cursor.at;
            self.loops_started = Stopwatch::start(self.tally.trace.is_some());
            let filter = runner.filter.map(|keep| {
                // The filter's answers step an odometer of their own (see `Answers`).
                debug_assert!(runner.plan.space.is_odometer());
                self.answers.resume(self.cursor.at, &self.options);
                // `combtest!`'s own filter is compiled into the loops: they call it directly.
                let call = if runner.filter_compiled {
                    FilterCall::Compiled
                } else {
                    FilterCall::Dynamic(keep)
                };
                let walks = FilterWalks {
                    order: runner.view,
                    space: &runner.plan.space,
                    scope,
                    answers: &mut self.answers,
                    in_test_code: &mut self.cursor.in_test_code,
                };
                (call, walks)
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
                    gathered: (runner.gather == Gather::Flat).then_some(&mut self.tally.gathered),
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
        self.beat.ended(status);
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
