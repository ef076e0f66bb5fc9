//! The builder's walks (the general kernel's lean loop): every walk runs its actions in
//! order on a fresh state that is dropped once, and a walk that fails, panics or cancels in
//! the middle of a run of passing walks is recorded with its own options, while the walks
//! after it run as before.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use combtest::prelude::*;

/// A state that counts how many states were made and dropped, and keeps the walk's params.
#[derive(Debug)]
struct Counted {
    params: Vec<u64>,
    drops: Arc<AtomicU64>,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted {
            params: self.params.clone(),
            drops: Arc::clone(&self.drops),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// The id of the walk with these params over three actions of four options each.
fn id_of(params: &[u64]) -> u64 {
    params.iter().fold(0, |id, &p| id * 4 + p)
}

fn order(runs: Arc<AtomicU64>) -> Vec<Action<Counted>> {
    let record = move |position: usize| {
        let runs = Arc::clone(&runs);
        Action::new(
            format!("step{position}"),
            || 0..4u64,
            move |p: u64, s: &mut Counted, _: &()| -> Result<(), String> {
                runs.fetch_add(1, Ordering::Relaxed);
                s.params.push(p);
                let id = if s.params.len() == 3 {
                    Some(id_of(&s.params))
                } else {
                    None
                };
                match id {
                    // Fails at the last action.
                    Some(id) if id % 7 == 3 => Err(format!("walk {id} fails")),
                    // Panics at the last action.
                    Some(id) if id % 11 == 5 => panic!("walk {id} panics"),
                    // Cancels at the last action.
                    Some(id) if id % 13 == 8 => {
                        combtest::cancel!("walk {id} cancels");
                    }
                    _ => Ok(()),
                }
            },
        )
    };
    (0..3).map(record).collect()
}

#[test]
fn walks_that_stop_in_a_run_of_passing_walks_keep_their_records() {
    for threads in [1, 2] {
        let drops = Arc::new(AtomicU64::new(0));
        let runs = Arc::new(AtomicU64::new(0));
        let state = Counted {
            params: Vec::new(),
            drops: Arc::clone(&drops),
        };
        let report = Combtest::new(state)
            .order(order(Arc::clone(&runs)))
            .threads(threads)
            .run_checked(false);
        let failing: Vec<u64> = (0..64).filter(|id| id % 7 == 3 || id % 11 == 5).collect();
        let cancelled = (0..64)
            .filter(|id| id % 13 == 8 && !(id % 7 == 3 || id % 11 == 5))
            .count() as u64;
        assert_eq!(report.walk_count, 64);
        assert_eq!(report.error_count, failing.len() as u64);
        assert_eq!(report.cancel_count, cancelled);
        assert_eq!(
            runs.load(Ordering::Relaxed),
            64 * 3,
            "every action of every walk"
        );
        let mut ids: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
        ids.sort_unstable();
        assert_eq!(ids, failing);
        for failure in &report.failures {
            let id = failure.walk_id;
            let params: Vec<u64> = failure
                .steps
                .iter()
                .map(|step| step.param.as_u64().expect("a number"))
                .collect();
            assert_eq!(id_of(&params), id, "the record's steps are its own walk's");
            assert_eq!(failure.failed_position, 2);
            let expected = if id % 7 == 3 {
                format!("walk {id} fails")
            } else {
                format!("walk {id} panics")
            };
            assert_eq!(failure.message, expected);
            let recorded: String = failure.state.split_whitespace().collect();
            let expected_params = format!("params:{params:?},").replace(' ', "");
            assert!(
                recorded.contains(&expected_params.replace(']', ",]")),
                "the failing walk's state is recorded: {}",
                failure.state
            );
        }
        // One state per walk, the template of each worker (one or more) and the initial
        // value: each dropped once.
        drop(report);
        let dropped = drops.load(Ordering::Relaxed);
        assert!(
            (64 + 2..=64 + 1 + threads as u64).contains(&dropped),
            "each walk's state is dropped once: {dropped} drops on {threads} threads"
        );
    }
}
