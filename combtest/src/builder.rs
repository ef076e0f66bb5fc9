//! The builder API, and a run in four phases: select the walks, execute them, assemble the
//! report, write the outputs.
//!
//! `combtest!` is sugar over [`Combtest`]: both build an order of [`Action`]s, settings and a
//! state, then [`Combtest::run`] plans the walk space and runs every selected walk on the
//! worker pool.

use std::cell::Cell;
use std::fmt;
use std::ops::Range;
use std::time::Instant;

use crate::config::env::{ENV_BLOCK, ENV_TIMEOUT};
use crate::config::log_dir;
use crate::config::shard::{share_range, Shard};
use crate::config::{Covering, Gather, Resolved, Settings};
use crate::covering;
use crate::engine::abort::{self, AbortNotice};
use crate::engine::budget;
use crate::engine::compiled::Binder;
use crate::engine::executors::Executors;
use crate::engine::failure_record::param_debug;
use crate::engine::gathered::IdRuns;
use crate::engine::id_order;
use crate::engine::unwind::Catcher;
use crate::engine::watchdog::{self, Watch};
use crate::engine::{stream, AsyncLimits, Tally, WalkRunner};
use crate::error::Error;
use crate::model::action::Action;
use crate::model::outcome::{Failure, Outcome, WalkSummary};
use crate::model::plan::{OrderFacts, Plan};
use crate::model::state::{IntoStateSource, StateSource};
use crate::model::walk::{OrderView, Walk, PARTIAL_WALK_ID, UNCHOSEN};
use crate::model::walk_id::{WalkSelection, WalkSpace};
use crate::output::analysis::cancels::StoppedRoom;
use crate::output::analysis::confirm;
use crate::output::analysis::data::Evidence;
use crate::output::analysis::run::{self, FilterAnswers, RunView};
use crate::output::replay::{
    check_fingerprints, replay_command, replay_run_command, replay_selection, set_in_replays,
};
use crate::output::report::{self, capped, Coverage, Report, SHOWN_GROUPS};
use crate::output::shard::ShardResult;
use crate::output::test_location::{RunLocation, TestLocation};
use crate::output::trace::{states_json, RunDir, TraceSink};
use crate::output::{html, junit};
use crate::output::{logging, progress};

