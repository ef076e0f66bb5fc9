//! Actions: one named operation and its option list, erased to a uniform shape for the runner.
//!
//! The `#[action]` macro builds an [`Action`] from a plain function; the builder API takes
//! [`Action::new`] directly for orders built at run time. Either way the option list is a
//! recipe, evaluated once per run when the run starts ([`Action::load`]), never at definition.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;

use serde::Serialize;

use super::walk_id::Fnv64;
use crate::error::Error;

/// What every option value must be: cloned into each walk, printed in reports, serialized into
/// traces and fingerprints, and shared by the worker threads.
///
/// It is implemented for every type that has these traits; there is nothing to implement.
///
/// ```
/// fn assert_param<P: combtest::Param>() {}
/// assert_param::<&'static str>();
/// assert_param::<(u8, bool)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an option of a combtest action",
    label = "an option type must be `Clone + Debug + Serialize + Send + Sync + 'static`",
    note = "options are cloned into every walk, printed in reports and serialized into traces"
)]
pub trait Param: Clone + fmt::Debug + Serialize + Send + Sync + 'static {}

impl<T: Clone + fmt::Debug + Serialize + Send + Sync + 'static> Param for T {}

/// Types whose option list is known without being written down: an action whose param has
/// such a type may leave out `options = ...`.
///
/// Implemented for `bool` (`[false, true]`), `()` and `Option<T>` (`None` then every option of
/// `T`); `#[derive(Options)]` implements it for fieldless enums (every variant, in
/// declaration order).
///
/// ```
/// use combtest::Options;
///
/// #[derive(Clone, Debug, PartialEq, Options)]
/// enum Mode { Fast, Safe }
///
/// assert_eq!(Mode::all_options(), vec![Mode::Fast, Mode::Safe]);
/// assert_eq!(bool::all_options(), vec![false, true]);
/// assert_eq!(<Option<bool>>::all_options(), vec![None, Some(false), Some(true)]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no default option list",
    label = "write the options: `#[action(options = [...])]`",
    note = "`bool`, `Option<T: Options>` and enums with `#[derive(combtest::Options)]` have default options"
)]
pub trait Options: Sized {
    /// Every value of the type, in the order walks enumerate them.
    fn all_options() -> Vec<Self>;
}

impl Options for bool {
    fn all_options() -> Vec<Self> {
        vec![false, true]
    }
}

impl Options for () {
    fn all_options() -> Vec<Self> {
        vec![()]
    }
}

impl<T: Options> Options for Option<T> {
    fn all_options() -> Vec<Self> {
        std::iter::once(None)
            .chain(T::all_options().into_iter().map(Some))
            .collect()
    }
}

/// The reason a walk was cancelled: returned as an error value or raised by [`cancel!`].
///
/// A cancelled walk stops for good. It is counted in `Report::cancel_count`, is not a
/// failure, and its state is left as the actions left it.
///
/// ```
/// use combtest::Cancel;
///
/// // As a value: an action whose error type is `Cancel` cancels by returning it.
/// fn only_small(n: u32, total: &mut u32) -> Result<(), Cancel> {
///     if n > 10 {
///         return Err(Cancel::new(format!("{n} is out of scope")));
///     }
///     *total += n;
///     Ok(())
/// }
/// assert!(only_small(11, &mut 0).is_err());
/// ```
///
/// [`cancel!`]: crate::cancel!
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancel {
    reason: String,
}

impl Cancel {
    /// A cancellation with a reason, shown in traces and gathered outcomes.
    pub fn new(reason: impl Into<String>) -> Self {
        Cancel {
            reason: reason.into(),
        }
    }

    /// Why the walk was cancelled.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "walk cancelled: {}", self.reason)
    }
}

impl std::error::Error for Cancel {}

/// How one action ended inside a walk: `Ok(())` to go on. Pointer-sized, so the per-action
/// path returns it in a register; the boxed reason is allocated only when a walk stops.
#[doc(hidden)]
pub type StepResult = Result<(), Box<Stop>>;

/// Why an action stopped its walk.
#[doc(hidden)]
#[derive(Debug)]
pub enum Stop {
    Failed(String),
    Cancelled(String),
    /// The walk ran past its timeout (checked between actions).
    TimedOut(String),
}

/// Return types an action may have: `()` or `Result<(), E>` with a printable `E`.
///
/// An `Err` fails the walk with the error's `Display` text, unless the error is a [`Cancel`],
/// which cancels it.
#[diagnostic::on_unimplemented(
    message = "a combtest action cannot return `{Self}`",
    label = "return `()` or `Result<(), E>` where `E: Debug + Display + 'static`"
)]
pub trait ActionReturn {
    #[doc(hidden)]
    fn into_step_result(self) -> StepResult;
}

