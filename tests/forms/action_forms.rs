//! Every accepted form of `#[action]`.
use combtest::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, Default)]
pub struct State(Vec<String>);

#[derive(Debug)]
struct Shared;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Options)]
enum Mode {
    Fast,
    Safe,
}

fn from_a_function() -> impl Iterator<Item = u64> {
    (0..3).map(|n| n * 10)
}

#[action(options = [1, 2, 3])]
fn literal(n: i32, s: &mut State) {
    s.0.push(n.to_string());
}

#[action(options = 0..4)]
fn range(n: usize, s: &mut State) {
    s.0.push(n.to_string());
}

#[action(options = vec!["a".to_string(), "b".to_string()])]
fn vec_of_strings(text: String, s: &mut State) {
    s.0.push(text);
}

#[action(options = from_a_function())]
fn iterator_call(n: u64, s: &mut State) {
    s.0.push(n.to_string());
}

#[action]
fn default_bool(on: bool, s: &mut State) {
    s.0.push(on.to_string());
}

#[action]
fn derived_enum(mode: Mode, s: &mut State) {
    s.0.push(format!("{mode:?}"));
}

#[action]
fn optional(mode: Option<Mode>, s: &mut State) {
    s.0.push(format!("{mode:?}"));
}

#[action(options = [(1, 'x'), (2, 'y')])]
fn tuple(pair: (u8, char), s: &mut State, _shared: &Shared) -> Result<(), String> {
    s.0.push(format!("{pair:?}"));
    Ok(())
}

#[action(options = [1u8])]
pub fn public_action(n: u8, s: &mut State) -> Result<(), std::io::Error> {
    s.0.push(n.to_string());
    Ok(())
}

/// A `#[deprecated]` action draws no warning from the code `#[action]` generates around it
/// (here an error, so that this file would not compile if it did).
#[deny(deprecated)]
mod deprecated_action {
    use combtest::prelude::*;

    #[action(options = [1, 2])]
    #[deprecated = "use `literal`"]
    pub fn old(n: i32, s: &mut super::State) {
        s.0.push(n.to_string());
    }

    pub fn walks() -> u64 {
        combtest! { order: [old], state: super::State::default() }.walk_count
    }
}

mod nested {
    use combtest::prelude::*;

    #[action(options = ["nested"])]
    pub fn in_a_module(text: &'static str, s: &mut super::State) {
        s.0.push(text.into());
    }
}

pub fn run() {
    assert_eq!(derived_enum::options(), vec![Mode::Fast, Mode::Safe]);
    assert_eq!(optional::options().len(), 3);
    assert_eq!(iterator_call::options(), vec![0, 10, 20]);
    assert_eq!(literal::NAME, "literal");
    assert_eq!(deprecated_action::walks(), 2);

    let report = combtest! {
        order: [literal, range, vec_of_strings, iterator_call, default_bool, derived_enum,
                optional, tuple, public_action, nested::in_a_module],
        state: State::default(),
        shared: Shared,
        threads: 2,
    };
    assert_eq!(report.walk_count, 3 * 4 * 2 * 3 * 2 * 2 * 3 * 2);

    // Still plain functions.
    let mut state = State::default();
    literal(7, &mut state);
    assert_eq!(state.0, vec!["7"]);
}
