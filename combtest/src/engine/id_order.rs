//! Sorting a run's records by walk id, in functions that do not depend on the state type.
//!
//! A sort called inside code generic over the state (`Tally<S>`, the barrier executor) is
//! compiled again for every state type a test uses, in the test's own crate, even when what
//! it sorts holds no state: the key closure is generic because its function is. These
//! functions are compiled once, here; the per-walk loops never call them (each is called a
//! few times per run), so nothing is lost by not inlining them.

use crate::model::action::Verdict;
use crate::model::outcome::Failure;

/// Sorts failures by walk id.
pub(crate) fn failures(failures: &mut [Failure]) {
    failures.sort_unstable_by_key(|failure| failure.walk_id);
}

/// Sorts `(walk id, reason)` pairs by walk id.
pub(crate) fn reasons(reasons: &mut [(u64, String)]) {
    reasons.sort_unstable_by_key(|(id, _)| *id);
}

/// Sorts `(walk id, position)` pairs by walk id.
pub(crate) fn positions(positions: &mut [(u64, usize)]) {
    positions.sort_unstable_by_key(|&(id, _)| id);
}

/// Sorts verdicts by walk id and keeps the first verdict on each walk.
pub(crate) fn first_verdicts(verdicts: &mut Vec<(u64, Verdict)>) {
    verdicts.sort_by_key(|(id, _)| *id);
    verdicts.dedup_by_key(|(id, _)| *id);
}

/// The indices of `keys` in increasing order of key (ties keep their order): slot `i` of
/// the sorted sequence is item `order[i]`.
pub(crate) fn order_by(keys: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&index| keys[index]);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_lists_indices_by_increasing_key_keeping_ties_in_place() {
        assert_eq!(order_by(&[30, 10, 20, 10]), [1, 3, 2, 0]);
        assert_eq!(order_by(&[]), Vec::<usize>::new());
    }

    #[test]
    fn first_verdicts_keeps_the_earliest_verdict_per_walk() {
        let mut verdicts = vec![
            (5, Verdict::Cancel("first on 5".into())),
            (2, Verdict::Fail("two".into())),
            (5, Verdict::Fail("later".into())),
        ];
        first_verdicts(&mut verdicts);
        let ids: Vec<u64> = verdicts.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [2, 5]);
        assert!(matches!(&verdicts[1].1, Verdict::Cancel(reason) if reason == "first on 5"));
    }
}