impl ActionReturn for () {
    #[inline]
    fn into_step_result(self) -> StepResult {
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display + 'static> ActionReturn for Result<(), E> {
    #[inline]
    fn into_step_result(self) -> StepResult {
        match self {
            Ok(()) => Ok(()),
            Err(error) => Err(stop_for(error)),
        }
    }
}

/// Why an action that returned `error` stopped its walk (off the passing walk's path).
#[cold]
#[inline(never)]
fn stop_for<E: fmt::Debug + fmt::Display + 'static>(error: E) -> Box<Stop> {
    Box::new(match (&error as &dyn Any).downcast_ref::<Cancel>() {
        Some(cancel) => Stop::Cancelled(cancel.reason.clone()),
        None => Stop::Failed(describe_error(error)),
    })
}

/// Display text of an error; its Debug form when Display says nothing. A `String` error is
/// its own text, and is kept rather than copied: a run with many failures makes one per
/// failure.
fn describe_error<E: fmt::Debug + fmt::Display + 'static>(error: E) -> String {
    let mut error = Some(error);
    let own_text = (&mut error as &mut dyn Any)
        .downcast_mut::<Option<String>>()
        .and_then(Option::take);
    let text_or_debug = |text: String, debug: &dyn fmt::Debug| {
        if text.is_empty() {
            format!("{debug:?}")
        } else {
            text
        }
    };
    match (own_text, error) {
        (Some(text), _) => text_or_debug(text, &""),
        (None, Some(error)) => text_or_debug(error.to_string(), &error),
        (None, None) => String::new(),
    }
}

/// The states of the live walks of a branch, handed to a serial action that asks for them.
///
/// A serial action runs once for all the walks of its branch; through `States` it can record
/// what it did into each of them (py-combtest let serial actions update every walk's state).
/// Walks that failed or were cancelled are not included. States come in walk-id order.
///
/// It can also judge single walks: [`States::fail`] fails one walk and [`States::cancel`]
/// cancels it, with a message, while the rest of the branch goes on. The report names the
/// serial action as where the walk failed. (Returning `Err` or panicking fails every live
/// walk of the branch instead.)
///
/// ```
/// use combtest::prelude::*;
///
/// #[derive(Clone, Debug, Default)]
/// struct Session { log: Vec<String> }
///
/// #[action(options = ["alice", "bob"])]
/// fn login(user: &'static str, s: &mut Session) { s.log.push(format!("login {user}")); }
///
/// #[serial_action(options = [1, 2])]
/// fn restart_server(version: u32, mut walks: States<'_, Session>) {
///     for session in walks.iter_mut() {
///         session.log.push(format!("restart v{version}"));
///     }
/// }
///
/// let report = combtest! {
///     order: [login, restart_server],
///     state: Session::default(),
///     gather_states: flat,
/// };
/// assert_eq!(report.states[3].log, vec!["login bob", "restart v2"]);
/// ```
pub struct States<'a, S> {
    /// The live walks, collected the first time the serial action looks at them: a serial
    /// action that only takes `States` to ignore it (or one of the many that do not take it)
    /// costs no pass over a branch that may hold millions of walks.
    walks: OnceCell<Collected<'a, S>>,
    collect: Cell<Option<Collector<'a, S>>>,
    /// Where the verdicts on single walks go; the executor reads them after the action.
    verdicts: &'a Verdicts,
}

/// What a serial action decided for one walk of its branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fail(String),
    Cancel(String),
}

/// The verdicts a serial action gave, by walk id, in the order given.
pub(crate) type Verdicts = std::sync::Mutex<Vec<(u64, Verdict)>>;

/// The ids and states of a branch's live walks, in id order.
struct Collected<'a, S> {
    ids: Vec<u64>,
    states: Vec<&'a mut S>,
}

type Collector<'a, S> = Box<dyn FnOnce() -> (Vec<u64>, Vec<&'a mut S>) + Send + 'a>;

impl<'a, S> States<'a, S> {
    /// The live walks that `collect` lists, as `(ids, states)` in id order; verdicts on
    /// single walks go to `verdicts`.
    pub(crate) fn new(
        collect: impl FnOnce() -> (Vec<u64>, Vec<&'a mut S>) + Send + 'a,
        verdicts: &'a Verdicts,
    ) -> Self {
        States {
            walks: OnceCell::new(),
            collect: Cell::new(Some(Box::new(collect))),
            verdicts,
        }
    }

    fn walks(&self) -> &Collected<'a, S> {
        self.walks.get_or_init(|| {
            let collect = self.collect.take().expect("walks are collected once");
            let (ids, states) = collect();
            debug_assert_eq!(ids.len(), states.len());
            Collected { ids, states }
        })
    }

