//! Covering-array sizes and generation times, next to Microsoft PICT's published pairwise
//! sizes and the best known ones. Run it with `cargo run --release --example covering`.

use std::time::Instant;

use combtest::covering::{uncovered, Generator};

/// A model written as (values, count) groups: `4^15 3^17 2^29` is `[(4, 15), (3, 17), (2, 29)]`.
struct Model {
    groups: &'static [(usize, usize)],
    strength: usize,
    pict: Option<usize>,
    best_known: Option<usize>,
}

const MODELS: &[Model] = &[
    Model {
        groups: &[(3, 4)],
        strength: 2,
        pict: Some(9),
        best_known: Some(9),
    },
    Model {
        groups: &[(3, 13)],
        strength: 2,
        pict: Some(18),
        best_known: Some(15),
    },
    Model {
        groups: &[(4, 15), (3, 17), (2, 29)],
        strength: 2,
        pict: Some(37),
        best_known: Some(29),
    },
    Model {
        groups: &[(4, 1), (3, 39), (2, 35)],
        strength: 2,
        pict: Some(27),
        best_known: Some(21),
    },
    Model {
        groups: &[(2, 100)],
        strength: 2,
        pict: Some(15),
        best_known: Some(10),
    },
    Model {
        groups: &[(10, 20)],
        strength: 2,
        pict: Some(210),
        best_known: Some(180),
    },
    Model {
        groups: &[(3, 13)],
        strength: 3,
        pict: None,
        best_known: None,
    },
    Model {
        groups: &[(10, 10)],
        strength: 3,
        pict: None,
        best_known: None,
    },
];

fn main() {
    println!(
        "{:<18} {:>2} {:>9} {:>6} {:>6} {:>10}  check",
        "model", "t", "combtest", "PICT", "best", "time"
    );
    for model in MODELS {
        let sizes: Vec<usize> = model
            .groups
            .iter()
            .flat_map(|&(values, count)| std::iter::repeat_n(values, count))
            .collect();
        let name: Vec<String> = model
            .groups
            .iter()
            .map(|(v, c)| format!("{v}^{c}"))
            .collect();
        let start = Instant::now();
        let array = Generator::new(&sizes, model.strength).generate();
        let elapsed = start.elapsed();
        // Checked by the independent checker, not by the generator's own count.
        let complete = uncovered(&sizes, model.strength, &array.rows).is_empty();
        let show = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
        println!(
            "{:<18} {:>2} {:>9} {:>6} {:>6} {:>10.1?}  {}",
            name.join(" "),
            model.strength,
            array.rows.len(),
            show(model.pict),
            show(model.best_known),
            elapsed,
            if complete {
                "all covered"
            } else {
                "INCOMPLETE"
            }
        );
    }
}
