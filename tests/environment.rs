//! `COMBTEST_*` environment variables. The environment is process-wide, so every test of
//! this binary holds one lock while it sets variables.

use std::sync::Mutex;

use combtest::prelude::*;

static ENV: Mutex<()> = Mutex::new(());

/// Runs `f` with the variables set, then removes them.
fn with_env<T>(
    vars: &[(&str, &str)],
    f: impl FnOnce() -> T + std::panic::UnwindSafe,
) -> std::thread::Result<T> {
    let _lock = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let result = std::panic::catch_unwind(f);
    for (name, _) in vars {
        std::env::remove_var(name);
    }
    result
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[action(options = 0..10)]
fn tens(n: u32, v: &mut Vec<u32>) {
    v.push(n);
}

#[action(options = 0..10)]
fn units(n: u32, v: &mut Vec<u32>) {
    v.push(n);
}

#[test]
fn combtest_walks_selects_exactly_the_named_walks() {
    let report = with_env(&[("COMBTEST_WALKS", "17,40-45")], || {
        combtest! { order: [tens, units], state: Vec::new(), gather_states: full }
    })
    .unwrap();
    assert_eq!(report.walk_count, 7);
    let ids: Vec<u64> = report.walks.iter().map(|w| w.walk_id).collect();
    assert_eq!(ids, vec![17, 40, 41, 42, 43, 44, 45]);
    assert_eq!(report.states[0], vec![1, 7]);
    assert_eq!(report.states[6], vec![4, 5]);
}

#[test]
fn combtest_walks_overrides_the_walks_setting() {
    let report = with_env(&[("COMBTEST_WALKS", "99")], || {
        combtest! { order: [tens, units], state: Vec::new(), walks: "1-5", gather_states: flat }
    })
    .unwrap();
    assert_eq!(report.states, vec![vec![9, 9]]);
}

#[test]
fn a_single_selected_walk_runs_on_the_test_thread() {
    #[action(options = [1, 2, 3])]
    fn thread_name(_n: u8, name: &mut String) {
        *name = std::thread::current().name().unwrap_or("").to_string();
    }
    let report = with_env(&[("COMBTEST_WALKS", "2")], || {
        combtest! { order: [thread_name], state: String::new(), threads: 4, gather_states: flat }
    })
    .unwrap();
    assert_eq!(
        report.states,
        vec!["a_single_selected_walk_runs_on_the_test_thread".to_string()]
    );
}

#[test]
fn malformed_and_out_of_range_values_stop_the_run_before_any_walk() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RAN: AtomicUsize = AtomicUsize::new(0);
    #[action(options = 0..10)]
    fn counted(_n: u32, _v: &mut Vec<u32>) {
        RAN.fetch_add(1, Ordering::SeqCst);
    }
    let cases = [
        ("COMBTEST_WALKS", "17,x", "COMBTEST_WALKS=\"17,x\" is invalid: `x` is not a walk id"),
        ("COMBTEST_WALKS", "100", "COMBTEST_WALKS: walk 100 does not exist: this order has 100 walks (ids 0-99)"),
        ("COMBTEST_THREADS", "0", "COMBTEST_THREADS=\"0\" is invalid: expected a positive number"),
        ("COMBTEST_GATHER", "lots", "COMBTEST_GATHER=\"lots\" is invalid"),
        ("COMBTEST_THREAD", "2", "COMBTEST_THREAD=\"2\" is invalid: combtest knows no such variable; did you mean COMBTEST_THREADS?"),
        ("COMBTEST_REPLAY", "/nonexistent/trace.jsonl", "cannot replay /nonexistent/trace.jsonl: cannot open the trace file"),
        ("COMBTEST_REPLAY", "@3", "COMBTEST_REPLAY=\"@3\" is invalid: expected a run's folder or its trace file"),
        ("COMBTEST_LOG_DIR", "/proc/combtest-cannot-write-here", "cannot write the log directory /proc/combtest-cannot-write-here"),
        ("COMBTEST_VERBOSE", "loud", "COMBTEST_VERBOSE=\"loud\" is invalid: expected 0 (warn), 1 (info), 2 (debug) or 3 (trace)"),
        ("COMBTEST_PROGRESS", "sometimes", "COMBTEST_PROGRESS=\"sometimes\" is invalid: expected `on` or `off`"),
    ];
    for (name, value, expected) in cases {
        let payload = with_env(&[(name, value)], || {
            combtest! { order: [counted, tens], state: Vec::new() };
        })
        .expect_err(name);
        let message = panic_text(payload);
        assert!(message.contains(expected), "{name}={value}: {message}");
        assert!(message.starts_with("combtest: "), "{message}");
    }
    assert_eq!(RAN.load(Ordering::SeqCst), 0, "no walk may run");
}

#[test]
fn combtest_threads_sets_the_worker_count() {
    let report = with_env(&[("COMBTEST_THREADS", "3")], || {
        combtest! { order: [tens, units], state: Vec::new(), threads: 1 }
    })
    .unwrap();
    assert_eq!(report.threads, 3);
    assert_eq!(report.walk_count, 100);
}

#[test]
fn combtest_gather_raises_the_level() {
    let report = with_env(&[("COMBTEST_GATHER", "full")], || {
        combtest! { order: [tens], state: Vec::new() }
    })
    .unwrap();
    assert_eq!(report.states.len(), 10);
    assert_eq!(report.walks.len(), 10);
}

#[test]
fn combtest_log_dir_and_combtest_replay_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("environment-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    #[action(options = 0..6)]
    fn six(n: u32, v: &mut Vec<u32>) -> Result<(), String> {
        v.push(n);
        if n == 4 {
            Err("four".into())
        } else {
            Ok(())
        }
    }
    let dir_text = dir.display().to_string();
    let recorded = with_env(&[("COMBTEST_LOG_DIR", &dir_text)], || {
        combtest! { order: [six], state: Vec::new(), panic_on_failure: false }
    })
    .unwrap();
    assert!(recorded.files[0].starts_with(&dir), "{:?}", recorded.files);
    let trace = recorded.files[0].display().to_string();
    let replayed = with_env(&[("COMBTEST_REPLAY", &trace)], || {
        combtest! { order: [six], state: Vec::new(), gather_states: flat, panic_on_failure: false }
    })
    .unwrap();
    assert_eq!(replayed.walk_count, 1);
    assert_eq!(replayed.states, vec![vec![4]]);
    // A replay and a walk selection together are ambiguous.
    let payload = with_env(
        &[("COMBTEST_REPLAY", &trace), ("COMBTEST_WALKS", "1")],
        || {
            combtest! { order: [six], state: Vec::new() };
        },
    )
    .unwrap_err();
    assert!(panic_text(payload).contains("set only one of them"));
}

#[test]
fn combtest_junit_writes_the_junit_file_where_it_says() {
    let path = std::env::temp_dir().join(format!("combtest-env-junit-{}.xml", std::process::id()));
    let other = path.with_extension("setting.xml");
    let path_text = path.to_str().unwrap().to_string();
    let report = with_env(&[("COMBTEST_JUNIT", &path_text)], || {
        combtest! { order: [tens], state: Vec::new(), junit: &other }
    })
    .unwrap();
    assert!(report.files.contains(&path), "{:?}", report.files);
    assert!(!other.exists(), "the variable overrides the setting");
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(xml.contains(r#"tests="1" failures="0""#), "{xml}");
    std::fs::remove_file(&path).unwrap();
}