    fn walks_mut(&mut self) -> &mut Collected<'a, S> {
        self.walks();
        self.walks.get_mut().expect("collected just above")
    }

    /// How many live walks the branch has.
    pub fn len(&self) -> usize {
        self.walks().states.len()
    }

    /// Whether the branch has no live walk (a serial action is never called with none).
    pub fn is_empty(&self) -> bool {
        self.walks().states.is_empty()
    }

    /// The walk ids of the states, in the same order.
    pub fn ids(&self) -> &[u64] {
        &self.walks().ids
    }

    /// The states, in walk-id order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut S> + use<'_, 'a, S> {
        self.walks_mut().states.iter_mut().map(|s| &mut **s)
    }

    /// The states with their walk ids.
    pub fn iter_mut_with_ids(&mut self) -> impl Iterator<Item = (u64, &mut S)> + use<'_, 'a, S> {
        let Collected { ids, states } = self.walks_mut();
        ids.iter().copied().zip(states.iter_mut().map(|s| &mut **s))
    }

    /// Fails walk `id` of this branch with `message`, as if the serial action had failed for
    /// it alone: the walk runs no further, the report shows it failed in this serial action
    /// with this message, and the branch's other walks go on. The state stays in this list
    /// for the rest of the serial action. Its failure's kind is
    /// [`FailureKind::Judged`](crate::FailureKind::Judged), and the report says the serial
    /// action failed the walk, not that it failed itself.
    ///
    /// # Panics
    /// If `id` is not a live walk of the branch (see [`States::ids`]): a panic in a serial
    /// action fails its whole branch, with this message.
    ///
    /// ```
    /// use combtest::prelude::*;
    ///
    /// #[action(options = [1, 2, 3])]
    /// fn deposit(n: u32, balance: &mut u32) { *balance += n; }
    ///
    /// #[serial_action(options = ["audit"])]
    /// fn audit(_: &'static str, mut walks: States<'_, u32>) {
    ///     let odd: Vec<u64> = walks
    ///         .iter_mut_with_ids()
    ///         .filter(|(_, balance)| **balance % 2 == 1)
    ///         .map(|(id, _)| id)
    ///         .collect();
    ///     for id in odd {
    ///         walks.fail(id, "an odd balance");
    ///     }
    /// }
    ///
    /// let report = combtest! {
    ///     order: [deposit, audit],
    ///     state: 0,
    ///     panic_on_failure: false,
    /// };
    /// assert_eq!(report.error_count, 2);
    /// assert_eq!(report.failures[0].failed_action, "audit");
    /// assert_eq!(report.failures[0].message, "an odd balance");
    /// assert_eq!(report.failures[0].kind, combtest::FailureKind::Judged);
    /// ```
    pub fn fail(&mut self, id: u64, message: impl Into<String>) {
        self.judge(id, Verdict::Fail(message.into()));
    }

    /// Cancels walk `id` of this branch with `reason`: the walk runs no further and counts
    /// as cancelled, and the branch's other walks go on. Panics as [`States::fail`] does.
    pub fn cancel(&mut self, id: u64, reason: impl Into<String>) {
        self.judge(id, Verdict::Cancel(reason.into()));
    }

    fn judge(&mut self, id: u64, verdict: Verdict) {
        let ids = &self.walks().ids;
        if ids.binary_search(&id).is_err() {
            let live = match (ids.first(), ids.last()) {
                (Some(first), Some(last)) => {
                    format!("{} live walks, ids {first} to {last}", ids.len())
                }
                _ => "no live walk".to_string(),
            };
            panic!("combtest: walk {id} is not a live walk of this branch ({live})");
        }
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        verdicts.push((id, verdict));
    }
}

impl<'a, S> IntoIterator for States<'a, S> {
    type Item = &'a mut S;
    type IntoIter = std::vec::IntoIter<&'a mut S>;
    fn into_iter(self) -> Self::IntoIter {
        self.walks();
        let walks = self.walks.into_inner().expect("collected just above");
        walks.states.into_iter()
    }
}

impl<S: fmt::Debug> fmt::Debug for States<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let walks = self.walks();
        f.debug_map()
            .entries(walks.ids.iter().zip(walks.states.iter()))
            .finish()
    }
}

/// Whether an action runs inside each walk or once per branch at a barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Runs once in every walk, in parallel with other walks.
    Regular,
    /// Runs once per branch, alone, between two parallel segments.
    Serial,
}

/// One entry of an order: a named operation with its option list.
///
/// `#[action]` generates a `name::action()` constructor for each annotated function; build one
/// by hand with [`Action::new`] when the order is only known at run time.
///
/// `S` is the per-walk state, `G` the shared context (`()` when there is none).
pub struct Action<S, G = ()> {
    name: Cow<'static, str>,
    kind: ActionKind,
    recipe: Arc<dyn Recipe<S, G>>,
}

impl<S, G> Clone for Action<S, G> {
    fn clone(&self) -> Self {
        Action {
            name: self.name.clone(),
            kind: self.kind,
            recipe: Arc::clone(&self.recipe),
        }
    }
}

