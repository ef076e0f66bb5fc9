//! Covering arrays: a small set of walks in which every combination of options of any `t`
//! positions appears at least once.
//!
//! The full product of 20 actions with 10 options is 10^20 walks; a pairwise (t = 2) covering
//! array of it has about 200. The generator is usable on its own, sizes in, rows out:
//!
//! ```
//! use combtest::covering::Generator;
//!
//! let array = Generator::new(&[3, 3, 3, 3], 2).generate();
//! assert!(array.rows.len() <= 10);
//! assert_eq!(array.covered, array.total_tuples); // every pair of options, of every 2 positions
//! ```
//!
//! Where mathematics gives the optimum, the array is built rather than searched: the full
//! product when the strength is the number of positions; the others' sum in the smallest
//! position at strength n - 1; constant-weight binary words pairwise over two options (2^100
//! in 10 rows); Bush's orthogonal arrays over a finite field when the t largest sizes equal
//! a prime power q and there are at most q + 1 positions (3^4: 9, 7^8: 49, 4^6 at t = 3: 64).
//!
//! Otherwise the algorithm is a greedy one in the AETG/PICT family. Each new row starts from
//! an uncovered t-tuple holding the position-option pair that appears in the most uncovered
//! tuples, then fills the other positions in a random order, each with the option that covers
//! the most new tuples; of several such candidate rows the one covering most is kept. A final
//! pass removes rows whose every tuple another row also covers, and rows whose tuples fit in
//! other rows' free positions. Randomness comes from a seeded generator, so the same sizes,
//! strength, seed and constraints give the same rows.
//!
//! With a constraint (a predicate over whole rows, [`Allowed`]), only rows it allows are
//! used. When no candidate row is allowed, an uncovered tuple is completed into an allowed
//! row by a search that is exhaustive when the completions are few
//! ([`EXHAUSTIVE_COMPLETIONS`]) and sampled otherwise. A tuple with no allowed completion is
//! *infeasible*; one whose completions were too many to search and whose samples found none
//! is *unresolved*. Both are reported, never dropped, and the proofs are kept across
//! attempts. A [`Partial`] constraint also judges partial rows: refused options are passed
//! over while rows are built, the completion search is cut short where it refuses, and a
//! tuple it refuses by itself is infeasible at once. The full product is never enumerated
//! (except when it is the answer).

use std::collections::{HashMap, HashSet};

mod construct;
mod product;

/// Above this many tuples the generator refuses the strength: the bookkeeping would not fit.
pub const MAX_TUPLES: u64 = 200_000_000;

/// Completions of a tuple searched exhaustively when looking for an allowed row (with a
/// partial constraint: calls of the constraints the search may make).
pub const EXHAUSTIVE_COMPLETIONS: u64 = 1 << 20;

/// Random completions tried for a tuple whose completions are too many to search.
const SAMPLED_COMPLETIONS: usize = 4096;

/// A t-way combination: options at positions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Tuple {
    /// The positions, increasing.
    pub positions: Vec<usize>,
    /// The option index at each position.
    pub options: Vec<usize>,
}

/// The rows of a covering array and what they cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoveringArray {
    /// Each row picks an option index for every position.
    pub rows: Vec<Vec<usize>>,
    /// The strength `t`.
    pub strength: usize,
    /// t-tuples covered by the rows.
    pub covered: u64,
    /// t-tuples of the model (covered, infeasible and unresolved).
    pub total_tuples: u64,
    /// Tuples that no allowed row contains (proven by exhaustive search).
    pub infeasible: Vec<Tuple>,
    /// Tuples for which no allowed row was found, without proof that none exists.
    pub unresolved: Vec<Tuple>,
}

/// Errors of the generator's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoveringError {
    /// The strength is not between 1 and the number of positions (nor within 2..=6 in runs).
    Strength {
        /// The strength asked for.
        strength: usize,
        /// The number of positions.
        positions: usize,
    },
    /// A position has no option.
    EmptyPosition(usize),
    /// Too many t-tuples to track.
    TooManyTuples(u64),
    /// A must-include row does not fit the sizes, or the constraint refuses it.
    MustInclude(String),
}

impl std::fmt::Display for CoveringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoveringError::Strength {
                strength,
                positions,
            } => write!(
                f,
                "strength {strength} needs between 1 and {positions} positions' worth of actions"
            ),
            CoveringError::EmptyPosition(p) => write!(f, "position {p} has no option"),
            CoveringError::TooManyTuples(n) => write!(
                f,
                "{n} t-tuples are too many to cover (at most {MAX_TUPLES}); lower the strength"
            ),
            CoveringError::MustInclude(why) => write!(f, "a must-include walk {why}"),
        }
    }
}

impl std::error::Error for CoveringError {}

/// SplitMix64. The generator must give the same rows for the same seed on every machine and
/// every release of combtest; a fixed, published algorithm guarantees that, where a general
/// purpose RNG crate reserves the right to change its streams.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// One combination of `t` positions and where its tuples live in the tables.
#[derive(Clone, Debug)]
struct Combo {
    positions: Vec<usize>,
    /// What one step of the option at each slot adds to a tuple's index.
    strides: Vec<usize>,
    /// Index of the tuple with all options 0.
    offset: usize,
    /// Tuples of the combo: the product of its positions' sizes.
    count: usize,
}

