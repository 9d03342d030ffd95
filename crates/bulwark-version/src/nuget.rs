//! `NuGetVersion` ordering (NuGet).

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionParseError, trimmed};

/// A NuGet version: one to four numeric parts (missing parts are zero, leading zeros allowed),
/// an optional prerelease compared case-insensitively, and ignored `+metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuGetVersion {
    parts: [Number; 4],
    prerelease: Box<[Label]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    Number(Number),
    /// Upper-cased, for ordinal case-insensitive comparison.
    Text(Box<str>),
}

impl Ord for Label {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Number(left), Self::Number(right)) => left.cmp(right),
            (Self::Number(_), Self::Text(_)) => Ordering::Less,
            (Self::Text(_), Self::Number(_)) => Ordering::Greater,
            (Self::Text(left), Self::Text(right)) => left.cmp(right),
        }
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn is_identifier(piece: &str) -> bool {
    !piece.is_empty()
        && piece
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

impl NuGetVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let scheme = Scheme::NuGet;
        let body = trimmed(scheme, text)?;
        let (body, metadata) = match body.split_once('+') {
            Some((body, metadata)) => (body, Some(metadata)),
            None => (body, None),
        };
        if let Some(metadata) = metadata
            && !metadata.split('.').all(is_identifier)
        {
            return Err(VersionParseError::syntax(
                scheme,
                text,
                "malformed metadata",
            ));
        }
        let (release, prerelease) = match body.split_once('-') {
            Some((release, prerelease)) => (release, Some(prerelease)),
            None => (body, None),
        };
        let mut parts = [Number::ZERO, Number::ZERO, Number::ZERO, Number::ZERO];
        for (count, piece) in release.split('.').enumerate() {
            if piece.is_empty() || !piece.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(VersionParseError::syntax(
                    scheme,
                    text,
                    format!("`{piece}` is not a number"),
                ));
            }
            let Some(slot) = parts.get_mut(count) else {
                return Err(VersionParseError::syntax(
                    scheme,
                    text,
                    "more than four numeric parts",
                ));
            };
            *slot = Number::from_digits(piece);
        }
        let mut labels = Vec::new();
        if let Some(prerelease) = prerelease {
            for piece in prerelease.split('.') {
                if !is_identifier(piece) {
                    return Err(VersionParseError::syntax(
                        scheme,
                        text,
                        format!("malformed prerelease label `{piece}`"),
                    ));
                }
                labels.push(if piece.bytes().all(|byte| byte.is_ascii_digit()) {
                    Label::Number(Number::from_digits(piece))
                } else {
                    Label::Text(piece.to_ascii_uppercase().into())
                });
            }
        }
        Ok(Self {
            parts,
            prerelease: labels.into_boxed_slice(),
        })
    }

    /// Whether the version has a prerelease label.
    pub fn is_prerelease(&self) -> bool {
        !self.prerelease.is_empty()
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts).then_with(|| {
            match (self.is_prerelease(), other.is_prerelease()) {
                (false, false) => Ordering::Equal,
                (false, true) => Ordering::Greater,
                (true, false) => Ordering::Less,
                (true, true) => self.prerelease.cmp(&other.prerelease),
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
