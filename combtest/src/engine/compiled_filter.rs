//! A run's filter, asked inside the compiled loops: a walk it rejects is skipped before its
//! state is made, and the loops go on, so a filtered `combtest!` run keeps its compiled
//! speed.
//!
//! The loops keep no odometer of their own. The filter is asked about the walks just ahead
//! of them, up to 63 at a time, in a loop of its own that steps an odometer (the filter's
//! [`Walk`] shows each position's option index); see [`Answers`].
//!
//! `combtest!` knows its filter's type: the filter is compiled into the order's kernel
//! ([`KernelFilter`]), so that the loops call it directly and it inlines into them. A filter
//! given to the builder (or one combined with a partial filter) is asked through
//! `&dyn Fn(&Walk)`, in the same loops.

use std::sync::Arc;

use super::positions::MarkOnUnwind;
use super::unwind::WalkScope;
use crate::model::walk::{OrderView, Walk};
use crate::model::walk_id::WalkSpace;

/// A run's filter as the builder keeps it and the general kernel asks it.
pub(crate) type DynFilter = dyn Fn(&Walk<'_>) -> bool + Send + Sync;

/// What the compiled loops ask before each walk: whether it runs.
pub(crate) trait Sieve {
    /// Whether walk `id` runs. `id` is the walk after the one asked before (or the first of
    /// the call), and `end` the end of the call's walks.
    fn keeps(&mut self, id: u64, end: u64) -> bool;
}

/// No filter: every walk runs, and nothing is stepped.
impl Sieve for () {
    #[inline(always)]
    fn keeps(&mut self, _: u64, _: u64) -> bool {
        true
    }
}

/// Which function the compiled loops call to ask the run's filter.
#[derive(Clone, Copy)]
pub(crate) enum FilterCall<'a> {
    /// The filter the kernel was compiled with (see [`KernelFilter`]): called directly.
    Compiled,
    /// Any other filter, through its trait object.
    Dynamic(&'a (dyn Fn(&Walk<'_>) -> bool + Send + Sync)),
}

/// The filter `combtest!` compiles into an order's kernel, when its block gives one.
pub trait KernelFilter: Clone + Send + Sync + 'static {
    /// The filter's own type: for [`NoFilter`], the trait object every other filter is
    /// asked through, so that an unfiltered order compiles no loops of its own for it.
    type Keep: Fn(&Walk<'_>) -> bool + Send + Sync + ?Sized;
    /// The filter, if there is one.
    fn keep(&self) -> Option<&Self::Keep>;
    /// The same filter as the builder keeps it, if there is one.
    fn dynamic(&self) -> Option<Box<DynFilter>>;
}

/// An order compiled without a filter.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFilter;

impl KernelFilter for NoFilter {
    type Keep = DynFilter;
    #[inline(always)]
    fn keep(&self) -> Option<&DynFilter> {
        None
    }
    fn dynamic(&self) -> Option<Box<DynFilter>> {
        None
    }
}

/// A filter `combtest!` was given, shared by the kernel and the builder (which asks it
/// outside the compiled loops: the general kernel, covering arrays, the analysis).
impl<F> KernelFilter for Arc<F>
where
    F: Fn(&Walk<'_>) -> bool + Send + Sync + 'static,
{
    type Keep = F;
    #[inline(always)]
    fn keep(&self) -> Option<&F> {
        Some(self)
    }
    fn dynamic(&self) -> Option<Box<DynFilter>> {
        let keep = Arc::clone(self);
        Some(Box::new(move |walk: &Walk<'_>| keep(walk)))
    }
}

/// The run's filter, with what asking it needs: `K` is its type, or [`DynFilter`].
pub(crate) struct FilterAsker<'a, K: ?Sized> {
    pub(crate) keep: &'a K,
    pub(crate) walks: FilterWalks<'a>,
}

/// What the loops ask before each walk, when the run has a filter: the answers for the walks
/// just ahead (see [`Answers`]), and the filter to ask for more.
///
/// Two words, which the loops keep in registers. The answers it holds are handed back to the
/// worker's [`Answers`] when the loops leave, by returning or unwinding.
pub(crate) struct WalkFilter<'a, 'f, K: ?Sized> {
    asker: &'a mut FilterAsker<'f, K>,
    /// The answers for the walks asked about and not yet run, one bit each, lowest first,
    /// above them a 1 (see [`Answers::kept`]).
    kept: u64,
}

impl<'a, 'f, K: ?Sized> WalkFilter<'a, 'f, K> {
    /// Asks `asker`'s filter, going on from the answers it has kept.
    #[inline(always)]
    pub(crate) fn new(asker: &'a mut FilterAsker<'f, K>) -> Self {
        let kept = asker.walks.answers.kept;
        WalkFilter { asker, kept }
    }
}

impl<K: ?Sized> Drop for WalkFilter<'_, '_, K> {
    #[inline(always)]
    fn drop(&mut self) {
        self.asker.walks.answers.kept = self.kept;
    }
}

/// What the filter is shown, and where its panics are told apart from a walk's.
pub(crate) struct FilterWalks<'a> {
    pub(crate) order: &'a OrderView<'a>,
    pub(crate) space: &'a WalkSpace,
    pub(crate) scope: &'a WalkScope,
    /// The answers of the walks asked about ahead of the loops.
    pub(crate) answers: &'a mut Answers,
    /// Set while an unwind from the filter passes: its panic is not the walk's.
    pub(crate) in_test_code: &'a mut bool,
}

/// The most walks the filter is asked about at once: one bit of [`Answers::kept`] each, below
/// the marker bit.
const ASKED_AT_ONCE: u64 = u64::BITS as u64 - 1;

/// The most positions an order the compiled loops run has (`WalkList::bind` refuses more:
/// a segment is a bit mask of positions). The options the filter is shown are copied into
/// an array of this size.
pub(crate) const MOST_POSITIONS: usize = 64;

/// The filter's answers for the walks just ahead of the loops, kept by a worker across its
/// calls of the loops, so that each walk is asked about once.
///
/// The loops ask the filter about up to 63 walks at a time, before running the first of
/// them, in a loop of its own: there the filter's checks that do not depend on the walk
/// (the type and place of the option list it reads) are made once for all of them, they do
/// not compete with the walks' actions for registers, and the flag that tells the filter's
/// panics from a walk's is set once. The filter is still asked about each walk once, in id
/// order, and never about a walk outside the range the loops were given.
#[derive(Debug)]
pub(crate) struct Answers {
    /// Option index of each position of walk `next_asked`.
    options: Vec<usize>,
    /// The first walk not asked about yet.
    next_asked: u64,
    /// One bit per walk asked about and not yet run, lowest first: whether it runs; above
    /// them, a 1 that marks where they end (so `1` when there are none).
    kept: u64,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            options: Vec::new(),
            next_asked: 0,
            kept: 1,
        }
    }
}

