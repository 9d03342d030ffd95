//! Persistence for the bulwark tracking server.
//!
//! One logical schema, two dialect files (`migrations/sqlite`, `migrations/postgres`), applied on
//! [`Store::connect`]. All queries go through sqlx's `Any` driver with runtime-bound parameters:
//! no compile-time `query!` macros (they would need a live database or an offline cache at build
//! time), and no SQL assembled from caller strings. The only SQL built at run time is the number
//! of placeholders (`$n`, or `?` in bulk inserts on SQLite, see `Binds`), and columns, fixed
//! fragments and constants picked from enums.
//!
//! Besides projects, snapshots, findings, triage, keys and jobs (0001), the tracking server's
//! tables (0002) hold the event log ([`Event`]), risk samples for the trend
//! ([`Store::risk_trend`]), webhooks ([`Webhook`]) and the notifications already sent.
//!
//! Timestamps are stored as milliseconds since the Unix epoch (the `Any` driver has no date
//! type), JSON values as text.

mod components;
mod error;
mod events;
mod findings;
mod jobs;
mod keys;
mod portfolio;
mod projects;
mod rematch;
mod remediation;
mod snapshots;
mod statistics;
mod webhooks;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

pub use components::{ComponentClass, ComponentFilter, ComponentRow};
pub use error::{Result, StoreError};
pub use events::{Event, EventFilter, FindingEvent, NewEvent};
pub use findings::{
    AuditEntry, FindingFilter, FindingIdentity, FindingKind, FindingRow, FindingSort,
    Justification, Severity, StateFilter, Triage, TriageChange, TriageState,
};
pub use jobs::{Job, JobConfig, JobState};
pub use keys::{ApiKey, NewApiKey, Scope, Team};
pub use portfolio::{PortfolioTotals, ProjectRisk, SeverityCounts, TrendPoint};
pub use projects::{
    NewProject, Project, ProjectFilter, ProjectSort, ProjectVersion, VersionFilter, VersionListing,
};
pub use rematch::FindingChanges;
pub use remediation::{RemediationRow, Sla};
pub use snapshots::{
    Destination, IngestSummary, NewComponent, NewFinding, NewSnapshot, SbomFormat, Snapshot,
};
pub use webhooks::{NewWebhook, Webhook};

use error::Context as _;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database sits behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded single-file database (the default for one machine).
    Sqlite,
    /// Shared server database (several `bulwark serve` processes).
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A page request: at most `limit` rows after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted; clamped to 1..=[`PageRequest::MAX_LIMIT`].
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

impl PageRequest {
    /// The largest page the store returns, so one request cannot pull a whole table.
    pub const MAX_LIMIT: u32 = 1000;

    /// The first row only: what a listing whose page came back empty asks again, to learn its
    /// total from the window count (offset 0, so that second look is the last).
    pub(crate) const FIRST_ROW: PageRequest = PageRequest {
        limit: 1,
        offset: 0,
    };

    fn limit(self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT))
    }

    fn offset(self) -> i64 {
        i64::try_from(self.offset).unwrap_or(i64::MAX)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: 100,
            offset: 0,
        }
    }
}

/// One page of results and the number of rows matching the filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The rows of this page, in the requested order.
    pub items: Vec<T>,
    /// All rows matching the filter, ignoring limit and offset.
    pub total: u64,
}

/// A handle on the database: cheap to clone (it is a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    jobs: JobConfig,
}

