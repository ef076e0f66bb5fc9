//! Panics in the test's own code that combtest calls for a walk outside its actions: the
//! state's `Clone` or factory while a walk's state is made, its `Drop` once the walk is over,
//! a param's `Debug` while a failure is described. Each fails that walk, with a message that
//! says where it happened, instead of ending the run and losing its report.
//!
//! On the per-walk paths the walk's cursor says where it stands (a position past every action
//! while its state is made or dropped), so that catching costs nothing until a panic; the
//! other paths catch each call.

use std::fmt;

use super::held::Status;
use super::positions::{DROPPING_STATE, MAKING_STATE};
use super::unwind;
use super::{StepEnd, Tally, Traced, WalkRunner};
use crate::model::outcome::{FailureKind, Outcome};
use crate::model::state::Template;

/// Where outside its actions a walk's state panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StateFault {
    Making,
    Dropping,
}

impl StateFault {
    /// The fault a cursor position stands for, if it is not an action's.
    pub(super) fn at(position: usize) -> Option<Self> {
        match position {
            MAKING_STATE => Some(StateFault::Making),
            DROPPING_STATE => Some(StateFault::Dropping),
            _ => None,
        }
    }

    /// How the walk ends: failed, at the first action (making) or the last (dropping).
    pub(super) fn end(self, actions: usize, message: &str) -> StepEnd {
        let (position, when) = match self {
            StateFault::Making => (
                0,
                "while its state was made (the state's Clone or the state factory), before any \
                 action ran",
            ),
            StateFault::Dropping => (
                actions - 1,
                "while its state was dropped (the state's Drop), after its actions",
            ),
        };
        StepEnd::Failed {
            position,
            kind: FailureKind::State,
            message: format!("the walk panicked {when}: {message}"),
            location: None,
        }
    }
}

impl<S, G> WalkRunner<'_, S, G>
where
    S: fmt::Debug,
{
    /// A fresh state for walk `id`, made outside any walk code; when making it panics, the
    /// walk is failed and recorded here and `None` is returned.
    pub(super) fn make_state(
        &self,
        template: &Template<'_, S>,
        tally: &mut Tally<S>,
        id: u64,
        options: &[usize],
    ) -> Option<S> {
        match unwind::quietly(|| template.make()) {
            Ok(state) => Some(state),
            Err(message) => {
                let end = StepEnd::from_fault(self, StateFault::Making, &message);
                let outcome = self.settle(tally, id, options, None, end);
                let outcome = outcome.unwrap_or(Outcome::Fail);
                tally.record(self.plan, id, options, &outcome, 0);
                None
            }
        }
    }

    /// Settles a finished walk, records it, and lets go of its state: gathered, or dropped
    /// here, where a panicking `Drop` fails the walk instead of the run. Returns how the walk
    /// stands.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish_walk(
        &self,
        tally: &mut Tally<S>,
        id: u64,
        options: &[usize],
        state: S,
        mut end: StepEnd,
        traced: Traced,
        nanos: u64,
    ) -> Status {
        let gathering = self.gather != crate::config::Gather::Off;
        let mut state = Some(state);
        if !gathering && !matches!(end, StepEnd::Failed { .. }) {
            // Dropped before the outcome is recorded, so that a panic there can still fail it.
            if let Err(message) = release(state.take()) {
                end = StepEnd::from_fault(self, StateFault::Dropping, &message);
            }
        }
        let outcome = self
            .settle(tally, id, options, state.as_ref(), end)
            .unwrap_or(Outcome::Pass);
        if !gathering {
            // A failed walk's state is described first, then dropped.
            if let Err(message) = release(state.take()) {
                if let Some(failure) = tally.failures.last_mut() {
                    failure.message.push_str(&format!(
                        "\n(then its state panicked while it was dropped: {message})"
                    ));
                }
            }
        }
        self.walk_ends(traced, &outcome);
        tally.record(self.plan, id, options, &outcome, nanos);
        let status = Status::of(Some(&outcome));
        if let Some(state) = state {
            self.gather(tally, id, state, outcome);
        }
        status
    }
}

/// Drops a state, turning a panic in its `Drop` into its message.
pub(super) fn release<S>(state: Option<S>) -> Result<(), String> {
    if !std::mem::needs_drop::<S>() {
        return Ok(());
    }
    unwind::quietly(move || drop(state))
}

impl StepEnd {
    /// The end of a walk whose state panicked outside its actions.
    pub(super) fn from_fault<S, G>(
        runner: &WalkRunner<'_, S, G>,
        fault: StateFault,
        message: &str,
    ) -> Self {
        fault.end(runner.plan.actions.len(), message)
    }
}
