//! What both formats share: normalizing statements before writing, choosing among the ones
//! read, and the small encodings (percent-encoding, purl parts, timestamps).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::{Format, Statement, VexError};

/// How a product known only by name is written as an OpenVEX `@id`, which must be an IRI.
pub(crate) const COMPONENT_URN_PREFIX: &str = "urn:bulwark:component:";

/// What a statement is about. Purls sort before names, and a statement without product
/// (`None`) before both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Product<'a> {
    Purl(&'a str),
    Name(&'a str),
}

impl Product<'_> {
    /// How warnings and errors name a product.
    pub(crate) fn describe(product: Option<Self>) -> String {
        match product {
            Some(Self::Purl(purl)) => purl.to_owned(),
            Some(Self::Name(name)) => format!("component `{name}`"),
            None => "no product".to_owned(),
        }
    }
}

/// A product read from a document, before it becomes a statement's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Purl(String),
    Name(String),
}

impl Target {
    /// A statement's `purl` and `component_name` for `target`.
    pub(crate) fn fields(target: Option<Self>) -> (Option<String>, Option<String>) {
        match target {
            Some(Self::Purl(purl)) => (Some(purl), None),
            Some(Self::Name(name)) => (None, Some(name)),
            None => (None, None),
        }
    }
}

impl From<Product<'_>> for Target {
    fn from(product: Product<'_>) -> Self {
        match product {
            Product::Purl(purl) => Self::Purl(purl.to_owned()),
            Product::Name(name) => Self::Name(name.to_owned()),
        }
    }
}

/// The product of a statement: its purl, else its component name.
pub(crate) fn product(statement: &Statement) -> Option<Product<'_>> {
    match (&statement.purl, &statement.component_name) {
        (Some(purl), _) => Some(Product::Purl(purl)),
        (None, Some(name)) => Some(Product::Name(name)),
        (None, None) => None,
    }
}

/// The order of statements in documents and in [`crate::Document::statements`].
fn sort_key(statement: &Statement) -> (&str, Option<Product<'_>>) {
    (&statement.vulnerability, product(statement))
}

/// Checks and normalizes statements for a writer (crate docs, "Out"): one statement per
/// vulnerability and product, aliases united per vulnerability, sorted.
pub(crate) fn prepare(statements: &[Statement]) -> Result<Vec<Statement>, VexError> {
    let mut aliases: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (index, statement) in statements.iter().enumerate() {
        let invalid = |reason| VexError::InvalidStatement {
            index,
            vulnerability: statement.vulnerability.clone(),
            reason,
        };
        if statement.vulnerability.trim().is_empty() {
            return Err(invalid("the vulnerability id is empty"));
        }
        if statement.purl.as_deref().is_some_and(str::is_empty) {
            return Err(invalid("the purl is empty"));
        }
        if statement
            .component_name
            .as_deref()
            .is_some_and(str::is_empty)
        {
            return Err(invalid("the component name is empty"));
        }
        let known = aliases.entry(&statement.vulnerability).or_default();
        known.extend(
            statement
                .aliases
                .iter()
                .map(String::as_str)
                .filter(|alias| !alias.is_empty() && *alias != statement.vulnerability),
        );
    }

    let mut unique: BTreeMap<(&str, Option<Product<'_>>), Statement> = BTreeMap::new();
    for statement in statements {
        let normalized = Statement {
            vulnerability: statement.vulnerability.clone(),
            aliases: aliases
                .get(statement.vulnerability.as_str())
                .into_iter()
                .flatten()
                .map(|alias| (*alias).to_owned())
                .collect(),
            purl: statement.purl.clone(),
            component_name: statement.component_name.clone(),
            state: statement.state,
            justification: statement.justification,
            detail: statement.detail.clone().filter(|detail| !detail.is_empty()),
        };
        match unique.entry(sort_key(statement)) {
            Entry::Vacant(entry) => {
                entry.insert(normalized);
            }
            Entry::Occupied(mut entry) => {
                let existing = entry.get_mut();
                if let Some(difference) = difference(existing, &normalized) {
                    return Err(VexError::Conflict {
                        vulnerability: statement.vulnerability.clone(),
                        product: Product::describe(product(statement)),
                        difference,
                    });
                }
                if existing.component_name.is_none() {
                    existing.component_name = normalized.component_name;
                }
            }
        }
    }
    Ok(unique.into_values().collect())
}

/// How two statements about one vulnerability and product disagree, if they do.
fn difference(a: &Statement, b: &Statement) -> Option<String> {
    let justification = |statement: &Statement| {
        statement
            .justification
            .map_or("no justification", |justification| justification.as_str())
    };
    if a.state != b.state {
        Some(format!("state {} vs {}", a.state, b.state))
    } else if a.justification != b.justification {
        Some(format!("{} vs {}", justification(a), justification(b)))
    } else if a.detail != b.detail {
        Some("the details differ".to_owned())
    } else {
        None
    }
}

/// A statement read from a document, with what decides whether a later one supersedes it.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub(crate) statement: Statement,
    /// When the statement was made, if the document says.
    pub(crate) timestamp: Option<OffsetDateTime>,
    /// Where it is in the document (`statements[3]`), for warnings.
    pub(crate) position: String,
}

