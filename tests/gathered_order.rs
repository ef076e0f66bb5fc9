//! Gathered states come back exactly one per walk that ran, sorted by walk id, at every
//! gathering level, with and without serial actions, on one thread or several (whose
//! workers finish their chunks in any order).

use combtest::prelude::*;

#[action(options = 0..7)]
fn pick(p: u64, s: &mut Vec<u64>) {
    s.push(p);
}

#[serial_action(options = 0..3)]
fn switch(p: u64) {
    std::hint::black_box(p);
}

/// The final states in walk-id order of `[pick, pick, pick]` (the first position is the
/// most significant), keeping the walks `keep` accepts.
fn expected_without_serial(keep: impl Fn(u64) -> bool) -> Vec<Vec<u64>> {
    let mut states = Vec::new();
    for p0 in 0..7 {
        for p1 in 0..7 {
            for p2 in 0..7 {
                if keep((p0 * 7 + p1) * 7 + p2) {
                    states.push(vec![p0, p1, p2]);
                }
            }
        }
    }
    states
}

#[test]
fn flat_and_full_states_are_one_per_walk_in_id_order() {
    for threads in [1, 2, 3] {
        let flat = combtest! {
            order: [pick, pick, pick],
            state: Vec::new(),
            threads: threads,
            gather_states: flat,
        };
        assert_eq!(
            flat.states,
            expected_without_serial(|_| true),
            "{threads} threads"
        );
        assert!(flat.walks.is_empty(), "flat gathering keeps no summaries");

        let full = combtest! {
            order: [pick, pick, pick],
            state: Vec::new(),
            threads: threads,
            gather_states: full,
            filter: |walk: &Walk| walk.id() % 5 != 0,
        };
        assert_eq!(full.states, expected_without_serial(|id| id % 5 != 0));
        let ids: Vec<u64> = full.walks.iter().map(|w| w.walk_id).collect();
        let expected_ids: Vec<u64> = (0..343).filter(|id| id % 5 != 0).collect();
        assert_eq!(ids, expected_ids, "{threads} threads");
    }
}

#[test]
fn states_held_across_a_serial_action_come_back_in_id_order() {
    // Serial wheels are the odometer's outermost: walk id ((serial * 7 + p0) * 7 + p1) * 7 + p2.
    let mut expected = Vec::new();
    let mut expected_branches = Vec::new();
    for serial in 0..3 {
        for p0 in 0..7 {
            for p1 in 0..7 {
                for p2 in 0..7 {
                    expected.push(vec![p0, p1, p2]);
                    expected_branches.push(vec![serial]);
                }
            }
        }
    }
    for threads in [1, 2, 3] {
        let flat = combtest! {
            order: [pick, pick, switch, pick],
            state: Vec::new(),
            threads: threads,
            gather_states: flat,
        };
        assert!(
            flat.states == expected,
            "{threads} threads: flat states out of id order"
        );

        let full = combtest! {
            order: [pick, pick, switch, pick],
            state: Vec::new(),
            threads: threads,
            gather_states: full,
        };
        assert!(
            full.states == expected,
            "{threads} threads: full states out of id order"
        );
        let ids: Vec<u64> = full.walks.iter().map(|w| w.walk_id).collect();
        assert_eq!(ids, (0..expected.len() as u64).collect::<Vec<_>>());
        let branches: Vec<Vec<usize>> = full.walks.iter().map(|w| w.branch.clone()).collect();
        assert!(
            branches == expected_branches,
            "{threads} threads: branches out of id order"
        );
    }
}
