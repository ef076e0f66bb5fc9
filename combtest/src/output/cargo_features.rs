//! The features a test was built with, as the `--features` of the command that runs it again.
//!
//! A test behind `#[cfg(feature = "...")]` does not exist in a build without the feature: a
//! replay command without it runs no test and passes. A `combtest!` block knows the features
//! of its own package (`cfg!` on each feature the manifest declares). A run of the builder API,
//! or a block in a library the test calls, does not: the features come from the fingerprint
//! cargo keeps of each binary it builds, `<profile>/.fingerprint/<package>-<hash>/*.json`
//! beside `<profile>/deps/<crate>-<hash>`, whose `features` field lists the features the
//! binary was built with.
//!
//! Either way, the features `default` turns on are not named again: a run with exactly the
//! default features needs no option at all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The features one build of a package had on, with what the package's manifest says of its
/// `default` feature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BuiltFeatures {
    /// The features the build had on, `default` included when it was on.
    enabled: Vec<String>,
    /// Whether the package declares a `default` feature.
    declares_default: bool,
    /// The features `default` turns on, directly or through other features.
    by_default: BTreeSet<String>,
}

impl BuiltFeatures {
    /// The build that had `enabled` on, of the package whose `Cargo.toml` is in
    /// `manifest_dir`. A manifest that cannot be read implies nothing: the command then names
    /// every feature that was on, which runs the same build.
    pub(crate) fn new<'a>(
        enabled: impl IntoIterator<Item = &'a str>,
        declares_default: bool,
        manifest_dir: &Path,
    ) -> Self {
        BuiltFeatures {
            enabled: enabled.into_iter().map(str::to_string).collect(),
            declares_default,
            by_default: ManifestFeatures::of(manifest_dir).by_default,
        }
    }

    /// The features cargo built the binary at `exe` with, from its fingerprint, for the
    /// package whose `Cargo.toml` is in `manifest_dir`. `None` when the binary is not in
    /// cargo's target folder or its fingerprint cannot be read (a doctest, which rustdoc
    /// builds elsewhere; a binary copied out of the target folder).
    pub(crate) fn of_binary(exe: &Path, package: &str, manifest_dir: &Path) -> Option<Self> {
        let enabled = fingerprint_features(exe, package)?;
        let manifest = ManifestFeatures::of(manifest_dir);
        Some(BuiltFeatures {
            enabled,
            declares_default: manifest.declares_default,
            by_default: manifest.by_default,
        })
    }

    /// The cargo options that select these features: none for exactly the default features,
    /// `--no-default-features` when the build had not the default ones, and `--features`
    /// with what else was on (see [`features_option`]). Each option starts with a space.
    pub(crate) fn options(&self) -> String {
        let with_defaults = self.enabled.iter().any(|f| f == "default");
        let mut named: Vec<&str> = self
            .enabled
            .iter()
            .map(String::as_str)
            .filter(|f| *f != "default")
            .filter(|f| !(with_defaults && self.by_default.contains(*f)))
            .collect();
        named.sort_unstable();
        named.dedup();
        let mut options = String::new();
        if self.declares_default && !with_defaults {
            options.push_str(" --no-default-features");
        }
        options.push_str(&features_option(&named));
        options
    }
}

/// ` --features` with `names`, as bare names; empty without names. A bare name is what cargo
/// takes under resolver 2 from any folder, and under resolver 1 from the package's own folder
/// (a package of its own, the usual resolver-1 case). `package/name` would also work from the
/// root of a resolver-1 workspace whose root is another package, but under resolver 1 cargo
/// rejects it from the package's own folder, where it reads `package` as a dependency.
pub(crate) fn features_option(names: &[&str]) -> String {
    if names.is_empty() {
        return String::new();
    }
    format!(" --features {}", names.join(","))
}

/// Whether the package whose `Cargo.toml` is in `manifest_dir` has features: a `[features]`
/// table, or an optional dependency (cargo makes a feature of it). `false` when the manifest
/// cannot be read.
pub(crate) fn has_features(manifest_dir: &Path) -> bool {
    ManifestFeatures::of(manifest_dir).has_features
}

/// What a package's manifest says of its features, read once per package and process: every
/// run of a test binary asks again.
#[derive(Clone, Debug, Default)]
struct ManifestFeatures {
    /// Whether it declares a `default` feature.
    declares_default: bool,
    /// Whether it has features at all: see [`has_features`].
    has_features: bool,
    /// The features `default` turns on: see [`enabled_by_default`].
    by_default: BTreeSet<String>,
}

impl ManifestFeatures {
    /// The features of the package whose `Cargo.toml` is in `manifest_dir`; none when it
    /// cannot be read.
    fn of(manifest_dir: &Path) -> Self {
        static KNOWN: Mutex<BTreeMap<PathBuf, ManifestFeatures>> = Mutex::new(BTreeMap::new());
        let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
        known
            .entry(manifest_dir.to_path_buf())
            .or_insert_with(|| {
                std::fs::read_to_string(manifest_dir.join("Cargo.toml"))
                    .ok()
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .map(|manifest| Self::read(&manifest))
                    .unwrap_or_default()
            })
            .clone()
    }

