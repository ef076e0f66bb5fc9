//! Panic capture and cancel: catching panics per walk without flooding the output, and the
//! unwind that `cancel!` raises.
//!
//! A run with ten thousand failing walks must stay readable, so a panic inside a walk is
//! recorded (message and location) instead of printed; the report shows it. Panics anywhere
//! else — in the test body, in another test of the same binary — still reach the hook that
//! was installed before ours, unchanged.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::abort::{self, AbortNotice};
use crate::model::action::Cancel;

thread_local! {
    /// Set while this thread runs walk code whose panics are to be recorded, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Set while this thread runs walk code at all (quiet or not), for `cancel!`.
    static IN_WALK: Cell<bool> = const { Cell::new(false) };
    /// Set while this thread runs the test's own code from inside walk code (a filter, see
    /// [`WalkScope::outside`]): it lifts the two flags above. A filter is asked once per walk,
    /// and one flag to set and clear is what keeps asking it cheap.
    static OUTSIDE: Cell<bool> = const { Cell::new(false) };
    /// The last panic seen by the hook on this thread in walk code, with its payload's
    /// identity: a panic that walk code caught itself leaves its record behind, and a payload
    /// re-raised with `resume_unwind` skips the hook, so a record counts only for the payload
    /// it was made for.
    static LAST_PANIC: RefCell<Option<(PayloadIdentity, CapturedPanic)>> =
        const { RefCell::new(None) };
}

/// A panic's message and where it happened.
#[derive(Debug, Clone)]
pub(crate) struct CapturedPanic {
    pub(crate) message: String,
    pub(crate) location: Option<String>,
}

/// How walk code ended when it unwound.
pub(crate) enum Unwound {
    Panicked(CapturedPanic),
    Cancelled(String),
}

impl Unwound {
    /// What to say about it, where it is no walk outcome.
    pub(crate) fn message(self) -> String {
        match self {
            Unwound::Panicked(panic) => panic.message,
            Unwound::Cancelled(reason) => format!("cancel!({reason:?})"),
        }
    }
}

/// What tells one panic payload from another without owning it: its type and, for the
/// string payloads of `panic!`, where its text lives. The panic machinery moves a payload from
/// the hook to `catch_unwind` without copying its text, so the text's address survives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PayloadIdentity {
    type_id: TypeId,
    text: Option<(usize, usize)>,
}

impl PayloadIdentity {
    fn of(payload: &(dyn Any + Send)) -> Self {
        let text = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((s.as_ptr() as usize, s.len()))
        } else {
            payload
                .downcast_ref::<String>()
                .map(|s| (s.as_ptr() as usize, s.len()))
        };
        PayloadIdentity {
            type_id: payload.type_id(),
            text,
        }
    }
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let outside = OUTSIDE.with(Cell::get);
            let quiet = QUIET.with(Cell::get) && !outside;
            let walk_code = (quiet || IN_WALK.with(Cell::get)) && !outside;
            if abort::PANICS_ABORT && walk_code {
                // Nothing will catch this panic: say which walk it ends, while there is time.
                let message = payload_message(info.payload());
                let location = info.location().map(|l| l.to_string());
                abort::announce(&message, location.as_deref());
            }
            if walk_code {
                let captured = CapturedPanic {
                    message: payload_message(info.payload()),
                    location: info.location().map(|l| l.to_string()),
                };
                let identity = PayloadIdentity::of(info.payload());
                LAST_PANIC.with(|last| *last.borrow_mut() = Some((identity, captured)));
            }
            if !quiet {
                previous(info);
            }
        }));
    });
}

/// Runs walk code on this thread, turning its unwinds into values. `quiet` decides whether
/// its panics are printed: a run of a single selected walk prints them, so that
/// `RUST_BACKTRACE` and debuggers behave as usual while replaying it.
#[derive(Clone, Copy)]
pub(crate) struct Catcher {
    quiet: bool,
    /// When panics abort: the replay commands of the run, printed before the process dies.
    notice: Option<&'static AbortNotice>,
}

impl Catcher {
    pub(crate) fn new(quiet: bool) -> Self {
        install_hook();
        Catcher {
            quiet,
            notice: None,
        }
    }

