//! Causes: the combinations of 1 to 3 choices that every failing walk of a group shares and
//! no other walk has.
//!
//! No walk's options are stored: each failing walk is decoded from its id when it is
//! counted, and the walks that passed are either counted arithmetically (when every walk of
//! the space ran, the walks with a combination number `total / product of its positions'
//! option counts`) or visited once, decoded one at a time.
//!
//! A combination is a sorted list of *features*, one per position: feature
//! `offset[p] + option`, where `offset[p]` is the number of options of the positions before
//! `p`. A combination of `k` features is packed into one `u64` key in base `F` (the number of
//! features), so the counts are flat maps of integers.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::data::{Cause, Choice};

/// Multiply-rotate hashing for integer keys: the keys are combinations of small numbers,
/// which SipHash would hash at several times the cost with no benefit here (no key comes
/// from outside the run).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;
type KeySet = HashSet<u64, BuildHasherDefault<KeyHasher>>;

/// Combination sizes are bounded by this many counter updates per group: beyond it, the
/// largest size is dropped (triples first), so a very wide order stays fast.
const UPDATE_BUDGET: u128 = 200_000_000;

/// Exact causes reported per group at most (the smallest first).
pub(super) const MAX_EXACT: usize = 8;

/// Suspicions reported per group at most.
const MAX_SUSPICIONS: usize = 5;

/// Candidates per group whose count among the other walks a visit of the walks measures,
/// when not every walk ran.
pub(super) const CANDIDATE_POOL: usize = 512;

/// The walk space as the analysis sees it.
pub(crate) struct Space<'a> {
    /// Option count per position.
    pub(crate) sizes: &'a [usize],
    /// The first feature of each position, and the feature count last.
    offsets: Vec<u64>,
    /// The option count of each feature's position: how a combination's count in the space
    /// is found without searching `offsets` for each of its features.
    feature_sizes: Vec<u64>,
    /// Per combination size `k` (index `k - 1`), the fewest walks of the space any
    /// combination of that size is in: an exact cause needs at least that many in its group.
    least_containing: Vec<u64>,
    /// Walks in the space.
    pub(crate) total: u64,
    /// Writes the options of a walk id.
    pub(crate) decode: &'a dyn Fn(u64, &mut [usize]),
}

/// A combination: `size` features packed into `key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Combo {
    pub(super) size: usize,
    pub(super) key: u64,
}

impl<'a> Space<'a> {
    pub(crate) fn new(
        sizes: &'a [usize],
        total: u64,
        decode: &'a dyn Fn(u64, &mut [usize]),
    ) -> Self {
        let mut offsets = Vec::with_capacity(sizes.len() + 1);
        let mut feature_sizes = Vec::new();
        let mut next = 0u64;
        for &size in sizes {
            offsets.push(next);
            next += size as u64;
            feature_sizes.extend(std::iter::repeat_n(size as u64, size));
        }
        offsets.push(next);
        Space {
            sizes,
            offsets,
            feature_sizes,
            least_containing: least_containing(sizes, total),
            total,
            decode,
        }
    }

    fn features(&self) -> u64 {
        self.offsets[self.sizes.len()]
    }

    /// How many features (position, option pairs) the space has.
    pub(super) fn feature_count(&self) -> usize {
        self.features() as usize
    }

    /// Writes the feature of every position of `options` into `features`.
    pub(super) fn features_of(&self, options: &[usize], features: &mut [u64]) {
        for (p, feature) in features.iter_mut().enumerate() {
            *feature = self.offsets[p] + options[p] as u64;
        }
    }

    /// The position and option of a feature.
    pub(super) fn choice_of(&self, feature: u64) -> (usize, usize) {
        let position = self.offsets.partition_point(|&offset| offset <= feature) - 1;
        (position, (feature - self.offsets[position]) as usize)
    }

    /// The features of a combination, in ascending order.
    pub(super) fn unpack(&self, combo: Combo) -> Vec<u64> {
        let base = self.features();
        let mut key = combo.key;
        let mut features = vec![0; combo.size];
        for slot in features.iter_mut().rev() {
            *slot = key % base;
            key /= base;
        }
        features
    }

    fn pack(&self, features: &[u64]) -> u64 {
        let base = self.features();
        features.iter().fold(0, |key, &f| key * base + f)
    }

    /// The (position, option) choices of a combination.
    pub(super) fn choices(&self, combo: Combo) -> Vec<(usize, usize)> {
        self.unpack(combo)
            .into_iter()
            .map(|f| self.choice_of(f))
            .collect()
    }

