//! Webhook subscriptions, and the record of notifications already sent.
//!
//! A webhook's secret signs its payloads, so unlike API keys it is stored as given: the server
//! must be able to read it back.

use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError, classify_write};
use crate::{Store, from_millis, get, now, opt_from_millis, to_millis};

/// The event-list entry that subscribes to every kind.
const ALL_EVENTS: &str = "*";

/// A webhook subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// Row id.
    pub id: i64,
    /// The team whose projects it hears about; `None`: every project (global, admin-made).
    pub team_id: Option<i64>,
    /// Where payloads are posted (`http://` or `https://`).
    pub url: String,
    /// The payload-signing secret.
    pub secret: String,
    /// Event kinds it wants (see [`crate::Event`]); `*` means all.
    pub events: Vec<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was disabled; a disabled hook receives nothing.
    pub disabled_at: Option<OffsetDateTime>,
}

impl Webhook {
    /// Whether the hook subscribes to events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == kind || e == ALL_EVENTS)
    }
}

/// Input of [`Store::create_webhook`].
#[derive(Clone, Copy, Debug)]
pub struct NewWebhook<'a> {
    /// The owning team; `None` for a global hook.
    pub team_id: Option<i64>,
    /// Target URL (`http://` or `https://`).
    pub url: &'a str,
    /// Payload-signing secret (not empty).
    pub secret: &'a str,
    /// Event kinds (at least one; duplicates are dropped).
    pub events: &'a [String],
}

const WEBHOOK_COLUMNS: &str = "id, team_id, url, secret, events, created_at, disabled_at";

fn webhook_from_row(row: &AnyRow) -> Result<Webhook> {
    let events: String = get(row, "events")?;
    Ok(Webhook {
        id: get(row, "id")?,
        team_id: get(row, "team_id")?,
        url: get(row, "url")?,
        secret: get(row, "secret")?,
        events: serde_json::from_str(&events)
            .map_err(|_| StoreError::corrupt("webhooks.events", &events))?,
        created_at: from_millis("webhooks.created_at", get(row, "created_at")?)?,
        disabled_at: opt_from_millis("webhooks.disabled_at", get(row, "disabled_at")?)?,
    })
}

fn check_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(StoreError::invalid(
            "webhook url",
            "must be an http:// or https:// URL without spaces",
        )),
    }
}

impl Store {
    /// Stores a webhook subscription.
    pub async fn create_webhook(&self, new: &NewWebhook<'_>) -> Result<Webhook> {
        check_url(new.url)?;
        if new.secret.is_empty() {
            return Err(StoreError::invalid("webhook secret", "must not be empty"));
        }
        let mut events: Vec<&str> = Vec::with_capacity(new.events.len());
        for e in new.events {
            let e = e.trim();
            if e.is_empty() {
                return Err(StoreError::invalid("webhook events", "an entry is empty"));
            }
            if !events.contains(&e) {
                events.push(e);
            }
        }
        if events.is_empty() {
            return Err(StoreError::invalid(
                "webhook events",
                "at least one event kind (or \"*\") is needed",
            ));
        }
        let events = serde_json::to_string(&events)
            .map_err(|e| StoreError::invalid("webhook events", e.to_string()))?;
        let sql = format!(
            "INSERT INTO webhooks (team_id, url, secret, events, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {WEBHOOK_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.team_id)
            .bind(new.url)
            .bind(new.secret)
            .bind(events)
            .bind(to_millis(now()))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| {
                classify_write(e, "creating a webhook", String::new, || {
                    format!("team {:?}", new.team_id)
                })
            })?;
        webhook_from_row(&row)
    }

    /// Webhooks of one team, or all of them (global ones included) with `None`, oldest first.
    pub async fn list_webhooks(&self, team: Option<i64>) -> Result<Vec<Webhook>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE ($1 IS NULL OR team_id = $1) ORDER BY id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(team)
            .fetch_all(&self.pool)
            .await
            .ctx("listing webhooks")?
            .iter()
            .map(webhook_from_row)
            .collect()
    }

    /// One webhook by id.
    pub async fn get_webhook(&self, id: i64) -> Result<Option<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a webhook")?
            .as_ref()
            .map(webhook_from_row)
            .transpose()
    }

    /// Deletes a webhook; `false` when there was none.
    pub async fn delete_webhook(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("deleting a webhook")?;
        Ok(done.rows_affected() > 0)
    }

    /// Disables a webhook (e.g. after repeated delivery failures) without losing it; disabling
    /// twice keeps the first time. `false` when there was none.
    pub async fn disable_webhook(&self, id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhooks SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2",
        )
        .bind(to_millis(now()))
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("disabling a webhook")?;
        Ok(done.rows_affected() > 0)
    }

    /// The enabled webhooks that want an event of `kind` about a project owned by
    /// `project_team`: those of that team and the global ones, subscribed to `kind` or `*`.
    pub async fn webhooks_for_event(
        &self,
        kind: &str,
        project_team: Option<i64>,
    ) -> Result<Vec<Webhook>> {
        // The event list is JSON text; matching it in Rust keeps the SQL portable, and hooks
        // are few.
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE disabled_at IS NULL \
             AND (team_id IS NULL OR team_id = $1) ORDER BY id"
        );
        let mut hooks = Vec::new();
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_team)
            .fetch_all(&self.pool)
            .await
            .ctx("finding webhooks for an event")?
        {
            let hook = webhook_from_row(&row)?;
            if hook.wants(kind) {
                hooks.push(hook);
            }
        }
        Ok(hooks)
    }

    /// Records that the notification `key` went out; `true` only the first time, so a
    /// notification (an SLA breach, say) is sent once even with several server processes.
    pub async fn record_notification_once(&self, key: &str) -> Result<bool> {
        if key.is_empty() {
            return Err(StoreError::invalid("notification key", "must not be empty"));
        }
        let done = sqlx::query(
            "INSERT INTO notified (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(to_millis(now()))
        .execute(&self.pool)
        .await
        .ctx("recording a notification")?;
        Ok(done.rows_affected() == 1)
    }
}
