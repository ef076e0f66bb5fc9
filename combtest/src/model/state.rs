//! Where each walk's state comes from: a value cloned per walk, or a factory called per walk.

use std::fmt;

/// Where each walk's initial state comes from: a value cloned once per walk, or a factory
/// called once per walk.
///
/// ```
/// use combtest::StateSource;
///
/// let cloned: StateSource<Vec<u8>> = vec![1, 2].into();
/// let built = StateSource::factory(|| vec![1, 2]);
/// # let _ = (cloned, built);
/// ```
pub enum StateSource<S> {
    /// Cloned for every walk.
    Value(S),
    /// Called for every walk.
    Factory(Box<dyn Fn() -> S + Send + Sync>),
}

impl<S> StateSource<S> {
    /// A state built by calling `make` once per walk.
    pub fn factory(make: impl Fn() -> S + Send + Sync + 'static) -> Self {
        StateSource::Factory(Box::new(make))
    }

    /// What one worker makes its walks' states from.
    pub(crate) fn template(&self) -> Template<'_, S>
    where
        S: Clone,
    {
        match self {
            StateSource::Value(state) => Template::Value(state.clone()),
            StateSource::Factory(make) => Template::Factory(&**make),
        }
    }
}

impl<S> From<S> for StateSource<S> {
    fn from(state: S) -> Self {
        StateSource::Value(state)
    }
}

impl<S: fmt::Debug> fmt::Debug for StateSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateSource::Value(state) => f.debug_tuple("Value").field(state).finish(),
            StateSource::Factory(_) => f.write_str("Factory(..)"),
        }
    }
}

/// What a worker makes its walks' states from: its own clone of the initial value (so that
/// `S` need not be `Sync`), or the shared factory.
pub(crate) enum Template<'a, S> {
    Value(S),
    Factory(&'a (dyn Fn() -> S + Send + Sync)),
}

impl<S: Clone> Template<'_, S> {
    /// A fresh state for one walk.
    #[inline]
    pub(crate) fn make(&self) -> S {
        match self {
            Template::Value(state) => state.clone(),
            Template::Factory(make) => make(),
        }
    }
}
