//! The job table: background work (re-matching, webhooks) that several server processes share.
//!
//! A claim leases a job to one worker until `lease_expires_at`; a worker that dies simply lets
//! the lease run out and the job is claimed again. PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers pick different rows without waiting on each
//! other; SQLite serialises claims in a `BEGIN IMMEDIATE` transaction.

use std::time::Duration;

use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::error::{Context as _, Result, StoreError};
use crate::{Backend, Store, from_millis, get, now, opt_from_millis, to_millis};

/// Lease and retry settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobConfig {
    /// How long a claim holds a job before another worker may take it.
    pub lease: Duration,
    /// Delay before the first retry; doubled for each further attempt.
    pub backoff_base: Duration,
    /// Upper bound of the retry delay.
    pub backoff_max: Duration,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            lease: Duration::from_secs(300),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
        }
    }
}

impl JobConfig {
    /// The delay after the `attempts`-th failed attempt: base * 2^(attempts-1), capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.backoff_base
            .checked_mul(factor)
            .unwrap_or(self.backoff_max)
            .min(self.backoff_max)
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting to be claimed (after `run_after`).
    Pending,
    /// Leased to a worker.
    Running,
    /// Finished successfully.
    Done,
    /// Gave up after `max_attempts`.
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "pending" => JobState::Pending,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }
}

/// A job row.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// What to do, e.g. `rematch`, `webhook`.
    pub kind: String,
    /// Arguments.
    pub payload: serde_json::Value,
    /// State.
    pub state: JobState,
    /// Claims so far (including the current one).
    pub attempts: u32,
    /// Claims allowed.
    pub max_attempts: u32,
    /// Not claimed before this time.
    pub run_after: OffsetDateTime,
    /// The worker holding (or last holding) the lease.
    pub worker: Option<String>,
    /// When the current lease runs out.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_after, worker, \
                           lease_expires_at, last_error";

fn job_from_row(row: &AnyRow) -> Result<Job> {
    let payload: String = get(row, "payload")?;
    let state: String = get(row, "state")?;
    let count = |column: &'static str| -> Result<u32> {
        let n: i64 = get(row, column)?;
        u32::try_from(n).map_err(|_| StoreError::corrupt(column, n))
    };
    Ok(Job {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        payload: serde_json::from_str(&payload)
            .map_err(|_| StoreError::corrupt("jobs.payload", &payload))?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::corrupt("jobs.state", &state))?,
        attempts: count("attempts")?,
        max_attempts: count("max_attempts")?,
        run_after: from_millis("jobs.run_after", get(row, "run_after")?)?,
        worker: get(row, "worker")?,
        lease_expires_at: opt_from_millis("jobs.lease_expires_at", get(row, "lease_expires_at")?)?,
        last_error: get(row, "last_error")?,
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Adds a job, claimable at once, that may be claimed up to `max_attempts` times.
    pub async fn enqueue_job(
        &self,
        kind: &str,
        payload: &serde_json::Value,
        max_attempts: u32,
    ) -> Result<Job> {
        if max_attempts == 0 {
            return Err(StoreError::invalid("max_attempts", "must be at least 1"));
        }
        let now_ms = to_millis(now());
        let sql = format!(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_after, \
             created_at, updated_at) VALUES ($1, $2, $3, 0, $4, $5, $5, $5) RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(kind)
            .bind(payload.to_string())
            .bind(JobState::Pending.as_str())
            .bind(i64::from(max_attempts))
            .bind(now_ms)
            .fetch_one(&self.pool)
            .await
            .ctx("enqueueing a job")?;
        job_from_row(&row)
    }

    /// One job by id.
    pub async fn get_job(&self, id: i64) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a job")?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }

    /// Leases the oldest claimable job of `kind` to `worker`: a pending job whose `run_after`
    /// has come, or a running one whose lease ran out (its worker died). Never hands one job to
    /// two workers at once.
    pub async fn claim_job(&self, kind: &str, worker: &str) -> Result<Option<Job>> {
        let now_ms = to_millis(now());
        let lease_until = now_ms.saturating_add(millis(self.jobs.lease));
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', worker = $1, lease_expires_at = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE kind = $4 AND attempts < max_attempts \
             AND ((state = 'pending' AND run_after <= $3) \
             OR (state = 'running' AND lease_expires_at <= $3)) \
             ORDER BY run_after, id LIMIT 1 {lock}) \
             RETURNING {JOB_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_until)
            .bind(now_ms)
            .bind(kind)
            .fetch_optional(&mut *tx)
            .await
            .ctx("claiming a job")?;
        tx.commit().await.ctx("committing a job claim")?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Marks a job done. Fails with [`StoreError::LeaseLost`] unless `worker` holds its lease.
    pub async fn complete_job(&self, id: i64, worker: &str) -> Result<()> {
        let now_ms = to_millis(now());
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_expires_at = NULL, updated_at = $1 \
             WHERE id = $2 AND worker = $3 AND state = 'running' AND lease_expires_at > $1",
        )
        .bind(now_ms)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await
        .ctx("completing a job")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost {
                id,
                worker: worker.to_owned(),
            });
        }
        Ok(())
    }

    /// Records a failed attempt: the job goes back to pending after the backoff, or to failed
    /// once its attempts are spent. Fails with [`StoreError::LeaseLost`] unless `worker` holds
    /// its lease.
    pub async fn fail_job(&self, id: i64, worker: &str, error: &str) -> Result<Job> {
        let now_ms = to_millis(now());
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT attempts, max_attempts FROM jobs \
             WHERE id = $1 AND worker = $2 AND state = 'running' AND lease_expires_at > $3",
        )
        .bind(id)
        .bind(worker)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await
        .ctx("reading a job")?;
        let Some(row) = row else {
            return Err(StoreError::LeaseLost {
                id,
                worker: worker.to_owned(),
            });
        };
        let attempts: i64 = get(&row, "attempts")?;
        let max_attempts: i64 = get(&row, "max_attempts")?;
        let (state, run_after) = if attempts >= max_attempts {
            (JobState::Failed, now_ms)
        } else {
            let delay = self
                .jobs
                .backoff(u32::try_from(attempts).unwrap_or(u32::MAX));
            (JobState::Pending, now_ms.saturating_add(millis(delay)))
        };
        let sql = format!(
            "UPDATE jobs SET state = $1, run_after = $2, lease_expires_at = NULL, \
             last_error = $3, updated_at = $4 WHERE id = $5 RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(run_after)
            .bind(error)
            .bind(now_ms)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .ctx("failing a job")?;
        tx.commit().await.ctx("committing a job failure")?;
        job_from_row(&row)
    }
}
