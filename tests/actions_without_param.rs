//! An action without a param, `#[action] fn verify(state: &mut S)`: one option, `()`, and
//! shown by its name alone wherever a walk is written out.

use combtest::prelude::*;

#[derive(Clone, Debug, Default)]
struct Counter {
    value: u32,
    verified: u32,
}

#[action(options = [1, 2, 3])]
fn add(n: u32, counter: &mut Counter) {
    counter.value += n;
}

#[action]
fn verify(counter: &mut Counter) -> Result<(), String> {
    counter.verified += 1;
    if counter.value == 4 {
        return Err(format!("4 is not allowed, got {}", counter.value));
    }
    Ok(())
}

#[derive(Debug)]
struct Limit(u32);

#[action]
fn check_limit(counter: &mut Counter, limit: &Limit) -> Result<(), String> {
    if counter.value > limit.0 {
        return Err(format!("{} is over {}", counter.value, limit.0));
    }
    Ok(())
}

#[action]
async fn verify_later(counter: &mut Counter) {
    counter.verified += 1;
}

#[test]
fn an_action_without_a_param_has_one_option() {
    assert_eq!(verify::options(), vec![()]);
    assert_eq!(verify::NAME, "verify");
    // 3 x 1 x 3 walks: `verify` multiplies nothing.
    let report = combtest! {
        order: [add, verify, add],
        state: Counter::default(),
        gather_states: flat,
        panic_on_failure: false,
    };
    assert_eq!(report.total_walks, 9);
    // `verify` runs after the first `add` only, at 1, 2 or 3: never at 4.
    assert_eq!(report.error_count, 0, "{}", report.summary());
    assert!(report.states.iter().all(|s| s.verified == 1));
}

#[test]
fn a_failure_in_it_is_shown_by_its_name_alone() {
    let report = combtest! {
        order: [add, add, verify],
        state: Counter::default(),
        panic_on_failure: false,
    };
    assert_eq!(report.total_walks, 9);
    assert_eq!(report.error_count, 3, "1+3, 2+2 and 3+1");
    let failure = &report.failures[0];
    assert_eq!(failure.failed_action, "verify");
    let step = &failure.steps[failure.failed_position];
    assert_eq!(step.to_string(), "verify");
    let text = report.to_string();
    assert!(text.contains("verify returned an error"), "{text}");
    assert!(!text.contains("verify(())"), "{text}");
}

#[test]
fn with_a_shared_context_and_async() {
    let report = combtest! {
        order: [add, check_limit, verify_later],
        state: Counter::default(),
        shared: Limit(2),
        panic_on_failure: false,
    };
    assert_eq!(report.total_walks, 3);
    assert_eq!(report.error_count, 1, "only 3 is over 2");
    assert_eq!(report.failures[0].failed_action, "check_limit");
    assert_eq!(
        report.failures[0].steps[report.failures[0].failed_position].to_string(),
        "check_limit"
    );
}
