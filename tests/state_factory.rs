//! `state: || Db::new()`, the documented factory form, builds each walk its own state, and
//! compiles without lints in user code: `cargo clippy --all-targets -- -D warnings` covers
//! this file, so a `redundant_closure` warning on the closure would fail CI.

use combtest::prelude::*;

/// A state built by a constructor, as a database handle or a fixture usually is.
#[derive(Clone, Debug)]
struct Db {
    rows: Vec<u32>,
}

impl Db {
    fn new() -> Self {
        Db { rows: Vec::new() }
    }
}

#[action(options = [1, 2])]
fn insert(n: u32, db: &mut Db) {
    db.rows.push(n);
}

#[test]
fn a_closure_state_builds_each_walk_its_own_state() {
    let report = combtest! {
        order: [insert, insert],
        state: || Db::new(),
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 4);
    let rows: Vec<_> = report.states.iter().map(|db| db.rows.clone()).collect();
    assert_eq!(rows, [[1, 1], [1, 2], [2, 1], [2, 2]]);
}
