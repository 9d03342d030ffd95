//! The store's error type.

/// Everything that can go wrong in the store.
///
/// Database URLs are never part of a message: they may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names a backend the store does not speak.
    #[error("unsupported database URL {scheme:?}: expected sqlite://PATH or postgres://...")]
    UnsupportedUrl {
        /// The scheme part of the URL (before the first `:`), never the whole URL.
        scheme: String,
    },
    /// Opening the connection pool failed.
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded migrations failed.
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed; `context` says what the store was doing.
    #[error("database error while {context}: {source}")]
    Database {
        /// What the store was doing, e.g. "inserting components".
        context: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A unique constraint refused the row.
    #[error("{what} already exists")]
    Conflict {
        /// The thing that exists, e.g. `project "web" under parent none`.
        what: String,
    },
    /// A referenced row does not exist.
    #[error("{what} not found")]
    NotFound {
        /// The missing thing, e.g. `project 7`.
        what: String,
    },
    /// The caller passed a value the store refuses.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// `complete`/`fail` of a job whose lease the worker no longer holds.
    #[error("job {id} is not leased to worker {worker:?} (lease expired or job finished)")]
    LeaseLost {
        /// The job.
        id: i64,
        /// The worker that tried to finish it.
        worker: String,
    },
    /// A stored value does not parse back (written by something else, or a newer schema).
    #[error("corrupt value in column {column}: {value:?}")]
    Corrupt {
        /// Table and column.
        column: &'static str,
        /// The value as read (truncated).
        value: String,
    },
}

impl StoreError {
    pub(crate) fn corrupt(column: &'static str, value: impl std::fmt::Display) -> Self {
        let mut value = value.to_string();
        if value.len() > 200 {
            let mut cut = 200;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        StoreError::Corrupt { column, value }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches what the store was doing to a driver error.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
    /// Like [`Context::ctx`], but a unique-constraint violation becomes [`StoreError::Conflict`].
    fn ctx_unique(self, context: &'static str, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Database { context, source })
    }

    fn ctx_unique(self, context: &'static str, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| match &source {
            sqlx::Error::Database(e) if e.is_unique_violation() => {
                StoreError::Conflict { what: what() }
            }
            _ => StoreError::Database { context, source },
        })
    }
}

/// Sorts a driver error from a write: a unique violation means `conflict()` exists already, a
/// foreign-key violation means `missing()` does not exist, anything else is a database error.
pub(crate) fn classify_write(
    source: sqlx::Error,
    context: &'static str,
    conflict: impl FnOnce() -> String,
    missing: impl FnOnce() -> String,
) -> StoreError {
    match &source {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            StoreError::Conflict { what: conflict() }
        }
        sqlx::Error::Database(e) if e.is_foreign_key_violation() => {
            StoreError::NotFound { what: missing() }
        }
        _ => StoreError::Database { context, source },
    }
}
