//! The shard request: which share of the walk space this process runs.
//!
//! `COMBTEST_SHARD=i/n` (1-based, like nextest's `--partition`) runs the i-th of n shares.
//! A share is a contiguous block of *innermost branches*: all walks that share the options of
//! every serial action stay in one shard, so each serial action keeps its meaning inside the
//! shard that runs it. When the order has fewer innermost branches than there are shards,
//! shares are plain id ranges and a branch may be split; a serial action then runs in every
//! shard that holds walks of its branch, once there. Without serial actions, shares are id
//! ranges. A selection (`COMBTEST_WALKS`, a replay) is split the same way: each selected walk
//! belongs to the shard whose share holds its id.
//!
//! This module only parses the request and decides membership; the result files and their
//! merging are in `output::shard`.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::plan::OrderFacts;

/// Which share of the walks a process runs: shard `index` (1-based) of `total`.
///
/// ```
/// use combtest::Shard;
///
/// let shard: Shard = (2, 4).into();
/// assert_eq!((shard.index, shard.total), (2, 4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, from 1 to `total`.
    pub index: usize,
    /// How many shards the run is split into.
    pub total: usize,
}

impl From<(usize, usize)> for Shard {
    fn from((index, total): (usize, usize)) -> Self {
        Shard { index, total }
    }
}

impl Shard {
    /// Checks `1 <= index <= total`; `source` names where the values came from.
    pub(crate) fn checked(self, source: &str) -> Result<Self, Error> {
        if self.total == 0 || self.index == 0 || self.index > self.total {
            return Err(Error::InvalidSetting {
                source: source.into(),
                value: format!("{}/{}", self.index, self.total),
                detail: "expected `i/n` with 1 <= i <= n (shards are numbered from 1)".into(),
            });
        }
        Ok(self)
    }
}

/// Environment variables CI systems and job runners set for the index of a parallel job:
/// (index variable, its base, total variable).
const CI_INDEX_VARIABLES: &[(&str, usize, Option<&str>)] = &[
    // Kubernetes Indexed Jobs: 0-based; the total is not exposed (give it as `auto/n`).
    ("JOB_COMPLETION_INDEX", 0, None),
    // GitLab CI `parallel:`: 1-based.
    ("CI_NODE_INDEX", 1, Some("CI_NODE_TOTAL")),
    // Buildkite `parallelism:`: 0-based.
    (
        "BUILDKITE_PARALLEL_JOB",
        0,
        Some("BUILDKITE_PARALLEL_JOB_COUNT"),
    ),
];

/// Parses `i/n`, `auto` or `auto/n`; `auto` reads the index (and the total, where the CI
/// system gives it) from the variables of [`CI_INDEX_VARIABLES`], through `var`.
pub(crate) fn parse(
    text: &str,
    source: &str,
    var: &dyn Fn(&str) -> Result<Option<String>, Error>,
) -> Result<Shard, Error> {
    let invalid = |detail: String| Error::InvalidSetting {
        source: source.into(),
        value: text.into(),
        detail,
    };
    let number = |s: &str| {
        s.trim().parse::<usize>().map_err(|_| {
            invalid(format!(
                "`{s}` is not a number; expected `i/n` (1-based), `auto` or `auto/n`"
            ))
        })
    };
    let (index, total) = match text.trim().split_once('/') {
        Some((index, total)) => (index.trim(), Some(number(total)?)),
        None => (text.trim(), None),
    };
    if index != "auto" {
        let total =
            total.ok_or_else(|| invalid("expected `i/n` (1-based), `auto` or `auto/n`".into()))?;
        return Shard::from((number(index)?, total)).checked(source);
    }
    for &(name, base, total_name) in CI_INDEX_VARIABLES {
        let Some(value) = var(name)?.filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let found = value
            .trim()
            .parse::<usize>()
            .map_err(|_| invalid(format!("{name}={value:?} is not a shard index")))?;
        let ci_total_value = match total_name {
            Some(t) => var(t)?.map(|v| (t, v)),
            None => None,
        };
        let ci_total = match ci_total_value {
            Some((t, v)) => Some(
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| invalid(format!("{t}={v:?} is not a number")))?,
            ),
            None => None,
        };
        let total = match (total, ci_total) {
            (Some(given), Some(ci)) if given != ci => {
                return Err(invalid(format!(
                    "{source} says {given} shards but {} says {ci}",
                    total_name.unwrap_or(name)
                )));
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => {
                return Err(invalid(format!(
                    "{name} gives the index but not the total: write `auto/n`"
                )));
            }
        };
        // A 0-based index past `usize::MAX - 1` has no 1-based form: out of range, as 0 is
        // for a 1-based one.
        let Some(index) = found.checked_sub(base).and_then(|i| i.checked_add(1)) else {
            return Err(invalid(format!(
                "{name}={value:?} is not a shard index: {name} counts from {base}"
            )));
        };
        return Shard::from((index, total)).checked(&format!("{source} (from {name}={value})"));
    }
    let names: Vec<&str> = CI_INDEX_VARIABLES
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    Err(invalid(format!(
        "`auto` found no shard index in {}",
        names.join(", ")
    )))
}

