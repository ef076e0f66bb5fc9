//! Traces, summaries, replay of recorded walks, and combtest's tracing output.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use combtest::prelude::*;
use combtest::{WalkRecord, SUMMARY_FILE, TRACE_FILE};

mod common;
use common::{scratch, Captured};

fn read_trace(path: &Path) -> Vec<WalkRecord> {
    combtest::read_trace(path).unwrap()
}

/// What ran in a walk, in order: the state is the walk's own transcript.
type Transcript = Vec<String>;

#[action(options = [1, 2, 3, 4])]
fn deposit(n: u32, t: &mut Transcript) {
    t.push(format!("deposit {n}"));
}

#[action(options = ["a", "b", "c"])]
fn label(l: &'static str, t: &mut Transcript) -> Result<(), String> {
    t.push(format!("label {l}"));
    if l == "b" && t[0] == "deposit 3" {
        return Err("label b rejects deposit 3".into());
    }
    Ok(())
}

#[serial_action(options = [10, 20])]
fn rotate(key: u32, walks: States<'_, Transcript>) {
    for t in walks {
        t.push(format!("rotate {key}"));
    }
}

#[test]
fn a_log_directory_holds_one_record_per_walk_and_the_report() {
    let dir = scratch("observability-log");
    let report = combtest! {
        order: [deposit, label, deposit],
        state: Transcript::new(),
        log_dir: &dir,
        gather_states: full,
        threads: 2,
        panic_on_failure: false,
    };
    assert_eq!(report.walk_count, 48);
    assert_eq!(report.error_count, 4);
    // trace, report.html, junit.xml, states, summary
    assert_eq!(report.files.len(), 5, "{:?}", report.files);
    for name in ["report.html", "junit.xml"] {
        assert!(
            report.files.iter().any(|f| f.ends_with(name)),
            "{:?}",
            report.files
        );
    }
    let trace = report
        .files
        .iter()
        .find(|f| f.ends_with(TRACE_FILE))
        .unwrap();
    assert!(trace.starts_with(&dir));
    let records = read_trace(trace);
    assert_eq!(records.len(), 48);
    let ids: HashSet<u64> = records.iter().map(|r| r.walk_id).collect();
    assert_eq!(ids.len(), 48, "exactly one record per walk");
    for record in &records {
        let id = record.walk_id as usize;
        let (first, second, third) = (id / 12 + 1, ["a", "b", "c"][id / 4 % 3], id % 4 + 1);
        let params: Vec<serde_json::Value> = record.steps.iter().map(|s| s.param.clone()).collect();
        let expected: Vec<serde_json::Value> = vec![first.into(), second.into(), third.into()];
        assert_eq!(params, expected, "walk {id}");
        let names: Vec<&str> = record.steps.iter().map(|s| s.action.as_str()).collect();
        assert_eq!(names, ["deposit", "label", "deposit"]);
        let failed = first == 3 && second == "b";
        assert_eq!(
            record.outcome,
            if failed { "fail" } else { "pass" },
            "walk {id}"
        );
        if failed {
            assert_eq!(record.error.as_deref(), Some("label b rejects deposit 3"));
            assert_eq!(record.failed_action.as_deref(), Some("label"));
        }
        if let Some(failure) = report.failures.iter().find(|f| f.walk_id == record.walk_id) {
            assert_eq!(record.fingerprint, failure.fingerprint.to_string());
        }
        assert!(record.branch.is_empty());
    }

    // The summary is the report (the states are in their own file).
    let summary_path = report
        .files
        .iter()
        .find(|f| f.ends_with(SUMMARY_FILE))
        .unwrap();
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary_path).unwrap()).unwrap();
    let mut returned = serde_json::to_value(&report).unwrap();
    summary.as_object_mut().unwrap().remove("states");
    returned.as_object_mut().unwrap().remove("states");
    assert_eq!(summary, returned);

    let states_path = report
        .files
        .iter()
        .find(|f| f.ends_with("states.json"))
        .unwrap();
    let states: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(states_path).unwrap()).unwrap();
    assert_eq!(states.as_array().unwrap().len(), 48);
    assert_eq!(states[5]["walk_id"], 5);
    assert_eq!(states[5]["state"], format!("{:?}", report.states[5]));
}

