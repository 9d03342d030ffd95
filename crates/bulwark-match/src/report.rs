//! What a match produces: findings, components that could not be checked, and why.

use std::fmt;
use std::sync::Arc;

use bulwark_inventory::Ecosystem;
use bulwark_vulndb::Advisory;
use bulwark_vulndb::osv::{Affected, Event};
use serde::Serialize;

use crate::severity::{Cvss, Severity};

/// The result of [`crate::match_inventory`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchReport {
    /// One finding per (package, version, vulnerability), aliases merged; ordered by package
    /// (ecosystem, normalized name, version), then severity (most severe first), then id.
    pub findings: Vec<Finding>,
    /// Components (or identities of components) that could not be checked, ordered by
    /// component, then reason.
    pub not_checked: Vec<NotChecked>,
}

/// One vulnerability of one package version.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The primary id (see the crate documentation for how it is chosen).
    pub id: String,
    /// Every other id of the vulnerability: ids of the merged records, their `aliases` and
    /// their `upstream` ids, sorted.
    pub aliases: Vec<String>,
    /// The primary record's summary (or the first line of its details), if any.
    pub summary: Option<String>,
    /// The highest severity among the merged records.
    pub severity: Severity,
    /// The CVSS vector that gave the severity, if it came from one.
    pub cvss: Option<Cvss>,
    /// Which record and which field gave the severity (`GHSA-… severity[0] (CVSS_V3)`).
    pub severity_source: String,
    /// The package version as matched.
    pub package: PackageRef,
    /// The inventory components this package version belongs to ([`ComponentId`] strings),
    /// sorted. Usually one; several when two components (a pip-installed package and a conda
    /// package known by the same PyPI purl) are the same package version.
    ///
    /// [`ComponentId`]: bulwark_inventory::ComponentId
    pub components: Vec<String>,
    /// `fixed` versions above the matched version, from the ranges that matched, sorted by
    /// the ecosystem's order.
    pub fixed_versions: Vec<String>,
    /// `last_affected` versions that close the matched intervals: the vulnerability has no
    /// known fix there, only a last version known to be affected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_affected: Vec<String>,
    /// Why it matched: one entry per record, `affected[]` entry and range (or versions list)
    /// that contains the version.
    pub explanation: Vec<MatchExplanation>,
    /// The `affected[]` entries of the merged records that name this package, kept to verify
    /// upgrade candidates ([`crate::smallest_fixing_version`]).
    #[serde(skip)]
    pub(crate) evidence: Arc<Vec<AffectedEvidence>>,
}

/// An `affected[]` entry of a matched record, for checking upgrade candidates.
#[derive(Debug, Clone)]
pub(crate) struct AffectedEvidence {
    pub(crate) advisory: Arc<Advisory>,
    pub(crate) affected_index: usize,
}

impl AffectedEvidence {
    pub(crate) fn affected(&self) -> Option<&Affected> {
        self.advisory.affected.get(self.affected_index)
    }
}

/// A package version as matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PackageRef {
    /// The name as the source (or the also-known-as purl) wrote it.
    pub name: String,
    /// The version.
    pub version: String,
    /// The OSV ecosystem it matched in (`PyPI`, also for a conda package matched through its
    /// PyPI identity).
    pub ecosystem: Ecosystem,
    /// The purl of that identity.
    pub purl: Option<String>,
}

/// Why a finding matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchExplanation {
    /// The record.
    pub advisory_id: String,
    /// The index of the `affected[]` entry.
    pub affected_index: usize,
    /// The index of the range in that entry's `ranges[]`; `None` for the `versions` list.
    pub range_index: Option<usize>,
    /// `ECOSYSTEM`, `SEMVER`, or `versions` for the explicit list.
    pub range_type: String,
    /// The events that bracket the version (empty for the versions list).
    pub events: Vec<Event>,
    /// The comparisons made: `introduced 0 <= 2.1.2 < fixed 2.2.0`, or
    /// `2.1.2 is listed in versions`.
    pub comparison: String,
}

/// A component, or one identity of a component, that was not checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotChecked {
    /// The component's [`ComponentId`](bulwark_inventory::ComponentId).
    pub component: String,
    /// The component's name.
    pub name: String,
    /// The component's version, if pinned.
    pub version: Option<String>,
    /// The component's ecosystem, if any.
    pub ecosystem: Option<Ecosystem>,
    /// The component's purl, if any.
    pub purl: Option<String>,
    /// Why.
    pub reason: NotCheckedReason,
}

/// Why a component was not (or not completely) checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "code", content = "detail", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NotCheckedReason {
    /// The component has no package ecosystem (a GPU library, a model file) and no
    /// also-known-as purl of one.
    NoEcosystem,
    /// The component has no exact version (an unpinned requirement).
    Unpinned,
    /// The ecosystem has no advisory feed (conda) and the component has no identity in one
    /// that has (a PyPI purl). The ecosystem is named.
    NoAdvisoryFeed(String),
    /// bulwark has no version order for the ecosystem, named here.
    UnknownVersionScheme(String),
    /// A version could not be compared: the component's own, or one in a record's range.
    /// Findings that could be decided are still reported; the text names the version, the
    /// record and the range.
    UnparsableVersion(String),
}

impl fmt::Display for NotCheckedReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoEcosystem => formatter.write_str("no package ecosystem"),
            Self::Unpinned => formatter.write_str("no exact version (unpinned)"),
            Self::NoAdvisoryFeed(ecosystem) => write!(
                formatter,
                "no advisory feed for {ecosystem} and no identity in an ecosystem that has one"
            ),
            Self::UnknownVersionScheme(ecosystem) => {
                write!(formatter, "no version scheme for ecosystem {ecosystem}")
            }
            Self::UnparsableVersion(detail) => write!(formatter, "unparsable version: {detail}"),
        }
    }
}

impl MatchReport {
    /// The findings grouped by package version, in report order.
    pub fn by_package(&self) -> Vec<(&PackageRef, Vec<&Finding>)> {
        let mut groups: Vec<(&PackageRef, Vec<&Finding>)> = Vec::new();
        for finding in &self.findings {
            match groups.last_mut() {
                Some((package, findings)) if **package == finding.package => {
                    findings.push(finding);
                }
                _ => groups.push((&finding.package, vec![finding])),
            }
        }
        groups
    }
}
