//! Sharding: n processes (or n runs) each run a share of the walks; merged, they equal one
//! unsharded run.

use std::path::PathBuf;
use std::process::Command;

use combtest::prelude::*;
use combtest::{merge_shards, Failure, ShardResult};

mod common;
use common::scratch;

fn push(n: u32, v: &mut Vec<u32>, _: &()) -> Result<(), String> {
    v.push(n);
    if v.len() >= 2 && v[v.len() - 2] == 2 && n == 3 {
        return Err(format!("2 then 3 in {v:?}"));
    }
    Ok(())
}

/// An order of three actions (4 x 3 x 4), with a serial action of 3 options after the
/// first when asked; walks whose first option is 0 are filtered out.
fn order(serial: bool) -> Combtest<Vec<u32>> {
    Combtest::new(Vec::new())
        .order(actions(serial))
        .filter(|walk: &Walk| walk.param::<u32>(0) != Some(&0))
        .threads(2)
}

/// The actions of [`order`].
fn actions(serial: bool) -> Vec<Action<Vec<u32>>> {
    let mut order = vec![
        Action::new("a", || 0..4u32, push),
        Action::new("b", || 1..4u32, push),
        Action::new("c", || 0..4u32, push),
    ];
    if serial {
        order.insert(
            1,
            Action::serial(
                "s",
                || 0..3u32,
                |n: u32, _: &mut (), walks: States<'_, Vec<u32>>| {
                    for v in walks {
                        v.push(100 + n);
                    }
                },
            ),
        );
    }
    order
}

fn counts<S>(r: &Report<S>) -> (u64, u64, u64, u64, u64, u64) {
    (
        r.total_walks,
        r.walk_count,
        r.error_count,
        r.cancel_count,
        r.skipped_count,
        r.segment_count,
    )
}

fn same_failures(a: &[Failure], b: &[Failure]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (
                x.walk_id,
                x.fingerprint,
                &x.message,
                &x.failed_action,
                &x.steps,
                &x.state,
            ) == (
                y.walk_id,
                y.fingerprint,
                &y.message,
                &y.failed_action,
                &y.steps,
                &y.state,
            )
        })
}

/// What identifies the failure groups of a report.
fn groups<S>(report: &combtest::Report<S>) -> Vec<(String, String, bool, Vec<u64>)> {
    report
        .groups
        .iter()
        .map(|g| {
            (
                g.action.clone(),
                g.message.clone(),
                g.serial,
                g.walk_ids.clone(),
            )
        })
        .collect()
}

#[test]
fn one_to_seven_shards_run_every_walk_once_and_merge_into_the_unsharded_report() {
    for serial in [false, true] {
        let whole = order(serial).gather_states(Gather::Full).run().unwrap();
        assert!(
            whole.error_count > 0 && whole.skipped_count > 0,
            "the order fails and filters"
        );
        for n in 1..=7 {
            let dir = scratch(&format!("sharding-n{n}"));
            let mut ran = Vec::new();
            for i in 1..=n {
                let shard = order(serial)
                    .shard((i, n))
                    .log_dir(&dir)
                    .gather_states(Gather::Full)
                    .run()
                    .unwrap();
                assert_eq!(shard.shard.map(|s| (s.index, s.total)), Some((i, n)));
                ran.extend(shard.walks.iter().map(|w| w.walk_id));
                let file = shard
                    .files
                    .iter()
                    .find(|f| f.ends_with(ShardResult::file_name((i, n).into())));
                assert!(
                    file.is_some(),
                    "shard {i}/{n} wrote its result: {:?}",
                    shard.files
                );
            }
            ran.sort_unstable();
            let expected: Vec<u64> = whole.walks.iter().map(|w| w.walk_id).collect();
            assert_eq!(
                ran, expected,
                "serial={serial} n={n}: every walk exactly once"
            );

            let merged = merge_shards([&dir]).unwrap();
            assert_eq!(counts(&merged), counts(&whole), "serial={serial} n={n}");
            assert!(
                same_failures(&merged.failures, &whole.failures),
                "serial={serial} n={n}"
            );
            assert_eq!(merged.files.len(), n);
            // Failures are grouped across shards as in the whole run, with the same causes
            // (the shards list the walks their filter removed), into one JUnit file.
            assert_eq!(groups(&merged), groups(&whole), "serial={serial} n={n}");
            assert_eq!(causes(&merged), causes(&whole), "serial={serial} n={n}");
            assert_eq!(
                merged.evidence.every_walk_ran,
                whole.evidence.every_walk_ran
            );
            let cases = |xml: &str| xml.matches("<testcase ").count();
            assert_eq!(
                cases(&combtest::junit_xml(&merged)),
                cases(&combtest::junit_xml(&whole))
            );
        }
    }
}

