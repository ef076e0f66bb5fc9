//! Planning a run: load the order's options, number the walk space, cut the order into
//! segments at its serial actions.
//!
//! A segment is opened by the start of the order or by a serial action, and holds the regular
//! actions up to the next serial action. `A A S1 A S2` has three segments (the last holds no
//! action but is still a segment every walk enters); `S1 A A S2` has two, since its first
//! serial action opens the walk. An order without serial actions is one segment.
//!
//! Walk ids put the serial actions on the most significant wheels, so the walks that share
//! the options of the first `k` serial actions (a branch) are a contiguous block of ids.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut, Range};

use super::action::{option_hash, option_json, Action, ActionKind, LoadedAction, ParamList};
use super::fingerprint_prefixes::FingerprintPrefixes;
use super::outcome::{Outcome, WalkSummary};
use super::step_texts::StepTexts;
use super::walk::OrderView;
use super::walk_id::{Fingerprint, WalkSpace};
use crate::error::Error;

/// An order with its options evaluated for one run: its actions, and what is known of the
/// order without the state and shared types ([`OrderFacts`], which the plan dereferences
/// to).
///
/// Only the actions are generic. Everything else is computed and read by code compiled once
/// in this crate, not once in every test crate for its state type.
pub(crate) struct Plan<S, G> {
    pub(crate) actions: Vec<LoadedAction<S, G>>,
    facts: OrderFacts,
}

/// What a plan knows of its order beyond the actions' bodies.
pub(crate) struct OrderFacts {
    /// The name of the action at each position.
    pub(crate) names: Vec<Cow<'static, str>>,
    pub(crate) space: WalkSpace,
    /// The segments of every walk, in order.
    pub(crate) segments: Vec<Segment>,
    /// The serial actions, in order: which wheel of the walk id each one is.
    pub(crate) serials: Vec<SerialWheel>,
    /// The serial positions as a bit mask, for statically dispatched walks: their options
    /// stay put inside a chunk of held walks.
    pub(crate) serial_mask: u64,
    /// Per position, per option: the stable hash fingerprints are made of.
    option_hashes: Vec<Vec<u64>>,
    /// Per position, per option: the option's JSON form, as traces record it.
    pub(crate) option_json: Vec<Vec<serde_json::Value>>,
    /// Per position, per option: `{"action":...,"param":...}`, ready for a trace record;
    /// with `"param_debug"` too once [`OrderFacts::describe_steps`] gave the `Debug` texts.
    pub(crate) step_json: Vec<Vec<String>>,
    /// The action names and options' `Debug` texts reports show, made once per run on demand.
    pub(crate) step_texts: StepTexts,
}

impl<S, G> Deref for Plan<S, G> {
    type Target = OrderFacts;

    fn deref(&self) -> &OrderFacts {
        &self.facts
    }
}

impl<S, G> DerefMut for Plan<S, G> {
    fn deref_mut(&mut self) -> &mut OrderFacts {
        &mut self.facts
    }
}

impl<S, G> Plan<S, G> {
    /// Evaluates every option source once and checks the order can run.
    pub(crate) fn load(order: &[Action<S, G>]) -> Result<Self, Error>
    where
        S: 'static,
    {
        if order.is_empty() {
            return Err(Error::EmptyOrder);
        }
        // Each action's option source is evaluated once per run, however many positions it
        // has: a source that gives another list each time must give every position the same.
        let mut loaded: Vec<(*const (), LoadedAction<S, G>)> = Vec::new();
        let mut actions: Vec<LoadedAction<S, G>> = Vec::with_capacity(order.len());
        for action in order {
            let identity = action.identity();
            let done = match loaded.iter().find(|(seen, _)| *seen == identity) {
                Some((_, done)) => done.clone(),
                None => {
                    let done = action.load();
                    loaded.push((identity, done.clone()));
                    done
                }
            };
            actions.push(done);
        }
        let mut names = Vec::with_capacity(actions.len());
        let mut params: Vec<&dyn ParamList> = Vec::with_capacity(actions.len());
        let mut serial = Vec::with_capacity(actions.len());
        for action in &actions {
            names.push(action.name.clone());
            params.push(action.params());
            serial.push(action.kind() == ActionKind::Serial);
        }
        let facts = OrderFacts::new(names, &params, &serial)?;
        Ok(Plan { actions, facts })
    }

    /// The names and options of the order, as filters see them.
    pub(crate) fn view(&self) -> OrderView<'_> {
        OrderView::new(
            self.actions.iter().map(|a| &*a.name).collect(),
            self.actions.iter().map(|a| a.params()).collect(),
        )
    }
}

