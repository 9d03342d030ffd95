//! Remediation tracking: SLA deadlines per severity, which findings are overdue, and when each
//! finding identity of a project went away (and in which version).

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError};
use crate::findings::{
    FINDING_COLUMNS, FINDING_FROM, FindingIdentity, FindingRow, Severity, TriageState,
    finding_from_row, overdue_sql,
};
use crate::{Page, PageRequest, Store, from_millis, get, now, to_millis};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a finding of each severity may stay open after it was first seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sla {
    /// Deadline of critical findings.
    pub critical: Duration,
    /// Deadline of high findings.
    pub high: Duration,
    /// Deadline of medium findings.
    pub medium: Duration,
    /// Deadline of low findings.
    pub low: Duration,
    /// Deadline of findings without a known severity; `None`: they are never overdue.
    pub unknown: Option<Duration>,
}

impl Default for Sla {
    /// 7, 30, 90 and 180 days for critical, high, medium and low; none for unknown.
    fn default() -> Self {
        Sla {
            critical: DAY * 7,
            high: DAY * 30,
            medium: DAY * 90,
            low: DAY * 180,
            unknown: None,
        }
    }
}

impl Sla {
    /// Number of parameters [`Sla::past_due_sql`] binds.
    pub(crate) const CUTOFFS: usize = 5;

    /// The deadline for `severity`, if it has one.
    pub fn window(&self, severity: Severity) -> Option<Duration> {
        match severity {
            Severity::Critical => Some(self.critical),
            Severity::High => Some(self.high),
            Severity::Medium => Some(self.medium),
            Severity::Low => Some(self.low),
            Severity::Unknown => self.unknown,
        }
    }

    /// When a finding of `severity` first seen at `first_seen` is due; `None` when the
    /// severity has no deadline or the deadline lies beyond any representable date.
    pub fn due(&self, severity: Severity, first_seen: OffsetDateTime) -> Option<OffsetDateTime> {
        let window = time::Duration::try_from(self.window(severity)?).ok()?;
        first_seen.checked_add(window)
    }

    /// Per severity (critical, high, medium, low, unknown: the order of
    /// [`Sla::past_due_sql`]), the `first_seen` in milliseconds before which a finding is
    /// overdue at `now_ms`; `None` for no deadline.
    pub(crate) fn cutoffs(&self, now_ms: i64) -> [Option<i64>; Self::CUTOFFS] {
        [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Unknown,
        ]
        .map(|s| {
            self.window(s)
                .map(|w| now_ms.saturating_sub(i64::try_from(w.as_millis()).unwrap_or(i64::MAX)))
        })
    }

    /// The finding `f` is past its deadline: its `first_seen` is before its severity's cutoff,
    /// bound from `$first` in the order of [`Sla::cutoffs`]. A NULL cutoff matches nothing.
    pub(crate) fn past_due_sql(f: &str, first: usize) -> String {
        let ranks = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Unknown,
        ];
        let arms = ranks
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "({f}.severity_rank = {} AND {f}.first_seen < ${})",
                    s.rank(),
                    first + i
                )
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        format!("({arms})")
    }
}

/// The remediation record of one finding identity of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemediationRow {
    /// The finding identity.
    pub identity: FindingIdentity,
    /// Severity, as last evaluated.
    pub severity: Severity,
    /// Short description, as last evaluated.
    pub title: Option<String>,
    /// When the project first had it.
    pub first_seen: OffsetDateTime,
    /// The version of the first snapshot that had it.
    pub first_version: String,
    /// The version that no longer has it (see [`Store::remediation`]); `None`: still open.
    pub fixed_in_version: Option<String>,
    /// When that version's snapshot was uploaded.
    pub fixed_at: Option<OffsetDateTime>,
    /// `fixed_at - first_seen`.
    pub time_to_remediate: Option<Duration>,
    /// The SLA deadline, if its severity has one.
    pub due_at: Option<OffsetDateTime>,
    /// Not fixed, past `due_at`, and not closed by triage.
    pub overdue: bool,
    /// Its triage state, if any.
    pub triage_state: Option<TriageState>,
}

