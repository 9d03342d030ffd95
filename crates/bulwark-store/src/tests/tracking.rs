//! Tests of the tracking-server additions (0002): lookups, components, re-evaluation, events,
//! portfolio, trend, remediation and SLA, webhooks. Same harness as the parent module: every
//! test runs on SQLite and, when configured, on PostgreSQL.

use std::time::Duration;

use serde_json::json;
use time::macros::{date, datetime};

use super::*;

on_both_backends!(
    version_snapshot_and_component_lookups,
    findings_by_id_and_all_of_a_version,
    visible_findings_check_teams_and_count_past_the_end,
    current_snapshots_walk_in_pages,
    ingest_records_events_and_new_findings,
    replace_findings_keeps_first_seen_and_records_events,
    replace_findings_refuses_unknown_refs,
    events_filter_and_team_isolation,
    portfolio_counts_risk_per_project,
    portfolio_and_totals_respect_teams,
    trend_folds_latest_samples_per_day,
    writes_record_risk_samples,
    overdue_filter_and_notifier_query,
    remediation_fixed_in_versions,
    remediation_of_superseded_uploads,
    webhooks_matching_and_lifecycle,
    notifications_are_recorded_once,
    large_ingest_reevaluation_and_portfolio,
);

#[test]
fn bulk_placeholders_follow_the_backend() {
    for (backend, expected) in [
        (Backend::Sqlite, "? (?, ?) ?"),
        (Backend::Postgres, "$1 ($2, $3) $4"),
    ] {
        let mut binds = Binds::new(backend);
        let mut sql = String::new();
        binds.push(&mut sql);
        sql.push(' ');
        binds.push_tuple(&mut sql, 2);
        sql.push(' ');
        binds.push(&mut sql);
        assert_eq!(sql, expected);
    }
}

#[test]
fn sla_due_dates_and_cutoffs() {
    let sla = Sla::default();
    let seen = datetime!(2025-01-01 00:00 UTC);
    assert_eq!(
        sla.due(Severity::Critical, seen),
        Some(datetime!(2025-01-08 00:00 UTC))
    );
    assert_eq!(
        sla.due(Severity::Low, seen),
        Some(seen + time::Duration::days(180))
    );
    assert_eq!(sla.due(Severity::Unknown, seen), None);
    let huge = Sla {
        critical: Duration::MAX,
        ..sla
    };
    assert_eq!(huge.due(Severity::Critical, seen), None, "beyond any date");
    let now_ms = 10 * 86_400_000;
    let cutoffs = sla.cutoffs(now_ms);
    assert_eq!(cutoffs[0], Some(3 * 86_400_000), "critical: now - 7 days");
    assert_eq!(cutoffs[4], None, "unknown: no deadline");
    assert_eq!(huge.cutoffs(now_ms)[0], Some(now_ms - i64::MAX));
}

/// Only critical and unknown findings have a (zero) deadline: they are overdue as soon as a
/// millisecond has passed, the others never within a test.
fn strict_sla() -> Sla {
    Sla {
        critical: Duration::ZERO,
        high: Duration::from_secs(1000 * 86400),
        medium: Duration::from_secs(1000 * 86400),
        low: Duration::from_secs(1000 * 86400),
        unknown: Some(Duration::ZERO),
    }
}

async fn team_project(store: &Store, name: &str, team: Option<i64>) -> i64 {
    store
        .create_project(&NewProject {
            name,
            parent_id: None,
            team_id: team,
            tags: &[],
        })
        .await
        .unwrap()
        .id
}

fn identity(project_id: i64, id: &str, name: &str, eco: &str) -> FindingIdentity {
    FindingIdentity {
        project_id,
        finding_id: id.to_owned(),
        component_name: name.to_owned(),
        component_ecosystem: eco.to_owned(),
    }
}

fn state_change(state: TriageState) -> TriageChange {
    TriageChange {
        state,
        justification: (state == TriageState::NotAffected).then_some(Justification::CodeNotPresent),
        detail: None,
        suppressed_until: None,
    }
}

fn suppressed_for_a_day() -> TriageChange {
    TriageChange {
        state: TriageState::InTriage,
        justification: None,
        detail: None,
        suppressed_until: Some(OffsetDateTime::now_utc() + time::Duration::days(1)),
    }
}

fn finding_ids(events: &[FindingEvent]) -> Vec<&str> {
    events.iter().map(|e| e.finding_id.as_str()).collect()
}

