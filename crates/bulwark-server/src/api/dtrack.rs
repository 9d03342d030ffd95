//! Dependency-Track-compatible upload (`PUT`/`POST /api/v1/bom`, `X-Api-Key`), so that CI
//! integrations written for Dependency-Track switch by changing only the base URL. bulwark
//! processes the document before answering, so the token's event is never still processing.

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::upload::{Target, store_document};
use super::{AppStateRef, dtrack_read};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Path};

/// Dependency-Track's `BomSubmitRequest`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BomSubmitRequest {
    /// The UUID of an existing version, as `GET /api/v1/project` gives it (used when
    /// `projectName` / `projectVersion` are absent).
    project: Option<String>,
    project_name: Option<String>,
    project_version: Option<String>,
    #[serde(default)]
    auto_create: bool,
    parent_name: Option<String>,
    #[serde(default)]
    project_tags: Vec<Tag>,
    /// The BOM, base64-encoded.
    bom: String,
}

/// A Dependency-Track tag.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Tag {
    name: String,
}

/// Dependency-Track's answer: a token to poll.
#[derive(Serialize, ToSchema)]
pub(crate) struct BomUploadResponse {
    token: String,
}

/// Dependency-Track's event status.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenStatus {
    processing: bool,
}

/// Where a Dependency-Track upload goes: `projectName` and `projectVersion`, or else the
/// `project` UUID of an existing version (see [`dtrack_read::version_uuid`]).
struct Destination {
    name: String,
    version: String,
    parent: Option<String>,
}

async fn destination(
    state: &AppState,
    caller: &Caller,
    project: Option<&str>,
    name: Option<&str>,
    version: Option<&str>,
    parent: Option<&str>,
) -> ApiResult<Destination> {
    if let (Some(name), Some(version)) = (name, version) {
        return Ok(Destination {
            name: name.to_owned(),
            version: version.to_owned(),
            parent: parent.map(str::to_owned),
        });
    }
    let Some(uuid) = project.filter(|p| !p.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "`projectName` and `projectVersion` (or the `project` UUID of an existing version) \
             are required",
        ));
    };
    let existing = dtrack_read::version_by_uuid(state, caller, uuid).await?;
    let parent = match existing.project.parent_id {
        Some(id) => state.store.get_project(id).await?.map(|p| p.name),
        None => None,
    };
    Ok(Destination {
        name: existing.project.name,
        version: existing.version.version,
        parent,
    })
}

impl Destination {
    fn target(&self, auto_create: bool, tags: Vec<String>) -> Target<'_> {
        Target {
            project: &self.name,
            version: &self.version,
            parent: self.parent.as_deref(),
            tags,
            auto_create,
        }
    }
}

fn token() -> BomUploadResponse {
    BomUploadResponse {
        token: uuid::Uuid::new_v4().to_string(),
    }
}

/// Dependency-Track `PUT /api/v1/bom`: JSON with the BOM base64-encoded.
#[utoipa::path(put, path = "/api/v1/bom", request_body = BomSubmitRequest,
    responses((status = 200, body = BomUploadResponse)))]
pub(crate) async fn put_bom(
    State(state): AppStateRef,
    caller: Caller,
    Json(request): Json<BomSubmitRequest>,
) -> ApiResult<Json<BomUploadResponse>> {
    let bom = base64::engine::general_purpose::STANDARD
        .decode(request.bom.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(request.bom.trim()))
        .map_err(|e| ApiError::bad_request(format!("`bom` is not valid base64: {e}")))?;
    let tags = request.project_tags.into_iter().map(|t| t.name).collect();
    let destination = destination(
        &state,
        &caller,
        request.project.as_deref(),
        request.project_name.as_deref(),
        request.project_version.as_deref(),
        request.parent_name.as_deref(),
    )
    .await?;
    let target = destination.target(request.auto_create, tags);
    store_document(&state, &caller, &target, Bytes::from(bom), "bom").await?;
    Ok(Json(token()))
}

/// Dependency-Track `POST /api/v1/bom`: multipart form with a `bom` part.
#[utoipa::path(post, path = "/api/v1/bom",
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 200, body = BomUploadResponse)))]
pub(crate) async fn post_bom(
    State(state): AppStateRef,
    caller: Caller,
    mut form: Multipart,
) -> ApiResult<Json<BomUploadResponse>> {
    let mut fields: std::collections::HashMap<String, String> = Default::default();
    let mut bom: Option<Bytes> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if name == "bom" {
            bom = Some(bytes);
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).trim().to_owned());
        }
    }
    let bom = bom.ok_or_else(|| ApiError::bad_request("the form has no `bom` part"))?;
    let auto_create = fields
        .get("autoCreate")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let tags = fields
        .get("projectTags")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let destination = destination(
        &state,
        &caller,
        fields.get("project").map(String::as_str),
        fields.get("projectName").map(String::as_str),
        fields.get("projectVersion").map(String::as_str),
        fields.get("parentName").map(String::as_str),
    )
    .await?;
    let target = destination.target(auto_create, tags);
    store_document(&state, &caller, &target, bom, "bom").await?;
    Ok(Json(token()))
}

/// Dependency-Track `GET /api/v1/event/token/{uuid}` (and the older `/api/v1/bom/token/{uuid}`):
/// always finished.
#[utoipa::path(get, path = "/api/v1/event/token/{token}", params(("token" = String, Path)),
    responses((status = 200, body = TokenStatus)))]
pub(crate) async fn token_status(
    caller: Caller,
    Path(_token): Path<String>,
) -> ApiResult<Json<TokenStatus>> {
    caller.require(bulwark_store::Scope::Read)?;
    Ok(Json(TokenStatus { processing: false }))
}
