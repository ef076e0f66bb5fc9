//! The text of each step a run can report: every action's name and every option's `Debug`,
//! made once per run per (action, option), the first time a failure (or a trace) needs it,
//! then shared by every record that picks that option.
//!
//! A run's options are fixed once its plan is loaded, so the `Debug` of an option is the same
//! text for every walk that picks it; formatting it again for each failure was most of what
//! describing a failure cost. The texts are `Arc<str>`: a failure's steps point at them.

use std::sync::{Arc, OnceLock};

/// The names of a run's actions and the `Debug` text of each option, filled on demand.
pub(crate) struct StepTexts {
    /// Per position: the action's name.
    names: Vec<Arc<str>>,
    /// Per position, per option: its `Debug` text, once something asked for it.
    debug: Vec<Box<[OnceLock<Arc<str>>]>>,
}

impl StepTexts {
    /// Room for the texts of actions with these names and these numbers of options.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>, radices: &[usize]) -> Self {
        StepTexts {
            names: names.into_iter().map(Arc::from).collect(),
            debug: radices
                .iter()
                .map(|&radix| (0..radix).map(|_| OnceLock::new()).collect())
                .collect(),
        }
    }

    /// The name of the action at `position`.
    pub(crate) fn name(&self, position: usize) -> &Arc<str> {
        &self.names[position]
    }

    /// The `Debug` text of `option` at `position`, if something made it already.
    pub(crate) fn get(&self, position: usize, option: usize) -> Option<&Arc<str>> {
        self.debug[position][option].get()
    }

    /// The `Debug` text of `option` at `position`; `describe` makes it the first time (it
    /// runs the test's own `Debug`, so the caller guards it against panics).
    pub(crate) fn debug(
        &self,
        position: usize,
        option: usize,
        describe: impl FnOnce() -> String,
    ) -> &Arc<str> {
        self.debug[position][option].get_or_init(|| Arc::from(describe()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_is_made_once_and_shared() {
        let texts = StepTexts::new(["a", "b"], &[2, 3]);
        let mut made = 0;
        let first = texts
            .debug(1, 2, || {
                made += 1;
                "two".into()
            })
            .clone();
        let again = texts.debug(1, 2, || {
            made += 1;
            "other".into()
        });
        assert_eq!(made, 1);
        assert_eq!(&*first, "two");
        assert!(Arc::ptr_eq(&first, again));
        assert_eq!(&**texts.name(1), "b");
    }
}
