//! Who am I, and the admin surface: API keys, teams, webhooks.

use axum::extract::State;
use axum::http::StatusCode;
use bulwark_store::{ApiKey, NewApiKey, NewWebhook, Scope, Team, Webhook};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::AppStateRef;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Path};

/// A key as listed (never its secret).
#[derive(Serialize, ToSchema)]
pub(crate) struct KeyOut {
    id: i64,
    name: String,
    /// The first characters of the secret, to recognise it.
    prefix: String,
    scopes: Vec<&'static str>,
    team_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> KeyOut {
        KeyOut {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str()).collect(),
            team_id: k.team_id,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A team.
#[derive(Serialize, ToSchema)]
pub(crate) struct TeamOut {
    id: i64,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<Team> for TeamOut {
    fn from(t: Team) -> TeamOut {
        TeamOut {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
        }
    }
}

/// The calling key and its team.
#[derive(Serialize, ToSchema)]
pub(crate) struct WhoAmI {
    key: KeyOut,
    team: Option<TeamOut>,
}

/// The calling key, its scopes and its team.
#[utoipa::path(get, path = "/api/v1/whoami", responses((status = 200, body = WhoAmI)))]
pub(crate) async fn whoami(State(state): AppStateRef, caller: Caller) -> ApiResult<Json<WhoAmI>> {
    let team = match caller.key.team_id {
        Some(id) => state
            .store
            .list_teams()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .map(TeamOut::from),
        None => None,
    };
    Ok(Json(WhoAmI {
        key: caller.key.into(),
        team,
    }))
}

/// Keys, oldest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct KeyList {
    items: Vec<KeyOut>,
}

/// Every API key (admin).
#[utoipa::path(get, path = "/api/v1/keys", responses((status = 200, body = KeyList)))]
pub(crate) async fn list_keys(
    State(state): AppStateRef,
    caller: Caller,
) -> ApiResult<Json<KeyList>> {
    caller.require(Scope::Admin)?;
    let items = state
        .store
        .list_api_keys(None)
        .await?
        .into_iter()
        .map(KeyOut::from)
        .collect();
    Ok(Json(KeyList { items }))
}

/// A key to create.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewKeyIn {
    name: String,
    /// read, upload, triage, admin.
    scopes: Vec<String>,
    team_id: Option<i64>,
}

/// A created key, with its secret: shown this once, stored only hashed.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedKey {
    #[serde(flatten)]
    key: KeyOut,
    secret: String,
}

/// Creates a key (admin).
#[utoipa::path(post, path = "/api/v1/keys", request_body = NewKeyIn,
    responses((status = 201, body = CreatedKey)))]
pub(crate) async fn create_key(
    State(state): AppStateRef,
    caller: Caller,
    Json(body): Json<NewKeyIn>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    caller.require(Scope::Admin)?;
    let scopes = body
        .scopes
        .iter()
        .map(|s| {
            Scope::parse(s).ok_or_else(|| {
                ApiError::unprocessable(
                    format!("invalid scope `{s}` (expected read, upload, triage or admin)"),
                    vec![],
                )
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // A project belongs to its uploader's team and only admin keys see team-less projects: a
    // team-less non-admin key could upload what it can never read back.
    if body.team_id.is_none() && !scopes.contains(&Scope::Admin) {
        return Err(ApiError::unprocessable(
            "a key without the admin scope needs a `team_id` (create one with POST /api/v1/teams)",
            vec![],
        ));
    }
    let secret =
        crate::auth::generate_secret().map_err(|e| ApiError::internal("generating a key", &e))?;
    let key = state
        .store
        .create_api_key(&NewApiKey {
            secret: &secret,
            name: &body.name,
            team_id: body.team_id,
            scopes: &scopes,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: key.into(),
            secret,
        }),
    ))
}

/// Revokes a key (admin); it stops working at once in this process, within seconds in others.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub(crate) async fn revoke_key(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Admin)?;
    state.store.revoke_api_key(id).await?;
    state.keys.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Teams.
#[derive(Serialize, ToSchema)]
pub(crate) struct TeamList {
    items: Vec<TeamOut>,
}

/// Every team (admin).
#[utoipa::path(get, path = "/api/v1/teams", responses((status = 200, body = TeamList)))]
pub(crate) async fn list_teams(
    State(state): AppStateRef,
    caller: Caller,
) -> ApiResult<Json<TeamList>> {
    caller.require(Scope::Admin)?;
    let items = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(TeamOut::from)
        .collect();
    Ok(Json(TeamList { items }))
}

/// A team to create.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewTeamIn {
    name: String,
}

/// Creates a team (admin).
#[utoipa::path(post, path = "/api/v1/teams", request_body = NewTeamIn,
    responses((status = 201, body = TeamOut)))]
