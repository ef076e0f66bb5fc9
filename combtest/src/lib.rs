//! # combtest: combinatorial testing for Rust
//!
//! Name your operations ("actions") and the parameter values each takes ("options");
//! combtest runs every combination of them in the order you give ("walks"), each walk on its
//! own copy of your state, in parallel, and prints a replay command for every failure.
//!
//! ```
//! use combtest::prelude::*;
//!
//! #[derive(Clone, Debug, Default)]
//! struct Form { text: String, checked: bool }
//!
//! #[action(options = ["", "hello", "1234"])]
//! fn type_text(text: &'static str, form: &mut Form) {
//!     form.text = text.to_string();
//! }
//!
//! #[action] // `bool` options default to [false, true]
//! fn set_checkbox(on: bool, form: &mut Form) -> Result<(), String> {
//!     if on && form.text.is_empty() {
//!         cancel!("nothing to confirm"); // not a failure: this walk makes no sense
//!     }
//!     form.checked = on;
//!     Ok(())
//! }
//!
//! # fn main() {
//! // Inside a #[test]: runs 3 x 2 x 3 = 18 walks, panics with a report if any failed.
//! let report = combtest! {
//!     order: [type_text, set_checkbox, type_text],
//!     state: Form::default(),
//! };
//! // The size of the walk space, which stays 18 when a replay runs one walk of it.
//! assert_eq!(report.total_walks, 18);
//! # }
//! ```
//!
//! ## Vocabulary
//! - **action**: a function annotated [`#[action]`](macro@action), run once per walk;
//! - **serial action**: a function annotated [`#[serial_action]`](macro@serial_action), run
//!   once per branch, alone, at a barrier between two parallel stretches of walks;
//! - **option**: one parameter value of an action;
//! - **order**: the list of actions of a `combtest!` block; an action may appear several
//!   times;
//! - **walk**: one option chosen for every entry of the order, run top to bottom on a fresh
//!   copy of the state;
//! - **walk id**: the walk's number. Without serial actions walks are numbered in
//!   lexicographic order of their option indices (the last action turns fastest), so an order
//!   of actions with 5, 10 and 3 options gives walk `30i + 3j + k` the options `[i, j, k]`.
//!   Serial actions are the most significant digits (the first one slowest), so the walks of
//!   one branch have consecutive ids;
//! - **branch**: the walks that share the options of the serial actions seen so far.
//!
//! ## Outcomes
//! A walk **passes**, **fails** (an action returned `Err` or panicked; later actions do not
//! run), is **cancelled** (an action called [`cancel!`] or returned `Err(Cancel)`; not a
//! failure) or is **skipped** (removed by the filter before running). A panic inside a walk
//! is caught and reported with its message and location; it is not printed once per walk.
//! A panic in the test's code that combtest calls for a walk outside its actions (the
//! state's `Clone`, a state factory, the state's `Drop`) fails that walk too
//! ([`FailureKind::State`]), and a param whose `Debug` panics is shown as such.
//! The [`Report`] counts them all.
//!
//! ## Settings and environment variables
//! | setting (`combtest!` key / builder method) | variable | meaning |
//! |---|---|---|
//! | `threads` | `COMBTEST_THREADS` | worker threads (default: available parallelism) |
//! | `gather_states` | `COMBTEST_GATHER` | `off`, `flat` or `full` (the variable only raises it) |
//! | `filter` | — | a closure over [`Walk`]s: which walks run, asked up to 4,096 walks ahead ([`Combtest::filter`]) |
//! | `partial_filter` | — | a filter that can also judge partial walks, for covering arrays ([`Combtest::partial_filter`]) |
//! | `walks` | `COMBTEST_WALKS` | only these ids: `17,40-45`, or `17@<fingerprint>` |
//! | `verbose` | `COMBTEST_VERBOSE` | `0` warn, `1` info, `2` debug (walks), `3` trace (actions) |
//! | `log_dir` | `COMBTEST_LOG_DIR` | write a trace, a summary and the states of each run |
//! | `replay` | `COMBTEST_REPLAY` | run walks recorded in a trace: `path`, `path@all`, `path@17` |
//! | — | `COMBTEST_BLOCK` | which run of a test that makes several the two above select walks of: `2` ([`ENV_BLOCK`]) |
//! | `progress` | `COMBTEST_PROGRESS` | `on`/`off` (default: on a terminal outside CI) |
//! | `shard` | `COMBTEST_SHARD` | run the i-th of n shares: `i/n`, or `auto` from CI variables ([`Shard`]) |
//! | `covering`, `covering_seed`, `covering_strict` | — | a t-wise covering array instead of the full product ([`Combtest::covering`]) |
//! | `junit` | `COMBTEST_JUNIT` | also write the run's JUnit XML to this file ([`Combtest::junit`]) |
//! | `confirm_causes` | — | run up to n extra walks to confirm suspected causes ([`Combtest::confirm_causes`]) |
//! | `explain_failures` | — | `false` skips grouping failures and finding causes ([`Combtest::explain_failures`]) |
//! | `panic_on_failure` | — | `combtest!` only: `false` returns the report instead of panicking |
//!
//! A variable overrides the setting in code; an empty variable counts as unset; a malformed
//! value, or a `COMBTEST_*` variable combtest does not know, stops the run with an error
//! naming it. `COMBTEST_WALKS` applies to every combtest run of the process: combine it with
//! the test name, as the replay commands of the failure report do, and for a test that makes
//! several runs, with `COMBTEST_BLOCK`, which the replay command of any run but the test's
//! first sets.
//!
//! ## Logs and traces
//! With a log directory, each run writes a folder `<test>-<time>-<pid>` holding
//! [`TRACE_FILE`] (JSON Lines: a header with every action and its options, a
//! [`WalkRecord`] for each walk that failed or was cancelled — id, fingerprint, branch, every
//! action with its param as JSON and its `Debug` text beside, outcome, the failure message or
//! cancel reason with the action and position that failed or cancelled the walk, duration —
//! and passing walks as runs of ids, `{"passed":[first,last],"duration_ns":t}`;
//! [`read_trace`] reads every walk back),
//! [`SUMMARY_FILE`] (the report, without the states; its failures' steps are written as the
//! trace's) and, when states are gathered, [`STATES_FILE`] (each state's `Debug`
//! text, since the state type need not be `Serialize`). `Report::files` lists them. Records
//! are written by one thread from buffers the workers fill (each worker's behind a lock only
//! it takes, so that a run a stuck walk ends still saves them); they come in completion
//! order, not id order.
//!
//! A failing run's report names its folder and the command that replays its failed walks:
//! `COMBTEST_REPLAY=<run folder> cargo test ...` (the folder or its `trace.jsonl`) runs the
//! failed walks of that trace again (`@all` for every walk, `@17,40` for recorded ids). Each recorded param is matched
//! by value against today's options, so a replay survives options being added or reordered;
//! a param that no longer exists stops the run with an error naming the action and the param.
//!
//! ## State and shared context
//! Each walk gets its own state: `state: value` clones the value for every walk (so it must
//! be `Clone`), `state: || make()` calls the closure for every walk, and then the state need
//! not be `Clone`: a database connection, a socket or a child process can be each walk's
//! state as it is.
//!
//! The shared context is one value for the whole run: actions read it (`&G`), serial actions
//! change it (`&mut G`). The run may own it (`shared: app`) or borrow it from the test
//! (`shared: &pool`, or `shared: &mut app` when serial actions change it), so it need not be
//! `'static`: any value that outlives the run will do, including one whose type borrows from
//! the test (an action then names it with `'_`, `ctx: &Ctx<'_>`). A borrowed context is the
//! test's again after the run; an owned one comes back from
//! [`Combtest::run_and_return_shared`]. This is sound because the run is scoped: its worker
//! threads are scoped threads, and no walk outlives the call that runs it. An action that
//! takes `&App` fits any context that lends one ([`Lend`]), a serial action that takes
//! `&mut App` any context that lends it mutably ([`LendMut`]): `shared: &app` with such a
//! serial action is a compile error that says to write `shared: &mut app`.
//!
//! ```
//! use combtest::prelude::*;
//! use std::sync::atomic::{AtomicU32, Ordering};
//!
//! /// Not `Clone`: each walk opens its own.
//! #[derive(Debug)]
//! struct Connection { rows: Vec<u32> }
//!
//! #[derive(Debug, Default)]
//! struct Pool { opened: AtomicU32 }
//!
//! #[action(options = [1, 2])]
//! fn insert(n: u32, db: &mut Connection, pool: &Pool) {
//!     pool.opened.fetch_add(1, Ordering::Relaxed);
//!     db.rows.push(n);
//! }
//!
//! let pool = Pool::default();
//! let report = combtest! {
//!     order: [insert, insert],
//!     state: || Connection { rows: Vec::new() },
//!     shared: &pool,
//! };
//! assert_eq!(report.walk_count, 4);
//! assert_eq!(pool.opened.load(Ordering::Relaxed), 8); // still the test's
//! ```
//!
//! ## Async actions
//! `#[action] async fn` and `#[serial_action] async fn` (feature `async`, on by default) mix
//! freely with sync actions in one order. An order with an async action runs on combtest's
//! async executor: each worker thread keeps up to `concurrency` walks in flight (default 64,
//! `COMBTEST_CONCURRENCY`) and polls them itself, while a tokio runtime that combtest owns
//! (one background thread, made once per process) drives their timers and I/O. Sync actions
//! of such an order run in place, on the worker. Serial actions keep their barrier: no walk
//! is in flight while one runs, and an async serial action is awaited alone.
//!
//! It works from a plain `#[test]` and from `#[tokio::test]` of either flavour: walks are
//! never polled inside another runtime's `block_on`, so there is no "runtime within a
//! runtime" panic and the replay of one walk runs it the same way, on a worker thread (a sync
//! order's replay runs on the test's own thread). The test's thread waits
//! for the run; in a current-thread `#[tokio::test]` the test's own runtime is therefore
//! paused meanwhile, so walks must not depend on I/O objects bound to it (create them in the
//! actions, the state or the shared context instead).
//!
//! `timeout` (`COMBTEST_TIMEOUT`, e.g. `30s`): an async action still running when its walk's
//! time is up is dropped, and the walk fails with "timed out after 30s in action(param)"
//! ([`FailureKind::Timeout`]). A walk's time counts from the start of the stretch it runs
//! (the whole walk without serial actions).
//!
//! ## Walks that run too long
//! Sync actions cannot be stopped from outside: Rust has no way to stop a thread. A watchdog
//! thread watches them instead.
//! - With a `timeout`, each walk's time is checked after each of its actions: a walk back
//!   past its time fails, "timed out: ran 1.3s, past the timeout of 1s, by the end of
//!   action(param)", and its later actions do not run. A walk still running at its timeout
//!   is named on stderr as it happens (id, fingerprint, the action and param running, the
//!   time so far, the replay command), past the test harness's output capture, and in a
//!   `tracing` warning.
//! - A walk still running two seconds (or one more timeout, if longer) after its time was up
//!   is taken as stuck. Its thread cannot be stopped, and the run cannot return while one of
//!   its threads still uses the run's states and shared context, so combtest ends the test
//!   process: no new walk starts, the walks in flight finish (for at most one more such
//!   period), and the report of every walk that ended before, with the stuck walks as
//!   timed-out failures and their replay commands, is printed on stderr; then the process
//!   exits with code 101, as a failing test binary does. Other tests of the same binary
//!   still running end with it; under `cargo nextest`, which runs each test in a process of
//!   its own, no other test is touched. The trace of a run ended so (with a log directory)
//!   holds every walk that ended, and the report ends with the command that replays its
//!   failed walks; an order with serial actions records its walks when the run ends, so its
//!   trace holds none of them then.
//! - Without a timeout, a walk running longer than a minute is named in a warning, and the
//!   run waits for it. Walks that `combtest!` runs in its compiled loops, and the builder's
//!   walks when only their count is kept (no gathering, trace, filter or walk events), are
//!   named by the chunk of ids they belong to (those loops do not say which walk runs); a
//!   timeout names the walk itself, at the cost of the general loop.
//!
//! - An async walk that waits is dropped at its timeout (above). One that blocks its worker
//!   thread instead (a sync call that does not return, inside an async action or between
//!   awaits) cannot be dropped: the watchdog sees which walk's poll has not returned, names
//!   it and ends the run as for a sync walk.
//!
//! A serial action is not timed out nor stopped: the timeout is the walks'. One still
//! running at the timeout (or after a minute without one) is named on stderr, with the
//! branch of walks it runs for, and the run waits for it.
//!
//! A timeout makes every sync walk run through the general loop, timed: worth it for system
//! tests, whose actions take milliseconds; a cost for walks of a few nanoseconds.
//!
//! ```
//! use combtest::prelude::*;
//! use std::time::Duration;
//!
//! #[derive(Clone, Debug, Default)]
//! struct Client { answers: Vec<u32> }
//!
//! #[action(options = [1, 2, 3])]
//! async fn ask(n: u32, client: &mut Client) {
//!     tokio::time::sleep(Duration::from_millis(1)).await; // a request, say
//!     client.answers.push(n * 10);
//! }
//!
//! let report = combtest! {
//!     order: [ask, ask],
//!     state: Client::default(),
//!     timeout: Duration::from_secs(5),
//! };
//! assert_eq!(report.total_walks, 9);
//! ```
//!
//! ## Replaying a failure
//! The failure report prints one command per failed walk, such as
//! `COMBTEST_WALKS=17@9f3a61c0d2b4e875 cargo test -p app --test gui -- gui_combinations --exact --include-ignored`.
//! It runs that walk alone, on the test's thread (so a debugger and `dbg!` work), with its
//! panic printed as usual. The fingerprint after `@` is checked against today's walk 17: if
//! the options changed since, the run stops and says where that walk is now.
//! `--include-ignored` lets the command run a test that is `#[ignore]`d (it would otherwise
//! run nothing and pass); for any other test it changes nothing. Under `cargo nextest` the
//! command is nextest's, and it builds the test as it was built (`--release`, `--profile`,
//! or nextest's `--cargo-profile`, and `--target`, read from where the test's binary sits in
//! cargo's target folder). A test whose `combtest!` block is in its own package and that
//! was built with other features than the default ones gets them (`--no-default-features`,
//! `--features ...`): without them the replay would build another test, or none, and pass.
//! A run of the builder API, or a block in another package's library, takes them from the
//! fingerprint cargo keeps of the test's binary; the README says more.
//!
//! ## Logging
//! combtest emits `tracing` spans and events: a span per run and per walk, an info event at
//! the start and end of a run, debug events for walks and serial actions, a trace event per
//! action with its param. A subscriber the test installs sees them from every worker thread;
//! a verbosity (`verbose`, `COMBTEST_VERBOSE`), when given, caps combtest's own events and
//! the subscriber's filter decides the rest.
//!
//! When the test installs no subscriber, combtest installs one for the run (feature
//! `fallback-subscriber`) that prints through the test harness's output capture, like
//! `println!`, without ANSI escapes. With `RUST_LOG` unset it prints every event at the
//! verbosity, warnings by default. With `RUST_LOG` set, its `target=level` list decides
//! (`RUST_LOG=my_app=debug`, `RUST_LOG=info,combtest=debug`: targets and levels, as
//! `tracing_subscriber::filter::Targets` parses them), for combtest's events too, except
//! that a verbosity, when given, sets the level of combtest's own events: `COMBTEST_VERBOSE`
//! wins for combtest. A malformed `RUST_LOG` is named in a warning, and the run prints as if
//! it were unset.
//!
//! ## Cargo features
//! All three on by default:
//! - `progress`: the progress bar on stderr (indicatif). Without it the `progress` setting
//!   is accepted and nothing is drawn.
//! - `fallback-subscriber`: the subscriber installed when the test installed none (above;
//!   tracing-subscriber). Without it combtest's events go only to the test's own subscriber.
//! - `async`: async actions and serial actions (above; tokio, futures-util). Without it an
//!   order holding an async action is an error before any walk runs.
//!
//! ## Debug builds
//! `cargo test` builds combtest unoptimized unless told otherwise, and its runner and
//! covering-array generator are several times slower so (a 4-wise covering array of 288
//! walks: 5.7 s against under 1.1 s). This in the user's `Cargo.toml` builds combtest alone
//! optimized:
//!
//! ```toml
//! [profile.dev.package.combtest]
//! opt-level = 2
//! ```

