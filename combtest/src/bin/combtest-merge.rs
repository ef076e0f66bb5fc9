//! `combtest-merge`: merges the result files of a sharded run into one report.
//!
//! ```text
//! combtest-merge [--junit <file>] [--] <file or folder>...
//! combtest-merge --help | --version
//! ```
//!
//! Folders are searched recursively for `shard-<i>-of-<n>.json`. Prints the merged failure
//! report, and with `--junit`, writes the merged run as one JUnit XML file. Exits with 0 when
//! the shards are complete and no walk failed (and after `--help` and `--version`),
//! 1 when a walk failed or none ran, and 2 when the shards cannot be merged (a shard missing
//! or duplicated, shards of different runs, a walk run twice or not at all, a shard whose
//! counts do not add up) or no path is given. No other exit code is used.

use std::process::ExitCode;

const USAGE: &str =
    "usage: combtest-merge [--junit <file>] [--] <shard result file or folder>...\n\
                     \x20      combtest-merge --help | --version\n\
                     merges the shard-<i>-of-<n>.json files of a sharded combtest run";

fn main() -> ExitCode {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    // Past `--`, every argument is a path, even one that starts with `-`.
    let after_dashes = match paths.iter().position(|p| p == "--") {
        Some(at) => {
            let rest = paths.split_off(at + 1);
            paths.pop();
            rest
        }
        None => Vec::new(),
    };
    let mut junit = None;
    if let Some(at) = paths.iter().position(|p| p == "--junit") {
        if at + 1 >= paths.len() {
            eprintln!("combtest-merge: --junit needs a file name");
            return ExitCode::from(2);
        }
        junit = Some(paths.remove(at + 1));
        paths.remove(at);
    }
    // Asked for, the usage is the answer (stdout, success); without any path it is the error.
    if paths.iter().any(|p| p == "-h" || p == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if paths.iter().any(|p| p == "-V" || p == "--version") {
        println!("combtest-merge {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    // An option it does not know is not taken for a file name.
    if let Some(option) = paths.iter().find(|p| p.starts_with('-')) {
        eprintln!("combtest-merge: unknown option {option}\n{USAGE}");
        return ExitCode::from(2);
    }
    paths.extend(after_dashes);
    if paths.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    // Exit codes are 0, 1 and 2 only: a panic (which would exit 101) is a merge that failed.
    let merged = std::panic::catch_unwind(|| combtest::merge_shards(&paths)).unwrap_or_else(|_| {
        Err(combtest::Error::Merge {
            message: "merging panicked (see the message above)".into(),
        })
    });
    match merged {
        Err(error) => {
            eprintln!("combtest-merge: {error}");
            ExitCode::from(2)
        }
        Ok(report) => {
            if let Some(path) = &junit {
                if let Err(error) = std::fs::write(path, combtest::junit_xml(&report)) {
                    eprintln!("combtest-merge: cannot write {path}: {error}");
                    return ExitCode::from(2);
                }
            }
            println!("{report}");
            let files = report.files.len();
            let s = if files == 1 { "" } else { "s" };
            println!("merged {files} shard file{s}");
            if report.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}
