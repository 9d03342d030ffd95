//! .NET catalogers: NuGet's lockfile (`packages.lock.json`), the dependency manifest of a
//! published application (`*.deps.json`) and the legacy `packages.config`.
//!
//! Every package is a [`NuGet`](Ecosystem::NuGet) component with a
//! `pkg:nuget/<Id>@<version>` purl, the id spelled as the file spells it (NuGet ids are
//! case-insensitive; matching lowercases them) and the version exactly as written.
//! NuGet records SHA-512 digests in base64 (`contentHash`, `sha512-…`); they become
//! hex [`Hash`]es.

mod deps_json;
mod packages_config;
mod packages_lock;
#[cfg(test)]
mod test_support;

use base64::Engine as _;
use bulwark_catalog::{CatalogError, Cataloger};
use bulwark_inventory::{Component, Ecosystem, Hash, HashAlgorithm, Location, Problem};
use serde::de::DeserializeOwned;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(packages_lock::PackagesLockCataloger),
        Box::new(deps_json::DepsJsonCataloger),
        Box::new(packages_config::PackagesConfigCataloger),
    ]
}

/// Why a .NET file, or one entry of it, could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DotnetError {
    /// Not readable (missing, too large, not UTF-8).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// Not JSON.
    #[error("not a valid JSON file")]
    Json(#[source] serde_json::Error),
    /// Not well-formed XML.
    #[error("not well-formed XML")]
    Xml(#[source] quick_xml::Error),
    /// One entry of the right syntax but the wrong shape.
    #[error("malformed entry")]
    Entry(#[source] serde_json::Error),
    /// The document is not of the expected shape.
    #[error("{0}")]
    Shape(&'static str),
}

/// Deserializes JSON, pointing the error at its line. serde_json's recursion limit keeps a
/// deeply nested file from exhausting the stack.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, CatalogError> {
    serde_json::from_str(text).map_err(|error| {
        let line = u32::try_from(error.line()).ok().filter(|l| *l > 0);
        let error = CatalogError::new(DotnetError::Json(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

/// A NuGet package at `version`.
pub(crate) fn nuget_component(
    name: &str,
    version: &str,
    path: &str,
    line: Option<u32>,
    found_by: &str,
) -> Component {
    let mut location = Location::new(path);
    location.line = line;
    Component::package(Ecosystem::NuGet, name, Some(version), location, found_by)
}

/// A base64 SHA-512 digest as a [`Hash`]; `None` for anything else (a digest bulwark cannot
/// represent is not reported).
pub(crate) fn sha512_base64(encoded: &str) -> Option<Hash> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    Hash::new(HashAlgorithm::Sha512, &hex::encode(bytes))
}

/// A recoverable problem in `path`.
pub(crate) fn problem(
    path: &str,
    line: Option<u32>,
    cataloger: &str,
    error: DotnetError,
) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        cataloger: Some(cataloger.to_owned()),
        message: CatalogError::new(error).render(),
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    let newlines = text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// Finds the lines of JSON object keys, scanning forward: serde_json keeps objects in file
/// order (the workspace enables `preserve_order`), so keys are met in the order they are
/// searched for and the whole search reads the text about once.
pub(crate) struct JsonLines<'a> {
    text: &'a str,
    /// Byte offsets where lines start.
    starts: Vec<usize>,
}

impl<'a> JsonLines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Self { text, starts }
    }

    /// The line of the next `"<key>":` at or after `cursor`, moving `cursor` past it. `None`
    /// (cursor unmoved) when the key is not written plainly (JSON escapes).
    pub(crate) fn key_line(&self, cursor: &mut usize, key: &str) -> Option<u32> {
        let needle = format!("\"{key}\"");
        let mut from = *cursor;
        while let Some(found) = self.text.get(from..)?.find(&needle) {
            let at = from + found;
            let after = at + needle.len();
            if self.text[after..].trim_start().starts_with(':') {
                *cursor = after;
                let line = self.starts.partition_point(|start| *start <= at);
                return u32::try_from(line).ok();
            }
            from = after;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_sha512_becomes_hex() {
        // SHA-512 of the empty string.
        let hash = sha512_base64(
            "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
        )
        .unwrap();
        assert_eq!(
            hash.value,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        assert_eq!(sha512_base64("c2hvcnQ="), None);
        assert_eq!(sha512_base64("not base64!"), None);
    }

    #[test]
    fn key_lines_skip_values_and_move_forward() {
        let text = "{\n \"a\": \"b\",\n \"b\": {\n  \"a\": 1\n }\n}";
        let lines = JsonLines::new(text);
        let mut cursor = 0;
        assert_eq!(lines.key_line(&mut cursor, "b"), Some(3));
        assert_eq!(lines.key_line(&mut cursor, "a"), Some(4));
        assert_eq!(lines.key_line(&mut cursor, "a"), None);
    }
}
