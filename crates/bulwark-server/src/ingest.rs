//! From uploaded bytes to what the store keeps: format detection, schema validation,
//! decoding into an inventory, matching against the vulnerability database, and the rows of a
//! snapshot. The same path re-evaluates a stored document after a database update.

use std::collections::HashMap;

use bulwark_inventory::{ArtifactSeverity, Component, ComponentId, Inventory, Metadata};
use bulwark_match::{MatchOptions, MatchReport};
use bulwark_store::{FindingKind, NewComponent, NewFinding, SbomFormat, Severity};
use bulwark_vulndb::Database;

use crate::error::ApiError;
use crate::schema;

/// A document decoded and matched, ready to become a snapshot.
#[derive(Debug)]
pub(crate) struct Evaluated {
    /// The document's format.
    pub(crate) format: SbomFormat,
    /// Its components, one row each, with unique references.
    pub(crate) components: Vec<NewComponent>,
    /// Vulnerabilities of those components, and unsafe-artifact findings the document carries.
    pub(crate) findings: Vec<NewFinding>,
}

/// Tells the format from the content: XML is CycloneDX; JSON by its marker field.
pub(crate) fn detect_format(bytes: &[u8]) -> Result<SbomFormat, ApiError> {
    let head = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&bytes[..0], |start| &bytes[start..]);
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.first() {
        Some(b'<') => Ok(SbomFormat::CycloneDxXml),
        Some(b'{') => {
            let window = &head[..head.len().min(64 * 1024)];
            let text = String::from_utf8_lossy(window);
            if text.contains("\"bomFormat\"") {
                Ok(SbomFormat::CycloneDxJson)
            } else if text.contains("\"spdxVersion\"") || text.contains("\"@context\"") {
                Ok(SbomFormat::SpdxJson)
            } else {
                // Field order is free; decide on the whole document.
                let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
                    ApiError::unprocessable(format!("the document is not valid JSON: {e}"), vec![])
                })?;
                if value.get("bomFormat").is_some() {
                    Ok(SbomFormat::CycloneDxJson)
                } else if value.get("spdxVersion").is_some() {
                    Ok(SbomFormat::SpdxJson)
                } else {
                    Err(not_an_sbom())
                }
            }
        }
        None => Err(ApiError::unprocessable("the document is empty", vec![])),
        _ => Err(not_an_sbom()),
    }
}

fn not_an_sbom() -> ApiError {
    ApiError::unprocessable(
        "the document is neither CycloneDX (JSON or XML) nor SPDX JSON",
        vec![],
    )
}

/// Validates (JSON formats, against the official schema) and decodes a document.
pub(crate) fn decode(bytes: &[u8], name: &str) -> Result<(SbomFormat, Inventory), ApiError> {
    let format = detect_format(bytes)?;
    if format != SbomFormat::CycloneDxXml {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::unprocessable(format!("the document is not valid JSON: {e}"), vec![])
        })?;
        if let Err(errors) = schema::validate(&value) {
            return Err(ApiError::unprocessable(
                format!(
                    "the {} document does not conform to its schema",
                    format.as_str()
                ),
                errors,
            ));
        }
    }
    let mut inventory = bulwark_sbom::decode(bytes, name)
        .map_err(|e| ApiError::unprocessable(e.to_string(), vec![]))?;
    bulwark_gpu::annotate(&mut inventory);
    Ok((format, inventory))
}

/// Decodes, matches and turns a document into snapshot rows.
pub(crate) fn evaluate(
    bytes: &[u8],
    name: &str,
    db: Option<&Database>,
) -> Result<Evaluated, ApiError> {
    let (format, inventory) = decode(bytes, name)?;
    let report = match_report(&inventory, db)?;
    let (components, refs) = component_rows(&inventory);
    let mut findings = vulnerability_rows(&report, &refs);
    findings.extend(artifact_rows(&inventory, &refs));
    findings.extend(embedded_artifact_findings(bytes, format, &inventory, &refs));
    Ok(Evaluated {
        format,
        components,
        findings,
    })
}

