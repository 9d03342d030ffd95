//! How the matcher orders versions: an ecosystem's own order for `ECOSYSTEM` ranges and
//! SemVer 2.0 precedence for `SEMVER` ranges, behind [`VersionOrder`].

use std::cmp::Ordering;

use bulwark_inventory::Ecosystem;

/// An ecosystem's version order, as the matcher needs it: parse a version once, compare
/// parsed versions many times.
///
/// The matcher parses each distinct component version and each range event once per package
/// and then only calls [`VersionOrder::compare`], so a scan of tens of thousands of
/// components never re-parses the same string.
pub trait VersionOrder: Sync {
    /// A parsed version.
    type Parsed: Send + Sync;

    /// Parses `version` under `ecosystem`'s rules.
    ///
    /// # Errors
    /// [`VersionError::NoScheme`] when there is no order for the ecosystem,
    /// [`VersionError::Unparsable`] when the ecosystem's own tool would reject the string.
    fn parse(&self, ecosystem: Ecosystem, version: &str) -> Result<Self::Parsed, VersionError>;

    /// Parses `version` as SemVer 2.0, for `SEMVER` ranges, whatever the ecosystem.
    ///
    /// # Errors
    /// [`VersionError::Unparsable`] when the string is not SemVer 2.0.
    fn parse_semver(&self, version: &str) -> Result<Self::Parsed, VersionError>;

    /// Compares two versions parsed by [`VersionOrder::parse`] for the same ecosystem, or
    /// both by [`VersionOrder::parse_semver`].
    fn compare(&self, left: &Self::Parsed, right: &Self::Parsed) -> Ordering;
}

/// Why a version could not be placed in an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// There is no version order for the ecosystem.
    #[error("no version scheme for ecosystem `{0}`")]
    NoScheme(String),
    /// The string is not a version of the scheme; the text says why.
    #[error("{0}")]
    Unparsable(String),
}

/// The orders of the `bulwark-version` crate: [`bulwark_version::Scheme::for_ecosystem`] for
/// `ECOSYSTEM` ranges and [`bulwark_version::Scheme::SemVer`] (SemVer 2.0 precedence, build
/// metadata ignored, a leading `v` accepted) for `SEMVER` ranges.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcosystemOrder;

impl VersionOrder for EcosystemOrder {
    type Parsed = bulwark_version::Version;

    fn parse(&self, ecosystem: Ecosystem, version: &str) -> Result<Self::Parsed, VersionError> {
        let Some(scheme) = bulwark_version::Scheme::for_ecosystem(ecosystem) else {
            return Err(VersionError::NoScheme(ecosystem.as_str().to_owned()));
        };
        scheme
            .parse(version)
            .map_err(|error| VersionError::Unparsable(error.to_string()))
    }

    fn parse_semver(&self, version: &str) -> Result<Self::Parsed, VersionError> {
        bulwark_version::Scheme::SemVer
            .parse(version)
            .map_err(|error| VersionError::Unparsable(error.to_string()))
    }

    fn compare(&self, left: &Self::Parsed, right: &Self::Parsed) -> Ordering {
        // Versions of one scheme are totally ordered; the matcher never compares versions of
        // two schemes, but if it did, ordering by scheme keeps this a total order.
        left.try_cmp(right)
            .unwrap_or_else(|| left.scheme().cmp(&right.scheme()))
    }
}

#[cfg(test)]
pub(crate) mod toy {
    //! A toy order for unit tests: dot-separated unsigned integers (`1.10.0`), missing parts
    //! count as zero, anything else is unparsable; ecosystem `Hex` has no scheme.

    use super::{Ecosystem, Ordering, VersionError, VersionOrder};

    #[derive(Debug, Clone, Copy, Default)]
    pub(crate) struct DottedOrder;

    impl VersionOrder for DottedOrder {
        type Parsed = Vec<u64>;

        fn parse(&self, ecosystem: Ecosystem, version: &str) -> Result<Vec<u64>, VersionError> {
            if ecosystem == Ecosystem::Hex {
                return Err(VersionError::NoScheme(ecosystem.as_str().to_owned()));
            }
            let mut parts = version
                .split('.')
                .map(|part| {
                    part.parse::<u64>()
                        .map_err(|_| VersionError::Unparsable(format!("toy: `{version}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            while parts.last() == Some(&0) {
                parts.pop();
            }
            Ok(parts)
        }

        /// Exactly three parts, an optional leading `v`, build metadata after `+` ignored.
        fn parse_semver(&self, version: &str) -> Result<Vec<u64>, VersionError> {
            let text = version.strip_prefix('v').unwrap_or(version);
            let core = text.split_once('+').map_or(text, |(core, _)| core);
            if core.split('.').count() != 3 {
                return Err(VersionError::Unparsable(format!("toy semver: `{version}`")));
            }
            self.parse(Ecosystem::CratesIo, core)
        }

        fn compare(&self, left: &Vec<u64>, right: &Vec<u64>) -> Ordering {
            left.cmp(right)
        }
    }
}
