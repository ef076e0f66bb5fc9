//! Outcomes: how each walk ended, and the details kept about the ones that failed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::walk_id::Fingerprint;

/// How one walk ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Every action ran and returned `Ok`.
    Pass,
    /// An action returned `Err` or panicked; later actions did not run.
    Fail,
    /// An action cancelled the walk; later actions did not run.
    Cancel {
        /// The reason given to [`cancel!`](crate::cancel!) or [`Cancel::new`](crate::Cancel::new).
        reason: String,
    },
}

/// One action of a walk and the option it got, written as a trace's steps are: the param as
/// JSON, and its `Debug` text beside it.
///
/// The texts are shared: every failure of a run that picks an option points at the one text
/// made for it.
///
/// ```
/// use combtest::StepRecord;
///
/// let step = StepRecord {
///     action: "deposit".into(),
///     param: serde_json::json!(3),
///     param_debug: "3".into(),
/// };
/// assert_eq!(step.to_string(), "deposit(3)");
/// assert_eq!(&*step.action, "deposit");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The action's name.
    pub action: Arc<str>,
    /// The option, as JSON: what a replay matches against today's options.
    pub param: serde_json::Value,
    /// The option, as `Debug` prints it: what the failure report shows. Empty in files
    /// written before it was recorded.
    #[serde(default)]
    pub param_debug: Arc<str>,
}

impl std::fmt::Display for StepRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = crate::model::step_text::StepText {
            name: &self.action,
            param: &self.param_debug,
        };
        write!(f, "{step}")
    }
}

/// How a failing action failed. More kinds may come: a `match` on it needs a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The action returned `Err`.
    Error,
    /// The action panicked.
    Panic,
    /// An async action was still running when the walk's time was up (see
    /// `Combtest::timeout`); it was dropped.
    Timeout,
    /// The walk's state panicked outside its actions: while it was made (its `Clone`, or
    /// the state factory) or dropped (its `Drop`). The message says which.
    State,
    /// A serial action failed this walk alone, through
    /// [`States::fail`](crate::States::fail); the serial action itself went on, and the
    /// other walks of its branch with it.
    Judged,
}

/// Everything needed to understand and re-run one failed walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The walk's id.
    pub walk_id: u64,
    /// The walk's fingerprint, to detect a stale id on replay.
    pub fingerprint: Fingerprint,
    /// Every action of the walk with its param, in order, including those that did not run.
    pub steps: Vec<StepRecord>,
    /// Position in the order of the action that failed.
    pub failed_position: usize,
    /// Name of the action that failed.
    pub failed_action: String,
    /// Whether it returned an error or panicked.
    pub kind: FailureKind,
    /// The error's `Display` text or the panic message.
    pub message: String,
    /// Where the panic happened (`file:line:column`), for panics.
    pub location: Option<String>,
    /// The walk's state when it failed, as `Debug` (`{:#?}`) prints it.
    pub state: String,
    /// A shell command that runs this walk alone.
    pub replay: String,
}

/// What the "full" gathering level records about each walk, next to its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkSummary {
    /// The walk's id.
    pub walk_id: u64,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The option index of each serial action of the order, outermost first: the walks
    /// sharing a branch ran the same serial actions. Empty when the order has none.
    pub branch: Vec<usize>,
}
