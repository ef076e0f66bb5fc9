//! Traces: a JSON Lines record of every walk of a run, written off the hot path, and the
//! other files of a run's folder. Reading a trace back is `output::trace_read`; a replay
//! (`output::replay`) reads it through that.
//!
//! With a log directory, each run gets its own folder holding `trace.jsonl`, `summary.json`
//! (the report) and, when states are gathered, `states.json`. Workers format records into
//! their own buffers and hand full buffers to one writer thread through a channel. A buffer
//! sits behind a lock its worker alone takes, once per record, so that a run a stuck walk
//! ends (see `engine::watchdog`) can still hand every worker's records to the file
//! ([`TraceSaver`]) before the process exits.
//!
//! What a trace holds, and why: a replay must find every recorded walk in today's order, and a
//! reader must learn every walk's options and outcome; the walks that did not pass are what
//! people read. So the trace opens with a header (every action with its options, written once
//! per run), each failed or cancelled walk gets its full record ([`WalkRecord`]: steps,
//! message, failing action, duration), and passing walks of an odometer-numbered run are
//! written as runs of consecutive ids (`{"passed":[first,last],"duration_ns":t}`, with their
//! total time): their options follow from their ids and the header. Writing a full record of
//! ~300 bytes per passing walk cost some 70x the walks themselves.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam::channel::{self, Sender};
use serde::{Deserialize, Serialize};

use super::report::Report;
use crate::error::Error;
use crate::model::outcome::Outcome;
use crate::model::plan::OrderFacts;

/// Name of the trace file inside a run's folder.
pub const TRACE_FILE: &str = "trace.jsonl";
/// Name of the summary file inside a run's folder.
pub const SUMMARY_FILE: &str = "summary.json";
/// Name of the gathered-states file inside a run's folder.
pub const STATES_FILE: &str = "states.json";

/// A buffer is handed to the writer once it holds this many bytes.
const FLUSH_BYTES: usize = 256 * 1024;

/// One walk as a trace records it: a line of `trace.jsonl` for a walk that failed or was
/// cancelled, or a passing walk read back from a run of them ([`read_trace`](crate::read_trace)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkRecord {
    /// The walk's id in the run that recorded it.
    pub walk_id: u64,
    /// The walk's fingerprint.
    pub fingerprint: String,
    /// The option index of each serial action, outermost first.
    pub branch: Vec<usize>,
    /// Every action of the walk with its param, in order.
    pub steps: Vec<RecordedStep>,
    /// `pass`, `fail` or `cancel`.
    pub outcome: String,
    /// The failure message or the cancel reason.
    pub error: Option<String>,
    /// The action that failed or cancelled the walk.
    pub failed_action: Option<String>,
    /// Its position in the order (an action may be listed more than once).
    #[serde(default)]
    pub failed_position: Option<usize>,
    /// Time spent running the walk's actions, in nanoseconds. 0 for a passing walk read back
    /// from a run of passing walks (the run records their total) and for a walk that failed in
    /// the compiled loops (its time counts in the run of passing walks before it).
    pub duration_ns: u64,
}

/// One action of a recorded walk, written as the summary's [`StepRecord`](crate::StepRecord)s
/// are: the param as JSON, and its `Debug` text beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedStep {
    /// The action's name.
    pub action: String,
    /// The param, as JSON: what a replay matches against today's options.
    pub param: serde_json::Value,
    /// The param, as `Debug` prints it (empty in traces written before it was recorded).
    #[serde(default)]
    pub param_debug: String,
}

/// The folder of one run inside the log directory.
pub(crate) struct RunDir {
    pub(crate) path: PathBuf,
}

