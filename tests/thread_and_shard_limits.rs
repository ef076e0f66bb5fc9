//! Numbers too large to use are clear errors before any walk runs, never a run that spawns
//! threads until the system refuses, nor an arithmetic panic. The environment is
//! process-wide, so every test of this binary holds one lock.

use std::sync::Mutex;

use combtest::prelude::*;

static ENV: Mutex<()> = Mutex::new(());

#[action(options = 0..3)]
fn step(n: u32, v: &mut Vec<u32>) {
    v.push(n);
}

fn builder() -> Combtest<Vec<u32>> {
    Combtest::new(Vec::new()).then(step::action())
}

/// Runs `f` with the variables set, then removes them; a panic inside is returned as text.
fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce() -> T) -> Result<T, String> {
    let _lock = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    for (name, _) in vars {
        std::env::remove_var(name);
    }
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn too_many_threads_are_refused_before_any_walk() {
    for threads in ["100000", "18446744073709551615"] {
        let error = with_env(&[("COMBTEST_THREADS", threads)], || builder().run())
            .expect("no panic")
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with(&format!(
                "COMBTEST_THREADS=\"{threads}\" is invalid: at most 1024"
            )),
            "{text}"
        );
    }
    let error = with_env(&[], || builder().threads(100_000).run())
        .expect("no panic")
        .unwrap_err();
    assert!(
        error.to_string().contains("at most 1024 worker threads"),
        "{error}"
    );
    // The limit itself runs.
    let report = with_env(&[], || builder().threads(1024).run())
        .expect("no panic")
        .unwrap();
    assert_eq!(report.walk_count, 3);
}

#[test]
fn a_huge_ci_index_is_an_error_not_an_overflow() {
    let max = u64::MAX.to_string();
    let result = with_env(
        &[("COMBTEST_SHARD", "auto/4"), ("JOB_COMPLETION_INDEX", &max)],
        || builder().run(),
    );
    let error = result.expect("no arithmetic panic").unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("COMBTEST_SHARD=\"auto/4\" is invalid"),
        "{text}"
    );
    assert!(text.contains("JOB_COMPLETION_INDEX"), "{text}");
}
