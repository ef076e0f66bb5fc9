//! Covering arrays: every t-way combination covered, constraints honoured, deterministic,
//! and run like any other walks.

use std::collections::HashSet;

use combtest::covering::Generator;
use combtest::prelude::*;

mod common;

/// Every t-combination of positions, as position lists: written here, independently of the
/// generator, so that the check does not share its mistakes.
fn position_sets(n: usize, t: usize) -> Vec<Vec<usize>> {
    if t == 0 {
        return vec![vec![]];
    }
    (0..n)
        .flat_map(|last| {
            position_sets(last, t - 1).into_iter().map(move |mut set| {
                set.push(last);
                set
            })
        })
        .collect()
}

/// The t-tuples (positions, options) that `rows` cover.
fn covered(rows: &[Vec<usize>], n: usize, t: usize) -> HashSet<(Vec<usize>, Vec<usize>)> {
    let sets = position_sets(n, t);
    rows.iter()
        .flat_map(|row| {
            sets.iter()
                .map(move |set| (set.clone(), set.iter().map(|&p| row[p]).collect()))
        })
        .collect()
}

/// Every t-tuple of the model.
fn all_tuples(sizes: &[usize], t: usize) -> usize {
    position_sets(sizes.len(), t)
        .iter()
        .map(|set| set.iter().map(|&p| sizes[p]).product::<usize>())
        .sum()
}

/// Every row of the full product (small models only).
fn product(sizes: &[usize]) -> Vec<Vec<usize>> {
    sizes.iter().fold(vec![vec![]], |rows, &size| {
        rows.into_iter()
            .flat_map(|row| {
                (0..size).map(move |v| {
                    let mut row = row.clone();
                    row.push(v);
                    row
                })
            })
            .collect()
    })
}

