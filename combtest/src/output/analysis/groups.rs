//! Failure groups: failures sorted by what failed, the failing action and its message with
//! the volatile parts normalised.

use std::collections::HashMap;

use super::data::FailureGroup;
use super::normalise::normalise_into;
use crate::model::outcome::{Failure, FailureKind};

/// Groups `failures` (sorted by walk id) by failing action, kind and normalised message.
/// Each group's representative is its first failure, the one with the lowest id. Groups come
/// largest first, then by representative. `serial` says whether a position is a serial
/// action.
pub(crate) fn group_failures(
    failures: &[Failure],
    serial: &dyn Fn(usize) -> bool,
) -> Vec<FailureGroup> {
    // By normalised message, then by action and kind: a failure of a known group is found
    // by borrowing its message, so only a new group's message is copied.
    let mut index: HashMap<String, Vec<(&str, FailureKind, usize)>> = HashMap::new();
    let mut groups: Vec<FailureGroup> = Vec::new();
    let mut message = String::new();
    for failure in failures {
        normalise_into(&failure.message, &mut message);
        let action = failure.failed_action.as_str();
        let known = index.get(message.as_str()).and_then(|same_message| {
            same_message
                .iter()
                .find(|&&(a, kind, _)| a == action && kind == failure.kind)
                .map(|&(_, _, at)| at)
        });
        let at = known.unwrap_or_else(|| {
            groups.push(FailureGroup {
                action: failure.failed_action.clone(),
                serial: serial(failure.failed_position),
                kind: failure.kind,
                message: message.clone(),
                count: 0,
                representative: failure.walk_id,
                replay: failure.replay.clone(),
                walk_ids: Vec::new(),
                causes: Vec::new(),
                unexplained: 0,
                state_file: None,
            });
            let at = groups.len() - 1;
            index
                .entry(message.clone())
                .or_default()
                .push((action, failure.kind, at));
            at
        });
        let group = &mut groups[at];
        group.count += 1;
        group.walk_ids.push(failure.walk_id);
        if failure.walk_id < group.representative {
            group.representative = failure.walk_id;
            group.replay = failure.replay.clone();
        }
    }
    for group in &mut groups {
        group.walk_ids.sort_unstable();
    }
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.representative.cmp(&b.representative))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::walk_id::Fingerprint;

    fn failure(id: u64, action: &str, message: &str) -> Failure {
        Failure {
            walk_id: id,
            fingerprint: Fingerprint(id),
            steps: Vec::new(),
            failed_position: 0,
            failed_action: action.into(),
            kind: FailureKind::Error,
            message: message.into(),
            location: None,
            state: String::new(),
            replay: format!("replay {id}"),
        }
    }

    #[test]
    fn same_action_and_normalised_message_is_one_group() {
        let failures = [
            failure(2, "pay", "cannot pay 30"),
            failure(5, "pay", "cannot pay 40"),
            failure(7, "pay", "card refused"),
            failure(9, "refund", "cannot pay 30"),
            failure(11, "pay", "cannot pay 1"),
        ];
        let groups = group_failures(&failures, &|_| false);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].message, "cannot pay <n>");
        assert_eq!(groups[0].walk_ids, vec![2, 5, 11]);
        assert_eq!(groups[0].representative, 2);
        assert_eq!(groups[0].replay, "replay 2");
        assert_eq!((groups[1].action.as_str(), groups[1].count), ("pay", 1));
        assert_eq!(groups[2].action, "refund");
    }

    #[test]
    fn the_same_message_of_another_kind_is_another_group() {
        let mut panicked = failure(4, "pay", "cannot pay 30");
        panicked.kind = FailureKind::Panic;
        let failures = [
            failure(2, "pay", "cannot pay 30"),
            panicked,
            failure(6, "pay", "cannot pay 50"),
        ];
        let groups = group_failures(&failures, &|_| false);
        let kinds: Vec<(FailureKind, Vec<u64>)> = groups
            .iter()
            .map(|g| (g.kind, g.walk_ids.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (FailureKind::Error, vec![2, 6]),
                (FailureKind::Panic, vec![4])
            ]
        );
    }
}
