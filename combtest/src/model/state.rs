//! Where each walk's state comes from: a value cloned per walk, or a factory called per walk.
//!
//! Only the value form needs `S: Clone`, and it asks for it where the value is given: the
//! clone function is captured there, so nothing downstream (the engine, the report) bounds
//! `S` by `Clone`. A state built by a factory (a database connection, a socket) need not be
//! `Clone`.

use std::fmt;

/// Where each walk's initial state comes from: a value cloned once per walk, or a factory
/// called once per walk.
///
/// A value is given as itself (`Combtest::new(state)`, `combtest! { state: EXPR }`) and must
/// be `Clone`. A factory (`StateSource::factory(|| ...)`, `combtest! { state: || ... }`)
/// builds every walk's state, and the state need not be `Clone`:
///
/// ```
/// use combtest::StateSource;
///
/// let cloned: StateSource<Vec<u8>> = vec![1, 2].into();
/// let built = StateSource::factory(|| vec![1, 2]);
///
/// /// Not `Clone`, like a database connection.
/// struct Connection { open: bool }
/// let connections = StateSource::factory(|| Connection { open: true });
/// # let _ = (cloned, built, connections);
/// ```
pub struct StateSource<S>(Source<S>);

enum Source<S> {
    /// Cloned for every walk, by `clone` (`S::clone`, captured where `S: Clone` is known).
    Value {
        initial: S,
        clone: fn(&S) -> S,
        /// `clone`, writing the clone straight into a slot (see [`Template::make_into`]).
        clone_into: fn(&S, &mut Option<S>),
        /// `clone`, appending many clones (see [`Template::make_many`]).
        clone_many: fn(&S, &mut Vec<S>, usize),
    },
    /// Called for every walk.
    Factory(Box<dyn Fn() -> S + Send + Sync>),
}

impl<S> StateSource<S> {
    /// A state cloned once per walk. `From` does the same: `state.into()`.
    pub fn value(state: S) -> Self
    where
        S: Clone,
    {
        StateSource(Source::Value {
            initial: state,
            clone: S::clone,
            clone_into: clone_into::<S>,
            clone_many: clone_many::<S>,
        })
    }

    /// A state built by calling `make` once per walk. `S` need not be `Clone`.
    pub fn factory(make: impl Fn() -> S + Send + Sync + 'static) -> Self {
        StateSource(Source::Factory(Box::new(make)))
    }

    /// What one worker makes its walks' states from.
    pub(crate) fn template(&self) -> Template<'_, S> {
        match &self.0 {
            Source::Value {
                initial,
                clone,
                clone_into,
                clone_many,
            } => Template::Value {
                state: clone(initial),
                clone: *clone,
                clone_into: *clone_into,
                clone_many: *clone_many,
            },
            Source::Factory(make) => Template::Factory(&**make),
        }
    }
}

impl<S: Clone> From<S> for StateSource<S> {
    fn from(state: S) -> Self {
        StateSource::value(state)
    }
}

/// What the builder and `combtest!` take as the state: a value cloned per walk (which must be
/// `Clone`), or a [`StateSource`] (a factory, whose states need not be).
///
/// ```
/// use combtest::{IntoStateSource, StateSource};
///
/// fn source<S>(state: impl IntoStateSource<S>) -> StateSource<S> {
///     state.into_state_source()
/// }
/// let cloned = source(vec![1u8]);
/// let built = source(StateSource::factory(|| vec![1u8]));
/// # let _ = (cloned, built);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the walks' initial state: a `state` value is cloned for every walk, so it must be `Clone`",
    label = "not `Clone`",
    note = "to build each walk's state instead, pass a factory: `state: || ...` in `combtest!`, `StateSource::factory(...)` in the builder; its states need not be `Clone`"
)]
pub trait IntoStateSource<S> {
    /// The state source.
    fn into_state_source(self) -> StateSource<S>;
}

impl<S: Clone> IntoStateSource<S> for S {
    fn into_state_source(self) -> StateSource<S> {
        StateSource::value(self)
    }
}

impl<S> IntoStateSource<S> for StateSource<S> {
    fn into_state_source(self) -> StateSource<S> {
        self
    }
}

impl<S: fmt::Debug> fmt::Debug for StateSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Value { initial, .. } => f.debug_tuple("Value").field(initial).finish(),
            Source::Factory(_) => f.write_str("Factory(..)"),
        }
    }
}

/// What a worker makes its walks' states from: its own clone of the initial value (so that
/// `S` need not be `Sync`), or the shared factory.
pub(crate) enum Template<'a, S> {
    Value {
        state: S,
        clone: fn(&S) -> S,
        clone_into: fn(&S, &mut Option<S>),
        clone_many: fn(&S, &mut Vec<S>, usize),
    },
    Factory(&'a (dyn Fn() -> S + Send + Sync)),
}

/// Appends `count` clones of `state` to `states`, in one call: the clones are written in
/// place, with no call per state. When a clone panics, the clones made before it stay.
fn clone_many<S: Clone>(state: &S, states: &mut Vec<S>, count: usize) {
    states.extend(std::iter::repeat_with(|| state.clone()).take(count));
}

/// Clones `state` into `slot`. Written inside the function that clones, the clone's fields go
/// straight to the slot: a clone returned by value is copied there after, and for a small
/// state that copy reads in one wide load what the clone wrote in narrower stores, which the
/// processor cannot forward, and every walk waits for it.
fn clone_into<S: Clone>(state: &S, slot: &mut Option<S>) {
    *slot = Some(state.clone());
}

impl<S> Template<'_, S> {
    /// A fresh state for one walk.
    #[inline]
    pub(crate) fn make(&self) -> S {
        match self {
            Template::Value { state, clone, .. } => clone(state),
            Template::Factory(make) => make(),
        }
    }

    /// Appends the fresh states of `count` walks to `states`, as [`Template::make`] makes
    /// them. When making one panics, the states made before it stay.
    #[inline]
    pub(crate) fn make_many(&self, states: &mut Vec<S>, count: usize) {
        match self {
            Template::Value {
                state, clone_many, ..
            } => clone_many(state, states, count),
            Template::Factory(make) => states.extend(std::iter::repeat_with(make).take(count)),
        }
    }

    /// A fresh state for one walk, made in `slot` (which holds no state), as
    /// [`Template::make`] makes it.
    #[inline]
    pub(crate) fn make_into<'s>(&self, slot: &'s mut Option<S>) -> &'s mut S {
        match self {
            Template::Value {
                state, clone_into, ..
            } => {
                clone_into(state, slot);
                slot.as_mut().expect("`clone_into` fills the slot")
            }
            Template::Factory(make) => slot.insert(make()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state that cannot be cloned, as a database connection.
    struct Connection(u32);

    #[test]
    fn a_factory_makes_states_that_are_not_clone() {
        let next = std::sync::atomic::AtomicU32::new(0);
        let next = std::sync::Arc::new(next);
        let counter = next.clone();
        let source = StateSource::factory(move || {
            Connection(counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        });
        let template = source.template();
        let made: Vec<u32> = (0..3).map(|_| template.make().0).collect();
        assert_eq!(made, [0, 1, 2]);
    }

    #[test]
    fn a_value_is_cloned_per_walk() {
        let source: StateSource<Vec<u8>> = vec![7].into();
        let template = source.template();
        let mut first = template.make();
        first.push(8);
        assert_eq!(template.make(), [7]);
    }
}
