//! Reads an SBOM made by any tool back into an [`Inventory`], so `bulwark scan` can check a
//! document it did not write.
//!
//! Formats: CycloneDX 1.2–1.7 JSON and XML, SPDX 2.2/2.3 JSON, and bulwark's own JSON. The
//! format is sniffed from the content, never from the file name: JSON with
//! `"bomFormat": "CycloneDX"`, with `spdxVersion`, or with bulwark's `schema_version`; XML in a
//! `http://cyclonedx.org/schema/bom/1.x` namespace.
//!
//! What becomes of a document:
//! - Every package becomes a [`Component`](bulwark_inventory::Component). Its identity is its
//!   purl: the ecosystem comes from the purl *type* (`pypi` → PyPI, `cargo` → crates.io,
//!   `golang` → Go, `composer` → Packagist, `conan` → ConanCenter, ...; `deb`, `apk` and `rpm`
//!   by the distribution named in the namespace or the `distro` qualifier). A purl of a type
//!   bulwark has no ecosystem for (`generic`, `github`, `docker`) leaves the component without
//!   an ecosystem: the matcher lists it as "not checked", it is never dropped. So is a component
//!   without purl, with or without a version.
//! - Name and version come from the purl when it has them, else from the component's fields.
//!   The component's own spelling of the name is kept when it names the same package
//!   (`Jinja2` for `pkg:pypi/jinja2`).
//! - Relationships: CycloneDX nested `components` and SPDX `CONTAINS` become `contains`;
//!   CycloneDX `dependencies` and SPDX `DEPENDS_ON` (and the reversed `DEPENDENCY_OF` family)
//!   become `depends-on`. Edges to the document's subject (CycloneDX `metadata.component`, the
//!   package an SPDX document describes) are dropped with it.
//! - ML-BOMs: a `machine-learning-model` component's `modelCard` becomes the component's model
//!   metadata as far as it maps (architecture, task, datasets, inputs, outputs,
//!   considerations), and a dataset `ref` a depends-on edge to the `data` component; bulwark's
//!   SPDX model annotations are read back the same way. See `decode/model_card.rs`.
//! - A component that cannot be read (its purl does not parse, it is not even an object) is
//!   skipped and named in a [`Problem`](bulwark_inventory::Problem); the rest of the document
//!   is still read. Only a document that is not an SBOM at all, or not well-formed, is a
//!   [`DecodeError`].
//! - Where the document says where a component was found (CycloneDX occurrences, Syft's
//!   `syft:location:N:path`, Trivy's `aquasecurity:trivy:FilePath` and lockfile components,
//!   cdxgen's `SrcFile`, SPDX `sourceInfo`, bulwark's own SPDX comments) those are its
//!   locations; otherwise its one location is the SBOM file itself (`source_name`).
//! - The result goes through [`Inventory::assemble`], so two entries with one purl merge (Syft
//!   lists one Windows launcher per vendored `.exe`) and the output is sorted and deterministic.
//!
//! Traps:
//! - Purl parts are percent-decoded: `pkg:pypi/torch@2.2.0%2Bcu121` is version `2.2.0+cu121`,
//!   `pkg:npm/%40babel/core` is `@babel/core`.
//! - Maven names are `group:artifact` (the OSV spelling), Go and Packagist names keep their
//!   namespace (`github.com/pkg/errors`, `symfony/http-kernel`), npm scoped names are
//!   `@scope/name`; distribution package names drop the namespace, which names the distro.
//! - `pkg:deb/debian/...?distro=ubuntu-22.04` does not happen, but `pkg:deb/ubuntu/...` is an
//!   Ubuntu package, not a Debian one, and the two have different advisories. A deb purl that
//!   names neither distribution has no ecosystem.
//! - rpm and deb purls may carry the epoch as an `epoch` qualifier; it is put back in front of
//!   the version (`1:2.36-9`), which is how OSV and the version comparators want it.
//! - CycloneDX 1.5 writes `evidence.identity` as one object, 1.6 as an array; cdxgen writes a
//!   file path where a purl is expected. Only values that parse as purls become aliases.
use bulwark_inventory::Inventory;

mod bulwark_json;
mod cyclonedx;
mod cyclonedx_json;
mod cyclonedx_xml;
mod model_card;
mod properties;
mod purl;
mod spdx;

#[cfg(test)]
mod tests;

/// How far into a file [`looks_like_sbom`] and format sniffing look.
const SNIFF_LEN: usize = 64 * 1024;

/// Why a document could not be read at all. A document that is read but has bad parts is not
/// an error: its bad parts become problems of the inventory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not a CycloneDX, SPDX or bulwark document.
    #[error("`{source_name}` is not an SBOM bulwark can read: {reason}")]
    UnknownFormat {
        /// The document's name as given to [`decode`].
        source_name: String,
        /// What was found instead.
        reason: String,
    },
    /// The document is not well-formed JSON, or its top-level structure has the wrong types.
    #[error("`{source_name}` is not a well-formed {format} JSON document")]
    Json {
        /// The document's name as given to [`decode`].
        source_name: String,
        /// `CycloneDX`, `SPDX` or `bulwark`.
        format: &'static str,
        /// The parser's error, with line and column.
        #[source]
        error: serde_json::Error,
    },
    /// The document is not well-formed XML.
    #[error("`{source_name}` is not well-formed CycloneDX XML: {message}")]
    Xml {
        /// The document's name as given to [`decode`].
        source_name: String,
        /// What is wrong, with the byte position.
        message: String,
    },
    /// The format is recognized but this version of it is not.
    #[error("`{source_name}` is {format} {version}, which bulwark does not read ({supported})")]
    UnsupportedVersion {
        /// The document's name as given to [`decode`].
        source_name: String,
        /// `CycloneDX`, `SPDX` or `bulwark JSON`.
        format: &'static str,
        /// The version the document declares.
        version: String,
        /// The versions bulwark reads.
        supported: &'static str,
    },
}

