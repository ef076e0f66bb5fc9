//! The compiled kernel: statically dispatched walks for `combtest!` orders.
//!
//! The builder API runs each action through a trait object: one indirect call per action.
//! `combtest!` knows its order at compile time, so it also records the order as a type-level
//! list of companion types, `(((), first), second)...`. At run start the list binds to the
//! loaded option lists (each checked by name and by type), giving monomorphic code with
//! direct, inlinable calls. When passing walks are only counted, that code is a whole chunk of
//! walks as nested loops, one per action, so a walk costs its actions and little else: one
//! indirect call per chunk. If anything does not match, the run simply keeps the general
//! kernel.
//!
//! Every way of running a walk's actions goes through one runner, [`WalkList::run_masked`]:
//! a segment is the set of its positions ([`Positions`]): a bit mask, read as the walks run,
//! or the segment's number in the order's type, which the compiler reads instead; a whole
//! walk is the mask with every bit set.

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};

use super::compiled_filter::{
    FilterAsker, FilterCall, FilterWalks, KernelFilter, Run, Sieve, WalkFilter, MOST_POSITIONS,
};
use super::compiled_gather::{Dropped, PassedStates};
use super::gathered::Gathered;
use super::held::Status;
use super::positions::{MarkOnUnwind, MAKING_STATE};
use crate::model::action::{ActionItem, StepResult};
use crate::model::state::Template;
use crate::model::walk::Walk;

/// An order as a type-level list; `()` is the empty order.
pub trait WalkList<S, G>: 'static {
    /// Number of actions.
    const LEN: usize;
    /// Number of serial actions.
    const SERIALS: usize;
    /// The option lists of the actions, typed.
    type Bound: Send + Sync + 'static;
    /// Binds to loaded option lists (`&Vec<P>` per position), if names and types match.
    fn bind(names: &[&str], params: &[&dyn Any]) -> Option<Self::Bound>;
    /// References to one option of each position: a walk (serial positions included).
    type Params<'b>: Copy;
    /// The params of the walk that picks `options[p]` at each position `p`.
    fn params_at<'b>(bound: &'b Self::Bound, options: &[usize]) -> Self::Params<'b>;
    /// The one action runner: runs the regular actions of the walk `params` that `segment`
    /// holds: a bit mask (bit `p` for position `p`; `u64::MAX`, the whole walk, runs them
    /// all), or a segment by its number (`AfterSerials`). `position` is written only when
    /// the walk stops or unwinds, with the action's position (see `MarkOnUnwind`): a passing
    /// walk leaves it as it was.
    fn run_masked(
        params: Self::Params<'_>,
        segment: impl Positions,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult;
    /// Calls `body` with every walk from `first` (option indices) on, in id order, as nested
    /// loops: the options of the outer actions stay put while the inner ones turn, so no
    /// odometer is kept and no option list is indexed per walk. Positions set in `held`
    /// keep their option from `first` (serial actions, inside one branch). `initial` is set
    /// while the loops still start from `first`; `body` clears it.
    fn nest<'b, B>(
        bound: &'b Self::Bound,
        first: &[usize],
        held: u64,
        initial: &Cell<bool>,
        body: &mut B,
    ) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>;

    /// [`nest`](Self::nest), ending after `limit` walks: the innermost loop is cut to the
    /// walks left, so that a walk needs no check of its own.
    fn nest_rows<'b, B>(
        bound: &'b Self::Bound,
        first: &[usize],
        held: u64,
        initial: &Cell<bool>,
        limit: u64,
        body: &mut B,
    ) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>;
}

/// The segment mask of a whole walk: every position runs.
pub(crate) const WHOLE_WALK: u64 = u64::MAX;

/// Which regular actions of a walk [`WalkList::run_masked`] runs: a segment of the order.
pub trait Positions: Copy {
    /// Whether the regular action at `position`, which `serials_before` serial actions
    /// precede, is in the segment.
    fn runs(self, position: usize, serials_before: usize) -> bool;
}

/// A bit mask of positions (see [`positions_mask`](crate::model::plan::positions_mask)),
/// read as the walks run: bit `p` for position `p`.
impl Positions for u64 {
    #[inline(always)]
    fn runs(self, position: usize, _: usize) -> bool {
        self >> position & 1 == 1
    }
}

/// The regular actions that `K` serial actions precede: the order's segment `K`, known to the
/// compiler, so a walk tests no mask (every action's test is a constant of its position).
#[derive(Clone, Copy)]
pub struct AfterSerials<const K: usize>;

impl<const K: usize> Positions for AfterSerials<K> {
    #[inline(always)]
    fn runs(self, _: usize, serials_before: usize) -> bool {
        serials_before == K
    }
}

/// The first segment number whose held loop tests the segment's mask: the segments before
/// it have a loop each, by number ([`AfterSerials`]).
const MASKED_FROM: usize = 4;

