//! Executing orders with serial actions: resident walks, branches, and true barriers.
//!
//! For the order `G0 S1 G1 S2 G2`:
//! 1. every selected walk gets its state and runs `G0`, in parallel;
//! 2. then, for each option `j` of `S1` in turn: `S1(j)` runs alone on the calling thread
//!    (no worker exists while it runs), then the live walks of branch `j` run `G1` in
//!    parallel, then `S2` is handled the same way inside branch `j`; the whole subtree of
//!    `S1(j)` finishes before `S1(j + 1)` starts.
//!
//! So each option of the k-th serial action runs once per combination of the options of the
//! serial actions before it, and only for branches that still have a live walk.
//!
//! Walk ids put the serial actions on the most significant wheels, so a branch is a block of
//! consecutive ids. Walks stay in the chunks they were created in (never copied into one
//! vector), sorted by id; a chunk never crosses a boundary of the innermost branches, so
//! every branch, at every depth, is a contiguous run of chunks.

use std::any::Any;
use std::fmt;

use super::abort;
#[cfg(feature = "async")]
use super::async_walks;
use super::compiled::{CompiledKernel, HeldWalks};
use super::gathered::permute;
use super::held::{held_chunk, Chunk, Ids, Status};
use super::id_order;
use super::pool::{self, Dispenser, Threads};
use super::state_faults::{release, StateFault};
use super::unwind::{self, WalkScope};
use super::watchdog::Beat;
use super::{
    run_resuming, AsyncLimits, Cursor, ForeignUnwind, Kernel, Resumable, StepEnd, Stopwatch, Tally,
    Traced, WalkRunner, Worker,
};
use crate::config::Gather;
use crate::model::action::{Body, States, Verdict, Verdicts};
use crate::model::outcome::{FailureKind, Outcome};
use crate::model::plan::{Segment, SerialWheel};
use crate::model::state::{StateSource, Template};
use crate::model::walk_id::WalkSelection;
use crate::output::trace::TraceBuffer;

/// The state of a run with serial actions.
struct Barriers<'r, 'a, S, G> {
    runner: &'r WalkRunner<'a, S, G>,
    threads: usize,
    tally: Tally<S>,
    /// Why each cancelled walk was cancelled, for the full gathering level and the trace.
    reasons: Vec<(u64, String)>,
    /// Walks that failed before they were held, for the trace.
    unheld: Vec<u64>,
    /// Whether walks are timed for a trace.
    timed: bool,
    /// For an order with async actions: how its walks run.
    asynchronous: Option<AsyncLimits>,
}

/// Runs every selected walk of an order with serial actions. With a trace, the records are
/// written at the end, once every walk's outcome is known.
pub(crate) fn run<S, G>(
    runner: &WalkRunner<'_, S, G>,
    selection: &WalkSelection,
    threads: usize,
    source: &StateSource<S>,
    shared: &mut G,
    trace: Option<TraceBuffer>,
    asynchronous: Option<AsyncLimits>,
) -> Tally<S>
where
    S: Send + fmt::Debug,
    G: Sync,
{
    let mut barriers = Barriers {
        runner,
        threads,
        timed: trace.is_some(),
        tally: Tally::new(trace),
        reasons: Vec::new(),
        unheld: Vec::new(),
        asynchronous,
    };
    let mut chunks = barriers.start_walks(selection, source, shared);
    let starts_with_actions = runner.plan.segments[0].opener.is_none();
    if starts_with_actions && asynchronous.is_some() {
        // Sync walks run their first segment as their states are made; async ones now.
        barriers.run_stretch(0, &mut chunks, shared);
    }
    barriers.descend(usize::from(starts_with_actions), &mut chunks, shared);
    barriers.finish(chunks)
}

