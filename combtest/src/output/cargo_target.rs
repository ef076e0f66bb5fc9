//! Which cargo target a running test binary is, and how cargo built it, for the command that
//! runs the test again.
//!
//! The target is read from the dep-info file cargo has rustc write beside every binary
//! (`<binary>.d`): its first source file is the target's root (`tests/form.rs`,
//! `src/lib.rs`, `benches/speed.rs`), which the package's `Cargo.toml` and cargo's layout
//! rules turn into `--test form`, `--lib`, `--bench speed`. Unlike the name of the binary
//! (`form-<hash>`), the root tells a library's unit tests from an integration test of the same
//! name, and unlike the place of a `combtest!` block, it names the test's target even when the
//! block sits in a library the test calls. The build (profile, `--target`) is read from where
//! the binary sits in cargo's target folder.

use std::path::{Path, PathBuf};

/// The kinds of cargo targets a test can be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetKind {
    Lib,
    Bin,
    Test,
    Bench,
    Example,
}

impl TargetKind {
    /// The manifest's table of targets of this kind (`[[bin]]`, ...; `[lib]` is one table).
    fn table(self) -> &'static str {
        match self {
            TargetKind::Lib => "lib",
            TargetKind::Bin => "bin",
            TargetKind::Test => "test",
            TargetKind::Bench => "bench",
            TargetKind::Example => "example",
        }
    }

    /// The folder cargo finds targets of this kind in, by their names.
    fn folder(self) -> &'static str {
        match self {
            TargetKind::Lib => "src",
            TargetKind::Bin => "src/bin",
            TargetKind::Test => "tests",
            TargetKind::Bench => "benches",
            TargetKind::Example => "examples",
        }
    }
}

/// A cargo target of a package: its kind, its name, and the features it requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CargoTarget {
    pub(crate) kind: TargetKind,
    pub(crate) name: String,
    /// `required-features`: cargo does not build the target without them.
    pub(crate) required_features: Vec<String>,
}

impl CargoTarget {
    /// The option of `cargo test` that selects it.
    pub(crate) fn option(&self) -> String {
        match self.kind {
            TargetKind::Lib => "--lib".to_string(),
            kind => format!("--{} {}", kind.table(), self.name),
        }
    }

    /// The target of the binary at `exe`, of the package `package` whose `Cargo.toml` is in
    /// `manifest_dir`; `None` when the binary has no dep-info file (one copied out of cargo's
    /// target folder) or its root is no target of the package.
    pub(crate) fn of_binary(exe: &Path, manifest_dir: &Path, package: &str) -> Option<Self> {
        let root = root_source(exe, manifest_dir)?;
        let manifest = std::fs::read_to_string(manifest_dir.join("Cargo.toml")).ok()?;
        let manifest: toml::Table = manifest.parse().ok()?;
        Self::of_root(&root, &manifest, package)
    }

    /// The target whose root source file is `root` (relative to the package's folder, with
    /// `/`): a target the manifest declares with that path (or with a name whose default
    /// path it is), else the one cargo's layout gives that file.
    fn of_root(root: &str, manifest: &toml::Table, package: &str) -> Option<Self> {
        let kinds = [
            TargetKind::Lib,
            TargetKind::Bin,
            TargetKind::Test,
            TargetKind::Bench,
            TargetKind::Example,
        ];
        for kind in kinds {
            for declared in declared(manifest, kind) {
                let name = declared.get("name").and_then(toml::Value::as_str);
                let path = declared.get("path").and_then(toml::Value::as_str);
                let is_it = match (path, name) {
                    (Some(path), _) => normalise(path) == root,
                    (None, Some(name)) => {
                        default_paths(kind, name, package).iter().any(|p| p == root)
                    }
                    (None, None) => kind == TargetKind::Lib && root == "src/lib.rs",
                };
                if is_it {
                    return Some(CargoTarget {
                        kind,
                        name: name.map_or_else(|| package.replace('-', "_"), str::to_string),
                        required_features: strings(declared.get("required-features")),
                    });
                }
            }
        }
        let (kind, name) = match root {
            "src/lib.rs" => (TargetKind::Lib, package.replace('-', "_")),
            "src/main.rs" => (TargetKind::Bin, package.to_string()),
            _ => {
                let kind = kinds[1..]
                    .iter()
                    .find(|kind| root.starts_with(&format!("{}/", kind.folder())))?;
                let rest = &root[kind.folder().len() + 1..];
                let name = match rest.split_once('/') {
                    // `tests/suite/main.rs`; a module beside it is never a root.
                    Some((folder, "main.rs")) => folder,
                    Some(_) => return None,
                    None => rest.strip_suffix(".rs")?,
                };
                (*kind, name.to_string())
            }
        };
        Some(CargoTarget {
            kind,
            name,
            required_features: Vec::new(),
        })
    }
}

