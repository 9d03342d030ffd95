//! Turning the records that matched one package version into findings: records that alias
//! each other become one finding.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bulwark_inventory::Ecosystem;
use bulwark_vulndb::Advisory;

use crate::evaluate::{AdvisoryMatch, PreparedPackage, sort_versions};
use crate::report::{AffectedEvidence, Finding, PackageRef};
use crate::severity::{Rated, rate};
use crate::version::VersionOrder;

/// The longest summary taken from a record's `details` when it has no `summary`.
const SUMMARY_FROM_DETAILS_MAX: usize = 200;

/// Builds the findings of one package version from the records that matched it.
pub(crate) fn findings<O: VersionOrder>(
    package: &PreparedPackage<O::Parsed>,
    matches: Vec<AdvisoryMatch>,
    package_ref: &PackageRef,
    release: Option<&str>,
    order: &O,
) -> Vec<Finding> {
    let groups = alias_groups(package, &matches);
    let mut matches: Vec<Option<AdvisoryMatch>> = matches.into_iter().map(Some).collect();
    let mut findings = Vec::with_capacity(groups.len());
    for mut group in groups {
        group.sort_by(|&left, &right| {
            let left_id = &package.advisories[matches_advisory(&matches, left)].0.id;
            let right_id = &package.advisories[matches_advisory(&matches, right)].0.id;
            compare_primary(left_id, right_id, package.ecosystem)
        });
        let members: Vec<AdvisoryMatch> = group
            .iter()
            .filter_map(|&index| matches[index].take())
            .collect();
        findings.push(finding(package, members, package_ref, release, order));
    }
    findings
}

fn matches_advisory(matches: &[Option<AdvisoryMatch>], index: usize) -> usize {
    matches[index]
        .as_ref()
        .map_or(0, |matched| matched.advisory)
}

