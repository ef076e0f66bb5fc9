//! A run's filter, asked inside the compiled loops: a walk it rejects is skipped before its
//! state is made, and the loops go on, so a filtered `combtest!` run keeps its compiled
//! speed.
//!
//! The loops keep no odometer of their own. The filter is asked about the walks just ahead
//! of them, up to 63 at a time, in a loop of its own that steps an odometer (the filter's
//! [`Walk`] shows each position's option index); see [`Answers`]. What it answered decides
//! how the walks run ([`Run`]): a stretch it kept whole runs in the loops of an unfiltered
//! run, which ask nothing per walk; a stretch it rejected whole is counted as skipped
//! without entering the loops; only a stretch of mixed answers is checked walk by walk.
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
        let answers = &mut *self.asker.walks.answers;
        answers.kept = self.kept;
        // The walks whose answers were taken ran, or stopped: the next one is the first
        // answer left.
        answers.known_from = answers.next_asked - answers.pending();
        answers.kept_until = answers.known_from;
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

/// The most walks the filter is asked about before the first of them runs: the loops run a
/// stretch the filter kept whole without asking anything per walk, and the longer the
/// stretch, the less often they are entered and left. A worker's chunk of walks is no longer
/// (see `pool.rs`): the loops' range ends first.
const MOST_ASKED_AHEAD: u64 = 4096;

/// The most walks the loops check one by one before the answers ahead are looked at again,
/// to see whether they have turned into a stretch kept or rejected whole.
const MOST_CHECKED_AT_ONCE: u64 = 4096;

/// The most positions an order the compiled loops run has (`WalkList::bind` refuses more:
/// a segment is a bit mask of positions). The options the filter is shown are copied into
/// an array of this size.
pub(crate) const MOST_POSITIONS: usize = 64;

/// The filter's answers for the walks just ahead of the loops, kept by a worker across its
/// calls of the loops, so that each walk is asked about once.
///
/// The filter is asked about the walks ahead before the first of them runs, in loops of its
/// own ([`ask_stretch`], [`ask_ahead`]): there the filter's checks that do not depend on the
/// walk (the type and place of the option list it reads) are made once a row, they do not
/// compete with the walks' actions for registers, and the flag that tells the filter's
/// panics from a walk's is set once. The filter is still asked about each walk once, in id
/// order, never more than [`MOST_ASKED_AHEAD`] walks ahead, and never about a walk outside
/// the range the loops were given.
///
/// The answers not yet used cover the walks from `known_from` to `next_asked`: first those
/// up to `kept_until`, all kept (a stretch the filter kept whole, so no bit is kept for
/// them), then one bit per walk in `kept`.
#[derive(Debug)]
pub(crate) struct Answers {
    /// Option index of each position of walk `next_asked`.
    options: Vec<usize>,
    /// The first walk not asked about yet.
    next_asked: u64,
    /// The first walk asked about that has not run (nor been skipped) yet.
    known_from: u64,
    /// The walks from `known_from` up to here were all kept.
    kept_until: u64,
    /// One bit per walk from `kept_until` to `next_asked`, lowest first: whether it runs;
    /// above them, a 1 that marks where they end (so `1` when there are none).
    kept: u64,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            options: Vec::new(),
            next_asked: 0,
            known_from: 0,
            kept_until: 0,
            kept: 1,
        }
    }
}

impl Answers {
    /// How many walks have an answer in [`kept`](Self::kept).
    fn pending(&self) -> u64 {
        u64::from(u64::BITS - 1 - self.kept.leading_zeros())
    }

    /// Whether some walks have an answer in [`kept`](Self::kept), and it rejects them all.
    fn all_rejected(&self) -> bool {
        self.kept != 1 && self.kept == 1 << self.pending()
    }

