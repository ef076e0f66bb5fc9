//! Heat maps: for pairs of positions, how many walks ran and failed per pair of options.

use super::causes::Space;
use super::data::{Axis, FailureGroup, HeatMap};

/// Options shown along one axis at most; the others are counted as hidden.
const AXIS_OPTIONS: usize = 24;

/// Positions mapped at most (every pair of them gets a map).
const MAPPED_POSITIONS: usize = 4;

/// The positions worth a map: those the causes name, largest group first; with fewer than
/// two, the positions that failed, then the first positions of the order.
pub(super) fn positions(
    groups: &[FailureGroup],
    failed: impl IntoIterator<Item = usize>,
    n: usize,
) -> Vec<usize> {
    let mut positions: Vec<usize> = Vec::new();
    let named = groups
        .iter()
        .flat_map(|g| g.causes.iter().take(1))
        .flat_map(|c| c.choices.iter().map(|choice| choice.position));
    for position in named {
        if positions.len() < MAPPED_POSITIONS && !positions.contains(&position) {
            positions.push(position);
        }
    }
    for position in failed.into_iter().chain(0..n) {
        if positions.len() >= 2 {
            break;
        }
        if !positions.contains(&position) {
            positions.push(position);
        }
    }
    positions.sort_unstable();
    positions
}

/// Per pair of positions, counts of walks per pair of options.
pub(super) struct HeatCounts {
    pairs: Vec<(usize, usize)>,
    failed: Vec<Vec<u64>>,
    ran: Vec<Vec<u64>>,
}

impl HeatCounts {
    pub(super) fn new(positions: &[usize], sizes: &[usize]) -> Self {
        let mut pairs = Vec::new();
        for (i, &p) in positions.iter().enumerate() {
            for &q in &positions[i + 1..] {
                pairs.push((p, q));
            }
        }
        let cells = |&(p, q): &(usize, usize)| {
            vec![0; sizes[p].min(AXIS_OPTIONS) * sizes[q].min(AXIS_OPTIONS)]
        };
        HeatCounts {
            failed: pairs.iter().map(cells).collect(),
            ran: pairs.iter().map(cells).collect(),
            pairs,
        }
    }

    fn cell(&self, pair: usize, options: &[usize], sizes: &[usize]) -> Option<usize> {
        let (p, q) = self.pairs[pair];
        let (i, j) = (options[p], options[q]);
        (i < AXIS_OPTIONS && j < AXIS_OPTIONS).then(|| i * sizes[q].min(AXIS_OPTIONS) + j)
    }

    /// Counts a failed walk.
    pub(super) fn add_failed(&mut self, options: &[usize], sizes: &[usize]) {
        for pair in 0..self.pairs.len() {
            if let Some(cell) = self.cell(pair, options, sizes) {
                self.failed[pair][cell] += 1;
            }
        }
    }

    /// Counts a walk that ran.
    pub(super) fn add_ran(&mut self, options: &[usize], sizes: &[usize]) {
        for pair in 0..self.pairs.len() {
            if let Some(cell) = self.cell(pair, options, sizes) {
                self.ran[pair][cell] += 1;
            }
        }
    }

    /// Uncounts a walk of the space that did not run, from counts that began with
    /// [`HeatCounts::every_walk_ran`].
    pub(super) fn remove_ran(&mut self, options: &[usize], sizes: &[usize]) {
        for pair in 0..self.pairs.len() {
            if let Some(cell) = self.cell(pair, options, sizes) {
                self.ran[pair][cell] -= 1;
            }
        }
    }

    /// Fills the walks that ran when every walk of the space ran: each cell holds the same
    /// share of the space.
    pub(super) fn every_walk_ran(&mut self, space: &Space<'_>) {
        for (pair, &(p, q)) in self.pairs.iter().enumerate() {
            let per_cell = space.total / (space.sizes[p] as u64 * space.sizes[q] as u64);
            self.ran[pair].iter_mut().for_each(|cell| *cell = per_cell);
        }
    }

    pub(super) fn into_maps(
        self,
        sizes: &[usize],
        name: &dyn Fn(usize) -> String,
        param: &dyn Fn(usize, usize) -> String,
    ) -> Vec<HeatMap> {
        let axis = |position: usize| Axis {
            position,
            action: name(position),
            params: (0..sizes[position].min(AXIS_OPTIONS))
                .map(|o| param(position, o))
                .collect(),
            hidden: sizes[position].saturating_sub(AXIS_OPTIONS),
        };
        let rows = |cells: Vec<u64>, width: usize| -> Vec<Vec<u64>> {
            cells.chunks(width).map(<[u64]>::to_vec).collect()
        };
        self.pairs
            .iter()
            .zip(self.failed)
            .zip(self.ran)
            .map(|((&(p, q), failed), ran)| {
                let width = sizes[q].min(AXIS_OPTIONS);
                HeatMap {
                    rows: axis(p),
                    columns: axis(q),
                    failed: rows(failed, width),
                    ran: rows(ran, width),
                }
            })
            .collect()
    }
}