    fn read(manifest: &toml::Table) -> Self {
        let features = manifest.get("features").and_then(toml::Value::as_table);
        ManifestFeatures {
            declares_default: features.is_some_and(|f| f.contains_key("default")),
            has_features: features.is_some_and(|f| !f.is_empty())
                || !optional_dependencies(manifest, true).is_empty(),
            by_default: enabled_by_default(manifest),
        }
    }
}

/// The optional dependencies of `manifest` (cargo makes a feature of each): those of
/// `[dependencies]` and `[build-dependencies]`, and with `of_platforms` those of the
/// `[target.'cfg(...)'.*]` tables too.
fn optional_dependencies(manifest: &toml::Table, of_platforms: bool) -> BTreeSet<&str> {
    const TABLES: [&str; 3] = ["dependencies", "build-dependencies", "build_dependencies"];
    let platforms = manifest
        .get("target")
        .and_then(toml::Value::as_table)
        .filter(|_| of_platforms)
        .into_iter()
        .flat_map(|targets| targets.values().filter_map(toml::Value::as_table));
    std::iter::once(manifest)
        .chain(platforms)
        .flat_map(|table| TABLES.iter().filter_map(|key| table.get(*key)))
        .filter_map(toml::Value::as_table)
        .flatten()
        .filter(|(_, spec)| {
            spec.get("optional")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false)
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

/// The features turning on `default` turns on, following the manifest's `[features]`: a plain
/// name is a feature of the package; `x/f` turns on `x` too when `x` is an optional dependency
/// on every platform (`[dependencies]`, `[build-dependencies]`), whose feature of the same
/// name it enables; `x?/f` and `dep:x` turn on no feature. An optional dependency of some
/// platforms only (`[target.'cfg(...)'.dependencies]`) is left out, as whether `x/f` turns it
/// on depends on the platform. Leaving a feature out only makes a replay command name a
/// feature it need not; counting one in that was not on would drop it from the command.
fn enabled_by_default(manifest: &toml::Table) -> BTreeSet<String> {
    let features = manifest.get("features").and_then(toml::Value::as_table);
    let optional = optional_dependencies(manifest, false);
    let enables = |name: &str| -> Vec<String> {
        features
            .and_then(|features| features.get(name))
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
            .filter(|value| !value.starts_with("dep:"))
            .filter_map(|value| match value.split_once('/') {
                Some((dependency, _)) if optional.contains(dependency) => Some(dependency),
                Some(_) => None,
                None => Some(value),
            })
            .map(str::to_string)
            .collect()
    };
    let mut enabled = BTreeSet::new();
    let mut pending = enables("default");
    while let Some(name) = pending.pop() {
        if enabled.insert(name.clone()) {
            pending.extend(enables(&name));
        }
    }
    enabled
}

/// The `features` of the fingerprint cargo wrote for the binary at `exe` of `package`: the
/// binary is `<profile>/deps/<crate>-<hash>` (or `<profile>/examples/<name>-<hash>`), its
/// fingerprint `<profile>/.fingerprint/<package>-<hash>/`, whose JSON file holds the features
/// as a string (`"[\"default\", \"fast\"]"`).
fn fingerprint_features(exe: &Path, package: &str) -> Option<Vec<String>> {
    let stem = exe.file_stem()?.to_str()?;
    let (_, hash) = stem.rsplit_once('-')?;
    let profile_dir = exe.parent()?.parent()?;
    let fingerprint = profile_dir
        .join(".fingerprint")
        .join(format!("{package}-{hash}"));
    let mut found = None;
    for entry in std::fs::read_dir(fingerprint).ok()?.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let features = features_of_fingerprint(&std::fs::read_to_string(path).ok()?)?;
        // One unit per folder; two files that disagree leave the features unknown.
        if found.as_ref().is_some_and(|f| f != &features) {
            return None;
        }
        found = Some(features);
    }
    found
}

/// The `features` field of a fingerprint's JSON text.
fn features_of_fingerprint(text: &str) -> Option<Vec<String>> {
    let fingerprint: serde_json::Value = serde_json::from_str(text).ok()?;
    let listed = fingerprint.get("features")?.as_str()?;
    serde_json::from_str(listed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
        [package]
        name = "app"

        [features]
        default = ["fast", "tls"]
        fast = ["simd/x", "cache?/big"]
        tls = ["dep:rustls"]
        extra = []
        slow = ["extra"]

        [dependencies]
        rustls = { version = "0.23", optional = true }
        simd = { version = "1", optional = true }
        cache = { version = "1", optional = true }
    "#;

    fn built(enabled: &[&str]) -> BuiltFeatures {
        BuiltFeatures {
            enabled: enabled.iter().map(|f| f.to_string()).collect(),
            declares_default: true,
            by_default: enabled_by_default(&MANIFEST.parse().unwrap()),
        }
    }

    fn implied(manifest: &str) -> Vec<String> {
        enabled_by_default(&manifest.parse().unwrap())
            .into_iter()
            .collect()
    }

    #[test]
    fn default_implies_what_it_names_and_what_those_name() {
        assert_eq!(implied(MANIFEST), ["fast", "simd", "tls"]);
        // `serde/std` names a dependency's feature: the package's own feature `serde`, which
        // shares its name, stays off, and a platform's optional dependency is not counted.
        let same_name = r#"
            [features]
            default = ["serde/std", "nix/fs", "chain"]
            serde = []
            chain = ["tokio/rt"]
            [dependencies]
            serde = { version = "1", default-features = false }
            [target.'cfg(unix)'.dependencies]
            nix = { version = "0.29", optional = true }
            [build-dependencies]
            tokio = { version = "1", optional = true }
        "#;
        assert_eq!(implied(same_name), ["chain", "tokio"]);
        let cycle = "[features]\ndefault = [\"a\"]\na = [\"b\"]\nb = [\"a\"]\n";
        let implied = enabled_by_default(&cycle.parse().unwrap());
        assert_eq!(implied.len(), 2);
        assert!(enabled_by_default(&"[package]\n".parse().unwrap()).is_empty());
    }

    #[test]
    fn options_name_only_what_the_default_features_do_not_give() {
        // Exactly the default build, as cargo lists it: no option.
        assert_eq!(built(&["default", "fast", "simd", "tls"]).options(), "");
        assert_eq!(
            built(&["default", "extra", "fast", "simd", "slow", "tls"]).options(),
            " --features extra,slow"
        );
        assert_eq!(
            built(&["fast", "simd"]).options(),
            " --no-default-features --features fast,simd"
        );
        assert_eq!(built(&[]).options(), " --no-default-features");
        let no_default = BuiltFeatures {
            declares_default: false,
            ..built(&["extra"])
        };
        assert_eq!(no_default.options(), " --features extra");
        // Without the manifest nothing is implied: every feature is named, the same build.
        let unread = BuiltFeatures::new(["default", "fast"], true, Path::new("/nonexistent"));
        assert_eq!(unread.options(), " --features fast");
    }

    #[test]
    fn a_package_has_features_when_it_declares_some_or_an_optional_dependency() {
        // Each manifest in a folder of its own: what a folder's manifest says is kept for
        // the process.
        let base =
            std::env::temp_dir().join(format!("combtest-has-features-{}", std::process::id()));
        let mut folders = 0;
        let mut has = |manifest: &str| {
            folders += 1;
            let dir = base.join(folders.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
            has_features(&dir)
        };
        assert!(has(MANIFEST));
        assert!(has("[features]\nextra = []\n"));
        assert!(has(
            "[target.'cfg(unix)'.dependencies]\nnix = { version = \"1\", optional = true }\n"
        ));
        assert!(!has(
            "[package]\nname = \"app\"\n[dependencies]\nserde = \"1\"\n"
        ));
        assert!(!has("[features]\n"));
        std::fs::remove_dir_all(&base).unwrap();
        assert!(!has_features(&base.join("none")));
    }

    #[test]
    fn a_binary_s_features_are_read_from_its_fingerprint() {
        let target =
            std::env::temp_dir().join(format!("combtest-fingerprint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&target);
        let deps = target.join("debug/deps");
        let fingerprint = target.join("debug/.fingerprint/my-app-0123abcd");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::create_dir_all(&fingerprint).unwrap();
        let exe = deps.join("gui-0123abcd");
        std::fs::write(&exe, b"").unwrap();
        std::fs::write(fingerprint.join("test-integration-test-gui"), b"0123").unwrap();
        std::fs::write(
            fingerprint.join("test-integration-test-gui.json"),
            r#"{"rustc":1,"features":"[\"default\", \"fast\", \"slow\"]","profile":2}"#,
        )
        .unwrap();
        assert_eq!(
            fingerprint_features(&exe, "my-app"),
            Some(vec!["default".into(), "fast".into(), "slow".into()])
        );
        // Another package's fingerprint, or none at all: unknown.
        assert_eq!(fingerprint_features(&exe, "other"), None);
        assert_eq!(fingerprint_features(&deps.join("gui"), "my-app"), None);
        // Two files that disagree: unknown.
        std::fs::write(
            fingerprint.join("other.json"),
            r#"{"features":"[\"extra\"]"}"#,
        )
        .unwrap();
        assert_eq!(fingerprint_features(&exe, "my-app"), None);
        std::fs::remove_dir_all(&target).unwrap();
    }
}