/// Segment `K` of the order `L` over held walks, as constants of the order's type.
struct HeldSegment<S, G, L, const K: usize>(PhantomData<(S, G, L)>);

impl<S, G, L: WalkList<S, G>, const K: usize> HeldSegment<S, G, L, K> {
    /// Whether the order holds walks in segment `K` (or, for `K` = [`MASKED_FROM`], in some
    /// segment from it on): it has serial actions, and at least `K` of them.
    const EXISTS: bool = L::SERIALS > 0 && L::SERIALS >= K;
    /// Whether segment `K` has a loop of its own, or runs by its mask.
    const BY_NUMBER: bool = K < MASKED_FROM;
}

impl<S, G> WalkList<S, G> for () {
    const LEN: usize = 0;
    const SERIALS: usize = 0;
    type Bound = ();
    fn bind(names: &[&str], _: &[&dyn Any]) -> Option<()> {
        names.is_empty().then_some(())
    }
    type Params<'b> = ();
    #[inline(always)]
    fn params_at(_: &(), _: &[usize]) {}
    #[inline(always)]
    fn run_masked(_: (), _: impl Positions, _: &mut usize, _: &mut S, _: &G) -> StepResult {
        Ok(())
    }
    #[inline(always)]
    fn nest<'b, B>(_: &'b (), _: &[usize], _: u64, _: &Cell<bool>, body: &mut B) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>,
    {
        body(())
    }
    #[inline(always)]
    fn nest_rows<'b, B>(
        _: &'b (),
        _: &[usize],
        _: u64,
        _: &Cell<bool>,
        limit: u64,
        body: &mut B,
    ) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>,
    {
        if limit == 0 {
            ControlFlow::Continue(())
        } else {
            body(())
        }
    }
}

impl<S, G, L, A> WalkList<S, G> for (L, A)
where
    L: WalkList<S, G>,
    A: ActionItem<S, G> + 'static,
{
    const LEN: usize = L::LEN + 1;
    const SERIALS: usize = L::SERIALS + A::SERIAL as usize;
    type Bound = (L::Bound, Vec<A::Param>);

    fn bind(names: &[&str], params: &[&dyn Any]) -> Option<Self::Bound> {
        // Segments are bit masks of positions.
        if Self::LEN > MOST_POSITIONS {
            return None;
        }
        let (name, names) = names.split_last()?;
        let (last, params) = params.split_last()?;
        if *name != A::NAME {
            return None;
        }
        let options = last.downcast_ref::<Vec<A::Param>>()?.clone();
        Some((L::bind(names, params)?, options))
    }

    type Params<'b> = (L::Params<'b>, &'b A::Param);

    #[inline(always)]
    fn params_at<'b>(bound: &'b Self::Bound, options: &[usize]) -> Self::Params<'b> {
        (L::params_at(&bound.0, options), &bound.1[options[L::LEN]])
    }

    #[inline(always)]
    fn run_masked(
        params: Self::Params<'_>,
        segment: impl Positions,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult {
        L::run_masked(params.0, segment, position, state, shared)?;
        // Serial actions are never in a segment: `call` is reached for regular actions only.
        if !A::SERIAL && segment.runs(L::LEN, L::SERIALS) {
            // The position is written only when it is read: by an unwind (the param's Clone
            // or the action panicked), or for a stop the action returned.
            let mark = MarkOnUnwind::new(position, L::LEN);
            let result = A::call(params.1.clone(), state, shared);
            mark.disarm();
            if result.is_err() {
                *position = L::LEN;
            }
            result
        } else {
            Ok(())
        }
    }

    #[inline(always)]
    fn nest<'b, B>(
        bound: &'b Self::Bound,
        first: &[usize],
        held: u64,
        initial: &Cell<bool>,
        body: &mut B,
    ) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>,
    {
        L::nest(&bound.0, first, held, initial, &mut |prefix| {
            // One loop, whether the position turns or is held: a single call site lets the
            // body inline.
            for param in row::<L, A, S, G>(&bound.1, first, held, initial) {
                body((prefix, param))?;
            }
            ControlFlow::Continue(())
        })
    }

    #[inline(always)]
    fn nest_rows<'b, B>(
        bound: &'b Self::Bound,
        first: &[usize],
        held: u64,
        initial: &Cell<bool>,
        limit: u64,
        body: &mut B,
    ) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>,
    {
        let mut left = limit;
        if left == 0 {
            return ControlFlow::Continue(());
        }
        L::nest(&bound.0, first, held, initial, &mut |prefix| {
            let row = row::<L, A, S, G>(&bound.1, first, held, initial);
            let row = &row[..row.len().min(usize::try_from(left).unwrap_or(usize::MAX))];
            left -= row.len() as u64;
            for param in row {
                body((prefix, param))?;
            }
            if left == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
    }
}

/// The options the loop of the last position of `(L, A)` runs through in one turn of the
/// loops around it: all of them, or from the first walk's option on the first turn; only the
/// first walk's if the position is held.
#[inline(always)]
fn row<'b, L, A, S, G>(
    options: &'b [A::Param],
    first: &[usize],
    held: u64,
    initial: &Cell<bool>,
) -> &'b [A::Param]
where
    L: WalkList<S, G>,
    A: ActionItem<S, G>,
{
    let turns = held >> L::LEN & 1 == 0;
    let start = if initial.get() || !turns {
        first[L::LEN]
    } else {
        0
    };
    let end = if turns { options.len() } else { start + 1 };
    &options[start..end]
}

