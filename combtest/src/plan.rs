//! Planning a run: load the order's options, number the walk space, cut the order into
//! segments at its serial actions.
//!
//! The order `G0 S1 G1 S2 G2 ...` has one more segment than it has serial actions; a segment
//! may be empty (adjacent, leading or trailing serial actions). Walks run segment by segment;
//! an order without serial actions is the special case of a single segment.

use std::ops::Range;

use crate::action::{Action, ActionKind, LoadedAction};
use crate::outcome::StepRecord;
use crate::walk_id::{Fingerprint, WalkSpace};
use crate::Error;

/// An order with its options evaluated for one run.
pub(crate) struct Plan<S, G> {
    pub(crate) actions: Vec<LoadedAction<S, G>>,
    pub(crate) space: WalkSpace,
    /// Position ranges of the order between serial actions, in order.
    pub(crate) segments: Vec<Range<usize>>,
    /// Per position, per option: the stable hash fingerprints are made of.
    option_hashes: Vec<Vec<u64>>,
}

impl<S, G> Plan<S, G> {
    /// Evaluates every option source once and checks the order can run.
    pub(crate) fn load(order: &[Action<S, G>]) -> Result<Self, Error>
    where
        S: 'static,
        G: 'static,
    {
        if order.is_empty() {
            return Err(Error::EmptyOrder);
        }
        let actions: Vec<LoadedAction<S, G>> = order.iter().map(Action::load).collect();
        if let Some((position, action)) = actions
            .iter()
            .enumerate()
            .find(|(_, a)| a.step.params().len() == 0)
        {
            return Err(Error::NoOptions {
                action: action.name.to_string(),
                position,
            });
        }
        let radices: Vec<usize> = actions.iter().map(|a| a.step.params().len()).collect();
        let serial: Vec<bool> = actions
            .iter()
            .map(|a| a.kind == ActionKind::Serial)
            .collect();
        let space = WalkSpace::new(&radices, &serial)?;
        let option_hashes = actions
            .iter()
            .map(LoadedAction::option_hashes)
            .collect::<Result<_, _>>()?;
        Ok(Plan {
            segments: segments(&serial),
            actions,
            space,
            option_hashes,
        })
    }

    /// The fingerprint of the walk that picks `options`.
    pub(crate) fn fingerprint(&self, options: &[usize]) -> Fingerprint {
        Fingerprint::of(&self.option_hashes, options)
    }

    /// Every action of a walk with its param, as reports show them.
    pub(crate) fn describe(&self, options: &[usize]) -> Vec<StepRecord> {
        self.actions
            .iter()
            .zip(options)
            .map(|(action, &option)| StepRecord {
                action: action.name.to_string(),
                param: action.step.params().debug(option),
            })
            .collect()
    }

    /// The id of the walk with this fingerprint, searched among the first `limit` ids.
    pub(crate) fn find_fingerprint(&self, fingerprint: Fingerprint, limit: u64) -> Option<u64> {
        let mut options = vec![0; self.actions.len()];
        for id in 0..self.space.total().min(limit) {
            if self.fingerprint(&options) == fingerprint {
                return Some(id);
            }
            self.space.advance(&mut options);
        }
        None
    }
}

/// Position ranges between serial positions: one more segment than serial actions.
fn segments(serial: &[bool]) -> Vec<Range<usize>> {
    let mut segments = Vec::new();
    let mut start = 0;
    for (position, &is_serial) in serial.iter().enumerate() {
        if is_serial {
            segments.push(start..position);
            start = position + 1;
        }
    }
    segments.push(start..serial.len());
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_at_serial_actions_and_may_be_empty() {
        assert_eq!(segments(&[false, false]), vec![0..2]);
        // A A S A S: the last segment is empty.
        assert_eq!(
            segments(&[false, false, true, false, true]),
            vec![0..2, 3..4, 5..5]
        );
        // S S A: a leading empty segment and an empty one between adjacent serial actions.
        assert_eq!(segments(&[true, true, false]), vec![0..0, 1..1, 2..3]);
    }

    #[test]
    fn empty_order_and_empty_options_are_errors() {
        let none: Vec<Action<()>> = vec![];
        assert!(matches!(Plan::load(&none), Err(Error::EmptyOrder)));
        let order = vec![
            Action::new("fine", || [1u8], |_: u8, _: &mut (), _: &()| {}),
            Action::new("empty", Vec::<u8>::new, |_: u8, _: &mut (), _: &()| {}),
        ];
        let err = Plan::load(&order).err().unwrap();
        assert_eq!(
            err,
            Error::NoOptions {
                action: "empty".into(),
                position: 1
            }
        );
    }

    #[test]
    fn fingerprints_follow_params_not_ids() {
        let first = vec![Action::new(
            "a",
            || [1u8, 2],
            |_: u8, _: &mut (), _: &()| {},
        )];
        let reordered = vec![Action::new(
            "a",
            || [2u8, 1],
            |_: u8, _: &mut (), _: &()| {},
        )];
        let (first, reordered) = (Plan::load(&first).unwrap(), Plan::load(&reordered).unwrap());
        assert_eq!(first.fingerprint(&[0]), reordered.fingerprint(&[1]));
        assert_ne!(first.fingerprint(&[0]), first.fingerprint(&[1]));
        assert_eq!(
            reordered.find_fingerprint(first.fingerprint(&[0]), 10),
            Some(1)
        );
    }
}
