//! Renders a small inventory matched against real OSV records (copied into `testdata/osv/`)
//! and checks both formats against their schemas, snapshots and determinism.
//!
//! The records (see `testdata/README.md`): `GHSA-9v2f-6vcg-3hgv` (Gradio 4.36.1 listed, CVSS
//! 3.1 9.8), `PYSEC-2021-98` (django `3.2 <= v < 3.2.4`, no severity), `PYSEC-2021-13`
//! (flask-caching, withdrawn: never reported), `PYSEC-2022-43065` (gdal `3.3.0 <= v < 3.4.1`,
//! CVSS 3.1 medium), `PYSEC-2022-43057` (pywasm3, no fix, CVSS 3.1 medium).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bulwark_inventory::{Component, ComponentKind, Ecosystem, Inventory, Location};
use bulwark_match::{MatchOptions, MatchReport, Severity, match_inventory};
use bulwark_sbom::EncodeOptions;
use bulwark_vulndb::{Database, ImportOptions, import};
use serde_json::Value;
use time::macros::datetime;

use crate::{ReportError, cyclonedx_vex, sarif};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn options() -> EncodeOptions {
    EncodeOptions::new("0.1.0", datetime!(2024-05-01 10:00:00 UTC))
}

fn pypi(name: &str, version: Option<&str>, location: Location) -> Component {
    Component::package(Ecosystem::PyPI, name, version, location, "test")
}

fn inventory() -> Inventory {
    let mut django = pypi(
        "Django",
        Some("3.2.0"),
        Location::new("requirements.txt").at_line(1),
    );
    django.locations.insert(Location::new(
        "venv/lib/python3.11/site-packages/Django-3.2.0.dist-info/METADATA",
    ));
    let mut cudnn = pypi(
        "cudnn",
        Some("8.9.7"),
        Location::new("usr/lib/libcudnn.so.8"),
    );
    cudnn.kind = ComponentKind::GpuLibrary;
    cudnn.ecosystem = None;
    cudnn.purl = None;
    let components = vec![
        django,
        pypi(
            "gradio",
            Some("4.36.1"),
            Location::new("requirements.txt").at_line(2),
        ),
        pypi(
            "Flask-Caching",
            Some("1.10.1"),
            Location::new("requirements.txt").at_line(5),
        ),
        pypi(
            "GDAL",
            Some("3.4.0"),
            Location::new("my app/requirements.txt").at_line(7),
        ),
        pypi(
            "pywasm3",
            Some("0.5.0"),
            Location::new("requirements.txt").at_line(6),
        ),
        pypi(
            "numpy",
            Some("1.26.4"),
            Location::new("requirements.txt").at_line(3),
        ),
        pypi(
            "requests",
            None,
            Location::new("requirements.txt").at_line(4),
        ),
        cudnn,
    ];
    Inventory::assemble("proj".into(), components, vec![], vec![], vec![])
}

fn report(inventory: &Inventory) -> MatchReport {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("db");
    let imported = import(
        &dir,
        &[crate_dir().join("testdata/osv")],
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(imported.malformed.is_empty(), "{:?}", imported.malformed);
    let db = Database::open(&dir).unwrap();
    match_inventory(inventory, &db, &MatchOptions::default()).unwrap()
}

fn fixture() -> (Inventory, MatchReport) {
    let inventory = inventory();
    let report = report(&inventory);
    (inventory, report)
}

fn as_json(bytes: &[u8]) -> Value {
    assert_eq!(bytes.last(), Some(&b'\n'));
    serde_json::from_slice(bytes).unwrap()
}

fn load_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
}

fn sarif_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load_json(
            &crate_dir().join("testdata/schemas/sarif-2.1.0-rtm.5.json"),
        ))
        .unwrap()
}

/// The CycloneDX schemas bulwark-sbom vendors, with the two it refers to by bare name
/// registered under their `$id`s.
fn cyclonedx_validator() -> jsonschema::Validator {
    let dir: PathBuf = crate_dir().join("../bulwark-sbom/testdata/schemas/cyclonedx");
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load_json(&dir.join("spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load_json(&dir.join("jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load_json(&dir.join("bom-1.6.schema.json")))
        .unwrap()
}

#[test]
fn fixture_has_the_expected_findings() {
    let (_, report) = fixture();
    let found: Vec<(&str, &str, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.package.name.as_str(), f.id.as_str(), f.severity))
        .collect();
    assert_eq!(
        found,
        [
            ("Django", "PYSEC-2021-98", Severity::Unknown),
            ("GDAL", "PYSEC-2022-43065", Severity::Medium),
            ("gradio", "GHSA-9v2f-6vcg-3hgv", Severity::Critical),
            ("pywasm3", "PYSEC-2022-43057", Severity::Medium),
        ]
    );
    assert_eq!(report.not_checked.len(), 2, "{:?}", report.not_checked);
}