impl<S, G> fmt::Debug for Action<S, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Action")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<S: 'static, G> Action<S, G> {
    /// An action from a name, an option source (evaluated once per run) and a body.
    ///
    /// The body gets one option, the walk's state and the shared context, and returns `()` or
    /// `Result<(), E>` (see [`ActionReturn`]).
    ///
    /// ```
    /// use combtest::{Action, Combtest};
    ///
    /// let sizes = vec![1usize, 10, 100];
    /// let push = Action::new("push", move || sizes.clone(), |n: usize, v: &mut Vec<usize>, _: &()| {
    ///     v.push(n);
    /// });
    /// let report = Combtest::new(Vec::new())
    ///     .then(push.clone())
    ///     .then(push)
    ///     .gather_states(combtest::Gather::Flat)
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(report.walk_count, 9);
    /// assert_eq!(report.states[1], vec![1, 10]);
    /// ```
    pub fn new<P, I, R>(
        name: impl Into<Cow<'static, str>>,
        options: impl Fn() -> I + Send + Sync + 'static,
        body: impl Fn(P, &mut S, &G) -> R + Send + Sync + 'static,
    ) -> Self
    where
        P: Param,
        I: IntoIterator<Item = P>,
        R: ActionReturn,
    {
        Action::from_recipe(
            name,
            ActionKind::Regular,
            recipe::<Walkwise, P, I, _>(options, body),
        )
    }

    /// A serial action: runs once per branch, alone, with exclusive access to the shared
    /// context and to the states of the branch's live walks (see [`States`]).
    ///
    /// ```
    /// use combtest::{Action, Combtest, Gather, States};
    ///
    /// let add = Action::new("add", || [1, 2], |n: i32, v: &mut Vec<i32>, _: &u32| v.push(n));
    /// let bump = Action::serial("bump", || [10, 20], |n: i32, runs: &mut u32, mut walks: States<'_, Vec<i32>>| {
    ///     *runs += 1;
    ///     for v in walks.iter_mut() {
    ///         v.push(n);
    ///     }
    /// });
    /// let report = Combtest::with_shared(Vec::new(), 0u32)
    ///     .then(add)
    ///     .then(bump)
    ///     .gather_states(Gather::Flat)
    ///     .run()
    ///     .unwrap();
    /// // Serial wheels are the most significant: walks 0-1 ran bump(10), walks 2-3 bump(20).
    /// assert_eq!(report.states, vec![vec![1, 10], vec![2, 10], vec![1, 20], vec![2, 20]]);
    /// ```
    pub fn serial<P, I, R>(
        name: impl Into<Cow<'static, str>>,
        options: impl Fn() -> I + Send + Sync + 'static,
        body: impl Fn(P, &mut G, States<'_, S>) -> R + Send + Sync + 'static,
    ) -> Self
    where
        P: Param,
        I: IntoIterator<Item = P>,
        R: ActionReturn,
    {
        Action::from_recipe(
            name,
            ActionKind::Serial,
            recipe::<Branchwise, P, I, _>(options, body),
        )
    }

    /// An async action: its body returns a future, which combtest awaits on a runtime it
    /// owns, with many walks in flight per worker thread (see `Combtest::concurrency`).
    /// `#[action] async fn` builds one; by hand, the body is a function (closures cannot
    /// yet say that their future borrows their arguments).
    ///
    /// ```
    /// use combtest::{Action, ActionFuture, Combtest};
    ///
    /// fn push_later<'a>(n: u32, v: &'a mut Vec<u32>, _: &'a ()) -> ActionFuture<'a, ()> {
    ///     Box::pin(async move { v.push(n) })
    /// }
    ///
    /// let report = Combtest::new(Vec::new())
    ///     .then(Action::new_async("push_later", || [1, 2], push_later))
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(report.walk_count, 2);
    /// ```
    pub fn new_async<P, I, R>(
        name: impl Into<Cow<'static, str>>,
        options: impl Fn() -> I + Send + Sync + 'static,
        body: impl for<'a> Fn(P, &'a mut S, &'a G) -> ActionFuture<'a, R> + Send + Sync + 'static,
    ) -> Self
    where
        P: Param,
        I: IntoIterator<Item = P>,
        R: ActionReturn + Send + 'static,
    {
        Action::from_recipe(
            name,
            ActionKind::Regular,
            recipe::<AsyncWalkwise, P, I, _>(options, body),
        )
    }

    /// An async serial action: runs once per branch, alone, like [`Action::serial`]; its
    /// future is awaited before any walk of the branch goes on. It is polled on a thread of
    /// combtest's, so the state and the shared context must be `Send`.
    pub fn serial_async<P, I, R>(
        name: impl Into<Cow<'static, str>>,
        options: impl Fn() -> I + Send + Sync + 'static,
        body: impl for<'a> Fn(P, &'a mut G, States<'a, S>) -> SerialFuture<'a, R>
            + Send
            + Sync
            + 'static,
    ) -> Self
    where
        P: Param,
        I: IntoIterator<Item = P>,
        R: ActionReturn + 'static,
        S: Send,
        G: Send,
    {
        Action::from_recipe(
            name,
            ActionKind::Serial,
            recipe::<AsyncBranchwise, P, I, _>(options, body),
        )
    }

    fn from_recipe(
        name: impl Into<Cow<'static, str>>,
        kind: ActionKind,
        recipe: Arc<dyn Recipe<S, G>>,
    ) -> Self {
        Action {
            name: name.into(),
            kind,
            recipe,
        }
    }

    /// The action's name, as reports and traces show it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the action runs per walk or once per branch.
    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// What tells this action from others in an order: the same action at several positions
    /// (clones of one `Action`) has one identity, and its options are evaluated once.
    pub(crate) fn identity(&self) -> *const () {
        Arc::as_ptr(&self.recipe) as *const ()
    }

    /// Evaluates the option source: done once per run, when the run starts.
    pub(crate) fn load(&self) -> LoadedAction<S, G> {
        LoadedAction {
            name: self.name.clone(),
            body: self.recipe.load(),
        }
    }
}

