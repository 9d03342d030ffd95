//! bulwark's own JSON (see [`crate::json`]), read back field for field.
//!
//! Relationship ends are component ids as [`ComponentId::of`] computes them, so each decoded
//! component's id is computed again and the edges are matched on its text.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_inventory::{
    Component, ComponentId, CondaPackage, DirectUrl, Ecosystem, GpuFacts, GpuPart, Hash,
    HashAlgorithm, Inventory, License, Location, Metadata, ModelInfo, OsPackage, PackageSource,
    Problem, Purl, PythonDistribution, PythonRequirement, Relationship, RelationshipKind, Scope,
    SortedSet,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::properties::kind_from_name;
use super::{DecodeError, json_error};

const FOUND_BY: &str = "sbom/bulwark";

#[derive(Deserialize)]
struct Document<'a> {
    schema_version: u32,
    #[serde(default)]
    target: String,
    #[serde(default, borrow)]
    components: Vec<&'a RawValue>,
    #[serde(default)]
    relationships: Vec<JsonRelationship>,
    #[serde(default)]
    problems: Vec<JsonProblem>,
}

#[derive(Deserialize)]
struct JsonRelationship {
    from: String,
    kind: String,
    to: String,
}

#[derive(Deserialize)]
struct JsonProblem {
    path: String,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    cataloger: Option<String>,
    message: String,
}

#[derive(Deserialize)]
struct JsonComponent {
    kind: String,
    name: String,
    #[serde(default)]
    ecosystem: Option<Ecosystem>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    also_known_as: Vec<String>,
    #[serde(default)]
    cpes: Vec<String>,
    #[serde(default)]
    locations: Vec<JsonLocation>,
    #[serde(default)]
    hashes: Vec<JsonHash>,
    #[serde(default)]
    licenses: Vec<JsonLicense>,
    #[serde(default)]
    supplier: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    source: Option<JsonSource>,
    #[serde(default)]
    found_by: BTreeSet<String>,
    #[serde(default)]
    metadata: Option<JsonMetadata>,
    #[serde(default)]
    gpu: Option<JsonGpu>,
}

#[derive(Deserialize)]
struct JsonLocation {
    path: String,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    layer: Option<String>,
}

