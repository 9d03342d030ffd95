//! CycloneDX 1.6 JSON with `vulnerabilities` (<https://cyclonedx.org/docs/1.6/json/#vulnerabilities>).
//!
//! The SBOM is [`bulwark_sbom::encode`]'s, parsed back (`serde_json` keeps key order) and
//! extended, so there is one CycloneDX encoder. One vulnerability per finding, in report
//! order:
//!
//! - `bom-ref`: `vulnerability:<id>:<package purl or name@version>`, made unique;
//! - `id`, `source` (OSV and the osv.dev page), `references` (every alias, with NVD for CVEs,
//!   GitHub for GHSAs, OSV otherwise);
//! - `ratings`: the finding's severity, with score, `method` and `vector` when a CVSS vector
//!   gave it, its source the record that gave it;
//! - `description` (the summary), `recommendation` when a fix is known;
//! - `affects`: every affected component's `bom-ref`, its matched version `affected`;
//! - `properties`: `bulwark:fixed-version` and `bulwark:last-affected` (one per version),
//!   `bulwark:severity-source`, and one `bulwark:match` per explanation.
//!
//! Unsafe model files (the inventory's artifact findings, ids `BWM-…`) follow as vulnerabilities
//! with source `bulwark`, affecting the model component at the file's path, with the path,
//! archive member and offending callable as properties: the tracking server keeps them from
//! an uploaded document, since a model file cannot be rescanned from its SBOM.
//!
//! Components that could not be checked are listed as `bulwark:not-checked` properties of
//! the document's `metadata`.

use std::collections::BTreeSet;

use bulwark_inventory::{ArtifactFinding, ComponentId, Inventory};
use bulwark_match::{Finding, MatchReport, Severity};
use bulwark_sbom::{EncodeOptions, Format};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{ReportError, osv_url};

pub(crate) fn render(
    inventory: &Inventory,
    report: &MatchReport,
    options: &EncodeOptions,
) -> Result<Vec<u8>, ReportError> {
    let sbom = bulwark_sbom::encode(inventory, Format::CycloneDxJson, options)?;
    let mut document: Value = serde_json::from_slice(&sbom)?;
    let Value::Object(bom) = &mut document else {
        return Err(ReportError::UnexpectedSbom("not a JSON object"));
    };

    let mut refs = BTreeSet::new();
    collect_refs(bom, &mut refs);
    let known_components = refs.clone();

    let mut vulnerabilities = Vec::with_capacity(report.findings.len());
    for finding in &report.findings {
        vulnerabilities.push(vulnerability(finding, &known_components, &mut refs)?);
    }
    for finding in &inventory.findings {
        vulnerabilities.push(artifact_vulnerability(
            finding,
            inventory,
            &known_components,
            &mut refs,
        ));
    }

    if !report.not_checked.is_empty() {
        let metadata = bom
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .ok_or(ReportError::UnexpectedSbom("no metadata object"))?;
        let properties = metadata
            .entry("properties")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or(ReportError::UnexpectedSbom(
                "metadata.properties is not an array",
            ))?;
        for item in &report.not_checked {
            properties.push(property(
                "bulwark:not-checked",
                format!("{}: {}", item.component, item.reason),
            ));
        }
    }

    if !vulnerabilities.is_empty() {
        let vulnerabilities = Value::Array(vulnerabilities);
        // A new document gets a new serial number: derived from the SBOM's and the findings.
        if let Some(serial) = bom.get("serialNumber").and_then(Value::as_str) {
            let namespace = Uuid::parse_str(serial)
                .map_err(|_| ReportError::UnexpectedSbom("serialNumber is not a UUID URN"))?;
            let name = serde_json::to_vec(&vulnerabilities)?;
            let derived = Uuid::new_v5(&namespace, &name);
            bom.insert("serialNumber".into(), derived.urn().to_string().into());
        }
        bom.insert("vulnerabilities".into(), vulnerabilities);
    }

    let mut out = serde_json::to_vec_pretty(&document)?;
    out.push(b'\n');
    Ok(out)
}

/// Every `bom-ref` in the document (components at any depth, the metadata component, tools).
fn collect_refs(object: &Map<String, Value>, refs: &mut BTreeSet<String>) {
    for (key, value) in object {
        match value {
            Value::String(text) if key == "bom-ref" => {
                refs.insert(text.clone());
            }
            Value::Object(inner) => collect_refs(inner, refs),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        collect_refs(inner, refs);
                    }
                }
            }
            _ => {}
        }
    }
}

fn artifact_vulnerability(
    finding: &ArtifactFinding,
    inventory: &Inventory,
    known_components: &BTreeSet<String>,
    refs: &mut BTreeSet<String>,
) -> Value {
    let base = format!("artifact:{}:{}", finding.id, finding.path);
    let mut bom_ref = base.clone();
    let mut counter = 1;
    while refs.contains(&bom_ref) {
        counter += 1;
        bom_ref = format!("{base}:{counter}");
    }
    refs.insert(bom_ref.clone());
    let affected = inventory
        .components
        .iter()
        .filter(|c| c.locations.iter().any(|l| l.path.as_str() == finding.path))
        .map(|c| ComponentId::of(c).as_str().to_owned())
        .filter(|id| known_components.contains(id))
        .map(|id| json!({ "ref": id }))
        .collect::<Vec<_>>();
    let mut value = Map::new();
    value.insert("bom-ref".into(), bom_ref.into());
    value.insert("id".into(), finding.id.clone().into());
    value.insert("source".into(), json!({ "name": "bulwark" }));
    value.insert(
        "ratings".into(),
        json!([{
            "source": { "name": "bulwark" },
            "severity": finding.severity.as_str(),
            "method": "other",
        }]),
    );
    value.insert("description".into(), finding.message.clone().into());
    value.insert("recommendation".into(), finding.remedy.clone().into());
    if !affected.is_empty() {
        value.insert("affects".into(), affected.into());
    }
    let mut properties = vec![property("bulwark:path", finding.path.clone())];
    if let Some(member) = &finding.member {
        properties.push(property("bulwark:member", member.clone()));
    }
    if let Some(callable) = &finding.callable {
        properties.push(property("bulwark:callable", callable.clone()));
    }
    value.insert("properties".into(), properties.into());
    Value::Object(value)
}

