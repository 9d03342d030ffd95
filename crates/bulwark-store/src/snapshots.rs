//! SBOM snapshots and their ingestion: one transaction per snapshot, with its components and
//! findings, so a crash or an error mid-upload leaves nothing behind.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError, classify_write};
use crate::events::{Event, FindingEvent, NewEvent, insert_events};
use crate::findings::{FindingKind, Severity};
use crate::portfolio::write_risk_sample;
use crate::projects::{
    NewProject, Project, ProjectVersion, insert_project, project_by_id, upsert_version,
    version_from_row,
};
use crate::{Backend, Binds, Store, from_millis, get, now, to_millis};

/// Rows per multi-row `INSERT`: few round trips, and far below SQLite's (32,766) and
/// PostgreSQL's (65,535) bound-parameter limits at 9 parameters per row.
const CHUNK: usize = 500;

/// The document format of a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbomFormat {
    /// CycloneDX JSON.
    CycloneDxJson,
    /// CycloneDX XML.
    CycloneDxXml,
    /// SPDX 2.x/3.x JSON.
    SpdxJson,
}

impl SbomFormat {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::CycloneDxJson => "cyclonedx-json",
            SbomFormat::CycloneDxXml => "cyclonedx-xml",
            SbomFormat::SpdxJson => "spdx-json",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<SbomFormat> {
        Some(match s {
            "cyclonedx-json" => SbomFormat::CycloneDxJson,
            "cyclonedx-xml" => SbomFormat::CycloneDxXml,
            "spdx-json" => SbomFormat::SpdxJson,
            _ => return None,
        })
    }
}

/// A component of a snapshot being ingested.
#[derive(Clone, Debug, PartialEq)]
pub struct NewComponent {
    /// Identifier unique within the snapshot (the CycloneDX `bom-ref`, the SPDX `SPDXID`).
    pub bom_ref: String,
    /// Package URL, when known.
    pub purl: Option<String>,
    /// Name.
    pub name: String,
    /// Version exactly as the document writes it.
    pub version: Option<String>,
    /// OSV ecosystem (`PyPI`, `Debian:12`...); `None` when no ecosystem fits (CUDA, models).
    pub ecosystem: Option<String>,
    /// Component kind, e.g. `library`, `machine-learning-model`.
    pub kind: String,
    /// GPU facts (CUDA version, driver, compute capabilities...) as JSON.
    pub gpu: Option<serde_json::Value>,
    /// Model facts (format, hashes, signatures...) as JSON.
    pub model: Option<serde_json::Value>,
}

/// A finding of a snapshot being ingested.
#[derive(Clone, Debug, PartialEq)]
pub struct NewFinding {
    /// Advisory or rule id (`GHSA-...`, `CVE-...`, `BULWARK-PICKLE-001`).
    pub id: String,
    /// Vulnerability or artifact finding.
    pub kind: FindingKind,
    /// Other ids of the same advisory.
    pub aliases: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// Short description.
    pub title: Option<String>,
    /// The [`NewComponent::bom_ref`] it is about.
    pub component_ref: String,
}

/// Where [`Store::ingest_snapshot`] stores a snapshot.
#[derive(Clone, Debug)]
pub enum Destination<'a> {
    /// An existing project version.
    Version(i64),
    /// The version called `version` of an existing project, created when new.
    VersionOf {
        /// The project, as the caller found it (not read again).
        project: Project,
        /// The version's name.
        version: &'a str,
    },
    /// A project created with the snapshot, and its first version: nothing of it is stored
    /// unless the snapshot is. A project of that name created meanwhile is a
    /// [`StoreError::Conflict`]; the caller looks it up and retries with
    /// [`Destination::VersionOf`].
    NewProject {
        /// The project to create.
        project: NewProject<'a>,
        /// Its version's name.
        version: &'a str,
    },
}

/// Input of [`Store::ingest_snapshot`].
#[derive(Clone, Debug)]
pub struct NewSnapshot<'a> {
    /// Where it goes.
    pub destination: Destination<'a>,
    /// The document's format.
    pub format: SbomFormat,
    /// The original document bytes, stored as uploaded.
    pub document: Vec<u8>,
    /// Who uploaded it (key name or prefix).
    pub uploaded_by: String,
    /// Its components.
    pub components: Vec<NewComponent>,
    /// Its findings.
    pub findings: Vec<NewFinding>,
}

