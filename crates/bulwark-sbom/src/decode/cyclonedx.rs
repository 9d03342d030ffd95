//! The part of a CycloneDX BOM bulwark reads, shared by the JSON and XML readers, and its
//! conversion into an inventory.
//!
//! Mapping, beyond the module docs of [`crate::decode`]:
//! - `type` → kind: `library`, `framework` and anything unknown → library (an OS package when
//!   the purl is `deb`, `rpm`, `apk` or `alpm`), `application`, `operating-system`,
//!   `device-driver` and `firmware` (→ device driver), `machine-learning-model`, `data`,
//!   `container`. `file` components without a purl are files, not packages, and are skipped;
//!   so are Trivy's lockfile components (`aquasecurity:trivy:Class`), whose file name becomes
//!   the location of the packages they list. bulwark's own `bulwark:kind` wins over `type`.
//! - `supplier.name` (with its first contact's email as `Name <email>`), else the deprecated
//!   `author`, else the first of `authors`, else `publisher`, is the supplier.
//! - `licenses`: `license.id` and valid `expression`s are SPDX expressions, `license.name`
//!   is classified as [`License::from_declared`] does.
//! - `scope`: `required` (or none) → required, `optional` → optional, `excluded` →
//!   development.
//! - `evidence.identity` entries with `field: purl` → `also_known_as`; `evidence.occurrences`
//!   → locations (`additionalContext: layer X` → the location's layer, as bulwark writes it).
//! - The `cpe` field and bulwark's `bulwark:cpe` properties are the CPEs; Syft's guessed
//!   `syft:cpe23` variants are not kept.
//! - `dependencies` refs that name no component (Trivy names its lockfile components, tools
//!   name the metadata component) are dropped.
//! - A `modelCard` fills the component's [`ModelInfo`](bulwark_inventory::ModelInfo) (see
//!   [`super::model_card`]); a dataset `ref` in it is also a depends-on edge. A `data`
//!   component's `data` entries repeat what its name says and are not read.

use std::collections::{BTreeSet, HashMap};

use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Hash, HashAlgorithm, Inventory, License, Location,
    Metadata, Problem, Purl, Relationship, RelationshipKind, Scope, SortedSet,
};
use serde::Deserialize;

use super::model_card::{self, PendingDataset, RawModelCard};
use super::properties::{self, Facts};
use super::purl::{self, Identity};

/// What bulwark calls a component found in a CycloneDX document, in `found_by`.
const FOUND_BY: &str = "sbom/cyclonedx";

/// A component as the document has it. `C` is how nested components are held until they are
/// read: raw JSON (so one bad child does not spoil its parent) or an already-read XML element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "C: Deserialize<'de>"))]
pub(super) struct RawComponent<C> {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
    #[serde(rename = "bom-ref", default)]
    pub(super) bom_ref: Option<String>,
    #[serde(default)]
    pub(super) supplier: Option<Supplier>,
    #[serde(default)]
    pub(super) author: Option<String>,
    #[serde(default)]
    pub(super) authors: Vec<Contact>,
    #[serde(default)]
    pub(super) publisher: Option<String>,
    #[serde(default)]
    pub(super) group: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) version: Option<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) scope: Option<String>,
    #[serde(default)]
    pub(super) hashes: Vec<HashEntry>,
    #[serde(default)]
    pub(super) licenses: Vec<LicenseChoice>,
    #[serde(default)]
    pub(super) cpe: Option<String>,
    #[serde(default)]
    pub(super) purl: Option<String>,
    #[serde(default)]
    pub(super) properties: Vec<Property>,
    #[serde(default)]
    pub(super) evidence: Option<Evidence>,
    #[serde(default, deserialize_with = "model_card::lenient")]
    pub(super) model_card: Option<RawModelCard>,
    #[serde(default = "Vec::new")]
    pub(super) components: Vec<C>,
}

