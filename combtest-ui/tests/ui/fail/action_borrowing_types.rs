use std::borrow::Cow;

use combtest::prelude::*;

#[action(options = [Cow::Borrowed("a")])]
fn name(value: Cow<'_, str>, state: &mut Vec<String>) {
    state.push(value.into_owned());
}

#[action(options = ["a", "b"])]
fn remember(value: &'static str, state: &mut Vec<&str>) {
    state.push(value);
}

fn main() {}