impl RunDir {
    /// Creates `<log_dir>/<test>-<time>-<pid>[-n]`, checking it can be written.
    pub(crate) fn create(log_dir: &Path, test: Option<&str>) -> Result<Self, Error> {
        let fail = |path: &Path, error: io::Error| Error::LogDir {
            path: path.to_path_buf(),
            message: error.to_string(),
        };
        fs::create_dir_all(log_dir).map_err(|e| fail(log_dir, e))?;
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let test: String = test
            .unwrap_or("combtest")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let stem = format!("{test}-{seconds}-{}", std::process::id());
        // Several runs of one test in one process and second get their own folders.
        for attempt in 0u32.. {
            let name = match attempt {
                0 => stem.clone(),
                n => format!("{stem}-{n}"),
            };
            let path = log_dir.join(name);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(&path, e)),
            }
        }
        unreachable!("an unbounded loop returns")
    }

    /// Writes `value` as pretty JSON into `name` and returns the file's path.
    pub(crate) fn write_json(&self, name: &str, value: &impl Serialize) -> Result<PathBuf, Error> {
        self.write_json_as(name, value, true)
    }

    /// Writes `value` as JSON on one line into `name` and returns the file's path: for files
    /// read by programs whose lists grow with the run (a shard's skipped and cancelled walks,
    /// millions of entries), which pretty JSON would spread over several lines each.
    pub(crate) fn write_compact_json(
        &self,
        name: &str,
        value: &impl Serialize,
    ) -> Result<PathBuf, Error> {
        self.write_json_as(name, value, false)
    }

    fn write_json_as(
        &self,
        name: &str,
        value: &impl Serialize,
        pretty: bool,
    ) -> Result<PathBuf, Error> {
        let path = self.path.join(name);
        let write = || -> io::Result<()> {
            let mut file = BufWriter::new(File::create(&path)?);
            if pretty {
                serde_json::to_writer_pretty(&mut file, value)?;
            } else {
                serde_json::to_writer(&mut file, value)?;
            }
            file.flush()
        };
        write().map_err(|error| Error::LogDir {
            path: path.clone(),
            message: error.to_string(),
        })?;
        Ok(path)
    }
}

impl RunDir {
    /// Writes `text` into `name` and returns the file's path.
    pub(crate) fn write_text(&self, name: &str, text: &str) -> Result<PathBuf, Error> {
        let path = self.path.join(name);
        fs::write(&path, text).map_err(|error| Error::LogDir {
            path: path.clone(),
            message: error.to_string(),
        })?;
        Ok(path)
    }

    /// Writes the gathered states (if any, as [`states_json`] made them) and the summary
    /// into the run's folder, listing in the report the files written and the ones that
    /// could not be. States are written as their `Debug` text, since the state type need not
    /// be `Serialize`; `Report::states` holds the values themselves.
    pub(crate) fn write_run_files(
        &self,
        report: &mut Report<()>,
        states: Option<Result<Vec<serde_json::Value>, String>>,
    ) {
        if let Some(states) = states {
            match states {
                Ok(states) => match self.write_json(STATES_FILE, &states) {
                    Ok(file) => report.files.push(file),
                    Err(error) => report.output_errors.push(error.to_string()),
                },
                Err(message) => report.output_errors.push(format!(
                    "{} was not written: {message}",
                    self.path.join(STATES_FILE).display()
                )),
            }
        }
        // The summary lists itself and every error so far.
        let summary = self.path.join(SUMMARY_FILE);
        report.files.push(summary.clone());
        if let Err(error) = self.write_json(SUMMARY_FILE, &report.summary_view()) {
            report.files.retain(|file| *file != summary);
            report.output_errors.push(error.to_string());
        }
    }
}

/// The gathered states as `states.json` holds them; a state whose `Debug` panics is the test's
/// own code failing, named with its walk.
pub(crate) fn states_json<S: std::fmt::Debug>(
    ids: impl IntoIterator<Item = u64>,
    states: &[S],
) -> Result<Vec<serde_json::Value>, String> {
    ids.into_iter()
        .zip(states)
        .map(|(id, state)| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format!("{state:?}")))
                .map(|text| serde_json::json!({ "walk_id": id, "state": text }))
                .map_err(|payload| {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic with a non-string payload".into());
                    format!("the Debug of walk {id}'s state panicked: {message}")
                })
        })
        .collect()
}

/// The writer side of a trace: one thread appending the buffers workers send.
pub(crate) struct TraceSink {
    path: PathBuf,
    shared: Arc<SinkShared>,
    writer: JoinHandle<io::Result<()>>,
    /// Whether passing walks are written as runs of ids: when ids number the full product in
    /// odometer order, so that a reader finds each walk's options from its id and the header.
    passed_runs: bool,
}

