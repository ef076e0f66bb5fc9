//! The fingerprints of walks that fail one after another, computed from where they differ.
//!
//! A fingerprint hashes the option hashes of a walk position by position (see
//! [`Fingerprint::of`]). Walks run in id order, the last position turning fastest, so the
//! failing walks of a chunk mostly share their first options: the hash after those is kept
//! from the previous failure, and only the positions from the first that differs are hashed.

use super::walk_id::{Fingerprint, Fnv64};

/// The hash states of the last fingerprint made, after each of its positions. One worker
/// keeps one, for the walks of one run.
#[derive(Default)]
pub(crate) struct FingerprintPrefixes {
    /// The option hashes the states were made from (their address): other hashes start over.
    /// An address stands for the hashes because a worker's tally, which holds this, lives
    /// within one run, whose plan holds the hashes and outlives it: no other hashes can come
    /// to that address while the states are kept.
    hashes: usize,
    /// The options of the last walk.
    options: Vec<usize>,
    /// `states[p]`: the hash after positions `0..p`; `states[0]` is the empty hash.
    states: Vec<Fnv64>,
}

impl FingerprintPrefixes {
    /// [`Fingerprint::of`] the walk that picks `options`, hashing only the positions from the
    /// first where it differs from the last walk asked about.
    pub(crate) fn fingerprint(
        &mut self,
        option_hashes: &[Vec<u64>],
        options: &[usize],
    ) -> Fingerprint {
        let positions = option_hashes.len().min(options.len());
        let hashes = option_hashes.as_ptr() as usize;
        if self.hashes != hashes || self.options.len() != positions {
            self.hashes = hashes;
            self.options = vec![usize::MAX; positions];
            self.states = vec![Fnv64::new(); positions + 1];
        }
        let shared = self
            .options
            .iter()
            .zip(options)
            .take_while(|(last, this)| last == this)
            .count();
        for position in shared..positions {
            let option = options[position];
            let mut hash = self.states[position];
            hash.write(&option_hashes[position][option].to_le_bytes());
            self.states[position + 1] = hash;
            self.options[position] = option;
        }
        Fingerprint(self.states[positions].finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::Xorshift;

    #[test]
    fn fingerprints_from_the_first_difference_are_the_fingerprints() {
        let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = |below: u64| random.below(below);
        let sizes = [3usize, 1, 4, 2, 5];
        let option_hashes: Vec<Vec<u64>> = sizes
            .iter()
            .map(|&size| (0..size).map(|_| next(u64::MAX)).collect())
            .collect();
        let other_hashes: Vec<Vec<u64>> = sizes
            .iter()
            .map(|&size| (0..size).map(|_| next(u64::MAX)).collect())
            .collect();
        let mut prefixes = FingerprintPrefixes::default();
        let mut options = vec![0; sizes.len()];
        for round in 0..2000 {
            // Walks in id order, mostly a few apart, sometimes far apart or repeated.
            let changes = [0, 1, 1, 2, 5][(next(5)) as usize];
            for _ in 0..changes {
                let p = sizes.len() - 1 - next(sizes.len() as u64).min(next(3)) as usize;
                options[p] = next(sizes[p] as u64) as usize;
            }
            let hashes = if round % 97 == 0 {
                &other_hashes
            } else {
                &option_hashes
            };
            assert_eq!(
                prefixes.fingerprint(hashes, &options),
                Fingerprint::of(hashes, &options),
                "round {round}: {options:?}"
            );
        }
        // A walk of fewer positions starts over.
        assert_eq!(
            prefixes.fingerprint(&option_hashes[..2], &options[..2]),
            Fingerprint::of(&option_hashes[..2], &options[..2])
        );
    }
}