/// What a report says of its failures' causes: each group's walks, causes and walks left
/// unexplained, and its heat maps.
fn causes<S>(report: &combtest::Report<S>) -> (Vec<String>, Vec<combtest::HeatMap>) {
    let groups = report
        .groups
        .iter()
        .map(|g| format!("{:?} {:?} {}", g.walk_ids, g.causes, g.unexplained))
        .collect();
    (groups, report.heat_maps.clone())
}

#[test]
fn merged_shards_name_the_causes_the_unsharded_run_names() {
    for serial in [false, true] {
        // The same order without its filter: every walk of the space runs.
        let unfiltered = || Combtest::new(Vec::new()).order(actions(serial)).threads(2);
        let whole = unfiltered().run().unwrap();
        assert!(whole.evidence.every_walk_ran);
        assert!(
            whole.groups.iter().any(|g| !g.causes.is_empty()),
            "the whole run names causes: {whole}"
        );
        for n in [2, 3] {
            let dir = scratch(&format!("sharding-causes-{serial}-{n}"));
            for i in 1..=n {
                unfiltered().shard((i, n)).log_dir(&dir).run().unwrap();
            }
            let merged = merge_shards([&dir]).unwrap();
            assert_eq!(counts(&merged), counts(&whole), "serial={serial} n={n}");
            assert_eq!(groups(&merged), groups(&whole), "serial={serial} n={n}");
            assert_eq!(causes(&merged), causes(&whole), "serial={serial} n={n}");
            assert_eq!(merged.evidence, whole.evidence, "serial={serial} n={n}");
        }
    }
}

#[test]
fn merged_shards_of_a_selection_name_what_the_selected_walks_show() {
    let selected = || {
        Combtest::new(Vec::new())
            .order(actions(false))
            .walks("8-40")
            .threads(2)
    };
    let whole = selected().run().unwrap();
    assert!(!whole.evidence.every_walk_ran && whole.error_count > 0);
    assert!(
        whole.groups.iter().any(|g| !g.causes.is_empty()) && !whole.heat_maps.is_empty(),
        "the selection's run names causes: {whole}"
    );
    let dir = scratch("sharding-causes-selection");
    for i in 1..=3 {
        selected().shard((i, 3)).log_dir(&dir).run().unwrap();
    }
    let merged = merge_shards([&dir]).unwrap();
    assert_eq!(counts(&merged), counts(&whole));
    assert_eq!(causes(&merged), causes(&whole));
    assert!(!merged.evidence.every_walk_ran);
    assert!(
        merged
            .evidence
            .note
            .as_deref()
            .unwrap()
            .contains("33 of 48 walks ran"),
        "{:?}",
        merged.evidence
    );
}

#[test]
fn merged_shards_name_no_causes_when_a_shard_does_not_list_its_skipped_walks() {
    let files = edited_shards(
        "sharding-causes-unlisted",
        || order(false),
        |i, result| {
            // The filter removes walks 0-11, in shard 1's share.
            if i == 1 {
                assert!(
                    result["skipped"].is_array(),
                    "the shard lists its skipped walks"
                );
                result.as_object_mut().unwrap().remove("skipped");
            }
        },
    );
    let merged = merge_shards(&files).unwrap();
    assert!(merged.skipped_count > 0 && !merged.groups.is_empty());
    assert!(merged.groups.iter().all(|g| g.causes.is_empty()));
    let note = merged.evidence.note.as_deref().unwrap();
    assert!(note.contains("do not all list"), "{note}");

    // Lists that do not add up to the shard's count, are out of order, or leave the shard's
    // share are refused.
    type Edit = fn(&mut serde_json::Value);
    let bad_lists: [(&str, Edit, &str); 3] = [
        (
            "sharding-skipped-miscounted",
            |list| {
                list.as_array_mut().unwrap().pop();
            },
            "skipped walks but lists",
        ),
        (
            "sharding-skipped-unordered",
            |list| *list = serde_json::json!([{"start": 6, "end": 12}, {"start": 0, "end": 6}]),
            "not after and apart",
        ),
        (
            "sharding-skipped-elsewhere",
            |list| *list = serde_json::json!([{"start": 40, "end": 52}]),
            "not all in its share",
        ),
    ];
    for (name, edit, refusal) in bad_lists {
        let files = edited_shards(
            name,
            || order(false),
            |i, result| {
                if i == 1 {
                    edit(&mut result["skipped"]);
                }
            },
        );
        let error = merge_shards(&files).unwrap_err().to_string();
        assert!(error.contains(refusal), "{error}");
    }
}