type Filter = Box<dyn Fn(&Walk<'_>) -> bool + Send + Sync>;
/// Judges whole or partial walks: `Some(false)` rules out every walk holding the options.
type PartialJudge = dyn Fn(&Walk<'_>) -> Option<bool> + Send + Sync;
type PartialFilter = Box<PartialJudge>;
/// The rows of a covering array: each row's option at every position.
type CoveringRows = Vec<Vec<usize>>;

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
    /// Whether `filter` is also compiled into the order's kernel (`combtest!`'s `filter:`,
    /// see [`Combtest::compiled_filter`]): the compiled loops then call it directly.
    filter_compiled: bool,
    partial_filter: Option<PartialFilter>,
    settings: Settings,
    location: Option<TestLocation>,
    /// Set by `combtest!`, which knows its order's types: binds it for static dispatch.
    binder: Option<Binder<S, G>>,
    /// The executors the order may need beyond the stream of whole walks: set by
    /// `combtest!` for what its order needs, and in full by the public ways to run.
    executors: Executors<S, G>,
}

impl<S> Combtest<S, ()> {
    /// A combtest without shared context. `state` is a value (cloned per walk) or a
    /// [`StateSource::factory`].
    pub fn new(state: impl IntoStateSource<S>) -> Self {
        Combtest::with_shared(state, ())
    }
}

impl<S, G> Combtest<S, G> {
    /// A combtest whose actions also get `&G`, one value for the whole run, and whose
    /// serial actions get `&mut G`.
    ///
    /// `shared` is the context itself, or a borrow of one the caller keeps: `&pool` when
    /// only actions read it, `&mut app` when serial actions change it. A borrow need not be
    /// `'static` (see [`Lend`](crate::Lend)). An `#[action]` function that takes `&Pool`
    /// fits either way; an action built by hand with [`Action::new`] gets `&G` as given
    /// (`&&Pool` for `&pool`).
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[derive(Debug, Default)]
    /// struct Pool { size: usize }
    ///
    /// #[action(options = [1, 2])]
    /// fn check_out(n: usize, taken: &mut Vec<usize>, pool: &Pool) {
    ///     assert!(n <= pool.size);
    ///     taken.push(n);
    /// }
    ///
    /// let pool = Pool { size: 2 };
    /// let report = Combtest::with_shared(Vec::new(), &pool)
    ///     .then(check_out::action())
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(report.walk_count, 2);
    /// assert_eq!(pool.size, 2); // still the caller's
    /// ```
    pub fn with_shared(state: impl IntoStateSource<S>, shared: G) -> Self {
        Combtest {
            state: state.into_state_source(),
            shared,
            order: Vec::new(),
            filter: None,
            filter_compiled: false,
            partial_filter: None,
            settings: Settings::default(),
            location: None,
            binder: None,
            executors: Executors::default(),
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

    /// Number of worker threads (default: the machine's available parallelism, shared with
    /// the other combtest runs of the process that run at the same time: libtest runs tests
    /// in parallel, and each then gets a share of the cores, at least one). Threads set here
    /// or by `COMBTEST_THREADS` are used as set, at most 1024. `Report::threads` says how
    /// many ran.
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
    ///
    /// Running the walks asks it about each walk once, in id order on each worker thread; a
    /// worker may ask about up to 4,096 walks before running the first of them (a stretch
    /// of walks it keeps runs without a question between them), so the filter's answer
    /// should depend on the walk, not on what earlier walks did (a filter that panics on a
    /// walk ends the run, before the walks asked about with it have run).
    /// Beyond that, a covering array asks it while the array is built; and when it removed
    /// walks, it is asked once more about each selected walk after the run, to know which
    /// ran: the failure analysis, the walks that confirm causes and a shard's list of the
    /// walks it removed all read those answers.
    pub fn filter(mut self, keep: impl Fn(&Walk<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Box::new(keep));
        self.filter_compiled = false;
        self
    }

    /// The run's filter, which the binder (set next) also compiles into the order's kernel:
    /// `combtest!`'s `filter:`. The builder asks it wherever the compiled loops do not.
    pub(crate) fn compiled_filter(mut self, keep: Filter) -> Self {
        self.filter = Some(keep);
        self.filter_compiled = true;
        self
    }

    /// A filter that can also judge partial walks: it answers `Some(false)` when no walk
    /// holding the options chosen so far may run, `Some(true)` when every such walk may, and
    /// `None` while it cannot tell. On a partial walk, [`Walk::param`] of a position not
    /// chosen yet is `None` ([`Walk::is_chosen`] says which are).
    ///
    /// On whole walks it filters like [`Combtest::filter`] (a walk runs unless it answers
    /// `Some(false)`; with both, a walk must pass both), and is asked again where that filter
    /// is, so its answer too should depend only on the walk. What it adds is for covering arrays:
    /// the generator asks it while it builds walks, and proves a combination infeasible from
    /// the combination alone, where a whole-walk filter can only be asked about every walk
    /// holding it (and past 2^20 of them leaves the combination unresolved).
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[action(options = [false, true])]
    /// fn switch(on: bool, v: &mut Vec<bool>) { v.push(on); }
    ///
    /// // At most one of 24 switches is on.
    /// let at_most_one = |walk: &Walk| {
    ///     let on = (0..walk.len()).filter(|&p| walk.param::<bool>(p) == Some(&true)).count();
    ///     if on > 1 { Some(false) } else { None }
    /// };
    /// let report = Combtest::new(Vec::new())
    ///     .order((0..24).map(|_| switch::action()))
    ///     .partial_filter(at_most_one)
    ///     .covering(2)
    ///     .covering_strict(true)
    ///     .run()
    ///     .unwrap();
    /// let coverage = report.coverage.unwrap();
    /// assert_eq!(coverage.infeasible.len(), 24 * 23 / 2); // both of two switches on
    /// assert_eq!(coverage.covered + 276, coverage.total);
    /// ```
    pub fn partial_filter(
        mut self,
        judge: impl Fn(&Walk<'_>) -> Option<bool> + Send + Sync + 'static,
    ) -> Self {
        self.partial_filter = Some(Box::new(judge));
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
    /// inside `dir` (created if missing). `COMBTEST_LOG_DIR` overrides it. A relative `dir`
    /// is taken from the workspace root of the package whose test runs (the nearest folder
    /// at or above its `CARGO_MANIFEST_DIR` whose `Cargo.toml` has a `[workspace]` table), so
    /// `target/combtest` is one folder for every package of a workspace.
    pub fn log_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.settings.log_dir = Some(dir.into());
        self
    }

    /// Runs walks recorded in a trace instead of the whole walk space: `path` (its failed
    /// walks), `path@all`, or `path@17,40-45` (ids as recorded), where `path` is a run's
    /// folder in the log directory or the `trace.jsonl` inside it. Each recorded param
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

    /// How long a walk may run (per stretch between serial actions; a serial action is not
    /// timed out, only named when it runs past it). `COMBTEST_TIMEOUT` overrides it (`30s`,
    /// `500ms`, `2m`), and a replay command printed by a run whose timeout came from it sets
    /// it again. A zero timeout is an error before any walk runs, as `COMBTEST_TIMEOUT=0` is.
    ///
    /// An async action still running at the timeout is dropped and the walk fails, "timed
    /// out after ... in action(param)". A sync walk is checked after each action and fails
    /// if its time is up; one that does not come back is named as it happens, and one still
    /// running two seconds (or one more timeout) later ends the test process with the report
    /// of every walk that ended: see "Walks that run too long" in the crate docs.
    ///
    /// ```
    /// use combtest::prelude::*;
    /// use std::time::Duration;
    ///
    /// #[action(options = [1u64, 2])]
    /// fn wait(millis: u64, waited: &mut u64) {
    ///     std::thread::sleep(Duration::from_millis(millis));
    ///     *waited += millis;
    /// }
    ///
    /// let report = Combtest::new(0u64)
    ///     .then(wait::action())
    ///     .timeout(Duration::from_secs(10))
    ///     .run()
    ///     .expect("a valid order");
    /// assert_eq!(report.walk_count, 2);
    /// ```
    pub fn timeout(mut self, limit: std::time::Duration) -> Self {
        self.settings.timeout = Some(limit);
        self
    }

    /// How many async walks each worker thread keeps in flight (default 64): walks that wait
    /// on I/O or timers do not hold a thread each. `COMBTEST_CONCURRENCY` overrides it.
    /// Orders without async actions run one walk per thread at a time.
    pub fn concurrency(mut self, walks: usize) -> Self {
        self.settings.concurrency = Some(walks);
        self
    }

    /// How to bind the order to statically known types. `combtest!` sets it.
    pub(crate) fn binder(mut self, binder: Binder<S, G>) -> Self {
        self.binder = Some(binder);
        self
    }

    /// The executors the order may need beyond the stream of whole walks. `combtest!` sets
    /// them from its order's types.
    pub(crate) fn executors(mut self, executors: Executors<S, G>) -> Self {
        self.executors = executors;
        self
    }

    /// Which executors are set: (serial, async).
    #[cfg(test)]
    pub(crate) fn executors_set(&self) -> (bool, bool) {
        (
            self.executors.serial.is_some(),
            self.executors.asynchronous.is_some(),
        )
    }

    /// Runs a t-wise covering array instead of the full product: a small set of walks in
    /// which every combination of options of any `strength` positions (2 to 6) appears at
    /// least once. Serial actions count as positions like any other.
    ///
    /// The walks keep their normal ids, so branches, `COMBTEST_WALKS`, replay and sharding
    /// work as usual (an explicit selection of walks takes precedence over the array). When
    /// the full product does not fit a `u64`, the walks are numbered by their row in the
    /// array instead (the same order, options, filter and seed give the same array, so ids
    /// still replay and shard); such an order may not have serial actions, and its filter
    /// sees walk id `u64::MAX` while the array is chosen, since the walks have no id yet. With
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
            .strength = Some(strength);
        self
    }

    /// Another seed gives another covering array of the same strength. Like
    /// [`covering_strict`](Self::covering_strict) and [`must_include`](Self::must_include),
    /// it shapes the array [`covering`](Self::covering) asks for: given without `covering`,
    /// it is an error before any walk runs ([`Error::Covering`]), not ignored.
    pub fn covering_seed(mut self, seed: u64) -> Self {
        self.settings
            .covering
            .get_or_insert_with(Default::default)
            .seed = seed;
        self
    }

    /// Whether combinations the covering array could neither cover nor prove infeasible are
    /// an error (`true`) or a warning (`false`, the default).
    ///
    /// With a filter, the generator looks for an allowed walk holding each combination; when
    /// the walks holding it are too many to search and random samples find none allowed, the
    /// combination is *unresolved*: maybe infeasible, maybe merely hard to find. Every run
    /// warns about unresolved combinations (a `tracing` warning, a count in
    /// [`Report::summary`] and a line in the failure report, the combinations in
    /// `Report::coverage`); a strict run fails with [`Error::Covering`] before any walk runs.
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[action(options = [false, true])]
    /// fn switch(on: bool, v: &mut Vec<bool>) { v.push(on); }
    ///
    /// // At most one of 24 switches is on, said about whole walks only: the generator cannot
    /// // tell which pairs of switches both on are infeasible.
    /// let at_most_one = |walk: &Walk| {
    ///     (0..walk.len()).filter(|&p| walk.param::<bool>(p) == Some(&true)).count() <= 1
    /// };
    /// let error = Combtest::new(Vec::new())
    ///     .order((0..24).map(|_| switch::action()))
    ///     .filter(at_most_one)
    ///     .covering(2)
    ///     .covering_strict(true)
    ///     .run()
    ///     .unwrap_err();
    /// assert!(error.to_string().contains("unresolved"));
    /// ```
    pub fn covering_strict(mut self, strict: bool) -> Self {
        self.settings
            .covering
            .get_or_insert_with(Default::default)
            .strict = strict;
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

    /// Also writes the run's JUnit XML to `path` (with a log directory, `junit.xml` is
    /// written into the run's folder anyway). `COMBTEST_JUNIT` overrides it. A path that
    /// cannot be written is an error before any walk runs ([`Error::OutputFile`]), so that a
    /// CI job does not lose its results to a warning.
    pub fn junit(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.settings.junit = Some(path.into());
        self
    }

    /// Whether to group the failures and find their causes after the run (default `true`).
    /// Without it, `Report::groups` stays empty and the failure report shows the first
    /// failed walks one by one; all are in `Report::failures`. The analysis reads only the failed
    /// walks when every walk of the space ran, and visits the walks that ran once more
    /// otherwise.
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[action(options = 0..10)]
    /// fn knob(n: u32, _: &mut ()) -> Result<(), String> {
    ///     if n == 3 { Err("three".into()) } else { Ok(()) }
    /// }
    ///
    /// let report = Combtest::new(()).then(knob::action()).explain_failures(false).run().unwrap();
    /// assert_eq!(report.error_count, 1);
    /// assert!(report.groups.is_empty());
    /// ```
    pub fn explain_failures(mut self, explain: bool) -> Self {
        self.settings.skip_analysis = !explain;
        self
    }

    /// When only part of the walk space ran (a covering array, a filter, a selection, a
    /// shard), runs up to `budget` extra walks that separate the suspected causes, in two
    /// rounds:
    /// - isolation: each failure group's first walk is run again with one position changed
    ///   at a time (to the next option the filter allows, twice); the positions whose change
    ///   makes the walk pass are the ones that matter, and their choices become the group's
    ///   first suspect. This finds a cause of any size, where the ranked suspects are
    ///   combinations of 1 to 3 choices that only look alike in the walks that ran;
    /// - confirmation: for each suspect, a few walks that have its choices and had not run.
    ///   A suspect is confirmed when all of them fail the way its group did, refuted by the
    ///   first that passes ([`Cause::confirmation`](crate::Cause::confirmation)); walks
    ///   cancelled or failing another way say nothing. Confirmed suspects are listed first.
    ///
    /// The extra walks are not counted in the report's other counts
    /// ([`Evidence::confirmation_walks`](crate::Evidence) counts them). A replay, or a run of
    /// walks listed by id (`COMBTEST_WALKS`), runs exactly those walks and confirms nothing.
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[action(options = 0..6)]
    /// fn knob(n: u32, v: &mut Vec<u32>) -> Result<(), String> {
    ///     v.push(n);
    ///     if v.len() == 5 && v[1] == 4 { Err("knob 1 at 4".into()) } else { Ok(()) }
    /// }
    ///
    /// let report = Combtest::new(Vec::new())
    ///     .order((0..5).map(|_| knob::action()))
    ///     .covering(2)
    ///     .confirm_causes(50)
    ///     .run()
    ///     .unwrap();
    /// let best = &report.groups[0].causes[0];
    /// assert_eq!(best.to_string(), "knob#2(4)");
    /// assert!(best.confirmation.as_ref().unwrap().confirmed());
    /// ```
    pub fn confirm_causes(mut self, budget: u64) -> Self {
        self.settings.confirm_causes = Some(budget);
        self
    }

    /// Runs only this shard's share of the walks (1-based, see [`Shard`](crate::Shard)).
    /// `COMBTEST_SHARD` overrides it.
    pub fn shard(mut self, shard: impl Into<Shard>) -> Self {
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
    S: Send + fmt::Debug + 'static,
    G: Sync,
{
    /// Runs every selected walk and reports what happened.
    ///
    /// Returns an error, before any walk runs, when the order or the settings cannot run
    /// (see [`Error`]). Failed walks are not errors: they are in the report.
    pub fn run(self) -> Result<Report<S>, Error> {
        self.run_and_return_shared().0
    }

    /// Runs like [`Combtest::run`] and hands the shared context back, as the serial actions
    /// left it, whether the run ran or could not start.
    ///
    /// A context lent to the run (`Combtest::with_shared(state, &mut app)`, or
    /// `shared: &mut app` in `combtest!`) is the caller's again after the run without this.
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[derive(Debug, Default)]
    /// struct Server { restarts: Vec<u32> }
    ///
    /// #[action(options = [1, 2])]
    /// fn request(n: u32, log: &mut Vec<u32>) { log.push(n); }
    ///
    /// #[serial_action(options = [7, 8])]
    /// fn restart(version: u32, server: &mut Server) { server.restarts.push(version); }
    ///
    /// let (report, server) = Combtest::with_shared(Vec::new(), Server::default())
    ///     .then(request::action())
    ///     .then(restart::action())
    ///     .run_and_return_shared();
    /// assert_eq!(report.unwrap().walk_count, 4);
    /// assert_eq!(server.restarts, [7, 8]);
    /// ```
    pub fn run_and_return_shared(mut self) -> (Result<Report<S>, Error>, G) {
        // An order built at run time may need any executor.
        self.executors = Executors::all();
        self.run_with_executors()
    }

    /// Runs with the executors already set: all of them, or, from `combtest!`, those its
    /// order needs.
    fn run_with_executors(mut self) -> (Result<Report<S>, Error>, G) {
        // Decided here, on the thread that started the run: libtest names a test's thread
        // after the test, and the workers' threads know nothing of it.
        let location = RunLocation::resolve(self.location.as_ref(), std::thread::current().name());
        let run_of_test = location.count_run();
        let report = self
            .settings
            .resolve_from_env(run_of_test)
            .and_then(|resolved| self.run_resolved(resolved, location, run_of_test));
        (report, self.shared)
    }

    /// Runs like [`Combtest::run`], then panics with the failure report if a walk failed or
    /// if no walk ran, and with the error if the run could not start. This is what
    /// `combtest!` does.
    #[track_caller]
    pub fn run_or_panic(mut self) -> Report<S> {
        self.executors = Executors::all();
        self.run_checked(true)
    }

    /// [`Combtest::run_or_panic`], or with `panic_on_failure` false, a run that panics only
    /// when it cannot start: `combtest!` with its `panic_on_failure` key.
    #[doc(hidden)]
    #[track_caller]
    pub fn run_checked(self, panic_on_failure: bool) -> Report<S> {
        match self.run_with_executors().0 {
            Err(error) => panic!("combtest: {error}"),
            Ok(report) if panic_on_failure && !report.is_success() => {
                // The text is written without the states, by code compiled once in this
                // crate; the states stay alive until the panic unwinds, as before.
                let (report, _states) = report.set_states_aside();
                panic!("{}", report::failure_text(&report))
            }
            Ok(report) => report,
        }
    }

    fn run_resolved(
        &mut self,
        settings: Resolved,
        location: RunLocation,
        run_of_test: u32,
    ) -> Result<Report<S>, Error> {
        logging::with_run_subscriber(settings.verbose, || {
            self.run_observed(settings, location, run_of_test)
        })
    }

    fn run_observed(
        &mut self,
        mut settings: Resolved,
        mut location: RunLocation,
        run_of_test: u32,
    ) -> Result<Report<S>, Error> {
        let started = Instant::now();
        let level = logging::level_cap(settings.verbose);
        let mut plan = Plan::load(&self.order)?;
        if settings
            .covering
            .as_ref()
            .is_some_and(|c| c.strength.is_none())
        {
            // Checked whatever selects the walks (a replay or `COMBTEST_WALKS` too).
            return Err(no_strength());
        }
        #[cfg(not(feature = "async"))]
        if let Some(action) = plan.actions.iter().find(|action| action.is_async()) {
            return Err(Error::InvalidSetting {
                source: "the order".into(),
                value: action.name.to_string(),
                detail: "an async action needs combtest's `async` feature (on by default)".into(),
            });
        }
        self.check_executors(&plan)?;
        let filters = (self.filter.as_ref(), self.partial_filter.as_ref());
        let mut numbered = None;
        if plan.space.is_unnumbered() {
            let rows = covering_numbering(&plan, &plan.view(), filters, &settings)?;
            if let Some((rows, coverage)) = rows {
                plan.space = WalkSpace::rows(rows);
                numbered = Some(coverage);
            }
        }
        if settings.log_dir.is_some() {
            // The trace writes each param's `Debug` beside its JSON, as the summary does: made
            // once here, into the texts failures share.
            let debug: Vec<Vec<String>> = (0..plan.actions.len())
                .map(|position| {
                    (0..plan.option_json[position].len())
                        .map(|option| param_debug(&plan, position, option).to_string())
                        .collect()
                })
                .collect();
            plan.describe_steps(&debug);
        }
        let view = plan.view();
        let selected = select_walks(&plan, &view, filters, &settings, numbered)?;
        if run_of_test > 1 {
            // The walks a replay selects are this run's, not the test's first.
            set_in_replays(&mut location, ENV_BLOCK, &run_of_test.to_string());
        }
        if let Some(timeout) = &settings.timeout_from_env {
            set_in_replays(&mut location, ENV_TIMEOUT, timeout);
        }
        let test = location.test_name.clone();
        // Before the run folder is made, so that a run that cannot start leaves none.
        if let Some(path) = &settings.junit {
            junit::check_writable(path)?;
        }
        // The log directory is checked before any walk runs.
        let run_dir = match &settings.log_dir {
            Some(dir) => {
                // The package whose test runs, as cargo tells it; else the block's own.
                let package = std::env::var_os("CARGO_MANIFEST_DIR")
                    .map(std::path::PathBuf::from)
                    .or_else(|| {
                        let location = self.location.as_ref()?;
                        Some(std::path::PathBuf::from(location.manifest_dir))
                    });
                let dir = log_dir::anchored(dir, package.as_deref());
                Some(RunDir::create(&dir, test.as_deref())?)
            }
            None => None,
        };
        let sink = run_dir
            .as_ref()
            .map(|dir| TraceSink::create(dir, &plan))
            .transpose()?;
        let _run = enter_run_span(test.as_deref());
        // Runs at once in this process share the machine (see `engine::budget`).
        let lease = budget::lease(settings.threads, settings.threads_told);
        settings.threads = lease.threads();
        if level >= tracing::Level::INFO {
            log_run_starts(selected.walks.len(), plan.space.total(), settings.threads);
        }
        // A single selected walk is a replay: its panic prints as usual.
        let quiet = selected.walks.len() != 1;
        let walks = &selected.walks;
        let mut tally = self.execute(
            &plan,
            &view,
            walks,
            &settings,
            &location,
            sink.as_ref(),
            quiet,
        );
        let mut cancels = std::mem::take(&mut tally.cancel_reasons);
        let cancelled = cancels.take_walks();
        let coverage = selected.coverage.clone();
        // From here on the report is made without the gathered states, set aside until the
        // end: what follows is compiled once in this crate, not once per state type.
        let (mut report, states, ids) =
            assemble_report(tally, &plan, &settings, test, coverage, started);
        // Kept for every view of the run below (the analysis, the confirming walks, the
        // shard's list of skipped walks): the filters are asked once more in all about the
        // walks they removed (see `by_answers!` in `output/analysis/run.rs`).
        let answers = FilterAnswers::new();
        if !settings.skip_analysis {
            let param = |p: usize, o: usize| param_text(&plan, p, o);
            let run = run_view(&plan, &view, self.filters(), &selected, &param, &answers);
            run::explain(&run, cancels, &cancelled, &mut report);
            // A replay or an explicit list of walks runs exactly those walks.
            let exact_selection = settings.walks.is_some() || settings.replay.is_some();
            if let Some(budget) = settings.confirm_causes.filter(|_| !exact_selection) {
                let run = (&plan, &view, &selected, &settings, &location);
                self.confirm_suspects(run, &answers, budget, (&mut report, &cancelled));
            }
        }
        if let Some(dir) = &run_dir {
            // The walks have run: a file that cannot be written is reported beside their
            // outcomes, never instead of them.
            report.run_folder = Some(dir.path.clone());
            // A shard lists the walks its filters removed, so that a merge knows which ran.
            let skipped = (settings.shard.is_some() && report.skipped_count > 0)
                .then(|| {
                    let param = |p: usize, o: usize| param_text(&plan, p, o);
                    let run = run_view(&plan, &view, self.filters(), &selected, &param, &answers);
                    run.skipped(MOST_SKIPPED_RANGES)
                })
                .flatten()
                // A filter that answers otherwise when asked again (one that samples, say)
                // lists other walks than it removed: such a list is not written.
                .filter(|listed| {
                    listed.iter().map(|r| r.end - r.start).sum::<u64>() == report.skipped_count
                });
            let run = (&*plan, &settings, &selected, &location);
            let states = (!states.is_empty()).then(|| states_json(ids.iter(), &states));
            write_outputs(dir, sink, run, &mut report, states, (skipped, &cancelled));
        }
        finish_report(&mut report, &settings, level);
        Ok(report.with_states(states))
    }

    /// The run's filters, as walks pass them.
    fn filters(&self) -> run::Filters<'_> {
        filters_of(&self.filter, &self.partial_filter)
    }

    /// Refuses an order whose executor was not set: an order with serial or async actions
    /// ended by a way to run that sets only the executors of another order.
    fn check_executors(&self, plan: &Plan<S, G>) -> Result<(), Error> {
        let serial = !plan.serials.is_empty();
        let asynchronous = plan.actions.iter().any(|action| action.is_async());
        let missing = if serial && self.executors.serial.is_none() {
            Some("serial actions")
        } else if asynchronous && !serial && self.executors.asynchronous.is_none() {
            Some("async actions")
        } else {
            None
        };
        match missing {
            Some(kind) => Err(Error::InvalidSetting {
                source: "the order".into(),
                value: plan
                    .actions
                    .iter()
                    .map(|a| &*a.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                detail: format!(
                    "an order with {kind} needs their executor, which this way of running \
                     did not set; run it with `run`, `run_or_panic` or `combtest!`"
                ),
            }),
            None => Ok(()),
        }
    }

    /// Phase 3, last: runs up to `budget` walks that test the suspected causes (see
    /// [`Combtest::confirm_causes`]) in two rounds: each group's first walk with one
    /// position changed at a time, then the suspects. `run_cancelled` holds the run's
    /// cancelled walks with their positions, for the causes measured anew.
    fn confirm_suspects(
        &mut self,
        (plan, view, selected, settings, location): RunParts<'_, S, G>,
        answers: &FilterAnswers,
        mut budget: u64,
        (report, run_cancelled): (&mut Report<()>, &[(u64, usize)]),
    ) {
        let mut ran_already = Vec::new();
        let mut testing = Vec::new();
        let mut failed: Vec<Failure> = Vec::new();
        let mut cancelled: Vec<u64> = Vec::new();
        let param = |p: usize, o: usize| param_text(plan, p, o);
        for round in [confirm::Round::Isolate, confirm::Round::Suspects] {
            let run = run_view(plan, view, self.filters(), selected, &param, answers);
            let planned = (budget > 0)
                .then(|| {
                    let earlier = confirm::Earlier {
                        all: &ran_already,
                        testing: &testing,
                    };
                    confirm::plan_for_run(&run, report, budget, &earlier, round)
                })
                .flatten();
            let Some(extra) = planned else {
                return;
            };
            budget -= extra.ids.len() as u64;
            if !extra.ids.is_empty() {
                // The full gathering level says which extra walks were cancelled.
                let mut settings = settings.clone();
                settings.gather = Gather::Full;
                let selection = WalkSelection::from_ids(extra.ids.clone());
                let tally = self.execute(plan, view, &selection, &settings, location, None, true);
                failed.extend(tally.failures);
                id_order::failures(&mut failed);
                let cancels = tally.gathered.summaries.iter().filter_map(|summary| {
                    let cancel = matches!(summary.outcome, Outcome::Cancel { .. });
                    cancel.then_some(summary.walk_id)
                });
                cancelled.extend(cancels);
                cancelled.sort_unstable();
            }
            let run = run_view(plan, view, self.filters(), selected, &param, answers);
            let outcomes = confirm::Outcomes {
                failures: &failed,
                cancelled: &cancelled,
            };
            confirm::apply(&run, report, &extra, &outcomes, run_cancelled);
            report.evidence.confirmation_walks += extra.ids.len() as u64;
            ran_already.extend(&extra.ids);
            ran_already.sort_unstable();
            if round != confirm::Round::Isolate {
                testing.extend(&extra.ids);
                testing.sort_unstable();
            }
        }
    }

    /// Phase 2: runs the selected walks on the worker pool, with the executor the order
    /// needs (chosen once, here), and returns what the workers counted and kept. With
    /// `quiet_panics`, a panicking walk's panic is caught without printing.
    #[allow(clippy::too_many_arguments)]
    fn execute(
        &mut self,
        plan: &Plan<S, G>,
        view: &OrderView<'_>,
        selection: &WalkSelection,
        settings: &Resolved,
        location: &RunLocation,
        sink: Option<&TraceSink>,
        quiet_panics: bool,
    ) -> Tally<S> {
        // Progress counts walks, or walk segments when walks stop at barriers.
        let (units, unit) = match plan.serials.len() {
            0 => (selection.len(), "walks"),
            _ => (
                selection.len() * plan.segments.len() as u64,
                "walk segments",
            ),
        };
        let (threads, source) = (settings.threads, &self.state);
        let filters = filters_of(&self.filter, &self.partial_filter);
        // On whole walks, the partial filter filters like the other: a walk must pass both.
        let both = move |walk: &Walk<'_>| filters.keep(walk);
        // A filter alone is asked directly: walks ask it one by one, in the hot loop.
        let filter: Option<run::FilterFn<'_>> = match (filters.whole, filters.partial) {
            (Some(keep), None) => Some(keep),
            (None, None) => None,
            _ => Some(&both),
        };
        let shared = &mut self.shared;
        // An order with async actions runs on the async executor; the compiled kernel is for
        // sync orders.
        let asynchronous = plan
            .actions
            .iter()
            .any(|action| action.is_async())
            .then_some(AsyncLimits {
                // When panics abort, a worker runs one walk at a time, so that the panic that
                // ends the process is pinned to its walk (see `engine::abort`).
                concurrency: if abort::PANICS_ABORT {
                    1
                } else {
                    settings.concurrency
                },
                timeout: settings.timeout,
            });
        // The compiled loops run ids in odometer order: not the rows of a covering array that
        // numbered the walks of a space past 2^64.
        let compiled = (asynchronous.is_none() && plan.space.is_odometer())
            .then_some(())
            .and(self.binder.as_deref())
            .and_then(|bind| {
                let params: Vec<&dyn std::any::Any> = plan
                    .actions
                    .iter()
                    .map(|a| a.params().all() as &dyn std::any::Any)
                    .collect();
                bind(&view.names, &params)
            });
        // Walks are watched: a walk running long is named, and a run a stuck walk would hang
        // ends (`engine::watchdog`). An async walk is watched poll by poll: its timeout drops
        // it when it waits, the watchdog names it when it blocks its worker.
        // An order of regular, synchronous actions runs on the stream of whole walks; any
        // other on the executor it set (see `engine::executors`), checked before any walk ran.
        let executor = match (plan.serials.is_empty(), asynchronous) {
            (true, None) => None,
            (true, Some(_)) => self.executors.asynchronous,
            (false, _) => self.executors.serial,
        };
        let watch = Watch::new(threads, settings.timeout);
        // Walks held across serial actions are recorded when the run ends: a run the watchdog
        // ends has no record of them to save.
        if let Some(sink) = sink.filter(|_| plan.serials.is_empty()) {
            let saver = sink.saver();
            let folder = saver.path().parent().unwrap_or(saver.path()).to_path_buf();
            let replay = replay_run_command(location, &folder);
            watch.before_exit(Box::new(move || {
                let trace = saver.path().display();
                if saver.save_now(SAVING_THE_TRACE) {
                    format!(
                        "Every walk that ended is in the trace {trace}; its failed walks run \
                         again with:\n  {replay}"
                    )
                } else {
                    format!(
                        "The trace {trace} may lack walks that ended: its writer did not take \
                         them within {SAVING_THE_TRACE:?}."
                    )
                }
            }));
        }
        let label = location.test_name.as_deref();
        let mut tally =
            progress::with_progress(settings.progress, label, units, unit, |progress| {
                let runner = WalkRunner {
                    plan,
                    view,
                    filter,
                    // With a partial filter, the run's filter asks both: not the kernel's.
                    filter_compiled: self.filter_compiled && filters.partial.is_none(),
                    gather: settings.gather,
                    location,
                    catcher: Catcher::new(quiet_panics).with_notice(abort_notice(plan, location)),
                    level: logging::level_cap(settings.verbose),
                    progress,
                    compiled: compiled.as_deref(),
                    watch: &watch,
                    // The causes read the list, and a shard's merge reads it from the shard
                    // file, which is written only with a log directory.
                    stopped_room: StoppedRoom::new(
                        !settings.skip_analysis
                            || (settings.shard.is_some() && settings.log_dir.is_some()),
                    ),
                };
                let buffer = || sink.map(TraceSink::buffer);
                let run = || match executor {
                    None => stream::stream(&runner, selection, threads, source, shared, buffer),
                    Some(executor) => executor(
                        &runner,
                        selection,
                        threads,
                        source,
                        shared,
                        &buffer,
                        asynchronous,
                    ),
                };
                watchdog::watching(&watch, &runner, selection.len(), run)
            });
        // Every trace buffer is flushed before the trace is closed.
        tally.trace = None;
        tally
    }
}

/// When panics abort: the replay command of any walk of the run, for the panic hook to print
/// before the process dies. Made once per run and kept for the rest of the process, which
/// ends at the first panic anyway.
fn abort_notice(plan: &OrderFacts, location: &RunLocation) -> Option<&'static AbortNotice> {
    if !abort::PANICS_ABORT {
        return None;
    }
    let (space, fingerprint) = (plan.space.clone(), plan.fingerprinter());
    let (positions, location) = (plan.names.len(), location.clone());
    let notice: Box<AbortNotice> = Box::new(move |id| {
        let mut options = vec![0; positions];
        space.decode(id, &mut options);
        replay_command(&location, id, fingerprint(&options))
    });
    Some(Box::leak(notice))
}

/// The run as the analysis sees it.
fn run_view<'a>(
    plan: &'a OrderFacts,
    view: &'a OrderView<'a>,
    filters: run::Filters<'a>,
    selected: &'a Selected,
    param: &'a dyn Fn(usize, usize) -> String,
    answers: &'a FilterAnswers,
) -> RunView<'a> {
    RunView {
        plan,
        view,
        filters,
        walks: &selected.walks,
        covering: selected.coverage.as_ref().map(|c| c.strength),
        sharded: selected.unsharded.is_some(),
        param,
        answers,
    }
}

/// The filters a builder holds, as walks pass them (borrowing only these fields, so that a
/// run can hold them beside the shared context it lends out).
fn filters_of<'a>(
    whole: &'a Option<Filter>,
    partial: &'a Option<PartialFilter>,
) -> run::Filters<'a> {
    run::Filters {
        whole: whole.as_deref().map(|keep| keep as run::FilterFn<'_>),
        partial: partial.as_deref(),
    }
}

/// The text of option `option` of position `position`, as failures and traces show it.
fn param_text<S, G>(plan: &Plan<S, G>, position: usize, option: usize) -> String {
    param_debug(plan, position, option).to_string()
}

/// The most ranges of skipped walks a shard lists in its result (about 580 KB of JSON, at
/// about 58 bytes a range); past that, a merge of its shards names no causes.
const MOST_SKIPPED_RANGES: usize = 10_000;

/// How long a run that a stuck walk ends waits for its trace to take the records of the
/// walks that ended, before the process exits.
const SAVING_THE_TRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// What a run is made of, for the phases after the first execution.
type RunParts<'r, S, G> = (
    &'r Plan<S, G>,
    &'r OrderView<'r>,
    &'r Selected,
    &'r Resolved,
    &'r RunLocation,
);

