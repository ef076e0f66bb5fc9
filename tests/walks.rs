//! Walk generation as a user sees it: every combination, in walk-id order, each on its own
//! state.

use std::collections::HashSet;

use combtest::prelude::*;

#[action(options = [0, 1, 2])]
fn digit(d: u8, digits: &mut Vec<u8>) {
    digits.push(d);
}

#[test]
fn four_actions_of_three_options_give_81_walks_in_lexicographic_order() {
    let report = combtest! {
        order: [digit, digit, digit, digit],
        state: Vec::new(),
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 81);
    assert_eq!(report.total_walks, 81);
    assert_eq!(report.error_count, 0);
    let mut expected = Vec::new();
    for a in 0..3 {
        for b in 0..3 {
            for c in 0..3 {
                for d in 0..3 {
                    expected.push(vec![a, b, c, d]);
                }
            }
        }
    }
    assert_eq!(report.states, expected);
}

#[action(options = 0..5)]
fn first(i: usize, state: &mut Vec<usize>) {
    state.push(i);
}

#[action(options = (0..10).collect::<Vec<_>>())]
fn second(j: usize, state: &mut Vec<usize>) {
    state.push(j);
}

fn three_options() -> impl Iterator<Item = usize> {
    [0, 1, 2].into_iter()
}

#[action(options = three_options())]
fn third(k: usize, state: &mut Vec<usize>) {
    state.push(k);
}

