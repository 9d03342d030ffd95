//! SARIF 2.1.0 (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).
//!
//! One run; `tool.driver.rules` has one rule per distinct finding id (sorted), `results` one
//! result per finding and location of each affected component (report order, then component
//! id, then location). Components that could not be checked become tool execution
//! notifications of the run's one invocation, so they are not silently dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use bulwark_inventory::{
    ArtifactFinding, ArtifactSeverity, Component, ComponentId, Inventory, Location,
};
use bulwark_match::{Finding, MatchReport, Severity};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{ReportError, osv_url};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the one partial fingerprint each result carries.
const FINGERPRINT_KEY: &str = "bulwarkFinding/v1";

pub(crate) fn render(
    inventory: &Inventory,
    report: &MatchReport,
    tool_version: &str,
) -> Result<Vec<u8>, ReportError> {
    let components = components_by_id(inventory);

    let mut results = Vec::new();
    for finding in &report.findings {
        for component_id in &finding.components {
            let component = components.get(component_id.as_str()).ok_or_else(|| {
                ReportError::UnknownComponent {
                    finding: finding.id.clone(),
                    component: component_id.clone(),
                }
            })?;
            if component.locations.is_empty() {
                results.push(result(finding, component_id, None));
            }
            for location in &component.locations {
                results.push(result(finding, component_id, Some(location)));
            }
        }
    }

    results.extend(inventory.findings.iter().map(artifact_result));

    let notifications: Vec<Value> = report
        .not_checked
        .iter()
        .map(|item| {
            let what = match &item.version {
                Some(version) => format!("{} {version}", item.name),
                None => item.name.clone(),
            };
            json!({
                "level": "note",
                "message": { "text": format!("{what} was not checked: {}", item.reason) },
                "descriptor": { "id": "not-checked" },
                "properties": { "component": item.component },
            })
        })
        .collect();

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "bulwark",
                    "version": tool_version,
                    "rules": rules(report)
                        .into_iter()
                        .chain(artifact_rules(&inventory.findings))
                        .collect::<Vec<_>>(),
                },
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut out = serde_json::to_vec_pretty(&log)?;
    out.push(b'\n');
    Ok(out)
}

/// The inventory's components by id; the first wins should a hand-built inventory repeat one.
fn components_by_id(inventory: &Inventory) -> BTreeMap<String, &Component> {
    let mut by_id = BTreeMap::new();
    for component in &inventory.components {
        by_id
            .entry(ComponentId::of(component).as_str().to_owned())
            .or_insert(component);
    }
    by_id
}

/// SARIF `level` of a severity.
pub(crate) const fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::None | Severity::Unknown => "note",
    }
}

/// GitHub's `security-severity`: the CVSS score, else the lower bound of the severity's band.
fn security_severity(finding: &Finding) -> Option<String> {
    if let Some(cvss) = &finding.cvss {
        return Some(format!("{:.1}", cvss.score));
    }
    let floor = match finding.severity {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 0.1,
        Severity::None => 0.0,
        Severity::Unknown => return None,
    };
    Some(format!("{floor:.1}"))
}

/// One rule per distinct id, sorted by id. When an id has findings in several packages, the
/// most severe one (then the higher score) describes the rule.
fn rules(report: &MatchReport) -> Vec<Value> {
    let mut by_id: BTreeMap<&str, (&Finding, BTreeSet<&str>)> = BTreeMap::new();
    for finding in &report.findings {
        let entry = by_id
            .entry(finding.id.as_str())
            .or_insert_with(|| (finding, BTreeSet::new()));
        entry.1.insert(finding.package.ecosystem.as_str());
        if rank(finding) > rank(entry.0) {
            entry.0 = finding;
        }
    }
    by_id
        .into_iter()
        .map(|(id, (finding, ecosystems))| {
            let short = finding.summary.clone().unwrap_or_else(|| id.to_owned());
            let mut full = short.clone();
            if !finding.aliases.is_empty() {
                let _ = write!(full, " (also known as {})", finding.aliases.join(", "));
            }
            let mut tags = vec!["security".to_owned(), "vulnerability".to_owned()];
            tags.extend(ecosystems.into_iter().map(str::to_owned));
            let mut properties = Map::new();
            if let Some(score) = security_severity(finding) {
                properties.insert("security-severity".into(), score.into());
            }
            properties.insert("tags".into(), tags.into());
            let url = osv_url(id);
            json!({
                "id": id,
                "shortDescription": { "text": short },
                "fullDescription": { "text": full },
                "helpUri": url,
                "help": {
                    "text": format!("{full}\n\nSee {url}"),
                    "markdown": format!("{}\n\nSee [{id}]({url}).", markdown_escape(&full)),
                },
                "defaultConfiguration": { "level": level(finding.severity) },
                "properties": properties,
            })
        })
        .collect()
}

fn rank(finding: &Finding) -> (Severity, u64) {
    // Scores are 0.0–10.0 with one decimal; as tenths they order as integers.
    let score = finding.cvss.as_ref().map_or(0, |cvss| {
        (cvss.score * 10.0).round().clamp(0.0, 100.0) as u64
    });
    (finding.severity, score)
}

