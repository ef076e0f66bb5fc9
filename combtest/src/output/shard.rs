//! Shard result files, and merging them back into one report.
//!
//! With a log directory, each shard writes `shard-<i>-of-<n>.json` into its run folder.
//! [`merge_shards`] (and the `combtest-merge` command) reads those files back, checks that
//! they describe the same order and selection and that every selected walk ran in exactly
//! one shard, and sums them into one report.

use std::collections::BTreeMap;
use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::analysis::cancels::CancelCount;
use super::analysis::data::Evidence;
use super::analysis::groups::group_failures;
use super::analysis::{analyse, position_names, Inputs, Ran};
use super::report::{counted, Report};
use crate::config::shard::Shard;
use crate::error::Error;
use crate::model::outcome::Failure;
use crate::model::plan::OrderFacts;
use crate::model::walk_id::{Fnv64, WalkSelection, WalkSpace};

/// What a shard ran, as the file `shard-<i>-of-<n>.json` records it: read back by
/// [`merge_shards`], or by any tool that reads JSON. Files gain fields over time (older
/// files read back with them empty), so the struct is not built by hand.
///
/// ```no_run
/// use combtest::ShardResult;
///
/// let text = std::fs::read_to_string("target/combtest/shard-1-of-2.json").unwrap();
/// let result: ShardResult = serde_json::from_str(&text).unwrap();
/// println!(
///     "shard {} of {} ran {} walks, {} failed",
///     result.shard.index, result.shard.total, result.report.walk_count, result.report.error_count
/// );
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShardResult {
    /// Which shard this is.
    pub shard: Shard,
    /// The names of the order's actions, in order.
    pub order: Vec<String>,
    /// A hash of the order: every action's name and every option's JSON form.
    pub order_fingerprint: String,
    /// The walks selected before sharding, as `[start, end)` id ranges.
    pub selection: Vec<Range<u64>>,
    /// The selected walks this shard was responsible for.
    pub share: Vec<Range<u64>>,
    /// The shard's report (without states).
    pub report: Report<()>,
    /// Per position, the `Debug` text of each of its options, as reports show them: with
    /// `serial`, the walk space the merge finds the causes of the merged failures in. Empty
    /// in files written before they were recorded, and when a covering array numbered the
    /// walks of a space too large for a `u64` (its walks are then rows of the array, not ids
    /// of the full product).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Vec<String>>,
    /// Per position, whether it is a serial action; empty when `options` is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial: Vec<bool>,
    /// The walks of its share that the filter removed, as `[start, end)` ranges, so that a
    /// merge knows which walks ran. Absent when it removed none, and when more than 10,000
    /// ranges would be needed (a merge of its shards then names no causes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Vec<Range<u64>>>,
    /// The walks of its share that were cancelled before the order's last position, each
    /// with the position that cancelled it (sorted by id), so that a merge counts what a
    /// walk that stopped early says as a run without shards does. Empty when there were
    /// none, when there were more than the run keeps (4 million), and in files written
    /// before they were recorded: a merge then counts those walks as having run every
    /// position.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelled: Vec<(u64, usize)>,
}

impl ShardResult {
    /// The file name a shard writes its result to.
    pub fn file_name(shard: Shard) -> String {
        format!("shard-{}-of-{}.json", shard.index, shard.total)
    }

    pub(crate) fn new(
        plan: &OrderFacts,
        shard: Shard,
        selection: &WalkSelection,
        share: &WalkSelection,
        report: Report<()>,
        skipped: Option<Vec<Range<u64>>>,
        cancelled: Vec<(u64, usize)>,
    ) -> Self {
        // A shard writes its result into its log directory, for which every option's text
        // was made before the walks ran.
        let text = |position: usize, option: usize| match plan.step_texts.get(position, option) {
            Some(text) => text.to_string(),
            None => plan.option_json[position][option].to_string(),
        };
        let (options, serial) = if plan.space.is_odometer() {
            let options = (0..plan.names.len())
                .map(|p| (0..plan.option_json[p].len()).map(|o| text(p, o)).collect())
                .collect();
            let mut serial = vec![false; plan.names.len()];
            for wheel in &plan.serials {
                serial[wheel.position] = true;
            }
            (options, serial)
        } else {
            (Vec::new(), Vec::new())
        };
        ShardResult {
            shard,
            order: plan.names.iter().map(|name| name.to_string()).collect(),
            order_fingerprint: order_fingerprint(plan),
            selection: selection.ranges().to_vec(),
            share: share.ranges().to_vec(),
            report,
            options,
            serial,
            skipped,
            cancelled,
        }
    }
}

