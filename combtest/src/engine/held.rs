//! Walks held between barriers: chunks of states with a status byte each, cut at the
//! boundaries of innermost branches, and backed by huge pages where the system allows.

use super::spare;
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
/// the work evenly, each as large as that allows, so that its states can sit on huge pages.
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
/// where there is some (see [`spare`]). On Linux, a large one is marked for
/// transparent huge pages before anything is written: with millions of walks held, the
/// kernel's work to provide fresh memory one 4 KiB page at a time is otherwise most of a
/// segment's cost.
fn held_states<S>(walks: usize) -> Vec<S> {
    let states: Vec<S> = spare::vec_with_capacity(walks);
    #[cfg(target_os = "linux")]
    advise_huge_pages(states.as_ptr().cast(), walks * std::mem::size_of::<S>());
    states
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *const u8, bytes: usize) {
    const HUGE_PAGE: usize = 2 << 20;
    let first = (start as usize).next_multiple_of(HUGE_PAGE);
    let end = (start as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: the range lies inside an allocation this function's caller owns and has
        // not yet written; MADV_HUGEPAGE only advises how to back it and never changes its
        // contents. A refusal (huge pages disabled, say) leaves it as it was, so the result
        // is not needed.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
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
