use combtest::Options;

#[derive(Clone, Debug, Options)]
enum Shape {
    Circle { radius: u32 },
    Square(u32),
    Point,
}

#[derive(Clone, Debug, Options)]
struct NotAnEnum;

fn main() {}