impl<'a, S, G> Barriers<'_, 'a, S, G>
where
    S: Send + fmt::Debug,
    G: Sync,
{
    /// Makes the state of every selected walk the filter keeps and, when actions come before
    /// the first serial action, runs them on each chunk as soon as it is made (while it is
    /// still in cache). Returns the walks in chunks sorted by id.
    fn start_walks(
        &mut self,
        selection: &WalkSelection,
        source: &StateSource<S>,
        shared: &G,
    ) -> Vec<Chunk<S>> {
        let runner = self.runner;
        let plan = runner.plan;
        let first = &plan.segments[0];
        let first = Stretch {
            runner,
            shared,
            segment: first,
            traced: Traced::new(runner.level),
            timed: self.timed,
        };
        let runs_first_segment = first.segment.opener.is_none() && self.asynchronous.is_none();
        let timed = self.timed;
        // Ids per innermost branch: a chunk is cut wherever a multiple of it starts.
        let innermost = plan.serials.last().map_or(u64::MAX, |wheel| wheel.span);
        let dispenser = Dispenser::with_chunk(selection, held_chunk::<S>(selection, self.threads));
        let workers = (0..pool::worker_count(self.threads, &dispenser))
            .map(|_| {
                (
                    source.template(),
                    (Worker::new(plan.actions.len(), timed), runner.beat()),
                    Vec::new(),
                )
            })
            .collect();
        let workers = pool::run(
            workers,
            &dispenser,
            |(template, (worker, beat), chunks), ids| {
                let made = chunks.len();
                let segments_before = worker.tally.segments + worker.tally.skipped;
                if runner.filter.is_none() {
                    for range in ids {
                        // Every walk is kept: fill each innermost branch's share in one go.
                        let mut start = range.start;
                        while start < range.end {
                            let boundary = (start / innermost + 1).saturating_mul(innermost);
                            let end = boundary.min(range.end);
                            worker.tally.walks += end - start;
                            let first = runs_first_segment.then_some((&first, &mut *beat));
                            fill_walks(runner, worker, chunks, template, start..end, timed, first);
                            start = end;
                        }
                    }
                } else {
                    for range in ids {
                        let capacity = (range.end - range.start) as usize;
                        let mut chunk = Chunk::new(range.start, capacity, timed);
                        plan.space.decode(range.start, &mut worker.options);
                        for id in range.clone() {
                            if id != range.start {
                                if id % innermost == 0 && chunk.len() > 0 {
                                    let rest = capacity - (id - range.start) as usize;
                                    chunks.push(std::mem::replace(
                                        &mut chunk,
                                        Chunk::new(id, rest, timed),
                                    ));
                                }
                                plan.space.advance(id, &mut worker.options);
                            }
                            if !runner.keep(&mut worker.tally, id, &worker.options) {
                                continue;
                            }
                            worker.tally.walks += 1;
                            if let Some(state) =
                                runner.make_state(template, &mut worker.tally, id, &worker.options)
                            {
                                chunk.push(id, state, timed);
                            } else {
                                worker.unheld.push(id);
                            }
                        }
                        chunks.push(chunk);
                    }
                }
                if runs_first_segment && runner.filter.is_some() {
                    // Without a filter, `fill_walks` ran it as the states were made.
                    first.run(worker, beat, &mut chunks[made..]);
                }
                if let Some(progress) = runner.progress {
                    progress.add(
                        worker.tally.segments + worker.tally.skipped - segments_before,
                        0,
                    );
                }
            },
        );
        let mut chunks = Vec::new();
        for (_, (worker, _), worker_chunks) in workers {
            self.absorb(worker);
            chunks.extend(worker_chunks.into_iter().filter(|c: &Chunk<S>| c.len() > 0));
        }
        // Chunks are runs of ids: ordering them orders the walks.
        let first_ids: Vec<u64> = chunks.iter().map(Chunk::first_id).collect();
        permute(&mut chunks, &mut id_order::order_by(&first_ids));
        chunks
    }

    /// Handles the serial action opening `segment`, option by option, inside `block`: the
    /// walks of one branch of the serial actions before it.
    fn descend(&mut self, segment: usize, block: &mut [Chunk<S>], shared: &mut G) {
        let plan = self.runner.plan;
        let Some(current) = plan.segments.get(segment) else {
            return;
        };
        let wheel = plan.serials[current
            .opener
            .expect("every later segment opens with a serial action")];
        let mut rest = block;
        for option in 0..wheel.radix {
            let end = rest.partition_point(|chunk| wheel.option_of(chunk.first_id()) <= option);
            let (branch, tail) = std::mem::take(&mut rest).split_at_mut(end);
            rest = tail;
            if !branch.iter().any(Chunk::any_live) {
                continue; // nothing left to run in this branch: its serial action is not needed
            }
            if !self.run_serial(wheel, option, branch, shared) {
                continue;
            }
            self.run_stretch(segment, branch, shared);
            self.descend(segment + 1, branch, shared);
        }
    }

    /// Runs one option of a serial action for a branch, alone. The walks it failed or
    /// cancelled one by one (through `States`) end first; then a failure or a cancel of the
    /// action itself ends every live walk of the branch. Returns whether the branch goes on.
    fn run_serial(
        &mut self,
        wheel: SerialWheel,
        option: usize,
        branch: &mut [Chunk<S>],
        shared: &mut G,
    ) -> bool {
        let runner = self.runner;
        let action = &runner.plan.actions[wheel.position];
        let _span = tracing::debug_span!(
            "serial",
            action = &*action.name,
            param = %action.params().debug(option)
        )
        .entered();
        tracing::debug!("serial action runs");
        abort::walk_starts(None);
        // Named by the watchdog if it runs long, as a walk is: a serial action that never
        // returns would otherwise hang the run without a word.
        let beat = runner.beat();
        if let (Some(first), Some(last)) = (branch.first(), branch.last()) {
            let (from, to) = (first.first_id(), last.id(last.len().saturating_sub(1)));
            beat.serial_action(from, to - from + 1, wheel.position);
        }
        let verdicts = Verdicts::default();
        let walks = States::new(
            || branch.iter_mut().flat_map(Chunk::live).unzip(),
            &verdicts,
        );
        let result = match &action.body {
            Body::Serial(step) => runner.catcher.catch(|| step.run(option, shared, walks)),
            #[cfg(feature = "async")]
            Body::AsyncSerial(step) => {
                async_walks::run_serial(&**step, option, shared, walks, runner.catcher)
            }
            _ => unreachable!("a serial wheel holds a serial action of this executor"),
        };
        drop(beat);
        let verdicts = verdicts.into_inner().unwrap_or_else(|e| e.into_inner());
        if !verdicts.is_empty() {
            self.judge_walks(branch, wheel.position, verdicts);
        }
        match StepEnd::from_caught(result, wheel.position) {
            StepEnd::Completed => true,
            end => {
                self.end_branch(branch, &end);
                false
            }
        }
    }

    /// Ends the walks a serial action (at `position`) failed or cancelled one by one; the
    /// first verdict on a walk holds.
    fn judge_walks(
        &mut self,
        branch: &mut [Chunk<S>],
        position: usize,
        mut verdicts: Vec<(u64, Verdict)>,
    ) {
        id_order::first_verdicts(&mut verdicts);
        let runner = self.runner;
        let mut options = vec![0; runner.plan.actions.len()];
        let mut verdicts = verdicts.into_iter().peekable();
        for chunk in branch {
            for walk in 0..chunk.len() {
                let id = chunk.id(walk);
                let Some((_, verdict)) = verdicts.next_if(|(judged, _)| *judged == id) else {
                    continue;
                };
                debug_assert!(
                    chunk.statuses[walk] == Status::Live,
                    "States lists live walks"
                );
                runner.plan.space.decode(id, &mut options);
                let end = match verdict {
                    Verdict::Fail(message) => StepEnd::Failed {
                        position,
                        kind: FailureKind::Judged,
                        message,
                        location: None,
                    },
                    Verdict::Cancel(reason) => StepEnd::Cancelled { position, reason },
                };
                let state = &chunk.states[walk];
                let outcome = runner.settle(&mut self.tally, id, &options, Some(state), end);
                if let Some(Outcome::Cancel { reason }) = &outcome {
                    self.reasons.push((id, reason.clone()));
                }
                chunk.statuses[walk] = Status::of(outcome.as_ref());
            }
        }
    }

    /// Fails or cancels every live walk of a branch whose serial action failed or cancelled.
    fn end_branch(&mut self, branch: &mut [Chunk<S>], end: &StepEnd) {
        let runner = self.runner;
        let mut options = vec![0; runner.plan.actions.len()];
        for chunk in branch {
            for walk in 0..chunk.len() {
                if chunk.statuses[walk] != Status::Live {
                    continue;
                }
                let id = chunk.id(walk);
                runner.plan.space.decode(id, &mut options);
                let state = &chunk.states[walk];
                let outcome =
                    runner.settle(&mut self.tally, id, &options, Some(state), end.clone());
                if let Some(Outcome::Cancel { reason }) = &outcome {
                    self.reasons.push((id, reason.clone()));
                }
                chunk.statuses[walk] = Status::of(outcome.as_ref());
            }
        }
    }

    /// Runs the regular actions of `segment` for the live walks of a branch, in parallel.
    fn run_stretch(&mut self, segment: usize, branch: &mut [Chunk<S>], shared: &G) {
        let runner = self.runner;
        let plan = runner.plan;
        let segment = &plan.segments[segment];
        #[cfg(feature = "async")]
        if let Some(limits) = self.asynchronous {
            let workers = async_walks::run_stretch(
                runner,
                shared,
                segment,
                branch,
                self.threads,
                limits,
                self.timed,
            );
            for worker in workers {
                self.absorb(worker);
            }
            return;
        }
        // Chunks are sent a few at a time: enough messages to balance the workers.
        let per_message = (branch.len() / (self.threads * 16)).max(1);
        let workers = if branch.len() <= per_message {
            1
        } else {
            self.threads
        };
        let workers = (0..workers)
            .map(|_| (Worker::new(plan.actions.len(), self.timed), runner.beat()))
            .collect();
        let timed = self.timed;
        let work = |(worker, beat): &mut (Worker<S>, Beat<'a>), chunks: &mut [Chunk<S>]| {
            let stretch = Stretch {
                runner,
                shared,
                segment,
                traced: Traced::new(runner.level),
                timed,
            };
            let segments_before = worker.tally.segments;
            stretch.run(worker, beat, chunks);
            if let Some(progress) = runner.progress {
                progress.add(worker.tally.segments - segments_before, 0);
            }
        };
        for (worker, _) in
            pool::run_slices(workers, Threads::CallerForOne, branch, per_message, work)
        {
            self.absorb(worker);
        }
    }

    fn absorb(&mut self, worker: Worker<S>) {
        self.tally.absorb(worker.tally);
        self.reasons.extend(worker.reasons);
        self.unheld.extend(worker.unheld);
    }

    /// The walks still live have passed; records every walk in the trace and gathers the
    /// states (or drops them, where a panicking `Drop` fails its walk), in id order.
    fn finish(mut self, chunks: Vec<Chunk<S>>) -> Tally<S> {
        let runner = self.runner;
        let plan = runner.plan;
        let dropping = runner.gather == Gather::Off && std::mem::needs_drop::<S>();
        if runner.gather == Gather::Off && self.tally.trace.is_none() && !dropping {
            // The counts are kept; nothing needs the walks themselves.
            for chunk in chunks {
                chunk.give_back();
            }
            return self.tally;
        }
        id_order::reasons(&mut self.reasons);
        if let Some(cancelled_at) = &mut self.tally.cancelled_at {
            id_order::positions(cancelled_at);
        }
        id_order::failures(&mut self.tally.failures);
        let mut reasons = std::mem::take(&mut self.reasons).into_iter().peekable();
        let mut options = vec![0; plan.actions.len()];
        for id in std::mem::take(&mut self.unheld) {
            plan.space.decode(id, &mut options);
            self.tally.record(plan, id, &options, &Outcome::Fail, 0);
        }
        for chunk in chunks {
            let ids: Vec<u64> = (0..chunk.len()).map(|walk| chunk.id(walk)).collect();
            let walks = ids.into_iter().zip(chunk.states).zip(chunk.statuses);
            for (walk, ((id, state), status)) in walks.enumerate() {
                let mut outcome = match status {
                    Status::Live => Outcome::Pass,
                    Status::Failed => Outcome::Fail,
                    Status::Cancelled => {
                        let reason = reasons
                            .next_if(|(cancelled, _)| *cancelled == id)
                            .map(|(_, reason)| reason)
                            .unwrap_or_default();
                        Outcome::Cancel { reason }
                    }
                };
                let state = if dropping {
                    if let Err(message) = release(Some(state)) {
                        plan.space.decode(id, &mut options);
                        outcome = self.fail_dropped(id, &options, outcome, &message);
                    }
                    None
                } else {
                    Some(state)
                };
                if let Some(trace) = &self.tally.trace {
                    // A passing walk written into a run of ids needs no options: decoding
                    // them (a division per position) would cost more than the walk's record.
                    if outcome != Outcome::Pass || !trace.writes_passed_runs() {
                        plan.space.decode(id, &mut options);
                    }
                    let nanos = chunk.nanos.get(walk).copied().unwrap_or(0);
                    self.tally.record(plan, id, &options, &outcome, nanos);
                }
                if let Some(state) = state {
                    runner.gather(&mut self.tally, id, state, outcome);
                }
            }
        }
        self.tally
    }

    /// Walk `id` had `outcome` when its state's `Drop` panicked: it fails (a failed walk's
    /// failure says so too).
    fn fail_dropped(
        &mut self,
        id: u64,
        options: &[usize],
        outcome: Outcome,
        message: &str,
    ) -> Outcome {
        if outcome == Outcome::Fail {
            if let Some(failure) = self.tally.failures.iter_mut().find(|f| f.walk_id == id) {
                failure.message.push_str(&format!(
                    "\n(then its state panicked while it was dropped: {message})"
                ));
            }
            return Outcome::Fail;
        }
        if let Outcome::Cancel { .. } = outcome {
            self.tally.cancels -= 1;
        }
        let end = StepEnd::from_fault(self.runner, StateFault::Dropping, message);
        self.runner
            .settle(&mut self.tally, id, options, None, end)
            .unwrap_or(Outcome::Fail)
    }
}

