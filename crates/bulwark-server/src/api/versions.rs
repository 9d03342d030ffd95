//! Project versions: the version, its components, its findings, its stored document, and the
//! diff between two versions.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bulwark_store::{
    ComponentClass, ComponentFilter, ComponentRow, FindingFilter, FindingSort, Scope, Severity,
    StateFilter, TriageState,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    AppStateRef, FindingOut, PageOut, PageQuery, VersionOut, descending, parse_list, version_out,
    visible_version,
};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Path, Query};
use crate::ingest;

/// One version with its project, newest snapshot and counts.
#[utoipa::path(get, path = "/api/v1/versions/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = VersionOut), (status = 404)))]
pub(crate) async fn get_one(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<VersionOut>> {
    caller.require(Scope::Read)?;
    let (version, project) = visible_version(&state, &caller, id).await?;
    Ok(Json(version_out(&state, version, Some(project)).await?))
}

/// Filters of the component list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ComponentQuery {
    /// `any` (default), `package`, `gpu` or `model`.
    class: Option<String>,
    /// Name contains this text.
    q: Option<String>,
}

/// A component of a version's newest snapshot.
#[derive(Serialize, ToSchema)]
pub(crate) struct ComponentOut {
    id: i64,
    name: String,
    version: Option<String>,
    purl: Option<String>,
    ecosystem: Option<String>,
    kind: String,
    /// GPU facts: which part of the stack it provides, CUDA/cuDNN versions it needs.
    gpu: Option<serde_json::Value>,
    /// Model facts: format, architecture, hashes.
    model: Option<serde_json::Value>,
}

impl From<ComponentRow> for ComponentOut {
    fn from(c: ComponentRow) -> ComponentOut {
        ComponentOut {
            id: c.id,
            name: c.name,
            version: c.version,
            purl: c.purl,
            ecosystem: c.ecosystem,
            kind: c.kind,
            gpu: c.gpu,
            model: c.model,
        }
    }
}

/// The components of a version's newest snapshot, by class (packages, GPU stack, models).
#[utoipa::path(get, path = "/api/v1/versions/{id}/components",
    params(("id" = i64, Path), ComponentQuery, PageQuery),
    responses((status = 200, body = PageOut<ComponentOut>)))]
pub(crate) async fn components(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<ComponentQuery>,
    Query(page_query): Query<PageQuery>,
) -> ApiResult<Json<PageOut<ComponentOut>>> {
    caller.require(Scope::Read)?;
    visible_version(&state, &caller, id).await?;
    let class = match query.class.as_deref() {
        None | Some("any") => ComponentClass::Any,
        Some("package") => ComponentClass::Package,
        Some("gpu") => ComponentClass::Gpu,
        Some("model") => ComponentClass::Model,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid `class` value `{other}` (expected any, package, gpu or model)"
            )));
        }
    };
    let page = page_query.request();
    let Some(snapshot) = state.store.latest_snapshot(id).await? else {
        return Ok(Json(PageOut::new(
            bulwark_store::Page::<ComponentRow> {
                items: Vec::new(),
                total: 0,
            },
            page,
            ComponentOut::from,
        )));
    };
    let rows = state
        .store
        .list_components(
            snapshot.id,
            &ComponentFilter {
                class,
                name_contains: query.q.filter(|q| !q.is_empty()),
                page,
            },
        )
        .await?;
    Ok(Json(PageOut::new(rows, page, ComponentOut::from)))
}

/// Filters of the finding list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FindingQuery {
    /// Comma-separated: critical, high, medium, low, unknown.
    severity: Option<String>,
    /// Comma-separated: untriaged, in_triage, exploitable, not_affected, false_positive, resolved.
    state: Option<String>,
    /// Include findings whose suppression has not expired.
    #[serde(default)]
    suppressed: bool,
    /// Only findings past their SLA.
    #[serde(default)]
    overdue: bool,
    /// `severity` (default), `first_seen`, `id` or `component`.
    sort: Option<String>,
    /// `asc` or `desc`.
    order: Option<String>,
}

/// The findings of a version's newest snapshot, filtered, sorted and paged in the database.
#[utoipa::path(get, path = "/api/v1/versions/{id}/findings",
    params(("id" = i64, Path), FindingQuery, PageQuery),
    responses((status = 200, body = PageOut<FindingOut>)))]
