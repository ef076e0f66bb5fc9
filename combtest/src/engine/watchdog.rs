//! The watchdog: names sync walks that run too long, and ends a run that a stuck walk would
//! hang.
//!
//! Each worker owns a [`Beat`]: a slot of atomics it writes as it starts each walk (and, with
//! a timeout, each action). A watchdog thread reads the slots a few times per timeout; a walk
//! whose slot has not moved on is running still, and the watchdog measures it on its own
//! clock, so workers never read a clock for it.
//!
//! - Without a timeout, a walk running longer than [`SLOW_WALK`] is named in a warning. The
//!   loops that only count passing walks (the order's compiled loops, and the general
//!   kernel's lean loop that runs the builder's orders) tell their slot only which chunk of
//!   walks they run, not which walk: the warning then names the chunk's ids, and a timeout
//!   names the walk.
//! - With a timeout, workers take the general kernel, tell their slot each action, and check
//!   the walk's time after each action: a walk that comes back past its time fails as timed
//!   out. A walk still running at the timeout is named as it happens (id, action, param,
//!   elapsed, replay command). If it is still running [`grace`] later, it is taken as stuck:
//!   Rust cannot stop a thread, and the run cannot return while one of its threads still
//!   borrows the run. So the watchdog stops new walks from starting, waits for the walks in
//!   flight (at most one more grace period), has the run save what it wrote so far (the
//!   trace's records of every walk that ended, see [`Watch::before_exit`]), prints the report
//!   of every walk that finished with the stuck walks as timed-out failures, and ends the
//!   process with exit code 101, as a failing test binary does.

use std::cell::Cell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::held::Status;
use crate::model::action::{StepResult, Stop};
use crate::model::outcome::{Failure, FailureKind};
use crate::output::report::FailureText;

/// Without a timeout, a walk running this long is named in a warning.
pub(crate) const SLOW_WALK: Duration = Duration::from_secs(60);

/// How long after its timeout a walk still running is taken as stuck: one more timeout, and
/// at least two seconds, so that a walk that is merely slow on a loaded machine comes back and
/// fails as timed out instead of ending the process.
pub(crate) fn grace(limit: Duration) -> Duration {
    limit.max(Duration::from_secs(2))
}

/// The exit code of a run the watchdog ends: a failing test binary's.
const STUCK_EXIT_CODE: i32 = 101;

/// How many of the failures before the stuck walks a run the watchdog ends shows in full.
const SHOWN_FAILURES: usize = 5;

/// No position known (the compiled loops do not tell theirs).
const NO_POSITION: usize = usize::MAX;

/// What the workers and the watchdog thread share.
pub(crate) struct Watch {
    /// The walk timeout, if any.
    limit: Option<Duration>,
    slots: Box<[Slot]>,
    next_slot: AtomicUsize,
    /// Set when the run is ending: no new walk starts.
    stopping: AtomicBool,
    /// With a timeout: every failure so far, so that a run the watchdog ends still reports
    /// them.
    failures: Mutex<Vec<Failure>>,
    /// How long a walk runs before it is named.
    named_after: Duration,
    /// The walks named so far (a chunk is named by its first id).
    named: Mutex<Vec<u64>>,
    /// What saves the walks that ended before the watchdog ends the process, and what its
    /// report then says of where they are (the trace, when the run has one).
    before_exit: Mutex<Option<BeforeExit>>,
}

/// Saves what the run wrote so far, and says where it is, before the process exits.
pub(crate) type BeforeExit = Box<dyn FnOnce() -> String + Send>;

/// One worker's slot. Aligned to a cache line: each worker writes only its own.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// Walks (or chunks) started: a change tells the watchdog the worker moved on.
    started: AtomicU64,
    /// The walk running, or the first walk of the chunk running.
    first: AtomicU64,
    /// 1 for a walk, the chunk's length for a chunk.
    span: AtomicU64,
    /// The position of the action running, or [`NO_POSITION`].
    position: AtomicUsize,
    /// Whether a serial action runs, for the branch of walks `first..first + span`.
    serial: AtomicBool,
    busy: AtomicBool,
    ended: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
}

