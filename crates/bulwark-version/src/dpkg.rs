//! dpkg ordering (Debian, Ubuntu) on top of the `debversion` crate.

use std::str::FromStr;

use crate::{Scheme, VersionParseError, trimmed};

/// A Debian package version, `[epoch:]upstream[-revision]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DpkgVersion(debversion::Version);

impl DpkgVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::Dpkg, text)?;
        debversion::Version::from_str(body)
            .map(Self)
            .map_err(|error| VersionParseError::syntax(Scheme::Dpkg, text, error))
    }

    /// The parsed `debversion` version.
    pub fn as_debversion(&self) -> &debversion::Version {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;

    fn version(text: &str) -> DpkgVersion {
        DpkgVersion::parse(text).unwrap()
    }

    #[test]
    fn tilde_sorts_before_the_end() {
        assert!(version("1.0~rc1") < version("1.0"));
        assert!(version("1.0~~") < version("1.0~"));
        assert_eq!(version("1.0").cmp(&version("0:1.0-0")), Ordering::Equal);
        assert!(version("1:0.1") > version("9.9"));
    }
}
