//! Walks held between barriers: chunks of states with a status byte each, cut at the
//! boundaries of innermost branches.

use super::spare;
use super::Stopwatch;
use crate::model::outcome::Outcome;
use crate::model::state::Template;
use crate::model::walk_id::WalkSelection;

/// Walks in id order inside one innermost branch, held across barriers. Each field has its own
/// vector, so a held walk costs its state and one status byte: with millions of walks held,
/// memory traffic is most of a segment's cost.
pub(super) struct Chunk<S> {
    pub(super) ids: Ids,
    pub(super) states: Vec<S>,
    pub(super) statuses: Vec<Status>,
    /// Time spent in each walk's actions, kept only when a trace records it.
    pub(super) nanos: Vec<u64>,
}

/// The ids of a chunk's walks.
pub(super) enum Ids {
    /// Consecutive ids from this one: the usual case, and the one the compiled loops run.
    From(u64),
    /// Any ids, in order: a filter removed walks in between.
    Listed(Vec<u64>),
}

impl Ids {
    /// The id of the chunk's `walk`-th walk.
    pub(super) fn at(&self, walk: usize) -> u64 {
        match self {
            Ids::From(first) => first + walk as u64,
            Ids::Listed(ids) => ids[walk],
        }
    }
}

impl<S> Chunk<S> {
    pub(super) fn new(first: u64, capacity: usize, timed: bool) -> Self {
        Chunk {
            ids: Ids::From(first),
            states: held_states(capacity),
            statuses: spare::vec_with_capacity(capacity),
            nanos: Vec::with_capacity(if timed { capacity } else { 0 }),
        }
    }

    /// Appends `walks` walks with consecutive ids, each with a state made from `template`.
    /// When making a state panics, the walks made so far are held; [`Chunk::mark_live`]
    /// then gives them their statuses.
    pub(super) fn fill(&mut self, walks: usize, template: &Template<'_, S>) {
        debug_assert!(matches!(self.ids, Ids::From(_)));
        template.make_many(&mut self.states, walks);
    }

    /// Gives every walk appended by [`Chunk::fill`] its live status (and its time slot).
    pub(super) fn mark_live(&mut self, timed: bool) {
        self.statuses.resize(self.states.len(), Status::Live);
        if timed {
            self.nanos.resize(self.states.len(), 0);
        }
    }

    /// Appends walk `id`, whose id comes after every id held so far.
    pub(super) fn push(&mut self, id: u64, state: S, timed: bool) {
        let len = self.states.len() as u64;
        match &mut self.ids {
            Ids::From(first) if len == 0 => *first = id,
            Ids::From(first) if *first + len == id => {}
            Ids::From(first) => {
                let mut ids: Vec<u64> = (*first..*first + len).collect();
                ids.push(id);
                self.ids = Ids::Listed(ids);
            }
            Ids::Listed(ids) => ids.push(id),
        }
        self.states.push(state);
        self.statuses.push(Status::Live);
        if timed {
            self.nanos.push(0);
        }
    }

    pub(super) fn id(&self, walk: usize) -> u64 {
        self.ids.at(walk)
    }

    /// The time of a call of the compiled loops that ran the walks `from..stopped` and
    /// stopped (or unwound) at walk `stopped`, timed by `call`: what is left of it for the
    /// walk that stopped, to be added to its time as it is settled. A call that ran that walk
    /// alone timed it exactly; otherwise the loops cannot tell its time from the others', and
    /// the call's time goes to the walks that passed in it (as a run of passing walks'
    /// total), none to the walk that stopped.
    pub(super) fn share_call_time(
        &mut self,
        from: usize,
        stopped: usize,
        call: Stopwatch,
    ) -> Stopwatch {
        if from == stopped {
            return call;
        }
        self.spread_nanos(from..stopped, call.nanos());
        Stopwatch::start(false)
    }

