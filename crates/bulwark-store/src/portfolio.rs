//! Portfolio views: the risk of each project, totals across projects, and the risk trend.
//!
//! A project's *risk* is the findings of its current snapshot — the newest snapshot of its
//! newest version, where the newest version is the one with the newest snapshot, so simply
//! the project's highest snapshot id — minus those closed by triage
//! ([`TriageState::CLOSING`](crate::TriageState::CLOSING)) and those under an unexpired
//! suppression. Counts are computed by the database (`GROUP BY`), a page of projects at a time.

use std::collections::HashMap;

use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::{Date, OffsetDateTime, Time};

use crate::error::{Context as _, Result};
use crate::findings::{Severity, open_state_sql};
use crate::projects::{Project, ProjectFilter, ProjectVersion};
use crate::remediation::Sla;
use crate::{Page, Store, from_millis, get, now, placeholders, to_millis};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Findings per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
    /// Unknown severity.
    pub unknown: u64,
}

impl SeverityCounts {
    /// All findings counted.
    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }

    /// The count of one severity.
    pub fn get(&self, severity: Severity) -> u64 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }

    fn as_array(&self) -> [u64; 5] {
        [
            self.critical,
            self.high,
            self.medium,
            self.low,
            self.unknown,
        ]
    }

    fn from_array([critical, high, medium, low, unknown]: [u64; 5]) -> Self {
        SeverityCounts {
            critical,
            high,
            medium,
            low,
            unknown,
        }
    }

    /// Reads the `critical` .. `unknown` columns written by [`count_columns`].
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(SeverityCounts {
            critical: count(row, "critical")?,
            high: count(row, "high")?,
            medium: count(row, "medium")?,
            low: count(row, "low")?,
            unknown: count(row, "unknown")?,
        })
    }
}

/// What [`Store::portfolio`] reads per current snapshot.
struct SnapshotRisk {
    version: ProjectVersion,
    counts: SeverityCounts,
    overdue: u64,
    uploaded_at: OffsetDateTime,
}

/// The risk of one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectRisk {
    /// The project.
    pub project: Project,
    /// Its newest version (the one with the newest snapshot); `None` before any upload.
    pub latest_version: Option<ProjectVersion>,
    /// Open, unsuppressed findings of that version's newest snapshot.
    pub counts: SeverityCounts,
    /// Of those, the ones past their SLA deadline.
    pub overdue: u64,
    /// When that snapshot was uploaded.
    pub last_upload: Option<OffsetDateTime>,
}

/// Totals over every project a caller may see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioTotals {
    /// Projects.
    pub projects: u64,
    /// Versions of those projects.
    pub versions: u64,
    /// Components of the projects' current snapshots.
    pub components: u64,
    /// Risk findings of the current snapshots, per severity.
    pub counts: SeverityCounts,
    /// Of those, the ones past their SLA deadline.
    pub overdue: u64,
    /// Of those, the ones nobody has triaged yet.
    pub untriaged: u64,
}

/// One day of the risk trend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrendPoint {
    /// The UTC day.
    pub day: Date,
    /// The sum over projects of each project's risk at the end of that day.
    pub counts: SeverityCounts,
}

fn count(row: &AnyRow, column: &'static str) -> Result<u64> {
    let n: i64 = get(row, column)?;
    Ok(u64::try_from(n).unwrap_or_default())
}

/// `COUNT` columns named `critical` .. `unknown` over the findings `f` (NULL rows, from an
/// outer join, count nowhere).
fn count_columns(f: &str) -> String {
    count_columns_if(f, None)
}