    /// How many walks of the whole space have the combination.
    pub(super) fn containing(&self, combo: Combo) -> u64 {
        // Asked for every combination a group has (tens of thousands for a large group):
        // its features are read off the key in place rather than unpacked into vectors, and
        // their positions' sizes looked up rather than searched for.
        let base = self.features();
        let mut key = combo.key;
        let mut product = 1u64;
        for _ in 0..combo.size {
            product *= self.feature_sizes[(key % base) as usize];
            key /= base;
        }
        self.total / product
    }

    /// Whether a combination of `size` features counted `count` times in a group may be in
    /// no more walks of the space than that: when it is not, it is no exact cause, and
    /// [`Space::containing`] need not be asked.
    fn may_be_exact(&self, size: usize, count: u64) -> bool {
        self.least_containing
            .get(size - 1)
            .is_none_or(|&least| count >= least)
    }

    /// The largest combination size worth counting over `walks` failing walks: keys must
    /// fit in a `u64` and the counter updates in the budget.
    pub(super) fn largest_size(&self, walks: usize) -> usize {
        let n = self.sizes.len() as u128;
        let base = u128::from(self.features());
        let walks = walks as u128;
        let fits = |k: u32| {
            base.checked_pow(k)
                .is_some_and(|b| b <= u128::from(u64::MAX))
        };
        let triples = n * n.saturating_sub(1) * n.saturating_sub(2) / 6;
        let pairs = n * n.saturating_sub(1) / 2;
        if fits(3) && triples * walks <= UPDATE_BUDGET {
            3.min(self.sizes.len())
        } else if fits(2) && pairs * walks <= UPDATE_BUDGET {
            2.min(self.sizes.len())
        } else {
            1
        }
    }
}

/// Per combination size `k` from 1 to 3, the fewest walks of the space of `total` walks a
/// combination of `k` choices is in: [`Space::containing`] of the `k` largest positions
/// (a quotient only grows as its divisor shrinks). A product past `u64` bounds nothing (0).
fn least_containing(sizes: &[usize], total: u64) -> Vec<u64> {
    let mut largest: Vec<u64> = sizes.iter().map(|&size| size as u64).collect();
    largest.sort_unstable_by(|a, b| b.cmp(a));
    let mut product = 1u64;
    largest
        .iter()
        .take(3)
        .map(|&size| {
            product = product.saturating_mul(size);
            if product == u64::MAX {
                0
            } else {
                total / product
            }
        })
        .collect()
}

/// Combinations of one size counted in an array indexed by their key, when the array has
/// at most this many counters: 1 MiB of them.
const DENSE_COUNTERS: u64 = 1 << 18;

/// The counts of the combinations of one size.
enum Tally {
    /// By key: for sizes whose keys are too many for an array.
    Map(KeyMap<u32>),
    /// One counter per key, indexed by it: for a group that updates many counters of a size
    /// with few keys (a counter update is then an add, not a hash lookup).
    Dense(Vec<u32>),
}

impl Tally {
    /// The tally for combinations of keys below `keys`, which a group updates `updates`
    /// times: an array when it fits in [`DENSE_COUNTERS`] and the updates outnumber an
    /// eighth of its counters (reading it back then costs less than the updates save).
    fn new(keys: u128, updates: u128, dense_counters: u64) -> Self {
        if keys <= u128::from(dense_counters) && updates.saturating_mul(8) >= keys {
            Tally::Dense(vec![0; keys as usize])
        } else {
            Tally::Map(KeyMap::default())
        }
    }

    /// Every key counted, with its count, in no particular order.
    fn entries(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        let (map, dense) = match self {
            Tally::Map(map) => (Some(map), None),
            Tally::Dense(counters) => (None, Some(counters)),
        };
        let from_map = map
            .into_iter()
            .flat_map(|map| map.iter().map(|(&key, &count)| (key, count)));
        let from_dense = dense.into_iter().flat_map(|counters| {
            counters
                .iter()
                .enumerate()
                .filter(|&(_, &count)| count > 0)
                .map(|(key, &count)| (key as u64, count))
        });
        from_map.chain(from_dense)
    }
}

/// How often each combination of 1 to `largest` choices occurs among a group's walks.
pub(super) struct Counts {
    by_size: Vec<Tally>,
}

impl Counts {
    /// Counts the combinations of the walks `ids`, decoding one walk at a time.
    #[cfg(test)]
    pub(super) fn of(space: &Space<'_>, ids: &[u64], largest: usize) -> Self {
        Self::counted(space, ids, largest, &|_| space.sizes.len(), DENSE_COUNTERS)
    }