#[test]
fn sarif_is_schema_valid() {
    let (inventory, report) = fixture();
    let document = as_json(&sarif(&inventory, &report, "0.1.0").unwrap());
    assert_valid(&sarif_validator(), &document);
}

#[test]
fn sarif_carries_artifact_findings_as_their_own_rules() {
    let (mut inventory, report) = fixture();
    inventory.findings = vec![bulwark_inventory::ArtifactFinding {
        path: "models/classifier.pt".into(),
        member: Some("archive/data.pkl".into()),
        offset: Some(42),
        id: "BWM-PICKLE-CODE-EXEC".into(),
        severity: bulwark_inventory::ArtifactSeverity::Critical,
        callable: Some("os.system".into()),
        message: "the pickle calls `os.system` when loaded".into(),
        remedy: "Convert the checkpoint to safetensors.".into(),
    }];
    let document = as_json(&sarif(&inventory, &report, "0.1.0").unwrap());
    assert_valid(&sarif_validator(), &document);
    let run = &document["runs"][0];
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "BWM-PICKLE-CODE-EXEC")
        .unwrap();
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "BWM-PICKLE-CODE-EXEC")
        .unwrap();
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "models/classifier.pt"
    );
    assert_eq!(result["properties"]["callable"], "os.system");
    assert_eq!(result["properties"]["member"], "archive/data.pkl");
}