#![warn(missing_docs)]

mod builder;
mod config;
pub mod covering;
mod engine;
mod error;
mod model;
mod output;
mod typed;

pub use builder::Combtest;
pub use config::env::{
    ENV_BLOCK, ENV_CONCURRENCY, ENV_GATHER, ENV_JUNIT, ENV_LOG_DIR, ENV_PROGRESS, ENV_REPLAY,
    ENV_SHARD, ENV_THREADS, ENV_TIMEOUT, ENV_VERBOSE, ENV_WALKS,
};
pub use config::shard::Shard;
pub use config::Gather;
pub use engine::unwind::cancel_walk;
pub use error::Error;
pub use model::action::{
    Action, ActionFuture, ActionKind, ActionReturn, Cancel, Options, Param, SerialFuture, States,
};
pub use model::outcome::{Failure, FailureKind, Outcome, StepRecord, WalkSummary};
pub use model::shared::{Lend, LendMut};
pub use model::state::{IntoStateSource, StateSource};
pub use model::walk::Walk;
pub use model::walk_id::Fingerprint;
pub use output::analysis::cancels::CancelCount;
pub use output::analysis::data::{
    Axis, Cause, Choice, Confirmation, Evidence, FailureGroup, HeatMap,
};
pub use output::html::render as report_html;
pub use output::junit::render as junit_xml;
pub use output::report::{Coverage, Report, SHOWN_GROUPS, STATE_BYTES, STATE_LINES};
pub use output::shard::{merge_shards, ShardResult};
pub use output::trace::{RecordedStep, WalkRecord, STATES_FILE, SUMMARY_FILE, TRACE_FILE};
pub use output::trace_read::read_trace;

