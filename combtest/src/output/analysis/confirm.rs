//! Confirming suspected causes: when only part of the walk space ran, extra walks separate
//! the suspects, in two rounds.
//!
//! 1. Isolation: a group's first walk is run again with one position changed at a time; the
//!    positions whose change makes the failure go away are the ones that matter, and their
//!    choices in the first walk become the group's first suspect.
//! 2. Suspects: a few walks that have a suspect and did not run yet are chosen for it; a
//!    suspect is confirmed when every one of them fails the way its group did, and refuted
//!    by the first that passes. Walks cancelled or failing some other way (another bug
//!    answered first) say nothing.

use super::data::{Cause, Choice, Confirmation, FailureGroup};
use super::normalise::group_message_into;
use super::run::RunView;
use super::{position_names, Stopped};
use crate::model::outcome::Failure;
use crate::output::report::Report;

/// Extra walks chosen per suspect at most.
pub const WALKS_PER_SUSPECT: usize = 4;

/// Attempts at finding a walk for one suspect: walks already run or refused by the filter
/// are passed over.
const ATTEMPTS_PER_WALK: u64 = 16;

/// What the confirmation needs to know of the order.
struct Order<'a> {
    sizes: &'a [usize],
    /// The id of the walk with these options.
    encode: &'a dyn Fn(&[usize]) -> u64,
    /// Whether a walk ran in the run being explained.
    ran: &'a dyn Fn(u64, &[usize]) -> bool,
    /// Whether the filter allows a walk.
    allowed: &'a dyn Fn(u64, &[usize]) -> bool,
    /// Writes the options of a walk id.
    decode: &'a dyn Fn(u64, &mut [usize]),
    /// The walks earlier rounds ran to test suspects, sorted: a suspect they have counts
    /// them first.
    earlier: &'a [u64],
}

/// The extra walks earlier rounds ran, sorted: all of them, which are not run again, and
/// those that tested suspects, which count for a suspect they have. The isolation round's
/// walks do not count: each differs from a failing walk in one position only, so they
/// would confirm any part of it.
pub(crate) struct Earlier<'a> {
    pub(crate) all: &'a [u64],
    pub(crate) testing: &'a [u64],
}

/// The extra walks to run: every id once; per suspect (group, cause) the ids that test it;
/// per isolated group, each position's probe walk.
pub(crate) struct ConfirmationPlan {
    pub(crate) ids: Vec<u64>,
    suspects: Vec<(usize, usize, Vec<u64>)>,
    probes: Vec<(usize, Vec<(usize, u64)>)>,
}

/// Which suspects a round of confirmation tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Round {
    /// Each position of a group's first walk changed alone.
    Isolate,
    /// The suspects the analysis ranked, and the isolated one.
    Suspects,
}

/// The walks that test the untested suspects of a run's report (skipping the walks in
/// `ran_already`, sorted), or `None` when there is nothing to test: every walk of the space
/// ran, or no cause is an untested suspect.
pub(crate) fn plan_for_run(
    run: &RunView<'_>,
    report: &mut Report<()>,
    budget: u64,
    earlier: &Earlier<'_>,
    round: Round,
) -> Option<ConfirmationPlan> {
    let ran_already = earlier.all;
    if report.evidence.every_walk_ran {
        return None;
    }
    if round == Round::Isolate {
        return Some(probes(run, report, budget));
    }
    let untested = report
        .groups
        .iter()
        .flat_map(|g| &g.causes)
        .any(|c| !c.exact && c.confirmation.is_none());
    if !untested {
        return None;
    }
    let sizes = run.sizes();
    let allowed = |id: u64, options: &[usize]| run.allowed(id, options);
    let ran = |id: u64, options: &[usize]| {
        ran_already.binary_search(&id).is_ok()
            || (run.walks.contains(id) && run.allowed(id, options))
    };
    let encode = |options: &[usize]| run.plan.space.encode(options);
    let decode = |id: u64, options: &mut [usize]| run.plan.space.decode(id, options);
    let order = Order {
        sizes: &sizes,
        encode: &encode,
        ran: &ran,
        allowed: &allowed,
        decode: &decode,
        earlier: earlier.testing,
    };
    Some(plan(&report.groups, &order, budget))
}