    /// [`Counts::of`], each walk counted over the combinations of the positions it ran only
    /// (its first `ran(id)`): a choice after the action a walk failed at is no cause of its
    /// failure.
    pub(super) fn of_walks(
        space: &Space<'_>,
        ids: &[u64],
        largest: usize,
        ran: &dyn Fn(u64) -> usize,
    ) -> Self {
        Self::counted(space, ids, largest, ran, DENSE_COUNTERS)
    }

    /// [`Counts::of_walks`], counting a size in an array when it has at most
    /// `dense_counters` keys.
    fn counted(
        space: &Space<'_>,
        ids: &[u64],
        largest: usize,
        ran: &dyn Fn(u64) -> usize,
        dense_counters: u64,
    ) -> Self {
        let n = space.sizes.len();
        let base = space.features();
        let walks = ids.len() as u128;
        let n128 = n as u128;
        let by_size: Vec<Tally> = (1..=largest as u32)
            .map(|size| {
                let keys = u128::from(base).saturating_pow(size);
                let per_walk = match size {
                    1 => n128,
                    2 => n128 * n128.saturating_sub(1) / 2,
                    _ => n128 * n128.saturating_sub(1) * n128.saturating_sub(2) / 6,
                };
                Tally::new(keys, per_walk * walks, dense_counters)
            })
            .collect();
        let mut by_size = by_size;
        let mut options = vec![0; n];
        let mut all_features = vec![0; n];
        for &id in ids {
            (space.decode)(id, &mut options);
            space.features_of(&options, &mut all_features);
            let features = &all_features[..ran(id).min(n)];
            // Each size's tally is matched once per walk, not once per combination: a walk
            // of n positions has n(n-1)(n-2)/6 triples.
            for (i, tally) in by_size.iter_mut().enumerate() {
                match tally {
                    Tally::Dense(counters) => {
                        // A slice: its bounds stay in registers across the updates.
                        let counters = counters.as_mut_slice();
                        for_each_combo(features, base, i + 1, |key| counters[key as usize] += 1);
                    }
                    Tally::Map(map) => {
                        for_each_combo(features, base, i + 1, |key| {
                            *map.entry(key).or_default() += 1;
                        });
                    }
                }
            }
        }
        Counts { by_size }
    }

    /// Every combination counted, with its count, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (Combo, u64)> + '_ {
        self.by_size.iter().enumerate().flat_map(|(i, tally)| {
            tally
                .entries()
                .map(move |(key, count)| (Combo { size: i + 1, key }, u64::from(count)))
        })
    }
}

/// Calls `count` with the key of every combination of `size` (1 to 3) of `features`, in
/// base `base`.
#[inline(always)]
fn for_each_combo(features: &[u64], base: u64, size: usize, mut count: impl FnMut(u64)) {
    let n = features.len();
    match size {
        1 => features.iter().for_each(|&a| count(a)),
        2 => {
            for a in 0..n {
                for &b in &features[a + 1..] {
                    count(features[a] * base + b);
                }
            }
        }
        _ => {
            for a in 0..n {
                for b in a + 1..n {
                    let pair = features[a] * base + features[b];
                    for &c in &features[b + 1..] {
                        count(pair * base + c);
                    }
                }
            }
        }
    }
}

/// The proper sub-combinations of a combination of up to 3 features, packed.
fn proper_subsets(space: &Space<'_>, features: &[u64]) -> Vec<(usize, u64)> {
    match *features {
        [a, b] => vec![(1, a), (1, b)],
        [a, b, c] => vec![
            (1, a),
            (1, b),
            (1, c),
            (2, space.pack(&[a, b])),
            (2, space.pack(&[a, c])),
            (2, space.pack(&[b, c])),
        ],
        _ => Vec::new(),
    }
}

/// For the combinations the groups' [`Counts`] hold: how many walks have the combination's
/// choices but stopped (failed or were cancelled) before its last position. Such a walk says
/// nothing about the combination: it neither failed nor passed with it.
pub(super) struct Early {
    by_size: Vec<KeyMap<u32>>,
}

