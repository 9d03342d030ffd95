//! Severity: CVSS vectors scored with the `cvss` crate, and the qualitative ratings some
//! databases write instead.

use std::fmt;
use std::str::FromStr;

use bulwark_vulndb::Advisory;
use bulwark_vulndb::osv::{Affected, SeverityType};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// How bad a finding is. Ordered from least to most severe, [`Severity::Unknown`] lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// No source gave a severity.
    #[default]
    Unknown,
    /// CVSS 0.0.
    None,
    /// CVSS 0.1–3.9, or a `LOW` rating.
    Low,
    /// CVSS 4.0–6.9, or a `MODERATE`/`MEDIUM` rating.
    Medium,
    /// CVSS 7.0–8.9, or a `HIGH` rating.
    High,
    /// CVSS 9.0–10.0, or a `CRITICAL` rating.
    Critical,
}

impl Severity {
    /// The lowercase name (`critical`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The rating of a CVSS score, with the CVSS v3.x (and v4.0) bands for every version: a
    /// v2 score of 9.3 is `critical` here although v2 itself has no such band, so scores of all
    /// versions compare on one scale.
    pub fn from_score(score: f64) -> Self {
        if score >= 9.0 {
            Self::Critical
        } else if score >= 7.0 {
            Self::High
        } else if score >= 4.0 {
            Self::Medium
        } else if score > 0.0 {
            Self::Low
        } else {
            Self::None
        }
    }

    /// Reads a qualitative rating: GitHub's `LOW`/`MODERATE`/`HIGH`/`CRITICAL`, `MEDIUM`, and
    /// Ubuntu's priorities (`negligible` and `untriaged` read as low and unknown). Case is
    /// ignored; anything else is `None`.
    pub fn from_rating(rating: &str) -> Option<Self> {
        Some(match rating.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::Critical,
            "high" | "important" => Self::High,
            "moderate" | "medium" => Self::Medium,
            "low" | "negligible" => Self::Low,
            "none" => Self::None,
            "unknown" | "untriaged" => Self::Unknown,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Parses a severity name as [`Severity::as_str`] writes it (`--fail-on high`).
impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            Self::Unknown,
            Self::None,
            Self::Low,
            Self::Medium,
            Self::High,
            Self::Critical,
        ]
        .into_iter()
        .find(|severity| severity.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| UnknownSeverity(text.to_owned()))
    }
}

/// The text named no severity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}` (expected none, low, medium, high or critical)")]
pub struct UnknownSeverity(String);

/// A scored CVSS vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cvss {
    /// The base score, 0.0–10.0.
    pub score: f64,
    /// The vector as the record wrote it.
    pub vector: String,
    /// The CVSS version: `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
}

