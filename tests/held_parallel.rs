//! The walks held between serial actions run in parallel even when they are few: a system
//! test's handful of slow walks must not run on one thread because they fit in one chunk.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use combtest::prelude::*;

/// Threads seen running walks after the barrier, and whether each walk met another thread.
#[derive(Default)]
struct Meeting {
    threads: Mutex<HashSet<ThreadId>>,
    arrived: Condvar,
}

impl Meeting {
    /// Waits (up to 10 s) until walks have run on two threads; returns whether they did.
    fn meet(&self) -> bool {
        let mut threads = self.threads.lock().unwrap();
        threads.insert(std::thread::current().id());
        self.arrived.notify_all();
        let (threads, _) = self
            .arrived
            .wait_timeout_while(threads, Duration::from_secs(10), |threads| {
                threads.len() < 2
            })
            .unwrap();
        threads.len() >= 2
    }
}

#[action(options = 0..6u32)]
fn prepare(_: u32, met: &mut Vec<bool>, _: &Meeting) {
    met.clear();
}

#[serial_action(options = ["restart"])]
fn restart(_: &'static str, _: &mut Meeting) {}

#[action(options = 0..3u32)]
fn probe(_: u32, met: &mut Vec<bool>, meeting: &Meeting) {
    met.push(meeting.meet());
}

#[test]
fn a_few_held_walks_run_on_every_worker() {
    let report = combtest! {
        order: [prepare, restart, probe],
        state: Vec::new(),
        shared: Meeting::default(),
        threads: 2,
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 18);
    assert!(
        report.states.iter().all(|met| met == &[true]),
        "18 walks after the barrier ran on one thread: {:?}",
        report.states
    );
}