fn property(name: &str, value: impl Into<Value>) -> Value {
    json!({ "name": name, "value": value.into() })
}

/// CycloneDX `method` of a CVSS version.
pub(crate) fn cvss_method(version: &str) -> &'static str {
    match version {
        "2.0" => "CVSSv2",
        "3.0" => "CVSSv3",
        "3.1" => "CVSSv31",
        "4.0" => "CVSSv4",
        _ => "other",
    }
}

/// The CycloneDX `severity` of a severity (the enums agree; CycloneDX's `info` is not used).
const fn severity(severity: Severity) -> &'static str {
    severity.as_str()
}

/// Where an alias is described: NVD for CVEs, GitHub for GHSAs, OSV for the rest.
fn alias_source(alias: &str) -> Value {
    if alias.starts_with("CVE-") {
        json!({ "name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{alias}") })
    } else if alias.starts_with("GHSA-") {
        json!({ "name": "GitHub", "url": format!("https://github.com/advisories/{alias}") })
    } else {
        json!({ "name": "OSV", "url": osv_url(alias) })
    }
}

fn vulnerability(
    finding: &Finding,
    known_components: &BTreeSet<String>,
    refs: &mut BTreeSet<String>,
) -> Result<Value, ReportError> {
    let package = &finding.package;
    let subject = package
        .purl
        .clone()
        .unwrap_or_else(|| format!("{}@{}", package.name, package.version));
    let base = format!("vulnerability:{}:{subject}", finding.id);
    let mut bom_ref = base.clone();
    let mut counter = 1;
    while refs.contains(&bom_ref) {
        counter += 1;
        bom_ref = format!("{base}:{counter}");
    }
    refs.insert(bom_ref.clone());

    let mut value = Map::new();
    value.insert("bom-ref".into(), bom_ref.into());
    value.insert("id".into(), finding.id.clone().into());
    value.insert(
        "source".into(),
        json!({ "name": "OSV", "url": osv_url(&finding.id) }),
    );
    if !finding.aliases.is_empty() {
        let references: Vec<Value> = finding
            .aliases
            .iter()
            .map(|alias| json!({ "id": alias, "source": alias_source(alias) }))
            .collect();
        value.insert("references".into(), references.into());
    }

    // The record that gave the severity starts the source text (`GHSA-… severity[0] …`).
    let rating_record = finding
        .severity_source
        .split([' ', ':'])
        .next()
        .filter(|id| !id.is_empty())
        .unwrap_or(&finding.id);
    let mut rating = Map::new();
    rating.insert(
        "source".into(),
        json!({ "name": "OSV", "url": osv_url(rating_record) }),
    );
    if let Some(cvss) = &finding.cvss {
        rating.insert("score".into(), cvss.score.into());
    }
    rating.insert("severity".into(), severity(finding.severity).into());
    match &finding.cvss {
        Some(cvss) => {
            rating.insert("method".into(), cvss_method(&cvss.version).into());
            rating.insert("vector".into(), cvss.vector.clone().into());
        }
        None if finding.severity != Severity::Unknown => {
            rating.insert("method".into(), "other".into());
        }
        None => {}
    }
    value.insert("ratings".into(), json!([rating]));

    if let Some(summary) = &finding.summary {
        value.insert("description".into(), summary.clone().into());
    }
    if let Some(first) = finding.fixed_versions.first() {
        let mut text = format!("Upgrade {} to {first}", package.name);
        if finding.fixed_versions.len() > 1 {
            text.push_str(&format!(
                " (fixed in {})",
                finding.fixed_versions.join(", ")
            ));
        }
        text.push('.');
        value.insert("recommendation".into(), text.into());
    }

    let mut affects = Vec::with_capacity(finding.components.len());
    for component in &finding.components {
        if !known_components.contains(component) {
            return Err(ReportError::UnknownComponent {
                finding: finding.id.clone(),
                component: component.clone(),
            });
        }
        affects.push(json!({
            "ref": component,
            "versions": [{ "version": package.version, "status": "affected" }],
        }));
    }
    if !affects.is_empty() {
        value.insert("affects".into(), affects.into());
    }

    let mut properties = Vec::new();
    for version in &finding.fixed_versions {
        properties.push(property("bulwark:fixed-version", version.clone()));
    }
    for version in &finding.last_affected {
        properties.push(property("bulwark:last-affected", version.clone()));
    }
    properties.push(property(
        "bulwark:severity-source",
        finding.severity_source.clone(),
    ));
    for explanation in &finding.explanation {
        let range = explanation
            .range_index
            .map_or_else(|| "versions".to_owned(), |index| format!("ranges[{index}]"));
        properties.push(property(
            "bulwark:match",
            format!(
                "{} affected[{}] {range} {}: {}",
                explanation.advisory_id,
                explanation.affected_index,
                explanation.range_type,
                explanation.comparison
            ),
        ));
    }
    value.insert("properties".into(), properties.into());
    Ok(value.into())
}