/// Turns a function into a combtest action.
///
/// ```
/// use combtest::prelude::*;
///
/// #[derive(Clone, Debug, Default)]
/// struct Counter { value: i64 }
///
/// // A literal list: any expressions of the param's type.
/// #[action(options = [1, -1, i64::MAX])]
/// fn add(n: i64, counter: &mut Counter) -> Result<(), String> {
///     counter.value = counter.value.checked_add(n).ok_or("overflow")?;
///     Ok(())
/// }
///
/// // Any `IntoIterator` expression, evaluated once per run: a range, a `Vec`, a call.
/// #[action(options = (0..3).map(|i| i * 10))]
/// fn scale(factor: i64, counter: &mut Counter) {
///     counter.value *= factor;
/// }
///
/// // The generated companion exposes the action's name and options...
/// assert_eq!(add::NAME, "add");
/// assert_eq!(scale::options(), vec![0, 10, 20]);
/// // ...and the function stays a plain function.
/// let mut counter = Counter::default();
/// add(5, &mut counter).unwrap();
/// assert_eq!(counter.value, 5);
/// ```
///
/// ## Signature
/// `fn name(param: P, state: &mut S)` or `fn name(param: P, state: &mut S, shared: &G)`,
/// returning `()` or `Result<(), E>` with `E: Debug + Display` (see [`ActionReturn`]).
/// `P` must be [`Param`]: `Clone + Debug + Serialize + Send + Sync + 'static`; a borrowed
/// param is `&'static`, as the options live for the whole run.
///
/// An action without a param, `fn name(state: &mut S)` (and `shared: &G` after it), takes
/// no `options`: its one option is `()`, so it multiplies no walks, and reports show it by
/// its name alone, `verify`, not `verify(())`.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [1, 2])]
/// fn push(n: u8, stack: &mut Vec<u8>) { stack.push(n); }
///
/// #[action]
/// fn verify(stack: &mut Vec<u8>) -> Result<(), String> {
///     if stack.len() > 2 { Err(format!("{stack:?} is too deep")) } else { Ok(()) }
/// }
///
/// assert_eq!(verify::options(), vec![()]);
/// let report = combtest! { order: [push, verify, push], state: Vec::new() };
/// assert_eq!(report.total_walks, 4);
/// ```
///
/// ## Options
/// - `options = [e1, e2, ...]`: a literal list; an empty list is a compile error.
/// - `options = EXPR`: any `IntoIterator<Item = P>`, evaluated once per run, when the run
///   starts (py-combtest's `get_option_set`). An empty result stops the run with an error.
/// - no `options`: the param type's [`Options`] (`bool`, `Option<T>`, or a fieldless enum with
///   `#[derive(Options)]`).
///
/// ## What it generates
/// The function is kept as written. Beside it, in the type namespace, a unit-like struct of
/// the same name carries the action: `name::NAME`, `name::options()`, and
/// `name::action()`, the [`Action`] to give to the [`Combtest`] builder. `combtest!` finds the
/// action through that struct, which is why an order lists plain function names.
#[doc(inline)]
pub use combtest_macros::action;