    /// Ready for loops that start at walk `first`, whose options are `options`. The answers
    /// kept from the worker's previous call are used if they reach `first` (the loops left at
    /// a walk that did not pass, and go on after it): those of the walks before it are
    /// dropped, as those walks ran. Answers that do not reach it are all dropped.
    pub(crate) fn resume(&mut self, first: u64, options: &[usize]) {
        let known = self.known_from < self.next_asked;
        if known && (self.known_from..=self.next_asked).contains(&first) {
            if first > self.kept_until {
                self.kept >>= first - self.kept_until;
                self.kept_until = first;
            }
            self.known_from = first;
        } else {
            self.options.clear();
            self.options.extend_from_slice(options);
            self.next_asked = first;
            self.known_from = first;
            self.kept_until = first;
            self.kept = 1;
        }
    }
}

/// How the compiled loops run the walks from the first one not run yet, as the filter's
/// answers tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// The filter kept every walk up to this one (excluded): the loops run them as an
    /// unfiltered run's, asking nothing.
    Kept(u64),
    /// The filter rejected every walk up to this one: none is run.
    Rejected(u64),
    /// The answers are mixed: the loops check each walk up to this one.
    Checked(u64),
}

impl<K> FilterAsker<'_, K>
where
    K: Fn(&Walk<'_>) -> bool + ?Sized,
{
    /// Asks the filter about the walks ahead of `id`, the first not run yet, until it can
    /// tell how they run, and no further than `end`, the end of the loops' walks. The
    /// answers must have been [resumed](Answers::resume) at `id`.
    pub(crate) fn next_run(&mut self, id: u64, end: u64) -> Run {
        debug_assert!(id < end);
        debug_assert_eq!(self.walks.answers.known_from, id);
        let furthest = end.min(id.saturating_add(MOST_ASKED_AHEAD));
        let answers = &*self.walks.answers;
        if answers.kept_until == id && answers.kept == 1 {
            let at = ask_stretch(self, id, furthest);
            if at == furthest {
                self.walks.answers.kept_until = at;
            } else {
                // A stretch of 63 kept walks or more needs no bits; a shorter one is told in
                // bits with the walks after it. The walk that ended it was not kept.
                let from = if at - id >= ASKED_AT_ONCE { at } else { id };
                let known = (1 << (at - from)) - 1;
                let kept = if at + 1 < furthest {
                    ask_ahead(self, from, known, at + 1, furthest)
                } else {
                    1 << (at + 1 - from) | known
                };
                let answers = &mut *self.walks.answers;
                answers.kept_until = from;
                answers.kept = kept;
            }
        }
        let answers = &*self.walks.answers;
        if answers.kept_until > id {
            return Run::Kept(answers.kept_until);
        }
        if !answers.all_rejected() {
            return Run::Checked(end.min(id.saturating_add(MOST_CHECKED_AT_ONCE)));
        }
        loop {
            let answers = &mut *self.walks.answers;
            answers.kept = 1;
            answers.known_from = answers.next_asked;
            answers.kept_until = answers.next_asked;
            let from = answers.next_asked;
            if from >= furthest {
                return Run::Rejected(from);
            }
            // The next block, in bits: a block kept whole becomes a stretch of kept walks.
            let kept = ask_ahead(self, from, 0, from, furthest);
            let answers = &mut *self.walks.answers;
            if u64::from(kept.trailing_ones()) == answers.next_asked - from + 1 {
                answers.kept_until = answers.next_asked;
                return Run::Rejected(from);
            }
            answers.kept = kept;
            if !answers.all_rejected() {
                return Run::Rejected(from);
            }
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
            self.kept = ask_ahead(self.asker, id, 0, id, end);
        }
        let kept = self.kept & 1 == 1;
        self.kept >>= 1;
        kept
    }
}

/// An odometer's wheels (see [`WalkSpace::odometer`]), the innermost apart.
#[derive(Clone, Copy)]
struct Wheels<'a> {
    innermost: usize,
    innermost_radix: u64,
    outer: &'a [usize],
    outer_radices: &'a [u64],
}