/// A deterministic stream of small numbers, for random models.
struct Numbers(u64);
impl Numbers {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

#[test]
fn random_models_are_covered_at_strengths_2_and_3() {
    let mut numbers = Numbers(7);
    for model in 0..60 {
        let t = 2 + model % 2;
        let n = t + numbers.next(6);
        let sizes: Vec<usize> = (0..n).map(|_| 1 + numbers.next(5)).collect();
        let array = Generator::new(&sizes, t)
            .seed(model as u64)
            .candidates(8)
            .generate();
        let got = covered(&array.rows, n, t);
        assert_eq!(got.len(), all_tuples(&sizes, t), "model {sizes:?}, t={t}");
        assert_eq!(array.covered as usize, got.len());
        assert!(array
            .rows
            .iter()
            .all(|r| r.iter().zip(&sizes).all(|(&v, &s)| v < s)));
    }
}

#[test]
fn with_a_constraint_every_feasible_tuple_is_covered_and_the_rest_reported() {
    let mut numbers = Numbers(11);
    for model in 0..30 {
        let t = 2 + model % 2;
        let n = t + 1 + numbers.next(3);
        let sizes: Vec<usize> = (0..n).map(|_| 2 + numbers.next(3)).collect();
        // Forbid a few (position, option) pairs together, and one option outright.
        let (a, b) = (numbers.next(n), numbers.next(n));
        let (va, vb) = (numbers.next(sizes[a]), numbers.next(sizes[b]));
        let banned = (numbers.next(n), 0);
        let allowed = move |row: &[usize]| {
            !(a != b && row[a] == va && row[b] == vb) && row[banned.0] != banned.1
        };
        let array = Generator::new(&sizes, t)
            .allowed(&allowed)
            .candidates(8)
            .generate();

        assert!(array.rows.iter().all(|r| allowed(r)), "only allowed rows");
        // Brute force: the tuples of allowed rows of the full product are the feasible ones.
        let allowed_rows: Vec<Vec<usize>> =
            product(&sizes).into_iter().filter(|r| allowed(r)).collect();
        let feasible = covered(&allowed_rows, n, t);
        let got = covered(&array.rows, n, t);
        assert_eq!(
            got, feasible,
            "model {sizes:?} t={t}: exactly the feasible tuples"
        );
        assert!(
            array.unresolved.is_empty(),
            "small models are searched exhaustively"
        );
        let infeasible: HashSet<(Vec<usize>, Vec<usize>)> = array
            .infeasible
            .iter()
            .map(|tuple| (tuple.positions.clone(), tuple.options.clone()))
            .collect();
        assert_eq!(
            infeasible.len() + feasible.len(),
            all_tuples(&sizes, t),
            "none dropped"
        );
        assert!(infeasible.is_disjoint(&feasible));
    }
}

#[test]
fn generation_is_deterministic_and_seeded() {
    let sizes = [4, 3, 5, 2, 3, 4];
    let one = Generator::new(&sizes, 2).generate();
    assert_eq!(one, Generator::new(&sizes, 2).generate());
    let seeds: HashSet<Vec<Vec<usize>>> = (0..5)
        .map(|seed| Generator::new(&sizes, 2).seed(seed).generate().rows)
        .collect();
    assert!(seeds.len() > 1, "seeds vary the array");
}

#[test]
fn must_include_rows_are_kept_and_count() {
    let sizes = [3, 3, 3, 3];
    let fixed = vec![vec![2, 2, 2, 2], vec![0, 1, 2, 0]];
    let array = Generator::new(&sizes, 2)
        .must_include(fixed.clone())
        .generate();
    assert_eq!(&array.rows[..2], &fixed[..]);
    assert_eq!(covered(&array.rows, 4, 2).len(), all_tuples(&sizes, 2));
}

type Trail = Vec<(char, u32)>;

#[action(options = 0..4)]
fn a(n: u32, t: &mut Trail) {
    t.push(('a', n));
}

#[action(options = 0..3)]
fn b(n: u32, t: &mut Trail) {
    t.push(('b', n));
}

#[serial_action(options = 0..3)]
fn s(n: u32, walks: States<'_, Trail>) {
    for t in walks {
        t.push(('s', n));
    }
}

#[action(options = 0..4)]
fn c(n: u32, t: &mut Trail) {
    t.push(('c', n));
}

#[test]
fn a_covered_order_with_a_serial_action_runs_every_pair() {
    let report = combtest! {
        order: [a, b, s, c, a],
        state: Trail::new(),
        covering: 2,
        gather_states: full,
    };
    let coverage = report.coverage.clone().unwrap();
    assert_eq!(coverage.full_product, 4 * 3 * 3 * 4 * 4);
    assert_eq!(coverage.covered, coverage.total);
    assert_eq!(report.walk_count, coverage.walks);
    assert!(report.walk_count < 30, "{} walks", report.walk_count);
    // Each walk ran its own options in order, the serial action included: every pair of
    // positions saw every pair of options.
    let rows: Vec<Vec<usize>> = report
        .states
        .iter()
        .map(|trail| trail.iter().map(|&(_, n)| n as usize).collect())
        .collect();
    assert_eq!(covered(&rows, 5, 2).len(), all_tuples(&[4, 3, 3, 4, 4], 2));
    // Serial branches are contiguous id blocks, as in any run.
    for (walk, trail) in report.walks.iter().zip(&report.states) {
        assert_eq!(walk.branch, vec![trail[2].1 as usize]);
    }
    assert!(report.to_string().contains("2-wise coverage"));
}

#[test]
fn a_filter_constrains_the_array_and_reports_infeasible_combinations() {
    let report = combtest! {
        order: [a, b, c],
        state: Trail::new(),
        covering: 2,
        // b(2) never runs with c(3).
        filter: |walk: &Walk| !(walk.param::<u32>(1) == Some(&2) && walk.param::<u32>(2) == Some(&3)),
        gather_states: flat,
    };
    let coverage = report.coverage.unwrap();
    assert_eq!(
        report.skipped_count, 0,
        "the array holds allowed walks only"
    );
    assert_eq!(
        coverage.infeasible,
        vec![vec!["b(2)".to_string(), "c(3)".to_string()]]
    );
    assert_eq!(coverage.covered + 1, coverage.total);
}

#[test]
fn must_include_by_params_and_bad_strengths() {
    let report = Combtest::new(Trail::new())
        .order([a::action(), b::action(), c::action()])
        .covering(2)
        .must_include(vec![3.into(), 2.into(), 3.into()])
        .gather_states(Gather::Flat)
        .run()
        .unwrap();
    assert!(report.states.contains(&vec![('a', 3), ('b', 2), ('c', 3)]));

    for (strength, expected) in [
        (1, "not between 2 and 6"),
        (7, "not between 2 and 6"),
        (4, "needs at least 4 actions"),
    ] {
        let error = Combtest::new(Trail::new())
            .order([a::action(), b::action(), c::action()])
            .covering(strength)
            .run()
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{strength}: {error}");
    }
    // An array's other settings without `covering`: the error says what is missing.
    let without_strength: [fn(Combtest<Trail>) -> Combtest<Trail>; 4] = [
        |run| run.covering_seed(5),
        |run| run.covering_strict(true),
        |run| run.must_include(vec![3.into(), 2.into(), 3.into()]),
        // Whatever selects the walks.
        |run| run.covering_seed(5).walks("3"),
    ];
    for setting in without_strength {
        let error = setting(Combtest::new(Trail::new()).order([a::action(), b::action()]))
            .run()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("which `covering(strength)` asks for"),
            "{error}"
        );
    }
    let error = Combtest::new(Trail::new())
        .order([a::action(), b::action(), c::action()])
        .covering(2)
        .must_include(vec![3.into(), 9.into(), 3.into()])
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("param 9 is not an option of action `b` (position 1)"),
        "{error}"
    );
    // A bad must-include walk is written as the user's params, not option indices.
    let error = Combtest::new(Trail::new())
        .order([a::action(), b::action(), c::action()])
        .covering(2)
        .must_include(vec![3.into(), 2.into()])
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("walk [3, 2] has 2 params, but the order has 3 actions"),
        "{error}"
    );
    let error = Combtest::new(Trail::new())
        .order([a::action(), b::action(), c::action()])
        .covering(2)
        .filter(|walk: &Walk| walk.param::<u32>(1) != Some(&2))
        .must_include(vec![3.into(), 2.into(), 3.into()])
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("a must-include walk a(3) -> b(2) -> c(3) is refused by the filter"),
        "{error}"
    );
}

