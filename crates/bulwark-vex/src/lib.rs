//! VEX (Vulnerability Exploitability eXchange) documents out of and into bulwark's triage.
//!
//! The tracking server keeps one triage decision per finding: a vulnerability on a component,
//! in a [`State`], maybe with a [`Justification`] and free text. Those decisions leave as
//! [`Statement`]s written by [`to_cyclonedx`] (a CycloneDX 1.6 JSON BOM with `vulnerabilities`)
//! or [`to_openvex`] (OpenVEX v0.2.0), and come back from either format, bulwark's or another
//! tool's, through [`parse`]. Pure data conversion: no I/O, and the caller supplies the
//! document id and time, so equal input gives byte-identical output.
//!
//! # Out
//!
//! Both writers first check and normalize the statements: a statement needs a vulnerability id,
//! and a purl or component name, when given, must not be empty; an empty detail is no detail.
//! Aliases belong to the vulnerability, not the statement: every statement about a
//! vulnerability gets the sorted union of the aliases given for it. The product of a statement
//! is its purl, else its component name (a GPU library, a model), else nothing (a statement
//! about the vulnerability as such). Identical statements about one vulnerability and one
//! product collapse to one; two that differ are a [`VexError::Conflict`], since a VEX document
//! cannot say both. Output is sorted by vulnerability id, then product, pretty-printed JSON
//! with a trailing newline; timestamps are UTC to whole seconds.
//!
//! CycloneDX:
//! - `serialNumber` is [`ExportOptions::id`], which must be a `urn:uuid:` URN (the schema's
//!   pattern); `metadata` has the timestamp, the author and bulwark as the tool.
//! - One `components` entry per distinct product, `type: library`: a purl's `bom-ref` is the
//!   purl, a name-only component's is `component-N` (numbered in name order). The name is the
//!   statement's component name, else the purl's name; the version is the purl's.
//! - One `vulnerabilities` entry per vulnerability and analysis (state, justification,
//!   detail); its `affects` lists every product with that analysis, so a triage shared by
//!   several components is written once. `source` and each alias's `references[].source`
//!   follow the id: NVD for `CVE-`, GitHub for `GHSA-`, bulwark for its own `BWM-` rules, OSV
//!   for the rest.
//! - `analysis.state` is the state's name; `analysis.justification` is the justification as
//!   [`Justification::to_cyclonedx`] gives it: a CycloneDX one as is, an OpenVEX one mapped to
//!   the nearest CycloneDX one (`component_not_present` and `vulnerable_code_not_present` →
//!   `code_not_present`; `vulnerable_code_not_in_execute_path` → `code_not_reachable`;
//!   `vulnerable_code_cannot_be_controlled_by_adversary` → `protected_by_mitigating_control`,
//!   since what keeps attacker input away is the way the product uses the code, a control
//!   rather than an absence; `inline_mitigations_already_exist` →
//!   `protected_by_mitigating_control`). `analysis.detail` is the detail.
//!
//! OpenVEX:
//! - `@id` is [`ExportOptions::id`] as given (a `urn:uuid:` URN suits both formats),
//!   `version` 1, `tooling` `bulwark <version>`.
//! - One statement per vulnerability and product. A purl product is
//!   `{"@id": purl, "identifiers": {"purl": purl}}`; a name-only product is
//!   `{"@id": "urn:bulwark:component:<name, percent-encoded>"}`, because `@id` must be an IRI;
//!   a statement without product has no `products`.
//! - [`State::InTriage`] → `under_investigation` and [`State::Resolved`] → `fixed`, the detail
//!   in `status_notes`. [`State::Exploitable`] → `affected`, with the detail as the
//!   `action_statement` OpenVEX requires, or `No remediation recorded` without one.
//! - [`State::NotAffected`] and [`State::FalsePositive`] → `not_affected`, which needs exactly
//!   one of `justification` and `impact_statement`. The justification is
//!   [`Justification::to_openvex`]'s: an OpenVEX one as is, a CycloneDX one mapped to the
//!   nearest OpenVEX one where there is one (`code_not_present` →
//!   `vulnerable_code_not_present`; `code_not_reachable` → `vulnerable_code_not_in_execute_path`;
//!   `protected_by_compiler`, `protected_at_runtime` and `protected_by_mitigating_control` →
//!   `inline_mitigations_already_exist`). `requires_configuration`, `requires_dependency`,
//!   `requires_environment` and `protected_at_perimeter` have none: the vulnerable code is
//!   present and reachable, and what protects it is outside the product.
//! - What OpenVEX has no field for is written as a leading term in the statement's text:
//!   `false_positive` for [`State::FalsePositive`] (OpenVEX has no such status), then the
//!   CycloneDX justification that has no OpenVEX counterpart, then the detail, joined by
//!   `": "` (`false_positive: requires_environment: only on Windows`). With an OpenVEX
//!   justification that text is the `status_notes`; without one it is the `impact_statement`,
//!   or `No justification recorded` when there is no text at all.
//! - A justification on any other state is dropped: OpenVEX defines justifications only for
//!   `not_affected`.
//!
//! # In
//!
//! [`parse`] sniffs the format from the content: an `@context` under
//! `https://openvex.dev/ns` is OpenVEX (v0.2.0, and the older v0.0.1 with its bare context,
//! string `vulnerability` and `products`, and statement-level `subcomponents`), a
//! `"bomFormat": "CycloneDX"` object is CycloneDX JSON. Anything else, or JSON that is not
//! well-formed, is a [`VexError`] naming the document; a statement that cannot be read is
//! skipped with a warning in [`Document::warnings`] and the rest is still read.
//!
//! CycloneDX:
//! - Each vulnerability needs an `id` and an `analysis.state`; `resolved_with_pedigree` is
//!   [`State::Resolved`], the other states are bulwark's own. `references[].id` are the
//!   aliases. `analysis.response` has no place in the model and is not read.
//! - One statement per `affects` entry (none: one statement without product). A `ref` is
//!   looked up among the `bom-ref`s of the components and services (nested ones and
//!   `metadata.component` included). It gives the component's purl; else the ref itself when
//!   it is a purl (bulwark and cdxgen use purls as `bom-ref`s); else the component's name.
//!   A BOM-Link (`urn:cdx:<serial>/<version>#<ref>`, as a VEX kept apart from its SBOM
//!   writes) is resolved by its fragment the same way. A ref that resolves to nothing gives a
//!   statement without product and a warning naming the ref.
//!
//! OpenVEX:
//! - `affected` → [`State::Exploitable`], `fixed` → [`State::Resolved`],
//!   `under_investigation` → [`State::InTriage`], `not_affected` → [`State::NotAffected`], or
//!   [`State::FalsePositive`] when the text starts with the `false_positive` term. A leading
//!   CycloneDX justification term is that justification. The detail is the text of
//!   `impact_statement`, `action_statement` and `status_notes` (in that order, blank-line
//!   separated), without the leading terms and the placeholders bulwark writes.
//! - A product's purl is `identifiers.purl`, else its `@id` when that is a purl. Any other
//!   `@id` (or, lacking one, a CPE) is the component name; bulwark's
//!   `urn:bulwark:component:` ids are decoded back to the name. A product with
//!   `subcomponents`, and a v0.0.1 statement with `subcomponents`, stands for those
//!   subcomponents: they are where the vulnerable code is.
//!
//! Both formats: a later statement about one vulnerability and one product supersedes an
//! earlier one (later by OpenVEX `last_updated`/`timestamp`, the document's for a statement
//! without, or CycloneDX `analysis.lastUpdated`/`firstIssued`; by position where a timestamp
//! is missing), with a warning when the two disagree. Statements come out sorted like the
//! writers' (aliases sorted and deduplicated), and a component name is kept only for a
//! product without purl.
//!
//! # Round trips
//!
//! Writing statements and reading the document back gives the normalized statements, except
//! that:
//! - a component name next to a purl is not read back (neither format ties the two);
//! - CycloneDX carries an OpenVEX justification as [`Justification::to_cyclonedx`];
//! - OpenVEX carries a justification that has an OpenVEX counterpart as
//!   [`Justification::to_openvex`], the others exactly (as text terms), and none for states
//!   other than not affected and false positive.
#![warn(missing_docs)]

