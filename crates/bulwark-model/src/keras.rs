//! Keras: the v3 `.keras` zip (`config.json`, `metadata.json`, `model.weights.h5`) and the
//! layer configuration both it and the legacy HDF5 format carry (`model_config`).
//!
//! Two constructs in a configuration run code when the model is loaded: a `Lambda` layer
//! (its function is marshalled Python bytecode) and a class from outside Keras (`module`
//! not `keras.*`, or a `registered_name` of a custom object), which imports that module.

use std::io::{Read, Seek};

use serde_json::Value;

use crate::error::{ModelError, Result};

/// Largest `config.json` / `metadata.json` read from a `.keras` archive.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024 * 1024;
/// Most layers or objects reported per kind of issue.
const MAX_ISSUES: usize = 256;

/// What a model configuration says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KerasConfig {
    /// The model class (`Sequential`, `Functional`).
    pub class_name: Option<String>,
    /// Number of top-level layers.
    pub layers: u64,
    /// Constructs that run code on load.
    pub issues: Vec<KerasIssue>,
}

/// A construct in a configuration that runs code when loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerasIssue {
    /// A `Lambda` layer, or a custom object.
    pub kind: KerasIssueKind,
    /// The class name (`Lambda`, `Scale`).
    pub class_name: String,
    /// The object's `config.name`, where it has one.
    pub name: Option<String>,
    /// The `module` (`acme.layers`) or `registered_name` (`acme>Scale`).
    pub module: Option<String>,
}

/// Which construct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KerasIssueKind {
    /// A `Lambda` layer (or a serialized `__lambda__` function).
    Lambda,
    /// A class from outside Keras.
    CustomObject,
}

/// Inspects a model configuration (`config.json`, or the HDF5 `model_config` attribute).
pub fn inspect_config(config: &Value) -> KerasConfig {
    let mut out = KerasConfig {
        class_name: config
            .get("class_name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        layers: config
            .pointer("/config/layers")
            .and_then(Value::as_array)
            .map_or(0, |l| l.len() as u64),
        issues: Vec::new(),
    };
    // Iterative walk: the JSON parser already bounds nesting, but stay off the stack anyway.
    let mut stack = vec![config];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(class_name) = map.get("class_name").and_then(Value::as_str) {
                    let name = map
                        .get("config")
                        .and_then(|c| c.get("name"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    let module = map.get("module").and_then(Value::as_str);
                    let registered = map.get("registered_name").and_then(Value::as_str);
                    let issue = if class_name == "Lambda" || class_name == "__lambda__" {
                        Some((KerasIssueKind::Lambda, module.map(str::to_owned)))
                    } else if let Some(module) = module.filter(|m| !is_keras_module(m)) {
                        Some((KerasIssueKind::CustomObject, Some(module.to_owned())))
                    } else {
                        registered
                            .filter(|r| r.contains('>'))
                            .map(|r| (KerasIssueKind::CustomObject, Some(r.to_owned())))
                    };
                    if let Some((kind, module)) = issue
                        && out.issues.len() < MAX_ISSUES
                    {
                        out.issues.push(KerasIssue {
                            kind,
                            class_name: class_name.to_owned(),
                            name,
                            module,
                        });
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    // Report in document order (the stack reversed it).
    out.issues.reverse();
    out
}

/// Whether a config's `module` is Keras's own (`keras`, `keras.layers`, `keras.src.…`,
/// `tf_keras.…`).
fn is_keras_module(module: &str) -> bool {
    ["keras", "tf_keras"].iter().any(|root| {
        module == *root
            || module
                .strip_prefix(root)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// A `.keras` archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KerasArchive {
    /// `config.json`, inspected.
    pub config: KerasConfig,
    /// `metadata.json` `keras_version`.
    pub keras_version: Option<String>,
    /// Whether `model.weights.h5` is present.
    pub has_weights: bool,
}

/// Reads a `.keras` archive; `Ok(None)` when the zip has no `config.json` beside
/// `metadata.json` (some other zip).
pub fn read_archive<R: Read + Seek>(reader: R) -> Result<Option<KerasArchive>> {
    let mut archive = zip::ZipArchive::new(reader)?;
    let has = |archive: &zip::ZipArchive<R>, name: &str| archive.index_for_name(name).is_some();
    if !has(&archive, "config.json") || !has(&archive, "metadata.json") {
        return Ok(None);
    }
    let has_weights = has(&archive, "model.weights.h5");
    let config = read_json(&mut archive, "config.json")?;
    let metadata = read_json(&mut archive, "metadata.json")?;
    Ok(Some(KerasArchive {
        config: inspect_config(&config),
        keras_version: metadata
            .get("keras_version")
            .and_then(Value::as_str)
            .map(str::to_owned),
        has_weights,
    }))
}

fn read_json<R: Read + Seek>(archive: &mut zip::ZipArchive<R>, name: &str) -> Result<Value> {
    let member = archive.by_name(name)?;
    ModelError::check_limit("Keras config size", member.size(), MAX_CONFIG_BYTES)?;
    let mut bytes = Vec::new();
    member.take(MAX_CONFIG_BYTES).read_to_end(&mut bytes)?;
    serde_json::from_slice(&bytes).map_err(|source| ModelError::Json {
        what: "Keras config",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(name: &str) -> KerasArchive {
        let bytes =
            std::fs::read(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        read_archive(std::io::Cursor::new(bytes)).unwrap().unwrap()
    }

    #[test]
    fn plain_lambda_and_custom() {
        let plain = archive("tiny.keras");
        assert_eq!(plain.config.class_name.as_deref(), Some("Sequential"));
        assert_eq!(plain.keras_version.as_deref(), Some("2.14.0"));
        assert!(plain.has_weights);
        assert!(plain.config.issues.is_empty(), "{:?}", plain.config.issues);

        let lambda = archive("lambda.keras");
        let kinds: Vec<_> = lambda
            .config
            .issues
            .iter()
            .map(|i| (i.kind, i.name.clone()))
            .collect();
        assert_eq!(kinds, [(KerasIssueKind::Lambda, Some("double".to_owned()))]);

        let custom = archive("custom.keras");
        assert_eq!(custom.config.issues.len(), 1, "{:?}", custom.config.issues);
        let issue = &custom.config.issues[0];
        assert_eq!(issue.kind, KerasIssueKind::CustomObject);
        assert_eq!(issue.class_name, "Scale");
        assert_eq!(issue.module.as_deref(), Some("acme.layers"));
    }

    #[test]
    fn modules() {
        assert!(is_keras_module("keras"));
        assert!(is_keras_module("keras.src.layers"));
        assert!(!is_keras_module("kerasx"));
        assert!(!is_keras_module("builtins"));
    }
}
