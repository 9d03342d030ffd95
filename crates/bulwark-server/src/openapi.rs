//! The OpenAPI 3.1 document (`/api/openapi.json`), generated from the handlers' annotations,
//! and Swagger UI beside it (`/api/docs`, assets embedded: no CDN).

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;
use crate::api;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "bulwark",
        description = "Tracking server of bulwark: projects, versions, SBOM snapshots, findings, triage, VEX, remediation and diffs. Every endpoint but /health needs an API key (`X-Api-Key` or `Authorization: Bearer`). Errors are RFC 9457 problem+json."
    ),
    paths(
        api::health,
        api::admin::whoami,
        api::portfolio::totals,
        api::portfolio::trend,
        api::portfolio::events,
        api::projects::list,
        api::projects::create,
        api::projects::get_one,
        api::projects::versions,
        api::projects::remediation,
        api::upload::upload,
        api::versions::get_one,
        api::versions::components,
        api::versions::findings,
        api::versions::document,
        api::versions::diff,
        api::vex::export,
        api::vex::import,
        api::findings::get_one,
        api::findings::triage,
        api::findings::audit,
        api::admin::list_keys,
        api::admin::create_key,
        api::admin::revoke_key,
        api::admin::list_teams,
        api::admin::create_team,
        api::admin::list_webhooks,
        api::admin::create_webhook,
        api::admin::delete_webhook,
        api::dtrack::put_bom,
        api::dtrack::post_bom,
        api::dtrack::token_status,
        api::dtrack_read::list_projects,
        api::dtrack_read::lookup,
        api::dtrack_read::get_project,
        api::dtrack_read::project_findings,
        api::dtrack_read::project_metrics,
        api::dtrack_read::project_violations,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&Security),
    security(("api_key" = []), ("bearer" = []))
)]
pub(crate) struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
}