/// An order's compiled walks behind one trait object: what the executors call when
/// `combtest!` bound the order (see [`super::WalkRunner::kernel`]).
pub(crate) trait CompiledKernel<S, G>: Send + Sync {
    /// Runs the actions of one walk whose positions are set in `segment` (see
    /// [`positions_mask`](crate::model::plan::positions_mask)): the general kernel's walk,
    /// statically dispatched.
    fn run(
        &self,
        options: &[usize],
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult;

    /// Runs the walks of an order without serial actions from `walks.id` up to `walks.end`,
    /// when a passing walk needs nothing beyond being counted, or its state gathered (into
    /// `walks.gathered`, if given): the whole loop is compiled for this order (see
    /// [`WalkList::nest`]). Returns early with the walk that failed or cancelled still in
    /// `walks.state` and `walks.id` on it.
    /// With a filter, a walk it rejects is skipped (counted in `walks.skipped`) before its
    /// state is made; `filter` says which function asks it.
    fn run_quiet(
        &self,
        walks: QuietWalks<'_, '_, S>,
        filter: Option<(FilterCall<'_>, FilterWalks<'_>)>,
        shared: &G,
    ) -> StepResult;

    /// Runs a segment on held walks of consecutive ids, from `walks.walk` to the end of
    /// `walks.states`, skipping walks that are no longer live. Returns early with
    /// `walks.walk` on a walk that failed or cancelled.
    fn run_held(&self, walks: HeldWalks<'_, S>, shared: &G) -> StepResult;
}

/// The cursor of a segment run over held walks, kept by the caller outside `catch_unwind`.
pub(crate) struct HeldWalks<'a, S> {
    /// Option index of each position for the walk at `walk`, on entry.
    pub(crate) options: &'a [usize],
    /// Positions whose options stay put: the serial actions.
    pub(crate) held: u64,
    /// Positions whose actions run: the segment's.
    pub(crate) segment: u64,
    /// The same segment by its number: how many serial actions precede its actions.
    pub(crate) segment_number: usize,
    pub(crate) states: &'a mut [S],
    pub(crate) statuses: &'a [Status],
    pub(crate) walk: &'a mut usize,
    pub(crate) position: &'a mut usize,
    /// Counts the segments run.
    pub(crate) segments: &'a mut u64,
}

/// The cursor of a run of walks whose passing walks are only counted; kept by the caller,
/// outside `catch_unwind`, so that an unwinding walk can be pinned to its id, action and state.
pub(crate) struct QuietWalks<'a, 't, S> {
    /// Option index of each position for walk `id`, on entry (the loops keep no odometer:
    /// the caller decodes the id again when it needs the options).
    pub(crate) options: &'a [usize],
    pub(crate) id: &'a mut u64,
    pub(crate) end: u64,
    pub(crate) position: &'a mut usize,
    pub(crate) state: &'a mut Option<S>,
    pub(crate) template: &'a Template<'t, S>,
    /// Counts the walks run.
    pub(crate) walks: &'a mut u64,
    /// Counts the walks a filter rejected.
    pub(crate) skipped: &'a mut u64,
    /// With flat gathering: where each passing walk's state goes, with its id (otherwise
    /// the state is dropped).
    pub(crate) gathered: Option<&'a mut Gathered<S>>,
}

/// Walks the compiled loops of `combtest!` orders have run or skipped in this process: a
/// run's tests tell from it which kernel ran their walks. Added to once per call of the loops
/// (a chunk of walks), not per walk.
static COMPILED_WALKS: AtomicU64 = AtomicU64::new(0);

/// Calls of the compiled loops that asked the filter compiled into their kernel (see
/// [`KernelFilter`]): a run's tests tell from it that the loops called `combtest!`'s filter
/// directly. Added to once per call of the loops.
static COMPILED_FILTER_CALLS: AtomicU64 = AtomicU64::new(0);

/// How many calls of the compiled loops (each a chunk of walks) have asked a filter compiled
/// into their order's kernel, the `filter:` of a `combtest!` block, in this process so far.
/// A filter given to the builder, or asked by the general kernel, is not counted.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = 0..3)]
/// fn add(n: u32, sum: &mut u32) {
///     *sum += n;
/// }
///
/// let before = combtest::__private::compiled_filter_calls();
/// let report = combtest! {
///     order: [add, add],
///     state: 0u32,
///     threads: 1,
///     filter: |walk: &Walk| walk.param::<u32>(0) != Some(&1),
/// };
/// assert_eq!((report.walk_count, report.skipped_count), (6, 3));
/// assert!(combtest::__private::compiled_filter_calls() > before);
/// ```
pub fn compiled_filter_calls() -> u64 {
    COMPILED_FILTER_CALLS.load(Ordering::Relaxed)
}

/// How many walks the compiled loops of `combtest!` orders have run or skipped (rejected by a
/// filter) in this process so far; the general kernel's walks are not counted.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = 0..3)]
/// fn add(n: u32, sum: &mut u32) {
///     *sum += n;
/// }
///
/// let before = combtest::__private::compiled_walks();
/// combtest! { order: [add, add], state: 0u32, threads: 1 };
/// assert!(combtest::__private::compiled_walks() >= before + 9);
/// ```
pub fn compiled_walks() -> u64 {
    COMPILED_WALKS.load(Ordering::Relaxed)
}

/// The id of the walk the compiled loops run, kept where the compiler can hold it in a
/// register, and given back to the cursor (with the count of walks started) once per call:
/// when the loops end or return a stop ([`WalkCounter::publish`]), or when a walk unwinds
/// (its drop).
struct WalkCounter<'a> {
    id: &'a mut u64,
    walks: &'a mut u64,
    skipped_total: &'a mut u64,
    first: u64,
    next: Cell<u64>,
    /// Walks a filter rejected since `first`.
    skipped: Cell<u64>,
}

