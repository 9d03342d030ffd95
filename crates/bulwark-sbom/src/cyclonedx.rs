//! The CycloneDX 1.6 BOM, built once from an inventory and written by the JSON and XML
//! encoders, so the two encodings always carry the same content and the same serial number.
//!
//! Decisions and traps (CycloneDX 1.6, <https://cyclonedx.org/docs/1.6/json/>):
//! - `bom-ref` is the inventory's [`ComponentId`] (the purl, or a kind/name/version/location key
//!   for purl-less components). The target gets `bulwark:target`, which no component id can
//!   equal (ids are purls or start with a kind). Refs are checked for uniqueness anyway.
//! - `serialNumber` is `urn:uuid:` + UUID v5 of the BOM serialized without timestamp and serial,
//!   so the same inventory always gets the same serial and the XML and JSON encodings share it.
//! - Kinds map to component types: OS packages and GPU libraries are `library` (as Syft and
//!   Trivy write them; `operating-system` is for the OS itself). The kind is also kept in a
//!   `bulwark:kind` property so a reader can recover it.
//! - Licenses: a list may hold `license` entries or one `expression`, never both. One SPDX id
//!   becomes `license.id`, a name `license.name`, a compound expression `expression`. Several
//!   licenses that include a compound expression are joined with `AND` into one expression
//!   (each declared license applies, as SPDX reads several declared licenses); if names are
//!   among them, the expressions are kept as `license.name` entries instead, since a name
//!   cannot enter an expression. All entries carry `acknowledgement: declared`.
//! - `contains` edges are not nested `components`: one component may sit in several
//!   containers, and nesting would force a copy. The BOM stays flat and each contained
//!   component carries one `bulwark:contained-by` property per container's `bom-ref`.
//! - `dependencies` has one entry per component (and one for the target), `dependsOn` sorted
//!   and omitted when empty (an unpinned requirement's dependencies are unknown, not none).
//!   The target depends on every component no `depends-on` edge reaches, so the whole
//!   inventory hangs off `metadata.component`.
//! - Dev-only components are `scope: excluded`, the spec's value for non-runtime use.
//! - `version` is omitted when unknown; CycloneDX 1.6 makes it optional.
//! - Problems met during the scan become `bulwark:problem` properties on the metadata, and a
//!   composition marks the target `incomplete`.
//! - A model is a `machine-learning-model` with a `modelCard`, a dataset a `data` component with
//!   one `data` entry (`type: dataset`); see [`crate::mlbom`] for the card.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use bulwark_inventory::{
    Component as InventoryComponent, ComponentId, ComponentKind, Inventory, License, Metadata,
    PackageSource, RelationshipKind, Scope,
};
use serde::Serialize;

use crate::common::{self, LicenseForm};
use crate::mlbom::{self, ComponentData, ModelCard};
use crate::{EncodeError, EncodeOptions};

/// The `bom-ref` of the scanned target.
pub(crate) const TARGET_REF: &str = "bulwark:target";

/// A CycloneDX 1.6 document; field order follows the XML schema's sequences.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bom {
    #[serde(rename = "$schema")]
    pub(crate) schema: &'static str,
    pub(crate) bom_format: &'static str,
    pub(crate) spec_version: &'static str,
    pub(crate) serial_number: String,
    pub(crate) version: u32,
    pub(crate) metadata: BomMetadata,
    pub(crate) components: Vec<Component>,
    pub(crate) dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) compositions: Vec<Composition>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BomMetadata {
    pub(crate) timestamp: String,
    pub(crate) tools: Tools,
    pub(crate) component: Component,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) properties: Vec<Property>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Tools {
    pub(crate) components: Vec<Component>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Component {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    pub(crate) bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) supplier: Option<OrganizationalEntity>,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) hashes: Vec<HashEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) properties: Vec<Property>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model_card: Option<ModelCard>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) data: Vec<ComponentData>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OrganizationalEntity {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) contact: Vec<OrganizationalContact>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OrganizationalContact {
    pub(crate) name: String,
    pub(crate) email: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct HashEntry {
    pub(crate) alg: &'static str,
    pub(crate) content: String,
}

/// One entry of a `licenses` array.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum LicenseChoice {
    License {
        license: LicenseEntry,
    },
    Expression {
        expression: String,
        acknowledgement: &'static str,
    },
}

