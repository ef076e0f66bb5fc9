//! The executors an order may need beyond the stream of whole walks (`stream.rs`), held as
//! function pointers that only an order needing them sets.
//!
//! Every executor is generic over the state and shared-context types, so each is compiled
//! in the test crate that runs the order, at that crate's opt-level. Reaching the barrier
//! executor (serial actions) or the async one only through these pointers keeps them out of
//! a test crate whose order has neither: `combtest!` knows its actions' kinds from their
//! types and sets only the pointers its order needs, while the builder API, whose order is
//! known only at run time, sets both.

use std::fmt;

use super::{AsyncLimits, Tally, WalkRunner};
use crate::model::state::StateSource;
use crate::model::walk_id::WalkSelection;
use crate::output::trace::TraceBuffer;

/// Runs every selected walk of an order that the stream of whole walks cannot run: one with
/// serial actions (`limits` set when it also has async ones), or one with async actions.
pub(crate) type Executor<S, G> = fn(
    &WalkRunner<'_, S, G>,
    &WalkSelection,
    usize,
    &StateSource<S>,
    &mut G,
    &dyn Fn() -> Option<TraceBuffer>,
    Option<AsyncLimits>,
) -> Tally<S>;

/// The executors an order may need beyond the stream of whole walks.
pub(crate) struct Executors<S, G> {
    /// Orders with serial actions: branches and barriers (`barrier.rs`).
    pub(crate) serial: Option<Executor<S, G>>,
    /// Orders with async actions and no serial ones (`async_walks.rs`).
    pub(crate) asynchronous: Option<Executor<S, G>>,
}

impl<S, G> Default for Executors<S, G> {
    /// None: enough for an order of regular, synchronous actions only.
    fn default() -> Self {
        Executors {
            serial: None,
            asynchronous: None,
        }
    }
}

impl<S, G> Clone for Executors<S, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, G> Copy for Executors<S, G> {}

impl<S, G> Executors<S, G>
where
    S: Send + fmt::Debug,
    G: Sync,
{
    /// Every executor: for an order known only at run time.
    pub(crate) fn all() -> Self {
        let mut executors = Self::default();
        executors.add_serial();
        executors.add_async();
        executors
    }

    /// Adds the barrier executor, for an order with serial actions.
    pub(crate) fn add_serial(&mut self) {
        self.serial = Some(serial::<S, G>);
    }

    /// Adds the async executor, for an order with async actions. Without the `async`
    /// feature there is none: such an order is an error before any walk runs.
    pub(crate) fn add_async(&mut self) {
        #[cfg(feature = "async")]
        {
            self.asynchronous = Some(asynchronous::<S, G>);
        }
    }
}

fn serial<S: Send + fmt::Debug, G: Sync>(
    runner: &WalkRunner<'_, S, G>,
    selection: &WalkSelection,
    threads: usize,
    source: &StateSource<S>,
    shared: &mut G,
    trace: &dyn Fn() -> Option<TraceBuffer>,
    limits: Option<AsyncLimits>,
) -> Tally<S> {
    // Held walks are recorded when the run ends: their records take no lock.
    let trace = trace().map(TraceBuffer::unshared);
    super::barrier::run(runner, selection, threads, source, shared, trace, limits)
}

#[cfg(feature = "async")]
fn asynchronous<S: Send + fmt::Debug, G: Sync>(
    runner: &WalkRunner<'_, S, G>,
    selection: &WalkSelection,
    threads: usize,
    source: &StateSource<S>,
    shared: &mut G,
    trace: &dyn Fn() -> Option<TraceBuffer>,
    limits: Option<AsyncLimits>,
) -> Tally<S> {
    let limits = limits.expect("the async executor runs orders with async actions");
    super::async_walks::stream(runner, selection, threads, source, shared, trace, limits)
}