impl OrderFacts {
    /// Numbers the walk space of the loaded options and checks the order can run.
    fn new(
        names: Vec<Cow<'static, str>>,
        params: &[&dyn ParamList],
        serial: &[bool],
    ) -> Result<Self, Error> {
        if let Some((position, name)) = names
            .iter()
            .enumerate()
            .find(|&(position, _)| params[position].len() == 0)
        {
            return Err(Error::NoOptions {
                action: name.to_string(),
                position,
            });
        }
        let radices: Vec<usize> = params.iter().map(|p| p.len()).collect();
        let space = WalkSpace::new_or_unnumbered(&radices, serial)?;
        // The serial wheels come first: the k-th one turns once every `span` ids, where `span`
        // is the product of the radices of all wheels after it.
        let mut span = space.total();
        let serials = (0..names.len())
            .filter(|&p| serial[p])
            .map(|position| {
                span /= radices[position] as u64;
                SerialWheel {
                    position,
                    radix: radices[position],
                    span,
                }
            })
            .collect();
        let serial_mask = (0..names.len())
            .filter(|&p| serial[p] && p < 64)
            .fold(0, |mask, p| mask | 1 << p);
        let option_json: Vec<Vec<serde_json::Value>> = names
            .iter()
            .zip(params)
            .map(|(name, params)| option_json(name, *params))
            .collect::<Result<_, _>>()?;
        let option_hashes: Vec<Vec<u64>> = names
            .iter()
            .zip(&option_json)
            .map(|(name, json)| json.iter().map(|j| option_hash(name, j)).collect())
            .collect();
        for (position, hashes) in option_hashes.iter().enumerate() {
            let (name, json) = (&names[position], &option_json[position]);
            check_distinguishable(name, params[position], position, hashes, json)?;
        }
        let step_json = names
            .iter()
            .zip(&option_json)
            .map(|(name, json)| {
                json.iter()
                    .map(|param| {
                        serde_json::json!({ "action": &**name, "param": param }).to_string()
                    })
                    .collect()
            })
            .collect();
        let step_texts = StepTexts::new(names.iter().map(|name| &**name), &radices);
        Ok(OrderFacts {
            step_texts,
            segments: segments(serial),
            serials,
            serial_mask,
            names,
            space,
            option_hashes,
            option_json,
            step_json,
        })
    }

    /// Adds each option's `Debug` text (`debug[position][option]`) to its trace step, so
    /// that a trace writes params as the summary does: as JSON, with their `Debug` beside.
    /// Made apart from [`Plan::load`] since a `Debug` may panic, which only the caller can
    /// catch quietly, and only a traced run needs it.
    pub(crate) fn describe_steps(&mut self, debug: &[Vec<String>]) {
        self.step_json = self
            .names
            .iter()
            .zip(&self.option_json)
            .zip(debug)
            .map(|((name, json), texts)| {
                json.iter()
                    .zip(texts)
                    .map(|(param, text)| {
                        serde_json::json!({
                            "action": &**name,
                            "param": param,
                            "param_debug": text,
                        })
                        .to_string()
                    })
                    .collect()
            })
            .collect();
    }

    /// The option of every serial action in walk `id`: its branch.
    pub(crate) fn branch_of(&self, id: u64) -> Vec<usize> {
        self.serials
            .iter()
            .map(|wheel| wheel.option_of(id))
            .collect()
    }

    /// The summary of walk `id` for the "full" gathering level.
    pub(crate) fn summary(&self, id: u64, outcome: Outcome) -> WalkSummary {
        WalkSummary {
            walk_id: id,
            outcome,
            branch: self.branch_of(id),
        }
    }

    /// The fingerprint of the walk that picks `options`.
    pub(crate) fn fingerprint(&self, options: &[usize]) -> Fingerprint {
        Fingerprint::of(&self.option_hashes, options)
    }

    /// [`OrderFacts::fingerprint`], hashing only from the first position where `options`
    /// differ from the last walk `prefixes` was asked about.
    pub(crate) fn fingerprint_from(
        &self,
        prefixes: &mut FingerprintPrefixes,
        options: &[usize],
    ) -> Fingerprint {
        prefixes.fingerprint(&self.option_hashes, options)
    }

