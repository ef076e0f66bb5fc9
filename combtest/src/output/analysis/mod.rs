//! Why walks failed: failures grouped by what failed, the causes of each group (the minimal
//! combinations of choices its walks share and no other walk has), cancels counted per
//! action and reason, and heat maps of failure rates for the visual report.
//!
//! The analysis reads the failures the run kept and the walk space; it never holds the
//! options of every walk: walks are decoded from their ids one at a time.

pub(crate) mod cancels;
pub(crate) mod causes;
pub(crate) mod confirm;
pub(crate) mod data;
pub(crate) mod groups;
pub(crate) mod heat;
pub(crate) mod normalise;
pub(crate) mod run;

use self::causes::{Combo, Counts, Early, Measured, Space, CANDIDATE_POOL};
use self::data::{FailureGroup, HeatMap};
use self::heat::HeatCounts;
use crate::model::outcome::{Failure, FailureKind};

/// A group whose candidates wait for the visit of the walks that ran: its index, its
/// candidates with their counts in the group, its exact causes, and its candidates' walks
/// that stopped before them ([`Early`]).
type Pending = (usize, Vec<(Combo, u64)>, Vec<Combo>, Vec<u64>);

/// A candidate as a walk looks it up: its group (among the pending), its index among the
/// group's candidates, and its choices after the first, as (position, option). A candidate
/// has at most three choices; one with fewer repeats a choice the walk is known to make (its
/// last, or for a single choice the first, by which it was looked up), so that every check
/// is the same two comparisons, without a loop or a pointer to follow.
type Lookup = (usize, usize, [(usize, usize); 2]);

/// Visits the options of some walks, one walk at a time.
pub(crate) type RanWalks<'a> = &'a dyn Fn(&mut dyn FnMut(&[usize]));

/// Which walks of the space ran, as the analysis reads them.
#[derive(Clone, Copy)]
pub(crate) enum Ran<'a> {
    /// Every walk of the space.
    Every,
    /// The walks the function visits.
    These(RanWalks<'a>),
    /// Every walk of the space but those the function visits: given instead of
    /// [`Ran::These`] when fewer walks did not run than did, in a space numbered as the full
    /// product, where [`Space::containing`] counts the walks with a combination. Counting
    /// what did not run and subtracting it visits fewer walks the costly way: a filter that
    /// removed a tenth of a million walks leaves a hundred thousand to look at, not nine
    /// hundred thousand.
    AllBut(RanWalks<'a>),
}

impl<'a> Ran<'a> {
    /// The walks that ran when not every walk of the space did: `walk_count` of `total`,
    /// visited by `ran`, or by `not_ran` all the others. The fewer are visited, when the
    /// space is numbered as the full product (`full_product`), where the analysis can
    /// subtract; otherwise those that ran.
    pub(crate) fn partly(
        total: u64,
        walk_count: u64,
        full_product: bool,
        ran: RanWalks<'a>,
        not_ran: RanWalks<'a>,
    ) -> Self {
        if full_product && total.saturating_sub(walk_count) < walk_count {
            Ran::AllBut(not_ran)
        } else {
            Ran::These(ran)
        }
    }
}

/// What the analysis needs to know of the order and the run.
pub(crate) struct Inputs<'a> {
    /// Option count per position.
    pub(crate) sizes: &'a [usize],
    /// Per position, its name as reports show it (see [`position_names`]).
    pub(crate) names: &'a [String],
    /// Per position, whether it is a serial action.
    pub(crate) serial: &'a [bool],
    /// The `Debug` text of an option of a position.
    pub(crate) param: &'a dyn Fn(usize, usize) -> String,
    /// Writes the options of a walk id.
    pub(crate) decode: &'a dyn Fn(u64, &mut [usize]),
    /// Walks in the space.
    pub(crate) total: u64,
    /// Walks that ran.
    pub(crate) walk_count: u64,
    /// The walks that ran.
    pub(crate) ran: Ran<'a>,
    /// The cancelled walks, each with the position that cancelled it, sorted by id.
    pub(crate) cancelled: &'a [(u64, usize)],
}

