//! PEP 440 (PyPI) on top of `pep440_rs`, with setuptools' legacy ordering for strings that are
//! not PEP 440.

use std::cmp::Ordering;
use std::str::FromStr;

use crate::{Scheme, VersionParseError, trimmed};

/// A PyPI version: a PEP 440 version, or a legacy string that sorts before all of them.
#[derive(Debug, Clone)]
pub enum Pep440Version {
    /// A PEP 440 version.
    Standard(pep440_rs::Version),
    /// A string that is not PEP 440, ordered by the key of the retired
    /// `packaging.version.LegacyVersion` (epoch -1, so before every PEP 440 version).
    Legacy(LegacyVersion),
}

/// The comparison key of setuptools' `LegacyVersion`: lower-cased parts, numbers padded to
/// eight digits, pre-release words rewritten so that they sort before `*final`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LegacyVersion {
    parts: Box<[Box<str>]>,
}

impl Pep440Version {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::Pep440, text)?;
        match pep440_rs::Version::from_str(body) {
            Ok(version) => Ok(Self::Standard(version)),
            Err(_) => Ok(Self::Legacy(LegacyVersion::new(body))),
        }
    }

    /// Whether the string was not PEP 440 and orders by the legacy key.
    pub fn is_legacy(&self) -> bool {
        matches!(self, Self::Legacy(_))
    }
}

impl Ord for Pep440Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Standard(left), Self::Standard(right)) => left.cmp(right),
            (Self::Legacy(left), Self::Legacy(right)) => left.cmp(right),
            (Self::Legacy(_), Self::Standard(_)) => Ordering::Less,
            (Self::Standard(_), Self::Legacy(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Pep440Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Pep440Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pep440Version {}

impl LegacyVersion {
    fn new(text: &str) -> Self {
        let lowered = text.to_lowercase();
        let mut parts: Vec<Box<str>> = Vec::new();
        for raw in split_legacy(&lowered) {
            let part = match raw {
                "pre" | "preview" | "rc" => "c",
                "-" => "final-",
                "dev" => "@",
                other => other,
            };
            if part.is_empty() || part == "." {
                continue;
            }
            let part: Box<str> = if part.starts_with(|character: char| character.is_ascii_digit()) {
                format!("{part:0>8}").into()
            } else {
                format!("*{part}").into()
            };
            push_legacy_part(&mut parts, part);
        }
        push_legacy_part(&mut parts, "*final".into());
        Self {
            parts: parts.into_boxed_slice(),
        }
    }
}

fn push_legacy_part(parts: &mut Vec<Box<str>>, part: Box<str>) {
    if part.starts_with('*') {
        if &*part < "*final" {
            while parts.last().is_some_and(|last| &**last == "*final-") {
                parts.pop();
            }
        }
        while parts.last().is_some_and(|last| &**last == "00000000") {
            parts.pop();
        }
    }
    parts.push(part);
}

/// Splits like Python's `re.split(r"(\d+|[a-z]+|\.|-)", text)`: the matches and the text
/// between them, in order.
fn split_legacy(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut gap_start = 0;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let end = if byte.is_ascii_digit() {
            run_end(bytes, index, |next| next.is_ascii_digit())
        } else if byte.is_ascii_lowercase() {
            run_end(bytes, index, |next| next.is_ascii_lowercase())
        } else if byte == b'.' || byte == b'-' {
            index + 1
        } else {
            index += 1;
            continue;
        };
        pieces.push(&text[gap_start..index]);
        pieces.push(&text[index..end]);
        index = end;
        gap_start = end;
    }
    pieces.push(&text[gap_start..]);
    pieces
}

fn run_end(bytes: &[u8], start: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[start..]
        .iter()
        .position(|byte| !keep(*byte))
        .map_or(bytes.len(), |offset| start + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Pep440Version {
        Pep440Version::parse(text).unwrap()
    }

    #[test]
    fn normalises_spellings() {
        assert_eq!(version("1.0c1"), version("1.0rc1"));
        assert_eq!(version("1.0-1"), version("1.0.post1"));
        assert_eq!(version("v1.0"), version("1.0.0"));
    }

    #[test]
    fn legacy_sorts_first() {
        assert!(version("0.9-doduo").is_legacy());
        assert!(version("0.9-doduo") < version("0.0.1"));
        assert!(version("0.3m1") < version("0.3m2"));
    }
}