    /// Shares `nanos`, the time the compiled loops took over the walks `walks` in one call,
    /// among those of them that ran (the live ones). The loops time a call, not each walk; a
    /// trace writes passing walks as runs whose time is their walks' total, which this
    /// keeps. Nothing when the chunk is not timed.
    pub(super) fn spread_nanos(&mut self, walks: std::ops::Range<usize>, nanos: u64) {
        if self.nanos.is_empty() || nanos == 0 {
            return;
        }
        let statuses = &self.statuses[walks.clone()];
        let count = statuses
            .iter()
            .filter(|&&status| status == Status::Live)
            .count() as u64;
        let Some(share) = nanos.checked_div(count) else {
            return;
        };
        // What the division leaves goes to the first walk that ran.
        let mut rest = nanos - share * count;
        for (slot, &status) in self.nanos[walks].iter_mut().zip(statuses) {
            if status == Status::Live {
                *slot = slot.saturating_add(share + rest);
                rest = 0;
            }
        }
    }

    pub(super) fn first_id(&self) -> u64 {
        self.id(0)
    }

    pub(super) fn len(&self) -> usize {
        self.states.len()
    }

    /// The ids and states of the live walks.
    pub(super) fn live(&mut self) -> impl Iterator<Item = (u64, &mut S)> {
        let Chunk {
            ids,
            states,
            statuses,
            ..
        } = self;
        let ids = &*ids;
        states
            .iter_mut()
            .zip(statuses.iter())
            .enumerate()
            .filter(|(_, (_, status))| **status == Status::Live)
            .map(move |(walk, (state, _))| (ids.at(walk), state))
    }

    /// Frees the chunk, keeping the memory of its states and statuses for the next run's
    /// chunks (see [`spare`]).
    pub(super) fn give_back(self) {
        spare::give_back(self.states);
        spare::give_back(self.statuses);
    }

    /// Whether any walk is live.
    pub(super) fn any_live(&self) -> bool {
        self.statuses.contains(&Status::Live)
    }
}

/// How many walks a chunk of held walks takes at most: enough chunks for the workers to share
/// the work evenly, each as large as that allows (up to 16 MiB of states), so that a chunk's
/// walks run in one call of the compiled loops and few allocations are made.
///
/// A chunk is the unit of parallel work between barriers, so a small run gets small chunks:
/// the few slow walks of a system test (36 walks of 5 ms actions, say) are spread over every
/// worker rather than held in one chunk that one thread runs alone.
pub(super) fn held_chunk<S>(selection: &WalkSelection, threads: usize) -> u64 {
    const MOST_BYTES: u64 = 16 << 20;
    let most = (MOST_BYTES / std::mem::size_of::<S>().max(1) as u64).max(4096);
    (selection.len() / (threads as u64 * 8)).clamp(1, most)
}

/// An empty vector for the states of `walks` held walks, in memory an earlier run gave back
/// where there is some (see [`spare`]).
///
/// The memory is not marked for transparent huge pages (`madvise(MADV_HUGEPAGE)`): on a
/// virtual machine, the first write to a huge page the process has not had before waits for
/// the host to provide all 2 MiB, and zeroing them in the guest took four times as long as
/// faulting the same memory in 4 KiB pages (2 GiB of 1 KiB states: 5.3-9.6 s against
/// 1.3-2.4 s, `BENCHMARKS.md`); no compaction stall was seen either way.
fn held_states<S>(walks: usize) -> Vec<S> {
    spare::vec_with_capacity(walks)
}

/// Where a resident walk stands. Cancel reasons are kept aside (`Barriers::reasons`), so a
/// held walk stays as small as its state allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Live,
    Failed,
    Cancelled,
}

