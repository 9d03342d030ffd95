//! VEX out (CycloneDX VEX, OpenVEX) from a version's triage, and VEX in, applied to the
//! version's findings by vulnerability id or alias and by purl.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bulwark_store::{FindingRow, Scope, TriageChange, TriageState};
use bulwark_vex::{ExportOptions, Statement};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::versions::safe_file_part;
use super::{AppStateRef, visible_version};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Body, Json, Path, Query};

/// Which VEX format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VexQuery {
    /// `cyclonedx` (default) or `openvex`.
    format: Option<String>,
}

fn statement(finding: &FindingRow) -> Statement {
    let triage = finding.triage.as_ref();
    Statement {
        vulnerability: finding.identity.finding_id.clone(),
        aliases: finding.aliases.clone(),
        purl: finding.component_purl.clone(),
        component_name: Some(finding.identity.component_name.clone()),
        state: triage.map_or(TriageState::InTriage, |t| t.state),
        justification: triage.and_then(|t| t.justification),
        detail: triage.and_then(|t| t.detail.clone()),
    }
}

/// The version's findings and their triage as a VEX document (untriaged ones as in triage).
#[utoipa::path(get, path = "/api/v1/versions/{id}/vex", params(("id" = i64, Path), VexQuery),
    responses((status = 200, description = "CycloneDX VEX or OpenVEX JSON")))]
pub(crate) async fn export(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<VexQuery>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let (version, project) = visible_version(&state, &caller, id).await?;
    let findings = state.store.version_findings_all(id).await?;
    let statements: Vec<Statement> = findings.iter().map(statement).collect();
    let document_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let options = ExportOptions {
        author: &caller.actor(),
        id: &document_id,
        timestamp: OffsetDateTime::now_utc(),
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let (bytes, content_type, suffix) = match query.format.as_deref() {
        None | Some("cyclonedx") => (
            bulwark_vex::to_cyclonedx(&statements, &options),
            "application/vnd.cyclonedx+json",
            "vex.cdx.json",
        ),
        Some("openvex") => (
            bulwark_vex::to_openvex(&statements, &options),
            "application/json",
            "openvex.json",
        ),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid `format` `{other}` (expected cyclonedx or openvex)"
            )));
        }
    };
    let bytes = bytes.map_err(|e| match e {
        bulwark_vex::VexError::NoStatements => ApiError::unprocessable(
            format!("version {id} has no findings: a VEX document needs at least one statement"),
            vec![],
        ),
        bulwark_vex::VexError::Conflict { .. } => {
            ApiError::new(axum::http::StatusCode::CONFLICT, e.to_string())
        }
        other => ApiError::internal("writing VEX", &other),
    })?;
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

/// A statement applied to a finding.
#[derive(Serialize, ToSchema)]
pub(crate) struct Applied {
    vulnerability: String,
    finding: i64,
    finding_id: String,
    component: String,
    state: &'static str,
}

/// A statement that matched no finding of the version.
#[derive(Serialize, ToSchema)]
pub(crate) struct Unmatched {
    vulnerability: String,
    purl: Option<String>,
    component_name: Option<String>,
    reason: String,
}

/// What a VEX import did.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportOut {
    format: &'static str,
    applied: Vec<Applied>,
    unmatched: Vec<Unmatched>,
    warnings: Vec<String>,
}

/// `pkg:type/ns/name@version` without qualifiers and subpath, for comparing purls written by
/// different tools.
fn purl_core(purl: &str) -> &str {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    &purl[..end]
}

fn purl_matches(statement: &str, component: &str) -> bool {
    let (statement, component) = (purl_core(statement), purl_core(component));
    if statement.eq_ignore_ascii_case(component) {
        return true;
    }
    // A versionless product purl covers every version.
    !statement.contains('@')
        && component
            .split_once('@')
            .is_some_and(|(base, _)| base.eq_ignore_ascii_case(statement))
}