impl Watch {
    /// A watch over `workers` workers of a run whose walks have `limit` to run.
    pub(crate) fn new(workers: usize, limit: Option<Duration>) -> Self {
        Watch {
            limit,
            slots: (0..workers.max(1)).map(|_| Slot::default()).collect(),
            next_slot: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            failures: Mutex::new(Vec::new()),
            named_after: limit.unwrap_or(SLOW_WALK),
            named: Mutex::new(Vec::new()),
            before_exit: Mutex::new(None),
        }
    }

    /// Has `save` run before the watchdog ends the process; its text ends the report.
    pub(crate) fn before_exit(&self, save: BeforeExit) {
        *self.before_exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(save);
    }

    /// The walks named as running long so far.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn named(&self) -> Vec<u64> {
        self.named.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The walk timeout, if any.
    pub(crate) fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// A worker's beat. Workers of later stretches reuse the slots in turn.
    pub(crate) fn beat(&self) -> Beat<'_> {
        let index = self.next_slot.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let slot = &self.slots[index];
        Beat {
            watch: self,
            slot,
            started_count: Cell::new(slot.started.load(Ordering::Relaxed)),
            started_at: Cell::new(None),
        }
    }

    /// Keeps a failure for the report of a run the watchdog would end.
    pub(crate) fn failed(&self, failure: &Failure) {
        if self.limit.is_some() {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            failures.push(failure.clone());
        }
    }
}

/// A worker's side of the watch. An async worker shares it between the walks it keeps in
/// flight: each poll of a walk is a start, so a poll that does not return (a sync call that
/// blocks inside an async walk) is what the watchdog sees running.
pub(crate) struct Beat<'w> {
    watch: &'w Watch,
    slot: &'w Slot,
    started_count: Cell<u64>,
    /// With a timeout: when the walk running started.
    started_at: Cell<Option<Instant>>,
}

impl Beat<'_> {
    /// Walk `id` starts. Returns `false` when the run is ending and no walk may start: the
    /// worker then stops.
    #[inline]
    pub(crate) fn walk(&self, id: u64) -> bool {
        self.starts(id, 1)
    }

    /// The chunk of `len` walks from `first` starts, run by loops that do not tell which
    /// walk runs (the compiled loops, and the general kernel's lean loop).
    #[inline]
    pub(crate) fn chunk(&self, first: u64, len: u64) -> bool {
        self.starts(first, len)
    }

    fn starts(&self, first: u64, span: u64) -> bool {
        if self.watch.stopping.load(Ordering::Relaxed) {
            self.slot.busy.store(false, Ordering::Release);
            return false;
        }
        self.publish(first, span, NO_POSITION, false);
        if self.watch.limit.is_some() {
            self.started_at.set(Some(Instant::now()));
        }
        true
    }

    /// The serial action at `position` starts, for the branch of `walks` walks from `first`.
    /// It is named if it runs long, as a walk is, but never stopped nor timed out: the
    /// timeout is the walks'.
    pub(crate) fn serial_action(&self, first: u64, walks: u64, position: usize) {
        self.publish(first, walks, position, true);
    }

    /// Tells the watchdog what starts: `span` walks from `first`, at `position`, a serial
    /// action or not. The fields are written before `started` and `busy`, which the watchdog
    /// reads first.
    #[inline]
    fn publish(&self, first: u64, span: u64, position: usize, serial: bool) {
        let slot = self.slot;
        slot.first.store(first, Ordering::Relaxed);
        slot.span.store(span, Ordering::Relaxed);
        slot.position.store(position, Ordering::Relaxed);
        slot.serial.store(serial, Ordering::Relaxed);
        let started = self.started_count.get() + 1;
        self.started_count.set(started);
        slot.started.store(started, Ordering::Release);
        slot.busy.store(true, Ordering::Release);
    }

    /// The action at `position` starts.
    #[inline]
    pub(crate) fn action(&self, position: usize) {
        self.slot.position.store(position, Ordering::Relaxed);
    }

    /// After an action: fails the walk as timed out if its time is up. `name` describes the
    /// action that just ran (`action(param)`), only when needed.
    #[inline]
    pub(crate) fn check_time(&self, name: impl FnOnce() -> String) -> StepResult {
        let (Some(limit), Some(started)) = (self.watch.limit, self.started_at.get()) else {
            return Ok(());
        };
        let elapsed = started.elapsed();
        if elapsed <= limit {
            return Ok(());
        }
        Err(Box::new(Stop::TimedOut(format!(
            "timed out: ran {elapsed:.1?}, past the timeout of {limit:?}, by the end of {}",
            name()
        ))))
    }

    /// The walk (or its stretch) running is over; `status` says how the walk stands.
    #[inline]
    pub(crate) fn ended(&self, status: Status) {
        let slot = self.slot;
        match status {
            Status::Live => {}
            Status::Failed => bump(&slot.failed),
            Status::Cancelled => bump(&slot.cancelled),
        }
        bump(&slot.ended);
    }

    /// The worker has nothing running.
    pub(crate) fn idle(&self) {
        self.slot.busy.store(false, Ordering::Release);
    }
}

