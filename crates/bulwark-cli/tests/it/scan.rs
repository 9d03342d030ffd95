//! `bulwark scan`.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::{bulwark, workspace_root};

/// A database holding the real records in `bulwark-vulndb`'s testdata.
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

fn project(requirements: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("requirements.txt"), requirements).unwrap();
    dir
}

fn scan_json(target: &Path, db: &Path) -> Value {
    let output = bulwark()
        .args(["scan", "-o", "json", "--db"])
        .arg(db)
        .arg(target)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `(id, package@version)` of every finding.
fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}@{}",
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn findings_fixed_boundaries_and_unpinned_components() {
    let db = database();
    // PYSEC-2021-98 affects Django [3.2, 3.2.4); PYSEC-2023-74 affects requests [2.3.0, 2.31.0).
    let dir = project("Django==3.2.3\nrequests==2.31.0\nnumpy\n");
    let report = scan_json(dir.path(), db.path());
    assert_eq!(findings(&report), ["PYSEC-2021-98 Django@3.2.3"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["package"]["ecosystem"], "PyPI");
    assert_eq!(finding["package"]["purl"], "pkg:pypi/django@3.2.3");
    assert!(
        finding["fixed_versions"]
            .as_array()
            .unwrap()
            .contains(&"3.2.4".into())
    );
    let not_checked = report["not_checked"].as_array().unwrap();
    assert_eq!(not_checked.len(), 1, "{not_checked:?}");
    assert_eq!(not_checked[0]["name"], "numpy");
    assert_eq!(report["components"].as_array().unwrap().len(), 3);
}

#[test]
fn fail_on_threshold() {
    let db = database();
    // GHSA-9v2f-6vcg-3hgv lists gradio 4.36.1 and scores CVSS 3.1 9.8 (critical).
    let dir = project("gradio==4.36.1\n");
    for (threshold, code) in [(None, 0), (Some("high"), 1), (Some("critical"), 1)] {
        let mut command = bulwark();
        command
            .args(["scan", "--db"])
            .arg(db.path())
            .arg(dir.path());
        if let Some(threshold) = threshold {
            command.args(["--fail-on", threshold]);
        }
        command
            .assert()
            .code(code)
            .stdout(predicate::str::contains("GHSA-9v2f-6vcg-3hgv"))
            .stdout(predicate::str::contains("CRITICAL"));
    }
    bulwark()
        .args(["scan", "--fail-on", "severe", "--db"])
        .arg(db.path())
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid `--fail-on`"));
}

#[test]
fn an_sbom_from_bulwark_scans_like_the_tree_it_describes() {
    let db = database();
    let dir = project("Django==3.2.3\nrequests==2.28.2\n");
    let sbom = dir.path().join("sbom.cdx.json");
    bulwark()
        .args(["sbom", "-q"])
        .arg(dir.path().join("requirements.txt"))
        .arg("--output")
        .arg(&sbom)
        .assert()
        .success();
    let from_tree = findings(&scan_json(&dir.path().join("requirements.txt"), db.path()));
    let from_sbom = findings(&scan_json(&sbom, db.path()));
    assert_eq!(
        from_tree,
        [
            "PYSEC-2021-98 Django@3.2.3",
            "PYSEC-2023-74 requests@2.28.2"
        ]
    );
    assert_eq!(from_sbom, from_tree);
}

#[test]
fn missing_database_gives_advice() {
    let dir = project("Django==3.2.3\n");
    let empty = tempfile::tempdir().unwrap();
    bulwark()
        .args(["scan", "--db"])
        .arg(empty.path().join("none"))
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("run `bulwark db import"));
}

#[test]
fn sarif_and_cyclonedx_outputs() {
    let db = database();
    let dir = project("Django==3.2.3\n");
    for (format, check) in [
        ("sarif", "\"version\": \"2.1.0\""),
        ("cyclonedx-json", "\"vulnerabilities\""),
    ] {
        bulwark()
            .args(["scan", "-o", format, "--db"])
            .arg(db.path())
            .arg(dir.path())
            .assert()
            .success()
            .stdout(predicate::str::contains(check))
            .stdout(predicate::str::contains("PYSEC-2021-98"));
    }
}