    /// [`OrderFacts::fingerprint`] as a function that owns what it needs, to outlive the
    /// plan.
    pub(crate) fn fingerprinter(&self) -> impl Fn(&[usize]) -> Fingerprint + Send + Sync + 'static {
        let option_hashes = self.option_hashes.clone();
        move |options| Fingerprint::of(&option_hashes, options)
    }

    /// The option index at each position of the walk with these params (JSON, one per
    /// position), matched by value.
    pub(crate) fn options_of(&self, params: &[serde_json::Value]) -> Result<Vec<usize>, String> {
        if params.len() != self.names.len() {
            // As the user wrote them, in JSON: `["Mac", 2]`, not serde_json's `Debug`.
            let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
            let plural = |count: usize| if count == 1 { "" } else { "s" };
            return Err(format!(
                "walk [{}] has {} param{}, but the order has {} action{}",
                shown.join(", "),
                params.len(),
                plural(params.len()),
                self.names.len(),
                plural(self.names.len())
            ));
        }
        params
            .iter()
            .enumerate()
            .map(|(position, param)| {
                self.option_json[position]
                    .iter()
                    .position(|json| json == param)
                    .ok_or_else(|| {
                        format!(
                            "param {param} is not an option of action `{}` (position {position})",
                            self.names[position]
                        )
                    })
            })
            .collect()
    }

    /// The id of the walk with this fingerprint, searched among the first `limit` ids.
    pub(crate) fn find_fingerprint(&self, fingerprint: Fingerprint, limit: u64) -> Option<u64> {
        let mut options = vec![0; self.names.len()];
        for id in 0..self.space.total().min(limit) {
            if self.fingerprint(&options) == fingerprint {
                return Some(id);
            }
            self.space.advance(id + 1, &mut options);
        }
        None
    }
}

/// Refuses two options of one action whose walks would share a fingerprint: replay and
/// pinned ids tell walks apart by the options' serialized forms, so two options recorded alike
/// (`NaN` and `inf` are both `null`) would let a replay run the other walk, which may pass.
fn check_distinguishable(
    name: &str,
    params: &dyn ParamList,
    position: usize,
    hashes: &[u64],
    json: &[serde_json::Value],
) -> Result<(), Error> {
    let mut by_hash: Vec<usize> = (0..hashes.len()).collect();
    by_hash.sort_unstable_by_key(|&option| (hashes[option], option));
    match by_hash
        .windows(2)
        .find(|pair| hashes[pair[0]] == hashes[pair[1]])
    {
        Some(&[first, second]) => {
            let recorded_as = if json[first] == json[second] {
                json[first].to_string()
            } else {
                // Distinct JSON whose hashes collide: as indistinguishable for fingerprints.
                format!(
                    "{} and {}, whose fingerprints collide",
                    json[first], json[second]
                )
            };
            Err(Error::IndistinguishableOptions {
                action: name.to_string(),
                position,
                first: params.debug(first),
                second: params.debug(second),
                recorded_as,
            })
        }
        _ => Ok(()),
    }
}

/// One stretch of a walk: opened by the start of the order or by a serial action, holding the
/// regular actions up to the next serial action (possibly none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Index into `Plan::serials` of the serial action that opens the segment.
    pub(crate) opener: Option<usize>,
    /// Positions of the segment's regular actions.
    pub(crate) actions: Range<usize>,
    /// The same positions as a bit mask, for statically dispatched walks.
    pub(crate) mask: u64,
}

impl Segment {
    /// How many serial actions precede the segment's actions: its number among the order's
    /// segments, counting the empty ones between adjacent serial actions.
    pub(crate) fn number(&self) -> usize {
        self.opener.map_or(0, |serial| serial + 1)
    }
}

/// A serial action's wheel in the walk id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SerialWheel {
    /// Position of the serial action in the order.
    pub(crate) position: usize,
    /// Its option count.
    pub(crate) radix: usize,
    /// How many consecutive ids share one of its options.
    pub(crate) span: u64,
}

impl SerialWheel {
    /// The option this serial action has in walk `id`.
    #[inline]
    pub(crate) fn option_of(&self, id: u64) -> usize {
        ((id / self.span) % self.radix as u64) as usize
    }
}

/// The bit mask of `positions`, as the compiled kernel takes a segment; orders of more than
/// 64 actions are never compiled, so every position it sees fits.
pub(crate) fn positions_mask(positions: Range<usize>) -> u64 {
    positions
        .filter(|&p| p < 64)
        .fold(0, |mask, p| mask | 1 << p)
}