/// How many held states are made at a time before `first` runs on them: about 64 KiB of
/// them, so that the first segment finds the states just made still in the core's cache
/// rather than reading them back from memory.
fn made_at_a_time<S>() -> usize {
    ((64 << 10) / std::mem::size_of::<S>().max(1)).max(64)
}

/// Makes the states of the walks `ids` into chunks; a walk whose state panicked while it was
/// made fails, and the walks after it go on in a chunk of their own. With `first` (the first
/// segment, when it comes before any serial action, and the worker's beat), runs it on the
/// states a few at a time as they are made ([`made_at_a_time`]).
fn fill_walks<'r, S: fmt::Debug, G>(
    runner: &WalkRunner<'_, S, G>,
    worker: &mut Worker<S>,
    chunks: &mut Vec<Chunk<S>>,
    template: &Template<'_, S>,
    ids: std::ops::Range<u64>,
    timed: bool,
    mut first: Option<(&Stretch<'_, 'r, S, G>, &mut Beat<'r>)>,
) {
    let mut from = ids.start;
    while from < ids.end {
        let walks = (ids.end - from) as usize;
        let mut chunk = Chunk::new(from, walks, timed);
        let at_a_time = if first.is_some() {
            made_at_a_time::<S>()
        } else {
            walks
        };
        let mut made = Ok(());
        while made.is_ok() && chunk.len() < walks {
            let start = chunk.len();
            let count = at_a_time.min(walks - start);
            // No walk runs while states are made (the first segment's walks said theirs).
            abort::walk_starts(None);
            made = unwind::quietly(|| chunk.fill(count, template));
            chunk.mark_live(timed);
            if let Some((stretch, beat)) = &mut first {
                stretch.run_from(worker, beat, &mut chunk, start);
            }
        }
        let held = chunk.len() as u64;
        if held > 0 {
            chunks.push(chunk);
        }
        let Err(message) = made else {
            return;
        };
        let failed = from + held;
        runner.plan.space.decode(failed, &mut worker.options);
        let end = StepEnd::from_fault(runner, StateFault::Making, &message);
        runner.settle(&mut worker.tally, failed, &worker.options, None, end);
        worker.unheld.push(failed);
        from = failed + 1;
    }
}

