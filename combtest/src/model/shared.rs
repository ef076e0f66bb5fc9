//! How the shared context reaches the actions: given to the run, or lent by the test.
//!
//! An action that takes `shared: &App` fits any run whose shared context can lend an `&App`:
//! the `App` itself (`shared: app`), or a borrow of one that lives in the test
//! (`shared: &app`, `shared: &mut app`). A serial action that takes `&mut App` needs a
//! context that can lend it mutably: the `App` itself or `&mut app`. So the shared context
//! need not be `'static`: anything that outlives the run can be lent, and a lent context is
//! the test's again after the run. Worker threads are scoped to the run, which is what makes
//! a borrow sound: no walk outlives [`Combtest::run`](crate::Combtest::run).

/// A shared context that lends `&G` to the actions that read it: `G` itself, `&G` or
/// `&mut G`.
///
/// ```
/// use combtest::Lend;
///
/// fn limit(shared: &impl Lend<u32>) -> u32 { *shared.lend() }
/// let mut max = 3u32;
/// assert_eq!(limit(&max), 3);
/// assert_eq!(limit(&&max), 3);
/// assert_eq!(limit(&&mut max), 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "the shared context `{Self}` is not the `{G}` an action of this order reads",
    label = "an action of this order takes `&{G}`",
    note = "give the run a `{G}` as its shared context: `shared: value`, or lend one: \
            `shared: &value` (`Combtest::with_shared` in the builder)"
)]
pub trait Lend<G: ?Sized> {
    /// The context, for an action to read.
    fn lend(&self) -> &G;
}

/// A shared context that lends `&mut G` to the serial actions that change it: `G` itself
/// or `&mut G` (a context lent as `&G` cannot be changed).
///
/// ```
/// use combtest::LendMut;
///
/// fn bump(shared: &mut impl LendMut<u32>) { *shared.lend_mut() += 1; }
/// let mut runs = 0u32;
/// bump(&mut &mut runs);
/// assert_eq!(runs, 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "a serial action of this order changes the shared context `{G}`, which `{Self}` cannot lend mutably",
    label = "a serial action of this order takes `&mut {G}`",
    note = "give the run the context, `shared: value`, or lend it mutably: `shared: &mut value`",
    note = "a serial action's `&mut` argument is the run's shared context, not a walk's state: to reach the walks' states, a serial action takes `states: States<'_, S>`"
)]
pub trait LendMut<G: ?Sized> {
    /// The context, for a serial action to change.
    fn lend_mut(&mut self) -> &mut G;
}

impl<G> Lend<G> for G {
    #[inline(always)]
    fn lend(&self) -> &G {
        self
    }
}

impl<G: ?Sized> Lend<G> for &G {
    #[inline(always)]
    fn lend(&self) -> &G {
        self
    }
}

impl<G: ?Sized> Lend<G> for &mut G {
    #[inline(always)]
    fn lend(&self) -> &G {
        self
    }
}

impl<G> LendMut<G> for G {
    #[inline(always)]
    fn lend_mut(&mut self) -> &mut G {
        self
    }
}

impl<G: ?Sized> LendMut<G> for &mut G {
    #[inline(always)]
    fn lend_mut(&mut self) -> &mut G {
        self
    }
}
