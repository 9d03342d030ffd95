//! Encodes an [`Inventory`] as an SBOM document.
//!
//! Formats: CycloneDX 1.6 (JSON and XML, built from one in-memory BOM so both carry the same
//! content and the same serial number), SPDX 2.3 JSON, and bulwark's own versioned JSON.
//!
//! [`decode`] reads SBOMs back, bulwark's and other tools' (see the `decode` module docs).
//!
//! Every encoder is deterministic: the inventory is already sorted, identifiers that the specs
//! want unique (CycloneDX `serialNumber`, SPDX `documentNamespace`) are UUID v5 digests of the
//! document's content without its timestamp, and no hash-map order reaches the output. Two
//! encodes of one inventory with one timestamp are byte-identical; two inventories that differ
//! only in the scan time get the same serial number.
//!
//! Traps shared by the formats:
//! - A component may have no version (an unpinned requirement). Both specs allow a missing
//!   version; nothing here invents one.
//! - A component may have no purl (a GPU library known only by CPE). Its id is the inventory's
//!   [`ComponentId`](bulwark_inventory::ComponentId), which is unique in an inventory, so it
//!   still works as a CycloneDX `bom-ref`.
//! - Timestamps are written in UTC to whole seconds: SPDX 2.3 requires `YYYY-MM-DDThh:mm:ssZ`.
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

use bulwark_inventory::Inventory;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod common;
mod cyclonedx;
mod cyclonedx_json;
mod cyclonedx_xml;
mod decode;
mod json;
mod mlbom;
mod spdx_json;

pub use decode::{DecodeError, decode, looks_like_sbom};

#[cfg(test)]
mod tests;

/// An SBOM format bulwark writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// CycloneDX 1.6, JSON encoding.
    CycloneDxJson,
    /// CycloneDX 1.6, XML encoding.
    CycloneDxXml,
    /// SPDX 2.3, JSON encoding.
    SpdxJson,
    /// bulwark's own serialization of the inventory (see the `json` module docs).
    Json,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: &'static [Self] = &[
        Self::CycloneDxJson,
        Self::CycloneDxXml,
        Self::SpdxJson,
        Self::Json,
    ];

    /// The name used on the command line (`cyclonedx-json`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CycloneDxJson => "cyclonedx-json",
            Self::CycloneDxXml => "cyclonedx-xml",
            Self::SpdxJson => "spdx-json",
            Self::Json => "json",
        }
    }

    /// The conventional file name suffix (`.cdx.json`, `.spdx.json`), for writing next to a
    /// target without a user-chosen name.
    pub const fn file_suffix(self) -> &'static str {
        match self {
            Self::CycloneDxJson => ".cdx.json",
            Self::CycloneDxXml => ".cdx.xml",
            Self::SpdxJson => ".spdx.json",
            Self::Json => ".bulwark.json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SBOM format `{0}` (expected cyclonedx-json, cyclonedx-xml, spdx-json or json)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What an encoder needs besides the inventory.
///
/// The caller passes the time, so builds that set `SOURCE_DATE_EPOCH` get reproducible
/// documents and tests need no redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// The producing tool's name, written as the SBOM's tool and SPDX creator (`bulwark`).
    pub tool_name: &'static str,
    /// The producing tool's version.
    pub tool_version: &'static str,
    /// When the SBOM was made; written in UTC, to whole seconds.
    pub timestamp: OffsetDateTime,
}

impl EncodeOptions {
    /// Options for the `bulwark` tool at `tool_version`, stamped `timestamp`.
    pub const fn new(tool_version: &'static str, timestamp: OffsetDateTime) -> Self {
        Self {
            tool_name: "bulwark",
            tool_version,
            timestamp,
        }
    }

    /// The timestamp as RFC 3339 in UTC without fractional seconds (`2024-05-01T12:00:00Z`).
    fn timestamp_utc(&self) -> Result<String, EncodeError> {
        let utc = self.timestamp.to_offset(time::UtcOffset::UTC);
        // Dropping the sub-second part cannot fail: 0 is always a valid nanosecond.
        let whole_seconds = utc.replace_nanosecond(0).unwrap_or(utc);
        Ok(whole_seconds.format(&Rfc3339)?)
    }
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The timestamp cannot be written as RFC 3339 (a year outside 0000–9999).
    #[error("cannot write the SBOM timestamp")]
    Timestamp(#[from] time::error::Format),
    /// JSON serialization failed.
    #[error("cannot serialize the SBOM as JSON")]
    Json(#[from] serde_json::Error),
    /// Writing failed (the XML writer, or the caller's writer in [`encode_to`]).
    #[error("cannot write the SBOM")]
    Write(#[from] std::io::Error),
}

/// Encodes `inventory` as `format`. The result is UTF-8 and ends with a newline.
///
/// # Errors
///
/// Fails only when the timestamp cannot be formatted (a year outside 0000–9999); the
/// serializers write into memory and do not fail on well-formed input.
pub fn encode(
    inventory: &Inventory,
    format: Format,
    options: &EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    match format {
        Format::CycloneDxJson => cyclonedx_json::encode(inventory, options),
        Format::CycloneDxXml => cyclonedx_xml::encode(inventory, options),
        Format::SpdxJson => spdx_json::encode(inventory, options),
        Format::Json => json::encode(inventory),
    }
}

/// Encodes `inventory` as `format` into `writer`.
///
/// # Errors
///
/// As [`encode`], plus any error of `writer`.
pub fn encode_to(
    inventory: &Inventory,
    format: Format,
    options: &EncodeOptions,
    mut writer: impl std::io::Write,
) -> Result<(), EncodeError> {
    writer.write_all(&encode(inventory, format, options)?)?;
    Ok(())
}
