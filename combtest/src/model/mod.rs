//! What a run is made of: walk ids, actions and their options, outcomes, the plan of a run,
//! and where walk states come from. No threads and no I/O live here.

pub(crate) mod action;
pub(crate) mod fingerprint_prefixes;
pub(crate) mod outcome;
pub(crate) mod plan;
pub(crate) mod shared;
pub(crate) mod state;
pub(crate) mod step_text;
pub(crate) mod step_texts;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod walk;
pub(crate) mod walk_id;