/// One segment run over resident walks by one worker: a message of chunks.
struct Stretch<'s, 'r, S, G> {
    runner: &'s WalkRunner<'r, S, G>,
    shared: &'s G,
    segment: &'s Segment,
    traced: Traced,
    timed: bool,
}

/// Where a stretch stands in its chunks.
#[derive(Default)]
struct HeldAt {
    chunk: usize,
    walk: usize,
    /// The id whose options `Worker::options` holds.
    previous: Option<u64>,
    /// The first walk of the compiled loops' call running now: the call is timed as a
    /// whole (`Cursor::started`), and its time shared among its walks when it returns or
    /// unwinds.
    loops_from: Option<usize>,
}

/// A stretch at work on one message of chunks, resumed after each walk that unwinds.
struct StretchRun<'w, 's, 'r, S, G> {
    stretch: &'w Stretch<'s, 'r, S, G>,
    worker: &'w mut Worker<S>,
    /// The worker's beat.
    beat: &'w mut Beat<'r>,
    chunks: &'w mut [Chunk<S>],
    cursor: Cursor<HeldAt>,
}

impl<'r, S: fmt::Debug, G> Stretch<'_, 'r, S, G> {
    /// Runs the segment on every live walk of `chunks`.
    fn run<'w>(
        &'w self,
        worker: &'w mut Worker<S>,
        beat: &'w mut Beat<'r>,
        chunks: &'w mut [Chunk<S>],
    ) {
        self.run_at(worker, beat, chunks, Cursor::default());
    }

    /// Runs the segment on the live walks of `chunk` from its walk `start` on.
    fn run_from<'w>(
        &'w self,
        worker: &'w mut Worker<S>,
        beat: &'w mut Beat<'r>,
        chunk: &'w mut Chunk<S>,
        start: usize,
    ) {
        let cursor = Cursor {
            at: HeldAt {
                walk: start,
                ..HeldAt::default()
            },
            ..Cursor::default()
        };
        self.run_at(worker, beat, std::slice::from_mut(chunk), cursor);
    }

    fn run_at<'w>(
        &'w self,
        worker: &'w mut Worker<S>,
        beat: &'w mut Beat<'r>,
        chunks: &'w mut [Chunk<S>],
        cursor: Cursor<HeldAt>,
    ) {
        let mut run = StretchRun {
            stretch: self,
            worker,
            beat,
            chunks,
            cursor,
        };
        run_resuming(self.runner.catcher, &mut run);
        run.beat.idle();
    }

    /// Records how the segment of the walk at the cursor ended: its time, and its outcome if
    /// it failed or was cancelled. `Worker::options` holds the walk's options.
    fn end_segment(
        &self,
        worker: &mut Worker<S>,
        chunk: &mut Chunk<S>,
        cursor: &Cursor<HeldAt>,
        end: StepEnd,
    ) {
        let walk = cursor.at.walk;
        if let Some(nanos) = chunk.nanos.get_mut(walk) {
            *nanos = nanos.saturating_add(cursor.started.nanos());
        }
        let id = chunk.id(walk);
        let outcome = self.runner.settle(
            &mut worker.tally,
            id,
            &worker.options,
            Some(&chunk.states[walk]),
            end,
        );
        chunk.statuses[walk] = worker.settle(id, outcome);
    }
}