#[test]
fn sarif_schema_check_catches_errors() {
    let (inventory, report) = fixture();
    let mut document = as_json(&sarif(&inventory, &report, "0.1.0").unwrap());
    document["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_validator().is_valid(&document));
}

#[test]
fn sarif_has_rules_results_and_locations() {
    let (inventory, report) = fixture();
    let document = as_json(&sarif(&inventory, &report, "0.1.0").unwrap());
    assert_eq!(
        document["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(document["version"], "2.1.0");
    let run = &document["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "bulwark");
    assert_eq!(run["tool"]["driver"]["version"], "0.1.0");

    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "GHSA-9v2f-6vcg-3hgv",
            "PYSEC-2021-98",
            "PYSEC-2022-43057",
            "PYSEC-2022-43065"
        ]
    );
    assert_eq!(rules[0]["properties"]["security-severity"], "9.8");
    assert_eq!(
        rules[0]["helpUri"],
        "https://osv.dev/vulnerability/GHSA-9v2f-6vcg-3hgv"
    );
    assert_eq!(
        rules[0]["properties"]["tags"],
        serde_json::json!(["security", "vulnerability", "PyPI"])
    );
    // No severity known: GitHub gets no number rather than an invented one.
    assert!(rules[1]["properties"].get("security-severity").is_none());

    let results = run["results"].as_array().unwrap();
    // Django has two locations, the others one each; the withdrawn record gives nothing.
    assert_eq!(results.len(), 5);
    let rule_ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        rule_ids,
        [
            "PYSEC-2021-98",
            "PYSEC-2021-98",
            "PYSEC-2022-43065",
            "GHSA-9v2f-6vcg-3hgv",
            "PYSEC-2022-43057"
        ]
    );
    let django = &results[0];
    assert_eq!(django["level"], "note");
    let physical = &django["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "requirements.txt");
    assert_eq!(physical["region"]["startLine"], 1);
    assert!(
        django["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Django 3.2.0 is affected by PYSEC-2021-98"),
        "{}",
        django["message"]["text"]
    );
    assert!(
        django["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("; fixed in 3.2.4")
    );
    assert!(
        results[1]["locations"][0]["physicalLocation"]
            .get("region")
            .is_none()
    );
    assert_eq!(
        results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "my%20app/requirements.txt"
    );
    assert_eq!(results[2]["level"], "warning");
    assert_eq!(results[3]["level"], "error");
    assert!(
        results[4]["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("; no fixed version known")
    );

    let fingerprints: BTreeSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["bulwarkFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fingerprints.len(), results.len());

    let notifications = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notifications.len(), report.not_checked.len());
}

#[test]
fn sarif_levels() {
    use crate::sarif::level;
    assert_eq!(level(Severity::Critical), "error");
    assert_eq!(level(Severity::High), "error");
    assert_eq!(level(Severity::Medium), "warning");
    assert_eq!(level(Severity::Low), "note");
    assert_eq!(level(Severity::None), "note");
    assert_eq!(level(Severity::Unknown), "note");
}

#[test]
fn uri_references_are_escaped() {
    use crate::sarif::uri_reference;
    assert_eq!(
        uri_reference("venv/torch-2.2.0+cu121.dist-info/METADATA"),
        "venv/torch-2.2.0+cu121.dist-info/METADATA"
    );
    assert_eq!(uri_reference("a b/c%d/é"), "a%20b/c%25d/%C3%A9");
    assert_eq!(uri_reference("C:/x/y:z"), "C%3A/x/y:z");
}

#[test]
fn cyclonedx_vex_is_schema_valid() {
    let (inventory, report) = fixture();
    let document = as_json(&cyclonedx_vex(&inventory, &report, &options()).unwrap());
    assert_valid(&cyclonedx_validator(), &document);
}

#[test]
fn cyclonedx_vex_refs_resolve_and_are_unique() {
    let (inventory, report) = fixture();
    let document = as_json(&cyclonedx_vex(&inventory, &report, &options()).unwrap());
    let component_refs: BTreeSet<&str> = document["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let vulnerabilities = document["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), report.findings.len());
    let mut all_refs: BTreeSet<&str> = component_refs.clone();
    for vulnerability in vulnerabilities {
        assert!(all_refs.insert(vulnerability["bom-ref"].as_str().unwrap()));
        for affected in vulnerability["affects"].as_array().unwrap() {
            assert!(
                component_refs.contains(affected["ref"].as_str().unwrap()),
                "{affected}"
            );
        }
    }
    let gradio = &vulnerabilities[2];
    assert_eq!(gradio["id"], "GHSA-9v2f-6vcg-3hgv");
    assert_eq!(gradio["ratings"][0]["severity"], "critical");
    assert_eq!(gradio["ratings"][0]["method"], "CVSSv31");
    assert_eq!(gradio["ratings"][0]["score"], 9.8);
    assert_eq!(gradio["references"][0]["id"], "CVE-2024-39236");
    assert_eq!(gradio["references"][0]["source"]["name"], "NVD");
    let django = &vulnerabilities[0];
    assert_eq!(django["recommendation"], "Upgrade Django to 3.2.4.");
    assert_eq!(django["affects"][0]["versions"][0]["status"], "affected");
    assert!(
        django["properties"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"name": "bulwark:fixed-version", "value": "3.2.4"}))
    );
}

#[test]
fn cyclonedx_vex_keeps_the_sbom_and_changes_the_serial() {
    let (inventory, report) = fixture();
    let plain = as_json(
        &bulwark_sbom::encode(&inventory, bulwark_sbom::Format::CycloneDxJson, &options()).unwrap(),
    );
    let vex = as_json(&cyclonedx_vex(&inventory, &report, &options()).unwrap());
    assert_eq!(plain["components"], vex["components"]);
    assert_eq!(plain["dependencies"], vex["dependencies"]);
    assert_ne!(plain["serialNumber"], vex["serialNumber"]);

    // Without findings or unchecked components the document is the plain SBOM.
    let empty = as_json(&cyclonedx_vex(&inventory, &MatchReport::default(), &options()).unwrap());
    assert_eq!(plain, empty);
}

#[test]
fn unknown_components_are_errors() {
    let (_, report) = fixture();
    let other = Inventory::default();
    assert!(matches!(
        sarif(&other, &report, "0.1.0"),
        Err(ReportError::UnknownComponent { .. })
    ));
    assert!(matches!(
        cyclonedx_vex(&other, &report, &options()),
        Err(ReportError::UnknownComponent { .. })
    ));
}

#[test]
fn rendering_is_deterministic() {
    let (inventory, report) = fixture();
    let (inventory_again, report_again) = fixture();
    assert_eq!(
        sarif(&inventory, &report, "0.1.0").unwrap(),
        sarif(&inventory_again, &report_again, "0.1.0").unwrap()
    );
    assert_eq!(
        cyclonedx_vex(&inventory, &report, &options()).unwrap(),
        cyclonedx_vex(&inventory_again, &report_again, &options()).unwrap()
    );
}

#[test]
fn snapshots() {
    let (inventory, report) = fixture();
    let sarif_text = String::from_utf8(sarif(&inventory, &report, "0.1.0").unwrap()).unwrap();
    insta::assert_snapshot!("sarif", sarif_text);
    let vex_text =
        String::from_utf8(cyclonedx_vex(&inventory, &report, &options()).unwrap()).unwrap();
    insta::assert_snapshot!("cyclonedx_vex", vex_text);
}