/// The models of the speed and size tables, each checked by this file's own checker.
#[test]
fn the_benchmark_models_are_covered_and_no_larger_than_before() {
    // (30^3: 931 before the strength-(n-1) construction)
    // (sizes, t, rows the generator gave before it was made faster: it must not give more)
    let models: [(Vec<usize>, usize, usize); 8] = [
        (vec![10; 20], 2, 194),
        (vec![4; 6], 3, 97),
        (vec![3; 13], 2, 17),
        (vec![2; 100], 2, 14),
        (vec![7; 8], 2, 69),
        (vec![3; 100], 2, 30),
        (vec![10; 4], 2, 100),
        (vec![30; 3], 2, 900),
    ];
    for (sizes, t, before) in models {
        let array = Generator::new(&sizes, t).generate();
        let got = covered(&array.rows, sizes.len(), t);
        assert_eq!(got.len(), all_tuples(&sizes, t), "{sizes:?} t={t}");
        assert!(
            array.rows.len() <= before,
            "{sizes:?} t={t}: {} rows, {before} before",
            array.rows.len()
        );
    }
}

#[test]
fn strength_equal_to_the_positions_is_the_full_product() {
    let sizes = [3; 6];
    let array = Generator::new(&sizes, 6).generate();
    let rows: HashSet<Vec<usize>> = array.rows.iter().cloned().collect();
    assert_eq!(array.rows.len(), 729);
    assert_eq!(rows, product(&sizes).into_iter().collect());
    assert_eq!((array.covered, array.total_tuples), (729, 729));

    // With a constraint: the allowed rows, and the refused ones infeasible.
    let allowed = |row: &[usize]| row[0] != row[1];
    let array = Generator::new(&[2, 2, 3], 3).allowed(&allowed).generate();
    assert_eq!(array.rows.len(), 6);
    assert!(array.rows.iter().all(|r| allowed(r)));
    assert_eq!(array.infeasible.len(), 6);
}

#[test]
fn a_must_include_walk_given_twice_runs_once_and_counts_once() {
    let report = Combtest::new(Trail::new())
        .order([a::action(), b::action(), c::action()])
        .covering(2)
        .must_include(vec![3.into(), 2.into(), 3.into()])
        .must_include(vec![3.into(), 2.into(), 3.into()])
        .run()
        .unwrap();
    let coverage = report.coverage.unwrap();
    assert_eq!(report.walk_count, coverage.walks);
    let array = Generator::new(&[2, 2], 2)
        .must_include(vec![vec![1, 1], vec![1, 1]])
        .generate();
    assert_eq!(array.rows.len(), 4);
    assert_eq!(array.rows[0], vec![1, 1]);
}

/// How many of `row`'s set positions are 1.
fn ones(row: &[usize]) -> usize {
    row.iter().filter(|&&v| v == 1).count()
}