#[derive(Debug, Serialize)]
pub(crate) struct LicenseEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    pub(crate) acknowledgement: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct ExternalReference {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Property {
    pub(crate) name: Cow<'static, str>,
    pub(crate) value: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Evidence {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) identity: Vec<Identity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) occurrences: Vec<Occurrence>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Identity {
    pub(crate) field: &'static str,
    pub(crate) concluded_value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Occurrence {
    pub(crate) location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_context: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Dependency {
    #[serde(rename = "ref")]
    pub(crate) reference: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) depends_on: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Composition {
    pub(crate) aggregate: &'static str,
    pub(crate) assemblies: Vec<String>,
}

/// The CycloneDX component type of a kind.
pub(crate) const fn component_type(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Library | ComponentKind::OsPackage | ComponentKind::GpuLibrary => "library",
        ComponentKind::Application => "application",
        ComponentKind::OperatingSystem => "operating-system",
        ComponentKind::DeviceDriver => "device-driver",
        ComponentKind::MachineLearningModel => "machine-learning-model",
        ComponentKind::Data => "data",
        ComponentKind::Container => "container",
    }
}

/// Builds the BOM, serial number included.
pub(crate) fn build(inventory: &Inventory, options: &EncodeOptions) -> Result<Bom, EncodeError> {
    let refs = BomRefs::new(inventory);
    let containers = common::containers(inventory);
    let datasets = DatasetRefs::new(inventory, &refs);

    let components = inventory
        .components
        .iter()
        .zip(refs.in_order())
        .map(|(component, bom_ref)| {
            let id = ComponentId::of(component);
            let contained_by: Vec<String> = containers
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|container| refs.get(container).map(str::to_owned))
                .collect();
            let mut converted = convert_component(component, bom_ref.clone(), &contained_by);
            match (component.kind, &component.metadata) {
                (ComponentKind::MachineLearningModel, Metadata::Model(model)) => {
                    converted.model_card =
                        mlbom::model_card(model, |name| datasets.find(&id, name));
                }
                (ComponentKind::Data, _) => {
                    converted.data = vec![ComponentData::dataset(&component.name)];
                }
                _ => {}
            }
            converted
        })
        .collect();

    let mut bom = Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: String::new(),
        version: 1,
        metadata: BomMetadata {
            timestamp: String::new(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: options.tool_name.to_owned(),
                    version: Some(options.tool_version.to_owned()),
                    ..Component::default()
                }],
            },
            component: Component {
                kind: "application",
                bom_ref: Some(TARGET_REF.to_owned()),
                name: target_name(inventory),
                ..Component::default()
            },
            properties: inventory
                .problems
                .iter()
                .map(|problem| Property {
                    name: Cow::Borrowed("bulwark:problem"),
                    value: problem.to_string(),
                })
                .collect(),
        },
        components,
        dependencies: dependencies(inventory, &refs),
        compositions: if inventory.problems.is_empty() {
            Vec::new()
        } else {
            vec![Composition {
                aggregate: "incomplete",
                assemblies: vec![TARGET_REF.to_owned()],
            }]
        },
    };

    // The serial is derived from everything but the timestamp (and itself).
    let content = serde_json::to_vec(&bom)?;
    bom.serial_number = format!("urn:uuid:{}", common::content_uuid("cyclonedx", &content));
    bom.metadata.timestamp = options.timestamp_utc()?;
    Ok(bom)
}

/// The name of the target; `name` is required, so an empty target gets a placeholder.
pub(crate) fn target_name(inventory: &Inventory) -> String {
    if inventory.target.trim().is_empty() {
        "unnamed target".to_owned()
    } else {
        inventory.target.clone()
    }
}

/// Unique `bom-ref`s for the inventory's component ids.
pub(crate) struct BomRefs {
    by_id: BTreeMap<ComponentId, String>,
    /// Refs of the components in inventory order (duplicates of an id get their own ref).
    in_order: Vec<String>,
}

impl BomRefs {
    pub(crate) fn new(inventory: &Inventory) -> Self {
        let mut used: BTreeSet<String> = BTreeSet::from([TARGET_REF.to_owned()]);
        let mut by_id = BTreeMap::new();
        let mut in_order = Vec::with_capacity(inventory.components.len());
        for component in &inventory.components {
            let id = ComponentId::of(component);
            let mut candidate = id.as_str().to_owned();
            let mut counter = 1;
            // An assembled inventory has unique ids; a hand-built one might not. A duplicate
            // keeps its own ref so the document stays valid, and edges go to the first.
            while used.contains(&candidate) {
                counter += 1;
                candidate = format!("bulwark:duplicate:{counter}:{}", id.as_str());
            }
            used.insert(candidate.clone());
            by_id.entry(id).or_insert_with(|| candidate.clone());
            in_order.push(candidate);
        }
        Self { by_id, in_order }
    }

