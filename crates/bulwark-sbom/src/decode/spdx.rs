//! SPDX 2.2 and 2.3 JSON.
//!
//! Mapping and decisions:
//! - Each entry of `packages` is a component; `files` and `snippets` are not (a file is where a
//!   package was found, not a thing with advisories).
//! - The first `externalRefs` entry of type `purl` is the identity; further purls become
//!   `also_known_as` (bulwark writes a conda package's PyPI name that way). `cpe23Type` and
//!   `cpe22Type` references are the CPEs.
//! - A package the document `DESCRIBES` that has neither purl nor version is the scanned target
//!   itself (Syft's directory, Trivy's filesystem, bulwark's root): it is left out, with its
//!   edges. A described package with a purl or a version (an application, an image, the SPDX
//!   example's glibc) is a component like any other. Trivy's
//!   lockfile packages (annotated `Class: lang-pkgs`, no purl) are left out too; their name becomes
//!   the location of the packages they contain.
//! - Relationships: `DEPENDS_ON` a→b is a depends on b; `DEPENDENCY_OF` (and `DEV_`, `BUILD_`,
//!   `RUNTIME_`, `OPTIONAL_DEPENDENCY_OF`) a→b is b depends on a; `CONTAINS` a→b is a contains
//!   b; `CONTAINED_BY` a→b is b contains a. Others (`DESCRIBES`, `OTHER`, `GENERATED_FROM`, ...)
//!   are not component edges.
//! - bulwark's model annotations (`bulwark:model:<fact>: <value>`) give a model's metadata.
//! - `licenseDeclared` is the license (`NOASSERTION` and `NONE` are none);
//!   `supplier`, else `originator`, is the supplier (`Person: Jane (jane@x)` → `Jane <jane@x>`).
//! - `primaryPackagePurpose` gives the kind (`APPLICATION`, `OPERATING_SYSTEM` (or the spec
//!   text's `OPERATING-SYSTEM`), `CONTAINER`,
//!   `FIRMWARE` and `DEVICE` → device driver; the rest → library, or an OS package for deb, rpm
//!   and apk purls); bulwark's own package comment (`bulwark kind: ...`) wins.
//! - Locations: bulwark's comment (`found at: a:3, b (layer L)`), Syft's `sourceInfo`
//!   (`acquired package info from ...: /a, /b`), Trivy's (`package found in: a`); else the
//!   SBOM file. Paths are split at `, `, so a path containing `, ` is misread; no real tool
//!   writes one in these fields.

use std::collections::{BTreeSet, HashMap, HashSet};

use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Hash, HashAlgorithm, Inventory, Location, Problem, Purl,
    Relationship, RelationshipKind, Scope, SortedSet,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::cyclonedx::{expression_license, parse_problem};
use super::properties::{self, kind_from_name, relative_path};
use super::purl::{self, Identity};
use super::{DecodeError, json_error};

const FOUND_BY: &str = "sbom/spdx";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: String,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    document_describes: Vec<String>,
    #[serde(default, borrow)]
    packages: Vec<&'a RawValue>,
    #[serde(default)]
    relationships: Vec<SpdxRelationship>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    supplier: Option<String>,
    #[serde(default)]
    originator: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    source_info: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    primary_package_purpose: Option<String>,
    #[serde(default)]
    checksums: Vec<Checksum>,
    #[serde(default)]
    external_refs: Vec<ExternalRef>,
    #[serde(default)]
    annotations: Vec<Annotation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