/// A hash of the whole order: two shards with the same one ran the same walks under the same
/// ids.
fn order_fingerprint(plan: &OrderFacts) -> String {
    let mut hash = Fnv64::new();
    for (name, options) in plan.names.iter().zip(&plan.option_json) {
        hash.write(name.as_bytes());
        hash.write(&[0xfe]);
        for option in options {
            hash.write(option.to_string().as_bytes());
            hash.write(&[0xff]);
        }
    }
    format!("{:016x}", hash.finish())
}

/// Reads shard result files (or folders holding them, searched recursively), checks that
/// they belong together and cover every selected walk exactly once, and sums them into one
/// report. The failures are grouped across the shards and their causes named, as a run
/// without shards names them, unless a shard's filter removed walks its result does not list
/// (see [`ShardResult::skipped`]) or the shards did not record one walk space (see
/// [`ShardResult::options`]).
///
/// Fails, naming the files, if a shard is missing or appears twice, if the shards disagree
/// on the order, its options, the selection, the walk space, the test or the shard count, if
/// a walk ran in two shards or in none, or if a shard's own counts do not add up (its walks
/// and skipped walks are not its share, its failures are not its failure count, a failure
/// is listed twice or lies outside its share). Counts are summed without overflow.
///
/// ```no_run
/// let merged = combtest::merge_shards(["target/combtest"]).expect("complete shards");
/// println!("{merged}");
/// assert!(merged.is_success());
/// ```
pub fn merge_shards<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Result<Report<()>, Error> {
    let mut files = Vec::new();
    for path in paths {
        collect_shard_files(path.as_ref(), &mut files)?;
    }
    files.sort();
    let fail = |message: String| Error::Merge { message };
    if files.is_empty() {
        return Err(fail(
            "no shard result file (shard-<i>-of-<n>.json) was given or found".into(),
        ));
    }
    let mut results: Vec<(PathBuf, ShardResult)> = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
        let result: ShardResult = serde_json::from_str(&text)
            .map_err(|e| fail(format!("{} is not a shard result: {e}", file.display())))?;
        results.push((file, result));
    }
    let (first_path, first) = &results[0];
    let total = first.shard.total;
    let mut by_index: BTreeMap<usize, &Path> = BTreeMap::new();
    for (path, result) in &results {
        let differs = |what: &str| {
            fail(format!(
                "{} and {} are shards of different runs: their {what} differ",
                first_path.display(),
                path.display()
            ))
        };
        // A folder of results holds every sharded test's folders: the likeliest mix-up,
        // told first and with what to do.
        if result.report.test != first.report.test {
            let name = |test: &Option<String>| test.clone().unwrap_or_else(|| "?".into());
            return Err(fail(format!(
                "{} and {} are shards of different tests ({} and {}): merge each test's \
                 shard files apart, naming that test's run folders or files",
                first_path.display(),
                path.display(),
                name(&first.report.test),
                name(&result.report.test)
            )));
        }
        if result.order != first.order {
            return Err(differs("orders"));
        }
        if result.order_fingerprint != first.order_fingerprint {
            return Err(differs("options"));
        }
        if result.shard.total != total {
            return Err(differs("shard counts"));
        }
        if result.selection != first.selection {
            return Err(differs("selected walks"));
        }
        if result.report.total_walks != first.report.total_walks {
            return Err(differs("walk spaces"));
        }
        check_shard(path, result)?;
        if let Some(other) = by_index.insert(result.shard.index, path) {
            return Err(fail(format!(
                "shard {} of {total} appears twice: {} and {}",
                result.shard.index,
                other.display(),
                path.display()
            )));
        }
    }
    if let Some(missing) = (1..=total).find(|i| !by_index.contains_key(i)) {
        return Err(fail(format!("shard {missing} of {total} is missing")));
    }
    check_coverage(&results)?;

    let mut merged = first.report.clone();
    merged.shard = None;
    // The merge writes no folder, and no trace of its own to replay: the first shard's are
    // not the merged run's.
    merged.run_folder = None;
    merged.replay_failed = None;
    merged.files = results.iter().map(|(path, _)| path.clone()).collect();
    merged.walks.clear();
    let overflow = |what: &str| fail(format!("the shards' {what} add up past 2^64"));
    for (_, result) in &results[1..] {
        let report = &result.report;
        let add =
            |sum: u64, count: u64, what: &str| sum.checked_add(count).ok_or_else(|| overflow(what));
        merged.walk_count = add(merged.walk_count, report.walk_count, "walk counts")?;
        merged.error_count = add(merged.error_count, report.error_count, "failure counts")?;
        merged.cancel_count = add(merged.cancel_count, report.cancel_count, "cancel counts")?;
        merged.skipped_count = add(merged.skipped_count, report.skipped_count, "skip counts")?;
        merged.segment_count = add(merged.segment_count, report.segment_count, "segment counts")?;
        merged
            .output_errors
            .extend(report.output_errors.iter().cloned());
        merged.threads = merged.threads.max(report.threads);
        // Shards run side by side: the merged run took as long as the slowest.
        merged.elapsed = merged.elapsed.max(report.elapsed);
        merged.failures.extend(report.failures.iter().cloned());
    }
    merged.failures.sort_by_key(|f| f.walk_id);
    merged.cancels = merge_cancels(results.iter().map(|(_, r)| &r.report.cancels));
    explain_merged(&results, &mut merged);
    Ok(merged)
}

