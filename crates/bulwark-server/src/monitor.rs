//! Background work: noticing a vulnerability-database update and re-evaluating every stored
//! SBOM, SLA checks, and webhook deliveries. Work goes through the store's job table, so with
//! several processes on one PostgreSQL each job runs once, and a job whose process died is
//! picked up again when its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use bulwark_store::{
    FindingEvent, FindingFilter, Job, NewEvent, PageRequest, Project, ProjectVersion, Severity,
    StateFilter, Store, TriageState,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AppState;
use crate::ingest;
use crate::webhook;

/// Plans a re-evaluation: one batch job per [`BATCH`] current snapshots.
const REEVALUATE: &str = "reevaluate";
/// Re-evaluates the snapshots listed in its payload.
const REEVALUATE_BATCH: &str = "reevaluate_batch";
/// Delivers one webhook call.
const WEBHOOK: &str = "webhook";
/// Snapshots per batch job: small enough to spread over processes, large enough to keep
/// each process's cores busy.
const BATCH: usize = 32;

/// Starts the workers; they stop when `stop` turns true.
pub(crate) fn spawn(state: Arc<AppState>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(watch_loop(state.clone(), stop.clone())),
        tokio::spawn(job_loop(state, stop)),
    ]
}

async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, period: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(period) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

/// Polls the vulnerability database, checks SLAs and keeps planner statistics (where the
/// database does not) every `monitor_interval`.
async fn watch_loop(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    // A database updated while no server ran is noticed at start: each generation is
    // re-evaluated once, whichever process sees it first.
    if let Some(generation) = state.vulndb.generation() {
        plan_reevaluation(&state, &generation).await;
    }
    loop {
        match state.vulndb.refresh() {
            Ok(Some(generation)) => {
                tracing::info!("vulnerability database updated to generation {generation}");
                plan_reevaluation(&state, &generation).await;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!("cannot reopen the vulnerability database: {error}"),
        }
        if let Err(error) = check_slas(&state).await {
            tracing::warn!("SLA check failed: {error}");
        }
        match state.store.refresh_statistics().await {
            Ok(tables) if !tables.is_empty() => tracing::info!(
                "PostgreSQL autovacuum is off: analyzed {}",
                tables.join(", ")
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!("refreshing planner statistics failed: {error}"),
        }
        if sleep_or_stop(&mut stop, state.config.monitor_interval).await {
            return;
        }
    }
}

async fn plan_reevaluation(state: &AppState, generation: &str) {
    let key = format!("reevaluate:{generation}");
    match state.store.record_notification_once(&key).await {
        Ok(true) => {
            if let Err(error) = state
                .store
                .enqueue_job(REEVALUATE, &json!({ "generation": generation }), 5)
                .await
            {
                tracing::error!("cannot enqueue the re-evaluation: {error}");
            }
        }
        Ok(false) => {}
        Err(error) => tracing::error!("cannot record the re-evaluation: {error}"),
    }
}

/// Claims and runs jobs until stopped; sleeps only when no job is ready.
async fn job_loop(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        let mut ran = false;
        for kind in [REEVALUATE, REEVALUATE_BATCH, WEBHOOK] {
            match state.store.claim_job(kind, &state.worker_id).await {
                Ok(Some(job)) => {
                    ran = true;
                    run_job(&state, job).await;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!("cannot claim a {kind} job: {error}"),
            }
        }
        if *stop.borrow() {
            return;
        }
        if !ran && sleep_or_stop(&mut stop, state.config.job_poll_interval).await {
            return;
        }
    }
}

async fn run_job(state: &Arc<AppState>, job: Job) {
    let result = match job.kind.as_str() {
        REEVALUATE => plan_batches(state).await,
        REEVALUATE_BATCH => reevaluate_batch(state, &job.payload).await,
        WEBHOOK => deliver(state, &job).await,
        other => Err(format!("unknown job kind `{other}`")),
    };
    let finished = match result {
        Ok(()) => state.store.complete_job(job.id, &state.worker_id).await,
        Err(error) => {
            tracing::warn!("{} job {} failed: {error}", job.kind, job.id);
            state
                .store
                .fail_job(job.id, &state.worker_id, &error)
                .await
                .map(|_| ())
        }
    };
    if let Err(error) = finished {
        tracing::warn!("cannot finish job {}: {error}", job.id);
    }
}

async fn plan_batches(state: &AppState) -> Result<(), String> {
    let mut after = 0;
    loop {
        let snapshots = state
            .store
            .current_snapshots(after, 1000)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = snapshots.last() else {
            return Ok(());
        };
        after = last.id;
        for chunk in snapshots.chunks(BATCH) {
            let ids: Vec<i64> = chunk.iter().map(|s| s.id).collect();
            state
                .store
                .enqueue_job(REEVALUATE_BATCH, &json!({ "snapshots": ids }), 5)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
}

/// Re-matches each listed snapshot's stored document with the current database and replaces
/// its findings; the store records what appeared and what went away as events.
async fn reevaluate_batch(state: &Arc<AppState>, payload: &Value) -> Result<(), String> {
    // Another process may have planned this on a generation this one has not opened yet.
    if let Err(error) = state.vulndb.refresh() {
        return Err(format!("cannot reopen the vulnerability database: {error}"));
    }
    let ids: Vec<i64> = payload
        .get("snapshots")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let db = state.vulndb.get();
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let store = state.store.clone();
        let db = db.clone();
        tasks.spawn(async move {
            let Some(bytes) = store
                .snapshot_document(id)
                .await
                .map_err(|e| e.to_string())?
            else {
                return Ok::<_, String>(None);
            };
            let evaluated = tokio::task::spawn_blocking(move || {
                ingest::evaluate(&bytes, "stored snapshot", db.as_deref())
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            let changes = store
                .replace_findings(id, &evaluated.findings, "vulnerability database update")
                .await
                .map_err(|e| e.to_string())?;
            Ok(Some((id, changes)))
        });
    }
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(Some((snapshot_id, changes))) => {
                if !changes.added.is_empty()
                    && let Ok(Some((project, version))) = owner_of(&state.store, snapshot_id).await
                {
                    announce_new_findings(state, &project, &version, &changes.added).await;
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!("re-evaluation failed: {error}");
                first_error.get_or_insert(error);
            }
        }
    }
    // Failed snapshots are retried with the whole batch; the others are unchanged by a rerun.
    first_error.map_or(Ok(()), Err)
}

async fn owner_of(
    store: &Store,
    snapshot_id: i64,
) -> bulwark_store::Result<Option<(Project, ProjectVersion)>> {
    let Some(snapshot) = store.get_snapshot(snapshot_id).await? else {
        return Ok(None);
    };
    let Some(version) = store.get_version(snapshot.project_version_id).await? else {
        return Ok(None);
    };
    Ok(store
        .get_project(version.project_id)
        .await?
        .map(|p| (p, version)))
}

fn finding_json(f: &FindingEvent) -> Value {
    json!({
        "id": f.finding_id,
        "component": f.component_name,
        "ecosystem": Some(&f.component_ecosystem).filter(|e| !e.is_empty()),
        "severity": f.severity.as_str(),
        "title": f.title,
    })
}

/// Queues one webhook call per subscribed hook for the new critical findings of a version.
pub(crate) async fn announce_new_findings(
    state: &AppState,
    project: &Project,
    version: &ProjectVersion,
    new: &[FindingEvent],
) {
    let critical: Vec<Value> = new
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(finding_json)
        .collect();
    if critical.is_empty() {
        return;
    }
    let body = json!({
        "event": "finding_new",
        "at": now_text(),
        "project": { "id": project.id, "name": project.name },
        "version": { "id": version.id, "version": version.version },
        "findings": critical,
    });
    notify(state, "finding_new", project.team_id, body).await;
}

/// Queues a delivery of `body` to every hook subscribed to `event` for a project of `team`.
pub(crate) async fn notify(state: &AppState, event: &str, team: Option<i64>, body: Value) {
    let hooks = match state.store.webhooks_for_event(event, team).await {
        Ok(hooks) => hooks,
        Err(error) => {
            tracing::error!("cannot look up webhooks for {event}: {error}");
            return;
        }
    };
    for hook in hooks {
        let payload = json!({
            "webhook": hook.id,
            "event": event,
            "delivery": uuid::Uuid::new_v4().to_string(),
            "body": body,
        });
        if let Err(error) = state.store.enqueue_job(WEBHOOK, &payload, 8).await {
            tracing::error!("cannot queue a webhook delivery: {error}");
        }
    }
}

async fn deliver(state: &AppState, job: &Job) -> Result<(), String> {
    let hook_id = job
        .payload
        .get("webhook")
        .and_then(Value::as_i64)
        .ok_or("payload without a webhook id")?;
    let Some(hook) = state
        .store
        .get_webhook(hook_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(()); // deleted since: nothing to deliver
    };
    let event = job
        .payload
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let delivery = job
        .payload
        .get("delivery")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::to_vec(job.payload.get("body").unwrap_or(&Value::Null))
        .map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        webhook::deliver(&hook.url, &hook.secret, &event, &delivery, &body)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// Records an `sla_breach` event (once per finding identity) for every open finding past its
/// deadline, and notifies hooks per project.
async fn check_slas(state: &AppState) -> bulwark_store::Result<()> {
    let mut offset = 0;
    loop {
        let page = state
            .store
            .overdue_findings(
                &state.sla,
                PageRequest {
                    limit: PageRequest::MAX_LIMIT,
                    offset,
                },
            )
            .await?;
        let count = page.items.len() as u64;
        for finding in page.items {
            let id = &finding.identity;
            let key = format!(
                "sla:{}:{}:{}:{}",
                id.project_id, id.finding_id, id.component_name, id.component_ecosystem
            );
            if !state.store.record_notification_once(&key).await? {
                continue;
            }
            let detail = json!({ "due_at": finding.due_at.map(rfc3339) });
            state
                .store
                .record_event(&NewEvent {
                    project_id: id.project_id,
                    project_version_id: None,
                    snapshot_id: None,
                    kind: "sla_breach".to_owned(),
                    finding_id: Some(id.finding_id.clone()),
                    component_name: Some(id.component_name.clone()),
                    component_ecosystem: Some(id.component_ecosystem.clone()),
                    severity: Some(finding.severity),
                    detail: Some(detail),
                })
                .await?;
            let team = state
                .store
                .get_project(id.project_id)
                .await?
                .and_then(|p| p.team_id);
            let body = json!({
                "event": "sla_breach",
                "at": now_text(),
                "project": { "id": id.project_id },
                "finding": {
                    "id": id.finding_id,
                    "component": id.component_name,
                    "severity": finding.severity.as_str(),
                    "first_seen": rfc3339(finding.first_seen),
                    "due_at": finding.due_at.map(rfc3339),
                },
            });
            notify(state, "sla_breach", team, body).await;
        }
        if count < u64::from(PageRequest::MAX_LIMIT) {
            return Ok(());
        }
        offset += count;
    }
}

/// Records a `policy_failure` event, and notifies hooks, when a version has an open finding
/// at or above the configured severity.
pub(crate) async fn check_policy(state: &AppState, project: &Project, version: &ProjectVersion) {
    let Some(threshold) = state.config.policy_fail_on else {
        return;
    };
    let filter = FindingFilter {
        severities: [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Unknown,
        ]
        .into_iter()
        .filter(|s| *s >= threshold)
        .collect(),
        states: vec![
            StateFilter::Untriaged,
            StateFilter::Is(TriageState::InTriage),
            StateFilter::Is(TriageState::Exploitable),
        ],
        page: PageRequest {
            limit: 20,
            offset: 0,
        },
        ..FindingFilter::default()
    };
    let page = match state.store.list_findings(version.id, &filter).await {
        Ok(page) => page,
        Err(error) => {
            tracing::error!("cannot check the policy: {error}");
            return;
        }
    };
    if page.total == 0 {
        return;
    }
    let ids: Vec<&str> = page
        .items
        .iter()
        .map(|f| f.identity.finding_id.as_str())
        .collect();
    let detail = json!({
        "policy": format!("no open finding of severity {} or above", threshold.as_str()),
        "violations": page.total,
        "examples": ids,
    });
    let event = NewEvent {
        project_id: project.id,
        project_version_id: Some(version.id),
        snapshot_id: None,
        kind: "policy_failure".to_owned(),
        finding_id: None,
        component_name: None,
        component_ecosystem: None,
        severity: Some(threshold),
        detail: Some(detail.clone()),
    };
    if let Err(error) = state.store.record_event(&event).await {
        tracing::error!("cannot record a policy failure: {error}");
    }
    let body = json!({
        "event": "policy_failure",
        "at": now_text(),
        "project": { "id": project.id, "name": project.name },
        "version": { "id": version.id, "version": version.version },
        "detail": detail,
    });
    notify(state, "policy_failure", project.team_id, body).await;
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn now_text() -> String {
    rfc3339(OffsetDateTime::now_utc())
}