/// The tables of targets of `kind` the manifest declares.
fn declared(manifest: &toml::Table, kind: TargetKind) -> Vec<&toml::Table> {
    match manifest.get(kind.table()) {
        Some(toml::Value::Table(table)) => vec![table],
        Some(toml::Value::Array(tables)) => {
            tables.iter().filter_map(toml::Value::as_table).collect()
        }
        _ => Vec::new(),
    }
}

/// Where cargo looks for a target of `kind` named `name` declared without a path.
fn default_paths(kind: TargetKind, name: &str, package: &str) -> Vec<String> {
    match kind {
        TargetKind::Lib => vec!["src/lib.rs".to_string()],
        TargetKind::Bin if name == package => vec![
            "src/main.rs".to_string(),
            format!("src/bin/{name}.rs"),
            format!("src/bin/{name}/main.rs"),
        ],
        _ => vec![
            format!("{}/{name}.rs", kind.folder()),
            format!("{}/{name}/main.rs", kind.folder()),
        ],
    }
}

/// The strings of an array value, such as `required-features`.
fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(toml::Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A manifest's path as the target roots are compared: `/` between components, no `./`.
fn normalise(path: &str) -> String {
    let path = path.replace('\\', "/");
    path.strip_prefix("./").unwrap_or(&path).to_string()
}

/// The root source file of the binary at `exe`, relative to the package folder
/// `manifest_dir`: the first source its dep-info file lists. Cargo runs rustc from the
/// workspace root, so that path is relative to the workspace root (or absolute): the folder
/// above the package, farthest first, that makes it name an existing file of the package.
/// (Nearest first, a member `ws/foo` whose path is `foo/tests/t.rs` would find a
/// `ws/foo/foo/tests/t.rs` before `ws/foo/tests/t.rs`.)
fn root_source(exe: &Path, manifest_dir: &Path) -> Option<String> {
    let dep_info = std::fs::read_to_string(exe.with_extension("d")).ok()?;
    let (_, sources) = dep_info.lines().next()?.split_once(": ")?;
    let root = PathBuf::from(first_make_word(sources)?);
    let bases: Vec<&Path> = manifest_dir.ancestors().collect();
    let found = bases
        .into_iter()
        .rev()
        .map(|base| base.join(&root))
        .find(|candidate| candidate.starts_with(manifest_dir) && candidate.is_file())?;
    let relative = found.strip_prefix(manifest_dir).ok()?;
    let components: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(components.join("/"))
}

/// The first word of a make rule's prerequisites, where `\ ` is a space of a file name.
fn first_make_word(text: &str) -> Option<String> {
    let mut word = String::new();
    let mut chars = text.trim_start().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                word.push(' ');
                chars.next();
            }
            c if c.is_whitespace() => break,
            c => word.push(c),
        }
    }
    (!word.is_empty()).then_some(word)
}

/// How cargo built a binary, read from where it sits in cargo's target folder:
/// `<target>/[<triple>/]<profile folder>/[deps/ | examples/]<binary>`, the target folder
/// being the one with cargo's `.rustc_info.json` (cargo writes a `CACHEDIR.TAG` into a
/// triple's folder too, so that tag cannot tell the two apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Build {
    /// The profile's folder: `debug` for `dev` and `test`, `release` for `release` and
    /// `bench`, else the profile's name.
    profile: String,
    /// The `--target` it was built for, when one was given.
    triple: Option<String>,
}

impl Build {
    /// How the binary at `exe` was built, when it is in cargo's target folder.
    pub(crate) fn of(exe: &Path) -> Option<Self> {
        let mut dir = exe.parent()?;
        if matches!(dir.file_name()?.to_str()?, "deps" | "examples") {
            dir = dir.parent()?;
        }
        let profile = dir.file_name()?.to_str()?.to_string();
        let above = dir.parent()?;
        let is_target_folder = |folder: &Path| folder.join(".rustc_info.json").is_file();
        if is_target_folder(above) {
            return Some(Build {
                profile,
                triple: None,
            });
        }
        let triple = above.file_name()?.to_str()?.to_string();
        is_target_folder(above.parent()?).then_some(Build {
            profile,
            triple: Some(triple),
        })
    }

    /// The cargo options that build the same way, each starting with a space; for `cargo
    /// nextest run` (`nextest`), whose own `--profile` names a nextest profile, the cargo
    /// profile is `--cargo-profile`.
    pub(crate) fn options(&self, nextest: bool) -> String {
        let mut options = match self.profile.as_str() {
            "debug" => String::new(),
            "release" => String::from(" --release"),
            profile if nextest => format!(" --cargo-profile {profile}"),
            profile => format!(" --profile {profile}"),
        };
        if let Some(triple) = &self.triple {
            options.push_str(&format!(" --target {triple}"));
        }
        options
    }
}