/// Groups the merged failures and, where the shards' results say enough, finds their causes
/// and heat maps in the walk space, as a run without shards does. Causes need one walk space
/// that every result records (older results, and covering arrays numbering a space too
/// large for a `u64`, record none) and that the failures' steps agree with, and the walks
/// that ran: the selected ones but those the filter removed, which each shard lists unless
/// they are too scattered. Without them the failures are grouped without causes, saying why.
fn explain_merged(results: &[(PathBuf, ShardResult)], merged: &mut Report<()>) {
    let first = &results[0].1;
    let shards = first.shard.total;
    let sizes: Vec<usize> = first.options.iter().map(Vec::len).collect();
    // Every shard recorded the same space, of as many positions as the order, and the space
    // holds as many walks as the order.
    let recorded = !sizes.is_empty()
        && sizes.len() == first.order.len()
        && first.serial.len() == sizes.len()
        && results
            .iter()
            .all(|(_, r)| r.options == first.options && r.serial == first.serial);
    let space = recorded
        .then(|| WalkSpace::new(&sizes, &first.serial).ok())
        .flatten()
        .filter(|space| space.total() == merged.total_walks)
        .filter(|space| steps_agree(space, &first.options, &merged.failures));
    let why_not = match &space {
        None => Some(format!(
            "merged from {}, whose results do not hold one walk space that their \
             failures agree with; a run without shards names the causes",
            counted(shards as u64, "shard")
        )),
        Some(_) if unlisted_skips(results) => Some(format!(
            "merged from {}, whose filter removed {} walks: which ones, the results do not \
             all list; a run without shards names the causes",
            counted(shards as u64, "shard"),
            merged.skipped_count
        )),
        Some(_) => None,
    };
    let (Some(space), None) = (space, &why_not) else {
        // The failures are grouped as in a run without shards, serial actions told apart.
        let serial: Vec<usize> = results
            .iter()
            .flat_map(|(_, r)| r.report.groups.iter().filter(|g| g.serial))
            .flat_map(|g| g.walk_ids.first())
            .filter_map(|id| merged.failures.binary_search_by_key(id, |f| f.walk_id).ok())
            .map(|i| merged.failures[i].failed_position)
            .collect();
        merged.groups = group_failures(&merged.failures, &|p| serial.contains(&p));
        merged.heat_maps.clear();
        merged.evidence = Evidence {
            every_walk_ran: false,
            note: why_not,
            confirmation_walks: 0,
        };
        return;
    };
    let names: Vec<&str> = first.order.iter().map(String::as_str).collect();
    let names = position_names(&names);
    let param = |position: usize, option: usize| first.options[position][option].clone();
    let decode = |id: u64, options: &mut [usize]| space.decode(id, options);
    let selection = WalkSelection::from_ranges(first.selection.clone());
    // The walks that ran: the selected ones, but those the shards list as skipped.
    let skipped = WalkSelection::from_ranges(
        results
            .iter()
            .flat_map(|(_, r)| r.skipped.iter().flatten().cloned())
            .collect(),
    );
    let visit_ran = |visit: &mut dyn FnMut(&[usize])| {
        let mut skips = skipped.ranges().iter().peekable();
        let _ = space.each_walk(&selection, sizes.len(), |id, options| {
            while skips.next_if(|skip| skip.end <= id).is_some() {}
            if skips.peek().is_none_or(|skip| skip.start > id) {
                visit(options);
            }
            ControlFlow::Continue(())
        });
    };
    // The walks that did not run: those no shard selected, and those the shards list as
    // skipped (which are selected ones).
    let not_ran = {
        let mut ranges = skipped.ranges().to_vec();
        let mut end = 0;
        for range in selection.ranges() {
            ranges.push(end..range.start);
            end = range.end;
        }
        ranges.push(end..space.total());
        WalkSelection::from_ranges(ranges)
    };
    let visit_not_ran = |visit: &mut dyn FnMut(&[usize])| {
        let _ = space.each_walk(&not_ran, sizes.len(), |_, options| {
            visit(options);
            ControlFlow::Continue(())
        });
    };
    let every_walk_ran = merged.walk_count == merged.total_walks;
    // The merged space is numbered as the full product (`WalkSpace::new`).
    let ran = if every_walk_ran {
        Ran::Every
    } else {
        let total = space.total();
        Ran::partly(total, merged.walk_count, true, &visit_ran, &visit_not_ran)
    };
    let mut cancelled: Vec<(u64, usize)> = results
        .iter()
        .flat_map(|(_, result)| result.cancelled.iter().copied())
        .collect();
    cancelled.sort_unstable();
    let inputs = Inputs {
        sizes: &sizes,
        names: &names,
        serial: &first.serial,
        param: &param,
        decode: &decode,
        total: space.total(),
        walk_count: merged.walk_count,
        ran,
        cancelled: &cancelled,
    };
    let (groups, heat_maps) = analyse(&inputs, &merged.failures);
    merged.groups = groups;
    merged.heat_maps = heat_maps;
    let chose = match &merged.coverage {
        Some(coverage) => format!(
            "a {}-wise covering array chose the walks",
            coverage.strength
        ),
        None if merged.skipped_count > 0 => {
            format!("the filter removed {} walks", merged.skipped_count)
        }
        None => "a selection of walks ran".to_string(),
    };
    merged.evidence = Evidence {
        every_walk_ran,
        note: (!every_walk_ran).then(|| {
            format!(
                "merged from {}: {chose}; {} of {} walks ran",
                counted(shards as u64, "shard"),
                merged.walk_count,
                merged.total_walks
            )
        }),
        confirmation_walks: 0,
    };
}

