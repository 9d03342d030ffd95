//! Deciding whether one version of one package is affected by the `affected[]` entries of a
//! package's records, with everything parsed once per package.

use std::cell::OnceCell;
use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use bulwark_inventory::{Ecosystem, PackageName};
use bulwark_vulndb::Advisory;
use bulwark_vulndb::osv::{Affected, EcosystemId, RangeType};

use crate::range::{Inside, PreparedEvents};
use crate::report::{MatchExplanation, NotCheckedReason};
use crate::version::{VersionError, VersionOrder};

/// One range of an entry, parsed.
#[derive(Debug)]
enum PreparedRange<P> {
    Ecosystem(Result<PreparedEvents<P>, VersionError>),
    Semver(Result<PreparedEvents<P>, VersionError>),
    /// `GIT` ranges (commits, not package versions) and range types the schema does not
    /// define.
    Unused,
}

/// One `affected[]` entry, parsed.
#[derive(Debug)]
pub(crate) struct PreparedEntry<P> {
    pub(crate) affected_index: usize,
    ranges: Vec<PreparedRange<P>>,
    /// The `versions` list parsed in the ecosystem's order and sorted, built the first time a
    /// version is not found in it as text; entries that do not parse are left out (they can
    /// only equal a version as text).
    listed: OnceLock<Vec<(P, usize)>>,
}

/// A version being checked, parsed on first use in each order.
pub(crate) struct Candidate<'a, P> {
    pub(crate) text: &'a str,
    ecosystem: OnceCell<Result<P, VersionError>>,
    semver: OnceCell<Result<P, VersionError>>,
}

impl<'a, P> Candidate<'a, P> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            ecosystem: OnceCell::new(),
            semver: OnceCell::new(),
        }
    }

    pub(crate) fn in_ecosystem<O: VersionOrder<Parsed = P>>(
        &self,
        order: &O,
        ecosystem: Ecosystem,
    ) -> Result<&P, &VersionError> {
        self.ecosystem
            .get_or_init(|| order.parse(ecosystem, self.text))
            .as_ref()
    }

    fn in_semver<O: VersionOrder<Parsed = P>>(&self, order: &O) -> Result<&P, &VersionError> {
        self.semver
            .get_or_init(|| order.parse_semver(self.text))
            .as_ref()
    }
}

/// What one entry says about one version.
#[derive(Debug, Default)]
pub(crate) struct EntryOutcome {
    pub(crate) explanations: Vec<MatchExplanation>,
    pub(crate) fixed_above: Vec<String>,
    pub(crate) last_affected: Vec<String>,
    /// Why a comparison could not be made. The first element names the order
    /// (`ECOSYSTEM`/`SEMVER`) when the checked version itself does not parse in it, so that
    /// the package reports that once rather than once per record.
    pub(crate) problems: Vec<(Option<&'static str>, NotCheckedReason)>,
}

impl<P> PreparedEntry<P> {
    /// Parses the entry's ranges.
    pub(crate) fn prepare<O: VersionOrder<Parsed = P>>(
        affected_index: usize,
        affected: &Affected,
        ecosystem: Ecosystem,
        order: &O,
    ) -> Self {
        let ranges = affected
            .ranges
            .iter()
            .map(|range| match range.kind {
                RangeType::Ecosystem => PreparedRange::Ecosystem(PreparedEvents::prepare(
                    &range.events,
                    |text| order.parse(ecosystem, text),
                    |left, right| order.compare(left, right),
                )),
                RangeType::Semver => PreparedRange::Semver(PreparedEvents::prepare(
                    &range.events,
                    |text| order.parse_semver(text),
                    |left, right| order.compare(left, right),
                )),
                RangeType::Git | RangeType::Other(_) => PreparedRange::Unused,
            })
            .collect();
        Self {
            affected_index,
            ranges,
            listed: OnceLock::new(),
        }
    }