#[test]
fn at_most_one_of_24_booleans_is_covered_completely() {
    let at_most_one = |row: &[usize]| (ones(row) > 1).then_some(false);
    let sizes = [2; 24];
    let array = Generator::new(&sizes, 2)
        .partial_constraint(&at_most_one)
        .generate();
    assert!(array.unresolved.is_empty());
    assert!(array.rows.iter().all(|r| ones(r) <= 1));
    // Feasible: every pair but both on; exactly those are covered.
    let got = covered(&array.rows, 24, 2);
    assert_eq!(got.len(), all_tuples(&sizes, 2) - 276);
    assert!(got.iter().all(|(_, options)| options != &vec![1, 1]));
    assert_eq!(array.infeasible.len(), 276);
    assert!(array.infeasible.iter().all(|tuple| tuple.options == [1, 1]));
}

#[test]
fn exactly_one_of_24_booleans_is_covered_completely() {
    let exactly_one = |row: &[usize]| {
        let undecided = row.contains(&combtest::covering::UNSET);
        match ones(row) {
            0 if !undecided => Some(false),
            0 | 1 => None,
            _ => Some(false),
        }
    };
    let sizes = [2; 24];
    let array = Generator::new(&sizes, 2)
        .partial_constraint(&exactly_one)
        .generate();
    assert!(array.unresolved.is_empty());
    assert!(array.rows.iter().all(|r| ones(r) == 1));
    let got = covered(&array.rows, 24, 2);
    assert_eq!(got.len(), all_tuples(&sizes, 2) - 276);
    assert_eq!(array.infeasible.len(), 276);
    // Each switch on alone needs its own row: 24 rows are the least there can be.
    assert_eq!(array.rows.len(), 24);
}

#[test]
fn a_forbidden_pair_of_10_20_is_proven_infeasible() {
    let sizes = [10; 20];
    let forbid = |row: &[usize]| (row[0] == 3 && row[1] == 5).then_some(false);
    let array = Generator::new(&sizes, 2)
        .partial_constraint(&forbid)
        .generate();
    assert!(array.unresolved.is_empty());
    let pair = combtest::covering::Tuple {
        positions: vec![0, 1],
        options: vec![3, 5],
    };
    assert_eq!(array.infeasible, vec![pair.clone()]);
    let missing = combtest::covering::uncovered(&sizes, 2, &array.rows);
    assert_eq!(missing, vec![pair]);
    assert_eq!(covered(&array.rows, 20, 2).len() + 1, all_tuples(&sizes, 2));
}

#[test]
fn partial_constraints_cover_exactly_the_feasible_tuples_of_random_models() {
    let mut numbers = Numbers(23);
    for model in 0..30 {
        let t = 2 + model % 2;
        let n = t + 1 + numbers.next(4);
        let sizes: Vec<usize> = (0..n).map(|_| 2 + numbers.next(3)).collect();
        // A few forbidden combinations of two or three positions, refused as soon as they
        // are set.
        let forbidden: Vec<Vec<(usize, usize)>> = (0..1 + numbers.next(4))
            .map(|_| {
                (0..2 + numbers.next(2))
                    .map(|_| {
                        let p = numbers.next(n);
                        (p, numbers.next(sizes[p]))
                    })
                    .collect()
            })
            .collect();
        let judge = |row: &[usize]| {
            forbidden
                .iter()
                .any(|combination| combination.iter().all(|&(p, v)| row[p] == v))
                .then_some(false)
        };
        let array = Generator::new(&sizes, t)
            .seed(model as u64)
            .partial_constraint(&judge)
            .generate();
        let allowed_rows: Vec<Vec<usize>> = product(&sizes)
            .into_iter()
            .filter(|r| judge(r).is_none())
            .collect();
        assert!(array.rows.iter().all(|r| judge(r).is_none()));
        let feasible = covered(&allowed_rows, n, t);
        assert_eq!(
            covered(&array.rows, n, t),
            feasible,
            "{sizes:?} t={t} {forbidden:?}"
        );
        assert!(array.unresolved.is_empty());
        assert_eq!(
            array.infeasible.len() + feasible.len(),
            all_tuples(&sizes, t)
        );
    }
}

