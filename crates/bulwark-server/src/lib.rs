//! The bulwark tracking server: a REST API (`/api/v1`, documented at `/api/openapi.json`),
//! the embedded web UI, and the background work — re-evaluating every stored SBOM when the
//! vulnerability database changes, SLA checks and webhooks — claimed from the store's job
//! table so that several processes can share one PostgreSQL.
//!
//! `bulwark serve` (the CLI) builds a [`Config`], calls [`start`] and [`serve`].

mod api;
mod auth;
mod error;
mod ingest;
mod monitor;
mod openapi;
mod schema;
mod ui;
mod vulndb;
mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt as _;
use bulwark_store::{Sla, Store, StoreError};
use tokio::net::TcpListener;

pub use auth::{API_KEY_HEADER, generate_secret};
pub use error::ApiError;
pub use webhook::{SIGNATURE_HEADER, sign};

use crate::auth::KeyCache;
use crate::vulndb::VulnDb;

/// What `bulwark serve` was asked to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// The vulnerability database directory (`bulwark db`); `None` serves without matching.
    pub vulndb_dir: Option<PathBuf>,
    /// Remediation deadlines per severity.
    pub sla: Sla,
    /// `BULWARK_BOOTSTRAP_API_KEY`: made the first admin key of an empty store.
    pub bootstrap_key: Option<String>,
    /// The largest request body accepted (SBOM uploads included).
    pub max_body_bytes: usize,
    /// How often the database directory is polled for an update, and SLAs are checked.
    pub monitor_interval: Duration,
    /// How often an idle worker looks for jobs.
    pub job_poll_interval: Duration,
    /// Run the background workers in this process (several API-only replicas may turn it off).
    pub workers: bool,
    /// The policy an upload is checked against: an open finding at least this severe (not
    /// triaged away) records a `policy_failure` event and notifies hooks. `None`: no policy.
    pub policy_fail_on: Option<bulwark_store::Severity>,
}

impl Config {
    /// Defaults for `database_url`: a 64 MiB body limit, a 60 s monitor, 1 s job polling.
    pub fn new(database_url: impl Into<String>) -> Config {
        Config {
            database_url: database_url.into(),
            vulndb_dir: None,
            sla: Sla::default(),
            bootstrap_key: None,
            max_body_bytes: 64 * 1024 * 1024,
            monitor_interval: Duration::from_secs(60),
            job_poll_interval: Duration::from_secs(1),
            workers: true,
            policy_fail_on: Some(bulwark_store::Severity::Critical),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vulnerability database exists but cannot be opened.
    #[error("cannot open the vulnerability database: {0}")]
    VulnDb(#[from] bulwark_vulndb::Error),
}

/// Everything a request handler or a worker needs.
pub struct AppState {
    pub(crate) store: Store,
    pub(crate) vulndb: VulnDb,
    pub(crate) sla: Sla,
    pub(crate) keys: KeyCache,
    pub(crate) config: Config,
    pub(crate) worker_id: String,
}

/// A started server: the shared state, ready for [`serve`].
#[derive(Clone)]
pub struct Server {
    state: Arc<AppState>,
}

impl Server {
    /// The store behind the server (for tests and the CLI).
    pub fn store(&self) -> &Store {
        &self.state.store
    }
}

/// Opens the store (applying migrations), installs the bootstrap key on an empty store and
/// opens the vulnerability database.
pub async fn start(config: Config) -> Result<Server, StartError> {
    let store = Store::connect(&config.database_url).await?;
    if let Some(secret) = &config.bootstrap_key
        && store.bootstrap_admin_key(secret).await?.is_some()
    {
        tracing::info!("created the bootstrap admin key from BULWARK_BOOTSTRAP_API_KEY");
    }
    let vulndb = VulnDb::open(config.vulndb_dir.clone())?;
    let worker_id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    Ok(Server {
        state: Arc::new(AppState {
            store,
            vulndb,
            sla: config.sla,
            keys: KeyCache::default(),
            config,
            worker_id,
        }),
    })
}

/// The HTTP application: API, docs and UI.
pub fn router(server: &Server) -> axum::Router {
    api::router(server.state.clone())
}

/// Serves `listener` until `shutdown` completes, running the background workers beside it
/// when the configuration asks for them. In-flight requests finish before it returns.
pub async fn serve(
    server: Server,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = server
        .state
        .config
        .workers
        .then(|| monitor::spawn(server.state.clone(), stop_rx));
    let app = router(&server).into_make_service_with_connect_info::<SocketAddr>();
    // Responses leave in one write each; without Nagle's delay a small one is not held back
    // waiting for the client's acknowledgement of the previous.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {error}");
        }
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    if let Some(workers) = workers {
        for worker in workers {
            let _ = worker.await;
        }
    }
    result
}
