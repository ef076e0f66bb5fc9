//! Every form the macros accept compiles, and runs as documented. (The forms they reject are
//! the compile-fail suite of `combtest-ui`.)

#[path = "forms/action_forms.rs"]
mod action_forms;
#[path = "forms/combtest_keys.rs"]
mod combtest_keys;
#[path = "forms/serial_action_forms.rs"]
mod serial_action_forms;

#[test]
fn every_action_form() {
    action_forms::run();
}

#[test]
fn every_combtest_key() {
    combtest_keys::run();
}

#[test]
fn every_serial_action_form() {
    serial_action_forms::run();
}