impl Early {
    /// Counts, among `stopped` (each walk's id and how many leading positions it ran, sorted
    /// by id), the walks that stopped before the last position of each combination some
    /// group counted (`counts`, one per group). What a walk says of a combination does not
    /// depend on the group, so the walks are visited once for all groups. Only combinations
    /// within the first `reach` positions are counted: every group's combinations end there
    /// (see [`Counts::of_walks`]).
    pub(super) fn of(
        space: &Space<'_>,
        counts: &[Counts],
        stopped: &[(u64, usize)],
        reach: usize,
    ) -> Self {
        let n = space.sizes.len();
        let reach = reach.min(n);
        let base = space.features();
        let largest = counts.iter().map(|c| c.by_size.len()).max().unwrap_or(0);
        // The combinations some group counted, each at 0: only those are counted here.
        let mut by_size: Vec<KeyMap<u32>> = (0..largest).map(|_| KeyMap::default()).collect();
        for group in counts {
            for (tally, early) in group.by_size.iter().zip(&mut by_size) {
                for (key, _) in tally.entries() {
                    early.entry(key).or_insert(0);
                }
            }
        }
        // Every choice of a counted combination was counted alone: a stopped walk is looked
        // at over those of its choices only, and passed over if none of them comes after it
        // stopped. Most of its choices are usually in no group's combinations.
        let mut counted_alone = vec![false; space.feature_count()];
        if let Some(singles) = by_size.first() {
            for &feature in singles.keys() {
                counted_alone[feature as usize] = true;
            }
        }
        let mut options = vec![0; n];
        let mut features = vec![0; n];
        let mut kept = Vec::with_capacity(n);
        for &(id, ran) in stopped {
            if ran >= reach {
                continue; // it ran every position of the groups' combinations
            }
            (space.decode)(id, &mut options);
            space.features_of(&options, &mut features);
            kept.clear();
            let mut late_from = None;
            for (position, &feature) in features[..reach].iter().enumerate() {
                if counted_alone[feature as usize] {
                    if position >= ran && late_from.is_none() {
                        late_from = Some(kept.len());
                    }
                    kept.push(feature);
                }
            }
            let Some(late_from) = late_from else {
                continue;
            };
            for (i, early) in by_size.iter_mut().enumerate() {
                for_each_late_combo(&kept, base, i + 1, late_from, |key| {
                    if let Some(count) = early.get_mut(&key) {
                        *count += 1;
                    }
                });
            }
        }
        Early { by_size }
    }

    /// No walk stopped early.
    pub(super) fn none() -> Self {
        Early {
            by_size: Vec::new(),
        }
    }

    /// The walks with `combo`'s choices that stopped before its last position.
    pub(super) fn get(&self, combo: Combo) -> u64 {
        self.by_size
            .get(combo.size - 1)
            .and_then(|early| early.get(&combo.key))
            .map_or(0, |&count| u64::from(count))
    }
}

/// Calls `count` with the key of every combination of `size` (1 to 3) of `features` whose
/// last feature is at index `from` or later, in base `base`.
fn for_each_late_combo(
    features: &[u64],
    base: u64,
    size: usize,
    from: usize,
    mut count: impl FnMut(u64),
) {
    let n = features.len();
    match size {
        1 => features.iter().skip(from).for_each(|&c| count(c)),
        2 => {
            for c in from..n {
                for &a in &features[..c] {
                    count(a * base + features[c]);
                }
            }
        }
        _ => {
            for c in from..n {
                for b in 1..c {
                    for &a in &features[..b] {
                        count((a * base + features[b]) * base + features[c]);
                    }
                }
            }
        }
    }
}

/// The minimal exact causes: combinations every walk of the space with which ran and failed
/// in the group, but those that stopped before the combination's last position (`early`):
/// their count in the group equals their count in the space less those. None of their
/// proper sub-combinations is one. Smallest first.
pub(super) fn exact_causes(space: &Space<'_>, counts: &Counts, early: &Early) -> Vec<(Combo, u64)> {
    let mut exact: Vec<KeySet> = (0..counts.by_size.len())
        .map(|_| KeySet::default())
        .collect();
    let mut found = Vec::new();
    for (i, tally) in counts.by_size.iter().enumerate() {
        let size = i + 1;
        for (key, count) in tally.entries() {
            let combo = Combo { size, key };
            let count = u64::from(count);
            let stopped = early.get(combo);
            if !space.may_be_exact(size, count + stopped)
                || count + stopped != space.containing(combo)
            {
                continue;
            }
            let features = space.unpack(combo);
            let has_exact_part = proper_subsets(space, &features)
                .iter()
                .any(|&(size, key)| exact[size - 1].contains(&key));
            if !has_exact_part {
                found.push((combo, count));
            }
        }
        for &(combo, _) in found.iter().filter(|(c, _)| c.size == size) {
            exact[i].insert(combo.key);
        }
    }
    found.sort_by(|(a, ca), (b, cb)| a.size.cmp(&b.size).then(cb.cmp(ca)).then(a.cmp(b)));
    found.truncate(MAX_EXACT);
    found
}

