//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).
//!
//! Decisions and traps:
//! - The target is a root package (`SPDXRef-Root-…`) the document `DESCRIBES`; it `CONTAINS`
//!   every component no other component depends on or contains, so every package is reachable
//!   from the described one. `depends-on` and `contains` edges become `DEPENDS_ON` and
//!   `CONTAINS`.
//! - `SPDXID`s allow only `[A-Za-z0-9.-]` after `SPDXRef-`: package ids are the sanitized name
//!   plus twelve hex digits of the component id, so two components whose names sanitize alike
//!   stay apart.
//! - `documentNamespace` must be a unique absolute URI. It is built on the reserved
//!   `bulwark.invalid` host (no real server is implied) from the target name and a UUID v5 of
//!   the document without its creation time: the same inventory gives the same namespace.
//! - `licenseDeclared` holds one expression: several declared licenses are joined with `AND`,
//!   compound ones in parentheses; a name becomes `LicenseRef-<sanitized>` (plus a digest when
//!   sanitizing lost characters) with a `hasExtractedLicensingInfos` entry, as must every
//!   `LicenseRef-` an expression already used. `licenseConcluded` and `copyrightText` are
//!   `NOASSERTION`: bulwark reads declarations, it does not conclude.
//! - `supplier` must be `Person: …` or `Organization: …`. The source only says "author or
//!   maintainer", so a value with an email address (`Jane <jane@…>`) is taken as a person and
//!   anything else as an organization; an email moves into the parentheses SPDX expects.
//! - `downloadLocation` is `NOASSERTION` unless the package came from a URL or a VCS
//!   (`git+https://…@commit`); `filesAnalyzed` is false since installed files are not listed.
//! - Locations, the bulwark kind and malformed CPEs go into the package `comment`; SPDX 2.3 has no place for
//!   typed properties, which CycloneDX carries.
//! - `primaryPackagePurpose`: library, GPU library and OS package → `LIBRARY`; application →
//!   `APPLICATION`; operating system → `OPERATING_SYSTEM` (the JSON schema's spelling; the spec
//!   text writes `OPERATING-SYSTEM`, which the schema rejects); container → `CONTAINER`; device
//!   driver, model and data → `OTHER`. SPDX 2.3 has no AI or dataset purpose (those arrive with
//!   SPDX 3's AI and Dataset profiles), `DEVICE` means hardware and `FILE` would claim the
//!   package is one file, which a sharded checkpoint or a dataset is not. The kind is in the
//!   comment (`bulwark kind: machine-learning-model` or `data`).
//! - A model's facts (format, architecture, task, parameters, dtypes, quantization, context
//!   length, base models, datasets, inputs, outputs, repository, revision, files,
//!   considerations, format-specific facts) are package `annotations` of type `OTHER` by
//!   `Tool: bulwark-<version>`, one per fact, each comment `<name>: <value>` with the name of
//!   the CycloneDX property that carries the fact (`bulwark:model:format: gguf`). One fact per
//!   annotation keeps them parseable without a grammar (the name ends at the first `": "`; a
//!   value may hold anything, newlines included), and is the form Trivy uses for its package
//!   facts. `attributionTexts` is meant for acknowledgements and the single `comment` would
//!   need escaping. The annotation date is the document's creation time. A model's datasets
//!   that are components are also `DEPENDS_ON` targets, like any depends-on edge.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Inventory, License, Metadata, PackageSource,
    RelationshipKind,
};
use serde::Serialize;

use crate::common::{self};
use crate::{EncodeError, EncodeOptions};

const NOASSERTION: &str = "NOASSERTION";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    packages: Vec<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    /// Filled in with the creation time after the namespace digest is taken.
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

