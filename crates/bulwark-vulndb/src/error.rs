//! The crate's one error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong opening, reading or importing the database. Each variant names
/// the file (or record) it concerns; the cause, where there is one, is the error's `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There is no database in the directory (never imported).
    #[error("no vulnerability database in `{}`", dir.display())]
    Missing {
        /// The database directory.
        dir: PathBuf,
    },
    /// The database was written by a newer bulwark whose format this build cannot read.
    #[error(
        "the vulnerability database in `{}` was written by a newer bulwark (format version {found}; this build reads version {supported})",
        dir.display()
    )]
    NewerFormat {
        /// The generation directory.
        dir: PathBuf,
        /// The version found.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The database was written by an older bulwark in a format no longer read.
    #[error(
        "the vulnerability database in `{}` has the old format version {found} (this build reads version {supported}); import it again",
        dir.display()
    )]
    OlderFormat {
        /// The generation directory.
        dir: PathBuf,
        /// The version found.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A database file does not have the expected structure (truncated or damaged).
    #[error("the vulnerability database file `{}` is damaged: {problem}", path.display())]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What was wrong.
        problem: String,
    },
    /// A database or source file could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A database file could not be written, synced or renamed.
    #[error("failed to write `{}`", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An import source is neither a directory nor a readable zip archive.
    #[error("`{}` is not a readable OSV zip archive", path.display())]
    Zip {
        /// The source.
        path: PathBuf,
        /// The cause.
        #[source]
        source: zip::result::ZipError,
    },
    /// `meta.json` could not be parsed or written.
    #[error("invalid database metadata in `{}`", path.display())]
    Meta {
        /// The metadata file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A stored record could not be decompressed.
    #[error("stored record `{id}` in `{}` could not be decompressed", path.display())]
    RecordData {
        /// The record's id (or `#<number>` when not known).
        id: String,
        /// The records file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A stored record could not be parsed.
    #[error("stored record `{id}` in `{}` could not be parsed", path.display())]
    RecordParse {
        /// The record's id (or `#<number>` when not known).
        id: String,
        /// The records file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The database's lock file could not be created or locked.
    #[error("failed to lock the vulnerability database with `{}`", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A download failed before a response arrived, or while its body was read (connection
    /// refused, TLS, timeout, connection cut).
    #[error("failed to download `{url}`")]
    Http {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server answered 404: it has no archive for this ecosystem.
    #[error("no such ecosystem at `{url}` (404 Not Found)")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// The server answered with an unexpected HTTP status.
    #[error("`{url}` answered HTTP {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A downloaded archive failed verification (size, MD5, not a zip, entries not OSV JSON).
    #[error("the archive downloaded from `{url}` is invalid: {problem}")]
    Verify {
        /// The URL.
        url: String,
        /// What was wrong.
        problem: String,
    },
    /// `db update` could download none of the requested ecosystems.
    #[error(
        "no OSV archive could be downloaded from `{base_url}`: {}",
        describe_failures(failures)
    )]
    UpdateFailed {
        /// The base URL.
        base_url: String,
        /// Per ecosystem, why it failed.
        failures: Vec<(String, String)>,
    },
}

fn describe_failures(failures: &[(String, String)]) -> String {
    if failures.is_empty() {
        return "no ecosystems requested".to_owned();
    }
    failures
        .iter()
        .map(|(ecosystem, reason)| format!("{ecosystem}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}
