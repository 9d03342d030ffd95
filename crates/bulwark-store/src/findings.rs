//! Findings of a project version, and triage with its audit trail.
//!
//! Triage belongs to a finding *identity* — project, finding id, component name and ecosystem —
//! not to one snapshot, so a decision carries over to every later version of the project.

use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError};
use crate::remediation::Sla;
use crate::{
    Page, PageRequest, Store, from_millis, get, now, opt_from_millis, placeholders, to_millis,
};

/// What kind of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// A known vulnerability matched against a component.
    Vulnerability,
    /// A problem found in an artifact itself (e.g. a pickle that runs code).
    Artifact,
}

impl FindingKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Artifact => "artifact",
        }
    }

    fn parse(s: &str) -> Option<FindingKind> {
        Some(match s {
            "vulnerability" => FindingKind::Vulnerability,
            "artifact" => FindingKind::Artifact,
            _ => return None,
        })
    }
}

/// Severity, ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// No score known.
    Unknown,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "unknown" => Severity::Unknown,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// Stored next to the name so the database sorts by severity, not alphabetically.
    pub(crate) fn rank(self) -> i64 {
        self as i64
    }
}

/// Triage states and justifications are the VEX vocabulary itself, so triage, VEX import and
/// VEX export share one definition.
pub use bulwark_vex::{Justification, State as TriageState};

/// The identity triage is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FindingIdentity {
    /// The project.
    pub project_id: i64,
    /// Advisory or rule id.
    pub finding_id: String,
    /// Component name.
    pub component_name: String,
    /// Component ecosystem; empty when the component has none.
    pub component_ecosystem: String,
}

/// The desired triage of a finding (a full replacement, not a patch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageChange {
    /// State.
    pub state: TriageState,
    /// Required with [`TriageState::NotAffected`], refused otherwise.
    pub justification: Option<Justification>,
    /// Free text.
    pub detail: Option<String>,
    /// Hidden from default views until then.
    pub suppressed_until: Option<OffsetDateTime>,
}

/// Stored triage of a finding identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triage {
    /// State.
    pub state: TriageState,
    /// Justification (with `NotAffected`).
    pub justification: Option<Justification>,
    /// Free text.
    pub detail: Option<String>,
    /// Suppression expiry.
    pub suppressed_until: Option<OffsetDateTime>,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Who made the last change.
    pub updated_by: String,
}

/// One audit-trail row: a single field's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who.
    pub actor: String,
    /// When.
    pub at: OffsetDateTime,
    /// Which field: `state`, `justification`, `detail` or `suppressed_until`.
    pub field: String,
    /// Value before (`None`: unset).
    pub old_value: Option<String>,
    /// Value after (`None`: unset).
    pub new_value: Option<String>,
}

/// A finding of a project version, with its component and triage.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingRow {
    /// Row id.
    pub id: i64,
    /// The identity its triage is keyed by.
    pub identity: FindingIdentity,
    /// Kind.
    pub kind: FindingKind,
    /// Other ids.
    pub aliases: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// Short description.
    pub title: Option<String>,
    /// The component's row id.
    pub component_id: i64,
    /// The component's version.
    pub component_version: Option<String>,
    /// The component's purl.
    pub component_purl: Option<String>,
    /// When this identity was first seen in the project.
    pub first_seen: OffsetDateTime,
    /// Its triage, if any.
    pub triage: Option<Triage>,
    /// When the SLA wants it fixed (`None`: the severity has no deadline). Computed with the
    /// SLA of the query that read the row ([`Sla::default`] where the query takes none); see
    /// [`FindingRow::apply_sla`] to use another.
    pub due_at: Option<OffsetDateTime>,
    /// Past `due_at` and not closed by triage (see [`TriageState::CLOSING`]).
    pub overdue: bool,
}

impl FindingRow {
    /// Recomputes [`FindingRow::due_at`] and [`FindingRow::overdue`] for `sla` at `now`.
    pub fn apply_sla(&mut self, sla: &Sla, now: OffsetDateTime) {
        self.due_at = sla.due(self.severity, self.first_seen);
        self.overdue = !self.is_closed() && self.due_at.is_some_and(|due| due < now);
    }

    /// Whether triage closed it (see [`TriageState::CLOSING`]).
    pub fn is_closed(&self) -> bool {
        self.triage.as_ref().is_some_and(|t| t.state.is_closing())
    }

