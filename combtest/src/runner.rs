//! The builder API and the execution of walks.
//!
//! `combtest!` is sugar over [`Combtest`]: both build an order of [`Action`]s, settings and a
//! state, then [`Combtest::run`] plans the walk space and runs every selected walk on the
//! worker pool.

use std::fmt;
use std::time::Instant;

use crate::action::Action;
use crate::covering;
use crate::execute::{self, Template, WalkRunner};
use crate::fast::Binder;
use crate::panic_capture::Catcher;
use crate::plan::Plan;
use crate::report::{Coverage, Report, TestLocation};
use crate::settings::{Covering, Gather, Resolved, Settings};
use crate::shard::{self, ShardResult};
use crate::trace::{self, RunDir, TraceSink, STATES_FILE, SUMMARY_FILE};
use crate::walk::{OrderView, Walk};
use crate::walk_id::WalkSelection;
use crate::{barrier, logging, progress, Error};

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
    /// Set by `combtest!`, which knows its order's types: binds it for static dispatch.
    binder: Option<Binder<S, G>>,
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
            binder: None,
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

    /// Verbosity of combtest's own `tracing` events: `0` warn, `1` info (run start and
    /// end), `2` debug (walks, serial actions, failures), `3` trace (every action and its
    /// param). `COMBTEST_VERBOSE` overrides it. When the test installed no subscriber,
    /// combtest installs one for the run that prints through the test's output capture, at
    /// this verbosity (warnings when none is given).
    pub fn verbose(mut self, level: u8) -> Self {
        self.settings.verbose = Some(level);
        self
    }

    /// Writes a trace of every walk, a summary and the gathered states into a new folder
    /// inside `dir` (created if missing). `COMBTEST_LOG_DIR` overrides it.
    pub fn log_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.settings.log_dir = Some(dir.into());
        self
    }

    /// Runs walks recorded in a trace file instead of the whole walk space: `path` (its
    /// failed walks), `path@all`, or `path@17,40-45` (ids as recorded). Each recorded param
    /// is matched by value against today's options. `COMBTEST_REPLAY` overrides it.
    pub fn replay(mut self, trace: impl Into<String>) -> Self {
        self.settings.replay = Some(trace.into());
        self
    }

    /// Shows or hides the progress display (default: shown on a terminal outside CI, for
    /// runs longer than a second). `COMBTEST_PROGRESS` overrides it.
    pub fn progress(mut self, show: bool) -> Self {
        self.settings.progress = Some(show);
        self
    }

    /// How to bind the order to statically known types. `combtest!` sets it.
    pub(crate) fn binder(mut self, binder: Binder<S, G>) -> Self {
        self.binder = Some(binder);
        self
    }

    /// Runs a t-wise covering array instead of the full product: a small set of walks in
    /// which every combination of options of any `strength` positions (2 to 6) appears at
    /// least once. Serial actions count as positions like any other.
    ///
    /// The walks keep their normal ids, so branches, `COMBTEST_WALKS`, replay and sharding
    /// work as usual (an explicit selection of walks takes precedence over the array). With
    /// a filter, only walks it allows are chosen; combinations that occur in no allowed walk
    /// are listed in `Report::coverage` as infeasible. The same order, options, filter and
    /// seed always give the same walks.
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[action(options = 0..10)]
    /// fn knob(n: u32, v: &mut Vec<u32>) { v.push(n); }
    ///
    /// let report = Combtest::new(Vec::new())
    ///     .order((0..6).map(|_| knob::action()))
    ///     .covering(2)
    ///     .run()
    ///     .unwrap();
    /// let coverage = report.coverage.unwrap();
    /// assert_eq!(coverage.full_product, 1_000_000);
    /// assert_eq!(coverage.covered, coverage.total); // every pair of options of every 2 knobs
    /// assert!(report.walk_count < 150);
    /// ```
    pub fn covering(mut self, strength: usize) -> Self {
        self.settings
            .covering
            .get_or_insert_with(Default::default)
            .strength = strength;
        self
    }

    /// Another seed gives another covering array of the same strength.
    pub fn covering_seed(mut self, seed: u64) -> Self {
        self.settings
            .covering
            .get_or_insert_with(Default::default)
            .seed = seed;
        self
    }

    /// A walk the covering array must include, given by its params (one JSON value per
    /// position of the order, matched by value against the options).
    pub fn must_include(mut self, params: Vec<serde_json::Value>) -> Self {
        self.settings
            .covering
            .get_or_insert_with(Default::default)
            .must_include
            .push(params);
        self
    }

    /// Runs only this shard's share of the walks (1-based, see [`Shard`](crate::Shard)).
    /// `COMBTEST_SHARD` overrides it.
    pub fn shard(mut self, shard: impl Into<crate::Shard>) -> Self {
        self.settings.shard = Some(shard.into());
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
        self.run_checked(true)
    }

    /// [`Combtest::run_or_panic`], or with `panic_on_failure` false, a run that panics only
    /// when it cannot start: `combtest!` with its `panic_on_failure` key.
    #[doc(hidden)]
    #[track_caller]
    pub fn run_checked(self, panic_on_failure: bool) -> Report<S> {
        match self.run() {
            Err(error) => panic!("combtest: {error}"),
            Ok(report) if panic_on_failure && !report.is_success() => panic!("{report}"),
            Ok(report) => report,
        }
    }

    fn run_resolved(self, settings: Resolved) -> Result<Report<S>, Error> {
        logging::with_run_subscriber(settings.verbose, || self.run_observed(settings))
    }

    fn run_observed(mut self, settings: Resolved) -> Result<Report<S>, Error> {
        let started = Instant::now();
        let level = logging::level_cap(settings.verbose);
        let plan = Plan::load(&self.order)?;
        let view = plan.view();
        let total = plan.space.total();
        let mut coverage = None;
        let selection = match (&settings.replay, &settings.walks) {
            (Some(replay), _) => trace::replay_selection(&plan, replay)?,
            (None, Some((selection, source))) => {
                selection.check_range(total, source)?;
                check_fingerprints(&plan, selection)?;
                selection.clone()
            }
            (None, None) => match &settings.covering {
                Some(covering) => {
                    let (selection, summary) =
                        covering_selection(&plan, &view, self.filter.as_deref(), covering)?;
                    coverage = Some(summary);
                    selection
                }
                None => WalkSelection::all(total),
            },
        };
        // A shard runs the selected walks of its share.
        let (selection, unsharded) = match settings.shard {
            Some(shard) => {
                let share = shard::share_range(&plan, shard);
                (selection.intersect(&share), Some(selection))
            }
            None => (selection, None),
        };
        let test = self.location.as_ref().map(TestLocation::test_name);
        // The log directory is checked before any walk runs.
        let run_dir = match &settings.log_dir {
            Some(dir) => Some(RunDir::create(dir, test.as_deref())?),
            None => None,
        };
        let sink = run_dir.as_ref().map(TraceSink::create).transpose()?;
        let _run = tracing::info_span!("combtest", test = test.as_deref().unwrap_or("")).entered();
        if level >= tracing::Level::INFO {
            tracing::info!(
                walks = selection.len(),
                total,
                threads = settings.threads,
                "combtest run starts"
            );
        }

        // Progress counts walks, or walk segments when walks stop at barriers.
        let (units, unit) = match plan.serials.len() {
            0 => (selection.len(), "walks"),
            _ => (
                selection.len() * plan.segments.len() as u64,
                "walk segments",
            ),
        };
        let (threads, source) = (settings.threads, &self.state);
        let (shared, filter) = (&mut self.shared, self.filter.as_deref());
        let fast = self.binder.as_deref().and_then(|bind| {
            let params: Vec<&dyn std::any::Any> =
                plan.actions.iter().map(|a| a.params().all()).collect();
            bind(&view.names, &params)
        });
        let mut tally = progress::with_progress(settings.progress, units, unit, |progress| {
            let runner = WalkRunner {
                plan: &plan,
                view: &view,
                filter,
                gather: settings.gather,
                location: self.location.as_ref(),
                // A single selected walk is a replay: let its panic print as usual.
                catcher: Catcher::new(selection.len() != 1),
                level,
                progress,
                fast: fast.as_deref(),
            };
            let buffer = || sink.as_ref().map(TraceSink::buffer);
            if plan.serials.is_empty() {
                execute::stream(&runner, &selection, threads, source, shared, buffer)
            } else {
                barrier::run(&runner, &selection, threads, source, shared, buffer())
            }
        });
        // Every trace buffer is flushed before the trace is closed.
        tally.trace = None;
        let mut files = Vec::new();
        if let Some(sink) = sink {
            files.push(sink.finish()?);
        }
        tally.failures.sort_unstable_by_key(|f| f.walk_id);
        tally.gathered.sort_unstable_by_key(|g| g.0);
        let mut ids = Vec::with_capacity(tally.gathered.len());
        let mut states = Vec::with_capacity(tally.gathered.len());
        let mut walks = Vec::new();
        for (id, state, summary) in tally.gathered {
            ids.push(id);
            states.push(state);
            walks.extend(summary);
        }
        let mut report = Report {
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
            walks,
            files,
            shard: settings.shard,
            coverage,
        };
        if let Some(dir) = &run_dir {
            if let (Some(shard), Some(unsharded)) = (settings.shard, &unsharded) {
                let result =
                    ShardResult::new(&plan, shard, unsharded, &selection, report.summary_view());
                let file = dir.write_json(&ShardResult::file_name(shard), &result)?;
                report.files.push(file);
            }
            write_run_files(dir, &mut report, &ids)?;
        }
        if level >= tracing::Level::INFO {
            tracing::info!(
                walks = report.walk_count,
                failed = report.error_count,
                cancelled = report.cancel_count,
                skipped = report.skipped_count,
                elapsed = ?report.elapsed,
                "combtest run ends"
            );
        }
        Ok(report)
    }
}

