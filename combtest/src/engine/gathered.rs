//! The final states a run gathers, kept as parallel columns: ids, states and (only at the
//! full level) walk summaries. A state is moved once into its column, never into a wide
//! per-walk tuple, and the columns come out sorted by id without moving the states when the
//! workers' ids already arrive in order (one worker, or chunks absorbed in order).

use crate::model::outcome::WalkSummary;

/// One worker's (or the merged run's) gathered walks.
pub(crate) struct Gathered<S> {
    /// Each gathered walk's id, index for index with `states`.
    pub(crate) ids: Vec<u64>,
    pub(crate) states: Vec<S>,
    /// At the full level: each walk's summary, index for index with `states`; else empty.
    pub(crate) summaries: Vec<WalkSummary>,
}

impl<S> Default for Gathered<S> {
    fn default() -> Self {
        Gathered {
            ids: Vec::new(),
            states: Vec::new(),
            summaries: Vec::new(),
        }
    }
}

impl<S> Gathered<S> {
    /// Keeps one walk's final state, and its summary at the full level.
    #[inline]
    pub(crate) fn push(&mut self, id: u64, state: S, summary: Option<WalkSummary>) {
        self.ids.push(id);
        self.states.push(state);
        self.summaries.extend(summary);
    }

    /// Appends another worker's gathered walks.
    pub(crate) fn absorb(&mut self, other: Gathered<S>) {
        if self.ids.is_empty() {
            *self = other;
            return;
        }
        self.ids.extend(other.ids);
        self.states.extend(other.states);
        self.summaries.extend(other.summaries);
    }

    /// Sorts the columns by walk id. Already sorted columns (the common case) cost one pass
    /// over the ids; otherwise a stable, run-adaptive sort orders (id, index) pairs (each
    /// worker's ids come in increasing runs), and the states and summaries are put in
    /// place by swaps along the permutation's cycles, each moved at most once per cycle
    /// step rather than copied into a new vector.
    pub(crate) fn sort_by_id(&mut self) {
        if self.ids.is_sorted() {
            return;
        }
        let mut order: Vec<(u64, usize)> = self.ids.iter().copied().zip(0..).collect();
        order.sort_by_key(|&(id, _)| id);
        let mut source: Vec<usize> = Vec::with_capacity(order.len());
        for (slot, (id, index)) in order.into_iter().enumerate() {
            self.ids[slot] = id;
            source.push(index);
        }
        if self.summaries.len() == self.states.len() {
            permute(&mut self.summaries, &mut source.clone());
        }
        permute(&mut self.states, &mut source);
    }
}

/// Reorders `items` so that slot `i` holds what was at `source[i]`, by swaps along each
/// cycle of the permutation. `source` is used up (each visited slot is marked as its own).
fn permute<T>(items: &mut [T], source: &mut [usize]) {
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
        assert_eq!(gathered.ids, expected);
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
    fn flat_gathering_keeps_no_summaries() {
        let mut gathered = Gathered::default();
        for id in [3u64, 1, 2] {
            gathered.push(id, id, None);
        }
        gathered.sort_by_id();
        assert_eq!(gathered.ids, [1, 2, 3]);
        assert_eq!(gathered.states, [1, 2, 3]);
        assert!(gathered.summaries.is_empty());
    }
}