/// A stored snapshot (without its document; see [`Store::snapshot_document`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Row id.
    pub id: i64,
    /// The project version.
    pub project_version_id: i64,
    /// Format.
    pub format: SbomFormat,
    /// Lower-case hex SHA-256 of the document.
    pub sha256: String,
    /// When it was stored.
    pub uploaded_at: OffsetDateTime,
    /// Who uploaded it.
    pub uploaded_by: String,
}

/// What [`Store::ingest_snapshot`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestSummary {
    /// The project it was stored in.
    pub project: Project,
    /// The project version it was stored in.
    pub version: ProjectVersion,
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Components stored.
    pub components: usize,
    /// Findings stored.
    pub findings: usize,
    /// Finding identities the project never had before (one `finding_new` event each), most
    /// severe first.
    pub new_findings: Vec<FindingEvent>,
}

/// A finding to insert, its component resolved in the snapshot.
pub(crate) struct FindingInsert<'a> {
    pub(crate) finding: &'a NewFinding,
    pub(crate) component_id: i64,
    pub(crate) component_name: &'a str,
    /// `""` when the component has no ecosystem.
    pub(crate) component_ecosystem: &'a str,
}

/// A finding as inserted, with the `first_seen` the database gave it.
pub(crate) struct InsertedFinding {
    pub(crate) event: FindingEvent,
    pub(crate) first_seen_ms: i64,
}

