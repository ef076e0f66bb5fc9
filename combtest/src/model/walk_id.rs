//! Walk ids: the mixed-radix numbering of the walk space, fingerprints, and id selections.
//!
//! A walk is never stored; it is decoded from its id. The id is a position on an odometer
//! whose wheels are the serial actions first (the first one most significant), then the
//! regular actions in order (the last one turning fastest). Without serial actions this is
//! plain lexicographic product order; with them, every branch owns a contiguous block of ids.

use std::collections::HashMap;
use std::fmt;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use crate::error::Error;

/// The numbering of every walk of an order.
///
/// Usually an odometer over the options of every position. When the full product does not fit
/// a `u64`, only a covering array can run the order, and its walks are numbered by their row
/// in the array instead ([`WalkSpace::rows`]): the same order, options, filter and seed always
/// give the same array, so these ids replay and shard like any other.
#[derive(Clone, Debug)]
pub(crate) struct WalkSpace {
    numbering: Numbering,
}

#[derive(Clone, Debug)]
enum Numbering {
    Odometer {
        /// Positions of the order, most significant wheel first.
        wheels: Vec<usize>,
        /// Option count of each wheel, in wheel order.
        radices: Vec<u64>,
        total: u64,
    },
    /// Walk `i` is row `i` of a covering array.
    Rows {
        rows: Arc<Vec<Vec<usize>>>,
        ids: Arc<HashMap<Vec<usize>, u64>>,
    },
    /// The full product does not fit a `u64`, and no covering array numbered the walks.
    Unnumbered { option_counts: Vec<usize> },
}

impl WalkSpace {
    /// `radices[p]` is the option count of position `p`; `serial[p]` whether it is serial.
    pub(crate) fn new(radices: &[usize], serial: &[bool]) -> Result<Self, Error> {
        debug_assert_eq!(radices.len(), serial.len());
        let wheels: Vec<usize> = (0..radices.len())
            .filter(|&p| serial[p])
            .chain((0..radices.len()).filter(|&p| !serial[p]))
            .collect();
        let option_counts: Vec<usize> = wheels.iter().map(|&p| radices[p]).collect();
        let total = option_counts
            .iter()
            .try_fold(1u64, |acc, &r| acc.checked_mul(r as u64))
            .ok_or_else(|| Error::TooManyWalks {
                option_counts: option_counts.clone(),
            })?;
        let radices = option_counts.iter().map(|&r| r as u64).collect();
        Ok(WalkSpace {
            numbering: Numbering::Odometer {
                wheels,
                radices,
                total,
            },
        })
    }

    /// [`WalkSpace::new`], or a space still to be numbered by a covering array when the full
    /// product does not fit a `u64`.
    pub(crate) fn new_or_unnumbered(radices: &[usize], serial: &[bool]) -> Result<Self, Error> {
        match WalkSpace::new(radices, serial) {
            Err(Error::TooManyWalks { option_counts }) => Ok(WalkSpace {
                numbering: Numbering::Unnumbered { option_counts },
            }),
            other => other,
        }
    }

    /// The walks of a covering array, numbered by their row.
    pub(crate) fn rows(rows: Vec<Vec<usize>>) -> Self {
        let ids = rows
            .iter()
            .enumerate()
            .map(|(id, row)| (row.clone(), id as u64))
            .collect();
        WalkSpace {
            numbering: Numbering::Rows {
                rows: Arc::new(rows),
                ids: Arc::new(ids),
            },
        }
    }

