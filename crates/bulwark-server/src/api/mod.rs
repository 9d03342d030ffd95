//! The REST API under `/api/v1` (see `docs/api.md`), the health check, the OpenAPI document
//! and the UI routes, with the request limits that apply to all of them.

pub(crate) mod admin;
pub(crate) mod dtrack;
pub(crate) mod dtrack_read;
pub(crate) mod findings;
pub(crate) mod portfolio;
pub(crate) mod projects;
pub(crate) mod upload;
pub(crate) mod versions;
pub(crate) mod vex;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use bulwark_store::{
    FindingRow, Page, PageRequest, Project, ProjectVersion, SeverityCounts, Snapshot, Triage,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json};

pub(crate) type AppStateRef = State<Arc<AppState>>;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let max_body = state.config.max_body_bytes;
    let api = Router::new()
        .route("/whoami", get(admin::whoami))
        .route("/portfolio", get(portfolio::totals))
        .route("/portfolio/trend", get(portfolio::trend))
        .route("/events", get(portfolio::events))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{id}", get(projects::get_one))
        .route("/projects/{id}/versions", get(projects::versions))
        .route("/projects/{id}/remediation", get(projects::remediation))
        .route("/sboms", post(upload::upload))
        .route("/versions/{id}", get(versions::get_one))
        .route("/versions/{id}/components", get(versions::components))
        .route("/versions/{id}/findings", get(versions::findings))
        .route("/versions/{id}/sbom", get(versions::document))
        .route("/versions/{id}/vex", get(vex::export).post(vex::import))
        .route("/diff", get(versions::diff))
        .route("/findings/{id}", get(findings::get_one))
        .route("/findings/{id}/triage", put(findings::triage))
        .route("/findings/{id}/audit", get(findings::audit))
        .route("/keys", get(admin::list_keys).post(admin::create_key))
        .route("/keys/{id}", delete(admin::revoke_key))
        .route("/teams", get(admin::list_teams).post(admin::create_team))
        .route(
            "/webhooks",
            get(admin::list_webhooks).post(admin::create_webhook),
        )
        .route("/webhooks/{id}", delete(admin::delete_webhook))
        .route("/bom", put(dtrack::put_bom).post(dtrack::post_bom))
        .route("/event/token/{token}", get(dtrack::token_status))
        .route("/bom/token/{token}", get(dtrack::token_status))
        .route("/project", get(dtrack_read::list_projects))
        .route("/project/lookup", get(dtrack_read::lookup))
        .route("/project/{uuid}", get(dtrack_read::get_project))
        .route(
            "/finding/project/{uuid}",
            get(dtrack_read::project_findings),
        )
        .route(
            "/violation/project/{uuid}",
            get(dtrack_read::project_violations),
        )
        .route(
            "/metrics/project/{uuid}/current",
            get(dtrack_read::project_metrics),
        )
        .fallback(api_not_found);
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api)
        .merge(crate::openapi::router())
        .merge(crate::ui::router())
        // Extractors enforce it (rejections become problem+json), whether or not the client
        // announced a length.
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API endpoint")
}

/// `GET /health` answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok` when the database answers.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// The vulnerability database generation in use, if any.
    vulnerability_database: Option<String>,
}

/// Liveness and readiness: answers without a key.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)), security(()))]
pub(crate) async fn health(State(state): AppStateRef) -> ApiResult<Json<Health>> {
    state.store.ping().await?;
    Ok(Json(Health {
        status: "ok",
        database: match state.store.backend() {
            bulwark_store::Backend::Sqlite => "sqlite",
            bulwark_store::Backend::Postgres => "postgres",
        },
        vulnerability_database: state.vulndb.generation(),
    }))
}

/// `?limit=&offset=` of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Rows wanted, 1 to 1000 (default 100).
    limit: Option<u32>,
    /// Rows to skip.
    offset: Option<u64>,
}

impl PageQuery {
    pub(crate) fn request(&self) -> PageRequest {
        PageRequest {
            limit: self.limit.unwrap_or(100).clamp(1, PageRequest::MAX_LIMIT),
            offset: self.offset.unwrap_or(0),
        }
    }
}

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub(crate) struct PageOut<T> {
    items: Vec<T>,
    total: u64,
    limit: u32,
    offset: u64,
}

impl<T> PageOut<T> {
    pub(crate) fn new<S>(page: Page<S>, request: PageRequest, map: impl FnMut(S) -> T) -> Self {
        PageOut {
            items: page.items.into_iter().map(map).collect(),
            total: page.total,
            limit: request.limit,
            offset: request.offset,
        }
    }
}

/// Findings per severity.
#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema)]
pub(crate) struct Counts {
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    unknown: u64,
}

impl From<SeverityCounts> for Counts {
    fn from(c: SeverityCounts) -> Counts {
        Counts {
            critical: c.critical,
            high: c.high,
            medium: c.medium,
            low: c.low,
            unknown: c.unknown,
        }
    }
}