/// The ids of shard `shard`'s share of the walk space, before any selection.
pub(crate) fn share_range(plan: &OrderFacts, shard: Shard) -> Range<u64> {
    let total = u128::from(plan.space.total());
    // Innermost branches are the units of a share, when there are enough of them.
    let unit = plan
        .serials
        .last()
        .map_or(1, |wheel| u128::from(wheel.span))
        .max(1);
    let units = total / unit;
    let (i, n) = (shard.index as u128 - 1, shard.total as u128);
    let (start, end) = if units >= n {
        (units * i / n * unit, units * (i + 1) / n * unit)
    } else {
        (total * i / n, total * (i + 1) / n)
    };
    // Both bounds are at most `total`, which is a u64.
    start as u64..end as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::ENV_SHARD;
    use crate::model::action::{Action, States};
    use crate::model::plan::Plan;

    fn lookup<'a>(
        env: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Result<Option<String>, Error> + 'a {
        move |name| {
            Ok(env
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string()))
        }
    }

    #[test]
    fn explicit_shards_and_their_errors() {
        let none = lookup(&[]);
        assert_eq!(
            parse("2/4", ENV_SHARD, &none).unwrap(),
            Shard { index: 2, total: 4 }
        );
        for bad in ["0/4", "5/4", "x/y", "3", "1/0", ""] {
            let err = parse(bad, ENV_SHARD, &none).unwrap_err().to_string();
            assert!(err.contains(ENV_SHARD), "{bad}: {err}");
        }
    }

    #[test]
    fn auto_reads_the_ci_index_with_its_base() {
        let k8s = [("JOB_COMPLETION_INDEX", "0")];
        assert_eq!(
            parse("auto/3", ENV_SHARD, &lookup(&k8s)).unwrap(),
            Shard { index: 1, total: 3 }
        );
        let err = parse("auto", ENV_SHARD, &lookup(&k8s))
            .unwrap_err()
            .to_string();
        assert!(err.contains("write `auto/n`"), "{err}");
        let gitlab = [("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "5")];
        assert_eq!(
            parse("auto", ENV_SHARD, &lookup(&gitlab)).unwrap(),
            Shard { index: 2, total: 5 }
        );
        let err = parse("auto/4", ENV_SHARD, &lookup(&gitlab))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("says 4 shards but CI_NODE_TOTAL says 5"),
            "{err}"
        );
        let buildkite = [
            ("BUILDKITE_PARALLEL_JOB", "4"),
            ("BUILDKITE_PARALLEL_JOB_COUNT", "5"),
        ];
        assert_eq!(
            parse("auto", ENV_SHARD, &lookup(&buildkite)).unwrap(),
            Shard { index: 5, total: 5 }
        );
        let err = parse("auto", ENV_SHARD, &lookup(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("found no shard index"), "{err}");
    }

    fn plan(serial: bool) -> Plan<(), ()> {
        let mut order = vec![
            Action::new("a", || 0..5u8, |_: u8, _: &mut (), _: &()| {}),
            Action::new("b", || 0..3u8, |_: u8, _: &mut (), _: &()| {}),
        ];
        if serial {
            order.insert(
                1,
                Action::serial("s", || 0..4u8, |_: u8, _: &mut (), _: States<'_, ()>| {}),
            );
        }
        Plan::load(&order).unwrap()
    }

    #[test]
    fn shares_cover_the_space_once_and_keep_branches_whole() {
        for serial in [false, true] {
            let plan = plan(serial);
            let total = plan.space.total();
            for n in 1..=7 {
                let ranges: Vec<Range<u64>> = (1..=n)
                    .map(|i| share_range(&plan, Shard { index: i, total: n }))
                    .collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[n - 1].end, total);
                for pair in ranges.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "contiguous, disjoint");
                }
                if serial && n <= 4 {
                    // 4 branches of 15 walks: every share is whole branches.
                    assert!(
                        ranges.iter().all(|r| r.start % 15 == 0 && r.end % 15 == 0),
                        "{ranges:?}"
                    );
                }
            }
        }
    }
}
