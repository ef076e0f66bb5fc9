//! A run as the analysis sees it: the plan, the walks selected and the filter of a run,
//! adapted to the analysis's inputs, and what the causes rest on.

use std::cell::OnceCell;
use std::ops::{ControlFlow, Range};

use super::cancels::CancelTally;
use super::data::Evidence;
use super::{analyse, position_names, Inputs, Ran};
use crate::model::plan::OrderFacts;
use crate::model::walk::{OrderView, Walk};
use crate::model::walk_id::WalkSelection;
use crate::output::report::Report;

/// A filter over whole walks.
pub(crate) type FilterFn<'a> = &'a (dyn Fn(&Walk<'_>) -> bool + Send + Sync);

/// A filter over partial and whole walks (see `Combtest::partial_filter`).
pub(crate) type PartialFn<'a> = &'a (dyn Fn(&Walk<'_>) -> Option<bool> + Send + Sync);

/// The filters of a run, as whole walks pass them: the filter, and the partial filter, which
/// on a whole walk filters like the other (it removes the walk when it answers
/// `Some(false)`). A walk runs if it passes both.
#[derive(Clone, Copy, Default)]
pub(crate) struct Filters<'a> {
    pub(crate) whole: Option<FilterFn<'a>>,
    pub(crate) partial: Option<PartialFn<'a>>,
}

impl Filters<'_> {
    /// Whether the run has a filter of either kind.
    pub(crate) fn any(&self) -> bool {
        self.whole.is_some() || self.partial.is_some()
    }

    /// Whether the whole walk `walk` passes both filters.
    pub(crate) fn keep(&self, walk: &Walk<'_>) -> bool {
        self.whole.is_none_or(|keep| keep(walk))
            && self.partial.is_none_or(|judge| judge(walk) != Some(false))
    }
}

/// What ran: the order, the walks selected and the filters they passed.
pub(crate) struct RunView<'a> {
    pub(crate) plan: &'a OrderFacts,
    pub(crate) view: &'a OrderView<'a>,
    pub(crate) filters: Filters<'a>,
    /// The walks selected (before the filter).
    pub(crate) walks: &'a WalkSelection,
    /// The strength of the covering array that chose the walks, if one did.
    pub(crate) covering: Option<usize>,
    /// Whether this run is one shard of several.
    pub(crate) sharded: bool,
    /// The text of option `o` of position `p`, as reports show it: a param's `Debug` is the
    /// test's own code, and one that panics must not lose the report.
    pub(crate) param: &'a dyn Fn(usize, usize) -> String,
    /// Which selected walks the filters let run, once asked (see [`RunView::ran_check`]):
    /// kept by the run, for every view of it.
    pub(crate) answers: &'a FilterAnswers,
}

/// Which selected walks a run's filters let run, once asked: one bit per selected walk, in
/// id order, set if it ran (`None`: too many walks to keep a bit each). See
/// [`RunView::ran_check`].
pub(crate) type FilterAnswers = OnceCell<Option<Vec<u64>>>;

/// The most selected walks whose answers a [`RunView`] keeps, a bit each (32 MiB): past
/// them, the filters are asked again on each visit instead.
const MOST_KEPT_ANSWERS: u64 = 1 << 28;

impl RunView<'_> {
    /// Whether the filters allow the walk `id` with these options.
    pub(crate) fn allowed(&self, id: u64, options: &[usize]) -> bool {
        !self.filters.any()
            || self.filters.keep(&Walk {
                id,
                options,
                order: self.view,
            })
    }

    /// Whether each selected walk, visited in id order, ran.
    ///
    /// The filters are asked again about every selected walk, as they were before the walks
    /// ran, by the first visit only: it keeps their answers, a bit per walk, and every later
    /// visit of the analysis, the confirming walks and the shard's list of skipped walks read
    /// them. So a costly filter is asked once more in all, not once per visit, and a filter
    /// that would answer otherwise when asked again (one that samples, say) is seen the same
    /// way by each of them.
    fn ran_check(&self) -> RanCheck<'_, '_> {
        let known = match self.answers.get() {
            Some(Some(ran)) => Known::Kept { ran, next: 0 },
            // Too many walks to keep a bit each: asked each time.
            Some(None) => Known::Asked(None),
            None if !self.filters.any() => Known::Every,
            None => {
                let keep = self.walks.len() <= MOST_KEPT_ANSWERS;
                Known::Asked(keep.then(|| Answers::with_capacity(self.walks.len())))
            }
        };
        RanCheck { run: self, known }
    }

    /// Visits the options of every walk that ran: the selected ones the filters allow (see
    /// [`RunView::ran_check`]).
    pub(crate) fn visit_ran(&self, visit: &mut dyn FnMut(&[usize])) {
        let positions = self.plan.names.len();
        let mut ran = self.ran_check();
        let _ = self
            .plan
            .space
            .each_walk(self.walks, positions, |id, options| {
                if ran.ran(id, options) {
                    visit(options);
                }
                ControlFlow::Continue(())
            });
        ran.keep();
    }

    /// Visits the options of every walk of the space that did not run: those not selected,
    /// and the selected ones the filters remove (see [`RunView::ran_check`]). Together with
    /// `visit_ran`'s, its walks are the space, each once.
    pub(crate) fn visit_not_ran(&self, visit: &mut dyn FnMut(&[usize])) {
        let positions = self.plan.names.len();
        let space = WalkSelection::all(self.plan.space.total());
        let mut selected = self.walks.ranges().iter().peekable();
        let mut ran = self.ran_check();
        let _ = self.plan.space.each_walk(&space, positions, |id, options| {
            while selected.next_if(|range| range.end <= id).is_some() {}
            let is_selected = selected.peek().is_some_and(|range| range.contains(&id));
            if !is_selected || !ran.ran(id, options) {
                visit(options);
            }
            ControlFlow::Continue(())
        });
        ran.keep();
    }

    /// The selected walks the filters removed, as ranges of consecutive ids in id order, if
    /// there are no more than `most` ranges (see [`RunView::ran_check`]).
    pub(crate) fn skipped(&self, most: usize) -> Option<Vec<Range<u64>>> {
        let mut skipped: Vec<Range<u64>> = Vec::new();
        let positions = self.plan.names.len();
        let mut ran = self.ran_check();
        let walked = self
            .plan
            .space
            .each_walk(self.walks, positions, |id, options| {
                if ran.ran(id, options) {
                    return ControlFlow::Continue(());
                }
                if let Some(last) = skipped.last_mut().filter(|last| last.end == id) {
                    last.end += 1;
                } else if skipped.len() == most {
                    return ControlFlow::Break(());
                } else {
                    skipped.push(id..id + 1);
                }
                ControlFlow::Continue(())
            });
        if walked.is_break() {
            return None;
        }
        ran.keep();
        Some(skipped)
    }

    /// The option count of every position.
    pub(crate) fn sizes(&self) -> Vec<usize> {
        self.view.params.iter().map(|params| params.len()).collect()
    }
}