/// How to produce the loaded form of an action; one per action definition.
trait Recipe<S, G>: Send + Sync {
    fn load(&self) -> Body<S, G>;
}

/// An option source and a body; `K` says what kind of body (one of the markers below).
struct OptionRecipe<O, F, K> {
    options: O,
    body: Arc<F>,
    kind: PhantomData<fn() -> K>,
}

/// Markers for the four kinds of body: per walk or per branch, sync or async.
struct Walkwise;
struct Branchwise;
struct AsyncWalkwise;
struct AsyncBranchwise;

fn recipe<K, P, I, F>(
    options: impl Fn() -> I + Send + Sync + 'static,
    body: F,
) -> Arc<OptionRecipe<impl Fn() -> Vec<P> + Send + Sync + 'static, F, K>>
where
    P: Param,
    I: IntoIterator<Item = P>,
{
    Arc::new(OptionRecipe {
        options: move || options().into_iter().collect::<Vec<P>>(),
        body: Arc::new(body),
        kind: PhantomData,
    })
}

impl<O, F, K> OptionRecipe<O, F, K> {
    fn loaded<P>(&self) -> Arc<Loaded<P, F>>
    where
        O: Fn() -> Vec<P>,
    {
        Arc::new(Loaded {
            params: (self.options)(),
            body: Arc::clone(&self.body),
        })
    }
}

impl<S, G, P, O, F, R> Recipe<S, G> for OptionRecipe<O, F, Walkwise>
where
    P: Param,
    O: Fn() -> Vec<P> + Send + Sync,
    F: Fn(P, &mut S, &G) -> R + Send + Sync + 'static,
    R: ActionReturn,
{
    fn load(&self) -> Body<S, G> {
        Body::Regular(self.loaded())
    }
}

impl<S, G, P, O, F, R> Recipe<S, G> for OptionRecipe<O, F, Branchwise>
where
    P: Param,
    O: Fn() -> Vec<P> + Send + Sync,
    F: Fn(P, &mut G, States<'_, S>) -> R + Send + Sync + 'static,
    R: ActionReturn,
{
    fn load(&self) -> Body<S, G> {
        Body::Serial(self.loaded())
    }
}

impl<S, G, P, O, F, R> Recipe<S, G> for OptionRecipe<O, F, AsyncWalkwise>
where
    P: Param,
    O: Fn() -> Vec<P> + Send + Sync,
    F: for<'a> Fn(P, &'a mut S, &'a G) -> ActionFuture<'a, R> + Send + Sync + 'static,
    R: ActionReturn + Send + 'static,
{
    fn load(&self) -> Body<S, G> {
        Body::AsyncRegular(self.loaded())
    }
}

impl<S, G, P, O, F, R> Recipe<S, G> for OptionRecipe<O, F, AsyncBranchwise>
where
    S: Send,
    G: Send,
    P: Param,
    O: Fn() -> Vec<P> + Send + Sync,
    F: for<'a> Fn(P, &'a mut G, States<'a, S>) -> SerialFuture<'a, R> + Send + Sync + 'static,
    R: ActionReturn + 'static,
{
    fn load(&self) -> Body<S, G> {
        Body::AsyncSerial(self.loaded())
    }
}

/// The future of an async action's run on one walk, as `Action::new_async` takes it.
pub type ActionFuture<'a, R> = Pin<Box<dyn Future<Output = R> + Send + 'a>>;

/// The future of an async serial action's run for one branch, as `Action::serial_async`
/// takes it. It holds the branch's [`States`] and is awaited alone, on the thread that runs
/// the test, so it need not be `Send`.
pub type SerialFuture<'a, R> = Pin<Box<dyn Future<Output = R> + 'a>>;

/// The options of one action after loading, seen without their type: what reports, filters
/// and fingerprints need.
pub(crate) trait ParamList: Send + Sync {
    fn len(&self) -> usize;
    fn debug(&self, option: usize) -> String;
    fn json(&self, option: usize) -> Result<serde_json::Value, serde_json::Error>;
    /// The whole option list, as `&Vec<P>`.
    fn all(&self) -> &(dyn Any + Send + Sync);
    /// The options where a filter reads them: one hop from a walk to its param.
    fn slice(&self) -> OptionSlice;
}

/// An action's loaded options as `[P]`, with `P`'s type id: what [`Walk::param`] reads, with
/// no more than a type check between a walk and its param.
///
/// [`Walk::param`]: crate::Walk::param
#[derive(Clone, Copy)]
pub(crate) struct OptionSlice {
    /// Never null, as the start of a slice is not: a param read from it is known to be there.
    start: NonNull<()>,
    len: usize,
    type_id: TypeId,
}

// SAFETY: an `OptionSlice` is a shared borrow of a `[P]` whose `P` is `Send + Sync` (a
// `Param`), erased: sending or sharing it is sending or sharing `&[P]`.
unsafe impl Send for OptionSlice {}
// SAFETY: as for `Send`.
unsafe impl Sync for OptionSlice {}

impl OptionSlice {
    /// Erases `options`, which must outlive every use of the slice (see [`OptionSlice::get`]).
    fn of<P: Param>(options: &[P]) -> Self {
        OptionSlice {
            start: NonNull::from(options).cast(),
            len: options.len(),
            type_id: TypeId::of::<P>(),
        }
    }

    /// Option `option`, if the options are `P`s and it is one of them.
    ///
    /// # Safety
    /// The options the slice was made of are still borrowed, unchanged.
    #[inline(always)]
    pub(crate) unsafe fn get<'a, P: 'static>(self, option: usize) -> Option<&'a P> {
        if self.type_id != TypeId::of::<P>() || option >= self.len {
            return None;
        }
        // SAFETY: the type id is `P`'s, so `start` is the start of a `[P]` of `len` items
        // (see `of`), still borrowed by the caller's promise, and `option` is within it.
        Some(unsafe { self.start.cast::<P>().add(option).as_ref() })
    }
}

