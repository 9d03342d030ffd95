//! Dependency-Track-shaped reads, for the CI integrations that look a project up before or
//! after uploading (`owasp-dependency-track-cli`, `dtrack-auditor`, `dependency-track-client`)
//! and gate a build on its findings or metrics.
//!
//! Dependency-Track's "project" is one name *and* version; bulwark's is the name, with
//! versions under it. So a Dependency-Track project here is a bulwark project version, and its
//! UUID is derived from the version's row id ([`version_uuid`]): stable, and resolvable back
//! without a lookup table.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use bulwark_store::{
    FindingRow, PageRequest, Scope, Severity, TriageState, VersionFilter, VersionListing,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppStateRef;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Path};

/// The high half of every version UUID: `b01ba4c0-0000-8…` (RFC 9562 version 8, "custom").
const UUID_HIGH: u64 = 0xb01b_a4c0_0000_8000;
/// The RFC 9562 variant bits, at the top of the low half.
const UUID_VARIANT: u64 = 0x8000_0000_0000_0000;
const UUID_VARIANT_MASK: u64 = 0xc000_0000_0000_0000;

/// The Dependency-Track project UUID of a bulwark project version.
pub(crate) fn version_uuid(version_id: i64) -> Uuid {
    let id = u64::try_from(version_id).unwrap_or_default() & !UUID_VARIANT_MASK;
    Uuid::from_u64_pair(UUID_HIGH, UUID_VARIANT | id)
}

/// The version row id behind a UUID from [`version_uuid`]; `None` for any other UUID.
pub(crate) fn version_id_of(uuid: &str) -> Option<i64> {
    let (high, low) = Uuid::parse_str(uuid.trim()).ok()?.as_u64_pair();
    (high == UUID_HIGH && low & UUID_VARIANT_MASK == UUID_VARIANT)
        .then(|| i64::try_from(low & !UUID_VARIANT_MASK).ok())
        .flatten()
}

/// A Dependency-Track tag.
#[derive(Serialize, ToSchema)]
pub(crate) struct DtTag {
    name: String,
}

/// A Dependency-Track `Project`: one bulwark project version.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtProject {
    uuid: String,
    name: String,
    version: String,
    classifier: &'static str,
    active: bool,
    /// Whether this version holds the project's newest upload.
    is_latest: bool,
    tags: Vec<DtTag>,
    /// Milliseconds since the epoch; absent before the first upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_bom_import: Option<i64>,
}

impl From<VersionListing> for DtProject {
    fn from(v: VersionListing) -> DtProject {
        DtProject {
            uuid: version_uuid(v.version.id).to_string(),
            name: v.project.name,
            version: v.version.version,
            classifier: "APPLICATION",
            active: true,
            is_latest: v.is_current,
            tags: v
                .project
                .tags
                .into_iter()
                .map(|name| DtTag { name })
                .collect(),
            last_bom_import: v.last_upload.map(millis),
        }
    }
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
}

/// Dependency-Track's paging: `pageNumber` (from 1) and `pageSize`, or `offset` and `limit`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct DtProjectQuery {
    /// Only projects with exactly this name.
    name: Option<String>,
    page_number: Option<u64>,
    page_size: Option<u32>,
    offset: Option<u64>,
    limit: Option<u32>,
    /// Accepted and ignored: bulwark has no inactive projects.
    #[allow(dead_code)]
    exclude_inactive: Option<bool>,
}

impl DtProjectQuery {
    fn page(&self) -> PageRequest {
        let limit = self.page_size.or(self.limit).unwrap_or(100);
        let offset = match (self.page_number, self.offset) {
            (Some(n), _) => n.saturating_sub(1).saturating_mul(u64::from(limit)),
            (None, Some(offset)) => offset,
            (None, None) => 0,
        };
        PageRequest { limit, offset }
    }
}

/// Dependency-Track `GET /api/v1/project`: the versions this key sees, as projects, with the
/// total in `X-Total-Count`; a page past the end is empty (clients page until then).
#[utoipa::path(get, path = "/api/v1/project", params(DtProjectQuery),
    responses((status = 200, body = Vec<DtProject>)))]
pub(crate) async fn list_projects(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<DtProjectQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<DtProject>>)> {
    caller.require(Scope::Read)?;
    let page = state
        .store
        .list_project_versions(&VersionFilter {
            teams: caller.teams(),
            project_name: query.name.clone(),
            page: query.page(),
            ..VersionFilter::default()
        })
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    Ok((
        headers,
        Json(page.items.into_iter().map(DtProject::from).collect()),
    ))
}

/// The name and version of a lookup.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupQuery {
    name: String,
    version: String,
}

