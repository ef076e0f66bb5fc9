//! Option types derived through `combtest::serde`, as a crate without a `serde` dependency
//! of its own writes them: the derive finds serde at the path `#[serde(crate)]` names.

use combtest::prelude::*;

#[derive(Clone, Debug, PartialEq, combtest::serde::Serialize, Options)]
#[serde(crate = "combtest::serde")]
enum Speed {
    Slow,
    Fast,
}

#[derive(Clone, Debug, PartialEq, combtest::serde::Serialize)]
#[serde(crate = "combtest::serde")]
struct Load {
    kilos: u32,
}

#[action]
fn drive(speed: Speed, log: &mut Vec<String>) {
    log.push(format!("{speed:?}"));
}

#[action(options = [Load { kilos: 0 }, Load { kilos: 500 }])]
fn load(load: Load, log: &mut Vec<String>) -> Result<(), String> {
    if load.kilos > 100 {
        return Err(format!("{} kg is too heavy", load.kilos));
    }
    log.push(format!("{}kg", load.kilos));
    Ok(())
}

#[test]
fn options_derived_through_the_reexport_run_and_serialize() {
    let report = combtest! {
        order: [drive, load],
        state: Vec::new(),
        panic_on_failure: false,
    };
    assert_eq!(report.total_walks, 4);
    assert_eq!(report.error_count, 2);
    let step = &report.failures[0].steps[1];
    assert_eq!(&*step.param_debug, "Load { kilos: 500 }");
    assert_eq!(step.param, serde_json::json!({ "kilos": 500 }));
    // Traces write params as JSON, through the derived `Serialize`.
    let json = serde_json::to_string(&(Speed::Fast, Load { kilos: 500 })).unwrap();
    assert_eq!(json, r#"["Fast",{"kilos":500}]"#);
}