    /// Whether it counts as risk at `now`: not closed and not under a running suppression,
    /// as the risk counts computed in SQL decide.
    pub fn is_risk(&self, now: OffsetDateTime) -> bool {
        !self.is_closed()
            && self
                .triage
                .as_ref()
                .and_then(|t| t.suppressed_until)
                .is_none_or(|until| until <= now)
    }
}

/// A triage-state filter value: untriaged, or one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFilter {
    /// No triage recorded.
    Untriaged,
    /// This state.
    Is(TriageState),
}

impl StateFilter {
    fn as_str(self) -> &'static str {
        match self {
            StateFilter::Untriaged => "untriaged",
            StateFilter::Is(s) => s.as_str(),
        }
    }
}

/// Sort order of [`Store::list_findings`], mapped to fixed columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FindingSort {
    /// Most severe first (ascending means least severe first).
    #[default]
    Severity,
    /// By first-seen time.
    FirstSeen,
    /// By finding id.
    FindingId,
    /// By component name.
    Component,
}

/// Filter, order and page of [`Store::list_findings`].
#[derive(Clone, Debug, Default)]
pub struct FindingFilter {
    /// Only these severities (empty: all).
    pub severities: Vec<Severity>,
    /// Only these triage states (empty: all).
    pub states: Vec<StateFilter>,
    /// Also show findings whose suppression has not expired.
    pub include_suppressed: bool,
    /// Only findings past their SLA deadline and not closed by triage.
    pub overdue_only: bool,
    /// The deadlines behind `overdue_only` and the rows' `due_at` / `overdue`.
    pub sla: Sla,
    /// Order.
    pub sort: FindingSort,
    /// Reverse the natural order (severity sorts most severe first naturally).
    pub reverse: bool,
    /// Which page.
    pub page: PageRequest,
}

const TRIAGE_COLUMNS: &str =
    "state, justification, detail, suppressed_until, updated_at, updated_by";

/// The columns [`finding_from_row`] reads, for every query that returns [`FindingRow`]s.
pub(crate) const FINDING_COLUMNS: &str = "f.id, f.project_id, f.finding_id, f.component_name, \
     f.component_ecosystem, f.kind, f.aliases, f.severity, f.title, f.component_id, \
     f.first_seen, f.component_version, f.component_purl, \
     t.state, t.justification, t.detail, t.suppressed_until, t.updated_at, t.updated_by";

/// Findings `f` with their identity's triage `t` (if any).
pub(crate) const FINDING_FROM: &str = "FROM findings f \
     LEFT JOIN triage t ON t.project_id = f.project_id AND t.finding_id = f.finding_id \
     AND t.component_name = f.component_name \
     AND t.component_ecosystem = f.component_ecosystem";

/// `t` (a triage row, possibly NULL) leaves the finding open: no triage, or a state outside
/// [`TriageState::CLOSING`]. The state names are fixed strings from the enum.
pub(crate) fn open_state_sql(t: &str) -> String {
    let closing = TriageState::CLOSING
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("({t}.state IS NULL OR {t}.state NOT IN ({closing}))")
}

/// The finding `f` of an open triage `t` whose SLA deadline has passed; binds the five
/// cutoffs of [`Sla::cutoffs`] from `$first`.
pub(crate) fn overdue_sql(f: &str, t: &str, first: usize) -> String {
    format!(
        "({} AND {})",
        open_state_sql(t),
        Sla::past_due_sql(f, first)
    )
}

/// Reads the triage columns; a NULL `state` (no triage row in a LEFT JOIN) means none.
fn triage_from_row(row: &AnyRow) -> Result<Option<Triage>> {
    let Some(state) = get::<Option<String>>(row, "state")? else {
        return Ok(None);
    };
    let justification: Option<String> = get(row, "justification")?;
    Ok(Some(Triage {
        state: state
            .parse()
            .map_err(|_| StoreError::corrupt("triage.state", &state))?,
        justification: justification
            .map(|j| {
                j.parse::<Justification>()
                    .map_err(|_| StoreError::corrupt("triage.justification", &j))
            })
            .transpose()?,
        detail: get(row, "detail")?,
        suppressed_until: opt_from_millis(
            "triage.suppressed_until",
            get(row, "suppressed_until")?,
        )?,
        updated_at: from_millis("triage.updated_at", get(row, "updated_at")?)?,
        updated_by: get(row, "updated_by")?,
    }))
}

