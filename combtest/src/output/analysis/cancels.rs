//! Cancels counted per action and reason, as the workers see them: one small map per
//! worker, merged at the end of the run. Reasons are normalised like failure messages, so
//! `cannot withdraw 50 from 10` and `cannot withdraw 40 from 20` count as one reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering};

use serde::{Deserialize, Serialize};

use super::normalise::normalise_into;

/// Distinct reasons kept per position; further reasons are counted under one entry, so a
/// reason that embeds something normalisation misses cannot grow the map without bound.
const REASONS_PER_POSITION: usize = 64;

/// The reason under which reasons past [`REASONS_PER_POSITION`] are counted.
const OTHER_REASONS: &str = "<other reasons>";

/// Cancelled walks kept with their position per run, at most (64 MiB of them, whatever the
/// number of workers): past it, the causes count the cancelled walks as having run every
/// position, as if none had stopped early.
const MOST_STOPPED_WALKS: usize = 1 << 22;

/// Room left in a run's list of walks cancelled before the order's last position, shared by
/// the run's workers, so that the list is bounded per run rather than per worker. Whether the
/// bound was passed depends only on how many walks stopped early, not on which worker ran
/// them.
pub(crate) struct StoppedRoom(AtomicIsize);

impl StoppedRoom {
    /// Room for [`MOST_STOPPED_WALKS`] walks, or for none when the run has no use for the
    /// list: its causes are not analysed, and it writes no shard file whose merge will
    /// analyse them.
    pub(crate) fn new(keep: bool) -> Self {
        Self::of(if keep { MOST_STOPPED_WALKS } else { 0 })
    }

    fn of(walks: usize) -> Self {
        StoppedRoom(AtomicIsize::new(walks as isize))
    }

    /// Takes room for one walk; false once the room is spent. Relaxed: the count only has to
    /// come out right, it orders nothing else.
    fn take_one(&self) -> bool {
        self.0.fetch_sub(1, Ordering::Relaxed) > 0
    }
}

/// How many walks one action cancelled for one reason.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [5, 50])]
/// fn withdraw(amount: i64, balance: &mut i64) {
///     if amount > *balance {
///         cancel!("cannot withdraw {amount} from {balance}");
///     }
///     *balance -= amount;
/// }
///
/// let report = combtest! { order: [withdraw, withdraw], state: 50i64 };
/// assert_eq!(report.cancels.len(), 1);
/// let cancel = &report.cancels[0];
/// assert_eq!(cancel.action, "withdraw#2");
/// assert_eq!(cancel.reason, "cannot withdraw <n> from <n>");
/// assert_eq!(cancel.count, 3); // (5, 50), (50, 5) and (50, 50)
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelCount {
    /// The position that cancelled, named as reports name positions (`type_text#2` for the
    /// second appearance of an action).
    pub action: String,
    /// The position in the order.
    pub position: usize,
    /// The reason with numbers and ids normalised.
    pub reason: String,
    /// One reason as given: that of the walk with the lowest id, so that a run on any number
    /// of threads gives the same example.
    pub example: String,
    /// Walks cancelled there for this reason.
    pub count: u64,
}

/// The cancels one worker counted.
pub(crate) struct CancelTally {
    /// Per position, per normalised reason: the count, and the lowest walk id counted with
    /// its reason as given.
    by_position: HashMap<usize, HashMap<String, (u64, u64, String)>>,
    /// Each walk cancelled before the order's last position, and the position that cancelled
    /// it: a walk says nothing about the choices after it, which the causes must not count.
    /// As many as the run's [`StoppedRoom`] holds; `None` once there were more.
    walks: Option<Vec<(u64, usize)>>,
    scratch: String,
}

impl Default for CancelTally {
    fn default() -> Self {
        CancelTally {
            by_position: HashMap::new(),
            walks: Some(Vec::new()),
            scratch: String::new(),
        }
    }
}

impl CancelTally {
    /// Counts walk `id`, cancelled at `position` for `reason`.
    pub(crate) fn add(&mut self, position: usize, reason: &str, id: u64) {
        normalise_into(reason, &mut self.scratch);
        let reasons = self.by_position.entry(position).or_default();
        let entry = match reasons.get_mut(self.scratch.as_str()) {
            Some(entry) => entry,
            None => {
                let key = if reasons.len() < REASONS_PER_POSITION {
                    self.scratch.clone()
                } else {
                    OTHER_REASONS.to_string()
                };
                reasons
                    .entry(key)
                    .or_insert_with(|| (0, id, reason.to_string()))
            }
        };
        entry.0 += 1;
        if id < entry.1 {
            (entry.1, entry.2) = (id, reason.to_string());
        }
    }

