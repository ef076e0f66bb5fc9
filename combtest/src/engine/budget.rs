//! The process-wide worker budget: combtest tests running at once in one test binary
//! (libtest runs tests in parallel) share the machine's cores instead of each spawning a
//! worker per core.
//!
//! A run that was not told its number of threads leases what is free of the budget (the
//! machine's available parallelism), at least one, at most what it would take alone; a run
//! told its threads (`threads`, `COMBTEST_THREADS`) gets exactly those, and they count
//! against the budget as well. Leases are returned when the run's walks are done.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Worker threads leased by the runs of this process now.
static LEASED: AtomicUsize = AtomicUsize::new(0);

/// The budget: the machine's available parallelism, read once.
fn budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Worker threads leased by one run, given back on drop.
#[derive(Debug)]
pub(crate) struct Lease {
    threads: usize,
    leased: &'static AtomicUsize,
}

impl Lease {
    /// The run's worker threads.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.leased.fetch_sub(self.threads, Ordering::AcqRel);
    }
}

/// Leases the threads of a run that would take `wanted` alone; `told` says whether the user
/// set them (then they are taken as they are).
pub(crate) fn lease(wanted: usize, told: bool) -> Lease {
    lease_from(&LEASED, budget(), wanted, told)
}

fn lease_from(leased: &'static AtomicUsize, budget: usize, wanted: usize, told: bool) -> Lease {
    let wanted = wanted.max(1);
    let mut taken = leased.load(Ordering::Acquire);
    loop {
        let threads = if told {
            wanted
        } else {
            wanted.min(budget.saturating_sub(taken)).max(1)
        };
        match leased.compare_exchange_weak(
            taken,
            taken.saturating_add(threads),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Lease { threads, leased },
            Err(now) => taken = now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> &'static AtomicUsize {
        Box::leak(Box::new(AtomicUsize::new(0)))
    }

    #[test]
    fn runs_at_once_share_the_budget_and_each_gets_one_at_least() {
        let leased = counter();
        let all = lease_from(leased, 4, 4, false);
        let squeezed = lease_from(leased, 4, 4, false);
        assert_eq!((all.threads(), squeezed.threads()), (4, 1));

        let leased = counter();
        let two = lease_from(leased, 4, 2, false);
        let rest = lease_from(leased, 4, 4, false);
        let told = lease_from(leased, 4, 3, true);
        let last = lease_from(leased, 4, 4, false);
        assert_eq!(two.threads(), 2);
        assert_eq!(rest.threads(), 2);
        assert_eq!(told.threads(), 3, "threads the user set are taken as set");
        assert_eq!(last.threads(), 1);
    }

    #[test]
    fn a_lease_gives_its_threads_back() {
        let leased = counter();
        drop(lease_from(leased, 2, 2, false));
        assert_eq!(leased.load(Ordering::Acquire), 0);
        let again = lease_from(leased, 2, 2, false);
        assert_eq!(again.threads(), 2);
    }
}