/// Reads a [`FindingRow`] selected with [`FINDING_COLUMNS`]; `due_at` and `overdue` follow
/// `sla` at `now`.
pub(crate) fn finding_from_row(row: &AnyRow, sla: &Sla, now: OffsetDateTime) -> Result<FindingRow> {
    let kind: String = get(row, "kind")?;
    let severity: String = get(row, "severity")?;
    let aliases: String = get(row, "aliases")?;
    let mut finding = FindingRow {
        id: get(row, "id")?,
        identity: FindingIdentity {
            project_id: get(row, "project_id")?,
            finding_id: get(row, "finding_id")?,
            component_name: get(row, "component_name")?,
            component_ecosystem: get(row, "component_ecosystem")?,
        },
        kind: FindingKind::parse(&kind)
            .ok_or_else(|| StoreError::corrupt("findings.kind", &kind))?,
        aliases: serde_json::from_str(&aliases)
            .map_err(|_| StoreError::corrupt("findings.aliases", &aliases))?,
        severity: Severity::parse(&severity)
            .ok_or_else(|| StoreError::corrupt("findings.severity", &severity))?,
        title: get(row, "title")?,
        component_id: get(row, "component_id")?,
        component_version: get(row, "component_version")?,
        component_purl: get(row, "component_purl")?,
        first_seen: from_millis("findings.first_seen", get(row, "first_seen")?)?,
        triage: triage_from_row(row)?,
        due_at: None,
        overdue: false,
    };
    finding.apply_sla(sla, now);
    Ok(finding)
}

fn fmt_time(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| to_millis(t).to_string())
    })
}

impl Store {
    /// Findings of the newest snapshot of a project version, filtered, sorted and paged in
    /// the database; an empty page when the version does not exist.
    pub async fn list_findings(
        &self,
        project_version_id: i64,
        filter: &FindingFilter,
    ) -> Result<Page<FindingRow>> {
        Ok(self
            .list_visible_findings(project_version_id, None, filter)
            .await?
            .unwrap_or(Page {
                items: Vec::new(),
                total: 0,
            }))
    }

    /// [`Store::list_findings`] for a caller who sees only the projects of `teams` (`None`:
    /// every project); `None` when the version does not exist or belongs to another team.
    ///
    /// The hot path of the API, so it is one query: the page, its total (a window count) and
    /// the visibility check together. Only an empty page needs a second look, to tell an
    /// invisible version from one without (more) findings.
    pub async fn list_visible_findings(
        &self,
        project_version_id: i64,
        teams: Option<&[i64]>,
        filter: &FindingFilter,
    ) -> Result<Option<Page<FindingRow>>> {
        if teams.is_some_and(<[i64]>::is_empty) {
            return Ok(None);
        }
        // $1 version, $2 now; then severities, states, the SLA cutoffs and the teams.
        let mut conditions = vec![
            "f.snapshot_id = (SELECT MAX(s.id) FROM sbom_snapshots s \
             WHERE s.project_version_id = $1)"
                .to_owned(),
        ];
        let mut next = 3;
        if !filter.severities.is_empty() {
            conditions.push(format!(
                "f.severity IN ({})",
                placeholders(next, filter.severities.len())
            ));
            next += filter.severities.len();
        }
        if !filter.states.is_empty() {
            conditions.push(format!(
                "COALESCE(t.state, 'untriaged') IN ({})",
                placeholders(next, filter.states.len())
            ));
            next += filter.states.len();
        }
        if !filter.include_suppressed {
            conditions.push("(t.suppressed_until IS NULL OR t.suppressed_until <= $2)".to_owned());
        } else {
            // Keep $2 referenced so both backends see the same parameter list.
            conditions.push("$2 = $2".to_owned());
        }
        if filter.overdue_only {
            conditions.push(overdue_sql("f", "t", next));
            next += Sla::CUTOFFS;
        }
        if let Some(teams) = teams {
            conditions.push(format!(
                "f.project_id IN (SELECT p.id FROM projects p WHERE p.team_id IN ({}))",
                placeholders(next, teams.len())
            ));
            next += teams.len();
        }
        let where_clause = conditions.join(" AND ");
        let (column, natural_desc) = match filter.sort {
            FindingSort::Severity => ("f.severity_rank", true),
            FindingSort::FirstSeen => ("f.first_seen", false),
            FindingSort::FindingId => ("f.finding_id", false),
            FindingSort::Component => ("f.component_name", false),
        };
        let dir = if natural_desc != filter.reverse {
            "DESC"
        } else {
            "ASC"
        };
        let list_sql = format!(
            "SELECT {FINDING_COLUMNS}, COUNT(*) OVER () AS total {FINDING_FROM} \
             WHERE {where_clause} ORDER BY {column} {dir}, f.id ASC LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let now = now();
        let now_ms = to_millis(now);
        let mut list = sqlx::query(sqlx::AssertSqlSafe(list_sql))
            .bind(project_version_id)
            .bind(now_ms);
        for s in &filter.severities {
            list = list.bind(s.as_str());
        }
        for s in &filter.states {
            list = list.bind(s.as_str());
        }
        if filter.overdue_only {
            for cutoff in filter.sla.cutoffs(now_ms) {
                list = list.bind(cutoff);
            }
        }
        for team in teams.unwrap_or_default() {
            list = list.bind(*team);
        }
        let rows = list
            .bind(filter.page.limit())
            .bind(filter.page.offset())
            .fetch_all(&self.pool)
            .await
            .ctx("listing findings")?;
        if let Some(first) = rows.first() {
            let total: i64 = get(first, "total")?;
            let items = rows
                .iter()
                .map(|row| finding_from_row(row, &filter.sla, now))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Some(Page {
                items,
                total: u64::try_from(total).unwrap_or_default(),
            }));
        }
        if !self.version_visible(project_version_id, teams).await? {
            return Ok(None);
        }
        let total = if filter.page.offset == 0 {
            0
        } else {
            // Past the last page: the total from the first row's window count.
            let first = FindingFilter {
                page: PageRequest::FIRST_ROW,
                ..filter.clone()
            };
            Box::pin(self.list_visible_findings(project_version_id, teams, &first))
                .await?
                .map_or(0, |page| page.total)
        };
        Ok(Some(Page {
            items: Vec::new(),
            total,
        }))
    }

