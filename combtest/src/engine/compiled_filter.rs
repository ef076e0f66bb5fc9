//! A run's filter, asked inside the compiled loops: a walk it rejects is skipped before its
//! state is made, and the loops go on, so a filtered `combtest!` run keeps its compiled
//! speed.
//!
//! The loops keep no odometer of their own; with a filter they step one (the filter's
//! [`Walk`] shows each position's option index), and without one they step nothing.
//!
//! `combtest!` knows its filter's type: the filter is compiled into the order's kernel
//! ([`KernelFilter`]), so that the loops call it directly and it inlines into them. A filter
//! given to the builder (or one combined with a partial filter) is asked through
//! `&dyn Fn(&Walk)`, in the same loops.

use std::sync::Arc;

use super::positions::MarkOnUnwind;
use super::unwind::WalkScope;
use crate::model::walk::{OrderView, Walk};
use crate::model::walk_id::{NextOptions, WalkSpace};

/// A run's filter as the builder keeps it and the general kernel asks it.
pub(crate) type DynFilter = dyn Fn(&Walk<'_>) -> bool + Send + Sync;

/// What the compiled loops ask before each walk: whether it runs.
pub(crate) trait Sieve {
    /// Whether walk `id` runs. `id` is the walk after the one asked before (or the first of
    /// the call).
    fn keeps(&mut self, id: u64) -> bool;
}

/// No filter: every walk runs, and nothing is stepped.
impl Sieve for () {
    #[inline(always)]
    fn keeps(&mut self, _: u64) -> bool {
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
pub(crate) struct WalkFilter<'a, K: ?Sized> {
    pub(crate) keep: &'a K,
    pub(crate) walks: FilterWalks<'a>,
}

/// What the filter is shown, and where its panics are told apart from a walk's.
pub(crate) struct FilterWalks<'a> {
    pub(crate) order: &'a OrderView<'a>,
    pub(crate) space: &'a WalkSpace,
    pub(crate) scope: &'a WalkScope,
    /// Option index of each position of the walk asked next (the first walk of the call,
    /// on entry).
    pub(crate) options: &'a mut [usize],
    /// Steps `options` from one walk to the next.
    pub(crate) next_options: NextOptions,
    /// Set while an unwind from the filter passes: its panic is not the walk's.
    pub(crate) in_test_code: &'a mut bool,
}

impl<K> Sieve for WalkFilter<'_, K>
where
    K: Fn(&Walk<'_>) -> bool + ?Sized,
{
    #[inline(always)]
    fn keeps(&mut self, id: u64) -> bool {
        let walks = &mut self.walks;
        let walk = Walk {
            id,
            options: walks.options,
            order: walks.order,
        };
        let keep = self.keep;
        let in_test_code = MarkOnUnwind::new(&mut *walks.in_test_code, true);
        let kept = walks.scope.outside(|| keep(&walk));
        in_test_code.disarm();
        // Ready for the next walk: the loops ask about every walk in turn. The compiled
        // loops run only odometer spaces (see `NextOptions`), whose wheels wrap to the first
        // walk past the last, which no loop asks about.
        walks
            .next_options
            .step_or(walks.space, id + 1, walks.options, carry);
        kept
    }
}

/// Steps the options when the innermost wheel wraps: once every turn of it, out of the
/// loops' way.
#[cold]
#[inline(never)]
fn carry(space: &WalkSpace, next: u64, options: &mut [usize]) {
    space.advance(next, options);
}