    /// Adds another worker's counts.
    pub(crate) fn absorb(&mut self, other: CancelTally) {
        match (&mut self.walks, other.walks) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            _ => self.walks = None,
        }
        for (position, reasons) in other.by_position {
            let mine = self.by_position.entry(position).or_default();
            for (reason, (count, id, example)) in reasons {
                let entry = mine.entry(reason).or_insert((0, u64::MAX, String::new()));
                entry.0 += count;
                if id < entry.1 {
                    (entry.1, entry.2) = (id, example);
                }
            }
        }
    }

    /// Keeps walk `id`, cancelled at `position` before the order's last position, if the
    /// run's list has room; once it has none, this worker's list is dropped, as the run's
    /// will be.
    pub(crate) fn stopped_early(&mut self, id: u64, position: usize, room: &StoppedRoom) {
        let Some(walks) = &mut self.walks else {
            return;
        };
        if room.take_one() {
            walks.push((id, position));
        } else {
            self.walks = None;
        }
    }

    /// Takes the walks cancelled before the order's last position, each with the position
    /// that cancelled it, sorted by id; none when there were more than it keeps.
    pub(crate) fn take_walks(&mut self) -> Vec<(u64, usize)> {
        let mut walks = self.walks.replace(Vec::new()).unwrap_or_default();
        walks.sort_unstable();
        walks
    }

    /// The counts, most frequent first, positions named by `name`.
    pub(crate) fn into_counts(self, name: impl Fn(usize) -> String) -> Vec<CancelCount> {
        let mut counts: Vec<CancelCount> = self
            .by_position
            .into_iter()
            .flat_map(|(position, reasons)| {
                let action = name(position);
                reasons
                    .into_iter()
                    .map(move |(reason, (count, _, example))| CancelCount {
                        action: action.clone(),
                        position,
                        reason,
                        example,
                        count,
                    })
            })
            .collect();
        counts.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.position.cmp(&b.position))
                .then_with(|| a.reason.cmp(&b.reason))
        });
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_merge_after_normalising_and_across_workers() {
        let mut first = CancelTally::default();
        first.add(1, "cannot withdraw 50 from 10", 8);
        first.add(1, "cannot withdraw 40 from 20", 9);
        let mut second = CancelTally::default();
        second.add(1, "cannot withdraw 7 from 3", 2);
        second.add(0, "closed", 5);
        first.absorb(second);
        let counts = first.into_counts(|p| format!("p{p}"));
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].count, 3);
        assert_eq!(counts[0].action, "p1");
        assert_eq!(counts[0].reason, "cannot withdraw <n> from <n>");
        assert_eq!(counts[1].reason, "closed");
        // The example is the lowest walk's, whichever worker counted it.
        assert_eq!(counts[0].example, "cannot withdraw 7 from 3");
    }

    #[test]
    fn walks_stopped_early_are_kept_sorted_up_to_a_bound_per_run() {
        let room = StoppedRoom::new(true);
        let mut first = CancelTally::default();
        first.stopped_early(9, 1, &room);
        let mut second = CancelTally::default();
        second.stopped_early(2, 0, &room);
        first.absorb(second);
        assert_eq!(first.take_walks(), [(2, 0), (9, 1)]);
        assert!(first.take_walks().is_empty());

        // Three workers share a room of 5: at 5 walks all are kept; at 6, whichever worker
        // ran the sixth, none is, and that worker let go of its own at once.
        for extra_on in 0..3 {
            let room = StoppedRoom::of(5);
            let mut workers: Vec<CancelTally> = (0..3).map(|_| CancelTally::default()).collect();
            for id in 0..5u64 {
                workers[id as usize % 3].stopped_early(id, 0, &room);
            }
            let mut kept = CancelTally::default();
            for worker in &workers {
                kept.absorb(CancelTally {
                    walks: worker.walks.clone(),
                    ..CancelTally::default()
                });
            }
            assert_eq!(kept.take_walks().len(), 5);
            workers[extra_on].stopped_early(99, 0, &room);
            assert!(workers[extra_on].walks.is_none());
            let mut run = CancelTally::default();
            for worker in workers {
                run.absorb(worker);
            }
            assert!(run.take_walks().is_empty(), "past the bound, none is kept");
        }

        let none = StoppedRoom::new(false);
        let mut tally = CancelTally::default();
        tally.stopped_early(1, 0, &none);
        assert!(
            tally.take_walks().is_empty(),
            "a run with no use for the list keeps none"
        );
    }

    #[test]
    fn distinct_reasons_are_bounded() {
        let mut tally = CancelTally::default();
        for i in 0..1000 {
            tally.add(0, &format!("reason {}", "x".repeat(i % 200)), i as u64);
        }
        let counts = tally.into_counts(|_| String::new());
        assert_eq!(counts.len(), REASONS_PER_POSITION + 1);
        assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 1000);
    }
}
