//! Projects: list with risk, create, one, versions, remediation.

use axum::extract::State;
use axum::http::StatusCode;
use bulwark_store::{NewProject, ProjectFilter, ProjectRisk, ProjectSort, RemediationRow, Scope};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{
    AppStateRef, Counts, PageOut, PageQuery, ProjectOut, VersionOut, descending, version_out,
    visible_project,
};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Path, Query};

/// Filters of the project list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProjectQuery {
    /// Name contains this text (case-insensitive).
    name: Option<String>,
    /// Carries this tag.
    tag: Option<String>,
    /// Children of this project.
    parent: Option<i64>,
    /// `name` (default) or `created`.
    sort: Option<String>,
    /// `asc` or `desc`.
    order: Option<String>,
}

/// The newest version of a project.
#[derive(Serialize, ToSchema)]
pub(crate) struct VersionRef {
    id: i64,
    version: String,
}

/// A project with its current risk.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectSummary {
    #[serde(flatten)]
    project: ProjectOut,
    latest_version: Option<VersionRef>,
    counts: Counts,
    overdue: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    last_upload: Option<OffsetDateTime>,
}

impl From<ProjectRisk> for ProjectSummary {
    fn from(r: ProjectRisk) -> ProjectSummary {
        ProjectSummary {
            project: r.project.into(),
            latest_version: r.latest_version.map(|v| VersionRef {
                id: v.id,
                version: v.version,
            }),
            counts: r.counts.into(),
            overdue: r.overdue,
            last_upload: r.last_upload,
        }
    }
}

/// Projects this key sees, with the risk of their newest version.
#[utoipa::path(get, path = "/api/v1/projects", params(ProjectQuery, PageQuery),
    responses((status = 200, body = PageOut<ProjectSummary>)))]
pub(crate) async fn list(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<ProjectQuery>,
    Query(page_query): Query<PageQuery>,
) -> ApiResult<Json<PageOut<ProjectSummary>>> {
    caller.require(Scope::Read)?;
    let sort = match query.sort.as_deref() {
        None | Some("name") => ProjectSort::Name,
        Some("created") => ProjectSort::CreatedAt,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid `sort` value `{other}` (expected name or created)"
            )));
        }
    };
    let page = page_query.request();
    let filter = ProjectFilter {
        teams: caller.teams(),
        tag: query.tag,
        name_contains: query.name,
        parent_id: query.parent,
        sort,
        descending: descending(query.order.as_deref())?.unwrap_or(false),
        page,
    };
    let risks = state.store.portfolio(&filter, &state.sla).await?;
    Ok(Json(PageOut::new(risks, page, ProjectSummary::from)))
}

/// A new project.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewProjectIn {
    name: String,
    parent_id: Option<i64>,
    #[serde(default)]
    tags: Vec<String>,
    /// Admin keys only; a team key's projects belong to its team.
    team_id: Option<i64>,
}

/// Creates a project (owned by the caller's team).
#[utoipa::path(post, path = "/api/v1/projects", request_body = NewProjectIn,
    responses((status = 201, body = ProjectOut), (status = 409, description = "exists")))]
pub(crate) async fn create(
    State(state): AppStateRef,
    caller: Caller,
    Json(body): Json<NewProjectIn>,
) -> ApiResult<(StatusCode, Json<ProjectOut>)> {
    caller.require(Scope::Upload)?;
    if body.name.trim().is_empty() {
        return Err(ApiError::unprocessable("`name` must not be empty", vec![]));
    }
    if let Some(parent) = body.parent_id {
        visible_project(&state, &caller, parent).await?;
    }
    let team_id = if caller.is_admin() {
        body.team_id
    } else if body.team_id.is_some() && body.team_id != caller.key.team_id {
        return Err(ApiError::forbidden(
            "a team key creates projects for its own team only",
        ));
    } else {
        caller.key.team_id
    };
    let project = state
        .store
        .create_project(&NewProject {
            name: body.name.trim(),
            parent_id: body.parent_id,
            team_id,
            tags: &body.tags,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// One project with its risk.
#[utoipa::path(get, path = "/api/v1/projects/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ProjectSummary), (status = 404)))]
pub(crate) async fn get_one(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProjectSummary>> {
    caller.require(Scope::Read)?;
    let project = visible_project(&state, &caller, id).await?;
    let risk = state.store.project_risk(&project, &state.sla).await?;
    Ok(Json(risk.into()))
}

/// Versions of a project.
#[derive(Serialize, ToSchema)]
pub(crate) struct VersionList {
    items: Vec<VersionOut>,
}

/// The versions of a project, newest first, each with its snapshot and counts.
#[utoipa::path(get, path = "/api/v1/projects/{id}/versions", params(("id" = i64, Path)),
    responses((status = 200, body = VersionList)))]
pub(crate) async fn versions(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<VersionList>> {
    caller.require(Scope::Read)?;
    visible_project(&state, &caller, id).await?;
    let mut versions = state.store.list_versions(id).await?;
    versions.reverse();
    let mut items = Vec::with_capacity(versions.len());
    for version in versions {
        items.push(version_out(&state, version, None).await?);
    }
    Ok(Json(VersionList { items }))
}

/// One finding identity's remediation history in a project.
#[derive(Serialize, ToSchema)]
pub(crate) struct RemediationOut {
    finding_id: String,
    component_name: String,
    component_ecosystem: Option<String>,
    severity: &'static str,
    title: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    first_seen: OffsetDateTime,
    first_version: String,
    fixed_in_version: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    fixed_at: Option<OffsetDateTime>,
    /// Whole and fractional days from first seen to fixed.
    days_to_remediate: Option<f64>,
    #[serde(with = "time::serde::rfc3339::option")]
    due_at: Option<OffsetDateTime>,
    overdue: bool,
    triage_state: Option<&'static str>,
}

impl From<RemediationRow> for RemediationOut {
    fn from(r: RemediationRow) -> RemediationOut {
        RemediationOut {
            finding_id: r.identity.finding_id,
            component_name: r.identity.component_name,
            component_ecosystem: Some(r.identity.component_ecosystem).filter(|e| !e.is_empty()),
            severity: r.severity.as_str(),
            title: r.title,
            first_seen: r.first_seen,
            first_version: r.first_version,
            fixed_in_version: r.fixed_in_version,
            fixed_at: r.fixed_at,
            days_to_remediate: r
                .time_to_remediate
                .map(|d| (d.as_secs_f64() / 86_400.0 * 10.0).round() / 10.0),
            due_at: r.due_at,
            overdue: r.overdue,
            triage_state: r.triage_state.map(|s| s.as_str()),
        }
    }
}

/// Every finding ever seen in the project: when it appeared, which version fixed it, how long
/// that took, and whether an open one is past its SLA.
#[utoipa::path(get, path = "/api/v1/projects/{id}/remediation",
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = PageOut<RemediationOut>)))]
pub(crate) async fn remediation(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<PageOut<RemediationOut>>> {
    caller.require(Scope::Read)?;
    visible_project(&state, &caller, id).await?;
    let request = page.request();
    let rows = state.store.remediation(id, &state.sla, request).await?;
    Ok(Json(PageOut::new(rows, request, RemediationOut::from)))
}