impl Drop for Beat<'_> {
    fn drop(&mut self) {
        self.idle();
    }
}

/// Adds one to a counter only its worker writes.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// A walk the watchdog found running long, as the run describes it.
pub(crate) struct LongWalk {
    /// `action(param)` of the action running, when known.
    pub(crate) action: Option<String>,
    /// The whole walk and its replay command, as a failure record.
    pub(crate) failure: Failure,
}

/// What the watchdog needs to know of the run to name a walk.
pub(crate) trait Describe: Sync {
    /// Walk `id`, with the action at `position` running (if known).
    fn long_walk(&self, id: u64, position: Option<usize>, message: String) -> LongWalk;
}

/// Runs `run` (the run's execution) while a watchdog thread watches `watch`.
pub(crate) fn watching<R>(
    watch: &Watch,
    describe: &dyn Describe,
    selected: u64,
    run: impl FnOnce() -> R,
) -> R {
    // The thread is spawned by `watch_while`, compiled once, not again for every result type.
    let mut run = Some(run);
    let mut result = None;
    watch_while(watch, describe, selected, &mut || {
        result = run.take().map(|run| run());
    });
    result.expect("the run ran")
}

/// Calls `run` once while a watchdog thread watches `watch`.
fn watch_while(watch: &Watch, describe: &dyn Describe, selected: u64, run: &mut dyn FnMut()) {
    let (done, finished) = crossbeam::channel::bounded::<()>(0);
    // The watchdog's warnings go to the test's subscriber too, as the workers' events do.
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("combtest-watchdog".into())
            .spawn_scoped(scope, move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    watch_until(watch, describe, selected, &finished);
                });
            })
            .expect("combtest: cannot spawn the watchdog thread");
        run();
        drop(done);
    })
}

/// What the watchdog knows of one slot.
#[derive(Clone, Copy)]
struct Seen {
    started: u64,
    since: Instant,
    named: bool,
}

