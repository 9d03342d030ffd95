//! The portfolio: totals over every project a key sees, the risk trend, and the event feed.

use axum::extract::State;
use bulwark_store::{Event, EventFilter, Scope};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{AppStateRef, Counts, PageOut, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Json, Query};

/// The vulnerability database in use.
#[derive(Serialize, ToSchema)]
pub(crate) struct DatabaseInfo {
    generation: String,
    #[serde(with = "time::serde::rfc3339")]
    imported_at: OffsetDateTime,
    records: u64,
}

/// Totals of the current versions of every visible project.
#[derive(Serialize, ToSchema)]
pub(crate) struct PortfolioOut {
    projects: u64,
    versions: u64,
    components: u64,
    counts: Counts,
    overdue: u64,
    untriaged: u64,
    database: Option<DatabaseInfo>,
}

/// Portfolio totals.
#[utoipa::path(get, path = "/api/v1/portfolio", responses((status = 200, body = PortfolioOut)))]
pub(crate) async fn totals(
    State(state): AppStateRef,
    caller: Caller,
) -> ApiResult<Json<PortfolioOut>> {
    caller.require(Scope::Read)?;
    let teams = caller.teams();
    let totals = state
        .store
        .portfolio_totals(teams.as_deref(), &state.sla)
        .await?;
    let database = state.vulndb.get().map(|db| {
        let status = db.status();
        DatabaseInfo {
            generation: db.generation_name(),
            imported_at: status.imported_at,
            records: status.records,
        }
    });
    Ok(Json(PortfolioOut {
        projects: totals.projects,
        versions: totals.versions,
        components: totals.components,
        counts: totals.counts.into(),
        overdue: totals.overdue,
        untriaged: totals.untriaged,
        database,
    }))
}

/// How far back the trend goes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendQuery {
    /// Days, 1 to 366 (default 30).
    days: Option<u32>,
}

/// One day of the trend.
#[derive(Serialize, ToSchema)]
pub(crate) struct TrendPointOut {
    /// `YYYY-MM-DD` (UTC).
    day: String,
    counts: Counts,
}

/// The trend, oldest day first.
#[derive(Serialize, ToSchema)]
pub(crate) struct TrendOut {
    points: Vec<TrendPointOut>,
}

/// Open findings per severity at the end of each day.
#[utoipa::path(get, path = "/api/v1/portfolio/trend", params(TrendQuery),
    responses((status = 200, body = TrendOut)))]
pub(crate) async fn trend(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<TrendQuery>,
) -> ApiResult<Json<TrendOut>> {
    caller.require(Scope::Read)?;
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad_request("`days` must be between 1 and 366"));
    }
    let teams = caller.teams();
    let points = state
        .store
        .risk_trend(teams.as_deref(), days, OffsetDateTime::now_utc())
        .await?
        .into_iter()
        .map(|p| TrendPointOut {
            day: format!(
                "{:04}-{:02}-{:02}",
                p.day.year(),
                u8::from(p.day.month()),
                p.day.day()
            ),
            counts: p.counts.into(),
        })
        .collect();
    Ok(Json(TrendOut { points }))
}

/// Filters of the event feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventQuery {
    /// Only this project.
    project: Option<i64>,
    /// Comma-separated kinds.
    kind: Option<String>,
}

/// Something that happened.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventOut {
    id: i64,
    kind: String,
    project_id: i64,
    project_version_id: Option<i64>,
    finding_id: Option<String>,
    component_name: Option<String>,
    severity: Option<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    detail: Option<serde_json::Value>,
}

impl From<Event> for EventOut {
    fn from(e: Event) -> EventOut {
        EventOut {
            id: e.id,
            kind: e.kind,
            project_id: e.project_id,
            project_version_id: e.project_version_id,
            finding_id: e.finding_id,
            component_name: e.component_name,
            severity: e.severity.map(|s| s.as_str()),
            at: e.at,
            detail: e.detail,
        }
    }
}

/// New and gone findings, uploads, SLA breaches, newest first.
#[utoipa::path(get, path = "/api/v1/events", params(EventQuery, PageQuery),
    responses((status = 200, body = PageOut<EventOut>)))]
pub(crate) async fn events(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<EventQuery>,
    Query(page_query): Query<PageQuery>,
) -> ApiResult<Json<PageOut<EventOut>>> {
    caller.require(Scope::Read)?;
    let page = page_query.request();
    let kinds = query
        .kind
        .as_deref()
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let events = state
        .store
        .list_events(&EventFilter {
            teams: caller.teams(),
            project_id: query.project,
            kinds,
            page,
        })
        .await?;
    Ok(Json(PageOut::new(events, page, EventOut::from)))
}
