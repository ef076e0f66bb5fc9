//! The final states a run gathers, kept as parallel columns: ids, states and (only at the
//! full level) walk summaries. A state is moved once into its column (or made there, by the
//! compiled loops), never into a wide per-walk tuple, and the columns come out sorted by id
//! without moving the states when the workers' ids already arrive in order (one worker, or
//! chunks absorbed in order).
//!
//! Walks run in id order, so a worker gathers long runs of consecutive ids: the ids are kept
//! as those runs, a few per chunk, rather than one word per state.

use crate::model::outcome::WalkSummary;

/// One worker's (or the merged run's) gathered walks.
pub(crate) struct Gathered<S> {
    /// The ids of the gathered walks, as runs of consecutive ids covering `states` in order.
    id_runs: IdRuns,
    pub(crate) states: Vec<S>,
    /// At the full level: each walk's summary, index for index with `states`; else empty.
    pub(crate) summaries: Vec<WalkSummary>,
}

/// Walk ids as runs of consecutive ids: `(first id, count)` each, in the order they were
/// gathered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IdRuns {
    runs: Vec<(u64, u64)>,
}

impl IdRuns {
    /// Appends `id`: it lengthens the last run if it follows it.
    #[inline(always)]
    pub(crate) fn push(&mut self, id: u64) {
        match self.runs.last_mut() {
            Some((first, count)) if *first + *count == id => *count += 1,
            _ => self.runs.push((id, 1)),
        }
    }

    /// Every id, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.runs
            .iter()
            .flat_map(|&(first, count)| first..first + count)
    }

    /// How many ids there are.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.runs.iter().map(|&(_, count)| count as usize).sum()
    }
}

impl<S> Default for Gathered<S> {
    fn default() -> Self {
        Gathered {
            id_runs: IdRuns::default(),
            states: Vec::new(),
            summaries: Vec::new(),
        }
    }
}

impl<S> Gathered<S> {
    /// Keeps one walk's final state, and its summary at the full level.
    #[inline]
    pub(crate) fn push(&mut self, id: u64, state: S, summary: Option<WalkSummary>) {
        self.id_runs.push(id);
        self.states.push(state);
        self.summaries.extend(summary);
    }

    /// Counts `id` as the id of a state just added to `states` (by the compiled loops, which
    /// make it in place), with no summary.
    #[inline(always)]
    pub(crate) fn push_id(&mut self, id: u64) {
        self.id_runs.push(id);
    }

    /// Appends another worker's gathered walks.
    pub(crate) fn absorb(&mut self, other: Gathered<S>) {
        if self.states.is_empty() && self.id_runs.runs.is_empty() {
            *self = other;
            return;
        }
        self.id_runs.runs.extend(other.id_runs.runs);
        self.states.extend(other.states);
        self.summaries.extend(other.summaries);
    }

    /// Sorts the columns by walk id. Each walk is gathered once, so runs of increasing first
    /// ids are sorted ids (the common case: one pass over the runs). Otherwise the runs are
    /// sorted by their first id (a stable, run-adaptive sort: each worker's runs come in
    /// increasing order), and the states and summaries are put in place by swaps along the
    /// permutation's cycles, each moved at most once per cycle step rather than copied into a
    /// new vector.
    pub(crate) fn sort_by_id(&mut self) {
        // The order is worked out on the ids alone, in code compiled once for every state
        // type; only the moves along it depend on `S`.
        let Some(mut source) = self.id_runs.sort_runs() else {
            return;
        };
        if self.summaries.len() == self.states.len() {
            permute(&mut self.summaries, &mut source.clone());
        }
        permute(&mut self.states, &mut source);
    }

    /// The columns: ids, states and summaries (empty unless at the full level).
    pub(crate) fn into_columns(self) -> (IdRuns, Vec<S>, Vec<WalkSummary>) {
        (self.id_runs, self.states, self.summaries)
    }
}

impl IdRuns {
    /// Sorts the runs by their first id. Returns `None` when they already were (nothing
    /// moves), else the source index of each state in the new order, for `permute`.
    fn sort_runs(&mut self) -> Option<Vec<usize>> {
        let runs = &mut self.runs;
        if runs.is_sorted_by_key(|&(first, _)| first) {
            return None;
        }
        // Each run with the index of its first state.
        let mut placed: Vec<((u64, u64), usize)> = Vec::with_capacity(runs.len());
        let mut start = 0;
        for &run in runs.iter() {
            placed.push((run, start));
            start += run.1 as usize;
        }
        placed.sort_by_key(|&((first, _), _)| first);
        let mut source: Vec<usize> = Vec::with_capacity(start);
        runs.clear();
        for ((first, count), start) in placed {
            source.extend(start..start + count as usize);
            self.push_run(first, count);
        }
        Some(source)
    }

