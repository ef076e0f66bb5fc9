//! What a run says before `panic = "abort"` ends the process.
//!
//! With the abort strategy nothing unwinds: the first panic in a walk ends the process, and
//! the report is never assembled. So that the failure is not lost, the panic hook prints what
//! the report would have said of that walk (its id, the panic and its replay command) before
//! the process dies. The engine tells which walk each thread is running, only when built with
//! `panic = "abort"`; with unwinding, none of this costs anything.

use std::cell::Cell;

/// The replay command of a walk id, for the run a thread works for.
pub(crate) type AbortNotice = dyn Fn(u64) -> String + Send + Sync;

/// Whether panics end the process instead of unwinding.
pub(crate) const PANICS_ABORT: bool = cfg!(panic = "abort");

thread_local! {
    /// The walk this thread is running, when panics abort.
    static CURRENT_WALK: Cell<Option<u64>> = const { Cell::new(None) };
    /// The replay commands of the run this thread works for, when panics abort.
    static NOTICE: Cell<Option<&'static AbortNotice>> = const { Cell::new(None) };
}

/// Records that this thread now runs walk `id` (`None`: no walk, a serial action say).
#[inline(always)]
pub(crate) fn walk_starts(id: Option<u64>) {
    if PANICS_ABORT {
        CURRENT_WALK.with(|walk| walk.set(id));
    }
}

/// Records the run this thread works for.
#[inline]
pub(crate) fn run_starts(notice: Option<&'static AbortNotice>) {
    if PANICS_ABORT {
        NOTICE.with(|current| current.set(notice));
    }
}

/// The walk this thread is running, as far as the engine told.
pub(crate) fn current_walk() -> Option<u64> {
    CURRENT_WALK.with(Cell::get)
}

/// Prints what the report would say of a panic that is about to end the process.
pub(crate) fn announce(message: &str, location: Option<&str>) {
    if !PANICS_ABORT {
        return;
    }
    let walk = current_walk();
    let notice = NOTICE.with(Cell::get);
    let mut text = match walk {
        Some(id) => format!(
            "combtest: walk {id} panicked, and panic = \"abort\" ends the process here, before \
             the report\n  message: {message}\n"
        ),
        None => format!(
            "combtest: a panic outside any walk (a serial action, the state of a branch), and \
             panic = \"abort\" ends the process here, before the report\n  message: {message}\n"
        ),
    };
    if let Some(location) = location {
        text.push_str(&format!("  at:      {location}\n"));
    }
    if let (Some(id), Some(notice)) = (walk, notice) {
        text.push_str(&format!("  replay:  {}\n", notice(id)));
    }
    eprint!("{text}");
}
