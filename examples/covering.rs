//! Covering-array sizes and generation times. Run it with
//! `cargo run --release --example covering` (all tables), or with a table's name as argument
//! (`sizes`, `optima`, `constraints`, `speed`) to run one, and a model's name after it to run one model
//! (`-- speed 10^20`; `-- speed "10^20"` with t=2 and t=3 runs both).
//!
//! Every figure of combtest's is measured in this run; every array is checked by the
//! independent checker `covering::uncovered`. The other columns are quoted, each labelled with
//! where it comes from:
//! - "PICT now": Microsoft PICT built from its current source, default options and seed:
//!   sizes and single-threaded CPU seconds measured side by side with combtest on the same
//!   kind of machine (quoted here, not re-measured);
//! - "PICT 2006": the sizes in Czerwonka's 2006 paper "Pairwise Testing in Real World";
//! - "best known": the smallest arrays published (Colbourn's covering array tables).

use std::time::{Duration, Instant};

use combtest::covering::{uncovered, Generator};

/// A model written as (values, count) groups: `4^15 3^17 2^29` is `[(4, 15), (3, 17), (2, 29)]`.
struct Model {
    groups: &'static [(usize, usize)],
    strength: usize,
    /// Sizes and CPU seconds of PICT's current source, where measured.
    pict_now: Option<(usize, Option<f64>)>,
    pict_2006: Option<usize>,
    best_known: Option<usize>,
}

const fn model(groups: &'static [(usize, usize)], strength: usize) -> Model {
    Model {
        groups,
        strength,
        pict_now: None,
        pict_2006: None,
        best_known: None,
    }
}

/// The six pairwise models of the PICT paper.
const SIZES: &[Model] = &[
    Model {
        pict_now: Some((12, None)),
        pict_2006: Some(9),
        best_known: Some(9),
        ..model(&[(3, 4)], 2)
    },
    Model {
        pict_now: Some((19, None)),
        pict_2006: Some(18),
        best_known: Some(15),
        ..model(&[(3, 13)], 2)
    },
    Model {
        pict_now: Some((38, None)),
        pict_2006: Some(37),
        best_known: Some(29),
        ..model(&[(4, 15), (3, 17), (2, 29)], 2)
    },
    Model {
        pict_now: Some((28, None)),
        pict_2006: Some(27),
        best_known: Some(21),
        ..model(&[(4, 1), (3, 39), (2, 35)], 2)
    },
    Model {
        pict_now: Some((16, None)),
        pict_2006: Some(15),
        best_known: Some(10),
        ..model(&[(2, 100)], 2)
    },
    Model {
        pict_now: Some((213, Some(0.042))),
        pict_2006: Some(210),
        best_known: Some(180),
        ..model(&[(10, 20)], 2)
    },
];

/// Time against PICT's current source, single-threaded CPU seconds on both sides.
const SPEED: &[Model] = &[
    Model {
        pict_now: Some((213, Some(0.042))),
        ..model(&[(10, 20)], 2)
    },
    Model {
        pict_now: Some((1624, Some(0.25))),
        ..model(&[(10, 6)], 3)
    },
    Model {
        pict_now: Some((111, Some(0.009))),
        ..model(&[(4, 6)], 3)
    },
    Model {
        pict_now: Some((333, Some(1.70))),
        ..model(&[(10, 100)], 2)
    },
    Model {
        pict_now: Some((22, Some(2.7))),
        ..model(&[(2, 1000)], 2)
    },
    Model {
        pict_now: Some((168, Some(18.8))),
        ..model(&[(3, 100)], 3)
    },
    Model {
        pict_now: Some((3429, Some(31.9))),
        ..model(&[(10, 20)], 3)
    },
    Model {
        pict_now: Some((729, Some(0.02))),
        ..model(&[(3, 6)], 6)
    },
    Model {
        pict_now: Some((900, None)),
        ..model(&[(30, 3)], 2)
    },
];

/// Models with a known optimum from mathematics (orthogonal arrays, binary codes).
const OPTIMA: &[Model] = &[
    Model {
        best_known: Some(9),
        ..model(&[(3, 4)], 2)
    },
    Model {
        best_known: Some(16),
        ..model(&[(4, 5)], 2)
    },
    Model {
        best_known: Some(25),
        ..model(&[(5, 6)], 2)
    },
    Model {
        best_known: Some(49),
        ..model(&[(7, 8)], 2)
    },
    Model {
        best_known: Some(64),
        ..model(&[(4, 6)], 3)
    },
    Model {
        best_known: Some(100),
        ..model(&[(10, 4)], 2)
    },
    Model {
        best_known: Some(6),
        ..model(&[(2, 10)], 2)
    },
    Model {
        best_known: Some(8),
        ..model(&[(2, 30)], 2)
    },
    Model {
        best_known: Some(10),
        ..model(&[(2, 100)], 2)
    },
];