/// Which tuples are covered, and how often each position-option pair is still uncovered.
struct Tables {
    sizes: Vec<usize>,
    combos: Vec<Combo>,
    /// The combos that hold each position, with the slot the position has in each.
    combos_of: Vec<Vec<(usize, usize)>>,
    /// How many rows cover each tuple (saturating); 0 means uncovered.
    coverage: Vec<u16>,
    /// Uncovered and not given up on: the tuples rows are still sought for. Kept apart from
    /// `coverage` so the greedy phase reads one byte per tuple.
    open: Vec<bool>,
    /// Tuples given up on (infeasible or unresolved): never sought again.
    settled: Vec<bool>,
    /// Open tuples holding each position-option pair.
    open_by_option: Vec<Vec<u64>>,
    open_count: u64,
    /// Pairwise only: for positions `p` and `q`, at `p * n + q`, the offset of their combo
    /// and the strides of `p` and `q` in it. A gain then needs no search for the combo.
    pairs: Vec<(usize, usize, usize)>,
    /// Three-wise only: at `a * n + b` (`a < b`), the index of the combo `(a, b, b + 1)`;
    /// `(a, b, c)` follows at `c - b - 1` further, combos being in lexicographic order.
    triples: Vec<usize>,
}

impl Tables {
    fn new(sizes: &[usize], strength: usize) -> Result<Self, CoveringError> {
        let mut combos = Vec::new();
        let mut total: u64 = 0;
        let mut positions: Vec<usize> = (0..strength).collect();
        loop {
            let count = positions.iter().map(|&p| sizes[p] as u64).product::<u64>();
            let mut strides = vec![1; strength];
            for slot in (0..strength.saturating_sub(1)).rev() {
                strides[slot] = strides[slot + 1] * sizes[positions[slot + 1]];
            }
            combos.push(Combo {
                positions: positions.clone(),
                strides,
                offset: total as usize,
                count: count as usize,
            });
            total = total.saturating_add(count);
            if total > MAX_TUPLES {
                return Err(CoveringError::TooManyTuples(total));
            }
            if !next_combination(&mut positions, sizes.len()) {
                break;
            }
        }
        let mut combos_of = vec![Vec::new(); sizes.len()];
        for (index, combo) in combos.iter().enumerate() {
            for (slot, &p) in combo.positions.iter().enumerate() {
                combos_of[p].push((index, slot));
            }
        }
        // Every tuple holding (p, v) is open: the product of the other positions' sizes, per
        // combo holding p.
        let open_by_option = (0..sizes.len())
            .map(|p| {
                let per_value: u64 = combos_of[p]
                    .iter()
                    .map(|&(c, _)| (combos[c].count / sizes[p]) as u64)
                    .sum();
                vec![per_value; sizes[p]]
            })
            .collect();
        let n = sizes.len();
        let mut pairs = Vec::new();
        if strength == 2 {
            pairs = vec![(0, 0, 0); n * n];
            for combo in &combos {
                let (a, b) = (combo.positions[0], combo.positions[1]);
                let (sa, sb) = (combo.strides[0], combo.strides[1]);
                pairs[a * n + b] = (combo.offset, sa, sb);
                pairs[b * n + a] = (combo.offset, sb, sa);
            }
        }
        let mut triples = Vec::new();
        if strength == 3 {
            triples = vec![0; n * n];
            for (index, combo) in combos.iter().enumerate() {
                let (a, b, c) = (combo.positions[0], combo.positions[1], combo.positions[2]);
                if c == b + 1 {
                    triples[a * n + b] = index;
                }
            }
        }
        Ok(Tables {
            sizes: sizes.to_vec(),
            coverage: vec![0; total as usize],
            open: vec![true; total as usize],
            settled: vec![false; total as usize],
            combos,
            combos_of,
            open_by_option,
            open_count: total,
            pairs,
            triples,
        })
    }

    fn total(&self) -> u64 {
        self.coverage.len() as u64
    }

    /// Index of the tuple of `combo` whose options are those of `row` at its positions.
    #[inline]
    fn index(combo: &Combo, row: &[usize]) -> usize {
        combo
            .positions
            .iter()
            .zip(&combo.strides)
            .fold(combo.offset, |index, (&p, &stride)| index + row[p] * stride)
    }

    /// The tuple at `index` of the tables.
    fn tuple_at(&self, index: usize) -> Tuple {
        let c = self
            .combos
            .partition_point(|combo| combo.offset + combo.count <= index);
        let combo = &self.combos[c];
        let rest = index - combo.offset;
        Tuple {
            positions: combo.positions.clone(),
            options: combo
                .positions
                .iter()
                .zip(&combo.strides)
                .map(|(&p, &stride)| rest / stride % self.sizes[p])
                .collect(),
        }
    }

    fn close(&mut self, combo: usize, index: usize) {
        self.open[index] = false;
        self.open_count -= 1;
        let combo = &self.combos[combo];
        let rest = index - combo.offset;
        for (&p, &stride) in combo.positions.iter().zip(&combo.strides) {
            self.open_by_option[p][rest / stride % self.sizes[p]] -= 1;
        }
    }

    /// New tuples a row would cover.
    fn gain(&self, row: &[usize]) -> u64 {
        self.combos
            .iter()
            .filter(|combo| self.open[Self::index(combo, row)])
            .count() as u64
    }

    /// Records a row: its tuples are covered.
    fn add(&mut self, row: &[usize]) {
        for c in 0..self.combos.len() {
            let index = Self::index(&self.combos[c], row);
            if self.open[index] {
                self.close(c, index);
            }
            self.coverage[index] = self.coverage[index].saturating_add(1);
        }
    }

    /// The combo of a tuple and its index in the tables.
    fn locate(&self, tuple: &Tuple) -> (usize, usize) {
        let combo = self
            .combos
            .iter()
            .position(|c| c.positions == tuple.positions)
            .expect("a tuple of the model");
        let index = self.combos[combo].offset
            + tuple
                .options
                .iter()
                .zip(&self.combos[combo].strides)
                .map(|(&v, &stride)| v * stride)
                .sum::<usize>();
        (combo, index)
    }

    /// Gives up on a tuple (it is reported, not covered).
    fn settle(&mut self, tuple: &Tuple) {
        let (combo, index) = self.locate(tuple);
        if self.open[index] {
            self.close(combo, index);
        }
        self.settled[index] = true;
    }