pub(crate) fn encode(
    inventory: &Inventory,
    options: &EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    let name = crate::cyclonedx::target_name(inventory);
    let root_id = format!("SPDXRef-Root-{}", sanitize_id(&name, 64));
    let ids = package_ids(inventory, &root_id);
    let mut extracted = ExtractedLicenses::default();

    let mut packages = vec![Package {
        name: name.clone(),
        spdx_id: root_id.clone(),
        version_info: None,
        supplier: NOASSERTION.to_owned(),
        download_location: NOASSERTION.to_owned(),
        files_analyzed: false,
        checksums: Vec::new(),
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION,
        description: None,
        comment: Some("The scanned target.".to_owned()),
        external_refs: Vec::new(),
        primary_package_purpose: "APPLICATION",
        annotations: Vec::new(),
    }];
    let annotator = format!("Tool: {}-{}", options.tool_name, options.tool_version);
    for (component, spdx_id) in inventory.components.iter().zip(&ids.in_order) {
        let mut package = convert_package(component, spdx_id.clone(), &mut extracted);
        if let Metadata::Model(model) = &component.metadata {
            package.annotations = common::model_properties(model)
                .into_iter()
                .map(|(name, value)| Annotation {
                    annotation_date: String::new(),
                    annotation_type: "OTHER",
                    annotator: annotator.clone(),
                    comment: format!("{name}: {value}"),
                })
                .collect();
        }
        packages.push(package);
    }

    let mut relationships = vec![Relationship {
        spdx_element_id: DOCUMENT_ID.to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: root_id.clone(),
    }];
    let roots = common::roots(
        inventory,
        &[RelationshipKind::DependsOn, RelationshipKind::Contains],
    );
    let mut root_ids: BTreeSet<&str> = BTreeSet::new();
    for component in roots {
        if let Some(id) = ids.by_id.get(&ComponentId::of(component)) {
            root_ids.insert(id);
        }
    }
    relationships.extend(root_ids.into_iter().map(|id| Relationship {
        spdx_element_id: root_id.clone(),
        relationship_type: "CONTAINS",
        related_spdx_element: id.to_owned(),
    }));
    for relationship in &inventory.relationships {
        let (Some(from), Some(to)) = (
            ids.by_id.get(&relationship.from),
            ids.by_id.get(&relationship.to),
        ) else {
            continue;
        };
        if from == to {
            continue;
        }
        relationships.push(Relationship {
            spdx_element_id: from.clone(),
            relationship_type: match relationship.kind {
                RelationshipKind::DependsOn => "DEPENDS_ON",
                RelationshipKind::Contains => "CONTAINS",
            },
            related_spdx_element: to.clone(),
        });
    }

    let mut document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: name.clone(),
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created: String::new(),
            creators: vec![format!(
                "Tool: {}-{}",
                options.tool_name, options.tool_version
            )],
        },
        comment: problems_comment(inventory),
        packages,
        has_extracted_licensing_infos: extracted.into_infos(),
        relationships,
    };

    // The namespace is derived from everything but the creation time (and itself).
    let content = serde_json::to_vec(&document)?;
    document.document_namespace = format!(
        "https://bulwark.invalid/spdxdocs/{}-{}",
        sanitize_id(&name, 64),
        common::content_uuid("spdx", &content)
    );
    let created = options.timestamp_utc()?;
    for package in &mut document.packages {
        for annotation in &mut package.annotations {
            annotation.annotation_date.clone_from(&created);
        }
    }
    document.creation_info.created = created;

    let mut out = serde_json::to_vec_pretty(&document)?;
    out.push(b'\n');
    Ok(out)
}

fn problems_comment(inventory: &Inventory) -> Option<String> {
    if inventory.problems.is_empty() {
        return None;
    }
    let lines: Vec<String> = inventory.problems.iter().map(ToString::to_string).collect();
    Some(format!(
        "The scan is incomplete; bulwark could not read:\n{}",
        lines.join("\n")
    ))
}

/// SPDX ids of the components, unique in the document.
struct PackageIds {
    by_id: BTreeMap<ComponentId, String>,
    in_order: Vec<String>,
}

fn package_ids(inventory: &Inventory, root_id: &str) -> PackageIds {
    let mut used: BTreeSet<String> = BTreeSet::from([DOCUMENT_ID.to_owned(), root_id.to_owned()]);
    let mut by_id = BTreeMap::new();
    let mut in_order = Vec::with_capacity(inventory.components.len());
    for component in &inventory.components {
        let id = ComponentId::of(component);
        let base = format!(
            "SPDXRef-Package-{}-{}",
            sanitize_id(&component.name, 64),
            common::short_digest(id.as_str())
        );
        let mut candidate = base.clone();
        let mut counter = 1;
        while used.contains(&candidate) {
            counter += 1;
            candidate = format!("{base}-{counter}");
        }
        used.insert(candidate.clone());
        by_id.entry(id).or_insert_with(|| candidate.clone());
        in_order.push(candidate);
    }
    PackageIds { by_id, in_order }
}