/// The first line of a trace: the order, each action with its options (JSON and `Debug`).
fn header_line(plan: &OrderFacts) -> String {
    let actions: Vec<TraceAction> = plan
        .names
        .iter()
        .enumerate()
        .map(|(position, name)| TraceAction {
            action: name.to_string(),
            serial: plan.serials.iter().any(|wheel| wheel.position == position),
            options: plan.option_json[position]
                .iter()
                .enumerate()
                .map(|(option, param)| TraceOption {
                    param: param.clone(),
                    param_debug: plan
                        .step_texts
                        .get(position, option)
                        .map_or_else(String::new, |text| text.to_string()),
                })
                .collect(),
        })
        .collect();
    let header = TraceHeader {
        trace: TRACE_FORMAT.into(),
        version: TRACE_VERSION,
        passed_runs: plan.space.is_odometer(),
        actions,
    };
    let mut line = serde_json::to_string(&header).unwrap_or_default();
    line.push('\n');
    line
}

/// What the header's `trace` field says: this is a combtest trace.
pub(crate) const TRACE_FORMAT: &str = "combtest";
/// The version of the trace format: 2 added the header and runs of passing walks.
pub(crate) const TRACE_VERSION: u32 = 2;

/// The first line of a trace (see the module doc).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TraceHeader {
    /// Always `combtest`.
    pub(crate) trace: String,
    pub(crate) version: u32,
    /// Whether passing walks are written as runs of ids (`{"passed":[first,last],...}`).
    pub(crate) passed_runs: bool,
    /// The order, in order.
    pub(crate) actions: Vec<TraceAction>,
}

/// One action of a trace's order, with its options in option-index order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TraceAction {
    pub(crate) action: String,
    /// Serial actions are the most significant digits of a walk id.
    pub(crate) serial: bool,
    pub(crate) options: Vec<TraceOption>,
}

/// One option of an action, as a trace's steps write params.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TraceOption {
    pub(crate) param: serde_json::Value,
    #[serde(default)]
    pub(crate) param_debug: String,
}

/// A run of consecutive walk ids that all passed, as one trace line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PassedRun {
    /// The first and the last id of the run.
    pub(crate) passed: [u64; 2],
    /// The time of all of its walks, in nanoseconds.
    pub(crate) duration_ns: u64,
}

impl TraceSink {
    /// Creates the trace file and writes its header: the order's actions and their options.
    pub(crate) fn create(dir: &RunDir, plan: &OrderFacts) -> Result<Self, Error> {
        let path = dir.path.join(TRACE_FILE);
        let fail = |error: io::Error| Error::LogDir {
            path: path.clone(),
            message: error.to_string(),
        };
        let mut file = File::create(&path).map_err(fail)?;
        file.write_all(header_line(plan).as_bytes()).map_err(fail)?;
        let passed_runs = plan.space.is_odometer();
        let (sender, receiver) = channel::bounded::<ToWriter>(64);
        let writer = std::thread::Builder::new()
            .name("combtest-trace".into())
            .spawn(move || {
                let mut file = BufWriter::new(file);
                for message in receiver {
                    match message {
                        ToWriter::Records(bytes) => file.write_all(&bytes)?,
                        ToWriter::Flush(done) => {
                            let _ = done.send(file.flush().is_ok());
                        }
                    }
                }
                file.flush()
            })
            .map_err(|error| Error::LogDir {
                path: path.clone(),
                message: error.to_string(),
            })?;
        Ok(TraceSink {
            path,
            shared: Arc::new(SinkShared {
                sender: Mutex::new(Some(sender)),
                buffers: Mutex::new(Vec::new()),
            }),
            writer,
            passed_runs,
        })
    }

    /// A buffer for one worker.
    pub(crate) fn buffer(&self) -> TraceBuffer {
        let pending = Arc::new(Mutex::new(Pending {
            bytes: Vec::with_capacity(FLUSH_BYTES),
            passed: None,
            sender: locked(&self.shared.sender)
                .clone()
                .expect("a sink takes records until it finishes, which consumes it"),
        }));
        let mut buffers = locked(&self.shared.buffers);
        buffers.retain(|buffer| buffer.strong_count() > 0);
        buffers.push(Arc::downgrade(&pending));
        TraceBuffer {
            holder: Holder::Shared(pending),
            passed_runs: self.passed_runs,
        }
    }

