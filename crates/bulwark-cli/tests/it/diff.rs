//! `bulwark diff`.

use std::path::Path;

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::{bulwark, workspace_root};

/// A database holding the real records in `bulwark-vulndb`'s testdata. What they affect,
/// read from the records: PYSEC-2021-98 Django [3.2, 3.2.4); PYSEC-2023-74 requests
/// [2.3.0, 2.31.0); PYSEC-2020-341 jw.util below 2.3; GHSA-9v2f-6vcg-3hgv (CRITICAL) Gradio
/// 4.36.1 only.
fn database() -> tempfile::TempDir {
    let db = tempfile::tempdir().unwrap();
    bulwark()
        .args(["db", "import", "-q"])
        .arg(workspace_root().join("crates/bulwark-vulndb/testdata/osv"))
        .arg("--db")
        .arg(db.path())
        .assert()
        .success();
    db
}

/// A minimal CycloneDX 1.6 document of `(name, version, purl)` components.
fn cyclonedx(components: &[(&str, &str, &str)]) -> String {
    let components: Vec<Value> = components
        .iter()
        .map(|(name, version, purl)| {
            json!({"type": "library", "name": name, "version": version, "purl": purl})
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": components,
    })
    .to_string()
}

/// Two releases of one service: `old.cdx.json` and `new.cdx.json`.
fn releases() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let old = cyclonedx(&[
        ("Django", "3.2.3", "pkg:pypi/django@3.2.3"),
        ("requests", "2.31.0", "pkg:pypi/requests@2.31.0"),
        ("numpy", "1.26.4", "pkg:pypi/numpy@1.26.4"),
        ("gradio", "4.36.0", "pkg:pypi/gradio@4.36.0"),
        ("lodash", "4.17.21", "pkg:npm/lodash@4.17.21"),
        (
            "openssl",
            "3.0.11-1~deb12u1",
            "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12",
        ),
    ]);
    let new = cyclonedx(&[
        ("django", "3.2.4", "pkg:pypi/django@3.2.4"),
        ("requests", "2.30.0", "pkg:pypi/requests@2.30.0"),
        ("jw.util", "2.0", "pkg:pypi/jw-util@2.0"),
        ("gradio", "4.36.1", "pkg:pypi/gradio@4.36.1"),
        ("lodash", "4.17.21", "pkg:npm/lodash@4.17.21"),
        (
            "openssl",
            "3.0.11-1~deb12u2",
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
        ),
    ]);
    fs_err::write(dir.path().join("old.cdx.json"), old).unwrap();
    fs_err::write(dir.path().join("new.cdx.json"), new).unwrap();
    dir
}