/// Groups the matches whose records share an id: a record's own id, its `aliases` and its
/// `upstream` ids are joined, transitively (A lists B, B lists C: one group). Only the matched
/// records are consulted. Returns groups of indices into `matches`, in first-member order.
fn alias_groups<P>(package: &PreparedPackage<P>, matches: &[AdvisoryMatch]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..matches.len()).collect();
    fn root(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (index, matched) in matches.iter().enumerate() {
        let advisory = &package.advisories[matched.advisory].0;
        for id in ids_of(advisory) {
            match owner.get(id) {
                Some(&other) => {
                    let (left, right) = (root(&mut parent, index), root(&mut parent, other));
                    if left != right {
                        parent[left.max(right)] = left.min(right);
                    }
                }
                None => {
                    owner.insert(id, index);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    for index in 0..matches.len() {
        let top = root(&mut parent, index);
        let group = *group_of_root.entry(top).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(index);
    }
    groups
}

fn ids_of(advisory: &Advisory) -> impl Iterator<Item = &str> {
    std::iter::once(advisory.id.as_str())
        .chain(advisory.aliases.iter().map(String::as_str))
        .chain(advisory.upstream.iter().map(String::as_str))
        .map(str::trim)
        .filter(|id| !id.is_empty())
}

/// The rank of an id as a finding's primary id; lower is preferred.
///
/// 0. the ecosystem's own database (PYSEC for PyPI, RUSTSEC for crates.io, GO for Go, the
///    distribution's advisories for distributions);
/// 1. GitHub (GHSA);
/// 2. any other database (MAL, OSV, BIT, ...);
/// 3. CVE, the least specific.
pub fn primary_rank(id: &str, ecosystem: Ecosystem) -> u8 {
    let prefix = id.split_once('-').map_or(id, |(prefix, _)| prefix);
    let native: &[&str] = match ecosystem {
        Ecosystem::PyPI => &["PYSEC"],
        Ecosystem::CratesIo => &["RUSTSEC"],
        Ecosystem::Go => &["GO"],
        Ecosystem::Debian => &["DSA", "DLA", "DTSA", "DEBIAN"],
        Ecosystem::Ubuntu => &["USN", "UBUNTU", "LSN"],
        Ecosystem::Alpine => &["ALPINE"],
        Ecosystem::RedHat => &["RHSA", "RHBA", "RHEA"],
        Ecosystem::RockyLinux => &["RLSA", "RXSA", "RLBA", "RLEA"],
        Ecosystem::AlmaLinux => &["ALSA", "ALBA", "ALEA"],
        Ecosystem::OpenSuse | Ecosystem::Suse => &["SUSE", "openSUSE"],
        Ecosystem::Wolfi | Ecosystem::Chainguard => &["CGA"],
        _ => &[],
    };
    if native.contains(&prefix) {
        0
    } else if prefix == "GHSA" {
        1
    } else if prefix == "CVE" {
        3
    } else {
        2
    }
}

/// Orders ids for the choice of the primary one: by [`primary_rank`], then by their parts,
/// numbers compared as numbers (`PYSEC-2023-9` before `PYSEC-2023-10`), then as text.
pub(crate) fn compare_primary(left: &str, right: &str, ecosystem: Ecosystem) -> Ordering {
    primary_rank(left, ecosystem)
        .cmp(&primary_rank(right, ecosystem))
        .then_with(|| natural(left, right))
        .then_with(|| left.cmp(right))
}

fn natural(left: &str, right: &str) -> Ordering {
    let mut left_parts = left.split('-');
    let mut right_parts = right.split('-');
    loop {
        match (left_parts.next(), right_parts.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => {
                let ordering = match (a.parse::<u64>(), b.parse::<u64>()) {
                    (Ok(a), Ok(b)) => a.cmp(&b),
                    _ => a.cmp(b),
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
        }
    }
}

/// One finding from a group of matched records, the preferred record first.
fn finding<O: VersionOrder>(
    package: &PreparedPackage<O::Parsed>,
    members: Vec<AdvisoryMatch>,
    package_ref: &PackageRef,
    release: Option<&str>,
    order: &O,
) -> Finding {
    let records: Vec<&Advisory> = members
        .iter()
        .map(|member| &*package.advisories[member.advisory].0)
        .collect();
    let id = records
        .first()
        .map(|advisory| advisory.id.clone())
        .unwrap_or_default();
    let mut aliases: BTreeSet<String> = records
        .iter()
        .flat_map(|advisory| ids_of(advisory))
        .map(str::to_owned)
        .collect();
    aliases.remove(&id);

    let summary = records
        .iter()
        .find_map(|advisory| non_empty(advisory.summary.as_deref()))
        .map(str::to_owned)
        .or_else(|| {
            records
                .iter()
                .find_map(|advisory| first_line(advisory.details.as_deref()))
        });

    let mut best: Option<Rated> = None;
    for (member, advisory) in members.iter().zip(&records) {
        let rated = rate(advisory, &member.entries);
        if best.as_ref().is_none_or(|best| rated.outranks(best)) {
            best = Some(rated);
        }
    }
    let best = best.unwrap_or_else(|| Rated {
        severity: crate::Severity::Unknown,
        cvss: None,
        source: String::new(),
    });

    let mut fixed_versions: Vec<String> = members
        .iter()
        .flat_map(|member| member.fixed_above.iter().cloned())
        .collect();
    sort_versions(&mut fixed_versions, package.ecosystem, order);
    let mut last_affected: Vec<String> = members
        .iter()
        .flat_map(|member| member.last_affected.iter().cloned())
        .collect();
    sort_versions(&mut last_affected, package.ecosystem, order);

    let evidence: Vec<AffectedEvidence> = members
        .iter()
        .flat_map(|member| {
            let (advisory, entries) = &package.advisories[member.advisory];
            entries.iter().filter_map(move |entry| {
                let affected = &advisory.affected[entry.affected_index];
                let entry_release = affected
                    .package
                    .as_ref()
                    .and_then(|package| package.ecosystem.release.as_deref());
                crate::release_matches(entry_release, release).then(|| AffectedEvidence {
                    advisory: Arc::clone(advisory),
                    affected_index: entry.affected_index,
                })
            })
        })
        .collect();

    Finding {
        id,
        aliases: aliases.into_iter().collect(),
        summary,
        severity: best.severity,
        cvss: best.cvss,
        severity_source: best.source,
        package: package_ref.clone(),
        components: Vec::new(),
        fixed_versions,
        last_affected,
        explanation: members
            .into_iter()
            .flat_map(|member| member.explanations)
            .collect(),
        evidence: Arc::new(evidence),
    }
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// The first non-empty line of `details`, cut at a character boundary with `…` when long.
fn first_line(details: Option<&str>) -> Option<String> {
    let line = details?
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())?;
    if line.chars().count() <= SUMMARY_FROM_DETAILS_MAX {
        return Some(line.to_owned());
    }
    let mut cut: String = line.chars().take(SUMMARY_FROM_DETAILS_MAX - 1).collect();
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_id_preference() {
        let mut ids = vec![
            "CVE-2023-43804",
            "GHSA-v845-jxx5-vc9f",
            "PYSEC-2023-192",
            "MAL-2024-1",
        ];
        ids.sort_by(|a, b| compare_primary(a, b, Ecosystem::PyPI));
        assert_eq!(
            ids,
            [
                "PYSEC-2023-192",
                "GHSA-v845-jxx5-vc9f",
                "MAL-2024-1",
                "CVE-2023-43804"
            ]
        );
        // PYSEC is not native to npm.
        assert_eq!(primary_rank("PYSEC-2023-192", Ecosystem::Npm), 2);
        assert_eq!(primary_rank("RUSTSEC-2024-1", Ecosystem::CratesIo), 0);
        assert_eq!(
            compare_primary("PYSEC-2023-9", "PYSEC-2023-10", Ecosystem::PyPI),
            Ordering::Less
        );
    }

    #[test]
    fn summary_from_details() {
        assert_eq!(
            first_line(Some("\n  Pillow before 10.0.1 bundles libwebp.\nMore.")),
            Some("Pillow before 10.0.1 bundles libwebp.".to_owned())
        );
        let long = "x".repeat(500);
        assert_eq!(
            first_line(Some(&long)).map(|line| line.chars().count()),
            Some(SUMMARY_FROM_DETAILS_MAX)
        );
        assert_eq!(first_line(Some("  \n ")), None);
    }
}
