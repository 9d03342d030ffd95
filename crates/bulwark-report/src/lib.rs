//! Renders the result of a scan (an [`Inventory`] and its [`MatchReport`]) in the formats
//! other tools read.
//!
//! - [`sarif`]: SARIF 2.1.0 (OASIS *Static Analysis Results Interchange Format Version 2.1.0*,
//!   <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>), as GitHub code
//!   scanning and other SARIF viewers read it: one rule per vulnerability id, one result per
//!   (finding, location of an affected component).
//! - [`cyclonedx_vex`]: the CycloneDX 1.6 JSON SBOM of the inventory
//!   (<https://cyclonedx.org/docs/1.6/json/>), exactly as [`bulwark_sbom::encode`] writes it,
//!   plus a `vulnerabilities` array (CycloneDX's vulnerability / VEX model) whose `affects`
//!   refer to the components' `bom-ref`s.
//!
//! Both are deterministic: findings keep the report's order (already sorted), rules and
//! components are sorted, no hash-map order reaches the output, and nothing reads the clock
//! (the CycloneDX timestamp comes from [`bulwark_sbom::EncodeOptions`]).
//!
//! Traps:
//! - GitHub code scanning takes a vulnerability's severity from the rule property
//!   `security-severity`, a *string* holding a number (`"9.8"`). A finding rated only
//!   qualitatively (GitHub's `HIGH` without a vector) gets the lower bound of its CVSS band
//!   (`"7.0"`) so GitHub still ranks it; unknown severity writes none.
//! - SARIF `artifactLocation.uri` is a URI reference: inventory paths are relative and
//!   `/`-separated already, but characters such as spaces must be percent-encoded.
//! - CycloneDX `bom-ref`s must be unique across the whole document, vulnerabilities included.
//!   The components' refs are their [`ComponentId`](bulwark_inventory::ComponentId)s, which is
//!   what [`bulwark_match::Finding::components`] lists; a finding naming a component the SBOM
//!   does not contain is an error ([`ReportError::UnknownComponent`]), not a dangling ref.
//! - Adding vulnerabilities changes the document, so the CycloneDX `serialNumber` is derived
//!   anew (UUID v5 of the SBOM's serial and the vulnerabilities): the SBOM with findings never
//!   shares a serial number with the plain SBOM.
#![warn(missing_docs)]

mod cyclonedx;
mod sarif;

#[cfg(test)]
mod tests;

use bulwark_inventory::Inventory;
use bulwark_match::MatchReport;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The CycloneDX SBOM could not be encoded.
    #[error("cannot encode the SBOM")]
    Sbom(#[from] bulwark_sbom::EncodeError),
    /// JSON (de)serialization failed.
    #[error("cannot serialize the report as JSON")]
    Json(#[from] serde_json::Error),
    /// The encoded SBOM did not have the shape this crate extends (a JSON object with a
    /// `components` array); a bug in `bulwark-sbom` or here.
    #[error("the encoded CycloneDX SBOM has an unexpected shape: {0}")]
    UnexpectedSbom(&'static str),
    /// A finding names a component that the inventory does not contain: the report and the
    /// inventory do not belong together.
    #[error(
        "a finding for {finding} names component `{component}`, which the inventory does not contain"
    )]
    UnknownComponent {
        /// The finding's id.
        finding: String,
        /// The component id.
        component: String,
    },
}

/// The OSV page of a vulnerability id (aliases resolve there too).
pub(crate) fn osv_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

/// Renders `report` (made from `inventory`) as a SARIF 2.1.0 log with one run, pretty JSON
/// with a trailing newline. `tool_version` is bulwark's version.
///
/// # Errors
///
/// [`ReportError::UnknownComponent`] when a finding names a component not in `inventory`;
/// [`ReportError::Json`] should not happen (the log is built in memory).
pub fn sarif(
    inventory: &Inventory,
    report: &MatchReport,
    tool_version: &str,
) -> Result<Vec<u8>, ReportError> {
    sarif::render(inventory, report, tool_version)
}

/// Renders `inventory` as a CycloneDX 1.6 JSON SBOM (as [`bulwark_sbom::encode`] with
/// [`bulwark_sbom::Format::CycloneDxJson`]) with `report`'s findings as its
/// `vulnerabilities`, pretty JSON with a trailing newline.
///
/// # Errors
///
/// [`ReportError::Sbom`] when the SBOM cannot be encoded (a timestamp outside years
/// 0000–9999); [`ReportError::UnknownComponent`] when a finding names a component not in
/// `inventory`.
pub fn cyclonedx_vex(
    inventory: &Inventory,
    report: &MatchReport,
    options: &bulwark_sbom::EncodeOptions,
) -> Result<Vec<u8>, ReportError> {
    cyclonedx::render(inventory, report, options)
}
