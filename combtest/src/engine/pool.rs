//! The worker pool: scoped crossbeam threads pulling chunks of walk ids.
//!
//! Work is handed out as chunks of consecutive ids through one atomic counter, not one message
//! per walk: a worker touches shared memory once per chunk. Each worker keeps its own tally;
//! tallies are merged once at the end, so no lock is taken per walk.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::model::walk_id::WalkSelection;

/// Hands out chunks of the selected ids. Ids are numbered by their rank in the selection
/// ("slots"), so a sparse selection such as `3,100-200` is chunked as densely as `0..total`.
pub(crate) struct Dispenser<'a> {
    selection: &'a WalkSelection,
    /// Slot of the first id of each range of the selection.
    first_slots: Vec<u64>,
    slots: u64,
    next: AtomicU64,
    chunk: u64,
}

impl<'a> Dispenser<'a> {
    /// Chunks small enough that both threads stay busy to the end, large enough that the
    /// counter is touched rarely.
    pub(crate) fn new(selection: &'a WalkSelection, threads: usize) -> Self {
        let chunk = (selection.len() / (threads as u64 * 64)).clamp(1, 4096);
        Self::with_chunk(selection, chunk)
    }

    /// A dispenser of chunks of `chunk` ids (at least one).
    pub(crate) fn with_chunk(selection: &'a WalkSelection, chunk: u64) -> Self {
        let slots = selection.len();
        let chunk = chunk.max(1);
        let mut first_slots = Vec::with_capacity(selection.ranges().len());
        let mut slot = 0;
        for range in selection.ranges() {
            first_slots.push(slot);
            slot += range.end - range.start;
        }
        Dispenser {
            selection,
            first_slots,
            slots,
            next: AtomicU64::new(0),
            chunk,
        }
    }

    /// The next chunk, as id ranges (a chunk may straddle two ranges of the selection).
    pub(crate) fn next_chunk(&self, ids: &mut Vec<Range<u64>>) -> bool {
        let start = self.next.fetch_add(self.chunk, Ordering::Relaxed);
        if start >= self.slots {
            return false;
        }
        let end = (start + self.chunk).min(self.slots);
        ids.clear();
        let first = self.first_slots.partition_point(|&s| s <= start) - 1;
        for (range, &first_slot) in self.selection.ranges()[first..]
            .iter()
            .zip(&self.first_slots[first..])
        {
            if first_slot >= end {
                break;
            }
            let from = range.start + start.saturating_sub(first_slot);
            let to = range.start + (end - first_slot).min(range.end - range.start);
            ids.push(from..to);
        }
        true
    }
}

/// How many workers a run of `threads` threads needs for this dispenser.
pub(crate) fn worker_count(threads: usize, dispenser: &Dispenser<'_>) -> usize {
    threads
        .min(usize::try_from(dispenser.slots).unwrap_or(usize::MAX))
        .max(1)
}

/// Runs `work` over every chunk, one worker per element of `workers` (each owns its element:
/// its tally and its copy of whatever it needs), and returns the workers.
///
/// With one worker the work runs on the calling thread, so a debugger, `dbg!` and
/// thread-local test fixtures behave as in a plain test.
pub(crate) fn run<T: Send>(
    workers: Vec<T>,
    dispenser: &Dispenser<'_>,
    work: impl Fn(&mut T, &[Range<u64>]) + Sync,
) -> Vec<T> {
    on_workers(workers, Threads::CallerForOne, |mut worker| {
        let mut ids = Vec::new();
        while dispenser.next_chunk(&mut ids) {
            work(&mut worker, &ids);
        }
        worker
    })
}

/// Where workers run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// A single worker runs on the calling thread, so a debugger, `dbg!` and thread-local
    /// test fixtures behave as in a plain test; several run on threads of their own.
    CallerForOne,
    /// Every worker runs on a thread spawned for it: for async walks, whose polling the
    /// caller's own runtime (a `#[tokio::test]`) would disturb.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Own,
}

/// Runs `work` over `items` in chunks of `chunk` items, on one thread per element of
/// `workers`. Used for walks that stay resident between barriers: each chunk is a disjoint
/// `&mut` slice, sent once through a crossbeam channel.
pub(crate) fn run_slices<T: Send, W: Send>(
    workers: Vec<W>,
    threads: Threads,
    items: &mut [T],
    chunk: usize,
    work: impl Fn(&mut W, &mut [T]) + Sync,
) -> Vec<W> {
    let (sender, receiver) = crossbeam::channel::unbounded();
    for slice in items.chunks_mut(chunk.max(1)) {
        sender.send(slice).expect("the receiver is alive");
    }
    drop(sender);
    on_workers(workers, threads, |mut worker| {
        for slice in receiver.iter() {
            work(&mut worker, slice);
        }
        worker
    })
}

