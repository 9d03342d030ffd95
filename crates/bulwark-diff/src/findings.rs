//! Findings that appeared or went away between two scans.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use bulwark_inventory::{ArtifactFinding, Ecosystem, PackageName};
use bulwark_match::{Finding, MatchReport, Severity};
use serde::Serialize;

use crate::version;

/// Vulnerability findings only one of two reports has, most severe first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FindingsDiff {
    /// Vulnerabilities of a package that the old report does not have for that package.
    pub new: Vec<FindingChange>,
    /// Vulnerabilities of a package that the new report no longer has for it (upgraded past
    /// the fix, or the package is gone).
    pub resolved: Vec<FindingChange>,
}

/// One vulnerability of one package, over all the versions of it one side holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    /// The finding's primary id.
    pub id: String,
    /// Its other ids, sorted.
    pub aliases: Vec<String>,
    /// The advisory's summary, if any.
    pub summary: Option<String>,
    /// The highest severity among the versions affected.
    pub severity: Severity,
    /// The package name as the report wrote it.
    pub package: String,
    /// The ecosystem it matched in.
    pub ecosystem: Ecosystem,
    /// The affected versions of the package on this side, in the ecosystem's order.
    pub versions: Vec<String>,
    /// The versions that fix it, in the ecosystem's order.
    pub fixed_versions: Vec<String>,
}

/// A vulnerability of a package: the same advisory on another version of the package is the
/// same finding for a diff.
type FindingKey = (Ecosystem, PackageName, String);

/// Compares the vulnerability findings of two reports.
///
/// A finding is identified by its id, package name (normalized) and ecosystem, whatever the
/// version. It is new when the old report has no finding for that package sharing any of its
/// ids (id or alias) and resolved the other way round: a database update that makes a
/// PYSEC record the primary id of what was a GHSA finding changes nothing.
pub fn diff_findings(old: &MatchReport, new: &MatchReport) -> FindingsDiff {
    let old_groups = group(&old.findings);
    let new_groups = group(&new.findings);
    let mut diff = FindingsDiff {
        new: only_in(&new_groups, &old_groups),
        resolved: only_in(&old_groups, &new_groups),
    };
    for changes in [&mut diff.new, &mut diff.resolved] {
        changes.sort_by(|a, b| {
            (Reverse(a.severity), a.ecosystem, &a.package, &a.id).cmp(&(
                Reverse(b.severity),
                b.ecosystem,
                &b.package,
                &b.id,
            ))
        });
    }
    diff
}

/// The findings merged per (ecosystem, package, id).
fn group(findings: &[Finding]) -> BTreeMap<FindingKey, FindingChange> {
    let mut groups: BTreeMap<FindingKey, FindingChange> = BTreeMap::new();
    for finding in findings {
        let ecosystem = finding.package.ecosystem;
        let key = (
            ecosystem,
            PackageName::new(ecosystem, &finding.package.name),
            finding.id.clone(),
        );
        let change = groups.entry(key).or_insert_with(|| FindingChange {
            id: finding.id.clone(),
            aliases: Vec::new(),
            summary: finding.summary.clone(),
            severity: finding.severity,
            package: finding.package.name.clone(),
            ecosystem,
            versions: Vec::new(),
            fixed_versions: Vec::new(),
        });
        change.severity = change.severity.max(finding.severity);
        change.aliases.extend(finding.aliases.iter().cloned());
        change.versions.push(finding.package.version.clone());
        change
            .fixed_versions
            .extend(finding.fixed_versions.iter().cloned());
    }
    for change in groups.values_mut() {
        change.aliases.sort_unstable();
        change.aliases.dedup();
        for versions in [&mut change.versions, &mut change.fixed_versions] {
            let unique: BTreeSet<String> = std::mem::take(versions).into_iter().collect();
            *versions = version::sort_by_version(
                Some(change.ecosystem),
                unique.into_iter().collect(),
                |v| Some(v.as_str()),
            );
        }
    }
    groups
}

