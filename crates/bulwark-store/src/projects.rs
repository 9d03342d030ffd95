//! Projects (named, tagged, nested, owned by a team) and their versions.

use std::collections::HashMap;

use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError, classify_write};
use crate::{
    Page, PageRequest, Store, from_millis, get, now, opt_from_millis, placeholders, to_millis,
};

/// A project: something that ships versions (an application, an image, a model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// Row id.
    pub id: i64,
    /// Name, unique among the project's siblings.
    pub name: String,
    /// The enclosing project, if any.
    pub parent_id: Option<i64>,
    /// The owning team; `None` means only admin keys see it.
    pub team_id: Option<i64>,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// Input of [`Store::create_project`].
#[derive(Clone, Copy, Debug)]
pub struct NewProject<'a> {
    /// Name, unique among siblings.
    pub name: &'a str,
    /// The enclosing project.
    pub parent_id: Option<i64>,
    /// The owning team.
    pub team_id: Option<i64>,
    /// Tags (duplicates are dropped).
    pub tags: &'a [String],
}

/// One version of a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectVersion {
    /// Row id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The version string as the uploader gave it.
    pub version: String,
    /// When it was first seen.
    pub created_at: OffsetDateTime,
}

/// Which versions [`Store::list_project_versions`] returns: every version of every project the
/// caller sees, narrowed by exact project name, exact version string or version id.
#[derive(Clone, Debug, Default)]
pub struct VersionFilter {
    /// Access control, as in [`ProjectFilter::teams`].
    pub teams: Option<Vec<i64>>,
    /// Only projects with exactly this name.
    pub project_name: Option<String>,
    /// Only versions with exactly this string.
    pub version: Option<String>,
    /// Only the version with this row id.
    pub version_id: Option<i64>,
    /// Which page (ordered by project name, then version id).
    pub page: PageRequest,
}

/// A version with its project, as [`Store::list_project_versions`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionListing {
    /// The project (with its tags).
    pub project: Project,
    /// The version.
    pub version: ProjectVersion,
    /// When its newest snapshot was uploaded; `None` before the first upload.
    pub last_upload: Option<OffsetDateTime>,
    /// Whether it holds the project's newest snapshot (the project's current version).
    pub is_current: bool,
}

/// Sort order of [`Store::list_projects`], mapped to fixed columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProjectSort {
    /// By name.
    #[default]
    Name,
    /// By creation time.
    CreatedAt,
}

/// Filter, order and page of [`Store::list_projects`].
#[derive(Clone, Debug, Default)]
pub struct ProjectFilter {
    /// Access control: `Some(teams)` shows only projects owned by one of these teams
    /// (an empty list shows nothing); `None` shows everything (admin).
    pub teams: Option<Vec<i64>>,
    /// Only projects carrying this tag.
    pub tag: Option<String>,
    /// Only projects whose name contains this text (ASCII case-insensitive).
    pub name_contains: Option<String>,
    /// Only children of this project.
    pub parent_id: Option<i64>,
    /// Order.
    pub sort: ProjectSort,
    /// Reverse the order.
    pub descending: bool,
    /// Which page.
    pub page: PageRequest,
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a `LIKE` pattern.
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn project_from_row(row: &AnyRow) -> Result<Project> {
    Ok(Project {
        id: get(row, "id")?,
        name: get(row, "name")?,
        parent_id: get(row, "parent_id")?,
        team_id: get(row, "team_id")?,
        tags: Vec::new(),
        created_at: from_millis("projects.created_at", get(row, "created_at")?)?,
    })
}

pub(crate) fn version_from_row(row: &AnyRow) -> Result<ProjectVersion> {
    Ok(ProjectVersion {
        id: get(row, "id")?,
        project_id: get(row, "project_id")?,
        version: get(row, "version")?,
        created_at: from_millis("project_versions.created_at", get(row, "created_at")?)?,
    })
}

impl Store {
    /// Creates a project and its tags in one transaction.
    pub async fn create_project(&self, new: &NewProject<'_>) -> Result<Project> {
        let mut tx = self.begin_write().await?;
        let project = insert_project(&mut tx, new).await?;
        tx.commit().await.ctx("committing a project")?;
        Ok(project)
    }

