//! What explaining failures costs: 10^6 walks with 10^4 failures, run with the analysis
//! (groups, causes, heat maps) and without it (`explain_failures(false)`), each in its own
//! process so that its peak memory is its own. Run it with
//! `cargo run --release --example analysis_cost`.
//!
//! Four cases: a pair that is the exact cause; a bug with no cause of 3 choices or fewer
//! (every combination is ranked as a suspicion); a filter that removes a tenth of the
//! walks, so that the walks that ran are visited once more to count the candidates; and the
//! pair again with a tenth of the walks cancelled at the first action, so that the walks
//! that stopped early are visited to take them out of the later choices' counts.

use std::process::Command;
use std::time::Instant;

use combtest::{Action, Combtest, Walk};

const KNOBS: usize = 6;
const OPTIONS: u8 = 10;
const ROUNDS: usize = 3;

type Knobs = [u8; KNOBS];

fn order(case: &str) -> Combtest<Knobs> {
    let bug: fn(&Knobs) -> bool = match case {
        "exact" | "filtered" | "cancelled" => |k| k[0] == 3 && k[3] == 7,
        "no-exact-cause" => |k| k[0] == 3 && (k[1] + k[2] + k[3] + k[4] + k[5]) % 10 == 0,
        other => panic!("unknown case {other}"),
    };
    let cancels = case == "cancelled";
    let mut test = Combtest::new([0u8; KNOBS]);
    for i in 0..KNOBS {
        let last = i + 1 == KNOBS;
        test = test.then(Action::new(
            format!("knob{i}"),
            || 0..OPTIONS,
            move |n: u8, knobs: &mut Knobs, _: &()| {
                knobs[i] = n;
                if cancels && i == 0 && n == 9 {
                    combtest::cancel!("knob0 at 9 is out of scope");
                }
                if last && bug(knobs) {
                    return Err(format!("knob0={} knob3={} broke", knobs[0], knobs[3]));
                }
                Ok(())
            },
        ));
    }
    if case == "filtered" {
        test = test.filter(|walk: &Walk<'_>| walk.option_index(5) != 9);
    }
    test.progress(false)
}

/// One run in this process: prints seconds, failures, groups and peak resident memory.
fn child(case: &str, explain: bool) {
    let started = Instant::now();
    let report = order(case).explain_failures(explain).run().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let cause = report
        .groups
        .first()
        .and_then(|g| g.causes.first())
        .map(|c| {
            format!(
                "{}{c} ({})",
                if c.exact { "" } else { "suspect " },
                c.evidence()
            )
        })
        .unwrap_or_default();
    println!(
        "{seconds} {} {} {} {cause}",
        report.error_count,
        report.groups.len(),
        peak_kib().unwrap_or(0)
    );
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Measured {
    seconds: f64,
    failures: u64,
    peak_kib: u64,
    cause: String,
}

fn spawn(case: &str, explain: bool) -> Measured {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child", case, if explain { "on" } else { "off" }])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut fields = text.trim().splitn(5, ' ');
    let mut next = || fields.next().unwrap_or_default().to_string();
    let seconds = next().parse().unwrap();
    let failures = next().parse().unwrap();
    let _groups = next();
    let peak_kib = next().parse().unwrap();
    Measured {
        seconds,
        failures,
        peak_kib,
        cause: next(),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1], args[2] == "on");
        return;
    }
    println!(
        "{:<16} {:>9} {:>10} {:>10} {:>8} {:>10} {:>10}  first cause",
        "case", "failures", "without s", "with s", "ratio", "peak off", "peak on"
    );
    for case in ["exact", "no-exact-cause", "filtered", "cancelled"] {
        let (mut off, mut on) = (Vec::new(), Vec::new());
        // Interleaved rounds: a noisy neighbour slows both sides alike.
        for _ in 0..ROUNDS {
            off.push(spawn(case, false));
            on.push(spawn(case, true));
        }
        let off_s = median(off.iter().map(|m| m.seconds).collect());
        let on_s = median(on.iter().map(|m| m.seconds).collect());
        let peak = |runs: &[Measured]| runs.iter().map(|m| m.peak_kib).max().unwrap_or(0) / 1024;
        println!(
            "{case:<16} {:>9} {off_s:>10.3} {on_s:>10.3} {:>7.2}x {:>7} MiB {:>6} MiB  {}",
            on[0].failures,
            on_s / off_s,
            peak(&off),
            peak(&on),
            on[0].cause
        );
    }
}
