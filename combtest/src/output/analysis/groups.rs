//! Failure groups: failures sorted by what failed, the failing action and its message with
//! the volatile parts normalised (a timeout by its timeout alone).

use std::collections::HashMap;

use super::data::FailureGroup;
use super::normalise::group_message;
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
    let mut scratch = String::new();
    // The group of the previous failure: failures of one group tend to come in runs, and a
    // failure like the previous one is placed by comparing, without hashing its message.
    let mut previous: Option<usize> = None;
    for failure in failures {
        let message = group_message(failure.kind, &failure.message, &mut scratch);
        let action = failure.failed_action.as_str();
        let like_previous = previous.filter(|&at| {
            let group = &groups[at];
            group.kind == failure.kind && group.action == action && group.message == message
        });
        let known = like_previous.or_else(|| {
            index.get(message).and_then(|same_message| {
                same_message
                    .iter()
                    .find(|&&(a, kind, _)| a == action && kind == failure.kind)
                    .map(|&(_, _, at)| at)
            })
        });
        let at = known.unwrap_or_else(|| {
            groups.push(FailureGroup {
                action: failure.failed_action.clone(),
                // A serial action that failed one walk through `States::fail` took no
                // other walk with it.
                serial: serial(failure.failed_position) && failure.kind != FailureKind::Judged,
                kind: failure.kind,
                message: message.to_string(),
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
                .entry(message.to_string())
                .or_default()
                .push((action, failure.kind, at));
            at
        });
        previous = Some(at);
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
    use crate::model::test_support::{self, Xorshift};

    /// A failure at the first position, as the grouping tests need.
    fn failure(id: u64, action: &str, message: &str) -> Failure {
        test_support::failure(id, 0, action, message)
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
    fn runs_of_alike_failures_group_as_failures_placed_one_by_one() {
        let actions = ["pay", "refund"];
        let messages = [
            "cannot pay 30",
            "cannot pay 7",
            "card refused",
            "card 0x1f refused",
        ];
        let kinds = [FailureKind::Error, FailureKind::Panic];
        let mut random = Xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |below: usize| random.below(below as u64) as usize;
        for round in 0..200 {
            // Long runs of one kind of failure, broken by others of the same message but
            // another action or kind, and by other messages.
            let mut failures = Vec::new();
            let mut last = (0, 0, 0);
            for id in 0..(5 + round % 40) as u64 {
                if next(3) == 0 {
                    last = (next(2), next(4), next(2));
                }
                let (a, m, k) = last;
                let mut f = failure(id * 3, actions[a], messages[m]);
                f.kind = kinds[k];
                failures.push(f);
            }
            let key = |f: &Failure| {
                (
                    f.failed_action.clone(),
                    f.kind,
                    super::super::normalise::normalise(&f.message),
                )
            };
            // Each failure placed by looking its key up among the keys seen so far.
            let mut expected: Vec<(_, Vec<u64>)> = Vec::new();
            for f in &failures {
                match expected.iter_mut().find(|(k, _)| *k == key(f)) {
                    Some((_, ids)) => ids.push(f.walk_id),
                    None => expected.push((key(f), vec![f.walk_id])),
                }
            }
            expected.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1[0].cmp(&b.1[0])));
            let groups = group_failures(&failures, &|_| false);
            let got: Vec<(_, Vec<u64>)> = groups
                .iter()
                .map(|g| {
                    (
                        (g.action.clone(), g.kind, g.message.clone()),
                        g.walk_ids.clone(),
                    )
                })
                .collect();
            assert_eq!(got, expected, "round {round}");
            for group in &groups {
                assert_eq!(group.count, group.walk_ids.len() as u64);
                assert_eq!(group.representative, group.walk_ids[0]);
                assert_eq!(group.replay, format!("replay {}", group.walk_ids[0]));
            }
        }
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