    /// One project by id.
    pub async fn get_project(&self, id: i64) -> Result<Option<Project>> {
        let mut conn = self.pool.acquire().await.ctx("reading a project")?;
        project_by_id(&mut conn, id).await
    }

    /// The project called `name` under `parent_id` (`None`: top level).
    pub async fn find_project(
        &self,
        parent_id: Option<i64>,
        name: &str,
    ) -> Result<Option<Project>> {
        let row = sqlx::query(
            "SELECT id, name, parent_id, team_id, created_at FROM projects \
             WHERE name = $1 AND (($2 IS NULL AND parent_id IS NULL) OR parent_id = $2)",
        )
        .bind(name)
        .bind(parent_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("finding a project")?;
        let Some(row) = row else { return Ok(None) };
        let mut projects = vec![project_from_row(&row)?];
        self.load_tags(&mut projects).await?;
        Ok(projects.pop())
    }

    /// Projects matching `filter`, one page, with the total count.
    pub async fn list_projects(&self, filter: &ProjectFilter) -> Result<Page<Project>> {
        let (items, total) = self.project_page(filter).await?;
        Ok(Page {
            items: items.into_iter().map(|(project, _)| project).collect(),
            total,
        })
    }

    /// A page of projects with their tags and current snapshot (the highest snapshot id of
    /// any of their versions; `None` before the first upload), and the number of matching
    /// projects, in one query (the total is a window count) plus one for the tags.
    pub(crate) async fn project_page(
        &self,
        filter: &ProjectFilter,
    ) -> Result<(Vec<(Project, Option<i64>)>, u64)> {
        if filter.teams.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Vec::new(), 0));
        }
        // $1 tag, $2 name pattern, $3 parent, then the team list.
        let mut conditions = vec![
            "($1 IS NULL OR EXISTS (SELECT 1 FROM project_tags t \
              WHERE t.project_id = p.id AND t.tag = $1))"
                .to_owned(),
            "($2 IS NULL OR LOWER(p.name) LIKE LOWER($2) ESCAPE '\\')".to_owned(),
            "($3 IS NULL OR p.parent_id = $3)".to_owned(),
        ];
        let teams = filter.teams.as_deref().unwrap_or_default();
        if filter.teams.is_some() {
            conditions.push(format!("p.team_id IN ({})", placeholders(4, teams.len())));
        }
        let where_clause = conditions.join(" AND ");
        let order = match filter.sort {
            ProjectSort::Name => "p.name",
            ProjectSort::CreatedAt => "p.created_at",
        };
        let dir = if filter.descending { "DESC" } else { "ASC" };
        let next = 4 + teams.len();
        // The current snapshot is looked up for the page's rows only (an index probe each).
        let sql = format!(
            "SELECT p.id, p.name, p.parent_id, p.team_id, p.created_at, p.total, \
             (SELECT MAX(s.id) FROM project_versions v \
              JOIN sbom_snapshots s ON s.project_version_id = v.id \
              WHERE v.project_id = p.id) AS snapshot_id \
             FROM (SELECT p.id, p.name, p.parent_id, p.team_id, p.created_at, \
              COUNT(*) OVER () AS total FROM projects p WHERE {where_clause} \
              ORDER BY {order} {dir}, p.id {dir} LIMIT ${next} OFFSET ${}) p \
             ORDER BY {order} {dir}, p.id {dir}",
            next + 1
        );
        let pattern = filter.name_contains.as_deref().map(like_literal);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.tag.as_deref())
            .bind(pattern.as_deref())
            .bind(filter.parent_id);
        for team in teams {
            query = query.bind(*team);
        }
        let rows = query
            .bind(filter.page.limit())
            .bind(filter.page.offset())
            .fetch_all(&self.pool)
            .await
            .ctx("listing projects")?;
        let Some(first) = rows.first() else {
            if filter.page.offset == 0 {
                return Ok((Vec::new(), 0));
            }
            // Past the last page: the total from the first row's window count.
            let first = ProjectFilter {
                page: PageRequest::FIRST_ROW,
                ..filter.clone()
            };
            let (_, total) = Box::pin(self.project_page(&first)).await?;
            return Ok((Vec::new(), total));
        };
        let total: i64 = get(first, "total")?;
        let mut projects = rows
            .iter()
            .map(project_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.load_tags(&mut projects).await?;
        let snapshots = rows
            .iter()
            .map(|row| get::<Option<i64>>(row, "snapshot_id"))
            .collect::<Result<Vec<_>>>()?;
        Ok((
            projects.into_iter().zip(snapshots).collect(),
            u64::try_from(total).unwrap_or_default(),
        ))
    }

    async fn load_tags(&self, projects: &mut [Project]) -> Result<()> {
        let mut conn = self.pool.acquire().await.ctx("reading project tags")?;
        load_tags(&mut conn, projects).await
    }

    /// The version `version` of a project, created if new.
    pub async fn ensure_version(&self, project_id: i64, version: &str) -> Result<ProjectVersion> {
        let mut tx = self.begin_write().await?;
        let version = upsert_version(&mut tx, project_id, version).await?;
        tx.commit().await.ctx("committing a project version")?;
        Ok(version)
    }

    /// Versions of a project, oldest first.
    pub async fn list_versions(&self, project_id: i64) -> Result<Vec<ProjectVersion>> {
        sqlx::query(
            "SELECT id, project_id, version, created_at FROM project_versions \
             WHERE project_id = $1 ORDER BY created_at, id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing project versions")?
        .iter()
        .map(version_from_row)
        .collect()
    }

    /// Versions across projects (see [`VersionFilter`]) with their projects, paged, and the
    /// number that match, in one query plus one for the tags.
    pub async fn list_project_versions(
        &self,
        filter: &VersionFilter,
    ) -> Result<Page<VersionListing>> {
        if filter.teams.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        }
        // $1 name, $2 version, $3 version id, then the teams.
        let mut conditions = vec![
            "($1 IS NULL OR p.name = $1)".to_owned(),
            "($2 IS NULL OR v.version = $2)".to_owned(),
            "($3 IS NULL OR v.id = $3)".to_owned(),
        ];
        let teams = filter.teams.as_deref().unwrap_or_default();
        if filter.teams.is_some() {
            conditions.push(format!("p.team_id IN ({})", placeholders(4, teams.len())));
        }
        let next = 4 + teams.len();
        let sql = format!(
            "SELECT v.id AS version_id, v.project_id, v.version, v.created_at AS version_created_at, \
             p.id, p.name, p.parent_id, p.team_id, p.created_at, COUNT(*) OVER () AS total, \
             (SELECT MAX(s.id) FROM sbom_snapshots s WHERE s.project_version_id = v.id) \
             AS snapshot_id, \
             (SELECT MAX(s.id) FROM project_versions pv \
              JOIN sbom_snapshots s ON s.project_version_id = pv.id \
              WHERE pv.project_id = p.id) AS current_snapshot_id, \
             (SELECT MAX(s.uploaded_at) FROM sbom_snapshots s WHERE s.project_version_id = v.id) \
             AS last_upload \
             FROM project_versions v JOIN projects p ON p.id = v.project_id \
             WHERE {} ORDER BY p.name, v.id LIMIT ${next} OFFSET ${}",
            conditions.join(" AND "),
            next + 1
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.project_name.as_deref())
            .bind(filter.version.as_deref())
            .bind(filter.version_id);
        for team in teams {
            query = query.bind(*team);
        }
        let rows = query
            .bind(filter.page.limit())
            .bind(filter.page.offset())
            .fetch_all(&self.pool)
            .await
            .ctx("listing project versions")?;
        let Some(first) = rows.first() else {
            if filter.page.offset == 0 {
                return Ok(Page {
                    items: Vec::new(),
                    total: 0,
                });
            }
            // Past the last page: the total from the first row's window count.
            let first = VersionFilter {
                page: PageRequest::FIRST_ROW,
                ..filter.clone()
            };
            let total = Box::pin(self.list_project_versions(&first)).await?.total;
            return Ok(Page {
                items: Vec::new(),
                total,
            });
        };
        let total: i64 = get(first, "total")?;
        let mut projects = rows
            .iter()
            .map(project_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.load_tags(&mut projects).await?;
        let items = rows
            .iter()
            .zip(projects)
            .map(|(row, project)| {
                let snapshot: Option<i64> = get(row, "snapshot_id")?;
                let current: Option<i64> = get(row, "current_snapshot_id")?;
                Ok(VersionListing {
                    project,
                    version: ProjectVersion {
                        id: get(row, "version_id")?,
                        project_id: get(row, "project_id")?,
                        version: get(row, "version")?,
                        created_at: from_millis(
                            "project_versions.created_at",
                            get(row, "version_created_at")?,
                        )?,
                    },
                    last_upload: opt_from_millis(
                        "sbom_snapshots.uploaded_at",
                        get(row, "last_upload")?,
                    )?,
                    is_current: snapshot.is_some() && snapshot == current,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}

/// Inserts a project and its tags (see [`Store::create_project`]).
pub(crate) async fn insert_project(
    tx: &mut AnyConnection,
    new: &NewProject<'_>,
) -> Result<Project> {
    if new.name.trim().is_empty() {
        return Err(StoreError::invalid("project name", "must not be empty"));
    }
    let mut tags: Vec<String> = new.tags.iter().map(|t| t.trim().to_owned()).collect();
    if tags.iter().any(String::is_empty) {
        return Err(StoreError::invalid("tag", "must not be empty"));
    }
    tags.sort();
    tags.dedup();
    let row = sqlx::query(
        "INSERT INTO projects (name, parent_id, team_id, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, name, parent_id, team_id, created_at",
    )
    .bind(new.name)
    .bind(new.parent_id)
    .bind(new.team_id)
    .bind(to_millis(now()))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        classify_write(
            e,
            "inserting a project",
            || format!("project {:?} under parent {:?}", new.name, new.parent_id),
            || format!("parent {:?} or team {:?}", new.parent_id, new.team_id),
        )
    })?;
    let mut project = project_from_row(&row)?;
    for tag in &tags {
        sqlx::query("INSERT INTO project_tags (project_id, tag) VALUES ($1, $2)")
            .bind(project.id)
            .bind(tag)
            .execute(&mut *tx)
            .await
            .ctx("inserting project tags")?;
    }
    project.tags = tags;
    Ok(project)
}

/// One project with its tags (on any connection, a transaction's included).
pub(crate) async fn project_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Project>> {
    let row =
        sqlx::query("SELECT id, name, parent_id, team_id, created_at FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .ctx("reading a project")?;
    let Some(row) = row else { return Ok(None) };
    let mut projects = vec![project_from_row(&row)?];
    load_tags(conn, &mut projects).await?;
    Ok(projects.pop())
}

/// Fills in the tags of `projects` with one query.
async fn load_tags(conn: &mut AnyConnection, projects: &mut [Project]) -> Result<()> {
    if projects.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT project_id, tag FROM project_tags WHERE project_id IN ({}) ORDER BY tag",
        placeholders(1, projects.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for p in projects.iter() {
        query = query.bind(p.id);
    }
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for row in query
        .fetch_all(&mut *conn)
        .await
        .ctx("reading project tags")?
    {
        tags.entry(get(&row, "project_id")?)
            .or_default()
            .push(get(&row, "tag")?);
    }
    for p in projects {
        p.tags = tags.remove(&p.id).unwrap_or_default();
    }
    Ok(())
}

/// The version `version` of a project, inserted when new (see [`Store::ensure_version`]).
pub(crate) async fn upsert_version(
    tx: &mut AnyConnection,
    project_id: i64,
    version: &str,
) -> Result<ProjectVersion> {
    if version.trim().is_empty() {
        return Err(StoreError::invalid("project version", "must not be empty"));
    }
    sqlx::query(
        "INSERT INTO project_versions (project_id, version, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (project_id, version) DO NOTHING",
    )
    .bind(project_id)
    .bind(version)
    .bind(to_millis(now()))
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        classify_write(
            e,
            "inserting a project version",
            || format!("version {version:?}"),
            || format!("project {project_id}"),
        )
    })?;
    let row = sqlx::query(
        "SELECT id, project_id, version, created_at FROM project_versions \
         WHERE project_id = $1 AND version = $2",
    )
    .bind(project_id)
    .bind(version)
    .fetch_one(&mut *tx)
    .await
    .ctx("reading a project version")?;
    version_from_row(&row)
}