impl Store {
    /// Opens `sqlite://PATH` (created if missing, WAL, foreign keys on, 60 s busy timeout) or
    /// `postgres://...` (`postgresql://` too), and applies the migrations.
    ///
    /// PostgreSQL connection parameters travel in the URL, e.g.
    /// `?options=-c%20search_path%3Dmy_schema` to use a schema other than `public`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let scheme = url.split(':').next().unwrap_or_default();
        let (backend, url) = match scheme {
            "sqlite" => (Backend::Sqlite, sqlite_url(url)),
            "postgres" | "postgresql" => (Backend::Postgres, url.to_owned()),
            other => {
                return Err(StoreError::UnsupportedUrl {
                    scheme: other.chars().take(32).collect(),
                });
            }
        };
        let options = match backend {
            // Writers serialise on SQLite anyway; a few connections let readers run beside one.
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers proceed while one writer commits; NORMAL sync is
                            // durable across application crashes, which is what WAL users expect.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            // One writer at a time: a burst of large uploads queues here, so
                            // the wait must outlast the queue (the load test: 50 uploads of
                            // 5,000 components), not fail the upload after 5 s.
                            conn.execute("PRAGMA busy_timeout = 60000").await?;
                            Ok(())
                        })
                    })
            }
            Backend::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        let pool = options
            // As long as the SQLite busy timeout: waiting for a connection is the same queue.
            .acquire_timeout(Duration::from_secs(60))
            .connect(&url)
            .await
            .map_err(|source| StoreError::Connect {
                backend: backend.name(),
                source,
            })?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store {
            pool,
            backend,
            jobs: JobConfig::default(),
        })
    }

    /// Replaces the job lease and retry settings.
    #[must_use]
    pub fn with_job_config(mut self, jobs: JobConfig) -> Store {
        self.jobs = jobs;
        self
    }

    /// The backend behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .ctx("checking the database")?;
        Ok(())
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write.
    ///
    /// On SQLite this is `BEGIN IMMEDIATE`: a deferred transaction that reads first and writes
    /// later cannot wait for the write lock (SQLite answers `SQLITE_BUSY` at once instead of
    /// honouring the busy timeout), so every read-then-write transaction takes the lock up front.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .ctx("starting a transaction")
    }
}

/// Adds `mode=rwc` (create if missing) to a SQLite URL that does not choose a mode itself.
fn sqlite_url(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
}

/// Writes the bind placeholders of a bulk statement in the order its values are bound: `?` on
/// SQLite, `$1`, `$2`, ... on PostgreSQL.
///
/// SQLite finds a named or numbered parameter (`$3`) by a linear scan of the statement's
/// parameter names, and sqlx asks for every parameter's name on every execution, so a
/// statement with thousands of `$n` costs O(n²) each time it runs (a 10,000-row component
/// insert took ten times longer). Anonymous `?` parameters have no names. Statements built
/// with this type therefore bind every value in textual order, repeating shared values
/// instead of referring back to `$1`.
pub(crate) struct Binds {
    backend: Backend,
    next: usize,
}

impl Binds {
    pub(crate) fn new(backend: Backend) -> Binds {
        Binds { backend, next: 1 }
    }

    /// Appends the next placeholder.
    pub(crate) fn push(&mut self, sql: &mut String) {
        match self.backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&self.next.to_string());
            }
        }
        self.next += 1;
    }

    /// Appends `(p, p, ...)` with `count` placeholders.
    pub(crate) fn push_tuple(&mut self, sql: &mut String, count: usize) {
        sql.push('(');
        for i in 0..count {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push(sql);
        }
        sql.push(')');
    }
}

/// Writes `$first, $first+1, ...` (`count` placeholders) for an `IN (...)` list.
fn placeholders(first: usize, count: usize) -> String {
    let mut out = String::new();
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('$');
        out.push_str(&(first + i).to_string());
    }
    out
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Milliseconds since the Unix epoch, saturating far outside any real date.
fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(if t.year() < 1970 {
        i64::MIN
    } else {
        i64::MAX
    })
}

fn from_millis(column: &'static str, ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::corrupt(column, ms))
}

fn opt_from_millis(column: &'static str, ms: Option<i64>) -> Result<Option<OffsetDateTime>> {
    ms.map(|ms| from_millis(column, ms)).transpose()
}

/// Reads a column, reporting which one failed.
fn get<'r, T>(row: &'r AnyRow, column: &'static str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).ctx("decoding a row")
}

#[cfg(test)]
mod tests;