    /// One finding by row id, with the default SLA's `due_at` / `overdue`.
    pub async fn get_finding(&self, id: i64) -> Result<Option<FindingRow>> {
        let sql = format!("SELECT {FINDING_COLUMNS} {FINDING_FROM} WHERE f.id = $1");
        let now = now();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a finding")?
            .map(|row| finding_from_row(&row, &Sla::default(), now))
            .transpose()
    }

    /// Every finding of the newest snapshot of a project version, suppressed and closed ones
    /// included, by row id: the full picture VEX import and export work on.
    pub async fn version_findings_all(&self, project_version_id: i64) -> Result<Vec<FindingRow>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} {FINDING_FROM} \
             WHERE f.snapshot_id = (SELECT MAX(s.id) FROM sbom_snapshots s \
             WHERE s.project_version_id = $1) ORDER BY f.id"
        );
        let now = now();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_version_id)
            .fetch_all(&self.pool)
            .await
            .ctx("reading the findings of a version")?
            .iter()
            .map(|row| finding_from_row(row, &Sla::default(), now))
            .collect()
    }

    /// The triage of a finding identity.
    pub async fn get_triage(&self, id: &FindingIdentity) -> Result<Option<Triage>> {
        let sql = format!(
            "SELECT {TRIAGE_COLUMNS} FROM triage WHERE project_id = $1 AND finding_id = $2 \
             AND component_name = $3 AND component_ecosystem = $4"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.project_id)
            .bind(id.finding_id.as_str())
            .bind(id.component_name.as_str())
            .bind(id.component_ecosystem.as_str())
            .fetch_optional(&self.pool)
            .await
            .ctx("reading triage")?;
        match row {
            Some(row) => triage_from_row(&row),
            None => Ok(None),
        }
    }

    /// Sets the triage of a finding identity and records one audit row per changed field and
    /// a risk sample of the project (triage changes the risk), in one transaction. Returns the
    /// stored triage.
    pub async fn set_triage(
        &self,
        id: &FindingIdentity,
        change: &TriageChange,
        actor: &str,
    ) -> Result<Triage> {
        match (change.state, change.justification) {
            (TriageState::NotAffected, None) => {
                return Err(StoreError::invalid(
                    "justification",
                    "not_affected needs a justification",
                ));
            }
            (state, Some(_)) if state != TriageState::NotAffected => {
                return Err(StoreError::invalid(
                    "justification",
                    format!(
                        "only not_affected takes a justification, not {}",
                        state.as_str()
                    ),
                ));
            }
            _ => {}
        }
        if actor.trim().is_empty() {
            return Err(StoreError::invalid("actor", "must not be empty"));
        }
        let now_ms = to_millis(now());
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT {TRIAGE_COLUMNS} FROM triage WHERE project_id = $1 AND finding_id = $2 \
             AND component_name = $3 AND component_ecosystem = $4"
        );
        let old = match sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.project_id)
            .bind(id.finding_id.as_str())
            .bind(id.component_name.as_str())
            .bind(id.component_ecosystem.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading triage")?
        {
            Some(row) => triage_from_row(&row)?,
            None => None,
        };
        sqlx::query(
            "INSERT INTO triage (project_id, finding_id, component_name, component_ecosystem, \
             state, justification, detail, suppressed_until, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (project_id, finding_id, component_name, component_ecosystem) \
             DO UPDATE SET state = excluded.state, justification = excluded.justification, \
             detail = excluded.detail, suppressed_until = excluded.suppressed_until, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(id.project_id)
        .bind(id.finding_id.as_str())
        .bind(id.component_name.as_str())
        .bind(id.component_ecosystem.as_str())
        .bind(change.state.as_str())
        .bind(change.justification.map(Justification::as_str))
        .bind(change.detail.as_deref())
        .bind(change.suppressed_until.map(to_millis))
        .bind(now_ms)
        .bind(actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            crate::error::classify_write(e, "writing triage", String::new, || {
                format!("project {}", id.project_id)
            })
        })?;

        let changes = [
            (
                "state",
                old.as_ref().map(|t| t.state.as_str().to_owned()),
                Some(change.state.as_str().to_owned()),
            ),
            (
                "justification",
                old.as_ref()
                    .and_then(|t| t.justification)
                    .map(|j| j.as_str().to_owned()),
                change.justification.map(|j| j.as_str().to_owned()),
            ),
            (
                "detail",
                old.as_ref().and_then(|t| t.detail.clone()),
                change.detail.clone(),
            ),
            (
                "suppressed_until",
                fmt_time(old.as_ref().and_then(|t| t.suppressed_until)),
                fmt_time(change.suppressed_until),
            ),
        ];
        for (field, old_value, new_value) in changes {
            if old_value == new_value {
                continue;
            }
            sqlx::query(
                "INSERT INTO triage_audit (project_id, finding_id, component_name, \
                 component_ecosystem, actor, at, field, old_value, new_value) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id.project_id)
            .bind(id.finding_id.as_str())
            .bind(id.component_name.as_str())
            .bind(id.component_ecosystem.as_str())
            .bind(actor)
            .bind(now_ms)
            .bind(field)
            .bind(old_value)
            .bind(new_value)
            .execute(&mut *tx)
            .await
            .ctx("writing the triage audit trail")?;
        }
        crate::portfolio::write_risk_sample(&mut tx, id.project_id, now_ms).await?;
        tx.commit().await.ctx("committing triage")?;
        Ok(Triage {
            state: change.state,
            justification: change.justification,
            detail: change.detail.clone(),
            // As stored: millisecond precision.
            suppressed_until: opt_from_millis(
                "triage.suppressed_until",
                change.suppressed_until.map(to_millis),
            )?,
            updated_at: from_millis("triage.updated_at", now_ms)?,
            updated_by: actor.to_owned(),
        })
    }

    /// The audit trail of a finding identity, oldest first.
    pub async fn triage_history(&self, id: &FindingIdentity) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT actor, at, field, old_value, new_value FROM triage_audit \
             WHERE project_id = $1 AND finding_id = $2 AND component_name = $3 \
             AND component_ecosystem = $4 ORDER BY id",
        )
        .bind(id.project_id)
        .bind(id.finding_id.as_str())
        .bind(id.component_name.as_str())
        .bind(id.component_ecosystem.as_str())
        .fetch_all(&self.pool)
        .await
        .ctx("reading the triage audit trail")?
        .iter()
        .map(|row| {
            Ok(AuditEntry {
                actor: get(row, "actor")?,
                at: from_millis("triage_audit.at", get(row, "at")?)?,
                field: get(row, "field")?,
                old_value: get(row, "old_value")?,
                new_value: get(row, "new_value")?,
            })
        })
        .collect()
    }
}