impl<C> Default for RawComponent<C> {
    fn default() -> Self {
        Self {
            kind: None,
            bom_ref: None,
            supplier: None,
            author: None,
            authors: Vec::new(),
            publisher: None,
            group: None,
            name: None,
            version: None,
            description: None,
            scope: None,
            hashes: Vec::new(),
            licenses: Vec::new(),
            cpe: None,
            purl: None,
            properties: Vec::new(),
            evidence: None,
            model_card: None,
            components: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Supplier {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) contact: Vec<Contact>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Contact {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HashEntry {
    #[serde(default)]
    pub(super) alg: String,
    #[serde(default)]
    pub(super) content: String,
}

/// One entry of `licenses`: `{"license": {...}}` or `{"expression": "..."}`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LicenseChoice {
    #[serde(default)]
    pub(super) license: Option<LicenseEntry>,
    #[serde(default)]
    pub(super) expression: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LicenseEntry {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Property {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Evidence {
    /// One object in CycloneDX 1.5, an array from 1.6.
    #[serde(default)]
    pub(super) identity: Option<OneOrMany<IdentityEntry>>,
    #[serde(default)]
    pub(super) occurrences: Vec<Occurrence>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IdentityEntry {
    #[serde(default)]
    pub(super) field: Option<String>,
    #[serde(default)]
    pub(super) concluded_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Occurrence {
    #[serde(default)]
    pub(super) location: Option<String>,
    #[serde(default)]
    pub(super) line: Option<u32>,
    #[serde(default)]
    pub(super) additional_context: Option<String>,
}

/// A `dependencies` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Dependency {
    #[serde(rename = "ref", default)]
    pub(super) reference: String,
    #[serde(default)]
    pub(super) depends_on: Vec<String>,
}

/// A nested component not read yet.
pub(super) trait Nested: Sized {
    /// Reads it; the error says what is wrong.
    fn read(self) -> Result<RawComponent<Self>, String>;
}

/// The parts of a BOM the conversion needs.
pub(super) struct Bom<C> {
    /// `bom-ref`s of `metadata.component` and the components nested in it: the document's
    /// subject, which is not a component of the inventory.
    pub(super) subject_refs: BTreeSet<String>,
    pub(super) components: Vec<C>,
    pub(super) dependencies: Vec<Dependency>,
    /// `bulwark:problem` properties of the metadata (bulwark's own documents).
    pub(super) metadata_properties: Vec<Property>,
}

/// Reads the components one at a time, in document order (nested ones right after their
/// parent), converting each before the next is read, so the document's own structures never
/// all exist at once next to the inventory's.
pub(super) fn convert<C: Nested>(bom: Bom<C>, source_name: &str) -> Inventory {
    let mut problems: Vec<Problem> = bom
        .metadata_properties
        .iter()
        .filter(|p| p.name == "bulwark:problem")
        .filter_map(|p| p.value.as_deref())
        .map(|text| parse_problem(text, source_name))
        .collect();

    let mut components: Vec<Component> = Vec::with_capacity(bom.components.len());
    let mut ids: Vec<ComponentId> = Vec::with_capacity(bom.components.len());
    let mut index_by_ref: HashMap<String, usize> = HashMap::with_capacity(bom.components.len());
    // Trivy's lockfile components: `bom-ref` → the file they stand for.
    let mut lockfiles: HashMap<String, String> = HashMap::new();
    let mut containers: Vec<(String, usize)> = Vec::new();
    let mut relationships: Vec<Relationship> = Vec::new();
    // Model-card dataset refs: the model's index and the ref.
    let mut pending_datasets: Vec<(usize, PendingDataset)> = Vec::new();

    let mut number = 0;
    let mut stack: Vec<(C, Option<usize>)> = bom
        .components
        .into_iter()
        .rev()
        .map(|c| (c, None))
        .collect();
    while let Some((nested, parent)) = stack.pop() {
        number += 1;
        let mut raw = match nested.read() {
            Ok(raw) => raw,
            Err(message) => {
                problems.push(problem(
                    source_name,
                    format!("component {number} cannot be read: {message}"),
                ));
                continue;
            }
        };
        let children = std::mem::take(&mut raw.components);
        let is_subject = raw
            .bom_ref
            .as_ref()
            .is_some_and(|r| bom.subject_refs.contains(r));
        let is_file = raw.kind.as_deref() == Some("file") && raw.purl.is_none();
        let is_lockfile = raw.purl.is_none()
            && raw.properties.iter().any(|p| {
                p.name == "aquasecurity:trivy:Class" && p.value.as_deref() == Some("lang-pkgs")
            });
        let mut converted = None;
        if is_lockfile {
            if let (Some(bom_ref), Some(name)) = (raw.bom_ref.take(), raw.name.as_deref()) {
                lockfiles.insert(bom_ref, properties::relative_path(name));
            }
        } else if !is_subject && !is_file {
            match convert_component(&raw, source_name) {
                Ok((mut component, contained_by)) => {
                    let index = components.len();
                    if let Some(card) = raw.model_card.take() {
                        let pending = model_card::apply(card, &mut component.metadata);
                        pending_datasets.extend(pending.into_iter().map(|p| (index, p)));
                    }
                    let id = ComponentId::of(&component);
                    if let Some(parent) = parent {
                        relationships.push(Relationship {
                            from: ids[parent].clone(),
                            kind: RelationshipKind::Contains,
                            to: id.clone(),
                        });
                    }
                    if let Some(bom_ref) = raw.bom_ref.take() {
                        index_by_ref.insert(bom_ref, index);
                    }
                    containers.extend(contained_by.into_iter().map(|c| (c, index)));
                    components.push(component);
                    ids.push(id);
                    converted = Some(index);
                }
                Err(message) => problems.push(problem(
                    source_name,
                    format!("{} {message}", describe(number, &raw)),
                )),
            }
        }
        drop(raw);
        stack.extend(children.into_iter().rev().map(|c| (c, converted)));
    }

    // The packages a Trivy lockfile component depends on were found in that file. Only
    // components with a purl take the location: a purl-less one's id includes its location.
    for dependency in &bom.dependencies {
        let Some(file) = lockfiles.get(&dependency.reference) else {
            continue;
        };
        for target in &dependency.depends_on {
            if let Some(&index) = index_by_ref.get(target)
                && components[index].purl.is_some()
            {
                let locations = &mut components[index].locations;
                if locations.len() == 1 && locations.iter().all(|l| l.path == source_name) {
                    locations.clear();
                }
                locations.insert(Location::new(file.as_str()));
            }
        }
    }

    for (container, index) in containers {
        if let Some(&from) = index_by_ref.get(&container) {
            relationships.push(Relationship {
                from: ids[from].clone(),
                kind: RelationshipKind::Contains,
                to: ids[index].clone(),
            });
        }
    }
    for dependency in &bom.dependencies {
        let Some(&from) = index_by_ref.get(&dependency.reference) else {
            continue;
        };
        for target in &dependency.depends_on {
            if let Some(&to) = index_by_ref.get(target) {
                relationships.push(Relationship {
                    from: ids[from].clone(),
                    kind: RelationshipKind::DependsOn,
                    to: ids[to].clone(),
                });
            }
        }
    }
    // A model card's dataset ref names a data component: the model depends on it, and the
    // dataset's name is that component's.
    for (index, dataset) in pending_datasets {
        let Some(&to) = index_by_ref.get(&dataset.reference) else {
            continue;
        };
        let name = components[to].name.clone();
        if let Metadata::Model(model) = &mut components[index].metadata
            && let Some(slot) = model.datasets.get_mut(dataset.position)
        {
            *slot = name;
        }
        relationships.push(Relationship {
            from: ids[index].clone(),
            kind: RelationshipKind::DependsOn,
            to: ids[to].clone(),
        });
    }
    drop(index_by_ref);
    drop(ids);

    Inventory::assemble(
        source_name.to_owned(),
        components,
        relationships,
        Vec::new(),
        problems,
    )
}

fn property_pairs<C>(raw: &RawComponent<C>) -> impl Iterator<Item = (&str, &str)> {
    raw.properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or_default()))
}

/// `component 3 (bom-ref `x`)`, or the name when there is no `bom-ref`.
fn describe<C>(number: usize, raw: &RawComponent<C>) -> String {
    match (&raw.bom_ref, &raw.name) {
        (Some(bom_ref), _) => format!("component {number} (bom-ref `{bom_ref}`)"),
        (None, Some(name)) => format!("component {number} (name `{name}`)"),
        (None, None) => format!("component {number}"),
    }
}

pub(super) fn problem(source_name: &str, message: String) -> Problem {
    Problem {
        path: source_name.to_owned(),
        line: None,
        cataloger: Some(FOUND_BY.to_owned()),
        message,
    }
}

/// A `bulwark:problem` property, written as `path[:line]: message`.
pub(super) fn parse_problem(text: &str, source_name: &str) -> Problem {
    let Some((place, message)) = text.split_once(": ") else {
        return problem(source_name, text.to_owned());
    };
    let (path, line) = match place.rsplit_once(':') {
        Some((path, line)) if line.parse::<u32>().is_ok() => (path, line.parse().ok()),
        _ => (place, None),
    };
    Problem {
        path: path.to_owned(),
        line,
        cataloger: None,
        message: message.to_owned(),
    }
}

/// Converts one component; also returns the `bom-ref`s of its containers.
fn convert_component<C>(
    raw: &RawComponent<C>,
    source_name: &str,
) -> Result<(Component, Vec<String>), String> {
    let identity: Option<Identity> = match raw.purl.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(
            purl::identify(text)
                .map_err(|e| format!("has a purl that does not parse: `{text}`: {e}"))?,
        ),
        _ => None,
    };
    let name = match &identity {
        Some(identity) => purl::display_name(identity, raw.name.as_deref(), raw.group.as_deref()),
        None => match raw.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => return Err("has neither a name nor a purl".to_owned()),
        },
    };
    let version = identity
        .as_ref()
        .and_then(|i| i.version.clone())
        .or_else(|| raw.version.clone())
        .filter(|v| !v.trim().is_empty());

    let Facts {
        kind,
        found_by,
        mut cpes,
        contained_by,
        source,
        metadata,
        gpu,
        locations: property_locations,
    } = properties::read(property_pairs(raw));
    let is_os_package = identity.as_ref().is_some_and(|i| i.is_os_package);
    let kind = kind.unwrap_or_else(|| component_kind(raw.kind.as_deref(), is_os_package));

    if let Some(cpe) = raw.cpe.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        cpes.insert(0, cpe.to_owned());
    }
    cpes.dedup();

    let mut locations: BTreeSet<Location> = BTreeSet::new();
    let mut also_known_as: Vec<Purl> = Vec::new();
    if let Some(evidence) = &raw.evidence {
        for occurrence in &evidence.occurrences {
            let Some(path) = occurrence
                .location
                .as_deref()
                .filter(|p| !p.trim().is_empty())
            else {
                continue;
            };
            let layer = occurrence
                .additional_context
                .as_deref()
                .and_then(|c| c.strip_prefix("layer "))
                .map(str::to_owned);
            locations.insert(Location {
                path: path.to_owned(),
                line: occurrence.line,
                layer,
            });
        }
        let identities = evidence
            .identity
            .as_ref()
            .map(|i| match i {
                OneOrMany::One(one) => std::slice::from_ref(one),
                OneOrMany::Many(many) => many.as_slice(),
            })
            .unwrap_or_default();
        for entry in identities {
            if entry.field.as_deref() != Some("purl") {
                continue;
            }
            let Some(alias) = entry
                .concluded_value
                .as_deref()
                .filter(|v| v.trim_start().starts_with("pkg:"))
                .and_then(|v| Purl::parse(v.trim()))
            else {
                continue;
            };
            if Some(&alias) != identity.as_ref().map(|i| &i.purl) && !also_known_as.contains(&alias)
            {
                also_known_as.push(alias);
            }
        }
    }
    locations.extend(property_locations);
    if locations.is_empty() {
        locations.insert(Location::new(source_name));
    }

    let hashes = raw
        .hashes
        .iter()
        .filter_map(|h| Hash::new(HashAlgorithm::from_name(&h.alg)?, &h.content))
        .collect();
    let mut licenses: Vec<License> = Vec::new();
    for choice in &raw.licenses {
        let license = if let Some(expression) = &choice.expression {
            expression_license(expression)
        } else if let Some(entry) = &choice.license {
            match (&entry.id, &entry.name) {
                (Some(id), _) if !id.trim().is_empty() => {
                    Some(License::Expression(id.trim().to_owned()))
                }
                (_, Some(name)) => License::from_declared(name),
                _ => None,
            }
        } else {
            None
        };
        if let Some(license) = license
            && !licenses.contains(&license)
        {
            licenses.push(license);
        }
    }

    let component = Component {
        kind,
        name,
        ecosystem: identity.as_ref().and_then(|i| i.ecosystem),
        version,
        purl: identity.map(|i| i.purl),
        also_known_as,
        cpes,
        locations: locations.into_iter().collect(),
        hashes,
        licenses,
        supplier: supplier(raw),
        description: raw.description.clone().filter(|d| !d.trim().is_empty()),
        scope: match raw.scope.as_deref() {
            Some("optional") => Scope::Optional,
            Some("excluded") => Scope::Development,
            _ => Scope::Required,
        },
        source,
        found_by: if found_by.is_empty() {
            SortedSet::from([FOUND_BY.to_owned()])
        } else {
            found_by.into_iter().collect()
        },
        files: Vec::new(),
        metadata,
        gpu,
    };
    Ok((component, contained_by))
}

/// An SPDX expression as written; one that does not parse is classified as a declaration.
pub(super) fn expression_license(expression: &str) -> Option<License> {
    let expression = expression.trim();
    if expression.is_empty() {
        return None;
    }
    if spdx::Expression::parse(expression).is_ok() {
        Some(License::Expression(expression.to_owned()))
    } else {
        License::from_declared(expression)
    }
}

fn component_kind(kind: Option<&str>, is_os_package: bool) -> ComponentKind {
    match kind {
        Some("application") => ComponentKind::Application,
        Some("operating-system") => ComponentKind::OperatingSystem,
        Some("device-driver" | "firmware") => ComponentKind::DeviceDriver,
        Some("machine-learning-model") => ComponentKind::MachineLearningModel,
        Some("data") => ComponentKind::Data,
        Some("container") => ComponentKind::Container,
        _ if is_os_package => ComponentKind::OsPackage,
        _ => ComponentKind::Library,
    }
}

fn supplier<C>(raw: &RawComponent<C>) -> Option<String> {
    let non_empty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(supplier) = &raw.supplier
        && let Some(name) = non_empty(&supplier.name)
    {
        let email = supplier.contact.iter().find_map(|c| non_empty(&c.email));
        return Some(match email {
            Some(email) if email != name => format!("{name} <{email}>"),
            _ => name,
        });
    }
    non_empty(&raw.author)
        .or_else(|| {
            raw.authors.iter().find_map(|a| {
                let name = non_empty(&a.name)?;
                Some(match non_empty(&a.email) {
                    Some(email) => format!("{name} <{email}>"),
                    None => name,
                })
            })
        })
        .or_else(|| non_empty(&raw.publisher))
}

/// Every `bom-ref` of `metadata.component` and the components nested in it.
pub(super) fn subject_refs<C: Nested>(subject: Option<RawComponent<C>>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut stack: Vec<RawComponent<C>> = subject.into_iter().collect();
    while let Some(mut component) = stack.pop() {
        if let Some(bom_ref) = component.bom_ref.take() {
            refs.insert(bom_ref);
        }
        stack.extend(
            std::mem::take(&mut component.components)
                .into_iter()
                .filter_map(|c| c.read().ok()),
        );
    }
    refs
}
