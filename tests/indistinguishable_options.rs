//! Two options of one action that a trace records alike would share a fingerprint: a pinned id
//! or a replay could run the other walk, which may pass. Such an order is an error before any
//! walk runs, naming the action and both options.

use std::sync::atomic::{AtomicUsize, Ordering};

use combtest::prelude::*;
use serde::Serialize;

static RAN: AtomicUsize = AtomicUsize::new(0);

#[action(options = [1.5, f64::NAN, f64::INFINITY])]
fn scale(factor: f64, v: &mut Vec<f64>) {
    RAN.fetch_add(1, Ordering::SeqCst);
    v.push(factor);
}

/// A user type whose serialized form leaves out what tells its values apart.
#[derive(Clone, Debug, Serialize)]
struct Profile {
    name: &'static str,
    #[serde(skip)]
    admin: bool,
}

#[action(options = [Profile { name: "ann", admin: false }, Profile { name: "ann", admin: true }])]
fn log_in(profile: Profile, v: &mut Vec<f64>) {
    RAN.fetch_add(1, Ordering::SeqCst);
    v.push(f64::from(u8::from(profile.admin)));
}

#[action(options = [1.5, 2.5])]
fn distinct(factor: f64, v: &mut Vec<f64>) {
    v.push(factor);
}

#[test]
fn options_that_serialize_alike_are_refused_before_any_walk() {
    let error = Combtest::new(Vec::new())
        .then(distinct::action())
        .then(scale::action())
        .run()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("action `scale` (position 1 of the order) has options NaN and inf"),
        "{text}"
    );
    assert!(text.contains("recorded as null"), "{text}");

    let error = Combtest::new(Vec::new())
        .then(log_in::action())
        .run()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(r#"has options Profile { name: "ann", admin: false } and Profile { name: "ann", admin: true }"#),
        "{text}"
    );
    assert!(text.contains(r#"recorded as {"name":"ann"}"#), "{text}");
    assert_eq!(RAN.load(Ordering::SeqCst), 0, "no walk may run");
}

#[test]
fn distinct_options_run() {
    let report = Combtest::new(Vec::new())
        .then(distinct::action())
        .then(distinct::action())
        .run()
        .unwrap();
    assert_eq!(report.walk_count, 4);
}