    /// What hands every worker's pending records to the file when the process is about to
    /// end without the run returning.
    pub(crate) fn saver(&self) -> TraceSaver {
        TraceSaver {
            shared: Arc::clone(&self.shared),
            path: self.path.clone(),
        }
    }

    /// Waits for every buffer to be written (all `TraceBuffer`s must be dropped first).
    pub(crate) fn finish(self) -> Result<PathBuf, Error> {
        // A saver left behind can no longer send: the writer ends once the buffers are gone.
        drop(locked(&self.shared.sender).take());
        let fail = |message: String| Error::LogDir {
            path: self.path.clone(),
            message,
        };
        match self.writer.join() {
            Ok(Ok(())) => Ok(self.path.clone()),
            Ok(Err(error)) => Err(fail(error.to_string())),
            Err(_) => Err(fail("the trace writer panicked".into())),
        }
    }
}

/// What the sink shares with its buffers and its saver.
struct SinkShared {
    /// To the writer thread; taken when the sink finishes.
    sender: Mutex<Option<Sender<ToWriter>>>,
    /// Every worker's buffer while its worker keeps it.
    buffers: Mutex<Vec<Weak<Mutex<Pending>>>>,
}

/// A message to the trace writer.
enum ToWriter {
    /// Records to append.
    Records(Vec<u8>),
    /// Write out everything received so far, then answer whether that worked.
    Flush(Sender<bool>),
}

/// A lock taken even if a thread panicked while holding it: what it guards is bytes and
/// senders, whole after any panic between two of its uses.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hands every worker's pending records to the trace file, for a process that ends while a
/// walk still runs (see `engine::watchdog`): the walks that ended are then all in the trace.
pub(crate) struct TraceSaver {
    shared: Arc<SinkShared>,
    path: PathBuf,
}

impl TraceSaver {
    /// The trace file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Sends every worker's pending records to the writer and waits until the file holds
    /// them, for at most `patience`. A worker recording at that moment is waited for within
    /// the same patience. Returns whether every record reached the file.
    pub(crate) fn save_now(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        let buffers = locked(&self.shared.buffers).clone();
        let mut all_sent = true;
        for pending in buffers.iter().filter_map(Weak::upgrade) {
            let guard = loop {
                match pending.try_lock() {
                    Ok(guard) => break Some(guard),
                    Err(TryLockError::Poisoned(poisoned)) => break Some(poisoned.into_inner()),
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(TryLockError::WouldBlock) => break None,
                }
            };
            let left = deadline.saturating_duration_since(Instant::now());
            // The writer may be stuck writing: the records are handed over within the
            // patience too, so that the process still exits.
            all_sent &= guard.is_some_and(|mut pending| pending.hand_over(left));
        }
        let Some(sender) = locked(&self.shared.sender).clone() else {
            return false;
        };
        let (done, written) = channel::bounded(1);
        let left = deadline.saturating_duration_since(Instant::now());
        if sender.send_timeout(ToWriter::Flush(done), left).is_err() {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        all_sent && written.recv_timeout(left).unwrap_or(false)
    }
}

/// One worker's trace records; handed to the writer when full, when the worker lets its
/// buffer go, and when a [`TraceSaver`] asks.
pub(crate) struct TraceBuffer {
    holder: Holder,
    /// Whether passing walks are written as runs of ids.
    passed_runs: bool,
}

/// Where a buffer keeps its records.
enum Holder {
    /// Where a [`TraceSaver`] finds them too: each record takes the lock.
    Shared(Arc<Mutex<Pending>>),
    /// Where only the buffer does, for records written in one go when the run ends.
    Own(Pending),
}

/// The records of a worker not handed to the writer yet.
struct Pending {
    bytes: Vec<u8>,
    /// The run of passing walks not written yet: its first and last id, and its time.
    passed: Option<(u64, u64, u64)>,
    sender: Sender<ToWriter>,
}

impl TraceBuffer {
    /// Whether passing walks are written as runs of ids, so that walks run in the compiled
    /// loops, which see no passing walk one by one, can be recorded a run at a time.
    pub(crate) fn writes_passed_runs(&self) -> bool {
        self.passed_runs
    }

