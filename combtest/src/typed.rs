//! What `combtest!` expands to: the builder, with the order also known as a type-level list
//! of the actions' companion types, so that the engine can compile it (see
//! `engine::compiled`).

use std::any::TypeId;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::builder::{Combtest, RunShared, RunState};
use crate::engine::compiled::{binder, ByClone, ByPointer, Cloning, WalkList};
use crate::engine::compiled_filter::{DynFilter, KernelFilter, NoFilter};
use crate::engine::executors::Executors;
use crate::model::action::{Action, ActionItem};
use crate::model::walk::Walk;

/// A `Combtest` whose order `combtest!` also knows as the type `L`, and whose filter, if it
/// has one, as the type `F` (see [`Typed::filter`]).
pub struct Typed<S, G, L, F = NoFilter> {
    builder: Combtest<S, G>,
    /// The action of each entry type seen so far: an action listed again is the same action,
    /// whose options are evaluated once per run.
    seen: Vec<(TypeId, Action<S, G>)>,
    filter: F,
    /// The filter as the builder keeps it, made where its type is known to be a filter: a
    /// block whose filter is not one still finishes (see [`FinishDynamic`]), so that rustc
    /// reports the filter once, on the filter, and goes on to check the rest of the block.
    dynamic_filter: Option<Box<DynFilter>>,
    _order: PhantomData<fn() -> L>,
}

impl<S: 'static, G> Typed<S, G, ()> {
    /// Starts an order from a builder that has none yet.
    pub fn new(builder: Combtest<S, G>) -> Self {
        Typed {
            builder,
            seen: Vec::new(),
            filter: NoFilter,
            dynamic_filter: None,
            _order: PhantomData,
        }
    }
}

impl<S: 'static, G, L> Typed<S, G, L> {
    /// The run's filter, `combtest!`'s `filter:`: a walk runs only if `keep` returns `true`
    /// (as [`Combtest::filter`]). Its type is kept, so that the order's compiled loops call
    /// it directly, where it inlines: asking it costs what the test's own `if` would.
    pub fn filter<K>(self, keep: K) -> Typed<S, G, L, Arc<K>>
    where
        K: Fn(&Walk<'_>) -> bool + Send + Sync + 'static,
    {
        let Typed { builder, seen, .. } = self;
        let filter = Arc::new(keep);
        Typed {
            builder,
            seen,
            dynamic_filter: filter.dynamic(),
            filter,
            _order: PhantomData,
        }
    }
}

impl<S: 'static, G, L, F> Typed<S, G, L, F> {
    /// The builder, which asks the filter itself: the order is not compiled.
    fn dynamic(self) -> Combtest<S, G> {
        match self.dynamic_filter {
            Some(keep) => self.builder.filter(keep),
            None => self.builder,
        }
    }
}

impl<S: 'static, G, L, F: KernelFilter> Typed<S, G, L, F> {
    /// Appends the action of an `#[action]` or `#[serial_action]` function, named by its
    /// companion type, so that an entry whose state or shared context does not fit is
    /// reported by name.
    pub fn then_item<A: ActionItem<S, G> + 'static>(self) -> Typed<S, G, (L, A), F> {
        let Typed {
            builder,
            mut seen,
            filter,
            dynamic_filter,
            ..
        } = self;
        let entry = TypeId::of::<A>();
        let action = match seen.iter().find(|(known, _)| *known == entry) {
            Some((_, action)) => action.clone(),
            None => {
                let action = A::action();
                seen.push((entry, action.clone()));
                action
            }
        };
        Typed {
            builder: builder.then(action),
            seen,
            filter,
            dynamic_filter,
            _order: PhantomData,
        }
    }

    /// The builder, given the filter to ask wherever the compiled loops do not, and the
    /// binder that compiles the order `L` with the filter into its loops.
    fn with_binder<C>(self) -> Combtest<S, G>
    where
        L: WalkList<S, G>,
        C: Cloning<S>,
    {
        let builder = match self.dynamic_filter {
            Some(keep) => self.builder.compiled_filter(keep),
            None => self.builder,
        };
        builder.binder(binder::<S, G, L, C, F>(self.filter))
    }
}

