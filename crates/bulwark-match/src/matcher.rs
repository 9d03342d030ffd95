//! Matching an inventory: which identities each component has, one database lookup per
//! package, one evaluation per package version, and the report.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_inventory::{Component, ComponentId, Ecosystem, Inventory, PackageName, Purl};
use bulwark_vulndb::{Advisory, Database};
use rayon::prelude::*;

use crate::evaluate::PreparedPackage;
use crate::merge;
use crate::report::{Finding, MatchReport, NotChecked, NotCheckedReason, PackageRef};
use crate::version::VersionOrder;
use crate::{MatchError, MatchOptions};

/// A package version to look up: the matcher's unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageQuery<'a> {
    /// The OSV ecosystem.
    pub ecosystem: Ecosystem,
    /// The distribution release (`12` for `Debian:12`). Records whose entry has a release
    /// suffix only match a query with the same release (or the release plus a qualifier,
    /// `Ubuntu:22.04:LTS`), and a query with a release only matches entries with a suffix.
    /// `match_inventory` takes it from an OS package's `os-release` distro.
    pub release: Option<&'a str>,
    /// The name as written; normalized with [`PackageName`] for matching.
    pub name: &'a str,
    /// The exact version.
    pub version: &'a str,
    /// The purl to report for the package, if known.
    pub purl: Option<&'a str>,
}

/// What the records say about one [`PackageQuery`].
#[derive(Debug, Clone, Default)]
pub struct PackageMatches {
    /// Findings, aliases merged, most severe first, then by id.
    pub findings: Vec<Finding>,
    /// Why the check is incomplete, if it is (empty when every comparison could be made).
    pub not_checked: Vec<NotCheckedReason>,
}

/// Matches one package version against `advisories` (typically
/// [`Database::advisories_for`]'s answer for it): the building block of [`crate::match_inventory`].
pub fn match_package<O: VersionOrder>(
    advisories: impl IntoIterator<Item = Advisory>,
    query: &PackageQuery<'_>,
    order: &O,
) -> PackageMatches {
    let name = PackageName::new(query.ecosystem, query.name);
    let prepared = PreparedPackage::prepare(advisories, query.ecosystem, &name, order);
    let package_ref = PackageRef {
        name: query.name.to_owned(),
        version: query.version.to_owned(),
        ecosystem: query.ecosystem,
        purl: query.purl.map(str::to_owned),
    };
    evaluate_version(&prepared, &package_ref, query.release, order)
}

fn evaluate_version<O: VersionOrder>(
    prepared: &PreparedPackage<O::Parsed>,
    package_ref: &PackageRef,
    release: Option<&str>,
    order: &O,
) -> PackageMatches {
    let outcome = prepared.evaluate(&package_ref.version, release, order);
    let mut findings = merge::findings(prepared, outcome.matches, package_ref, release, order);
    findings.sort_by(|left, right| {
        right
            .severity
            .cmp(&left.severity)
            .then_with(|| left.id.cmp(&right.id))
    });
    PackageMatches {
        findings,
        not_checked: outcome.problems,
    }
}

/// One identity of a component in an ecosystem OSV covers.
#[derive(Debug, Clone)]
struct Identity {
    ecosystem: Ecosystem,
    /// The distribution release in OSV's spelling (`12`, `22.04`, `v3.19`), for OS packages.
    release: Option<String>,
    name: String,
    normalized: PackageName,
    version: String,
    purl: Option<String>,
}

