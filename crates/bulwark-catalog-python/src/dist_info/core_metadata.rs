//! [Core metadata](https://packaging.python.org/en/latest/specifications/core-metadata/)
//! (`METADATA`, `PKG-INFO`): RFC 822-style headers, then a blank line, then the description.
//!
//! Hand-written rather than `python-pkginfo`: that crate brings mailparse, tar and its own zip
//! and flate2 stack for archive formats read elsewhere here, and copies every header into an
//! owned string. This parser borrows every value from the text, so a site-packages directory
//! with hundreds of distributions costs one `Vec` per file.

use std::borrow::Cow;

/// Why a metadata file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MetadataError {
    /// Nothing but whitespace.
    #[error("the metadata file is empty")]
    Empty,
    /// The first line is not a header, so this is not a metadata file.
    #[error("line {line} is not a `Name: value` header; not a core metadata file")]
    NotAHeader {
        /// 1-based line.
        line: u32,
    },
    /// A required field is absent or blank.
    #[error("the metadata has no `{0}` field")]
    Missing(&'static str),
    /// Both required fields are absent or blank.
    #[error("the metadata has neither a `Name` nor a `Version` field")]
    MissingNameAndVersion,
}

impl MetadataError {
    /// The line the error is at, where it has one.
    pub(crate) fn line(&self) -> Option<u32> {
        match self {
            Self::NotAHeader { line } => Some(*line),
            Self::Empty | Self::Missing(_) | Self::MissingNameAndVersion => None,
        }
    }
}

/// One header, its value borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    /// The header name as written (matched case-insensitively, as Python's `email` does).
    pub(crate) name: &'a str,
    /// The value with continuation lines still folded in (`\n` plus indentation).
    pub(crate) raw_value: &'a str,
    /// The 1-based line the header starts on.
    pub(crate) line: u32,
}

impl<'a> Field<'a> {
    /// The value unfolded into one line (RFC 822: each line break plus the indentation that
    /// follows becomes one space) and trimmed.
    pub(crate) fn value(&self) -> Cow<'a, str> {
        let trimmed = self.raw_value.trim();
        if !trimmed.contains('\n') {
            return Cow::Borrowed(trimmed);
        }
        let mut unfolded = String::with_capacity(trimmed.len());
        for part in trimmed.lines().map(str::trim).filter(|p| !p.is_empty()) {
            if !unfolded.is_empty() {
                unfolded.push(' ');
            }
            unfolded.push_str(part);
        }
        Cow::Owned(unfolded)
    }
}

/// The headers of a core metadata file, in file order.
#[derive(Debug)]
pub(crate) struct CoreMetadata<'a> {
    fields: Vec<Field<'a>>,
}

impl<'a> CoreMetadata<'a> {
    /// Parses the header section of `text`; the description body after the first empty line is
    /// not looked at.
    ///
    /// A line that is neither a header nor indented is taken as a continuation of the header
    /// before it: old setuptools wrote multi-line `Keywords` unindented, and that must not cost
    /// the `Classifier` and `Requires-Dist` lines after it. (Python's `email` parser would end
    /// the headers there instead.) Only a file whose *first* line is not a header is rejected.
    pub(crate) fn parse(text: &'a str) -> Result<Self, MetadataError> {
        if text.trim().is_empty() {
            return Err(MetadataError::Empty);
        }
        let mut fields: Vec<Field<'a>> = Vec::with_capacity(48);
        let mut offset = 0;
        // Where the value of the last field starts, so continuation lines can extend it.
        let mut value_start = 0;
        for (line_number, raw_line) in (1_u32..).zip(text.split_inclusive('\n')) {
            let start = offset;
            offset += raw_line.len();
            let line = raw_line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if fields.is_empty() {
                    // Leading blank lines: nothing has started yet.
                    continue;
                }
                break;
            }
            let line_end = start + line.len();
            let is_indented = line.starts_with([' ', '\t']);
            let header = if is_indented {
                None
            } else {
                split_header(line)
            };
            match (header, fields.last_mut()) {
                (Some((name, value)), _) => {
                    value_start = line_end - value.len();
                    fields.push(Field {
                        name,
                        raw_value: &text[value_start..line_end],
                        line: line_number,
                    });
                }
                (None, Some(previous)) => {
                    previous.raw_value = &text[value_start..line_end];
                }
                (None, None) => return Err(MetadataError::NotAHeader { line: line_number }),
            }
        }
        Ok(Self { fields })
    }

    /// The first field called `name` (case-insensitive) with a non-blank value. Later
    /// repetitions of a single-valued field are ignored, as Python's `email` does.
    pub(crate) fn first(&self, name: &str) -> Option<Field<'a>> {
        self.all(name).find(|f| !f.raw_value.trim().is_empty())
    }

    /// The first value of `name`, unfolded, with the `UNKNOWN` placeholder old setuptools wrote
    /// for absent fields taken as absent.
    pub(crate) fn text(&self, name: &str) -> Option<Cow<'a, str>> {
        self.first(name)
            .map(|f| f.value())
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("unknown"))
    }

    /// Every field called `name` (case-insensitive), in file order.
    pub(crate) fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Field<'a>> + 's {
        self.fields
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
            .copied()
    }

    /// `Name` and `Version`, both required.
    pub(crate) fn name_and_version(&self) -> Result<(Cow<'a, str>, Cow<'a, str>), MetadataError> {
        let name = self.first("Name").map(|f| f.value());
        let version = self.first("Version").map(|f| f.value());
        match (name, version) {
            (Some(name), Some(version)) => Ok((name, version)),
            (None, None) => Err(MetadataError::MissingNameAndVersion),
            (None, Some(_)) => Err(MetadataError::Missing("Name")),
            (Some(_), None) => Err(MetadataError::Missing("Version")),
        }
    }
}