/// Ends a typed order: `(&&&Finish::new(typed)).finish()`.
///
/// Each trait applies at one more reference than the next, so the first that applies is
/// taken. When the order type is a valid [`WalkList`], [`FinishFast`] applies and the builder
/// can run statically dispatched walks, which clone a state value directly when it is `Clone`
/// ([`FinishCloned`]); otherwise (an entry or a filter already reported as not fitting) the
/// method falls through to [`FinishDynamic`] instead of reporting the same mistake again.
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

/// Ends an order whose type is a valid [`WalkList`] and whose state is `Clone`.
pub trait FinishCloned<S, G> {
    /// The builder, able to run its walks statically dispatched, cloning a state value
    /// with a direct call.
    fn finish(&self) -> Combtest<S, G>;
}

impl<S, G, L, F> FinishCloned<S, G> for &&Finish<Typed<S, G, L, F>>
where
    S: Clone + Send + fmt::Debug + 'static,
    G: Sync,
    L: WalkList<S, G> + Kinds<S, G>,
    F: KernelFilter,
{
    fn finish(&self) -> Combtest<S, G> {
        self.take()
            .with_binder::<ByClone>()
            .executors(executors_of::<S, G, L>())
    }
}

/// The executors an order of type `L` needs. The conditions are constants of the order's
/// type: the executors an order does not need are not even compiled into the test crate.
fn executors_of<S, G, L>() -> Executors<S, G>
where
    S: Send + fmt::Debug + 'static,
    G: Sync,
    L: Kinds<S, G>,
{
    let mut executors = Executors::default();
    if L::SERIAL {
        executors.add_serial();
    }
    if L::ASYNC && !L::SERIAL {
        executors.add_async();
    }
    executors
}

/// Ends an order whose type is a valid [`WalkList`].
pub trait FinishFast<S, G> {
    /// The builder, able to run its walks statically dispatched.
    fn finish(&self) -> Combtest<S, G>;
}

impl<S, G, L, F> FinishFast<S, G> for &Finish<Typed<S, G, L, F>>
where
    S: Send + fmt::Debug + 'static,
    G: Sync,
    L: WalkList<S, G> + Kinds<S, G>,
    F: KernelFilter,
{
    fn finish(&self) -> Combtest<S, G> {
        self.take()
            .with_binder::<ByPointer>()
            .executors(executors_of::<S, G, L>())
    }
}

/// What kinds of action an order as a type-level list holds, known at compile time.
pub trait Kinds<S, G> {
    /// Whether any action is a serial action.
    const SERIAL: bool;
    /// Whether any action is async.
    const ASYNC: bool;
}

impl<S, G> Kinds<S, G> for () {
    const SERIAL: bool = false;
    const ASYNC: bool = false;
}

impl<S, G, L: Kinds<S, G>, A: ActionItem<S, G>> Kinds<S, G> for (L, A) {
    const SERIAL: bool = L::SERIAL || A::SERIAL;
    const ASYNC: bool = L::ASYNC || A::ASYNC;
}

/// Ends any other order: its walks are dynamically dispatched.
pub trait FinishDynamic<S, G> {
    /// The builder.
    fn finish(&self) -> Combtest<S, G>;
}

/// Whatever the order and filter: an entry or a filter that does not fit is already
/// reported where it is written.
impl<S: 'static, G, L, F> FinishDynamic<S, G> for Finish<Typed<S, G, L, F>> {
    fn finish(&self) -> Combtest<S, G> {
        self.take().dynamic()
    }
}

/// Checks that a block's state can run ([`RunState`]); the macro calls it with the span of
/// the block's `state`.
pub fn check_state<S: RunState, G, L, F>(_: &Typed<S, G, L, F>) {}