/// Runs `job` once per worker, in parallel, and returns what each returned.
pub(super) fn on_workers<W: Send>(
    workers: Vec<W>,
    threads: Threads,
    job: impl Fn(W) -> W + Sync,
) -> Vec<W> {
    if workers.len() <= 1 && threads == Threads::CallerForOne {
        return workers.into_iter().map(job).collect();
    }
    // Each thread takes its worker from its own slot and puts it back when done: the threads
    // are spawned by `on_threads`, compiled once, not again for every worker type (that is,
    // for every state type a test uses). The slots are locked once per thread, never per walk.
    let slots: Vec<Mutex<Option<W>>> = workers
        .into_iter()
        .map(|worker| Mutex::new(Some(worker)))
        .collect();
    on_threads(slots.len(), &|index| {
        let mut slot = slots[index].lock().unwrap_or_else(|e| e.into_inner());
        let worker = slot.take().expect("each slot is taken by one thread");
        *slot = Some(job(worker));
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every thread put its worker back")
        })
        .collect()
}

/// Runs `run(index)` for each index below `count`, each on a thread of its own, and waits
/// for all of them.
fn on_threads(count: usize, run: &(dyn Fn(usize) + Sync)) {
    // Workers carry the caller's dispatcher, so a subscriber installed by the test (which is
    // usually thread-local) sees the events of every walk.
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    crossbeam::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|index| {
                let dispatch = &dispatch;
                scope
                    .builder()
                    .name(format!("combtest-worker-{index}"))
                    .spawn(move |_| tracing::dispatcher::with_default(dispatch, || run(index)))
                    .expect("combtest: cannot spawn a worker thread")
            })
            .collect();
        for handle in handles {
            // Walk panics are caught inside the walk; what arrives here is a panic in the
            // test's own code outside any walk (a filter, say): pass it on unchanged.
            handle
                .join()
                .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
        }
    })
    .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain_all(selection: &WalkSelection, threads: usize) -> Vec<u64> {
        let dispenser = Dispenser::new(selection, threads);
        let workers = vec![Vec::new(); worker_count(threads, &dispenser)];
        let tallies = run(workers, &dispenser, |seen: &mut Vec<u64>, ids| {
            for range in ids {
                seen.extend(range.clone());
            }
        });
        let mut all: Vec<u64> = tallies.into_iter().flatten().collect();
        all.sort_unstable();
        all
    }

    #[test]
    fn every_selected_id_is_handed_out_once() {
        let all = WalkSelection::all(100_003);
        assert_eq!(drain_all(&all, 2), (0..100_003).collect::<Vec<_>>());
        let sparse = WalkSelection::parse("3,10-20,500-7000,9000", "test").unwrap();
        let expected: Vec<u64> = [3..4, 10..21, 500..7001, 9000..9001]
            .into_iter()
            .flatten()
            .collect();
        for threads in 1..=3 {
            assert_eq!(drain_all(&sparse, threads), expected);
        }
    }

    #[test]
    fn every_slice_item_is_worked_once() {
        let mut items: Vec<u32> = (0..10_001).collect();
        let workers = run_slices(
            vec![0u64; 3],
            Threads::Own,
            &mut items,
            7,
            |count, slice| {
                for item in slice.iter_mut() {
                    *item += 1;
                    *count += 1;
                }
            },
        );
        assert_eq!(workers.iter().sum::<u64>(), 10_001);
        assert!(items.iter().enumerate().all(|(i, &v)| v == i as u32 + 1));
    }

    #[test]
    fn workers_see_the_callers_dispatcher() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        struct Counting(Arc<AtomicUsize>);
        impl tracing::Subscriber for Counting {
            fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
                tracing::span::Id::from_u64(1)
            }
            fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
            fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
            fn event(&self, _: &tracing::Event<'_>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            fn enter(&self, _: &tracing::span::Id) {}
            fn exit(&self, _: &tracing::span::Id) {}
        }
        let count = Arc::new(AtomicUsize::new(0));
        let selection = WalkSelection::all(1000);
        let dispenser = Dispenser::new(&selection, 2);
        let threads = tracing::subscriber::with_default(Counting(count.clone()), || {
            run(
                vec![Vec::new(); 2],
                &dispenser,
                |names: &mut Vec<String>, ids| {
                    for _ in ids.iter().flat_map(Clone::clone) {
                        tracing::info!("walk");
                    }
                    names.push(std::thread::current().name().unwrap_or("").to_string());
                },
            )
        });
        assert_eq!(count.load(Ordering::SeqCst), 1000);
        assert!(threads
            .iter()
            .flatten()
            .all(|n| n.starts_with("combtest-worker")));
    }
}