/// Walks of `ids` that have none of `causes`, a walk having a cause when it made its choices
/// and ran its last position (it ran its first `ran(id)` positions).
pub(super) fn unexplained(
    space: &Space<'_>,
    ids: &[u64],
    causes: &[(Combo, u64)],
    ran: &dyn Fn(u64) -> usize,
) -> u64 {
    let choices: Vec<Vec<(usize, usize)>> = causes.iter().map(|&(c, _)| space.choices(c)).collect();
    let mut options = vec![0; space.sizes.len()];
    let mut missing = 0;
    for &id in ids {
        (space.decode)(id, &mut options);
        let ran = ran(id);
        let explained = choices
            .iter()
            .any(|cause| cause.iter().all(|&(p, o)| p < ran && options[p] == o));
        if !explained {
            missing += 1;
        }
    }
    missing
}

/// The combinations worth measuring among the other walks: the `pool` most frequent in the
/// group (the smaller first on ties), or all of them when `pool` is `None`; in no particular
/// order ([`suspicions`] ranks them).
pub(super) fn candidates(counts: &Counts, pool: Option<usize>) -> Vec<(Combo, u64)> {
    let mut all: Vec<(Combo, u64)> = counts.iter().collect();
    let order = |a: &(Combo, u64), b: &(Combo, u64)| {
        b.1.cmp(&a.1)
            .then(a.0.size.cmp(&b.0.size))
            .then(a.0.key.cmp(&b.0.key))
    };
    if let Some(pool) = pool {
        if all.len() > pool {
            all.select_nth_unstable_by(pool, order);
            all.truncate(pool);
        }
    }
    all
}

/// A measured candidate: its count in the group and among the other walks that ran, and
/// the walks with it that stopped before its last position ([`Early`]), which are neither.
#[derive(Clone, Copy)]
pub(super) struct Measured {
    pub(super) combo: Combo,
    pub(super) in_group: u64,
    pub(super) in_others: u64,
    pub(super) early: u64,
}

/// Candidates ranked before the rest when choosing suspicions: the few chosen are nearly
/// always among them.
const RANKED_HEAD: usize = MAX_SUSPICIONS * 16;

/// A candidate with its score, as suspicions are ranked.
type Scored = (f64, Measured);

/// The best suspicions among the candidates `measured` yields (each time it is called, the
/// same candidates in any order): ranked by how much of the group they cover against how
/// many other walks have them (the Jaccard index `in_group / (group + in_others)`), the
/// smaller on ties; a combination is dropped when a better-ranked one is part of it, and so
/// is one that holds an exact cause (`exact`), which says more.
///
/// A large group has tens of thousands of candidates, and the few chosen are nearly always
/// among the [`RANKED_HEAD`] best ranked: only those are kept from a first pass, and the
/// candidates are ranked in full, from a second, only if those run out. The order is total,
/// so the choice is the same as after a full sort.
pub(super) fn suspicions<I: Iterator<Item = Measured>>(
    space: &Space<'_>,
    group: u64,
    measured: impl Fn() -> I,
    exact: &[Combo],
) -> Vec<Measured> {
    let score = |m: Measured| -> Scored { (m.in_group as f64 / (group + m.in_others) as f64, m) };
    let exact: Vec<Vec<u64>> = exact.iter().map(|&c| space.unpack(c)).collect();
    let (head, complete) = best_ranked(measured().map(score));
    let chosen = choose(space, &head, &exact);
    if complete || chosen.len() == MAX_SUSPICIONS {
        return chosen;
    }
    let mut ranked: Vec<Scored> = measured().map(score).collect();
    ranked.sort_by(rank);
    choose(space, &ranked, &exact)
}

/// The order of suspicions: best score first, then the smaller, the rarer among the other
/// walks, the lower key. Total: no two candidates share a size and key.
fn rank((sa, a): &Scored, (sb, b): &Scored) -> std::cmp::Ordering {
    sb.total_cmp(sa)
        .then(a.combo.size.cmp(&b.combo.size))
        .then(a.in_others.cmp(&b.in_others))
        .then(a.combo.key.cmp(&b.combo.key))
}