/// The groups of `these` that no group of `others` for the same package shares an id with.
fn only_in(
    these: &BTreeMap<FindingKey, FindingChange>,
    others: &BTreeMap<FindingKey, FindingChange>,
) -> Vec<FindingChange> {
    let known: HashSet<(Ecosystem, &PackageName, &str)> = others
        .iter()
        .flat_map(|((ecosystem, name, id), change)| {
            std::iter::once(id.as_str())
                .chain(change.aliases.iter().map(String::as_str))
                .map(move |any_id| (*ecosystem, name, any_id))
        })
        .collect();
    these
        .iter()
        .filter(|((ecosystem, name, id), change)| {
            !std::iter::once(id.as_str())
                .chain(change.aliases.iter().map(String::as_str))
                .any(|any_id| known.contains(&(*ecosystem, name, any_id)))
        })
        .map(|(_, change)| change.clone())
        .collect()
}

/// Unsafe-content findings only one of two inventories has, sorted by path, id and callable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ArtifactFindingsDiff {
    /// Findings of the new inventory the old one does not have.
    pub new: Vec<ArtifactFinding>,
    /// Findings of the old inventory the new one no longer has.
    pub resolved: Vec<ArtifactFinding>,
}

/// Compares the artifact findings ([`Inventory::findings`](bulwark_inventory::Inventory)) of
/// two inventories.
///
/// A finding is identified by rule id, file path and callable: the member and byte offset
/// move whenever anything else in the file changes, and the same `os.system` call in the
/// same file is no news. Of several findings with one identity on a side, the most severe is
/// shown.
pub fn diff_artifact_findings(
    old: &[ArtifactFinding],
    new: &[ArtifactFinding],
) -> ArtifactFindingsDiff {
    let old_by_key = artifacts_by_key(old);
    let new_by_key = artifacts_by_key(new);
    let only = |these: &BTreeMap<ArtifactKey<'_>, &ArtifactFinding>,
                others: &BTreeMap<ArtifactKey<'_>, &ArtifactFinding>| {
        these
            .iter()
            .filter(|(key, _)| !others.contains_key(*key))
            .map(|(_, finding)| (*finding).clone())
            .collect()
    };
    ArtifactFindingsDiff {
        new: only(&new_by_key, &old_by_key),
        resolved: only(&old_by_key, &new_by_key),
    }
}

/// Path, rule id and callable.
type ArtifactKey<'a> = (&'a str, &'a str, Option<&'a str>);