fn diff(old: &Path, new: &Path, db: &Path, extra: &[&str]) -> std::process::Output {
    bulwark()
        .arg("diff")
        .arg(old)
        .arg(new)
        .arg("--db")
        .arg(db)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn table_lists_component_changes_and_findings() {
    let db = database();
    let dir = releases();
    let output = diff(
        &dir.path().join("old.cdx.json"),
        &dir.path().join("new.cdx.json"),
        db.path(),
        &[],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn json_document() {
    let db = database();
    let dir = releases();
    let output = diff(
        &dir.path().join("old.cdx.json"),
        &dir.path().join("new.cdx.json"),
        db.path(),
        &["-o", "json"],
    );
    assert_eq!(output.status.code(), Some(0));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let components = &document["components"];
    assert_eq!(names(&components["added"]), ["jw.util"]);
    assert_eq!(names(&components["removed"]), ["numpy"]);
    assert_eq!(
        names(&components["upgraded"]),
        ["django", "gradio", "openssl"]
    );
    assert_eq!(names(&components["downgraded"]), ["requests"]);
    assert_eq!(components["unchanged"], 1);
    assert_eq!(components["upgraded"][0]["old_version"], "3.2.3");
    assert_eq!(components["upgraded"][0]["new_version"], "3.2.4");
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&document["findings"]["new"]),
        ["GHSA-9v2f-6vcg-3hgv", "PYSEC-2020-341", "PYSEC-2023-74"]
    );
    assert_eq!(ids(&document["findings"]["resolved"]), ["PYSEC-2021-98"]);
    assert_eq!(document["findings"]["new"][0]["severity"], "critical");
    assert_eq!(
        document["findings"]["new"][0]["versions"],
        json!(["4.36.1"])
    );
    assert_eq!(document["artifact_findings"]["new"], json!([]));
}

#[test]
fn fail_on_counts_only_new_findings() {
    let db = database();
    let dir = releases();
    let (old, new) = (
        dir.path().join("old.cdx.json"),
        dir.path().join("new.cdx.json"),
    );
    // The upgrade to gradio 4.36.1 brings a critical finding.
    let output = diff(&old, &new, db.path(), &["--fail-on", "critical"]);
    assert_eq!(output.status.code(), Some(1));
    // Backwards, that finding is resolved; the only new one (Django) has no severity.
    let output = diff(&new, &old, db.path(), &["--fail-on", "low", "-o", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["findings"]["new"][0]["id"], "PYSEC-2021-98");
    assert_eq!(
        document["findings"]["resolved"][0]["id"],
        "GHSA-9v2f-6vcg-3hgv"
    );
}

#[test]
fn without_a_database_only_components() {
    let dir = releases();
    let none = dir.path().join("no-db");
    let output = bulwark()
        .env("BULWARK_DB_DIR", &none)
        .args(["diff", "-o", "json"])
        .arg(dir.path().join("old.cdx.json"))
        .arg(dir.path().join("new.cdx.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("note: no vulnerability database"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["findings"], Value::Null);
    assert_eq!(document["components"]["removed"][0]["name"], "numpy");

    bulwark()
        .env("BULWARK_DB_DIR", &none)
        .arg("diff")
        .arg(dir.path().join("old.cdx.json"))
        .arg(dir.path().join("new.cdx.json"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Findings: not checked (no vulnerability database).",
        ));
    // A gate that cannot see findings must not pass.
    bulwark()
        .env("BULWARK_DB_DIR", &none)
        .args(["diff", "--fail-on", "high"])
        .arg(dir.path().join("old.cdx.json"))
        .arg(dir.path().join("new.cdx.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`--fail-on` needs a vulnerability database",
        ));
}

#[test]
fn directories_are_inventoried() {
    let db = database();
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    fs_err::write(old.path().join("requirements.txt"), "Django==3.2.3\n").unwrap();
    fs_err::write(new.path().join("requirements.txt"), "Django==3.2.4\n").unwrap();
    let output = diff(old.path(), new.path(), db.path(), &["-o", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["components"]["upgraded"][0]["name"], "Django");
    assert_eq!(document["findings"]["resolved"][0]["id"], "PYSEC-2021-98");
}

#[test]
fn errors_exit_2() {
    let db = database();
    let dir = releases();
    let missing = dir.path().join("missing.cdx.json");
    let output = diff(&dir.path().join("old.cdx.json"), &missing, db.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    fs_err::write(
        dir.path().join("bad.cdx.json"),
        "{\"bomFormat\": \"CycloneDX\", ",
    )
    .unwrap();
    let output = diff(
        &dir.path().join("old.cdx.json"),
        &dir.path().join("bad.cdx.json"),
        db.path(),
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read the SBOM"), "{stderr}");
    let output = diff(
        &dir.path().join("old.cdx.json"),
        &dir.path().join("new.cdx.json"),
        db.path(),
        &["-o", "sarif"],
    );
    assert_eq!(output.status.code(), Some(2));
    // `--db` names a database that must exist.
    let output = diff(
        &dir.path().join("old.cdx.json"),
        &dir.path().join("new.cdx.json"),
        &dir.path().join("no-db"),
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
}
