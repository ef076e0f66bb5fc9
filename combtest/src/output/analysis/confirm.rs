//! Confirming suspected causes: when only part of the walk space ran, a few walks that have
//! a suspect and did not run yet are chosen for it; a suspect is confirmed when every one of
//! them fails the way its group did, and refuted by the first that does not.

use super::data::{Confirmation, FailureGroup};
use super::normalise::normalise_into;
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
}

/// The extra walks to run: every id once, and per suspect (group, cause) the ids that test it.
pub(crate) struct ConfirmationPlan {
    pub(crate) ids: Vec<u64>,
    suspects: Vec<(usize, usize, Vec<u64>)>,
}

/// The walks that test the suspects of a run's report, or `None` when there is nothing to
/// confirm: every walk of the space ran, or every cause is exact.
pub(crate) fn plan_for_run<S, G>(
    run: &RunView<'_, S, G>,
    report: &Report<S>,
    budget: u64,
) -> Option<ConfirmationPlan> {
    let suspected = report
        .groups
        .iter()
        .flat_map(|g| &g.causes)
        .any(|c| !c.exact);
    if report.evidence.every_walk_ran || !suspected {
        return None;
    }
    let sizes = run.sizes();
    let allowed = |id: u64, options: &[usize]| run.allowed(id, options);
    let ran = |id: u64, options: &[usize]| run.walks.contains(id) && run.allowed(id, options);
    let encode = |options: &[usize]| run.plan.space.encode(options);
    let order = Order {
        sizes: &sizes,
        encode: &encode,
        ran: &ran,
        allowed: &allowed,
    };
    Some(plan(&report.groups, &order, budget))
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
            if cause.exact {
                continue;
            }
            let mut chosen = Vec::new();
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
/// walks that failed), then lists the confirmed suspects first and the refuted last.
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