    /// An open tuple holding option `v` at position `p`, chosen with `rng` among the first
    /// ones found (combo by combo, until at least 64).
    fn open_tuple_with(
        &self,
        p: usize,
        v: usize,
        rng: &mut SplitMix64,
        found: &mut Vec<usize>,
    ) -> Option<Tuple> {
        self.open_tuples_with(p, v, found);
        (!found.is_empty()).then(|| self.tuple_at(found[rng.below(found.len())]))
    }

    /// Every position-option pair in the most open tuples, in order.
    fn busiest_options(&self, ties: &mut Vec<(usize, usize)>) {
        ties.clear();
        let mut best = 0;
        for (p, counts) in self.open_by_option.iter().enumerate() {
            for (v, &count) in counts.iter().enumerate() {
                if count > best {
                    best = count;
                    ties.clear();
                }
                if count == best && count > 0 {
                    ties.push((p, v));
                }
            }
        }
    }

    /// The open tuples holding option `v` at position `p`, combo by combo, until at least 64.
    fn open_tuples_with(&self, p: usize, v: usize, found: &mut Vec<usize>) {
        found.clear();
        for &(c, slot) in &self.combos_of[p] {
            let combo = &self.combos[c];
            // The tuples with option v at the slot are blocks of `stride` indices, one block
            // every `stride * size`.
            let stride = combo.strides[slot];
            let period = stride * self.sizes[p];
            let mut block = combo.offset + v * stride;
            while block < combo.offset + combo.count {
                for index in block..block + stride {
                    if self.open[index] {
                        found.push(index);
                    }
                }
                block += period;
            }
            if found.len() >= 64 {
                break;
            }
        }
    }

    /// The position-option pair in the most open tuples (ties broken by `rng`).
    fn busiest_option(&self, rng: &mut SplitMix64) -> Option<(usize, usize)> {
        let mut best = 0;
        let mut ties = 0usize;
        let mut first = (0, 0);
        for (p, counts) in self.open_by_option.iter().enumerate() {
            for (v, &count) in counts.iter().enumerate() {
                if count > best {
                    best = count;
                    ties = 0;
                    first = (p, v);
                }
                if count == best && count > 0 {
                    ties += 1;
                }
            }
        }
        if ties == 0 {
            return None;
        }
        // The chosen tie, found again by counting: no list of ties is kept.
        let mut pick = rng.below(ties);
        for (p, counts) in self.open_by_option.iter().enumerate().skip(first.0) {
            for (v, &count) in counts.iter().enumerate() {
                if count == best {
                    if pick == 0 {
                        return Some((p, v));
                    }
                    pick -= 1;
                }
            }
        }
        unreachable!("the ties were counted")
    }

    /// For every option `w` of position `q`: the new tuples gained by setting `row[q] = w`,
    /// counting only tuples whose other positions are all `assigned` (listed, increasing, in
    /// `assigned_list`).
    fn gains_at(
        &self,
        row: &[usize],
        assigned: &[bool],
        assigned_list: &[usize],
        q: usize,
        gains: &mut [u64],
    ) {
        gains.fill(0);
        if !self.pairs.is_empty() {
            // Pairwise: one combo per assigned position, found in the pair table.
            let n = self.sizes.len();
            for &p in assigned_list {
                let (offset, stride_p, stride_q) = self.pairs[p * n + q];
                let base = offset + row[p] * stride_p;
                for (w, gain) in gains.iter_mut().enumerate() {
                    *gain += u64::from(self.open[base + w * stride_q]);
                }
            }
            return;
        }
        if !self.triples.is_empty() {
            // Three-wise: one combo per two assigned positions, found by its rank.
            let n = self.sizes.len();
            for (i, &a) in assigned_list.iter().enumerate() {
                for &b in &assigned_list[i + 1..] {
                    let (x, y, z, slot_a, slot_b, slot_q) = match (q < a, q < b) {
                        (true, _) => (q, a, b, 1, 2, 0),
                        (false, true) => (a, q, b, 0, 2, 1),
                        (false, false) => (a, b, q, 0, 1, 2),
                    };
                    let combo = &self.combos[self.triples[x * n + y] + z - y - 1];
                    let base = combo.offset
                        + row[a] * combo.strides[slot_a]
                        + row[b] * combo.strides[slot_b];
                    let stride = combo.strides[slot_q];
                    for (w, gain) in gains.iter_mut().enumerate() {
                        *gain += u64::from(self.open[base + w * stride]);
                    }
                }
            }
            return;
        }
        'combos: for &(c, slot) in &self.combos_of[q] {
            let combo = &self.combos[c];
            let mut base = combo.offset;
            for (s, (&p, &stride)) in combo.positions.iter().zip(&combo.strides).enumerate() {
                if s != slot {
                    if !assigned[p] {
                        continue 'combos;
                    }
                    base += row[p] * stride;
                }
            }
            let stride = combo.strides[slot];
            for (w, gain) in gains.iter_mut().enumerate() {
                *gain += u64::from(self.open[base + w * stride]);
            }
        }
    }
}

/// How many t-tuples a model has: the sum, over every t positions, of the product of their
/// sizes (saturating), counted without listing the combinations.
fn tuple_count(sizes: &[usize], t: usize) -> u64 {
    // sums[k]: the sum over every k of the positions seen so far of their sizes' product.
    let mut sums = vec![0u64; t + 1];
    sums[0] = 1;
    for &size in sizes {
        for k in (1..=t).rev() {
            sums[k] = sums[k].saturating_add(sums[k - 1].saturating_mul(size as u64));
        }
    }
    sums[t]
}

