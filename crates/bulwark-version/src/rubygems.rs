//! `Gem::Version` ordering (RubyGems).

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionParseError, trimmed};

/// A RubyGems version. `-` reads as `.pre.`; the string splits into numbers and letter runs;
/// any letter run makes a prerelease, which sorts before the release.
#[derive(Debug, Clone)]
pub struct GemVersion {
    /// Canonical segments: trailing zeros removed from the release part and from the
    /// prerelease part.
    segments: Box<[Segment]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(Number),
    Text(Box<str>),
}

impl GemVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::RubyGems, text)?;
        validate(body)
            .map_err(|reason| VersionParseError::syntax(Scheme::RubyGems, text, reason))?;
        let spelled = body.replace('-', ".pre.");
        let mut segments = Vec::new();
        let bytes = spelled.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            let is_digit = byte.is_ascii_digit();
            if !is_digit && !byte.is_ascii_alphabetic() {
                index += 1;
                continue;
            }
            let end = bytes[index..]
                .iter()
                .position(|next| {
                    if is_digit {
                        !next.is_ascii_digit()
                    } else {
                        !next.is_ascii_alphabetic()
                    }
                })
                .map_or(bytes.len(), |offset| index + offset);
            let piece = &spelled[index..end];
            segments.push(if is_digit {
                Segment::Number(Number::from_digits(piece))
            } else {
                Segment::Text(piece.into())
            });
            index = end;
        }
        // Canonical form: drop trailing zeros of the numeric prefix and of the rest.
        let string_start = segments
            .iter()
            .position(|segment| matches!(segment, Segment::Text(_)))
            .unwrap_or(segments.len());
        let mut rest = segments.split_off(string_start);
        trim_zeros(&mut segments);
        trim_zeros(&mut rest);
        segments.append(&mut rest);
        Ok(Self {
            segments: segments.into_boxed_slice(),
        })
    }

    /// Whether the version has a letter in it (`1.0.a`, `1.0-rc1`).
    pub fn is_prerelease(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::Text(_)))
    }
}

fn trim_zeros(segments: &mut Vec<Segment>) {
    while matches!(segments.last(), Some(Segment::Number(number)) if number.is_zero()) {
        segments.pop();
    }
}

/// `Gem::Version::ANCHORED_VERSION_PATTERN`,
/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, with letters allowed in the
/// first segment.
fn validate(body: &str) -> Result<(), String> {
    let (release, prerelease) = match body.split_once('-') {
        Some((release, prerelease)) => (release, Some(prerelease)),
        None => (body, None),
    };
    if !release.starts_with(|character: char| character.is_ascii_digit()) {
        return Err("must start with a digit".to_owned());
    }
    // RubyGems' pattern wants digits up to the first dot; the OSV vectors (and older
    // RubyGems) also accept letters there (`1beta`).
    for piece in release.split('.') {
        if piece.is_empty() || !piece.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(format!("malformed segment `{piece}`"));
        }
    }
    if let Some(prerelease) = prerelease {
        for piece in prerelease.split('.') {
            if piece.is_empty()
                || !piece
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            {
                return Err(format!("malformed prerelease segment `{piece}`"));
            }
        }
    }
    Ok(())
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(Number::ZERO);
        let length = self.segments.len().max(other.segments.len());
        for index in 0..length {
            let left = self.segments.get(index).unwrap_or(&zero);
            let right = other.segments.get(index).unwrap_or(&zero);
            let result = match (left, right) {
                (Segment::Number(left), Segment::Number(right)) => left.cmp(right),
                (Segment::Text(left), Segment::Text(right)) => left.cmp(right),
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
            };
            if result.is_ne() {
                return result;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}
