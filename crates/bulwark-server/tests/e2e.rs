//! The web UI in a real headless Chromium: starts the server in-process on loopback (SQLite,
//! the example vulnerability database) and runs `e2e/ui.mjs` (playwright-core) against it,
//! which logs in, uploads an SBOM, triages a finding, checks the dashboard, uploads the next
//! version (`testdata/app-v2.cdx.json`) and checks carry-over, the diff and the VEX round trip,
//! saving a screenshot per step.
//!
//! Runs when `BULWARK_E2E=1` (`.ci/run` sets it after installing Debian's `chromium` and
//! running `npm ci` in `crates/bulwark-server/e2e`); then a missing Chromium or Node.js fails
//! the test instead of skipping it. Screenshots land in `target/tmp/e2e-screenshots`.

use std::path::Path;
use std::process::Command;

const KEY: &str = "e2e-admin-key-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn web_ui_in_chromium() {
    if std::env::var("BULWARK_E2E").map_or(true, |v| v != "1") {
        return; // see the module documentation
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let e2e = crate_dir.join("e2e");
    assert!(
        e2e.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in {} first",
        e2e.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let vulndb = dir.path().join("vulndb");
    bulwark_vulndb::import(
        &vulndb,
        &[crate_dir.join("../../examples/osv")],
        &bulwark_vulndb::ImportOptions::default(),
    )
    .unwrap();
    let mut config = bulwark_server::Config::new(format!(
        "sqlite://{}",
        dir.path().join("server.db").display()
    ));
    config.vulndb_dir = Some(vulndb);
    config.bootstrap_key = Some(KEY.to_owned());
    let server = bulwark_server::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(bulwark_server::serve(server, listener, async {
        let _ = stopped.await;
    }));

    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-screenshots");
    let sbom = crate_dir.join("testdata/app-v1.cdx.json");
    let sbom_next = crate_dir.join("testdata/app-v2.cdx.json");
    let script = e2e.join("ui.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env("BULWARK_E2E_URL", &url)
            .env("BULWARK_E2E_KEY", KEY)
            .env("BULWARK_E2E_SBOM", &sbom)
            .env("BULWARK_E2E_SBOM_NEXT", &sbom_next)
            .env("BULWARK_E2E_SCREENSHOTS", &screenshots)
            .output()
    })
    .await
    .unwrap()
    .expect("cannot run `node` (Node.js 20 is needed for the browser test)");
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