/// The walks a run selected.
struct Selected {
    /// The walks this run runs.
    walks: WalkSelection,
    /// When this run is a shard: the walks all the shards of the run split.
    unsharded: Option<WalkSelection>,
    /// What the walks cover, when a covering array chose them.
    coverage: Option<Coverage>,
}

/// When the full product does not fit a `u64`, only a covering array can run the order:
/// its walks are numbered by their row in the array, before any walk is selected. Returns
/// the array's rows and what they cover, or `None` when the space is numbered already.
fn covering_numbering(
    plan: &OrderFacts,
    view: &OrderView<'_>,
    (filter, partial_filter): (Option<&Filter>, Option<&PartialFilter>),
    settings: &Resolved,
) -> Result<Option<(CoveringRows, Coverage)>, Error> {
    if !plan.space.is_unnumbered() {
        return Ok(None);
    }
    let Some(covering) = &settings.covering else {
        plan.space.check_numbered()?;
        return Ok(None);
    };
    if !plan.serials.is_empty() {
        return Err(Error::Covering {
            message: "a covering array of an order with more than 2^64 walks numbers its \
                      walks by row, which serial actions cannot branch on; split the order \
                      or run its serial actions as regular ones"
                .into(),
        });
    }
    covering_rows(
        plan,
        view,
        filter.map(|filter| &**filter),
        partial_filter.map(|judge| &**judge),
        covering,
    )
    .map(Some)
}