impl<'a> WalkCounter<'a> {
    #[inline(always)]
    fn new(id: &'a mut u64, walks: &'a mut u64, skipped_total: &'a mut u64) -> Self {
        let first = *id;
        WalkCounter {
            id,
            walks,
            skipped_total,
            first,
            next: Cell::new(first),
            skipped: Cell::new(0),
        }
    }

    /// Writes the id of the walk at the cursor and counts the walks since `first`: the
    /// skipped ones, and the others as started, with the one at the cursor if it is still in
    /// progress (it stopped or unwinds).
    #[inline(always)]
    fn write(&mut self, in_progress: bool) {
        let next = self.next.get();
        let skipped = self.skipped.get();
        *self.id = next;
        let started = next - self.first - skipped + u64::from(in_progress);
        *self.walks += started;
        COMPILED_WALKS.fetch_add(started + skipped, Ordering::Relaxed);
        *self.skipped_total += skipped;
        self.skipped.set(0);
        self.first = next;
    }

    /// The loops returned, after the last walk or with a stop (`stopped`).
    #[inline(always)]
    fn publish(mut self, stopped: bool) {
        self.write(stopped);
        std::mem::forget(self);
    }
}

impl Drop for WalkCounter<'_> {
    /// Only an unwind drops the counter: the walk at `next` unwinds.
    fn drop(&mut self) {
        self.write(true);
    }
}

/// Segments the compiled loops have run on held walks in this process: a run's tests tell
/// from it that held walks ran there. Added to once per call of the loops.
static COMPILED_SEGMENTS: AtomicU64 = AtomicU64::new(0);

/// How many segments of held walks (the actions between two serial actions) the compiled
/// loops of `combtest!` orders have run in this process so far; the general kernel's are not
/// counted.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = 0..3)]
/// fn add(n: u32, sum: &mut u32) {
///     *sum += n;
/// }
///
/// #[serial_action(options = [0, 1])]
/// fn pause(_n: u32) {}
///
/// let before = combtest::__private::compiled_segments();
/// combtest! { order: [add, pause, add], state: 0u32, threads: 1 };
/// // 18 walks, each with a segment before the serial action and one after it.
/// assert!(combtest::__private::compiled_segments() >= before + 36);
/// ```
pub fn compiled_segments() -> u64 {
    COMPILED_SEGMENTS.load(Ordering::Relaxed)
}

/// The index of the held walk the compiled loops run, and the count of segments started,
/// kept where the compiler can hold them in registers and given back to the cursor once per
/// call: when the loops return ([`HeldCounter::publish`]), or when a walk unwinds (its
/// drop). Either way `next` is the walk at the cursor: the one that stopped or unwinds, or
/// the end.
struct HeldCounter<'a> {
    walk: &'a mut usize,
    segments: &'a mut u64,
    next: Cell<usize>,
    started: Cell<u64>,
}

impl<'a> HeldCounter<'a> {
    #[inline(always)]
    fn new(walk: &'a mut usize, segments: &'a mut u64) -> Self {
        let next = Cell::new(*walk);
        HeldCounter {
            walk,
            segments,
            next,
            started: Cell::new(0),
        }
    }

    #[inline(always)]
    fn write(&mut self) {
        *self.walk = self.next.get();
        let started = self.started.get();
        *self.segments += started;
        COMPILED_SEGMENTS.fetch_add(started, Ordering::Relaxed);
    }

