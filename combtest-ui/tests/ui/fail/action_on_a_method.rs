use combtest::prelude::*;

struct Form;

impl Form {
    #[action(options = [1])]
    fn set(&mut self, value: u8) {
        let _ = value;
    }
}

fn main() {}