/// Phase 1: which walks run. A replay's recorded walks, an explicit selection, a
/// covering array, or every walk; then this shard's share of them.
fn select_walks(
    plan: &OrderFacts,
    view: &OrderView<'_>,
    (filter, partial_filter): (Option<&Filter>, Option<&PartialFilter>),
    settings: &Resolved,
    numbered: Option<Coverage>,
) -> Result<Selected, Error> {
    let total = plan.space.total();
    let mut coverage = None;
    let walks = match (&settings.replay, &settings.walks) {
        (Some(replay), _) => replay_selection(plan, replay)?,
        (None, Some((selection, source))) => {
            // A pinned id past today's walks is stale before it is out of range.
            check_fingerprints(plan, selection)?;
            selection.check_range(total, source)?;
            selection.clone()
        }
        (None, None) => match &settings.covering {
            // The array numbered the walks: every walk is one of its rows.
            Some(_) if numbered.is_some() => {
                coverage = numbered;
                WalkSelection::all(total)
            }
            Some(covering) => {
                let (selection, summary) = covering_selection(
                    plan,
                    view,
                    filter.map(|filter| &**filter),
                    partial_filter.map(|judge| &**judge),
                    covering,
                )?;
                coverage = Some(summary);
                selection
            }
            None => WalkSelection::all(total),
        },
    };
    // A shard runs the selected walks of its share.
    Ok(match settings.shard {
        Some(shard) => {
            let within = share_range(plan, shard);
            refuse_a_share_without_named_walks(settings, &walks, &within, shard)?;
            let share = walks.intersect(&within);
            Selected {
                walks: share,
                unsharded: Some(walks),
                coverage,
            }
        }
        None => Selected {
            walks,
            unsharded: None,
            coverage,
        },
    })
}

