//! Versions that are plain lists of numbers: Hackage (`Data.Version`) and CRAN
//! (`package_version`).

use crate::number::Number;
use crate::{Scheme, VersionParseError, trimmed};

/// A list of non-negative integers, compared element by element; a list that extends another
/// is greater (`1.0 < 1.0.0`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NumericListVersion {
    parts: Box<[Number]>,
}

impl NumericListVersion {
    /// Hackage: numbers separated by `.`.
    pub(crate) fn parse_hackage(text: &str) -> Result<Self, VersionParseError> {
        Self::parse_with(Scheme::Hackage, text, |byte| byte == b'.')
    }

    /// CRAN: numbers separated by `.` or `-`.
    pub(crate) fn parse_cran(text: &str) -> Result<Self, VersionParseError> {
        Self::parse_with(Scheme::Cran, text, |byte| byte == b'.' || byte == b'-')
    }

    fn parse_with(
        scheme: Scheme,
        text: &str,
        is_separator: impl Fn(u8) -> bool,
    ) -> Result<Self, VersionParseError> {
        let body = trimmed(scheme, text)?;
        let offset = text.len() - text.trim_start().len();
        let mut parts = Vec::new();
        let mut start = 0;
        let bytes = body.as_bytes();
        for index in 0..=bytes.len() {
            let at_separator = bytes.get(index).is_none_or(|byte| is_separator(*byte));
            if !at_separator {
                if !bytes[index].is_ascii_digit() {
                    return Err(VersionParseError::unexpected(scheme, text, offset + index));
                }
                continue;
            }
            if index == start {
                return Err(VersionParseError::syntax(
                    scheme,
                    text,
                    format!("empty component at byte {}", offset + index),
                ));
            }
            parts.push(Number::from_digits(&body[start..index]));
            start = index + 1;
        }
        Ok(Self {
            parts: parts.into_boxed_slice(),
        })
    }
}