/// Dependency-Track `GET /api/v1/project/lookup?name=&version=`.
#[utoipa::path(get, path = "/api/v1/project/lookup", params(LookupQuery),
    responses((status = 200, body = DtProject), (status = 404)))]
pub(crate) async fn lookup(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<LookupQuery>,
) -> ApiResult<Json<DtProject>> {
    caller.require(Scope::Read)?;
    let filter = VersionFilter {
        project_name: Some(query.name.clone()),
        version: Some(query.version.clone()),
        ..VersionFilter::default()
    };
    one_version(&state, &caller, filter)
        .await?
        .map(|v| Json(v.into()))
        .ok_or_else(|| {
            ApiError::not_found(format_args!(
                "project {:?} version {:?}",
                query.name, query.version
            ))
        })
}

/// The one version `filter` names, among those `caller` sees. Names are unique among
/// siblings, not across parents, so a name and version may match several; the first (by
/// version id) answers, as Dependency-Track would answer one.
async fn one_version(
    state: &AppState,
    caller: &Caller,
    filter: VersionFilter,
) -> ApiResult<Option<VersionListing>> {
    let filter = VersionFilter {
        teams: caller.teams(),
        page: PageRequest {
            limit: 1,
            offset: 0,
        },
        ..filter
    };
    Ok(state
        .store
        .list_project_versions(&filter)
        .await?
        .items
        .pop())
}

/// The version behind a Dependency-Track project UUID, if this key sees it.
pub(crate) async fn version_by_uuid(
    state: &AppState,
    caller: &Caller,
    uuid: &str,
) -> ApiResult<VersionListing> {
    let not_found = || ApiError::not_found(format_args!("project {uuid}"));
    let id = version_id_of(uuid).ok_or_else(not_found)?;
    let filter = VersionFilter {
        version_id: Some(id),
        ..VersionFilter::default()
    };
    one_version(state, caller, filter)
        .await?
        .ok_or_else(not_found)
}

/// Dependency-Track `GET /api/v1/project/{uuid}`.
#[utoipa::path(get, path = "/api/v1/project/{uuid}", params(("uuid" = String, Path)),
    responses((status = 200, body = DtProject), (status = 404)))]
pub(crate) async fn get_project(
    State(state): AppStateRef,
    caller: Caller,
    Path(uuid): Path<String>,
) -> ApiResult<Json<DtProject>> {
    caller.require(Scope::Read)?;
    Ok(Json(version_by_uuid(&state, &caller, &uuid).await?.into()))
}

/// Dependency-Track's severity names; bulwark's unknown is its UNASSIGNED.
fn dt_severity(severity: Severity) -> (&'static str, u8) {
    match severity {
        Severity::Critical => ("CRITICAL", 0),
        Severity::High => ("HIGH", 1),
        Severity::Medium => ("MEDIUM", 2),
        Severity::Low => ("LOW", 3),
        Severity::Unknown => ("UNASSIGNED", 5),
    }
}

fn dt_state(triage: Option<TriageState>) -> &'static str {
    match triage {
        None => "NOT_SET",
        Some(TriageState::InTriage) => "IN_TRIAGE",
        Some(TriageState::Exploitable) => "EXPLOITABLE",
        Some(TriageState::NotAffected) => "NOT_AFFECTED",
        Some(TriageState::FalsePositive) => "FALSE_POSITIVE",
        Some(TriageState::Resolved) => "RESOLVED",
    }
}

/// Where an advisory id comes from, in Dependency-Track's `source` names.
fn dt_source(id: &str) -> &'static str {
    if id.starts_with("CVE-") {
        "NVD"
    } else if id.starts_with("GHSA-") {
        "GITHUB"
    } else {
        "OSV"
    }
}

/// A UUID for one of bulwark's own keys (`kind`: component, advisory, violation): name-based
/// (v5), so the same thing gets the same UUID in every answer.
fn stable_uuid(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("bulwark:{kind}:{key}").as_bytes(),
    )
}

fn component_of(f: &FindingRow, project_uuid: &str) -> DtFindingComponent {
    DtFindingComponent {
        uuid: stable_uuid("component", &f.component_id.to_string()).to_string(),
        name: f.identity.component_name.clone(),
        version: f.component_version.clone(),
        purl: f.component_purl.clone(),
        project: project_uuid.to_owned(),
    }
}

/// The component of a Dependency-Track finding.
#[derive(Serialize, ToSchema)]
pub(crate) struct DtFindingComponent {
    uuid: String,
    name: String,
    version: Option<String>,
    purl: Option<String>,
    project: String,
}

/// The vulnerability of a Dependency-Track finding.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtFindingVulnerability {
    uuid: String,
    vuln_id: String,
    source: &'static str,
    title: Option<String>,
    severity: &'static str,
    severity_rank: u8,
    aliases: Vec<String>,
}