/// Refuses a shard that leaves out walks the run was asked for by name: a walk pinned to its
/// fingerprint (`17@98f3…`, as replay commands print it), or a walk a replay of a trace
/// names. Run where `COMBTEST_SHARD` is still set (a CI job's environment), a replay command
/// would otherwise run fewer walks than it names, or none, and pass. A range of ids without
/// fingerprints is a selection like any other: each shard runs its share of it, empty or not.
fn refuse_a_share_without_named_walks(
    settings: &Resolved,
    selected: &WalkSelection,
    within: &Range<u64>,
    shard: Shard,
) -> Result<(), Error> {
    /// Walks named in the error at most.
    const NAMED: usize = 5;
    let (left_out, count, source): (Vec<String>, u64, &str) =
        match (&settings.replay, &settings.walks) {
            (Some(replay), _) => {
                // The parts of the selected ranges before and after the shard's range.
                let outside: Vec<Range<u64>> = selected
                    .ranges()
                    .iter()
                    .flat_map(|r| {
                        [
                            r.start..r.end.min(within.start),
                            r.start.max(within.end)..r.end,
                        ]
                    })
                    .filter(|r| !r.is_empty())
                    .collect();
                let count = outside.iter().map(|r| r.end - r.start).sum();
                let ids = outside.into_iter().flatten().take(NAMED);
                (
                    ids.map(|id| id.to_string()).collect(),
                    count,
                    &replay.source,
                )
            }
            (None, Some((_, source))) => {
                let pinned = selected.pinned().iter();
                let left_out: Vec<String> = pinned
                    .filter(|(id, _)| !within.contains(id))
                    .map(|(id, fingerprint)| format!("{id}@{fingerprint}"))
                    .collect();
                let count = left_out.len() as u64;
                (left_out.into_iter().take(NAMED).collect(), count, source)
            }
            (None, None) => return Ok(()),
        };
    if count == 0 {
        return Ok(());
    }
    let more = count.saturating_sub(left_out.len() as u64);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let (walks, them) = if count == 1 {
        ("walk", "it")
    } else {
        ("walks", "them")
    };
    Err(Error::InvalidSetting {
        source: settings.shard_source.into(),
        value: format!("{}/{}", shard.index, shard.total),
        detail: format!(
            "this shard leaves out {walks} {}{more} that {source} names, which would not run; \
             unset {shard} to run {them}",
            left_out.join(", "),
            shard = settings.shard_source
        ),
    })
}