/// The names of the positions of an order as reports show them: the action's name, with
/// `#k` appended for the k-th appearance of an action that appears more than once.
pub(crate) fn position_names(names: &[&str]) -> Vec<String> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    names
        .iter()
        .map(|&name| {
            let total = names.iter().filter(|&&n| n == name).count();
            let appearance = match seen.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    seen.push((name, 1));
                    1
                }
            };
            if total > 1 {
                format!("{name}#{appearance}")
            } else {
                name.to_string()
            }
        })
        .collect()
}

/// Groups `failures` (sorted by walk id), finds each group's causes, and counts the heat
/// maps of the positions the causes name.
pub(crate) fn analyse(
    inputs: &Inputs<'_>,
    failures: &[Failure],
) -> (Vec<FailureGroup>, Vec<HeatMap>) {
    let mut groups = groups::group_failures(failures, &|p| inputs.serial.get(p) == Some(&true));
    if groups.is_empty() {
        return (groups, Vec::new());
    }
    let space = Space::new(inputs.sizes, inputs.total, inputs.decode);
    let name = |p: usize| inputs.names[p].clone();
    let positions = inputs.sizes.len();
    // A walk that stopped says nothing of the choices after the action it stopped at: a
    // group's combinations are of the positions its walks ran, and a walk that stopped before
    // a combination's last position counts neither for it nor against it.
    let stopped = Stopped::of(failures, inputs.cancelled, positions);
    let ran = |id: u64| stopped.ran(id);
    let counts: Vec<Counts> = groups
        .iter()
        .map(|group| {
            let largest = space.largest_size(group.walk_ids.len());
            Counts::of_walks(&space, &group.walk_ids, largest, &ran)
        })
        .collect();
    let early = if stopped.walks().is_empty() {
        Early::none()
    } else {
        let ids = groups.iter().flat_map(|group| &group.walk_ids);
        let reach = ids.map(|&id| ran(id)).max().unwrap_or(0);
        Early::of(&space, &counts, stopped.walks(), reach)
    };
    // Per group: its exact causes, or the candidates still to be measured among the others.
    let mut pending: Vec<Pending> = Vec::new();
    for ((at, group), counts) in groups.iter_mut().enumerate().zip(&counts) {
        let others = inputs.walk_count - group.count;
        let exact = causes::exact_causes(&space, counts, &early);
        if !exact.is_empty() {
            group.unexplained = causes::unexplained(&space, &group.walk_ids, &exact, &ran);
            group.causes = exact
                .iter()
                .map(|&(combo, in_group)| {
                    let measured = Measured {
                        combo,
                        in_group,
                        in_others: 0,
                        early: early.get(combo),
                    };
                    causes::cause(&space, &measured, group.count, others, &name, inputs.param)
                })
                .collect();
        }
        match inputs.ran {
            // Every walk ran: exact causes say it all; without one, the others with a
            // combination are the rest of its walks in the space.
            Ran::Every if !exact.is_empty() => {}
            Ran::Every => {
                // Every combination the group has is a candidate: they are measured as
                // they are ranked, not gathered first.
                let measured = || {
                    counts.iter().map(|(combo, in_group)| {
                        let early = early.get(combo);
                        Measured {
                            combo,
                            in_group,
                            in_others: space.containing(combo).saturating_sub(in_group + early),
                            early,
                        }
                    })
                };
                group.causes = causes::suspicions(&space, group.count, measured, &[])
                    .iter()
                    .map(|m| causes::cause(&space, m, group.count, others, &name, inputs.param))
                    .collect();
            }
            // Part of the space ran: an exact cause may be a narrow one (its walks all ran)
            // while a wider combination is the likelier story; both are reported.
            Ran::These(_) | Ran::AllBut(_) => {
                let candidates = causes::candidates(counts, Some(CANDIDATE_POOL));
                let stopped_early = candidates.iter().map(|&(c, _)| early.get(c)).collect();
                pending.push((
                    at,
                    candidates,
                    exact.iter().map(|&(combo, _)| combo).collect(),
                    stopped_early,
                ));
            }
        }
    }
    if !pending.is_empty() {
        let ran_with = measure_candidates(&space, inputs.ran, &pending);
        for ((at, candidates, exact, stopped_early), ran_with) in pending.iter().zip(ran_with) {
            let group = &mut groups[*at];
            let others = inputs.walk_count - group.count;
            if others == 0 {
                // No walk outside the group ran (a replay of its walks, say): every
                // combination of its walks would be a suspect, none told from another.
                continue;
            }
            let measured: Vec<Measured> = candidates
                .iter()
                .zip(ran_with)
                .zip(stopped_early)
                .map(|((&(combo, in_group), ran), &early)| Measured {
                    combo,
                    in_group,
                    in_others: ran.saturating_sub(in_group + early),
                    early,
                })
                .collect();
            let suspicions =
                causes::suspicions(&space, group.count, || measured.iter().copied(), exact);
            group.causes.extend(
                suspicions
                    .iter()
                    .filter(|m| exact.is_empty() || m.in_others == 0)
                    .map(|m| causes::cause(&space, m, group.count, others, &name, inputs.param)),
            );
            // A suspect no other walk has and that covers more of the group tells more than
            // the narrow exact causes inside it: the cleanest and widest come first.
            group.causes.sort_by(|a, b| {
                a.in_others
                    .cmp(&b.in_others)
                    .then(b.in_group.cmp(&a.in_group))
                    .then(a.choices.len().cmp(&b.choices.len()))
            });
        }
    }
    // The heat maps show the positions the causes name, so they are counted once the causes
    // are known: in a partial run, with one more visit of the walks that ran.
    // The failures are read again only as far as the map's positions need (the first
    // failures' positions, when the causes name fewer than two), and the failed walks are
    // counted from the groups' ids, which hold every failure once, packed together.
    let failed_positions = failures.iter().map(|f| f.failed_position);
    let mapped = heat::positions(&groups, failed_positions, inputs.sizes.len());
    let mut heat = HeatCounts::new(&mapped, inputs.sizes);
    let mut options = vec![0; inputs.sizes.len()];
    for &id in groups.iter().flat_map(|group| &group.walk_ids) {
        (inputs.decode)(id, &mut options);
        heat.add_failed(&options, inputs.sizes);
    }
    match inputs.ran {
        Ran::Every => heat.every_walk_ran(&space),
        Ran::These(ran) => ran(&mut |options: &[usize]| heat.add_ran(options, inputs.sizes)),
        Ran::AllBut(not_ran) => {
            heat.every_walk_ran(&space);
            not_ran(&mut |options: &[usize]| heat.remove_ran(options, inputs.sizes));
        }
    }
    let maps = heat.into_maps(inputs.sizes, &name, inputs.param);
    (groups, maps)
}

