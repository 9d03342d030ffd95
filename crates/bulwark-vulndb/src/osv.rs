//! The OSV record model (schema 1.x), tolerant of what real databases publish.
//!
//! Only what can be checked is required: a record needs an `id` and a `modified` time that
//! parses. Every list may be missing or `null`; unknown fields are ignored; unknown severity
//! types, range types and ecosystems are kept as written rather than rejected, so a database
//! with a newer schema still imports. `ecosystem_specific` and `database_specific` stay raw
//! JSON because they may hold severities the matcher reads.

use std::fmt;

use bulwark_inventory::Ecosystem;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// One OSV record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The OSV schema version the record claims, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// The record's id (`PYSEC-2024-1`, `GHSA-…`, `RUSTSEC-…`, `GO-…`).
    #[serde(deserialize_with = "non_empty_string")]
    pub id: String,
    /// When the record was last changed: the key for incremental updates.
    #[serde(with = "timestamp")]
    pub modified: OffsetDateTime,
    /// When the record was first published.
    #[serde(
        default,
        with = "optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<OffsetDateTime>,
    /// When the record was withdrawn; a withdrawn record must never be reported.
    #[serde(
        default,
        with = "optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub withdrawn: Option<OffsetDateTime>,
    /// Other ids for the same vulnerability (CVE, GHSA, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub aliases: Vec<String>,
    /// Ids of records this one was derived from.
    #[serde(default, deserialize_with = "null_as_default")]
    pub upstream: Vec<String>,
    /// Ids of related but distinct vulnerabilities.
    #[serde(default, deserialize_with = "null_as_default")]
    pub related: Vec<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Full description (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severities of the whole record.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<Severity>,
    /// The affected packages.
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected: Vec<Affected>,
    /// Links to advisories, fixes and reports.
    #[serde(default, deserialize_with = "null_as_default")]
    pub references: Vec<Reference>,
    /// People and organisations credited.
    #[serde(default, deserialize_with = "null_as_default")]
    pub credits: Vec<Credit>,
    /// Database-specific data, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

impl Advisory {
    /// Whether the record has been withdrawn (the matcher skips it).
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }
}

/// A severity score as OSV writes it: a scheme and a vector or rating string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    /// The scoring scheme.
    #[serde(rename = "type")]
    pub kind: SeverityType,
    /// The vector (`CVSS:3.1/AV:N/...`) or rating, as written.
    pub score: String,
}

/// The scoring scheme of a [`Severity`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeverityType {
    /// `CVSS_V2`.
    CvssV2,
    /// `CVSS_V3` (3.0 and 3.1).
    CvssV3,
    /// `CVSS_V4`.
    CvssV4,
    /// `Ubuntu` priority.
    Ubuntu,
    /// Any other scheme, kept as written.
    Other(String),
}

impl SeverityType {
    /// The OSV spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::CvssV2 => "CVSS_V2",
            Self::CvssV3 => "CVSS_V3",
            Self::CvssV4 => "CVSS_V4",
            Self::Ubuntu => "Ubuntu",
            Self::Other(other) => other,
        }
    }
}

impl Serialize for SeverityType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SeverityType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "CVSS_V2" => Self::CvssV2,
            "CVSS_V3" => Self::CvssV3,
            "CVSS_V4" => Self::CvssV4,
            "Ubuntu" => Self::Ubuntu,
            _ => Self::Other(text),
        })
    }
}

/// One `affected[]` entry: a package and the versions of it that are affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The package; absent in records that only name git commits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// Severities of this package only.
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<Severity>,
    /// Version ranges.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<String>,
    /// Ecosystem-specific data, kept as written (may hold severities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
    /// Database-specific data, kept as written (may hold severities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// The package an [`Affected`] entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The ecosystem, with its release suffix if any.
    pub ecosystem: OsvEcosystem,
    /// The name as written in the record (not normalized).
    pub name: String,
    /// The package URL, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// An ecosystem as written in `affected[].package.ecosystem`: a base ecosystem and, after the
/// first `:`, an optional suffix (`Debian:12`, `Ubuntu:Pro:22.04:LTS`, `Alpine:v3.19`,
/// `Packagist:https://packages.drupal.org/8`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OsvEcosystem {
    /// The base ecosystem.
    pub base: EcosystemId,
    /// Everything after the first `:`: a distribution release, or a repository for
    /// ecosystems that allow one.
    pub release: Option<String>,
}