/// Enters the span of a run of the test `test`. This and the other steps of a run that do
/// not need the state are functions of their own, compiled once in this crate rather than
/// again for every state type a test uses.
fn enter_run_span(test: Option<&str>) -> tracing::span::EnteredSpan {
    tracing::info_span!("combtest", test = test.unwrap_or("")).entered()
}

/// The info event that starts a run.
fn log_run_starts(walks: u64, total: u64, threads: usize) {
    tracing::info!(walks, total, threads, "combtest run starts");
}

/// Writes the JUnit file if asked for, warns of every file that could not be written, and
/// logs the end of the run.
fn finish_report(
    report: &mut Report<()>,
    settings: &Resolved,
    level: tracing::level_filters::LevelFilter,
) {
    if let Some(path) = &settings.junit {
        match junit::write(report, path) {
            Ok(file) => report.files.push(file),
            Err(error) => report.output_errors.push(error.to_string()),
        }
    }
    for error in &report.output_errors {
        tracing::warn!(%error, "combtest could not write a file of the run");
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
}

/// Phase 3: the report of what the workers counted and kept, without the gathered states,
/// which are returned beside it sorted by walk id, with their ids (for the states file).
fn assemble_report<S>(
    mut tally: Tally<S>,
    plan: &OrderFacts,
    settings: &Resolved,
    test: Option<String>,
    coverage: Option<Coverage>,
    started: Instant,
) -> (Report<()>, Vec<S>, IdRuns) {
    let mut gathered = std::mem::take(&mut tally.gathered);
    gathered.sort_by_id();
    let (ids, states, walks) = gathered.into_columns();
    let counts = Counts {
        walks: tally.walks,
        errors: tally.errors,
        cancels: tally.cancels,
        skipped: tally.skipped,
        segments: tally.segments,
    };
    let report = report_of(
        counts,
        tally.failures,
        walks,
        plan,
        settings,
        test,
        coverage,
        started,
    );
    (report, states, ids)
}

/// What the workers counted.
struct Counts {
    walks: u64,
    errors: u64,
    cancels: u64,
    skipped: u64,
    segments: u64,
}

#[allow(clippy::too_many_arguments)]
fn report_of(
    counts: Counts,
    mut failures: Vec<Failure>,
    walks: Vec<WalkSummary>,
    plan: &OrderFacts,
    settings: &Resolved,
    test: Option<String>,
    coverage: Option<Coverage>,
    started: Instant,
) -> Report<()> {
    failures.sort_unstable_by_key(|f| f.walk_id);
    Report {
        test,
        total_walks: plan.space.total(),
        walk_count: counts.walks,
        error_count: counts.errors,
        cancel_count: counts.cancels,
        skipped_count: counts.skipped,
        segment_count: counts.segments,
        threads: settings.threads,
        elapsed: started.elapsed(),
        failures,
        groups: Vec::new(),
        evidence: Evidence::default(),
        cancels: Vec::new(),
        heat_maps: Vec::new(),
        states: Vec::new(),
        walks,
        files: Vec::new(),
        shard: settings.shard,
        coverage,
        output_errors: Vec::new(),
        run_folder: None,
        replay_failed: None,
    }
}

/// What a shard lists beside its report, for a merge: the ranges of walks its filter
/// removed (when it could list them) and its cancelled walks with their positions.
type ShardLists<'a> = (Option<Vec<Range<u64>>>, &'a [(u64, usize)]);

