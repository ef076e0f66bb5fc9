//! What the analysis of a run's failures finds, as data: failure groups, their causes and
//! the heat maps of failure rates. Every type serializes, so tools can read them from
//! `summary.json` or from `serde_json::to_string(&report)`.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::outcome::FailureKind;

/// One choice of a walk: a position of the order and the option it picks.
///
/// Shown as users see it: `withdraw(40)`, or `type_text#2("1234")` for the second
/// appearance of an action that appears several times in the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The position in the order (serial actions included), counted from 0.
    pub position: usize,
    /// The position's name: the action's name, with `#k` for its k-th appearance when the
    /// action appears more than once.
    pub action: String,
    /// The option's index in the action's option list.
    pub option: usize,
    /// The option, as `Debug` prints it.
    pub param: String,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = crate::model::step_text::StepText {
            name: &self.action,
            param: &self.param,
        };
        write!(f, "{step}")
    }
}

/// A combination of choices that explains a failure group, with the evidence for it. Its
/// choices are among those the group's walks ran: none comes after the action that the
/// furthest of them failed at. A walk that stopped before the combination's last position
/// (cancelled, or failed another way) says nothing about it: it is counted neither in the
/// group nor among the others.
///
/// A cause is **exact** when every walk of the walk space that has the combination, but
/// those that stopped before it, ran and failed in the group: then the combination alone
/// makes the walk fail this way. When some
/// walks with it did not run (a covering array, a filter, a selection or a shard ran part of
/// the space) or did not fail this way, it is a suspicion, ranked by how well it separates
/// the group from the other walks.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [1, 2, 3])]
/// fn a(n: u8, _: &mut ()) { assert_ne!(n, 3, "a is three"); }
///
/// #[action(options = [1, 2])]
/// fn b(_: u8, _: &mut ()) {}
///
/// let report = combtest! { order: [a, b], state: (), panic_on_failure: false };
/// let cause = &report.groups[0].causes[0];
/// assert!(cause.exact);
/// assert_eq!(cause.to_string(), "a(3)");
/// assert_eq!((cause.in_group, cause.in_others), (2, 0));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// The choices, in order of position.
    pub choices: Vec<Choice>,
    /// Every walk of the space with these choices, but those that stopped before them, ran
    /// and failed in the group.
    pub exact: bool,
    /// Failing walks of the group that have the choices.
    pub in_group: u64,
    /// Failing walks in the group.
    pub group_size: u64,
    /// Walks that ran outside the group (passed, cancelled or failed otherwise) and have the
    /// choices.
    pub in_others: u64,
    /// Walks that ran outside the group.
    pub others: u64,
    /// For a suspect, with `confirm_causes`: how the extra walks that have it ended.
    #[serde(default)]
    pub confirmation: Option<Confirmation>,
}

/// How the extra walks run to confirm a suspected cause ended: see
/// [`Combtest::confirm_causes`](crate::Combtest::confirm_causes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Extra walks that have the suspect's choices, had not run, and passed or failed the
    /// group's way (0 when every such walk had run, or the filter allows none, or the
    /// budget was spent).
    pub walks: u64,
    /// Those that failed the way the group did.
    pub failed_this_way: u64,
    /// The first that passed: the suspect alone does not make a walk fail.
    pub counterexample: Option<u64>,
    /// Extra walks with the suspect that were cancelled or failed some other way (another
    /// bug answered first): they say nothing about the suspect.
    #[serde(default)]
    pub inconclusive: u64,
}

impl Confirmation {
    /// Every extra walk with the suspect failed the way the group did (and there was one).
    pub fn confirmed(&self) -> bool {
        self.walks > 0 && self.failed_this_way == self.walks
    }
}

impl fmt::Display for Cause {
    /// The choices joined by ` ∧ `: `a(2) ∧ d(1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, choice) in self.choices.iter().enumerate() {
            if i > 0 {
                f.write_str(" ∧ ")?;
            }
            write!(f, "{choice}")?;
        }
        Ok(())
    }
}

impl Cause {
    /// The evidence in words: "in 40 of 42 failing walks, 0 of 958 others", and how the
    /// extra walks of a confirmation ended.
    pub fn evidence(&self) -> String {
        let mut text = format!(
            "in {} of {} failing walks, {} of {} others",
            self.in_group, self.group_size, self.in_others, self.others
        );
        match &self.confirmation {
            None => {}
            Some(c) if c.confirmed() => {
                let walks = if c.walks == 1 { "walk" } else { "walks" };
                text += &format!(
                    "; confirmed: {} more {walks} with it all failed this way",
                    c.walks
                )
            }
            Some(Confirmation {
                counterexample: Some(id),
                walks,
                failed_this_way,
                ..
            }) => {
                text += &format!(
                    "; refuted: walk {id} has it and passed \
                     ({failed_this_way} of {walks} more walks failed this way)"
                )
            }
            Some(_) => text += "; unconfirmed: no walk with it was left to run",
        }
        text
    }
}

/// Failures of one kind: the same failing action, failing the same way, with the same
/// message once numbers, addresses and ids are normalised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureGroup {
    /// The failing action (or serial action), by name.
    pub action: String,
    /// Whether the failing action is a serial action: then it failed once per branch and
    /// took every live walk of the branch with it. A serial action that failed walks one by
    /// one ([`FailureKind::Judged`]) makes groups that are not serial: it took no other walk.
    pub serial: bool,
    /// How it failed.
    pub kind: FailureKind,
    /// The message with numbers (`<n>`), addresses (`<addr>`) and ids (`<id>`) normalised.
    pub message: String,
    /// Failed walks in the group.
    pub count: u64,
    /// The group's representative: its walk with the lowest id.
    pub representative: u64,
    /// The command that runs the representative alone.
    pub replay: String,
    /// The ids of the group's walks, ascending.
    pub walk_ids: Vec<u64>,
    /// The minimal exact causes, or when there is none the best suspicions (see [`Cause`]).
    /// Empty when the analysis could not run (a merge of shards).
    pub causes: Vec<Cause>,
    /// Walks of the group that have none of the exact causes (0 when the causes explain
    /// the whole group, or when the causes are suspicions).
    pub unexplained: u64,
    /// With a log directory, the file holding the representative's full state when the
    /// failure report shows it cut short.
    pub state_file: Option<PathBuf>,
}

/// What the causes rest on: whether every walk of the space ran.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Every walk of the walk space ran, so a cause can be exact.
    pub every_walk_ran: bool,
    /// Why not, when not: "a covering array ran 120 of 1000000 walks".
    pub note: Option<String>,
    /// Extra walks run to confirm suspected causes (see
    /// [`Combtest::confirm_causes`](crate::Combtest::confirm_causes)); they are not counted
    /// in the report's other counts.
    #[serde(default)]
    pub confirmation_walks: u64,
}

/// One position of a heat map's axis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    /// The position in the order.
    pub position: usize,
    /// The position's name (see [`Choice::action`]).
    pub action: String,
    /// The options shown, as `Debug` prints them (the first ones, when there are many).
    pub params: Vec<String>,
    /// Options of the position left out of the map.
    pub hidden: usize,
}

/// Failure rates per pair of options of two positions: cell `[i][j]` counts the walks with
/// option `i` of `rows` and option `j` of `columns`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeatMap {
    /// The position along the rows.
    pub rows: Axis,
    /// The position along the columns.
    pub columns: Axis,
    /// Failed walks per cell.
    pub failed: Vec<Vec<u64>>,
    /// Walks that ran per cell.
    pub ran: Vec<Vec<u64>>,
}
