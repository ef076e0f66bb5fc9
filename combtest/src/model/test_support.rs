//! What the unit tests of several layers share: a small deterministic generator, walk ids
//! decoded in plain lexicographic order, and a failure record with only what the analysis
//! reads.

use super::outcome::{Failure, FailureKind};
use super::walk_id::Fingerprint;

/// A small deterministic generator (xorshift64): the tests need variety, not quality.
pub(crate) struct Xorshift(pub(crate) u64);

impl Xorshift {
    /// The next number.
    pub(crate) fn draw(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next number, below `bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.draw() % bound
    }
}

/// Decodes a walk id into the options of positions of these sizes, the last turning
/// fastest: the odometer of an order without serial actions.
pub(crate) fn lexicographic(sizes: &[usize]) -> impl Fn(u64, &mut [usize]) + '_ {
    move |mut id, options: &mut [usize]| {
        for p in (0..sizes.len()).rev() {
            options[p] = (id % sizes[p] as u64) as usize;
            id /= sizes[p] as u64;
        }
    }
}

/// Walk `id` failing at `position`, action `action`, with `message`: an error with no steps,
/// state or location, whose replay line is `replay {id}`.
pub(crate) fn failure(id: u64, position: usize, action: &str, message: &str) -> Failure {
    Failure {
        walk_id: id,
        fingerprint: Fingerprint(id),
        steps: Vec::new(),
        failed_position: position,
        failed_action: action.into(),
        kind: FailureKind::Error,
        message: message.into(),
        location: None,
        state: String::new(),
        replay: format!("replay {id}"),
    }
}