#[test]
fn infeasibility_proofs_are_kept_across_attempts() {
    use std::cell::Cell;
    // At most one of 12 switches, said about whole rows: each pair both on is proven
    // infeasible by trying all 2^10 completions.
    let calls = Cell::new(0u64);
    let at_most_one = |row: &[usize]| {
        calls.set(calls.get() + 1);
        ones(row) <= 1
    };
    let mut counts = Vec::new();
    for attempts in [1, 8] {
        calls.set(0);
        let array = Generator::new(&[2; 12], 2)
            .allowed(&at_most_one)
            .attempts(attempts)
            .generate();
        assert_eq!(array.infeasible.len(), 66);
        counts.push(calls.get());
    }
    // 66 proofs of 1,024 calls each are made once, not once per attempt.
    assert!(counts[0] > 66 * 1024, "{counts:?}");
    assert!(counts[1] < 2 * counts[0], "{counts:?}");
}

#[test]
fn unresolved_combinations_warn_on_every_run_and_fail_a_strict_one() {
    #[action(options = [false, true])]
    fn switch(on: bool, v: &mut Vec<bool>) {
        v.push(on);
    }
    // Option 1 is `true`; the index is cheaper to read than the param, and this filter is
    // asked millions of times.
    fn at_most_one(walk: &Walk) -> bool {
        (0..walk.len())
            .filter(|&p| walk.option_index(p) == 1)
            .count()
            <= 1
    }
    let captured = common::Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || {
        Combtest::new(Vec::new())
            .order((0..24).map(|_| switch::action()))
            .filter(at_most_one)
            .covering(2)
            .run()
            .unwrap()
    });
    let coverage = report.coverage.clone().unwrap();
    // Every combination has 2^22 completions, too many to search, and random ones almost
    // never have at most one switch on: none is covered, none is proven infeasible.
    let unresolved = coverage.unresolved.len();
    assert!(unresolved >= 276, "{unresolved}");
    assert_eq!(coverage.covered + unresolved as u64, coverage.total);
    assert!(captured.text().contains("WARN"), "{}", captured.text());
    let count = format!(
        "{unresolved} of {} combinations are unresolved",
        coverage.total
    );
    assert!(captured.text().contains(&count), "{}", captured.text());
    assert!(report
        .summary()
        .contains(&format!("{unresolved} combinations unresolved")));
    assert!(report.to_string().contains("covering_strict"));

    let error = Combtest::new(Vec::new())
        .order((0..24).map(|_| switch::action()))
        .filter(at_most_one)
        .covering(2)
        .covering_strict(true)
        .run()
        .unwrap_err()
        .to_string();
    assert!(error.contains(&count), "{error}");
    assert!(error.contains("covering_strict asks for none"), "{error}");

    // The same constraint as a partial filter settles every combination; the macro takes
    // both keys.
    let report = combtest! {
        order: [switch, switch, switch, switch, switch, switch, switch, switch, switch, switch,
                switch, switch, switch, switch, switch, switch, switch, switch, switch, switch,
                switch, switch, switch, switch],
        state: Vec::new(),
        covering: 2,
        covering_strict: true,
        partial_filter: |walk: &Walk| {
            let on = (0..walk.len()).filter(|&p| walk.param::<bool>(p) == Some(&true)).count();
            (on > 1).then_some(false)
        },
        gather_states: flat,
    };
    let coverage = report.coverage.clone().unwrap();
    assert!(coverage.unresolved.is_empty());
    assert_eq!(coverage.infeasible.len(), 276);
    assert_eq!(coverage.covered + 276, coverage.total);
    assert!(report
        .states
        .iter()
        .all(|walk| walk.iter().filter(|&&on| on).count() <= 1));
    assert!(!report.summary().contains("combinations unresolved"));
}

#[test]
fn a_partial_filter_filters_whole_walks_of_the_full_product() {
    let report = Combtest::new(Trail::new())
        .order([a::action(), b::action()])
        .partial_filter(|walk: &Walk| {
            // Asked only about whole walks here: both positions are chosen.
            assert!(walk.is_chosen(0) && walk.is_chosen(1));
            (walk.param::<u32>(0) == Some(&1)).then_some(false)
        })
        .run()
        .unwrap();
    assert_eq!((report.walk_count, report.skipped_count), (9, 3));
}