    /// The loops returned, after the last walk or with a stop.
    #[inline(always)]
    fn publish(mut self) {
        self.write();
        std::mem::forget(self);
    }
}

impl Drop for HeldCounter<'_> {
    /// Only an unwind drops the counter: the walk at `next` unwinds.
    fn drop(&mut self) {
        self.write();
    }
}

/// The state of the walk the compiled loops run, made where the loops' [`PassedStates`] keep
/// a passing walk's state (the loop's own frame, where the compiler can keep it close, or the
/// next slot of the gathered states): it goes to the cursor's slot only if the walk stops
/// (dropped on a returned stop) or unwinds (dropped by the unwind), so that its failure can
/// show it. A passing walk leaves it in place with [`KeptOnStop::stays`].
struct KeptOnStop<'a, S> {
    state: &'a mut ManuallyDrop<S>,
    slot: &'a mut Option<S>,
}

impl<'a, S> KeptOnStop<'a, S> {
    /// Keeps `state`, which its owner must not drop nor take itself (see the drop).
    #[inline(always)]
    fn new(state: &'a mut ManuallyDrop<S>, slot: &'a mut Option<S>) -> Self {
        KeptOnStop { state, slot }
    }

    #[inline(always)]
    fn state(&mut self) -> &mut S {
        self.state
    }

    /// The walk passed: its state stays where it was made, for the loops' [`PassedStates`]
    /// to drop or keep.
    #[inline(always)]
    fn stays(self) {
        std::mem::forget(self);
    }
}

impl<S> Drop for KeptOnStop<'_, S> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `drop` runs at most once, `stays` (after which the state's place owns it)
        // does not run it, and the owner of the state does not take it: it is taken exactly
        // once.
        let state = unsafe { ManuallyDrop::take(self.state) };
        *self.slot = Some(state);
    }
}

/// An order bound to its loaded option lists `B` (`L::Bound`), with the filter `F` that
/// `combtest!` compiled into it ([`NoFilter`](super::compiled_filter::NoFilter) if none).
///
/// The state and shared-context types are parameters of its methods, not of the type: the
/// type stays `'static` (the order and its options are), so it can be a boxed kernel of a
/// run whose shared context is borrowed.
struct BoundOrder<L, B, C, F> {
    bound: B,
    filter: F,
    _order: PhantomData<fn() -> (L, C)>,
}

impl<L, B, C, F> BoundOrder<L, B, C, F> {
    /// The loops themselves, one function per way of making, asking and keeping: each is
    /// compiled on its own, so that the compiler inlines the nested loops' closures into it
    /// (inlined into `run_quiet`, its several copies together exceed what the compiler
    /// inlines into one function, and the loops call their closures).
    #[inline(never)]
    fn quiet_loop<S, G>(
        &self,
        walks: QuietWalks<'_, '_, S>,
        shared: &G,
        make: impl Fn() -> S,
        mut sieve: impl Sieve,
        mut sink: impl PassedStates<S>,
    ) -> StepResult
    where
        L: WalkList<S, G, Bound = B>,
    {
        let QuietWalks {
            options,
            id,
            end,
            position,
            state,
            template: _,
            walks,
            skipped,
            gathered: _,
        } = walks;
        if *id >= end {
            return Ok(());
        }
        let counter = WalkCounter::new(id, walks, skipped);
        let next = &counter.next;
        let rejected = &counter.skipped;
        let count = end - next.get();
        let result = self.each_walk::<S, G>(options, 0, count, |params| {
            if !sieve.keeps(next.get(), end) {
                rejected.set(rejected.get() + 1);
                next.set(next.get() + 1);
                return Ok(());
            }
            // The cursor says where the walk stands while the test's own code runs outside
            // its actions: a panic there fails the walk, saying so.
            let making = MarkOnUnwind::new(position, MAKING_STATE);
            // Made in place: a passing walk's state is never moved (a gathered one is made in
            // the next slot of the gathered states).
            let made = sink.place().write(ManuallyDrop::new(make()));
            making.disarm();
            let mut walk = KeptOnStop::new(made, state);
            // A stop returns here, and drops `walk`: its state goes to the cursor.
            L::run_masked(params, WHOLE_WALK, position, walk.state(), shared)?;
            walk.stays();
            // SAFETY: the state was made in the place `sink` gave last, and `stays` left it
            // there.
            unsafe { sink.passed(next.get(), position) };
            next.set(next.get() + 1);
            Ok(())
        });
        counter.publish(result.is_err());
        result
    }