    pub(crate) fn get(&self, id: &ComponentId) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    pub(crate) fn in_order(&self) -> &[String] {
        &self.in_order
    }
}

/// The `data` components of an inventory by name, and which of them each component depends
/// on, to turn a model's dataset names into `bom-ref`s.
struct DatasetRefs<'a> {
    by_name: BTreeMap<&'a str, Vec<ComponentId>>,
    depends_on: BTreeSet<(&'a ComponentId, &'a ComponentId)>,
    refs: &'a BomRefs,
}

impl<'a> DatasetRefs<'a> {
    fn new(inventory: &'a Inventory, refs: &'a BomRefs) -> Self {
        let mut by_name: BTreeMap<&str, Vec<ComponentId>> = BTreeMap::new();
        for component in &inventory.components {
            if component.kind == ComponentKind::Data {
                by_name
                    .entry(component.name.as_str())
                    .or_default()
                    .push(ComponentId::of(component));
            }
        }
        let depends_on = inventory
            .relationships
            .iter()
            .filter(|r| r.kind == RelationshipKind::DependsOn)
            .map(|r| (&r.from, &r.to))
            .collect();
        Self {
            by_name,
            depends_on,
            refs,
        }
    }

    /// The `bom-ref` of the data component named `name`: one `model` depends on, else the
    /// first of that name.
    fn find(&self, model: &ComponentId, name: &str) -> Option<String> {
        let candidates = self.by_name.get(name)?;
        let chosen = candidates
            .iter()
            .find(|data| self.depends_on.contains(&(model, *data)))
            .or_else(|| candidates.first())?;
        self.refs.get(chosen).map(str::to_owned)
    }
}

fn dependencies(inventory: &Inventory, refs: &BomRefs) -> Vec<Dependency> {
    let mut depends_on: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for relationship in &inventory.relationships {
        if relationship.kind != RelationshipKind::DependsOn || relationship.from == relationship.to
        {
            continue;
        }
        if let (Some(from), Some(to)) = (refs.get(&relationship.from), refs.get(&relationship.to)) {
            depends_on.entry(from).or_default().insert(to);
        }
    }
    let roots = common::roots(inventory, &[RelationshipKind::DependsOn]);
    let mut root_refs: Vec<String> = roots
        .iter()
        .filter_map(|c| refs.get(&ComponentId::of(c)).map(str::to_owned))
        .collect();
    root_refs.sort();
    root_refs.dedup();

    let mut entries = vec![Dependency {
        reference: TARGET_REF.to_owned(),
        depends_on: root_refs,
    }];
    for reference in refs.in_order() {
        entries.push(Dependency {
            reference: reference.clone(),
            depends_on: depends_on
                .get(reference.as_str())
                .map(|set| set.iter().map(|s| (*s).to_owned()).collect())
                .unwrap_or_default(),
        });
    }
    entries
}

fn convert_component(
    component: &InventoryComponent,
    bom_ref: String,
    contained_by: &[String],
) -> Component {
    let (cpe, extra_cpes) = split_cpes(&component.cpes);
    let properties = common::component_properties(component, &extra_cpes, contained_by)
        .into_iter()
        .map(|(name, value)| Property { name, value })
        .collect();
    Component {
        kind: component_type(component.kind),
        bom_ref: Some(bom_ref),
        supplier: component.supplier.as_deref().and_then(supplier),
        name: component.name.clone(),
        version: component.version.clone().filter(|v| !v.is_empty()),
        description: component
            .description
            .as_deref()
            .map(common::one_line)
            .filter(|d| !d.is_empty()),
        scope: Some(match component.scope {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Development => "excluded",
        }),
        hashes: component
            .hashes
            .iter()
            .map(|hash| HashEntry {
                alg: hash.algorithm.cyclonedx_name(),
                content: hash.value.clone(),
            })
            .collect(),
        licenses: licenses(&component.licenses),
        cpe: cpe.map(str::to_owned),
        purl: component.purl.as_ref().map(|p| p.as_str().to_owned()),
        external_references: external_references(component.source.as_ref()),
        properties,
        evidence: evidence(component),
        model_card: None,
        data: Vec::new(),
    }
}