#[derive(Deserialize)]
struct JsonHash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
enum JsonLicense {
    Expression(String),
    Name(String),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum JsonSource {
    Registry {
        url: String,
    },
    Vcs {
        vcs: String,
        url: String,
        #[serde(default)]
        requested_revision: Option<String>,
        #[serde(default)]
        commit: Option<String>,
    },
    Url {
        url: String,
    },
    Path {
        path: String,
        #[serde(default)]
        editable: bool,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum JsonMetadata {
    None,
    PythonDistribution {
        #[serde(default)]
        metadata_version: Option<String>,
        #[serde(default)]
        requires_python: Option<String>,
        #[serde(default)]
        installer: Option<String>,
        #[serde(default)]
        direct_url: Option<JsonDirectUrl>,
        #[serde(default)]
        requires_dist: Vec<String>,
        #[serde(default)]
        site_packages: String,
    },
    PythonRequirement {
        #[serde(default)]
        specifier: String,
        #[serde(default)]
        extras: Vec<String>,
        #[serde(default)]
        marker: Option<String>,
    },
    Conda {
        #[serde(default)]
        channel: Option<String>,
        #[serde(default)]
        subdir: Option<String>,
        #[serde(default)]
        build: Option<String>,
        #[serde(default)]
        build_number: Option<u64>,
        #[serde(default)]
        prefix: Option<String>,
        #[serde(default)]
        spec: Option<String>,
    },
    OsPackage {
        #[serde(default)]
        source_name: Option<String>,
        #[serde(default)]
        source_version: Option<String>,
        #[serde(default)]
        architecture: Option<String>,
        #[serde(default)]
        distro: Option<String>,
    },
    Model(JsonModel),
}

/// [`ModelInfo`] as bulwark JSON writes it (field for field).
#[derive(Deserialize)]
struct JsonModel {
    #[serde(default)]
    format: String,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    task: Option<String>,
    #[serde(default)]
    parameters: Option<u64>,
    #[serde(default)]
    dtypes: Vec<String>,
    #[serde(default)]
    quantization: Option<String>,
    #[serde(default)]
    context_length: Option<u64>,
    #[serde(default)]
    base_models: Vec<String>,
    #[serde(default)]
    datasets: Vec<String>,
    #[serde(default)]
    inputs: Vec<String>,
    #[serde(default)]
    outputs: Vec<String>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    considerations: BTreeMap<String, String>,
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

impl From<JsonModel> for ModelInfo {
    fn from(model: JsonModel) -> Self {
        Self {
            format: model.format,
            architecture: model.architecture,
            task: model.task,
            parameters: model.parameters,
            dtypes: model.dtypes,
            quantization: model.quantization,
            context_length: model.context_length,
            base_models: model.base_models,
            datasets: model.datasets,
            inputs: model.inputs,
            outputs: model.outputs,
            repository: model.repository,
            revision: model.revision,
            files: model.files,
            considerations: model.considerations,
            properties: model.properties,
        }
    }
}

#[derive(Deserialize)]
struct JsonDirectUrl {
    url: String,
    #[serde(default)]
    editable: bool,
    #[serde(default)]
    vcs: Option<(String, String)>,
}

pub(super) fn decode(bytes: &[u8], source_name: &str) -> Result<Inventory, DecodeError> {
    let document: Document<'_> =
        serde_json::from_slice(bytes).map_err(json_error(source_name, "bulwark"))?;
    if document.schema_version != crate::json::SCHEMA_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            source_name: source_name.to_owned(),
            format: "bulwark JSON",
            version: format!("schema_version {}", document.schema_version),
            supported: "schema_version 1 is read",
        });
    }
    let mut problems: Vec<Problem> = document
        .problems
        .into_iter()
        .map(|p| Problem {
            path: p.path,
            line: p.line,
            cataloger: p.cataloger,
            message: p.message,
        })
        .collect();
    let mut ids: HashMap<String, ComponentId> = HashMap::with_capacity(document.components.len());
    let mut components = Vec::with_capacity(document.components.len());
    for (index, raw) in document.components.iter().enumerate() {
        let converted = serde_json::from_str::<JsonComponent>(raw.get())
            .map_err(|e| e.to_string())
            .and_then(|c| convert(c, source_name));
        match converted {
            Ok(component) => {
                let id = ComponentId::of(&component);
                ids.insert(id.as_str().to_owned(), id);
                components.push(component);
            }
            Err(message) => problems.push(Problem {
                path: source_name.to_owned(),
                line: None,
                cataloger: Some(FOUND_BY.to_owned()),
                message: format!("component {} cannot be read: {message}", index + 1),
            }),
        }
    }
    let relationships = document
        .relationships
        .into_iter()
        .filter_map(|r| {
            let kind = match r.kind.as_str() {
                "depends-on" => RelationshipKind::DependsOn,
                "contains" => RelationshipKind::Contains,
                _ => return None,
            };
            Some(Relationship {
                from: ids.get(&r.from)?.clone(),
                kind,
                to: ids.get(&r.to)?.clone(),
            })
        })
        .collect();
    let target = if document.target.is_empty() {
        source_name.to_owned()
    } else {
        document.target
    };
    Ok(Inventory::assemble(
        target,
        components,
        relationships,
        Vec::new(),
        problems,
    ))
}

fn convert(component: JsonComponent, source_name: &str) -> Result<Component, String> {
    let kind = kind_from_name(&component.kind)
        .ok_or_else(|| format!("unknown kind `{}`", component.kind))?;
    let purl = match component.purl {
        Some(text) => Some(
            Purl::parse(&text)
                .ok_or_else(|| format!("has a purl that does not parse: `{text}`"))?,
        ),
        None => None,
    };
    let mut locations: BTreeSet<Location> = component
        .locations
        .into_iter()
        .map(|l| Location {
            path: l.path,
            line: l.line,
            layer: l.layer,
        })
        .collect();
    if locations.is_empty() {
        locations.insert(Location::new(source_name));
    }
    Ok(Component {
        kind,
        name: component.name,
        ecosystem: component.ecosystem,
        version: component.version,
        purl,
        also_known_as: component
            .also_known_as
            .iter()
            .filter_map(|p| Purl::parse(p))
            .collect(),
        cpes: component.cpes,
        locations: locations.into_iter().collect(),
        hashes: component
            .hashes
            .iter()
            .filter_map(|h| Hash::new(HashAlgorithm::from_name(&h.algorithm)?, &h.value))
            .collect(),
        licenses: component
            .licenses
            .into_iter()
            .map(|l| match l {
                JsonLicense::Expression(e) => License::Expression(e),
                JsonLicense::Name(n) => License::Name(n),
            })
            .collect(),
        supplier: component.supplier,
        description: component.description,
        scope: match component.scope.as_deref() {
            Some("optional") => Scope::Optional,
            Some("development") => Scope::Development,
            _ => Scope::Required,
        },
        source: component.source.map(|s| match s {
            JsonSource::Registry { url } => PackageSource::Registry { url },
            JsonSource::Vcs {
                vcs,
                url,
                requested_revision,
                commit,
            } => PackageSource::Vcs {
                vcs,
                url,
                requested_revision,
                commit,
            },
            JsonSource::Url { url } => PackageSource::Url { url },
            JsonSource::Path { path, editable } => PackageSource::Path { path, editable },
        }),
        found_by: if component.found_by.is_empty() {
            SortedSet::from([FOUND_BY.to_owned()])
        } else {
            component.found_by.into_iter().collect()
        },
        files: Vec::new(),
        metadata: match component.metadata {
            None | Some(JsonMetadata::None) => Metadata::None,
            Some(JsonMetadata::PythonDistribution {
                metadata_version,
                requires_python,
                installer,
                direct_url,
                requires_dist,
                site_packages,
            }) => Metadata::PythonDistribution(PythonDistribution {
                metadata_version,
                requires_python,
                installer,
                direct_url: direct_url.map(|d| DirectUrl {
                    url: d.url,
                    editable: d.editable,
                    vcs: d.vcs,
                }),
                requires_dist,
                site_packages,
            }),
            Some(JsonMetadata::PythonRequirement {
                specifier,
                extras,
                marker,
            }) => Metadata::PythonRequirement(PythonRequirement {
                specifier,
                extras,
                marker,
            }),
            Some(JsonMetadata::Conda {
                channel,
                subdir,
                build,
                build_number,
                prefix,
                spec,
            }) => Metadata::Conda(CondaPackage {
                channel,
                subdir,
                build,
                build_number,
                prefix,
                spec,
            }),
            Some(JsonMetadata::OsPackage {
                source_name,
                source_version,
                architecture,
                distro,
            }) => Metadata::OsPackage(OsPackage {
                source_name,
                source_version,
                architecture,
                distro,
            }),
            Some(JsonMetadata::Model(model)) => Metadata::Model(model.into()),
        },
        gpu: component.gpu.map(|gpu| GpuFacts {
            provides: gpu.provides.as_deref().and_then(GpuPart::from_name),
            part_version: gpu.part_version,
            cuda: gpu.cuda,
            cudnn: gpu.cudnn,
            rocm: gpu.rocm,
            variant: gpu.variant,
        }),
    })
}

/// [`GpuFacts`] as bulwark JSON writes them.
#[derive(Debug, Deserialize)]
struct JsonGpu {
    #[serde(default)]
    provides: Option<String>,
    #[serde(default)]
    part_version: Option<String>,
    #[serde(default)]
    cuda: Option<String>,
    #[serde(default)]
    cudnn: Option<String>,
    #[serde(default)]
    rocm: Option<String>,
    #[serde(default)]
    variant: Option<String>,
}
