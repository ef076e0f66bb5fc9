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

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use crate::action::{Body, States};
use crate::execute::{StepEnd, Tally, Template, Traced, WalkRunner};
use crate::fast::HeldWalks;
use crate::outcome::Outcome;
use crate::plan::{Segment, SerialWheel};
use crate::pool::{self, Dispenser};
use crate::runner::StateSource;
use crate::trace::TraceBuffer;
use crate::walk_id::WalkSelection;

/// Walks in id order inside one innermost branch, held across barriers. Each field has its own
/// vector, so a held walk costs its state and one status byte: with millions of walks held,
/// memory traffic is most of a segment's cost.
struct Chunk<S> {
    ids: Ids,
    states: Vec<S>,
    statuses: Vec<Status>,
    /// Seconds spent in each walk's actions, kept only when a trace records them.
    seconds: Vec<f32>,
}

/// The ids of a chunk's walks.
enum Ids {
    /// Consecutive ids from this one: the usual case, and the one the compiled loops run.
    From(u64),
    /// Any ids, in order: a filter removed walks in between.
    Listed(Vec<u64>),
}

impl Ids {
    /// The id of the chunk's `walk`-th walk.
    fn at(&self, walk: usize) -> u64 {
        match self {
            Ids::From(first) => first + walk as u64,
            Ids::Listed(ids) => ids[walk],
        }
    }
}

impl<S> Chunk<S> {
    fn new(first: u64, capacity: usize, timed: bool) -> Self {
        Chunk {
            ids: Ids::From(first),
            states: held_states(capacity),
            statuses: Vec::with_capacity(capacity),
            seconds: Vec::with_capacity(if timed { capacity } else { 0 }),
        }
    }

