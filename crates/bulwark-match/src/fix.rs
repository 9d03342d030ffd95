//! Upgrade advice: the smallest version that fixes every finding of a package.

use bulwark_vulndb::osv::Affected;

use crate::evaluate::{Candidate, PreparedEntry};
use crate::report::Finding;
use crate::version::{EcosystemOrder, VersionOrder};

/// The smallest version above the current one that none of `findings`' records affects, or
/// `None` when there is none among the candidates (no fix exists, or the findings are empty).
///
/// `findings` are the findings of one package version (as [`crate::MatchReport::by_package`]
/// groups them); findings of other package versions are ignored. The candidates are the
/// `fixed` versions of every range of the matched records' entries for this package that lie
/// above the current version; each is checked, smallest first, against every such entry (its
/// ranges and its versions list), so a fix for one finding that is still affected by another
/// is passed over. A candidate that cannot be compared is passed over too. Records that did
/// not match the current version are not consulted: an upgrade can in principle move into
/// a range of a record that does not affect the current version.
pub fn smallest_fixing_version(findings: &[Finding]) -> Option<String> {
    smallest_fixing_version_with(findings, &EcosystemOrder)
}

/// [`smallest_fixing_version`] with another version order.
pub fn smallest_fixing_version_with<O: VersionOrder>(
    findings: &[Finding],
    order: &O,
) -> Option<String> {
    let package = &findings.first()?.package;
    let ecosystem = package.ecosystem;
    let current = order.parse(ecosystem, &package.version).ok()?;
    let findings: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.package == *package)
        .collect();

    let evidence: Vec<(&str, &Affected)> = findings
        .iter()
        .flat_map(|finding| finding.evidence.iter())
        .filter_map(|entry| Some((entry.advisory.id.as_str(), entry.affected()?)))
        .collect();
    let mut candidates: Vec<(O::Parsed, String)> = Vec::new();
    let texts = findings
        .iter()
        .flat_map(|finding| finding.fixed_versions.iter().cloned())
        .chain(evidence.iter().flat_map(|(_, affected)| {
            affected
                .ranges
                .iter()
                .flat_map(|range| range.events.iter())
                .filter_map(|event| match event {
                    bulwark_vulndb::osv::Event::Fixed(text) => Some(text.clone()),
                    _ => None,
                })
        }));
    for text in texts {
        if candidates.iter().any(|(_, known)| *known == text) {
            continue;
        }
        if let Ok(parsed) = order.parse(ecosystem, &text)
            && order.compare(&parsed, &current).is_gt()
        {
            candidates.push((parsed, text));
        }
    }
    candidates.sort_by(|left, right| {
        order
            .compare(&left.0, &right.0)
            .then_with(|| left.1.cmp(&right.1))
    });

    let prepared: Vec<_> = evidence
        .iter()
        .map(|(_, affected)| PreparedEntry::prepare(0, affected, ecosystem, order))
        .collect();
    candidates.into_iter().map(|(_, text)| text).find(|text| {
        let candidate = Candidate::new(text);
        evidence
            .iter()
            .zip(&prepared)
            .all(|((id, affected), prepared)| {
                let outcome = prepared.evaluate(id, affected, &candidate, ecosystem, order);
                outcome.explanations.is_empty() && outcome.problems.is_empty()
            })
    })
}