/// Turns a function into a serial action: an operation that runs **once per branch, alone**,
/// between two parallel stretches of walks.
///
/// Use it for what must happen while nothing else runs: reconfigure the system under test,
/// take a snapshot, restart a server. For the order `G0 S1 G1 S2 G2`, every walk runs `G0`;
/// then, for each option of `S1` in turn, `S1` runs alone (no walk runs meanwhile), the
/// walks of that branch run `G1` in parallel, and `S2` is handled the same way inside the
/// branch before `S1`'s next option starts. Each option of the k-th serial action therefore
/// runs once per combination of the options of the serial actions before it.
///
/// ```
/// use combtest::prelude::*;
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[derive(Debug, Default)]
/// struct Server { config: u32, restarts: u32 }
///
/// #[derive(Clone, Debug, Default)]
/// struct Client { seen: Vec<u32> }
///
/// #[action(options = [1, 2, 3])]
/// fn request(n: u32, client: &mut Client, server: &Server) {
///     client.seen.push(server.config * 100 + n);
/// }
///
/// #[serial_action(options = [7, 8])]
/// fn reconfigure(config: u32, server: &mut Server) {
///     server.config = config;
///     server.restarts += 1;
/// }
///
/// let report = combtest! {
///     order: [request, reconfigure, request],
///     state: Client::default(),
///     shared: Server::default(),
///     gather_states: flat,
/// };
/// assert_eq!(report.walk_count, 18);
/// assert_eq!(report.segment_count, 36); // two segments per walk
/// // Serial wheels are the most significant: walks 0-8 ran reconfigure(7).
/// assert_eq!(report.states[0].seen, vec![1, 701]);
/// assert_eq!(report.states[17].seen, vec![3, 803]);
/// ```
///
/// ## Signature
/// `fn name(param: P)`, optionally followed by `shared: &mut G` (the run's shared context,
/// exclusively) and then by `states: States<'_, S>` (the states of the branch's live walks,
/// to record what the serial action did into each of them). Same return types and
/// `options` forms as [`macro@action`].
///
/// ## Outcomes
/// A serial action that fails (returns `Err` or panics) fails every live walk of its branch,
/// and the failure names the serial action; one that cancels cancels them. The run goes on
/// with the next branch. Walks that failed or were cancelled take no part in later segments
/// and are not handed to later serial actions; a serial action whose branch has no live walk
/// left (all failed, cancelled, filtered out or not selected) does not run.
///
/// ## Segments
/// A segment is opened by the start of the order or by a serial action, and holds the
/// regular actions up to the next serial action. `A A S A S` has three segments per walk
/// (the last holds no action), `S A A S` has two: a leading serial action opens the walk.
/// `Report::segment_count` counts segment executions started, empty ones included.
///
/// Walks stay in memory between barriers (one state per walk); without serial actions
/// memory stays flat.
#[doc(inline)]
pub use combtest_macros::serial_action;

