//! The local OSV vulnerability database: import, on-disk index, and lookup by package.
//!
//! [`import`] reads OSV records (osv.dev `<Ecosystem>/all.zip` archives or directories of
//! OSV JSON) and writes a database directory; [`Database::open`] opens it for a scan and
//! [`Database::advisories_for`] returns the records affecting one package. [`update`]
//! downloads osv.dev's archives (resuming, retrying, verifying) and imports them.
//!
//! # On-disk format (version 1)
//!
//! ```text
//! <db dir>/
//!   CURRENT                 one line: the name of the current generation directory
//!   .lock                   held (`flock`) by the one import or update writing
//!   .downloads/             `db update`'s partial and verified archives
//!   generation-<t>-<pid>/   one complete, immutable database
//!     meta.json             format version, counts per ecosystem, newest `modified`,
//!                           import time, sources, malformed counts, file lengths
//!     records.bin           "BWVDBREC", then each record's original JSON, raw-deflated,
//!                           back to back, in id order
//!     index.bin             "BWVDBIDX", a section directory, then the sections:
//!       records             one 32-byte row per record: offset and length in records.bin,
//!                           flags (bit 0: withdrawn), `modified` as seconds + nanoseconds
//!       ids                 string table: record id → record number
//!       aliases             string table: alias → record numbers
//!       packages:<eco>      one string table per base ecosystem (`packages:PyPI`,
//!                           `packages:Debian`, `packages:OSS-Fuzz`): normalized name →
//!                           record numbers
//! ```
//!
//! A string table is a row count, fixed-width rows (key offset and length, postings offset
//! and count, all `u32`) sorted by key bytes, the key bytes, then the postings (`u32` record
//! numbers). A lookup is a binary search over the rows; nothing is parsed when a section is
//! loaded. All integers are little-endian.
//!
//! Why this shape:
//!
//! - **Opening is cheap.** [`Database::open`] reads `meta.json` and the section directory
//!   only. A section is read (one positioned read) the first time a lookup needs it, so a scan
//!   of Python packages never reads the Debian index; records are read and parsed one by one.
//!   The full OSV export (hundreds of thousands of records, gigabytes of JSON) therefore costs a
//!   scan only the sections it touches. Reads are positioned reads (`pread`), so the database
//!   is shared between threads without locks and without `unsafe` memory maps.
//! - **Records stay as published.** Each record's original JSON is stored, deflated per
//!   record (about 3× smaller on the shared PyPI, crates.io and Go data), so nothing is lost
//!   to the model in [`osv`] and [`Database::get_json`] returns the exact bytes imported.
//! - **Imports merge without decompressing.** The record table holds each record's `modified`
//!   time and withdrawn flag, and inverting the `aliases` and `packages:` sections gives back
//!   each stored record's aliases and packages, so an incremental import copies unchanged
//!   records' compressed bytes as they are.
//! - **Swaps are atomic.** An import builds a new generation in a `.tmp-…` directory beside
//!   the current one, syncs every file and the directory, renames it to `generation-…`, then
//!   replaces `CURRENT` by renaming a synced temporary file over it. Until that last rename
//!   the old generation is current and untouched, so a failed or interrupted import leaves it
//!   usable; afterwards the old generation is removed (readers that opened it keep working on
//!   Unix, where open files outlive their names). Leftovers of interrupted imports are removed
//!   by the next import.
//! - **Integrity checks are cheap.** `meta.json` records the length of both files, so a
//!   truncated database is reported as damaged on open; every offset read from the index is
//!   bounds-checked.
//!
//! Records are indexed under each (base ecosystem, normalized name) they affect: the release
//! suffix is folded into the base (`Debian:12` → `Debian`; the matcher reads the suffix from
//! the record) and names are normalized with [`bulwark_inventory::PackageName`] (PEP 503 for
//! PyPI). Ecosystems bulwark does not know are kept under their raw name and counted in
//! [`Status::ecosystems`] with `known: false`.

mod database;
mod error;
mod format;
mod import;
pub mod osv;
mod update;

use std::path::PathBuf;

pub use database::{Database, EcosystemStatus, SourceStatus, Status};
pub use error::Error;
pub use import::{ImportOptions, ImportReport, MalformedRecord, SourceReport, import};
pub use osv::Advisory;
pub use update::{DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, UpdateOptions, UpdateReport, update};

/// The on-disk format version this build reads and writes.
pub const FORMAT_VERSION: u32 = format::FORMAT_VERSION;

/// The platform's default database directory: `$XDG_DATA_HOME/bulwark/db` (or
/// `~/.local/share/bulwark/db`) on Linux and other Unixes, `~/Library/Application
/// Support/bulwark/db` on macOS, `%LOCALAPPDATA%\bulwark\db` on Windows. `None` when the home
/// directory is unknown.
pub fn default_db_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(target_os = "macos") {
        non_empty("HOME").map(|home| home.join("Library").join("Application Support"))
    } else if cfg!(windows) {
        non_empty("LOCALAPPDATA")
    } else {
        non_empty("XDG_DATA_HOME")
            .filter(|dir| dir.is_absolute())
            .or_else(|| non_empty("HOME").map(|home| home.join(".local").join("share")))
    }?;
    Some(base.join("bulwark").join("db"))
}

#[cfg(test)]
mod tests;