#[test]
fn a_replay_reproduces_the_failed_walk_and_no_other() {
    let dir = scratch("replay");
    let first = combtest! {
        order: [deposit, rotate, label, deposit],
        state: Transcript::new(),
        log_dir: &dir,
        gather_states: full,
        panic_on_failure: false,
    };
    // deposit 3 then label b fails: in both branches of `rotate`, for 4 last deposits.
    assert_eq!(first.error_count, 8);
    let trace = first.files[0].clone();
    let failed = &first.failures[5];
    let expected_state = &first.states[failed.walk_id as usize];

    let replayed = combtest! {
        order: [deposit, rotate, label, deposit],
        state: Transcript::new(),
        replay: format!("{}@{}", trace.display(), failed.walk_id),
        gather_states: full,
        panic_on_failure: false,
    };
    assert_eq!(replayed.walk_count, 1);
    assert_eq!(replayed.walks[0].walk_id, failed.walk_id);
    assert_eq!(
        &replayed.states[0], expected_state,
        "the same actions in the same order"
    );
    assert_eq!(replayed.failures[0].fingerprint, failed.fingerprint);

    // By default a replay runs every failed walk of the trace.
    let all_failed = combtest! {
        order: [deposit, rotate, label, deposit],
        state: Transcript::new(),
        replay: trace.display().to_string(),
        panic_on_failure: false,
    };
    assert_eq!(all_failed.walk_count, 8);
    assert_eq!(all_failed.error_count, 8);
}

#[test]
fn a_replay_finds_walks_by_value_when_options_moved() {
    let dir = scratch("moved");
    let recorded = Combtest::new(Transcript::new())
        .then(Action::new(
            "n",
            || [1, 2, 3],
            |n: i32, t: &mut Transcript, _: &()| t.push(format!("n {n}")),
        ))
        .then(Action::new(
            "m",
            || [7, 8],
            |m: i32, t: &mut Transcript, _: &()| {
                t.push(format!("m {m}"));
                if m == 8 {
                    Err("eight")
                } else {
                    Ok(())
                }
            },
        ))
        .log_dir(&dir)
        .run()
        .unwrap();
    let trace = recorded.files[0].display().to_string();
    // Today `n` has a new first option and `m` its options in another order.
    let today = Combtest::new(Transcript::new())
        .then(Action::new(
            "n",
            || [0, 1, 2, 3],
            |n: i32, t: &mut Transcript, _: &()| t.push(format!("n {n}")),
        ))
        .then(Action::new(
            "m",
            || [8, 7],
            |m: i32, t: &mut Transcript, _: &()| {
                t.push(format!("m {m}"));
                if m == 8 {
                    Err("eight")
                } else {
                    Ok(())
                }
            },
        ))
        .replay(format!("{trace}@3"))
        .gather_states(Gather::Full)
        .run()
        .unwrap();
    // Recorded walk 3 was (n 2, m 8); today that is n option 2, m option 0: walk 4.
    assert_eq!(today.walks[0].walk_id, 4);
    assert_eq!(today.states[0], vec!["n 2", "m 8"]);
}

#[test]
fn a_replay_of_a_removed_option_names_the_action_and_the_param() {
    let dir = scratch("removed");
    let recorded = combtest! {
        order: [deposit, label],
        state: Transcript::new(),
        log_dir: &dir,
        panic_on_failure: false,
    };
    let trace = recorded.files[0].clone();
    let error = Combtest::new(Transcript::new())
        .then(Action::new(
            "deposit",
            || [1, 2, 4],
            |n: u32, t: &mut Transcript, _: &()| t.push(format!("deposit {n}")),
        ))
        .then(label::action())
        .replay(trace.display().to_string())
        .run()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("action `deposit` (position 0) with param 3"),
        "{text}"
    );
    assert!(text.contains("no longer one of its options"), "{text}");
}

#[test]
fn bad_replay_files_are_errors_before_any_walk() {
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let counted = || {
        Action::new(
            "counted",
            || [1],
            |_: u8, _: &mut (), _: &()| {
                RAN.fetch_add(1, Ordering::SeqCst);
            },
        )
    };
    let missing = scratch("missing").join("trace.jsonl");
    let error = Combtest::new(())
        .then(counted())
        .replay(missing.display().to_string())
        .run()
        .unwrap_err();
    assert!(
        error.to_string().contains("cannot open the trace file"),
        "{error}"
    );

    let dir = scratch("garbage");
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("trace.jsonl");
    std::fs::write(&garbage, "{\"walk_id\": 1}\n").unwrap();
    let error = Combtest::new(())
        .then(counted())
        .replay(garbage.display().to_string())
        .run()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("line 1 is not a combtest walk record"),
        "{text}"
    );
    assert!(text.contains(&garbage.display().to_string()), "{text}");

    let recorded = Combtest::new(())
        .then(counted())
        .log_dir(&dir)
        .run()
        .unwrap();
    let error = Combtest::new(())
        .then(counted())
        .replay(recorded.files[0].display().to_string())
        .run()
        .unwrap_err();
    assert!(
        error.to_string().contains("records no failed walk"),
        "{error}"
    );
    assert_eq!(
        RAN.load(Ordering::SeqCst),
        1,
        "only the recording run ran a walk"
    );
}