/// A cause of group `g` with these (position, option) choices, measured like any suspect:
/// among the group's walks (decoded from their ids) and among the walks that ran (one visit).
/// A walk that stopped before the choices' last position (`stopped`) counts neither in the
/// group nor among the others.
fn measured_cause(
    run: &RunView<'_>,
    report: &Report<()>,
    g: usize,
    choices: &[(usize, usize)],
    stopped: &Stopped,
) -> Cause {
    let sizes = run.sizes();
    let last = choices.iter().map(|&(p, _)| p).max().unwrap_or(0);
    let names = position_names(&run.view.names);
    let has = |options: &[usize]| choices.iter().all(|&(p, o)| options[p] == o);
    let mut ran_with = 0u64;
    run.visit_ran(&mut |options: &[usize]| {
        if has(options) {
            ran_with += 1;
        }
    });
    let group = &report.groups[g];
    let mut options = vec![0; sizes.len()];
    let in_group = group
        .walk_ids
        .iter()
        .filter(|&&id| {
            run.plan.space.decode(id, &mut options);
            has(&options) && stopped.ran(id) > last
        })
        .count() as u64;
    let early = stopped
        .walks()
        .iter()
        .filter(|&&(id, ran)| {
            run.plan.space.decode(id, &mut options);
            ran <= last && has(&options)
        })
        .count() as u64;
    let in_space = run.plan.space.total()
        / choices
            .iter()
            .map(|&(p, _)| sizes[p] as u64)
            .product::<u64>();
    Cause {
        choices: choices
            .iter()
            .map(|&(position, option)| Choice {
                position,
                action: names[position].clone(),
                option,
                param: (run.param)(position, option),
            })
            .collect(),
        exact: in_group + early == in_space,
        in_group,
        group_size: group.count,
        in_others: ran_with.saturating_sub(in_group + early),
        others: report.walk_count - group.count,
        confirmation: None,
    }
}

/// Groups isolated at most: those the failure report shows first.
const ISOLATED_GROUPS: usize = 10;

/// Other options tried per position in the isolation round: a change that makes the walk
/// fail some other way (another bug) says nothing, so the next option is tried.
const PROBES_PER_POSITION: usize = 2;

/// The isolation round: for each group with an untested suspect, its first walk with one
/// position changed at a time (to the next options the filter allows), `budget` walks in
/// all.
fn probes(run: &RunView<'_>, report: &Report<()>, budget: u64) -> ConfirmationPlan {
    let sizes = run.sizes();
    let mut ids = Vec::new();
    let mut probes = Vec::new();
    let mut options = vec![0; sizes.len()];
    let most = (sizes.len() * PROBES_PER_POSITION) as u64;
    for (g, group) in report.groups.iter().enumerate().take(ISOLATED_GROUPS) {
        let untested = group
            .causes
            .iter()
            .any(|c| !c.exact && c.confirmation.is_none());
        if !untested || ids.len() as u64 + most > budget {
            continue;
        }
        let mut probed = Vec::new();
        for position in 0..sizes.len() {
            run.plan.space.decode(group.representative, &mut options);
            let first = options[position];
            let mut tried = 0;
            for step in 1..sizes[position] {
                options[position] = (first + step) % sizes[position];
                let id = run.plan.space.encode(&options);
                if !run.allowed(id, &options) {
                    continue;
                }
                // Run again even if it ran: only its outcome now says whether it was
                // cancelled.
                probed.push((position, id));
                ids.push(id);
                tried += 1;
                if tried == PROBES_PER_POSITION {
                    break;
                }
            }
        }
        probes.push((g, probed));
    }
    ids.sort_unstable();
    ids.dedup();
    ConfirmationPlan {
        ids,
        suspects: Vec::new(),
        probes,
    }
}

/// How a walk ended, as far as one group is concerned.
#[derive(PartialEq, Eq)]
enum Verdict {
    /// It failed the way the group did.
    ThisWay,
    /// It failed some other way (another bug answered first) or was cancelled: it says
    /// nothing about this group.
    Inconclusive,
    /// It passed.
    Passed,
}

/// How the extra walks ended: those that failed, and those that were cancelled.
pub(crate) struct Outcomes<'a> {
    /// Sorted by walk id.
    pub(crate) failures: &'a [Failure],
    /// Sorted.
    pub(crate) cancelled: &'a [u64],
}

/// How walk `id` ended for `group`: by the outcomes of the extra walks, or, for a walk of
/// the run itself that did not run again, by the run's failures.
fn verdict(
    report: &Report<()>,
    group: &FailureGroup,
    id: u64,
    outcomes: &Outcomes<'_>,
    message: &mut String,
) -> Verdict {
    if group.walk_ids.binary_search(&id).is_ok() {
        return Verdict::ThisWay;
    }
    if outcomes.cancelled.binary_search(&id).is_ok() {
        return Verdict::Inconclusive;
    }
    let find = |list: &'_ [Failure]| {
        list.binary_search_by_key(&id, |f| f.walk_id)
            .ok()
            .map(|i| list[i].clone())
    };
    match find(outcomes.failures).or_else(|| find(&report.failures)) {
        None => Verdict::Passed,
        Some(failure) => {
            group_message_into(failure.kind, &failure.message, message);
            let same = failure.failed_action == group.action
                && failure.kind == group.kind
                && *message == group.message;
            if same {
                Verdict::ThisWay
            } else {
                Verdict::Inconclusive
            }
        }
    }
}