impl Status {
    pub(super) fn of(outcome: Option<&Outcome>) -> Self {
        match outcome {
            None | Some(Outcome::Pass) => Status::Live,
            Some(Outcome::Fail) => Status::Failed,
            Some(Outcome::Cancel { .. }) => Status::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_given_back_lends_its_memory_to_the_next_chunk() {
        /// An alignment no other test's held states have, so that no run at the same time
        /// takes the memory given back here.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[repr(align(512))]
        struct Aligned(u64);
        let mut first: Chunk<Aligned> = Chunk::new(0, 3_000, false);
        first.states.extend((0..3_000).map(Aligned));
        first.mark_live(false);
        let memory = first.states.as_ptr();
        first.give_back();

        let next: Chunk<Aligned> = Chunk::new(0, 2_500, false);
        assert!(std::ptr::eq(next.states.as_ptr(), memory));
        assert!(next.states.is_empty(), "no value is handed on");
        assert!(next.states.capacity() >= 2_500);
    }

    /// The `VmFlags` of the mapping of this process that holds `address` (Linux).
    #[cfg(target_os = "linux")]
    fn mapping_flags(address: usize) -> String {
        let maps = std::fs::read_to_string("/proc/self/smaps").expect("smaps is readable");
        let mut inside = false;
        for line in maps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((start, end)) = range.split_once('-') {
                if let (Ok(start), Ok(end)) = (
                    usize::from_str_radix(start, 16),
                    usize::from_str_radix(end, 16),
                ) {
                    inside = (start..end).contains(&address);
                    continue;
                }
            }
            if let Some(flags) = line.strip_prefix("VmFlags:") {
                if inside {
                    return flags.trim().to_owned();
                }
            }
        }
        panic!("no mapping holds {address:#x}")
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn held_states_are_not_marked_for_huge_pages() {
        // 64 MiB of states, several huge pages' worth, in an alignment of its own.
        #[derive(Clone, Copy)]
        #[repr(align(128))]
        struct Wide(#[allow(dead_code)] [u8; 128]);
        let chunk: Chunk<Wide> = Chunk::new(0, 1 << 19, false);
        let middle = chunk.states.as_ptr() as usize + (32 << 20);
        let flags = mapping_flags(middle);
        assert!(
            !flags.split_whitespace().any(|flag| flag == "hg"),
            "MADV_HUGEPAGE is set: {flags}"
        );
        // Freed, not given back: kept, it would fill the room other tests' chunks use.
        drop(chunk);
    }

    #[test]
    fn a_calls_time_is_shared_by_the_walks_that_ran_and_kept_whole() {
        let mut chunk = Chunk::new(0, 5, true);
        for id in 0..5 {
            chunk.push(id, id, true);
        }
        chunk.statuses[2] = Status::Failed;
        chunk.spread_nanos(1..5, 10);
        // Walks 1, 3 and 4 ran: 3 each, and the first of them the 1 left over.
        assert_eq!(chunk.nanos, [0, 4, 0, 3, 3]);
        chunk.spread_nanos(0..2, 7);
        assert_eq!(chunk.nanos, [4, 7, 0, 3, 3]);
        // No walk ran, or nothing was timed: nothing changes.
        chunk.spread_nanos(2..3, 9);
        assert_eq!(chunk.nanos, [4, 7, 0, 3, 3]);
        let mut untimed = Chunk::new(0, 1, false);
        untimed.push(0, 0u64, false);
        untimed.spread_nanos(0..1, 9);
        assert!(untimed.nanos.is_empty());
    }

    #[test]
    fn a_chunk_keeps_consecutive_ids_as_a_start_and_lists_them_after_a_gap() {
        let mut chunk = Chunk::new(10, 4, false);
        for id in [10, 11, 12] {
            chunk.push(id, id * 100, false);
        }
        assert!(matches!(chunk.ids, Ids::From(10)));
        chunk.push(15, 1500, false);
        assert!(matches!(&chunk.ids, Ids::Listed(ids) if ids == &[10, 11, 12, 15]));
        assert_eq!((chunk.first_id(), chunk.id(3), chunk.len()), (10, 15, 4));
        assert!(
            chunk.nanos.is_empty(),
            "durations are kept only for a trace"
        );

        chunk.statuses[1] = Status::Failed;
        let live: Vec<(u64, u64)> = chunk.live().map(|(id, state)| (id, *state)).collect();
        assert_eq!(live, [(10, 1000), (12, 1200), (15, 1500)]);
        chunk.statuses = vec![Status::Cancelled; 4];
        assert!(!chunk.any_live());

        // A chunk whose first walks were filtered out starts at its first kept walk.
        let mut late = Chunk::new(20, 4, true);
        late.push(22, 0, true);
        late.push(23, 0, true);
        assert!(matches!(late.ids, Ids::From(22)));
        assert_eq!(late.nanos.len(), 2);
    }
}