/// The statements of a document: per vulnerability and product the latest (by timestamp
/// where both have one, else by position), normalized and sorted. A superseded statement
/// that disagrees with the one kept is named in a warning.
pub(crate) fn latest(candidates: Vec<Candidate>, warnings: &mut Vec<String>) -> Vec<Statement> {
    type Key = (String, Option<String>, Option<String>);
    let mut chosen: BTreeMap<Key, Candidate> = BTreeMap::new();
    for mut candidate in candidates {
        let statement = &mut candidate.statement;
        if statement.purl.is_some() {
            statement.component_name = None;
        }
        let vulnerability = statement.vulnerability.clone();
        statement
            .aliases
            .retain(|alias| !alias.is_empty() && *alias != vulnerability);
        statement.aliases.sort();
        statement.aliases.dedup();

        let key = (
            statement.vulnerability.clone(),
            statement.purl.clone(),
            statement.component_name.clone(),
        );
        match chosen.entry(key) {
            Entry::Vacant(entry) => {
                entry.insert(candidate);
            }
            Entry::Occupied(mut entry) => {
                let later = match (entry.get().timestamp, candidate.timestamp) {
                    (Some(kept), Some(new)) => new >= kept,
                    _ => true,
                };
                let (kept, dropped) = if later {
                    let dropped = entry.insert(candidate);
                    (entry.into_mut(), dropped)
                } else {
                    (entry.into_mut(), candidate)
                };
                if difference(&kept.statement, &dropped.statement).is_some() {
                    warnings.push(format!(
                        "{} ({}): {} for {} is superseded by {} in the later {}",
                        dropped.position,
                        dropped.statement.vulnerability,
                        dropped.statement.state,
                        Product::describe(product(&dropped.statement)),
                        kept.statement.state,
                        kept.position,
                    ));
                }
            }
        }
    }
    let mut statements: Vec<Statement> = chosen
        .into_values()
        .map(|candidate| candidate.statement)
        .collect();
    statements.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    statements
}

/// A document timestamp: UTC, whole seconds, RFC 3339.
pub(crate) fn format_timestamp(
    timestamp: OffsetDateTime,
    format: Format,
) -> Result<String, VexError> {
    let invalid = |reason: String| VexError::InvalidOption {
        option: "timestamp",
        format,
        reason,
    };
    let utc = timestamp
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| invalid(format!("{timestamp} is out of range in UTC")))?;
    // Setting the nanosecond to 0 cannot fail; keeping `utc` as is would be harmless anyway.
    let utc = utc.replace_nanosecond(0).unwrap_or(utc);
    utc.format(&Rfc3339)
        .map_err(|error| invalid(format!("{utc} cannot be written as RFC 3339: {error}")))
}

/// The first of `keys` in `object` that holds an RFC 3339 timestamp.
pub(crate) fn timestamp(object: &Map<String, Value>, keys: &[&str]) -> Option<OffsetDateTime> {
    keys.iter()
        .filter_map(|key| object.get(*key).and_then(Value::as_str))
        .find_map(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
}

/// A non-empty string field.
pub(crate) fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
}

/// Percent-encodes everything but the characters an IRI path takes as they are.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:@+".contains(&byte) {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The name and version of a purl (`pkg:type/namespace/name@version?qualifiers#subpath`),
/// percent-decoded; `None` when it is not a purl.
pub(crate) fn purl_name_version(purl: &str) -> Option<(String, Option<String>)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split_once('#').map_or(rest, |(head, _)| head);
    let rest = rest.split_once('?').map_or(rest, |(head, _)| head);
    let (_kind, path) = rest.trim_start_matches('/').split_once('/')?;
    let path = path.trim_end_matches('/');
    let segment_start = path.rfind('/').map_or(0, |slash| slash + 1);
    let (name, version) = match path.rfind('@') {
        Some(at) if at > segment_start => (&path[segment_start..at], Some(&path[at + 1..])),
        _ => (&path[segment_start..], None),
    };
    if name.is_empty() {
        return None;
    }
    let decode = |part: &str| percent_decode(part).unwrap_or_else(|| part.to_owned());
    Some((
        decode(name),
        version.filter(|version| !version.is_empty()).map(decode),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_parts() {
        let cases = [
            (
                "pkg:pypi/torch@2.2.0%2Bcu121",
                Some(("torch", Some("2.2.0+cu121"))),
            ),
            (
                "pkg:npm/%40babel/core@7.24.0",
                Some(("core", Some("7.24.0"))),
            ),
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
                Some(("log4j-core", Some("2.14.1"))),
            ),
            (
                "pkg:golang/golang.org/x/text@v0.3.7#cases",
                Some(("text", Some("v0.3.7"))),
            ),
            (
                "pkg:huggingface/bert-base-uncased",
                Some(("bert-base-uncased", None)),
            ),
            ("pkg:npm/@babel/core", Some(("core", None))),
            ("pkg:npm/", None),
            ("gpu-library:cudnn", None),
        ];
        for (purl, expected) in cases {
            let got = purl_name_version(purl);
            let got = got
                .as_ref()
                .map(|(name, version)| (name.as_str(), version.as_deref()));
            assert_eq!(got, expected, "{purl}");
        }
    }

    #[test]
    fn percent_encoding_round_trips_and_rejects_bad_escapes() {
        for text in [
            "cudnn 8.9.7",
            "models/bert.pkl#weights?x=1",
            "naïve%",
            "a/b:c@d+e",
        ] {
            let encoded = percent_encode(text);
            assert!(!encoded.contains([' ', '#', '?']), "{encoded}");
            assert_eq!(percent_decode(&encoded).as_deref(), Some(text), "{encoded}");
        }
        assert_eq!(percent_encode("a b#c"), "a%20b%23c");
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn timestamps_are_utc_whole_seconds() {
        let timestamp = time::macros::datetime!(2026-03-01 12:30:45.987 +02:00);
        assert_eq!(
            format_timestamp(timestamp, Format::OpenVex).ok().as_deref(),
            Some("2026-03-01T10:30:45Z")
        );
        let far = time::macros::datetime!(9999-12-31 23:00:00 -05:00);
        assert!(matches!(
            format_timestamp(far, Format::CycloneDx),
            Err(VexError::InvalidOption {
                option: "timestamp",
                ..
            })
        ));
    }
}
