//! The event log: what happened to each project (uploads, findings that appeared or went away,
//! SLA breaches, policy failures), for the activity feed and for webhooks.
//!
//! Events written by the store itself (`snapshot_uploaded`, `finding_new`, `finding_gone`) are
//! recorded in the same transaction as the change they describe, so the log never claims a
//! change that was rolled back, nor misses one that was committed.

use std::collections::HashMap;

use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError, classify_write};
use crate::findings::Severity;
use crate::{
    Backend, Binds, Page, PageRequest, Store, from_millis, get, now, placeholders, to_millis,
};

/// Rows per multi-row `INSERT` of events (10 parameters each; see [`Binds`] on SQLite).
const CHUNK: usize = 500;

/// One entry of the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Row id; later events have larger ids.
    pub id: i64,
    /// The project it concerns.
    pub project_id: i64,
    /// The project version, when the event is about one.
    pub project_version_id: Option<i64>,
    /// The snapshot, when the event is about one.
    pub snapshot_id: Option<i64>,
    /// What happened, e.g. [`Event::FINDING_NEW`].
    pub kind: String,
    /// The advisory or rule id, for events about a finding.
    pub finding_id: Option<String>,
    /// The finding's component name.
    pub component_name: Option<String>,
    /// The finding's component ecosystem, as in [`crate::FindingIdentity`] (empty when the
    /// component has none).
    pub component_ecosystem: Option<String>,
    /// The finding's severity.
    pub severity: Option<Severity>,
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// Kind-specific facts (who uploaded, the finding's title, ...).
    pub detail: Option<serde_json::Value>,
}

impl Event {
    /// A snapshot was stored (recorded by [`Store::ingest_snapshot`]).
    pub const SNAPSHOT_UPLOADED: &'static str = "snapshot_uploaded";
    /// A finding identity appeared (ingest, or re-evaluation with [`Store::replace_findings`]).
    pub const FINDING_NEW: &'static str = "finding_new";
    /// A finding identity went away on re-evaluation.
    pub const FINDING_GONE: &'static str = "finding_gone";
    /// A finding passed its SLA deadline (recorded by the server).
    pub const SLA_BREACH: &'static str = "sla_breach";
    /// A snapshot failed a policy (recorded by the server).
    pub const POLICY_FAILURE: &'static str = "policy_failure";
}

/// Input of [`Store::record_event`]: an [`Event`] without its id and time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewEvent {
    /// The project it concerns.
    pub project_id: i64,
    /// The project version, if any.
    pub project_version_id: Option<i64>,
    /// The snapshot, if any.
    pub snapshot_id: Option<i64>,
    /// What happened (not empty).
    pub kind: String,
    /// The advisory or rule id.
    pub finding_id: Option<String>,
    /// The finding's component name.
    pub component_name: Option<String>,
    /// The finding's component ecosystem.
    pub component_ecosystem: Option<String>,
    /// The finding's severity.
    pub severity: Option<Severity>,
    /// Kind-specific facts.
    pub detail: Option<serde_json::Value>,
}

/// A finding identity that appeared or went away, as reported to callers (for notifications).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingEvent {
    /// Advisory or rule id.
    pub finding_id: String,
    /// Component name.
    pub component_name: String,
    /// Component ecosystem; empty when the component has none.
    pub component_ecosystem: String,
    /// Severity (the highest, when several rows share the identity).
    pub severity: Severity,
    /// Short description.
    pub title: Option<String>,
}

impl FindingEvent {
    /// Keeps one event per identity (the most severe) and orders them most severe first, then
    /// by id and component, so notifications list the worst news first and stably.
    pub(crate) fn dedup(events: impl IntoIterator<Item = FindingEvent>) -> Vec<FindingEvent> {
        let mut by_identity: HashMap<(String, String, String), FindingEvent> = HashMap::new();
        for e in events {
            let key = (
                e.finding_id.clone(),
                e.component_name.clone(),
                e.component_ecosystem.clone(),
            );
            match by_identity.get(&key) {
                Some(kept) if kept.severity >= e.severity => {}
                _ => {
                    by_identity.insert(key, e);
                }
            }
        }
        let mut out: Vec<FindingEvent> = by_identity.into_values().collect();
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.finding_id.cmp(&b.finding_id))
                .then_with(|| a.component_name.cmp(&b.component_name))
                .then_with(|| a.component_ecosystem.cmp(&b.component_ecosystem))
        });
        out
    }

    /// The event row for this finding in `snapshot_id` of `project_version_id`.
    pub(crate) fn to_new_event(
        &self,
        kind: &str,
        project_id: i64,
        project_version_id: i64,
        snapshot_id: i64,
        actor: &str,
    ) -> NewEvent {
        let mut detail = serde_json::Map::new();
        detail.insert("actor".to_owned(), actor.into());
        if let Some(title) = &self.title {
            detail.insert("title".to_owned(), title.as_str().into());
        }
        NewEvent {
            project_id,
            project_version_id: Some(project_version_id),
            snapshot_id: Some(snapshot_id),
            kind: kind.to_owned(),
            finding_id: Some(self.finding_id.clone()),
            component_name: Some(self.component_name.clone()),
            component_ecosystem: Some(self.component_ecosystem.clone()),
            severity: Some(self.severity),
            detail: Some(serde_json::Value::Object(detail)),
        }
    }
}