/// Phase 4: closes the trace and writes the run's other files into its folder: the shard
/// result, the gathered states and the summary, which with the failure report names the
/// command that replays the trace's failed walks. Lists the files written in the report, and
/// the ones that could not be written in its `output_errors`.
fn write_outputs(
    dir: &RunDir,
    sink: Option<TraceSink>,
    (plan, settings, selected, location): (&OrderFacts, &Resolved, &Selected, &RunLocation),
    report: &mut Report<()>,
    states: Option<Result<Vec<serde_json::Value>, String>>,
    (skipped, cancelled): ShardLists<'_>,
) {
    if let Some(sink) = sink {
        match sink.finish() {
            Ok(file) => {
                report.files.push(file);
                // The trace is whole: the failure report and the summary say how to replay
                // its failed walks.
                if report.error_count > 0 {
                    report.replay_failed = Some(replay_run_command(location, &dir.path));
                }
            }
            Err(error) => report.output_errors.push(error.to_string()),
        }
    }
    if let (Some(shard), Some(unsharded)) = (settings.shard, &selected.unsharded) {
        let result = ShardResult::new(
            plan,
            shard,
            unsharded,
            &selected.walks,
            report.summary_view(),
            skipped,
            cancelled.to_vec(),
        );
        match dir.write_compact_json(&ShardResult::file_name(shard), &result) {
            Ok(file) => report.files.push(file),
            Err(error) => report.output_errors.push(error.to_string()),
        }
    }
    for group in report.groups.iter_mut().take(SHOWN_GROUPS) {
        let failure = report
            .failures
            .binary_search_by_key(&group.representative, |f| f.walk_id)
            .ok()
            .map(|i| &report.failures[i]);
        if let Some(failure) = failure.filter(|f| capped(&f.state).1) {
            let name = format!("state-of-walk-{}.txt", failure.walk_id);
            match dir.write_text(&name, &failure.state) {
                Ok(file) => {
                    group.state_file = Some(file.clone());
                    report.files.push(file);
                }
                Err(error) => report.output_errors.push(error.to_string()),
            }
        }
    }
    let page = html::render(report);
    match dir.write_text(html::FILE, &page) {
        Ok(file) => report.files.push(file),
        Err(error) => report.output_errors.push(error.to_string()),
    }
    // Into the run folder as it is: a folder that went missing is not made again.
    match dir.write_text(junit::FILE, &junit::render(report)) {
        Ok(file) => report.files.push(file),
        Err(error) => report.output_errors.push(error.to_string()),
    }
    dir.write_run_files(report, states);
}

/// Unresolved combinations named in the warning and the strict error; the rest are counted.
const SHOWN_UNRESOLVED: usize = 5;