    /// Appends `count` ids from `first`, joining the last run if they follow it.
    fn push_run(&mut self, first: u64, count: u64) {
        match self.runs.last_mut() {
            Some((last, n)) if *last + *n == first => *n += count,
            _ => self.runs.push((first, count)),
        }
    }
}

/// Reorders `items` so that slot `i` holds what was at `source[i]`, by swaps along each
/// cycle of the permutation. `source` is used up (each visited slot is marked as its own).
pub(crate) fn permute<T>(items: &mut [T], source: &mut [usize]) {
    for start in 0..items.len() {
        let mut slot = start;
        loop {
            let from = source[slot];
            source[slot] = slot;
            if from == start || from == slot {
                break;
            }
            items.swap(slot, from);
            slot = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_puts_each_item_where_the_source_says() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        let source = [3, 0, 4, 1, 2, 5];
        let expected: Vec<char> = source.iter().map(|&i| items[i]).collect();
        permute(&mut items, &mut source.clone());
        assert_eq!(items, expected);
    }

    #[test]
    fn sorting_keeps_states_and_summaries_with_their_ids() {
        use crate::model::outcome::Outcome;
        let mut gathered = Gathered::default();
        // Two workers' runs of increasing ids, interleaved the way chunks are absorbed.
        for id in [40u64, 41, 42, 7, 8, 9, 10, 0, 1, 55] {
            let summary = WalkSummary {
                walk_id: id,
                outcome: Outcome::Pass,
                branch: vec![id as usize],
            };
            gathered.push(id, id * 100, Some(summary));
        }
        gathered.sort_by_id();
        let mut expected = vec![0u64, 1, 7, 8, 9, 10, 40, 41, 42, 55];
        assert_eq!(gathered.id_runs.iter().collect::<Vec<_>>(), expected);
        assert_eq!(
            gathered.states,
            expected.iter().map(|id| id * 100).collect::<Vec<_>>()
        );
        let summary_ids: Vec<u64> = gathered.summaries.iter().map(|s| s.walk_id).collect();
        assert_eq!(summary_ids, expected);
        let branches: Vec<u64> = gathered
            .summaries
            .iter()
            .map(|s| s.branch[0] as u64)
            .collect();
        expected.sort();
        assert_eq!(branches, expected);
    }

    #[test]
    fn ids_are_kept_as_runs_of_consecutive_ids() {
        let mut ids = IdRuns::default();
        for id in [4, 5, 6, 9, 10, 2] {
            ids.push(id);
        }
        assert_eq!(ids.runs, [(4, 3), (9, 2), (2, 1)]);
        assert_eq!(ids.iter().collect::<Vec<_>>(), [4, 5, 6, 9, 10, 2]);
        assert_eq!(ids.len(), 6);
    }

    #[test]
    fn workers_absorbed_out_of_order_come_out_sorted_with_their_states() {
        // Two workers: one ran walks 10-19 then 30-31, the other 0-9 then 20-29.
        let worker = |ranges: &[std::ops::Range<u64>]| {
            let mut gathered = Gathered::default();
            for id in ranges.iter().cloned().flatten() {
                gathered.states.push(id * 10);
                gathered.push_id(id);
            }
            gathered
        };
        let mut merged = worker(&[10..20, 30..32]);
        merged.absorb(worker(&[0..10, 20..30]));
        assert_eq!(merged.id_runs.runs, [(10, 10), (30, 2), (0, 10), (20, 10)]);
        merged.sort_by_id();
        assert_eq!(merged.id_runs.runs, [(0, 32)], "sorted runs join");
        assert_eq!(merged.id_runs.len(), merged.states.len());
        assert_eq!(merged.states, (0..32).map(|id| id * 10).collect::<Vec<_>>());
    }

    #[test]
    fn flat_gathering_keeps_no_summaries() {
        let mut gathered = Gathered::default();
        for id in [3u64, 1, 2] {
            gathered.push(id, id, None);
        }
        gathered.sort_by_id();
        assert_eq!(gathered.id_runs.iter().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            gathered.id_runs.runs,
            [(1, 3)],
            "sorted ids join in one run"
        );
        assert_eq!(gathered.states, [1, 2, 3]);
        assert!(gathered.summaries.is_empty());
    }
}
