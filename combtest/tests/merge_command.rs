//! The `combtest-merge` command: merges shard files, and says why it cannot.

use std::process::Command;

use combtest::{Action, Combtest};

fn shard_files(dir: &std::path::Path, fail_on: u32) -> Vec<std::path::PathBuf> {
    (1..=2)
        .map(|i| {
            let report = Combtest::new(0u32)
                .then(Action::new(
                    "n",
                    || 0..10u32,
                    move |n: u32, s: &mut u32, _: &()| {
                        *s += n;
                        if n == fail_on {
                            Err(format!("{n} fails"))
                        } else {
                            Ok(())
                        }
                    },
                ))
                .shard((i, 2))
                .log_dir(dir)
                .run()
                .unwrap();
            report
                .files
                .into_iter()
                .find(|f| f.to_string_lossy().contains("shard-"))
                .unwrap()
        })
        .collect()
}

fn merge(args: &[&std::path::Path]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_combtest-merge"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap(), text)
}

#[test]
fn merges_complete_shards_and_reports_their_failures() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("merge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);

    let passing = base.join("passing");
    shard_files(&passing, 99);
    let (code, text) = merge(&[&passing]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 of 10 walks failed"), "{text}");
    assert!(text.contains("merged 2 shard files"), "{text}");

    let failing = base.join("failing");
    let files = shard_files(&failing, 7);
    let (code, text) = merge(&[&files[0], &files[1]]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("1 of 10 walks failed") && text.contains("7 fails"),
        "{text}"
    );
    // The merge writes no folder: it names none (the first shard's holds one shard).
    assert!(!text.contains("run folder:"), "{text}");

    let (code, text) = merge(&[&files[0]]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("shard 2 of 2 is missing"), "{text}");
}

/// A change made to a shard file's JSON.
type Tamper = dyn Fn(&mut serde_json::Value);

/// Copies shard file `files[which]` with its JSON changed by `change`, next to an untouched
/// copy of the other one, and merges the two.
fn merge_tampered(
    base: &std::path::Path,
    files: &[std::path::PathBuf],
    which: usize,
    change: impl Fn(&mut serde_json::Value),
) -> (i32, String) {
    let _ = std::fs::remove_dir_all(base);
    std::fs::create_dir_all(base).unwrap();
    let copies: Vec<std::path::PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let mut json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            if i == which {
                change(&mut json);
            }
            let copy = base.join(file.file_name().unwrap());
            std::fs::write(&copy, json.to_string()).unwrap();
            copy
        })
        .collect();
    merge(&[&copies[0], &copies[1]])
}

#[test]
fn shards_whose_counts_do_not_add_up_are_refused() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("merge-tampered-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    // Walk 7 fails: it is in the share of shard 2 (walks 5-9).
    let files = shard_files(&base.join("shards"), 7);
    let cases: Vec<(&str, usize, Box<Tamper>, &str)> = vec![
        (
            "zeroed",
            1,
            Box::new(|json| json["report"]["error_count"] = 0.into()),
            "it counts 0 failed walks but lists 1",
        ),
        (
            "overflow",
            0,
            Box::new(|json| {
                json["report"]["cancel_count"] = u64::MAX.into();
            }),
            "are more than the 5 it ran",
        ),
        (
            "overflow-sum",
            0,
            Box::new(|json| {
                json["report"]["segment_count"] = u64::MAX.into();
            }),
            "the shards' segment counts add up past 2^64",
        ),
        (
            "walks",
            0,
            Box::new(|json| json["report"]["walk_count"] = 4.into()),
            "it ran 4 walks and skipped 0, but its share holds 5 walks",
        ),
        (
            "twice",
            1,
            Box::new(|json| {
                let failure = json["report"]["failures"][0].clone();
                json["report"]["failures"]
                    .as_array_mut()
                    .unwrap()
                    .push(failure);
                json["report"]["error_count"] = 2.into();
            }),
            "it lists walk 7 as failed twice",
        ),
        (
            "outside",
            1,
            Box::new(|json| json["report"]["failures"][0]["walk_id"] = 2.into()),
            "it lists walk 2 as failed, which is not in its share",
        ),
        (
            "total",
            1,
            Box::new(|json| json["report"]["total_walks"] = 11.into()),
            "are shards of different runs: their walk spaces differ",
        ),
        (
            "test",
            1,
            Box::new(|json| json["report"]["test"] = "another_test".into()),
            "another_test): merge each test's shard files apart, naming that test's run \
             folders or files",
        ),
        (
            "shard",
            1,
            Box::new(|json| json["report"]["shard"]["index"] = 1.into()),
            "it is the file of shard 2 of 2, but its report is of shard 1 of 2",
        ),
    ];
    for (name, which, change, expected) in cases {
        let (code, text) = merge_tampered(&base.join(name), &files, which, change);
        assert_eq!(code, 2, "{name}: {text}");
        assert!(text.contains(expected), "{name}: {text}");
    }
}

#[test]
fn writes_one_junit_file_for_the_merged_shards() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("merge-junit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let files = shard_files(&base.join("shards"), 7);
    let junit = base.join("merged.xml");
    let (code, text) = merge(&[
        std::path::Path::new("--junit"),
        &junit,
        &files[0],
        &files[1],
    ]);
    assert_eq!(code, 1, "{text}");
    // The failure group is shown once, named by its normalised message.
    assert!(
        text.contains("failure group 1 of 1: 1 walk, n returned an error: <n> fails"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    // One case for the group and one for its walk, in one suite.
    assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
    assert!(xml.contains(r#"tests="2" failures="2""#), "{xml}");
    assert!(
        xml.contains(r#"<property name="walks_run" value="10"/>"#),
        "{xml}"
    );

    let (code, text) = merge(&[&files[0], std::path::Path::new("--junit")]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--junit needs a file name"), "{text}");
}

#[test]
fn help_prints_the_usage_and_succeeds_and_no_path_is_an_error() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_combtest-merge"))
            .args(args)
            .output()
            .unwrap()
    };
    for flag in ["--help", "-h"] {
        let help = run(&[flag]);
        assert_eq!(help.status.code(), Some(0), "{flag}");
        let out = String::from_utf8_lossy(&help.stdout);
        assert!(out.starts_with("usage: combtest-merge "), "{flag}: {out}");
    }
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("combtest-merge {}", env!("CARGO_PKG_VERSION"))
    );
    let unknown = run(&["--frobnicate", "results"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .starts_with("combtest-merge: unknown option --frobnicate\nusage: combtest-merge "));
    // Past `--`, a name that starts with `-` is a path.
    let dashed = run(&["--", "-no-such-folder"]);
    assert_eq!(dashed.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&dashed.stderr).contains("-no-such-folder"),
        "{}",
        String::from_utf8_lossy(&dashed.stderr)
    );
    assert!(!String::from_utf8_lossy(&dashed.stderr).contains("unknown option"));
    let bare = run(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).starts_with("usage: combtest-merge "));
    assert!(bare.stdout.is_empty());
}