impl Answers {
    /// How many walks were asked about and not yet run.
    fn pending(&self) -> u64 {
        u64::from(u64::BITS - 1 - self.kept.leading_zeros())
    }

    /// Ready for loops that start at walk `first`, whose options are `options`: the answers
    /// kept from the worker's previous call are used if they start there (the loops left at
    /// a walk that did not pass, and go on after it), and dropped otherwise.
    pub(crate) fn resume(&mut self, first: u64, options: &[usize]) {
        if self.kept == 1 || self.next_asked - self.pending() != first {
            self.options.clear();
            self.options.extend_from_slice(options);
            self.next_asked = first;
            self.kept = 1;
        }
    }
}

impl<K> Sieve for WalkFilter<'_, '_, K>
where
    K: Fn(&Walk<'_>) -> bool + ?Sized,
{
    #[inline(always)]
    fn keeps(&mut self, id: u64, end: u64) -> bool {
        if self.kept == 1 {
            self.kept = ask_ahead(self.asker, id, end);
        }
        let kept = self.kept & 1 == 1;
        self.kept >>= 1;
        kept
    }
}

/// Asks `keep` about the walks from `id` (the first not asked about) on, up to 63 of them and
/// not past `end`: returns the answers, one bit each, with the marker bit above them.
#[inline(never)]
fn ask_ahead<K>(asker: &mut FilterAsker<'_, K>, id: u64, end: u64) -> u64
where
    K: Fn(&Walk<'_>) -> bool + ?Sized,
{
    let FilterAsker { keep, walks } = asker;
    let FilterWalks {
        order,
        space,
        scope,
        answers,
        in_test_code,
    } = walks;
    debug_assert_eq!(answers.next_asked, id);
    // The loops ask about walks of their range only: at least one answer is made.
    debug_assert!(id < end);
    let Some((wheels, radices)) = space.odometer() else {
        unreachable!("the compiled loops run only odometer spaces")
    };
    let (Some((&innermost, outer)), Some((&innermost_radix, outer_radices))) =
        (wheels.split_last(), radices.split_last())
    else {
        unreachable!("the compiled loops run orders of one position or more")
    };
    let count = (end - id).min(ASKED_AT_ONCE);
    // A copy in this frame, which the filter's loads cannot alias: the compiler may take
    // them out of the loop.
    let mut copy = [0; MOST_POSITIONS];
    let options = &mut copy[..answers.options.len()];
    options.copy_from_slice(&answers.options);
    let in_test_code = MarkOnUnwind::new(&mut **in_test_code, true);
    let kept = scope.outside(|| {
        let mut kept = 1 << count;
        for offset in 0..count {
            let walk = Walk {
                id: id + offset,
                options,
                order,
            };
            kept |= u64::from(keep(&walk)) << offset;
            // Past the call's last walk, the wheels wrap to the first walk of the space,
            // which no loop asks about.
            let digit = &mut options[innermost];
            *digit += 1;
            if *digit as u64 == innermost_radix {
                *digit = 0;
                carry(outer, outer_radices, options);
            }
        }
        kept
    });
    in_test_code.disarm();
    answers.options.copy_from_slice(options);
    answers.next_asked = id + count;
    kept
}

/// Turns the outer wheels of an odometer (see [`WalkSpace::odometer`]) when the innermost
/// one wrapped, as `WalkSpace::advance` does: here, so that it inlines into the filter's
/// loop, where a call would make the compiler load again what the filter reads.
#[inline(always)]
fn carry(wheels: &[usize], radices: &[u64], options: &mut [usize]) {
    for (&position, &radix) in wheels.iter().zip(radices).rev() {
        let digit = &mut options[position];
        *digit += 1;
        if (*digit as u64) < radix {
            return;
        }
        *digit = 0;
    }
}