pub(crate) async fn findings(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<FindingQuery>,
    Query(page_query): Query<PageQuery>,
) -> ApiResult<Json<PageOut<FindingOut>>> {
    caller.require(Scope::Read)?;
    let sort = match query.sort.as_deref() {
        None | Some("severity") => FindingSort::Severity,
        Some("first_seen") => FindingSort::FirstSeen,
        Some("id") => FindingSort::FindingId,
        Some("component") => FindingSort::Component,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid `sort` value `{other}` (expected severity, first_seen, id or component)"
            )));
        }
    };
    let page = page_query.request();
    let filter = FindingFilter {
        severities: parse_list("severity", query.severity.as_deref(), Severity::parse)?,
        states: parse_list("state", query.state.as_deref(), |s| match s {
            "untriaged" => Some(StateFilter::Untriaged),
            other => other.parse::<TriageState>().ok().map(StateFilter::Is),
        })?,
        include_suppressed: query.suppressed,
        sort,
        reverse: descending(query.order.as_deref())?.is_some_and(|desc| {
            // Severity sorts most severe first naturally; the others ascend.
            if sort == FindingSort::Severity {
                !desc
            } else {
                desc
            }
        }),
        overdue_only: query.overdue,
        sla: state.sla,
        page,
    };
    // The visibility check rides in the listing query: this is the API's busiest read.
    let rows = state
        .store
        .list_visible_findings(id, caller.teams().as_deref(), &filter)
        .await?
        .ok_or_else(|| ApiError::not_found(format_args!("version {id}")))?;
    Ok(Json(PageOut::new(rows, page, FindingOut::from)))
}

/// The newest stored document of a version, byte for byte as uploaded.
#[utoipa::path(get, path = "/api/v1/versions/{id}/sbom", params(("id" = i64, Path)),
    responses((status = 200, description = "the document", content_type = "application/json")))]
pub(crate) async fn document(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let (version, project) = visible_version(&state, &caller, id).await?;
    let Some(snapshot) = state.store.latest_snapshot(id).await? else {
        return Err(ApiError::not_found(format_args!("an SBOM of version {id}")));
    };
    let Some(bytes) = state.store.snapshot_document(snapshot.id).await? else {
        return Err(ApiError::not_found(format_args!(
            "snapshot {}",
            snapshot.id
        )));
    };
    let (content_type, suffix) = match snapshot.format {
        bulwark_store::SbomFormat::CycloneDxJson => ("application/vnd.cyclonedx+json", "cdx.json"),
        bulwark_store::SbomFormat::CycloneDxXml => ("application/vnd.cyclonedx+xml", "cdx.xml"),
        bulwark_store::SbomFormat::SpdxJson => ("application/spdx+json", "spdx.json"),
    };
    let file = format!(
        "attachment; filename=\"{}-{}.{suffix}\"",
        safe_file_part(&project.name),
        safe_file_part(&version.version)
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    )
        .into_response())
}

/// Letters, digits, `.`, `-` and `_` of a name, for a download's file name.
pub(crate) fn safe_file_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffQuery {
    /// The old version's id.
    from: i64,
    /// The new version's id.
    to: i64,
}

/// What changed between two versions.
#[derive(Serialize, ToSchema)]
pub(crate) struct DiffOut {
    from: VersionOut,
    to: VersionOut,
    /// Added, removed, upgraded, downgraded and otherwise changed components.
    #[schema(value_type = Object)]
    components: bulwark_diff::InventoryDiff,
    /// New and resolved vulnerabilities, against the current vulnerability database.
    #[schema(value_type = Object)]
    findings: bulwark_diff::FindingsDiff,
}

/// The SBOM diff of two versions (of any projects this key sees).
#[utoipa::path(get, path = "/api/v1/diff", params(DiffQuery),
    responses((status = 200, body = DiffOut)))]
pub(crate) async fn diff(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<DiffQuery>,
) -> ApiResult<Json<DiffOut>> {
    caller.require(Scope::Read)?;
    let (old_version, old_project) = visible_version(&state, &caller, query.from).await?;
    let (new_version, new_project) = visible_version(&state, &caller, query.to).await?;
    let mut documents = Vec::with_capacity(2);
    for id in [query.from, query.to] {
        let snapshot = state
            .store
            .latest_snapshot(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format_args!("an SBOM of version {id}")))?;
        let bytes = state
            .store
            .snapshot_document(snapshot.id)
            .await?
            .ok_or_else(|| ApiError::not_found(format_args!("snapshot {}", snapshot.id)))?;
        documents.push(bytes);
    }
    let db = state.vulndb.get();
    let (components, findings) = tokio::task::spawn_blocking(move || {
        let (_, old) = ingest::decode(&documents[0], "from")?;
        let (_, new) = ingest::decode(&documents[1], "to")?;
        let old_report = ingest::match_report(&old, db.as_deref())?;
        let new_report = ingest::match_report(&new, db.as_deref())?;
        Ok::<_, ApiError>((
            bulwark_diff::diff(&old, &new),
            bulwark_diff::diff_findings(&old_report, &new_report),
        ))
    })
    .await
    .map_err(|e| ApiError::internal("comparing versions", &e))??;
    Ok(Json(DiffOut {
        from: version_out(&state, old_version, Some(old_project)).await?,
        to: version_out(&state, new_version, Some(new_project)).await?,
        components,
        findings,
    }))
}