/// Runs every walk of an order and returns the [`Report`]; panics with the failure report
/// if a walk failed or if no walk ran.
///
/// ```
/// use combtest::prelude::*;
///
/// #[derive(Clone, Debug, Default)]
/// struct Bank { accounts: Vec<i64> }
///
/// #[derive(Debug)]
/// struct Limits { max_accounts: usize }
///
/// #[action(options = [0, 100])]
/// fn open(initial: i64, bank: &mut Bank, limits: &Limits) -> Result<(), String> {
///     if bank.accounts.len() >= limits.max_accounts {
///         return Err("too many accounts".into());
///     }
///     bank.accounts.push(initial);
///     Ok(())
/// }
///
/// let report = combtest! {
///     order: [open, open],
///     state: Bank::default(),
///     shared: Limits { max_accounts: 1 },
///     threads: 2,
///     gather_states: full,
///     panic_on_failure: false,
/// };
/// assert_eq!(report.walk_count, 4);
/// assert_eq!(report.error_count, 4); // the second `open` always fails
/// assert_eq!(report.failures[0].failed_action, "open");
/// assert_eq!(report.walks[3].outcome, Outcome::Fail);
/// ```
///
/// ## Keys
/// | key | value | default |
/// |---|---|---|
/// | `order` | `[action, ...]`: paths to `#[action]` functions | required |
/// | `state` | an expression (cloned per walk: must be `Clone`) or a closure literal (called per walk: the state need not be `Clone`) | `Default::default()` per walk |
/// | `shared` | the shared context, handed as `&G` to actions and `&mut G` to serial actions: a value, or a borrow of the test's (`&pool`, `&mut app`) | `()` |
/// | `threads` | `usize` | available parallelism |
/// | `filter` | `Fn(&Walk) -> bool` | every walk runs |
/// | `partial_filter` | `Fn(&Walk) -> Option<bool>`, asked about partial walks too | every walk runs |
/// | `gather_states` | `off`, `flat`, `full`, or a [`Gather`] expression (a variable in braces: `{ level }`) | `off` |
/// | `walks` | walk ids as a string, `"17,40-45"` | every walk |
/// | `verbose` | `0`-`3`: warn, info, debug, trace | the test's subscriber decides; without one, `0` |
/// | `log_dir` | a path: trace, summary and states of each run | no files |
/// | `replay` | a trace file: `"path"`, `"path@all"`, `"path@17,40-45"` | no replay |
/// | `progress` | `bool` | on a terminal outside CI |
/// | `shard` | `(i, n)`: run the i-th of n shares of the walks | all walks |
/// | `covering` | `2..=6`: a t-wise covering array instead of the full product | the full product |
/// | `covering_seed` | `u64`: another covering array of the same strength | `0` |
/// | `timeout` | a `Duration`: how long an async walk may run | none |
/// | `concurrency` | `usize`: async walks in flight per worker thread | `64` |
/// | `confirm_causes` | `u64`: extra walks at most to confirm suspected causes | none |
/// | `explain_failures` | `bool`: group failures and find their causes | `true` |
/// | `junit` | a path: also write the run's JUnit XML there | only in the log directory |
/// | `covering_strict` | `bool`: unresolved combinations are an error, not a warning | `false` |
/// | `panic_on_failure` | `bool`: `false` returns the report instead | `true` |
///
/// A run that cannot start (an empty option list, a malformed environment variable, a walk
/// id out of range) panics with the error before any walk runs. A run in which the filter
/// removed every walk panics too unless `panic_on_failure: false`: a test that runs nothing
/// tests nothing.
#[doc(inline)]
pub use combtest_macros::combtest;