/// Checks that a block's shared context can run ([`RunShared`]).
pub fn check_shared<S, G: RunShared, L, F>(_: &Typed<S, G, L, F>) {}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::model::action::StepResult;

    /// Calls of [`Refused`]'s serial action: it must never run, its order being refused.
    static REFUSED_RAN: AtomicU32 = AtomicU32::new(0);

    struct Push;

    impl ActionItem<Vec<u8>, ()> for Push {
        type Param = u8;
        const NAME: &'static str = "push";
        const SERIAL: bool = false;
        const ASYNC: bool = false;
        fn action() -> Action<Vec<u8>, ()> {
            Action::new(
                Self::NAME,
                || [1u8, 2],
                |p, s: &mut Vec<u8>, _: &()| s.push(p),
            )
        }
        fn call(param: u8, state: &mut Vec<u8>, _: &()) -> StepResult {
            state.push(param);
            Ok(())
        }
    }

    struct Switch;

    impl ActionItem<Vec<u8>, ()> for Switch {
        type Param = bool;
        const NAME: &'static str = "switch";
        const SERIAL: bool = true;
        const ASYNC: bool = false;
        fn action() -> Action<Vec<u8>, ()> {
            Action::serial(Self::NAME, || [false, true], |_: bool, _: &mut (), _| {})
        }
        fn call(_: bool, _: &mut Vec<u8>, _: &()) -> StepResult {
            unreachable!("a serial action never runs inside a walk")
        }
    }

    /// A serial action that counts its calls, for the one test that reads the count.
    struct Refused;

    impl ActionItem<Vec<u8>, ()> for Refused {
        type Param = bool;
        const NAME: &'static str = "refused";
        const SERIAL: bool = true;
        const ASYNC: bool = false;
        fn action() -> Action<Vec<u8>, ()> {
            Action::serial(
                Self::NAME,
                || [false, true],
                |_: bool, _: &mut (), _| {
                    REFUSED_RAN.fetch_add(1, Ordering::SeqCst);
                },
            )
        }
        fn call(_: bool, _: &mut Vec<u8>, _: &()) -> StepResult {
            unreachable!("a serial action never runs inside a walk")
        }
    }

    /// Stands for an async action: only its kind is read.
    struct Wait;

    impl ActionItem<Vec<u8>, ()> for Wait {
        type Param = u8;
        const NAME: &'static str = "wait";
        const SERIAL: bool = false;
        const ASYNC: bool = true;
        fn action() -> Action<Vec<u8>, ()> {
            Action::new(Self::NAME, || [0u8], |_: u8, _: &mut Vec<u8>, _: &()| {})
        }
        fn call(_: u8, _: &mut Vec<u8>, _: &()) -> StepResult {
            Ok(())
        }
    }

    fn start() -> Typed<Vec<u8>, (), ()> {
        Typed::new(Combtest::new(Vec::new()))
    }

    /// (serial, async) executors set by ending the order.
    fn executors_set<L>(typed: Typed<Vec<u8>, (), L>) -> (bool, bool)
    where
        L: WalkList<Vec<u8>, ()> + Kinds<Vec<u8>, ()>,
    {
        // As `combtest!` ends an order (see `Finish`).
        (&&&Finish::new(typed)).finish().executors_set()
    }

    #[test]
    fn an_order_sets_only_the_executors_its_kinds_need() {
        let regular = start().then_item::<Push>().then_item::<Push>();
        assert_eq!(executors_set(regular), (false, false));
        let serial = start().then_item::<Push>().then_item::<Switch>();
        assert_eq!(executors_set(serial), (true, false));
        let asynchronous = start().then_item::<Wait>().then_item::<Push>();
        assert_eq!(
            executors_set(asynchronous),
            (false, cfg!(feature = "async"))
        );
        // Serial and async: the barrier executor runs the async stretches itself.
        let both = start().then_item::<Switch>().then_item::<Wait>();
        assert_eq!(executors_set(both), (true, false));
    }

    #[test]
    fn the_public_ways_to_run_set_every_executor() {
        let report = Combtest::new(Vec::new())
            .then(Push::action())
            .then(Switch::action())
            .run()
            .expect("a serial order runs through `run`");
        assert_eq!(report.walk_count, 4);
    }

    #[test]
    fn an_order_without_its_executor_is_refused_before_any_walk() {
        let builder = Combtest::new(Vec::new())
            .then(Push::action())
            .then(Refused::action());
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            builder.run_checked(false);
        }))
        .expect_err("refused");
        let message = refused
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(
            message.contains("an order with serial actions needs their executor"),
            "{message}"
        );
        assert_eq!(REFUSED_RAN.load(Ordering::SeqCst), 0, "no walk ran");
    }
}
