use combtest::prelude::*;

#[derive(Clone, Debug, Default)]
struct Form {
    value: u8,
}

impl Form {
    #[action(options = [1])]
    fn set(value: u8, form: &mut Form) {
        form.value = value;
    }
}

fn main() {}