/// A loaded regular action: runs one of its options on one walk's state.
pub(crate) trait WalkStep<S, G>: ParamList {
    fn run(&self, option: usize, state: &mut S, shared: &G) -> StepResult;
    fn params(&self) -> &dyn ParamList;
}

/// A loaded serial action: runs one of its options once for a whole branch.
pub(crate) trait SerialStep<S, G>: ParamList {
    fn run(&self, option: usize, shared: &mut G, states: States<'_, S>) -> StepResult;
    fn params(&self) -> &dyn ParamList;
}

/// A loaded async regular action: its run on one walk is a future.
#[cfg_attr(not(feature = "async"), allow(dead_code))]
pub(crate) trait AsyncWalkStep<S, G>: ParamList {
    fn run<'a>(
        &'a self,
        option: usize,
        state: &'a mut S,
        shared: &'a G,
    ) -> ActionFuture<'a, StepResult>;
    fn params(&self) -> &dyn ParamList;
}

/// Makes the future of an async serial action's run, on the thread that will poll it.
pub(crate) type SerialFutureMaker<'a> =
    Box<dyn FnOnce() -> SerialFuture<'a, StepResult> + Send + 'a>;

/// A loaded async serial action: its run for one branch is a future. The future need not be
/// `Send`, so the step hands over what makes it instead (everything it holds is `Send`), and
/// the executor makes and polls it on a thread of its own.
#[cfg_attr(not(feature = "async"), allow(dead_code))]
pub(crate) trait AsyncSerialStep<S, G>: ParamList {
    fn prepare<'a>(
        &'a self,
        option: usize,
        shared: &'a mut G,
        states: States<'a, S>,
    ) -> SerialFutureMaker<'a>;
    fn params(&self) -> &dyn ParamList;
}

/// An action's options after loading, with its body.
struct Loaded<P, F> {
    params: Vec<P>,
    body: Arc<F>,
}

impl<P: Param, F: Send + Sync> ParamList for Loaded<P, F> {
    fn len(&self) -> usize {
        self.params.len()
    }
    fn debug(&self, option: usize) -> String {
        format!("{:?}", self.params[option])
    }
    fn json(&self, option: usize) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.params[option])
    }
    fn all(&self) -> &(dyn Any + Send + Sync) {
        &self.params
    }
    fn slice(&self) -> OptionSlice {
        OptionSlice::of(&self.params)
    }
}

impl<S, G, P, F, R> WalkStep<S, G> for Loaded<P, F>
where
    P: Param,
    F: Fn(P, &mut S, &G) -> R + Send + Sync,
    R: ActionReturn,
{
    #[inline]
    fn run(&self, option: usize, state: &mut S, shared: &G) -> StepResult {
        (self.body)(self.params[option].clone(), state, shared).into_step_result()
    }
    fn params(&self) -> &dyn ParamList {
        self
    }
}

impl<S, G, P, F, R> SerialStep<S, G> for Loaded<P, F>
where
    P: Param,
    F: Fn(P, &mut G, States<'_, S>) -> R + Send + Sync,
    R: ActionReturn,
{
    fn run(&self, option: usize, shared: &mut G, states: States<'_, S>) -> StepResult {
        (self.body)(self.params[option].clone(), shared, states).into_step_result()
    }
    fn params(&self) -> &dyn ParamList {
        self
    }
}

impl<S, G, P, F, R> AsyncWalkStep<S, G> for Loaded<P, F>
where
    P: Param,
    F: for<'a> Fn(P, &'a mut S, &'a G) -> ActionFuture<'a, R> + Send + Sync,
    R: ActionReturn + Send + 'static,
{
    fn run<'a>(
        &'a self,
        option: usize,
        state: &'a mut S,
        shared: &'a G,
    ) -> ActionFuture<'a, StepResult> {
        let run = (self.body)(self.params[option].clone(), state, shared);
        Box::pin(async move { run.await.into_step_result() })
    }
    fn params(&self) -> &dyn ParamList {
        self
    }
}