mod common;
mod cyclonedx;
mod model;
mod openvex;

pub use model::{Document, ExportOptions, Format, Justification, State, Statement, UnknownName};

#[cfg(test)]
mod tests;

/// Why a document could not be written or read at all. A statement that cannot be read is not
/// an error: it is skipped and named in [`Document::warnings`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VexError {
    /// The input is not well-formed JSON.
    #[error("`{source_name}` is not well-formed JSON")]
    Json {
        /// The document's name as given to [`parse`].
        source_name: String,
        /// The parser's error, with line and column.
        #[source]
        error: serde_json::Error,
    },
    /// The input is JSON, but neither an OpenVEX document nor a CycloneDX BOM, or its
    /// top-level structure is unusable.
    #[error("`{source_name}` is not a VEX document bulwark can read: {reason}")]
    NotVex {
        /// The document's name as given to [`parse`].
        source_name: String,
        /// What was found instead.
        reason: String,
    },
    /// A statement given to a writer cannot be written.
    #[error("statement {index} (`{vulnerability}`) cannot be written: {reason}")]
    InvalidStatement {
        /// Its position in the slice given to the writer.
        index: usize,
        /// Its vulnerability id, as given.
        vulnerability: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two statements say different things about one vulnerability in one product; a VEX
    /// document cannot carry both.
    #[error("two statements about {vulnerability} in {product} disagree: {difference}")]
    Conflict {
        /// The vulnerability id.
        vulnerability: String,
        /// The product: a purl, a component name, or `no product`.
        product: String,
        /// What differs (`state in_triage vs not_affected`).
        difference: String,
    },
    /// An [`ExportOptions`] value the format cannot carry.
    #[error("invalid {option} for {format}: {reason}")]
    InvalidOption {
        /// The option (`id`, `author`, `timestamp`).
        option: &'static str,
        /// The format being written.
        format: Format,
        /// What is wrong with it.
        reason: String,
    },
    /// OpenVEX requires at least one statement, and there were none to write.
    #[error("an OpenVEX document needs at least one statement, and there are none")]
    NoStatements,
    /// Serializing the document failed.
    #[error("cannot serialize the {0} document as JSON")]
    Serialize(Format, #[source] serde_json::Error),
}

/// Writes `statements` as an OpenVEX v0.2.0 document (see the crate docs for the mapping):
/// one statement per vulnerability and product, sorted, pretty JSON with a trailing newline.
///
/// # Errors
///
/// [`VexError::NoStatements`] for an empty slice (OpenVEX requires a statement);
/// [`VexError::InvalidStatement`] and [`VexError::Conflict`] for statements that cannot be
/// written; [`VexError::InvalidOption`] for an empty id or author, or a timestamp RFC 3339
/// cannot express.
pub fn to_openvex(statements: &[Statement], options: &ExportOptions) -> Result<Vec<u8>, VexError> {
    openvex::write(statements, options)
}

/// Writes `statements` as a CycloneDX 1.6 JSON BOM with `components` (one per distinct purl
/// or component name) and `vulnerabilities` (one per vulnerability and analysis, with every
/// affected component), sorted, pretty JSON with a trailing newline. See the crate docs for
/// the mapping.
///
/// # Errors
///
/// [`VexError::InvalidStatement`] and [`VexError::Conflict`] for statements that cannot be
/// written; [`VexError::InvalidOption`] when the id is not a `urn:uuid:` URN (CycloneDX's
/// `serialNumber`), or for a timestamp RFC 3339 cannot express.
pub fn to_cyclonedx(
    statements: &[Statement],
    options: &ExportOptions,
) -> Result<Vec<u8>, VexError> {
    cyclonedx::write(statements, options)
}

/// Reads a CycloneDX VEX (JSON) or OpenVEX document, whichever `bytes` is (sniffed from the
/// content, never from `source_name`, which only names the document in errors).
///
/// # Errors
///
/// [`VexError::Json`] when the bytes are not well-formed JSON; [`VexError::NotVex`] when they
/// are neither format (XML included: bulwark reads CycloneDX VEX as JSON only) or an OpenVEX
/// document has no `statements` array. A statement that cannot be read is skipped and named
/// in [`Document::warnings`] instead.
pub fn parse(bytes: &[u8], source_name: &str) -> Result<Document, VexError> {
    let not_vex = |reason: &str| VexError::NotVex {
        source_name: source_name.to_owned(),
        reason: reason.to_owned(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(not_vex("the document is empty")),
        Some(b'<') => {
            return Err(not_vex(
                "it is XML; bulwark reads CycloneDX VEX as JSON and OpenVEX",
            ));
        }
        Some(_) => {}
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| VexError::Json {
            source_name: source_name.to_owned(),
            error,
        })?;
    let serde_json::Value::Object(root) = value else {
        return Err(not_vex("the top level is not a JSON object"));
    };

    let mut warnings = Vec::new();
    let (format, candidates) = if let Some(context) = openvex::context(&root) {
        let candidates = openvex::read(&root, context, &mut warnings).map_err(not_vex)?;
        (Format::OpenVex, candidates)
    } else if root.get("bomFormat").and_then(serde_json::Value::as_str) == Some("CycloneDX") {
        (Format::CycloneDx, cyclonedx::read(&root, &mut warnings))
    } else {
        return Err(not_vex(
            "neither OpenVEX (an `@context` under https://openvex.dev/ns) nor CycloneDX \
             (`\"bomFormat\": \"CycloneDX\"`)",
        ));
    };
    let statements = common::latest(candidates, &mut warnings);
    Ok(Document {
        format,
        statements,
        warnings,
    })
}