    /// Whether `candidate` is affected according to this entry, and why.
    pub(crate) fn evaluate<O: VersionOrder<Parsed = P>>(
        &self,
        advisory_id: &str,
        affected: &Affected,
        candidate: &Candidate<'_, P>,
        ecosystem: Ecosystem,
        order: &O,
    ) -> EntryOutcome {
        let mut outcome = EntryOutcome::default();
        let text = candidate.text;
        let explanation =
            |range_index, range_type: &str, inside: Option<&Inside>, comparison| MatchExplanation {
                advisory_id: advisory_id.to_owned(),
                affected_index: self.affected_index,
                range_index,
                range_type: range_type.to_owned(),
                events: inside
                    .map(|inside| inside.events.clone())
                    .unwrap_or_default(),
                comparison,
            };
        if affected.versions.iter().any(|listed| listed == text) {
            outcome.explanations.push(explanation(
                None,
                "versions",
                None,
                format!("{text} is listed in versions"),
            ));
        }
        let range_problem = |range_index: usize, error: &VersionError| match error {
            VersionError::NoScheme(name) => NotCheckedReason::UnknownVersionScheme(name.clone()),
            VersionError::Unparsable(detail) => NotCheckedReason::UnparsableVersion(format!(
                "{advisory_id} affected[{}] ranges[{range_index}]: {detail}",
                self.affected_index
            )),
        };
        let version_problem = |error: &VersionError, range_type: &'static str| match error {
            VersionError::NoScheme(name) => NotCheckedReason::UnknownVersionScheme(name.clone()),
            VersionError::Unparsable(detail) => NotCheckedReason::UnparsableVersion(format!(
                "{detail} (needed by the {range_type} range of {advisory_id})"
            )),
        };
        for (range_index, range) in self.ranges.iter().enumerate() {
            let (range_type, inside) = match range {
                PreparedRange::Unused => continue,
                PreparedRange::Ecosystem(events) => {
                    let events = match events {
                        Ok(events) => events,
                        Err(error) => {
                            outcome
                                .problems
                                .push((None, range_problem(range_index, error)));
                            continue;
                        }
                    };
                    let version = match candidate.in_ecosystem(order, ecosystem) {
                        Ok(version) => version,
                        Err(error) => {
                            outcome
                                .problems
                                .push((Some("ECOSYSTEM"), version_problem(error, "ECOSYSTEM")));
                            continue;
                        }
                    };
                    (
                        "ECOSYSTEM",
                        events.evaluate(version, text, |left, right| order.compare(left, right)),
                    )
                }
                PreparedRange::Semver(events) => {
                    let events = match events {
                        Ok(events) => events,
                        Err(error) => {
                            outcome
                                .problems
                                .push((None, range_problem(range_index, error)));
                            continue;
                        }
                    };
                    let version = match candidate.in_semver(order) {
                        Ok(version) => version,
                        Err(error) => {
                            outcome
                                .problems
                                .push((Some("SEMVER"), version_problem(error, "SEMVER")));
                            continue;
                        }
                    };
                    (
                        "SEMVER",
                        events.evaluate(version, text, |left, right| order.compare(left, right)),
                    )
                }
            };
            if let Some(inside) = inside {
                outcome.explanations.push(explanation(
                    Some(range_index),
                    range_type,
                    Some(&inside),
                    inside.comparison.clone(),
                ));
                outcome.fixed_above.extend(inside.fixed_above);
                outcome.last_affected.extend(inside.last_affected);
            }
        }
        if outcome.explanations.is_empty()
            && !affected.versions.is_empty()
            && let Ok(version) = candidate.in_ecosystem(order, ecosystem)
        {
            let listed = self.listed.get_or_init(|| {
                let mut listed: Vec<(P, usize)> = affected
                    .versions
                    .iter()
                    .enumerate()
                    .filter_map(|(position, text)| {
                        order
                            .parse(ecosystem, text)
                            .ok()
                            .map(|parsed| (parsed, position))
                    })
                    .collect();
                listed.sort_by(|left, right| order.compare(&left.0, &right.0));
                listed
            });
            if let Ok(found) = listed.binary_search_by(|(parsed, _)| order.compare(parsed, version))
            {
                let listed_text = &affected.versions[listed[found].1];
                outcome.explanations.push(explanation(
                    None,
                    "versions",
                    None,
                    format!(
                        "{text} equals {listed_text}, listed in versions, in the {ecosystem} order"
                    ),
                ));
            }
        }
        outcome
    }
}

/// The records of one package, with the entries about it parsed.
pub(crate) struct PreparedPackage<P> {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) advisories: Vec<(Arc<Advisory>, Vec<PreparedEntry<P>>)>,
}