/// A project.
#[derive(Clone, Serialize, ToSchema)]
pub(crate) struct ProjectOut {
    id: i64,
    name: String,
    parent_id: Option<i64>,
    team_id: Option<i64>,
    tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<Project> for ProjectOut {
    fn from(p: Project) -> ProjectOut {
        ProjectOut {
            id: p.id,
            name: p.name,
            parent_id: p.parent_id,
            team_id: p.team_id,
            tags: p.tags,
            created_at: p.created_at,
        }
    }
}

/// The stored document of a version.
#[derive(Serialize, ToSchema)]
pub(crate) struct SnapshotOut {
    id: i64,
    format: &'static str,
    sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    uploaded_at: OffsetDateTime,
    uploaded_by: String,
    components: u64,
}

impl SnapshotOut {
    pub(crate) fn new(s: Snapshot, components: u64) -> SnapshotOut {
        SnapshotOut {
            id: s.id,
            format: s.format.as_str(),
            sha256: s.sha256,
            uploaded_at: s.uploaded_at,
            uploaded_by: s.uploaded_by,
            components,
        }
    }
}

/// A project version.
#[derive(Serialize, ToSchema)]
pub(crate) struct VersionOut {
    id: i64,
    project_id: i64,
    version: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<ProjectOut>,
    snapshot: Option<SnapshotOut>,
    counts: Counts,
}

/// A version with its newest snapshot and counts.
pub(crate) async fn version_out(
    state: &AppState,
    version: ProjectVersion,
    project: Option<Project>,
) -> ApiResult<VersionOut> {
    let snapshot = match state.store.latest_snapshot(version.id).await? {
        Some(s) => {
            let n = state.store.count_components(s.id).await?;
            Some(SnapshotOut::new(s, n))
        }
        None => None,
    };
    let counts = state
        .store
        .version_counts(&[version.id])
        .await?
        .remove(&version.id)
        .unwrap_or_default();
    Ok(VersionOut {
        id: version.id,
        project_id: version.project_id,
        version: version.version,
        created_at: version.created_at,
        project: project.map(ProjectOut::from),
        snapshot,
        counts: counts.into(),
    })
}

/// The project `id`, if this key may see it (else 404, as if it did not exist).
pub(crate) async fn visible_project(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<Project> {
    match state.store.get_project(id).await? {
        Some(project) if caller.can_see(&project) => Ok(project),
        _ => Err(ApiError::not_found(format_args!("project {id}"))),
    }
}

/// The version `id` and its project, if this key may see them.
pub(crate) async fn visible_version(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<(ProjectVersion, Project)> {
    let Some(version) = state.store.get_version(id).await? else {
        return Err(ApiError::not_found(format_args!("version {id}")));
    };
    match state.store.get_project(version.project_id).await? {
        Some(project) if caller.can_see(&project) => Ok((version, project)),
        _ => Err(ApiError::not_found(format_args!("version {id}"))),
    }
}

/// Triage of a finding.
#[derive(Serialize, ToSchema)]
pub(crate) struct TriageOut {
    state: &'static str,
    justification: Option<&'static str>,
    detail: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    suppressed_until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    updated_by: String,
}

impl From<Triage> for TriageOut {
    fn from(t: Triage) -> TriageOut {
        TriageOut {
            state: t.state.as_str(),
            justification: t.justification.map(|j| j.as_str()),
            detail: t.detail,
            suppressed_until: t.suppressed_until,
            updated_at: t.updated_at,
            updated_by: t.updated_by,
        }
    }
}

/// The component a finding is about.
#[derive(Serialize, ToSchema)]
pub(crate) struct FindingComponent {
    id: i64,
    name: String,
    version: Option<String>,
    purl: Option<String>,
    ecosystem: Option<String>,
}

/// A finding of a version.
#[derive(Serialize, ToSchema)]
pub(crate) struct FindingOut {
    id: i64,
    project_id: i64,
    finding_id: String,
    kind: &'static str,
    aliases: Vec<String>,
    severity: &'static str,
    title: Option<String>,
    component: FindingComponent,
    #[serde(with = "time::serde::rfc3339")]
    first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    due_at: Option<OffsetDateTime>,
    overdue: bool,
    triage: Option<TriageOut>,
}

impl From<FindingRow> for FindingOut {
    fn from(f: FindingRow) -> FindingOut {
        let ecosystem = Some(f.identity.component_ecosystem).filter(|e| !e.is_empty());
        FindingOut {
            id: f.id,
            project_id: f.identity.project_id,
            finding_id: f.identity.finding_id,
            kind: f.kind.as_str(),
            aliases: f.aliases,
            severity: f.severity.as_str(),
            title: f.title,
            component: FindingComponent {
                id: f.component_id,
                name: f.identity.component_name,
                version: f.component_version,
                purl: f.component_purl,
                ecosystem,
            },
            first_seen: f.first_seen,
            due_at: f.due_at,
            overdue: f.overdue,
            triage: f.triage.map(TriageOut::from),
        }
    }
}

/// Parses a comma-separated list with `parse`, naming the parameter and value on failure.
pub(crate) fn parse_list<T>(
    parameter: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> ApiResult<Vec<T>> {
    value
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            parse(v)
                .ok_or_else(|| ApiError::bad_request(format!("invalid `{parameter}` value `{v}`")))
        })
        .collect()
}

/// Parses `asc`/`desc` (default: the field's natural order).
pub(crate) fn descending(order: Option<&str>) -> ApiResult<Option<bool>> {
    match order {
        None => Ok(None),
        Some("asc") => Ok(Some(false)),
        Some("desc") => Ok(Some(true)),
        Some(other) => Err(ApiError::bad_request(format!(
            "invalid `order` value `{other}` (expected asc or desc)"
        ))),
    }
}