/// A filter's answers, one bit per selected walk in id order, set if the walk ran.
struct Answers {
    words: Vec<u64>,
    /// The answers not yet in `words`, lowest first.
    word: u64,
    /// How many answers `word` holds.
    filled: u32,
}

impl Answers {
    fn with_capacity(walks: u64) -> Self {
        Answers {
            words: Vec::with_capacity(walks.div_ceil(64) as usize),
            word: 0,
            filled: 0,
        }
    }

    #[inline]
    fn push(&mut self, ran: bool) {
        self.word |= u64::from(ran) << self.filled;
        self.filled += 1;
        if self.filled == u64::BITS {
            self.words.push(self.word);
            self.word = 0;
            self.filled = 0;
        }
    }

    fn into_words(mut self) -> Vec<u64> {
        if self.filled > 0 {
            self.words.push(self.word);
        }
        self.words
    }
}

/// Tells, for each selected walk of a visit in id order, whether it ran (see
/// [`RunView::ran_check`]).
struct RanCheck<'r, 'a> {
    run: &'r RunView<'a>,
    known: Known<'r>,
}

/// What a [`RanCheck`] knows of the filters' answers.
enum Known<'r> {
    /// No filter: every selected walk ran.
    Every,
    /// The answers an earlier visit kept; `next` is the selected walk visited next.
    Kept { ran: &'r [u64], next: usize },
    /// None: the filters are asked, and their answers kept while the selection is small
    /// enough (`None` otherwise).
    Asked(Option<Answers>),
}