/// The analysis of a Dependency-Track finding.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtFindingAnalysis {
    state: &'static str,
    is_suppressed: bool,
}

/// When the finding was first seen.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtFindingAttribution {
    analyzer_identity: &'static str,
    attributed_on: i64,
}

/// A Dependency-Track `Finding`.
#[derive(Serialize, ToSchema)]
pub(crate) struct DtFinding {
    component: DtFindingComponent,
    vulnerability: DtFindingVulnerability,
    analysis: DtFindingAnalysis,
    attribution: DtFindingAttribution,
    matrix: String,
}

/// `?suppressed=true` adds the suppressed findings.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DtFindingQuery {
    #[serde(default)]
    suppressed: bool,
}

/// Dependency-Track `GET /api/v1/finding/project/{uuid}`: the version's findings (suppressed
/// or closed ones only with `?suppressed=true`), vulnerabilities and model findings alike.
#[utoipa::path(get, path = "/api/v1/finding/project/{uuid}",
    params(("uuid" = String, Path), DtFindingQuery),
    responses((status = 200, body = Vec<DtFinding>), (status = 404)))]
pub(crate) async fn project_findings(
    State(state): AppStateRef,
    caller: Caller,
    Path(uuid): Path<String>,
    Query(query): Query<DtFindingQuery>,
) -> ApiResult<Json<Vec<DtFinding>>> {
    caller.require(Scope::Read)?;
    let version = version_by_uuid(&state, &caller, &uuid).await?;
    let project_uuid = version_uuid(version.version.id).to_string();
    let now = OffsetDateTime::now_utc();
    let findings = state
        .store
        .version_findings_all(version.version.id)
        .await?
        .into_iter()
        // Dependency-Track's "suppressed" is what bulwark no longer counts as risk.
        .map(|f| (!f.is_risk(now), f))
        .filter(|(is_suppressed, _)| query.suppressed || !is_suppressed)
        .map(|(is_suppressed, f)| {
            let (severity, severity_rank) = dt_severity(f.severity);
            let component = component_of(&f, &project_uuid);
            let vulnerability_uuid = stable_uuid("advisory", &f.identity.finding_id).to_string();
            DtFinding {
                matrix: format!("{project_uuid}:{}:{vulnerability_uuid}", component.uuid),
                component,
                vulnerability: DtFindingVulnerability {
                    uuid: vulnerability_uuid,
                    source: dt_source(&f.identity.finding_id),
                    vuln_id: f.identity.finding_id,
                    title: f.title,
                    severity,
                    severity_rank,
                    aliases: f.aliases,
                },
                analysis: DtFindingAnalysis {
                    state: dt_state(f.triage.as_ref().map(|t| t.state)),
                    is_suppressed,
                },
                attribution: DtFindingAttribution {
                    analyzer_identity: "INTERNAL_ANALYZER",
                    attributed_on: millis(f.first_seen),
                },
            }
        })
        .collect();
    Ok(Json(findings))
}

/// Dependency-Track's `ProjectMetrics`, from the version's current findings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtProjectMetrics {
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    unassigned: u64,
    /// Open, unsuppressed findings.
    vulnerabilities: u64,
    vulnerable_components: u64,
    components: u64,
    suppressed: u64,
    findings_total: u64,
    findings_audited: u64,
    findings_unaudited: u64,
    inherited_risk_score: f64,
    first_occurrence: i64,
    last_occurrence: i64,
}

/// Dependency-Track `GET /api/v1/metrics/project/{uuid}/current`, computed on request.
#[utoipa::path(get, path = "/api/v1/metrics/project/{uuid}/current",
    params(("uuid" = String, Path)),
    responses((status = 200, body = DtProjectMetrics), (status = 404)))]
pub(crate) async fn project_metrics(
    State(state): AppStateRef,
    caller: Caller,
    Path(uuid): Path<String>,
) -> ApiResult<Json<DtProjectMetrics>> {
    caller.require(Scope::Read)?;
    let version = version_by_uuid(&state, &caller, &uuid).await?;
    let components = match state.store.latest_snapshot(version.version.id).await? {
        Some(snapshot) => state.store.count_components(snapshot.id).await?,
        None => 0,
    };
    let now = OffsetDateTime::now_utc();
    let findings = state.store.version_findings_all(version.version.id).await?;
    let mut m = DtProjectMetrics {
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        unassigned: 0,
        vulnerabilities: 0,
        vulnerable_components: 0,
        components,
        suppressed: 0,
        findings_total: 0,
        findings_audited: 0,
        findings_unaudited: 0,
        inherited_risk_score: 0.0,
        first_occurrence: millis(version.version.created_at),
        last_occurrence: millis(now),
    };
    let mut vulnerable = std::collections::HashSet::new();
    for f in &findings {
        if !f.is_risk(now) {
            m.suppressed += 1;
            continue;
        }
        m.findings_total += 1;
        if f.triage.is_some() {
            m.findings_audited += 1;
        } else {
            m.findings_unaudited += 1;
        }
        vulnerable.insert(f.component_id);
        // Dependency-Track's weights: critical 10, high 5, medium 3, low 1, unassigned 5.
        let (count, weight) = match f.severity {
            Severity::Critical => (&mut m.critical, 10.0),
            Severity::High => (&mut m.high, 5.0),
            Severity::Medium => (&mut m.medium, 3.0),
            Severity::Low => (&mut m.low, 1.0),
            Severity::Unknown => (&mut m.unassigned, 5.0),
        };
        *count += 1;
        m.inherited_risk_score += weight;
    }
    m.vulnerabilities = m.findings_total;
    m.vulnerable_components = vulnerable.len() as u64;
    Ok(Json(m))
}