fn watch_until(
    watch: &Watch,
    describe: &dyn Describe,
    selected: u64,
    finished: &crossbeam::channel::Receiver<()>,
) {
    let named_after = watch.named_after;
    let tick = (named_after / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
    let mut seen: Vec<Option<Seen>> = vec![None; watch.slots.len()];
    loop {
        if !matches!(
            finished.recv_timeout(tick),
            Err(crossbeam::channel::RecvTimeoutError::Timeout)
        ) {
            return;
        }
        let now = Instant::now();
        let mut stuck = Vec::new();
        for (slot, seen) in watch.slots.iter().zip(&mut seen) {
            let started = slot.started.load(Ordering::Acquire);
            if !slot.busy.load(Ordering::Acquire) {
                *seen = None;
                continue;
            }
            let entry = match seen {
                Some(entry) if entry.started == started => entry,
                _ => seen.insert(Seen {
                    started,
                    since: now,
                    named: false,
                }),
            };
            let elapsed = now - entry.since;
            if !entry.named && elapsed >= named_after {
                entry.named = true;
                name_long_walk(watch, describe, slot, elapsed);
            }
            let serial = slot.serial.load(Ordering::Relaxed);
            if let Some(limit) = watch.limit.filter(|_| !serial) {
                if elapsed >= limit + grace(limit) && slot.span.load(Ordering::Relaxed) == 1 {
                    stuck.push((slot, elapsed));
                }
            }
        }
        if !stuck.is_empty() {
            end_the_run(watch, describe, selected, &stuck);
        }
    }
}

/// Where the watchdog writes: straight to the process's stderr, past the test harness's
/// output capture, so that the user sees it as it happens (libtest's own "has been running
/// for over 60 seconds" goes the same way).
fn say(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

fn name_long_walk(watch: &Watch, describe: &dyn Describe, slot: &Slot, elapsed: Duration) {
    let first = slot.first.load(Ordering::Relaxed);
    let span = slot.span.load(Ordering::Relaxed);
    watch
        .named
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(first);
    let position = Some(slot.position.load(Ordering::Relaxed)).filter(|&p| p != NO_POSITION);
    let past = match watch.limit {
        Some(limit) => format!("past the timeout of {limit:?}"),
        None => format!("over {:?} with no timeout set", watch.named_after),
    };
    let text = if slot.serial.load(Ordering::Relaxed) {
        let position = position.unwrap_or(0);
        let action = describe
            .long_walk(first, Some(position), String::new())
            .action;
        format!(
            "combtest: serial action {} for the branch of walks {first}-{} has run \
             {elapsed:.1?}, {past}; a serial action is neither timed out nor stopped: the run \
             waits for it\n",
            action.unwrap_or_default(),
            first + span.max(1) - 1
        )
    } else if span == 1 {
        let walk = describe.long_walk(first, position, String::new());
        let action = walk.action.map_or_else(String::new, |a| format!(" in {a}"));
        let failure = walk.failure;
        format!(
            "combtest: walk {first} (fingerprint {}) has run {elapsed:.1?}, {past}{action}\n  \
             walk:   {}\n  replay: {}\n",
            failure.fingerprint,
            failure
                .steps
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" -> "),
            failure.replay
        )
    } else {
        format!(
            "combtest: one of walks {first}-{} has run {elapsed:.1?}, {past}; the loop running \
             them does not say which: set a timeout (`timeout`, COMBTEST_TIMEOUT) to have it \
             named\n",
            first + span - 1
        )
    };
    tracing::warn!("{}", text.trim_end());
    say(&text);
}

/// Ends a run that `stuck` walks will not leave: see the module docs.
fn end_the_run(
    watch: &Watch,
    describe: &dyn Describe,
    selected: u64,
    stuck: &[(&Slot, Duration)],
) -> ! {
    watch.stopping.store(true, Ordering::Relaxed);
    let limit = watch.limit.unwrap_or(SLOW_WALK);
    // The walks in flight on the other workers finish, up to one more grace period.
    let waited = Instant::now();
    while waited.elapsed() < grace(limit)
        && watch.slots.iter().any(|slot| {
            slot.busy.load(Ordering::Acquire) && !stuck.iter().any(|(s, _)| std::ptr::eq(*s, slot))
        })
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut failures = watch
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let (mut ended, mut failed, mut cancelled) = (0u64, 0u64, 0u64);
    for slot in watch.slots.iter() {
        ended += slot.ended.load(Ordering::Relaxed);
        failed += slot.failed.load(Ordering::Relaxed);
        cancelled += slot.cancelled.load(Ordering::Relaxed);
    }
    failures.sort_unstable_by_key(|f| f.walk_id);
    let more = failures.len().saturating_sub(SHOWN_FAILURES);
    failures.truncate(SHOWN_FAILURES);
    let mut stuck_ids = Vec::new();
    for (slot, elapsed) in stuck {
        let id = slot.first.load(Ordering::Relaxed);
        let position = Some(slot.position.load(Ordering::Relaxed)).filter(|&p| p != NO_POSITION);
        let message = format!(
            "timed out: still running after {elapsed:.1?}, past the timeout of {limit:?}; a \
             thread cannot be stopped, so the run ended here"
        );
        let mut failure = describe.long_walk(id, position, message).failure;
        failure.state = "<held by the stuck walk>".into();
        failure.kind = FailureKind::Timeout;
        stuck_ids.push(id.to_string());
        failures.push(failure);
    }
    let mut text = format!(
        "\ncombtest: walk {} still running {:?} after its time was up. A \
         running thread cannot be stopped, so combtest ends the test process here (exit code \
         {STUCK_EXIT_CODE}); other tests of this binary still running end with it.\n\
         combtest: before it, {ended} of {selected} selected walks (or walk segments) had \
         ended: {failed} failed, {cancelled} cancelled. The failures:\n",
        stuck_ids.join(", "),
        grace(limit)
    );
    for failure in &failures[..failures.len() - stuck.len()] {
        let shown = FailureText {
            failure,
            state_file: None,
            first: false,
        };
        let _ = write!(text, "\n{shown}\n");
    }
    if more > 0 {
        let _ = write!(text, "\n... and {more} more failed walks before it\n");
    }
    text.push_str("\nThe stuck walks:\n");
    for failure in &failures[failures.len() - stuck.len()..] {
        let shown = FailureText {
            failure,
            state_file: None,
            first: false,
        };
        let _ = write!(text, "\n{shown}\n");
    }
    // The workers that stopped left their records with the run: saved last, once every walk
    // that could end has ended.
    let save = watch
        .before_exit
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(save) = save {
        let _ = write!(text, "\n{}\n", save());
    }
    tracing::error!("{}", text.trim());
    say(&text);
    std::process::exit(STUCK_EXIT_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::StepRecord;
    use crate::model::walk_id::Fingerprint;

    struct ById;

    impl Describe for ById {
        fn long_walk(&self, id: u64, _: Option<usize>, message: String) -> LongWalk {
            LongWalk {
                action: None,
                failure: Failure {
                    walk_id: id,
                    fingerprint: Fingerprint(id),
                    steps: vec![StepRecord {
                        action: "step".into(),
                        param: id.into(),
                        param_debug: id.to_string().into(),
                    }],
                    failed_position: 0,
                    failed_action: "step".into(),
                    kind: FailureKind::Timeout,
                    message,
                    location: None,
                    state: String::new(),
                    replay: format!("COMBTEST_WALKS={id}"),
                },
            }
        }
    }

    #[test]
    fn a_walk_running_long_is_named_once_and_quick_ones_never() {
        let mut watch = Watch::new(3, None);
        watch.named_after = Duration::from_millis(200);
        let watch = &watch;
        watching(watch, &ById, 1000, || {
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    let beat = watch.beat();
                    for id in 0..5 {
                        assert!(beat.walk(id));
                        beat.ended(Status::Live);
                    }
                    beat.walk(7);
                    std::thread::sleep(Duration::from_millis(900));
                    beat.ended(Status::Live);
                    beat.idle();
                    // Idle for long: nothing to name.
                    std::thread::sleep(Duration::from_millis(400));
                });
                scope.spawn(|| {
                    let beat = watch.beat();
                    for id in 100..300 {
                        beat.walk(id);
                        std::thread::sleep(Duration::from_millis(2));
                        beat.ended(Status::Live);
                    }
                });
                scope.spawn(|| {
                    // The compiled loops tell a chunk, named by its first id.
                    let beat = watch.beat();
                    beat.chunk(500, 64);
                    std::thread::sleep(Duration::from_millis(900));
                });
            });
        });
        let mut named = watch.named();
        named.sort_unstable();
        assert_eq!(named, [7, 500]);
    }

    #[test]
    fn a_walk_past_its_timeout_fails_at_the_end_of_its_action() {
        let watch = Watch::new(1, Some(Duration::from_millis(20)));
        let beat = watch.beat();
        assert!(beat.walk(3));
        assert!(beat.check_time(|| unreachable!()).is_ok());
        std::thread::sleep(Duration::from_millis(40));
        let stop = beat.check_time(|| "slow(3)".to_string()).unwrap_err();
        let Stop::TimedOut(message) = *stop else {
            panic!("not a timeout: {stop:?}");
        };
        assert!(message.starts_with("timed out: ran "), "{message}");
        assert!(
            message.ends_with(", past the timeout of 20ms, by the end of slow(3)"),
            "{message}"
        );
    }

    #[test]
    fn no_walk_starts_once_the_run_is_ending() {
        let watch = Watch::new(1, Some(Duration::from_secs(1)));
        let beat = watch.beat();
        assert!(beat.walk(0));
        watch.stopping.store(true, Ordering::Relaxed);
        assert!(!beat.walk(1));
        assert!(!beat.chunk(2, 10));
        assert!(!watch.slots[0].busy.load(Ordering::Relaxed));
    }
}
