//! The async executor: orders with `async` actions.
//!
//! A walk of such an order is a future: its sync actions are called in place, its async
//! actions awaited. Each worker thread keeps up to `concurrency` walks in flight and polls
//! them itself, so walks that wait on I/O or timers do not hold a thread each. A tokio
//! runtime that combtest owns (one background thread, made once per process) drives timers
//! and I/O; workers poll their walks with that runtime entered. Because no walk is polled
//! inside another runtime's `block_on`, this works from a plain `#[test]` as from
//! `#[tokio::test]` of either flavour, and a replay of one walk runs it the same way.
//!
//! Serial actions keep their barrier: the barrier executor runs them alone, awaiting an async
//! one on the calling thread, and hands the stretches between them to [`run_stretch`].
//!
//! With a timeout, an async action still running when its walk's time is up is dropped, and
//! the walk fails ("timed out after ... in action(param)"). A walk's time counts from the
//! start of the stretch it runs (the whole walk without serial actions). A walk that blocks
//! its worker instead (a sync call that does not return, inside a poll) cannot be dropped:
//! each poll of a walk is told to the watchdog ([`watched`]), which names a poll that runs
//! long and ends a run that one would hang, as it does for sync walks.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::abort;
use super::held::{Chunk, Status};
use super::pool::{self, Dispenser, Threads};
use super::unwind::{Catcher, Unwound};
use super::watchdog::Beat;
use super::{AsyncLimits, StepEnd, Stopwatch, Tally, Traced, WalkRunner, Worker};
use crate::model::action::{AsyncSerialStep, Body, States, StepResult};
use crate::model::outcome::FailureKind;
use crate::model::plan::Segment;
use crate::model::state::StateSource;
use crate::model::walk_id::WalkSelection;
use crate::output::trace::TraceBuffer;

/// The runtime that drives the timers and I/O of async walks: one background thread, made
/// the first time an async order runs and kept for the life of the process.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("combtest-runtime")
            .enable_all()
            .build()
            .expect("combtest: cannot start the runtime of async walks")
    })
}

/// Wakes the thread that polls a future.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it is done, with combtest's runtime entered so that
/// its timers and I/O work.
///
/// Only ever called on threads of combtest's own (workers, the serial action's thread): on a
/// thread inside another runtime (`#[tokio::test]`), tokio would hand some wake-ups (a
/// `yield_now`, an exhausted task budget) to that runtime's scheduler, which does not run
/// while the thread waits here.
fn block_on<F: Future>(future: F) -> F::Output {
    let _runtime = runtime().enter();
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

/// A future polled as walk code: its panics are captured quietly and its `cancel!` caught,
/// poll by poll, since a walk's polls may come from any point of the worker's loop.
struct Caught<F> {
    future: F,
    catcher: Catcher,
}

impl<F: Future + Unpin> Future for Caught<F> {
    type Output = Result<F::Output, Unwound>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let future = &mut this.future;
        match this.catcher.catch(|| Pin::new(future).poll(context)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(unwound) => Poll::Ready(Err(unwound)),
        }
    }
}

/// One walk's side of its worker's beat: the worker's walks take turns on it, poll by poll.
struct WalkBeat<'b, 'w> {
    beat: &'b Beat<'w>,
    id: u64,
    /// The walk's action running, kept across polls.
    position: Cell<Option<usize>>,
}

impl<'b, 'w> WalkBeat<'b, 'w> {
    fn new(beat: &'b Beat<'w>, id: u64) -> Self {
        WalkBeat {
            beat,
            id,
            position: Cell::new(None),
        }
    }

    /// The walk's action at `position` starts.
    fn action(&self, position: usize) {
        self.position.set(Some(position));
        self.beat.action(position);
    }
}

/// Polls a walk with its beat telling the watchdog which walk runs, poll by poll: a poll that
/// does not return is what the watchdog sees running.
async fn watched<F: Future>(beat: &WalkBeat<'_, '_>, walk: F) -> F::Output {
    let mut walk = pin!(walk);
    std::future::poll_fn(|context| {
        // A run that is ending exits the process soon: the walk's poll goes on meanwhile.
        beat.beat.walk(beat.id);
        if let Some(position) = beat.position.get() {
            beat.beat.action(position);
        }
        let polled = walk.as_mut().poll(context);
        beat.beat.idle();
        polled
    })
    .await
}

