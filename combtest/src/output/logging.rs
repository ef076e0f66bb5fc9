//! combtest's own `tracing` output: the verbosity levels, and a test-friendly subscriber when
//! the test installed none.
//!
//! Verbosity caps combtest's own events: `0` warn, `1` info (run start and end), `2` debug
//! (every walk, serial actions, failures), `3` trace (every action with its param). When the
//! test installed a subscriber, combtest's events go to it (capped by the verbosity, if one
//! was given; the subscriber's own filter decides the rest).
//!
//! When it installed none, combtest installs a fallback subscriber for the run (cargo feature
//! `fallback-subscriber`, on by default) that prints through the test harness's capture, like
//! `println!`, without ANSI escapes:
//! - `RUST_LOG` unset or empty: the verbosity for every event, warnings by default;
//! - `RUST_LOG` set: its `target=level` directives (as `tracing_subscriber`'s `Targets`
//!   parses them: `warn`, `my_app=debug,combtest=info`) decide, except that a verbosity, when
//!   one is given (`COMBTEST_VERBOSE` or `verbose:`), sets the level of combtest's own
//!   events: the variable named for combtest wins for combtest;
//! - `RUST_LOG` malformed: a warning says so, and the run prints as if it were unset.

use tracing::level_filters::LevelFilter;