/// The identities a component is matched under, and why it (or one of its identities)
/// cannot be checked:
///
/// - its own ecosystem, name and version, when OSV covers the ecosystem;
/// - every `also_known_as` purl of an ecosystem OSV covers (a conda package's PyPI purl),
///   with the name and the (percent-decoded) version of that purl.
fn identities(component: &Component) -> (Vec<Identity>, Vec<NotCheckedReason>) {
    let mut found: Vec<Identity> = Vec::new();
    let mut reasons = Vec::new();
    let push = |identity: Identity, found: &mut Vec<Identity>| {
        let duplicate = found.iter().any(|known| {
            known.ecosystem == identity.ecosystem
                && known.normalized == identity.normalized
                && known.version == identity.version
        });
        if !duplicate {
            found.push(identity);
        }
    };
    match component.ecosystem {
        Some(ecosystem) if ecosystem.is_osv() => match &component.version {
            Some(version) => {
                // Distribution advisories are filed under the source package (`openssl`
                // for the binary `libssl3`), at the source version.
                let (name, version) = match &component.metadata {
                    bulwark_inventory::Metadata::OsPackage(os) => (
                        os.source_name
                            .clone()
                            .unwrap_or_else(|| component.name.clone()),
                        os.source_version.clone().unwrap_or_else(|| version.clone()),
                    ),
                    _ => (component.name.clone(), version.clone()),
                };
                push(
                    Identity {
                        ecosystem,
                        release: distribution_release(component),
                        normalized: PackageName::new(ecosystem, &name),
                        name,
                        version,
                        purl: component.purl.as_ref().map(|purl| purl.as_str().to_owned()),
                    },
                    &mut found,
                );
            }
            None => reasons.push(NotCheckedReason::Unpinned),
        },
        _ => {}
    }
    for purl in &component.also_known_as {
        match identity_of_purl(purl) {
            Some(Ok(identity)) => push(identity, &mut found),
            Some(Err(reason)) => reasons.push(reason),
            None => {}
        }
    }
    if found.is_empty() && reasons.is_empty() {
        reasons.push(match component.ecosystem {
            None => NotCheckedReason::NoEcosystem,
            Some(ecosystem) => NotCheckedReason::NoAdvisoryFeed(ecosystem.as_str().to_owned()),
        });
    }
    (found, reasons)
}

/// The release an OS package's advisories are filed under, from the `distro` the cataloger
/// read in `os-release` (`debian-12` → `12`, `ubuntu-22.04` → `22.04`, `alpine-3.19.1` →
/// `v3.19`, as OSV spells `Alpine:v3.19`).
fn distribution_release(component: &Component) -> Option<String> {
    let bulwark_inventory::Metadata::OsPackage(os) = &component.metadata else {
        return None;
    };
    let (_, version) = os.distro.as_deref()?.split_once('-')?;
    Some(match component.ecosystem {
        Some(Ecosystem::Alpine) => {
            let mut parts = version.split('.');
            format!("v{}.{}", parts.next()?, parts.next()?)
        }
        _ => version.to_owned(),
    })
}

/// The identity a purl names, `None` when its type is not an OSV ecosystem (or the purl
/// does not parse), `Some(Err(Unpinned))` when it has no version.
fn identity_of_purl(purl: &Purl) -> Option<Result<Identity, NotCheckedReason>> {
    let parsed: packageurl::PackageUrl<'_> = purl.as_str().parse().ok()?;
    let namespace = parsed.namespace().filter(|namespace| !namespace.is_empty());
    let ecosystem = match parsed.ty() {
        "pypi" => Ecosystem::PyPI,
        "npm" => Ecosystem::Npm,
        "cargo" => Ecosystem::CratesIo,
        "golang" => Ecosystem::Go,
        "maven" => Ecosystem::Maven,
        "nuget" => Ecosystem::NuGet,
        "gem" => Ecosystem::RubyGems,
        "composer" => Ecosystem::Packagist,
        "pub" => Ecosystem::Pub,
        "hackage" => Ecosystem::Hackage,
        "hex" => Ecosystem::Hex,
        "cran" => Ecosystem::Cran,
        // Distribution packages need a release to match; they come with OS cataloging.
        _ => return None,
    };
    let name = match (ecosystem, namespace) {
        (Ecosystem::Npm | Ecosystem::Go | Ecosystem::Packagist, Some(namespace)) => {
            format!("{namespace}/{}", parsed.name())
        }
        (Ecosystem::Maven, Some(namespace)) => format!("{namespace}:{}", parsed.name()),
        _ => parsed.name().to_owned(),
    };
    // `packageurl` percent-decodes the version (`2.2.0%2Bcu121` → `2.2.0+cu121`).
    let Some(version) = parsed.version().filter(|version| !version.is_empty()) else {
        return Some(Err(NotCheckedReason::Unpinned));
    };
    Some(Ok(Identity {
        ecosystem,
        release: None,
        normalized: PackageName::new(ecosystem, &name),
        name,
        version: version.to_owned(),
        purl: Some(purl.as_str().to_owned()),
    }))
}

/// Where an identity came from: the component's index in the inventory.
type Member = (usize, Identity);

/// The members of one package version: the version parsed (if it parses), as written, and
/// the members.
type VersionGroup<'a, P> = (Option<P>, &'a str, Option<&'a str>, Vec<&'a Member>);