async fn version_snapshot_and_component_lookups(store: &Store) {
    let p = project(store, "svc").await;
    let v = store.ensure_version(p, "1.0").await.unwrap();
    assert_eq!(store.get_version(v.id).await.unwrap(), Some(v.clone()));
    assert_eq!(store.get_version(v.id + 1000).await.unwrap(), None);
    assert_eq!(store.latest_snapshot(v.id).await.unwrap(), None);

    let mut cuda = component("g1", "cuda-runtime", None);
    cuda.version = None;
    cuda.kind = "platform".to_owned();
    cuda.gpu = Some(json!({"cuda": "12.4"}));
    let mut model = component("m1", "resnet.pt", None);
    model.model = Some(json!({"format": "pytorch"}));
    let mut numpy2 = component("n2", "numpy", Some("PyPI"));
    numpy2.version = Some("2.0".to_owned());
    let first = store
        .ingest_snapshot(&snapshot(v.id, vec![component("x", "old", None)], vec![]))
        .await
        .unwrap();
    let second = store
        .ingest_snapshot(&snapshot(
            v.id,
            vec![
                numpy2,
                cuda,
                component("n1", "numpy", Some("PyPI")),
                model,
                component("r1", "requests", Some("PyPI")),
            ],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(
        store.latest_snapshot(v.id).await.unwrap(),
        Some(second.snapshot.clone())
    );
    assert_eq!(
        store.get_snapshot(first.snapshot.id).await.unwrap(),
        Some(first.snapshot.clone())
    );
    assert_eq!(
        store.get_snapshot(second.snapshot.id + 1000).await.unwrap(),
        None
    );

    let snapshot_id = second.snapshot.id;
    let list = |class, name: Option<&str>, page| {
        let filter = ComponentFilter {
            class,
            name_contains: name.map(str::to_owned),
            page,
        };
        async move { store.list_components(snapshot_id, &filter).await.unwrap() }
    };
    let refs = |page: &Page<ComponentRow>| {
        page.items
            .iter()
            .map(|c| c.bom_ref.clone())
            .collect::<Vec<_>>()
    };
    let all = list(ComponentClass::Any, None, PageRequest::default()).await;
    assert_eq!(all.total, 5);
    // By name, then version, then id. (Names are lower case: PostgreSQL's collation may sort
    // case differently from SQLite's byte order.)
    assert_eq!(refs(&all), ["g1", "n1", "n2", "r1", "m1"]);
    let cuda = &all.items[0];
    assert_eq!(cuda.ecosystem, None);
    assert_eq!(cuda.version, None);
    assert_eq!(cuda.kind, "platform");
    assert_eq!(cuda.gpu, Some(json!({"cuda": "12.4"})));
    assert_eq!(cuda.snapshot_id, second.snapshot.id);
    assert_eq!(all.items[1].ecosystem.as_deref(), Some("PyPI"));
    assert_eq!(all.items[1].purl.as_deref(), Some("pkg:pypi/numpy@1.0"));

    let gpu = list(ComponentClass::Gpu, None, PageRequest::default()).await;
    assert_eq!(refs(&gpu), ["g1"]);
    let models = list(ComponentClass::Model, None, PageRequest::default()).await;
    assert_eq!(refs(&models), ["m1"]);
    assert_eq!(models.items[0].model, Some(json!({"format": "pytorch"})));
    let packages = list(ComponentClass::Package, None, PageRequest::default()).await;
    assert_eq!(refs(&packages), ["n1", "n2", "r1"]);
    let named = list(ComponentClass::Any, Some("RESNET"), PageRequest::default()).await;
    assert_eq!(refs(&named), ["m1"]);
    let literal = list(ComponentClass::Any, Some("%"), PageRequest::default()).await;
    assert_eq!(literal.total, 0);
    let paged = list(
        ComponentClass::Package,
        Some("py"),
        PageRequest {
            limit: 1,
            offset: 1,
        },
    )
    .await;
    assert_eq!((paged.total, refs(&paged)), (2, vec!["n2".to_owned()]));
}

async fn findings_by_id_and_all_of_a_version(store: &Store) {
    let p = project(store, "api").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    let mut titled = finding("GHSA-b", Severity::Low, "c1");
    titled.title = Some("bad".to_owned());
    store
        .ingest_snapshot(&snapshot(
            v.id,
            vec![component("c1", "requests", Some("PyPI"))],
            vec![finding("GHSA-a", Severity::Critical, "c1"), titled],
        ))
        .await
        .unwrap();
    let listed = store
        .list_findings(v.id, &FindingFilter::default())
        .await
        .unwrap();
    let a = listed.items[0].clone();
    assert_eq!(store.get_finding(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_finding(a.id + 1000).await.unwrap(), None);
    // The default SLA gives critical findings a week.
    assert_eq!(a.due_at, Some(a.first_seen + time::Duration::days(7)));
    assert!(!a.overdue);

    store
        .set_triage(
            &identity(p, "GHSA-a", "requests", "PyPI"),
            &suppressed_for_a_day(),
            "alice",
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .list_findings(v.id, &FindingFilter::default())
            .await
            .unwrap()
            .total,
        1
    );
    let all = store.version_findings_all(v.id).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|f| f.identity.finding_id.as_str())
            .collect::<Vec<_>>(),
        ["GHSA-a", "GHSA-b"]
    );
    assert!(all[0].triage.is_some());
    assert_eq!(all[1].title.as_deref(), Some("bad"));
    assert!(
        store
            .version_findings_all(v.id + 1000)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn visible_findings_check_teams_and_count_past_the_end(store: &Store) {
    let a = store.create_team("a").await.unwrap().id;
    let b = store.create_team("b").await.unwrap().id;
    let p = team_project(store, "owned", Some(a)).await;
    let v = store.ensure_version(p, "1").await.unwrap();
    store
        .ingest_snapshot(&snapshot(
            v.id,
            vec![component("c1", "requests", Some("PyPI"))],
            vec![
                finding("GHSA-a", Severity::Critical, "c1"),
                finding("GHSA-b", Severity::Low, "c1"),
                finding("GHSA-c", Severity::High, "c1"),
            ],
        ))
        .await
        .unwrap();
    let empty = store.ensure_version(p, "2").await.unwrap();
    let page = |limit, offset| FindingFilter {
        page: PageRequest { limit, offset },
        ..FindingFilter::default()
    };
    let ids = |page: &Page<FindingRow>| {
        page.items
            .iter()
            .map(|f| f.identity.finding_id.clone())
            .collect::<Vec<_>>()
    };

    // Its own team and an admin (None) see it; the page's total counts past the limit.
    for teams in [Some(&[a][..]), Some(&[b, a][..]), None] {
        let got = store
            .list_visible_findings(v.id, teams, &page(2, 0))
            .await
            .unwrap()
            .expect("visible");
        assert_eq!(ids(&got), ["GHSA-a", "GHSA-c"]);
        assert_eq!(got.total, 3);
    }
    // Another team, no team, a missing version: not there at all.
    for (version, teams) in [
        (v.id, Some(&[b][..])),
        (v.id, Some(&[][..])),
        (v.id + 1000, None),
    ] {
        assert_eq!(
            store
                .list_visible_findings(version, teams, &page(2, 0))
                .await
                .unwrap(),
            None
        );
    }
    // Past the last page the total is still the whole count; a version without findings
    // (here: without a snapshot) is an empty page, not a missing one.
    let past = store
        .list_visible_findings(v.id, Some(&[a]), &page(2, 10))
        .await
        .unwrap()
        .unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.total, 3);
    let none = store
        .list_visible_findings(empty.id, Some(&[a]), &page(2, 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((none.items.len(), none.total), (0, 0));
    assert_eq!(
        store
            .list_visible_findings(empty.id, Some(&[b]), &page(2, 0))
            .await
            .unwrap(),
        None
    );
}

async fn current_snapshots_walk_in_pages(store: &Store) {
    let p = project(store, "walk").await;
    let mut expected = Vec::new();
    for name in ["a", "b", "c"] {
        let v = store.ensure_version(p, name).await.unwrap();
        store
            .ingest_snapshot(&snapshot(v.id, vec![], vec![]))
            .await
            .unwrap();
        let newest = store
            .ingest_snapshot(&snapshot(v.id, vec![], vec![]))
            .await
            .unwrap();
        expected.push(newest.snapshot.id);
    }
    // A version without snapshots has no current one.
    store.ensure_version(p, "empty").await.unwrap();

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.current_snapshots(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = last.id;
        seen.extend(page.iter().map(|s| s.id));
    }
    assert_eq!(seen, expected);
    assert!(store.current_snapshots(0, 0).await.unwrap().is_empty());
}

async fn ingest_records_events_and_new_findings(store: &Store) {
    let p = project(store, "trainer").await;
    let v1 = store.ensure_version(p, "1").await.unwrap();
    let v2 = store.ensure_version(p, "2").await.unwrap();
    let components = vec![
        component("c1", "torch", Some("PyPI")),
        component("c2", "numpy", Some("PyPI")),
    ];
    let first = store
        .ingest_snapshot(&snapshot(
            v1.id,
            components.clone(),
            vec![
                finding("GHSA-low", Severity::Low, "c1"),
                finding("GHSA-crit", Severity::Critical, "c2"),
                // The same identity twice (e.g. two copies of a package) is one new finding.
                finding("GHSA-crit", Severity::Critical, "c2"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        finding_ids(&first.new_findings),
        ["GHSA-crit", "GHSA-low"],
        "most severe first"
    );
    assert_eq!(first.new_findings[0].component_name, "numpy");
    assert_eq!(first.new_findings[0].component_ecosystem, "PyPI");

    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = store
        .ingest_snapshot(&snapshot(
            v2.id,
            components,
            vec![
                finding("GHSA-low", Severity::Low, "c1"),
                finding("GHSA-new", Severity::High, "c1"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(finding_ids(&second.new_findings), ["GHSA-new"]);

    let events = store
        .list_events(&EventFilter {
            project_id: Some(p),
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<(&str, Option<&str>)> = events
        .items
        .iter()
        .map(|e| (e.kind.as_str(), e.finding_id.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Event::FINDING_NEW, Some("GHSA-new")),
            (Event::SNAPSHOT_UPLOADED, None),
            (Event::FINDING_NEW, Some("GHSA-low")),
            (Event::FINDING_NEW, Some("GHSA-crit")),
            (Event::SNAPSHOT_UPLOADED, None),
        ]
    );
    let upload = &events.items[1];
    assert_eq!(upload.project_version_id, Some(v2.id));
    assert_eq!(upload.snapshot_id, Some(second.snapshot.id));
    let detail = upload.detail.as_ref().expect("upload detail");
    assert_eq!(detail["actor"], json!("ci"));
    assert_eq!(detail["findings"], json!(2));
    assert_eq!(detail["new_findings"], json!(1));
    let new = &events.items[0];
    assert_eq!(new.severity, Some(Severity::High));
    assert_eq!(new.component_ecosystem.as_deref(), Some("PyPI"));
    assert_eq!(new.at, second.snapshot.uploaded_at);
}

async fn replace_findings_keeps_first_seen_and_records_events(store: &Store) {
    let p = project(store, "rematch").await;
    let v1 = store.ensure_version(p, "1").await.unwrap();
    let v2 = store.ensure_version(p, "2").await.unwrap();
    let components = vec![
        component("c1", "torch", Some("PyPI")),
        component("c2", "model.pt", None),
    ];
    // GHSA-elsewhere lives in version 1 only.
    store
        .ingest_snapshot(&snapshot(
            v1.id,
            components.clone(),
            vec![finding("GHSA-elsewhere", Severity::Low, "c1")],
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let s2 = store
        .ingest_snapshot(&snapshot(
            v2.id,
            components,
            vec![
                finding("GHSA-stays", Severity::Medium, "c1"),
                finding("GHSA-goes", Severity::High, "c2"),
            ],
        ))
        .await
        .unwrap()
        .snapshot;
    let before = store
        .list_findings(v2.id, &FindingFilter::default())
        .await
        .unwrap();
    let first_seen = |page: &Page<FindingRow>, id: &str| {
        page.items
            .iter()
            .find(|f| f.identity.finding_id == id)
            .map(|f| f.first_seen)
    };
    let stays_seen = first_seen(&before, "GHSA-stays").expect("stays");
    let elsewhere_seen = store
        .list_findings(v1.id, &FindingFilter::default())
        .await
        .unwrap()
        .items[0]
        .first_seen;
    store
        .set_triage(
            &identity(p, "GHSA-stays", "torch", "PyPI"),
            &state_change(TriageState::Exploitable),
            "alice",
        )
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut reevaluated = finding("GHSA-stays", Severity::Critical, "c1");
    reevaluated.title = Some("now critical".to_owned());
    let changes = store
        .replace_findings(
            s2.id,
            &[
                reevaluated,
                finding("GHSA-fresh", Severity::Low, "c2"),
                finding("GHSA-elsewhere", Severity::Low, "c1"),
            ],
            "rematch-worker",
        )
        .await
        .unwrap();
    assert_eq!(
        finding_ids(&changes.added),
        ["GHSA-elsewhere", "GHSA-fresh"]
    );
    assert_eq!(finding_ids(&changes.removed), ["GHSA-goes"]);
    assert_eq!(changes.removed[0].severity, Severity::High);
    assert_eq!(changes.removed[0].component_ecosystem, "");

    let after = store
        .list_findings(v2.id, &FindingFilter::default())
        .await
        .unwrap();
    assert_eq!(after.total, 3);
    assert_eq!(first_seen(&after, "GHSA-stays"), Some(stays_seen));
    // Seen before in another version of the project: that first_seen, as ingest would.
    assert_eq!(first_seen(&after, "GHSA-elsewhere"), Some(elsewhere_seen));
    assert!(first_seen(&after, "GHSA-fresh").is_some_and(|t| t > stays_seen));
    let stays = after
        .items
        .iter()
        .find(|f| f.identity.finding_id == "GHSA-stays")
        .expect("stays");
    assert_eq!(stays.severity, Severity::Critical);
    assert_eq!(stays.title.as_deref(), Some("now critical"));
    assert_eq!(
        stays.triage.as_ref().map(|t| t.state),
        Some(TriageState::Exploitable)
    );
    // Version 1 is untouched.
    assert_eq!(
        store
            .list_findings(v1.id, &FindingFilter::default())
            .await
            .unwrap()
            .total,
        1
    );

    let events = store
        .list_events(&EventFilter {
            project_id: Some(p),
            kinds: vec![
                Event::FINDING_NEW.to_owned(),
                Event::FINDING_GONE.to_owned(),
            ],
            page: PageRequest {
                limit: 3,
                offset: 0,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let recorded: Vec<(&str, &str)> = events
        .items
        .iter()
        .map(|e| (e.kind.as_str(), e.finding_id.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        recorded,
        [
            (Event::FINDING_GONE, "GHSA-goes"),
            (Event::FINDING_NEW, "GHSA-fresh"),
            (Event::FINDING_NEW, "GHSA-elsewhere"),
        ]
    );
    assert_eq!(events.items[0].snapshot_id, Some(s2.id));
    assert_eq!(
        events.items[0].detail.as_ref().map(|d| d["actor"].clone()),
        Some(json!("rematch-worker"))
    );

    // Replacing with the same set changes nothing and records nothing.
    let events_before = count(store, "events").await;
    let same = store
        .replace_findings(
            s2.id,
            &[
                finding("GHSA-stays", Severity::Critical, "c1"),
                finding("GHSA-fresh", Severity::Low, "c2"),
                finding("GHSA-elsewhere", Severity::Low, "c1"),
            ],
            "rematch-worker",
        )
        .await
        .unwrap();
    assert_eq!(same, FindingChanges::default());
    assert_eq!(count(store, "events").await, events_before);
    assert_eq!(count(store, "findings").await, 4);
}

async fn replace_findings_refuses_unknown_refs(store: &Store) {
    let p = project(store, "strict").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    let s = store
        .ingest_snapshot(&snapshot(
            v.id,
            vec![component("c1", "a", None)],
            vec![finding("GHSA-1", Severity::High, "c1")],
        ))
        .await
        .unwrap()
        .snapshot;
    let events = count(store, "events").await;
    let samples = count(store, "risk_samples").await;
    let err = store
        .replace_findings(
            s.id,
            &[
                finding("GHSA-2", Severity::Low, "c1"),
                finding("GHSA-3", Severity::Low, "nope"),
            ],
            "worker",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(matches!(
        store.replace_findings(s.id + 1000, &[], "worker").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.replace_findings(s.id, &[], " ").await,
        Err(StoreError::Invalid { .. })
    ));
    let kept = store.version_findings_all(v.id).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].identity.finding_id, "GHSA-1");
    assert_eq!(count(store, "events").await, events);
    assert_eq!(count(store, "risk_samples").await, samples);

    // Replacing with nothing removes everything.
    let gone = store.replace_findings(s.id, &[], "worker").await.unwrap();
    assert_eq!(finding_ids(&gone.removed), ["GHSA-1"]);
    assert!(store.version_findings_all(v.id).await.unwrap().is_empty());
}

async fn events_filter_and_team_isolation(store: &Store) {
    let a = store.create_team("a").await.unwrap().id;
    let b = store.create_team("b").await.unwrap().id;
    let pa = team_project(store, "pa", Some(a)).await;
    let pb = team_project(store, "pb", Some(b)).await;
    let orphan = team_project(store, "orphan", None).await;
    let va = store.ensure_version(pa, "1").await.unwrap();
    store
        .ingest_snapshot(&snapshot(va.id, vec![], vec![]))
        .await
        .unwrap();
    let breach = store
        .record_event(&NewEvent {
            project_id: pb,
            kind: Event::SLA_BREACH.to_owned(),
            finding_id: Some("GHSA-x".to_owned()),
            severity: Some(Severity::Critical),
            detail: Some(json!({"due": "yesterday"})),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(breach.kind, Event::SLA_BREACH);
    assert_eq!(breach.severity, Some(Severity::Critical));
    assert_eq!(breach.detail, Some(json!({"due": "yesterday"})));
    store
        .record_event(&NewEvent {
            project_id: orphan,
            kind: Event::POLICY_FAILURE.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .record_event(&NewEvent {
                project_id: pa + 1000,
                kind: Event::SLA_BREACH.to_owned(),
                ..Default::default()
            })
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .record_event(&NewEvent {
                project_id: pa,
                kind: String::new(),
                ..Default::default()
            })
            .await,
        Err(StoreError::Invalid { .. })
    ));

    let projects_of =
        |page: &Page<Event>| page.items.iter().map(|e| e.project_id).collect::<Vec<_>>();
    let all = store.list_events(&EventFilter::default()).await.unwrap();
    assert_eq!(projects_of(&all), [orphan, pb, pa], "newest first");
    let team_a = store
        .list_events(&EventFilter {
            teams: Some(vec![a]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((team_a.total, projects_of(&team_a)), (1, vec![pa]));
    let both = store
        .list_events(&EventFilter {
            teams: Some(vec![a, b]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(projects_of(&both), [pb, pa]);
    // Another team's project asked for by id shows nothing.
    let sneaky = store
        .list_events(&EventFilter {
            teams: Some(vec![a]),
            project_id: Some(pb),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sneaky.total, 0);
    let nobody = store
        .list_events(&EventFilter {
            teams: Some(vec![]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(nobody.total, 0);
    let breaches = store
        .list_events(&EventFilter {
            kinds: vec![
                Event::SLA_BREACH.to_owned(),
                Event::POLICY_FAILURE.to_owned(),
            ],
            page: PageRequest {
                limit: 1,
                offset: 1,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(breaches.total, 2);
    assert_eq!(breaches.items, vec![breach]);
}

async fn portfolio_counts_risk_per_project(store: &Store) {
    let p = project(store, "risky").await;
    let quiet = project(store, "quiet").await;
    let empty = project(store, "empty").await;
    let v1 = store.ensure_version(p, "1").await.unwrap();
    let v2 = store.ensure_version(p, "2").await.unwrap();
    let components = vec![
        component("c1", "torch", Some("PyPI")),
        component("c2", "numpy", Some("PyPI")),
    ];
    store
        .ingest_snapshot(&snapshot(
            v2.id,
            components.clone(),
            vec![finding("GHSA-v2-only", Severity::Critical, "c1")],
        ))
        .await
        .unwrap();
    // Version 1 is uploaded last, so it is the project's newest version.
    let newest = store
        .ingest_snapshot(&snapshot(
            v1.id,
            components.clone(),
            vec![
                finding("GHSA-crit", Severity::Critical, "c1"),
                finding("GHSA-high", Severity::High, "c1"),
                finding("GHSA-high2", Severity::High, "c2"),
                finding("GHSA-med", Severity::Medium, "c2"),
                finding("GHSA-unk", Severity::Unknown, "c2"),
                finding("GHSA-fp", Severity::Critical, "c2"),
                finding("GHSA-resolved", Severity::Low, "c2"),
                finding("GHSA-hidden", Severity::Low, "c1"),
            ],
        ))
        .await
        .unwrap();
    store
        .set_triage(
            &identity(p, "GHSA-fp", "numpy", "PyPI"),
            &state_change(TriageState::FalsePositive),
            "alice",
        )
        .await
        .unwrap();
    store
        .set_triage(
            &identity(p, "GHSA-resolved", "numpy", "PyPI"),
            &state_change(TriageState::Resolved),
            "alice",
        )
        .await
        .unwrap();
    store
        .set_triage(
            &identity(p, "GHSA-hidden", "torch", "PyPI"),
            &suppressed_for_a_day(),
            "alice",
        )
        .await
        .unwrap();
    let vq = store.ensure_version(quiet, "1").await.unwrap();
    store
        .ingest_snapshot(&snapshot(vq.id, components, vec![]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let page = store
        .portfolio(&ProjectFilter::default(), &strict_sla())
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    let names: Vec<&str> = page.items.iter().map(|r| r.project.name.as_str()).collect();
    assert_eq!(names, ["empty", "quiet", "risky"]);
    let risky = &page.items[2];
    assert_eq!(risky.latest_version.as_ref().map(|v| v.id), Some(v1.id));
    assert_eq!(risky.last_upload, Some(newest.snapshot.uploaded_at));
    assert_eq!(
        risky.counts,
        SeverityCounts {
            critical: 1,
            high: 2,
            medium: 1,
            low: 0,
            unknown: 1,
        }
    );
    assert_eq!(risky.counts.total(), 5);
    assert_eq!(risky.counts.get(Severity::High), 2);
    // Critical and unknown have a zero deadline under the strict SLA.
    assert_eq!(risky.overdue, 2);
    let quiet_risk = &page.items[1];
    assert_eq!(quiet_risk.counts, SeverityCounts::default());
    assert!(quiet_risk.latest_version.is_some());
    let empty_risk = &page.items[0];
    assert_eq!(empty_risk.project.id, empty);
    assert_eq!(
        (
            empty_risk.latest_version.as_ref(),
            empty_risk.last_upload,
            empty_risk.overdue
        ),
        (None, None, 0)
    );
    // The default SLA gives days: nothing is overdue yet.
    let default_sla = store
        .portfolio(&ProjectFilter::default(), &Sla::default())
        .await
        .unwrap();
    assert_eq!(default_sla.items[2].overdue, 0);

    let totals = store.portfolio_totals(None, &strict_sla()).await.unwrap();
    assert_eq!(
        totals,
        PortfolioTotals {
            projects: 3,
            versions: 3,
            components: 4,
            counts: risky.counts,
            overdue: 2,
            // Triaged: fp, resolved (closed, not counted), hidden (suppressed).
            untriaged: 5,
        }
    );
}

async fn portfolio_and_totals_respect_teams(store: &Store) {
    let a = store.create_team("a").await.unwrap().id;
    let b = store.create_team("b").await.unwrap().id;
    let mut ids = Vec::new();
    for (name, team, severity) in [
        ("a1", Some(a), Severity::Critical),
        ("a2", Some(a), Severity::High),
        ("b1", Some(b), Severity::Low),
        ("none", None, Severity::Medium),
    ] {
        let p = team_project(store, name, team).await;
        let v = store.ensure_version(p, "1").await.unwrap();
        store
            .ingest_snapshot(&snapshot(
                v.id,
                vec![component("c1", "lib", Some("npm"))],
                vec![finding("GHSA-1", severity, "c1")],
            ))
            .await
            .unwrap();
        ids.push(p);
    }
    let sla = Sla::default();
    let team_a = store
        .portfolio(
            &ProjectFilter {
                teams: Some(vec![a]),
                ..Default::default()
            },
            &sla,
        )
        .await
        .unwrap();
    let names: Vec<&str> = team_a
        .items
        .iter()
        .map(|r| r.project.name.as_str())
        .collect();
    assert_eq!((team_a.total, names), (2, vec!["a1", "a2"]));
    assert_eq!(team_a.items[0].counts.critical, 1);
    assert_eq!(team_a.items[1].counts.high, 1);

    let totals_a = store.portfolio_totals(Some(&[a]), &sla).await.unwrap();
    assert_eq!(
        (totals_a.projects, totals_a.versions, totals_a.components),
        (2, 2, 2)
    );
    assert_eq!(
        totals_a.counts,
        SeverityCounts {
            critical: 1,
            high: 1,
            ..Default::default()
        }
    );
    let totals_ab = store.portfolio_totals(Some(&[a, b]), &sla).await.unwrap();
    assert_eq!((totals_ab.projects, totals_ab.counts.total()), (3, 3));
    let all = store.portfolio_totals(None, &sla).await.unwrap();
    assert_eq!((all.projects, all.counts.total(), all.untriaged), (4, 4, 4));
    assert_eq!(
        store.portfolio_totals(Some(&[]), &sla).await.unwrap(),
        PortfolioTotals::default()
    );
    let nobody = store
        .portfolio(
            &ProjectFilter {
                teams: Some(vec![]),
                ..Default::default()
            },
            &sla,
        )
        .await
        .unwrap();
    assert_eq!((nobody.total, nobody.items.len()), (0, 0));
}

async fn insert_sample(store: &Store, project: i64, at: OffsetDateTime, counts: [i64; 5]) {
    sqlx::query(
        "INSERT INTO risk_samples (project_id, at, critical, high, medium, low, unknown) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(project)
    .bind(to_millis(at))
    .bind(counts[0])
    .bind(counts[1])
    .bind(counts[2])
    .bind(counts[3])
    .bind(counts[4])
    .execute(&store.pool)
    .await
    .expect("insert risk sample");
}

async fn trend_folds_latest_samples_per_day(store: &Store) {
    let a = store.create_team("a").await.unwrap().id;
    let b = store.create_team("b").await.unwrap().id;
    let p1 = team_project(store, "p1", Some(a)).await;
    let p2 = team_project(store, "p2", Some(b)).await;
    let p3 = team_project(store, "p3", Some(a)).await;
    // Window: 7 to 10 March (now is the 10th at noon).
    let now = datetime!(2025-03-10 12:00 UTC);
    insert_sample(store, p1, datetime!(2025-02-01 00:00 UTC), [9, 0, 0, 0, 0]).await;
    insert_sample(store, p1, datetime!(2025-03-01 00:00 UTC), [1, 0, 0, 0, 0]).await;
    insert_sample(store, p1, datetime!(2025-03-08 10:00 UTC), [2, 0, 0, 0, 0]).await;
    insert_sample(
        store,
        p1,
        datetime!(2025-03-08 23:59:59.999 UTC),
        [3, 0, 0, 0, 0],
    )
    .await;
    // Two samples in the same millisecond: the later row wins.
    insert_sample(store, p1, datetime!(2025-03-10 01:00 UTC), [5, 0, 0, 0, 0]).await;
    insert_sample(store, p1, datetime!(2025-03-10 01:00 UTC), [0, 0, 0, 0, 1]).await;
    // After the window: ignored.
    insert_sample(store, p1, datetime!(2025-03-11 00:00 UTC), [40, 0, 0, 0, 0]).await;
    insert_sample(store, p2, datetime!(2025-03-09 08:00 UTC), [0, 5, 0, 0, 0]).await;
    insert_sample(store, p3, datetime!(2025-03-05 08:00 UTC), [0, 0, 0, 7, 0]).await;
    insert_sample(store, p3, datetime!(2025-03-07 00:00 UTC), [0, 0, 2, 7, 0]).await;

    let counts = |c: [u64; 5]| SeverityCounts {
        critical: c[0],
        high: c[1],
        medium: c[2],
        low: c[3],
        unknown: c[4],
    };
    let trend = store.risk_trend(None, 4, now).await.unwrap();
    assert_eq!(
        trend,
        vec![
            TrendPoint {
                day: date!(2025 - 03 - 07),
                counts: counts([1, 0, 2, 7, 0]),
            },
            TrendPoint {
                day: date!(2025 - 03 - 08),
                counts: counts([3, 0, 2, 7, 0]),
            },
            TrendPoint {
                day: date!(2025 - 03 - 09),
                counts: counts([3, 5, 2, 7, 0]),
            },
            TrendPoint {
                day: date!(2025 - 03 - 10),
                counts: counts([0, 5, 2, 7, 1]),
            },
        ]
    );
    let team_a = store.risk_trend(Some(&[a]), 2, now).await.unwrap();
    assert_eq!(
        team_a.iter().map(|p| (p.day, p.counts)).collect::<Vec<_>>(),
        [
            (date!(2025 - 03 - 09), counts([3, 0, 2, 7, 0])),
            (date!(2025 - 03 - 10), counts([0, 0, 2, 7, 1])),
        ]
    );
    // One day: only the baseline before it and that day's samples matter.
    let today = store.risk_trend(Some(&[b]), 1, now).await.unwrap();
    assert_eq!(today[0].counts, counts([0, 5, 0, 0, 0]));
    let early = store
        .risk_trend(None, 1, datetime!(2025-02-15 00:00 UTC))
        .await
        .unwrap();
    assert_eq!(early[0].counts, counts([9, 0, 0, 0, 0]));
    assert!(store.risk_trend(None, 0, now).await.unwrap().is_empty());
    assert!(
        store
            .risk_trend(Some(&[]), 5, now)
            .await
            .unwrap()
            .is_empty()
    );
    let long = store.risk_trend(None, u32::MAX, now).await.unwrap();
    assert_eq!(long.len(), Store::MAX_TREND_DAYS as usize);
    assert_eq!(long.last().map(|p| p.day), Some(date!(2025 - 03 - 10)));
}

async fn writes_record_risk_samples(store: &Store) {
    let p = project(store, "sampled").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    let s = store
        .ingest_snapshot(&snapshot(
            v.id,
            vec![component("c1", "lib", Some("npm"))],
            vec![
                finding("GHSA-1", Severity::Critical, "c1"),
                finding("GHSA-2", Severity::High, "c1"),
            ],
        ))
        .await
        .unwrap()
        .snapshot;
    let today = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .risk_trend(None, 1, OffsetDateTime::now_utc())
                .await
                .unwrap()[0]
                .counts
        }
    };
    assert_eq!(
        today(store).await,
        SeverityCounts {
            critical: 1,
            high: 1,
            ..Default::default()
        }
    );
    store
        .set_triage(
            &identity(p, "GHSA-1", "lib", "npm"),
            &state_change(TriageState::NotAffected),
            "alice",
        )
        .await
        .unwrap();
    assert_eq!(
        today(store).await,
        SeverityCounts {
            high: 1,
            ..Default::default()
        }
    );
    store
        .replace_findings(s.id, &[finding("GHSA-3", Severity::Low, "c1")], "worker")
        .await
        .unwrap();
    assert_eq!(
        today(store).await,
        SeverityCounts {
            low: 1,
            ..Default::default()
        }
    );
    assert_eq!(count(store, "risk_samples").await, 3);
}

async fn overdue_filter_and_notifier_query(store: &Store) {
    let p = project(store, "late").await;
    let other = project(store, "other").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    let components = vec![component("c1", "lib", Some("npm"))];
    store
        .ingest_snapshot(&snapshot(
            v.id,
            components.clone(),
            vec![
                finding("GHSA-crit", Severity::Critical, "c1"),
                finding("GHSA-crit-fp", Severity::Critical, "c1"),
                finding("GHSA-crit-hidden", Severity::Critical, "c1"),
                finding("GHSA-high", Severity::High, "c1"),
                finding("GHSA-unk", Severity::Unknown, "c1"),
            ],
        ))
        .await
        .unwrap();
    let ov = store.ensure_version(other, "1").await.unwrap();
    store
        .ingest_snapshot(&snapshot(
            ov.id,
            components.clone(),
            vec![finding("GHSA-other", Severity::Critical, "c1")],
        ))
        .await
        .unwrap();
    store
        .set_triage(
            &identity(p, "GHSA-crit-fp", "lib", "npm"),
            &state_change(TriageState::FalsePositive),
            "alice",
        )
        .await
        .unwrap();
    store
        .set_triage(
            &identity(p, "GHSA-crit-hidden", "lib", "npm"),
            &suppressed_for_a_day(),
            "alice",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let ids = |page: &Page<FindingRow>| {
        page.items
            .iter()
            .map(|f| f.identity.finding_id.clone())
            .collect::<Vec<_>>()
    };
    let overdue = store
        .list_findings(
            v.id,
            &FindingFilter {
                overdue_only: true,
                sla: strict_sla(),
                sort: FindingSort::FindingId,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&overdue), ["GHSA-crit", "GHSA-unk"]);
    assert!(overdue.items.iter().all(|f| f.overdue));
    assert_eq!(
        overdue.items[0].due_at,
        Some(overdue.items[0].first_seen),
        "zero deadline"
    );
    let with_hidden = store
        .list_findings(
            v.id,
            &FindingFilter {
                overdue_only: true,
                include_suppressed: true,
                sla: strict_sla(),
                sort: FindingSort::FindingId,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&with_hidden),
        ["GHSA-crit", "GHSA-crit-hidden", "GHSA-unk"]
    );
    // Without the filter every row still carries its due date and overdue flag.
    let all = store
        .list_findings(
            v.id,
            &FindingFilter {
                include_suppressed: true,
                sla: strict_sla(),
                sort: FindingSort::FindingId,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let flags: Vec<(String, bool)> = all
        .items
        .iter()
        .map(|f| (f.identity.finding_id.clone(), f.overdue))
        .collect();
    assert_eq!(
        flags,
        [
            ("GHSA-crit".to_owned(), true),
            ("GHSA-crit-fp".to_owned(), false),
            ("GHSA-crit-hidden".to_owned(), true),
            ("GHSA-high".to_owned(), false),
            ("GHSA-unk".to_owned(), true),
        ]
    );
    let none = store
        .list_findings(
            v.id,
            &FindingFilter {
                overdue_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(none.total, 0, "the default SLA gives days");
    // No deadline for unknown severity: never overdue.
    let lenient = Sla {
        unknown: None,
        ..strict_sla()
    };
    let no_unknown = store
        .list_findings(
            v.id,
            &FindingFilter {
                overdue_only: true,
                sla: lenient,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&no_unknown), ["GHSA-crit"]);

    let notifier = store
        .overdue_findings(&strict_sla(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(ids(&notifier), ["GHSA-crit", "GHSA-unk", "GHSA-other"]);
    let second = store
        .overdue_findings(
            &strict_sla(),
            PageRequest {
                limit: 1,
                offset: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (second.total, ids(&second)),
        (3, vec!["GHSA-other".to_owned()])
    );
    assert_eq!(second.items[0].identity.project_id, other);

    // Only current snapshots count: a newer version without the finding clears it.
    let v2 = store.ensure_version(p, "2").await.unwrap();
    store
        .ingest_snapshot(&snapshot(v2.id, components, vec![]))
        .await
        .unwrap();
    let after = store
        .overdue_findings(&strict_sla(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(ids(&after), ["GHSA-other"]);
}

async fn remediation_fixed_in_versions(store: &Store) {
    let p = project(store, "fixes").await;
    let components = vec![component("c1", "lib", Some("npm"))];
    // A: v1, gone in v2, back in v3 -> open (v3, the last version, has it).
    // B: v1 only -> fixed in v2.  C: v1 and v2 -> fixed in v3.  D: v3 only -> open.
    let plan = [
        (
            "1",
            vec![
                ("A", Severity::Low),
                ("B", Severity::High),
                ("C", Severity::Medium),
            ],
        ),
        ("2", vec![("C", Severity::Medium)]),
        ("3", vec![("A", Severity::Low), ("D", Severity::Critical)]),
    ];
    let mut uploads = Vec::new();
    for (version, findings) in plan {
        let v = store.ensure_version(p, version).await.unwrap();
        let findings = findings
            .into_iter()
            .map(|(id, severity)| finding(id, severity, "c1"))
            .collect();
        uploads.push(
            store
                .ingest_snapshot(&snapshot(v.id, components.clone(), findings))
                .await
                .unwrap()
                .snapshot,
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let page = store
        .remediation(p, &strict_sla(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 4);
    let rows: Vec<(&str, &str, Option<&str>)> = page
        .items
        .iter()
        .map(|r| {
            (
                r.identity.finding_id.as_str(),
                r.first_version.as_str(),
                r.fixed_in_version.as_deref(),
            )
        })
        .collect();
    // Open first (most severe first), then fixed (most severe first).
    assert_eq!(
        rows,
        [
            ("D", "3", None),
            ("A", "1", None),
            ("B", "1", Some("2")),
            ("C", "1", Some("3")),
        ]
    );
    let d = &page.items[0];
    assert!(d.overdue, "critical, open, zero deadline");
    assert_eq!(d.severity, Severity::Critical);
    assert_eq!((d.fixed_at, d.time_to_remediate), (None, None));
    let a = &page.items[1];
    assert!(!a.overdue, "low has a long deadline");
    assert_eq!(a.first_seen, uploads[0].uploaded_at);
    let b = &page.items[2];
    assert_eq!(b.fixed_at, Some(uploads[1].uploaded_at));
    assert_eq!(
        b.time_to_remediate,
        Some(Duration::try_from(uploads[1].uploaded_at - uploads[0].uploaded_at).unwrap())
    );
    assert!(!b.overdue, "fixed findings are never overdue");
    assert_eq!(page.items[3].fixed_at, Some(uploads[2].uploaded_at));

    // Triage shows; a closed finding is not overdue.
    store
        .set_triage(
            &identity(p, "D", "lib", "npm"),
            &state_change(TriageState::Resolved),
            "alice",
        )
        .await
        .unwrap();
    let paged = store
        .remediation(
            p,
            &strict_sla(),
            PageRequest {
                limit: 1,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(paged.total, 4);
    assert_eq!(paged.items[0].triage_state, Some(TriageState::Resolved));
    assert!(!paged.items[0].overdue);
    let empty = store
        .remediation(p + 1000, &Sla::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!((empty.total, empty.items.len()), (0, 0));
}

async fn remediation_of_superseded_uploads(store: &Store) {
    let p = project(store, "reupload").await;
    let v1 = store.ensure_version(p, "1").await.unwrap();
    let components = vec![component("c1", "lib", Some("npm"))];
    store
        .ingest_snapshot(&snapshot(
            v1.id,
            components.clone(),
            vec![finding("X", Severity::High, "c1")],
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The same version uploaded again without X: fixed by that upload.
    let again = store
        .ingest_snapshot(&snapshot(v1.id, components, vec![]))
        .await
        .unwrap()
        .snapshot;
    let page = store
        .remediation(p, &Sla::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].fixed_in_version.as_deref(), Some("1"));
    assert_eq!(page.items[0].fixed_at, Some(again.uploaded_at));
}

async fn webhooks_matching_and_lifecycle(store: &Store) {
    let a = store.create_team("a").await.unwrap().id;
    let b = store.create_team("b").await.unwrap().id;
    let events = |kinds: &[&str]| kinds.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
    let create = |team, url: &'static str, kinds: Vec<String>| async move {
        store
            .create_webhook(&NewWebhook {
                team_id: team,
                url,
                secret: "s3cret",
                events: &kinds,
            })
            .await
    };
    let a_new = create(
        Some(a),
        "https://a.example.invalid/new",
        events(&["finding_new", "finding_new", "sla_breach"]),
    )
    .await
    .unwrap();
    assert_eq!(a_new.events, ["finding_new", "sla_breach"]);
    assert_eq!(a_new.secret, "s3cret");
    assert_eq!(a_new.disabled_at, None);
    let a_all = create(Some(a), "http://a.example.invalid/all", events(&["*"]))
        .await
        .unwrap();
    let global = create(
        None,
        "https://ops.example.invalid/",
        events(&["finding_new"]),
    )
    .await
    .unwrap();
    let b_new = create(
        Some(b),
        "https://b.example.invalid/",
        events(&["finding_new"]),
    )
    .await
    .unwrap();
    let disabled = create(Some(a), "https://a.example.invalid/off", events(&["*"]))
        .await
        .unwrap();
    assert!(store.disable_webhook(disabled.id).await.unwrap());
    assert!(!store.disable_webhook(disabled.id + 1000).await.unwrap());

    let ids = |hooks: Vec<Webhook>| hooks.into_iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .webhooks_for_event("finding_new", Some(a))
            .await
            .unwrap()),
        [a_new.id, a_all.id, global.id]
    );
    assert_eq!(
        ids(store
            .webhooks_for_event("policy_failure", Some(a))
            .await
            .unwrap()),
        [a_all.id]
    );
    assert_eq!(
        ids(store
            .webhooks_for_event("finding_new", Some(b))
            .await
            .unwrap()),
        [global.id, b_new.id]
    );
    assert_eq!(
        ids(store.webhooks_for_event("finding_new", None).await.unwrap()),
        [global.id]
    );
    assert_eq!(
        ids(store.webhooks_for_event("finding", Some(a)).await.unwrap()),
        [a_all.id],
        "kinds match exactly"
    );

    assert_eq!(
        ids(store.list_webhooks(Some(a)).await.unwrap()),
        [a_new.id, a_all.id, disabled.id]
    );
    assert_eq!(store.list_webhooks(None).await.unwrap().len(), 5);
    let off = store.get_webhook(disabled.id).await.unwrap().expect("hook");
    assert!(off.disabled_at.is_some());
    assert!(store.delete_webhook(a_new.id).await.unwrap());
    assert!(!store.delete_webhook(a_new.id).await.unwrap());
    assert_eq!(store.get_webhook(a_new.id).await.unwrap(), None);

    for (url, kinds) in [
        ("ftp://x.invalid/", events(&["*"])),
        ("https://", events(&["*"])),
        ("https://x.invalid/a b", events(&["*"])),
        ("https://x.invalid/", events(&[])),
        ("https://x.invalid/", events(&[" "])),
    ] {
        assert!(
            matches!(
                create(None, url, kinds).await,
                Err(StoreError::Invalid { .. })
            ),
            "{url}"
        );
    }
    assert!(matches!(
        store
            .create_webhook(&NewWebhook {
                team_id: None,
                url: "https://x.invalid/",
                secret: "",
                events: &events(&["*"]),
            })
            .await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        create(Some(b + 1000), "https://x.invalid/", events(&["*"])).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn notifications_are_recorded_once(store: &Store) {
    assert!(
        store
            .record_notification_once("sla:1:GHSA-1")
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_notification_once("sla:1:GHSA-1")
            .await
            .unwrap()
    );
    assert!(
        store
            .record_notification_once("sla:1:GHSA-2")
            .await
            .unwrap()
    );
    assert!(matches!(
        store.record_notification_once("").await,
        Err(StoreError::Invalid { .. })
    ));
    // Racing processes: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.record_notification_once("race").await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
}

/// Sizes at which a per-row query or a bound-parameter limit would break: a 10,000-component
/// ingest (twice), a 2,000-finding re-evaluation and a 1,000-project portfolio page. Their
/// speed is measured by `bench/server.py`, not here.
async fn large_ingest_reevaluation_and_portfolio(store: &Store) {
    let p = project(store, "big").await;
    let v = store.ensure_version(p, "1").await.unwrap();
    let components: Vec<NewComponent> = (0..10_000)
        .map(|i| component(&format!("c{i}"), &format!("pkg{i}"), Some("PyPI")))
        .collect();
    let findings: Vec<NewFinding> = (0..2_000)
        .map(|i| finding(&format!("GHSA-{i}"), Severity::High, &format!("c{}", i * 5)))
        .collect();
    let summary = store
        .ingest_snapshot(&snapshot(v.id, components.clone(), findings.clone()))
        .await
        .unwrap();
    assert_eq!(summary.new_findings.len(), 2_000);
    let again = store
        .ingest_snapshot(&snapshot(v.id, components, findings))
        .await
        .unwrap();
    assert!(again.new_findings.is_empty());
    // GHSA-1000..1999 stay on the same components, 0..999 go, 2000..2999 are new.
    let reevaluated: Vec<NewFinding> = (1_000..3_000)
        .map(|i| {
            finding(
                &format!("GHSA-{i}"),
                Severity::High,
                &format!("c{}", (i * 5) % 10_000),
            )
        })
        .collect();
    let changes = store
        .replace_findings(again.snapshot.id, &reevaluated, "worker")
        .await
        .unwrap();
    assert_eq!((changes.added.len(), changes.removed.len()), (1_000, 1_000));

    // 1,000 more projects in one statement, then one page of all of them with their risk.
    let now_ms = to_millis(OffsetDateTime::now_utc());
    let mut sql = String::from("INSERT INTO projects (name, created_at) VALUES ");
    for i in 0..1_000 {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("('p{i:04}', {now_ms})"));
    }
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&store.pool)
        .await
        .unwrap();
    let page = store
        .portfolio(
            &ProjectFilter {
                page: PageRequest {
                    limit: 1_000,
                    offset: 0,
                },
                ..Default::default()
            },
            &Sla::default(),
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (1_001, 1_000));
    assert_eq!(page.items[0].project.name, "big");
    assert_eq!(page.items[0].counts.high, 2_000);
}