/// Derives [`Options`] for a fieldless enum: every variant, in declaration order.
///
/// ```
/// use combtest::prelude::*;
///
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, Options)]
/// enum Theme { Light, Dark }
///
/// #[action] // options: every variant
/// fn theme(theme: Theme, chosen: &mut Vec<Theme>) { chosen.push(theme); }
///
/// assert_eq!(theme::options(), vec![Theme::Light, Theme::Dark]);
/// ```
#[doc(inline)]
pub use combtest_macros::Options;

/// The `serde` crate combtest serializes params with, for option types in a crate that
/// does not depend on `serde` itself.
///
/// An option type must be `Serialize` (params are written into traces and summaries).
/// Adding `serde = { version = "1", features = ["derive"] }` to your dev-dependencies and
/// deriving `serde::Serialize` is the usual way; without that dependency, derive it through
/// this re-export and tell the derive where serde is with `#[serde(crate = "...")]`:
///
/// ```
/// use combtest::prelude::*;
///
/// #[derive(Clone, Debug, PartialEq, combtest::serde::Serialize, Options)]
/// #[serde(crate = "combtest::serde")]
/// enum Speed { Slow, Fast }
///
/// #[action]
/// fn drive(speed: Speed, log: &mut Vec<Speed>) { log.push(speed); }
///
/// let report = combtest! { order: [drive], state: Vec::new(), gather_states: flat };
/// assert_eq!(report.states, [vec![Speed::Slow], vec![Speed::Fast]]);
/// ```
pub use serde;

