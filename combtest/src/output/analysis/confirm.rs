//! Confirming suspected causes: when only part of the walk space ran, a few walks that have
//! a suspect and did not run yet are chosen for it; a suspect is confirmed when every one of
//! them fails the way its group did, and refuted by the first that does not.

use super::data::{Cause, Choice, Confirmation, FailureGroup};
use super::normalise::normalise_into;
use super::position_names;
use super::run::RunView;
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
    /// The walks an earlier round ran, sorted: a suspect they have counts them first.
    earlier: &'a [u64],
}

/// The extra walks to run: every id once, and per suspect (group, cause) the ids that test it.
pub(crate) struct ConfirmationPlan {
    pub(crate) ids: Vec<u64>,
    suspects: Vec<(usize, usize, Vec<u64>)>,
}

/// Which suspects a round of confirmation tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Round {
    /// The suspects the analysis ranked.
    Suspects,
    /// For groups whose tested suspects were all refuted: the best refuted ones extended
    /// by one more choice of the group's first walk, added to the group's causes first.
    Extended,
}

/// Refuted suspects of a group extended in the second round, at most.
const EXTENDED_SUSPECTS: usize = 2;

/// The walks that test the untested suspects of a run's report (skipping the walks in
/// `ran_already`, sorted), or `None` when there is nothing to test: every walk of the space
/// ran, or no cause is an untested suspect.
pub(crate) fn plan_for_run<S, G>(
    run: &RunView<'_, S, G>,
    report: &mut Report<S>,
    budget: u64,
    ran_already: &[u64],
    round: Round,
) -> Option<ConfirmationPlan> {
    if report.evidence.every_walk_ran {
        return None;
    }
    if round == Round::Extended {
        extend_refuted(run, report);
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
        earlier: ran_already,
    };
    Some(plan(&report.groups, &order, budget))
}

/// Adds to each group whose tested suspects were all refuted the best of them extended by
/// one choice of its first walk, measured like any suspect: among the group's walks
/// (decoded from their ids) and among the walks that ran (one visit).
fn extend_refuted<S, G>(run: &RunView<'_, S, G>, report: &mut Report<S>) {
    let sizes = run.sizes();
    let names = position_names(&run.view.names);
    let mut options = vec![0; sizes.len()];
    // (group, choices as (position, option)) of every extension.
    let mut extensions: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
    for (g, group) in report.groups.iter().enumerate() {
        let tested: Vec<&Cause> = group
            .causes
            .iter()
            .filter(|c| c.confirmation.is_some())
            .collect();
        let all_refuted = !tested.is_empty()
            && tested.iter().all(|c| {
                c.confirmation
                    .as_ref()
                    .is_some_and(|c| c.counterexample.is_some())
            });
        if !all_refuted {
            continue;
        }
        run.plan.space.decode(group.representative, &mut options);
        for cause in tested.iter().take(EXTENDED_SUSPECTS) {
            if cause.choices.len() >= 3 {
                continue;
            }
            for (position, &option) in options.iter().enumerate() {
                if cause.choices.iter().any(|c| c.position == position) {
                    continue;
                }
                let mut choices: Vec<(usize, usize)> = cause
                    .choices
                    .iter()
                    .map(|c| (c.position, c.option))
                    .collect();
                choices.push((position, option));
                choices.sort_unstable();
                let known = group.causes.iter().any(|c| {
                    c.choices
                        .iter()
                        .map(|c| (c.position, c.option))
                        .eq(choices.iter().copied())
                }) || extensions.iter().any(|(h, e)| *h == g && *e == choices);
                if !known {
                    extensions.push((g, choices));
                }
            }
        }
    }
    if extensions.is_empty() {
        return;
    }
    let has = |choices: &[(usize, usize)], options: &[usize]| {
        choices.iter().all(|&(p, o)| options[p] == o)
    };
    let mut ran_with = vec![0u64; extensions.len()];
    run.visit_ran(&mut |options: &[usize]| {
        for (count, (_, choices)) in ran_with.iter_mut().zip(&extensions) {
            if has(choices, options) {
                *count += 1;
            }
        }
    });
    for ((g, choices), ran_with) in extensions.into_iter().zip(ran_with) {
        let group = &mut report.groups[g];
        let in_group = group
            .walk_ids
            .iter()
            .filter(|&&id| {
                run.plan.space.decode(id, &mut options);
                has(&choices, &options)
            })
            .count() as u64;
        let in_space = run.plan.space.total()
            / choices
                .iter()
                .map(|&(p, _)| sizes[p] as u64)
                .product::<u64>();
        let cause = Cause {
            choices: choices
                .iter()
                .map(|&(position, option)| Choice {
                    position,
                    action: names[position].clone(),
                    option,
                    param: run.plan.actions[position].params().debug(option),
                })
                .collect(),
            exact: in_group == in_space,
            in_group,
            group_size: group.count,
            in_others: ran_with.saturating_sub(in_group),
            others: report.walk_count - group.count,
            confirmation: None,
        };
        group.causes.insert(0, cause);
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
    ConfirmationPlan { ids, suspects }
}

/// SplitMix64's finaliser: spreads consecutive inputs over all options.
fn spread(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Records on each suspect how its walks ended (`failures`, sorted by walk id, are the extra
/// walks of every round so far that failed), then lists the confirmed suspects first and
/// the refuted last.
pub(crate) fn apply(groups: &mut [FailureGroup], plan: &ConfirmationPlan, failures: &[Failure]) {
    let mut message = String::new();
    for (g, c, ids) in &plan.suspects {
        let group = &groups[*g];
        let mut failed_this_way = 0;
        let mut counterexample = None;
        for &id in ids {
            let same = failures
                .binary_search_by_key(&id, |f| f.walk_id)
                .ok()
                .map(|i| &failures[i])
                .is_some_and(|failure| {
                    normalise_into(&failure.message, &mut message);
                    failure.failed_action == group.action
                        && failure.kind == group.kind
                        && message == group.message
                });
            if same {
                failed_this_way += 1;
            } else if counterexample.is_none() {
                counterexample = Some(id);
            }
        }
        groups[*g].causes[*c].confirmation = Some(Confirmation {
            walks: ids.len() as u64,
            failed_this_way,
            counterexample,
        });
    }
    for group in groups {
        // Stable: within each verdict the ranking stays.
        group.causes.sort_by_key(|cause| match &cause.confirmation {
            Some(confirmation) if confirmation.confirmed() => 0,
            Some(confirmation) if confirmation.counterexample.is_some() => 2,
            _ => 1,
        });
    }
}