/// Whether a shard's filter removed walks that its result does not list.
fn unlisted_skips(results: &[(PathBuf, ShardResult)]) -> bool {
    results
        .iter()
        .any(|(_, r)| r.report.skipped_count > 0 && r.skipped.is_none())
}

/// Whether the recorded space decodes each failed walk into the steps its failure lists: a
/// space with the options of one position reordered, or of another order, does not.
fn steps_agree(space: &WalkSpace, texts: &[Vec<String>], failures: &[Failure]) -> bool {
    let mut options = vec![0; texts.len()];
    failures.iter().all(|failure| {
        space.decode(failure.walk_id, &mut options);
        failure.steps.len() == options.len()
            && failure
                .steps
                .iter()
                .zip(&options)
                .zip(texts)
                .all(|((step, &option), texts)| *step.param_debug == texts[option])
    })
}

/// A shard's own counts must hold together before they are trusted: every walk of its share
/// ran or was skipped, its failures are listed once each and lie in its share, and its report
/// is of its shard.
fn check_shard(path: &Path, result: &ShardResult) -> Result<(), Error> {
    let fail = |what: String| Error::Merge {
        message: format!("{} does not add up: {what}", path.display()),
    };
    let report = &result.report;
    if report.shard != Some(result.shard) {
        return Err(fail(format!(
            "it is the file of shard {} of {}, but its report is of {}",
            result.shard.index,
            result.shard.total,
            report.shard.map_or("no shard".to_string(), |s| format!(
                "shard {} of {}",
                s.index, s.total
            ))
        )));
    }
    let share = WalkSelection::from_ranges(result.share.clone());
    let considered = report
        .walk_count
        .checked_add(report.skipped_count)
        .ok_or_else(|| fail("its walk and skip counts add up past 2^64".into()))?;
    if considered != share.len() {
        return Err(fail(format!(
            "it ran {} walks and skipped {}, but its share holds {} walks",
            report.walk_count,
            report.skipped_count,
            share.len()
        )));
    }
    let ended = report
        .error_count
        .checked_add(report.cancel_count)
        .filter(|&ended| ended <= report.walk_count);
    if ended.is_none() {
        return Err(fail(format!(
            "{} failed and {} cancelled walks are more than the {} it ran",
            report.error_count, report.cancel_count, report.walk_count
        )));
    }
    if report.failures.len() as u64 != report.error_count {
        return Err(fail(format!(
            "it counts {} failed walks but lists {}",
            report.error_count,
            report.failures.len()
        )));
    }
    let mut ids: Vec<u64> = report.failures.iter().map(|f| f.walk_id).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(fail(format!("it lists walk {} as failed twice", pair[0])));
    }
    if let Some(id) = ids.iter().find(|&&id| !share.contains(id)) {
        return Err(fail(format!(
            "it lists walk {id} as failed, which is not in its share"
        )));
    }
    let past_the_space = |ranges: &[Range<u64>]| {
        ranges
            .iter()
            .find(|range| range.end > report.total_walks)
            .cloned()
    };
    if let Some(range) = past_the_space(&result.selection).or(past_the_space(&result.share)) {
        return Err(fail(format!(
            "it selects walks {}..{}, past the {} walks of its order",
            range.start, range.end, report.total_walks
        )));
    }
    if let Some(skipped) = &result.skipped {
        if let Some(at) = (0..skipped.len()).find(|&i| {
            skipped[i].start >= skipped[i].end || (i > 0 && skipped[i - 1].end >= skipped[i].start)
        }) {
            return Err(fail(format!(
                "its skipped walks {}..{} are empty, or not after and apart from the ones \
                 before",
                skipped[at].start, skipped[at].end
            )));
        }
        let listed: u64 = skipped.iter().map(|range| range.end - range.start).sum();
        if listed != report.skipped_count {
            return Err(fail(format!(
                "it counts {} skipped walks but lists {listed}",
                report.skipped_count
            )));
        }
        if let Some(range) = skipped.iter().find(|range| {
            !share
                .ranges()
                .iter()
                .any(|s| s.start <= range.start && range.end <= s.end)
        }) {
            return Err(fail(format!(
                "it lists walks {}..{} as skipped, which are not all in its share",
                range.start, range.end
            )));
        }
    }
    let positions = result.order.len();
    if let Some(failure) = report.failures.iter().find(|f| {
        f.steps.len() != positions || result.order.get(f.failed_position) != Some(&f.failed_action)
    }) {
        return Err(fail(format!(
            "its failure of walk {} names {} at position {} of {} steps, which its order of \
             {positions} actions does not hold",
            failure.walk_id,
            failure.failed_action,
            failure.failed_position,
            failure.steps.len()
        )));
    }
    Ok(())
}

