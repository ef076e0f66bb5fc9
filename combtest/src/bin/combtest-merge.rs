//! `combtest-merge`: merges the result files of a sharded run into one report.
//!
//! ```text
//! combtest-merge <file or folder>...
//! ```
//!
//! Folders are searched recursively for `shard-<i>-of-<n>.json`. Prints the merged failure
//! report. Exits with 0 when the shards are complete and no walk failed, 1 when a walk
//! failed or none ran, and 2 when the shards cannot be merged (a shard missing or
//! duplicated, shards of different runs, a walk run twice or not at all, a shard whose counts
//! do not add up). No other exit code is used.

use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() || paths.iter().any(|p| p == "-h" || p == "--help") {
        eprintln!("usage: combtest-merge <shard result file or folder>...");
        eprintln!("merges the shard-<i>-of-<n>.json files of a sharded combtest run");
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
            println!("{report}");
            println!("merged {} shard files", report.files.len());
            if report.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}
