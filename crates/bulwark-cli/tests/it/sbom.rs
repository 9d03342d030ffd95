//! `bulwark sbom`.

use predicates::prelude::*;
use serde_json::Value;

use crate::{bulwark, workspace_root};

fn sbom_json(target: &std::path::Path) -> Value {
    let output = bulwark()
        .args(["sbom", "-o", "json"])
        .arg(target)
        .output()
        .expect("bulwark runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("bulwark json is JSON")
}

/// A compact listing `ecosystem name@version purl` per component, for readable snapshots.
fn listing(document: &Value) -> String {
    document["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            format!(
                "{} {}@{} {}",
                c["ecosystem"].as_str().unwrap_or("-"),
                c["name"].as_str().unwrap_or_default(),
                c["version"].as_str().unwrap_or("(unpinned)"),
                c["purl"].as_str().unwrap_or("-"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn example_inventory() {
    let document = sbom_json(&workspace_root().join("examples/ml-stack"));
    insta::assert_snapshot!(listing(&document));
}

#[test]
fn every_format_is_deterministic() {
    let example = workspace_root().join("examples/ml-stack");
    for format in ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "json"] {
        let run = || {
            bulwark()
                .args(["sbom", "-q", "-o", format])
                .arg(&example)
                .output()
                .expect("bulwark runs")
        };
        let (first, second) = (run(), run());
        assert!(
            first.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(first.stderr.is_empty(), "{format}: quiet prints nothing");
        assert_eq!(
            first.stdout, second.stdout,
            "{format} output differs between runs"
        );
    }
}

#[test]
fn missing_target_is_one_line_and_exit_2() {
    bulwark()
        .args(["sbom", "/nonexistent/bulwark-target"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: cannot scan `/nonexistent/bulwark-target`",
        ))
        .stderr(predicate::function(|s: &str| s.lines().count() == 1));
}

#[test]
fn unknown_single_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.md");
    fs_err::write(&file, "# notes").unwrap();
    bulwark()
        .arg("sbom")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a format bulwark reads"));
}

#[test]
fn bad_file_is_a_warning_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("uv.lock"), "this is [not toml").unwrap();
    fs_err::write(dir.path().join("requirements.txt"), "numpy==1.26.4\n").unwrap();
    let output = bulwark()
        .args(["sbom", "-o", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("warning: uv.lock"), "{stderr}");
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        listing(&document),
        "PyPI numpy@1.26.4 pkg:pypi/numpy@1.26.4"
    );
}

#[test]
fn output_file_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sbom.cdx.json");
    fs_err::write(&out, "old").unwrap();
    bulwark()
        .args(["sbom", "-q"])
        .arg(workspace_root().join("examples/ml-stack/requirements.txt"))
        .arg("--output")
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let document: Value = serde_json::from_str(&fs_err::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(document["specVersion"], "1.6");
    // Only the document is left: the temporary file was renamed, not copied.
    assert_eq!(fs_err::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn invalid_format_is_an_error() {
    bulwark()
        .args(["sbom", "-o", "yaml", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid `--format`"));
}

#[test]
fn serve_refuses_an_unsupported_database_url() {
    bulwark()
        .args([
            "serve",
            "--database",
            "mysql://root@127.0.0.1/x",
            "--listen",
            "127.0.0.1:0",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unsupported database URL"))
        .stderr(predicate::str::contains("root@").not());
}

/// gradio ships test projects inside its installed package; their `pyproject.toml` names
/// packages that are not installed. Only the installed distribution may be reported.
#[test]
fn manifests_inside_site_packages_are_not_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("venv/lib/python3.11/site-packages");
    let dist_info = site.join("gradio-4.8.0.dist-info");
    fs_err::create_dir_all(&dist_info).unwrap();
    fs_err::write(
        dist_info.join("METADATA"),
        "Metadata-Version: 2.1\nName: gradio\nVersion: 4.8.0\n",
    )
    .unwrap();
    let vendored = site.join("gradio/_frontend_code/preview/test/test");
    fs_err::create_dir_all(&vendored).unwrap();
    fs_err::write(
        vendored.join("pyproject.toml"),
        "[project]\nname = \"gradio-test\"\nversion = \"0.0.1\"\ndependencies = [\"twine\"]\n",
    )
    .unwrap();
    let document = sbom_json(dir.path());
    assert_eq!(
        listing(&document),
        "PyPI gradio@4.8.0 pkg:pypi/gradio@4.8.0"
    );
}