/// Sums the cancels of several shards per position and reason.
fn merge_cancels<'a>(shards: impl Iterator<Item = &'a Vec<CancelCount>>) -> Vec<CancelCount> {
    let mut merged: Vec<CancelCount> = Vec::new();
    for cancel in shards.flatten() {
        match merged
            .iter_mut()
            .find(|c| c.position == cancel.position && c.reason == cancel.reason)
        {
            Some(known) => known.count += cancel.count,
            None => merged.push(cancel.clone()),
        }
    }
    merged.sort_by(|a, b| b.count.cmp(&a.count).then(a.position.cmp(&b.position)));
    merged
}

/// Every selected walk must be in exactly one shard's share.
fn check_coverage(results: &[(PathBuf, ShardResult)]) -> Result<(), Error> {
    let mut shares: Vec<(Range<u64>, &Path)> = results
        .iter()
        .flat_map(|(path, result)| {
            result
                .share
                .iter()
                .map(move |r| (r.clone(), path.as_path()))
        })
        .collect();
    shares.sort_by_key(|(range, _)| range.start);
    for pair in shares.windows(2) {
        let ((a, a_path), (b, b_path)) = (&pair[0], &pair[1]);
        if b.start < a.end {
            return Err(Error::Merge {
                message: format!(
                    "walks {}-{} ran in two shards: {} and {}",
                    b.start,
                    a.end.min(b.end) - 1,
                    a_path.display(),
                    b_path.display()
                ),
            });
        }
    }
    let covered = WalkSelection::from_ranges(shares.into_iter().map(|(range, _)| range).collect());
    let selection = WalkSelection::from_ranges(results[0].1.selection.clone());
    if covered != selection {
        return Err(Error::Merge {
            message: format!(
                "the shards ran walks {:?}, but the selection is {:?}",
                covered.ranges(),
                selection.ranges()
            ),
        });
    }
    Ok(())
}

/// A file named on the command line is read whatever its name; a folder contributes the
/// `shard-*.json` files found in it, recursively.
fn collect_shard_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let fail = |e: std::io::Error| Error::Merge {
        message: format!("cannot read {}: {e}", path.display()),
    };
    if path.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(fail)? {
        let entry = entry.map_err(fail)?.path();
        let is_shard = entry
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"));
        if entry.is_dir() {
            collect_shard_files(&entry, files)?;
        } else if is_shard {
            files.push(entry);
        }
    }
    Ok(())
}
