//! The store's tests. Every test runs on SQLite (a temporary file) and, when
//! `BULWARK_TEST_POSTGRES_URL` is set, on PostgreSQL in a fresh schema of its own; an
//! unreachable PostgreSQL then fails the test instead of skipping it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use sqlx::Connection as _;

use super::*;

const PG_ENV: &str = "BULWARK_TEST_POSTGRES_URL";

struct TestDb {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = Store::connect(&url).await.expect("open SQLite store");
        TestDb {
            store,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// `None` when no PostgreSQL is configured; panics when one is configured but unusable.
    async fn postgres() -> Option<TestDb> {
        let base = std::env::var(PG_ENV).ok()?;
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let schema = format!(
            "t_{}_{}_{}",
            std::process::id(),
            nanos,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::any::install_default_drivers();
        let mut admin = sqlx::AnyConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        admin.close().await.expect("close admin connection");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let store = Store::connect(&url).await.expect("open PostgreSQL store");
        Some(TestDb {
            store,
            _dir: None,
            pg: Some((base, schema)),
        })
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((base, schema)) = self.pg {
            let mut admin = sqlx::AnyConnection::connect(&base)
                .await
                .expect("reconnect");
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .expect("drop test schema");
        }
    }
}

/// Runs each listed `async fn(&Store)` once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}

mod tracking;

on_both_backends!(
    teams_and_keys,
    bootstrap_on_empty_store,
    bootstrap_refused_when_keys_exist,
    projects_names_tags_and_listing,
    versions_are_created_once,
    ingest_and_list_findings,
    ingest_error_leaves_nothing,
    ingest_creates_project_and_version_with_the_snapshot,
    statistics_are_refreshed_when_autovacuum_is_off,
    triage_with_audit_trail_carries_over,
    job_lifecycle,
    job_lease_expiry_and_retries,
    concurrent_claims_are_exclusive,
);

async fn count(store: &Store, table: &'static str) -> i64 {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(&store.pool)
    .await
    .expect("count rows");
    get(&row, "n").expect("count column")
}

const SECRET: &str = "bwk_0123456789abcdef0123456789abcdef";

async fn teams_and_keys(store: &Store) {
    let team = store.create_team("ml-platform").await.unwrap();
    assert!(matches!(
        store.create_team("ml-platform").await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store
            .create_api_key(&NewApiKey {
                secret: "short",
                name: "ci",
                team_id: Some(team.id),
                scopes: &[Scope::Read],
            })
            .await,
        Err(StoreError::Invalid { .. })
    ));
    let key = store
        .create_api_key(&NewApiKey {
            secret: SECRET,
            name: "ci",
            team_id: Some(team.id),
            scopes: &[Scope::Upload, Scope::Read, Scope::Upload],
        })
        .await
        .unwrap();
    assert_eq!(key.prefix, "bwk_0123");
    assert_eq!(key.scopes, vec![Scope::Read, Scope::Upload]);
    assert!(key.allows(Scope::Upload) && !key.allows(Scope::Triage));
    assert_eq!(key.last_used_at, None);

    // The secret itself is nowhere in the table.
    let stored: String = get(
        &sqlx::query("SELECT key_hash FROM api_keys")
            .fetch_one(&store.pool)
            .await
            .unwrap(),
        "key_hash",
    )
    .unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains("0123456789abcdef"));

    let authed = store
        .authenticate(SECRET)
        .await
        .unwrap()
        .expect("valid key");
    assert_eq!(authed.id, key.id);
    assert!(authed.last_used_at.is_some());
    assert_eq!(
        store.authenticate("bwk_wrong_wrong_wrong").await.unwrap(),
        None
    );

    let other = store.create_team("web").await.unwrap();
    assert_eq!(store.list_api_keys(Some(team.id)).await.unwrap().len(), 1);
    assert!(
        store
            .list_api_keys(Some(other.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_teams().await.unwrap().len(), 2);

    store.revoke_api_key(key.id).await.unwrap();
    assert_eq!(store.authenticate(SECRET).await.unwrap(), None);
    assert!(matches!(
        store.revoke_api_key(key.id + 1000).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn bootstrap_on_empty_store(store: &Store) {
    let key = store
        .bootstrap_admin_key(SECRET)
        .await
        .unwrap()
        .expect("inserted");
    assert_eq!(key.scopes, vec![Scope::Admin]);
    assert!(key.allows(Scope::Triage));
    assert_eq!(store.bootstrap_admin_key(SECRET).await.unwrap(), None);
    assert_eq!(
        store
            .bootstrap_admin_key("bwk_another_secret_value")
            .await
            .unwrap(),
        None
    );
    assert_eq!(count(store, "api_keys").await, 1);
    assert!(store.authenticate(SECRET).await.unwrap().is_some());
}

async fn bootstrap_refused_when_keys_exist(store: &Store) {
    store
        .create_api_key(&NewApiKey {
            secret: "bwk_existing_key_0000",
            name: "existing",
            team_id: None,
            scopes: &[Scope::Read],
        })
        .await
        .unwrap();
    assert_eq!(store.bootstrap_admin_key(SECRET).await.unwrap(), None);
    assert_eq!(store.authenticate(SECRET).await.unwrap(), None);
}

async fn projects_names_tags_and_listing(store: &Store) {
    let a = store.create_team("a").await.unwrap();
    let b = store.create_team("b").await.unwrap();
    let tags = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let platform = store
        .create_project(&NewProject {
            name: "platform",
            parent_id: None,
            team_id: Some(a.id),
            tags: &tags(&["prod", "gpu", "prod"]),
        })
        .await
        .unwrap();
    assert_eq!(platform.tags, tags(&["gpu", "prod"]));
    // Unique per parent, including at the top level where the parent is NULL.
    assert!(matches!(
        store
            .create_project(&NewProject {
                name: "platform",
                parent_id: None,
                team_id: Some(b.id),
                tags: &[],
            })
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let child = NewProject {
        name: "trainer",
        parent_id: Some(platform.id),
        team_id: Some(a.id),
        tags: &[],
    };
    store.create_project(&child).await.unwrap();
    assert!(matches!(
        store.create_project(&child).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store
            .create_project(&NewProject {
                parent_id: Some(platform.id + 1000),
                ..child
            })
            .await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .create_project(&NewProject {
            name: "100%_web",
            parent_id: None,
            team_id: Some(b.id),
            tags: &tags(&["prod"]),
        })
        .await
        .unwrap();
    store
        .create_project(&NewProject {
            name: "orphan",
            parent_id: None,
            team_id: None,
            tags: &[],
        })
        .await
        .unwrap();

    let names = |page: &Page<Project>| {
        page.items
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };
    let all = store
        .list_projects(&ProjectFilter::default())
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(names(&all), ["100%_web", "orphan", "platform", "trainer"]);

    let team_a = store
        .list_projects(&ProjectFilter {
            teams: Some(vec![a.id]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&team_a), ["platform", "trainer"]);
    let nobody = store
        .list_projects(&ProjectFilter {
            teams: Some(vec![]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(nobody.total, 0);

    let prod = store
        .list_projects(&ProjectFilter {
            tag: Some("prod".into()),
            sort: ProjectSort::Name,
            descending: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&prod), ["platform", "100%_web"]);

    // `%` and `_` match literally, and the match ignores ASCII case.
    let percent = store
        .list_projects(&ProjectFilter {
            name_contains: Some("0%_W".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&percent), ["100%_web"]);
    let none = store
        .list_projects(&ProjectFilter {
            name_contains: Some("%".into()),
            teams: Some(vec![a.id]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    let children = store
        .list_projects(&ProjectFilter {
            parent_id: Some(platform.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(names(&children), ["trainer"]);

    let page2 = store
        .list_projects(&ProjectFilter {
            page: PageRequest {
                limit: 2,
                offset: 2,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page2.total, 4);
    assert_eq!(names(&page2), ["platform", "trainer"]);

    let found = store
        .find_project(Some(platform.id), "trainer")
        .await
        .unwrap();
    assert_eq!(found.map(|p| p.parent_id), Some(Some(platform.id)));
    assert_eq!(store.find_project(None, "trainer").await.unwrap(), None);
    assert_eq!(
        store.get_project(platform.id).await.unwrap().unwrap().tags,
        tags(&["gpu", "prod"])
    );
}

async fn versions_are_created_once(store: &Store) {
    let p = project(store, "svc").await;
    let v1 = store.ensure_version(p, "1.0.0").await.unwrap();
    let again = store.ensure_version(p, "1.0.0").await.unwrap();
    assert_eq!(v1, again);
    store.ensure_version(p, "1.1.0").await.unwrap();
    let versions = store.list_versions(p).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["1.0.0", "1.1.0"]
    );
    assert!(matches!(
        store.ensure_version(p + 1000, "1").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn project(store: &Store, name: &str) -> i64 {
    store
        .create_project(&NewProject {
            name,
            parent_id: None,
            team_id: None,
            tags: &[],
        })
        .await
        .unwrap()
        .id
}

fn component(bom_ref: &str, name: &str, ecosystem: Option<&str>) -> NewComponent {
    NewComponent {
        bom_ref: bom_ref.to_owned(),
        purl: ecosystem.map(|_| format!("pkg:pypi/{name}@1.0")),
        name: name.to_owned(),
        version: Some("1.0".to_owned()),
        ecosystem: ecosystem.map(str::to_owned),
        kind: "library".to_owned(),
        gpu: None,
        model: None,
    }
}

fn finding(id: &str, severity: Severity, component_ref: &str) -> NewFinding {
    NewFinding {
        id: id.to_owned(),
        kind: FindingKind::Vulnerability,
        aliases: vec![format!("CVE-{id}")],
        severity,
        title: None,
        component_ref: component_ref.to_owned(),
    }
}

fn snapshot(
    version: i64,
    components: Vec<NewComponent>,
    findings: Vec<NewFinding>,
) -> NewSnapshot<'static> {
    NewSnapshot {
        destination: Destination::Version(version),
        format: SbomFormat::CycloneDxJson,
        document: br#"{"bomFormat":"CycloneDX"}"#.to_vec(),
        uploaded_by: "ci".to_owned(),
        components,
        findings,
    }
}

async fn ingest_and_list_findings(store: &Store) {
    let p = project(store, "trainer").await;
    let v1 = store.ensure_version(p, "1").await.unwrap();
    let mut torch = component("c1", "torch", Some("PyPI"));
    torch.gpu = Some(json!({"cuda": "12.1"}));
    let mut model = component("c3", "resnet.pt", None);
    model.kind = "machine-learning-model".to_owned();
    model.model = Some(json!({"format": "pytorch", "pickle": true}));
    let mut artifact = finding("BULWARK-PICKLE-001", Severity::Critical, "c3");
    artifact.kind = FindingKind::Artifact;
    artifact.aliases = vec![];
    let first = store
        .ingest_snapshot(&snapshot(
            v1.id,
            vec![
                torch.clone(),
                component("c2", "numpy", Some("PyPI")),
                model.clone(),
            ],
            vec![
                finding("GHSA-1", Severity::Medium, "c1"),
                finding("GHSA-2", Severity::High, "c2"),
                artifact.clone(),
            ],
        ))
        .await
        .unwrap();
    assert_eq!((first.components, first.findings), (3, 3));
    assert_eq!(
        first.snapshot.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            br#"{"bomFormat":"CycloneDX"}"#
        ))
    );
    assert_eq!(
        store
            .snapshot_document(first.snapshot.id)
            .await
            .unwrap()
            .as_deref(),
        Some(&br#"{"bomFormat":"CycloneDX"}"#[..])
    );
    assert_eq!(store.count_components(first.snapshot.id).await.unwrap(), 3);
    let gpu: Option<String> = get(
        &sqlx::query("SELECT gpu FROM components WHERE bom_ref = 'c1'")
            .fetch_one(&store.pool)
            .await
            .unwrap(),
        "gpu",
    )
    .unwrap();
    assert_eq!(gpu.as_deref(), Some(r#"{"cuda":"12.1"}"#));

    let listed = store
        .list_findings(v1.id, &FindingFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 3);
    let ids = |page: &Page<FindingRow>| {
        page.items
            .iter()
            .map(|f| f.identity.finding_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&listed), ["BULWARK-PICKLE-001", "GHSA-2", "GHSA-1"]);
    let pickle = &listed.items[0];
    assert_eq!(pickle.kind, FindingKind::Artifact);
    assert_eq!(pickle.identity.component_ecosystem, "");
    assert_eq!(listed.items[1].aliases, vec!["CVE-GHSA-2".to_owned()]);
    assert_eq!(
        listed.items[1].component_purl.as_deref(),
        Some("pkg:pypi/numpy@1.0")
    );

    let high_up = store
        .list_findings(
            v1.id,
            &FindingFilter {
                severities: vec![Severity::High, Severity::Critical],
                sort: FindingSort::FindingId,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&high_up), ["BULWARK-PICKLE-001", "GHSA-2"]);
    let reversed = store
        .list_findings(
            v1.id,
            &FindingFilter {
                reverse: true,
                page: PageRequest {
                    limit: 1,
                    offset: 1,
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (reversed.total, ids(&reversed)),
        (3, vec!["GHSA-2".to_owned()])
    );

    // A later upload of the same version replaces what is listed; first_seen carries over.
    tokio::time::sleep(Duration::from_millis(5)).await;
    store
        .ingest_snapshot(&snapshot(
            v1.id,
            vec![torch, component("c9", "scipy", Some("PyPI"))],
            vec![
                finding("GHSA-1", Severity::Medium, "c1"),
                finding("GHSA-9", Severity::Low, "c9"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(store.list_snapshots(v1.id).await.unwrap().len(), 2);
    let second = store
        .list_findings(
            v1.id,
            &FindingFilter {
                sort: FindingSort::Component,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&second), ["GHSA-9", "GHSA-1"]);
    let seen: HashMap<String, OffsetDateTime> = second
        .items
        .iter()
        .map(|f| (f.identity.finding_id.clone(), f.first_seen))
        .collect();
    assert_eq!(seen["GHSA-1"], listed.items[2].first_seen);
    assert!(seen["GHSA-9"] > listed.items[2].first_seen);
}

async fn ingest_error_leaves_nothing(store: &Store) {
    let p = project(store, "big").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    // 1,200 components: the duplicate bom-ref sits in the third insert batch, after the
    // snapshot row and two batches of components were written in the transaction.
    let mut components: Vec<NewComponent> = (0..1200)
        .map(|i| component(&format!("c{i}"), &format!("pkg{i}"), Some("PyPI")))
        .collect();
    components[1100].bom_ref = "c5".to_owned();
    let findings = vec![finding("GHSA-x", Severity::High, "c1")];
    let err = store
        .ingest_snapshot(&snapshot(v.id, components.clone(), findings.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    for table in [
        "sbom_snapshots",
        "components",
        "findings",
        "events",
        "risk_samples",
    ] {
        assert_eq!(
            count(store, table).await,
            0,
            "{table} after a failed ingest"
        );
    }

    let err = store
        .ingest_snapshot(&snapshot(
            v.id,
            vec![component("c1", "a", None)],
            vec![finding("GHSA-y", Severity::Low, "missing")],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(matches!(
        store
            .ingest_snapshot(&snapshot(v.id + 1000, vec![], vec![]))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(count(store, "sbom_snapshots").await, 0);

    // The same upload without the duplicate goes through whole.
    components[1100].bom_ref = "c1100".to_owned();
    let ok = store
        .ingest_snapshot(&snapshot(v.id, components, findings))
        .await
        .unwrap();
    assert_eq!(store.count_components(ok.snapshot.id).await.unwrap(), 1200);
    assert_eq!(count(store, "findings").await, 1);
}

async fn ingest_creates_project_and_version_with_the_snapshot(store: &Store) {
    let tags = ["gpu".to_owned()];
    let new_project = |version| Destination::NewProject {
        project: NewProject {
            name: "fresh",
            parent_id: None,
            team_id: None,
            tags: &tags,
        },
        version,
    };
    let duplicate_refs = vec![component("c1", "a", None), component("c1", "b", None)];
    let mut upload = snapshot(0, duplicate_refs, vec![]);
    upload.destination = new_project("1");
    let err = store.ingest_snapshot(&upload).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    for table in [
        "projects",
        "project_tags",
        "project_versions",
        "sbom_snapshots",
    ] {
        assert_eq!(
            count(store, table).await,
            0,
            "{table} after a failed ingest"
        );
    }

    upload.components = vec![component("c1", "a", Some("PyPI"))];
    let first = store.ingest_snapshot(&upload).await.unwrap();
    assert_eq!(first.project.name, "fresh");
    assert_eq!(first.project.tags, ["gpu"]);
    assert_eq!(first.version.version, "1");
    assert_eq!(first.version.project_id, first.project.id);
    assert_eq!(first.snapshot.project_version_id, first.version.id);

    // A second creator of the same project loses and stores into the first one's.
    let err = store.ingest_snapshot(&upload).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    upload.destination = Destination::VersionOf {
        project: first.project.clone(),
        version: "2",
    };
    let second = store.ingest_snapshot(&upload).await.unwrap();
    assert_eq!(second.project, first.project);
    assert_ne!(second.version.id, first.version.id);
    assert_eq!(count(store, "projects").await, 1);

    upload.destination = Destination::Version(first.version.id);
    let third = store.ingest_snapshot(&upload).await.unwrap();
    assert_eq!(third.version, first.version);
    assert_eq!(count(store, "sbom_snapshots").await, 3);

    upload.destination = Destination::Version(i64::MAX);
    let err = store.ingest_snapshot(&upload).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

async fn statistics_are_refreshed_when_autovacuum_is_off(store: &Store) {
    if store.backend() == Backend::Postgres {
        // What a server with `autovacuum = off` does to every table, for this one only, so
        // that the test takes the same path on any PostgreSQL.
        sqlx::query("ALTER TABLE components SET (autovacuum_enabled = false)")
            .execute(&store.pool)
            .await
            .unwrap();
    }
    let p = project(store, "stats").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    let components = (0..300)
        .map(|i| component(&format!("c{i}"), &format!("pkg{i}"), Some("PyPI")))
        .collect();
    store
        .ingest_snapshot(&snapshot(v.id, components, vec![]))
        .await
        .unwrap();
    if store.backend() == Backend::Sqlite {
        assert_eq!(
            store.refresh_statistics().await.unwrap(),
            Vec::<&str>::new()
        );
        return;
    }
    // The inserting connection reports its row counts to the statistics system when it goes
    // idle, at most every second, and may hold them up to 10 s when it reported just before.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let analyzed = store.refresh_statistics().await.unwrap();
        if analyzed.contains(&"components") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "components never analyzed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() AND relname = 'components' \
         AND last_analyze IS NOT NULL",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap();
    assert_eq!(get::<i64>(&row, "n").unwrap(), 1);
}

async fn triage_with_audit_trail_carries_over(store: &Store) {
    let p = project(store, "api").await;
    let v1 = store.ensure_version(p, "1").await.unwrap();
    let v2 = store.ensure_version(p, "2").await.unwrap();
    let components = vec![component("c1", "requests", Some("PyPI"))];
    let findings = vec![
        finding("GHSA-a", Severity::High, "c1"),
        finding("GHSA-b", Severity::Low, "c1"),
    ];
    store
        .ingest_snapshot(&snapshot(v1.id, components.clone(), findings.clone()))
        .await
        .unwrap();
    let identity = FindingIdentity {
        project_id: p,
        finding_id: "GHSA-a".to_owned(),
        component_name: "requests".to_owned(),
        component_ecosystem: "PyPI".to_owned(),
    };
    assert_eq!(store.get_triage(&identity).await.unwrap(), None);

    assert!(matches!(
        store
            .set_triage(
                &identity,
                &TriageChange {
                    state: TriageState::NotAffected,
                    justification: None,
                    detail: None,
                    suppressed_until: None,
                },
                "alice",
            )
            .await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        store
            .set_triage(
                &identity,
                &TriageChange {
                    state: TriageState::Exploitable,
                    justification: Some(Justification::CodeNotReachable),
                    detail: None,
                    suppressed_until: None,
                },
                "alice",
            )
            .await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(store.triage_history(&identity).await.unwrap().is_empty());

    store
        .set_triage(
            &identity,
            &TriageChange {
                state: TriageState::InTriage,
                justification: None,
                detail: Some("looking".into()),
                suppressed_until: None,
            },
            "alice",
        )
        .await
        .unwrap();
    let until = OffsetDateTime::now_utc() + time::Duration::days(30);
    let stored = store
        .set_triage(
            &identity,
            &TriageChange {
                state: TriageState::NotAffected,
                justification: Some(Justification::VulnerableCodeNotInExecutePath),
                detail: Some("looking".into()),
                suppressed_until: Some(until),
            },
            "bob",
        )
        .await
        .unwrap();
    assert_eq!(store.get_triage(&identity).await.unwrap(), Some(stored));

    let history = store.triage_history(&identity).await.unwrap();
    let rows: Vec<(&str, &str, Option<&str>, Option<&str>)> = history
        .iter()
        .map(|e| {
            (
                e.actor.as_str(),
                e.field.as_str(),
                e.old_value.as_deref(),
                e.new_value.as_deref(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[0], ("alice", "state", None, Some("in_triage")));
    assert_eq!(rows[1], ("alice", "detail", None, Some("looking")));
    assert_eq!(
        rows[2],
        ("bob", "state", Some("in_triage"), Some("not_affected"))
    );
    assert_eq!(
        rows[3],
        (
            "bob",
            "justification",
            None,
            Some("vulnerable_code_not_in_execute_path")
        )
    );
    assert_eq!(rows[4].1, "suppressed_until");
    assert!(
        rows[4]
            .3
            .is_some_and(|v| v.starts_with(&until.year().to_string()))
    );

    // Version 2 inherits the triage; the suppressed finding is hidden unless asked for.
    store
        .ingest_snapshot(&snapshot(v2.id, components, findings))
        .await
        .unwrap();
    let visible = store
        .list_findings(v2.id, &FindingFilter::default())
        .await
        .unwrap();
    assert_eq!(visible.total, 1);
    assert_eq!(visible.items[0].identity.finding_id, "GHSA-b");
    let all = store
        .list_findings(
            v2.id,
            &FindingFilter {
                include_suppressed: true,
                states: vec![StateFilter::Is(TriageState::NotAffected)],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.total, 1);
    let triage = all.items[0].triage.as_ref().expect("carried-over triage");
    assert_eq!(triage.state, TriageState::NotAffected);
    assert_eq!(triage.updated_by, "bob");
    let untriaged = store
        .list_findings(
            v2.id,
            &FindingFilter {
                include_suppressed: true,
                states: vec![StateFilter::Untriaged],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(untriaged.items[0].identity.finding_id, "GHSA-b");
    assert_eq!(untriaged.total, 1);
}

async fn job_lifecycle(store: &Store) {
    let job = store
        .enqueue_job("rematch", &json!({"snapshot": 7}), 3)
        .await
        .unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Pending, 0));
    assert_eq!(store.claim_job("webhook", "w1").await.unwrap(), None);
    let claimed = store
        .claim_job("rematch", "w1")
        .await
        .unwrap()
        .expect("job");
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.payload, json!({"snapshot": 7}));
    assert_eq!((claimed.state, claimed.attempts), (JobState::Running, 1));
    assert_eq!(claimed.worker.as_deref(), Some("w1"));
    assert_eq!(store.claim_job("rematch", "w2").await.unwrap(), None);
    assert!(matches!(
        store.complete_job(job.id, "w2").await,
        Err(StoreError::LeaseLost { .. })
    ));

    // A failure backs off: the job is pending but not claimable yet.
    let failed = store.fail_job(job.id, "w1", "db locked").await.unwrap();
    assert_eq!(failed.state, JobState::Pending);
    assert_eq!(failed.last_error.as_deref(), Some("db locked"));
    assert!(failed.run_after >= OffsetDateTime::now_utc() + time::Duration::seconds(5));
    assert_eq!(store.claim_job("rematch", "w2").await.unwrap(), None);
    assert!(matches!(
        store.complete_job(job.id, "w1").await,
        Err(StoreError::LeaseLost { .. })
    ));

    let other = store.enqueue_job("rematch", &json!(null), 1).await.unwrap();
    let got = store
        .claim_job("rematch", "w2")
        .await
        .unwrap()
        .expect("job");
    assert_eq!(got.id, other.id);
    store.complete_job(other.id, "w2").await.unwrap();
    assert_eq!(
        store.get_job(other.id).await.unwrap().map(|j| j.state),
        Some(JobState::Done)
    );
    assert!(matches!(
        store.complete_job(other.id, "w2").await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.enqueue_job("x", &json!(1), 0).await,
        Err(StoreError::Invalid { .. })
    ));
}

async fn job_lease_expiry_and_retries(store: &Store) {
    let store = store.clone().with_job_config(JobConfig {
        lease: Duration::from_millis(200),
        backoff_base: Duration::ZERO,
        backoff_max: Duration::ZERO,
    });
    let job = store.enqueue_job("webhook", &json!({}), 3).await.unwrap();
    store
        .claim_job("webhook", "dead")
        .await
        .unwrap()
        .expect("job");
    assert_eq!(store.claim_job("webhook", "alive").await.unwrap(), None);
    // The first worker dies; once its lease runs out the job is claimed again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = store
        .claim_job("webhook", "alive")
        .await
        .unwrap()
        .expect("job");
    assert_eq!((again.id, again.attempts), (job.id, 2));
    assert!(matches!(
        store.complete_job(job.id, "dead").await,
        Err(StoreError::LeaseLost { .. })
    ));
    let retry = store.fail_job(job.id, "alive", "timeout").await.unwrap();
    assert_eq!(retry.state, JobState::Pending);
    store
        .claim_job("webhook", "alive")
        .await
        .unwrap()
        .expect("job");
    let gave_up = store.fail_job(job.id, "alive", "timeout").await.unwrap();
    assert_eq!((gave_up.state, gave_up.attempts), (JobState::Failed, 3));
    assert_eq!(store.claim_job("webhook", "alive").await.unwrap(), None);
}

async fn concurrent_claims_are_exclusive(store: &Store) {
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(
            store
                .enqueue_job("rematch", &json!({ "n": i }), 1)
                .await
                .unwrap()
                .id,
        );
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut got = Vec::new();
            while let Some(job) = store.claim_job("rematch", &worker).await.unwrap() {
                store.complete_job(job.id, &worker).await.unwrap();
                got.push(job.id);
            }
            got
        }));
    }
    let mut claimed: HashMap<i64, usize> = HashMap::new();
    let mut workers_with_work = 0;
    for task in tasks {
        let got = task.await.unwrap();
        workers_with_work += usize::from(!got.is_empty());
        for id in got {
            *claimed.entry(id).or_default() += 1;
        }
    }
    assert_eq!(claimed.len(), 100);
    assert!(claimed.values().all(|&n| n == 1), "a job was claimed twice");
    assert!(ids.iter().all(|id| claimed.contains_key(id)));
    assert!(workers_with_work >= 1);
}

#[tokio::test]
async fn unsupported_url_is_refused_without_echoing_it() {
    let err = Store::connect("mysql://user:secret@host/db")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }));
    assert!(!err.to_string().contains("secret"));
}

#[test]
fn backoff_doubles_and_caps() {
    let c = JobConfig {
        lease: Duration::from_secs(1),
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_secs(60),
    };
    assert_eq!(c.backoff(1), Duration::from_secs(10));
    assert_eq!(c.backoff(2), Duration::from_secs(20));
    assert_eq!(c.backoff(3), Duration::from_secs(40));
    assert_eq!(c.backoff(4), Duration::from_secs(60));
    assert_eq!(c.backoff(u32::MAX), Duration::from_secs(60));
}

#[test]
fn sqlite_urls_get_create_mode() {
    assert_eq!(
        sqlite_url("sqlite:///tmp/a.db"),
        "sqlite:///tmp/a.db?mode=rwc"
    );
    assert_eq!(
        sqlite_url("sqlite://a.db?cache=shared"),
        "sqlite://a.db?cache=shared&mode=rwc"
    );
    assert_eq!(sqlite_url("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
    assert_eq!(placeholders(3, 3), "$3, $4, $5");
}