#[test]
fn walk_30i_3j_k_holds_i_j_k() {
    let report = combtest! {
        order: [first, second, third],
        state: Vec::new(),
        gather_states: full,
    };
    assert_eq!(report.walk_count, 150);
    assert_eq!(report.error_count, 0);
    assert_eq!(report.segment_count, 150);
    assert_eq!(report.states.len(), 150);
    let distinct: HashSet<&Vec<usize>> = report.states.iter().collect();
    assert_eq!(distinct.len(), 150, "every [i, j, k] exactly once");
    for i in 0..5 {
        for j in 0..10 {
            for k in 0..3 {
                let id = 30 * i + 3 * j + k;
                assert_eq!(report.states[id], vec![i, j, k], "walk {id}");
                assert_eq!(report.walks[id].walk_id, id as u64);
                assert_eq!(report.walks[id].outcome, Outcome::Pass);
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Log {
    entries: Vec<i32>,
}

#[action(options = [1, 2, 3, 4])]
fn log_once(n: i32, log: &mut Log) -> Result<(), String> {
    // Every walk starts from the initial state: one entry, then only its own pushes.
    if log.entries.len() > 2 || log.entries[0] != -1 {
        return Err(format!("state leaked between walks: {:?}", log.entries));
    }
    log.entries.push(n);
    Ok(())
}

#[test]
fn every_walk_sees_only_its_own_pushes() {
    let report = combtest! {
        order: [log_once, log_once],
        state: Log { entries: vec![-1] },
        threads: 2,
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 16);
    assert_eq!(report.error_count, 0, "{report}");
    for (id, state) in report.states.iter().enumerate() {
        let expected = vec![-1, id as i32 / 4 + 1, id as i32 % 4 + 1];
        assert_eq!(state.entries, expected, "walk {id}");
    }
}

#[test]
fn a_factory_state_is_called_once_per_walk() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let report = combtest! {
        order: [digit, digit],
        state: || {
            CALLS.fetch_add(1, Ordering::SeqCst);
            vec![9]
        },
        gather_states: flat,
    };
    assert_eq!(CALLS.load(Ordering::SeqCst), 9);
    assert_eq!(report.states[5], vec![9, 1, 2]);
}

#[test]
fn a_missing_state_is_the_default_value() {
    let report = combtest! { order: [digit], gather_states: flat };
    assert_eq!(report.states, vec![vec![0], vec![1], vec![2]]);
}

#[action(options = ["a", "b", "c"])]
fn letter(l: &'static str, s: &mut String) {
    s.push_str(l);
}

#[action]
fn flag(on: bool, s: &mut String) {
    s.push(if on { '+' } else { '-' });
}

#[test]
fn a_filter_that_rejects_every_walk_runs_nothing_and_says_so() {
    let report = combtest! {
        order: [letter, flag],
        state: String::new(),
        filter: |_walk| false,
        panic_on_failure: false,
    };
    assert_eq!(report.total_walks, 6);
    assert_eq!(report.walk_count, 0);
    assert_eq!(report.skipped_count, 6);
    assert!(!report.is_success(), "a run with no walk is not a success");

    // By default such a run fails the test with an explanation.
    let panic = std::panic::catch_unwind(|| {
        combtest! { order: [letter, flag], state: String::new(), filter: |_walk| false }
    })
    .expect_err("a run with no walk must fail the test");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("no walk ran"), "{message}");
    assert!(message.contains("6 skipped"), "{message}");
}

#[test]
fn a_filter_sees_whole_walks_and_skipped_walks_keep_their_ids() {
    let report = combtest! {
        order: [letter, flag, letter],
        state: String::new(),
        // Keep walks that use the same letter twice.
        filter: |walk: &Walk| walk.param::<&str>(0) == walk.param_of::<&str>("letter").and(walk.param::<&str>(2)),
        gather_states: full,
    };
    assert_eq!(report.walk_count, 6);
    assert_eq!(report.skipped_count, 12);
    let ids: Vec<u64> = report.walks.iter().map(|w| w.walk_id).collect();
    // id = 6 * first + 3 * flag + last; same letter: first == last.
    assert_eq!(ids, vec![0, 3, 7, 10, 14, 17]);
    assert_eq!(
        report.states,
        vec!["a-a", "a+a", "b-b", "b+b", "c-c", "c+c"]
    );
}

#[test]
fn walks_setting_selects_exactly_the_named_walks() {
    let report = combtest! {
        order: [digit, digit, digit],
        state: Vec::new(),
        walks: "17, 20-22",
        gather_states: full,
    };
    assert_eq!(report.walk_count, 4);
    assert_eq!(report.total_walks, 27);
    let ids: Vec<u64> = report.walks.iter().map(|w| w.walk_id).collect();
    assert_eq!(ids, vec![17, 20, 21, 22]);
    assert_eq!(report.states[0], vec![1, 2, 2]); // 17 = 9 + 6 + 2
    assert_eq!(report.states[3], vec![2, 1, 1]); // 22 = 18 + 3 + 1
}

#[test]
fn the_builder_runs_orders_made_at_run_time() {
    let sizes: Vec<usize> = vec![1, 2, 3];
    let mut order = Vec::new();
    for round in 0..3 {
        let sizes = sizes.clone();
        order.push(Action::new(
            format!("grow{round}"),
            move || sizes.clone(),
            |n: usize, v: &mut Vec<usize>, _: &()| v.push(n),
        ));
    }
    let report = Combtest::new(Vec::new())
        .order(order)
        .gather_states(Gather::Flat)
        .threads(2)
        .run()
        .unwrap();
    assert_eq!(report.walk_count, 27);
    assert_eq!(report.states[26], vec![3, 3, 3]);
}

#[derive(Debug)]
struct Config {
    limit: usize,
}

#[action(options = [1, 5, 10])]
fn fill(n: usize, v: &mut Vec<usize>, config: &Config) -> Result<(), String> {
    if v.len() + n > config.limit {
        return Err(format!(
            "{} + {n} exceeds the limit {}",
            v.len(),
            config.limit
        ));
    }
    v.extend(std::iter::repeat_n(n, n));
    Ok(())
}

#[test]
fn actions_get_the_shared_context() {
    let report = combtest! {
        order: [fill, fill],
        state: Vec::new(),
        shared: Config { limit: 10 },
        panic_on_failure: false,
    };
    // Fails when the sum exceeds 10: (1,10) (5,10) (10,1) (10,5) (10,10); (5,5) fits.
    assert_eq!(report.walk_count, 9);
    assert_eq!(report.error_count, 5);
    let failed: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    assert_eq!(failed, vec![2, 5, 6, 7, 8]);
}

#[test]
fn the_report_serializes_to_json() {
    let report = combtest! { order: [digit], state: Vec::new(), gather_states: flat };
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["walk_count"], 3);
    assert_eq!(json["total_walks"], 3);
    assert_eq!(json["states"][2][0], 2);
    assert!(json["elapsed"].as_f64().unwrap() >= 0.0);
}
