//! `bulwark db`.

use predicates::prelude::*;
use serde_json::Value;

use crate::{bulwark, workspace_root};

#[test]
fn import_then_status() {
    let db = tempfile::tempdir().unwrap();
    let testdata = workspace_root().join("crates/bulwark-vulndb/testdata");
    bulwark()
        .args(["db", "import"])
        .arg(testdata.join("osv"))
        .arg(testdata.join("malformed"))
        .arg("--db")
        .arg(db.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: ").and(predicate::str::contains("not-json")))
        .stderr(predicate::str::contains("malformed"));

    let output = bulwark()
        .args(["db", "status", "--json"])
        .env("BULWARK_DB_DIR", db.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(status["records"].as_u64().unwrap() > 0);
    assert_eq!(status["malformed"], 3);
    assert!(status["ecosystems"]["PyPI"]["records"].as_u64().unwrap() > 0);

    bulwark()
        .args(["db", "status"])
        .arg("--db")
        .arg(db.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("PyPI").and(predicate::str::contains("ago")));
}

#[test]
fn status_without_a_database_says_what_to_do() {
    let db = tempfile::tempdir().unwrap();
    bulwark()
        .args(["db", "status", "--db"])
        .arg(db.path().join("none"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("run `bulwark db import"));
}

#[test]
fn import_of_a_missing_path_fails_and_names_it() {
    let db = tempfile::tempdir().unwrap();
    bulwark()
        .args(["db", "import", "/nonexistent/osv.zip", "--db"])
        .arg(db.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/osv.zip"));
}
