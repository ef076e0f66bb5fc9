use combtest::prelude::*;

#[derive(Debug, Default)]
struct App {
    version: u32,
}

#[action(options = [1])]
fn read(_n: u32, _state: &mut Vec<u32>, _app: &App) {}

#[serial_action(options = [2])]
fn upgrade(version: u32, app: &mut App) {
    app.version = version;
}

fn main() {
    let app = App::default();
    // `upgrade` changes the app: it must be lent with `&mut app`.
    let _ = combtest! { order: [read, upgrade], state: Vec::new(), shared: &app };
}