    /// The walks `first..first + walks`, each with a state made from `template`.
    fn filled(first: u64, walks: usize, template: &Template<'_, S>, timed: bool) -> Self
    where
        S: Clone,
    {
        let mut states = held_states(walks);
        states.extend(std::iter::repeat_with(|| template.make()).take(walks));
        Chunk {
            ids: Ids::From(first),
            states,
            statuses: vec![Status::Live; walks],
            seconds: vec![0.0; if timed { walks } else { 0 }],
        }
    }

    /// Appends walk `id`, whose id comes after every id held so far.
    fn push(&mut self, id: u64, state: S, timed: bool) {
        let len = self.states.len() as u64;
        match &mut self.ids {
            Ids::From(first) if len == 0 => *first = id,
            Ids::From(first) if *first + len == id => {}
            Ids::From(first) => {
                let mut ids: Vec<u64> = (*first..*first + len).collect();
                ids.push(id);
                self.ids = Ids::Listed(ids);
            }
            Ids::Listed(ids) => ids.push(id),
        }
        self.states.push(state);
        self.statuses.push(Status::Live);
        if timed {
            self.seconds.push(0.0);
        }
    }

    fn id(&self, walk: usize) -> u64 {
        self.ids.at(walk)
    }

    fn first_id(&self) -> u64 {
        self.id(0)
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    /// The ids and states of the live walks.
    fn live(&mut self) -> impl Iterator<Item = (u64, &mut S)> {
        let Chunk {
            ids,
            states,
            statuses,
            ..
        } = self;
        let ids = &*ids;
        states
            .iter_mut()
            .zip(statuses.iter())
            .enumerate()
            .filter(|(_, (_, status))| **status == Status::Live)
            .map(move |(walk, (state, _))| (ids.at(walk), state))
    }

    /// Whether any walk is live.
    fn any_live(&self) -> bool {
        self.statuses.contains(&Status::Live)
    }
}

/// How many walks a chunk of held walks takes at most: enough chunks for the workers to share
/// the work evenly, each as large as that allows, so that its states can sit on huge pages.
fn held_chunk<S>(selection: &WalkSelection, threads: usize) -> u64 {
    const MOST_BYTES: u64 = 16 << 20;
    let most = (MOST_BYTES / std::mem::size_of::<S>().max(1) as u64).max(4096);
    (selection.len() / (threads as u64 * 8)).clamp(4096, most)
}

/// An empty vector for the states of `walks` held walks. On Linux, a large one is marked for
/// transparent huge pages before anything is written: with millions of walks held, the
/// kernel's work to provide fresh memory one 4 KiB page at a time is otherwise most of a
/// segment's cost.
fn held_states<S>(walks: usize) -> Vec<S> {
    let states: Vec<S> = Vec::with_capacity(walks);
    #[cfg(target_os = "linux")]
    advise_huge_pages(states.as_ptr().cast(), walks * std::mem::size_of::<S>());
    states
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *const u8, bytes: usize) {
    const HUGE_PAGE: usize = 2 << 20;
    let first = (start as usize).next_multiple_of(HUGE_PAGE);
    let end = (start as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: the range lies inside an allocation this function's caller owns and has
        // not yet written; MADV_HUGEPAGE only advises how to back it and never changes its
        // contents. A refusal (huge pages disabled, say) leaves it as it was, so the result
        // is not needed.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

/// Where a resident walk stands. Cancel reasons are kept aside (`Barriers::reasons`), so a
/// held walk stays as small as its state allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Live,
    Failed,
    Cancelled,
}

impl Status {
    fn of(outcome: Option<&Outcome>) -> Self {
        match outcome {
            None | Some(Outcome::Pass) => Status::Live,
            Some(Outcome::Fail) => Status::Failed,
            Some(Outcome::Cancel { .. }) => Status::Cancelled,
        }
    }
}

/// What a worker of a parallel stretch keeps.
struct Worker<S> {
    tally: Tally<S>,
    reasons: Vec<(u64, String)>,
    options: Vec<usize>,
}

impl<S> Worker<S> {
    fn new(positions: usize) -> Self {
        Worker {
            tally: Tally::default(),
            reasons: Vec::new(),
            options: vec![0; positions],
        }
    }

    /// Records the end of a stretch of walk `id`, returning its new status.
    fn settle(&mut self, id: u64, outcome: Option<Outcome>) -> Status {
        let status = Status::of(outcome.as_ref());
        if let Some(Outcome::Cancel { reason }) = outcome {
            self.reasons.push((id, reason));
        }
        status
    }
}

/// The state of a run with serial actions.
struct Barriers<'r, 'a, S, G> {
    runner: &'r WalkRunner<'a, S, G>,
    threads: usize,
    tally: Tally<S>,
    /// Why each cancelled walk was cancelled, for the full gathering level and the trace.
    reasons: Vec<(u64, String)>,
    /// Whether walks are timed for a trace.
    timed: bool,
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
) -> Tally<S>
where
    S: Clone + Send + fmt::Debug,
    G: Sync,
{
    let mut barriers = Barriers {
        runner,
        threads,
        timed: trace.is_some(),
        tally: Tally::new(trace),
        reasons: Vec::new(),
    };
    let mut chunks = barriers.start_walks(selection, source, shared);
    let starts_with_actions = runner.plan.segments[0].opener.is_none();
    barriers.descend(usize::from(starts_with_actions), &mut chunks, shared);
    barriers.finish(chunks)
}

impl<S, G> Barriers<'_, '_, S, G>
where
    S: Clone + Send + fmt::Debug,
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
        let runs_first_segment = first.segment.opener.is_none();
        let timed = self.timed;
        // Ids per innermost branch: a chunk is cut wherever a multiple of it starts.
        let innermost = plan.serials.last().map_or(u64::MAX, |wheel| wheel.span);
        let dispenser = Dispenser::with_chunk(selection, held_chunk::<S>(selection, self.threads));
        let workers = (0..pool::worker_count(self.threads, &dispenser))
            .map(|_| {
                (
                    source.template(),
                    Worker::new(plan.actions.len()),
                    Vec::new(),
                )
            })
            .collect();
        let workers = pool::run(workers, &dispenser, |(template, worker, chunks), ids| {
            let made = chunks.len();
            let segments_before = worker.tally.segments + worker.tally.skipped;
            if runner.filter.is_none() {
                for range in ids {
                    // Every walk is kept: fill each innermost branch's share in one go.
                    let mut start = range.start;
                    while start < range.end {
                        let boundary = (start / innermost + 1).saturating_mul(innermost);
                        let end = boundary.min(range.end);
                        let walks = (end - start) as usize;
                        worker.tally.walks += walks as u64;
                        chunks.push(Chunk::filled(start, walks, template, timed));
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
                            plan.space.advance(&mut worker.options);
                        }
                        if !runner.keep(&mut worker.tally, id, &worker.options) {
                            continue;
                        }
                        worker.tally.walks += 1;
                        chunk.push(id, template.make(), timed);
                    }
                    chunks.push(chunk);
                }
            }
            if runs_first_segment {
                first.run(worker, &mut chunks[made..]);
            }
            if let Some(progress) = runner.progress {
                progress.add(
                    worker.tally.segments + worker.tally.skipped - segments_before,
                    0,
                );
            }
        });
        let mut chunks = Vec::new();
        for (_, worker, worker_chunks) in workers {
            self.absorb(worker);
            chunks.extend(worker_chunks.into_iter().filter(|c: &Chunk<S>| c.len() > 0));
        }
        // Chunks are runs of ids: ordering them orders the walks.
        chunks.sort_unstable_by_key(Chunk::first_id);
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

    /// Runs one option of a serial action for a branch, alone. A failure or a cancel ends
    /// every live walk of the branch; returns whether the branch goes on.
    fn run_serial(
        &mut self,
        wheel: SerialWheel,
        option: usize,
        branch: &mut [Chunk<S>],
        shared: &mut G,
    ) -> bool {
        let runner = self.runner;
        let action = &runner.plan.actions[wheel.position];
        let Body::Serial(step) = &action.body else {
            unreachable!("a serial wheel holds a serial action");
        };
        let _span = tracing::debug_span!(
            "serial",
            action = &*action.name,
            param = %action.params().debug(option)
        )
        .entered();
        tracing::debug!("serial action runs");
        let result = runner.catcher.catch(|| {
            let walks = States::new(|| branch.iter_mut().flat_map(Chunk::live).unzip());
            step.run(option, shared, walks)
        });
        match StepEnd::from_caught(result, wheel.position) {
            StepEnd::Completed => true,
            end => {
                self.end_branch(branch, &end);
                false
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
                let outcome = runner.settle(&mut self.tally, id, &options, state, end.clone());
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
        // Chunks are sent a few at a time: enough messages to balance the workers.
        let per_message = (branch.len() / (self.threads * 16)).max(1);
        let workers = if branch.len() <= per_message {
            1
        } else {
            self.threads
        };
        let workers = (0..workers)
            .map(|_| Worker::new(plan.actions.len()))
            .collect();
        let timed = self.timed;
        let work = |worker: &mut Worker<S>, chunks: &mut [Chunk<S>]| {
            let stretch = Stretch {
                runner,
                shared,
                segment,
                traced: Traced::new(runner.level),
                timed,
            };
            let segments_before = worker.tally.segments;
            stretch.run(worker, chunks);
            if let Some(progress) = runner.progress {
                progress.add(worker.tally.segments - segments_before, 0);
            }
        };
        for worker in pool::run_slices(workers, branch, per_message, work) {
            self.absorb(worker);
        }
    }

    fn absorb(&mut self, worker: Worker<S>) {
        self.tally.absorb(worker.tally);
        self.reasons.extend(worker.reasons);
    }

    /// The walks still live have passed; records every walk in the trace and gathers the
    /// states, in id order.
    fn finish(mut self, chunks: Vec<Chunk<S>>) -> Tally<S> {
        let runner = self.runner;
        let plan = runner.plan;
        if runner.gather == crate::Gather::Off && self.tally.trace.is_none() {
            // The counts are kept; nothing needs the walks themselves.
            return self.tally;
        }
        self.reasons.sort_unstable_by_key(|(id, _)| *id);
        self.tally.failures.sort_unstable_by_key(|f| f.walk_id);
        let mut reasons = self.reasons.into_iter().peekable();
        let mut options = vec![0; plan.actions.len()];
        for chunk in chunks {
            let ids: Vec<u64> = (0..chunk.len()).map(|walk| chunk.id(walk)).collect();
            let walks = ids.into_iter().zip(chunk.states).zip(chunk.statuses);
            for (walk, ((id, state), status)) in walks.enumerate() {
                let outcome = match status {
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
                if self.tally.trace.is_some() {
                    plan.space.decode(id, &mut options);
                    let seconds = chunk.seconds.get(walk).copied().unwrap_or(0.0);
                    let nanos = (f64::from(seconds) * 1e9) as u64;
                    self.tally.record(plan, id, &options, &outcome, nanos);
                }
                runner.gather(&mut self.tally, id, state, outcome);
            }
        }
        self.tally
    }
}

/// One segment run over resident walks by one worker.
struct Stretch<'s, 'r, S, G> {
    runner: &'s WalkRunner<'r, S, G>,
    shared: &'s G,
    segment: &'s Segment,
    traced: Traced,
    timed: bool,
}

/// Where a stretch stands, kept outside `catch_unwind` so that an unwind can be pinned to its
/// walk and action.
#[derive(Default)]
struct Cursor {
    chunk: usize,
    walk: usize,
    position: usize,
    /// The id whose options `Worker::options` holds.
    previous: Option<u64>,
    started: Option<Instant>,
}

impl<S: Clone + fmt::Debug, G> Stretch<'_, '_, S, G> {
    /// Runs the segment on every live walk of `chunks` under one `catch_unwind`, entered
    /// again after each walk that unwinds: panic bookkeeping is paid per message of chunks,
    /// not per walk.
    fn run(&self, worker: &mut Worker<S>, chunks: &mut [Chunk<S>]) {
        let scope = self.runner.catcher.enter();
        let mut cursor = Cursor::default();
        loop {
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                self.run_from(worker, chunks, &mut cursor);
            }));
            let Err(payload) = caught else {
                break;
            };
            let chunk = &mut chunks[cursor.chunk];
            // The compiled loops keep no odometer: find the walk's options from its id.
            let id = chunk.id(cursor.walk);
            self.runner.plan.space.decode(id, &mut worker.options);
            cursor.previous = Some(id);
            let end = StepEnd::from_caught(Err(scope.unwound(payload)), cursor.position);
            self.end_segment(worker, chunk, &cursor, end);
            cursor.walk += 1;
        }
    }

    /// Runs the segment on the live walks from the cursor on.
    #[inline]
    fn run_from(&self, worker: &mut Worker<S>, chunks: &mut [Chunk<S>], cursor: &mut Cursor) {
        let runner = self.runner;
        let plan = runner.plan;
        let compiled = runner
            .fast
            .filter(|_| !self.timed && !self.traced.walks && !self.traced.actions);
        while let Some(chunk) = chunks.get_mut(cursor.chunk) {
            if let (Some(fast), Ids::From(first)) = (compiled, &chunk.ids) {
                // Consecutive ids whose passing walks are only counted: the order's own
                // compiled loop runs them, and hands back each walk that does not pass.
                let first = *first;
                while cursor.walk < chunk.len() {
                    let id = first + cursor.walk as u64;
                    plan.space.decode(id, &mut worker.options);
                    cursor.previous = None;
                    let result = fast.run_held(
                        HeldWalks {
                            options: &worker.options,
                            held: plan.serial_mask,
                            segment: self.segment.mask,
                            states: &mut chunk.states,
                            statuses: &chunk.statuses,
                            walk: &mut cursor.walk,
                            position: &mut cursor.position,
                            segments: &mut worker.tally.segments,
                        },
                        self.shared,
                    );
                    if result.is_err() {
                        let id = first + cursor.walk as u64;
                        plan.space.decode(id, &mut worker.options);
                        let end = StepEnd::from_caught(Ok(result), cursor.position);
                        self.end_segment(worker, chunk, cursor, end);
                        cursor.walk += 1;
                    }
                }
            }
            while cursor.walk < chunk.len() {
                if chunk.statuses[cursor.walk] == Status::Live {
                    let id = chunk.id(cursor.walk);
                    // Consecutive ids only turn the odometer; a gap (a filtered or dead walk)
                    // decodes afresh.
                    match cursor.previous {
                        Some(previous) if previous + 1 == id => {
                            plan.space.advance(&mut worker.options);
                        }
                        _ => plan.space.decode(id, &mut worker.options),
                    }
                    cursor.previous = Some(id);
                    let _walk = runner.walk_span(self.traced, id, &worker.options);
                    worker.tally.segments += 1;
                    cursor.started = self.timed.then(Instant::now);
                    let result = runner.run_actions(
                        self.shared,
                        self.traced,
                        self.segment,
                        &worker.options,
                        &mut cursor.position,
                        &mut chunk.states[cursor.walk],
                    );
                    if result.is_err() || self.timed {
                        let end = StepEnd::from_caught(Ok(result), cursor.position);
                        self.end_segment(worker, chunk, cursor, end);
                    }
                }
                cursor.walk += 1;
            }
            cursor.chunk += 1;
            cursor.walk = 0;
        }
    }

    /// Records how the segment of the walk at the cursor ended: its time, and its outcome if
    /// it failed or was cancelled. `Worker::options` holds the walk's options.
    fn end_segment(
        &self,
        worker: &mut Worker<S>,
        chunk: &mut Chunk<S>,
        cursor: &Cursor,
        end: StepEnd,
    ) {
        let walk = cursor.walk;
        if let (Some(started), Some(seconds)) = (cursor.started, chunk.seconds.get_mut(walk)) {
            *seconds += started.elapsed().as_secs_f32();
        }
        let id = chunk.id(walk);
        let outcome = self.runner.settle(
            &mut worker.tally,
            id,
            &worker.options,
            &chunk.states[walk],
            end,
        );
        chunk.statuses[walk] = worker.settle(id, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_keeps_consecutive_ids_as_a_start_and_lists_them_after_a_gap() {
        let mut chunk = Chunk::new(10, 4, false);
        for id in [10, 11, 12] {
            chunk.push(id, id * 100, false);
        }
        assert!(matches!(chunk.ids, Ids::From(10)));
        chunk.push(15, 1500, false);
        assert!(matches!(&chunk.ids, Ids::Listed(ids) if ids == &[10, 11, 12, 15]));
        assert_eq!((chunk.first_id(), chunk.id(3), chunk.len()), (10, 15, 4));
        assert!(
            chunk.seconds.is_empty(),
            "durations are kept only for a trace"
        );

        chunk.statuses[1] = Status::Failed;
        let live: Vec<(u64, u64)> = chunk.live().map(|(id, state)| (id, *state)).collect();
        assert_eq!(live, [(10, 1000), (12, 1200), (15, 1500)]);
        chunk.statuses = vec![Status::Cancelled; 4];
        assert!(!chunk.any_live());

        // A chunk whose first walks were filtered out starts at its first kept walk.
        let mut late = Chunk::new(20, 4, true);
        late.push(22, 0, true);
        late.push(23, 0, true);
        assert!(matches!(late.ids, Ids::From(22)));
        assert_eq!(late.seconds.len(), 2);
    }
}