    /// Gives the replay command of each walk, for a panic that aborts the process.
    pub(crate) fn with_notice(self, notice: Option<&'static AbortNotice>) -> Self {
        Catcher { notice, ..self }
    }

    /// Runs `f` as walk code. The thread-local flags are set only for the duration of `f`, so
    /// a panic in the test's own code around it (a filter, say) prints as usual.
    #[inline]
    pub(crate) fn catch<T>(self, f: impl FnOnce() -> T) -> Result<T, Unwound> {
        forget_last_panic();
        abort::run_starts(self.notice);
        let was_quiet = QUIET.with(|q| q.replace(self.quiet));
        let was_in_walk = IN_WALK.with(|w| w.replace(true));
        let was_outside = OUTSIDE.with(|o| o.replace(false));
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        QUIET.with(|q| q.set(was_quiet));
        IN_WALK.with(|w| w.set(was_in_walk));
        OUTSIDE.with(|o| o.set(was_outside));
        result.map_err(classify)
    }
}

impl Catcher {
    /// Marks this thread as running walk code until the scope ends: for executors that run
    /// many walks under one `catch_unwind` (see [`WalkScope`]).
    pub(crate) fn enter(self) -> WalkScope {
        forget_last_panic();
        abort::run_starts(self.notice);
        WalkScope {
            was_quiet: QUIET.with(|q| q.replace(self.quiet)),
            was_in_walk: IN_WALK.with(|w| w.replace(true)),
            was_outside: OUTSIDE.with(|o| o.replace(false)),
        }
    }
}

/// The thread runs walk code while this lives. Entering once per chunk of walks instead of
/// once per walk keeps the thread-local bookkeeping off the per-walk path.
pub(crate) struct WalkScope {
    was_quiet: bool,
    was_in_walk: bool,
    was_outside: bool,
}

impl WalkScope {
    /// Runs the test's own code (a filter) from inside walk code: its panics print as usual
    /// and are not walk failures. Filters run here once per walk: it costs two stores.
    #[inline(always)]
    pub(crate) fn outside<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore;
        impl Drop for Restore {
            // Inlined: a call for the restore would be a good part of what asking a filter
            // costs.
            #[inline(always)]
            fn drop(&mut self) {
                OUTSIDE.with(|o| o.set(false));
            }
        }
        // The scope cleared the flag when it was entered, and walk code inside it leaves it
        // clear: clearing it again restores it.
        OUTSIDE.with(|o| o.set(true));
        let _restore = Restore;
        f()
    }

    /// What a payload caught from walk code means.
    pub(crate) fn unwound(&self, payload: Box<dyn Any + Send>) -> Unwound {
        classify(payload)
    }
}

impl Drop for WalkScope {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(self.was_quiet));
        IN_WALK.with(|w| w.set(self.was_in_walk));
        OUTSIDE.with(|o| o.set(self.was_outside));
    }
}

/// Drops a record left by an earlier panic that walk code caught itself.
fn forget_last_panic() {
    LAST_PANIC.with(|last| last.borrow_mut().take());
}

fn classify(payload: Box<dyn Any + Send>) -> Unwound {
    match payload.downcast::<Cancel>() {
        Ok(cancel) => Unwound::Cancelled(cancel.reason().to_string()),
        Err(payload) => {
            let recorded = LAST_PANIC.with(|last| last.borrow_mut().take());
            Unwound::Panicked(match recorded {
                Some((identity, panic)) if identity == PayloadIdentity::of(&*payload) => panic,
                // Re-raised without passing the hook (`resume_unwind`, as thread pools do for
                // their threads' panics): the message is the payload's, the place unknown.
                _ => CapturedPanic {
                    message: payload_message(&*payload),
                    location: None,
                },
            })
        }
    }
}

/// Runs `f`, turning a panic into its message without printing it: for the test's own code
/// that combtest calls while recording a walk (a state's `Debug`).
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let was_quiet = QUIET.with(|q| q.replace(true));
    let was_outside = OUTSIDE.with(|o| o.replace(false));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was_quiet));
    OUTSIDE.with(|o| o.set(was_outside));
    result.map_err(|payload| classify(payload).message())
}