#[test]
fn a_shard_asks_its_filter_once_more_in_all_for_its_causes_and_its_skipped_walks() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ASKED: AtomicU64 = AtomicU64::new(0);
    let dir = scratch("sharding-filter-asked");
    for i in 1..=2 {
        ASKED.store(0, Ordering::SeqCst);
        let shard = Combtest::new(Vec::new())
            .order(actions(false))
            .filter(|walk: &Walk| {
                ASKED.fetch_add(1, Ordering::SeqCst);
                walk.param::<u32>(0) != Some(&0)
            })
            .shard((i, 2))
            .log_dir(&dir)
            .run()
            .unwrap();
        assert!(shard.error_count > 0 && !shard.groups.is_empty(), "{shard}");
        // The first shard holds the walks the filter removes, and lists them.
        assert_eq!(shard.skipped_count > 0, i == 1);
        let result = shard
            .files
            .iter()
            .find(|f| f.ends_with(ShardResult::file_name((i, 2).into())))
            .expect("the shard wrote its result");
        let result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
        assert_eq!(result["skipped"].is_array(), i == 1, "{result}");
        // Each walk of the shard is asked about as it runs, then once more for the analysis
        // of its failures and its list of skipped walks together.
        let share = shard.walk_count + shard.skipped_count;
        assert_eq!(ASKED.load(Ordering::SeqCst), 2 * share, "shard {i}");
    }
    let merged = merge_shards([&dir]).unwrap();
    assert!(merged.groups.iter().any(|g| !g.causes.is_empty()));
}

#[test]
fn a_shard_whose_filter_answers_otherwise_when_asked_again_merges_without_causes() {
    use std::sync::atomic::{AtomicU64, Ordering};
    // A filter that answers as a counter says, not as the walk does: it removes the first
    // six walks it is asked about, and no walk after them.
    static ASKED: AtomicU64 = AtomicU64::new(0);
    let sampled = || {
        Combtest::new(Vec::new())
            .order(actions(false))
            .threads(1)
            .filter(|_: &Walk| ASKED.fetch_add(1, Ordering::Relaxed) >= 6)
    };
    let dir = scratch("sharding-sampled");
    for i in 1..=2 {
        let shard = sampled().shard((i, 2)).log_dir(&dir).run().unwrap();
        assert_eq!(shard.skipped_count > 0, i == 1);
    }
    let merged = merge_shards([&dir]).unwrap();
    assert!(merged.groups.iter().all(|g| g.causes.is_empty()));
    let note = merged.evidence.note.as_deref().unwrap();
    assert!(note.contains("do not all list"), "{note}");
}

#[test]
fn merged_shards_whose_space_does_not_fit_their_order_group_failures_without_causes() {
    // Results edited, or written by another tool: one position more than the order, of one
    // option, so that the space holds as many walks as the order's.
    let files = edited_shards("sharding-causes-foreign-space", unfiltered, |_, result| {
        assert_eq!(result["options"].as_array().unwrap().len(), 3, "recorded");
        result["options"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!(["()"]));
        result["serial"].as_array_mut().unwrap().push(false.into());
    });
    let merged = merge_shards(&files).unwrap();
    assert!(merged.error_count > 0 && !merged.groups.is_empty());
    assert!(merged.groups.iter().all(|g| g.causes.is_empty()));
    let note = merged.evidence.note.as_deref().unwrap();
    assert!(note.contains("do not hold one walk space"), "{note}");
}

