//! The features of the package a `combtest!` block is compiled in, so that its replay command
//! asks for the features the test ran with.
//!
//! A replay command without them builds the test as the default features make it. A test
//! behind `#[cfg(feature = "...")]` then does not exist, and `cargo test` runs nothing and
//! passes; a walk whose failure depends on a feature runs and passes. The macro cannot see
//! which features are on, but the code it generates can: it reads the names from the
//! package's manifest and emits one `cfg!(feature = "...")` per name.

use std::collections::{BTreeMap, BTreeSet};

/// A feature the package declares, as the generated code reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Feature {
    /// The name `--features` takes.
    pub(crate) name: String,
    /// Whether the `default` feature turns it on, directly or through other features: a
    /// replay of a run with the default features need not name it.
    pub(crate) implied_by_default: bool,
}

/// The features `manifest` (a `Cargo.toml`) declares, sorted by name: the keys of
/// `[features]`, and each optional dependency no feature names as `dep:name` (cargo makes
/// a feature of those).
pub(crate) fn declared_features(manifest: &str) -> Result<Vec<Feature>, String> {
    let manifest: toml::Table = manifest.parse().map_err(|e| format!("{e}"))?;
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(features) = manifest.get("features").and_then(toml::Value::as_table) {
        for (name, enables) in features {
            let enables = enables
                .as_array()
                .map(|values| {
                    values
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            graph.insert(name.clone(), enables);
        }
    }
    let named_with_dep: BTreeSet<&str> = graph
        .values()
        .flatten()
        .filter_map(|value| value.strip_prefix("dep:"))
        .collect();
    let implicit: Vec<String> = optional_dependencies(&manifest)
        .into_iter()
        .filter(|name| !named_with_dep.contains(name.as_str()) && !graph.contains_key(name))
        .collect();
    for name in implicit {
        graph.insert(name, Vec::new());
    }

    let by_default = enabled_by(&graph, "default");
    Ok(graph
        .keys()
        .map(|name| Feature {
            name: name.clone(),
            implied_by_default: name != "default" && by_default.contains(name.as_str()),
        })
        .collect())
}

/// The features that turning on `root` turns on, `root` included (when declared). A value
/// `dep:x` enables a dependency and no feature; `x/f` and `x?/f` enable a feature of `x`, and
/// `x/f` also `x` itself. What this leaves out only makes a replay command name a feature it
/// need not, never omit one.
fn enabled_by<'a>(graph: &'a BTreeMap<String, Vec<String>>, root: &'a str) -> BTreeSet<&'a str> {
    let mut enabled = BTreeSet::new();
    let mut pending = vec![root];
    while let Some(name) = pending.pop() {
        let Some(enables) = graph.get(name) else {
            continue;
        };
        if !enabled.insert(name) {
            continue;
        }
        for value in enables {
            if value.starts_with("dep:") {
                continue;
            }
            let feature = match value.split_once('/') {
                Some((dependency, _)) if dependency.ends_with('?') => continue,
                Some((dependency, _)) => dependency,
                None => value.as_str(),
            };
            pending.push(feature);
        }
    }
    enabled
}

/// The names (table keys, as features take them) of the optional dependencies, in every
/// table that may hold them: `[dependencies]`, `[build-dependencies]` and their
/// `[target.'cfg(...)'.*]` forms.
fn optional_dependencies(manifest: &toml::Table) -> Vec<String> {
    const TABLES: [&str; 3] = ["dependencies", "build-dependencies", "build_dependencies"];
    let mut tables: Vec<&toml::Table> = TABLES
        .iter()
        .filter_map(|key| manifest.get(*key).and_then(toml::Value::as_table))
        .collect();
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            tables.extend(
                TABLES
                    .iter()
                    .filter_map(|key| target.get(*key).and_then(toml::Value::as_table)),
            );
        }
    }
    tables
        .into_iter()
        .flatten()
        .filter(|(_, spec)| {
            spec.get("optional")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false)
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The features of the package being compiled, from the manifest in `CARGO_MANIFEST_DIR`;
/// `None` outside cargo, or when the manifest cannot be read.
pub(crate) fn of_package_being_compiled() -> Option<Vec<Feature>> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let text = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")).ok()?;
    declared_features(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(features: &[Feature]) -> Vec<(&str, bool)> {
        features
            .iter()
            .map(|f| (f.name.as_str(), f.implied_by_default))
            .collect()
    }

    #[test]
    fn declared_and_implicit_features_with_what_default_implies() {
        let manifest = r#"
            [package]
            name = "app"

            [features]
            default = ["fast", "tls"]
            fast = ["simd/x", "cache?/big"]
            tls = ["dep:rustls"]
            extra = []

            [dependencies]
            rustls = { version = "0.23", optional = true }
            simd = { version = "1", optional = true }
            cache = { version = "1", optional = true }
            serde = "1"

            [target.'cfg(unix)'.dependencies]
            nix = { version = "0.29", optional = true }

            [build-dependencies]
            cc = { version = "1", optional = true }

            [dev-dependencies]
            proptest = "1"
        "#;
        let features = declared_features(manifest).unwrap();
        assert_eq!(
            names(&features),
            [
                ("cache", false),
                ("cc", false),
                ("default", false),
                ("extra", false),
                ("fast", true),
                ("nix", false),
                ("simd", true),
                ("tls", true),
            ]
        );
    }

    #[test]
    fn a_manifest_without_features_declares_none() {
        let features = declared_features("[package]\nname = \"app\"\n").unwrap();
        assert!(features.is_empty());
    }

    #[test]
    fn cycles_end_and_an_unparsable_manifest_is_an_error() {
        let manifest = "[features]\ndefault = [\"a\"]\na = [\"b\"]\nb = [\"a\"]\n";
        assert_eq!(
            names(&declared_features(manifest).unwrap()),
            [("a", true), ("b", true), ("default", false)]
        );
        assert!(declared_features("[features\n").is_err());
    }
}
