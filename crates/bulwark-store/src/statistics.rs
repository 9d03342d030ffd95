//! Planner statistics where nothing else keeps them: a PostgreSQL server running with
//! `autovacuum = off` never analyzes the store's tables, and its planner then picks sequential
//! scans from default estimates (project pages ran 2.6× slower on such a server).

use crate::error::{Context as _, Result};
use crate::{Backend, Store, get};

/// The tables whose statistics the read queries' plans depend on. `ANALYZE` names come from
/// this list only, never from the database's answer.
const TABLES: &[&str] = &[
    "projects",
    "project_tags",
    "project_versions",
    "sbom_snapshots",
    "components",
    "findings",
    "triage",
    "events",
    "risk_samples",
    "jobs",
];

impl Store {
    /// On PostgreSQL, analyzes the store's tables that autovacuum would have analyzed by now
    /// had it been on (server-wide, or for the table: `autovacuum_enabled = false`): those
    /// changed by more than `autovacuum_analyze_threshold` rows plus
    /// `autovacuum_analyze_scale_factor` of their size (the server-wide settings) since their
    /// last analysis. Returns the tables analyzed; where autovacuum runs, and on SQLite, none.
    pub async fn refresh_statistics(&self) -> Result<Vec<&'static str>> {
        if self.backend != Backend::Postgres {
            return Ok(Vec::new());
        }
        // Only tables this role owns: ANALYZE skips others with a warning, and they would be
        // found stale again on every tick.
        let stale = sqlx::query(
            "SELECT s.relname::text AS name FROM pg_stat_user_tables s \
             JOIN pg_class c ON c.oid = s.relid \
             WHERE s.schemaname = current_schema() \
             AND pg_has_role(current_user, c.relowner, 'USAGE') \
             AND (current_setting('autovacuum') = 'off' OR EXISTS ( \
                 SELECT 1 FROM unnest(c.reloptions) AS o(option) \
                 WHERE lower(o.option) IN ('autovacuum_enabled=false', \
                     'autovacuum_enabled=off', 'autovacuum_enabled=no', 'autovacuum_enabled=0'))) \
             AND s.n_mod_since_analyze > \
                 current_setting('autovacuum_analyze_threshold')::float8 \
                 + current_setting('autovacuum_analyze_scale_factor')::float8 * s.n_live_tup",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading table statistics")?;
        let mut analyzed = Vec::new();
        for row in &stale {
            let name: String = get(row, "name")?;
            let Some(table) = TABLES.iter().copied().find(|t| *t == name) else {
                continue;
            };
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
                .execute(&self.pool)
                .await
                .ctx("analyzing a table")?;
            analyzed.push(table);
        }
        Ok(analyzed)
    }
}