/// Runs `run` as shards 1 and 2 of 2 into a fresh folder named `name`, then edits each
/// shard's result file as JSON with `edit` (given the shard's index): the files, edited.
fn edited_shards(
    name: &str,
    run: impl Fn() -> Combtest<Vec<u32>>,
    edit: impl Fn(usize, &mut serde_json::Value),
) -> Vec<PathBuf> {
    let dir = scratch(name);
    let mut files = Vec::new();
    for i in 1..=2 {
        let shard = run().shard((i, 2)).log_dir(&dir).run().unwrap();
        let file = shard
            .files
            .into_iter()
            .find(|f| f.ends_with(ShardResult::file_name((i, 2).into())))
            .expect("the shard wrote its result");
        let mut result: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        edit(i, &mut result);
        std::fs::write(&file, result.to_string()).unwrap();
        files.push(file);
    }
    files
}

/// The unfiltered order of [`actions`].
fn unfiltered() -> Combtest<Vec<u32>> {
    Combtest::new(Vec::new()).order(actions(false)).threads(2)
}

#[test]
fn merged_shards_name_no_causes_unless_every_result_records_the_same_space() {
    // Written before the space was recorded: all, or one of them, whichever sorts first.
    for stripped in [vec![1, 2], vec![1], vec![2]] {
        let files = edited_shards("sharding-causes-old", unfiltered, |i, result| {
            if stripped.contains(&i) {
                let result = result.as_object_mut().unwrap();
                result.remove("options");
                result.remove("serial");
            }
        });
        let merged = merge_shards(&files).unwrap();
        assert!(merged.error_count > 0 && !merged.groups.is_empty());
        assert!(
            merged.groups.iter().all(|g| g.causes.is_empty()),
            "stripped {stripped:?}"
        );
        let note = merged.evidence.note.as_deref().unwrap();
        assert!(note.contains("do not hold one walk space"), "{note}");
    }
    // The options of one position reordered: the walks decode to other steps than their
    // failures list.
    let files = edited_shards("sharding-causes-reordered", unfiltered, |_, result| {
        let options = result["options"][2].as_array_mut().unwrap();
        options.swap(0, 3);
    });
    let merged = merge_shards(&files).unwrap();
    assert!(merged.groups.iter().all(|g| g.causes.is_empty()));
}

#[test]
fn merging_refuses_failures_and_selections_that_do_not_fit_the_order() {
    let files = edited_shards("sharding-bad-position", unfiltered, |_, result| {
        if let Some(failure) = result["report"]["failures"].get_mut(0) {
            failure["failed_position"] = 7.into();
        }
    });
    let error = merge_shards(&files).unwrap_err().to_string();
    assert!(error.contains("at position 7"), "{error}");

    let files = edited_shards("sharding-past-the-space", unfiltered, |i, result| {
        result["selection"] = serde_json::json!([{"start": 0, "end": 60}]);
        if i == 2 {
            result["share"] = serde_json::json!([{"start": 24, "end": 60}]);
        }
    });
    let error = merge_shards(&files).unwrap_err().to_string();
    assert!(error.contains("past the 48 walks"), "{error}");
}

#[test]
fn merged_shards_of_a_covering_array_name_its_causes_and_say_what_chose_the_walks() {
    let covered = || unfiltered().covering(2);
    let whole = covered().run().unwrap();
    assert!(!whole.evidence.every_walk_ran && whole.error_count > 0);
    let files = edited_shards("sharding-causes-covering", covered, |_, _| {});
    let merged = merge_shards(&files).unwrap();
    assert_eq!(counts(&merged), counts(&whole));
    assert_eq!(causes(&merged), causes(&whole));
    let note = merged.evidence.note.as_deref().unwrap();
    assert!(
        note.contains("a 2-wise covering array chose the walks"),
        "{note}"
    );
}

#[test]
fn branches_stay_whole_when_there_are_enough_of_them() {
    // 3 branches of the serial action, 3 shards: each shard runs exactly one branch, so the
    // serial action runs once per shard, for one option.
    for i in 1..=3 {
        let report = order(true)
            .shard((i, 3))
            .gather_states(Gather::Full)
            .run()
            .unwrap();
        let branches: std::collections::BTreeSet<usize> =
            report.walks.iter().map(|w| w.branch[0]).collect();
        assert_eq!(branches.into_iter().collect::<Vec<_>>(), vec![i - 1]);
    }
}

