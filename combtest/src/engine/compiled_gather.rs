//! Where the compiled loops make each walk's state, and what they do with it once the walk
//! passed: drop it, or keep it among the run's gathered states, so that a run gathering flat
//! states keeps its compiled speed.
//!
//! A gathered state is made in the next free slot of the gathered states and never moved:
//! a walk that passes only lengthens the column. Passing walks reach the columns in id order,
//! each as soon as it ends, so a walk that fails, cancels or unwinds later leaves the loops
//! with every earlier walk's state already kept.

use std::mem::{ManuallyDrop, MaybeUninit};

use super::compiled_filter::Sieve;
use super::gathered::Gathered;
use super::positions::{MarkOnUnwind, DROPPING_STATE};

/// Where the compiled loops make a walk's state, and what becomes of it if the walk passes.
pub(crate) trait PassedStates<S> {
    /// Where to make the next walk's state. What is there is not dropped: a state made
    /// there is this sink's only once [`passed`](Self::passed) says so.
    fn place(&mut self) -> &mut MaybeUninit<ManuallyDrop<S>>;

    /// Walk `id` passed. `position` is the walk's cursor position, for a panicking `Drop`
    /// to be pinned on.
    ///
    /// # Safety
    ///
    /// The place [`place`](Self::place) gave last holds the walk's state, made there since
    /// and neither taken nor dropped.
    unsafe fn passed(&mut self, id: u64, position: &mut usize);
}

/// Passing walks are only counted: each state is made in the loops' frame and dropped there.
pub(crate) struct Dropped<S> {
    place: MaybeUninit<ManuallyDrop<S>>,
}

impl<S> Dropped<S> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Dropped {
            place: MaybeUninit::uninit(),
        }
    }
}

impl<S> PassedStates<S> for Dropped<S> {
    #[inline(always)]
    fn place(&mut self) -> &mut MaybeUninit<ManuallyDrop<S>> {
        &mut self.place
    }

    #[inline(always)]
    unsafe fn passed(&mut self, _: u64, position: &mut usize) {
        // The state's own `Drop` is the test's code: a panic there fails the walk, saying so.
        let dropping = MarkOnUnwind::new(position, DROPPING_STATE);
        // SAFETY: the caller says the place holds the state, not dropped yet; it is dropped
        // once, here (an unwind from its `Drop` leaves it to the unwind).
        unsafe { ManuallyDrop::drop(self.place.assume_init_mut()) };
        dropping.disarm();
    }
}

/// Flat gathering: each state is made in the next free slot of the worker's states, and a
/// passing walk's stays there, with its id beside it. Nothing of the test's runs here (the
/// state is neither cloned, moved nor dropped).
impl<S> PassedStates<S> for &mut Gathered<S> {
    #[inline(always)]
    fn place(&mut self) -> &mut MaybeUninit<ManuallyDrop<S>> {
        self.states.reserve(1);
        let free = &mut self.states.spare_capacity_mut()[0];
        // SAFETY: `ManuallyDrop<S>` is `repr(transparent)` over `S`, so `MaybeUninit` of
        // either has the same layout and validity: the slot is only viewed as the other.
        unsafe { &mut *(free as *mut MaybeUninit<S>).cast::<MaybeUninit<ManuallyDrop<S>>>() }
    }

    #[inline(always)]
    unsafe fn passed(&mut self, id: u64, _: &mut usize) {
        // The id first: if it cannot be kept, neither is the state.
        self.push_id(id);
        let kept = self.states.len() + 1;
        // SAFETY: the place given last is the first free slot of `states` (nothing touched
        // the vector since), and the caller says it holds the walk's state.
        unsafe { self.states.set_len(kept) };
    }
}

/// A filter that a run may or may not have: gathering runs share one loop for both, as
/// keeping each state costs far more than this check.
impl<T: Sieve> Sieve for Option<T> {
    #[inline(always)]
    fn keeps(&mut self, id: u64, end: u64) -> bool {
        match self {
            Some(sieve) => sieve.keeps(id, end),
            None => true,
        }
    }
}
