//! Splitting PEP 508 requirement text *as written*.
//!
//! `pep508_rs` normalizes names and specifiers while it parses; an SBOM must show a requirement
//! the way its file spells it (`Flask_Cors[async] (>=3.0) ; python_version < "3.12"`). Python
//! and conda catalogers (`environment.yml`'s pip section) both need this, and catalogers may
//! not depend on each other, so it lives here.

use std::convert::Infallible;
use std::fmt;

use pep508_rs::Pep508Url;

/// A URL kept exactly as written, for `pep508_rs::Requirement<RawUrl>`: bulwark reports URLs
/// and never fetches them, so it needs neither `url::Url`'s validation (`${TOKEN}` in a URL is
/// fine) nor its normalization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawUrl(pub String);

impl fmt::Display for RawUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Pep508Url for RawUrl {
    type Err = Infallible;

    fn parse_url(url: &str, _working_dir: Option<&std::path::Path>) -> Result<Self, Self::Err> {
        Ok(Self(url.to_owned()))
    }
}

/// Splits off the leading distribution name (`[A-Za-z0-9._-]+`).
pub fn split_name(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Splits off a leading `[extra, ...]` list.
pub fn split_extras(rest: &str) -> (Vec<String>, &str) {
    let trimmed = rest.trim_start();
    if let Some(inner) = trimmed.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        let extras = inner[..end]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        return (extras, &inner[end + 1..]);
    }
    (Vec::new(), rest)
}

/// Splits `specifier ; marker` (no `;` can occur in a specifier); drops the parentheses of
/// the old `name (>=1.0)` form.
pub fn split_marker(rest: &str) -> (String, Option<String>) {
    let (specifier, marker) = match rest.split_once(';') {
        Some((specifier, marker)) => (specifier, Some(marker.trim())),
        None => (rest, None),
    };
    let specifier = specifier.trim();
    let specifier = specifier
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(specifier)
        .trim();
    (
        specifier.to_owned(),
        marker.filter(|m| !m.is_empty()).map(str::to_owned),
    )
}
