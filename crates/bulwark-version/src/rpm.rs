//! rpm ordering (Red Hat family, SUSE) on top of the `rpm-version` crate.

use std::cmp::Ordering;

use rpm_version::Evr;

use crate::{Scheme, VersionParseError, trimmed};

/// An rpm `[epoch:]version[-release]`.
///
/// The epoch is the text before the first `:` when it is all digits (otherwise there is no
/// epoch and the `:` belongs to the version); the release is the text after the first `-`.
/// Each part compares with `rpmvercmp`, except that an absent part sorts before a present one,
/// so `1 < 1-` (as the OSV reference implementation orders them).
#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: Box<str>,
    version: Box<str>,
    /// The release with its leading `-`, or empty when there is none.
    release: Box<str>,
}

impl RpmVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::Rpm, text)?;
        let (epoch, rest) = match body.split_once(':') {
            Some((epoch, rest)) if epoch.bytes().all(|byte| byte.is_ascii_digit()) => (epoch, rest),
            _ => ("", body),
        };
        let (version, release) = match rest.find('-') {
            Some(index) => rest.split_at(index),
            None => (rest, ""),
        };
        Ok(Self {
            epoch: if epoch.is_empty() { "0" } else { epoch }.into(),
            version: version.into(),
            release: release.into(),
        })
    }

    /// The epoch (`0` when absent).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The version part.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The release part without its `-`, or `None`.
    pub fn release(&self) -> Option<&str> {
        self.release.strip_prefix('-')
    }
}

/// `rpmvercmp` of one part, with an empty part before any non-empty one.
fn compare_part(left: &str, right: &str) -> Ordering {
    match (left.is_empty(), right.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => Evr::new("", left, "").cmp(&Evr::new("", right, "")),
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_part(&self.epoch, &other.epoch)
            .then_with(|| compare_part(&self.version, &other.version))
            .then_with(|| compare_part(&self.release, &other.release))
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> RpmVersion {
        RpmVersion::parse(text).unwrap()
    }

    #[test]
    fn epoch_version_release() {
        assert!(version("1:1.0-1") > version("2.0-1"));
        assert!(version("1.0~rc1") < version("1.0"));
        assert!(version("1.0^git1") > version("1.0"));
        assert!(version("0:3.10.0-229.el7") < version("0:3.10.0-229.1.2.ael7b"));
        assert_eq!(version("2_0"), version("2.0"));
    }
}