/// The next combination of `positions.len()` positions out of `n`, in lexicographic order.
fn next_combination(positions: &mut [usize], n: usize) -> bool {
    let k = positions.len();
    for i in (0..k).rev() {
        if positions[i] < n - k + i {
            positions[i] += 1;
            for j in i + 1..k {
                positions[j] = positions[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// A constraint: whether a row (an option index per position) may be used.
pub type Allowed<'a> = dyn Fn(&[usize]) -> bool + 'a;

/// The option a position of a partial row holds while it is not chosen yet.
pub const UNSET: usize = usize::MAX;

/// A constraint the generator can ask about partial rows: positions not chosen yet hold
/// [`UNSET`]. It answers `Some(false)` when no completion of the row is allowed,
/// `Some(true)` when every completion is, and `None` while it cannot tell. On a complete row
/// anything but `Some(false)` allows it.
///
/// A partial constraint lets the generator drop a refused option while it builds a row, and
/// prove a combination infeasible from the combination alone, where a whole-row constraint
/// ([`Allowed`]) can only be asked about every completion.
///
/// ```
/// use combtest::covering::{Generator, UNSET};
///
/// // At most one of 8 switches is on: refused as soon as two set positions are 1.
/// let at_most_one = |row: &[usize]| {
///     let on = row.iter().filter(|&&v| v == 1).count();
///     if on > 1 { Some(false) } else if row.contains(&UNSET) { None } else { Some(true) }
/// };
/// let array = Generator::new(&[2; 8], 2).partial_constraint(&at_most_one).generate();
/// assert!(array.unresolved.is_empty());
/// assert_eq!(array.infeasible.len(), 28); // every pair of switches both on
/// assert!(array.rows.iter().all(|row| row.iter().filter(|&&v| v == 1).count() <= 1));
/// ```
pub type Partial<'a> = dyn Fn(&[usize]) -> Option<bool> + 'a;

/// Builds covering arrays. See the [module documentation](self).
pub struct Generator<'a> {
    sizes: Vec<usize>,
    strength: usize,
    seed: u64,
    candidates: usize,
    attempts: u64,
    must_include: Vec<Vec<usize>>,
    allowed: Option<&'a Allowed<'a>>,
    partial: Option<&'a Partial<'a>>,
}

/// What the search for an allowed row holding a tuple concluded, kept across attempts: the
/// proof that a tuple has no allowed row is the costly part, and does not depend on the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settled {
    Infeasible,
    Unresolved,
}

impl<'a> Generator<'a> {
    /// A generator for positions with `sizes[p]` options each, covering every `strength`-way
    /// combination.
    pub fn new(sizes: &[usize], strength: usize) -> Self {
        Generator {
            sizes: sizes.to_vec(),
            strength,
            seed: 0,
            candidates: 0,
            attempts: 0,
            must_include: Vec::new(),
            allowed: None,
            partial: None,
        }
    }

    /// Varies the result: another seed gives another (equally valid) array.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Candidate rows built for each row kept (default: chosen from the model's size).
    pub fn candidates(mut self, candidates: usize) -> Self {
        self.candidates = candidates;
        self
    }

    /// Whole generations tried, the smallest kept (default: chosen from the model's size).
    pub fn attempts(mut self, attempts: u64) -> Self {
        self.attempts = attempts;
        self
    }

    /// Rows that must be part of the result; they count toward coverage. A row given twice
    /// is kept once.
    pub fn must_include(mut self, rows: Vec<Vec<usize>>) -> Self {
        self.must_include = rows;
        self
    }

    /// Only rows for which `allowed` returns `true` are used.
    pub fn allowed(mut self, allowed: &'a Allowed<'a>) -> Self {
        self.allowed = Some(allowed);
        self
    }

    /// Only rows `partial` does not refuse are used; it is also asked about partial rows
    /// (see [`Partial`]). Combines with [`Generator::allowed`]: a row must pass both.
    pub fn partial_constraint(mut self, partial: &'a Partial<'a>) -> Self {
        self.partial = Some(partial);
        self
    }

    /// Generates the array. Panics on invalid inputs; see [`Generator::try_generate`].
    pub fn generate(self) -> CoveringArray {
        self.try_generate().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Generates the array, or says why the inputs cannot be covered.
    ///
    /// Small models, quick to generate, are generated several times from seeds derived from
    /// the given one, and the smallest array is kept. How many times depends only on the
    /// model's size, never on elapsed time, so the result is the same on every machine.
    pub fn try_generate(self) -> Result<CoveringArray, CoveringError> {
        let (sizes, t) = (&self.sizes, self.strength);
        if t == 0 || t > sizes.len() {
            return Err(CoveringError::Strength {
                strength: t,
                positions: sizes.len(),
            });
        }
        if let Some(p) = sizes.iter().position(|&s| s == 0) {
            return Err(CoveringError::EmptyPosition(p));
        }
        let tuples = tuple_count(sizes, t);
        if tuples > MAX_TUPLES {
            return Err(CoveringError::TooManyTuples(tuples));
        }
        let must_include = self.checked_must_include()?;
        if let Some(array) = self.whole_product(&must_include) {
            return Ok(array);
        }
        if let Some(array) = self.constructed(&must_include) {
            return Ok(array);
        }
        let work = tuples.saturating_mul(sizes.len() as u64);
        let attempts = match self.attempts {
            0 => (200_000 / work.max(1)).clamp(1, 16),
            n => n,
        };
        let mut proofs = HashMap::new();
        let mut best: Option<CoveringArray> = None;
        for attempt in 0..attempts {
            let seed = self
                .seed
                .wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let array = self.generate_once(seed, &must_include, &mut proofs)?;
            if best
                .as_ref()
                .is_none_or(|b| array.rows.len() < b.rows.len())
            {
                best = Some(array);
            }
        }
        Ok(best.expect("at least one attempt"))
    }

    /// Whether both constraints allow a complete row.
    fn allows(&self, row: &[usize]) -> bool {
        self.partial.is_none_or(|f| f(row) != Some(false)) && self.allowed.is_none_or(|f| f(row))
    }

    /// The must-include rows, checked, each once.
    fn checked_must_include(&self) -> Result<Vec<Vec<usize>>, CoveringError> {
        let sizes = &self.sizes;
        let mut rows: Vec<Vec<usize>> = Vec::new();
        for row in &self.must_include {
            if row.len() != sizes.len() || row.iter().zip(sizes).any(|(&v, &s)| v >= s) {
                return Err(CoveringError::MustInclude(format!(
                    "{row:?} does not fit the option counts {sizes:?}"
                )));
            }
            if !self.allows(row) {
                return Err(CoveringError::MustInclude(format!(
                    "{row:?} is refused by the filter"
                )));
            }
            // The same walk twice would run once and be counted twice.
            if !rows.contains(row) {
                rows.push(row.clone());
            }
        }
        Ok(rows)
    }

    /// When the strength is the number of positions, the array is the full product (every
    /// allowed row): built at once, no search.
    fn whole_product(&self, must_include: &[Vec<usize>]) -> Option<CoveringArray> {
        if self.strength != self.sizes.len() {
            return None;
        }
        let mut rows = must_include.to_vec();
        let mut infeasible = Vec::new();
        for row in product::rows(&self.sizes) {
            if must_include.contains(&row) {
                continue;
            }
            if self.allows(&row) {
                rows.push(row);
            } else {
                infeasible.push(Tuple {
                    positions: (0..self.sizes.len()).collect(),
                    options: row,
                });
            }
        }
        let total = rows.len() as u64 + infeasible.len() as u64;
        Some(CoveringArray {
            covered: rows.len() as u64,
            rows,
            strength: self.strength,
            total_tuples: total,
            infeasible,
            unresolved: Vec::new(),
        })
    }

    /// An optimal array built directly (see `construct`), when the model has one and
    /// nothing constrains the rows. The seed relabels each position's options, which keeps
    /// every combination: another seed, another array of the same size.
    fn constructed(&self, must_include: &[Vec<usize>]) -> Option<CoveringArray> {
        if self.allowed.is_some() || self.partial.is_some() || !must_include.is_empty() {
            return None;
        }
        let mut rows = construct::optimal(&self.sizes, self.strength)?;
        if self.seed != 0 {
            let mut rng = SplitMix64(self.seed);
            for (p, &size) in self.sizes.iter().enumerate() {
                let mut relabel: Vec<usize> = (0..size).collect();
                rng.shuffle(&mut relabel);
                for row in &mut rows {
                    row[p] = relabel[row[p]];
                }
            }
        }
        let total = tuple_count(&self.sizes, self.strength);
        Some(CoveringArray {
            rows,
            strength: self.strength,
            covered: total,
            total_tuples: total,
            infeasible: Vec::new(),
            unresolved: Vec::new(),
        })
    }

    fn generate_once(
        &self,
        seed: u64,
        must_include: &[Vec<usize>],
        proofs: &mut HashMap<Tuple, Settled>,
    ) -> Result<CoveringArray, CoveringError> {
        let (sizes, t) = (&self.sizes, self.strength);
        let mut tables = Tables::new(sizes, t)?;
        let mut rng = SplitMix64(seed ^ 0x636f_6d62_7465_7374);
        let candidates = match self.candidates {
            0 => default_candidates(tables.total(), sizes.len(), t),
            n => n,
        };

        let mut rows: Vec<Vec<usize>> = Vec::new();
        for row in must_include {
            tables.add(row);
            rows.push(row.clone());
        }
        let fixed = rows.len();

        let mut scratch = Scratch::new(sizes);
        let (mut infeasible, mut unresolved) = (Vec::new(), Vec::new());
        // After a round whose candidates the constraints all refused, the next round tries
        // one: under a tight constraint most rows come from completing a tuple, and building
        // candidates that will be refused again is wasted.
        let mut round = candidates;
        while tables.open_count > 0 {
            let mut best: Option<(u64, Vec<usize>)> = None;
            let mut any_allowed = false;
            scratch.round_known = false;
            for _ in 0..round {
                let Some((gain, row)) = candidate(&tables, self.partial, &mut rng, &mut scratch)
                else {
                    break;
                };
                if !self.allows(&row) {
                    continue;
                }
                any_allowed = true;
                if gain > 0 && best.as_ref().is_none_or(|(g, _)| gain > *g) {
                    best = Some((gain, row));
                }
            }
            round = if any_allowed { candidates } else { 1 };
            if let Some((_, row)) = best {
                tables.add(&row);
                rows.push(row);
                continue;
            }
            // No candidate was allowed: complete an open tuple into an allowed row, or show
            // that it has none.
            let (p, v) = tables.busiest_option(&mut rng).expect("open tuples remain");
            let tuple = tables
                .open_tuple_with(p, v, &mut rng, &mut scratch.found)
                .expect("(p, v) is in an open tuple");
            let settled = match proofs.get(&tuple) {
                Some(&settled) => Some(settled),
                None => match complete(&tables, &tuple, self, &rows, &mut rng) {
                    Completion::Found(row) => {
                        tables.add(&row);
                        rows.push(row);
                        None
                    }
                    Completion::None => Some(Settled::Infeasible),
                    Completion::NotFound => Some(Settled::Unresolved),
                },
            };
            if let Some(settled) = settled {
                proofs.insert(tuple.clone(), settled);
                tables.settle(&tuple);
                match settled {
                    Settled::Infeasible => infeasible.push(tuple),
                    Settled::Unresolved => unresolved.push(tuple),
                }
            }
        }
        remove_redundant(&mut tables, &mut rows, fixed);
        eliminate_rows(&mut tables, &mut rows, fixed, &|row| self.allows(row));
        // A tuple given up on may still have landed in a row built for another one.
        unresolved.retain(|tuple| tables.coverage[tables.locate(tuple).1] == 0);
        let covered = tables.coverage.iter().filter(|&&c| c > 0).count() as u64;
        Ok(CoveringArray {
            rows,
            strength: t,
            covered,
            total_tuples: tables.total(),
            infeasible,
            unresolved,
        })
    }
}

/// Enough candidates to find good rows, few enough to stay fast on large models.
fn default_candidates(tuples: u64, positions: usize, strength: usize) -> usize {
    let work_per_candidate = (positions as u64).pow(strength as u32).max(1);
    (20_000_000 / (tuples.max(1) * work_per_candidate / 100).max(1)).clamp(4, 50) as usize
}

/// Buffers a candidate row is built in, allocated once per generation.
struct Scratch {
    row: Vec<usize>,
    assigned: Vec<bool>,
    /// The row as a partial constraint sees it: [`UNSET`] where nothing is chosen yet.
    partial: Vec<usize>,
    order: Vec<usize>,
    /// The assigned positions, increasing.
    sorted: Vec<usize>,
    gains: Vec<u64>,
    ties: Vec<usize>,
    found: Vec<usize>,
    /// Whether `busiest` holds this round's busiest pairs.
    round_known: bool,
    busiest: Vec<(usize, usize)>,
    /// The pair `found` holds the open tuples of.
    found_for: Option<(usize, usize)>,
}

impl Scratch {
    fn new(sizes: &[usize]) -> Self {
        let n = sizes.len();
        Scratch {
            row: vec![0; n],
            assigned: vec![false; n],
            partial: vec![UNSET; n],
            order: Vec::with_capacity(n),
            sorted: Vec::with_capacity(n),
            gains: vec![0; sizes.iter().copied().max().unwrap_or(0)],
            ties: Vec::new(),
            found: Vec::new(),
            round_known: false,
            busiest: Vec::new(),
            found_for: None,
        }
    }
}

/// One candidate row and the new tuples it covers: an open tuple holding the busiest
/// position-option pair, the other positions filled greedily in a random order. With a partial constraint, options it
/// refuses are passed over; a row it leaves no option for is no candidate.
fn candidate(
    tables: &Tables,
    partial: Option<&Partial<'_>>,
    rng: &mut SplitMix64,
    scratch: &mut Scratch,
) -> Option<(u64, Vec<usize>)> {
    // The tables do not change during a round: its candidates share the busiest pairs and
    // the open tuples found for one, and differ by the random picks among them.
    if !scratch.round_known {
        tables.busiest_options(&mut scratch.busiest);
        scratch.found_for = None;
        scratch.round_known = true;
    }
    if scratch.busiest.is_empty() {
        return None;
    }
    let (p, v) = scratch.busiest[rng.below(scratch.busiest.len())];
    if scratch.found_for != Some((p, v)) {
        tables.open_tuples_with(p, v, &mut scratch.found);
        scratch.found_for = Some((p, v));
    }
    if scratch.found.is_empty() {
        return None;
    }
    // Seeding with a whole open tuple guarantees the row covers something new.
    let seed = tables.tuple_at(scratch.found[rng.below(scratch.found.len())]);
    let n = tables.sizes.len();
    let Scratch {
        row,
        assigned,
        partial: sketch,
        order,
        sorted,
        gains,
        ties,
        ..
    } = scratch;
    row.fill(0);
    assigned.fill(false);
    sketch.fill(UNSET);
    for (&q, &w) in seed.positions.iter().zip(&seed.options) {
        row[q] = w;
        assigned[q] = true;
        sketch[q] = w;
    }
    if partial.is_some_and(|f| f(sketch) == Some(false)) {
        return None;
    }
    order.clear();
    order.extend((0..n).filter(|&q| !assigned[q]));
    rng.shuffle(order);
    sorted.clear();
    sorted.extend_from_slice(&seed.positions);
    // New tuples of the row: the seed's, then each combo's when its last position is set.
    let mut gain = 1;
    for &q in order.iter() {
        // The most new tuples now; among equals, the option in the most open tuples (it
        // leaves the fewest for later rows); among equals still, chance.
        let size = tables.sizes[q];
        tables.gains_at(row, assigned, sorted, q, &mut gains[..size]);
        let mut best = (0, 0);
        ties.clear();
        for (w, &gain) in gains[..size].iter().enumerate() {
            if let Some(f) = partial {
                sketch[q] = w;
                if f(sketch) == Some(false) {
                    continue;
                }
            }
            let score = (gain, tables.open_by_option[q][w]);
            if score > best {
                best = score;
                ties.clear();
            }
            if score == best {
                ties.push(w);
            }
        }
        if ties.is_empty() {
            return None;
        }
        row[q] = ties[rng.below(ties.len())];
        gain += gains[row[q]];
        sketch[q] = row[q];
        assigned[q] = true;
        let at = sorted.partition_point(|&p| p < q);
        sorted.insert(at, q);
    }
    debug_assert_eq!(gain, tables.gain(row));
    Some((gain, row.clone()))
}

enum Completion {
    Found(Vec<usize>),
    /// Every completion was tried: none is allowed.
    None,
    /// Too many completions to try them all; the samples found none.
    NotFound,
}

/// An allowed row holding `tuple`: a depth-first search over the other positions, cut short
/// wherever the partial constraint refuses, exhaustive while it asks the constraints at most
/// [`EXHAUSTIVE_COMPLETIONS`] times; then the rows already chosen with the tuple written into
/// them (they are allowed, so a row one tuple away often is too, where random rows under a
/// tight constraint almost never are); then random completions.
fn complete(
    tables: &Tables,
    tuple: &Tuple,
    generator: &Generator<'_>,
    rows: &[Vec<usize>],
    rng: &mut SplitMix64,
) -> Completion {
    let n = tables.sizes.len();
    let free: Vec<usize> = (0..n).filter(|p| !tuple.positions.contains(p)).collect();
    let mut row = vec![UNSET; n];
    for (&p, &v) in tuple.positions.iter().zip(&tuple.options) {
        row[p] = v;
    }
    if let Some(partial) = generator.partial {
        if partial(&row) == Some(false) {
            return Completion::None;
        }
    }
    let completions = free
        .iter()
        .try_fold(1u64, |acc, &p| acc.checked_mul(tables.sizes[p] as u64))
        .unwrap_or(u64::MAX);
    // Without a partial constraint nothing cuts the search short: past the budget it could
    // only fail, so sampling starts at once.
    let mut budget = if generator.partial.is_none() && completions > EXHAUSTIVE_COMPLETIONS {
        0
    } else {
        EXHAUSTIVE_COMPLETIONS
    };
    match search(tables, generator, &free, &mut row, &mut budget) {
        Some(true) => return Completion::Found(row),
        Some(false) => return Completion::None,
        None => {}
    }
    for chosen in rows {
        row.clone_from(chosen);
        for (&p, &v) in tuple.positions.iter().zip(&tuple.options) {
            row[p] = v;
        }
        if generator.allows(&row) {
            return Completion::Found(row);
        }
    }
    for _ in 0..SAMPLED_COMPLETIONS {
        for &p in &free {
            row[p] = rng.below(tables.sizes[p]);
        }
        if generator.allows(&row) {
            return Completion::Found(row);
        }
    }
    Completion::NotFound
}

/// Depth-first search for an allowed completion of `row` over the `free` positions (the
/// first of them next): `Some(true)` leaves it in `row`, `Some(false)` proves there is none,
/// `None` says the budget of constraint calls ran out first.
fn search(
    tables: &Tables,
    generator: &Generator<'_>,
    free: &[usize],
    row: &mut [usize],
    budget: &mut u64,
) -> Option<bool> {
    let Some((&p, rest)) = free.split_first() else {
        *budget = budget.checked_sub(1)?;
        return Some(generator.allows(row));
    };
    for v in 0..tables.sizes[p] {
        row[p] = v;
        if let Some(partial) = generator.partial {
            if !rest.is_empty() {
                *budget = budget.checked_sub(1)?;
                if partial(row) == Some(false) {
                    continue;
                }
            }
        }
        if search(tables, generator, rest, row, budget)? {
            return Some(true);
        }
    }
    row[p] = UNSET;
    Some(false)
}

/// Removes rows (latest first, must-include rows never) whose every tuple another row covers.
fn remove_redundant(tables: &mut Tables, rows: &mut Vec<Vec<usize>>, fixed: usize) {
    let mut index = rows.len();
    while index > fixed {
        index -= 1;
        let row = &rows[index];
        let redundant = tables
            .combos
            .iter()
            .all(|combo| tables.coverage[Tables::index(combo, row)] >= 2);
        if redundant {
            let row = rows.remove(index);
            for c in 0..tables.combos.len() {
                let i = Tables::index(&tables.combos[c], &row);
                tables.coverage[i] -= 1;
            }
        }
    }
}

impl Tables {
    fn cover(&mut self, row: &[usize], delta: i32) {
        for c in 0..self.combos.len() {
            let i = Self::index(&self.combos[c], row);
            self.coverage[i] =
                (i32::from(self.coverage[i]) + delta).clamp(0, i32::from(u16::MAX)) as u16;
        }
    }

    /// The tuples only `row` covers.
    fn unique_tuples(&self, row: &[usize]) -> Vec<Tuple> {
        self.combos
            .iter()
            .filter(|combo| self.coverage[Self::index(combo, row)] == 1)
            .map(|combo| Tuple {
                positions: combo.positions.clone(),
                options: combo.positions.iter().map(|&p| row[p]).collect(),
            })
            .collect()
    }

    /// The combos whose tuple differs between two rows: those holding a position where the
    /// rows differ, each once.
    fn differing_combos<'t>(
        &'t self,
        old: &'t [usize],
        new: &'t [usize],
    ) -> impl Iterator<Item = &'t Combo> + 't {
        let differs = move |p: usize| old[p] != new[p];
        (0..old.len())
            .filter(move |&p| differs(p))
            .flat_map(move |p| {
                self.combos_of[p]
                    .iter()
                    .map(move |&(c, slot)| (&self.combos[c], slot))
                    // Counted at its first differing position only.
                    .filter(move |(combo, slot)| {
                        !combo.positions[..*slot].iter().any(|&q| differs(q))
                    })
                    .map(|(combo, _)| combo)
            })
    }

    /// A row of the array changes from `old` to `new`: only the tuples that differ move.
    fn replace(&mut self, old: &[usize], new: &[usize]) {
        let moves: Vec<(usize, usize)> = self
            .differing_combos(old, new)
            .map(|combo| (Self::index(combo, old), Self::index(combo, new)))
            .collect();
        for (from, to) in moves {
            self.coverage[from] -= 1;
            self.coverage[to] = self.coverage[to].saturating_add(1);
        }
    }

    /// Whether writing `tuple` into `host` would lose a tuple only the host covers: only
    /// the tuples holding a position the tuple changes can be lost. (A combo holding two
    /// changed positions is looked at twice, which changes no answer.)
    fn host_loses(&self, host: &[usize], tuple: &Tuple) -> bool {
        for (&p, &v) in tuple.positions.iter().zip(&tuple.options) {
            if host[p] == v {
                continue;
            }
            for &(c, _) in &self.combos_of[p] {
                if self.coverage[Self::index(&self.combos[c], host)] == 1 {
                    return true;
                }
            }
        }
        false
    }

    /// How many tuples only `row` covers.
    fn unique_count(&self, row: &[usize]) -> usize {
        self.combos
            .iter()
            .filter(|combo| self.coverage[Self::index(combo, row)] == 1)
            .count()
    }
}

/// Tries to remove whole rows: every tuple only a row covers is moved into another row, by
/// changing positions of that row whose own tuples are all covered elsewhere too. A row whose
/// unique tuples all find a host goes; otherwise its hosts are restored. Rows with the fewest
/// unique tuples are tried first, until a pass removes nothing.
fn eliminate_rows(
    tables: &mut Tables,
    rows: &mut Vec<Vec<usize>>,
    fixed: usize,
    allowed: &dyn Fn(&[usize]) -> bool,
) {
    loop {
        let mut order: Vec<(usize, usize)> = (fixed..rows.len())
            .map(|r| (tables.unique_count(&rows[r]), r))
            .collect();
        order.sort_unstable();
        let mut removed = None;
        let mut moved = Vec::new();
        'rows: for (_, r) in order {
            let unique = tables.unique_tuples(&rows[r]);
            // Take the row out while its tuples look for hosts.
            tables.cover(&rows[r].clone(), -1);
            let mut changed: Vec<(usize, Vec<usize>)> = Vec::new();
            for tuple in &unique {
                let host = (fixed..rows.len()).filter(|&h| h != r).find(|&h| {
                    let host = &rows[h];
                    if tables.host_loses(host, tuple) {
                        return false;
                    }
                    // The moved host is built in one buffer, not one allocation per host.
                    moved.clone_from(host);
                    for (&p, &v) in tuple.positions.iter().zip(&tuple.options) {
                        moved[p] = v;
                    }
                    allowed(&moved)
                });
                let host = host.map(|h| (h, moved.clone()));
                match host {
                    Some((h, moved)) => {
                        tables.replace(&rows[h], &moved);
                        changed.push((h, std::mem::replace(&mut rows[h], moved)));
                    }
                    None => {
                        // Undo: hosts back as they were, the row back in.
                        for (h, old) in changed.into_iter().rev() {
                            tables.replace(&rows[h], &old);
                            rows[h] = old;
                        }
                        tables.cover(&rows[r].clone(), 1);
                        continue 'rows;
                    }
                }
            }
            removed = Some(r);
            break;
        }
        match removed {
            Some(r) => {
                rows.remove(r);
            }
            None => return,
        }
    }
}

/// Checks, independently of the generator, which t-tuples `rows` cover: returns the tuples
/// of the model that no row holds. For tests and for users who want to verify an array.
pub fn uncovered(sizes: &[usize], strength: usize, rows: &[Vec<usize>]) -> Vec<Tuple> {
    let mut seen: HashSet<(Vec<usize>, Vec<usize>)> = HashSet::new();
    let mut positions: Vec<usize> = (0..strength).collect();
    loop {
        for row in rows {
            seen.insert((
                positions.clone(),
                positions.iter().map(|&p| row[p]).collect(),
            ));
        }
        if !next_combination(&mut positions, sizes.len()) {
            break;
        }
    }
    let mut missing = Vec::new();
    let mut positions: Vec<usize> = (0..strength).collect();
    loop {
        let mut options = vec![0; strength];
        loop {
            if !seen.contains(&(positions.clone(), options.clone())) {
                missing.push(Tuple {
                    positions: positions.clone(),
                    options: options.clone(),
                });
            }
            // Next options of these positions.
            let mut slot = strength;
            loop {
                if slot == 0 {
                    break;
                }
                slot -= 1;
                options[slot] += 1;
                if options[slot] < sizes[positions[slot]] {
                    break;
                }
                options[slot] = 0;
                if slot == 0 {
                    slot = usize::MAX;
                    break;
                }
            }
            if slot == usize::MAX {
                break;
            }
        }
        if !next_combination(&mut positions, sizes.len()) {
            break;
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_enumerated_in_order() {
        let mut c = vec![0, 1];
        let mut all = vec![c.clone()];
        while next_combination(&mut c, 4) {
            all.push(c.clone());
        }
        assert_eq!(
            all,
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
    }

    #[test]
    fn the_checker_finds_what_is_missing() {
        let rows = vec![vec![0, 0], vec![1, 1]];
        let missing = uncovered(&[2, 2], 2, &rows);
        assert_eq!(missing.len(), 2);
        assert!(missing.contains(&Tuple {
            positions: vec![0, 1],
            options: vec![0, 1]
        }));
        assert!(uncovered(&[2, 2], 1, &rows).is_empty());
    }

    #[test]
    fn pairwise_3_4_is_the_optimal_9() {
        let array = Generator::new(&[3, 3, 3, 3], 2).generate();
        assert!(uncovered(&[3, 3, 3, 3], 2, &array.rows).is_empty());
        assert_eq!(array.rows.len(), 9);
    }

    #[test]
    fn tuples_are_counted_as_the_tables_list_them() {
        for (sizes, t) in [
            (vec![3, 4, 2, 5], 2),
            (vec![3, 4, 2, 5], 3),
            (vec![7; 9], 4),
        ] {
            let tables = Tables::new(&sizes, t).unwrap();
            assert_eq!(tuple_count(&sizes, t), tables.total());
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            Generator::new(&[2, 2], 3).try_generate(),
            Err(CoveringError::Strength { .. })
        ));
        assert!(matches!(
            Generator::new(&[2, 0], 2).try_generate(),
            Err(CoveringError::EmptyPosition(1))
        ));
        let err = Generator::new(&[2, 2], 2)
            .must_include(vec![vec![0, 5]])
            .try_generate();
        assert!(matches!(err, Err(CoveringError::MustInclude(_))));
    }
}