fn artifacts_by_key(findings: &[ArtifactFinding]) -> BTreeMap<ArtifactKey<'_>, &ArtifactFinding> {
    let mut map: BTreeMap<ArtifactKey<'_>, &ArtifactFinding> = BTreeMap::new();
    for finding in findings {
        let key = (
            finding.path.as_str(),
            finding.id.as_str(),
            finding.callable.as_deref(),
        );
        map.entry(key)
            .and_modify(|kept| {
                if (finding.severity, Reverse(finding)) > (kept.severity, Reverse(*kept)) {
                    *kept = finding;
                }
            })
            .or_insert(finding);
    }
    map
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use bulwark_inventory::{ArtifactSeverity, Component, Inventory, Location};
    use bulwark_match::{MatchOptions, match_inventory};
    use bulwark_vulndb::{Database, ImportOptions, import};

    use super::*;

    /// Real OSV records kept by `bulwark-vulndb` (see its `testdata/README.md`).
    fn pypi_records() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../bulwark-vulndb/testdata/osv/PyPI")
    }

    fn database(sources: &[PathBuf]) -> (tempfile::TempDir, Database) {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("db");
        let report = import(&dir, sources, &ImportOptions::default()).unwrap();
        assert!(report.malformed.is_empty(), "{:?}", report.malformed);
        let db = Database::open(&dir).unwrap();
        (temp, db)
    }

    fn scan(db: &Database, packages: &[(&str, &str)]) -> MatchReport {
        let components = packages
            .iter()
            .map(|(name, version)| {
                Component::package(
                    Ecosystem::PyPI,
                    name,
                    Some(version),
                    Location::new("requirements.txt"),
                    "test",
                )
            })
            .collect();
        let inventory = Inventory {
            target: "test".to_owned(),
            components,
            ..Inventory::default()
        };
        match_inventory(&inventory, db, &MatchOptions::default()).unwrap()
    }

    fn summary(changes: &[FindingChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {}",
                    c.severity.as_str(),
                    c.id,
                    c.package,
                    c.versions.join(",")
                )
            })
            .collect()
    }

    // What each record affects, read from the records: PYSEC-2021-98 Django [3.2, 3.2.4);
    // PYSEC-2023-74 requests [2.3.0, 2.31.0); PYSEC-2020-341 jw.util below 2.3;
    // GHSA-9v2f-6vcg-3hgv (CRITICAL) Gradio 4.36.1 only.
    #[test]
    fn new_and_resolved_findings() {
        let (_temp, db) = database(&[pypi_records()]);
        let old = scan(
            &db,
            &[
                ("Django", "3.2.3"),
                ("requests", "2.30.0"),
                ("gradio", "4.36.0"),
            ],
        );
        let new = scan(
            &db,
            &[
                ("django", "3.2.4"),
                // Still affected in another version: neither new nor resolved.
                ("requests", "2.29.0"),
                ("gradio", "4.36.1"),
                ("jw.util", "1.9"),
                ("jw-util", "1.10"),
            ],
        );
        let diff = diff_findings(&old, &new);
        assert_eq!(
            summary(&diff.new),
            [
                "critical GHSA-9v2f-6vcg-3hgv gradio 4.36.1",
                // Both versions, in version order (not text order).
                "unknown PYSEC-2020-341 jw.util 1.9,1.10",
            ]
        );
        assert_eq!(
            summary(&diff.resolved),
            ["unknown PYSEC-2021-98 Django 3.2.3"]
        );
        assert_eq!(diff.resolved[0].fixed_versions, ["3.2.4"]);
        assert!(
            diff.resolved[0]
                .aliases
                .contains(&"CVE-2021-33203".to_owned())
        );
        let json = serde_json::to_value(&diff).unwrap();
        assert_eq!(json["new"][0]["ecosystem"], "PyPI");
        assert_eq!(json["new"][0]["severity"], "critical");

        let same = diff_findings(&old, &old);
        assert!(same.new.is_empty() && same.resolved.is_empty());
    }

    /// A database update that makes the GHSA id primary (a record under that id now matches)
    /// is no news: the finding shares its ids with the old one.
    #[test]
    fn a_new_primary_id_is_the_same_finding() {
        let (_temp, before) = database(&[pypi_records()]);
        let records = tempfile::tempdir().unwrap();
        let text = fs_read(&pypi_records().join("PYSEC-2021-98.json"));
        let mut record: serde_json::Value = serde_json::from_str(&text).unwrap();
        record["id"] = "XYZ-2021-98".into();
        record["aliases"] = serde_json::json!(["PYSEC-2021-98"]);
        std::fs::write(
            records.path().join("XYZ-2021-98.json"),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
        let (_temp2, after) = database(&[records.path().to_owned()]);
        let old = scan(&before, &[("django", "3.2.3")]);
        let new = scan(&after, &[("django", "3.2.3")]);
        assert_eq!(old.findings[0].id, "PYSEC-2021-98");
        assert_eq!(new.findings[0].id, "XYZ-2021-98");
        let diff = diff_findings(&old, &new);
        assert!(diff.new.is_empty() && diff.resolved.is_empty(), "{diff:?}");
    }

    fn fs_read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    fn artifact(
        path: &str,
        offset: u64,
        callable: &str,
        severity: ArtifactSeverity,
    ) -> ArtifactFinding {
        ArtifactFinding {
            path: path.to_owned(),
            member: Some("archive/data.pkl".to_owned()),
            offset: Some(offset),
            id: "BWM-PICKLE-CODE-EXEC".to_owned(),
            severity,
            callable: Some(callable.to_owned()),
            message: format!("calls {callable}"),
            remedy: "convert the checkpoint to safetensors".to_owned(),
        }
    }

    #[test]
    fn artifact_findings_by_id_path_and_callable() {
        let old = [
            artifact("model.pt", 10, "os.system", ArtifactSeverity::Critical),
            artifact("old.pt", 5, "builtins.exec", ArtifactSeverity::Critical),
        ];
        let new = [
            // Moved within the file: the same finding.
            artifact("model.pt", 99, "os.system", ArtifactSeverity::Critical),
            artifact("model.pt", 120, "subprocess.Popen", ArtifactSeverity::High),
            artifact(
                "model.pt",
                130,
                "subprocess.Popen",
                ArtifactSeverity::Critical,
            ),
        ];
        let diff = diff_artifact_findings(&old, &new);
        assert_eq!(diff.new.len(), 1);
        assert_eq!(diff.new[0].callable.as_deref(), Some("subprocess.Popen"));
        // Of two with one identity, the more severe one is shown.
        assert_eq!(diff.new[0].severity, ArtifactSeverity::Critical);
        assert_eq!(diff.resolved.len(), 1);
        assert_eq!(diff.resolved[0].path, "old.pt");
    }
}