pub(crate) async fn create_team(
    State(state): AppStateRef,
    caller: Caller,
    Json(body): Json<NewTeamIn>,
) -> ApiResult<(StatusCode, Json<TeamOut>)> {
    caller.require(Scope::Admin)?;
    let team = state.store.create_team(body.name.trim()).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// A webhook (its secret is never shown again).
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookOut {
    id: i64,
    team_id: Option<i64>,
    url: String,
    events: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<Webhook> for WebhookOut {
    fn from(w: Webhook) -> WebhookOut {
        WebhookOut {
            id: w.id,
            team_id: w.team_id,
            url: w.url,
            events: w.events,
            created_at: w.created_at,
        }
    }
}

/// Webhooks.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookList {
    items: Vec<WebhookOut>,
}

/// Every webhook (admin).
#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200, body = WebhookList)))]
pub(crate) async fn list_webhooks(
    State(state): AppStateRef,
    caller: Caller,
) -> ApiResult<Json<WebhookList>> {
    caller.require(Scope::Admin)?;
    let items = state
        .store
        .list_webhooks(None)
        .await?
        .into_iter()
        .map(WebhookOut::from)
        .collect();
    Ok(Json(WebhookList { items }))
}

/// The event kinds a webhook may subscribe to (`*`: all).
pub(crate) const WEBHOOK_EVENTS: [&str; 5] = [
    "finding_new",
    "finding_gone",
    "sla_breach",
    "policy_failure",
    "*",
];

/// A webhook to create.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewWebhookIn {
    /// http(s) URL that receives `POST`s.
    url: String,
    /// The HMAC-SHA256 key of the `X-Bulwark-Signature` header (at least 16 characters).
    secret: String,
    /// finding_new (new critical findings), finding_gone, sla_breach, policy_failure, or `*`.
    events: Vec<String>,
    /// Only this team's projects (default: every project).
    team_id: Option<i64>,
}

/// Creates a webhook (admin).
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = NewWebhookIn,
    responses((status = 201, body = WebhookOut)))]
pub(crate) async fn create_webhook(
    State(state): AppStateRef,
    caller: Caller,
    Json(body): Json<NewWebhookIn>,
) -> ApiResult<(StatusCode, Json<WebhookOut>)> {
    caller.require(Scope::Admin)?;
    if !(body.url.starts_with("http://") || body.url.starts_with("https://")) {
        return Err(ApiError::unprocessable(
            "`url` must be an http or https URL",
            vec![],
        ));
    }
    if body.secret.chars().count() < 16 {
        return Err(ApiError::unprocessable(
            "`secret` must be at least 16 characters",
            vec![],
        ));
    }
    if let Some(bad) = body
        .events
        .iter()
        .find(|e| !WEBHOOK_EVENTS.contains(&e.as_str()))
    {
        return Err(ApiError::unprocessable(
            format!(
                "unknown event `{bad}` (expected one of {})",
                WEBHOOK_EVENTS.join(", ")
            ),
            vec![],
        ));
    }
    if body.events.is_empty() {
        return Err(ApiError::unprocessable(
            "`events` must not be empty",
            vec![],
        ));
    }
    let hook = state
        .store
        .create_webhook(&NewWebhook {
            team_id: body.team_id,
            url: &body.url,
            secret: &body.secret,
            events: &body.events,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(hook.into())))
}

/// Deletes a webhook (admin).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub(crate) async fn delete_webhook(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Admin)?;
    if state.store.delete_webhook(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format_args!("webhook {id}")))
    }
}