/// The names of the targets of `kind` a `Cargo.toml` declares.
pub(crate) fn declared_names(manifest: &str, kind: TargetKind) -> Vec<String> {
    let Ok(manifest) = manifest.parse::<toml::Table>() else {
        return Vec::new();
    };
    declared(&manifest, kind)
        .into_iter()
        .filter_map(|test| test.get("name").and_then(toml::Value::as_str))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(root: &str, manifest: &str) -> Option<String> {
        let manifest: toml::Table = manifest.parse().unwrap();
        CargoTarget::of_root(root, &manifest, "my-app").map(|t| {
            let mut text = t.option();
            if !t.required_features.is_empty() {
                text.push_str(&format!(" needs {}", t.required_features.join(",")));
            }
            text
        })
    }

    #[test]
    fn a_root_source_file_names_its_target() {
        let plain = "[package]\nname = \"my-app\"\n";
        assert_eq!(target("src/lib.rs", plain).as_deref(), Some("--lib"));
        assert_eq!(
            target("src/main.rs", plain).as_deref(),
            Some("--bin my-app")
        );
        assert_eq!(
            target("src/bin/tool-cli.rs", plain).as_deref(),
            Some("--bin tool-cli")
        );
        assert_eq!(
            target("src/bin/tool/main.rs", plain).as_deref(),
            Some("--bin tool")
        );
        assert_eq!(
            target("tests/my-form.rs", plain).as_deref(),
            Some("--test my-form")
        );
        assert_eq!(
            target("tests/suite/main.rs", plain).as_deref(),
            Some("--test suite")
        );
        assert_eq!(
            target("benches/speed.rs", plain).as_deref(),
            Some("--bench speed")
        );
        assert_eq!(
            target("examples/ex.rs", plain).as_deref(),
            Some("--example ex")
        );
        // A module is no root; a file outside cargo's folders is not found by layout.
        assert_eq!(target("tests/common/mod.rs", plain), None);
        assert_eq!(target("perf/speed.rs", plain), None);

        let declared = r#"
            [package]
            name = "my-app"
            [lib]
            name = "applib"
            path = "src/app.rs"
            [[bench]]
            name = "renamed-bench"
            path = "benches/rb_impl.rs"
            [[bench]]
            name = "speed-custom"
            path = "perf/speed.rs"
            [[test]]
            name = "needs-slow"
            required-features = ["slow", "fast"]
            [[example]]
            name = "ex-req"
            path = "./examples/ex_req.rs"
            required-features = ["slow"]
        "#;
        assert_eq!(target("src/app.rs", declared).as_deref(), Some("--lib"));
        assert_eq!(
            target("benches/rb_impl.rs", declared).as_deref(),
            Some("--bench renamed-bench")
        );
        assert_eq!(
            target("perf/speed.rs", declared).as_deref(),
            Some("--bench speed-custom")
        );
        assert_eq!(
            target("tests/needs-slow.rs", declared).as_deref(),
            Some("--test needs-slow needs slow,fast")
        );
        assert_eq!(
            target("examples/ex_req.rs", declared).as_deref(),
            Some("--example ex-req needs slow")
        );
    }

    #[test]
    fn the_root_is_the_first_source_of_the_dep_info_file() {
        let root = std::env::temp_dir().join(format!("combtest-dep-info-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let package = root.join("my app");
        std::fs::create_dir_all(package.join("tests")).unwrap();
        std::fs::write(package.join("tests/form.rs"), "").unwrap();
        let deps = root.join("target/debug/deps");
        std::fs::create_dir_all(&deps).unwrap();
        let exe = deps.join("form-0123456789abcdef");
        // rustc ran in the workspace root: the path is relative to it, its space escaped.
        std::fs::write(
            exe.with_extension("d"),
            format!(
                "{}: my\\ app/tests/form.rs my\\ app/tests/common/mod.rs\n\nmy\\ app/tests/form.rs:\n",
                exe.display()
            ),
        )
        .unwrap();
        assert_eq!(
            root_source(&exe, &package).as_deref(),
            Some("tests/form.rs")
        );
        std::fs::write(package.join("Cargo.toml"), "[package]\nname = \"my-app\"\n").unwrap();
        let found = CargoTarget::of_binary(&exe, &package, "my-app").unwrap();
        assert_eq!(found.option(), "--test form");
        // No dep-info file: nothing is guessed.
        assert_eq!(
            root_source(&deps.join("other-0123456789abcdef"), &package),
            None
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