impl<S: fmt::Debug, G> Resumable for StretchRun<'_, '_, '_, S, G> {
    /// Runs the segment on the live walks from the cursor on, choosing the kernel once per
    /// chunk.
    #[inline]
    fn run_from_cursor(&mut self, _: &WalkScope) {
        let stretch = self.stretch;
        let runner = stretch.runner;
        while self.cursor.at.chunk < self.chunks.len() {
            let chunk = &self.chunks[self.cursor.at.chunk];
            // A filter broke up the chunk's ids: its walks are found one by one.
            let scattered = matches!(chunk.ids, Ids::Listed(_));
            // A trace times the compiled loops a call at a time, so it does not keep
            // walks out of them (only a walk timeout does, which `kernel` checks).
            match runner.kernel(stretch.traced, false, scattered) {
                Kernel::Compiled(compiled) => self.run_compiled(compiled),
                Kernel::General(dispatch) => self.run_general(dispatch),
            }
            self.cursor.at.chunk += 1;
            self.cursor.at.walk = 0;
        }
    }

    fn settle_unwound(
        &mut self,
        scope: &WalkScope,
        payload: Box<dyn Any + Send>,
    ) -> Result<(), ForeignUnwind> {
        let chunk = &mut self.chunks[self.cursor.at.chunk];
        if let Some(from) = self.cursor.at.loops_from.take() {
            self.cursor.started =
                chunk.share_call_time(from, self.cursor.at.walk, self.cursor.started);
        }
        // The compiled loops keep no odometer: find the walk's options from its id.
        let id = chunk.id(self.cursor.at.walk);
        let plan = self.stretch.runner.plan;
        plan.space.decode(id, &mut self.worker.options);
        self.cursor.at.previous = Some(id);
        let end = StepEnd::from_caught(Err(scope.unwound(payload)), self.cursor.position);
        self.stretch
            .end_segment(self.worker, chunk, &self.cursor, end);
        self.cursor.at.walk += 1;
        Ok(())
    }
}