/// Cancels the walk that is running, from anywhere inside an action (any return type).
///
/// This unwinds to the runner without invoking the panic hook, so nothing is printed. Use it
/// through [`cancel!`](crate::cancel!). Called outside a combtest walk, it panics with the
/// reason, since there is no walk to cancel.
pub fn cancel_walk(reason: String) -> ! {
    if abort::PANICS_ABORT && in_walk() {
        // `cancel!` unwinds, which the abort strategy cannot: say so, and what works instead.
        let walk = abort::current_walk().map_or(String::new(), |id| format!(" in walk {id}"));
        eprintln!(
            "combtest: cancel!({reason:?}){walk} cannot stop the walk: it unwinds, and this \
             program is built with panic = \"abort\". Return `Err(Cancel::new(..))` from an \
             action returning `Result<(), Cancel>` instead: it cancels without unwinding"
        );
        std::process::abort();
    }
    if in_walk() {
        std::panic::resume_unwind(Box::new(Cancel::new(reason)))
    }
    panic!("combtest: cancel!({reason:?}) called outside a combtest walk")
}

/// Whether this thread is running a walk (not the test's own code asked from one).
pub(crate) fn in_walk() -> bool {
    IN_WALK.with(Cell::get) && !OUTSIDE.with(Cell::get)
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_panics_are_captured_with_location() {
        let result = Catcher::new(true).catch(|| -> () { panic!("bad {}", 42) });
        match result {
            Err(Unwound::Panicked(p)) => {
                assert_eq!(p.message, "bad 42");
                assert!(p.location.unwrap().contains("unwind.rs"));
            }
            _ => panic!("expected a captured panic"),
        }
    }

    #[test]
    fn a_record_counts_only_for_its_own_payload() {
        let catcher = Catcher::new(true);
        // Walk code that catches its own panic leaves a record behind.
        let _ = catcher.catch(|| panic::catch_unwind(|| panic!("swallowed {}", 1)));
        let result = catcher.catch(|| -> () { panic::resume_unwind(Box::new("re-raised")) });
        match result {
            Err(Unwound::Panicked(p)) => {
                assert_eq!(p.message, "re-raised");
                assert_eq!(p.location, None);
            }
            _ => panic!("expected a captured panic"),
        }
        // A payload caught and re-raised is still the panic the hook saw.
        let result = catcher.catch(|| -> () {
            let payload = panic::catch_unwind(|| panic!("first {}", 2)).unwrap_err();
            panic::resume_unwind(payload)
        });
        match result {
            Err(Unwound::Panicked(p)) => {
                assert_eq!(p.message, "first 2");
                assert!(p.location.unwrap().contains("unwind.rs"));
            }
            _ => panic!("expected a captured panic"),
        }
    }

    #[test]
    fn cancel_unwinds_as_cancel() {
        let result = Catcher::new(true).catch(|| cancel_walk("not today".into()));
        assert!(matches!(result, Err(Unwound::Cancelled(r)) if r == "not today"));
    }

    /// Whether the hook keeps a panic on this thread quiet now, as it reads the flags.
    fn quiet() -> bool {
        QUIET.with(Cell::get) && !OUTSIDE.with(Cell::get)
    }

    #[test]
    fn a_scope_covers_many_walks_and_lets_the_tests_own_code_out() {
        let scope = Catcher::new(true).enter();
        assert!(in_walk() && quiet());
        let inside_filter = scope.outside(|| (in_walk(), quiet()));
        assert_eq!(inside_filter, (false, false));
        assert!(in_walk() && quiet(), "restored after the filter");
        // A run of walks inside the filter is walk code again, and leaves it as it found it.
        let nested = scope.outside(|| {
            let inner = Catcher::new(true).catch(|| (in_walk(), quiet()));
            (inner.ok(), in_walk(), quiet())
        });
        assert_eq!(nested, (Some((true, true)), false, false));
        let caught = panic::catch_unwind(|| panic!("walk 3"));
        assert!(
            matches!(scope.unwound(caught.unwrap_err()), Unwound::Panicked(p) if p.message == "walk 3")
        );
        drop(scope);
        assert!(!in_walk() && !QUIET.with(Cell::get));
    }

    #[test]
    fn flags_are_set_only_inside_the_walk() {
        assert!(!in_walk());
        let inside = Catcher::new(true).catch(in_walk).ok();
        assert_eq!(inside, Some(true));
        assert!(!in_walk());
        assert!(!QUIET.with(Cell::get));
    }
}