/// Filter and page of [`Store::list_events`].
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Access control, as [`crate::ProjectFilter::teams`]: `Some(teams)` shows only events of
    /// projects owned by one of these teams (an empty list shows nothing); `None` shows all.
    pub teams: Option<Vec<i64>>,
    /// Only events of this project.
    pub project_id: Option<i64>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<String>,
    /// Which page.
    pub page: PageRequest,
}

const EVENT_COLUMNS: &str = "id, project_id, project_version_id, snapshot_id, kind, finding_id, \
                             component_name, component_ecosystem, severity, at, detail";

fn event_from_row(row: &AnyRow) -> Result<Event> {
    let severity: Option<String> = get(row, "severity")?;
    let detail: Option<String> = get(row, "detail")?;
    Ok(Event {
        id: get(row, "id")?,
        project_id: get(row, "project_id")?,
        project_version_id: get(row, "project_version_id")?,
        snapshot_id: get(row, "snapshot_id")?,
        kind: get(row, "kind")?,
        finding_id: get(row, "finding_id")?,
        component_name: get(row, "component_name")?,
        component_ecosystem: get(row, "component_ecosystem")?,
        severity: severity
            .map(|s| Severity::parse(&s).ok_or_else(|| StoreError::corrupt("events.severity", &s)))
            .transpose()?,
        at: from_millis("events.at", get(row, "at")?)?,
        detail: detail
            .map(|d| serde_json::from_str(&d).map_err(|_| StoreError::corrupt("events.detail", &d)))
            .transpose()?,
    })
}

fn detail_text(event: &NewEvent) -> Result<Option<String>> {
    event
        .detail
        .as_ref()
        .map(|d| {
            serde_json::to_string(d).map_err(|e| StoreError::invalid("event detail", e.to_string()))
        })
        .transpose()
}

/// Inserts events at `at_ms` with chunked multi-row `INSERT`s (an ingest may record thousands).
pub(crate) async fn insert_events(
    conn: &mut AnyConnection,
    backend: Backend,
    events: &[NewEvent],
    at_ms: i64,
) -> Result<()> {
    for chunk in events.chunks(CHUNK) {
        let mut binds = Binds::new(backend);
        let mut sql = String::from(
            "INSERT INTO events (at, project_id, project_version_id, snapshot_id, kind, \
             finding_id, component_name, component_ecosystem, severity, detail) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            binds.push_tuple(&mut sql, 10);
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(at_ms)
                .bind(e.project_id)
                .bind(e.project_version_id)
                .bind(e.snapshot_id)
                .bind(e.kind.as_str())
                .bind(e.finding_id.as_deref())
                .bind(e.component_name.as_deref())
                .bind(e.component_ecosystem.as_deref())
                .bind(e.severity.map(Severity::as_str))
                .bind(detail_text(e)?);
        }
        query.execute(&mut *conn).await.ctx("recording events")?;
    }
    Ok(())
}

impl Store {
    /// Records an event the server detected itself (an SLA breach, a policy failure), now.
    pub async fn record_event(&self, new: &NewEvent) -> Result<Event> {
        if new.kind.trim().is_empty() {
            return Err(StoreError::invalid("event kind", "must not be empty"));
        }
        let sql = format!(
            "INSERT INTO events (at, project_id, project_version_id, snapshot_id, kind, \
             finding_id, component_name, component_ecosystem, severity, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {EVENT_COLUMNS}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(now()))
            .bind(new.project_id)
            .bind(new.project_version_id)
            .bind(new.snapshot_id)
            .bind(new.kind.as_str())
            .bind(new.finding_id.as_deref())
            .bind(new.component_name.as_deref())
            .bind(new.component_ecosystem.as_deref())
            .bind(new.severity.map(Severity::as_str))
            .bind(detail_text(new)?)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| {
                classify_write(e, "recording an event", String::new, || {
                    format!(
                        "project {}, version {:?} or snapshot {:?}",
                        new.project_id, new.project_version_id, new.snapshot_id
                    )
                })
            })
            .and_then(|row| event_from_row(&row))
    }

    /// Events matching `filter`, newest first, one page, with the total count.
    pub async fn list_events(&self, filter: &EventFilter) -> Result<Page<Event>> {
        if filter.teams.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        }
        // $1 project; then kinds, then teams, then limit and offset.
        let mut conditions = vec!["($1 IS NULL OR project_id = $1)".to_owned()];
        let mut next = 2;
        if !filter.kinds.is_empty() {
            conditions.push(format!(
                "kind IN ({})",
                placeholders(next, filter.kinds.len())
            ));
            next += filter.kinds.len();
        }
        let teams = filter.teams.as_deref().unwrap_or_default();
        if filter.teams.is_some() {
            conditions.push(format!(
                "project_id IN (SELECT p.id FROM projects p WHERE p.team_id IN ({}))",
                placeholders(next, teams.len())
            ));
            next += teams.len();
        }
        let where_clause = conditions.join(" AND ");
        let list_sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {where_clause} \
             ORDER BY id DESC LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let count_sql = format!("SELECT COUNT(*) AS n FROM events WHERE {where_clause}");
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql)).bind(filter.project_id);
        let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql)).bind(filter.project_id);
        for kind in &filter.kinds {
            count = count.bind(kind.as_str());
            list = list.bind(kind.as_str());
        }
        for team in teams {
            count = count.bind(*team);
            list = list.bind(*team);
        }
        let total: i64 = get(
            &count.fetch_one(&self.pool).await.ctx("counting events")?,
            "n",
        )?;
        let items = list
            .bind(filter.page.limit())
            .bind(filter.page.offset())
            .fetch_all(&self.pool)
            .await
            .ctx("listing events")?
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
