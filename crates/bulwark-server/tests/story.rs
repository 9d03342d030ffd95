//! The tracking server's story, end to end through HTTP, on SQLite and (when
//! `BULWARK_TEST_POSTGRES_URL` is set; then it must be reachable) on PostgreSQL: keys and
//! scopes, uploads native and Dependency-Track style, findings, triage carried over, diff,
//! VEX out and in, team isolation, re-evaluation after a database update with a signed
//! webhook, and concurrent uploads that lose nothing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use bulwark_server::{Config, Server};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::ServiceExt as _;

const PG_ENV: &str = "BULWARK_TEST_POSTGRES_URL";
const ADMIN: &str = "story-admin-key-0123456789";

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn workspace(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

struct App {
    server: Server,
    router: axum::Router,
    vulndb: PathBuf,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

impl App {
    async fn start(postgres: bool, monitor: Duration) -> Option<App> {
        App::start_with(postgres, monitor, |_| {}).await
    }

    async fn start_with(
        postgres: bool,
        monitor: Duration,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<App> {
        let dir = tempfile::tempdir().unwrap();
        let vulndb = dir.path().join("vulndb");
        bulwark_vulndb::import(
            &vulndb,
            &[workspace("examples/osv")],
            &bulwark_vulndb::ImportOptions::default(),
        )
        .unwrap();
        let (url, pg) = if postgres {
            let base = std::env::var(PG_ENV).ok()?;
            let schema = fresh_schema(&base).await;
            let sep = if base.contains('?') { '&' } else { '?' };
            (
                format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                Some((base, schema)),
            )
        } else {
            (
                format!("sqlite://{}", dir.path().join("server.db").display()),
                None,
            )
        };
        let mut config = Config::new(url);
        config.vulndb_dir = Some(vulndb.clone());
        config.bootstrap_key = Some(ADMIN.to_owned());
        config.monitor_interval = monitor;
        config.job_poll_interval = Duration::from_millis(50);
        adjust(&mut config);
        let server = bulwark_server::start(config).await.unwrap();
        let router = bulwark_server::router(&server);
        Some(App {
            server,
            router,
            vulndb,
            _dir: dir,
            pg,
        })
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header("X-Api-Key", key);
        }
        let request = match body {
            Some((content_type, bytes)) => request
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(bytes)),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            content_type,
            body,
        }
    }

    async fn get(&self, path: &str, key: &str) -> Value {
        let answer = self.call("GET", path, Some(key), None).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()
    }

    async fn send_json(&self, method: &str, path: &str, key: &str, body: Value) -> Answer {
        self.call(
            method,
            path,
            Some(key),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    async fn upload(&self, key: &str, project: &str, version: &str, file: &str) -> Answer {
        self.call(
            "POST",
            &format!("/api/v1/sboms?project={project}&version={version}"),
            Some(key),
            Some(("application/json", std::fs::read(testdata(file)).unwrap())),
        )
        .await
    }

    async fn new_key(&self, name: &str, scopes: &[&str], team: Option<i64>) -> String {
        let answer = self
            .send_json(
                "POST",
                "/api/v1/keys",
                ADMIN,
                json!({ "name": name, "scopes": scopes, "team_id": team }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED);
        answer.json()["secret"].as_str().unwrap().to_owned()
    }

    async fn finish(self) {
        self.server.store().close().await;
        if let Some((base, schema)) = self.pg {
            let mut admin = sqlx::AnyConnection::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

async fn fresh_schema(base: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let schema = format!(
        "server_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    schema
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(false).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if std::env::var(super::PG_ENV).is_ok() {
                        super::$name(true).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    access_control,
    upload_triage_carry_over_and_diff,
    dependency_track_uploads,
    vex_out_and_in,
    database_update_reevaluates_and_notifies,
    concurrent_uploads_lose_nothing,
    oversized_bodies_are_refused,
);

async fn oversized_bodies_are_refused(postgres: bool) {
    let Some(app) = App::start_with(postgres, Duration::from_secs(3600), |c| {
        c.max_body_bytes = 1024;
    })
    .await
    else {
        return;
    };
    let answer = app.upload(ADMIN, "big", "1", "app-v1.cdx.json").await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(app.get("/api/v1/projects", ADMIN).await["total"], 0);
    let unknown = app.call("GET", "/api/v2/projects", Some(ADMIN), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.content_type, "application/problem+json");
    app.finish().await;
}

async fn access_control(postgres: bool) {
    let Some(app) = App::start(postgres, Duration::from_secs(3600)).await else {
        return;
    };
    // Only /health answers without a key.
    let health = app.call("GET", "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    for path in ["/api/v1/projects", "/api/v1/whoami", "/api/v1/portfolio"] {
        let answer = app.call("GET", path, None, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.content_type, "application/problem+json");
        assert_eq!(answer.json()["status"], 401);
    }
    let wrong = app
        .call("GET", "/api/v1/projects", Some("nope-nope-nope-nope"), None)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // Teams: a key of one team cannot see another's projects.
    let red = app
        .send_json("POST", "/api/v1/teams", ADMIN, json!({"name": "red"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let blue = app
        .send_json("POST", "/api/v1/teams", ADMIN, json!({"name": "blue"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let red_key = app.new_key("red-ci", &["read", "upload"], Some(red)).await;
    let blue_key = app
        .new_key("blue-ci", &["read", "upload"], Some(blue))
        .await;
    let reader = app.new_key("red-reader", &["read"], Some(red)).await;

    let upload = app
        .upload(&red_key, "red-app", "1.0", "app-v1.cdx.json")
        .await;
    assert_eq!(
        upload.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&upload.body)
    );
    let uploaded = upload.json();
    let project = uploaded["project"]["id"].as_i64().unwrap();
    let version = uploaded["version"]["id"].as_i64().unwrap();
    assert_eq!(uploaded["project"]["team_id"], red);

    let blue_list = app.get("/api/v1/projects", &blue_key).await;
    assert_eq!(blue_list["total"], 0);
    for path in [
        format!("/api/v1/projects/{project}"),
        format!("/api/v1/versions/{version}"),
        format!("/api/v1/versions/{version}/findings"),
        format!("/api/v1/versions/{version}/sbom"),
    ] {
        let answer = app.call("GET", &path, Some(&blue_key), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Blue cannot upload into red's project either.
    let intrusion = app
        .upload(&blue_key, "red-app", "2.0", "app-v1.cdx.json")
        .await;
    assert_eq!(intrusion.status, StatusCode::FORBIDDEN);
    let red_list = app.get("/api/v1/projects", &reader).await;
    assert_eq!(red_list["total"], 1);

    // Scopes.
    let denied = app
        .upload(&reader, "red-app", "1.1", "app-v1.cdx.json")
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.json()["detail"].as_str().unwrap().contains("upload"));
    let keys = app.call("GET", "/api/v1/keys", Some(&reader), None).await;
    assert_eq!(keys.status, StatusCode::FORBIDDEN);

    // Revocation takes effect at once.
    let listed = app.get("/api/v1/keys", ADMIN).await;
    let reader_id = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "red-reader")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(
        listed.to_string().find("secret").is_none(),
        "secrets are never listed"
    );
    let revoked = app
        .call(
            "DELETE",
            &format!("/api/v1/keys/{reader_id}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = app
        .call("GET", "/api/v1/projects", Some(&reader), None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);

    // The API description is public to keys and complete.
    let spec = app.get("/api/openapi.json", ADMIN).await;
    assert!(spec["paths"]["/api/v1/versions/{id}/findings"]["get"].is_object());
    assert!(spec["paths"]["/api/v1/bom"]["put"].is_object());
    app.finish().await;
}

async fn upload_triage_carry_over_and_diff(postgres: bool) {
    let Some(app) = App::start(postgres, Duration::from_secs(3600)).await else {
        return;
    };
    // An invalid document is refused with the schema's errors, and nothing is stored.
    let invalid = app
        .call(
            "POST",
            "/api/v1/sboms?project=svc&version=0.1",
            Some(ADMIN),
            Some((
                "application/json",
                br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library"}]}"#.to_vec(),
            )),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = invalid.json();
    assert!(
        problem["errors"][0]
            .as_str()
            .unwrap()
            .contains("/components/0"),
        "{problem}"
    );
    assert_eq!(app.get("/api/v1/projects", ADMIN).await["total"], 0);

    let first = app.upload(ADMIN, "svc", "1.0", "app-v1.cdx.json").await;
    assert_eq!(
        first.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let first = first.json();
    let v1 = first["version"]["id"].as_i64().unwrap();
    assert_eq!(first["components"], 7);
    assert!(first["findings"].as_u64().unwrap() >= 3, "{first}");

    // Findings, filtered and sorted in the database.
    let findings = app
        .get(
            &format!("/api/v1/versions/{v1}/findings?sort=id&order=asc"),
            ADMIN,
        )
        .await;
    let ids: Vec<&str> = findings["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["finding_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    assert!(ids.contains(&"PYSEC-2023-175"), "pillow 10.0.0: {ids:?}");
    let high = app
        .get(
            &format!("/api/v1/versions/{v1}/findings?severity=high"),
            ADMIN,
        )
        .await;
    assert!(
        high["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "high")
    );
    let bad = app
        .call(
            "GET",
            &format!("/api/v1/versions/{v1}/findings?severity=severe"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.content_type, "application/problem+json");

    // GPU stack and models are components like any other, told apart by class.
    let gpu = app
        .get(
            &format!("/api/v1/versions/{v1}/components?class=gpu"),
            ADMIN,
        )
        .await;
    let gpu_names: Vec<&str> = gpu["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        gpu_names.contains(&"torch") && gpu_names.contains(&"nvidia-cudnn-cu12"),
        "{gpu_names:?}"
    );
    let models = app
        .get(
            &format!("/api/v1/versions/{v1}/components?class=model"),
            ADMIN,
        )
        .await;
    assert_eq!(models["total"], 1);

    // Triage a gradio finding as not affected; justification is required.
    let gradio = findings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["component"]["name"] == "gradio")
        .expect("a gradio finding")
        .clone();
    let finding = gradio["id"].as_i64().unwrap();
    let missing = app
        .send_json(
            "PUT",
            &format!("/api/v1/findings/{finding}/triage"),
            ADMIN,
            json!({"state": "not_affected"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let triaged = app
        .send_json(
            "PUT",
            &format!("/api/v1/findings/{finding}/triage"),
            ADMIN,
            json!({
                "state": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "detail": "the file-serving route is disabled"
            }),
        )
        .await;
    assert_eq!(
        triaged.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&triaged.body)
    );
    assert_eq!(triaged.json()["triage"]["state"], "not_affected");
    let audit = app
        .get(&format!("/api/v1/findings/{finding}/audit"), ADMIN)
        .await;
    let fields: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"state") && fields.contains(&"justification"),
        "{fields:?}"
    );
    assert!(
        audit["items"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("bootstrap")
    );

    // The next version: the triage carries over, pillow and requests are fixed.
    let second = app.upload(ADMIN, "svc", "1.1", "app-v2.cdx.json").await;
    assert_eq!(second.status, StatusCode::CREATED);
    let v2 = second.json()["version"]["id"].as_i64().unwrap();
    let findings2 = app
        .get(&format!("/api/v1/versions/{v2}/findings"), ADMIN)
        .await;
    let carried = findings2["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["finding_id"] == gradio["finding_id"] && f["component"]["name"] == "gradio")
        .expect("the gradio finding in 1.1");
    assert_eq!(carried["triage"]["state"], "not_affected");
    assert_eq!(carried["first_seen"], gradio["first_seen"]);
    // Default views hide nothing triaged; state filters pick it out.
    let open = app
        .get(
            &format!("/api/v1/versions/{v2}/findings?state=untriaged"),
            ADMIN,
        )
        .await;
    assert!(
        open["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["triage"].is_null())
    );

    // Diff.
    let diff = app
        .get(&format!("/api/v1/diff?from={v1}&to={v2}"), ADMIN)
        .await;
    let upgraded: Vec<&str> = diff["components"]["upgraded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        upgraded.contains(&"pillow") && upgraded.contains(&"requests"),
        "{diff}"
    );
    assert_eq!(diff["components"]["added"][0]["name"], "fastapi");
    let resolved: Vec<&str> = diff["findings"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(resolved.contains(&"PYSEC-2023-175"), "{resolved:?}");

    // Remediation: pillow's finding was fixed in 1.1.
    let project = second.json()["project"]["id"].as_i64().unwrap();
    let remediation = app
        .get(&format!("/api/v1/projects/{project}/remediation"), ADMIN)
        .await;
    let pillow = remediation["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["finding_id"] == "PYSEC-2023-175")
        .expect("pillow's finding");
    assert_eq!(pillow["fixed_in_version"], "1.1");
    assert_eq!(pillow["first_version"], "1.0");

    // Portfolio and events.
    let portfolio = app.get("/api/v1/portfolio", ADMIN).await;
    assert_eq!(portfolio["projects"], 1);
    let events = app.get("/api/v1/events?kind=finding_new", ADMIN).await;
    assert!(events["total"].as_u64().unwrap() >= 3);
    let trend = app.get("/api/v1/portfolio/trend?days=7", ADMIN).await;
    assert_eq!(trend["points"].as_array().unwrap().len(), 7);

    // The stored document comes back byte for byte.
    let document = app
        .call(
            "GET",
            &format!("/api/v1/versions/{v1}/sbom"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(
        document.body,
        std::fs::read(testdata("app-v1.cdx.json")).unwrap()
    );
    app.finish().await;
}

async fn dependency_track_uploads(postgres: bool) {
    let Some(app) = App::start(postgres, Duration::from_secs(3600)).await else {
        return;
    };
    let bom = std::fs::read(testdata("app-v1.cdx.json")).unwrap();
    // PUT with base64, as Dependency-Track's documented curl call and its clients send it.
    let put = app
        .send_json(
            "PUT",
            "/api/v1/bom",
            ADMIN,
            json!({
                "projectName": "dt-app",
                "projectVersion": "2024.1",
                "autoCreate": true,
                "bom": base64::engine::general_purpose::STANDARD.encode(&bom),
            }),
        )
        .await;
    assert_eq!(
        put.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&put.body)
    );
    let token = put.json()["token"].as_str().unwrap().to_owned();
    let status = app
        .get(&format!("/api/v1/event/token/{token}"), ADMIN)
        .await;
    assert_eq!(status["processing"], false);

    // POST multipart.
    let boundary = "----bulwarkboundary";
    let mut form = Vec::new();
    for (name, value) in [
        ("projectName", "dt-app"),
        ("projectVersion", "2024.2"),
        ("autoCreate", "true"),
    ] {
        form.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"bom\"; filename=\"bom.json\"\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
    );
    form.extend_from_slice(&bom);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let post = app
        .call(
            "POST",
            "/api/v1/bom",
            Some(ADMIN),
            Some((&format!("multipart/form-data; boundary={boundary}"), form)),
        )
        .await;
    assert_eq!(
        post.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&post.body)
    );

    // autoCreate off and no such project: 404, nothing created.
    let refused = app
        .send_json(
            "PUT",
            "/api/v1/bom",
            ADMIN,
            json!({
                "projectName": "ghost",
                "projectVersion": "1",
                "bom": base64::engine::general_purpose::STANDARD.encode(&bom),
            }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let projects = app.get("/api/v1/projects", ADMIN).await;
    assert_eq!(projects["total"], 1);
    let project = projects["items"][0]["id"].as_i64().unwrap();
    let versions = app
        .get(&format!("/api/v1/projects/{project}/versions"), ADMIN)
        .await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 2);

    // The look-ups clients make around an upload: a Dependency-Track project is a version.
    let listed = app.get("/api/v1/project?name=dt-app", ADMIN).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (&listed[0]["version"], &listed[1]["version"]),
        (&json!("2024.1"), &json!("2024.2"))
    );
    assert_eq!(
        (&listed[0]["isLatest"], &listed[1]["isLatest"]),
        (&json!(false), &json!(true))
    );
    assert!(listed[1]["lastBomImport"].as_i64().unwrap() > 0);
    // Clients page with pageNumber until an empty page.
    let second = app
        .get("/api/v1/project?name=dt-app&pageSize=1&pageNumber=2", ADMIN)
        .await;
    assert_eq!(second[0]["version"], "2024.2");
    let past = app
        .get("/api/v1/project?name=dt-app&pageSize=1&pageNumber=3", ADMIN)
        .await;
    assert_eq!(past, json!([]));
    assert_eq!(app.get("/api/v1/project?name=dt", ADMIN).await, json!([]));

    let found = app
        .get("/api/v1/project/lookup?name=dt-app&version=2024.2", ADMIN)
        .await;
    assert_eq!(found, listed[1]);
    let uuid = found["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/v1/project/{uuid}"), ADMIN).await,
        found
    );
    for missing in [
        "/api/v1/project/lookup?name=dt-app&version=9".to_owned(),
        "/api/v1/project/6e617b6f-ae0a-49f7-b656-79a6b4e0155b".to_owned(),
        "/api/v1/project/b01ba4c0-0000-8000-8000-0000000003e7".to_owned(),
    ] {
        let answer = app.call("GET", &missing, Some(ADMIN), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
    }

    // What a CI gate reads: findings, metrics, policy violations.
    let findings = app
        .get(&format!("/api/v1/finding/project/{uuid}"), ADMIN)
        .await;
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 4);
    let mut severities: Vec<&str> = findings
        .iter()
        .map(|f| f["vulnerability"]["severity"].as_str().unwrap())
        .collect();
    severities.sort_unstable();
    assert_eq!(severities, ["HIGH", "HIGH", "UNASSIGNED", "UNASSIGNED"]);
    assert!(
        findings
            .iter()
            .all(|f| f["component"]["project"] == uuid.as_str()
                && f["analysis"]["state"] == "NOT_SET"
                && f["matrix"].as_str().unwrap().starts_with(&uuid))
    );
    let metrics = app
        .get(&format!("/api/v1/metrics/project/{uuid}/current"), ADMIN)
        .await;
    assert_eq!(
        (
            &metrics["high"],
            &metrics["unassigned"],
            &metrics["findingsTotal"]
        ),
        (&json!(2), &json!(2), &json!(4))
    );
    assert_eq!(metrics["components"], 7);
    // The default policy fails on critical findings; this SBOM has none.
    let violations = app
        .get(&format!("/api/v1/violation/project/{uuid}"), ADMIN)
        .await;
    assert_eq!(violations, json!([]));
    let status = app.get(&format!("/api/v1/bom/token/{token}"), ADMIN).await;
    assert_eq!(status["processing"], false);

    // An upload naming only the `project` UUID goes to that version.
    let version_id = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == "2024.2")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let before = app
        .get(&format!("/api/v1/versions/{version_id}"), ADMIN)
        .await;
    let by_uuid = app
        .send_json(
            "PUT",
            "/api/v1/bom",
            ADMIN,
            json!({
                "project": uuid,
                "bom": base64::engine::general_purpose::STANDARD.encode(&bom),
            }),
        )
        .await;
    assert_eq!(
        by_uuid.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&by_uuid.body)
    );
    let after = app
        .get(&format!("/api/v1/versions/{version_id}"), ADMIN)
        .await;
    assert!(
        after["snapshot"]["id"].as_i64().unwrap() > before["snapshot"]["id"].as_i64().unwrap(),
        "{before} {after}"
    );

    // Another team's key sees none of it.
    let team = app
        .send_json("POST", "/api/v1/teams", ADMIN, json!({"name": "other"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let outsider = app
        .new_key("outsider", &["read", "upload"], Some(team))
        .await;
    assert_eq!(app.get("/api/v1/project", &outsider).await, json!([]));
    for path in [
        format!("/api/v1/project/{uuid}"),
        format!("/api/v1/finding/project/{uuid}"),
        "/api/v1/project/lookup?name=dt-app&version=2024.2".to_owned(),
    ] {
        let answer = app.call("GET", &path, Some(&outsider), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    app.finish().await;
}

async fn vex_out_and_in(postgres: bool) {
    let Some(app) = App::start(postgres, Duration::from_secs(3600)).await else {
        return;
    };
    let upload = app
        .upload(ADMIN, "vexed", "1", "app-v1.cdx.json")
        .await
        .json();
    let version = upload["version"]["id"].as_i64().unwrap();
    // In: one statement by alias and purl, one that matches nothing.
    let openvex = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://vex.example.invalid/doc-1",
        "author": "security@example.invalid",
        "timestamp": "2026-11-20T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2023-32681"},
                "products": [{"@id": "pkg:pypi/requests@2.28.2"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path"
            },
            {
                "vulnerability": {"name": "CVE-1999-0001"},
                "products": [{"@id": "pkg:pypi/requests@2.28.2"}],
                "status": "not_affected",
                "justification": "component_not_present"
            }
        ]
    });
    let imported = app
        .send_json(
            "POST",
            &format!("/api/v1/versions/{version}/vex"),
            ADMIN,
            openvex,
        )
        .await;
    assert_eq!(
        imported.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&imported.body)
    );
    let imported = imported.json();
    assert_eq!(
        imported["applied"].as_array().unwrap().len(),
        1,
        "{imported}"
    );
    assert_eq!(imported["applied"][0]["finding_id"], "PYSEC-2023-74");
    assert_eq!(imported["unmatched"][0]["vulnerability"], "CVE-1999-0001");

    // Out: both formats carry the decision.
    for format in ["cyclonedx", "openvex"] {
        let answer = app
            .call(
                "GET",
                &format!("/api/v1/versions/{version}/vex?format={format}"),
                Some(ADMIN),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let text = String::from_utf8(answer.body).unwrap();
        assert!(text.contains("PYSEC-2023-74"), "{format}: {text}");
        assert!(text.contains("not_affected"), "{format}");
    }
    let garbage = app
        .call(
            "POST",
            &format!("/api/v1/versions/{version}/vex"),
            Some(ADMIN),
            Some(("application/json", b"{\"hello\": 1}".to_vec())),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.finish().await;
}

/// Accepts HTTP requests on loopback and sends each one's headers and body down a channel;
/// the first answer is a 500 so that the retry is exercised.
async fn webhook_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut served = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut data = Vec::new();
            let mut buf = [0u8; 8192];
            let (head, body) = loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                data.extend_from_slice(&buf[..n]);
                if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&data[..end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while data.len() < end + 4 + length {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        data.extend_from_slice(&buf[..n]);
                    }
                    break (head, data[end + 4..].to_vec());
                }
            };
            served += 1;
            let status = if served == 1 {
                "500 Internal Server Error"
            } else {
                "204 No Content"
            };
            let _ = socket
                .write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
            let _ = tx.send((head, body));
        }
    });
    (url, rx)
}

async fn database_update_reevaluates_and_notifies(postgres: bool) {
    let Some(app) = App::start(postgres, Duration::from_millis(200)).await else {
        return;
    };
    let (url, mut deliveries) = webhook_receiver().await;
    let secret = "whsec-0123456789abcdef";
    let hook = app
        .send_json(
            "POST",
            "/api/v1/webhooks",
            ADMIN,
            json!({"url": url, "secret": secret, "events": ["finding_new"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED);
    let upload = app
        .upload(ADMIN, "watched", "1", "app-v1.cdx.json")
        .await
        .json();
    let version = upload["version"]["id"].as_i64().unwrap();
    let before = upload["findings"].as_u64().unwrap();

    // The server runs its workers while `bulwark db import` writes a new generation.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(bulwark_server::serve(app.server.clone(), listener, async {
        let _ = stop_rx.await;
    }));
    bulwark_vulndb::import(
        &app.vulndb,
        &[testdata("osv-update")],
        &bulwark_vulndb::ImportOptions::default(),
    )
    .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (findings, new) = loop {
        let findings = app
            .get(
                &format!("/api/v1/versions/{version}/findings?limit=1000"),
                ADMIN,
            )
            .await;
        let new = findings["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["finding_id"] == "BULWARK-TEST-2026-0001")
            .cloned();
        if let Some(new) = new {
            break (findings, new);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no re-evaluation within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Everything else stayed: one finding more.
    assert_eq!(
        findings["total"].as_u64().unwrap(),
        before + 1,
        "{findings}"
    );
    assert_eq!(new["severity"], "critical");
    let events = app
        .get("/api/v1/events?kind=finding_new&limit=1000", ADMIN)
        .await;
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["finding_id"] == "BULWARK-TEST-2026-0001")
    );

    // The webhook: refused once (500), delivered again with the same delivery id, signed.
    let first = tokio::time::timeout(Duration::from_secs(60), deliveries.recv())
        .await
        .expect("a webhook call")
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(90), deliveries.recv())
        .await
        .expect("a retried webhook call")
        .unwrap();
    let header = |head: &str, name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    assert_eq!(
        header(&first.0, "x-bulwark-delivery"),
        header(&second.0, "x-bulwark-delivery")
    );
    assert_eq!(
        header(&second.0, "x-bulwark-signature"),
        bulwark_server::sign(secret.as_bytes(), &second.1)
    );
    let body: Value = serde_json::from_slice(&second.1).unwrap();
    assert_eq!(body["event"], "finding_new");
    assert_eq!(body["findings"][0]["id"], "BULWARK-TEST-2026-0001");

    let _ = stop_tx.send(());
    serving.await.unwrap().unwrap();
    app.finish().await;
}

async fn concurrent_uploads_lose_nothing(postgres: bool) {
    let Some(app) = App::start(postgres, Duration::from_secs(3600)).await else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let app = app.clone();
        tasks.spawn(async move {
            let project = format!("p{}", i % 3);
            let answer = app
                .upload(ADMIN, &project, &format!("v{i}"), "app-v1.cdx.json")
                .await;
            assert_eq!(
                answer.status,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let projects = app.get("/api/v1/projects", ADMIN).await;
    assert_eq!(projects["total"], 3);
    let portfolio = app.get("/api/v1/portfolio", ADMIN).await;
    assert_eq!(portfolio["versions"], 12);
    let app = std::sync::Arc::into_inner(app).unwrap();
    app.finish().await;
}
