use combtest::prelude::*;

#[derive(Clone, Debug, Default)]
struct Form {
    value: u8,
}

impl Form {
    // Without `Self`, nothing in the function says where it is: rustc's message.
    #[action(options = [1])]
    fn set(value: u8, form: &mut Form) {
        form.value = value;
    }
}

impl Form {
    // With `Self` in the signature, the macro sees that the function is in an impl block.
    #[action(options = [1])]
    fn reset(value: u8, form: &mut Self) {
        form.value = value;
    }
}

fn main() {}