/// Runs `segment` on walk `id`, watched poll by poll through the worker's beat (`watch`),
/// timed when `timed`: how it ended, and its time in nanoseconds.
#[allow(clippy::too_many_arguments)]
async fn run_segment<S, G>(
    runner: &WalkRunner<'_, S, G>,
    shared: &G,
    segment: &Segment,
    id: u64,
    options: &[usize],
    state: &mut S,
    limits: AsyncLimits,
    watch: &Beat<'_>,
    timed: bool,
) -> (StepEnd, u64) {
    let beat = WalkBeat::new(watch, id);
    let walk = async {
        let started = Stopwatch::start(timed);
        let end = run_actions(
            runner,
            shared,
            segment,
            options,
            state,
            limits.timeout,
            &beat,
        )
        .await;
        (end, started.nanos())
    };
    watched(&beat, walk).await
}

/// Runs the regular actions of `segment` on one walk: sync actions called in place, async
/// ones awaited until the walk's time is up. `beat` is told each action.
async fn run_actions<S, G>(
    runner: &WalkRunner<'_, S, G>,
    shared: &G,
    segment: &Segment,
    options: &[usize],
    state: &mut S,
    timeout: Option<Duration>,
    beat: &WalkBeat<'_, '_>,
) -> StepEnd {
    let deadline = timeout.map(|limit| (tokio::time::Instant::now() + limit, limit));
    for at in segment.actions.clone() {
        beat.action(at);
        let action = &runner.plan.actions[at];
        let option = options[at];
        let result = match &action.body {
            Body::Regular(step) => runner.catcher.catch(|| step.run(option, state, shared)),
            Body::AsyncRegular(step) => {
                let run = Caught {
                    future: step.run(option, state, shared),
                    catcher: runner.catcher,
                };
                match deadline {
                    None => run.await,
                    Some((deadline, limit)) => match tokio::time::timeout_at(deadline, run).await {
                        Ok(result) => result,
                        Err(_) => {
                            return StepEnd::Failed {
                                position: at,
                                kind: FailureKind::Timeout,
                                message: format!(
                                    "timed out after {limit:?} in {}",
                                    crate::model::step_text::StepText {
                                        name: &action.name,
                                        param: action.params().debug(option),
                                    }
                                ),
                                location: None,
                            };
                        }
                    },
                }
            }
            Body::Serial(_) | Body::AsyncSerial(_) => {
                unreachable!("serial action `{}` run inside a walk", action.name)
            }
        };
        match StepEnd::from_caught(result, at) {
            StepEnd::Completed => {}
            end => return end,
        }
    }
    StepEnd::Completed
}

/// Runs every selected walk of an order without serial actions, each from start to end on a
/// fresh state, `limits.concurrency` at a time on each of `threads` workers.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream<S, G>(
    runner: &WalkRunner<'_, S, G>,
    selection: &WalkSelection,
    threads: usize,
    source: &StateSource<S>,
    shared: &G,
    trace: impl Fn() -> Option<TraceBuffer>,
    limits: AsyncLimits,
) -> Tally<S>
where
    S: Send + fmt::Debug,
    G: Sync,
{
    let plan = runner.plan;
    let segment = &plan.segments[0];
    let dispenser = Dispenser::new(selection, threads);
    let workers = (0..pool::worker_count(threads, &dispenser))
        .map(|_| (source.template(), Tally::new(trace()), runner.beat()))
        .collect();
    let workers = pool::on_workers(workers, Threads::Own, |(template, mut tally, beat)| {
        let timed = tally.trace.is_some();
        let watch = &beat;
        let traced = Traced::new(runner.level);
        let mut ids = WalkIds::new(&dispenser);
        let mut options = vec![0; plan.actions.len()];
        block_on(async {
            let mut in_flight = FuturesUnordered::new();
            loop {
                while in_flight.len() < limits.concurrency {
                    let Some(id) = ids.next() else { break };
                    plan.space.decode(id, &mut options);
                    if !runner.keep(&mut tally, id, &options) {
                        continue;
                    }
                    tally.walks += 1;
                    let Some(mut state) = runner.make_state(&template, &mut tally, id, &options)
                    else {
                        continue;
                    };
                    let walk_options = options.clone();
                    // One walk in flight per worker when panics abort (see the builder).
                    abort::walk_starts(Some(id));
                    in_flight.push(async move {
                        let (end, nanos) = run_segment(
                            runner,
                            shared,
                            segment,
                            id,
                            &walk_options,
                            &mut state,
                            limits,
                            watch,
                            timed,
                        )
                        .await;
                        (id, walk_options, state, end, nanos)
                    });
                }
                let Some((id, walk_options, state, end, nanos)) = in_flight.next().await else {
                    break;
                };
                let failed_before = tally.errors;
                runner.finish_walk(&mut tally, id, &walk_options, state, end, traced, nanos);
                if let Some(progress) = runner.progress {
                    progress.add(1, tally.errors - failed_before);
                }
            }
        });
        (template, tally, beat)
    });
    let mut total = Tally::default();
    for (_, tally, _) in workers {
        total.absorb(tally);
    }
    // Without serial actions a walk is a single segment.
    total.segments = total.walks;
    total
}

