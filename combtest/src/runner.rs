//! The builder API and the execution of walks.
//!
//! `combtest!` is sugar over [`Combtest`]: both build an order of [`Action`]s, settings and a
//! state, then [`Combtest::run`] plans the walk space and runs every selected walk on the
//! worker pool.

use std::fmt;
use std::time::Instant;

use crate::action::Action;
use crate::execute::{self, Template, WalkRunner};
use crate::outcome::WalkSummary;
use crate::panic_capture::Catcher;
use crate::plan::Plan;
use crate::report::{Report, TestLocation};
use crate::settings::{Gather, Resolved, Settings};
use crate::walk::{OrderView, Walk};
use crate::walk_id::WalkSelection;
use crate::{barrier, Error};

/// Where each walk's initial state comes from: a value cloned once per walk, or a factory
/// called once per walk.
///
/// ```
/// use combtest::StateSource;
///
/// let cloned: StateSource<Vec<u8>> = vec![1, 2].into();
/// let built = StateSource::factory(|| vec![1, 2]);
/// # let _ = (cloned, built);
/// ```
pub enum StateSource<S> {
    /// Cloned for every walk.
    Value(S),
    /// Called for every walk.
    Factory(Box<dyn Fn() -> S + Send + Sync>),
}

impl<S> StateSource<S> {
    /// A state built by calling `make` once per walk.
    pub fn factory(make: impl Fn() -> S + Send + Sync + 'static) -> Self {
        StateSource::Factory(Box::new(make))
    }

    /// What one worker makes its walks' states from.
    pub(crate) fn template(&self) -> Template<'_, S>
    where
        S: Clone,
    {
        match self {
            StateSource::Value(state) => Template::Value(state.clone()),
            StateSource::Factory(make) => Template::Factory(&**make),
        }
    }
}

impl<S> From<S> for StateSource<S> {
    fn from(state: S) -> Self {
        StateSource::Value(state)
    }
}

impl<S: fmt::Debug> fmt::Debug for StateSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateSource::Value(state) => f.debug_tuple("Value").field(state).finish(),
            StateSource::Factory(_) => f.write_str("Factory(..)"),
        }
    }
}

