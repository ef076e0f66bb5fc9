//! What a run leaves behind: the report and its failure text, replay commands and reading
//! traces back, trace files, shard result files, the progress display and combtest's own
//! log output. Nothing here knows how walks are scheduled.

pub(crate) mod analysis;
pub(crate) mod cargo_features;
pub(crate) mod cargo_target;
pub(crate) mod html;
pub(crate) mod junit;
pub(crate) mod logging;
pub(crate) mod progress;
pub(crate) mod replay;
pub(crate) mod report;
pub(crate) mod shard;
pub(crate) mod test_location;
pub(crate) mod trace;
pub(crate) mod trace_read;