impl RanCheck<'_, '_> {
    /// Whether the selected walk `id`, with these options, ran. Called for each selected
    /// walk of the visit, in id order.
    #[inline]
    fn ran(&mut self, id: u64, options: &[usize]) -> bool {
        match &mut self.known {
            Known::Every => true,
            Known::Kept { ran, next } => {
                let walk = *next;
                *next += 1;
                ran[walk / 64] >> (walk % 64) & 1 == 1
            }
            Known::Asked(answers) => {
                let ran = self.run.allowed(id, options);
                if let Some(answers) = answers {
                    answers.push(ran);
                }
                ran
            }
        }
    }

    /// The visit saw every selected walk: keeps the filters' answers, for the visits after
    /// it, if no earlier one did.
    fn keep(self) {
        if let Known::Asked(answers) = self.known {
            let _ = self.run.answers.set(answers.map(Answers::into_words));
        }
    }
}

/// Groups the report's failures, finds their causes and heat maps, and counts the cancels
/// per action and reason.
pub(crate) fn explain(run: &RunView<'_>, cancels: CancelTally, report: &mut Report<()>) {
    let names = position_names(&run.view.names);
    report.cancels = cancels.into_counts(|p| names[p].clone());
    report.evidence = evidence(run, report);
    if report.failures.is_empty() {
        return;
    }
    let plan = run.plan;
    let sizes = run.sizes();
    let mut serial = vec![false; plan.names.len()];
    for wheel in &plan.serials {
        serial[wheel.position] = true;
    }
    let param = run.param;
    let decode = |id: u64, options: &mut [usize]| plan.space.decode(id, options);
    let visit_ran = |visit: &mut dyn FnMut(&[usize])| run.visit_ran(visit);
    let visit_not_ran = |visit: &mut dyn FnMut(&[usize])| run.visit_not_ran(visit);
    let ran = if report.evidence.every_walk_ran {
        Ran::Every
    } else {
        let space = &plan.space;
        Ran::partly(
            space.total(),
            report.walk_count,
            space.is_odometer(),
            &visit_ran,
            &visit_not_ran,
        )
    };
    let inputs = Inputs {
        sizes: &sizes,
        names: &names,
        serial: &serial,
        param: &param,
        decode: &decode,
        total: plan.space.total(),
        walk_count: report.walk_count,
        ran,
    };
    let (groups, heat_maps) = analyse(&inputs, &report.failures);
    report.groups = groups;
    report.heat_maps = heat_maps;
}

/// Whether every walk of the space ran, and if not, why not.
fn evidence(run: &RunView<'_>, report: &Report<()>) -> Evidence {
    if report.walk_count == report.total_walks {
        return Evidence {
            every_walk_ran: true,
            note: None,
            confirmation_walks: 0,
        };
    }
    let why = match (run.covering, run.sharded) {
        (Some(strength), _) => format!("a {strength}-wise covering array chose the walks"),
        (None, true) => "this shard ran its share of the walks".to_string(),
        (None, false) if report.skipped_count > 0 => {
            format!("the filter removed {} walks", report.skipped_count)
        }
        (None, false) => "a selection of walks ran".to_string(),
    };
    Evidence {
        every_walk_ran: false,
        note: Some(format!(
            "{why}; {} of {} walks ran",
            report.walk_count, report.total_walks
        )),
        confirmation_walks: 0,
    }
}