struct Annotation {
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

pub(super) fn decode(bytes: &[u8], source_name: &str) -> Result<Inventory, DecodeError> {
    let document: Document<'_> =
        serde_json::from_slice(bytes).map_err(json_error(source_name, "SPDX"))?;
    if !matches!(document.spdx_version.as_str(), "SPDX-2.2" | "SPDX-2.3") {
        return Err(DecodeError::UnsupportedVersion {
            source_name: source_name.to_owned(),
            format: "SPDX",
            version: document.spdx_version,
            supported: "SPDX 2.2 and 2.3 JSON are read",
        });
    }

    let mut problems: Vec<Problem> = document
        .comment
        .as_deref()
        .and_then(|c| c.strip_prefix("The scan is incomplete; bulwark could not read:\n"))
        .map(|lines| {
            lines
                .lines()
                .map(|l| parse_problem(l, source_name))
                .collect()
        })
        .unwrap_or_default();

    let mut described: HashSet<&str> = document
        .document_describes
        .iter()
        .map(String::as_str)
        .collect();
    for relationship in &document.relationships {
        match relationship.relationship_type.as_str() {
            "DESCRIBES" if relationship.spdx_element_id == DOCUMENT_ID => {
                described.insert(&relationship.related_spdx_element);
            }
            "DESCRIBED_BY" if relationship.related_spdx_element == DOCUMENT_ID => {
                described.insert(&relationship.spdx_element_id);
            }
            _ => {}
        }
    }

    // Read the packages; Trivy's lockfile packages are kept aside as locations.
    let mut packages: Vec<(usize, Package, Option<Identity>)> =
        Vec::with_capacity(document.packages.len());
    let mut lockfiles: HashMap<String, String> = HashMap::new();
    for (index, raw) in document.packages.iter().enumerate() {
        let number = index + 1;
        let package: Package = match serde_json::from_str(raw.get()) {
            Ok(package) => package,
            Err(error) => {
                problems.push(problem(
                    source_name,
                    format!("package {number} cannot be read: {error}"),
                ));
                continue;
            }
        };
        let purl_text = package
            .external_refs
            .iter()
            .find(|r| r.reference_type == "purl")
            .map(|r| r.reference_locator.trim());
        let identity = match purl_text {
            Some(text) => match purl::identify(text) {
                Ok(identity) => Some(identity),
                Err(error) => {
                    problems.push(problem(
                        source_name,
                        format!(
                            "package {number} (`{}`) has a purl that does not parse: `{text}`: {error}",
                            package.spdx_id
                        ),
                    ));
                    continue;
                }
            },
            None => None,
        };
        if identity.is_none() {
            let unversioned = package
                .version_info
                .as_deref()
                .is_none_or(|v| v.trim().is_empty() || v == "NOASSERTION");
            if unversioned && described.contains(package.spdx_id.as_str()) {
                continue;
            }
            let trivy_lockfile = package
                .annotations
                .iter()
                .any(|a| a.comment.as_deref() == Some("Class: lang-pkgs"));
            if trivy_lockfile {
                if let Some(name) = &package.name {
                    lockfiles.insert(package.spdx_id.clone(), relative_path(name));
                }
                continue;
            }
        }
        packages.push((number, package, identity));
    }

    let mut extra_locations: HashMap<&str, Vec<String>> = HashMap::new();
    for relationship in &document.relationships {
        if relationship.relationship_type == "CONTAINS"
            && let Some(file) = lockfiles.get(&relationship.spdx_element_id)
        {
            extra_locations
                .entry(relationship.related_spdx_element.as_str())
                .or_default()
                .push(file.clone());
        }
    }

    let mut ids: HashMap<String, ComponentId> = HashMap::with_capacity(packages.len());
    let mut components = Vec::with_capacity(packages.len());
    for (number, package, identity) in packages {
        let extra = extra_locations
            .get(package.spdx_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        match convert_package(&package, identity, source_name, extra) {
            Ok(component) => {
                ids.insert(package.spdx_id.clone(), ComponentId::of(&component));
                components.push(component);
            }
            Err(message) => problems.push(problem(
                source_name,
                format!("package {number} (`{}`) {message}", package.spdx_id),
            )),
        }
    }

    let mut relationships = Vec::new();
    for relationship in &document.relationships {
        let (a, b) = (
            &relationship.spdx_element_id,
            &relationship.related_spdx_element,
        );
        let (from, kind, to) = match relationship.relationship_type.as_str() {
            "DEPENDS_ON" => (a, RelationshipKind::DependsOn, b),
            "DEPENDENCY_OF"
            | "DEV_DEPENDENCY_OF"
            | "BUILD_DEPENDENCY_OF"
            | "RUNTIME_DEPENDENCY_OF"
            | "OPTIONAL_DEPENDENCY_OF" => (b, RelationshipKind::DependsOn, a),
            "CONTAINS" => (a, RelationshipKind::Contains, b),
            "CONTAINED_BY" => (b, RelationshipKind::Contains, a),
            _ => continue,
        };
        if let (Some(from), Some(to)) = (ids.get(from), ids.get(to)) {
            relationships.push(Relationship {
                from: from.clone(),
                kind,
                to: to.clone(),
            });
        }
    }

    Ok(Inventory::assemble(
        source_name.to_owned(),
        components,
        relationships,
        Vec::new(),
        problems,
    ))
}

fn problem(source_name: &str, message: String) -> Problem {
    Problem {
        path: source_name.to_owned(),
        line: None,
        cataloger: Some(FOUND_BY.to_owned()),
        message,
    }
}

fn convert_package(
    package: &Package,
    identity: Option<Identity>,
    source_name: &str,
    extra_locations: &[String],
) -> Result<Component, String> {
    let name = match &identity {
        Some(identity) => purl::display_name(identity, package.name.as_deref(), None),
        None => match package
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(name) => name.to_owned(),
            None => return Err("has neither a name nor a purl".to_owned()),
        },
    };
    let version = identity
        .as_ref()
        .and_then(|i| i.version.clone())
        .or_else(|| {
            package
                .version_info
                .clone()
                .filter(|v| !v.trim().is_empty() && v != "NOASSERTION")
        });

    let mut also_known_as: Vec<Purl> = Vec::new();
    let mut cpes: Vec<String> = Vec::new();
    for reference in &package.external_refs {
        let locator = reference.reference_locator.trim();
        match reference.reference_type.as_str() {
            "purl" => {
                if let Some(alias) = Purl::parse(locator)
                    && Some(&alias) != identity.as_ref().map(|i| &i.purl)
                    && !also_known_as.contains(&alias)
                {
                    also_known_as.push(alias);
                }
            }
            "cpe23Type" | "cpe22Type"
                if !locator.is_empty() && !cpes.iter().any(|c| c == locator) =>
            {
                cpes.push(locator.to_owned());
            }
            _ => {}
        }
    }

    let (bulwark_kind, mut locations, malformed_cpes) = read_comment(package.comment.as_deref());
    cpes.extend(malformed_cpes);
    locations.extend(source_info_locations(package.source_info.as_deref()));
    locations.extend(extra_locations.iter().map(Location::new));
    if locations.is_empty() {
        locations.insert(Location::new(source_name));
    }

    let is_os_package = identity.as_ref().is_some_and(|i| i.is_os_package);
    let kind = bulwark_kind.unwrap_or(match package.primary_package_purpose.as_deref() {
        Some("APPLICATION") => ComponentKind::Application,
        Some("OPERATING-SYSTEM" | "OPERATING_SYSTEM") => ComponentKind::OperatingSystem,
        Some("CONTAINER") => ComponentKind::Container,
        Some("FIRMWARE" | "DEVICE") => ComponentKind::DeviceDriver,
        _ if is_os_package => ComponentKind::OsPackage,
        _ => ComponentKind::Library,
    });

    let licenses = package
        .license_declared
        .as_deref()
        .filter(|l| !matches!(l.trim(), "NOASSERTION" | "NONE"))
        .and_then(expression_license)
        .into_iter()
        .collect();
    let hashes = package
        .checksums
        .iter()
        .filter_map(|c| Hash::new(HashAlgorithm::from_name(&c.algorithm)?, &c.checksum_value))
        .collect();
    let supplier = [&package.supplier, &package.originator]
        .into_iter()
        .find_map(|s| s.as_deref().and_then(spdx_agent));

    Ok(Component {
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
        supplier,
        description: package.description.clone().filter(|d| !d.trim().is_empty()),
        scope: Scope::Required,
        source: None,
        found_by: SortedSet::from([FOUND_BY.to_owned()]),
        files: Vec::new(),
        metadata: model_metadata(&package.annotations),
        gpu: None,
    })
}

/// The model facts bulwark writes as annotations (`bulwark:model:format: gguf`, see
/// [`crate::spdx_json`]), read like the CycloneDX properties of the same names. Other
/// annotations (Trivy's `PkgType: pip`) are not model facts.
fn model_metadata(annotations: &[Annotation]) -> bulwark_inventory::Metadata {
    let pairs = annotations
        .iter()
        .filter_map(|a| a.comment.as_deref())
        .filter(|c| c.starts_with("bulwark:model:"))
        .filter_map(|c| c.split_once(": "));
    match properties::read(pairs).metadata {
        model @ bulwark_inventory::Metadata::Model(_) => model,
        _ => bulwark_inventory::Metadata::None,
    }
}

/// `Person: Jane Doe (jane@x)` → `Jane Doe <jane@x>`; `Organization: X` → `X`; `NOASSERTION`
/// → none.
fn spdx_agent(text: &str) -> Option<String> {
    let text = text.trim();
    let rest = text
        .strip_prefix("Person:")
        .or_else(|| text.strip_prefix("Organization:"))
        .or_else(|| text.strip_prefix("Tool:"))?
        .trim();
    if rest.is_empty() || rest == "NOASSERTION" {
        return None;
    }
    if let Some((name, email)) = rest.strip_suffix(')').and_then(|r| r.rsplit_once('(')) {
        let (name, email) = (name.trim(), email.trim());
        return Some(match (name.is_empty(), email.is_empty()) {
            (_, true) => name.to_owned(),
            (true, false) => email.to_owned(),
            (false, false) => format!("{name} <{email}>"),
        });
    }
    Some(rest.to_owned())
}

/// bulwark's package comment: `bulwark kind: K; found at: a:3, b (layer L); malformed CPE: ...`.
/// Returns the kind, the locations and the CPEs SPDX has no reference type for.
fn read_comment(comment: Option<&str>) -> (Option<ComponentKind>, BTreeSet<Location>, Vec<String>) {
    let mut locations = BTreeSet::new();
    let mut cpes = Vec::new();
    let Some(rest) = comment.and_then(|c| c.strip_prefix("bulwark kind: ")) else {
        return (None, locations, cpes);
    };
    let mut parts = rest.split("; ");
    let kind = parts.next().and_then(kind_from_name);
    for part in parts {
        if let Some(malformed) = part.strip_prefix("malformed CPE: ") {
            cpes.extend(malformed.split(", ").map(str::to_owned));
            continue;
        }
        let Some(found_at) = part.strip_prefix("found at: ") else {
            continue;
        };
        for entry in found_at.split(", ") {
            let (entry, layer) = match entry
                .strip_suffix(')')
                .and_then(|e| e.rsplit_once(" (layer "))
            {
                Some((entry, layer)) => (entry, Some(layer.to_owned())),
                None => (entry, None),
            };
            let (path, line) = match entry.rsplit_once(':') {
                Some((path, line))
                    if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    (path, line.parse().ok())
                }
                _ => (entry, None),
            };
            locations.insert(Location {
                path: path.to_owned(),
                line,
                layer,
            });
        }
    }
    (kind, locations, cpes)
}