impl<'a> Wheels<'a> {
    #[inline(always)]
    fn of(space: &'a WalkSpace) -> Self {
        let Some((wheels, radices)) = space.odometer() else {
            unreachable!("the compiled loops run only odometer spaces")
        };
        let (Some((&innermost, outer)), Some((&innermost_radix, outer_radices))) =
            (wheels.split_last(), radices.split_last())
        else {
            unreachable!("the compiled loops run orders of one position or more")
        };
        Wheels {
            innermost,
            innermost_radix,
            outer,
            outer_radices,
        }
    }

    /// Steps `options` to the next walk, as `WalkSpace::advance` does: here, so that it
    /// inlines into the filter's loops, where a call would make the compiler load again what
    /// the filter reads. Past the last walk of the space, the wheels wrap to the first.
    #[inline(always)]
    fn step(self, options: &mut [usize]) {
        let digit = &mut options[self.innermost];
        *digit += 1;
        if *digit as u64 == self.innermost_radix {
            *digit = 0;
            carry(self.outer, self.outer_radices, options);
        }
    }
}

/// Asks the filter in a loop of its own, `ask`, from walk `id`, the first not asked about.
/// `ask` is given the filter, what it is shown, the wheels, and a copy of walk `id`'s
/// options in this frame, which the filter's loads cannot alias (so the compiler may take
/// them out of the loop); it returns its value and the first walk it did not ask about,
/// whose options it leaves in the copy. The flag that tells the filter's panics from a
/// walk's is set around it, once.
#[inline(always)]
fn asking<K, R>(
    asker: &mut FilterAsker<'_, K>,
    id: u64,
    ask: impl FnOnce(&K, &OrderView<'_>, Wheels<'_>, &mut [usize]) -> (R, u64),
) -> R
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
    let wheels = Wheels::of(space);
    let mut copy = [0; MOST_POSITIONS];
    let options = &mut copy[..answers.options.len()];
    options.copy_from_slice(&answers.options);
    let in_test_code = MarkOnUnwind::new(&mut **in_test_code, true);
    let (value, next_asked) = scope.outside(|| ask(keep, order, wheels, options));
    in_test_code.disarm();
    answers.options.copy_from_slice(options);
    answers.next_asked = next_asked;
    value
}