/// [`count_columns`] counting only the rows where `condition` (SQL) holds, if given.
fn count_columns_if(f: &str, condition: Option<&str>) -> String {
    let condition = condition.map(|c| format!(" AND {c}")).unwrap_or_default();
    [
        (Severity::Critical, "critical"),
        (Severity::High, "high"),
        (Severity::Medium, "medium"),
        (Severity::Low, "low"),
        (Severity::Unknown, "unknown"),
    ]
    .iter()
    .map(|(s, name)| {
        format!(
            "COUNT(CASE WHEN {f}.severity_rank = {}{condition} THEN 1 END) AS {name}",
            s.rank()
        )
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// The risk findings of the current snapshots listed in a `cur (project_id, snapshot_id)`
/// CTE: `WITH` clauses `cur` (from `cur_sql`) and `risk (project_id, severity_rank,
/// first_seen, state)`. `$1` is now (for suppressions).
fn risk_ctes(cur_sql: &str) -> String {
    format!(
        "WITH cur AS ({cur_sql}), \
         risk AS (SELECT cur.project_id, f.severity_rank, f.first_seen, t.state \
         FROM cur JOIN findings f ON f.snapshot_id = cur.snapshot_id \
         LEFT JOIN triage t ON t.project_id = f.project_id AND t.finding_id = f.finding_id \
         AND t.component_name = f.component_name \
         AND t.component_ecosystem = f.component_ecosystem \
         WHERE {} AND (t.suppressed_until IS NULL OR t.suppressed_until <= $1))",
        open_state_sql("t")
    )
}

/// `p.team_id IN ($first, ...)` for `Some(teams)`, nothing for `None` (all projects).
fn team_condition(teams: Option<&[i64]>, first: usize) -> Option<String> {
    teams.map(|t| format!("p.team_id IN ({})", placeholders(first, t.len())))
}

/// Appends the risk sample of `project_id` at `at_ms`, computed from its current snapshot,
/// inside the caller's transaction (ingest, re-evaluation, triage).
pub(crate) async fn write_risk_sample(
    conn: &mut AnyConnection,
    project_id: i64,
    at_ms: i64,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO risk_samples (project_id, at, critical, high, medium, low, unknown) \
         SELECT $2, $1, {} FROM findings f \
         LEFT JOIN triage t ON t.project_id = f.project_id AND t.finding_id = f.finding_id \
         AND t.component_name = f.component_name \
         AND t.component_ecosystem = f.component_ecosystem \
         WHERE f.snapshot_id = (SELECT MAX(s.id) FROM sbom_snapshots s \
         JOIN project_versions v ON v.id = s.project_version_id WHERE v.project_id = $2) \
         AND {} AND (t.suppressed_until IS NULL OR t.suppressed_until <= $1)",
        count_columns("f"),
        open_state_sql("t")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(at_ms)
        .bind(project_id)
        .execute(conn)
        .await
        .ctx("recording a risk sample")?;
    Ok(())
}

impl Store {
    /// Projects as [`Store::list_projects`] lists them (same filter, order and page), each
    /// with its risk. Two queries beyond the listing, whatever the page size.
    pub async fn portfolio(&self, filter: &ProjectFilter, sla: &Sla) -> Result<Page<ProjectRisk>> {
        let (projects, total) = self.project_page(filter).await?;
        let snapshot_ids: Vec<i64> = projects.iter().filter_map(|(_, s)| *s).collect();
        let mut risks = self.snapshot_risks(&snapshot_ids, sla).await?;
        let items = projects
            .into_iter()
            .map(
                |(project, snapshot)| match snapshot.and_then(|s| risks.remove(&s)) {
                    Some(risk) => ProjectRisk {
                        project,
                        latest_version: Some(risk.version),
                        counts: risk.counts,
                        overdue: risk.overdue,
                        last_upload: Some(risk.uploaded_at),
                    },
                    None => ProjectRisk {
                        project,
                        latest_version: None,
                        counts: SeverityCounts::default(),
                        overdue: 0,
                        last_upload: None,
                    },
                },
            )
            .collect();
        Ok(Page { items, total })
    }

    /// The version, upload time and risk counts of each listed snapshot, in one query that
    /// starts from the snapshot ids, so only their findings are read.
    async fn snapshot_risks(
        &self,
        snapshot_ids: &[i64],
        sla: &Sla,
    ) -> Result<HashMap<i64, SnapshotRisk>> {
        let mut risks = HashMap::new();
        if snapshot_ids.is_empty() {
            return Ok(risks);
        }
        // $1 now, $2.. cutoffs, then the snapshot ids.
        let ids_from = 2 + Sla::CUTOFFS;
        let risky = format!(
            "f.id IS NOT NULL AND {} AND (t.suppressed_until IS NULL OR t.suppressed_until <= $1)",
            open_state_sql("t")
        );
        // The id list is repeated on `findings`: PostgreSQL does not carry an `IN` list across
        // the join, and without it plans a scan of every finding (2× slower at 15,000).
        let ids = placeholders(ids_from, snapshot_ids.len());
        let sql = format!(
            "SELECT s.id AS snapshot_id, s.uploaded_at, v.id AS version_id, v.project_id, \
             v.version, v.created_at AS version_created_at, {}, \
             COUNT(CASE WHEN {risky} AND {} THEN 1 END) AS overdue \
             FROM sbom_snapshots s JOIN project_versions v ON v.id = s.project_version_id \
             LEFT JOIN findings f ON f.snapshot_id = s.id AND f.snapshot_id IN ({ids}) \
             LEFT JOIN triage t ON t.project_id = f.project_id AND t.finding_id = f.finding_id \
             AND t.component_name = f.component_name \
             AND t.component_ecosystem = f.component_ecosystem \
             WHERE s.id IN ({ids}) \
             GROUP BY s.id, s.uploaded_at, v.id, v.project_id, v.version, v.created_at",
            count_columns_if("f", Some(&risky)),
            Sla::past_due_sql("f", 2),
        );
        let now_ms = to_millis(now());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now_ms);
        for cutoff in sla.cutoffs(now_ms) {
            query = query.bind(cutoff);
        }
        for id in snapshot_ids {
            query = query.bind(*id);
        }
        for row in query
            .fetch_all(&self.pool)
            .await
            .ctx("counting project risk")?
        {
            let version = ProjectVersion {
                id: get(&row, "version_id")?,
                project_id: get(&row, "project_id")?,
                version: get(&row, "version")?,
                created_at: from_millis(
                    "project_versions.created_at",
                    get(&row, "version_created_at")?,
                )?,
            };
            risks.insert(
                get(&row, "snapshot_id")?,
                SnapshotRisk {
                    version,
                    counts: SeverityCounts::from_row(&row)?,
                    overdue: count(&row, "overdue")?,
                    uploaded_at: from_millis(
                        "sbom_snapshots.uploaded_at",
                        get(&row, "uploaded_at")?,
                    )?,
                },
            );
        }
        Ok(risks)
    }

    /// Totals over the projects of `teams` (`None`: all projects, for admins), in one query.
    pub async fn portfolio_totals(
        &self,
        teams: Option<&[i64]>,
        sla: &Sla,
    ) -> Result<PortfolioTotals> {
        if teams.is_some_and(<[i64]>::is_empty) {
            return Ok(PortfolioTotals::default());
        }
        // $1 now, $2.. cutoffs, then the teams.
        let teams_from = 2 + Sla::CUTOFFS;
        let project_where = team_condition(teams, teams_from)
            .map(|cond| format!("WHERE {cond}"))
            .unwrap_or_default();
        let visible = format!("SELECT p.id FROM projects p {project_where}");
        let cur = format!(
            "SELECT v.project_id, MAX(s.id) AS snapshot_id FROM project_versions v \
             JOIN sbom_snapshots s ON s.project_version_id = v.id \
             WHERE v.project_id IN ({visible}) GROUP BY v.project_id"
        );
        let sql = format!(
            "{} SELECT (SELECT COUNT(*) FROM projects p {project_where}) AS projects, \
             (SELECT COUNT(*) FROM project_versions v WHERE v.project_id IN ({visible})) \
             AS versions, \
             (SELECT COUNT(*) FROM components c \
             WHERE c.snapshot_id IN (SELECT snapshot_id FROM cur)) AS components, \
             {}, COUNT(CASE WHEN {} THEN 1 END) AS overdue, \
             COUNT(CASE WHEN r.state IS NULL THEN 1 END) AS untriaged FROM risk r",
            risk_ctes(&cur),
            count_columns("r"),
            Sla::past_due_sql("r", 2)
        );
        let now_ms = to_millis(now());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now_ms);
        for cutoff in sla.cutoffs(now_ms) {
            query = query.bind(cutoff);
        }
        for team in teams.unwrap_or_default() {
            query = query.bind(*team);
        }
        let row = query
            .fetch_one(&self.pool)
            .await
            .ctx("counting portfolio totals")?;
        Ok(PortfolioTotals {
            projects: count(&row, "projects")?,
            versions: count(&row, "versions")?,
            components: count(&row, "components")?,
            counts: SeverityCounts::from_row(&row)?,
            overdue: count(&row, "overdue")?,
            untriaged: count(&row, "untriaged")?,
        })
    }

    /// The risk of the projects of `teams` (`None`: all) over the last `days` UTC days, oldest
    /// first, today (the day of `now`) included: per day, the sum over projects of each
    /// project's latest risk sample at or before the end of that day. `days` is capped at
    /// [`Store::MAX_TREND_DAYS`].
    ///
    /// Two queries: the latest sample per project and day inside the window (deduplicated in
    /// the database), and each project's latest sample before it; folded here in
    /// O(samples + days).
    pub async fn risk_trend(
        &self,
        teams: Option<&[i64]>,
        days: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<TrendPoint>> {
        let days = days.min(Self::MAX_TREND_DAYS);
        if days == 0 || teams.is_some_and(<[i64]>::is_empty) {
            return Ok(Vec::new());
        }
        let today = now.to_offset(time::UtcOffset::UTC).date();
        let first_day = today
            .checked_sub(time::Duration::days(i64::from(days) - 1))
            .unwrap_or(Date::MIN);
        let start_ms = to_millis(first_day.with_time(Time::MIDNIGHT).assume_utc());
        let end_ms = start_ms.saturating_add(i64::from(days) * DAY_MS);
        let span = days as usize;

        // $1 window start, $2 window end, then the teams.
        let team_filter = team_condition(teams, 3)
            .map(|cond| format!("AND r.project_id IN (SELECT p.id FROM projects p WHERE {cond})"))
            .unwrap_or_default();
        let in_window = format!(
            "SELECT project_id, day, critical, high, medium, low, unknown FROM \
             (SELECT r.project_id, (r.at - $1) / {DAY_MS} AS day, r.critical, r.high, r.medium, \
             r.low, r.unknown, ROW_NUMBER() OVER (PARTITION BY r.project_id, (r.at - $1) / \
             {DAY_MS} ORDER BY r.at DESC, r.id DESC) AS rn \
             FROM risk_samples r WHERE r.at >= $1 AND r.at < $2 {team_filter}) w \
             WHERE w.rn = 1 ORDER BY project_id, day"
        );
        // $1 window start, then the teams.
        let project_filter = team_condition(teams, 2)
            .map(|cond| format!("WHERE {cond}"))
            .unwrap_or_default();
        let before = format!(
            "SELECT r.project_id, r.critical, r.high, r.medium, r.low, r.unknown \
             FROM projects p JOIN risk_samples r ON r.id = (SELECT r2.id FROM risk_samples r2 \
             WHERE r2.project_id = p.id AND r2.at < $1 ORDER BY r2.at DESC, r2.id DESC LIMIT 1) \
             {project_filter}"
        );
        let mut window_query = sqlx::query(sqlx::AssertSqlSafe(in_window))
            .bind(start_ms)
            .bind(end_ms);
        let mut before_query = sqlx::query(sqlx::AssertSqlSafe(before)).bind(start_ms);
        for team in teams.unwrap_or_default() {
            window_query = window_query.bind(*team);
            before_query = before_query.bind(*team);
        }
        let baseline: HashMap<i64, SeverityCounts> = before_query
            .fetch_all(&self.pool)
            .await
            .ctx("reading risk samples before the trend window")?
            .iter()
            .map(|row| Ok((get(row, "project_id")?, SeverityCounts::from_row(row)?)))
            .collect::<Result<_>>()?;
        let samples = window_query
            .fetch_all(&self.pool)
            .await
            .ctx("reading risk samples")?;

        // Each project contributes its current value from the day it changes onwards: add the
        // change to that day's delta, then sum the deltas up.
        let mut deltas = vec![[0i128; 5]; span];
        let mut previous: HashMap<i64, [u64; 5]> = HashMap::new();
        for (project, counts) in &baseline {
            add(&mut deltas[0], &[0; 5], &counts.as_array());
            previous.insert(*project, counts.as_array());
        }
        for row in &samples {
            let project: i64 = get(row, "project_id")?;
            let day: i64 = get(row, "day")?;
            let Some(day) = usize::try_from(day).ok().filter(|d| *d < span) else {
                continue;
            };
            let counts = SeverityCounts::from_row(row)?.as_array();
            let old = previous.insert(project, counts).unwrap_or([0; 5]);
            add(&mut deltas[day], &old, &counts);
        }
        let mut running = [0i128; 5];
        let mut points = Vec::with_capacity(span);
        let mut day = first_day;
        for delta in deltas {
            for (r, d) in running.iter_mut().zip(delta) {
                *r += d;
            }
            points.push(TrendPoint {
                day,
                counts: SeverityCounts::from_array(
                    running.map(|n| u64::try_from(n).unwrap_or_default()),
                ),
            });
            day = day.next_day().unwrap_or(day);
        }
        Ok(points)
    }

    /// The longest trend [`Store::risk_trend`] computes, in days (ten years).
    pub const MAX_TREND_DAYS: u32 = 3660;
}

/// `delta += new - old`, per severity.
fn add(delta: &mut [i128; 5], old: &[u64; 5], new: &[u64; 5]) {
    for ((d, o), n) in delta.iter_mut().zip(old).zip(new) {
        *d += i128::from(*n) - i128::from(*o);
    }
}

impl Store {
    /// The risk of one project, as [`Store::portfolio`] computes it for a page.
    pub async fn project_risk(&self, project: &Project, sla: &Sla) -> Result<ProjectRisk> {
        let filter = ProjectFilter {
            teams: None,
            tag: None,
            name_contains: Some(project.name.clone()),
            parent_id: project.parent_id,
            page: crate::PageRequest {
                limit: crate::PageRequest::MAX_LIMIT,
                offset: 0,
            },
            ..ProjectFilter::default()
        };
        // Names are unique among siblings, so the exact name is on the first page.
        let page = self.portfolio(&filter, sla).await?;
        Ok(page
            .items
            .into_iter()
            .find(|r| r.project.id == project.id)
            .unwrap_or_else(|| ProjectRisk {
                project: project.clone(),
                latest_version: None,
                counts: SeverityCounts::default(),
                overdue: 0,
                last_upload: None,
            }))
    }

    /// Open, unsuppressed findings per severity of the newest snapshot of each listed
    /// version (versions without a snapshot are absent), in one query.
    pub async fn version_counts(
        &self,
        version_ids: &[i64],
    ) -> Result<HashMap<i64, SeverityCounts>> {
        let mut counts = HashMap::new();
        for chunk in version_ids.chunks(500) {
            // $1 now, then the version ids.
            let sql = format!(
                "WITH cur AS (SELECT s.project_version_id AS version_id, MAX(s.id) AS snapshot_id \
                 FROM sbom_snapshots s WHERE s.project_version_id IN ({}) \
                 GROUP BY s.project_version_id) \
                 SELECT cur.version_id, {} FROM cur \
                 LEFT JOIN findings f ON f.snapshot_id = cur.snapshot_id \
                 LEFT JOIN triage t ON t.project_id = f.project_id AND t.finding_id = f.finding_id \
                 AND t.component_name = f.component_name \
                 AND t.component_ecosystem = f.component_ecosystem \
                 WHERE f.id IS NULL OR ({} AND (t.suppressed_until IS NULL OR t.suppressed_until <= $1)) \
                 GROUP BY cur.version_id",
                placeholders(2, chunk.len()),
                count_columns("f"),
                open_state_sql("t")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_millis(now()));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query
                .fetch_all(&self.pool)
                .await
                .ctx("counting version findings")?
            {
                counts.insert(
                    get::<i64>(&row, "version_id")?,
                    SeverityCounts::from_row(&row)?,
                );
            }
        }
        Ok(counts)
    }
}
