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
    /// Which selected walks the filters let run, once asked (see `by_answers!`):
    /// kept by the run, for every view of it.
    pub(crate) answers: &'a FilterAnswers,
}

/// Which selected walks a run's filters let run, once asked: one bit per selected walk, in
/// id order, set if it ran (`None`: too many walks to keep a bit each). See
/// `by_answers!`.
pub(crate) type FilterAnswers = OnceCell<Option<Vec<u64>>>;

/// The most selected walks whose answers a [`RunView`] keeps, a bit each (32 MiB): past
/// them, the filters are asked again on each visit instead.
const MOST_KEPT_ANSWERS: u64 = 1 << 28;

/// `$body`, a visit of every selected walk in id order, with `$ran` the [`RanOf`] that tells
/// whether each ran; the visit is compiled once for each way of telling, so that the choice
/// is made once, not per walk. `$body` gives its value and whether it saw every selected
/// walk.
///
/// The filters are asked again about every selected walk, as they were before the walks
/// ran, by the first visit only: it keeps their answers, a bit per walk (up to
/// [`MOST_KEPT_ANSWERS`] walks), and every later visit of the analysis, the confirming walks
/// and the shard's list of skipped walks read them. So a costly filter is asked once more
/// in all, not once per visit, and a filter that would answer otherwise when asked again
/// (one that samples, say) is seen the same way by each of them.
macro_rules! by_answers {
    ($run:expr, |$ran:ident| $body:expr) => {{
        let run: &RunView<'_> = $run;
        match run.answers.get() {
            Some(Some(ran)) => {
                let $ran = &mut Kept { ran, next: 0 };
                $body.0
            }
            None if !run.filters.any() => {
                let $ran = &mut Every;
                $body.0
            }
            known => {
                let keep = known.is_none() && run.walks.len() <= MOST_KEPT_ANSWERS;
                let answers = keep.then(|| AnswerBits::with_capacity(run.walks.len()));
                let $ran = &mut Asking { run, answers };
                let (value, saw_every_walk) = $body;
                if saw_every_walk {
                    let _ = run
                        .answers
                        .set($ran.answers.take().map(AnswerBits::into_words));
                }
                value
            }
        }
    }};
}

impl RunView<'_> {
    /// Whether the filters allow the walk `id` with these options.
    pub(crate) fn allowed(&self, id: u64, options: &[usize]) -> bool {
        !self.filters.any() || self.filters.keep(&Walk::new(id, options, self.view))
    }

    /// Visits the options of every walk that ran: the selected ones the filters allow (see
    /// `by_answers!`).
    pub(crate) fn visit_ran(&self, visit: &mut dyn FnMut(&[usize])) {
        by_answers!(self, |ran| (self.visit_ran_by(ran, visit), true))
    }

    fn visit_ran_by(&self, ran: &mut impl RanOf, visit: &mut dyn FnMut(&[usize])) {
        let positions = self.plan.names.len();
        let _ = self
            .plan
            .space
            .each_walk(self.walks, positions, |id, options| {
                if ran.ran(id, options) {
                    visit(options);
                }
                ControlFlow::Continue(())
            });
    }

    /// Visits the options of every walk of the space that did not run: those not selected,
    /// and the selected ones the filters remove (see `by_answers!`). Together with
    /// `visit_ran`'s, its walks are the space, each once.
    pub(crate) fn visit_not_ran(&self, visit: &mut dyn FnMut(&[usize])) {
        by_answers!(self, |ran| (self.visit_not_ran_by(ran, visit), true))
    }

    fn visit_not_ran_by(&self, ran: &mut impl RanOf, visit: &mut dyn FnMut(&[usize])) {
        let positions = self.plan.names.len();
        let space = WalkSelection::all(self.plan.space.total());
        let mut selected = self.walks.ranges().iter().peekable();
        let _ = self.plan.space.each_walk(&space, positions, |id, options| {
            while selected.next_if(|range| range.end <= id).is_some() {}
            let is_selected = selected.peek().is_some_and(|range| range.contains(&id));
            if !is_selected || !ran.ran(id, options) {
                visit(options);
            }
            ControlFlow::Continue(())
        });
    }

    /// The selected walks the filters removed, as ranges of consecutive ids in id order, if
    /// there are no more than `most` ranges (see `by_answers!`).
    pub(crate) fn skipped(&self, most: usize) -> Option<Vec<Range<u64>>> {
        by_answers!(self, |ran| {
            let skipped = self.skipped_by(ran, most);
            let saw_every_walk = skipped.is_some();
            (skipped, saw_every_walk)
        })
    }

    fn skipped_by(&self, ran: &mut impl RanOf, most: usize) -> Option<Vec<Range<u64>>> {
        let mut skipped: Vec<Range<u64>> = Vec::new();
        let positions = self.plan.names.len();
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
        walked.is_continue().then_some(skipped)
    }

    /// The option count of every position.
    pub(crate) fn sizes(&self) -> Vec<usize> {
        self.view.params.iter().map(|params| params.len()).collect()
    }
}

/// A filter's answers, one bit per selected walk in id order, set if the walk ran.
struct AnswerBits {
    words: Vec<u64>,
    /// The answers not yet in `words`, lowest first.
    word: u64,
    /// How many answers `word` holds.
    filled: u32,
}

impl AnswerBits {
    fn with_capacity(walks: u64) -> Self {
        AnswerBits {
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
/// `by_answers!`).
trait RanOf {
    /// Whether the selected walk `id`, with these options, ran. Called for each selected
    /// walk of the visit, in id order.
    fn ran(&mut self, id: u64, options: &[usize]) -> bool;
}

/// No filter: every selected walk ran.
struct Every;

impl RanOf for Every {
    #[inline]
    fn ran(&mut self, _: u64, _: &[usize]) -> bool {
        true
    }
}

/// The answers an earlier visit kept; `next` is the selected walk visited next.
struct Kept<'r> {
    ran: &'r [u64],
    next: usize,
}

impl RanOf for Kept<'_> {
    #[inline]
    fn ran(&mut self, _: u64, _: &[usize]) -> bool {
        let walk = self.next;
        self.next += 1;
        self.ran[walk / 64] >> (walk % 64) & 1 == 1
    }
}

/// The filters, asked: their answers are kept while the selection is small enough
/// (`answers` is `None` otherwise, or when an earlier visit found it too large).
struct Asking<'r, 'a> {
    run: &'r RunView<'a>,
    answers: Option<AnswerBits>,
}

impl RanOf for Asking<'_, '_> {
    #[inline]
    fn ran(&mut self, id: u64, options: &[usize]) -> bool {
        let ran = self.run.allowed(id, options);
        if let Some(answers) = &mut self.answers {
            answers.push(ran);
        }
        ran
    }
}

/// Groups the report's failures, finds their causes and heat maps, and counts the cancels
/// per action and reason. `cancelled` holds each cancelled walk with the position that
/// cancelled it, sorted by id.
pub(crate) fn explain(
    run: &RunView<'_>,
    cancels: CancelTally,
    cancelled: &[(u64, usize)],
    report: &mut Report<()>,
) {
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
        cancelled,
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
