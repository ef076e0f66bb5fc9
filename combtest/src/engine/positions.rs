//! Where a walk stands while combtest runs the test's own code for it outside its actions:
//! cursor positions past every action, so that a walk's cursor tells an unwind from the
//! state's `Clone`, factory or `Drop` apart from an action's at no cost until one happens.
//!
//! The compiled loops write a position only when it is read: [`MarkOnUnwind`] writes it while
//! an unwind passes, and a stop returned by an action writes it on its way out. A walk that
//! passes writes none.

/// The cursor position of a walk whose state is being made (cloned or built by the factory).
pub(crate) const MAKING_STATE: usize = usize::MAX;
/// The cursor position of a walk whose state is being dropped after its actions.
pub(crate) const DROPPING_STATE: usize = usize::MAX - 1;

/// Writes `at` to a cursor field (the position, or whether the test's own code runs) if
/// dropped, which only an unwind does: the code it covers ends with
/// [`MarkOnUnwind::disarm`]. A passing walk pays nothing for it; the compiler places the write
/// in the unwind path of the covered calls.
pub(crate) struct MarkOnUnwind<'a, T> {
    field: &'a mut T,
    at: T,
}

impl<'a, T> MarkOnUnwind<'a, T> {
    /// Covers the code up to [`disarm`](Self::disarm): an unwind there leaves `at` in
    /// `field`.
    #[inline(always)]
    pub(crate) fn new(field: &'a mut T, at: T) -> Self {
        MarkOnUnwind { field, at }
    }

    /// The covered code returned: nothing is written.
    #[inline(always)]
    pub(crate) fn disarm(self) {
        std::mem::forget(self);
    }
}

impl<T> Drop for MarkOnUnwind<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // Only an unwind drops the mark, once: the value is not needed afterwards.
        std::mem::swap(self.field, &mut self.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unwind_marks_the_position_and_a_return_does_not() {
        let mut position = 7;
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mark = MarkOnUnwind::new(&mut position, 3);
            std::hint::black_box(());
            if std::hint::black_box(true) {
                panic!("the covered code");
            }
            mark.disarm();
        }));
        assert!(unwound.is_err());
        assert_eq!(position, 3);

        let mark = MarkOnUnwind::new(&mut position, MAKING_STATE);
        mark.disarm();
        assert_eq!(position, 3, "a return writes nothing");
    }
}