fn result(finding: &Finding, component_id: &str, location: Option<&Location>) -> Value {
    let package = &finding.package;
    let mut text = format!(
        "{} {} is affected by {}",
        package.name, package.version, finding.id
    );
    if let Some(summary) = &finding.summary {
        let _ = write!(text, " ({summary})");
    }
    if finding.fixed_versions.is_empty() {
        text.push_str("; no fixed version known");
        if !finding.last_affected.is_empty() {
            let _ = write!(
                text,
                " (last affected: {})",
                finding.last_affected.join(", ")
            );
        }
    } else {
        let _ = write!(text, "; fixed in {}", finding.fixed_versions.join(", "));
    }

    let mut value = Map::new();
    value.insert("ruleId".into(), finding.id.clone().into());
    value.insert("level".into(), level(finding.severity).into());
    value.insert("message".into(), json!({ "text": text }));
    if let Some(location) = location {
        let mut physical = Map::new();
        physical.insert(
            "artifactLocation".into(),
            json!({ "uri": uri_reference(&location.path) }),
        );
        if let Some(line) = location.line.filter(|line| *line > 0) {
            physical.insert("region".into(), json!({ "startLine": line }));
        }
        value.insert(
            "locations".into(),
            json!([{ "physicalLocation": physical }]),
        );
    }
    value.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint(finding, component_id, location) }),
    );

    let mut properties = Map::new();
    properties.insert("severity".into(), finding.severity.as_str().into());
    if let Some(cvss) = &finding.cvss {
        properties.insert(
            "cvss".into(),
            serde_json::to_value(cvss).unwrap_or(Value::Null),
        );
    }
    properties.insert(
        "severitySource".into(),
        finding.severity_source.clone().into(),
    );
    properties.insert("aliases".into(), finding.aliases.clone().into());
    properties.insert(
        "fixedVersions".into(),
        finding.fixed_versions.clone().into(),
    );
    if !finding.last_affected.is_empty() {
        properties.insert("lastAffected".into(), finding.last_affected.clone().into());
    }
    properties.insert("component".into(), component_id.into());
    if let Some(purl) = &package.purl {
        properties.insert("purl".into(), purl.clone().into());
    }
    properties.insert("ecosystem".into(), package.ecosystem.as_str().into());
    if let Some(layer) = location.and_then(|location| location.layer.as_ref()) {
        properties.insert("layer".into(), layer.clone().into());
    }
    value.insert("properties".into(), properties.into());
    value.into()
}

/// SARIF `level` of an artifact finding's severity.
const fn artifact_level(severity: ArtifactSeverity) -> &'static str {
    match severity {
        ArtifactSeverity::Critical | ArtifactSeverity::High => "error",
        ArtifactSeverity::Medium => "warning",
        ArtifactSeverity::Low => "note",
    }
}

/// One rule per distinct artifact-finding id (`BWM-...`), sorted; the most severe finding of
/// an id sets its level.
fn artifact_rules(findings: &[ArtifactFinding]) -> Vec<Value> {
    let mut by_id: BTreeMap<&str, &ArtifactFinding> = BTreeMap::new();
    for finding in findings {
        let entry = by_id.entry(finding.id.as_str()).or_insert(finding);
        if finding.severity > entry.severity {
            *entry = finding;
        }
    }
    by_id
        .into_iter()
        .map(|(id, finding)| {
            let floor = match finding.severity {
                ArtifactSeverity::Critical => "9.0",
                ArtifactSeverity::High => "7.0",
                ArtifactSeverity::Medium => "4.0",
                ArtifactSeverity::Low => "0.1",
            };
            json!({
                "id": id,
                "shortDescription": { "text": id },
                "help": { "text": finding.remedy },
                "defaultConfiguration": { "level": artifact_level(finding.severity) },
                "properties": {
                    "security-severity": floor,
                    "tags": ["security", "model", "unsafe-deserialization"],
                },
            })
        })
        .collect()
}

fn artifact_result(finding: &ArtifactFinding) -> Value {
    let mut text = finding.message.clone();
    if let Some(member) = &finding.member {
        let _ = write!(text, " (in `{member}`)");
    }
    let _ = write!(text, ". {}", finding.remedy);
    let mut physical = Map::new();
    physical.insert(
        "artifactLocation".into(),
        json!({ "uri": uri_reference(&finding.path) }),
    );
    if let (Some(offset), None) = (finding.offset, &finding.member) {
        physical.insert("region".into(), json!({ "byteOffset": offset }));
    }
    let mut hasher = Sha256::new();
    for part in [
        finding.id.as_str(),
        finding.path.as_str(),
        finding.member.as_deref().unwrap_or(""),
        &finding.offset.map(|o| o.to_string()).unwrap_or_default(),
        finding.callable.as_deref().unwrap_or(""),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let fingerprint = hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    json!({
        "ruleId": finding.id,
        "level": artifact_level(finding.severity),
        "message": { "text": text },
        "locations": [{ "physicalLocation": physical }],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint },
        "properties": {
            "severity": finding.severity.as_str(),
            "member": finding.member,
            "offset": finding.offset,
            "callable": finding.callable,
        },
    })
}

/// SHA-256 of the id, component, path, line and layer, NUL-separated, in hex: stable across
/// runs, distinct for every result of a run.
fn fingerprint(finding: &Finding, component_id: &str, location: Option<&Location>) -> String {
    let mut hasher = Sha256::new();
    let line = location
        .and_then(|location| location.line)
        .map(|line| line.to_string())
        .unwrap_or_default();
    for part in [
        finding.id.as_str(),
        component_id,
        location.map_or("", |location| location.path.as_str()),
        &line,
        location
            .and_then(|location| location.layer.as_deref())
            .unwrap_or(""),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// A `/`-separated relative path as a URI reference: everything but unreserved characters,
/// sub-delimiters, `:`, `@` and `/` percent-encoded (UTF-8). A `:` in the first segment would
/// read as a scheme, so there it is encoded too.
pub(crate) fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut first_segment = true;
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=@/".contains(&byte)
            || (byte == b':' && !first_segment);
        if byte == b'/' {
            first_segment = false;
        }
        if keep {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Escapes the characters GitHub-flavoured Markdown would interpret inside a line.
fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
