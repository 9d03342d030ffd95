//! The one error type of the format parsers.

use std::io;

/// Why a model file's header or metadata could not be read.
///
/// Hostile input ends here, never in a panic: a declared length beyond a limit or beyond the
/// file, a truncated structure, or malformed JSON inside a header.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The structure ends before a field it declares.
    #[error("truncated {what}")]
    Truncated {
        /// The structure being read.
        what: &'static str,
    },
    /// A declared size or count is over a hard limit (or past the end of the file).
    #[error("{what} is {value}, more than the limit of {limit}")]
    Limit {
        /// The size or count.
        what: &'static str,
        /// The declared value.
        value: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// A value that the format does not allow.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// The field or structure.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// JSON embedded in the file (safetensors header, Keras config) does not parse.
    #[error("malformed JSON in {what}")]
    Json {
        /// Where the JSON was.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The file is a zip archive that cannot be read.
    #[error("unreadable zip archive")]
    Zip(#[from] zip::result::ZipError),
    /// Reading failed.
    #[error("reading the file")]
    Io(#[source] io::Error),
}

impl From<io::Error> for ModelError {
    fn from(error: io::Error) -> Self {
        // A short read is the input's fault, not the disk's: say so without the OS wording.
        if error.kind() == io::ErrorKind::UnexpectedEof {
            Self::Truncated { what: "file" }
        } else {
            Self::Io(error)
        }
    }
}

impl ModelError {
    /// A [`ModelError::Invalid`] with a formatted detail.
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            detail: detail.into(),
        }
    }

    /// Fails with [`ModelError::Limit`] when `value` is over `limit`.
    pub(crate) fn check_limit(what: &'static str, value: u64, limit: u64) -> Result<(), Self> {
        if value > limit {
            Err(Self::Limit { what, value, limit })
        } else {
            Ok(())
        }
    }
}

/// Short for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