/// The newest snapshot of one version, in upload order.
struct CurrentVersion {
    snapshot_id: i64,
    version: String,
    uploaded_at: OffsetDateTime,
}

impl Store {
    /// One row per finding identity ever seen in the project, still open ones first, then most
    /// severe, then oldest.
    ///
    /// Versions are ordered by the id of their newest snapshot (upload order). An identity is
    /// fixed in the first version, in that order, after the last version whose newest snapshot
    /// has it; if no later version exists it is open. An identity that no version's newest
    /// snapshot has any more (it was only in superseded uploads) is fixed by the first newest
    /// snapshot uploaded after the last snapshot that had it. Example: present in v1, gone in
    /// v2, back in v3 (the newest) means open, since v3 is the last version having it.
    ///
    /// Cost: one aggregate query over the project's finding rows (grouped by identity in the
    /// database, through the `findings_identity` index) returning one row per identity, and one
    /// query returning one row per version; the fix is found by binary search over the
    /// versions, and ordering and paging happen in memory: O(I log I + I log V) time and O(I)
    /// memory for I identities and V versions.
    pub async fn remediation(
        &self,
        project_id: i64,
        sla: &Sla,
        page: PageRequest,
    ) -> Result<Page<RemediationRow>> {
        let versions = sqlx::query(
            "SELECT v.version, s.id AS snapshot_id, s.uploaded_at FROM project_versions v \
             JOIN sbom_snapshots s ON s.project_version_id = v.id \
             WHERE v.project_id = $1 AND s.id = (SELECT MAX(s2.id) FROM sbom_snapshots s2 \
             WHERE s2.project_version_id = v.id) ORDER BY s.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the versions of a project")?
        .iter()
        .map(|row| {
            Ok(CurrentVersion {
                snapshot_id: get(row, "snapshot_id")?,
                version: get(row, "version")?,
                uploaded_at: from_millis("sbom_snapshots.uploaded_at", get(row, "uploaded_at")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;

        let rows = sqlx::query(
            "WITH cur AS (SELECT MAX(s.id) AS snapshot_id FROM sbom_snapshots s \
             JOIN project_versions v ON v.id = s.project_version_id WHERE v.project_id = $1 \
             GROUP BY s.project_version_id), \
             agg AS (SELECT f.finding_id, f.component_name, f.component_ecosystem, \
             MIN(f.first_seen) AS first_seen, MIN(f.snapshot_id) AS first_snapshot, \
             MAX(f.snapshot_id) AS last_any, MAX(cur.snapshot_id) AS last_current, \
             MAX(f.id) AS last_row FROM findings f \
             LEFT JOIN cur ON cur.snapshot_id = f.snapshot_id WHERE f.project_id = $1 \
             GROUP BY f.finding_id, f.component_name, f.component_ecosystem) \
             SELECT agg.finding_id, agg.component_name, agg.component_ecosystem, \
             agg.first_seen, agg.last_any, agg.last_current, l.severity, l.title, \
             fv.version AS first_version, t.state \
             FROM agg JOIN findings l ON l.id = agg.last_row \
             JOIN sbom_snapshots fs ON fs.id = agg.first_snapshot \
             JOIN project_versions fv ON fv.id = fs.project_version_id \
             LEFT JOIN triage t ON t.project_id = $1 AND t.finding_id = agg.finding_id \
             AND t.component_name = agg.component_name \
             AND t.component_ecosystem = agg.component_ecosystem",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the remediation of a project")?;

        let now = now();
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let severity: String = get(row, "severity")?;
            let severity = Severity::parse(&severity)
                .ok_or_else(|| StoreError::corrupt("findings.severity", &severity))?;
            let state: Option<String> = get(row, "state")?;
            let triage_state = state
                .map(|s| {
                    s.parse::<TriageState>()
                        .map_err(|_| StoreError::corrupt("triage.state", &s))
                })
                .transpose()?;
            let first_seen = from_millis("findings.first_seen", get(row, "first_seen")?)?;
            let last_current: Option<i64> = get(row, "last_current")?;
            let last: i64 = match last_current {
                Some(id) => id,
                None => get(row, "last_any")?,
            };
            let fixed = versions
                .get(versions.partition_point(|v| v.snapshot_id <= last))
                .map(|v| (v.version.clone(), v.uploaded_at));
            let due_at = sla.due(severity, first_seen);
            let overdue = fixed.is_none()
                && !triage_state.is_some_and(TriageState::is_closing)
                && due_at.is_some_and(|due| due < now);
            let fixed_at = fixed.as_ref().map(|(_, at)| *at);
            items.push(RemediationRow {
                identity: FindingIdentity {
                    project_id,
                    finding_id: get(row, "finding_id")?,
                    component_name: get(row, "component_name")?,
                    component_ecosystem: get(row, "component_ecosystem")?,
                },
                severity,
                title: get(row, "title")?,
                first_seen,
                first_version: get(row, "first_version")?,
                fixed_in_version: fixed.map(|(version, _)| version),
                fixed_at,
                time_to_remediate: fixed_at
                    .map(|at| Duration::try_from(at - first_seen).unwrap_or_default()),
                due_at,
                overdue,
                triage_state,
            });
        }
        items.sort_by(|a, b| {
            a.fixed_in_version
                .is_some()
                .cmp(&b.fixed_in_version.is_some())
                .then_with(|| b.severity.cmp(&a.severity))
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.identity.finding_id.cmp(&b.identity.finding_id))
                .then_with(|| a.identity.component_name.cmp(&b.identity.component_name))
                .then_with(|| {
                    a.identity
                        .component_ecosystem
                        .cmp(&b.identity.component_ecosystem)
                })
        });
        let total = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit()).unwrap_or(usize::MAX);
        let items = items.into_iter().skip(offset).take(limit).collect();
        Ok(Page { items, total })
    }

    /// Overdue findings (see [`crate::FindingFilter::overdue_only`]) of every project's current
    /// snapshot (the newest snapshot of its newest version), suppressed ones left out, by row
    /// id: what the SLA-breach notifier walks.
    pub async fn overdue_findings(&self, sla: &Sla, page: PageRequest) -> Result<Page<FindingRow>> {
        // $1 now, $2.. the cutoffs, then limit and offset.
        let next = 2 + Sla::CUTOFFS;
        let where_clause = format!(
            "f.snapshot_id IN (SELECT MAX(s.id) FROM sbom_snapshots s \
             JOIN project_versions v ON v.id = s.project_version_id GROUP BY v.project_id) \
             AND (t.suppressed_until IS NULL OR t.suppressed_until <= $1) AND {}",
            overdue_sql("f", "t", 2)
        );
        let list_sql = format!(
            "SELECT {FINDING_COLUMNS} {FINDING_FROM} WHERE {where_clause} \
             ORDER BY f.id LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let count_sql = format!("SELECT COUNT(*) AS n {FINDING_FROM} WHERE {where_clause}");
        let now = now();
        let now_ms = to_millis(now);
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql)).bind(now_ms);
        let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql)).bind(now_ms);
        for cutoff in sla.cutoffs(now_ms) {
            count = count.bind(cutoff);
            list = list.bind(cutoff);
        }
        let total: i64 = get(
            &count
                .fetch_one(&self.pool)
                .await
                .ctx("counting overdue findings")?,
            "n",
        )?;
        let items = list
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await
            .ctx("listing overdue findings")?
            .iter()
            .map(|row| finding_from_row(row, sla, now))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
