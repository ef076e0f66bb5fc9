//! A read-only view of one walk, as a filter sees it before the walk runs.

use std::fmt;

use super::action::ParamList;

/// The names and loaded options of an order, without the state and shared types, so that a
/// filter's signature does not depend on them.
pub(crate) struct OrderView<'a> {
    pub(crate) names: Vec<&'a str>,
    pub(crate) params: Vec<&'a dyn ParamList>,
}

/// One walk: its id and the option each position of the order picks.
///
/// Filters receive a `&Walk` and return whether the walk should run; a rejected walk keeps
/// its id and is counted in `Report::skipped_count`.
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
    pub(crate) id: u64,
    pub(crate) options: &'a [usize],
    pub(crate) order: &'a OrderView<'a>,
}

impl<'a> Walk<'a> {
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

    /// Index, in its action's option list, of the option picked at `position`.
    ///
    /// # Panics
    /// If `position` is not a position of the order.
    pub fn option_index(&self, position: usize) -> usize {
        self.options[position]
    }

    /// The param picked at `position`, if that action's options have type `P`.
    ///
    /// # Panics
    /// If `position` is not a position of the order.
    pub fn param<P: 'static>(&self, position: usize) -> Option<&'a P> {
        self.order.params[position]
            .any(self.options[position])
            .downcast_ref()
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
        for (position, &option) in self.options.iter().enumerate() {
            if position > 0 {
                f.write_str(" -> ")?;
            }
            let params = self.order.params[position];
            write!(
                f,
                "{}({})",
                self.order.names[position],
                params.debug(option)
            )?;
        }
        Ok(())
    }
}