type Filter = Box<dyn Fn(&Walk<'_>) -> bool + Send + Sync>;

/// A combinatorial test: an order of actions, a state, a shared context and settings.
///
/// This is everything `combtest!` does, as a plain API, for orders built at run time.
/// `S` is the per-walk state and `G` the shared context.
///
/// ```
/// use combtest::prelude::*;
///
/// #[derive(Clone, Debug, Default)]
/// struct Account { balance: i64 }
///
/// #[action(options = [10, 20])]
/// fn deposit(amount: i64, account: &mut Account) { account.balance += amount; }
///
/// #[action(options = [5, 50])]
/// fn withdraw(amount: i64, account: &mut Account) -> Result<(), String> {
///     if amount > account.balance {
///         cancel!("cannot withdraw {amount} from {}", account.balance);
///     }
///     account.balance -= amount;
///     Ok(())
/// }
///
/// let report = Combtest::new(Account::default())
///     .then(deposit::action())
///     .then(withdraw::action())
///     .threads(2)
///     .run()
///     .expect("a valid order");
/// assert_eq!(report.walk_count, 4);
/// assert_eq!(report.cancel_count, 2);
/// assert_eq!(report.error_count, 0);
/// ```
pub struct Combtest<S, G = ()> {
    state: StateSource<S>,
    shared: G,
    order: Vec<Action<S, G>>,
    filter: Option<Filter>,
    settings: Settings,
    location: Option<TestLocation>,
}

impl<S> Combtest<S, ()> {
    /// A combtest without shared context. `state` is a value (cloned per walk) or a
    /// [`StateSource::factory`].
    pub fn new(state: impl Into<StateSource<S>>) -> Self {
        Combtest::with_shared(state, ())
    }
}

impl<S, G> Combtest<S, G> {
    /// A combtest whose actions also get `&G`, one value for the whole run.
    pub fn with_shared(state: impl Into<StateSource<S>>, shared: G) -> Self {
        Combtest {
            state: state.into(),
            shared,
            order: Vec::new(),
            filter: None,
            settings: Settings::default(),
            location: None,
        }
    }

    /// Appends an action to the order. The same action may appear several times; each
    /// appearance is its own position.
    pub fn then(mut self, action: Action<S, G>) -> Self {
        self.order.push(action);
        self
    }

    /// Appends several actions to the order.
    pub fn order(mut self, actions: impl IntoIterator<Item = Action<S, G>>) -> Self {
        self.order.extend(actions);
        self
    }

    /// Number of worker threads (default: the machine's available parallelism).
    /// `COMBTEST_THREADS` overrides it.
    pub fn threads(mut self, threads: usize) -> Self {
        self.settings.threads = Some(threads);
        self
    }

    /// Which final states the report hands back (default [`Gather::Off`]).
    pub fn gather_states(mut self, gather: Gather) -> Self {
        self.settings.gather = gather;
        self
    }

    /// Runs only the walks for which `keep` returns `true`; the others keep their ids and
    /// are counted as skipped. The filter sees whole walks before they run.
    pub fn filter(mut self, keep: impl Fn(&Walk<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Box::new(keep));
        self
    }

    /// Runs only these walk ids, written as `COMBTEST_WALKS` takes them (`"17,40-45"`).
    /// `COMBTEST_WALKS` overrides it.
    pub fn walks(mut self, ids: impl Into<String>) -> Self {
        self.settings.walks = Some(ids.into());
        self
    }

    /// Records where the test is, for replay commands. `combtest!` sets it.
    #[doc(hidden)]
    pub fn location(mut self, location: TestLocation) -> Self {
        self.location = Some(location);
        self
    }
}

impl<S, G> Combtest<S, G>
where
    S: Clone + Send + fmt::Debug + 'static,
    G: Sync + 'static,
{
    /// Runs every selected walk and reports what happened.
    ///
    /// Returns an error, before any walk runs, when the order or the settings cannot run
    /// (see [`Error`]). Failed walks are not errors: they are in the report.
    pub fn run(self) -> Result<Report<S>, Error> {
        let resolved = self.settings.resolve_from_env()?;
        self.run_resolved(resolved)
    }

    /// Runs like [`Combtest::run`], then panics with the failure report if a walk failed or
    /// if no walk ran, and with the error if the run could not start. This is what
    /// `combtest!` does.
    #[track_caller]
    pub fn run_or_panic(self) -> Report<S> {
        match self.run() {
            Err(error) => panic!("combtest: {error}"),
            Ok(report) if !report.is_success() => panic!("{report}"),
            Ok(report) => report,
        }
    }

    fn run_resolved(mut self, settings: Resolved) -> Result<Report<S>, Error> {
        let started = Instant::now();
        let plan = Plan::load(&self.order)?;
        let total = plan.space.total();
        let selection = match &settings.walks {
            Some((selection, source)) => {
                selection.check_range(total, source)?;
                check_fingerprints(&plan, selection)?;
                selection.clone()
            }
            None => WalkSelection::all(total),
        };
        let test = self.location.as_ref().map(TestLocation::test_name);
        let _run = tracing::info_span!("combtest", test = test.as_deref().unwrap_or("")).entered();
        tracing::info!(
            walks = selection.len(),
            total,
            threads = settings.threads,
            "combtest run starts"
        );

        let view = OrderView {
            names: plan.actions.iter().map(|a| &*a.name).collect(),
            params: plan.actions.iter().map(|a| a.params()).collect(),
        };
        let runner = WalkRunner {
            plan: &plan,
            view: &view,
            filter: self.filter.as_deref(),
            gather: settings.gather,
            location: self.location.as_ref(),
            // A single selected walk is a replay: let its panic print as usual.
            catcher: Catcher::new(selection.len() != 1),
        };
        let (threads, source) = (settings.threads, &self.state);
        let mut tally = if plan.serials.is_empty() {
            execute::stream(&runner, &selection, threads, source, &self.shared)
        } else {
            barrier::run(&runner, &selection, threads, source, &mut self.shared)
        };
        tally.failures.sort_unstable_by_key(|f| f.walk_id);
        tally.gathered.sort_unstable_by_key(|g| g.0);
        let (states, walks) = tally
            .gathered
            .into_iter()
            .map(|(_, state, summary)| (state, summary))
            .unzip::<_, _, Vec<S>, Vec<Option<WalkSummary>>>();
        let report = Report {
            test,
            total_walks: total,
            walk_count: tally.walks,
            error_count: tally.errors,
            cancel_count: tally.cancels,
            skipped_count: tally.skipped,
            segment_count: tally.segments,
            threads: settings.threads,
            elapsed: started.elapsed(),
            failures: tally.failures,
            states,
            walks: walks.into_iter().flatten().collect(),
            files: Vec::new(),
        };
        tracing::info!(
            walks = report.walk_count,
            failed = report.error_count,
            cancelled = report.cancel_count,
            skipped = report.skipped_count,
            elapsed = ?report.elapsed,
            "combtest run ends"
        );
        Ok(report)
    }
}

impl<S, G> fmt::Debug for Combtest<S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Combtest")
            .field("order", &self.order)
            .field("filter", &self.filter.is_some())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Refuses ids given with a fingerprint that no longer matches today's walk.
fn check_fingerprints<S, G>(plan: &Plan<S, G>, selection: &WalkSelection) -> Result<(), Error> {
    /// How far to look for the walk's new id; beyond it the error only says it moved.
    const SEARCH_LIMIT: u64 = 10_000_000;
    let mut options = vec![0; plan.actions.len()];
    for &(id, expected) in selection.pinned() {
        plan.space.decode(id, &mut options);
        let actual = plan.fingerprint(&options);
        if actual != expected {
            return Err(Error::StaleWalk {
                id,
                expected: expected.to_string(),
                actual: actual.to_string(),
                now_at: plan.find_fingerprint(expected, SEARCH_LIMIT),
            });
        }
    }
    Ok(())
}
