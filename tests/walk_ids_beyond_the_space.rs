//! Every walk id outside the walk space is the "walk N does not exist" error, with the id the
//! user gave, before any walk runs: the largest `u64` included, alone or ending a range. Pinned
//! to a fingerprint, it names a walk that existed when it was printed: it is stale.

use std::sync::Mutex;

use combtest::prelude::*;

/// The environment is process-wide: the test that sets `COMBTEST_WALKS` holds this lock, and
/// every run of this binary does too.
static ENV: Mutex<()> = Mutex::new(());

#[action(options = 0..20)]
fn left(n: u32, v: &mut Vec<u32>) {
    v.push(n);
}

#[action(options = 0..20)]
fn right(n: u32, v: &mut Vec<u32>) {
    v.push(n);
}

fn run_with_walks(walks: &str) -> Result<Report<Vec<u32>>, combtest::Error> {
    Combtest::new(Vec::new())
        .then(left::action())
        .then(right::action())
        .walks(walks)
        .run()
}

fn assert_does_not_exist(error: &combtest::Error, source: &str, walks: &str, id: &str) {
    let text = error.to_string();
    let expected = match walks.split_once('@') {
        Some((_, fingerprint)) => format!(
            "walk {id}@{fingerprint} is stale: today walk {id} has fingerprint none, as \
             today's order has 400 walks"
        ),
        None => format!("{source}: walk {id} does not exist: this order has 400 walks"),
    };
    assert!(text.starts_with(&expected), "{text}");
}

#[test]
fn ids_beyond_the_space_in_code_are_named() {
    let _lock = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let max = u64::MAX.to_string();
    for walks in [
        max.clone(),
        format!("{max}@00000000000000ff"),
        format!("5-{max}"),
        format!("3,{max}"),
        "400".to_string(),
    ] {
        let error = run_with_walks(&walks).unwrap_err();
        let id = walks.rsplit(['-', ',']).next().unwrap();
        let id = id.split('@').next().unwrap();
        assert_does_not_exist(&error, "walks", &walks, id);
    }
}

#[test]
fn ids_beyond_the_space_in_the_environment_are_named() {
    let _lock = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let max = u64::MAX.to_string();
    for walks in [
        max.clone(),
        format!("{max}@00000000000000ff"),
        format!("5-{max}"),
    ] {
        std::env::set_var("COMBTEST_WALKS", &walks);
        let result = std::panic::catch_unwind(|| run_with_walks("1"));
        std::env::remove_var("COMBTEST_WALKS");
        let error = result.expect("no panic").unwrap_err();
        assert_does_not_exist(&error, "COMBTEST_WALKS", &walks, &max);
    }
}