impl<S: fmt::Debug, G> StretchRun<'_, '_, '_, S, G> {
    /// Runs the walks of the chunk at the cursor, which has consecutive ids, in the order's
    /// compiled loops; they only count a passing walk, and hand back each walk that does
    /// not pass.
    fn run_compiled(&mut self, compiled: &dyn CompiledKernel<S, G>) {
        let stretch = self.stretch;
        let plan = stretch.runner.plan;
        let chunk = &mut self.chunks[self.cursor.at.chunk];
        let Ids::From(first) = chunk.ids else {
            unreachable!("the compiled loops run chunks of consecutive ids");
        };
        let worker = &mut *self.worker;
        let cursor = &mut self.cursor;
        if !self.beat.chunk(first, chunk.len() as u64) {
            // The run is ending (see `watchdog`): no walk starts.
            cursor.at.walk = chunk.len();
            return;
        }
        while cursor.at.walk < chunk.len() {
            let id = first + cursor.at.walk as u64;
            plan.space.decode(id, &mut worker.options);
            cursor.at.previous = None;
            // With a trace, the call is timed as a whole (see `Chunk::spread_nanos`).
            let from = cursor.at.walk;
            cursor.at.loops_from = Some(from);
            cursor.started = Stopwatch::start(stretch.timed);
            let result = compiled.run_held(
                HeldWalks {
                    options: &worker.options,
                    held: plan.serial_mask,
                    segment: stretch.segment.mask,
                    segment_number: stretch.segment.number(),
                    states: &mut chunk.states,
                    statuses: &chunk.statuses,
                    walk: &mut cursor.at.walk,
                    position: &mut cursor.position,
                    segments: &mut worker.tally.segments,
                },
                stretch.shared,
            );
            cursor.at.loops_from = None;
            cursor.started = if result.is_err() {
                chunk.share_call_time(from, cursor.at.walk, cursor.started)
            } else {
                chunk.spread_nanos(from..cursor.at.walk, cursor.started.nanos());
                Stopwatch::start(false)
            };
            if result.is_err() {
                let id = first + cursor.at.walk as u64;
                plan.space.decode(id, &mut worker.options);
                let end = StepEnd::from_caught(Ok(result), cursor.position);
                stretch.end_segment(worker, chunk, cursor, end);
                cursor.at.walk += 1;
            }
        }
    }

    /// Runs the live walks of the chunk at the cursor one at a time.
    fn run_general(&mut self, dispatch: Option<&dyn CompiledKernel<S, G>>) {
        let stretch = self.stretch;
        let runner = stretch.runner;
        let plan = runner.plan;
        let chunk = &mut self.chunks[self.cursor.at.chunk];
        let worker = &mut *self.worker;
        let cursor = &mut self.cursor;
        let beat = &*self.beat;
        while cursor.at.walk < chunk.len() {
            if chunk.statuses[cursor.at.walk] == Status::Live {
                let id = chunk.id(cursor.at.walk);
                if !beat.walk(id) {
                    // The run is ending (see `watchdog`): no walk starts.
                    cursor.at.walk = chunk.len();
                    return;
                }
                // Consecutive ids only turn the odometer; a gap (a filtered or dead walk)
                // decodes afresh.
                match cursor.at.previous {
                    Some(previous) if previous + 1 == id => {
                        plan.space.advance(id, &mut worker.options);
                    }
                    _ => plan.space.decode(id, &mut worker.options),
                }
                cursor.at.previous = Some(id);
                let _walk = runner.walk_span(stretch.traced, id, &worker.options);
                abort::walk_starts(Some(id));
                worker.tally.segments += 1;
                cursor.started = Stopwatch::start(stretch.timed);
                let result = runner.run_actions(
                    stretch.shared,
                    stretch.traced,
                    dispatch,
                    beat,
                    stretch.segment,
                    &worker.options,
                    &mut cursor.position,
                    &mut chunk.states[cursor.at.walk],
                );
                if result.is_err() || stretch.timed {
                    let end = StepEnd::from_caught(Ok(result), cursor.position);
                    stretch.end_segment(worker, chunk, cursor, end);
                }
                beat.ended(chunk.statuses[cursor.at.walk]);
            }
            cursor.at.walk += 1;
        }
    }
}
