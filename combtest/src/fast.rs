//! Statically dispatched walks for `combtest!` orders.
//!
//! The builder API runs each action through a trait object: one indirect call per action.
//! `combtest!` knows its order at compile time, so it also records the order as a type-level
//! list of companion types, `(((), first), second)...`. At run start the list binds to the
//! loaded option lists (each checked by name and by type), giving monomorphic code with
//! direct, inlinable calls. When passing walks are only counted, that code is a whole chunk of
//! walks as nested loops, one per action, so a walk costs its actions and little else: one
//! indirect call per chunk. If anything does not match, the run simply keeps the dynamic path.

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::ops::Range;

use crate::__private::ActionItem;
use crate::action::{StepResult, Stop};
use crate::barrier::Status;
use crate::execute::Template;
use crate::runner::Combtest;

/// An order as a type-level list; `()` is the empty order.
pub trait WalkList<S, G>: 'static {
    /// Number of actions.
    const LEN: usize;
    /// The option lists of the actions, typed.
    type Bound: Send + Sync + 'static;
    /// Binds to loaded option lists (`&Vec<P>` per position), if names and types match.
    fn bind(names: &[&str], params: &[&dyn Any]) -> Option<Self::Bound>;
    /// Runs the actions whose positions are set in `segment` (bit `p` for position `p`) on
    /// one walk; `position` follows along so an unwind can be pinned to its action.
    fn run(
        bound: &Self::Bound,
        options: &[usize],
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult;
    /// References to one option of each position: a walk (serial positions included).
    type Params<'b>: Copy;
    /// Runs every action of the walk `params` on `state`.
    fn run_params(
        params: Self::Params<'_>,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult;
    /// Runs the actions of the walk `params` whose positions are set in `segment`.
    fn run_masked(
        params: Self::Params<'_>,
        segment: u64,
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
}

impl<S, G> WalkList<S, G> for () {
    const LEN: usize = 0;
    type Bound = ();
    fn bind(names: &[&str], _: &[&dyn Any]) -> Option<()> {
        names.is_empty().then_some(())
    }
    #[inline(always)]
    fn run(_: &(), _: &[usize], _: u64, _: &mut usize, _: &mut S, _: &G) -> StepResult {
        Ok(())
    }
    type Params<'b> = ();
    #[inline(always)]
    fn run_params(_: (), _: &mut usize, _: &mut S, _: &G) -> StepResult {
        Ok(())
    }
    #[inline(always)]
    fn run_masked(_: (), _: u64, _: &mut usize, _: &mut S, _: &G) -> StepResult {
        Ok(())
    }
    #[inline(always)]
    fn nest<'b, B>(_: &'b (), _: &[usize], _: u64, _: &Cell<bool>, body: &mut B) -> ControlFlow<()>
    where
        B: FnMut(Self::Params<'b>) -> ControlFlow<()>,
    {
        body(())
    }
}

impl<S, G, L, A> WalkList<S, G> for (L, A)
where
    L: WalkList<S, G>,
    A: ActionItem<S, G> + 'static,
{
    const LEN: usize = L::LEN + 1;
    type Bound = (L::Bound, Vec<A::Param>);

    fn bind(names: &[&str], params: &[&dyn Any]) -> Option<Self::Bound> {
        // Segments are bit masks of positions.
        if Self::LEN > 64 {
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

    #[inline(always)]
    fn run(
        bound: &Self::Bound,
        options: &[usize],
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult {
        L::run(&bound.0, options, segment, position, state, shared)?;
        // Serial actions are never in a segment: `call` is reached for regular actions only.
        if segment >> L::LEN & 1 == 1 {
            *position = L::LEN;
            A::call(bound.1[options[L::LEN]].clone(), state, shared)
        } else {
            Ok(())
        }
    }

    type Params<'b> = (L::Params<'b>, &'b A::Param);

    #[inline(always)]
    fn run_params(
        params: Self::Params<'_>,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult {
        L::run_params(params.0, position, state, shared)?;
        *position = L::LEN;
        A::call(params.1.clone(), state, shared)
    }

    #[inline(always)]
    fn run_masked(
        params: Self::Params<'_>,
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult {
        L::run_masked(params.0, segment, position, state, shared)?;
        if segment >> L::LEN & 1 == 1 {
            *position = L::LEN;
            A::call(params.1.clone(), state, shared)
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
        let options = &bound.1;
        L::nest(&bound.0, first, held, initial, &mut |prefix| {
            // One loop, whether the position turns or is held: a single call site lets the
            // body inline.
            let turns = held >> L::LEN & 1 == 0;
            let start = if initial.get() || !turns {
                first[L::LEN]
            } else {
                0
            };
            let end = if turns { options.len() } else { start + 1 };
            for param in &options[start..end] {
                body((prefix, param))?;
            }
            ControlFlow::Continue(())
        })
    }
}

/// A walk's actions, statically dispatched, behind one trait object.
pub(crate) trait FastWalk<S, G>: Send + Sync {
    /// Runs the actions of one walk whose positions are set in `segment` (see
    /// [`positions_mask`]).
    fn run(
        &self,
        options: &[usize],
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult;

    /// Runs the walks of an order without serial actions from `walks.id` up to `walks.end`,
    /// when a passing walk needs nothing beyond being counted: the whole loop is compiled
    /// for this order (see [`WalkList::nest`]). Returns early with the walk that failed or
    /// cancelled still in `walks.state` and `walks.id` on it.
    fn run_quiet(&self, walks: QuietWalks<'_, '_, S>, shared: &G) -> StepResult;

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
    pub(crate) walks: &'a mut u64,
}

impl<L: WalkList<S, G>, S: Clone, G> Bound<L, S, G> {
    #[inline(always)]
    fn quiet_loop(
        &self,
        walks: QuietWalks<'_, '_, S>,
        shared: &G,
        make: impl Fn() -> S,
    ) -> StepResult {
        let QuietWalks {
            options,
            id,
            end,
            position,
            state,
            template: _,
            walks,
        } = walks;
        if *id >= end {
            return Ok(());
        }
        self.each_walk(options, 0, |params| {
            *walks += 1;
            let current = state.insert(make());
            L::run_params(params, position, current, shared)?;
            *state = None;
            *id += 1;
            Ok(*id < end)
        })
    }

    /// Calls `walk` with every walk from `first` on (see [`WalkList::nest`]) until it
    /// returns `Ok(false)`, the last walk done, or an error, which is returned.
    #[inline(always)]
    fn each_walk<'b>(
        &'b self,
        first: &[usize],
        held: u64,
        mut walk: impl FnMut(L::Params<'b>) -> Result<bool, Box<Stop>>,
    ) -> StepResult {
        let mut result = Ok(());
        let initial = Cell::new(true);
        let _ = L::nest(&self.bound, first, held, &initial, &mut |params| {
            initial.set(false);
            match walk(params) {
                Ok(true) => ControlFlow::Continue(()),
                Ok(false) => ControlFlow::Break(()),
                Err(stop) => {
                    result = Err(stop);
                    ControlFlow::Break(())
                }
            }
        });
        result
    }
}

struct Bound<L: WalkList<S, G>, S, G> {
    bound: L::Bound,
    _order: PhantomData<fn(&mut S, &G)>,
}

impl<L: WalkList<S, G>, S: Clone, G> FastWalk<S, G> for Bound<L, S, G> {
    fn run(
        &self,
        options: &[usize],
        segment: u64,
        position: &mut usize,
        state: &mut S,
        shared: &G,
    ) -> StepResult {
        L::run(&self.bound, options, segment, position, state, shared)
    }

    fn run_held(&self, walks: HeldWalks<'_, S>, shared: &G) -> StepResult {
        let HeldWalks {
            options,
            held,
            segment,
            states,
            statuses,
            walk,
            position,
            segments,
        } = walks;
        let end = states.len().min(statuses.len());
        if *walk >= end {
            return Ok(());
        }
        self.each_walk(options, held, |params| {
            let at = *walk;
            if statuses[at] == Status::Live {
                *segments += 1;
                L::run_masked(params, segment, position, &mut states[at], shared)?;
            }
            *walk += 1;
            Ok(*walk < end)
        })
    }

    fn run_quiet(&self, walks: QuietWalks<'_, '_, S>, shared: &G) -> StepResult {
        match walks.template {
            Template::Value(initial) => self.quiet_loop(walks, shared, || initial.clone()),
            Template::Factory(make) => self.quiet_loop(walks, shared, make),
        }
    }
}

/// The bit mask of `positions`, as [`FastWalk::run`] takes them; orders of more than 64
/// actions are never bound, so every position fits.
pub(crate) fn positions_mask(positions: Range<usize>) -> u64 {
    positions
        .filter(|&p| p < 64)
        .fold(0, |mask, p| mask | 1 << p)
}

/// Binds loaded option lists to a statically known order, when it is that order.
pub(crate) type Binder<S, G> =
    Box<dyn Fn(&[&str], &[&dyn Any]) -> Option<Box<dyn FastWalk<S, G>>> + Send + Sync>;

/// A `Combtest` whose order `combtest!` also knows as the type `L`.
pub struct Typed<S, G, L> {
    builder: Combtest<S, G>,
    _order: PhantomData<fn() -> L>,
}

impl<S: 'static, G: 'static> Typed<S, G, ()> {
    /// Starts an order from a builder that has none yet.
    pub fn new(builder: Combtest<S, G>) -> Self {
        Typed {
            builder,
            _order: PhantomData,
        }
    }
}

impl<S: 'static, G: 'static, L> Typed<S, G, L> {
    /// Appends the action of an `#[action]` or `#[serial_action]` function, named by its
    /// companion type, so that an entry whose state or shared context does not fit is
    /// reported by name.
    pub fn then_item<A: ActionItem<S, G> + 'static>(self) -> Typed<S, G, (L, A)> {
        Typed {
            builder: self.builder.then(A::action()),
            _order: PhantomData,
        }
    }
}

/// Ends a typed order: `(&Finish::new(typed)).finish()`.
///
/// When the order type is a valid [`WalkList`], [`FinishFast`] applies and the builder can
/// run statically dispatched walks; otherwise (an entry already reported as not fitting) the
/// method falls through to [`FinishDynamic`] instead of reporting the same entry again.
pub struct Finish<T>(Cell<Option<T>>);

impl<T> Finish<T> {
    /// Wraps a typed order.
    pub fn new(typed: T) -> Self {
        Finish(Cell::new(Some(typed)))
    }

    fn take(&self) -> T {
        self.0.take().expect("an order is finished once")
    }
}

/// Ends an order whose type is a valid [`WalkList`].
pub trait FinishFast<S, G> {
    /// The builder, able to run its walks statically dispatched.
    fn finish(&self) -> Combtest<S, G>;
}

impl<S: Clone + 'static, G: 'static, L: WalkList<S, G>> FinishFast<S, G>
    for Finish<Typed<S, G, L>>
{
    fn finish(&self) -> Combtest<S, G> {
        self.take().builder.binder(Box::new(|names, params| {
            let bound = L::bind(names, params)?;
            Some(Box::new(Bound::<L, S, G> {
                bound,
                _order: PhantomData,
            }) as Box<dyn FastWalk<S, G>>)
        }))
    }
}

/// Ends any other order: its walks are dynamically dispatched.
pub trait FinishDynamic<S, G> {
    /// The builder.
    fn finish(&self) -> Combtest<S, G>;
}

impl<S, G, L> FinishDynamic<S, G> for &Finish<Typed<S, G, L>> {
    fn finish(&self) -> Combtest<S, G> {
        self.take().builder
    }
}