/// Keeps `[A-Za-z0-9.-]`, turns every other run into one `-`, and cuts at `max` characters.
fn sanitize_id(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        if out.len() >= max {
            break;
        }
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "unnamed".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn convert_package(
    component: &Component,
    spdx_id: String,
    extracted: &mut ExtractedLicenses,
) -> Package {
    let mut external_refs = Vec::new();
    for purl in component.purl.iter().chain(&component.also_known_as) {
        external_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: purl.as_str().to_owned(),
        });
    }
    let mut malformed_cpes = Vec::new();
    for cpe in &component.cpes {
        let reference_type = if common::is_cpe23(cpe) {
            "cpe23Type"
        } else if common::is_valid_cpe(cpe) {
            "cpe22Type"
        } else {
            // Not a well-formed CPE: a SECURITY reference would be rejected, an OTHER one may
            // not contain spaces. The comment keeps it.
            malformed_cpes.push(cpe.as_str());
            continue;
        };
        external_refs.push(ExternalRef {
            reference_category: "SECURITY",
            reference_type,
            reference_locator: cpe.clone(),
        });
    }

    let locations: Vec<String> = component
        .locations
        .iter()
        .map(|location| {
            let mut text = location.path.clone();
            if let Some(line) = location.line {
                text.push_str(&format!(":{line}"));
            }
            if let Some(layer) = &location.layer {
                text.push_str(&format!(" (layer {layer})"));
            }
            text
        })
        .collect();
    let mut comment = format!("bulwark kind: {}", common::kind_name(component.kind));
    if !locations.is_empty() {
        comment.push_str(&format!("; found at: {}", locations.join(", ")));
    }
    if !malformed_cpes.is_empty() {
        comment.push_str(&format!("; malformed CPE: {}", malformed_cpes.join(", ")));
    }

    Package {
        name: component.name.clone(),
        spdx_id,
        version_info: component.version.clone().filter(|v| !v.is_empty()),
        supplier: supplier(component.supplier.as_deref()),
        download_location: download_location(component.source.as_ref()),
        files_analyzed: false,
        checksums: component
            .hashes
            .iter()
            .map(|hash| Checksum {
                algorithm: hash.algorithm.spdx_name(),
                checksum_value: hash.value.clone(),
            })
            .collect(),
        license_concluded: NOASSERTION,
        license_declared: extracted.declared(&component.licenses),
        copyright_text: NOASSERTION,
        description: component
            .description
            .as_deref()
            .map(common::one_line)
            .filter(|d| !d.is_empty()),
        comment: Some(comment),
        external_refs,
        primary_package_purpose: purpose(component.kind),
        annotations: Vec::new(),
    }
}

pub(crate) const fn purpose(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Library | ComponentKind::GpuLibrary | ComponentKind::OsPackage => "LIBRARY",
        ComponentKind::Application => "APPLICATION",
        ComponentKind::OperatingSystem => "OPERATING_SYSTEM",
        ComponentKind::Container => "CONTAINER",
        ComponentKind::DeviceDriver | ComponentKind::MachineLearningModel | ComponentKind::Data => {
            "OTHER"
        }
    }
}

/// `Person: Name (email)` when the declaration has an email address, else
/// `Organization: Name`; `NOASSERTION` when unknown.
fn supplier(declared: Option<&str>) -> String {
    let Some((name, email)) = declared
        .map(common::split_contact)
        .filter(|(name, _)| !name.is_empty())
    else {
        return NOASSERTION.to_owned();
    };
    // Parentheses in the name would be read as the email part.
    let name = name.replace(['(', ')'], "");
    match email {
        Some(email) => format!("Person: {name} ({email})"),
        None => format!("Organization: {name}"),
    }
}

