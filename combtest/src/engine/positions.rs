//! Where a walk stands while combtest runs the test's own code for it outside its actions:
//! cursor positions past every action, so that a walk's cursor tells an unwind from the
//! state's `Clone`, factory or `Drop` apart from an action's at no cost until one happens.

/// The cursor position of a walk whose state is being made (cloned or built by the factory).
pub(crate) const MAKING_STATE: usize = usize::MAX;
/// The cursor position of a walk whose state is being dropped after its actions.
pub(crate) const DROPPING_STATE: usize = usize::MAX - 1;
