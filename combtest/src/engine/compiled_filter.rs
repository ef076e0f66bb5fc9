//! A run's filter, asked inside the compiled loops: a walk it rejects is skipped before its
//! state is made, and the loops go on, so a filtered `combtest!` run keeps its compiled
//! speed.
//!
//! The loops keep no odometer of their own; with a filter they step one (the filter's
//! [`Walk`] shows each position's option index), and without one they step nothing.

use super::positions::MarkOnUnwind;
use super::unwind::WalkScope;
use crate::model::walk::{OrderView, Walk};
use crate::model::walk_id::{NextOptions, WalkSpace};

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

/// The run's filter, with what asking it needs.
pub(crate) struct WalkFilter<'a> {
    pub(crate) keep: &'a (dyn Fn(&Walk<'_>) -> bool + Send + Sync),
    pub(crate) order: &'a OrderView<'a>,
    pub(crate) space: &'a WalkSpace,
    pub(crate) scope: &'a WalkScope,
    /// Option index of each position of walk `at`.
    pub(crate) options: &'a mut [usize],
    /// The walk `options` stands for.
    pub(crate) at: u64,
    /// Steps `options` from one walk to the next.
    pub(crate) next_options: NextOptions,
    /// Set while an unwind from the filter passes: its panic is not the walk's.
    pub(crate) in_test_code: &'a mut bool,
}

impl Sieve for WalkFilter<'_> {
    #[inline(always)]
    fn keeps(&mut self, id: u64) -> bool {
        if id != self.at {
            self.next_options.step(self.space, id, self.options);
            self.at = id;
        }
        let walk = Walk {
            id,
            options: self.options,
            order: self.order,
        };
        let keep = self.keep;
        let in_test_code = MarkOnUnwind::new(&mut *self.in_test_code, true);
        let kept = self.scope.outside(|| keep(&walk));
        in_test_code.disarm();
        kept
    }
}