/// The highest level combtest emits at this verbosity.
pub(crate) fn level_cap(verbose: Option<u8>) -> LevelFilter {
    match verbose {
        Some(0) => LevelFilter::WARN,
        Some(1) => LevelFilter::INFO,
        Some(2) => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Keeps one no-op dispatcher registered for the life of the process.
///
/// While exactly one dispatcher is registered, `tracing-core` computes a callsite's interest
/// from the thread that reaches it first and caches it for every thread: a test without a
/// subscriber that runs combtest first would silence combtest's events for a test that
/// installed one (tokio-rs/tracing#2874). With a second dispatcher always registered, the
/// interest is computed over every live dispatcher instead.
pub(crate) fn keep_interest_per_dispatcher() {
    static KEEP: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    KEEP.get_or_init(|| tracing::Dispatch::new(Off));
}

/// A subscriber that wants nothing and says so: unlike `NoSubscriber`, it reports `OFF` as
/// its highest level, so keeping it registered does not raise the process-wide level filter
/// (which combtest reads to skip per-walk tracing work).
struct Off;

impl tracing::Subscriber for Off {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::never()
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::OFF)
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Runs `f` with a subscriber that prints through the test harness's output capture, when
/// the test installed none of its own: filtered by `RUST_LOG` and the verbosity (see the
/// module docs), warnings only by default (so the actions' own warnings and errors show in a
/// failing test's output).
pub(crate) fn with_run_subscriber<R>(verbose: Option<u8>, f: impl FnOnce() -> R) -> R {
    with_subscriber_for(verbose, std::env::var("RUST_LOG").ok().as_deref(), f)
}

/// [`with_run_subscriber`] with the value of `RUST_LOG` given.
fn with_subscriber_for<R>(verbose: Option<u8>, rust_log: Option<&str>, f: impl FnOnce() -> R) -> R {
    // Only this wrapper is instantiated for each caller (a run's is generic over its state
    // type); the subscriber is built by code compiled once in this crate.
    let mut f = Some(f);
    let mut result = None;
    run_with_subscriber(verbose, rust_log, &mut || result = f.take().map(|f| f()));
    result.expect("the run's closure is called once")
}

fn run_with_subscriber(verbose: Option<u8>, rust_log: Option<&str>, f: &mut dyn FnMut()) {
    keep_interest_per_dispatcher();
    #[cfg(feature = "fallback-subscriber")]
    if tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>()) {
        use tracing_subscriber::layer::SubscriberExt;
        let (filter, malformed) = fallback_filter(verbose, rust_log);
        let output = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_ansi(false)
            .with_thread_names(true)
            .with_target(false);
        let subscriber = tracing_subscriber::registry().with(filter).with(output);
        return tracing::subscriber::with_default(subscriber, || {
            if let Some(error) = malformed {
                tracing::warn!("{error}");
            }
            f()
        });
    }
    #[cfg(not(feature = "fallback-subscriber"))]
    let _ = (verbose, rust_log);
    f()
}

/// The fallback subscriber's filter for a verbosity and a `RUST_LOG` value, and the warning
/// to print when that value does not parse.
#[cfg(feature = "fallback-subscriber")]
fn fallback_filter(
    verbose: Option<u8>,
    rust_log: Option<&str>,
) -> (tracing_subscriber::filter::Targets, Option<String>) {
    use tracing_subscriber::filter::Targets;
    let by_verbosity = || Targets::new().with_default(level_cap(Some(verbose.unwrap_or(0))));
    let Some(rust_log) = rust_log.map(str::trim).filter(|value| !value.is_empty()) else {
        return (by_verbosity(), None);
    };
    let directives = match rust_log.parse::<Targets>() {
        Ok(directives) => directives,
        Err(error) => {
            let warning = format!(
                "RUST_LOG={rust_log:?} is malformed ({error}); combtest's fallback subscriber \
                 reads `target=level` lists such as `warn,my_app=debug`, and ignores it"
            );
            return (by_verbosity(), Some(warning));
        }
    };
    let Some(verbose) = verbose else {
        return (directives, None);
    };
    // The verbosity replaces whatever RUST_LOG says about combtest's modules. Targets match
    // by prefix and the longest wins, so `combtest::` outranks a `combtest` directive for
    // combtest's own events without touching a crate such as `combtest_demo`.
    let mut filter = Targets::new()
        .with_targets(
            directives
                .iter()
                .filter(|(target, _)| !target.starts_with("combtest::")),
        )
        .with_target("combtest::", level_cap(Some(verbose)));
    if let Some(level) = directives.default_level() {
        filter = filter.with_default(level);
    }
    (filter, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level_cap(Some(0)), LevelFilter::WARN);
        assert_eq!(level_cap(Some(1)), LevelFilter::INFO);
        assert_eq!(level_cap(Some(2)), LevelFilter::DEBUG);
        assert_eq!(level_cap(Some(3)), LevelFilter::TRACE);
        assert_eq!(level_cap(None), LevelFilter::TRACE);
    }

    #[test]
    fn the_kept_dispatcher_declares_itself_off() {
        use tracing::Subscriber;
        // `None` would count as TRACE and turn on per-walk tracing work for every run.
        assert_eq!(Off.max_level_hint(), Some(LevelFilter::OFF));
    }

    #[cfg(feature = "fallback-subscriber")]
    #[test]
    fn rust_log_decides_and_the_verbosity_wins_for_combtest() {
        use tracing::Level;
        let enables = |verbose, rust_log, target, level| {
            let (filter, warning) = fallback_filter(verbose, rust_log);
            assert_eq!(warning, None);
            filter.would_enable(target, &level)
        };
        // Unset or empty: warnings for every target, or the verbosity.
        for unset in [None, Some(""), Some("  ")] {
            assert!(enables(None, unset, "my_app", Level::WARN));
            assert!(!enables(None, unset, "my_app", Level::INFO));
        }
        assert!(enables(Some(2), None, "my_app", Level::DEBUG));
        assert!(!enables(Some(2), None, "combtest::runner", Level::TRACE));
        // Set: RUST_LOG decides, for combtest too, unless a verbosity is given.
        let rust_log = Some("info,my_app=trace,combtest::runner=debug");
        assert!(enables(None, rust_log, "my_app::db", Level::TRACE));
        assert!(enables(None, rust_log, "other", Level::INFO));
        assert!(!enables(None, rust_log, "other", Level::DEBUG));
        assert!(enables(None, rust_log, "combtest::runner", Level::DEBUG));
        assert!(!enables(Some(0), rust_log, "combtest::runner", Level::INFO));
        assert!(enables(Some(3), rust_log, "combtest::walk", Level::TRACE));
        assert!(enables(Some(0), rust_log, "my_app", Level::TRACE));
        let rust_log = Some("combtest=trace");
        assert!(!enables(Some(0), rust_log, "combtest::runner", Level::INFO));
        assert!(enables(Some(0), rust_log, "combtest_demo", Level::TRACE));
        assert!(!enables(
            None,
            Some("my_app=debug"),
            "combtest",
            Level::WARN
        ));
    }

    #[cfg(feature = "fallback-subscriber")]
    #[test]
    fn a_malformed_rust_log_is_named_and_ignored() {
        let (filter, warning) = fallback_filter(Some(1), Some("my_app=loud"));
        let warning = warning.expect("a warning");
        assert!(
            warning.contains("RUST_LOG=\"my_app=loud\" is malformed"),
            "{warning}"
        );
        assert!(filter.would_enable("my_app", &tracing::Level::INFO));
        assert!(!filter.would_enable("my_app", &tracing::Level::DEBUG));
    }

    #[cfg(feature = "fallback-subscriber")]
    #[test]
    fn a_subscriber_is_installed_when_the_test_has_none() {
        let installed =
            || tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>());
        assert!(with_subscriber_for(None, None, installed));
        assert!(with_subscriber_for(Some(1), None, installed));
        // Warnings by default; the verbosity raises it.
        let levels = || {
            (
                tracing::enabled!(tracing::Level::WARN),
                tracing::enabled!(tracing::Level::INFO),
                tracing::enabled!(tracing::Level::DEBUG),
            )
        };
        assert_eq!(
            with_subscriber_for(None, None, levels),
            (true, false, false)
        );
        assert_eq!(
            with_subscriber_for(Some(2), None, levels),
            (true, true, true)
        );
    }
}