/// Cancels the running walk: it stops for good and counts as cancelled, not failed.
///
/// Takes `format!` arguments for the reason, or none. Works in any action whatever its
/// return type, and in functions it calls. Outside a combtest walk it panics.
///
/// `cancel!` unwinds to the runner, which a program built with `panic = "abort"` cannot do:
/// there, the first `cancel!` says so and ends the process. Return `Err(Cancel::new(..))` from
/// an action returning `Result<(), Cancel>` instead; that cancels without unwinding. (Under
/// `panic = "abort"` a panicking walk ends the process too; combtest first prints the walk's
/// id, its panic and its replay command.)
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [0u32, 1, 2])]
/// fn divide(by: u32, value: &mut u32) {
///     if by == 0 {
///         cancel!("division by zero is out of scope");
///     }
///     *value /= by;
/// }
///
/// let report = combtest! { order: [divide], state: 10u32, gather_states: full };
/// assert_eq!(report.cancel_count, 1);
/// assert_eq!(
///     report.walks[0].outcome,
///     Outcome::Cancel { reason: "division by zero is out of scope".into() }
/// );
/// ```
#[macro_export]
macro_rules! cancel {
    () => {
        $crate::cancel_walk(::std::string::String::from("cancelled"))
    };
    ($($reason:tt)+) => {
        $crate::cancel_walk(::std::format!($($reason)+))
    };
}

/// Everything a combtest user needs in scope.
pub mod prelude {
    pub use crate::{
        action, cancel, combtest, serial_action, Action, Cancel, Combtest, Gather, Options,
        Outcome, Report, StateSource, States, Walk,
    };
}

/// Items the macros' generated code refers to: re-exports only. Not public API: no stability
/// promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::builder::Combtest;
    pub use crate::builder::{Run, RunFit, RunShared, RunState, RunUnfit};
    pub use crate::config::Gather;
    pub use crate::engine::compiled::{
        compiled_filter_calls, compiled_segments, compiled_walks, WalkList,
    };
    pub use crate::engine::compiled_filter::{KernelFilter, NoFilter};
    pub use crate::model::action::{
        collect_options, Action, ActionFuture, ActionItem, ActionReturn, Options, Param,
        SerialFuture, States, StepResult,
    };
    pub use crate::model::shared::{Lend, LendMut};
    pub use crate::model::state::StateSource;
    pub use crate::output::test_location::{DeclaredFeature, TestLocation};
    pub use crate::typed::{
        check_shared, check_state, Finish, FinishCloned, FinishDynamic, FinishFast, Typed,
    };
}
