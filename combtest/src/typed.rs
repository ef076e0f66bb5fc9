//! What `combtest!` expands to: the builder, with the order also known as a type-level list
//! of the actions' companion types, so that the engine can compile it (see
//! `engine::compiled`).

use std::any::TypeId;
use std::cell::Cell;
use std::marker::PhantomData;

use crate::builder::Combtest;
use crate::engine::compiled::{binder, ByClone, ByPointer, WalkList};
use crate::model::action::{Action, ActionItem};

/// A `Combtest` whose order `combtest!` also knows as the type `L`.
pub struct Typed<S, G, L> {
    builder: Combtest<S, G>,
    /// The action of each entry type seen so far: an action listed again is the same action,
    /// whose options are evaluated once per run.
    seen: Vec<(TypeId, Action<S, G>)>,
    _order: PhantomData<fn() -> L>,
}

impl<S: 'static, G> Typed<S, G, ()> {
    /// Starts an order from a builder that has none yet.
    pub fn new(builder: Combtest<S, G>) -> Self {
        Typed {
            builder,
            seen: Vec::new(),
            _order: PhantomData,
        }
    }
}

impl<S: 'static, G, L> Typed<S, G, L> {
    /// Appends the action of an `#[action]` or `#[serial_action]` function, named by its
    /// companion type, so that an entry whose state or shared context does not fit is
    /// reported by name.
    pub fn then_item<A: ActionItem<S, G> + 'static>(self) -> Typed<S, G, (L, A)> {
        let Typed {
            builder, mut seen, ..
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
            _order: PhantomData,
        }
    }
}

/// Ends a typed order: `(&&&Finish::new(typed)).finish()`.
///
/// Each trait applies at one more reference than the next, so the first that applies is
/// taken. When the order type is a valid [`WalkList`], [`FinishFast`] applies and the builder
/// can run statically dispatched walks, which clone a state value directly when it is `Clone`
/// ([`FinishCloned`]); otherwise (an entry already reported as not fitting) the method falls
/// through to [`FinishDynamic`] instead of reporting the same entry again.
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

impl<S: Clone + 'static, G, L: WalkList<S, G>> FinishCloned<S, G> for &&Finish<Typed<S, G, L>> {
    fn finish(&self) -> Combtest<S, G> {
        self.take().builder.binder(binder::<S, G, L, ByClone>())
    }
}

/// Ends an order whose type is a valid [`WalkList`].
pub trait FinishFast<S, G> {
    /// The builder, able to run its walks statically dispatched.
    fn finish(&self) -> Combtest<S, G>;
}

impl<S: 'static, G, L: WalkList<S, G>> FinishFast<S, G> for &Finish<Typed<S, G, L>> {
    fn finish(&self) -> Combtest<S, G> {
        self.take().builder.binder(binder::<S, G, L, ByPointer>())
    }
}

/// Ends any other order: its walks are dynamically dispatched.
pub trait FinishDynamic<S, G> {
    /// The builder.
    fn finish(&self) -> Combtest<S, G>;
}

impl<S, G, L> FinishDynamic<S, G> for Finish<Typed<S, G, L>> {
    fn finish(&self) -> Combtest<S, G> {
        self.take().builder
    }
}