#[test]
fn an_unwritable_log_directory_is_an_error_before_any_walk() {
    let dir = scratch("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let error = Combtest::new(0u32)
        .then(Action::new(
            "never",
            || [1],
            |_: u8, _: &mut u32, _: &()| -> () { panic!("must not run") },
        ))
        .log_dir(file.join("logs"))
        .run()
        .unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("cannot write the log directory"), "{text}");
    assert!(text.contains("a-file"), "{text}");
}

mod verbosity {
    use super::*;

    #[action(options = 0..50)]
    fn step(n: u32, total: &mut u32) {
        *total += n;
    }

    fn run_with(verbose: u8) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_thread_names(true)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            combtest! { order: [step, step], state: 0, threads: 2, verbose: verbose }
        });
        captured.text()
    }

    #[test]
    fn level_2_sends_walk_events_from_the_workers() {
        let text = run_with(2);
        let walk_events: Vec<&str> = text.lines().filter(|l| l.contains("walk ends")).collect();
        assert_eq!(walk_events.len(), 2500, "one debug event per walk");
        assert!(walk_events
            .iter()
            .all(|l| l.contains("DEBUG") && l.contains("combtest-worker")));
        assert!(
            walk_events[0].contains("fingerprint="),
            "{}",
            walk_events[0]
        );
        assert!(!text.contains("action="), "actions are trace level");
        assert!(text.contains("combtest run ends"));
    }

    #[test]
    fn level_1_keeps_the_run_events_only_and_3_adds_actions() {
        let text = run_with(1);
        assert!(text.contains("combtest run starts") && text.contains("combtest run ends"));
        assert!(!text.contains("walk ends"));
        let text = run_with(3);
        assert_eq!(
            text.lines()
                .filter(|l| l.contains("action=\"step\""))
                .count(),
            5000
        );
    }

    #[test]
    fn level_0_is_silent() {
        assert_eq!(run_with(0), "");
    }
}

/// A failed walk's steps are written the same way in the trace and in the summary: each
/// param as JSON, with its `Debug` text beside it.
#[test]
fn trace_and_summary_write_params_alike() {
    let dir = scratch("observability-params");
    let report = combtest! {
        order: [deposit, label],
        state: Transcript::new(),
        log_dir: &dir,
        panic_on_failure: false,
    };
    assert_eq!(report.error_count, 1);
    let file = |name: &str| report.files.iter().find(|f| f.ends_with(name)).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file(SUMMARY_FILE)).unwrap()).unwrap();
    let failure = &summary["failures"][0];
    let walk_id = failure["walk_id"].as_u64().unwrap();
    let record: serde_json::Value = std::fs::read_to_string(file(TRACE_FILE))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|record| record["walk_id"] == walk_id)
        .unwrap();
    let expected = serde_json::json!([
        { "action": "deposit", "param": 3, "param_debug": "3" },
        { "action": "label", "param": "b", "param_debug": "\"b\"" },
    ]);
    assert_eq!(failure["steps"], expected);
    assert_eq!(record["steps"], expected);
    // The report shows the Debug text.
    assert!(
        report.to_string().contains("deposit(3) -> label(\"b\")"),
        "{report}"
    );
}

/// Run by `a_relative_log_dir_is_the_same_folder_from_every_package` with a relative
/// `COMBTEST_LOG_DIR`, as if its test were in one package or another of the workspace.
#[test]
#[ignore = "run by a_relative_log_dir_is_the_same_folder_from_every_package"]
fn writes_into_the_log_dir() {
    combtest! { order: [deposit], state: Transcript::new() };
}

#[test]
fn a_relative_log_dir_is_the_same_folder_from_every_package() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relative = format!("target/combtest-relative-log-dir-{}", std::process::id());
    let logs = root.join(&relative);
    let _ = std::fs::remove_dir_all(&logs);
    // This package is the workspace root; `combtest` is a member in a folder of its own.
    for package in [root.to_path_buf(), root.join("combtest")] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["writes_into_the_log_dir", "--exact", "--include-ignored"])
            .current_dir(&package)
            .env("CARGO_MANIFEST_DIR", &package)
            .env("COMBTEST_LOG_DIR", &relative)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    // Not in the member's own folder, where its tests run.
    assert!(!root.join("combtest").join(&relative).exists());
    let runs: Vec<_> = std::fs::read_dir(&logs)
        .unwrap_or_else(|e| panic!("{} was not made: {e}", logs.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in runs {
        assert!(run.join(TRACE_FILE).is_file(), "{}", run.display());
    }
    let _ = std::fs::remove_dir_all(&logs);
}
