//! The progress display: walks done of the total, rate, failures so far, and time left, on
//! stderr, for runs long enough to need it.
//!
//! It shows only when stderr is a terminal and `CI` is not set (or the setting forces it on
//! a terminal), and only once a run has lasted a second, so short runs and captured test
//! output never see it. Workers add to two counters once per chunk of walks; a ticker thread
//! draws.
//!
//! Runs at once in one process (libtest runs tests in parallel) each get a bar of their own,
//! labelled with the test's name, in one display shared by the process; a finished run's bar
//! is removed, so no stale line is left behind.
//!
//! The display needs the `progress` cargo feature (on by default). Without it the setting is
//! still accepted and nothing is shown; the workers get no counters to add to.

#[cfg(feature = "progress")]
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "progress")]
use std::time::{Duration, Instant};

#[cfg(feature = "progress")]
use indicatif::{HumanDuration, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before the display appears.
#[cfg(feature = "progress")]
const QUIET_START: Duration = Duration::from_secs(1);
/// How often the display is redrawn.
#[cfg(feature = "progress")]
const TICK: Duration = Duration::from_millis(200);

/// Counters the workers add to.
#[derive(Default)]
pub(crate) struct Progress {
    done: AtomicU64,
    failed: AtomicU64,
}

impl Progress {
    /// Adds what a worker finished since it last reported.
    pub(crate) fn add(&self, done: u64, failed: u64) {
        self.done.fetch_add(done, Ordering::Relaxed);
        if failed > 0 {
            self.failed.fetch_add(failed, Ordering::Relaxed);
        }
    }
}

/// The text after the bar: rate, failures so far, time left.
#[cfg(feature = "progress")]
fn status(done: u64, total: u64, failed: u64, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
    let left = match done {
        0 => "unknown".to_string(),
        _ => HumanDuration(Duration::from_secs_f64(
            total.saturating_sub(done) as f64 / rate,
        ))
        .to_string(),
    };
    format!("{rate:.0}/s, {failed} failed, {left} left")
}

/// The display every run of the process draws its bar in.
#[cfg(feature = "progress")]
fn display() -> &'static MultiProgress {
    static DISPLAY: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();
    DISPLAY.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// The bar's template: the test's name (when known), the bar, counts, then the status.
#[cfg(feature = "progress")]
fn template(label: Option<&str>, unit: &str) -> String {
    let label = label.map_or_else(String::new, |label| {
        // Braces in a test name would read as template keys.
        format!("{} ", label.replace('{', "{{").replace('}', "}}"))
    });
    format!("{label}{{bar:30}} {{pos}}/{{len}} {unit}, {{msg}}")
}

/// Whether a run shows progress: the setting (`None` when not given), whether stderr is a
/// terminal, and whether `CI` is set.
#[cfg(feature = "progress")]
pub(crate) fn wanted(setting: Option<bool>, terminal: bool, ci: bool) -> bool {
    match setting {
        Some(false) => false,
        Some(true) => terminal,
        None => terminal && !ci,
    }
}

/// Runs `f`, showing the progress of `total` units (`unit` names them) of the test `label`
/// while it runs, if the settings and the terminal allow.
#[cfg(feature = "progress")]
pub(crate) fn with_progress<R>(
    setting: Option<bool>,
    label: Option<&str>,
    total: u64,
    unit: &'static str,
    f: impl FnOnce(Option<&Progress>) -> R,
) -> R {
    let terminal = std::io::stderr().is_terminal();
    let ci = std::env::var_os("CI").is_some();
    if !wanted(setting, terminal, ci) {
        return f(None);
    }
    // The bar's thread is spawned by `show_while`, compiled once, not again for every
    // result type.
    let progress = Progress::default();
    let mut f = Some(f);
    let mut result = None;
    show_while(&progress, label, total, unit, &mut || {
        result = f.take().map(|f| f(Some(&progress)));
    });
    result.expect("the run ran")
}

/// Calls `run` once while a thread shows `progress` as a bar of `total` units.
#[cfg(feature = "progress")]
fn show_while(
    progress: &Progress,
    label: Option<&str>,
    total: u64,
    unit: &'static str,
    run: &mut dyn FnMut(),
) {
    let (stop, stopped) = crossbeam::channel::bounded::<()>(0);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // Rate and time left are measured from the start of the run, not from when the
            // bar first appears: the bar's own estimator would see a jump from zero.
            let started = Instant::now();
            if stopped.recv_timeout(QUIET_START).is_ok() {
                return;
            }
            let bar = display().add(ProgressBar::new(total));
            if let Ok(style) = ProgressStyle::with_template(&template(label, unit)) {
                bar.set_style(style);
            }
            loop {
                let done = progress.done.load(Ordering::Relaxed);
                let failed = progress.failed.load(Ordering::Relaxed);
                bar.set_position(done);
                bar.set_message(status(done, total, failed, started.elapsed()));
                if !matches!(
                    stopped.recv_timeout(TICK),
                    Err(crossbeam::channel::RecvTimeoutError::Timeout)
                ) {
                    break;
                }
            }
            bar.finish_and_clear();
            display().remove(&bar);
        });
        run();
        drop(stop);
    })
}

/// Runs `f` without a display: built without the `progress` feature.
#[cfg(not(feature = "progress"))]
pub(crate) fn with_progress<R>(
    _setting: Option<bool>,
    _label: Option<&str>,
    _total: u64,
    _unit: &'static str,
    f: impl FnOnce(Option<&Progress>) -> R,
) -> R {
    f(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "progress")]
    #[test]
    fn shown_only_on_a_terminal_outside_ci_unless_forced_off() {
        assert!(wanted(None, true, false));
        assert!(!wanted(None, true, true));
        assert!(!wanted(None, false, false));
        assert!(wanted(Some(true), true, true));
        assert!(!wanted(Some(true), false, false));
        assert!(!wanted(Some(false), true, false));
    }

    #[cfg(feature = "progress")]
    #[test]
    fn status_shows_rate_failures_and_time_left() {
        let text = status(250, 1000, 3, Duration::from_secs(5));
        assert_eq!(text, "50/s, 3 failed, 15 seconds left");
        assert_eq!(
            status(0, 1000, 0, Duration::from_secs(1)),
            "0/s, 0 failed, unknown left"
        );
    }

    #[cfg(feature = "progress")]
    #[test]
    fn each_bar_is_labelled_with_its_test() {
        assert_eq!(
            template(Some("gui::combinations"), "walks"),
            "gui::combinations {bar:30} {pos}/{len} walks, {msg}"
        );
        assert_eq!(template(None, "walks"), "{bar:30} {pos}/{len} walks, {msg}");
        // A brace in a name is text, not a template key.
        let odd = template(Some("t{x}"), "walks");
        assert!(ProgressStyle::with_template(&odd).is_ok(), "{odd}");
        assert!(odd.starts_with("t{{x}} "), "{odd}");
    }

    #[test]
    fn counters_add_up() {
        let progress = Progress::default();
        progress.add(10, 1);
        progress.add(5, 0);
        assert_eq!(progress.done.load(Ordering::Relaxed), 15);
        assert_eq!(progress.failed.load(Ordering::Relaxed), 1);
    }
}
