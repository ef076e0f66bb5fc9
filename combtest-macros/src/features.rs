//! The features of the package a `combtest!` block is compiled in, so that its replay command
//! asks for the features the test ran with.
//!
//! A replay command without them builds the test as the default features make it. A test
//! behind `#[cfg(feature = "...")]` then does not exist, and `cargo test` runs nothing and
//! passes; a walk whose failure depends on a feature runs and passes. The macro cannot see
//! which features are on, but the code it generates can: it reads the names from the
//! package's manifest and emits one `cfg!(feature = "...")` per name.

use std::collections::BTreeSet;

/// The features `manifest` (a `Cargo.toml`) declares, sorted by name: the keys of
/// `[features]`, and each optional dependency no feature names as `dep:name` (cargo makes
/// a feature of those). Which of them `default` turns on is the runtime's to read, when it
/// writes a command.
pub(crate) fn declared_features(manifest: &str) -> Result<Vec<String>, String> {
    let manifest: toml::Table = manifest.parse().map_err(|e| format!("{e}"))?;
    let features = manifest.get("features").and_then(toml::Value::as_table);
    let mut names: BTreeSet<String> = features
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .collect();
    let named_with_dep: BTreeSet<&str> = features
        .into_iter()
        .flat_map(|features| features.values())
        .filter_map(toml::Value::as_array)
        .flatten()
        .filter_map(|value| value.as_str()?.strip_prefix("dep:"))
        .collect();
    let implicit: Vec<String> = optional_dependencies(&manifest)
        .into_iter()
        .filter(|name| !named_with_dep.contains(name.as_str()))
        .collect();
    names.extend(implicit);
    Ok(names.into_iter().collect())
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
pub(crate) fn of_package_being_compiled() -> Option<Vec<String>> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let text = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")).ok()?;
    declared_features(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_and_implicit_features() {
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
        // `rustls` is named as `dep:rustls`, so cargo makes no feature of it.
        assert_eq!(
            declared_features(manifest).unwrap(),
            ["cache", "cc", "default", "extra", "fast", "nix", "simd", "tls"]
        );
    }

    #[test]
    fn a_manifest_without_features_declares_none() {
        let features = declared_features("[package]\nname = \"app\"\n").unwrap();
        assert!(features.is_empty());
    }

    #[test]
    fn an_unparsable_manifest_is_an_error() {
        assert!(declared_features("[features\n").is_err());
    }
}