/// The walks of a covering array of the order, and what they cover.
fn covering_selection<S, G>(
    plan: &Plan<S, G>,
    view: &OrderView<'_>,
    filter: Option<&(dyn Fn(&Walk<'_>) -> bool + Send + Sync)>,
    covering: &Covering,
) -> Result<(WalkSelection, Coverage), Error> {
    let fail = |message: String| Error::Covering { message };
    if !(2..=6).contains(&covering.strength) {
        return Err(fail(format!(
            "strength {} is not between 2 and 6 (the full product is the default)",
            covering.strength
        )));
    }
    let sizes: Vec<usize> = plan.actions.iter().map(|a| a.params().len()).collect();
    if covering.strength > sizes.len() {
        return Err(fail(format!(
            "strength {} needs at least {} actions in the order, which has {}",
            covering.strength,
            covering.strength,
            sizes.len()
        )));
    }
    let must_include = covering
        .must_include
        .iter()
        .map(|params| plan.options_of(params).map_err(&fail))
        .collect::<Result<Vec<_>, _>>()?;
    let allowed = |row: &[usize]| {
        filter.is_none_or(|keep| {
            keep(&Walk {
                id: plan.space.encode(row),
                options: row,
                order: view,
            })
        })
    };
    let array = covering::Generator::new(&sizes, covering.strength)
        .seed(covering.seed)
        .must_include(must_include)
        .allowed(&allowed)
        .try_generate()
        .map_err(|e| fail(e.to_string()))?;
    let describe = |tuple: &covering::Tuple| {
        tuple
            .positions
            .iter()
            .zip(&tuple.options)
            .map(|(&p, &o)| {
                format!(
                    "{}({})",
                    plan.actions[p].name,
                    plan.actions[p].params().debug(o)
                )
            })
            .collect()
    };
    let coverage = Coverage {
        strength: covering.strength,
        walks: array.rows.len() as u64,
        covered: array.covered,
        total: array.total_tuples,
        full_product: plan.space.total(),
        infeasible: array.infeasible.iter().map(describe).collect(),
        unresolved: array.unresolved.iter().map(describe).collect(),
    };
    let ids = array
        .rows
        .iter()
        .map(|row| plan.space.encode(row))
        .collect();
    Ok((WalkSelection::from_ids(ids), coverage))
}

/// Writes the gathered states (if any) and the summary into the run's folder, and lists
/// them in the report. States are written as their `Debug` text, since the state type need
/// not be `Serialize`; `Report::states` holds the values themselves.
fn write_run_files<S: fmt::Debug>(
    dir: &RunDir,
    report: &mut Report<S>,
    ids: &[u64],
) -> Result<(), Error> {
    if !report.states.is_empty() {
        let states: Vec<serde_json::Value> = ids
            .iter()
            .zip(&report.states)
            .map(|(id, state)| serde_json::json!({ "walk_id": id, "state": format!("{state:?}") }))
            .collect();
        report.files.push(dir.write_json(STATES_FILE, &states)?);
    }
    report.files.push(dir.path.join(SUMMARY_FILE));
    dir.write_json(SUMMARY_FILE, &report.summary_view())?;
    Ok(())
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