/// What one record says about one version.
pub(crate) struct AdvisoryMatch {
    /// Index into [`PreparedPackage::advisories`].
    pub(crate) advisory: usize,
    /// Indices of the entries that matched.
    pub(crate) entries: Vec<usize>,
    pub(crate) explanations: Vec<MatchExplanation>,
    pub(crate) fixed_above: Vec<String>,
    pub(crate) last_affected: Vec<String>,
}

/// Everything the records of a package say about one version.
#[derive(Default)]
pub(crate) struct VersionOutcome {
    pub(crate) matches: Vec<AdvisoryMatch>,
    pub(crate) problems: Vec<NotCheckedReason>,
}

impl<P> PreparedPackage<P> {
    /// Keeps the records that are not withdrawn and have an entry about `name` (in any
    /// release), and parses those entries.
    pub(crate) fn prepare<O: VersionOrder<Parsed = P>>(
        advisories: impl IntoIterator<Item = Advisory>,
        ecosystem: Ecosystem,
        name: &PackageName,
        order: &O,
    ) -> Self {
        let advisories = advisories
            .into_iter()
            .filter(|advisory| !advisory.is_withdrawn())
            .filter_map(|advisory| {
                let entries: Vec<PreparedEntry<P>> = advisory
                    .affected
                    .iter()
                    .enumerate()
                    .filter(|(_, affected)| {
                        affected.package.as_ref().is_some_and(|package| {
                            package.ecosystem.base == EcosystemId::Known(ecosystem)
                                && PackageName::new(ecosystem, &package.name) == *name
                        })
                    })
                    .map(|(index, affected)| {
                        PreparedEntry::prepare(index, affected, ecosystem, order)
                    })
                    .collect();
                (!entries.is_empty()).then(|| (Arc::new(advisory), entries))
            })
            .collect();
        Self {
            ecosystem,
            advisories,
        }
    }

    /// What the records say about `version` in `release` (components have none yet).
    pub(crate) fn evaluate<O: VersionOrder<Parsed = P>>(
        &self,
        version: &str,
        release: Option<&str>,
        order: &O,
    ) -> VersionOutcome {
        let candidate = Candidate::new(version);
        let mut outcome = VersionOutcome::default();
        // The orders in which the version itself did not parse (reported once each).
        let mut version_problems = std::collections::BTreeSet::new();
        for (advisory_index, (advisory, entries)) in self.advisories.iter().enumerate() {
            let mut found: Option<AdvisoryMatch> = None;
            for entry in entries {
                let affected = &advisory.affected[entry.affected_index];
                let entry_release = affected
                    .package
                    .as_ref()
                    .and_then(|package| package.ecosystem.release.as_deref());
                if !crate::release_matches(entry_release, release) {
                    continue;
                }
                let result =
                    entry.evaluate(&advisory.id, affected, &candidate, self.ecosystem, order);
                for (order_name, problem) in result.problems {
                    if let Some(order_name) = order_name
                        && !version_problems.insert(order_name)
                    {
                        continue;
                    }
                    if !outcome.problems.contains(&problem) {
                        outcome.problems.push(problem);
                    }
                }
                if result.explanations.is_empty() {
                    continue;
                }
                let found = found.get_or_insert_with(|| AdvisoryMatch {
                    advisory: advisory_index,
                    entries: Vec::new(),
                    explanations: Vec::new(),
                    fixed_above: Vec::new(),
                    last_affected: Vec::new(),
                });
                found.entries.push(entry.affected_index);
                found.explanations.extend(result.explanations);
                found.fixed_above.extend(result.fixed_above);
                found.last_affected.extend(result.last_affected);
            }
            outcome.matches.extend(found);
        }
        outcome
    }
}

/// Sorts version strings by the ecosystem's order (unparsable ones last, as text) and drops
/// duplicates.
pub(crate) fn sort_versions<O: VersionOrder>(
    versions: &mut Vec<String>,
    ecosystem: Ecosystem,
    order: &O,
) {
    versions.sort();
    versions.dedup();
    let mut keyed: Vec<(Option<O::Parsed>, String)> = versions
        .drain(..)
        .map(|text| (order.parse(ecosystem, &text).ok(), text))
        .collect();
    keyed.sort_by(|left, right| match (&left.0, &right.0) {
        (Some(a), Some(b)) => order.compare(a, b).then_with(|| left.1.cmp(&right.1)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => left.1.cmp(&right.1),
    });
    versions.extend(keyed.into_iter().map(|(_, text)| text));
}