/// Inserts findings into `snapshot_id` with chunked multi-row `INSERT`s. Each finding's
/// `first_seen` is the earliest `first_seen` of its identity among the project's findings
/// already stored (the rows inserted by earlier chunks of this call included), or `now_ms`.
pub(crate) async fn insert_findings(
    conn: &mut AnyConnection,
    backend: Backend,
    snapshot_id: i64,
    project_id: i64,
    now_ms: i64,
    findings: &[FindingInsert<'_>],
) -> Result<Vec<InsertedFinding>> {
    let mut inserted = Vec::with_capacity(findings.len());
    for chunk in findings.chunks(CHUNK) {
        // One correlated subquery over a VALUES table (planned once), rather than one per
        // row (PostgreSQL would plan 500 subqueries per statement). `columnN` is the name both
        // backends give the N-th VALUES column: 1 component, 2 id, 3 kind, 4 aliases,
        // 5 severity, 6 rank, 7 title, 8 component name, 9 ecosystem. Binds in textual order:
        // snapshot, project, project, now, then 9 per row.
        let mut binds = Binds::new(backend);
        let mut sql = String::from(
            "INSERT INTO findings (snapshot_id, project_id, first_seen, component_id, \
             finding_id, kind, aliases, severity, severity_rank, title, component_name, \
             component_ecosystem, component_version, component_purl) SELECT ",
        );
        binds.push(&mut sql);
        sql.push_str(", ");
        binds.push(&mut sql);
        sql.push_str(", COALESCE((SELECT MIN(o.first_seen) FROM findings o WHERE o.project_id = ");
        binds.push(&mut sql);
        sql.push_str(
            " AND o.finding_id = v.column2 AND o.component_name = v.column8 \
             AND o.component_ecosystem = v.column9), ",
        );
        binds.push(&mut sql);
        sql.push_str(
            "), v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, \
             v.column8, v.column9, \
             (SELECT c.version FROM components c WHERE c.id = v.column1), \
             (SELECT c.purl FROM components c WHERE c.id = v.column1) FROM (VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            binds.push_tuple(&mut sql, 9);
        }
        // The component's version and purl are copied from its row (migration 0003), by
        // subqueries rather than a join, which would reorder the rows and so their ids.
        sql.push_str(") AS v");
        sql.push_str(
            " RETURNING finding_id, component_name, component_ecosystem, severity, title, \
             first_seen",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(snapshot_id)
            .bind(project_id)
            .bind(project_id)
            .bind(now_ms);
        for row in chunk {
            let f = row.finding;
            let aliases = serde_json::to_string(&f.aliases)
                .map_err(|e| StoreError::invalid("finding aliases", e.to_string()))?;
            query = query
                .bind(row.component_id)
                .bind(f.id.as_str())
                .bind(f.kind.as_str())
                .bind(aliases)
                .bind(f.severity.as_str())
                .bind(f.severity.rank())
                .bind(f.title.as_deref())
                .bind(row.component_name)
                .bind(row.component_ecosystem);
        }
        for row in query
            .fetch_all(&mut *conn)
            .await
            .ctx("inserting findings")?
        {
            let severity: String = get(&row, "severity")?;
            inserted.push(InsertedFinding {
                event: FindingEvent {
                    finding_id: get(&row, "finding_id")?,
                    component_name: get(&row, "component_name")?,
                    component_ecosystem: get(&row, "component_ecosystem")?,
                    severity: Severity::parse(&severity)
                        .ok_or_else(|| StoreError::corrupt("findings.severity", &severity))?,
                    title: get(&row, "title")?,
                },
                first_seen_ms: get(&row, "first_seen")?,
            });
        }
    }
    Ok(inserted)
}

fn json_text(column: &'static str, value: Option<&serde_json::Value>) -> Result<Option<String>> {
    value
        .map(|v| serde_json::to_string(v).map_err(|e| StoreError::invalid(column, e.to_string())))
        .transpose()
}

/// The columns [`snapshot_from_row`] reads.
pub(crate) const SNAPSHOT_COLUMNS: &str =
    "id, project_version_id, format, sha256, uploaded_at, uploaded_by";

pub(crate) fn snapshot_from_row(row: &AnyRow) -> Result<Snapshot> {
    let format: String = get(row, "format")?;
    Ok(Snapshot {
        id: get(row, "id")?,
        project_version_id: get(row, "project_version_id")?,
        format: SbomFormat::parse(&format)
            .ok_or_else(|| StoreError::corrupt("sbom_snapshots.format", &format))?,
        sha256: get(row, "sha256")?,
        uploaded_at: from_millis("sbom_snapshots.uploaded_at", get(row, "uploaded_at")?)?,
        uploaded_by: get(row, "uploaded_by")?,
    })
}

impl Store {
    /// Stores a snapshot, its components and its findings in one transaction, with the project
    /// version and project it creates (see [`Destination`]).
    ///
    /// A finding's `first_seen` is the earliest `first_seen` of the same finding identity
    /// (project, id, component name and ecosystem) in any earlier snapshot of the project, or
    /// now. The same transaction records a `snapshot_uploaded` event, a `finding_new` event
    /// per identity the project never had before, and a risk sample of the project. Errors
    /// leave the store unchanged.
    pub async fn ingest_snapshot(&self, new: &NewSnapshot<'_>) -> Result<IngestSummary> {
        // Cheap checks before taking the write lock.
        let refs: HashSet<&str> = new.components.iter().map(|c| c.bom_ref.as_str()).collect();
        if let Some(f) = new
            .findings
            .iter()
            .find(|f| !refs.contains(f.component_ref.as_str()))
        {
            return Err(StoreError::invalid(
                "finding",
                format!("{} refers to unknown component {:?}", f.id, f.component_ref),
            ));
        }
        let uploaded_at = to_millis(now());
        let sha256 = hex::encode(Sha256::digest(&new.document));

        let mut tx = self.begin_write().await?;
        let (project, version) = match &new.destination {
            &Destination::Version(id) => {
                let row = sqlx::query(
                    "SELECT id, project_id, version, created_at FROM project_versions \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .ctx("reading the project version")?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("project version {id}"),
                })?;
                let version = version_from_row(&row)?;
                let project = project_by_id(&mut tx, version.project_id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        what: format!("project {}", version.project_id),
                    })?;
                (project, version)
            }
            Destination::VersionOf { project, version } => (
                project.clone(),
                upsert_version(&mut tx, project.id, version).await?,
            ),
            Destination::NewProject { project, version } => {
                let project = insert_project(&mut tx, project).await?;
                let version = upsert_version(&mut tx, project.id, version).await?;
                (project, version)
            }
        };
        let project_id = project.id;
        let row = sqlx::query(
            "INSERT INTO sbom_snapshots \
             (project_version_id, format, sha256, document, uploaded_at, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, project_version_id, format, sha256, uploaded_at, uploaded_by",
        )
        .bind(version.id)
        .bind(new.format.as_str())
        .bind(&sha256)
        .bind(new.document.as_slice())
        .bind(uploaded_at)
        .bind(new.uploaded_by.as_str())
        .fetch_one(&mut *tx)
        .await
        .ctx("inserting a snapshot")?;
        let snapshot = snapshot_from_row(&row)?;

        let mut component_ids: HashMap<String, i64> = HashMap::with_capacity(new.components.len());
        for chunk in new.components.chunks(CHUNK) {
            let mut binds = Binds::new(self.backend);
            let mut sql = String::from(
                "INSERT INTO components \
                 (snapshot_id, bom_ref, purl, name, version, ecosystem, kind, gpu, model) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                binds.push_tuple(&mut sql, 9);
            }
            sql.push_str(" RETURNING id, bom_ref");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                query = query
                    .bind(snapshot.id)
                    .bind(c.bom_ref.as_str())
                    .bind(c.purl.as_deref())
                    .bind(c.name.as_str())
                    .bind(c.version.as_deref())
                    .bind(c.ecosystem.as_deref().unwrap_or_default())
                    .bind(c.kind.as_str())
                    .bind(json_text("component gpu facts", c.gpu.as_ref())?)
                    .bind(json_text("component model facts", c.model.as_ref())?);
            }
            let rows = query.fetch_all(&mut *tx).await.map_err(|e| {
                classify_write(
                    e,
                    "inserting components",
                    || "a component with the same bom-ref in this snapshot".to_owned(),
                    || format!("snapshot {}", snapshot.id),
                )
            })?;
            for row in &rows {
                component_ids.insert(get(row, "bom_ref")?, get(row, "id")?);
            }
        }

        let by_ref: HashMap<&str, &NewComponent> = new
            .components
            .iter()
            .map(|c| (c.bom_ref.as_str(), c))
            .collect();
        let mut rows = Vec::with_capacity(new.findings.len());
        for f in &new.findings {
            let (Some(component_id), Some(component)) = (
                component_ids.get(&f.component_ref),
                by_ref.get(f.component_ref.as_str()),
            ) else {
                // Checked above; unreachable unless the components changed under us.
                return Err(StoreError::invalid(
                    "finding",
                    format!("{} refers to unknown component {:?}", f.id, f.component_ref),
                ));
            };
            rows.push(FindingInsert {
                finding: f,
                component_id: *component_id,
                component_name: &component.name,
                component_ecosystem: component.ecosystem.as_deref().unwrap_or_default(),
            });
        }
        let inserted = insert_findings(
            &mut tx,
            self.backend,
            snapshot.id,
            project_id,
            uploaded_at,
            &rows,
        )
        .await?;
        let new_findings = FindingEvent::dedup(
            inserted
                .into_iter()
                .filter(|f| f.first_seen_ms == uploaded_at)
                .map(|f| f.event),
        );

        let mut events = Vec::with_capacity(new_findings.len() + 1);
        events.push(NewEvent {
            project_id,
            project_version_id: Some(snapshot.project_version_id),
            snapshot_id: Some(snapshot.id),
            kind: Event::SNAPSHOT_UPLOADED.to_owned(),
            detail: Some(serde_json::json!({
                "actor": new.uploaded_by,
                "format": new.format.as_str(),
                "sha256": snapshot.sha256,
                "components": new.components.len(),
                "findings": new.findings.len(),
                "new_findings": new_findings.len(),
            })),
            ..NewEvent::default()
        });
        events.extend(new_findings.iter().map(|f| {
            f.to_new_event(
                Event::FINDING_NEW,
                project_id,
                snapshot.project_version_id,
                snapshot.id,
                &new.uploaded_by,
            )
        }));
        insert_events(&mut tx, self.backend, &events, uploaded_at).await?;
        write_risk_sample(&mut tx, project_id, uploaded_at).await?;
        tx.commit().await.ctx("committing a snapshot")?;
        Ok(IngestSummary {
            project,
            version,
            snapshot,
            components: new.components.len(),
            findings: new.findings.len(),
            new_findings,
        })
    }

    /// Snapshots of a project version, newest first.
    pub async fn list_snapshots(&self, project_version_id: i64) -> Result<Vec<Snapshot>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM sbom_snapshots WHERE project_version_id = $1 \
             ORDER BY id DESC"
        )))
        .bind(project_version_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing snapshots")?
        .iter()
        .map(snapshot_from_row)
        .collect()
    }

    /// The original document bytes of a snapshot.
    pub async fn snapshot_document(&self, snapshot_id: i64) -> Result<Option<Vec<u8>>> {
        sqlx::query("SELECT document FROM sbom_snapshots WHERE id = $1")
            .bind(snapshot_id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a snapshot document")?
            .map(|row| get(&row, "document"))
            .transpose()
    }

    /// Number of components stored for a snapshot.
    pub async fn count_components(&self, snapshot_id: i64) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM components WHERE snapshot_id = $1")
            .bind(snapshot_id)
            .fetch_one(&self.pool)
            .await
            .ctx("counting components")?;
        Ok(u64::try_from(get::<i64>(&row, "n")?).unwrap_or_default())
    }
}
