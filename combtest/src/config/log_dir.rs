//! Where a relative log directory is: the workspace root of the package under test, so that
//! `COMBTEST_LOG_DIR=target/combtest` names one folder whichever package of a workspace the
//! test is in (`cargo test` runs each package's tests in that package's folder).

use std::path::{Path, PathBuf};

/// `dir` anchored at the workspace root of the package in `package_dir`: the nearest folder
/// at or above it whose `Cargo.toml` has a `[workspace]` table, else the package's own
/// folder. An absolute `dir`, or one with no package known, is used as given (relative to
/// the working directory).
pub(crate) fn anchored(dir: &Path, package_dir: Option<&Path>) -> PathBuf {
    match package_dir {
        Some(package) if dir.is_relative() && !package.as_os_str().is_empty() => {
            workspace_root(package).join(dir)
        }
        _ => dir.to_path_buf(),
    }
}

/// The folder of the workspace holding the package in `package_dir`.
fn workspace_root(package_dir: &Path) -> PathBuf {
    package_dir
        .ancestors()
        .find(|dir| declares_workspace(&dir.join("Cargo.toml")))
        .unwrap_or(package_dir)
        .to_path_buf()
}

/// Whether a manifest has a `[workspace]` table (or a `[workspace.*]` one).
fn declares_workspace(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest).is_ok_and(|text| {
        text.lines()
            .map(str::trim)
            .any(|line| line.starts_with("[workspace]") || line.starts_with("[workspace."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dirs_are_taken_from_the_workspace_root() {
        let root = std::env::temp_dir().join(format!("combtest-anchor-{}", std::process::id()));
        let member = root.join("crates").join("member");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"member\"\n").unwrap();
        let logs = Path::new("target/logs");
        assert_eq!(anchored(logs, Some(&member)), root.join("target/logs"));
        assert_eq!(anchored(logs, Some(&root)), root.join("target/logs"));
        // A package outside any workspace is its own root.
        let outside = std::env::temp_dir().join(format!("combtest-lone-{}", std::process::id()));
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("Cargo.toml"), "[package]\nname = \"lone\"\n").unwrap();
        assert_eq!(anchored(logs, Some(&outside)), outside.join("target/logs"));
        // Absolute folders, and runs outside cargo, are as given.
        assert_eq!(
            anchored(Path::new("/var/logs"), Some(&member)),
            Path::new("/var/logs")
        );
        assert_eq!(anchored(logs, None), logs);
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&outside);
    }
}