/// The [`RANKED_HEAD`] best of `scored` in rank order, and whether they are all of them.
/// Candidates are kept in a buffer cut back to the best whenever it fills, and one ranked
/// below the worst kept after a cut is passed over at once.
fn best_ranked(scored: impl Iterator<Item = Scored>) -> (Vec<Scored>, bool) {
    const BUFFER: usize = RANKED_HEAD * 4;
    let mut kept: Vec<Scored> = Vec::with_capacity(BUFFER);
    let mut cut_at: Option<Scored> = None;
    let mut complete = true;
    for candidate in scored {
        if cut_at.is_some_and(|worst| rank(&candidate, &worst).is_ge()) {
            continue;
        }
        kept.push(candidate);
        if kept.len() == BUFFER {
            kept.select_nth_unstable_by(RANKED_HEAD - 1, rank);
            kept.truncate(RANKED_HEAD);
            cut_at = Some(kept[RANKED_HEAD - 1]);
            complete = false;
        }
    }
    if kept.len() > RANKED_HEAD {
        kept.select_nth_unstable_by(RANKED_HEAD - 1, rank);
        kept.truncate(RANKED_HEAD);
        complete = false;
    }
    kept.sort_by(rank);
    (kept, complete)
}

/// Up to [`MAX_SUSPICIONS`] suspicions chosen, best ranked first, from `ranked` (in rank
/// order): a candidate is passed over when a chosen one or an exact cause is part of it.
fn choose(space: &Space<'_>, ranked: &[Scored], exact: &[Vec<u64>]) -> Vec<Measured> {
    let mut chosen: Vec<(Measured, Vec<u64>)> = Vec::new();
    for &(_, candidate) in ranked {
        if chosen.len() == MAX_SUSPICIONS {
            break;
        }
        let features = space.unpack(candidate.combo);
        let covered = chosen
            .iter()
            .map(|(_, part)| part)
            .chain(exact)
            .any(|part| part.iter().all(|f| features.contains(f)));
        if !covered {
            chosen.push((candidate, features));
        }
    }
    chosen.into_iter().map(|(m, _)| m).collect()
}