/// The walks that stopped before the order's last position, each with how many leading
/// positions it ran, sorted by id: the failed walks (up to the action they failed at; a
/// state's own faults count every position, since its `Drop` ran after every action and what
/// made it fail may be any of them) and the cancelled ones (up to the action that cancelled
/// them, which made its choice).
pub(super) struct Stopped {
    walks: Vec<(u64, usize)>,
    positions: usize,
}

impl Stopped {
    /// The stopped walks among `failures` and `cancelled` (each cancelled walk with the
    /// position that cancelled it), in an order of `positions` positions.
    pub(super) fn of(failures: &[Failure], cancelled: &[(u64, usize)], positions: usize) -> Self {
        let failed = failures.iter().filter_map(|failure| match failure.kind {
            FailureKind::State => None,
            _ => Some((failure.walk_id, failure.failed_position)),
        });
        let mut walks: Vec<(u64, usize)> = failed
            .chain(cancelled.iter().copied())
            .map(|(id, position)| (id, position.saturating_add(1)))
            .filter(|&(_, ran)| ran < positions)
            .collect();
        walks.sort_unstable();
        Stopped { walks, positions }
    }

    /// How many leading positions walk `id` ran: every position unless it stopped early.
    pub(super) fn ran(&self, id: u64) -> usize {
        self.walks
            .binary_search_by_key(&id, |&(walk, _)| walk)
            .map_or(self.positions, |at| self.walks[at].1)
    }

