//! The builder API and the execution of walks.
//!
//! `combtest!` is sugar over [`Combtest`]: both build an order of [`Action`]s, settings and a
//! state, then [`Combtest::run`] plans the walk space and runs every selected walk on the
//! worker pool.

use std::fmt;
use std::ops::Range;
use std::time::Instant;

use crate::action::{Action, LoadedAction, StepResult};
use crate::outcome::{Failure, FailureKind, Outcome, WalkSummary};
use crate::panic_capture::{Catcher, Unwound};
use crate::plan::Plan;
use crate::pool::{self, Dispenser};
use crate::report::{replay_command, Report, TestLocation};
use crate::settings::{Gather, Resolved, Settings};
use crate::walk::{OrderView, Walk};
use crate::walk_id::WalkSelection;
use crate::Error;

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

    /// What one worker makes its walks' states from: its own clone of the value (so `S` need
    /// not be `Sync`), or the shared factory.
    fn template(&self) -> Template<'_, S>
    where
        S: Clone,
    {
        match self {
            StateSource::Value(state) => Template::Value(state.clone()),
            StateSource::Factory(make) => Template::Factory(&**make),
        }
    }
}

enum Template<'a, S> {
    Value(S),
    Factory(&'a (dyn Fn() -> S + Send + Sync)),
}

impl<S: Clone> Template<'_, S> {
    #[inline]
    fn make(&self) -> S {
        match self {
            Template::Value(state) => state.clone(),
            Template::Factory(make) => make(),
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

    fn run_resolved(self, settings: Resolved) -> Result<Report<S>, Error> {
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
            params: plan.actions.iter().map(|a| a.step.params()).collect(),
        };
        let runner = WalkRunner {
            plan: &plan,
            view: &view,
            shared: &self.shared,
            filter: self.filter.as_deref(),
            gather: settings.gather,
            location: self.location.as_ref(),
            // A single selected walk is a replay: let its panic print as usual.
            catcher: Catcher::new(selection.len() != 1),
        };
        let dispenser = Dispenser::new(&selection, settings.threads);
        let workers = (0..pool::worker_count(settings.threads, &dispenser))
            .map(|_| (self.state.template(), Tally::default()))
            .collect();
        let workers = pool::run(workers, &dispenser, |(template, tally), ids| {
            runner.run_chunk(template, tally, ids)
        });

        let mut tally = Tally::default();
        for (_, worker) in workers {
            tally.absorb(worker);
        }
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

/// What one worker counted and kept.
struct Tally<S> {
    walks: u64,
    errors: u64,
    cancels: u64,
    skipped: u64,
    segments: u64,
    failures: Vec<Failure>,
    gathered: Vec<(u64, S, Option<WalkSummary>)>,
}

impl<S> Default for Tally<S> {
    fn default() -> Self {
        Tally {
            walks: 0,
            errors: 0,
            cancels: 0,
            skipped: 0,
            segments: 0,
            failures: Vec::new(),
            gathered: Vec::new(),
        }
    }
}

impl<S> Tally<S> {
    fn absorb(&mut self, other: Tally<S>) {
        self.walks += other.walks;
        self.errors += other.errors;
        self.cancels += other.cancels;
        self.skipped += other.skipped;
        self.segments += other.segments;
        self.failures.extend(other.failures);
        self.gathered.extend(other.gathered);
    }
}

/// How a segment of one walk ended.
enum SegmentEnd {
    Completed,
    Failed {
        position: usize,
        kind: FailureKind,
        message: String,
        location: Option<String>,
    },
    Cancelled(String),
}

/// Everything a worker needs to run walks, borrowed for the whole run.
struct WalkRunner<'a, S, G> {
    plan: &'a Plan<S, G>,
    view: &'a OrderView<'a>,
    shared: &'a G,
    filter: Option<&'a (dyn Fn(&Walk<'_>) -> bool + Send + Sync)>,
    gather: Gather,
    location: Option<&'a TestLocation>,
    catcher: Catcher,
}