    /// The error of a space no covering array numbered: too many walks to number them all.
    pub(crate) fn check_numbered(&self) -> Result<(), Error> {
        match &self.numbering {
            Numbering::Unnumbered { option_counts } => Err(Error::TooManyWalks {
                option_counts: option_counts.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Whether the walks still need a covering array to be numbered.
    pub(crate) fn is_unnumbered(&self) -> bool {
        matches!(self.numbering, Numbering::Unnumbered { .. })
    }

    /// Whether ids run through the full product in odometer order (they do unless a covering
    /// array numbered them): what the compiled loops and id arithmetic rely on.
    pub(crate) fn is_odometer(&self) -> bool {
        matches!(self.numbering, Numbering::Odometer { .. })
    }

    /// Calls `visit` with the id and options of every walk of `selection`, in id order, until
    /// it breaks (and says whether it did): the odometer turns through each range of ids
    /// rather than decoding every id. `positions` is the order's length.
    pub(crate) fn each_walk(
        &self,
        selection: &WalkSelection,
        positions: usize,
        mut visit: impl FnMut(u64, &[usize]) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut options = vec![0; positions];
        for range in selection.ranges() {
            self.decode(range.start, &mut options);
            for id in range.clone() {
                if id > range.start {
                    self.advance(id, &mut options);
                }
                visit(id, &options)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// The wheels of an odometer space (positions, most significant first) and their option
    /// counts; `None` for other numberings.
    #[inline]
    pub(crate) fn odometer(&self) -> Option<(&[usize], &[u64])> {
        match &self.numbering {
            Numbering::Odometer {
                wheels, radices, ..
            } => Some((wheels, radices)),
            _ => None,
        }
    }

    /// How many walks the order has (the rows, when a covering array numbered them).
    pub(crate) fn total(&self) -> u64 {
        match &self.numbering {
            Numbering::Odometer { total, .. } => *total,
            Numbering::Rows { rows, .. } => rows.len() as u64,
            Numbering::Unnumbered { .. } => u64::MAX,
        }
    }

    /// Writes the option index of every position of walk `id` into `options`.
    pub(crate) fn decode(&self, mut id: u64, options: &mut [usize]) {
        match &self.numbering {
            Numbering::Odometer {
                wheels, radices, ..
            } => {
                debug_assert!(id < self.total());
                for (&position, &radix) in wheels.iter().zip(radices).rev() {
                    options[position] = (id % radix) as usize;
                    id /= radix;
                }
            }
            Numbering::Rows { rows, .. } => options.copy_from_slice(&rows[id as usize]),
            Numbering::Unnumbered { .. } => unreachable!("walks are numbered before they run"),
        }
    }

    /// The id of the walk that picks `options[p]` at each position `p`, if it is a walk of
    /// this space (every pick is, unless a covering array numbered the walks).
    pub(crate) fn find(&self, options: &[usize]) -> Option<u64> {
        match &self.numbering {
            Numbering::Odometer {
                wheels, radices, ..
            } => Some(
                wheels
                    .iter()
                    .zip(radices)
                    .fold(0, |id, (&position, &radix)| {
                        id * radix + options[position] as u64
                    }),
            ),
            Numbering::Rows { ids, .. } => ids.get(options).copied(),
            Numbering::Unnumbered { .. } => None,
        }
    }

    /// The id of the walk that picks `options[p]` at each position `p`, in an odometer space.
    pub(crate) fn encode(&self, options: &[usize]) -> u64 {
        self.find(options)
            .expect("every pick of options is a walk of an odometer space")
    }

    /// Steps `options` from walk `next - 1` to walk `next`. An odometer does it without
    /// dividing (the runner's hot path decodes once per chunk and then only turns it).
    #[inline]
    pub(crate) fn advance(&self, next: u64, options: &mut [usize]) {
        let Numbering::Odometer {
            wheels, radices, ..
        } = &self.numbering
        else {
            return self.decode(next, options);
        };
        // Most steps turn only the last wheel: it is looked at first, without setting up the
        // loop over the others (a filter in the compiled loops steps this once per walk).
        let (Some(&last), Some(&last_radix)) = (wheels.last(), radices.last()) else {
            return;
        };
        let digit = &mut options[last];
        *digit += 1;
        if (*digit as u64) < last_radix {
            return;
        }
        *digit = 0;
        let turned = wheels.len() - 1;
        for (&position, &radix) in wheels[..turned].iter().zip(radices).rev() {
            let digit = &mut options[position];
            *digit += 1;
            if (*digit as u64) < radix {
                return;
            }
            *digit = 0;
        }
    }
}

/// Steps a walk's options to the next id's, for a loop that runs consecutive ids: the
/// innermost wheel turns in place, and only when it wraps does [`WalkSpace::advance`] carry.
/// The per-walk form of the odometer, with no lookup of the numbering or the wheels on the
/// common step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NextOptions {
    /// The innermost wheel's position and option count, when ids run through the odometer.
    innermost: Option<(usize, usize)>,
}

impl NextOptions {
    pub(crate) fn new(space: &WalkSpace) -> Self {
        let innermost = match &space.numbering {
            Numbering::Odometer {
                wheels, radices, ..
            } => wheels
                .last()
                .zip(radices.last())
                .map(|(&position, &radix)| (position, radix as usize)),
            _ => None,
        };
        NextOptions { innermost }
    }

    /// Turns `options` (those of walk `next - 1`) into those of walk `next`, as
    /// `space.advance(next, options)` does.
    #[inline(always)]
    pub(crate) fn step(self, space: &WalkSpace, next: u64, options: &mut [usize]) {
        self.step_or(space, next, options, WalkSpace::advance);
    }

    /// [`step`](Self::step), calling `carry` (which does what `space.advance` does) when the
    /// innermost wheel does not simply turn: a caller whose loops hold more than the step
    /// can keep the carry out of line.
    #[inline(always)]
    pub(crate) fn step_or(
        self,
        space: &WalkSpace,
        next: u64,
        options: &mut [usize],
        carry: fn(&WalkSpace, u64, &mut [usize]),
    ) {
        if let Some((position, radix)) = self.innermost {
            let digit = &mut options[position];
            if *digit + 1 < radix {
                *digit += 1;
                return;
            }
        }
        carry(space, next, options);
    }
}

/// 64-bit FNV-1a. Fingerprints must be identical across runs, machines and Rust releases,
/// which `std`'s hashers do not promise; FNV-1a is fixed by its definition.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv64(u64);

impl Fnv64 {
    pub(crate) fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// A hash of a walk's action names and params, independent of its id: it tells whether an id
/// recorded earlier still names the same walk after the options changed.
///
/// Shown as 16 hex digits, the form `COMBTEST_WALKS=17@<fingerprint>` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// Combines the per-option hashes of the options a walk picks, position by position.
    pub(crate) fn of(option_hashes: &[Vec<u64>], options: &[usize]) -> Self {
        let mut hash = Fnv64::new();
        for (hashes, &option) in option_hashes.iter().zip(options) {
            hash.write(&hashes[option].to_le_bytes());
        }
        Fingerprint(hash.finish())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        u64::from_str_radix(&text, 16)
            .map(Fingerprint)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a fingerprint")))
    }
}

/// A set of walk ids to run, as `COMBTEST_WALKS` or `Combtest::walks` give it: `17,40-45`,
/// each single id optionally pinned to a fingerprint (`17@9f3a...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WalkSelection {
    /// Sorted, disjoint, non-empty half-open ranges.
    ranges: Vec<Range<u64>>,
    /// Ids given with a fingerprint, to be checked against today's walk.
    pinned: Vec<(u64, Fingerprint)>,
    /// The largest id asked for. `u64::MAX` cannot end a half-open range, and no walk space
    /// has it (a space holds at most `u64::MAX` walks, ids `0..u64::MAX`): it is kept here,
    /// so that checking the range names it instead of losing it.
    largest: Option<u64>,
}

impl WalkSelection {
    /// Parses `17,40-45,3@00ff...`; `source` names where the text came from, for errors.
    pub(crate) fn parse(text: &str, source: &str) -> Result<Self, Error> {
        let malformed = |detail: String| Error::InvalidSetting {
            source: source.to_string(),
            value: text.to_string(),
            detail,
        };
        let mut ranges = Vec::new();
        let mut pinned = Vec::new();
        let mut largest: Option<u64> = None;
        for item in text.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(malformed(
                    "an empty entry; expected walk ids like `17,40-45`".into(),
                ));
            }
            let parse_id = |s: &str| {
                let s = s.trim();
                // Digits only: `u64`'s parser also takes a sign, which no id printed has.
                let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                let id = digits.then(|| s.parse::<u64>().ok()).flatten();
                id.ok_or_else(|| match s {
                    "" => malformed(format!(
                        "`{item}` lacks a walk id; expected walk ids like `17,40-45`"
                    )),
                    _ => malformed(format!(
                        "`{s}` is not a walk id; expected walk ids like `17,40-45`"
                    )),
                })
            };
            if let Some((id, fingerprint)) = item.split_once('@') {
                let id = parse_id(id)?;
                let fingerprint = u64::from_str_radix(fingerprint.trim(), 16).map_err(|_| {
                    malformed(format!(
                        "`{fingerprint}` is not a fingerprint (16 hex digits, as reports print them)"
                    ))
                })?;
                pinned.push((id, Fingerprint(fingerprint)));
                largest = largest.max(Some(id));
                ranges.push(id..id.saturating_add(1));
            } else if let Some((first, last)) = item.split_once('-') {
                let (first, last) = (parse_id(first)?, parse_id(last)?);
                if first > last {
                    return Err(malformed(format!(
                        "`{item}` is an empty range; write the lower id first"
                    )));
                }
                largest = largest.max(Some(last));
                ranges.push(first..last.saturating_add(1));
            } else {
                let id = parse_id(item)?;
                largest = largest.max(Some(id));
                ranges.push(id..id.saturating_add(1));
            }
        }
        Ok(WalkSelection {
            pinned,
            largest,
            ..WalkSelection::from_ranges(ranges)
        })
    }

    /// Exactly these ids (in any order, duplicates allowed).
    pub(crate) fn from_ids(ids: Vec<u64>) -> Self {
        WalkSelection::from_ranges(ids.into_iter().map(|id| id..id + 1).collect())
    }

    /// Exactly the ids of these ranges (in any order, overlapping or not).
    pub(crate) fn from_ranges(mut ranges: Vec<Range<u64>>) -> Self {
        ranges.retain(|r| !r.is_empty());
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                // Touching ranges merge too: `3,4` is `3-4`.
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        WalkSelection {
            largest: merged.last().map(|last| last.end - 1),
            ranges: merged,
            pinned: vec![],
        }
    }

    /// The selected ids that lie in `within`; pinned fingerprints there are kept.
    pub(crate) fn intersect(&self, within: &Range<u64>) -> Self {
        let ranges: Vec<Range<u64>> = self
            .ranges
            .iter()
            .map(|r| r.start.max(within.start)..r.end.min(within.end))
            .filter(|r| !r.is_empty())
            .collect();
        WalkSelection {
            largest: ranges.last().map(|last| last.end - 1),
            ranges,
            pinned: self
                .pinned
                .iter()
                .filter(|(id, _)| within.contains(id))
                .copied()
                .collect(),
        }
    }

    /// Whether `id` is selected.
    pub(crate) fn contains(&self, id: u64) -> bool {
        if id == u64::MAX {
            return self.largest == Some(u64::MAX);
        }
        let after = self.ranges.partition_point(|r| r.end <= id);
        self.ranges.get(after).is_some_and(|r| r.contains(&id))
    }

    /// Every id of a space of `total` walks.
    pub(crate) fn all(total: u64) -> Self {
        WalkSelection {
            ranges: std::iter::once(0..total)
                .filter(|r| !r.is_empty())
                .collect(),
            pinned: vec![],
            largest: total.checked_sub(1),
        }
    }

    /// Checks that every id exists in a space of `total` walks.
    pub(crate) fn check_range(&self, total: u64, source: &str) -> Result<(), Error> {
        match self.largest {
            Some(id) if id >= total => Err(Error::WalkOutOfRange {
                source: source.to_string(),
                id,
                total,
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn pinned(&self) -> &[(u64, Fingerprint)] {
        &self.pinned
    }

    pub(crate) fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }

    /// How many ids are selected.
    pub(crate) fn len(&self) -> u64 {
        let beyond_ranges = u64::from(self.largest == Some(u64::MAX));
        self.ranges
            .iter()
            .map(|r| r.end - r.start)
            .fold(beyond_ranges, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_serial_actions_ids_are_lexicographic() {
        let space = WalkSpace::new(&[5, 10, 3], &[false; 3]).unwrap();
        assert_eq!(space.total(), 150);
        let mut options = [0; 3];
        for i in 0..5 {
            for j in 0..10 {
                for k in 0..3 {
                    let id = 30 * i + 3 * j + k;
                    space.decode(id as u64, &mut options);
                    assert_eq!(options, [i, j, k]);
                    assert_eq!(space.encode(&options), id as u64);
                }
            }
        }
    }

    #[test]
    fn serial_wheels_are_most_significant() {
        // A(2) S(3) A(4): the serial position is the top wheel.
        let space = WalkSpace::new(&[2, 3, 4], &[false, true, false]).unwrap();
        let mut options = [0; 3];
        space.decode(8, &mut options); // 8 = 1 * (2*4) + 0
        assert_eq!(options, [0, 1, 0]);
        space.decode(23, &mut options);
        assert_eq!(options, [1, 2, 3]);
    }

    #[test]
    fn advance_matches_decode_everywhere() {
        let space = WalkSpace::new(&[3, 2, 4, 1, 2], &[false, true, false, true, false]).unwrap();
        let mut stepped = [0; 5];
        let mut decoded = [0; 5];
        space.decode(0, &mut stepped);
        for id in 0..space.total() {
            space.decode(id, &mut decoded);
            assert_eq!(stepped, decoded, "walk {id}");
            space.advance(id + 1, &mut stepped);
        }
    }

    #[test]
    fn next_options_steps_as_decode_for_random_spaces() {
        // A fixed linear congruential sequence: the same spaces on every run.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % below
        };
        for _ in 0..200 {
            let positions = 1 + next(6) as usize;
            let radices: Vec<usize> = (0..positions).map(|_| 1 + next(5) as usize).collect();
            let serial: Vec<bool> = (0..positions).map(|_| next(3) == 0).collect();
            let space = WalkSpace::new(&radices, &serial).unwrap();
            let stepper = NextOptions::new(&space);
            // Any start, as a worker's range of ids starts anywhere.
            let start = next(space.total());
            let mut stepped = vec![0; positions];
            let mut decoded = vec![0; positions];
            space.decode(start, &mut stepped);
            for id in start..space.total() {
                space.decode(id, &mut decoded);
                assert_eq!(
                    stepped, decoded,
                    "walk {id} of {radices:?}, serial {serial:?}"
                );
                if id + 1 < space.total() {
                    stepper.step(&space, id + 1, &mut stepped);
                }
            }
        }
    }

    #[test]
    fn next_options_of_covering_rows_reads_the_rows() {
        let space = WalkSpace::rows(vec![vec![2, 0], vec![1, 1], vec![0, 2]]);
        let mut options = [2, 0];
        NextOptions::new(&space).step(&space, 1, &mut options);
        assert_eq!(options, [1, 1]);
    }

    #[test]
    fn rows_number_the_walks_of_a_covering_array() {
        let space = WalkSpace::rows(vec![vec![2, 0], vec![1, 1], vec![0, 2]]);
        assert_eq!(space.total(), 3);
        let mut options = [0; 2];
        space.decode(1, &mut options);
        assert_eq!(options, [1, 1]);
        space.advance(2, &mut options);
        assert_eq!(options, [0, 2]);
        assert_eq!(space.find(&[2, 0]), Some(0));
        assert_eq!(space.find(&[0, 0]), None);
        let unnumbered = WalkSpace::new_or_unnumbered(&[1 << 20; 4], &[false; 4]).unwrap();
        assert!(unnumbered.is_unnumbered());
        assert!(unnumbered.check_numbered().is_err());
    }

    #[test]
    fn overflowing_spaces_are_an_error() {
        let err = WalkSpace::new(&[1 << 20; 4], &[false; 4]).unwrap_err();
        assert!(err.to_string().contains("covering"), "{err}");
    }

    #[test]
    fn selections_parse_merge_and_check() {
        let s =
            WalkSelection::parse("40-45, 17,44-50,3@00000000000000ff", "COMBTEST_WALKS").unwrap();
        assert_eq!(s.ranges(), &[3..4, 17..18, 40..51]);
        assert_eq!(s.len(), 13);
        assert_eq!(s.pinned(), &[(3, Fingerprint(255))]);
        assert!(s.check_range(51, "x").is_ok());
        let err = s.check_range(50, "COMBTEST_WALKS").unwrap_err().to_string();
        assert!(
            err.contains("COMBTEST_WALKS") && err.contains("50"),
            "{err}"
        );
    }

    #[test]
    fn the_largest_id_is_kept_and_checked() {
        for text in [
            "18446744073709551615",
            "18446744073709551615@00000000000000ff",
            "5-18446744073709551615",
        ] {
            let s = WalkSelection::parse(text, "COMBTEST_WALKS").unwrap();
            assert!(s.contains(u64::MAX), "{text}");
            let err = s.check_range(400, "COMBTEST_WALKS").unwrap_err();
            assert_eq!(
                err,
                Error::WalkOutOfRange {
                    source: "COMBTEST_WALKS".into(),
                    id: u64::MAX,
                    total: 400
                },
                "{text}"
            );
        }
        let s = WalkSelection::parse("3,18446744073709551615", "x").unwrap();
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn selections_from_ids() {
        let s = WalkSelection::from_ids(vec![7, 3, 4, 3, 9]);
        assert_eq!(s.ranges(), &[3..5, 7..8, 9..10]);
        assert!(s.contains(4) && s.contains(9) && !s.contains(5) && !s.contains(10));
    }

    #[test]
    fn malformed_selections_name_the_source_and_value() {
        for bad in ["", "x", "1,,2", "5-2", "1-", "3@zz", "+3", "-3", "+1-4"] {
            let err = WalkSelection::parse(bad, "COMBTEST_WALKS")
                .unwrap_err()
                .to_string();
            assert!(err.contains("COMBTEST_WALKS"), "{bad}: {err}");
        }
        // An end of a range left out is named by its entry, not as an empty id.
        let err = WalkSelection::parse("3-", "COMBTEST_WALKS")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`3-` lacks a walk id"), "{err}");
        let err = WalkSelection::parse("+3", "COMBTEST_WALKS")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`+3` is not a walk id"), "{err}");
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        let hash = |s: &str| {
            let mut h = Fnv64::new();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf29ce484222325);
        assert_eq!(hash("a"), 0xaf63dc4c8601ec8c);
        assert_eq!(hash("foobar"), 0x85944171f73967e8);
    }
}