    /// Each stopped walk's id and how many leading positions it ran, sorted by id.
    pub(super) fn walks(&self) -> &[(u64, usize)] {
        &self.walks
    }
}

/// How many walks that ran have each pending candidate: one visit of the walks that ran, or
/// of those that did not, whose counts are taken from the candidate's walks in the space.
fn measure_candidates(space: &Space<'_>, ran: Ran<'_>, pending: &[Pending]) -> Vec<Vec<u64>> {
    let (visit, subtract) = match ran {
        Ran::These(visit) => (visit, false),
        Ran::AllBut(visit) => (visit, true),
        Ran::Every => unreachable!("candidates wait for a visit only when part of the space ran"),
    };
    // Candidates are looked up by their first feature: a walk checks only those whose first
    // choice it makes.
    let mut by_first = FirstIndex::new(space.feature_count());
    for (g, (_, candidates, _, _)) in pending.iter().enumerate() {
        for (c, &(combo, _)) in candidates.iter().enumerate() {
            let features = space.unpack(combo);
            let choices: Vec<(usize, usize)> =
                features.iter().map(|&f| space.choice_of(f)).collect();
            let rest = match choices[..] {
                [first] => [first, first],
                [_, second] => [second, second],
                [_, second, third] => [second, third],
                _ => unreachable!("candidates have one to three choices"),
            };
            by_first.push(features[0], (g, c, rest));
        }
    }
    let mut counts: Vec<Vec<u64>> = pending
        .iter()
        .map(|(_, c, _, _)| vec![0; c.len()])
        .collect();
    let mut features = vec![0; space.sizes.len()];
    visit(&mut |options: &[usize]| {
        space.features_of(options, &mut features);
        for &feature in &features {
            for &(g, c, [(p, o), (q, r)]) in by_first.get(feature) {
                if options[p] == o && options[q] == r {
                    counts[g][c] += 1;
                }
            }
        }
    });
    if subtract {
        for ((_, candidates, _, _), counts) in pending.iter().zip(&mut counts) {
            for (&(combo, _), count) in candidates.iter().zip(counts) {
                *count = space.containing(combo) - *count;
            }
        }
    }
    counts
}

/// Candidates by their first feature: a dense table when the order has few options in all
/// (the common case, and the fastest), a map when an action has millions of options.
enum FirstIndex {
    Dense(Vec<Vec<Lookup>>),
    Sparse(std::collections::HashMap<u64, Vec<Lookup>>),
}

impl FirstIndex {
    /// Features up to which the table is dense.
    const DENSE_FEATURES: usize = 1 << 16;

    fn new(features: usize) -> Self {
        if features <= Self::DENSE_FEATURES {
            FirstIndex::Dense((0..features).map(|_| Vec::new()).collect())
        } else {
            FirstIndex::Sparse(std::collections::HashMap::new())
        }
    }

    fn push(&mut self, feature: u64, lookup: Lookup) {
        match self {
            FirstIndex::Dense(table) => table[feature as usize].push(lookup),
            FirstIndex::Sparse(map) => map.entry(feature).or_default().push(lookup),
        }
    }

