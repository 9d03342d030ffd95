//! Re-evaluation: after a vulnerability-database update the server matches a stored snapshot
//! again and replaces its findings; the store keeps each identity's history (`first_seen`,
//! triage) and records what appeared and what went away.

use std::collections::{HashMap, HashSet};

use crate::error::{Context as _, Result, StoreError};
use crate::events::{Event, FindingEvent, insert_events};
use crate::findings::Severity;
use crate::portfolio::write_risk_sample;
use crate::snapshots::{FindingInsert, NewFinding, insert_findings};
use crate::{Backend, Binds, Store, get, now, to_millis};

/// Component references looked up per query.
const CHUNK: usize = 500;

/// What [`Store::replace_findings`] changed, by finding identity, most severe first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindingChanges {
    /// Identities the snapshot did not have before (a `finding_new` event each).
    pub added: Vec<FindingEvent>,
    /// Identities the snapshot no longer has (a `finding_gone` event each).
    pub removed: Vec<FindingEvent>,
}

type IdentityKey = (String, String, String);

fn key(e: &FindingEvent) -> IdentityKey {
    (
        e.finding_id.clone(),
        e.component_name.clone(),
        e.component_ecosystem.clone(),
    )
}

impl Store {
    /// Replaces the findings of a snapshot, in one write transaction.
    ///
    /// Each finding's `component_ref` is the `bom_ref` of a component of that snapshot (an
    /// unknown one is [`StoreError::Invalid`] and changes nothing). Identities that stay keep
    /// their `first_seen`; new ones take the earliest `first_seen` of the identity elsewhere in
    /// the project, as ingest does, or now. One event per added and per removed identity
    /// (`finding_new`, `finding_gone`, with `actor` in the detail) and a risk sample of the
    /// project are recorded in the same transaction.
    pub async fn replace_findings(
        &self,
        snapshot_id: i64,
        findings: &[NewFinding],
        actor: &str,
    ) -> Result<FindingChanges> {
        if actor.trim().is_empty() {
            return Err(StoreError::invalid("actor", "must not be empty"));
        }
        let now_ms = to_millis(now());
        let mut tx = self.begin_write().await?;
        // Two re-evaluations of one snapshot must not interleave (each would keep its own
        // rows); SQLite's write lock already serialises them, PostgreSQL locks the row.
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE OF s",
            Backend::Sqlite => "",
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.project_version_id, v.project_id FROM sbom_snapshots s \
             JOIN project_versions v ON v.id = s.project_version_id WHERE s.id = $1 {lock}"
        )))
        .bind(snapshot_id)
        .fetch_optional(&mut *tx)
        .await
        .ctx("locking a snapshot")?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("snapshot {snapshot_id}"),
        })?;
        let project_version_id: i64 = get(&row, "project_version_id")?;
        let project_id: i64 = get(&row, "project_id")?;

        // Only the components the findings name (a snapshot may have tens of thousands).
        let mut refs: Vec<&str> = findings.iter().map(|f| f.component_ref.as_str()).collect();
        refs.sort_unstable();
        refs.dedup();
        let mut components: HashMap<String, (i64, String, String)> = HashMap::new();
        for chunk in refs.chunks(CHUNK) {
            let mut binds = Binds::new(self.backend);
            let mut sql = String::from(
                "SELECT id, bom_ref, name, ecosystem FROM components WHERE snapshot_id = ",
            );
            binds.push(&mut sql);
            sql.push_str(" AND bom_ref IN ");
            binds.push_tuple(&mut sql, chunk.len());
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(snapshot_id);
            for r in chunk {
                query = query.bind(*r);
            }
            for row in query
                .fetch_all(&mut *tx)
                .await
                .ctx("reading the components of a snapshot")?
            {
                components.insert(
                    get(&row, "bom_ref")?,
                    (
                        get(&row, "id")?,
                        get(&row, "name")?,
                        get(&row, "ecosystem")?,
                    ),
                );
            }
        }
        let mut rows = Vec::with_capacity(findings.len());
        for f in findings {
            let Some((component_id, name, ecosystem)) = components.get(&f.component_ref) else {
                return Err(StoreError::invalid(
                    "finding",
                    format!(
                        "{} refers to component {:?}, which snapshot {snapshot_id} lacks",
                        f.id, f.component_ref
                    ),
                ));
            };
            rows.push(FindingInsert {
                finding: f,
                component_id: *component_id,
                component_name: name,
                component_ecosystem: ecosystem,
            });
        }

        let mut old = Vec::new();
        let mut max_old_id: Option<i64> = None;
        for row in sqlx::query(
            "SELECT id, finding_id, component_name, component_ecosystem, severity, title \
             FROM findings WHERE snapshot_id = $1",
        )
        .bind(snapshot_id)
        .fetch_all(&mut *tx)
        .await
        .ctx("reading the findings of a snapshot")?
        {
            let id: i64 = get(&row, "id")?;
            max_old_id = max_old_id.max(Some(id));
            let severity: String = get(&row, "severity")?;
            old.push(FindingEvent {
                finding_id: get(&row, "finding_id")?,
                component_name: get(&row, "component_name")?,
                component_ecosystem: get(&row, "component_ecosystem")?,
                severity: Severity::parse(&severity)
                    .ok_or_else(|| StoreError::corrupt("findings.severity", &severity))?,
                title: get(&row, "title")?,
            });
        }

        // Insert before deleting, so the old rows still carry `first_seen` for identities that
        // stay. New rows get ids above every existing one (SQLite takes max(rowid) + 1 while the
        // old rows exist; a PostgreSQL identity only grows), so `id <= max_old_id` is exactly
        // the old rows.
        let inserted = insert_findings(
            &mut tx,
            self.backend,
            snapshot_id,
            project_id,
            now_ms,
            &rows,
        )
        .await?;
        if let Some(max_old_id) = max_old_id {
            sqlx::query("DELETE FROM findings WHERE snapshot_id = $1 AND id <= $2")
                .bind(snapshot_id)
                .bind(max_old_id)
                .execute(&mut *tx)
                .await
                .ctx("deleting replaced findings")?;
        }

        let old_keys: HashSet<IdentityKey> = old.iter().map(key).collect();
        let new_keys: HashSet<IdentityKey> = inserted.iter().map(|f| key(&f.event)).collect();
        let changes = FindingChanges {
            added: FindingEvent::dedup(
                inserted
                    .into_iter()
                    .map(|f| f.event)
                    .filter(|e| !old_keys.contains(&key(e))),
            ),
            removed: FindingEvent::dedup(old.into_iter().filter(|e| !new_keys.contains(&key(e)))),
        };
        let events: Vec<_> = changes
            .added
            .iter()
            .map(|e| (Event::FINDING_NEW, e))
            .chain(changes.removed.iter().map(|e| (Event::FINDING_GONE, e)))
            .map(|(kind, e)| {
                e.to_new_event(kind, project_id, project_version_id, snapshot_id, actor)
            })
            .collect();
        insert_events(&mut tx, self.backend, &events, now_ms).await?;
        write_risk_sample(&mut tx, project_id, now_ms).await?;
        tx.commit().await.ctx("committing re-evaluated findings")?;
        Ok(changes)
    }
}