/// Decodes an SBOM in any supported format (sniffed from the content) into an inventory whose
/// target is `source_name`. `source_name` also names the document in problems and is the
/// location of components the document gives no location for.
///
/// # Errors
///
/// [`DecodeError`] when the bytes are not a supported SBOM or not well-formed; a component
/// that cannot be read is skipped and reported as a problem of the inventory instead.
pub fn decode(bytes: &[u8], source_name: &str) -> Result<Inventory, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|index| bytes[index]) {
        Some(b'{') => decode_json(bytes, source_name),
        Some(b'<') => {
            let head = &bytes[..bytes.len().min(SNIFF_LEN)];
            if contains(head, b"http://cyclonedx.org/schema/bom/") {
                cyclonedx_xml::decode(bytes, source_name)
            } else if contains(head, b"spdx.org/rdf") {
                Err(unknown(
                    source_name,
                    "SPDX RDF/XML is not supported; convert it to SPDX JSON",
                ))
            } else {
                Err(unknown(
                    source_name,
                    "XML without the CycloneDX namespace http://cyclonedx.org/schema/bom/1.x",
                ))
            }
        }
        Some(_) if contains(&bytes[..bytes.len().min(SNIFF_LEN)], b"SPDXVersion:") => Err(unknown(
            source_name,
            "SPDX tag-value is not supported; convert it to SPDX JSON",
        )),
        Some(_) => Err(unknown(source_name, "neither JSON nor XML")),
        None => Err(unknown(source_name, "the file is empty")),
    }
}

/// Whether a file is worth decoding as an SBOM, judged cheaply from its name and its first
/// bytes (a few KB are enough; more are not looked at past 64 KB).
///
/// Names: `*.cdx.json`, `*.cdx.xml`, `*.spdx.json`, `*.bom.json`, `*.bom.xml`,
/// `*.bulwark.json`, `bom.json`, `bom.xml`, `sbom.json`, `sbom.xml`. Content: a JSON object
/// with `"bomFormat"` and `"CycloneDX"`, or `"spdxVersion"`, or bulwark's `"schema_version"`
/// with `"components"`; XML in the CycloneDX namespace.
pub fn looks_like_sbom(path_name: &str, first_bytes: &[u8]) -> bool {
    let file_name = path_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path_name)
        .to_ascii_lowercase();
    let by_name = [
        ".cdx.json",
        ".cdx.xml",
        ".spdx.json",
        ".bom.json",
        ".bom.xml",
        ".bulwark.json",
    ]
    .iter()
    .any(|suffix| file_name.ends_with(suffix))
        || ["bom.json", "bom.xml", "sbom.json", "sbom.xml"].contains(&file_name.as_str());
    if by_name {
        return true;
    }
    let head = &first_bytes[..first_bytes.len().min(SNIFF_LEN)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {
            (contains(head, b"\"bomFormat\"") && contains(head, b"CycloneDX"))
                || contains(head, b"\"spdxVersion\"")
                || (contains(head, b"\"schema_version\"") && contains(head, b"\"components\""))
        }
        Some(b'<') => contains(head, b"http://cyclonedx.org/schema/bom/"),
        _ => false,
    }
}

fn unknown(source_name: &str, reason: &str) -> DecodeError {
    DecodeError::UnknownFormat {
        source_name: source_name.to_owned(),
        reason: reason.to_owned(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The keys that tell the JSON formats apart; everything else is skipped unread.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    bom_format: Option<String>,
    spdx_version: Option<String>,
    #[serde(rename = "schema_version")]
    schema_version: Option<serde_json::Value>,
    #[serde(rename = "@context")]
    context: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonFormat {
    CycloneDx,
    Spdx,
    Bulwark,
}

fn decode_json(bytes: &[u8], source_name: &str) -> Result<Inventory, DecodeError> {
    // The format keys sit near the top in every tool's output; only when they do not is the
    // whole document probed (a second, allocation-free pass).
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let format = if contains(head, b"\"bomFormat\"") {
        JsonFormat::CycloneDx
    } else if contains(head, b"\"spdxVersion\"") {
        JsonFormat::Spdx
    } else {
        let probe: Probe = serde_json::from_slice(bytes).map_err(|error| DecodeError::Json {
            source_name: source_name.to_owned(),
            format: "SBOM",
            error,
        })?;
        if probe.bom_format.is_some() {
            JsonFormat::CycloneDx
        } else if probe.spdx_version.is_some() {
            JsonFormat::Spdx
        } else if probe.schema_version.is_some() {
            JsonFormat::Bulwark
        } else if probe.context.is_some() {
            return Err(unknown(
                source_name,
                "a JSON-LD document (SPDX 3 is not supported; SPDX 2.2 and 2.3 are)",
            ));
        } else {
            return Err(unknown(
                source_name,
                "a JSON object without `bomFormat`, `spdxVersion` or `schema_version`",
            ));
        }
    };
    match format {
        JsonFormat::CycloneDx => cyclonedx_json::decode(bytes, source_name),
        JsonFormat::Spdx => spdx::decode(bytes, source_name),
        JsonFormat::Bulwark => bulwark_json::decode(bytes, source_name),
    }
}

/// Turns a JSON error into the decode error of `format`.
fn json_error(
    source_name: &str,
    format: &'static str,
) -> impl FnOnce(serde_json::Error) -> DecodeError {
    move |error| DecodeError::Json {
        source_name: source_name.to_owned(),
        format,
        error,
    }
}