/// CPU time this thread has used (Linux), else `None`.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn print_table(title: &str, models: &[Model], only_model: Option<&str>) {
    println!("\n{title}");
    println!(
        "{:<20} {:>2} {:>9} {:>10} {:>10} {:>9} {:>10} {:>9} {:>6}  check",
        "model", "t", "combtest", "wall", "CPU", "PICT now", "PICT CPU", "PICT 2006", "best"
    );
    for model in models {
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
        if only_model.is_some_and(|wanted| wanted != name.join(" ")) {
            continue;
        }
        let cpu_start = thread_cpu();
        let start = Instant::now();
        let array = Generator::new(&sizes, model.strength).generate();
        let elapsed = start.elapsed();
        let cpu = match (cpu_start, thread_cpu()) {
            (Some(a), Some(b)) => format!("{:.3}s", (b - a).as_secs_f64()),
            _ => "-".to_string(),
        };
        // Checked by the independent checker, not by the generator's own count.
        let complete = uncovered(&sizes, model.strength, &array.rows).is_empty();
        let show = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
        println!(
            "{:<20} {:>2} {:>9} {:>10.3?} {:>10} {:>9} {:>10} {:>9} {:>6}  {}",
            name.join(" "),
            model.strength,
            array.rows.len(),
            elapsed,
            cpu,
            show(model.pict_now.map(|(rows, _)| rows)),
            model
                .pict_now
                .and_then(|(_, cpu)| cpu)
                .map_or("-".to_string(), |s| format!("{s:.3}s")),
            show(model.pict_2006),
            show(model.best_known),
            if complete {
                "all covered"
            } else {
                "INCOMPLETE"
            }
        );
    }
}

/// Constraints the generator can judge on partial rows: 24 switches, at most one or exactly
/// one on; 10^20 with one forbidden pair. Every feasible pair is covered, the rest proven
/// infeasible, none unresolved. Then the first as a whole-row filter, for comparison.
fn print_constraints() {
    use combtest::covering::UNSET;
    println!("\nconstraints: partial-row constraints");
    println!(
        "{:<34} {:>5} {:>10} {:>10} {:>10} {:>10}  check",
        "model", "rows", "infeasible", "unresolved", "wall", "CPU"
    );
    let ones = |row: &[usize]| row.iter().filter(|&&v| v == 1).count();
    let at_most_one = move |row: &[usize]| (ones(row) > 1).then_some(false);
    let exactly_one = move |row: &[usize]| match ones(row) {
        0 if !row.contains(&UNSET) => Some(false),
        0 | 1 => None,
        _ => Some(false),
    };
    let forbidden_pair = |row: &[usize]| (row[0] == 3 && row[1] == 5).then_some(false);
    type Judge<'a> = &'a dyn Fn(&[usize]) -> Option<bool>;
    let cases: [(&str, Vec<usize>, Judge); 3] = [
        ("2^24, at most one on", vec![2; 24], &at_most_one),
        ("2^24, exactly one on", vec![2; 24], &exactly_one),
        ("10^20, one forbidden pair", vec![10; 20], &forbidden_pair),
    ];
    // The first again, said about whole rows only: the generator cannot prove a pair
    // infeasible, and reports it unresolved.
    let whole_rows = |row: &[usize]| at_most_one(row) != Some(false);
    let whole: [(&str, Vec<usize>, Judge); 1] = [(
        "2^24, at most one on, whole rows",
        vec![2; 24],
        &at_most_one,
    )];
    for (index, (name, sizes, judge)) in cases.into_iter().chain(whole).enumerate() {
        let cpu_start = thread_cpu();
        let start = Instant::now();
        let generator = Generator::new(&sizes, 2);
        let array = if index < 3 {
            generator.partial_constraint(judge).generate()
        } else {
            generator.allowed(&whole_rows).generate()
        };
        let elapsed = start.elapsed();
        let cpu = match (cpu_start, thread_cpu()) {
            (Some(a), Some(b)) => format!("{:.3}s", (b - a).as_secs_f64()),
            _ => "-".to_string(),
        };
        // Independent check: what no row covers is exactly what was reported infeasible or
        // unresolved.
        let missing = uncovered(&sizes, 2, &array.rows);
        let reported = array.infeasible.len() + array.unresolved.len();
        let complete = missing.len() == reported
            && missing
                .iter()
                .all(|tuple| array.infeasible.contains(tuple) || array.unresolved.contains(tuple))
            && array.rows.iter().all(|row| judge(row) != Some(false));
        println!(
            "{:<34} {:>5} {:>10} {:>10} {:>10.3?} {:>10}  {}",
            name,
            array.rows.len(),
            array.infeasible.len(),
            array.unresolved.len(),
            elapsed,
            cpu,
            if !complete {
                "INCOMPLETE"
            } else if array.unresolved.is_empty() {
                "every feasible pair covered"
            } else {
                "every pair covered or reported"
            }
        );
    }
}

fn main() {
    // Optional: a table's name, then a model's name (`speed 10^20`).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |table: &str| args.is_empty() || args[0] == table;
    let only_model = args.get(1).map(String::as_str);
    if wanted("sizes") {
        print_table(
            "sizes: the six pairwise models of the PICT paper",
            SIZES,
            only_model,
        );
    }
    if wanted("optima") {
        print_table("optima: models with a known optimum", OPTIMA, only_model);
    }
    if wanted("constraints") {
        print_constraints();
    }
    if wanted("speed") {
        print_table("speed: against PICT's current source", SPEED, only_model);
    }
}