impl<S, G> WalkRunner<'_, S, G>
where
    S: Clone + fmt::Debug,
{
    /// Runs the walks of one chunk, each from start to end on a fresh state.
    fn run_chunk(&self, template: &Template<'_, S>, tally: &mut Tally<S>, ids: &[Range<u64>]) {
        // Checked once per chunk: asking tracing at every walk and action costs more than the
        // actions of a small walk.
        let level = tracing::level_filters::LevelFilter::current();
        let traced = Traced {
            walks: level >= tracing::Level::DEBUG,
            actions: level >= tracing::Level::TRACE,
        };
        let mut options = vec![0; self.plan.actions.len()];
        debug_assert_eq!(
            self.plan.segments.len(),
            1,
            "an order without serial actions"
        );
        let positions = self.plan.segments[0].clone();
        for range in ids {
            self.plan.space.decode(range.start, &mut options);
            for id in range.clone() {
                if id != range.start {
                    self.plan.space.advance(&mut options);
                }
                if let Some(keep) = self.filter {
                    let walk = Walk {
                        id,
                        options: &options,
                        order: self.view,
                    };
                    if !keep(&walk) {
                        tally.skipped += 1;
                        continue;
                    }
                }
                let _walk = traced
                    .walks
                    .then(|| tracing::debug_span!("walk", id).entered());
                let mut state = template.make();
                tally.walks += 1;
                tally.segments += 1;
                let outcome =
                    match self.run_segment(traced, positions.clone(), &options, &mut state) {
                        SegmentEnd::Completed => Outcome::Pass,
                        SegmentEnd::Cancelled(reason) => {
                            tally.cancels += 1;
                            Outcome::Cancel { reason }
                        }
                        SegmentEnd::Failed {
                            position,
                            kind,
                            message,
                            location,
                        } => {
                            tally.errors += 1;
                            tally.failures.push(
                                self.failure(
                                    id, &options, &state, position, kind, message, location,
                                ),
                            );
                            Outcome::Fail
                        }
                    };
                match self.gather {
                    Gather::Off => {}
                    Gather::Flat => tally.gathered.push((id, state, None)),
                    Gather::Full => {
                        let summary = WalkSummary {
                            walk_id: id,
                            outcome,
                            branch: Vec::new(),
                        };
                        tally.gathered.push((id, state, Some(summary)));
                    }
                }
            }
        }
    }

    /// Runs the actions at `positions` of one walk, stopping at the first that does not
    /// complete.
    #[inline]
    fn run_segment(
        &self,
        traced: Traced,
        positions: Range<usize>,
        options: &[usize],
        state: &mut S,
    ) -> SegmentEnd {
        let actions: &[LoadedAction<S, G>] = &self.plan.actions;
        let mut at = positions.start;
        let result = self.catcher.catch(|| {
            for position in positions {
                at = position;
                let action = &actions[position];
                let option = options[position];
                if traced.actions {
                    tracing::trace!(
                        action = &*action.name,
                        param = %ParamText(action, option),
                        "action"
                    );
                }
                match action.step.run(option, state, self.shared) {
                    StepResult::Done => {}
                    other => return other,
                }
            }
            StepResult::Done
        });
        match result {
            Ok(StepResult::Done) => SegmentEnd::Completed,
            Ok(StepResult::Cancelled(reason)) | Err(Unwound::Cancelled(reason)) => {
                SegmentEnd::Cancelled(reason)
            }
            Ok(StepResult::Failed(message)) => SegmentEnd::Failed {
                position: at,
                kind: FailureKind::Error,
                message,
                location: None,
            },
            Err(Unwound::Panicked(panic)) => SegmentEnd::Failed {
                position: at,
                kind: FailureKind::Panic,
                message: panic.message,
                location: panic.location,
            },
        }
    }

    /// The full record of a failed walk (off the hot path: only failures pay for it).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    fn failure(
        &self,
        id: u64,
        options: &[usize],
        state: &S,
        position: usize,
        kind: FailureKind,
        message: String,
        location: Option<String>,
    ) -> Failure {
        let fingerprint = self.plan.fingerprint(options);
        tracing::debug!(walk = id, action = &*self.plan.actions[position].name, %message, "walk failed");
        Failure {
            walk_id: id,
            fingerprint,
            steps: self.plan.describe(options),
            failed_position: position,
            failed_action: self.plan.actions[position].name.to_string(),
            kind,
            message,
            location,
            state: format!("{state:#?}"),
            replay: replay_command(self.location, id, fingerprint),
        }
    }
}

/// Which per-walk tracing is on, decided once per chunk.
#[derive(Clone, Copy)]
struct Traced {
    walks: bool,
    actions: bool,
}

/// Formats a param only if a subscriber asks for it.
struct ParamText<'a, S, G>(&'a LoadedAction<S, G>, usize);

impl<S, G> fmt::Display for ParamText<'_, S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.step.params().debug(self.1))
    }
}
