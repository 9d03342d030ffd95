//! CycloneDX name/value properties that carry facts a component's fields do not: bulwark's own
//! `bulwark:` properties (written by [`crate::common::component_properties`]), and the
//! locations Syft, Trivy and cdxgen keep in theirs.

use std::collections::BTreeMap;

use bulwark_inventory::{
    ComponentKind, CondaPackage, DirectUrl, GpuFacts, GpuPart, Location, Metadata, ModelInfo,
    OsPackage, PackageSource, PythonDistribution, PythonRequirement,
};

/// What the properties of one component say.
#[derive(Debug, Default)]
pub(super) struct Facts {
    pub(super) kind: Option<ComponentKind>,
    pub(super) found_by: Vec<String>,
    pub(super) cpes: Vec<String>,
    /// `bom-ref`s of the components that contain this one.
    pub(super) contained_by: Vec<String>,
    pub(super) source: Option<PackageSource>,
    pub(super) metadata: Metadata,
    pub(super) gpu: Option<GpuFacts>,
    /// Locations from tool-specific properties.
    pub(super) locations: Vec<Location>,
}

/// The component kind of bulwark's kebab-case name (`gpu-library`).
pub(super) fn kind_from_name(name: &str) -> Option<ComponentKind> {
    Some(match name {
        "library" => ComponentKind::Library,
        "application" => ComponentKind::Application,
        "os-package" => ComponentKind::OsPackage,
        "operating-system" => ComponentKind::OperatingSystem,
        "device-driver" => ComponentKind::DeviceDriver,
        "gpu-library" => ComponentKind::GpuLibrary,
        "machine-learning-model" => ComponentKind::MachineLearningModel,
        "data" => ComponentKind::Data,
        "container" => ComponentKind::Container,
        _ => return None,
    })
}

/// A path as tools write it, made relative: Syft writes `/venv/lib/...` for a directory scan.
pub(super) fn relative_path(path: &str) -> String {
    path.trim().trim_start_matches('/').to_owned()
}

/// Reads the properties of one component.
pub(super) fn read<'a>(properties: impl IntoIterator<Item = (&'a str, &'a str)>) -> Facts {
    let mut facts = Facts::default();
    let mut bulwark: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    // Syft numbers a component's locations: `syft:location:0:path`, `syft:location:0:layerID`.
    let mut syft_locations: BTreeMap<u32, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for (name, value) in properties {
        if let Some(key) = name.strip_prefix("bulwark:") {
            bulwark.entry(key).or_default().push(value);
        } else if let Some(rest) = name.strip_prefix("syft:location:") {
            let Some((index, field)) = rest.split_once(':') else {
                continue;
            };
            let Ok(index) = index.parse::<u32>() else {
                continue;
            };
            let entry = syft_locations.entry(index).or_default();
            match field {
                "path" => entry.0 = Some(value),
                "layerID" => entry.1 = Some(value),
                _ => {}
            }
        } else if (name == "aquasecurity:trivy:FilePath" || name == "SrcFile")
            && !value.trim().is_empty()
        {
            facts.locations.push(Location::new(relative_path(value)));
        }
    }
    for (path, layer) in syft_locations.into_values() {
        if let Some(path) = path.filter(|p| !p.trim().is_empty()) {
            facts.locations.push(Location {
                path: relative_path(path),
                line: None,
                layer: layer.map(str::to_owned),
            });
        }
    }
    if !bulwark.is_empty() {
        read_bulwark(&bulwark, &mut facts);
    }
    facts
}

