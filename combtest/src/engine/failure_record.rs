//! The record of a failed walk, as the report keeps it: its steps, where and how it failed,
//! its state, and the command that replays it.
//!
//! Only failures pay for it, but a run with many failing walks pays it many times, so what is
//! the same for every failure of a run is made once: each step's action name and option
//! `Debug` text come from the plan's [`StepTexts`](crate::model::step_texts::StepTexts)
//! (shared, not copied), and the replay command's test command is resolved once per run. What
//! is left per failure is the walk's own: its state's `Debug`, its replay line, its message.

use std::cell::Cell;
use std::fmt::{self, Write};

use super::unwind;
use super::WalkRunner;
use crate::model::outcome::{Failure, FailureKind, StepRecord};
use crate::model::plan::Plan;
use crate::model::walk_id::Fingerprint;
use crate::output::replay::replay_command;

impl<S, G> WalkRunner<'_, S, G>
where
    S: fmt::Debug,
{
    /// The full record of a failed walk (off the hot path: only failures pay for it).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    pub(super) fn failure(
        &self,
        id: u64,
        options: &[usize],
        fingerprint: Fingerprint,
        state: Option<&S>,
        position: usize,
        kind: FailureKind,
        message: String,
        location: Option<String>,
    ) -> Failure {
        let action = self.plan.actions[position].name.to_string();
        log_failure(id, &action, &message);
        Failure {
            walk_id: id,
            fingerprint,
            steps: self.describe(options),
            failed_position: position,
            failed_action: action,
            kind,
            message,
            location,
            // The state must be described now: it is dropped right after.
            state: match state {
                Some(state) => state_text(state),
                None => "<none: the state panicked outside the actions>".into(),
            },
            replay: replay_command(self.location, id, fingerprint),
        }
    }

    /// Every action of a walk with its param, as reports show them; a param whose `Debug`
    /// panics is shown as such.
    pub(super) fn describe(&self, options: &[usize]) -> Vec<StepRecord> {
        describe_steps(self.plan, options)
    }
}

/// Every action of the walk that picks `options`, with its param: the name and `Debug` text
/// shared from the plan's texts, made the first time a record needs them.
pub(crate) fn describe_steps<S, G>(plan: &Plan<S, G>, options: &[usize]) -> Vec<StepRecord> {
    options
        .iter()
        .enumerate()
        .map(|(position, &option)| StepRecord {
            action: plan.step_texts.name(position).clone(),
            param: plan.option_json[position][option].clone(),
            param_debug: param_debug(plan, position, option).clone(),
        })
        .collect()
}

/// The `Debug` text of `option` at `position`, made once per run; a `Debug` that panics is
/// shown as such (it is the test's own code, and must not lose the failure).
pub(crate) fn param_debug<S, G>(
    plan: &Plan<S, G>,
    position: usize,
    option: usize,
) -> &std::sync::Arc<str> {
    plan.step_texts.debug(position, option, || {
        unwind::quietly(|| plan.actions[position].params().debug(option))
            .unwrap_or_else(|message| format!("<its Debug panicked: {message}>"))
    })
}

thread_local! {
    /// The length of the last state text this thread made: the states of one run's failures
    /// are alike, so the next text is given about that much room up front instead of growing
    /// its buffer a few times over.
    static LAST_STATE_TEXT: Cell<usize> = const { Cell::new(0) };
}

/// A failed walk's state, as `{:#?}` prints it; a `Debug` that panics is shown as such.
fn state_text(state: &dyn fmt::Debug) -> String {
    let room = LAST_STATE_TEXT.with(Cell::get);
    let text = unwind::quietly(|| {
        let mut text = String::with_capacity(room + room / 4 + 16);
        let _ = write!(text, "{state:#?}");
        text
    })
    .unwrap_or_else(|message| format!("<the state's Debug panicked: {message}>"));
    LAST_STATE_TEXT.with(|last| last.set(text.len()));
    text
}

/// The debug event of a failed walk: made here, compiled once, rather than in the generic
/// code that records the failure.
#[inline(never)]
fn log_failure(id: u64, action: &str, message: &str) {
    tracing::debug!(walk = id, %action, %message, "walk failed");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::action::Action;

    #[derive(Clone, Debug, serde::Serialize)]
    struct Load {
        kilos: u32,
        tag: &'static str,
    }

    #[test]
    fn shared_step_texts_are_each_options_debug() {
        let loads = || {
            vec![
                Load { kilos: 1, tag: "a" },
                Load {
                    kilos: 500,
                    tag: "b\"q",
                },
            ]
        };
        let order = vec![
            Action::new("lift", loads, |_: Load, _: &mut (), _: &()| {}),
            Action::new("count", || 0..3u8, |_: u8, _: &mut (), _: &()| {}),
        ];
        let plan: Plan<(), ()> = Plan::load(&order).unwrap();
        let expected = |position: usize, option: usize| match position {
            0 => format!("{:?}", loads()[option]),
            _ => format!("{:?}", option as u8),
        };
        for first in 0..2 {
            for second in 0..3 {
                let steps = describe_steps(&plan, &[first, second]);
                assert_eq!(&*steps[0].action, "lift");
                assert_eq!(&*steps[1].action, "count");
                assert_eq!(*steps[0].param_debug, *expected(0, first));
                assert_eq!(*steps[1].param_debug, *expected(1, second));
                assert_eq!(steps[1].param, serde_json::json!(second));
            }
        }
        // Every walk that picks an option shares its one text.
        let a = describe_steps(&plan, &[1, 0]);
        let b = describe_steps(&plan, &[1, 2]);
        assert!(std::sync::Arc::ptr_eq(&a[0].param_debug, &b[0].param_debug));
    }

    #[test]
    fn state_texts_are_the_pretty_debug_whatever_room_was_guessed() {
        let small = Load { kilos: 2, tag: "x" };
        assert_eq!(state_text(&small), format!("{small:#?}"));
        let long = vec![7u64; 100];
        assert_eq!(state_text(&long), format!("{long:#?}"));
        assert_eq!(state_text(&small), format!("{small:#?}"));
    }
}
