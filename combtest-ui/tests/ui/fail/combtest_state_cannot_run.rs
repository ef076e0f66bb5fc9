use std::rc::Rc;

use combtest::prelude::*;

#[derive(Clone, Default)]
struct Form {
    text: String,
}

#[action(options = ["a", "b"])]
fn type_text(text: &'static str, form: &mut Form) {
    form.text.push_str(text);
}

#[action(options = [1, 2])]
fn count(value: u8, state: &mut Vec<u8>) {
    state.push(value);
}

#[action(options = [1, 2])]
fn bump(value: u8, state: &mut Rc<u8>) {
    *state = Rc::new(value);
}

fn main() {
    // No `Debug`: reported on the state, once.
    let _ = combtest! { order: [type_text], state: Form::default() };
    // Not `Send`.
    let _ = combtest! { order: [bump], state: || Rc::new(0) };
    // A shared context that is not `Sync`.
    let _ = combtest! { order: [count], state: Vec::new(), shared: std::cell::Cell::new(1u8) };
}