/// `Jane <jane@example.org>` becomes a supplier named Jane with that contact email.
fn supplier(declared: &str) -> Option<OrganizationalEntity> {
    let (name, email) = common::split_contact(declared);
    (!name.is_empty()).then(|| OrganizationalEntity {
        contact: email
            .map(|email| OrganizationalContact {
                name: name.clone(),
                email,
            })
            .into_iter()
            .collect(),
        name,
    })
}

/// The first CPE the `cpe` field accepts, and every other CPE (kept as properties).
fn split_cpes(cpes: &[String]) -> (Option<&str>, Vec<&str>) {
    let first_valid = cpes.iter().position(|c| common::is_valid_cpe(c));
    let extra = cpes
        .iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != first_valid)
        .map(|(_, c)| c.as_str())
        .collect();
    (first_valid.map(|i| cpes[i].as_str()), extra)
}

/// See the module docs for the rules.
pub(crate) fn licenses(licenses: &[License]) -> Vec<LicenseChoice> {
    const DECLARED: &str = "declared";
    let forms: Vec<LicenseForm<'_>> = licenses.iter().map(LicenseForm::of).collect();
    let expressions: Vec<&str> = forms
        .iter()
        .filter_map(|f| match f {
            LicenseForm::Expression(e) => Some(*e),
            _ => None,
        })
        .collect();
    let has_names = forms.iter().any(|f| matches!(f, LicenseForm::Name(_)));
    if !expressions.is_empty() && !has_names {
        let joined = if forms.len() == 1 {
            expressions[0].to_owned()
        } else {
            forms
                .iter()
                .map(|f| match f {
                    LicenseForm::Id(id) => (*id).to_owned(),
                    LicenseForm::Expression(e) => format!("({e})"),
                    LicenseForm::Name(n) => (*n).to_owned(),
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        return vec![LicenseChoice::Expression {
            expression: joined,
            acknowledgement: DECLARED,
        }];
    }
    forms
        .into_iter()
        .map(|form| {
            let (id, name) = match form {
                LicenseForm::Id(id) => (Some(id.to_owned()), None),
                LicenseForm::Expression(text) | LicenseForm::Name(text) => {
                    (None, Some(text.to_owned()))
                }
            };
            LicenseChoice::License {
                license: LicenseEntry {
                    id,
                    name,
                    acknowledgement: DECLARED,
                },
            }
        })
        .collect()
}

fn external_references(source: Option<&PackageSource>) -> Vec<ExternalReference> {
    let reference = match source {
        Some(PackageSource::Vcs {
            url,
            requested_revision,
            commit,
            ..
        }) => {
            let comment = match (requested_revision, commit) {
                (Some(revision), Some(commit)) => {
                    Some(format!("revision {revision}, commit {commit}"))
                }
                (Some(revision), None) => Some(format!("revision {revision}")),
                (None, Some(commit)) => Some(format!("commit {commit}")),
                (None, None) => None,
            };
            ExternalReference {
                kind: "vcs",
                url: url.clone(),
                comment,
            }
        }
        Some(PackageSource::Url { url }) => ExternalReference {
            kind: "distribution",
            url: url.clone(),
            comment: None,
        },
        // A registry URL names the index, not this package; a path is local. Both are kept as
        // properties only.
        Some(PackageSource::Registry { .. } | PackageSource::Path { .. }) | None => {
            return Vec::new();
        }
    };
    if common::is_absolute_url(&reference.url) {
        vec![reference]
    } else {
        Vec::new()
    }
}

fn evidence(component: &InventoryComponent) -> Option<Evidence> {
    let evidence = Evidence {
        identity: component
            .also_known_as
            .iter()
            .map(|purl| Identity {
                field: "purl",
                concluded_value: purl.as_str().to_owned(),
            })
            .collect(),
        occurrences: component
            .locations
            .iter()
            .map(|location| Occurrence {
                location: location.path.clone(),
                line: location.line,
                additional_context: location.layer.as_ref().map(|l| format!("layer {l}")),
            })
            .collect(),
    };
    (!evidence.identity.is_empty() || !evidence.occurrences.is_empty()).then_some(evidence)
}