impl<S, G, P, F, R> AsyncSerialStep<S, G> for Loaded<P, F>
where
    S: Send,
    G: Send,
    P: Param,
    F: for<'a> Fn(P, &'a mut G, States<'a, S>) -> SerialFuture<'a, R> + Send + Sync,
    R: ActionReturn + 'static,
{
    fn prepare<'a>(
        &'a self,
        option: usize,
        shared: &'a mut G,
        states: States<'a, S>,
    ) -> SerialFutureMaker<'a> {
        Box::new(move || {
            let run = (self.body)(self.params[option].clone(), shared, states);
            Box::pin(async move { run.await.into_step_result() }) as SerialFuture<'a, StepResult>
        })
    }
    fn params(&self) -> &dyn ParamList {
        self
    }
}

/// The loaded body of an action, by kind.
pub(crate) enum Body<S, G> {
    Regular(Arc<dyn WalkStep<S, G>>),
    Serial(Arc<dyn SerialStep<S, G>>),
    AsyncRegular(Arc<dyn AsyncWalkStep<S, G>>),
    AsyncSerial(Arc<dyn AsyncSerialStep<S, G>>),
}

impl<S, G> Clone for Body<S, G> {
    fn clone(&self) -> Self {
        match self {
            Body::Regular(step) => Body::Regular(Arc::clone(step)),
            Body::Serial(step) => Body::Serial(Arc::clone(step)),
            Body::AsyncRegular(step) => Body::AsyncRegular(Arc::clone(step)),
            Body::AsyncSerial(step) => Body::AsyncSerial(Arc::clone(step)),
        }
    }
}

/// An action whose options have been evaluated for this run; the positions of one action
/// share it.
pub(crate) struct LoadedAction<S, G> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) body: Body<S, G>,
}

impl<S, G> Clone for LoadedAction<S, G> {
    fn clone(&self) -> Self {
        LoadedAction {
            name: self.name.clone(),
            body: self.body.clone(),
        }
    }
}

impl<S, G> LoadedAction<S, G> {
    pub(crate) fn kind(&self) -> ActionKind {
        match self.body {
            Body::Regular(_) | Body::AsyncRegular(_) => ActionKind::Regular,
            Body::Serial(_) | Body::AsyncSerial(_) => ActionKind::Serial,
        }
    }

    /// Whether the action's body is a future, to be awaited by the async executor.
    pub(crate) fn is_async(&self) -> bool {
        matches!(self.body, Body::AsyncRegular(_) | Body::AsyncSerial(_))
    }

    pub(crate) fn params(&self) -> &dyn ParamList {
        match &self.body {
            Body::Regular(step) => step.params(),
            Body::Serial(step) => step.params(),
            Body::AsyncRegular(step) => step.params(),
            Body::AsyncSerial(step) => step.params(),
        }
    }

    /// The regular body; the planner never hands a serial position to a walk.
    #[inline]
    pub(crate) fn walk_step(&self) -> &dyn WalkStep<S, G> {
        match &self.body {
            Body::Regular(step) => &**step,
            Body::Serial(_) | Body::AsyncSerial(_) => {
                unreachable!("serial action `{}` run inside a walk", self.name)
            }
            // The builder hands an order with async actions to the async executor only.
            Body::AsyncRegular(_) => {
                unreachable!("async action `{}` run by a sync executor", self.name)
            }
        }
    }
}

/// The JSON form of each option of the action `name`. Serializing every option up front turns
/// an unserializable param into an error before any walk runs, instead of a gap in a trace.
pub(crate) fn option_json(
    name: &str,
    params: &dyn ParamList,
) -> Result<Vec<serde_json::Value>, Error> {
    (0..params.len())
        .map(|option| {
            params.json(option).map_err(|error| Error::Unserializable {
                action: name.to_string(),
                param: params.debug(option),
                message: error.to_string(),
            })
        })
        .collect()
}

/// The stable hash of one option (its action's name and its JSON form): the bricks of walk
/// fingerprints.
pub(crate) fn option_hash(action: &str, json: &serde_json::Value) -> u64 {
    let mut hash = Fnv64::new();
    hash.write(action.as_bytes());
    hash.write(&[0xff]);
    hash.write(json.to_string().as_bytes());
    hash.finish()
}

