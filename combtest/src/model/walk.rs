//! A read-only view of one walk, as a filter sees it before the walk runs.

use std::fmt;

use super::action::{OptionSlice, ParamList};

/// The names and loaded options of an order, without the state and shared types, so that a
/// filter's signature does not depend on them.
pub(crate) struct OrderView<'a> {
    pub(crate) names: Vec<&'a str>,
    pub(crate) params: Vec<&'a dyn ParamList>,
    /// Each position's options as a slice, taken once: a filter asks for params once per
    /// walk, and this spares it indirect calls and hops through each list's `Vec`.
    /// Borrowed from `params` for `'a`.
    lists: Vec<OptionSlice>,
}

impl<'a> OrderView<'a> {
    /// The view of actions with these names and option lists.
    pub(crate) fn new(names: Vec<&'a str>, params: Vec<&'a dyn ParamList>) -> Self {
        let lists = params.iter().map(|list| list.slice()).collect();
        OrderView {
            names,
            params,
            lists,
        }
    }
}

/// The option index of a position a partial walk has not chosen yet.
pub(crate) const UNCHOSEN: usize = usize::MAX;

/// The id a partial walk reports: it is no walk of the space yet.
pub(crate) const PARTIAL_WALK_ID: u64 = u64::MAX;

/// One walk: its id and the option each position of the order picks.
///
/// Filters receive a `&Walk` and return whether the walk should run; a rejected walk keeps
/// its id and is counted in `Report::skipped_count`. A partial filter
/// ([`Combtest::partial_filter`](crate::Combtest::partial_filter)) may also receive partial
/// walks, where some positions are not chosen yet: [`Walk::is_chosen`] is `false` for them,
/// [`Walk::param`] is `None`, and the id is `u64::MAX`.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [1u32, 2, 3])]
/// fn add(n: u32, total: &mut u32) { *total += n; }
///
/// let report = combtest! {
///     order: [add, add],
///     state: 0u32,
///     // Only walks whose two params differ.
///     filter: |walk: &Walk| walk.param::<u32>(0) != walk.param::<u32>(1),
/// };
/// assert_eq!((report.walk_count, report.skipped_count), (6, 3));
/// ```
pub struct Walk<'a> {
    id: u64,
    /// The option of each position, except the one `turning` gives.
    options: &'a [usize],
    turning: Turning,
    order: &'a OrderView<'a>,
}

/// The option of one position, given apart from the others: a loop that turns one position
/// a walk at a time then writes no memory per walk, so that what a filter reads of the
/// positions that stay put is, to the compiler, the same on every turn.
#[derive(Clone, Copy)]
struct Turning {
    /// A position of the order, or `usize::MAX` (none).
    position: usize,
    option: usize,
}

impl<'a> Walk<'a> {
    /// Walk `id`, which picks `options[p]` at each position `p`.
    #[inline]
    pub(crate) fn new(id: u64, options: &'a [usize], order: &'a OrderView<'a>) -> Self {
        Walk {
            id,
            options,
            turning: Turning {
                position: usize::MAX,
                option: 0,
            },
            order,
        }
    }

    /// Walk `id`, which picks `option` at `position` and `options[p]` at each other
    /// position `p`.
    ///
    /// # Panics
    /// If `position` is not a position of `options`.
    #[inline]
    pub(crate) fn turning(
        id: u64,
        options: &'a [usize],
        position: usize,
        option: usize,
        order: &'a OrderView<'a>,
    ) -> Self {
        assert!(position < options.len());
        Walk {
            id,
            options,
            turning: Turning { position, option },
            order,
        }
    }

    /// The option picked at `position`. Panics if `position` is not a position of the order,
    /// as the accessors document: the options are indexed first, whatever turns.
    #[inline]
    fn option(&self, position: usize) -> usize {
        let kept = self.options[position];
        if position == self.turning.position {
            self.turning.option
        } else {
            kept
        }
    }

    /// The walk's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Number of positions (entries of the order).
    pub fn len(&self) -> usize {
        self.options.len()
    }

    /// Whether the order is empty (never true in a run).
    pub fn is_empty(&self) -> bool {
        self.options.is_empty()
    }

    /// Name of the action at `position`.
    ///
    /// # Panics
    /// If `position` is not a position of the order.
    pub fn name(&self, position: usize) -> &'a str {
        self.order.names[position]
    }

    /// Index, in its action's option list, of the option picked at `position` (`usize::MAX`
    /// in a partial walk that has not chosen it yet).
    ///
    /// # Panics
    /// If `position` is not a position of the order.
    pub fn option_index(&self, position: usize) -> usize {
        self.option(position)
    }

    /// Whether `position` has its option: always, except in the partial walks a partial
    /// filter is asked about.
    ///
    /// # Panics
    /// If `position` is not a position of the order.
    pub fn is_chosen(&self, position: usize) -> bool {
        self.option(position) != UNCHOSEN
    }

    /// The param picked at `position`, if that action's options have type `P` (and, in a
    /// partial walk, the position is chosen).
    ///
    /// # Panics
    /// If `position` is not a position of the order.
    pub fn param<P: 'static>(&self, position: usize) -> Option<&'a P> {
        let option = self.option(position);
        let list = self.order.lists[position];
        // An unchosen position's option, `usize::MAX`, is none of its options.
        // SAFETY: the view borrows the option lists for `'a` (see `OrderView::new`).
        unsafe { list.get(option) }
    }

    /// The param of the first position whose action is named `action`, if it has type `P`.
    pub fn param_of<P: 'static>(&self, action: &str) -> Option<&'a P> {
        let position = self.order.names.iter().position(|n| *n == action)?;
        self.param(position)
    }
}

impl fmt::Debug for Walk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "walk {}: {self}", self.id)
    }
}

impl fmt::Display for Walk<'_> {
    /// `name(param) -> name(param) -> ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for position in 0..self.len() {
            let option = self.option(position);
            if position > 0 {
                f.write_str(" -> ")?;
            }
            let name = self.order.names[position];
            if option == UNCHOSEN {
                write!(f, "{name}(?)")?;
            } else {
                let param = self.order.params[position].debug(option);
                write!(f, "{}", crate::model::step_text::StepText { name, param })?;
            }
        }
        Ok(())
    }
}