/// The policy behind a Dependency-Track policy violation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtPolicy {
    name: String,
    violation_state: &'static str,
}

/// The condition a Dependency-Track policy violation broke.
#[derive(Serialize, ToSchema)]
pub(crate) struct DtPolicyCondition {
    policy: DtPolicy,
    subject: &'static str,
    operator: &'static str,
    value: &'static str,
}

/// A Dependency-Track `PolicyViolation`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DtPolicyViolation {
    uuid: String,
    #[serde(rename = "type")]
    kind: &'static str,
    component: DtFindingComponent,
    policy_condition: DtPolicyCondition,
    timestamp: i64,
    text: String,
}

/// Dependency-Track `GET /api/v1/violation/project/{uuid}`: the server's policy
/// (`bulwark serve --policy-fail-on`, the one behind `policy_failure` events) as violations,
/// one per open, unsuppressed finding at or above its severity; empty without a policy.
#[utoipa::path(get, path = "/api/v1/violation/project/{uuid}",
    params(("uuid" = String, Path)),
    responses((status = 200, body = Vec<DtPolicyViolation>), (status = 404)))]
pub(crate) async fn project_violations(
    State(state): AppStateRef,
    caller: Caller,
    Path(uuid): Path<String>,
) -> ApiResult<Json<Vec<DtPolicyViolation>>> {
    caller.require(Scope::Read)?;
    let version = version_by_uuid(&state, &caller, &uuid).await?;
    let Some(threshold) = state.config.policy_fail_on else {
        return Ok(Json(Vec::new()));
    };
    let project_uuid = version_uuid(version.version.id).to_string();
    let now = OffsetDateTime::now_utc();
    let policy = format!(
        "no open finding of severity {} or above",
        threshold.as_str()
    );
    let violations = state
        .store
        .version_findings_all(version.version.id)
        .await?
        .into_iter()
        .filter(|f| f.severity >= threshold && f.is_risk(now))
        .map(|f| DtPolicyViolation {
            uuid: stable_uuid("violation", &f.id.to_string()).to_string(),
            kind: "SECURITY",
            text: format!(
                "{} ({}) in {}{}",
                f.identity.finding_id,
                f.severity.as_str(),
                f.identity.component_name,
                f.component_version
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default()
            ),
            timestamp: millis(f.first_seen),
            policy_condition: DtPolicyCondition {
                policy: DtPolicy {
                    name: policy.clone(),
                    violation_state: "FAIL",
                },
                subject: "SEVERITY",
                operator: "IS",
                value: dt_severity(threshold).0,
            },
            component: component_of(&f, &project_uuid),
        })
        .collect();
    Ok(Json(violations))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_uuids_round_trip_and_refuse_others() {
        for id in [1, 42, 1 << 40, i64::MAX >> 2] {
            let uuid = version_uuid(id);
            assert_eq!(uuid.get_version_num(), 8);
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(version_id_of(&uuid.to_string()), Some(id));
        }
        assert_eq!(
            version_uuid(42).to_string(),
            "b01ba4c0-0000-8000-8000-00000000002a"
        );
        assert_eq!(version_id_of("6e617b6f-ae0a-49f7-b656-79a6b4e0155b"), None);
        assert_eq!(version_id_of("not a uuid"), None);
    }

    #[test]
    fn dependency_track_paging() {
        let q = |page_number, page_size, offset, limit| DtProjectQuery {
            name: None,
            page_number,
            page_size,
            offset,
            limit,
            exclude_inactive: None,
        };
        let p = q(Some(3), Some(1000), None, None).page();
        assert_eq!((p.limit, p.offset), (1000, 2000));
        let p = q(None, None, Some(5), Some(10)).page();
        assert_eq!((p.limit, p.offset), (10, 5));
        let p = q(Some(0), None, None, None).page();
        assert_eq!((p.limit, p.offset), (100, 0));
    }
}