fn download_location(source: Option<&PackageSource>) -> String {
    let location = match source {
        Some(PackageSource::Url { url }) => url.clone(),
        Some(PackageSource::Vcs {
            vcs,
            url,
            requested_revision,
            commit,
        }) => {
            let mut location = if url.starts_with(&format!("{vcs}+")) {
                url.clone()
            } else {
                format!("{vcs}+{url}")
            };
            if let Some(revision) = commit.as_ref().or(requested_revision.as_ref()) {
                location.push('@');
                location.push_str(revision);
            }
            location
        }
        Some(PackageSource::Registry { .. } | PackageSource::Path { .. }) | None => {
            return NOASSERTION.to_owned();
        }
    };
    if common::is_absolute_url(&location) {
        location
    } else {
        NOASSERTION.to_owned()
    }
}

/// License references made up for declared names, and those expressions already used.
#[derive(Default)]
struct ExtractedLicenses {
    /// License ref → (name, extracted text).
    infos: BTreeMap<String, (String, String)>,
}

impl ExtractedLicenses {
    /// The `licenseDeclared` value for `licenses`.
    fn declared(&mut self, licenses: &[License]) -> String {
        let parts: Vec<String> = licenses
            .iter()
            .map(|license| match license {
                License::Expression(expression) => {
                    self.note_references(expression);
                    let compound = expression.contains(' ');
                    if compound && licenses.len() > 1 {
                        format!("({expression})")
                    } else {
                        expression.clone()
                    }
                }
                License::Name(name) => self.reference_for_name(name),
            })
            .collect();
        if parts.is_empty() {
            NOASSERTION.to_owned()
        } else {
            parts.join(" AND ")
        }
    }

    fn reference_for_name(&mut self, name: &str) -> String {
        let sanitized = sanitize_id(name, 48);
        let reference = if sanitized == name {
            format!("LicenseRef-{sanitized}")
        } else {
            format!("LicenseRef-{sanitized}-{}", common::short_digest(name))
        };
        self.infos.entry(reference.clone()).or_insert_with(|| {
            (
                name.to_owned(),
                format!("The package declares the license by name only: {name}"),
            )
        });
        reference
    }

    /// Every `LicenseRef-` in an expression needs an extracted-licensing entry.
    fn note_references(&mut self, expression: &str) {
        for token in expression.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            if token.starts_with("LicenseRef-") {
                self.infos.entry(token.to_owned()).or_insert_with(|| {
                    (
                        token.trim_start_matches("LicenseRef-").to_owned(),
                        format!(
                            "The package declares the license reference {token} without its text"
                        ),
                    )
                });
            }
        }
    }

    fn into_infos(self) -> Vec<ExtractedLicense> {
        self.infos
            .into_iter()
            .map(|(license_id, (name, extracted_text))| ExtractedLicense {
                license_id,
                extracted_text,
                name,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppliers() {
        assert_eq!(supplier(None), "NOASSERTION");
        assert_eq!(
            supplier(Some("Jane Doe <jane@example.invalid>")),
            "Person: Jane Doe (jane@example.invalid)"
        );
        assert_eq!(
            supplier(Some("NVIDIA Corporation")),
            "Organization: NVIDIA Corporation"
        );
        assert_eq!(supplier(Some("Meta (FAIR)")), "Organization: Meta FAIR");
    }

    #[test]
    fn ids_are_sanitized() {
        assert_eq!(sanitize_id("torch_2.2+cu121 <x>", 64), "torch-2.2-cu121-x");
        assert_eq!(sanitize_id("___", 64), "unnamed");
    }

    #[test]
    fn declared_licenses() {
        let mut extracted = ExtractedLicenses::default();
        assert_eq!(extracted.declared(&[]), "NOASSERTION");
        assert_eq!(
            extracted.declared(&[
                License::Expression("MIT OR Apache-2.0".into()),
                License::Name("BSD".into()),
            ]),
            "(MIT OR Apache-2.0) AND LicenseRef-BSD"
        );
        assert_eq!(
            extracted.declared(&[License::Expression("LicenseRef-Proprietary".into())]),
            "LicenseRef-Proprietary"
        );
        let infos = extracted.into_infos();
        let ids: Vec<&str> = infos.iter().map(|i| i.license_id.as_str()).collect();
        assert_eq!(ids, ["LicenseRef-BSD", "LicenseRef-Proprietary"]);
    }
}
