//! Errors for parsing and comparing versions.

use std::fmt;

use bulwark_inventory::Ecosystem;

use crate::Scheme;

/// A version string the scheme's own tool would reject.
///
/// The message names the scheme, the version and what is wrong with it:
/// ``invalid Maven version `…`: the version is empty``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {} version `{}`: {}", .inner.scheme, .inner.version, .inner.kind)]
pub struct VersionParseError {
    inner: Box<ParseErrorInner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ParseErrorInner {
    scheme: Scheme,
    version: String,
    kind: ParseErrorKind,
}

/// What is wrong with a version string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The string is empty or only whitespace.
    Empty,
    /// The string is longer than the scheme allows.
    TooLong {
        /// The most characters the scheme accepts.
        limit: usize,
    },
    /// A character that cannot appear where it does.
    UnexpectedCharacter {
        /// The character.
        character: char,
        /// Its byte offset in the version string.
        position: usize,
    },
    /// The string does not follow the scheme's grammar; the text says how.
    Syntax(String),
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => formatter.write_str("the version is empty"),
            Self::TooLong { limit } => write!(formatter, "longer than {limit} characters"),
            Self::UnexpectedCharacter {
                character,
                position,
            } => write!(
                formatter,
                "unexpected character {character:?} at byte {position}"
            ),
            Self::Syntax(reason) => formatter.write_str(reason),
        }
    }
}

impl VersionParseError {
    pub(crate) fn new(scheme: Scheme, version: &str, kind: ParseErrorKind) -> Self {
        Self {
            inner: Box::new(ParseErrorInner {
                scheme,
                version: version.to_owned(),
                kind,
            }),
        }
    }

    pub(crate) fn syntax(scheme: Scheme, version: &str, reason: impl fmt::Display) -> Self {
        Self::new(scheme, version, ParseErrorKind::Syntax(reason.to_string()))
    }

    pub(crate) fn unexpected(scheme: Scheme, version: &str, position: usize) -> Self {
        let character = version[position..].chars().next().unwrap_or('\0');
        Self::new(
            scheme,
            version,
            ParseErrorKind::UnexpectedCharacter {
                character,
                position,
            },
        )
    }

    /// The scheme that rejected the version.
    pub fn scheme(&self) -> Scheme {
        self.inner.scheme
    }

    /// The rejected version string, as given.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// What is wrong with it.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.inner.kind
    }
}

/// Comparing two versions of an ecosystem failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// bulwark has no version ordering for the ecosystem.
    #[error("no version scheme for ecosystem `{0}`")]
    NoScheme(Ecosystem),
    /// One of the versions does not parse.
    #[error(transparent)]
    Parse(#[from] VersionParseError),
}