impl Cvss {
    /// Parses and scores a CVSS v2, v3.0, v3.1 or v4.0 vector. `None` when it does not parse.
    pub fn parse(vector: &str) -> Option<Self> {
        let trimmed = vector.trim();
        let parsed = cvss::Cvss::from_str(trimmed).ok()?;
        let version = match parsed {
            cvss::Cvss::CvssV20(_) => "2.0",
            cvss::Cvss::CvssV30(_) => "3.0",
            cvss::Cvss::CvssV31(_) => "3.1",
            cvss::Cvss::CvssV40(_) => "4.0",
            _ => return None,
        };
        Some(Self {
            score: parsed.score(),
            vector: trimmed.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The preference among versions when a record has several vectors: v3.1, then v3.0 (the
    /// version most databases and tools score with, so findings compare), then v4.0, then v2.
    fn preference(&self) -> u8 {
        match self.version.as_str() {
            "3.1" => 0,
            "3.0" => 1,
            "4.0" => 2,
            _ => 3,
        }
    }
}

/// A severity and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rated {
    pub(crate) severity: Severity,
    pub(crate) cvss: Option<Cvss>,
    /// `PYSEC-2023-1 severity[0] (CVSS_V3)`.
    pub(crate) source: String,
}

impl Rated {
    /// Whether `self` outranks `other`: the higher severity, then the higher score.
    pub(crate) fn outranks(&self, other: &Self) -> bool {
        let score = |rated: &Self| rated.cvss.as_ref().map_or(-1.0, |cvss| cvss.score);
        match self.severity.cmp(&other.severity) {
            std::cmp::Ordering::Equal => score(self) > score(other),
            ordering => ordering.is_gt(),
        }
    }
}

/// The severity of `advisory` for the `affected` entries that matched (their indices):
///
/// 1. the record's top-level `severity[]` CVSS vectors (v3.1 > v3.0 > v4.0 > v2, the first
///    of the preferred version);
/// 2. the matched entries' `affected[].severity[]` CVSS vectors, likewise;
/// 3. qualitative ratings: the record's `database_specific.severity` (GitHub:
///    `LOW`/`MODERATE`/`HIGH`/`CRITICAL`), then per matched entry `ecosystem_specific.severity`
///    and `database_specific.severity`, then `Ubuntu` priorities in `severity[]`;
/// 4. otherwise [`Severity::Unknown`].
pub(crate) fn rate(advisory: &Advisory, matched_entries: &[usize]) -> Rated {
    if let Some(rated) = best_cvss(&advisory.id, "", &advisory.severity) {
        return rated;
    }
    for &index in matched_entries {
        if let Some(affected) = advisory.affected.get(index)
            && let Some(rated) = best_cvss(
                &advisory.id,
                &format!("affected[{index}]."),
                &affected.severity,
            )
        {
            return rated;
        }
    }
    if let Some(rated) = rating_in(
        &advisory.id,
        "",
        "database_specific",
        &advisory.database_specific,
    ) {
        return rated;
    }
    for &index in matched_entries {
        let Some(affected) = advisory.affected.get(index) else {
            continue;
        };
        if let Some(rated) = rated_entry(&advisory.id, index, affected) {
            return rated;
        }
    }
    let qualitative = advisory
        .severity
        .iter()
        .enumerate()
        .find_map(|(position, severity)| {
            (severity.kind == SeverityType::Ubuntu)
                .then(|| Severity::from_rating(&severity.score))
                .flatten()
                .filter(|level| *level != Severity::Unknown)
                .map(|level| Rated {
                    severity: level,
                    cvss: None,
                    source: format!("{} severity[{position}] (Ubuntu)", advisory.id),
                })
        });
    qualitative.unwrap_or_else(|| Rated {
        severity: Severity::Unknown,
        cvss: None,
        source: format!("{}: no severity given", advisory.id),
    })
}

fn rated_entry(id: &str, index: usize, affected: &Affected) -> Option<Rated> {
    let prefix = format!("affected[{index}].");
    rating_in(
        id,
        &prefix,
        "ecosystem_specific",
        &affected.ecosystem_specific,
    )
    .or_else(|| {
        rating_in(
            id,
            &prefix,
            "database_specific",
            &affected.database_specific,
        )
    })
}

fn best_cvss(
    id: &str,
    prefix: &str,
    severities: &[bulwark_vulndb::osv::Severity],
) -> Option<Rated> {
    severities
        .iter()
        .enumerate()
        .filter(|(_, severity)| {
            matches!(
                severity.kind,
                SeverityType::CvssV2 | SeverityType::CvssV3 | SeverityType::CvssV4
            )
        })
        .filter_map(|(position, severity)| {
            Cvss::parse(&severity.score).map(|cvss| (position, severity.kind.as_str(), cvss))
        })
        .min_by_key(|(position, _, cvss)| (cvss.preference(), *position))
        .map(|(position, kind, cvss)| Rated {
            severity: Severity::from_score(cvss.score),
            source: format!("{id} {prefix}severity[{position}] ({kind})"),
            cvss: Some(cvss),
        })
}

fn rating_in(id: &str, prefix: &str, field: &str, value: &Option<Value>) -> Option<Rated> {
    let rating = value.as_ref()?.get("severity")?.as_str()?;
    let severity = Severity::from_rating(rating)?;
    (severity != Severity::Unknown).then(|| Rated {
        severity,
        cvss: None,
        source: format!("{id} {prefix}{field}.severity ({rating})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let v31 = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert!((v31.score - 9.8).abs() < 1e-9);
        assert_eq!(v31.version, "3.1");
        assert_eq!(Severity::from_score(v31.score), Severity::Critical);

        let v30 = Cvss::parse("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H").unwrap();
        assert!((v30.score - 7.5).abs() < 1e-9);
        assert_eq!(Severity::from_score(v30.score), Severity::High);

        // The CVSS v4.0 specification's reference calculator gives 9.3 for this vector.
        let v40 =
            Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert!((v40.score - 9.3).abs() < 1e-9);
        assert_eq!(v40.version, "4.0");

        // log4j-core GHSA-3pxv-7cmr-fjr4 (samples/Maven): only SI:L, 6.9 by the calculator.
        let ghsa =
            Cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:N").unwrap();
        assert_eq!(Severity::from_score(ghsa.score), Severity::Medium);

        let v2 = Cvss::parse("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert!((v2.score - 7.5).abs() < 1e-9);
        assert_eq!(v2.version, "2.0");

        assert_eq!(Cvss::parse("CVSS:3.1/AV:X"), None);
        assert_eq!(Cvss::parse("HIGH"), None);
    }

    #[test]
    fn bands() {
        assert_eq!(Severity::from_score(0.0), Severity::None);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(3.9), Severity::Low);
        assert_eq!(Severity::from_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(8.9), Severity::High);
        assert_eq!(Severity::from_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_score(10.0), Severity::Critical);
        assert_eq!(Severity::from_rating("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::from_rating("whatever"), None);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::None > Severity::Unknown);
    }

    fn advisory(json: &str) -> Advisory {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn preference_order() {
        let both = advisory(
            r#"{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "severity": [
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]}"#,
        );
        let rated = rate(&both, &[]);
        assert_eq!(rated.severity, Severity::High);
        assert_eq!(rated.cvss.unwrap().version, "3.1");
        assert_eq!(rated.source, "X-1 severity[1] (CVSS_V3)");

        let only_v4 = advisory(
            r#"{"id": "X-2", "modified": "2024-01-01T00:00:00Z", "severity": [
                {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:N/I:N/A:P"},
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}"#,
        );
        assert_eq!(rate(&only_v4, &[]).cvss.unwrap().version, "4.0");

        let per_package = advisory(
            r#"{"id": "X-3", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "LOW"},
                "affected": [{"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}]}"#,
        );
        let rated = rate(&per_package, &[0]);
        assert_eq!(rated.severity, Severity::Critical);
        assert_eq!(rated.source, "X-3 affected[0].severity[0] (CVSS_V3)");

        let github = advisory(
            r#"{"id": "GHSA-x", "modified": "2024-01-01T00:00:00Z", "database_specific": {"severity": "MODERATE"}}"#,
        );
        let rated = rate(&github, &[]);
        assert_eq!(rated.severity, Severity::Medium);
        assert_eq!(rated.cvss, None);
        assert_eq!(rated.source, "GHSA-x database_specific.severity (MODERATE)");

        let nothing = advisory(r#"{"id": "PYSEC-1", "modified": "2024-01-01T00:00:00Z"}"#);
        assert_eq!(rate(&nothing, &[]).severity, Severity::Unknown);
    }
}