#[test]
fn the_known_optima_are_reached_and_complete() {
    // (sizes, t, the optimum: orthogonal arrays, binary codes, the product of the t largest)
    let models: Vec<(Vec<usize>, usize, usize)> = vec![
        (vec![3; 4], 2, 9),
        (vec![4; 5], 2, 16),
        (vec![5; 6], 2, 25),
        (vec![7; 8], 2, 49),
        (vec![8; 9], 2, 64),
        (vec![9; 10], 2, 81),
        (vec![4; 6], 3, 64),
        (vec![3; 4], 3, 27),
        (vec![5; 6], 3, 125),
        (vec![4; 5], 4, 256),
        (vec![2; 10], 2, 6),
        (vec![2; 30], 2, 8),
        (vec![2; 100], 2, 10),
        (vec![2, 1, 2, 2, 2], 2, 5),
        (vec![30, 30, 30], 2, 900),
        (vec![5, 7, 3, 6], 3, 7 * 6 * 5),
        (vec![7, 7, 3, 5, 2, 7], 2, 49),
        // Orders that are no prime power: products over their factors, and the orthogonal
        // Latin squares of order 10.
        (vec![10; 4], 2, 100),
        (vec![10, 3, 10, 7], 2, 100),
        (vec![12, 5, 12, 2], 2, 144),
        (vec![20; 5], 2, 400),
        (vec![15; 4], 2, 225),
    ];
    for (sizes, t, optimum) in models {
        for seed in [0, 1] {
            let array = Generator::new(&sizes, t).seed(seed).generate();
            let got = covered(&array.rows, sizes.len(), t);
            assert_eq!(got.len(), all_tuples(&sizes, t), "{sizes:?} t={t}");
            assert_eq!(array.rows.len(), optimum, "{sizes:?} t={t}");
            assert!(array
                .rows
                .iter()
                .all(|r| r.iter().zip(&sizes).all(|(&v, &s)| v < s)));
        }
    }
}

#[test]
fn a_partial_filter_sees_partial_walks_while_the_array_is_built() {
    use std::sync::{Arc, Mutex};
    /// What the filter saw of one walk: id, text, the param at 1, whether 1 is chosen.
    type Seen = (u64, String, Option<u32>, bool);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = Arc::clone(&seen);
    let report = Combtest::new(Trail::new())
        .order([a::action(), b::action(), c::action()])
        .covering(2)
        .partial_filter(move |walk: &Walk| {
            record.lock().unwrap().push((
                walk.id(),
                walk.to_string(),
                walk.param::<u32>(1).copied(),
                walk.is_chosen(1),
            ));
            // b(2) never runs with c(3).
            (walk.param::<u32>(1) == Some(&2) && walk.param::<u32>(2) == Some(&3)).then_some(false)
        })
        .run()
        .unwrap();
    let coverage = report.coverage.unwrap();
    assert_eq!(
        coverage.infeasible,
        vec![vec!["b(2)".to_string(), "c(3)".to_string()]]
    );
    assert!(coverage.unresolved.is_empty());
    let seen = seen.lock().unwrap();
    let partial: Vec<_> = seen
        .iter()
        .filter(|(_, text, ..)| text.contains("(?)"))
        .collect();
    assert!(!partial.is_empty(), "asked about partial walks");
    for (id, text, param, chosen) in partial {
        assert_eq!(*id, u64::MAX, "{text}");
        if text.contains("b(?)") {
            assert_eq!((*param, *chosen), (None, false), "{text}");
        }
    }
}

#[test]
fn random_models_with_a_construction_are_optimal_and_complete() {
    let mut numbers = Numbers(31);
    let prime_powers = [2, 3, 4, 5, 7, 8, 9];
    for model in 0..40 {
        let q = prime_powers[numbers.next(prime_powers.len())];
        let t = 2 + model % 2;
        if t > q {
            continue;
        }
        // The t largest sizes are q; the others are smaller or equal, up to q + 1 positions.
        let n = t + 1 + numbers.next(q + 1 - t);
        let mut sizes: Vec<usize> = (0..n)
            .map(|i| if i < t { q } else { 1 + numbers.next(q) })
            .collect();
        // Spread the largest over the positions.
        for i in (1..n).rev() {
            sizes.swap(i, numbers.next(i + 1));
        }
        let array = Generator::new(&sizes, t).seed(model as u64).generate();
        assert_eq!(
            covered(&array.rows, n, t).len(),
            all_tuples(&sizes, t),
            "{sizes:?} t={t}"
        );
        assert_eq!(array.rows.len(), q.pow(t as u32), "{sizes:?} t={t}");
        assert_eq!(array.covered as usize, all_tuples(&sizes, t));
    }
}
