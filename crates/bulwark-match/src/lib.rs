//! Exact matching of an [`Inventory`] against OSV records.
//!
//! [`match_inventory`] looks every package of an inventory up in the vulnerability
//! [`Database`] and returns a [`MatchReport`]: the [`Finding`]s, one per (package version,
//! vulnerability), each able to explain itself, and the components that could not be checked
//! ([`NotChecked`]), which are never silently dropped.
//!
//! # The OSV rules implemented
//!
//! - **Which entry applies.** An `affected[]` entry applies to a package when its base
//!   ecosystem is the package's, its release suffix equals the package's release (`Debian:12`
//!   needs release `12`; no suffix needs no release; components carry no release yet, so today
//!   suffixed entries never match; [`PackageQuery::release`] is ready for OS packages), and
//!   its name normalized with [`PackageName`] (PEP 503 for PyPI) equals the package's.
//! - **Versions list.** A version is affected when the entry's `versions` lists it as the same
//!   string, or lists a version equal to it in the ecosystem's order (`1.0` listed, `1.0.0`
//!   installed, for PyPI). Equal means equal: a PEP 440 local version `2.2.0+cu121` is *not*
//!   `2.2.0`. Listed strings that do not parse can only match as text.
//! - **Ranges.** `ECOSYSTEM` ranges compare in the ecosystem's order, `SEMVER` ranges with
//!   SemVer 2.0 precedence whatever the ecosystem (so `2.2.0+cu121` = `2.2.0` there, and
//!   `1.0.0rc1`, not SemVer, cannot be compared). Events are sorted by version (with
//!   `introduced: "0"` lowest, and at equal versions `introduced` first) and walked:
//!   `introduced` opens, `fixed` closes exclusive, `last_affected` closes inclusive; `limit`
//!   events bound the whole range exclusive (a version must be below one of them; `*` is no
//!   bound). Several intervals per range, several ranges per entry, unsorted events: all as
//!   the specification's evaluation algorithm. `GIT` ranges (commits) and range types the
//!   schema does not define are never used for package matching.
//! - **Withdrawn** records are never reported.
//! - **Comparison errors are not misses.** A component version or a range event that does
//!   not parse, or an ecosystem without a version order, puts the component in
//!   [`MatchReport::not_checked`] with the reason ([`NotCheckedReason`]); whatever could be
//!   decided is still reported. Versions are only parsed when a record needs them: a package
//!   no record names is checked whatever its version looks like.
//! - **Identities.** A component is matched under its own ecosystem, name and version, and
//!   under every `also_known_as` purl of a language ecosystem OSV covers (a conda package that
//!   is also `pkg:pypi/numpy@1.26.4` is matched as PyPI `numpy` `1.26.4`, the version
//!   percent-decoded). Without an ecosystem, without a version, or in an ecosystem without an
//!   advisory feed (conda) and no other identity, it is not checked.
//!
//! # Findings
//!
//! - **Aliases.** Records that matched the same package version and share an id (their `id`,
//!   `aliases` and `upstream` ids, joined transitively: A lists B, B lists C → one finding)
//!   become one finding listing every id. Only the matched records are consulted.
//! - **Primary id.** The matched record whose id ranks first by [`primary_rank`]: the
//!   ecosystem's own database (PYSEC for PyPI, RUSTSEC for crates.io, GO for Go, the
//!   distribution's advisories), then GHSA, then other databases, then CVE; ties by id with
//!   numbers compared as numbers. Ids that are only aliases (no matched record) are never
//!   primary.
//! - **Severity.** Per record: the top-level `severity[]` CVSS vectors first (v3.1, then
//!   v3.0, for comparability with other tools, then v4.0, then v2), then the matched
//!   entries' `affected[].severity[]`, then qualitative ratings (`database_specific.severity`,
//!   as GitHub writes `LOW`/`MODERATE`/`HIGH`/`CRITICAL`, then the entries'
//!   `ecosystem_specific`/`database_specific` severity, then Ubuntu priorities), else
//!   `unknown`. Vectors are scored with the `cvss` crate (base score) and rated with the
//!   CVSS v3 bands for every version. Across merged records the highest severity wins (ties:
//!   the higher score, then the primary record); [`Finding::severity_source`] names the
//!   record and field.
//! - **Fixes.** [`Finding::fixed_versions`]: the `fixed` events above the version of the
//!   ranges that matched; [`Finding::last_affected`] when an interval is closed by
//!   `last_affected` (no known fix). [`smallest_fixing_version`] picks the smallest upgrade
//!   that no matched record affects.
//!
//! # Traps
//!
//! - `fixed` is exclusive and `last_affected` inclusive: `introduced 0, fixed 10.0.0` does
//!   not affect `10.0.0`.
//! - PyPI local versions order *above* their public version (`2.2.0 < 2.2.0+cu121`) in
//!   `ECOSYSTEM` ranges but are equal to it in `SEMVER` ranges.
//! - Names differ in spelling between records and inventories (`Pillow`/`pillow`,
//!   `zope.interface`/`zope-interface`); always compare [`PackageName`]s.
//! - The same CVE in records of two packages (`langchain` and `langchain-core`) gives two
//!   findings: merging is per package version.
//!
//! # Performance
//!
//! Each distinct (ecosystem, normalized name) is looked up once and its records parsed and
//! prepared once (range events parsed and sorted once); each distinct version of it is
//! evaluated once, its string parsed once per order. Packages are processed in parallel.

