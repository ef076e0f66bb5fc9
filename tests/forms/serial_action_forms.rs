//! Every accepted form of `#[serial_action]`.
use combtest::prelude::*;

#[derive(Debug, Default)]
struct Server {
    restarts: u32,
}

#[action(options = [1, 2])]
fn work(n: u8, log: &mut Vec<String>, _server: &Server) {
    log.push(format!("work {n}"));
}

#[serial_action(options = ["global"])]
fn param_only(_setting: &'static str) {}

#[serial_action(options = [1, 2])]
fn with_shared(_n: u8, server: &mut Server) {
    server.restarts += 1;
}

#[serial_action(options = [true])]
fn with_states(flag: bool, states: States<'_, Vec<String>>) {
    for log in states {
        log.push(format!("flag {flag}"));
    }
}

#[serial_action(options = [3])]
fn with_both(
    n: u8,
    server: &mut Server,
    mut states: States<'_, Vec<String>>,
) -> Result<(), String> {
    server.restarts += 1;
    for (id, log) in states.iter_mut_with_ids() {
        log.push(format!("both {n} in walk {id}"));
    }
    Ok(())
}

pub fn run() {
    let report = combtest! {
        order: [param_only, work, with_shared, work, with_states, with_both],
        state: Vec::new(),
        shared: Server::default(),
        gather_states: flat,
    };
    assert_eq!(report.walk_count, 8);
    assert_eq!(report.states[0].last().unwrap(), "both 3 in walk 0");
}
