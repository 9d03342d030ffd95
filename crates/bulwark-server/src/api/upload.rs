//! SBOM uploads: validate, decode, match, and store as one snapshot of a project version,
//! creating the project and version on first use.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use bulwark_store::{Destination, IngestSummary, NewProject, NewSnapshot, Scope, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AppStateRef, ProjectOut, VersionOut, version_out};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Body, Json, Query};
use crate::ingest;

/// Where an upload goes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    /// Project name (created when missing).
    project: String,
    /// Version (created when missing).
    version: String,
    /// Name of the enclosing top-level project, for a project nested under one.
    parent: Option<String>,
    /// Comma-separated tags for a project created by this upload.
    tags: Option<String>,
}

/// What an upload stored.
#[derive(Serialize, ToSchema)]
pub(crate) struct UploadResult {
    project: ProjectOut,
    version: VersionOut,
    snapshot_id: i64,
    components: usize,
    findings: usize,
    new_findings: usize,
}

/// Where to put a document and who puts it there.
pub(crate) struct Target<'a> {
    pub(crate) project: &'a str,
    pub(crate) version: &'a str,
    pub(crate) parent: Option<&'a str>,
    pub(crate) tags: Vec<String>,
    pub(crate) auto_create: bool,
}

/// Uploads an SBOM (CycloneDX JSON or XML, SPDX JSON; any tool's) as the body.
#[utoipa::path(post, path = "/api/v1/sboms", params(UploadQuery),
    request_body(content = String, description = "The SBOM document",
        content_type = "application/octet-stream"),
    responses((status = 201, body = UploadResult),
        (status = 422, description = "not an SBOM, or invalid against its schema",
         body = crate::error::Problem)))]
pub(crate) async fn upload(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<UploadQuery>,
    Body(body): Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let tags = query
        .tags
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let target = Target {
        project: &query.project,
        version: &query.version,
        parent: query.parent.as_deref(),
        tags,
        auto_create: true,
    };
    let result = store_document(&state, &caller, &target, body, "upload").await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// The shared upload path of the native and the Dependency-Track endpoints.
pub(crate) async fn store_document(
    state: &Arc<AppState>,
    caller: &Caller,
    target: &Target<'_>,
    document: Bytes,
    name: &str,
) -> ApiResult<UploadResult> {
    caller.require(Scope::Upload)?;
    let (project_name, version_name) = (target.project.trim(), target.version.trim());
    if project_name.is_empty() || version_name.is_empty() {
        return Err(ApiError::unprocessable(
            "a project name and a version are required",
            vec![],
        ));
    }
    // Decoding and matching are CPU work: off the async threads.
    let db = state.vulndb.get();
    let name = name.to_owned();
    let bytes = document.clone();
    let evaluated =
        tokio::task::spawn_blocking(move || ingest::evaluate(&bytes, &name, db.as_deref()))
            .await
            .map_err(|e| ApiError::internal("evaluating the document", &e))??;

    let mut snapshot = NewSnapshot {
        destination: resolve_destination(state, caller, target, project_name, version_name).await?,
        format: evaluated.format,
        document: document.to_vec(),
        uploaded_by: caller.actor(),
        components: evaluated.components,
        findings: evaluated.findings,
    };
    let creates_project = |s: &NewSnapshot| matches!(s.destination, Destination::NewProject { .. });
    let summary: IngestSummary = match state.store.ingest_snapshot(&snapshot).await {
        // Another upload created the project first: store into theirs. (If there is still no
        // such project, the conflict was something else, and is the answer.)
        Err(error @ StoreError::Conflict { .. }) if creates_project(&snapshot) => {
            snapshot.destination =
                resolve_destination(state, caller, target, project_name, version_name).await?;
            if creates_project(&snapshot) {
                return Err(error.into());
            }
            state.store.ingest_snapshot(&snapshot).await?
        }
        other => other?,
    };
    let IngestSummary {
        project, version, ..
    } = &summary;
    crate::monitor::announce_new_findings(state, project, version, &summary.new_findings).await;
    crate::monitor::check_policy(state, project, version).await;
    let version = version_out(state, version.clone(), None).await?;
    Ok(UploadResult {
        project: project.clone().into(),
        version,
        snapshot_id: summary.snapshot.id,
        components: summary.components,
        findings: summary.findings,
        new_findings: summary.new_findings.len(),
    })
}

/// Where the document goes: the named version of the named project (under the named parent),
/// the project created with the snapshot when it is missing and that is allowed.
async fn resolve_destination<'a>(
    state: &AppState,
    caller: &Caller,
    target: &'a Target<'_>,
    name: &'a str,
    version: &'a str,
) -> ApiResult<Destination<'a>> {
    let parent = match target.parent.map(str::trim).filter(|p| !p.is_empty()) {
        Some(parent) => {
            let found = state.store.find_project(None, parent).await?;
            match found {
                Some(p) if caller.can_see(&p) => Some(p),
                _ => {
                    return Err(ApiError::not_found(format_args!(
                        "parent project `{parent}`"
                    )));
                }
            }
        }
        None => None,
    };
    let parent_id = parent.as_ref().map(|p| p.id);
    if let Some(project) = state.store.find_project(parent_id, name).await? {
        if !caller.can_see(&project) {
            // Same answer as a missing project that cannot be created: no existence leak.
            return Err(ApiError::forbidden(format!(
                "project `{name}` belongs to another team"
            )));
        }
        return Ok(Destination::VersionOf { project, version });
    }
    if !target.auto_create {
        return Err(ApiError::not_found(format_args!(
            "project `{name}` (and autoCreate is off)"
        )));
    }
    Ok(Destination::NewProject {
        project: NewProject {
            name,
            parent_id,
            team_id: if caller.is_admin() {
                parent.as_ref().and_then(|p| p.team_id)
            } else {
                caller.key.team_id
            },
            tags: &target.tags,
        },
        version,
    })
}
