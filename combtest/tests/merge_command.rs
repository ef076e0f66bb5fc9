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

    let (code, text) = merge(&[&files[0]]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("shard 2 of 2 is missing"), "{text}");
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