impl OsvEcosystem {
    /// Splits `text` at its first `:`. Never fails: an ecosystem bulwark does not know is kept
    /// as [`EcosystemId::Unknown`].
    pub fn parse(text: &str) -> Self {
        let (base, release) = match text.split_once(':') {
            Some((base, release)) => (base, Some(release.to_owned())),
            None => (text, None),
        };
        let base = match base.parse::<Ecosystem>() {
            Ok(known) => EcosystemId::Known(known),
            Err(_) => EcosystemId::Unknown(base.to_owned()),
        };
        Self { base, release }
    }
}

impl fmt::Display for OsvEcosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base.as_str())?;
        if let Some(release) = &self.release {
            write!(f, ":{release}")?;
        }
        Ok(())
    }
}

impl Serialize for OsvEcosystem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OsvEcosystem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::parse(&text))
    }
}

/// A base ecosystem: one bulwark knows, or an unknown one kept by its raw name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EcosystemId {
    /// An ecosystem bulwark knows.
    Known(Ecosystem),
    /// Any other name (`OSS-Fuzz`, `GitHub Actions`, ...), as written.
    Unknown(String),
}

impl EcosystemId {
    /// The OSV spelling (or the raw name).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(known) => known.as_str(),
            Self::Unknown(name) => name,
        }
    }

    /// The known ecosystem, if it is one.
    pub fn known(&self) -> Option<Ecosystem> {
        match self {
            Self::Known(known) => Some(*known),
            Self::Unknown(_) => None,
        }
    }
}

/// A version range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// How the versions in the events are ordered.
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// The repository, for `GIT` ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events, in the order written (the matcher sorts them).
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<Event>,
    /// Database-specific data, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// The kind of a [`Range`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeType {
    /// Versions ordered by the ecosystem's own rules.
    Ecosystem,
    /// SemVer 2.0 versions.
    Semver,
    /// Git commits (not used for package matching).
    Git,
    /// Any other type, kept as written.
    Other(String),
}

impl RangeType {
    /// The OSV spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ecosystem => "ECOSYSTEM",
            Self::Semver => "SEMVER",
            Self::Git => "GIT",
            Self::Other(other) => other,
        }
    }
}

impl Serialize for RangeType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RangeType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "ECOSYSTEM" => Self::Ecosystem,
            "SEMVER" => Self::Semver,
            "GIT" => Self::Git,
            _ => Self::Other(text),
        })
    }
}

/// One event of a [`Range`]. OSV writes each as an object with exactly one of these keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// `introduced`: this version and later are affected (`0` means from the start).
    Introduced(String),
    /// `fixed`: this version and later are not affected.
    Fixed(String),
    /// `last_affected`: versions after this one are not affected.
    LastAffected(String),
    /// `limit`: an upper bound on the range (used with git ranges).
    Limit(String),
}

#[derive(Serialize, Deserialize)]
struct RawEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<String>,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut raw = RawEvent {
            introduced: None,
            fixed: None,
            last_affected: None,
            limit: None,
        };
        match self {
            Self::Introduced(version) => raw.introduced = Some(version.clone()),
            Self::Fixed(version) => raw.fixed = Some(version.clone()),
            Self::LastAffected(version) => raw.last_affected = Some(version.clone()),
            Self::Limit(version) => raw.limit = Some(version.clone()),
        }
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawEvent::deserialize(deserializer)?;
        let mut events = [
            raw.introduced.map(Self::Introduced),
            raw.fixed.map(Self::Fixed),
            raw.last_affected.map(Self::LastAffected),
            raw.limit.map(Self::Limit),
        ]
        .into_iter()
        .flatten();
        match (events.next(), events.next()) {
            (Some(event), None) => Ok(event),
            (None, _) => Err(D::Error::custom(
                "range event has none of `introduced`, `fixed`, `last_affected`, `limit`",
            )),
            (Some(_), Some(_)) => Err(D::Error::custom("range event has more than one key")),
        }
    }
}

/// A reference link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `FIX`, `WEB`, ... as written.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// A credit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// Who is credited.
    pub name: String,
    /// How to reach them.
    #[serde(default, deserialize_with = "null_as_default")]
    pub contact: Vec<String>,
    /// `FINDER`, `REPORTER`, ... as written.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn non_empty_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.trim().is_empty() {
        return Err(D::Error::custom("`id` is empty"));
    }
    Ok(text)
}

