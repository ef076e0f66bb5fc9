//! Covering arrays: every t-way combination covered, constraints honoured, deterministic,
//! and run like any other walks.

use std::collections::HashSet;

use combtest::covering::Generator;
use combtest::prelude::*;

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
}