fn statement_matches(statement: &Statement, finding: &FindingRow) -> bool {
    let ids_match = std::iter::once(&statement.vulnerability)
        .chain(&statement.aliases)
        .any(|id| {
            id.eq_ignore_ascii_case(&finding.identity.finding_id)
                || finding.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
        });
    if !ids_match {
        return false;
    }
    match (&statement.purl, &statement.component_name) {
        (Some(purl), _) => finding
            .component_purl
            .as_deref()
            .is_some_and(|own| purl_matches(purl, own)),
        (None, Some(name)) => name.eq_ignore_ascii_case(&finding.identity.component_name),
        (None, None) => true,
    }
}

/// Applies a CycloneDX VEX or OpenVEX document to the version's findings. Each statement
/// sets the triage of every finding it names (by id or alias, and by purl or component
/// name); a statement that names nothing here is listed in `unmatched`.
#[utoipa::path(post, path = "/api/v1/versions/{id}/vex", params(("id" = i64, Path)),
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = ImportOut), (status = 422, body = crate::error::Problem)))]
pub(crate) async fn import(
    State(state): AppStateRef,
    caller: Caller,
    Path(id): Path<i64>,
    Body(body): Body,
) -> ApiResult<Json<ImportOut>> {
    caller.require(Scope::Triage)?;
    visible_version(&state, &caller, id).await?;
    let document = bulwark_vex::parse(&body, "the uploaded VEX document")
        .map_err(|e| ApiError::unprocessable(e.to_string(), vec![]))?;
    let findings = state.store.version_findings_all(id).await?;
    let actor = format!("{} via VEX", caller.actor());
    let mut applied = Vec::new();
    let mut unmatched = Vec::new();
    let mut warnings = document.warnings;
    for statement in &document.statements {
        let targets: Vec<&FindingRow> = findings
            .iter()
            .filter(|f| statement_matches(statement, f))
            .collect();
        if targets.is_empty() {
            unmatched.push(Unmatched {
                vulnerability: statement.vulnerability.clone(),
                purl: statement.purl.clone(),
                component_name: statement.component_name.clone(),
                reason: "no finding of this version has this id or alias for this component"
                    .to_owned(),
            });
            continue;
        }
        let state_value = statement.state;
        let justification = statement.justification;
        if state_value == TriageState::NotAffected && justification.is_none() {
            warnings.push(format!(
                "{}: not_affected without a justification; recorded as in_triage with the detail",
                statement.vulnerability
            ));
        }
        let (state_value, justification) =
            if state_value == TriageState::NotAffected && justification.is_none() {
                (TriageState::InTriage, None)
            } else if state_value == TriageState::NotAffected {
                (state_value, justification)
            } else {
                (state_value, None)
            };
        for finding in targets {
            let change = TriageChange {
                state: state_value,
                justification,
                detail: statement.detail.clone(),
                suppressed_until: finding.triage.as_ref().and_then(|t| t.suppressed_until),
            };
            state
                .store
                .set_triage(&finding.identity, &change, &actor)
                .await?;
            applied.push(Applied {
                vulnerability: statement.vulnerability.clone(),
                finding: finding.id,
                finding_id: finding.identity.finding_id.clone(),
                component: finding.identity.component_name.clone(),
                state: state_value.as_str(),
            });
        }
    }
    Ok(Json(ImportOut {
        format: match document.format {
            bulwark_vex::Format::CycloneDx => "cyclonedx",
            bulwark_vex::Format::OpenVex => "openvex",
        },
        applied,
        unmatched,
        warnings,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_match_without_qualifiers_and_versionless() {
        assert!(purl_matches(
            "pkg:pypi/requests@2.31.0",
            "pkg:pypi/requests@2.31.0?file_name=x.whl"
        ));
        assert!(purl_matches(
            "pkg:pypi/requests",
            "pkg:pypi/requests@2.31.0"
        ));
        assert!(!purl_matches(
            "pkg:pypi/requests@2.32.0",
            "pkg:pypi/requests@2.31.0"
        ));
        assert!(!purl_matches(
            "pkg:pypi/request",
            "pkg:pypi/requests@2.31.0"
        ));
    }
}