    fn get(&self, feature: u64) -> &[Lookup] {
        match self {
            FirstIndex::Dense(table) => &table[feature as usize],
            FirstIndex::Sparse(map) => map.get(&feature).map_or(&[], Vec::as_slice),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{failure, lexicographic};

    /// `analyse` of an order of four positions `a b c d`, whose params are their option
    /// indices, in lexicographic order.
    fn analysed(
        sizes: &[usize; 4],
        total: u64,
        walk_count: u64,
        ran: Ran<'_>,
        failures: &[Failure],
    ) -> (Vec<FailureGroup>, Vec<HeatMap>) {
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let decode = lexicographic(sizes);
        let inputs = Inputs {
            sizes,
            names: &names,
            serial: &[false; 4],
            param: &|_, o| o.to_string(),
            decode: &decode,
            total,
            walk_count,
            ran,
            cancelled: &[],
        };
        analyse(&inputs, failures)
    }

    #[test]
    fn a_partial_run_over_a_huge_option_list_measures_suspects_among_the_walks_that_ran() {
        // 100 000 options at position 0: the candidates' index is a map, not a table.
        let sizes = [100_000, 4, 4, 4];
        let total = 100_000 * 64;
        let decode = lexicographic(&sizes);
        // The walks that ran: position 0 below 100, position 3 never 3 (a filter).
        let ran_ids: Vec<u64> = (0..100 * 64).filter(|id| id % 4 != 3).collect();
        let ran = |visit: &mut dyn FnMut(&[usize])| {
            let mut options = [0; 4];
            for &id in &ran_ids {
                decode(id, &mut options);
                visit(&options);
            }
        };
        let mut options = [0; 4];
        let failures: Vec<Failure> = ran_ids
            .iter()
            .filter(|&&id| {
                decode(id, &mut options);
                options[0] < 50 && options[1] == 2 && options[2] == 3
            })
            .map(|&id| failure(id, 3, "d", "broken"))
            .collect();
        assert_eq!(failures.len(), 150);
        assert!(Space::new(&sizes, total, &decode).feature_count() > FirstIndex::DENSE_FEATURES);
        let (groups, maps) = analysed(
            &sizes,
            total,
            ran_ids.len() as u64,
            Ran::These(&ran),
            &failures,
        );
        let best = &groups[0].causes[0];
        assert_eq!(best.to_string(), "b(2) ∧ c(3)");
        assert!(!best.exact);
        assert_eq!(
            best.evidence(),
            "in 150 of 150 failing walks, 150 of 4650 others"
        );
        // The heat map of b x c counts the walks that ran, not the space.
        let map = maps
            .iter()
            .find(|m| (m.rows.position, m.columns.position) == (1, 2))
            .unwrap();
        assert_eq!((map.failed[2][3], map.ran[2][3]), (150, 300));
    }

    #[test]
    fn counting_the_walks_that_did_not_run_finds_what_counting_those_that_ran_does() {
        let sizes = [6, 4, 4, 5];
        let total = 480;
        let decode = lexicographic(&sizes);
        let mut options = [0; 4];
        // A filter removed a walk in eight, and position 3's last option: fewer walks did
        // not run than did.
        let ran = |id: u64, options: &[usize]| id % 8 != 5 && options[3] != 4;
        let walks = |want: bool, visit: &mut dyn FnMut(&[usize])| {
            let mut options = [0; 4];
            for id in 0..total {
                decode(id, &mut options);
                if ran(id, &options) == want {
                    visit(&options);
                }
            }
        };
        let visit_ran = |visit: &mut dyn FnMut(&[usize])| walks(true, visit);
        let visit_not_ran = |visit: &mut dyn FnMut(&[usize])| walks(false, visit);
        let ran_ids: Vec<u64> = (0..total)
            .filter(|&id| {
                decode(id, &mut options);
                ran(id, &options)
            })
            .collect();
        assert!(ran_ids.len() as u64 > total / 2);
        // Two groups: one a pair explains, one that a single choice comes closest to.
        let failures: Vec<Failure> = ran_ids
            .iter()
            .filter_map(|&id| {
                decode(id, &mut options);
                if options[1] == 2 && options[2] == 3 {
                    Some(failure(id, 2, "c", "pair"))
                } else if options[0] == 4 && id % 3 == 0 {
                    Some(failure(id, 3, "d", "often"))
                } else {
                    None
                }
            })
            .collect();
        let walk_count = ran_ids.len() as u64;
        let described = |ran: Ran<'_>| {
            let (groups, maps) = analysed(&sizes, total, walk_count, ran, &failures);
            (format!("{groups:?}"), format!("{maps:?}"), groups.len())
        };
        let these = described(Ran::These(&visit_ran));
        let all_but = described(Ran::AllBut(&visit_not_ran));
        assert_eq!(these.2, 2, "{}", these.0);
        assert!(these.0.contains("in_others"), "{}", these.0);
        assert_eq!(these.0, all_but.0);
        assert_eq!(these.1, all_but.1);
    }

    #[test]
    fn heat_maps_count_every_failure_of_every_group_once() {
        let sizes = [3, 4, 2, 5];
        let total = 120;
        let decode = lexicographic(&sizes);
        let mut options = [0; 4];
        // Three groups (two messages, one of them at two actions) and failures no cause
        // explains, so that the maps' positions come from where walks failed.
        let failures: Vec<Failure> = (0..total)
            .filter(|id| id % 7 == 3 || id % 11 == 5)
            .map(|id| {
                decode(id, &mut options);
                let (position, message) = match id % 3 {
                    0 => (1, "low"),
                    1 => (3, "low"),
                    _ => (3, "high"),
                };
                failure(id, position, ["a", "b", "c", "d"][position], message)
            })
            .collect();
        let (groups, maps) = analysed(&sizes, total, total, Ran::Every, &failures);
        assert_eq!(groups.len(), 3);
        assert!(!maps.is_empty());
        for map in &maps {
            let (p, q) = (map.rows.position, map.columns.position);
            let mut expected = vec![vec![0u64; sizes[q]]; sizes[p]];
            for failure in &failures {
                decode(failure.walk_id, &mut options);
                expected[options[p]][options[q]] += 1;
            }
            assert_eq!(map.failed, expected, "{p} x {q}");
        }
    }

    /// A small random number source for the checks below: xorshift64*, seeded per case, so
    /// that a failing case is found again from its seed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }

        /// 1 or 2 distinct positions of `sizes`, each with a random option: a rule's choices.
        fn choices(&mut self, sizes: &[usize]) -> Vec<(usize, usize)> {
            let first = self.below(sizes.len() as u64) as usize;
            let mut choices = vec![(first, self.below(sizes[first] as u64) as usize)];
            let second = self.below(sizes.len() as u64) as usize;
            if second != first && self.below(2) == 0 {
                choices.push((second, self.below(sizes[second] as u64) as usize));
            }
            choices.sort_unstable();
            choices
        }
    }