    /// This buffer, its records kept where no [`TraceSaver`] looks: for an executor that
    /// records every walk in one go when the run ends (with serial actions), which a saver
    /// could not help, so that its records take no lock.
    pub(crate) fn unshared(self) -> TraceBuffer {
        let holder = match self.holder {
            Holder::Shared(pending) => match Arc::try_unwrap(pending) {
                Ok(pending) => Holder::Own(pending.into_inner().unwrap_or_else(|e| e.into_inner())),
                Err(pending) => Holder::Shared(pending),
            },
            own => own,
        };
        TraceBuffer {
            holder,
            passed_runs: self.passed_runs,
        }
    }

    /// Calls `write` with the pending records.
    #[inline]
    fn with<R>(&mut self, write: impl FnOnce(&mut Pending) -> R) -> R {
        match &mut self.holder {
            Holder::Shared(pending) => write(&mut locked(pending)),
            Holder::Own(pending) => write(pending),
        }
    }

    /// Records that walks `first..=last` all passed, in `nanos` in all; joined to the pending
    /// run when it goes on from it.
    pub(crate) fn passed(&mut self, first: u64, last: u64, nanos: u64) {
        debug_assert!(self.passed_runs && first <= last);
        self.with(|pending| pending.passed(first, last, nanos));
    }

    /// Appends the record of one finished walk; `ended_at` is the position of the action
    /// that failed or cancelled it, with the failure message or the cancel reason.
    pub(crate) fn record(
        &mut self,
        plan: &OrderFacts,
        id: u64,
        options: &[usize],
        outcome: &Outcome,
        ended_at: Option<(usize, &str)>,
        duration_ns: u64,
    ) {
        let passed_run = self.passed_runs && *outcome == Outcome::Pass;
        self.with(|pending| {
            if passed_run {
                pending.passed(id, id, duration_ns);
            } else {
                pending.record(plan, id, options, outcome, ended_at, duration_ns);
            }
        });
    }
}

impl Pending {
    fn passed(&mut self, first: u64, last: u64, nanos: u64) {
        match &mut self.passed {
            Some((_, end, total)) if *end + 1 == first => {
                *end = last;
                *total = total.saturating_add(nanos);
            }
            _ => {
                self.write_passed();
                self.passed = Some((first, last, nanos));
            }
        }
    }

    /// Writes the pending run of passing walks, if any.
    fn write_passed(&mut self) {
        if let Some((first, last, nanos)) = self.passed.take() {
            let _ = writeln!(
                self.bytes,
                "{{\"passed\":[{first},{last}],\"duration_ns\":{nanos}}}"
            );
        }
    }

    fn record(
        &mut self,
        plan: &OrderFacts,
        id: u64,
        options: &[usize],
        outcome: &Outcome,
        ended_at: Option<(usize, &str)>,
        duration_ns: u64,
    ) {
        self.write_passed();
        let fingerprint = plan.fingerprint(options);
        let out = &mut self.bytes;
        // Records are assembled from pre-serialized steps: only the error text needs
        // escaping per walk, and nothing is allocated.
        let _ = write!(
            out,
            "{{\"walk_id\":{id},\"fingerprint\":\"{fingerprint}\",\"branch\":["
        );
        for (i, wheel) in plan.serials.iter().enumerate() {
            let separator = if i > 0 { "," } else { "" };
            let _ = write!(out, "{separator}{}", wheel.option_of(id));
        }
        out.extend_from_slice(b"],\"steps\":[");
        for (position, &option) in options.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            out.extend_from_slice(plan.step_json[position][option].as_bytes());
        }
        let (name, error) = match (outcome, ended_at) {
            (Outcome::Pass, _) => ("pass", None),
            (Outcome::Fail, at) => ("fail", at.map(|(_, message)| message)),
            (Outcome::Cancel { reason }, _) => ("cancel", Some(reason.as_str())),
        };
        let position = ended_at.map(|(position, _)| position);
        let failed_action = position.map(|p| &*plan.names[p]);
        let json =
            |text: Option<&str>| serde_json::to_string(&text).unwrap_or_else(|_| "null".into());
        let position = position.map_or_else(|| "null".to_string(), |p| p.to_string());
        let _ = writeln!(
            out,
            "],\"outcome\":\"{name}\",\"error\":{},\"failed_action\":{},\
             \"failed_position\":{position},\"duration_ns\":{duration_ns}}}",
            json(error),
            json(failed_action)
        );
        if out.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.write_passed();
        if !self.bytes.is_empty() {
            let full = std::mem::replace(&mut self.bytes, Vec::with_capacity(FLUSH_BYTES));
            // A closed channel means the writer failed; `TraceSink::finish` reports why.
            let _ = self.sender.send(ToWriter::Records(full));
        }
    }