fn read_bulwark(properties: &BTreeMap<&str, Vec<&str>>, facts: &mut Facts) {
    let all = |key: &str| -> Vec<String> {
        properties
            .get(key)
            .map(|values| values.iter().map(|v| (*v).to_owned()).collect())
            .unwrap_or_default()
    };
    let one = |key: &str| {
        properties
            .get(key)
            .and_then(|v| v.first())
            .map(|v| (*v).to_owned())
    };
    let flag = |key: &str| one(key).is_some_and(|v| v == "true");

    facts.kind = one("kind").as_deref().and_then(kind_from_name);
    facts.found_by = all("found-by");
    facts.cpes = all("cpe");
    facts.contained_by = all("contained-by");
    facts.source = match one("package-source").as_deref() {
        Some("registry") => one("package-source:url").map(|url| PackageSource::Registry { url }),
        Some("url") => one("package-source:url").map(|url| PackageSource::Url { url }),
        Some("vcs") => match (one("package-source:vcs"), one("package-source:url")) {
            (Some(vcs), Some(url)) => Some(PackageSource::Vcs {
                vcs,
                url,
                requested_revision: one("package-source:requested-revision"),
                commit: one("package-source:commit"),
            }),
            _ => None,
        },
        Some("path") => one("package-source:path").map(|path| PackageSource::Path {
            path,
            editable: flag("package-source:editable"),
        }),
        _ => None,
    };
    facts.metadata = if let Some(site_packages) = one("python:site-packages") {
        Metadata::PythonDistribution(PythonDistribution {
            metadata_version: one("python:metadata-version"),
            requires_python: one("python:requires-python"),
            installer: one("python:installer"),
            direct_url: one("python:direct-url").map(|url| DirectUrl {
                url,
                editable: flag("python:direct-url:editable"),
                vcs: one("python:direct-url:vcs").zip(one("python:direct-url:commit")),
            }),
            requires_dist: all("python:requires-dist"),
            site_packages,
        })
    } else if properties
        .keys()
        .any(|k| k.starts_with("python:requirement-"))
    {
        Metadata::PythonRequirement(PythonRequirement {
            specifier: one("python:requirement-specifier").unwrap_or_default(),
            extras: all("python:requirement-extra"),
            marker: one("python:requirement-marker"),
        })
    } else if properties.keys().any(|k| k.starts_with("conda:")) {
        Metadata::Conda(CondaPackage {
            channel: one("conda:channel"),
            subdir: one("conda:subdir"),
            build: one("conda:build"),
            build_number: one("conda:build-number").and_then(|n| n.parse().ok()),
            prefix: one("conda:prefix"),
            spec: one("conda:spec"),
        })
    } else if properties.keys().any(|k| k.starts_with("model:")) {
        Metadata::Model(read_model(properties))
    } else if properties.keys().any(|k| k.starts_with("os:")) {
        Metadata::OsPackage(OsPackage {
            source_name: one("os:source-name"),
            source_version: one("os:source-version"),
            architecture: one("os:architecture"),
            distro: one("os:distro"),
        })
    } else {
        Metadata::None
    };
    let gpu = GpuFacts {
        provides: one("gpu:provides").as_deref().and_then(GpuPart::from_name),
        part_version: one("gpu:part-version"),
        cuda: one("gpu:cuda"),
        cudnn: one("gpu:cudnn"),
        rocm: one("gpu:rocm"),
        variant: one("gpu:variant"),
    };
    facts.gpu = (gpu != GpuFacts::default()).then_some(gpu);
}

/// `bulwark:model:*` (as [`crate::common`] writes them, names without the `bulwark:` prefix)
/// into [`ModelInfo`]. A number that does not parse is left out rather than guessed.
fn read_model(properties: &BTreeMap<&str, Vec<&str>>) -> ModelInfo {
    let all = |key: &str| -> Vec<String> {
        properties
            .get(key)
            .map(|values| values.iter().map(|v| (*v).to_owned()).collect())
            .unwrap_or_default()
    };
    let one = |key: &str| {
        properties
            .get(key)
            .and_then(|v| v.first())
            .map(|v| (*v).to_owned())
    };
    let keyed = |prefix: &str| -> BTreeMap<String, String> {
        properties
            .iter()
            .filter_map(|(name, values)| {
                let key = name.strip_prefix(prefix)?;
                Some((key.to_owned(), (*values.first()?).to_owned()))
            })
            .filter(|(key, _)| !key.is_empty())
            .collect()
    };
    let strip = |name: &'static str| &name["bulwark:".len()..];
    ModelInfo {
        format: one("model:format").unwrap_or_default(),
        architecture: one("model:architecture"),
        task: one("model:task"),
        parameters: one("model:parameters").and_then(|n| n.parse().ok()),
        dtypes: all("model:dtype"),
        quantization: one("model:quantization"),
        context_length: one("model:context-length").and_then(|n| n.parse().ok()),
        base_models: all("model:base-model"),
        datasets: all("model:dataset"),
        inputs: all("model:input"),
        outputs: all("model:output"),
        repository: one("model:repository"),
        revision: one("model:revision"),
        files: all("model:file"),
        considerations: keyed(strip(crate::common::CONSIDERATION_PREFIX)),
        properties: keyed(strip(crate::common::MODEL_PROPERTY_PREFIX)),
    }
}
