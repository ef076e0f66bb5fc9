//! Memory of held walks kept for the next run, so that the kernel need not provide it again.
//!
//! A run with serial actions holds every walk's state between barriers, in vectors as large as
//! a worker's share of the walks. Freed at the end of the run, that memory goes back to the
//! allocator, which often returns it to the kernel; the next such run then faults every page
//! in again, and the kernel zeroes each one: with millions of held walks, most of a run's
//! time. So up to [`KEPT_BYTES`] of these vectors' allocations are kept here, empty, and the
//! next run's vectors of any type with the same alignment reuse them. Only memory is kept,
//! never a value: a vector is cleared before it is given here.

use std::alloc::Layout;
use std::mem::{align_of, size_of, ManuallyDrop};
use std::ptr::NonNull;
use std::sync::Mutex;

/// At most this much memory is kept between runs.
pub(super) const KEPT_BYTES: usize = 64 << 20;

/// An allocation made by the global allocator for a `Vec`, with the layout it was made with.
struct Spare {
    start: NonNull<u8>,
    layout: Layout,
}

// SAFETY: a spare is memory without any value in it; whichever thread takes it owns it alone.
unsafe impl Send for Spare {}

static SPARES: Mutex<Vec<Spare>> = Mutex::new(Vec::new());

/// An empty vector with room for at least `capacity` values of `T`: a kept allocation when
/// one fits (no more than twice the room asked for, so that little is wasted), a new one
/// otherwise.
pub(super) fn vec_with_capacity<T>(capacity: usize) -> Vec<T> {
    let wanted = capacity.saturating_mul(size_of::<T>());
    if wanted == 0 {
        return Vec::with_capacity(capacity);
    }
    let taken = {
        let mut spares = SPARES.lock().unwrap_or_else(|e| e.into_inner());
        let fits = spares.iter().position(|spare| {
            let size = spare.layout.size();
            spare.layout.align() == align_of::<T>()
                && size % size_of::<T>() == 0
                && size >= wanted
                && size / 2 <= wanted
        });
        fits.map(|at| spares.swap_remove(at))
    };
    match taken {
        // SAFETY: the allocation was made by the global allocator for a `Vec` with exactly
        // this layout: `size` bytes aligned to `align_of::<T>()`. `size` is a multiple of
        // `size_of::<T>()`, so a `Vec<T>` of capacity `size / size_of::<T>()` has that same
        // layout, as `from_raw_parts` requires; its length is 0, so no value is read.
        Some(spare) => unsafe {
            Vec::from_raw_parts(
                spare.start.as_ptr().cast::<T>(),
                0,
                spare.layout.size() / size_of::<T>(),
            )
        },
        None => Vec::with_capacity(capacity),
    }
}

/// Drops the values of `values` and keeps its allocation for a later
/// [`vec_with_capacity`], if there is room for it; frees it otherwise.
pub(super) fn give_back<T>(mut values: Vec<T>) {
    values.clear();
    let bytes = values.capacity() * size_of::<T>();
    if bytes == 0 {
        return;
    }
    let mut spares = SPARES.lock().unwrap_or_else(|e| e.into_inner());
    let kept: usize = spares.iter().map(|spare| spare.layout.size()).sum();
    if kept + bytes > KEPT_BYTES {
        return;
    }
    let values = ManuallyDrop::new(values);
    let layout = Layout::from_size_align(bytes, align_of::<T>())
        .expect("the layout of a vector that exists");
    let start = NonNull::new(values.as_ptr().cast_mut().cast::<u8>())
        .expect("a vector with room has an allocation");
    spares.push(Spare { start, layout });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of an alignment nothing else in these tests' process holds across barriers, so
    /// that runs of other tests at the same time never take the allocations given back here.
    #[derive(Clone, Copy)]
    #[repr(align(256))]
    struct Wide(#[allow(dead_code)] [u8; 256]);

    #[derive(Clone, Copy)]
    #[repr(align(256))]
    struct Wider(#[allow(dead_code)] [u8; 1280]);

    /// The allocations kept now, by address.
    fn kept() -> Vec<usize> {
        let spares = SPARES.lock().unwrap();
        spares.iter().map(|s| s.start.as_ptr() as usize).collect()
    }

    #[test]
    fn a_vector_given_back_is_reused_by_the_next_one_of_its_alignment() {
        let mut first: Vec<Wide> = vec_with_capacity(1_000);
        first.extend([Wide([7; 256]); 100]);
        let start = first.as_ptr() as usize;
        give_back(first);
        assert!(kept().contains(&start));

        // Another type with the same alignment and a size that divides the allocation.
        let second: Vec<Wider> = vec_with_capacity(200);
        assert_eq!(
            second.as_ptr() as usize,
            start,
            "the kept allocation is reused"
        );
        assert!(second.is_empty());
        assert_eq!(second.capacity(), 200);
        assert!(!kept().contains(&start));
        // Dropped as any vector: its layout is its own.
        drop(second);
    }

    #[test]
    fn values_given_back_are_dropped_and_no_allocation_is_used_twice() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        #[repr(align(256))]
        struct Counted(#[allow(dead_code)] u32);
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut held: Vec<Counted> = vec_with_capacity(3_000);
        held.extend((0..10).map(Counted));
        let start = held.as_ptr() as usize;
        give_back(held);
        assert_eq!(DROPS.load(Ordering::Relaxed), 10);

        let a: Vec<Wide> = vec_with_capacity(3_000);
        let b: Vec<Wide> = vec_with_capacity(3_000);
        assert!(
            !std::ptr::eq(a.as_ptr(), b.as_ptr()),
            "two vectors never share an allocation"
        );
        assert!([a.as_ptr() as usize, b.as_ptr() as usize].contains(&start));
    }

    #[test]
    fn a_much_smaller_vector_does_not_take_a_large_allocation() {
        let large: Vec<Wide> = vec_with_capacity(7_777);
        let start = large.as_ptr() as usize;
        give_back(large);
        let small: Vec<Wide> = vec_with_capacity(1_000);
        assert_ne!(small.as_ptr() as usize, start);
        // Tidy: take the large one back so that other tests do not see it.
        let again: Vec<Wide> = vec_with_capacity(7_777);
        assert_eq!(again.as_ptr() as usize, start);
    }

    #[test]
    fn no_more_than_the_limit_is_kept() {
        let huge: Vec<Wide> = vec_with_capacity(KEPT_BYTES / 256 + 1);
        let start = huge.as_ptr() as usize;
        give_back(huge);
        assert!(
            !kept().contains(&start),
            "an allocation past the limit is freed"
        );
    }
}