    /// Runs segment `K` on the held walks of `walks` (see [`CompiledKernel::run_held`]); for
    /// `K` = [`MASKED_FROM`], any segment from it on, by its mask.
    #[inline(always)]
    fn held_segment<S, G, const K: usize>(&self, walks: HeldWalks<'_, S>, shared: &G) -> StepResult
    where
        L: WalkList<S, G, Bound = B>,
    {
        // Each condition is a constant the compiler reads where it instantiates the kernel:
        // a segment the order does not have compiles to nothing, and an order without serial
        // actions, which holds no walks, compiles no held loop at all.
        if HeldSegment::<S, G, L, K>::EXISTS {
            if HeldSegment::<S, G, L, K>::BY_NUMBER {
                self.held_loop(walks, shared, AfterSerials::<K>)
            } else {
                let mask = walks.segment;
                self.held_loop(walks, shared, mask)
            }
        } else {
            unreachable!("the order has no segment {K} that holds walks")
        }
    }

    /// Runs `segment` on the held walks of `walks` (see [`CompiledKernel::run_held`]).
    #[inline(always)]
    fn held_loop<S, G>(
        &self,
        walks: HeldWalks<'_, S>,
        shared: &G,
        segment: impl Positions,
    ) -> StepResult
    where
        L: WalkList<S, G, Bound = B>,
    {
        let HeldWalks {
            options,
            held,
            states,
            statuses,
            walk,
            position,
            segments,
            ..
        } = walks;
        let end = states.len().min(statuses.len());
        if *walk >= end {
            return Ok(());
        }
        let start = *walk;
        let count = (end - start) as u64;
        // One end check per walk for both vectors, where indexing each would check each.
        let mut walks = states[start..end].iter_mut().zip(&statuses[start..end]);
        let counter = HeldCounter::new(walk, segments);
        let next = &counter.next;
        let started = &counter.started;
        let result = self.each_walk::<S, G>(options, held, count, |params| {
            // `each_walk` calls this once per walk of the `count` left.
            let Some((state, status)) = walks.next() else {
                return Ok(());
            };
            if *status == Status::Live {
                started.set(started.get() + 1);
                L::run_masked(params, segment, position, state, shared)?;
            }
            next.set(next.get() + 1);
            Ok(())
        });
        counter.publish();
        result
    }

    /// Calls `walk` with `count` walks from `first` on (see [`WalkList::nest_rows`]), or
    /// until it returns an error, which is returned.
    #[inline(always)]
    fn each_walk<'b, S, G>(
        &'b self,
        first: &[usize],
        held: u64,
        count: u64,
        mut walk: impl FnMut(<L as WalkList<S, G>>::Params<'b>) -> StepResult,
    ) -> StepResult
    where
        L: WalkList<S, G, Bound = B>,
    {
        let mut result = Ok(());
        let initial = Cell::new(true);
        let _ = <L as WalkList<S, G>>::nest_rows(
            &self.bound,
            first,
            held,
            &initial,
            count,
            &mut |params| {
                initial.set(false);
                match walk(params) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(stop) => {
                        result = Err(stop);
                        ControlFlow::Break(())
                    }
                }
            },
        );
        result
    }
}