#[test]
fn a_shard_with_nothing_to_run_succeeds() {
    // 3 selected walks over 5 shards (ids 38-47 are the last share): shard 5 has none.
    let empty = order(false).walks("13-15").shard((5, 5)).run().unwrap();
    assert_eq!(empty.walk_count, 0);
    assert!(empty.is_success(), "an empty share is not a failure");
    let shares: u64 = (1..=5)
        .map(|i| {
            order(false)
                .walks("13-15")
                .shard((i, 5))
                .run()
                .unwrap()
                .walk_count
        })
        .sum();
    assert_eq!(shares, 3);
}

#[test]
fn merging_refuses_missing_duplicated_and_foreign_shards() {
    let dir = scratch("sharding-bad");
    let files: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let report = order(false)
                .shard((i, 3))
                .log_dir(dir.join(format!("s{i}")))
                .run()
                .unwrap();
            report
                .files
                .iter()
                .find(|f| f.to_string_lossy().contains("shard-"))
                .unwrap()
                .clone()
        })
        .collect();
    assert!(merge_shards(&files).is_ok());

    let error = merge_shards(&files[..2]).unwrap_err().to_string();
    assert_eq!(error, "cannot merge the shards: shard 3 of 3 is missing");

    let error = merge_shards([&files[0], &files[1], &files[1], &files[2]])
        .unwrap_err()
        .to_string();
    assert!(error.contains("shard 2 of 3 appears twice"), "{error}");

    let other = order(false)
        .then(Action::new("d", || [1u32], push))
        .shard((3, 3))
        .log_dir(dir.join("other"))
        .run()
        .unwrap();
    let foreign = other
        .files
        .iter()
        .find(|f| f.to_string_lossy().contains("shard-"))
        .unwrap();
    let error = merge_shards([&files[0], &files[1], foreign])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("are shards of different runs: their orders differ"),
        "{error}"
    );

    let error = merge_shards([dir.join("nothing-here")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot read"), "{error}");
}

#[test]
fn malformed_shards_are_errors_before_any_walk() {
    for bad in [(0, 4), (5, 4), (1, 0)] {
        let error = order(false).shard(bad).run().unwrap_err().to_string();
        assert!(
            error.contains("expected `i/n` with 1 <= i <= n"),
            "{bad:?}: {error}"
        );
    }
}

/// What each shard process runs: a `combtest!` test, as a CI matrix job would run it.
#[test]
#[ignore = "run by shards_as_separate_processes_merge_into_the_whole"]
fn sharded_suite() {
    #[action(options = 0..5)]
    fn first(n: u32, v: &mut Vec<u32>) {
        v.push(n);
    }
    #[serial_action(options = [7, 8])]
    fn reconfigure(n: u32, walks: States<'_, Vec<u32>>) {
        for v in walks {
            v.push(n);
        }
    }
    #[action(options = 0..4)]
    fn second(n: u32, v: &mut Vec<u32>) {
        v.push(n);
    }
    combtest! { order: [first, reconfigure, second], state: Vec::new() };
}

#[test]
fn shards_as_separate_processes_merge_into_the_whole() {
    let dir = scratch("sharding-processes");
    let exe = std::env::current_exe().unwrap();
    let run = |env: &[(&str, String)]| {
        let mut command = Command::new(&exe);
        command
            .args(["sharded_suite", "--exact", "--include-ignored"])
            .env("COMBTEST_LOG_DIR", &dir)
            .env_remove("COMBTEST_SHARD")
            .env_remove("COMBTEST_WALKS");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    };
    // As a CI matrix would: shards 1 and 2 by number, shard 3 from a Kubernetes index.
    run(&[("COMBTEST_SHARD", "1/3".into())]);
    run(&[("COMBTEST_SHARD", "2/3".into())]);
    run(&[
        ("COMBTEST_SHARD", "auto/3".into()),
        ("JOB_COMPLETION_INDEX", "2".into()),
    ]);

    let merged = merge_shards([&dir]).unwrap();
    assert_eq!(merged.files.len(), 3);
    assert_eq!(
        (merged.total_walks, merged.walk_count, merged.error_count),
        (40, 40, 0)
    );
    assert_eq!(merged.segment_count, 80);
}

#[test]
fn shards_split_the_walks_of_a_covering_array() {
    let covered = |shard: Option<(usize, usize)>| {
        let mut run = order(true).covering(2).gather_states(Gather::Full);
        if let Some(shard) = shard {
            run = run.shard(shard);
        }
        let report = run.run().unwrap();
        let ids: Vec<u64> = report.walks.iter().map(|w| w.walk_id).collect();
        (ids, report.coverage.unwrap())
    };
    let (whole, coverage) = covered(None);
    assert!(whole.len() < 144, "a covering array, not the full product");
    let mut union = Vec::new();
    for i in 1..=3 {
        let (ids, shard_coverage) = covered(Some((i, 3)));
        assert_eq!(
            shard_coverage, coverage,
            "every shard computes the same array"
        );
        union.extend(ids);
    }
    union.sort_unstable();
    assert_eq!(union, whole, "the shards split exactly the array's walks");
}

#[test]
fn a_replay_of_a_trace_under_a_shard_without_its_walks_is_an_error_before_any_walk() {
    let dir = scratch("sharding-replay");
    let first = order(false).log_dir(&dir).run().unwrap();
    let mut failed: Vec<u64> = first.failures.iter().map(|f| f.walk_id).collect();
    failed.sort_unstable();
    assert!(failed.len() > 1);
    let folder = first.run_folder.clone().expect("a run folder");
    let folder = folder.to_str().unwrap();
    // Shard 1 of 2 holds the first half of the ids: it leaves out the failed walks past it,
    // and the error names them.
    let half = first.total_walks / 2;
    let left_out: Vec<String> = failed
        .iter()
        .filter(|&&id| id >= half)
        .map(u64::to_string)
        .collect();
    assert!(!left_out.is_empty() && left_out.len() < failed.len());
    let error = order(false)
        .replay(folder)
        .shard((1, 2))
        .run()
        .unwrap_err()
        .to_string();
    let shown = left_out
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        error.starts_with(&format!(
            "shard=\"1/2\" is invalid: this shard leaves out walks {shown}"
        )),
        "{error}"
    );
    assert!(error.ends_with("unset shard to run them"), "{error}");
    // A shard holding every walk of the replay runs them all.
    let replayed = order(false).replay(folder).shard((1, 1)).run().unwrap();
    assert_eq!(replayed.walk_count, failed.len() as u64);
    assert_eq!(replayed.error_count, replayed.walk_count);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merged_shards_count_a_walk_cancelled_early_as_a_run_without_shards_does() {
    // `s` cancels at 0 before `f` runs; `f` fails at 2: the walk s(0) f(2) never ran f(2).
    let run = || {
        Combtest::new(Vec::new())
            .then(Action::new(
                "s",
                || 0..3u32,
                |n: u32, _: &mut Vec<u32>, _: &()| {
                    if n == 0 {
                        combtest::cancel!("s 0 is out of scope");
                    }
                    Ok::<(), String>(())
                },
            ))
            .then(Action::new(
                "f",
                || 0..3u32,
                |n: u32, _: &mut Vec<u32>, _: &()| {
                    if n == 2 {
                        return Err("f broke".to_string());
                    }
                    Ok(())
                },
            ))
            .threads(2)
    };
    let whole = run().run().unwrap();
    let named: Vec<String> = whole.groups[0]
        .causes
        .iter()
        .map(|c| format!("{c} {}", c.exact))
        .collect();
    assert_eq!(named, ["f(2) true"], "{whole}");
    let dir = scratch("sharding-cancelled-early");
    for i in 1..=2 {
        run().shard((i, 2)).log_dir(&dir).run().unwrap();
    }
    let merged = merge_shards([&dir]).unwrap();
    assert_eq!(causes(&merged), causes(&whole), "{merged}");
    // The merge wrote no folder or trace of its own: it names neither shard's.
    assert!(merged.run_folder.is_none() && merged.replay_failed.is_none());
    // The shard files list the cancelled walks on one line: a list of millions of walks
    // pretty-printed would take several lines and some 35 bytes per walk.
    let shard_files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flat_map(|run| std::fs::read_dir(run.unwrap().path()).unwrap())
        .map(|file| file.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("shard-")
        })
        .collect();
    assert_eq!(shard_files.len(), 2, "{shard_files:?}");
    let texts: Vec<String> = shard_files
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    assert!(
        texts.iter().any(|text| text.contains("\"cancelled\":[[")),
        "{texts:?}"
    );
    for text in &texts {
        assert_eq!(text.trim_end().lines().count(), 1, "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