/// The walks of a covering array of the order, and what they cover.
fn covering_selection(
    plan: &OrderFacts,
    view: &OrderView<'_>,
    filter: Option<&(dyn Fn(&Walk<'_>) -> bool + Send + Sync)>,
    partial_filter: Option<&PartialJudge>,
    covering: &Covering,
) -> Result<(WalkSelection, Coverage), Error> {
    let (rows, coverage) = covering_rows(plan, view, filter, partial_filter, covering)?;
    let ids = rows.iter().map(|row| plan.space.encode(row)).collect();
    Ok((WalkSelection::from_ids(ids), coverage))
}

/// The error of a covering array's other settings given without `covering(strength)`.
fn no_strength() -> Error {
    Error::Covering {
        message: "`covering_seed`, `covering_strict` and `must_include` shape a covering array, \
                  which `covering(strength)` asks for; without it the run is the full product"
            .into(),
    }
}

/// The rows of a covering array of the order (each row a walk's options), and what they
/// cover.
fn covering_rows(
    plan: &OrderFacts,
    view: &OrderView<'_>,
    filter: Option<&(dyn Fn(&Walk<'_>) -> bool + Send + Sync)>,
    partial_filter: Option<&PartialJudge>,
    covering: &Covering,
) -> Result<(Vec<Vec<usize>>, Coverage), Error> {
    let fail = |message: String| Error::Covering { message };
    let Some(strength) = covering.strength else {
        return Err(no_strength());
    };
    if !(2..=6).contains(&strength) {
        return Err(fail(format!(
            "strength {} is not between 2 and 6 (the full product is the default)",
            strength
        )));
    }
    let sizes: Vec<usize> = view.params.iter().map(|params| params.len()).collect();
    if strength > sizes.len() {
        return Err(fail(format!(
            "strength {} needs at least {} actions in the order, which has {}",
            strength,
            strength,
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
            // Before an array numbers the walks of a space past 2^64, they have no id.
            let id = plan.space.find(row).unwrap_or(u64::MAX);
            keep(&Walk::new(id, row, view))
        })
    };
    // The generator marks the positions it has not chosen yet as `Walk` does.
    const _: () = assert!(covering::UNSET == UNCHOSEN);
    let judge = |row: &[usize]| {
        let judge = partial_filter.expect("only set with a partial filter");
        let complete = !row.contains(&covering::UNSET);
        // Before an array numbers the walks of a space past 2^64, they have no id.
        let id = if complete {
            plan.space.find(row).unwrap_or(u64::MAX)
        } else {
            PARTIAL_WALK_ID
        };
        judge(&Walk::new(id, row, view))
    };
    // Said here, where a walk can be written as the user's params (a `Walk` shows them):
    // the generator would say it with option indices.
    if let Some(refused) = must_include
        .iter()
        .find(|row| !allowed(row) || (partial_filter.is_some() && judge(row) == Some(false)))
    {
        let walk = Walk::new(plan.space.find(refused).unwrap_or(u64::MAX), refused, view);
        return Err(fail(format!(
            "a must-include walk {walk} is refused by the filter"
        )));
    }
    let mut generator = covering::Generator::new(&sizes, strength)
        .seed(covering.seed)
        .must_include(must_include)
        .allowed(&allowed);
    if partial_filter.is_some() {
        generator = generator.partial_constraint(&judge);
    }
    let array = generator.try_generate().map_err(|e| fail(e.to_string()))?;
    let describe = |tuple: &covering::Tuple| -> Vec<String> {
        tuple
            .positions
            .iter()
            .zip(&tuple.options)
            .map(|(&p, &o)| {
                crate::model::step_text::StepText {
                    name: view.names[p],
                    param: view.params[p].debug(o),
                }
                .to_string()
            })
            .collect()
    };
    if !array.unresolved.is_empty() {
        let shown: Vec<String> = array
            .unresolved
            .iter()
            .take(SHOWN_UNRESOLVED)
            .map(|tuple| describe(tuple).join(" "))
            .collect();
        let more = array.unresolved.len().saturating_sub(SHOWN_UNRESOLVED);
        let listed = match more {
            0 => shown.join(", "),
            _ => format!("{}, and {more} more", shown.join(", ")),
        };
        let what = format!(
            "{} of {} combinations are unresolved: no walk the filter allows was found for \
             them, and their walks are too many to prove there is none ({listed})",
            array.unresolved.len(),
            array.total_tuples
        );
        if covering.strict {
            return Err(fail(format!(
                "{what}; covering_strict asks for none (a covering constraint that judges \
                 partial walks settles them, see `Combtest::partial_filter`)"
            )));
        }
        tracing::warn!(
            unresolved = array.unresolved.len(),
            "{what}; these combinations are not covered (covering_strict makes this an error)"
        );
    }
    let coverage = Coverage {
        strength,
        walks: array.rows.len() as u64,
        covered: array.covered,
        total: array.total_tuples,
        full_product: sizes
            .iter()
            .try_fold(1u128, |product, &size| product.checked_mul(size as u128))
            .unwrap_or(u128::MAX),
        infeasible: array.infeasible.iter().map(describe).collect(),
        unresolved: array.unresolved.iter().map(describe).collect(),
    };
    Ok((array.rows, coverage))
}

/// What the state of a `combtest!` block must be, checked where the block gives it so that a
/// state that cannot run is reported on the state, with why.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the state of a combtest run",
    label = "this state must be `Debug`, `Send` and `'static`",
    note = "a run prints a failed walk's state with `Debug` and runs walks on worker \
            threads, so their states must be `Send` and own their data (`'static`); \
            `#[derive(Debug)]` on a state type of your own gives it `Debug`"
)]
pub trait RunState: Send + fmt::Debug + 'static {}

impl<T: Send + fmt::Debug + 'static> RunState for T {}

/// What the shared context of a `combtest!` block must be: see [`RunState`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the shared context of a combtest run",
    label = "the shared context must be `Sync`",
    note = "walks on several worker threads read the shared context at once; wrap what \
            changes in a `Mutex` or an atomic"
)]
pub trait RunShared: Sync {}

impl<T: Sync + ?Sized> RunShared for T {}

/// Runs a finished `combtest!` block: `(&&Run::new(builder)).run_block(panic)`. As with
/// `combtest!`'s `Finish`, each trait applies at one more reference than the next: [`RunFit`] runs the
/// block; when the state or shared context cannot run, which the block's checks have already
/// reported on the block's own code, [`RunUnfit`] is taken instead, so that the run method
/// is not reported again on the whole block.
pub struct Run<S, G>(Cell<Option<Combtest<S, G>>>);

impl<S, G> Run<S, G> {
    /// Wraps a finished block.
    pub fn new(builder: Combtest<S, G>) -> Self {
        Run(Cell::new(Some(builder)))
    }
}

/// Runs a block whose state and shared context can run.
pub trait RunFit<S> {
    /// [`Combtest::run_checked`].
    fn run_block(&self, panic_on_failure: bool) -> Report<S>;
}

impl<S, G> RunFit<S> for &Run<S, G>
where
    S: RunState,
    G: RunShared,
{
    #[track_caller]
    fn run_block(&self, panic_on_failure: bool) -> Report<S> {
        let builder = self.0.take().expect("a block runs once");
        builder.run_checked(panic_on_failure)
    }
}

/// A block that cannot run, already reported: never called, as the crate does not compile.
pub trait RunUnfit<S> {
    /// Unreachable.
    fn run_block(&self, panic_on_failure: bool) -> Report<S>;
}

impl<S, G> RunUnfit<S> for Run<S, G> {
    fn run_block(&self, _: bool) -> Report<S> {
        unreachable!("a block whose state or shared context cannot run does not compile")
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