/// Splits `Name: value` when `Name` is a valid RFC 822 field name (printable ASCII without
/// spaces or colons).
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let valid = !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b));
    valid.then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers_and_stops_at_the_body() {
        let text = "Metadata-Version: 2.1\r\nName: demo\r\nversion: 1.0\r\nClassifier: A\r\n\
                    Classifier: B\r\n\r\nName: not-a-header\r\n";
        let metadata = CoreMetadata::parse(text).unwrap();
        let (name, version) = metadata.name_and_version().unwrap();
        assert_eq!((name.as_ref(), version.as_ref()), ("demo", "1.0"));
        let classifiers: Vec<_> = metadata.all("classifier").map(|f| f.value()).collect();
        assert_eq!(classifiers, ["A", "B"]);
        assert_eq!(metadata.all("Name").count(), 1);
    }

    #[test]
    fn continuation_lines_fold_into_the_previous_value() {
        let text = "Name: demo\nVersion: 1\nSummary: one\n  two\n\tthree\nKeywords: a\nb c\n\
                    Author: X\nDescription: long\n        \n        more\nLicense: MIT\n";
        let metadata = CoreMetadata::parse(text).unwrap();
        assert_eq!(metadata.text("Summary").unwrap(), "one two three");
        assert_eq!(metadata.text("Keywords").unwrap(), "a b c");
        assert_eq!(metadata.text("Author").unwrap(), "X");
        assert_eq!(metadata.text("License").unwrap(), "MIT");
        assert_eq!(metadata.first("License").unwrap().line, 12);
    }

    #[test]
    fn first_repeated_value_wins_and_unknown_is_absent() {
        let text = "Name: root\nVersion: 1.0.0\nVersion: 2.0.0\nAuthor: UNKNOWN\nSummary:\n";
        let metadata = CoreMetadata::parse(text).unwrap();
        assert_eq!(metadata.name_and_version().unwrap().1, "1.0.0");
        assert_eq!(metadata.text("Author"), None);
        assert_eq!(metadata.text("Summary"), None);
    }

    #[test]
    fn rejects_what_is_not_metadata() {
        assert!(matches!(
            CoreMetadata::parse(" \n\n"),
            Err(MetadataError::Empty)
        ));
        assert!(matches!(
            CoreMetadata::parse("\n<html>\nName: x\n"),
            Err(MetadataError::NotAHeader { line: 2 })
        ));
        assert!(matches!(
            CoreMetadata::parse("  indented: first\n"),
            Err(MetadataError::NotAHeader { line: 1 })
        ));
        let missing = CoreMetadata::parse("Name: x\nSummary: y\n").unwrap();
        assert_eq!(
            missing.name_and_version().unwrap_err().to_string(),
            "the metadata has no `Version` field"
        );
        let neither = CoreMetadata::parse("Summary: y\n").unwrap();
        assert_eq!(
            neither.name_and_version().unwrap_err().to_string(),
            "the metadata has neither a `Name` nor a `Version` field"
        );
    }
}