/// Asks `keep` about the walks from `id` (the first not asked about) on, one after another
/// while it keeps each, up to `end`: returns the first walk it did not keep, or `end`. That
/// walk, if any, was asked about: the first not asked about is the one after it.
#[inline(never)]
fn ask_stretch<K>(asker: &mut FilterAsker<'_, K>, id: u64, end: u64) -> u64
where
    K: Fn(&Walk<'_>) -> bool + ?Sized,
{
    debug_assert!(id < end);
    asking(asker, id, |keep, order, wheels, options| {
        let mut at = id;
        // A row at a time: the innermost wheel turns in a register, given to the filter apart
        // from the options (`Walk::turning`), so nothing is written per walk and what the
        // filter reads of the other positions can be read once a row; they turn once a row.
        while at < end {
            let digit = options[wheels.innermost];
            let row = (wheels.innermost_radix - digit as u64).min(end - at);
            for turn in 0..row as usize {
                let walk = Walk::turning(at, options, wheels.innermost, digit + turn, order);
                if !keep(&walk) {
                    // Past the walk it did not keep.
                    options[wheels.innermost] = digit + turn;
                    wheels.step(options);
                    return (at, at + 1);
                }
                at += 1;
            }
            // The options are those of the row's last walk, which the wheels step past.
            options[wheels.innermost] = digit + row as usize - 1;
            // Past the call's last walk, the wheels wrap to the first walk of the space,
            // which no loop asks about.
            wheels.step(options);
        }
        (at, at)
    })
}

/// Asks `keep` about the walks from `id` (the first not asked about) on, up to those of the
/// block of 63 from `from` and not past `end`: returns the answers of the block, one bit
/// each, with the marker bit above them. The walks of the block before `id`, if any, were
/// asked about already: their answers are `known`.
#[inline(never)]
fn ask_ahead<K>(asker: &mut FilterAsker<'_, K>, from: u64, known: u64, id: u64, end: u64) -> u64
where
    K: Fn(&Walk<'_>) -> bool + ?Sized,
{
    // The loops ask about walks of their range only: at least one answer is made.
    debug_assert!(from <= id && id < end);
    let count = (end - from).min(ASKED_AT_ONCE);
    asking(asker, id, |keep, order, wheels, options| {
        let mut kept = 1 << count | known;
        for offset in id - from..count {
            let walk = Walk::new(from + offset, options, order);
            kept |= u64::from(keep(&walk)) << offset;
            // Past the call's last walk, the wheels wrap to the first walk of the space,
            // which no loop asks about.
            wheels.step(options);
        }
        (kept, from + count)
    })
}

/// Turns the outer wheels of an odometer (see [`WalkSpace::odometer`]) when the innermost
/// one wrapped (see [`Wheels::step`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers as a kept stretch up to `kept_until`, then `bits` for the walks up to
    /// `next_asked`, from `known_from` on.
    fn answers(known_from: u64, kept_until: u64, bits: u64, next_asked: u64) -> Answers {
        Answers {
            options: vec![7, 7],
            next_asked,
            known_from,
            kept_until,
            kept: bits,
        }
    }

    #[test]
    fn resuming_drops_the_answers_of_the_walks_that_ran_and_keeps_those_ahead() {
        // Kept 10..70, then 70..74 answered keep, reject, reject, keep.
        let bits = 0b1_1001;
        let mut inside_the_stretch = answers(10, 70, bits, 74);
        inside_the_stretch.resume(31, &[0, 0]);
        assert_eq!(
            (inside_the_stretch.known_from, inside_the_stretch.kept_until),
            (31, 70)
        );
        assert_eq!(inside_the_stretch.kept, bits, "the bits are still ahead");
        assert_eq!(inside_the_stretch.options, [7, 7], "the odometer is kept");

        let mut inside_the_bits = answers(10, 70, bits, 74);
        inside_the_bits.resume(72, &[0, 0]);
        assert_eq!(
            (inside_the_bits.known_from, inside_the_bits.kept_until),
            (72, 72)
        );
        assert_eq!(
            inside_the_bits.kept, 0b1_10,
            "walks 72 and 73: reject, keep"
        );
        assert_eq!(inside_the_bits.pending(), 2);

        let mut at_the_end = answers(10, 70, bits, 74);
        at_the_end.resume(74, &[0, 0]);
        assert_eq!((at_the_end.kept, at_the_end.known_from), (1, 74));
        assert_eq!(at_the_end.options, [7, 7], "the odometer is at walk 74");
    }

    #[test]
    fn resuming_where_no_answer_reaches_starts_again_from_the_options_given() {
        for first in [9, 75, 1_000] {
            let mut elsewhere = answers(10, 70, 0b1_1001, 74);
            elsewhere.resume(first, &[1, 2]);
            assert_eq!(elsewhere.options, [1, 2], "from {first}");
            assert_eq!(
                (
                    elsewhere.next_asked,
                    elsewhere.known_from,
                    elsewhere.kept_until
                ),
                (first, first, first)
            );
            assert_eq!(elsewhere.kept, 1);
        }
        // Nothing known: the odometer may be stale (a new range of walks), so it is reset.
        let mut nothing_known = answers(74, 74, 1, 74);
        nothing_known.resume(74, &[3, 4]);
        assert_eq!(nothing_known.options, [3, 4]);
    }

    #[test]
    fn a_block_is_all_rejected_only_when_it_holds_answers_and_every_one_rejects() {
        assert!(answers(0, 0, 1 << 5, 5).all_rejected());
        assert!(!answers(0, 0, 1 << 5 | 1 << 4, 5).all_rejected());
        assert!(!answers(0, 0, 1, 0).all_rejected(), "no answers");
        assert!(answers(0, 0, 1 << 63, 63).all_rejected());
    }
}
