//! One finding: read it, triage it, read its audit trail.

use axum::extract::State;
use bulwark_store::{FindingRow, Justification, Scope, TriageChange, TriageState};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{AppStateRef, FindingOut, visible_project};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Path};

async fn visible_finding(state: &AppState, caller: &Caller, id: i64) -> ApiResult<FindingRow> {
    let Some(mut finding) = state.store.get_finding(id).await? else {
        return Err(ApiError::not_found(format_args!("finding {id}")));
    };
    finding.apply_sla(&state.sla, OffsetDateTime::now_utc());
    visible_project(state, caller, finding.identity.project_id)
        .await
        .map_err(|_| ApiError::not_found(format_args!("finding {id}")))?;
    Ok(finding)
}

/// One finding.
#[utoipa::path(get, path = "/api/v1/findings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = FindingOut), (status = 404)))]
pub(crate) async fn get_one(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<FindingOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(visible_finding(&state, &caller, id).await?.into()))
}

/// A triage decision (replaces the previous one).
#[derive(Deserialize, ToSchema)]
pub(crate) struct TriageIn {
    /// in_triage, exploitable, not_affected, false_positive or resolved.
    state: String,
    /// Required with not_affected: a CycloneDX or OpenVEX justification.
    justification: Option<String>,
    /// Free text: why, and what was checked.
    detail: Option<String>,
    /// RFC 3339 time or `YYYY-MM-DD` (end of that day, UTC) until which it is hidden.
    suppressed_until: Option<String>,
}

fn parse_until(value: &str) -> ApiResult<OffsetDateTime> {
    let rfc3339 = time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(value, &rfc3339) {
        return Ok(t);
    }
    let day = time::Date::parse(
        value,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        ApiError::unprocessable(
            format!("`suppressed_until` `{value}` is neither RFC 3339 nor YYYY-MM-DD"),
            vec![],
        )
    })?;
    Ok(day.with_time(time::macros::time!(23:59:59)).assume_utc())
}

impl TriageIn {
    fn change(self) -> ApiResult<TriageChange> {
        let state = self.state.parse::<TriageState>().map_err(|_| {
            ApiError::unprocessable(
                format!(
                    "invalid `state` `{}` (expected in_triage, exploitable, not_affected, false_positive or resolved)",
                    self.state
                ),
                vec![],
            )
        })?;
        let justification = self
            .justification
            .as_deref()
            .filter(|j| !j.is_empty())
            .map(|j| {
                j.parse::<Justification>().map_err(|_| {
                    ApiError::unprocessable(
                        format!("invalid `justification` `{j}`: not a CycloneDX or OpenVEX justification"),
                        vec![],
                    )
                })
            })
            .transpose()?;
        Ok(TriageChange {
            state,
            justification,
            detail: self.detail.filter(|d| !d.trim().is_empty()),
            suppressed_until: self
                .suppressed_until
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(parse_until)
                .transpose()?,
        })
    }
}

/// Triages a finding: the decision applies to this finding identity (id, component) in the
/// project, so it carries over to the project's later versions. Every changed field goes to
/// the audit trail.
#[utoipa::path(put, path = "/api/v1/findings/{id}/triage", params(("id" = i64, Path)),
    request_body = TriageIn,
    responses((status = 200, body = FindingOut), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn triage(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<TriageIn>,
) -> ApiResult<Json<FindingOut>> {
    caller.require(Scope::Triage)?;
    let finding = visible_finding(&state, &caller, id).await?;
    let change = body.change()?;
    state
        .store
        .set_triage(&finding.identity, &change, &caller.actor())
        .await?;
    Ok(Json(visible_finding(&state, &caller, id).await?.into()))
}

/// One audit-trail entry.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditOut {
    actor: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
}

/// The audit trail.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditList {
    items: Vec<AuditOut>,
}

/// Who changed this finding's triage, when, from what to what (oldest first).
#[utoipa::path(get, path = "/api/v1/findings/{id}/audit", params(("id" = i64, Path)),
    responses((status = 200, body = AuditList)))]
pub(crate) async fn audit(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<AuditList>> {
    caller.require(Scope::Read)?;
    let finding = visible_finding(&state, &caller, id).await?;
    let items = state
        .store
        .triage_history(&finding.identity)
        .await?
        .into_iter()
        .map(|e| AuditOut {
            actor: e.actor,
            at: e.at,
            field: e.field,
            old_value: e.old_value,
            new_value: e.new_value,
        })
        .collect();
    Ok(Json(AuditList { items }))
}
