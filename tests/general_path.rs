//! The builder's walks (the general kernel's lean loop): every walk runs its actions in
//! order on a fresh state that is dropped once, and a walk that fails, panics or cancels in
//! the middle of a run of passing walks is recorded with its own options, while the walks
//! after it run as before.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use combtest::prelude::*;
use combtest::FailureKind;

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

/// Clones of [`Probe`] states so far (one test uses it).
static PROBE_CLONES: AtomicU64 = AtomicU64::new(0);

/// A state whose `Clone` panics on its `fail_on`-th call and whose `Drop` panics for the walk
/// whose params are `[2, 2, 2]`; it keeps the walk's params.
#[derive(Debug)]
struct Probe {
    params: Vec<u64>,
    fail_on: u64,
}

impl Clone for Probe {
    fn clone(&self) -> Self {
        let call = PROBE_CLONES.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.fail_on {
            panic!("clone number {call} breaks");
        }
        Probe {
            params: self.params.clone(),
            fail_on: self.fail_on,
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.params == [2, 2, 2] && !std::thread::panicking() {
            panic!("dropping walk 26 breaks");
        }
    }
}

#[test]
fn each_stop_or_unwind_in_the_lean_loop_is_pinned_to_its_walk_and_step() {
    let runs = Arc::new(AtomicU64::new(0));
    let step = |position: usize| {
        let runs = Arc::clone(&runs);
        Action::new(
            format!("step{position}"),
            || 0..3u64,
            move |p: u64, s: &mut Probe, _: &()| -> Result<(), String> {
                runs.fetch_add(1, Ordering::Relaxed);
                s.params.push(p);
                match s.params[..] {
                    // Walks 15-17 panic in their second action.
                    [1, 2] => panic!("a panic at position 1"),
                    // Walk 1 fails in its last action.
                    [0, 0, 1] => Err("an error at position 2".to_string()),
                    _ => Ok(()),
                }
            },
        )
    };
    // One worker, no gathering, trace or filter: the builder's lean loop. The builder's own
    // value is cloned once into the worker's template, so walk `k`'s state is clone `k + 2`:
    // walk 4's clone panics.
    let report = Combtest::new(Probe {
        params: Vec::new(),
        fail_on: PROBE_CLONES.load(Ordering::SeqCst) + 6,
    })
    .order((0..3).map(step))
    .threads(1)
    .run_checked(false);
    assert_eq!(
        report.walk_count, 27,
        "every walk is counted once: {report}"
    );
    assert_eq!(report.error_count, 6, "{report}");
    // Walk 4 ran no action; walks 15-17 two each.
    assert_eq!(runs.load(Ordering::Relaxed), 27 * 3 - 3 - 3);
    let mut failures: Vec<_> = report.failures.iter().collect();
    failures.sort_by_key(|f| f.walk_id);
    let seen: Vec<(u64, FailureKind, usize)> = failures
        .iter()
        .map(|f| (f.walk_id, f.kind, f.failed_position))
        .collect();
    assert_eq!(
        seen,
        [
            (1, FailureKind::Error, 2),
            (4, FailureKind::State, 0),
            (15, FailureKind::Panic, 1),
            (16, FailureKind::Panic, 1),
            (17, FailureKind::Panic, 1),
            (26, FailureKind::State, 2),
        ],
        "{report}"
    );
    let message = |id: u64| &failures.iter().find(|f| f.walk_id == id).unwrap().message;
    assert_eq!(message(1), "an error at position 2");
    assert!(
        message(4).contains("while its state was made") && message(4).contains("clone number 6"),
        "{}",
        message(4)
    );
    assert_eq!(message(16), "a panic at position 1");
    assert!(
        message(26).contains("while its state was dropped")
            && message(26).contains("dropping walk 26 breaks"),
        "{}",
        message(26)
    );
    for failure in &failures {
        let params: Vec<u64> = failure
            .steps
            .iter()
            .map(|step| step.param.as_u64().expect("a number"))
            .collect();
        assert_eq!(
            params.iter().fold(0, |id, &p| id * 3 + p),
            failure.walk_id,
            "the record's steps are its own walk's"
        );
    }
}