/// The ids a worker takes from the dispenser, one at a time, chunk after chunk.
struct WalkIds<'d, 'a> {
    dispenser: &'d Dispenser<'a>,
    chunk: Vec<std::ops::Range<u64>>,
    at: usize,
}

impl<'d, 'a> WalkIds<'d, 'a> {
    fn new(dispenser: &'d Dispenser<'a>) -> Self {
        WalkIds {
            dispenser,
            chunk: Vec::new(),
            at: 0,
        }
    }
}

impl Iterator for WalkIds<'_, '_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        loop {
            if let Some(range) = self.chunk.get_mut(self.at) {
                if let Some(id) = range.next() {
                    return Some(id);
                }
                self.at += 1;
                continue;
            }
            if !self.dispenser.next_chunk(&mut self.chunk) {
                return None;
            }
            self.at = 0;
        }
    }
}

/// Runs `segment` on the live walks of a branch's chunks, `limits.concurrency` at a time on
/// each of `threads` workers, and returns the workers' tallies.
pub(super) fn run_stretch<S, G>(
    runner: &WalkRunner<'_, S, G>,
    shared: &G,
    segment: &Segment,
    branch: &mut [Chunk<S>],
    threads: usize,
    limits: AsyncLimits,
    timed: bool,
) -> Vec<Worker<S>>
where
    S: Send + fmt::Debug,
    G: Sync,
{
    let plan = runner.plan;
    let workers = (0..threads.min(branch.len()).max(1))
        .map(|_| (Worker::new(plan.actions.len(), timed), runner.beat()))
        .collect();
    let per_message = branch.len().div_ceil(threads.max(1)).max(1);
    let workers = pool::run_slices(
        workers,
        Threads::Own,
        branch,
        per_message,
        |(worker, beat), chunks| {
            let watch = &*beat;
            let segments_before = worker.tally.segments;
            block_on(async {
                let live = chunks.iter_mut().flat_map(|chunk| {
                    let Chunk {
                        ids,
                        states,
                        statuses,
                        nanos,
                    } = chunk;
                    let ids = &*ids;
                    states
                        .iter_mut()
                        .zip(statuses.iter_mut())
                        .zip(
                            nanos
                                .iter_mut()
                                .map(Some)
                                .chain(std::iter::repeat_with(|| None)),
                        )
                        .enumerate()
                        .filter(|(_, ((_, status), _))| **status == Status::Live)
                        .map(move |(walk, ((state, status), nanos))| {
                            (ids.at(walk), state, status, nanos)
                        })
                });
                let mut live = live.fuse();
                let mut in_flight = FuturesUnordered::new();
                loop {
                    while in_flight.len() < limits.concurrency {
                        let Some((id, state, status, nanos)) = live.next() else {
                            break;
                        };
                        worker.tally.segments += 1;
                        let mut walk_options = vec![0; plan.actions.len()];
                        plan.space.decode(id, &mut walk_options);
                        abort::walk_starts(Some(id));
                        in_flight.push(async move {
                            let (end, walk_nanos) = run_segment(
                                runner,
                                shared,
                                segment,
                                id,
                                &walk_options,
                                state,
                                limits,
                                watch,
                                timed,
                            )
                            .await;
                            if let Some(nanos) = nanos {
                                *nanos = nanos.saturating_add(walk_nanos);
                            }
                            (id, walk_options, &*state, status, end)
                        });
                    }
                    let Some((id, walk_options, state, status, end)) = in_flight.next().await
                    else {
                        break;
                    };
                    let outcome =
                        runner.settle(&mut worker.tally, id, &walk_options, Some(state), end);
                    *status = worker.settle(id, outcome);
                }
            });
            if let Some(progress) = runner.progress {
                progress.add(worker.tally.segments - segments_before, 0);
            }
        },
    );
    workers.into_iter().map(|(worker, _)| worker).collect()
}

/// Runs one option of an async serial action for a branch, alone, on a thread of its own
/// (see [`block_on`]).
pub(super) fn run_serial<'a, S, G>(
    step: &'a dyn AsyncSerialStep<S, G>,
    option: usize,
    shared: &'a mut G,
    states: States<'a, S>,
    catcher: Catcher,
) -> Result<StepResult, Unwound> {
    let make = step.prepare(option, shared, states);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("combtest-serial".into())
            .spawn_scoped(scope, move || {
                block_on(Caught {
                    future: make(),
                    catcher,
                })
            })
            .expect("combtest: cannot spawn the thread of a serial action")
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
    })
}