impl<L, S, G, C, F> CompiledKernel<S, G> for BoundOrder<L, L::Bound, C, F>
where
    L: WalkList<S, G>,
    C: Cloning<S>,
    F: KernelFilter,
{
    fn run(
        &self,
        options: &[usize],
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult {
        L::run_masked(
            L::params_at(&self.bound, options),
            segment,
            position,
            state,
            shared,
        )
    }

    fn run_held(&self, walks: HeldWalks<'_, S>, shared: &G) -> StepResult {
        // The segment is chosen once per call, so that a walk's loop runs exactly the
        // segment's actions and tests no mask.
        match walks.segment_number {
            0 => self.held_segment::<S, G, 0>(walks, shared),
            1 => self.held_segment::<S, G, 1>(walks, shared),
            2 => self.held_segment::<S, G, 2>(walks, shared),
            3 => self.held_segment::<S, G, 3>(walks, shared),
            _ => self.held_segment::<S, G, MASKED_FROM>(walks, shared),
        }
    }

    fn run_quiet(
        &self,
        mut walks: QuietWalks<'_, '_, S>,
        filter: Option<(FilterCall<'_>, FilterWalks<'_>)>,
        shared: &G,
    ) -> StepResult {
        let gathered = walks.gathered.take();
        let Some((call, filter_walks)) = filter else {
            return match gathered {
                // Gathering shares one loop with a filter and without: keeping each state
                // costs far more than asking whether there is a filter.
                Some(gathered) => {
                    self.made_loop(walks, shared, None::<WalkFilter<'_, '_, F::Keep>>, gathered)
                }
                None => self.made_loop(walks, shared, (), Dropped::new()),
            };
        };
        match (call, self.filter.keep()) {
            (FilterCall::Compiled, Some(keep)) => {
                COMPILED_FILTER_CALLS.fetch_add(1, Ordering::Relaxed);
                self.filtered_loop(walks, shared, keep, filter_walks, gathered)
            }
            (FilterCall::Dynamic(keep), _) => {
                self.filtered_loop(walks, shared, keep, filter_walks, gathered)
            }
            (FilterCall::Compiled, None) => {
                unreachable!("only a kernel compiled with a filter is asked to call its own")
            }
        }
    }
}

impl<L, B, C, F> BoundOrder<L, B, C, F> {
    /// The quiet loop with a filter, `keep`, and keeping passing walks' states in `gathered`
    /// if it is given. The walks run in stretches, as the filter's answers ahead of them say
    /// (see [`Run`]): a stretch kept whole runs in the loops without a filter, a stretch
    /// rejected whole is only counted, and only the rest is asked about walk by walk.
    #[inline(always)]
    fn filtered_loop<S, G, K>(
        &self,
        walks: QuietWalks<'_, '_, S>,
        shared: &G,
        keep: &K,
        filter_walks: FilterWalks<'_>,
        mut gathered: Option<&mut Gathered<S>>,
    ) -> StepResult
    where
        L: WalkList<S, G, Bound = B>,
        C: Cloning<S>,
        K: Fn(&Walk<'_>) -> bool + ?Sized,
    {
        let QuietWalks {
            options,
            id,
            end,
            position,
            state,
            template,
            walks: started,
            skipped,
            gathered: _,
        } = walks;
        let space = filter_walks.space;
        let mut asker = FilterAsker {
            keep,
            walks: filter_walks,
        };
        // The options of the walk at `id`, the first of each stretch.
        let mut first = [0; MOST_POSITIONS];
        let first = &mut first[..options.len()];
        first.copy_from_slice(options);
        while *id < end {
            asker.walks.answers.resume(*id, first);
            let run = asker.next_run(*id, end);
            // The walks up to `until`, as the loops take them.
            macro_rules! stretch {
                ($until:expr) => {
                    QuietWalks {
                        options: first,
                        id: &mut *id,
                        end: $until,
                        position: &mut *position,
                        state: &mut *state,
                        template,
                        walks: &mut *started,
                        skipped: &mut *skipped,
                        gathered: None,
                    }
                };
            }
            match (run, gathered.as_deref_mut()) {
                (Run::Rejected(until), _) => {
                    let rejected = until - *id;
                    *skipped += rejected;
                    COMPILED_WALKS.fetch_add(rejected, Ordering::Relaxed);
                    *id = until;
                }
                (Run::Kept(until), None) => {
                    self.made_loop(stretch!(until), shared, (), Dropped::new())?;
                }
                (Run::Kept(until), Some(gathered)) => {
                    let sieve = None::<WalkFilter<'_, '_, K>>;
                    self.made_loop(stretch!(until), shared, sieve, gathered)?;
                }
                (Run::Checked(until), None) => {
                    let sieve = WalkFilter::new(&mut asker);
                    self.made_loop(stretch!(until), shared, sieve, Dropped::new())?;
                }
                (Run::Checked(until), Some(gathered)) => {
                    let sieve = Some(WalkFilter::new(&mut asker));
                    self.made_loop(stretch!(until), shared, sieve, gathered)?;
                }
            }
            if *id < end {
                space.decode(*id, first);
            }
        }
        Ok(())
    }

    /// The quiet loop, with the template's way of making each walk's state.
    #[inline(always)]
    fn made_loop<S, G>(
        &self,
        walks: QuietWalks<'_, '_, S>,
        shared: &G,
        sieve: impl Sieve,
        sink: impl PassedStates<S>,
    ) -> StepResult
    where
        L: WalkList<S, G, Bound = B>,
        C: Cloning<S>,
    {
        match walks.template {
            Template::Value { state, clone, .. } => {
                self.quiet_loop(walks, shared, || C::clone_of(state, *clone), sieve, sink)
            }
            Template::Factory(make) => self.quiet_loop(walks, shared, make, sieve, sink),
        }
    }
}

/// Binds loaded option lists to a statically known order, when it is that order: what the
/// builder keeps from `combtest!` to build its compiled kernel at run start.
pub(crate) type Binder<S, G> =
    Box<dyn Fn(&[&str], &[&dyn Any]) -> Option<Box<dyn CompiledKernel<S, G>>> + Send + Sync>;

/// How the compiled loops clone a state value for each walk.
///
/// A state value's clone function is always `S::clone` (see
/// [`StateSource::value`](crate::StateSource::value)); when `combtest!` knows that `S` is
/// `Clone` ([`ByClone`]) the loops call it directly, so that it inlines, and otherwise
/// ([`ByPointer`]) through the pointer the state source keeps.
pub(crate) trait Cloning<S>: 'static {
    /// A clone of `state`, which `clone` (`S::clone`) makes.
    fn clone_of(state: &S, clone: fn(&S) -> S) -> S;
}

/// Calls `S::clone` directly.
pub(crate) struct ByClone;

impl<S: Clone> Cloning<S> for ByClone {
    #[inline(always)]
    fn clone_of(state: &S, _: fn(&S) -> S) -> S {
        state.clone()
    }
}

/// Calls the clone function the state source keeps.
pub(crate) struct ByPointer;

impl<S> Cloning<S> for ByPointer {
    #[inline(always)]
    fn clone_of(state: &S, clone: fn(&S) -> S) -> S {
        clone(state)
    }
}

/// The binder of the order `L`, cloning states as `C` says, with the filter `filter`
/// compiled into its loops.
pub(crate) fn binder<S, G, L, C, F>(filter: F) -> Binder<S, G>
where
    L: WalkList<S, G>,
    C: Cloning<S>,
    F: KernelFilter,
{
    Box::new(move |names, params| {
        let bound = L::bind(names, params)?;
        Some(Box::new(BoundOrder::<L, L::Bound, C, F> {
            bound,
            filter: filter.clone(),
            _order: PhantomData,
        }) as Box<dyn CompiledKernel<S, G>>)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::action::Action;
    use crate::model::test_support::Xorshift;
    use crate::model::walk_id::WalkSpace;

    /// A position of a test order: records its param, which is its option index.
    struct Pos<const N: usize>;

    impl<const N: usize> ActionItem<Vec<usize>, ()> for Pos<N> {
        type Param = usize;
        const NAME: &'static str = "pos";
        const SERIAL: bool = false;
        const ASYNC: bool = false;
        fn action() -> Action<Vec<usize>, ()> {
            unreachable!("the test binds option lists directly")
        }
        fn call(param: usize, seen: &mut Vec<usize>, _: &()) -> StepResult {
            seen.push(param);
            Ok(())
        }
    }

    type FivePositions = ((((((), Pos<0>), Pos<1>), Pos<2>), Pos<3>), Pos<4>);

    #[test]
    fn nested_loops_visit_what_the_odometer_gives() {
        let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let sizes: Vec<usize> = (0..5).map(|_| 1 + (random.draw() % 4) as usize).collect();
            let held = random.draw() & 0b11111;
            let serial: Vec<bool> = (0..5).map(|p| held >> p & 1 == 1).collect();
            let space = WalkSpace::new(&sizes, &serial).unwrap();
            let start = random.draw() % space.total();

            let lists: Vec<Vec<usize>> = sizes.iter().map(|&n| (0..n).collect()).collect();
            let params: Vec<&dyn Any> = lists.iter().map(|l| l as &dyn Any).collect();
            let bound = FivePositions::bind(&["pos"; 5], &params).expect("names and types match");
            let mut first = vec![0; 5];
            space.decode(start, &mut first);
            let mut visited = Vec::new();
            let initial = Cell::new(true);
            let _ = FivePositions::nest(&bound, &first, held, &initial, &mut |walk| {
                initial.set(false);
                let mut seen = Vec::new();
                let mut position = 0;
                FivePositions::run_masked(walk, WHOLE_WALK, &mut position, &mut seen, &()).unwrap();
                visited.push(seen);
                ControlFlow::Continue(())
            });

            // Held positions are the most significant wheels: the loops run from `start` to
            // the end of its branch, the block of ids sharing its held options.
            let branch: u64 = (0..5)
                .filter(|&p| !serial[p])
                .map(|p| sizes[p] as u64)
                .product();
            let mut expected = Vec::new();
            let mut options = first.clone();
            for id in start..(start / branch + 1) * branch {
                expected.push(options.clone());
                space.advance(id + 1, &mut options);
            }
            assert_eq!(
                visited, expected,
                "sizes {sizes:?}, held {held:05b}, from walk {start}"
            );

            // Cut after `limit` walks, the loops visit the first `limit` of them.
            let limit = random.draw() % (expected.len() as u64 + 2);
            let mut cut = Vec::new();
            let initial = Cell::new(true);
            let _ = FivePositions::nest_rows(&bound, &first, held, &initial, limit, &mut |walk| {
                initial.set(false);
                let mut seen = Vec::new();
                let mut position = 0;
                FivePositions::run_masked(walk, WHOLE_WALK, &mut position, &mut seen, &()).unwrap();
                cut.push(seen);
                ControlFlow::Continue(())
            });
            let kept = expected.len().min(limit as usize);
            assert_eq!(cut, expected[..kept], "limit {limit}, from walk {start}");
        }
    }

    #[test]
    fn a_segment_runs_only_its_positions() {
        let lists: Vec<Vec<usize>> = vec![(0..3).collect(); 5];
        let params: Vec<&dyn Any> = lists.iter().map(|l| l as &dyn Any).collect();
        let bound = FivePositions::bind(&["pos"; 5], &params).unwrap();
        let walk = FivePositions::params_at(&bound, &[2, 1, 0, 2, 1]);
        let mut seen = Vec::new();
        let mut position = 0;
        FivePositions::run_masked(walk, 0b10110, &mut position, &mut seen, &()).unwrap();
        assert_eq!(seen, vec![1, 0, 1]);
        assert_eq!(position, 0, "a passing walk writes no position");
        assert!(FivePositions::bind(&["pos", "pos", "other", "pos", "pos"], &params).is_none());
    }
}
