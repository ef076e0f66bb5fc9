//! combtest's own `tracing` output: the verbosity levels, and a test-friendly subscriber when
//! the test installed none.
//!
//! Verbosity caps combtest's own events: `0` warn, `1` info (run start and end), `2` debug
//! (every walk, serial actions, failures), `3` trace (every action with its param). When the
//! test installed a subscriber, combtest's events go to it (capped by the verbosity, if one
//! was given). When it installed none, combtest installs one for the run that prints through
//! the test harness's capture, like `println!`: at the verbosity given, warnings by default.

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
/// the test installed none of its own: at the asked verbosity, warnings only by default (so
/// the actions' own warnings and errors show in a failing test's output).
pub(crate) fn with_run_subscriber<R>(verbose: Option<u8>, f: impl FnOnce() -> R) -> R {
    keep_interest_per_dispatcher();
    let none_installed =
        tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>());
    if !none_installed {
        return f();
    }
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level_cap(Some(verbose.unwrap_or(0))))
        .with_test_writer()
        .with_thread_names(true)
        .with_target(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f)
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

    #[test]
    fn a_subscriber_is_installed_when_the_test_has_none() {
        let installed =
            || tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>());
        assert!(with_run_subscriber(None, installed));
        assert!(with_run_subscriber(Some(1), installed));
        // Warnings by default; the verbosity raises it.
        let levels = || {
            (
                tracing::enabled!(tracing::Level::WARN),
                tracing::enabled!(tracing::Level::INFO),
                tracing::enabled!(tracing::Level::DEBUG),
            )
        };
        assert_eq!(with_run_subscriber(None, levels), (true, false, false));
        assert_eq!(with_run_subscriber(Some(2), levels), (true, true, true));
    }
}