/// Chooses up to [`WALKS_PER_SUSPECT`] walks per suspect, `budget` walks in all: walks that
/// have the suspect's choices, and elsewhere options spread by a fixed mix of the attempt and
/// the position, so that the walks differ from each other and from the walks that ran.
fn plan(groups: &[FailureGroup], order: &Order<'_>, budget: u64) -> ConfirmationPlan {
    let mut ids = Vec::new();
    let mut suspects = Vec::new();
    let mut options = vec![0; order.sizes.len()];
    for (g, group) in groups.iter().enumerate() {
        for (c, cause) in group.causes.iter().enumerate() {
            if cause.exact || cause.confirmation.is_some() {
                continue;
            }
            let mut chosen = Vec::new();
            for &id in order.earlier {
                (order.decode)(id, &mut options);
                let has = cause
                    .choices
                    .iter()
                    .all(|c| options[c.position] == c.option);
                if has && chosen.len() < WALKS_PER_SUSPECT {
                    chosen.push(id);
                }
            }
            let mut attempt = 0u64;
            while chosen.len() < WALKS_PER_SUSPECT
                && attempt < ATTEMPTS_PER_WALK * WALKS_PER_SUSPECT as u64
                && (ids.len() as u64) < budget
            {
                attempt += 1;
                for (p, option) in options.iter_mut().enumerate() {
                    let mix = spread(group.representative ^ (attempt << 32) ^ p as u64);
                    *option = (mix % order.sizes[p] as u64) as usize;
                }
                for choice in &cause.choices {
                    options[choice.position] = choice.option;
                }
                let id = (order.encode)(&options);
                if chosen.contains(&id)
                    || (order.ran)(id, &options)
                    || !(order.allowed)(id, &options)
                {
                    continue;
                }
                chosen.push(id);
                ids.push(id);
            }
            suspects.push((g, c, chosen));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ConfirmationPlan {
        ids,
        suspects,
        probes: Vec::new(),
    }
}

/// SplitMix64's finaliser: spreads consecutive inputs over all options.
fn spread(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Records what a round's walks showed (`failures`, sorted by walk id, are the extra walks
/// of every round so far that failed): for an isolated group, the choices of its first walk
/// at the positions whose change made the failure go away become its first suspect; for a
/// tested suspect, whether its walks confirm or refute it. Then lists the confirmed
/// suspects first and the refuted last.
/// `cancelled` holds the run's cancelled walks, each with the position that cancelled it,
/// sorted by id: a cause measured here counts the walks that stopped early as
/// [`analyse`](super::analyse) does.
pub(crate) fn apply(
    run: &RunView<'_>,
    report: &mut Report<()>,
    plan: &ConfirmationPlan,
    outcomes: &Outcomes<'_>,
    cancelled: &[(u64, usize)],
) {
    let mut message = String::new();
    let mut options = vec![0; run.plan.names.len()];
    // Built once, for every cause measured anew below.
    let stopped = Stopped::of(&report.failures, cancelled, options.len());
    for (g, probed) in &plan.probes {
        let group = &report.groups[*g];
        run.plan.space.decode(group.representative, &mut options);
        // A position matters when its first conclusive probe passed.
        let mut mattering: Vec<(usize, usize)> = Vec::new();
        for (position, &option) in options.iter().enumerate() {
            let decided = probed
                .iter()
                .filter(|&&(p, _)| p == position)
                .map(|&(_, id)| verdict(report, group, id, outcomes, &mut message))
                .find(|v| *v != Verdict::Inconclusive);
            if decided == Some(Verdict::Passed) {
                mattering.push((position, option));
            }
        }
        if mattering.is_empty() {
            continue;
        }
        let known = group.causes.iter().position(|c| {
            c.choices
                .iter()
                .map(|c| (c.position, c.option))
                .eq(mattering.iter().copied())
        });
        let cause = match known {
            Some(at) => report.groups[*g].causes.remove(at),
            None => measured_cause(run, report, *g, &mattering, &stopped),
        };
        report.groups[*g].causes.insert(0, cause);
    }
    for (g, c, ids) in &plan.suspects {
        let group = &report.groups[*g];
        let (mut failed, mut inconclusive) = (0, 0);
        let mut counterexample = None;
        for &id in ids {
            match verdict(report, group, id, outcomes, &mut message) {
                Verdict::ThisWay => failed += 1,
                Verdict::Inconclusive => inconclusive += 1,
                Verdict::Passed => {
                    counterexample.get_or_insert(id);
                }
            }
        }
        report.groups[*g].causes[*c].confirmation = Some(Confirmation {
            walks: ids.len() as u64 - inconclusive,
            failed_this_way: failed,
            counterexample,
            inconclusive,
        });
    }
    for group in &mut report.groups {
        // Stable: within each verdict the ranking stays.
        group.causes.sort_by_key(|cause| match &cause.confirmation {
            Some(confirmation) if confirmation.confirmed() => 0,
            Some(confirmation) if confirmation.counterexample.is_some() => 2,
            _ => 1,
        });
    }
}
