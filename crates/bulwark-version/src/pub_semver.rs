//! Dart `pub_semver` ordering (Pub).

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionParseError, trimmed};

/// A Pub version: SemVer, except that build metadata orders too (`1.0.0 < 1.0.0+1`).
/// A leading `v` is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubVersion {
    release: [Number; 3],
    prerelease: Box<[Part]>,
    build: Box<[Part]>,
}

/// A dot-separated identifier: numbers sort before text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Number(Number),
    Text(Box<str>),
}

fn parse_parts(scheme: Scheme, text: &str, parts: &str) -> Result<Box<[Part]>, VersionParseError> {
    parts
        .split('.')
        .map(|piece| {
            if piece.is_empty()
                || !piece
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            {
                return Err(VersionParseError::syntax(
                    scheme,
                    text,
                    format!("malformed identifier `{piece}`"),
                ));
            }
            Ok(if piece.bytes().all(|byte| byte.is_ascii_digit()) {
                Part::Number(Number::from_digits(piece))
            } else {
                Part::Text(piece.into())
            })
        })
        .collect()
}

impl PubVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let scheme = Scheme::Pub;
        let body = trimmed(scheme, text)?;
        // Dart rejects a leading `v`; the OSV vectors accept it.
        let body = body.strip_prefix('v').unwrap_or(body);
        let (body, build) = match body.split_once('+') {
            Some((body, build)) => (body, parse_parts(scheme, text, build)?),
            None => (body, Box::default()),
        };
        let (release, prerelease) = match body.split_once('-') {
            Some((release, prerelease)) => (release, parse_parts(scheme, text, prerelease)?),
            None => (body, Box::default()),
        };
        let mut numbers = release.split('.');
        let mut next_number = || {
            let piece = numbers.next().unwrap_or_default();
            if piece.is_empty() || !piece.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(VersionParseError::syntax(
                    scheme,
                    text,
                    "expected MAJOR.MINOR.PATCH",
                ));
            }
            Ok(Number::from_digits(piece))
        };
        let release = [next_number()?, next_number()?, next_number()?];
        if numbers.next().is_some() {
            return Err(VersionParseError::syntax(
                scheme,
                text,
                "expected MAJOR.MINOR.PATCH",
            ));
        }
        Ok(Self {
            release,
            prerelease,
            build,
        })
    }
}

impl Ord for PubVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release
            .cmp(&other.release)
            .then_with(
                || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    _ => self.prerelease.cmp(&other.prerelease),
                },
            )
            .then_with(|| self.build.cmp(&other.build))
    }
}

impl PartialOrd for PubVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