mod evaluate;
mod fix;
mod matcher;
mod merge;
mod range;
mod report;
mod severity;
mod version;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use bulwark_inventory::{Ecosystem, Inventory};
use bulwark_vulndb::Database;

pub use fix::{smallest_fixing_version, smallest_fixing_version_with};
pub use matcher::{PackageMatches, PackageQuery, match_package};
pub use merge::primary_rank;
pub use report::{
    Finding, MatchExplanation, MatchReport, NotChecked, NotCheckedReason, PackageRef,
};
pub use severity::{Cvss, Severity, UnknownSeverity};
pub use version::{EcosystemOrder, VersionError, VersionOrder};

/// Whether an advisory entry's release suffix applies to a component's release: equal, or
/// the entry adds a qualifier after the release (`Ubuntu:22.04:LTS` for `22.04`). No suffix
/// matches no release only: a `Debian:12` record never matches a Debian package of unknown
/// release, and an unsuffixed record never matches one of a known release.
pub(crate) fn release_matches(entry: Option<&str>, component: Option<&str>) -> bool {
    match (entry, component) {
        (None, None) => true,
        (Some(entry), Some(component)) => {
            entry == component
                || entry
                    .strip_prefix(component)
                    .is_some_and(|rest| rest.starts_with(':'))
        }
        _ => false,
    }
}

/// Settings for [`match_inventory`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MatchOptions {
    /// Vulnerability ids to leave out of the report: a finding is dropped when its id or any
    /// of its aliases is here.
    pub ignore: BTreeSet<String>,
}

/// Matching could not be done (not: a component could not be checked; that is in the report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The database could not be read.
    #[error("reading the advisories of {ecosystem} package `{name}`")]
    Database {
        /// The ecosystem looked up.
        ecosystem: Ecosystem,
        /// The normalized name looked up.
        name: String,
        /// The database error.
        #[source]
        source: bulwark_vulndb::Error,
    },
}

/// Matches every component of `inventory` against `db` with the ecosystem version orders of
/// `bulwark-version`.
///
/// # Errors
/// [`MatchError::Database`] when the database cannot be read.
pub fn match_inventory(
    inventory: &Inventory,
    db: &Database,
    options: &MatchOptions,
) -> Result<MatchReport, MatchError> {
    matcher::match_inventory_with(inventory, db, options, &EcosystemOrder)
}

/// [`match_inventory`] with another version order.
///
/// # Errors
/// [`MatchError::Database`] when the database cannot be read.
pub fn match_inventory_with<O: VersionOrder>(
    inventory: &Inventory,
    db: &Database,
    options: &MatchOptions,
    order: &O,
) -> Result<MatchReport, MatchError> {
    matcher::match_inventory_with(inventory, db, options, order)
}

#[cfg(test)]
mod release_tests {
    use super::release_matches;

    #[test]
    fn releases() {
        assert!(release_matches(None, None));
        assert!(release_matches(Some("12"), Some("12")));
        assert!(release_matches(Some("22.04:LTS"), Some("22.04")));
        assert!(!release_matches(Some("22.04:LTS"), Some("22")));
        assert!(!release_matches(Some("12"), None));
        assert!(!release_matches(None, Some("12")));
        assert!(!release_matches(Some("11"), Some("12")));
    }
}