    /// [`Pending::flush`] for a [`TraceSaver`]: the records are handed to the writer within
    /// `patience`, or not at all. Returns whether they were.
    fn hand_over(&mut self, patience: Duration) -> bool {
        self.write_passed();
        if self.bytes.is_empty() {
            return true;
        }
        let full = std::mem::take(&mut self.bytes);
        match self.sender.send_timeout(ToWriter::Records(full), patience) {
            Ok(()) => true,
            Err(error) => {
                // Kept for the worker's own later flush, if it comes.
                if let ToWriter::Records(bytes) = error.into_inner() {
                    self.bytes = bytes;
                }
                false
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::action::Action;
    use crate::model::plan::Plan;

    pub(crate) fn plan(options: Vec<u32>) -> Plan<(), ()> {
        let order = vec![
            Action::new(
                "a",
                move || options.clone(),
                |_: u32, _: &mut (), _: &()| {},
            ),
            Action::new("b", || ["x", "y"], |_: &str, _: &mut (), _: &()| {}),
        ];
        Plan::load(&order).unwrap()
    }

    pub(crate) fn record_line(
        plan: &Plan<(), ()>,
        id: u64,
        options: &[usize],
        outcome: Outcome,
    ) -> String {
        let (sender, receiver) = channel::unbounded();
        let mut buffer = TraceBuffer {
            holder: Holder::Own(Pending {
                bytes: Vec::new(),
                passed: None,
                sender,
            }),
            passed_runs: false,
        };
        let ended_at = match &outcome {
            Outcome::Fail => Some((1, "bad \"quote\"\n")),
            Outcome::Cancel { reason } => Some((0, reason.as_str())),
            Outcome::Pass => None,
        };
        buffer.record(plan, id, options, &outcome, ended_at, 42);
        drop(buffer);
        match receiver.recv().unwrap() {
            ToWriter::Records(bytes) => String::from_utf8(bytes).unwrap(),
            ToWriter::Flush(_) => unreachable!("only records are sent"),
        }
    }

    #[test]
    fn records_are_json_lines_that_read_back() {
        let plan = plan(vec![1, 2, 3]);
        let line = record_line(&plan, 5, &[2, 1], Outcome::Fail);
        assert!(line.ends_with('\n'));
        let record: WalkRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(record.walk_id, 5);
        assert_eq!(record.fingerprint, plan.fingerprint(&[2, 1]).to_string());
        assert_eq!(record.steps[0].param, serde_json::json!(3));
        assert_eq!(record.steps[1].param, serde_json::json!("y"));
        assert_eq!(record.outcome, "fail");
        assert_eq!(record.error.as_deref(), Some("bad \"quote\"\n"));
        assert_eq!(record.failed_action.as_deref(), Some("b"));
        assert_eq!(record.failed_position, Some(1));
        assert_eq!(record.duration_ns, 42);
        let cancel = Outcome::Cancel {
            reason: "out of scope".into(),
        };
        let record: WalkRecord =
            serde_json::from_str(&record_line(&plan, 6, &[0, 0], cancel)).unwrap();
        assert_eq!(record.outcome, "cancel");
        assert_eq!(record.error.as_deref(), Some("out of scope"));
        assert_eq!(record.failed_action.as_deref(), Some("a"));
        assert_eq!(record.failed_position, Some(0));
    }
}