/// Parses an OSV timestamp: RFC 3339, or (tolerated) the same without a UTC offset (taken as
/// UTC) or a bare date.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(parsed) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(parsed);
    }
    let without_zone = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(parsed) = PrimitiveDateTime::parse(text, without_zone) {
        return Some(parsed.assume_utc());
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|date| date.midnight().assume_utc())
}

/// Formats a timestamp as RFC 3339 (falls back to the debug form for years RFC 3339 cannot
/// write).
pub fn format_timestamp(value: OffsetDateTime) -> String {
    value
        .format(&Rfc3339)
        .unwrap_or_else(|_| format!("{value:?}"))
}

mod timestamp {
    use serde::de::Error as _;

    use super::{Deserialize, Deserializer, OffsetDateTime, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_timestamp(*value))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_timestamp(&text)
            .ok_or_else(|| D::Error::custom(format!("`{text}` is not an RFC 3339 timestamp")))
    }
}

mod optional_timestamp {
    use serde::de::Error as _;

    use super::{Deserialize, Deserializer, OffsetDateTime, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(&super::format_timestamp(*value)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        super::parse_timestamp(&text)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("`{text}` is not an RFC 3339 timestamp")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_suffixes() {
        let debian = OsvEcosystem::parse("Debian:12");
        assert_eq!(debian.base, EcosystemId::Known(Ecosystem::Debian));
        assert_eq!(debian.release.as_deref(), Some("12"));
        let ubuntu = OsvEcosystem::parse("Ubuntu:Pro:22.04:LTS");
        assert_eq!(ubuntu.base, EcosystemId::Known(Ecosystem::Ubuntu));
        assert_eq!(ubuntu.release.as_deref(), Some("Pro:22.04:LTS"));
        let alpine = OsvEcosystem::parse("Alpine:v3.19");
        assert_eq!(alpine.base.known(), Some(Ecosystem::Alpine));
        assert_eq!(alpine.to_string(), "Alpine:v3.19");
        let pypi = OsvEcosystem::parse("PyPI");
        assert_eq!(pypi.base.known(), Some(Ecosystem::PyPI));
        assert_eq!(pypi.release, None);
        let fuzz = OsvEcosystem::parse("OSS-Fuzz");
        assert_eq!(fuzz.base, EcosystemId::Unknown("OSS-Fuzz".to_owned()));
    }

    #[test]
    fn events_need_exactly_one_key() {
        let event: Event = serde_json::from_str(r#"{"fixed": "1.2"}"#).unwrap();
        assert_eq!(event, Event::Fixed("1.2".to_owned()));
        assert!(serde_json::from_str::<Event>(r"{}").is_err());
        assert!(serde_json::from_str::<Event>(r#"{"fixed": "1", "limit": "2"}"#).is_err());
    }

    #[test]
    fn tolerant_of_nulls_and_unknown_types() {
        let record: Advisory = serde_json::from_str(
            r#"{"id": "X-1", "modified": "2024-01-02T03:04:05.123456Z", "aliases": null,
                "severity": [{"type": "NEW_SCHEME", "score": "9"}],
                "affected": [{"package": {"ecosystem": "GitHub Actions", "name": "a/b"},
                              "ranges": [{"type": "NEWTYPE", "events": [{"introduced": "0"}]}]}],
                "unknown_field": 1}"#,
        )
        .unwrap();
        assert!(record.aliases.is_empty());
        assert_eq!(
            record.severity[0].kind,
            SeverityType::Other("NEW_SCHEME".to_owned())
        );
        assert_eq!(
            record.affected[0].ranges[0].kind,
            RangeType::Other("NEWTYPE".to_owned())
        );
        let round_trip: Advisory =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(round_trip, record);
    }

    #[test]
    fn timestamps() {
        assert!(parse_timestamp("0001-01-01T00:00:00Z").is_some());
        assert!(parse_timestamp("2024-10-10T12:00:00.123456789Z").is_some());
        assert!(parse_timestamp("2024-10-10T12:00:00").is_some());
        assert!(parse_timestamp("2024-10-10").is_some());
        assert!(parse_timestamp("yesterday").is_none());
        let missing_modified = serde_json::from_str::<Advisory>(r#"{"id": "X"}"#);
        assert!(missing_modified.is_err());
    }
}