    /// The causes a group must have, counted walk by walk over the whole space: a
    /// combination of 1 to 3 choices is exact when a walk of the group ran its last position
    /// with its choices, and every walk of the space with its choices either did too or
    /// stopped before its last position; no proper part of it is exact. Walks of the space
    /// that did not run count against it. `ran_positions(id)` is `None` for a walk that did
    /// not run, else how many leading positions it ran.
    fn exact_by_brute_force(
        sizes: &[usize],
        group: &std::collections::HashSet<u64>,
        ran_positions: &dyn Fn(u64) -> Option<usize>,
    ) -> Vec<Vec<(usize, usize)>> {
        let decode = lexicographic(sizes);
        let total: u64 = sizes.iter().map(|&s| s as u64).product();
        let mut combos: Vec<Vec<(usize, usize)>> = Vec::new();
        let n = sizes.len();
        for size in 1..=3.min(n) {
            let mut positions: Vec<usize> = (0..size).collect();
            loop {
                let mut options = vec![0; size];
                'options: loop {
                    combos.push(positions.iter().copied().zip(options.clone()).collect());
                    for i in (0..size).rev() {
                        options[i] += 1;
                        if options[i] < sizes[positions[i]] {
                            continue 'options;
                        }
                        options[i] = 0;
                    }
                    break;
                }
                let Some(i) = (0..size).rev().find(|&i| positions[i] < n - size + i) else {
                    break;
                };
                positions[i] += 1;
                for j in i + 1..size {
                    positions[j] = positions[j - 1] + 1;
                }
            }
        }
        let mut exact: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut options = vec![0; n];
        for combo in combos {
            let last = combo.last().unwrap().0;
            let mut in_group = 0;
            let mut against = 0;
            for id in 0..total {
                decode(id, &mut options);
                if !combo.iter().all(|&(p, o)| options[p] == o) {
                    continue;
                }
                match ran_positions(id) {
                    Some(ran) if ran <= last => {}
                    Some(_) if group.contains(&id) => in_group += 1,
                    _ => against += 1,
                }
            }
            let has_exact_part = exact
                .iter()
                .any(|part| part.len() < combo.len() && part.iter().all(|c| combo.contains(c)));
            if in_group > 0 && against == 0 && !has_exact_part {
                exact.push(combo);
            }
        }
        exact.sort();
        exact
    }

    /// Random orders of 2 to 4 positions, with walks failing at random bugs (combinations of
    /// choices, failing at their last position), cancelled by other combinations, failing by
    /// chance at a random position, and, in half the cases, only part of the space run: every
    /// cause `analyse` reports has the counts a walk-by-walk count gives, and its exact causes
    /// and unexplained walks are those of the brute-force definition.
    #[test]
    fn causes_match_a_walk_by_walk_count_in_random_runs_with_walks_that_stopped_early() {
        let mut checked_exact = 0;
        let mut checked_early = 0;
        for seed in 1..=400u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let n = 2 + rng.below(3) as usize;
            let sizes: Vec<usize> = (0..n).map(|_| 2 + rng.below(2) as usize).collect();
            let total: u64 = sizes.iter().map(|&s| s as u64).product();
            let decode = lexicographic(&sizes);
            // (choices, cancels): checked at the rule's last position, in this order.
            let rules: Vec<(Vec<(usize, usize)>, bool)> = (0..1 + rng.below(4))
                .map(|_| (rng.choices(&sizes), rng.below(3) == 0))
                .collect();
            let partial = rng.below(2) == 0;
            let mut ran_ids = Vec::new();
            let mut failures = Vec::new();
            let mut cancelled = Vec::new();
            let mut ran_positions = vec![None; total as usize];
            let mut options = vec![0; n];
            for id in 0..total {
                if partial && rng.below(10) < 3 {
                    continue;
                }
                ran_ids.push(id);
                decode(id, &mut options);
                let noise = (rng.below(8) == 0).then(|| rng.below(n as u64) as usize);
                let mut ran = n;
                'positions: for p in 0..n {
                    for (r, (choices, cancels)) in rules.iter().enumerate() {
                        let applies = choices.last().unwrap().0 == p
                            && choices.iter().all(|&(q, o)| options[q] == o);
                        if !applies {
                            continue;
                        }
                        if *cancels {
                            // The engine lists only the walks cancelled before the last
                            // position: those at it ran every choice.
                            if p + 1 < n {
                                cancelled.push((id, p));
                            }
                        } else {
                            let name = ["a", "b", "c", "d"][p];
                            failures.push(failure(id, p, name, &format!("bug {r}")));
                        }
                        ran = p + 1;
                        break 'positions;
                    }
                    if noise == Some(p) {
                        failures.push(failure(id, p, ["a", "b", "c", "d"][p], "noise"));
                        ran = p + 1;
                        break;
                    }
                }
                ran_positions[id as usize] = Some(ran);
            }
            if failures.is_empty() {
                continue;
            }
            let names: Vec<String> = ["a", "b", "c", "d"][..n]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let visit_ran = |visit: &mut dyn FnMut(&[usize])| {
                let mut options = vec![0; n];
                for &id in &ran_ids {
                    decode(id, &mut options);
                    visit(&options);
                }
            };
            let visit_not_ran = |visit: &mut dyn FnMut(&[usize])| {
                let mut options = vec![0; n];
                for id in (0..total).filter(|id| ran_positions[*id as usize].is_none()) {
                    decode(id, &mut options);
                    visit(&options);
                }
            };
            let walk_count = ran_ids.len() as u64;
            let ran = if partial {
                Ran::partly(total, walk_count, true, &visit_ran, &visit_not_ran)
            } else {
                Ran::Every
            };
            let inputs = Inputs {
                sizes: &sizes,
                names: &names,
                serial: &vec![false; n],
                param: &|_, o| o.to_string(),
                decode: &decode,
                total,
                walk_count,
                ran,
                cancelled: &cancelled,
            };
            let (groups, _) = analyse(&inputs, &failures);
            let context =
                format!("seed {seed}: sizes {sizes:?}, rules {rules:?}, partial {partial}");
            for group in &groups {
                let members: std::collections::HashSet<u64> =
                    group.walk_ids.iter().copied().collect();
                let ran_of = |id: u64| ran_positions[id as usize];
                // Every reported cause's counts, walk by walk, over the walks that ran.
                for cause in &group.causes {
                    let combo: Vec<(usize, usize)> = cause
                        .choices
                        .iter()
                        .map(|c| (c.position, c.option))
                        .collect();
                    let last = combo.last().unwrap().0;
                    let (mut in_group, mut in_others) = (0, 0);
                    for &id in &ran_ids {
                        decode(id, &mut options);
                        let has = combo.iter().all(|&(p, o)| options[p] == o);
                        if has && ran_of(id).unwrap() > last {
                            if members.contains(&id) {
                                in_group += 1;
                            } else {
                                in_others += 1;
                            }
                        }
                    }
                    assert_eq!(
                        (cause.in_group, cause.in_others),
                        (in_group, in_others),
                        "{context}: group {:?}, cause {combo:?}",
                        group.message
                    );
                }
                let exact = exact_by_brute_force(&sizes, &members, &ran_of);
                let mut reported: Vec<Vec<(usize, usize)>> = group
                    .causes
                    .iter()
                    .filter(|c| c.exact)
                    .map(|c| c.choices.iter().map(|c| (c.position, c.option)).collect())
                    .collect();
                reported.sort();
                if exact.len() <= causes::MAX_EXACT {
                    assert_eq!(reported, exact, "{context}: group {:?}", group.message);
                } else {
                    assert!(reported.iter().all(|c| exact.contains(c)), "{context}");
                }
                if !exact.is_empty() && exact.len() <= causes::MAX_EXACT {
                    let unexplained = group
                        .walk_ids
                        .iter()
                        .filter(|&&id| {
                            decode(id, &mut options);
                            !exact.iter().any(|combo| {
                                combo.iter().all(|&(p, o)| options[p] == o)
                                    && ran_of(id).unwrap() > combo.last().unwrap().0
                            })
                        })
                        .count() as u64;
                    assert_eq!(group.unexplained, unexplained, "{context}");
                }
                checked_exact += exact.len();
            }
            checked_early += usize::from(
                cancelled.iter().any(|&(_, p)| p + 1 < n)
                    || failures.iter().any(|f| f.failed_position + 1 < n),
            );
        }
        // The random cases did exercise what they are for.
        assert!(checked_exact > 200, "{checked_exact} exact causes checked");
        assert!(
            checked_early > 200,
            "{checked_early} cases with early stops"
        );
    }

    #[test]
    fn repeated_actions_are_numbered_by_appearance() {
        use super::position_names;
        assert_eq!(
            position_names(&["open", "type_text", "save", "type_text"]),
            vec!["open", "type_text#1", "save", "type_text#2"]
        );
    }
}
