//! Lookups of versions and snapshots, and the component inventory of a snapshot.

use sqlx::any::AnyRow;

use crate::error::{Context as _, Result, StoreError};
use crate::projects::{ProjectVersion, like_literal, version_from_row};
use crate::snapshots::{SNAPSHOT_COLUMNS, Snapshot, snapshot_from_row};
use crate::{Page, PageRequest, Store, get};

/// A stored component of a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentRow {
    /// Row id.
    pub id: i64,
    /// The snapshot.
    pub snapshot_id: i64,
    /// Identifier unique within the snapshot.
    pub bom_ref: String,
    /// Package URL, when known.
    pub purl: Option<String>,
    /// Name.
    pub name: String,
    /// Version exactly as the document writes it.
    pub version: Option<String>,
    /// OSV ecosystem; `None` when no ecosystem fits.
    pub ecosystem: Option<String>,
    /// Component kind, e.g. `library`.
    pub kind: String,
    /// GPU facts as JSON.
    pub gpu: Option<serde_json::Value>,
    /// Model facts as JSON.
    pub model: Option<serde_json::Value>,
}

/// Which components [`Store::list_components`] returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ComponentClass {
    /// All of them.
    #[default]
    Any,
    /// Those with GPU facts.
    Gpu,
    /// Those with model facts.
    Model,
    /// Plain packages: neither GPU nor model facts.
    Package,
}

impl ComponentClass {
    /// A fixed SQL condition on the components `c`.
    fn condition(self) -> &'static str {
        match self {
            ComponentClass::Any => "1 = 1",
            ComponentClass::Gpu => "c.gpu IS NOT NULL",
            ComponentClass::Model => "c.model IS NOT NULL",
            ComponentClass::Package => "c.gpu IS NULL AND c.model IS NULL",
        }
    }
}

/// Filter and page of [`Store::list_components`].
#[derive(Clone, Debug, Default)]
pub struct ComponentFilter {
    /// Which class of components.
    pub class: ComponentClass,
    /// Only components whose name contains this text (ASCII case-insensitive).
    pub name_contains: Option<String>,
    /// Which page.
    pub page: PageRequest,
}

fn json_column(row: &AnyRow, column: &'static str) -> Result<Option<serde_json::Value>> {
    get::<Option<String>>(row, column)?
        .map(|text| serde_json::from_str(&text).map_err(|_| StoreError::corrupt(column, &text)))
        .transpose()
}

fn component_from_row(row: &AnyRow) -> Result<ComponentRow> {
    let ecosystem: String = get(row, "ecosystem")?;
    Ok(ComponentRow {
        id: get(row, "id")?,
        snapshot_id: get(row, "snapshot_id")?,
        bom_ref: get(row, "bom_ref")?,
        purl: get(row, "purl")?,
        name: get(row, "name")?,
        version: get(row, "version")?,
        // Ingest stores "no ecosystem" as "" (the column is NOT NULL since 0001).
        ecosystem: Some(ecosystem).filter(|e| !e.is_empty()),
        kind: get(row, "kind")?,
        gpu: json_column(row, "gpu")?,
        model: json_column(row, "model")?,
    })
}

impl Store {
    /// One project version by id.
    pub async fn get_version(&self, id: i64) -> Result<Option<ProjectVersion>> {
        sqlx::query(
            "SELECT id, project_id, version, created_at FROM project_versions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a project version")?
        .as_ref()
        .map(version_from_row)
        .transpose()
    }

    /// Whether the version exists and belongs to a project of `teams` (`None`: any project).
    pub async fn version_visible(&self, id: i64, teams: Option<&[i64]>) -> Result<bool> {
        let row = sqlx::query(
            "SELECT p.team_id FROM project_versions v JOIN projects p ON p.id = v.project_id \
             WHERE v.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a project version")?;
        let Some(row) = row else { return Ok(false) };
        let team: Option<i64> = get(&row, "team_id")?;
        Ok(match teams {
            None => true,
            Some(teams) => team.is_some_and(|t| teams.contains(&t)),
        })
    }

    /// The newest (highest id) snapshot of a project version.
    pub async fn latest_snapshot(&self, project_version_id: i64) -> Result<Option<Snapshot>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM sbom_snapshots WHERE project_version_id = $1 \
             ORDER BY id DESC LIMIT 1"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_version_id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading the newest snapshot")?
            .as_ref()
            .map(snapshot_from_row)
            .transpose()
    }

    /// One snapshot by id (without its document).
    pub async fn get_snapshot(&self, id: i64) -> Result<Option<Snapshot>> {
        let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM sbom_snapshots WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a snapshot")?
            .as_ref()
            .map(snapshot_from_row)
            .transpose()
    }

    /// The newest snapshot of every project version with an id above `after_id`, by id, at
    /// most `limit` (capped at [`PageRequest::MAX_LIMIT`]): pass the last id seen to walk all
    /// current snapshots in pages, e.g. to re-evaluate them after a database update.
    pub async fn current_snapshots(&self, after_id: i64, limit: u32) -> Result<Vec<Snapshot>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM sbom_snapshots s WHERE s.id > $1 \
             AND s.id = (SELECT MAX(s2.id) FROM sbom_snapshots s2 \
             WHERE s2.project_version_id = s.project_version_id) ORDER BY s.id LIMIT $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after_id)
            .bind(i64::from(limit.min(PageRequest::MAX_LIMIT)))
            .fetch_all(&self.pool)
            .await
            .ctx("listing current snapshots")?
            .iter()
            .map(snapshot_from_row)
            .collect()
    }

    /// Components of a snapshot matching `filter`, by name, version and id, one page, with the
    /// total count.
    pub async fn list_components(
        &self,
        snapshot_id: i64,
        filter: &ComponentFilter,
    ) -> Result<Page<ComponentRow>> {
        // $1 snapshot, $2 name pattern, $3 limit, $4 offset.
        let where_clause = format!(
            "c.snapshot_id = $1 AND ($2 IS NULL OR LOWER(c.name) LIKE LOWER($2) ESCAPE '\\') \
             AND {}",
            filter.class.condition()
        );
        let pattern = filter.name_contains.as_deref().map(like_literal);
        let total: i64 = get(
            &sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n FROM components c WHERE {where_clause}"
            )))
            .bind(snapshot_id)
            .bind(pattern.as_deref())
            .fetch_one(&self.pool)
            .await
            .ctx("counting components")?,
            "n",
        )?;
        // COALESCE: SQLite sorts NULLs first and PostgreSQL last; versionless ones go first.
        let items = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.snapshot_id, c.bom_ref, c.purl, c.name, c.version, c.ecosystem, \
             c.kind, c.gpu, c.model FROM components c WHERE {where_clause} \
             ORDER BY c.name, COALESCE(c.version, ''), c.id LIMIT $3 OFFSET $4"
        )))
        .bind(snapshot_id)
        .bind(pattern.as_deref())
        .bind(filter.page.limit())
        .bind(filter.page.offset())
        .fetch_all(&self.pool)
        .await
        .ctx("listing components")?
        .iter()
        .map(component_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