/// What `combtest!` resolves each entry of its order through; `#[action]` implements it on
/// the companion struct of each annotated function.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a combtest action for state `{S}` and shared context `{G}`",
    label = "not an action of this order",
    note = "an order lists functions annotated with `#[combtest::action]`, whose state \
            and shared-context types match the `state` and `shared` of the block"
)]
pub trait ActionItem<S, G> {
    /// The param type.
    type Param: Param;
    /// The action's name.
    const NAME: &'static str;
    /// Whether it is a serial action: an order with one needs the barrier executor.
    const SERIAL: bool;
    /// Whether it is async: an order with one needs the async executor.
    const ASYNC: bool;
    /// The action as an order entry.
    fn action() -> Action<S, G>;
    /// Calls the function directly on one walk (regular actions only): what the
    /// statically dispatched walks of `combtest!` inline.
    fn call(param: Self::Param, state: &mut S, shared: &G) -> StepResult;
}

/// Type-checks a literal or iterator option source against the param type, with the error on
/// the user's expression.
#[doc(hidden)]
pub fn collect_options<P: Param, I: IntoIterator<Item = P>>(options: I) -> Vec<P> {
    options.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_with<E: fmt::Debug + fmt::Display + 'static>(error: E) -> String {
        match Err::<(), E>(error).into_step_result().map_err(|stop| *stop) {
            Err(Stop::Failed(message)) => message,
            other => panic!("not a failure: {other:?}"),
        }
    }

    #[test]
    fn an_error_fails_with_its_text_and_a_string_error_is_kept_not_copied() {
        let message = String::from("a = 1207");
        let buffer = message.as_ptr();
        let kept = failed_with(message);
        assert_eq!(kept, "a = 1207");
        assert_eq!(kept.as_ptr(), buffer);
        assert_eq!(failed_with("refused"), "refused");
        assert_eq!(failed_with(String::new()), "\"\"");
        assert_eq!(failed_with(""), "\"\"");

        #[derive(Debug)]
        struct Silent;
        impl fmt::Display for Silent {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                Ok(())
            }
        }
        assert_eq!(failed_with(Silent), "Silent");
        assert!(matches!(
            Err::<(), Cancel>(Cancel::new("busy")).into_step_result().map_err(|s| *s),
            Err(Stop::Cancelled(reason)) if reason == "busy"
        ));
    }

    #[test]
    fn states_collect_the_walks_once_and_only_when_looked_at() {
        fn collect<'a>(
            collected: &'a std::sync::atomic::AtomicU32,
            values: &'a mut [i32],
        ) -> impl FnOnce() -> (Vec<u64>, Vec<&'a mut i32>) + 'a {
            move || {
                collected.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (vec![4, 5, 6], values.iter_mut().collect())
            }
        }
        let collected = std::sync::atomic::AtomicU32::new(0);
        let mut values = [10, 20, 30];

        let verdicts = Verdicts::default();
        drop(States::new(collect(&collected, &mut values), &verdicts));
        assert_eq!(
            collected.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "unused states cost no pass over the walks"
        );

        let mut walks = States::new(collect(&collected, &mut values), &verdicts);
        assert_eq!((walks.len(), walks.is_empty()), (3, false));
        assert_eq!(walks.ids(), &[4, 5, 6]);
        for value in walks.iter_mut() {
            *value += 1;
        }
        let seen: Vec<(u64, i32)> = walks.iter_mut_with_ids().map(|(id, v)| (id, *v)).collect();
        assert_eq!(seen, [(4, 11), (5, 21), (6, 31)]);
        assert_eq!(format!("{walks:?}"), "{4: 11, 5: 21, 6: 31}");
        assert_eq!(collected.load(std::sync::atomic::Ordering::SeqCst), 1);
        for value in walks {
            *value *= 2;
        }
        assert_eq!(values, [22, 42, 62]);
    }

    #[test]
    fn result_errors_fail_and_cancel_values_cancel() {
        assert!(().into_step_result().is_ok());
        let failed: Result<(), String> = Err("boom".into());
        assert!(
            matches!(failed.into_step_result().map_err(|s| *s), Err(Stop::Failed(m)) if m == "boom")
        );
        let cancelled: Result<(), Cancel> = Err(Cancel::new("n/a"));
        assert!(
            matches!(cancelled.into_step_result().map_err(|s| *s), Err(Stop::Cancelled(r)) if r == "n/a")
        );
        assert_eq!(
            std::mem::size_of::<StepResult>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn empty_display_falls_back_to_debug() {
        let failed: Result<(), String> = Err(String::new());
        assert!(
            matches!(failed.into_step_result().map_err(|s| *s), Err(Stop::Failed(m)) if m == "\"\"")
        );
    }

    #[test]
    fn options_are_evaluated_at_load_time_each_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let action: Action<u32> = Action::new(
            "count",
            || {
                CALLS.fetch_add(1, Ordering::SeqCst);
                0..3u32
            },
            |n: u32, s: &mut u32, _: &()| *s += n,
        );
        assert_eq!(CALLS.load(Ordering::SeqCst), 0);
        let loaded = action.load();
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
        assert_eq!(loaded.params().len(), 3);
        let mut state = 0;
        assert!(loaded.walk_step().run(2, &mut state, &()).is_ok());
        assert_eq!(state, 2);
        action.load();
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    }
}