/// Cuts the order at its serial positions.
fn segments(serial: &[bool]) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut current = Segment {
        opener: None,
        actions: 0..0,
        mask: 0,
    };
    let mut serial_index = 0;
    for (position, &is_serial) in serial.iter().enumerate() {
        if is_serial {
            // The start of the order opens a segment only if actions precede the first
            // serial action: a leading serial action opens the walk itself.
            if current.opener.is_some() || !current.actions.is_empty() {
                segments.push(current);
            }
            current = Segment {
                opener: Some(serial_index),
                actions: position + 1..position + 1,
                mask: 0,
            };
            serial_index += 1;
        } else {
            current.actions.end = position + 1;
        }
    }
    segments.push(current);
    for segment in &mut segments {
        segment.mask = positions_mask(segment.actions.clone());
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(opener: Option<usize>, actions: Range<usize>) -> Segment {
        let mask = positions_mask(actions.clone());
        Segment {
            opener,
            actions,
            mask,
        }
    }

    #[test]
    fn segments_are_opened_by_the_start_or_a_serial_action() {
        assert_eq!(segments(&[false, false]), vec![seg(None, 0..2)]);
        // A A S A S: three segments, the last one holds no action.
        assert_eq!(
            segments(&[false, false, true, false, true]),
            vec![seg(None, 0..2), seg(Some(0), 3..4), seg(Some(1), 5..5)]
        );
        // S A A S: the leading serial action opens the first segment.
        assert_eq!(
            segments(&[true, false, false, true]),
            vec![seg(Some(0), 1..3), seg(Some(1), 4..4)]
        );
        // S S A: adjacent serial actions leave an empty segment between them.
        assert_eq!(
            segments(&[true, true, false]),
            vec![seg(Some(0), 1..1), seg(Some(1), 2..3)]
        );
        // A lone serial action.
        assert_eq!(segments(&[true]), vec![seg(Some(0), 1..1)]);
    }

    #[test]
    fn branches_are_contiguous_blocks_of_ids() {
        let order = vec![
            Action::new("a", || 0..2u8, |_: u8, _: &mut (), _: &()| {}),
            Action::serial(
                "s",
                || 0..3u8,
                |_: u8, _: &mut (), _: crate::model::action::States<'_, ()>| {},
            ),
            Action::new("b", || 0..4u8, |_: u8, _: &mut (), _: &()| {}),
            Action::serial(
                "t",
                || 0..2u8,
                |_: u8, _: &mut (), _: crate::model::action::States<'_, ()>| {},
            ),
        ];
        let plan = Plan::load(&order).unwrap();
        assert_eq!(plan.space.total(), 48);
        assert_eq!(
            plan.serials,
            vec![
                SerialWheel {
                    position: 1,
                    radix: 3,
                    span: 16
                },
                SerialWheel {
                    position: 3,
                    radix: 2,
                    span: 8
                },
            ]
        );
        let mut options = vec![0; 4];
        for id in 0..48 {
            plan.space.decode(id, &mut options);
            assert_eq!(
                plan.branch_of(id),
                vec![options[1], options[3]],
                "walk {id}"
            );
        }
        assert_eq!(plan.branch_of(17), vec![1, 0]);
    }

    #[test]
    fn empty_order_and_empty_options_are_errors() {
        let none: Vec<Action<()>> = vec![];
        assert!(matches!(Plan::load(&none), Err(Error::EmptyOrder)));
        let order = vec![
            Action::new("fine", || [1u8], |_: u8, _: &mut (), _: &()| {}),
            Action::new("empty", Vec::<u8>::new, |_: u8, _: &mut (), _: &()| {}),
        ];
        let err = Plan::load(&order).err().unwrap();
        assert_eq!(
            err,
            Error::NoOptions {
                action: "empty".into(),
                position: 1
            }
        );
    }

    #[test]
    fn fingerprints_follow_params_not_ids() {
        let first = vec![Action::new(
            "a",
            || [1u8, 2],
            |_: u8, _: &mut (), _: &()| {},
        )];
        let reordered = vec![Action::new(
            "a",
            || [2u8, 1],
            |_: u8, _: &mut (), _: &()| {},
        )];
        let (first, reordered) = (Plan::load(&first).unwrap(), Plan::load(&reordered).unwrap());
        assert_eq!(first.fingerprint(&[0]), reordered.fingerprint(&[1]));
        assert_ne!(first.fingerprint(&[0]), first.fingerprint(&[1]));
        assert_eq!(
            reordered.find_fingerprint(first.fingerprint(&[0]), 10),
            Some(1)
        );
    }
}