/// A cause as the report shows it.
pub(super) fn cause(
    space: &Space<'_>,
    measured: &Measured,
    group: u64,
    others: u64,
    name: &dyn Fn(usize) -> String,
    param: &dyn Fn(usize, usize) -> String,
) -> Cause {
    Cause {
        choices: space
            .choices(measured.combo)
            .into_iter()
            .map(|(position, option)| Choice {
                position,
                action: name(position),
                option,
                param: param(position, option),
            })
            .collect(),
        exact: measured.in_group + measured.early == space.containing(measured.combo),
        in_group: measured.in_group,
        group_size: group,
        in_others: measured.in_others,
        others,
        confirmation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{lexicographic, Xorshift};

    #[test]
    fn counts_in_arrays_are_the_counts_in_maps() {
        let sizes = [3, 4, 5, 2];
        let decode = lexicographic(&sizes);
        let space = Space::new(&sizes, 120, &decode);
        let sorted = |counts: &Counts| {
            let mut all: Vec<(Combo, u64)> = counts.iter().collect();
            all.sort();
            all
        };
        for ids in [
            vec![7],
            (0..120).step_by(7).collect(),
            (0..120).collect::<Vec<u64>>(),
        ] {
            for largest in 1..=3 {
                let n = space.sizes.len();
                let in_maps = Counts::counted(&space, &ids, largest, &|_| n, 0);
                let in_arrays = Counts::counted(&space, &ids, largest, &|_| n, u64::MAX);
                assert!(in_maps.by_size.iter().all(|t| matches!(t, Tally::Map(_))));
                if ids.len() == 120 {
                    assert!(in_arrays
                        .by_size
                        .iter()
                        .all(|t| matches!(t, Tally::Dense(_))));
                }
                assert_eq!(sorted(&in_arrays), sorted(&in_maps), "{largest} {ids:?}");
                assert_eq!(
                    exact_causes(&space, &in_arrays, &Early::none()),
                    exact_causes(&space, &in_maps, &Early::none())
                );
            }
        }
    }

    /// `suspicions` as it was before it ranked a head first: a full sort, then the greedy
    /// choice.
    fn suspicions_by_full_sort(
        space: &Space<'_>,
        group: u64,
        mut measured: Vec<Measured>,
    ) -> Vec<(Combo, u64, u64)> {
        let score = |m: &Measured| m.in_group as f64 / (group + m.in_others) as f64;
        measured.sort_by(|a, b| {
            score(b)
                .total_cmp(&score(a))
                .then(a.combo.size.cmp(&b.combo.size))
                .then(a.in_others.cmp(&b.in_others))
                .then(a.combo.key.cmp(&b.combo.key))
        });
        let mut chosen: Vec<(Measured, Vec<u64>)> = Vec::new();
        for candidate in measured {
            if chosen.len() == MAX_SUSPICIONS {
                break;
            }
            let features = space.unpack(candidate.combo);
            if !chosen
                .iter()
                .any(|(_, part)| part.iter().all(|f| features.contains(f)))
            {
                chosen.push((candidate, features));
            }
        }
        chosen
            .into_iter()
            .map(|(m, _)| (m.combo, m.in_group, m.in_others))
            .collect()
    }

    #[test]
    fn suspicions_choose_as_a_full_sort_would_when_the_best_ranked_run_out() {
        let sizes = [4, 4, 4, 4, 4];
        let decode = lexicographic(&sizes);
        let space = Space::new(&sizes, 4u64.pow(5), &decode);
        let mut random = Xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |below: u64| random.below(below);
        for round in 0..200 {
            // Many candidates share a few features, so that most of the best ranked are
            // covered by a better one and the choice reaches past the head.
            let count = [3, 50, 81, 400][round % 4];
            let measured: Vec<Measured> = (0..count)
                .map(|_| {
                    let size = 1 + next(3) as usize;
                    let mut features: Vec<u64> = Vec::new();
                    for p in 0..5u64 {
                        if round % 2 == 0 || next(2) == 0 {
                            features.push(p * 4 + next(if round % 3 == 0 { 1 } else { 4 }));
                        }
                    }
                    features.truncate(size.max(1));
                    if features.is_empty() {
                        features.push(next(20));
                    }
                    Measured {
                        combo: Combo {
                            size: features.len(),
                            key: space.pack(&features),
                        },
                        in_group: 1 + next(30),
                        in_others: next(100),
                        early: 0,
                    }
                })
                .collect();
            let expected = suspicions_by_full_sort(&space, 40, measured.clone());
            let got: Vec<(Combo, u64, u64)> =
                suspicions(&space, 40, || measured.iter().copied(), &[])
                    .into_iter()
                    .map(|m| (m.combo, m.in_group, m.in_others))
                    .collect();
            assert_eq!(got, expected, "round {round}");
        }
    }

    #[test]
    fn the_best_ranked_kept_in_one_pass_are_the_head_of_a_full_sort() {
        let mut random = Xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |below: u64| random.below(below);
        for count in [0, 1, 79, 80, 81, 319, 320, 321, 1000, 5000] {
            // Few distinct scores, so that ties are broken by size, in_others and key.
            let scored: Vec<Scored> = (0..count)
                .map(|key| {
                    let m = Measured {
                        combo: Combo {
                            size: 1 + next(3) as usize,
                            key,
                        },
                        in_group: 1 + next(4),
                        in_others: next(3),
                        early: 0,
                    };
                    (m.in_group as f64 / (10 + m.in_others) as f64, m)
                })
                .collect();
            let mut sorted = scored.clone();
            sorted.sort_by(rank);
            let (head, complete) = best_ranked(scored.into_iter());
            let key = |s: &[Scored]| -> Vec<(usize, u64)> {
                s.iter().map(|(_, m)| (m.combo.size, m.combo.key)).collect()
            };
            assert_eq!(key(&head), key(&sorted[..RANKED_HEAD.min(sorted.len())]));
            assert_eq!(complete, sorted.len() <= RANKED_HEAD, "{count}");
        }
    }

    #[test]
    fn a_planted_pair_is_the_only_minimal_exact_cause() {
        let sizes = [3, 2, 4, 2];
        let decode = lexicographic(&sizes);
        let space = Space::new(&sizes, 48, &decode);
        let mut options = [0; 4];
        let failing: Vec<u64> = (0..48)
            .filter(|&id| {
                decode(id, &mut options);
                options[0] == 2 && options[3] == 1
            })
            .collect();
        let counts = Counts::of(&space, &failing, 3);
        let exact = exact_causes(&space, &counts, &Early::none());
        assert_eq!(exact.len(), 1);
        assert_eq!(space.choices(exact[0].0), vec![(0, 2), (3, 1)]);
        assert_eq!(exact[0].1, 8);
        assert_eq!(unexplained(&space, &failing, &exact, &|_| usize::MAX), 0);
    }

    /// How many walks of the space have a combination, from its choices: the quotient of the
    /// space by its positions' option counts.
    fn containing_from_choices(space: &Space<'_>, combo: Combo) -> u64 {
        let product: u64 = space
            .choices(combo)
            .iter()
            .map(|&(position, _)| space.sizes[position] as u64)
            .product();
        space.total / product
    }

    /// `exact_causes` as it was before combinations were bounded by size: every combination
    /// counted is compared with its count in the space.
    fn exact_causes_asking_every_combination(
        space: &Space<'_>,
        counts: &Counts,
    ) -> Vec<(Combo, u64)> {
        let mut found: Vec<(Combo, u64)> = Vec::new();
        let mut all: Vec<(Combo, u64)> = counts.iter().collect();
        all.sort();
        for (combo, count) in all {
            if count != containing_from_choices(space, combo) {
                continue;
            }
            let features = space.unpack(combo);
            let has_exact_part = found.iter().any(|(part, _)| {
                part.size < combo.size && {
                    let part = space.unpack(*part);
                    part.iter().all(|f| features.contains(f))
                }
            });
            if !has_exact_part {
                found.push((combo, count));
            }
        }
        found.sort_by(|(a, ca), (b, cb)| a.size.cmp(&b.size).then(cb.cmp(ca)).then(a.cmp(b)));
        found.truncate(MAX_EXACT);
        found
    }

    #[test]
    fn combinations_are_counted_in_the_space_as_their_choices_say() {
        let sizes = [3, 1, 5, 2, 4];
        let total: u64 = sizes.iter().map(|&s| s as u64).product();
        let decode = lexicographic(&sizes);
        let space = Space::new(&sizes, total, &decode);
        let all: Vec<u64> = (0..total).collect();
        let counts = Counts::of(&space, &all, 3);
        let mut least = [u64::MAX; 3];
        for (combo, count) in counts.iter() {
            let containing = space.containing(combo);
            // Every walk ran, so a combination's count is its count in the space.
            assert_eq!(containing, count, "{:?}", space.choices(combo));
            assert_eq!(containing, containing_from_choices(&space, combo));
            assert!(space.may_be_exact(combo.size, containing));
            least[combo.size - 1] = least[combo.size - 1].min(containing);
        }
        // The bound is the least count of each size, so it rules out only what is below it.
        assert_eq!(space.least_containing, least.to_vec());
        assert!(!space.may_be_exact(3, least[2] - 1));
        // A product past u64 bounds nothing.
        assert_eq!(
            least_containing(&[1 << 40, 2, 1 << 40], u64::MAX),
            [u64::MAX >> 40, 0, 0]
        );
    }

    #[test]
    fn exact_causes_bounded_by_size_are_those_of_every_combination_asked() {
        let sizes = [3, 2, 4, 2, 5];
        let total: u64 = sizes.iter().map(|&s| s as u64).product();
        let decode = lexicographic(&sizes);
        let space = Space::new(&sizes, total, &decode);
        let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = |below: u64| random.below(below);
        let mut options = [0; 5];
        for round in 0..100 {
            // Planted causes of one to three choices, and walks failing at random.
            let planted: Vec<Vec<(usize, usize)>> = (0..1 + next(3))
                .map(|_| {
                    let mut choices: Vec<(usize, usize)> = (0..1 + next(3))
                        .map(|_| {
                            let p = next(5) as usize;
                            (p, next(sizes[p] as u64) as usize)
                        })
                        .collect();
                    choices.sort();
                    choices.dedup_by_key(|c| c.0);
                    choices
                })
                .collect();
            let noise = [0, 50, 7][round % 3];
            let failing: Vec<u64> = (0..total)
                .filter(|&id| {
                    decode(id, &mut options);
                    planted
                        .iter()
                        .any(|cause| cause.iter().all(|&(p, o)| options[p] == o))
                        || (noise > 0 && next(noise) == 0)
                })
                .collect();
            for largest in 1..=3 {
                let counts = Counts::of(&space, &failing, largest);
                assert_eq!(
                    exact_causes(&space, &counts, &Early::none()),
                    exact_causes_asking_every_combination(&space, &counts),
                    "round {round}, {planted:?}"
                );
            }
        }
    }

    #[test]
    fn features_round_trip() {
        let sizes = [3, 5, 2];
        let decode = lexicographic(&sizes);
        let space = Space::new(&sizes, 30, &decode);
        let combo = Combo {
            size: 2,
            key: space.pack(&[1, 9]),
        };
        assert_eq!(space.choices(combo), vec![(0, 1), (2, 1)]);
        assert_eq!(space.containing(combo), 5);
        assert_eq!(space.largest_size(10), 3);
    }
}