#[test]
fn explain_names_the_record_the_range_and_the_comparison() {
    let db = database();
    let dir = project("Django==3.2.3\n");
    let output = bulwark()
        .args(["scan", "--explain", "PYSEC-2021-98", "--db"])
        .arg(db.path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("PYSEC-2021-98 affects Django 3.2.3 (PyPI)"),
        "{text}"
    );
    assert!(
        text.contains("matched PYSEC-2021-98 affected[0] ranges[0] (ECOSYSTEM): "),
        "{text}"
    );
    assert!(text.contains("3.2.3"), "{text}");
    assert!(text.contains("fixed in: "), "{text}");
    bulwark()
        .args(["scan", "--explain", "CVE-0000-0000", "--db"])
        .arg(db.path())
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no finding has the id or alias `CVE-0000-0000`",
        ));
}

/// A Debian root filesystem: packages are matched under their source package (Debian's
/// advisories name `openssl`, the image has the binary `libssl1.1`) and their release
/// (`Debian:9` from `os-release`), never under another release's records.
#[test]
fn debian_packages_match_their_release_only() {
    let db = database();
    for (version_id, expected) in [
        ("9", vec!["DLA-3008-1 openssl@1.1.0l-1~deb9u5"]),
        ("12", vec![]),
    ] {
        let root = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(root.path().join("etc")).unwrap();
        fs_err::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
        fs_err::write(
            root.path().join("etc/os-release"),
            format!("ID=debian\nVERSION_ID=\"{version_id}\"\n"),
        )
        .unwrap();
        fs_err::write(
            root.path().join("var/lib/dpkg/status"),
            "Package: libssl1.1\nSource: openssl\nStatus: install ok installed\n\
             Architecture: amd64\nVersion: 1.1.0l-1~deb9u5\n",
        )
        .unwrap();
        let report = scan_json(root.path(), db.path());
        assert_eq!(findings(&report), expected, "Debian {version_id}");
        assert!(report["not_checked"].as_array().unwrap().is_empty());
    }
}

/// A pickled call of `os.system("true")`, protocol 2, the way `pickle.dumps` writes a REDUCE.
const MALICIOUS_PICKLE: &[u8] =
    b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.";

#[test]
fn unsafe_model_files_are_findings_beside_the_vulnerabilities() {
    let db = database();
    let dir = project("jinja2==2.4.1\n");
    fs_err::create_dir_all(dir.path().join("models")).unwrap();
    fs_err::write(dir.path().join("models/classifier.pkl"), MALICIOUS_PICKLE).unwrap();

    let report = scan_json(dir.path(), db.path());
    let artifacts = report["artifact_findings"].as_array().unwrap();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    assert_eq!(artifacts[0]["path"], "models/classifier.pkl");
    assert_eq!(artifacts[0]["id"], "BWM-PICKLE-CODE-EXEC");
    assert_eq!(artifacts[0]["severity"], "critical");
    assert!(
        artifacts[0]["callable"]
            .as_str()
            .unwrap()
            .ends_with("system"),
        "{artifacts:?}"
    );
    // The model file is in the inventory too.
    assert!(
        report["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"].as_str().unwrap().contains("classifier.pkl")),
        "{:?}",
        report["components"]
    );

    // The table lists it, and `--fail-on critical` fails on it alone.
    let clean = project("");
    fs_err::write(clean.path().join("classifier.pkl"), MALICIOUS_PICKLE).unwrap();
    bulwark()
        .args(["scan", "--fail-on", "critical", "--db"])
        .arg(db.path())
        .arg(clean.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Unsafe artifacts:"))
        .stdout(predicate::str::contains("BWM-PICKLE-CODE-EXEC"));
}