/// Matches an inventory; without a database there is nothing to match (an empty report).
pub(crate) fn match_report(
    inventory: &Inventory,
    db: Option<&Database>,
) -> Result<MatchReport, ApiError> {
    let Some(db) = db else {
        return Ok(MatchReport::default());
    };
    bulwark_match::match_inventory(inventory, db, &MatchOptions::default())
        .map_err(|e| ApiError::internal("matching against the vulnerability database", &e))
}

/// One row per component, with a reference unique in the snapshot: the inventory's component
/// id, suffixed when two components share one. Returns the id → reference map as well.
fn component_rows(inventory: &Inventory) -> (Vec<NewComponent>, HashMap<String, String>) {
    let mut rows = Vec::with_capacity(inventory.components.len());
    let mut refs = HashMap::with_capacity(inventory.components.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for component in &inventory.components {
        let id = ComponentId::of(component).as_str().to_owned();
        let n = seen.entry(id.clone()).or_insert(0);
        *n += 1;
        let bom_ref = if *n == 1 {
            id.clone()
        } else {
            format!("{id}#{n}")
        };
        refs.entry(id).or_insert_with(|| bom_ref.clone());
        rows.push(component_row(component, bom_ref));
    }
    (rows, refs)
}

fn component_row(component: &Component, bom_ref: String) -> NewComponent {
    let kind = serde_json::to_value(component.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "library".to_owned());
    let model = match &component.metadata {
        Metadata::Model(info) => serde_json::to_value(info).ok(),
        _ => None,
    };
    NewComponent {
        bom_ref,
        purl: component.purl.as_ref().map(|p| p.as_str().to_owned()),
        name: component.name.clone(),
        version: component.version.clone(),
        ecosystem: component.ecosystem.map(|e| e.as_str().to_owned()),
        kind,
        gpu: component
            .gpu
            .as_ref()
            .and_then(|g| serde_json::to_value(g).ok()),
        model,
    }
}

/// bulwark's severity scale as the store keeps it.
pub(crate) fn store_severity(severity: bulwark_match::Severity) -> Severity {
    match severity {
        bulwark_match::Severity::Critical => Severity::Critical,
        bulwark_match::Severity::High => Severity::High,
        bulwark_match::Severity::Medium => Severity::Medium,
        bulwark_match::Severity::Low => Severity::Low,
        _ => Severity::Unknown,
    }
}

fn artifact_severity(severity: ArtifactSeverity) -> Severity {
    match severity {
        ArtifactSeverity::Critical => Severity::Critical,
        ArtifactSeverity::High => Severity::High,
        ArtifactSeverity::Medium => Severity::Medium,
        ArtifactSeverity::Low => Severity::Low,
    }
}

fn vulnerability_rows(report: &MatchReport, refs: &HashMap<String, String>) -> Vec<NewFinding> {
    let mut rows = Vec::with_capacity(report.findings.len());
    for finding in &report.findings {
        for component in &finding.components {
            let Some(bom_ref) = refs.get(component) else {
                continue;
            };
            rows.push(NewFinding {
                id: finding.id.clone(),
                kind: FindingKind::Vulnerability,
                aliases: finding.aliases.clone(),
                severity: store_severity(finding.severity),
                title: finding.summary.clone(),
                component_ref: bom_ref.clone(),
            });
        }
    }
    rows
}

/// Artifact findings an inventory holds (a target scanned by `bulwark push`), attached to the
/// model component at the same path.
fn artifact_rows(inventory: &Inventory, refs: &HashMap<String, String>) -> Vec<NewFinding> {
    let mut rows = Vec::new();
    for finding in &inventory.findings {
        let Some(component) = inventory
            .components
            .iter()
            .find(|c| c.locations.iter().any(|l| l.path.as_str() == finding.path))
        else {
            continue;
        };
        let Some(bom_ref) = refs.get(ComponentId::of(component).as_str()) else {
            continue;
        };
        rows.push(NewFinding {
            id: finding.id.clone(),
            kind: FindingKind::Artifact,
            aliases: Vec::new(),
            severity: artifact_severity(finding.severity),
            title: Some(finding.message.clone()),
            component_ref: bom_ref.clone(),
        });
    }
    rows
}

/// Model-file findings that `bulwark scan -o cyclonedx-json` writes into a CycloneDX
/// document's `vulnerabilities` (ids `BWM-…`, source `bulwark`): they cannot be recomputed
/// from an SBOM, so they are kept as the scanner reported them. Each `affects` ref is the
/// component's purl or name@version as the document gives it.
fn embedded_artifact_findings(
    bytes: &[u8],
    format: SbomFormat,
    inventory: &Inventory,
    refs: &HashMap<String, String>,
) -> Vec<NewFinding> {
    if format != SbomFormat::CycloneDxJson {
        return Vec::new();
    }
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let Some(vulnerabilities) = document.get("vulnerabilities").and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    // bom-ref → (name, purl) of the document's components, to find the inventory component.
    let mut by_ref: HashMap<&str, (&str, Option<&str>)> = HashMap::new();
    let mut stack: Vec<&serde_json::Value> = document
        .get("components")
        .and_then(|c| c.as_array())
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    while let Some(component) = stack.pop() {
        if let (Some(bom_ref), Some(name)) = (
            component.get("bom-ref").and_then(|v| v.as_str()),
            component.get("name").and_then(|v| v.as_str()),
        ) {
            by_ref.insert(
                bom_ref,
                (name, component.get("purl").and_then(|v| v.as_str())),
            );
        }
        if let Some(children) = component.get("components").and_then(|c| c.as_array()) {
            stack.extend(children);
        }
    }
    let mut rows = Vec::new();
    for vulnerability in vulnerabilities {
        let Some(id) = vulnerability.get("id").and_then(|v| v.as_str()) else {
            continue;
        };
        if !id.starts_with("BWM-") {
            continue;
        }
        let severity = vulnerability
            .pointer("/ratings/0/severity")
            .and_then(|v| v.as_str())
            .and_then(Severity::parse)
            .unwrap_or(Severity::Unknown);
        let title = vulnerability
            .get("description")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        for affect in vulnerability
            .get("affects")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            let Some(target) = affect.get("ref").and_then(|v| v.as_str()) else {
                continue;
            };
            let (name, purl) = by_ref.get(target).copied().unwrap_or((target, None));
            let component = inventory.components.iter().find(|c| match (purl, &c.purl) {
                (Some(purl), Some(own)) => own.as_str() == purl,
                _ => c.name == name,
            });
            let Some(bom_ref) = component.and_then(|c| refs.get(ComponentId::of(c).as_str()))
            else {
                continue;
            };
            rows.push(NewFinding {
                id: id.to_owned(),
                kind: FindingKind::Artifact,
                aliases: Vec::new(),
                severity,
                title: title.clone(),
                component_ref: bom_ref.clone(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(
            detect_format(b"  {\"bomFormat\":\"CycloneDX\"}").unwrap(),
            SbomFormat::CycloneDxJson
        );
        assert_eq!(
            detect_format(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><bom/>").unwrap(),
            SbomFormat::CycloneDxXml
        );
        assert_eq!(
            detect_format(b"{\"spdxVersion\":\"SPDX-2.3\"}").unwrap(),
            SbomFormat::SpdxJson
        );
        assert_eq!(
            detect_format(b"{\"name\":\"x\"}").unwrap_err().status(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        );
        assert!(detect_format(b"").is_err());
        assert!(detect_format(b"PK\x03\x04").is_err());
    }

    #[test]
    fn schema_errors_refuse_the_document() {
        let bytes = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":"one"}"#;
        let error = decode(bytes, "bad.cdx.json").unwrap_err();
        assert_eq!(error.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error.to_string().contains("schema"), "{error}");
    }
}