pub(crate) fn match_inventory_with<O: VersionOrder>(
    inventory: &Inventory,
    db: &Database,
    options: &MatchOptions,
    order: &O,
) -> Result<MatchReport, MatchError> {
    let mut not_checked = Vec::new();
    let mut packages: BTreeMap<(Ecosystem, PackageName), Vec<Member>> = BTreeMap::new();
    for (index, component) in inventory.components.iter().enumerate() {
        let (found, reasons) = identities(component);
        not_checked.extend(
            reasons
                .into_iter()
                .map(|reason| not_checked_entry(component, reason)),
        );
        for identity in found {
            packages
                .entry((identity.ecosystem, identity.normalized.clone()))
                .or_default()
                .push((index, identity));
        }
    }

    let packages: Vec<_> = packages.into_iter().collect();
    let results: Vec<(Vec<Finding>, Vec<NotChecked>)> = packages
        .into_par_iter()
        .map(|((ecosystem, name), members)| {
            let advisories =
                db.advisories_for(ecosystem, &name)
                    .map_err(|source| MatchError::Database {
                        ecosystem,
                        name: name.as_str().to_owned(),
                        source,
                    })?;
            Ok(match_members(
                inventory, advisories, ecosystem, &name, &members, order,
            ))
        })
        .collect::<Result<_, MatchError>>()?;

    let mut findings = Vec::new();
    for (package_findings, package_not_checked) in results {
        findings.extend(package_findings);
        not_checked.extend(package_not_checked);
    }
    if !options.ignore.is_empty() {
        findings.retain(|finding| {
            !options.ignore.contains(&finding.id)
                && !finding
                    .aliases
                    .iter()
                    .any(|alias| options.ignore.contains(alias))
        });
    }
    // Packages come in (ecosystem, normalized name) order and each package's findings in
    // version order, then most severe first, then by id: the report order, without parsing
    // a version again.
    not_checked.sort();
    not_checked.dedup();
    Ok(MatchReport {
        findings,
        not_checked,
    })
}

/// Evaluates every distinct version of one package among the members once.
fn match_members<O: VersionOrder>(
    inventory: &Inventory,
    advisories: Vec<Advisory>,
    ecosystem: Ecosystem,
    name: &PackageName,
    members: &[Member],
    order: &O,
) -> (Vec<Finding>, Vec<NotChecked>) {
    let prepared = PreparedPackage::prepare(advisories, ecosystem, name, order);
    if prepared.advisories.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut by_version: BTreeMap<(&str, Option<&str>), Vec<&Member>> = BTreeMap::new();
    for member in members {
        by_version
            .entry((member.1.version.as_str(), member.1.release.as_deref()))
            .or_default()
            .push(member);
    }
    // Versions in the ecosystem's order (each parsed once), unparsable ones last, as text.
    let mut by_version: Vec<VersionGroup<'_, O::Parsed>> = by_version
        .into_iter()
        .map(|((version, release), members)| {
            (
                order.parse(ecosystem, version).ok(),
                version,
                release,
                members,
            )
        })
        .collect();
    by_version.sort_by(|left, right| match (&left.0, &right.0) {
        (Some(a), Some(b)) => order.compare(a, b).then_with(|| left.1.cmp(right.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => left.1.cmp(right.1),
    });
    let mut findings = Vec::new();
    let mut not_checked = Vec::new();
    for (_, version, release, members) in by_version {
        let first = &members[0].1;
        let package_ref = PackageRef {
            name: first.name.clone(),
            version: version.to_owned(),
            ecosystem,
            purl: first.purl.clone(),
        };
        let matches = evaluate_version(&prepared, &package_ref, release, order);
        let components: BTreeSet<String> = members
            .iter()
            .map(|(index, _)| ComponentId::of(&inventory.components[*index]).to_string())
            .collect();
        for mut finding in matches.findings {
            finding.components = components.iter().cloned().collect();
            findings.push(finding);
        }
        for reason in matches.not_checked {
            for (index, _) in &members {
                not_checked.push(not_checked_entry(
                    &inventory.components[*index],
                    reason.clone(),
                ));
            }
        }
    }
    (findings, not_checked)
}

fn not_checked_entry(component: &Component, reason: NotCheckedReason) -> NotChecked {
    NotChecked {
        component: ComponentId::of(component).to_string(),
        name: component.name.clone(),
        version: component.version.clone(),
        ecosystem: component.ecosystem,
        purl: component.purl.as_ref().map(|purl| purl.as_str().to_owned()),
        reason,
    }
}