/// Locations in Syft's and Trivy's `sourceInfo`.
fn source_info_locations(source_info: Option<&str>) -> Vec<Location> {
    let Some(info) = source_info.map(str::trim) else {
        return Vec::new();
    };
    let paths = if let Some(rest) = info.strip_prefix("acquired package info from ") {
        rest.split_once(": ").map(|(_, paths)| paths)
    } else {
        info.strip_prefix("package found in: ")
    };
    paths
        .into_iter()
        .flat_map(|paths| paths.split(", "))
        .filter(|p| !p.trim().is_empty())
        .map(|p| Location::new(relative_path(p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents() {
        assert_eq!(
            spdx_agent("Person: Kim Davies (kim@x.invalid)").as_deref(),
            Some("Kim Davies <kim@x.invalid>")
        );
        assert_eq!(
            spdx_agent("Organization: NVIDIA Corporation").as_deref(),
            Some("NVIDIA Corporation")
        );
        assert_eq!(spdx_agent("Person: Jane ()").as_deref(), Some("Jane"));
        assert_eq!(spdx_agent("NOASSERTION"), None);
    }

    #[test]
    fn bulwark_comments() {
        let (kind, locations, cpes) = read_comment(Some(
            "bulwark kind: gpu-library; found at: a/b.txt:3, c d (layer sha256:x); malformed CPE: q",
        ));
        assert_eq!(kind, Some(ComponentKind::GpuLibrary));
        assert_eq!(cpes, ["q"]);
        let expected = BTreeSet::from([
            Location::new("a/b.txt").at_line(3),
            Location {
                path: "c d".into(),
                line: None,
                layer: Some("sha256:x".into()),
            },
        ]);
        assert_eq!(locations, expected);
    }

    #[test]
    fn source_infos() {
        assert_eq!(
            source_info_locations(Some(
                "acquired package info from installed python package manifest file: /a/METADATA, /a/RECORD"
            )),
            [Location::new("a/METADATA"), Location::new("a/RECORD")]
        );
        assert_eq!(
            source_info_locations(Some("package found in: requirements.txt")),
            [Location::new("requirements.txt")]
        );
        assert!(source_info_locations(Some("built from source")).is_empty());
    }
}
