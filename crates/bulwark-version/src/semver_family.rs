//! SemVer 2.0 precedence for crates.io, Hex, npm and Go, on top of the `semver` crate.

use std::cmp::Ordering;

use crate::{Scheme, VersionParseError, trimmed};

/// A SemVer 2.0 version. Ordering follows SemVer precedence: build metadata is kept but never
/// compared.
#[derive(Debug, Clone)]
pub struct SemVerVersion(semver::Version);

impl SemVerVersion {
    /// The parsed `semver` version, build metadata included.
    pub fn as_semver(&self) -> &semver::Version {
        &self.0
    }

    /// crates.io and Hex: strict SemVer 2.0, with an optional leading `v`.
    pub(crate) fn parse_semver(text: &str) -> Result<Self, VersionParseError> {
        Self::parse_with(Scheme::SemVer, text)
    }

    /// npm: node-semver's strict grammar (optional leading `v`, surrounding whitespace).
    pub(crate) fn parse_npm(text: &str) -> Result<Self, VersionParseError> {
        Self::parse_with(Scheme::Npm, text)
    }

    /// Go: optional leading `v`; `v1` and `v1.2` are shorthands for `v1.0.0` and `v1.2.0`.
    pub(crate) fn parse_go(text: &str) -> Result<Self, VersionParseError> {
        let scheme = Scheme::Go;
        let body = trimmed(scheme, text)?;
        let body = body.strip_prefix('v').unwrap_or(body);
        let dots = body.bytes().filter(|byte| *byte == b'.').count();
        let is_plain_numbers = body
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'.');
        if is_plain_numbers && dots < 2 {
            let padded = if dots == 0 {
                format!("{body}.0.0")
            } else {
                format!("{body}.0")
            };
            return semver::Version::parse(&padded)
                .map(Self)
                .map_err(|error| VersionParseError::syntax(scheme, text, error));
        }
        semver::Version::parse(body)
            .map(Self)
            .map_err(|error| VersionParseError::syntax(scheme, text, error))
    }

    fn parse_with(scheme: Scheme, text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(scheme, text)?;
        let body = body.strip_prefix('v').unwrap_or(body);
        semver::Version::parse(body)
            .map(Self)
            .map_err(|error| VersionParseError::syntax(scheme, text, error))
    }
}

impl Ord for SemVerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (left, right) = (&self.0, &other.0);
        left.major
            .cmp(&right.major)
            .then(left.minor.cmp(&right.minor))
            .then(left.patch.cmp(&right.patch))
            .then_with(|| left.pre.cmp(&right.pre))
    }
}

impl PartialOrd for SemVerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVerVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(text: &str) -> SemVerVersion {
        SemVerVersion::parse_go(text).unwrap()
    }

    #[test]
    fn go_pseudo_versions_are_prereleases() {
        assert!(go("v0.0.0-20240101000000-abcdef123456") < go("v0.0.0"));
        assert!(go("v1.2.4-0.20240101000000-abcdef123456") < go("v1.2.4"));
        assert!(go("v1.2.4-0.20240101000000-abcdef123456") > go("v1.2.3"));
    }

    #[test]
    fn go_incompatible_is_ignored_and_shorthands_pad() {
        assert_eq!(go("v2.0.0+incompatible"), go("2.0.0"));
        assert_eq!(go("v1.2"), go("1.2.0"));
        assert_eq!(go("v1"), go("1.0.0"));
    }
}
