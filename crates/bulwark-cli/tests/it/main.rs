//! End-to-end tests of the `bulwark` binary; one test binary keeps link time low.

mod compare_versions;
mod db;
mod diff;
mod sbom;
mod scan;

use std::path::PathBuf;

use assert_cmd::Command;

/// The workspace root (the example and the shared schemas are found from here).
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// `bulwark` with a fixed timestamp, so documents are reproducible.
pub(crate) fn bulwark() -> Command {
    let mut command = Command::cargo_bin("bulwark").expect("the binary is built");
    command
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env_remove("BULWARK_LOG");
    command
}
