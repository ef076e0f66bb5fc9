//! A state built by a factory need not be `Clone`: a database connection, a socket, a child
//! process. Every executor makes each walk's state from the factory (plain walks, compiled
//! `combtest!` orders, walks held between serial actions, async walks), and the report hands
//! the states back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use combtest::prelude::*;

/// A handle to something outside the process: opening one is counted, and it cannot be
/// cloned (two walks sharing one would see each other's writes).
#[derive(Debug)]
struct Connection {
    rows: Vec<u32>,
}

static OPENED: AtomicU64 = AtomicU64::new(0);

impl Connection {
    fn open() -> Self {
        OPENED.fetch_add(1, Ordering::Relaxed);
        Connection { rows: Vec::new() }
    }
}

#[action(options = [1, 2, 3])]
fn insert(n: u32, db: &mut Connection) -> Result<(), String> {
    if db.rows.contains(&n) {
        return Err(format!("row {n} inserted twice"));
    }
    db.rows.push(n);
    Ok(())
}

#[serial_action(options = [10, 20])]
fn migrate(version: u32, mut walks: States<'_, Connection>) {
    for db in walks.iter_mut() {
        db.rows.push(version);
    }
}

#[action(options = [4u32, 5])]
async fn insert_later(n: u32, db: &mut Connection) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    db.rows.push(n);
}

/// The tests of this file count connections: they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn opened_during(run: impl FnOnce()) -> u64 {
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = OPENED.load(Ordering::Relaxed);
    run();
    OPENED.load(Ordering::Relaxed) - before
}

#[test]
fn a_factory_state_need_not_be_clone() {
    let opened = opened_during(|| {
        let report = combtest! {
            order: [insert, insert],
            state: || Connection::open(),
            gather_states: flat,
            panic_on_failure: false,
        };
        assert_eq!(report.walk_count, 9);
        // The three walks that insert the same row twice fail.
        assert_eq!(report.error_count, 3);
        let rows: Vec<_> = report.states.iter().map(|db| db.rows.clone()).collect();
        assert_eq!(rows[1], [1, 2]);
        assert_eq!(
            rows[4],
            [2],
            "a failed walk keeps its state: the second insert refused"
        );
    });
    assert_eq!(opened, 9, "one connection per walk");
}

#[test]
fn walks_held_between_serial_actions_need_not_be_clone() {
    let opened = opened_during(|| {
        let report = combtest! {
            order: [insert, migrate, insert],
            state: || Connection::open(),
            gather_states: flat,
            panic_on_failure: false,
        };
        assert_eq!(report.walk_count, 18);
        assert_eq!(report.error_count, 6);
        // Walk 1: insert(1), migrate(10), insert(2).
        assert_eq!(report.states[1].rows, [1, 10, 2]);
    });
    assert_eq!(opened, 18);
}

#[test]
fn async_walks_need_not_be_clone() {
    let opened = opened_during(|| {
        let report = combtest! {
            order: [insert, insert_later],
            state: || Connection::open(),
            gather_states: flat,
        };
        assert_eq!(report.walk_count, 6);
        assert_eq!(report.states[5].rows, [3, 5]);
    });
    assert_eq!(opened, 6);
}

#[test]
fn the_builder_factory_form_need_not_be_clone() {
    let opened = opened_during(|| {
        let report = Combtest::new(StateSource::factory(Connection::open))
            .then(insert::action())
            .then(migrate::action())
            .threads(2)
            .gather_states(Gather::Flat)
            .run()
            .expect("a valid order");
        assert_eq!(report.walk_count, 6);
        assert_eq!(report.states[5].rows, [3, 20]);
    });
    assert_eq!(opened, 6);
}
