//! The examples of py-combtest's user documentation, written the combtest way.

use std::collections::BTreeMap;

use combtest::prelude::*;

/// "Example code": an action with options `[True, False]` that fails the walk by raising when
/// the value it set is false; later actions of that walk do not run.
mod first_example {
    use super::*;

    #[derive(Clone, Debug, Default)]
    pub struct Something {
        pub value: Option<bool>,
        pub calls: u32,
    }

    #[action(options = [true, false])]
    pub fn my_action(param: bool, something: &mut Something) -> Result<(), String> {
        something.value = Some(param);
        something.calls += 1;
        if something.value == Some(false) {
            return Err(":(".into()); // py-combtest: raise ScaryError(":(")
        }
        Ok(())
    }
}

#[test]
fn raising_fails_the_walk_and_stops_it() {
    use first_example::*;
    let report = combtest! {
        order: [my_action, my_action],
        state: Something::default(),
        gather_states: full,
        panic_on_failure: false,
    };
    // (true, true) passes; (true, false) fails at position 1; (false, *) fail at position 0.
    assert_eq!(report.walk_count, 4);
    assert_eq!(report.error_count, 3);
    let calls: Vec<u32> = report.states.iter().map(|s| s.calls).collect();
    assert_eq!(
        calls,
        vec![2, 2, 1, 1],
        "a failed walk runs no later action"
    );
    assert!(report.failures.iter().all(|f| f.message == ":("));
}

/// "get_option_set": options produced by some iterator of the user's library, evaluated once
/// per run.
mod my_lib {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static CALLS: AtomicUsize = AtomicUsize::new(0);

    pub fn some_iterator() -> impl Iterator<Item = u64> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        (1..=4).map(|n| n * n)
    }
}

#[action(options = my_lib::some_iterator())]
fn custom_source(square: u64, seen: &mut Vec<u64>) {
    seen.push(square);
}

#[test]
fn a_custom_option_source_is_evaluated_once_per_run() {
    use std::sync::atomic::Ordering;
    let before = my_lib::CALLS.load(Ordering::SeqCst);
    let report = combtest! {
        order: [custom_source, custom_source],
        state: Vec::new(),
        gather_states: flat,
    };
    assert_eq!(
        my_lib::CALLS.load(Ordering::SeqCst),
        before + 1,
        "once per action per run, however many positions it takes"
    );
    assert_eq!(report.walk_count, 16);
    assert_eq!(report.states[0], vec![1, 1]);
    assert_eq!(report.states[15], vec![16, 16]);
    assert_eq!(custom_source::options(), vec![1, 4, 9, 16]);
}

/// "Providing a custom state object": a dict-like state with `A` and `B`, two actions
/// sharing the options `[1, 2, 3]`, and `gather_states=True`.
type MyState = BTreeMap<&'static str, i32>;

#[action(options = [1, 2, 3])]
fn my_action_a(param: i32, state: &mut MyState) {
    state.insert("A", param);
}

#[action(options = my_action_a::options())] // py-combtest: MyActionB(MyActionA)
fn my_action_b(param: i32, state: &mut MyState) {
    state.insert("B", param);
}

#[test]
fn the_dict_like_state_with_gathered_states() {
    let report = combtest! {
        order: [my_action_a, my_action_b],
        state: MyState::new(),
        gather_states: flat,
    };
    // py-combtest printed nested lists in no promised order; combtest gives one flat list
    // sorted by walk id: A is the first action, so it turns slowest.
    let expected: Vec<MyState> = (1..=3)
        .flat_map(|a| (1..=3).map(move |b| MyState::from([("A", a), ("B", b)])))
        .collect();
    assert_eq!(report.states, expected);
    assert_eq!(report.states[1], MyState::from([("A", 1), ("B", 2)]));
}

/// `run_tests(action_order)` and its summary line.
#[test]
fn run_tests_and_its_summary() {
    let report = Combtest::new(MyState::new())
        .order([
            my_action_a::action(),
            my_action_b::action(),
            my_action_a::action(),
        ])
        .run()
        .unwrap();
    let line = format!(
        "Ran {} walks in {:.2}s with {} errors",
        report.walk_count,
        report.elapsed.as_secs_f64(),
        report.error_count
    );
    assert!(line.starts_with("Ran 27 walks in "), "{line}");
    assert!(line.ends_with(" with 0 errors"), "{line}");
}
