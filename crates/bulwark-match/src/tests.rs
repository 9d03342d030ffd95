//! Tests of the whole matcher against small databases built from `testdata/`.
//!
//! Expected advisories for real records were decided by reading the records (their ranges
//! and `versions` lists), never from this crate's output; the comments say why each is
//! expected.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bulwark_inventory::{Component, ComponentKind, Ecosystem, Inventory, Location, Purl};
use bulwark_vulndb::{Database, ImportOptions, import};

use crate::{
    Finding, MatchOptions, MatchReport, NotCheckedReason, PackageQuery, Severity, match_inventory,
    match_package, smallest_fixing_version,
};

fn testdata(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(folder)
}

/// A database of the records in the given `testdata/` folders (or other paths).
fn database(sources: &[PathBuf]) -> (tempfile::TempDir, Database) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("db");
    let report = import(&dir, sources, &ImportOptions::default()).unwrap();
    assert!(report.malformed.is_empty(), "{:?}", report.malformed);
    let db = Database::open(&dir).unwrap();
    (temp, db)
}

fn package(ecosystem: Ecosystem, name: &str, version: Option<&str>) -> Component {
    Component::package(
        ecosystem,
        name,
        version,
        Location::new("requirements.txt"),
        "test",
    )
}

fn pypi(name: &str, version: &str) -> Component {
    package(Ecosystem::PyPI, name, Some(version))
}

fn conda(name: &str, version: &str, pypi_purl: Option<&str>) -> Component {
    let mut component = package(Ecosystem::Conda, name, Some(version));
    component.also_known_as = pypi_purl
        .map(|purl| Purl::parse(purl).unwrap())
        .into_iter()
        .collect();
    component
}

fn inventory(components: Vec<Component>) -> Inventory {
    Inventory {
        target: "test".to_owned(),
        components,
        ..Inventory::default()
    }
}

fn scan(db: &Database, components: Vec<Component>) -> MatchReport {
    match_inventory(&inventory(components), db, &MatchOptions::default()).unwrap()
}

/// `(name, version)` → the ids of its findings, in report order.
fn found(report: &MatchReport) -> BTreeMap<(String, String), Vec<String>> {
    let mut map: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for finding in &report.findings {
        map.entry((
            finding.package.name.clone(),
            finding.package.version.clone(),
        ))
        .or_default()
        .push(finding.id.clone());
    }
    map
}

fn ids_for(report: &MatchReport, name: &str, version: &str) -> Vec<String> {
    found(report)
        .remove(&(name.to_owned(), version.to_owned()))
        .unwrap_or_default()
}

fn finding<'a>(report: &'a MatchReport, name: &str, version: &str, id: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.package.name == name && f.package.version == version && f.id == id)
        .unwrap_or_else(|| panic!("no finding {id} for {name} {version}: {report:#?}"))
}

fn not_checked_reasons(report: &MatchReport, name: &str) -> Vec<NotCheckedReason> {
    report
        .not_checked
        .iter()
        .filter(|entry| entry.name == name)
        .map(|entry| entry.reason.clone())
        .collect()
}

#[test]
fn every_range_shape() {
    let (_temp, db) = database(&[testdata("ranges")]);
    // (name, version, affected by the record of that package?)
    let cases: &[(&str, &str, Option<&str>)] = &[
        // introduced 1.0, fixed 2.0 (record name `Range_Intro.Fixed`: PEP 503 equal). The
        // withdrawn TEST-WITHDRAWN (introduced 0) is never reported.
        ("range-intro-fixed", "0.9", None),
        ("range-intro-fixed", "1.0", Some("TEST-INTRODUCED-FIXED")),
        ("range_intro_fixed", "1.9.9", Some("TEST-INTRODUCED-FIXED")),
        ("range-intro-fixed", "2.0rc1", Some("TEST-INTRODUCED-FIXED")),
        ("range-intro-fixed", "2.0", None),
        ("range-intro-fixed", "2.0.0", None),
        ("range-intro-fixed", "2.0.post1", None),
        // introduced 0, last_affected 1.5: inclusive.
        ("range-last-affected", "0.0.1", Some("TEST-LAST-AFFECTED")),
        ("range-last-affected", "1.5", Some("TEST-LAST-AFFECTED")),
        ("range-last-affected", "1.5.0", Some("TEST-LAST-AFFECTED")),
        ("range-last-affected", "1.5.post1", None),
        ("range-last-affected", "1.5.1", None),
        // introduced 0, limit 2.0: exclusive.
        ("range-limit", "1.9", Some("TEST-LIMIT")),
        ("range-limit", "2.0", None),
        ("range-limit", "7", None),
        // [1.0, 1.1) in one range; [2.0, 2.1) and [3.0, 3.1) unsorted in another.
        ("range-multiple", "0.9", None),
        ("range-multiple", "1.0.5", Some("TEST-MULTIPLE")),
        ("range-multiple", "1.1", None),
        ("range-multiple", "2.0", Some("TEST-MULTIPLE")),
        ("range-multiple", "2.1", None),
        ("range-multiple", "2.5", None),
        ("range-multiple", "3.0.1", Some("TEST-MULTIPLE")),
        ("range-multiple", "3.1", None),
        // versions ["0.9", "1.0", "not a version!"]: as text, or equal in PEP 440.
        ("range-versions-only", "1.0", Some("TEST-VERSIONS-ONLY")),
        ("range-versions-only", "1.0.0", Some("TEST-VERSIONS-ONLY")),
        ("range-versions-only", "v0.9", Some("TEST-VERSIONS-ONLY")),
        ("range-versions-only", "1.0+local", None),
        ("range-versions-only", "1.1", None),
        // GIT ranges are not used for package matching.
        ("range-git-only", "0.1", None),
        // SEMVER last_affected 2.2.0: build metadata does not count in SemVer.
        ("range-semver", "2.2.0", Some("TEST-SEMVER")),
        ("range-semver", "2.2.0+cu121", Some("TEST-SEMVER")),
        ("range-semver", "2.2.1", None),
        // The same range as ECOSYSTEM: PEP 440 puts 2.2.0+cu121 above 2.2.0, 1.0.0rc1 below.
        ("range-ecosystem", "2.2.0", Some("TEST-ECOSYSTEM")),
        ("range-ecosystem", "2.2.0+cu121", None),
        ("range-ecosystem", "1.0.0rc1", Some("TEST-ECOSYSTEM")),
    ];
    let components = cases
        .iter()
        .map(|(name, version, _)| pypi(name, version))
        .collect();
    let report = scan(&db, components);
    for (name, version, expected) in cases {
        let expected: Vec<String> = expected.iter().map(|id| (*id).to_owned()).collect();
        assert_eq!(
            ids_for(&report, name, version),
            expected,
            "{name} {version}"
        );
    }
    assert!(report.not_checked.is_empty(), "{:#?}", report.not_checked);
    assert!(
        !report.findings.iter().any(|f| f.id == "TEST-WITHDRAWN"),
        "withdrawn records are never reported"
    );
}

#[test]
fn explanations_and_fixes() {
    let (_temp, db) = database(&[testdata("ranges")]);
    let report = scan(
        &db,
        vec![
            pypi("range-intro-fixed", "1.5"),
            pypi("range-last-affected", "1.2"),
            pypi("range-limit", "1.0"),
            pypi("range-versions-only", "1.0.0"),
            pypi("range-multiple", "2.0.5"),
        ],
    );

    let intro = finding(&report, "range-intro-fixed", "1.5", "TEST-INTRODUCED-FIXED");
    assert_eq!(intro.fixed_versions, ["2.0"]);
    assert!(intro.last_affected.is_empty());
    assert_eq!(intro.explanation.len(), 1);
    let explanation = &intro.explanation[0];
    assert_eq!(explanation.advisory_id, "TEST-INTRODUCED-FIXED");
    assert_eq!(explanation.affected_index, 0);
    assert_eq!(explanation.range_index, Some(0));
    assert_eq!(explanation.range_type, "ECOSYSTEM");
    assert_eq!(explanation.comparison, "introduced 1.0 <= 1.5 < fixed 2.0");
    assert_eq!(explanation.events.len(), 2);

    let last = finding(&report, "range-last-affected", "1.2", "TEST-LAST-AFFECTED");
    assert!(last.fixed_versions.is_empty());
    assert_eq!(last.last_affected, ["1.5"]);
    assert_eq!(
        last.explanation[0].comparison,
        "introduced 0 <= 1.2 <= last_affected 1.5"
    );
    assert_eq!(smallest_fixing_version(std::slice::from_ref(last)), None);

    let limit = finding(&report, "range-limit", "1.0", "TEST-LIMIT");
    assert_eq!(
        limit.explanation[0].comparison,
        "introduced 0 <= 1.0 < limit 2.0"
    );
    assert!(limit.fixed_versions.is_empty());

    let listed = finding(
        &report,
        "range-versions-only",
        "1.0.0",
        "TEST-VERSIONS-ONLY",
    );
    assert_eq!(listed.explanation[0].range_index, None);
    assert_eq!(listed.explanation[0].range_type, "versions");
    assert_eq!(
        listed.explanation[0].comparison,
        "1.0.0 equals 1.0, listed in versions, in the PyPI order"
    );

    let multiple = finding(&report, "range-multiple", "2.0.5", "TEST-MULTIPLE");
    assert_eq!(multiple.explanation[0].range_index, Some(1));
    assert_eq!(
        multiple.explanation[0].comparison,
        "introduced 2.0 <= 2.0.5 < fixed 2.1"
    );
    assert_eq!(multiple.fixed_versions, ["2.1", "3.1"]);
    assert_eq!(
        smallest_fixing_version(std::slice::from_ref(multiple)).as_deref(),
        Some("2.1")
    );
}

#[test]
fn not_checked_reasons_are_reported() {
    let (_temp, db) = database(&[testdata("ranges"), testdata("crates.io")]);
    let mut gpu = Component::package(
        Ecosystem::PyPI,
        "cuda-runtime",
        Some("12.1.105"),
        Location::new("usr/local/cuda/version.json"),
        "test",
    );
    gpu.kind = ComponentKind::GpuLibrary;
    gpu.ecosystem = None;
    gpu.purl = None;
    let report = scan(
        &db,
        vec![
            gpu,
            package(Ecosystem::PyPI, "range-intro-fixed", None),
            // A SEMVER range cannot compare a PEP 440 pre-release.
            pypi("range-semver", "1.0.0rc1"),
            // The record's fixed version is not SemVer. (PyPI versions always parse: strings
            // that are not PEP 440 order by the legacy setuptools key.)
            package(Ecosystem::CratesIo, "range-bad-event", Some("1.0.0")),
            // ConanCenter has no version order.
            package(Ecosystem::ConanCenter, "zlib", Some("1.2.13")),
            // Not SemVer.
            package(Ecosystem::CratesIo, "wasmtime", Some("thirty-six")),
            // conda has no advisory feed and this package no PyPI identity.
            conda("libgcc-ng", "13.2.0", None),
            // No record names it: checked, whatever its version.
            package(Ecosystem::ConanCenter, "openssl", Some("3.2.0")),
        ],
    );
    assert_eq!(
        not_checked_reasons(&report, "cuda-runtime"),
        [NotCheckedReason::NoEcosystem]
    );
    assert_eq!(
        not_checked_reasons(&report, "range-intro-fixed"),
        [NotCheckedReason::Unpinned]
    );
    assert_eq!(
        not_checked_reasons(&report, "zlib"),
        [NotCheckedReason::UnknownVersionScheme(
            "ConanCenter".to_owned()
        )]
    );
    assert_eq!(
        not_checked_reasons(&report, "libgcc-ng"),
        [NotCheckedReason::NoAdvisoryFeed("conda".to_owned())]
    );
    assert!(not_checked_reasons(&report, "openssl").is_empty());

    let semver: [NotCheckedReason; 1] = not_checked_reasons(&report, "range-semver")
        .try_into()
        .unwrap();
    let [NotCheckedReason::UnparsableVersion(semver)] = semver else {
        panic!("range-semver: {:#?}", report.not_checked);
    };
    assert!(
        semver.contains("1.0.0rc1") && semver.contains("TEST-SEMVER"),
        "{semver}"
    );

    let event: [NotCheckedReason; 1] = not_checked_reasons(&report, "range-bad-event")
        .try_into()
        .unwrap();
    let [NotCheckedReason::UnparsableVersion(event)] = event else {
        panic!("range-bad-event: {:#?}", report.not_checked);
    };
    assert!(
        event.starts_with("TEST-BAD-EVENT affected[0] ranges[0]: ")
            && event.contains("next/release"),
        "{event}"
    );

    let wasmtime = not_checked_reasons(&report, "wasmtime");
    assert_eq!(wasmtime.len(), 1, "{wasmtime:?}");
    assert!(
        matches!(&wasmtime[0], NotCheckedReason::UnparsableVersion(detail) if detail.contains("thirty-six"))
    );
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn alias_chain_merges_into_one_finding() {
    let (_temp, db) = database(&[testdata("aliases")]);
    let report = scan(
        &db,
        vec![
            pypi("alias-chain", "1.1"),
            pypi("alias-chain", "0.5"),
            pypi("alias-chain", "1.2.5"),
        ],
    );
    // 1.1: CVE-9999-1001 [0, 1.2), GHSA-9999-chain-0002 [0, 1.3) and PYSEC-9999-3 [1.0, 1.2)
    // all match; CVE → GHSA → PYSEC is an alias chain: one finding, the PyPI id primary.
    assert_eq!(ids_for(&report, "alias-chain", "1.1"), ["PYSEC-9999-3"]);
    let merged = finding(&report, "alias-chain", "1.1", "PYSEC-9999-3");
    assert_eq!(merged.aliases, ["CVE-9999-1001", "GHSA-9999-chain-0002"]);
    assert_eq!(merged.severity, Severity::Critical);
    assert_eq!(merged.cvss, None);
    assert_eq!(
        merged.severity_source,
        "GHSA-9999-chain-0002 database_specific.severity (CRITICAL)"
    );
    assert_eq!(
        merged.summary.as_deref(),
        Some("chain middle, a GitHub record")
    );
    assert_eq!(merged.fixed_versions, ["1.2", "1.3"]);
    let explained: BTreeSet<&str> = merged
        .explanation
        .iter()
        .map(|e| e.advisory_id.as_str())
        .collect();
    assert_eq!(
        explained,
        BTreeSet::from(["CVE-9999-1001", "GHSA-9999-chain-0002", "PYSEC-9999-3"])
    );
    // 1.2 fixes two of the records; only 1.3 is outside all three.
    assert_eq!(
        smallest_fixing_version(std::slice::from_ref(merged)).as_deref(),
        Some("1.3")
    );

    // 0.5: PYSEC-9999-3 starts at 1.0, so GHSA is primary; PYSEC-9999-3 stays an alias.
    assert_eq!(
        ids_for(&report, "alias-chain", "0.5"),
        ["GHSA-9999-chain-0002"]
    );
    let partial = finding(&report, "alias-chain", "0.5", "GHSA-9999-chain-0002");
    assert_eq!(partial.aliases, ["CVE-9999-1001", "PYSEC-9999-3"]);
    // 1.2.5: only GHSA-9999-chain-0002 [0, 1.3).
    assert_eq!(
        ids_for(&report, "alias-chain", "1.2.5"),
        ["GHSA-9999-chain-0002"]
    );
}

#[test]
fn upstream_ids_merge_and_related_ids_do_not() {
    let (_temp, db) = database(&[testdata("aliases")]);
    let report = scan(
        &db,
        vec![pypi("alias-upstream", "1.0"), pypi("alias-upstream", "1.7")],
    );
    // TEST-UPSTREAM-1 (upstream CVE-9999-2001) and GHSA-9999-upst-0001 (alias CVE-9999-2001)
    // are one vulnerability; TEST-UNRELATED only names it as `related`.
    assert_eq!(
        ids_for(&report, "alias-upstream", "1.0"),
        ["GHSA-9999-upst-0001", "TEST-UNRELATED"],
        "most severe first"
    );
    let merged = finding(&report, "alias-upstream", "1.0", "GHSA-9999-upst-0001");
    assert_eq!(merged.aliases, ["CVE-9999-2001", "TEST-UPSTREAM-1"]);
    assert_eq!(merged.severity, Severity::Critical);
    let cvss = merged.cvss.as_ref().unwrap();
    assert_eq!(cvss.version, "4.0");
    assert!((cvss.score - 9.3).abs() < 1e-9);
    assert_eq!(
        merged.severity_source,
        "GHSA-9999-upst-0001 severity[0] (CVSS_V4)"
    );
    let unrelated = finding(&report, "alias-upstream", "1.0", "TEST-UNRELATED");
    assert_eq!(unrelated.severity, Severity::Unknown);
    assert_eq!(unrelated.aliases, Vec::<String>::new());
    assert_eq!(
        ids_for(&report, "alias-upstream", "1.7"),
        ["GHSA-9999-upst-0001"]
    );
}

#[test]
fn release_suffixes() {
    let (_temp, db) = database(&[testdata("ranges")]);
    let name = bulwark_inventory::PackageName::new(Ecosystem::Debian, "openssl");
    let advisories = db.advisories_for(Ecosystem::Debian, &name).unwrap();
    assert_eq!(advisories.len(), 1);
    let query = |release, version| PackageQuery {
        ecosystem: Ecosystem::Debian,
        release,
        name: "openssl",
        version,
        purl: None,
    };
    let ids = |query: PackageQuery<'_>| -> Vec<String> {
        match_package(advisories.clone(), &query, &crate::EcosystemOrder)
            .findings
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    // Debian:12 fixed 3.0.11-1~deb12u1; Debian:11 fixed 1.1.1w-0+deb11u1.
    assert_eq!(ids(query(Some("12"), "3.0.9-1")), ["TEST-RELEASE"]);
    assert!(ids(query(Some("12"), "3.0.11-1~deb12u1")).is_empty());
    assert!(ids(query(Some("11"), "3.0.9-1")).is_empty());
    assert_eq!(ids(query(Some("11"), "1.1.1n-0+deb11u5")), ["TEST-RELEASE"]);
    // A package without a release never matches entries with one.
    assert!(ids(query(None, "1.0-1")).is_empty());
    assert!(ids(query(Some("10"), "1.0-1")).is_empty());
}

/// Real PYSEC records (pypa/advisory-database, as in `shared/data/osv/PyPI.zip`) and pins
/// from `shared/bench/inputs/ml-lock.txt`.
#[test]
fn real_pypi_records_against_ml_lock_pins() {
    let (_temp, db) = database(&[testdata("pypi")]);
    let report = scan(
        &db,
        vec![
            // PYSEC-2022-43015: introduced 0, fixed 1.13.1: 2.1.2 is past the fix.
            pypi("torch", "2.1.2"),
            // No record names transformers.
            pypi("transformers", "4.36.2"),
            // PYSEC-2023-175: fixed 10.0.1 and 10.0.0 listed; PYSEC-2023-227: fixed 10.0.0,
            // which is exclusive.
            pypi("Pillow", "10.0.0"),
            // PYSEC-2014-8 (fixed 2.7.2), PYSEC-2021-66 (fixed 2.11.3).
            pypi("Jinja2", "3.1.2"),
            // PYSEC-2023-192: [2.0.0, 2.0.6) and [0, 1.26.17); PYSEC-2023-212: [2.0.0, 2.0.7)
            // and [0, 1.26.18). Different CVEs: two findings.
            pypi("urllib3", "1.26.15"),
            // PYSEC-2023-221: [0, 2.3.8) and [3.0.0, 3.0.1).
            pypi("werkzeug", "2.3.7"),
            // PYSEC-2023-250: [0, 3.9.0); PYSEC-2022-43059 (introduced 0) is withdrawn.
            pypi("aiohttp", "3.8.6"),
            // Both alias CVE-2024-28088 but are about different packages: two findings.
            pypi("langchain", "0.0.350"),
            pypi("langchain-core", "0.1.9"),
        ],
    );
    let expected: BTreeMap<(String, String), Vec<String>> = [
        ("Pillow", "10.0.0", vec!["PYSEC-2023-175"]),
        (
            "urllib3",
            "1.26.15",
            vec!["PYSEC-2023-192", "PYSEC-2023-212"],
        ),
        ("werkzeug", "2.3.7", vec!["PYSEC-2023-221"]),
        ("aiohttp", "3.8.6", vec!["PYSEC-2023-250"]),
        ("langchain", "0.0.350", vec!["PYSEC-2024-43"]),
        ("langchain-core", "0.1.9", vec!["PYSEC-2024-45"]),
    ]
    .into_iter()
    .map(|(name, version, ids)| {
        (
            (name.to_owned(), version.to_owned()),
            ids.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(found(&report), expected);
    assert!(report.not_checked.is_empty(), "{:#?}", report.not_checked);

    let pillow = finding(&report, "Pillow", "10.0.0", "PYSEC-2023-175");
    assert_eq!(pillow.package.ecosystem, Ecosystem::PyPI);
    assert_eq!(
        pillow.package.purl.as_deref(),
        Some("pkg:pypi/pillow@10.0.0")
    );
    assert_eq!(pillow.components, ["pkg:pypi/pillow@10.0.0"]);
    assert_eq!(pillow.fixed_versions, ["10.0.1"]);
    assert_eq!(
        pillow.severity,
        Severity::Unknown,
        "PYSEC records carry no severity"
    );
    assert!(
        pillow
            .summary
            .as_deref()
            .is_some_and(|summary| summary.starts_with("Pillow versions before v10.0.1")),
        "{:?}",
        pillow.summary
    );
    let ways: Vec<(&str, &str)> = pillow
        .explanation
        .iter()
        .map(|e| (e.range_type.as_str(), e.comparison.as_str()))
        .collect();
    assert_eq!(
        ways,
        [
            ("versions", "10.0.0 is listed in versions"),
            ("ECOSYSTEM", "introduced 0 <= 10.0.0 < fixed 10.0.1"),
        ]
    );

    let urllib3: Vec<Finding> = report
        .findings
        .iter()
        .filter(|f| f.package.name == "urllib3")
        .cloned()
        .collect();
    assert_eq!(
        urllib3[0].aliases,
        ["CVE-2023-43804", "GHSA-v845-jxx5-vc9f"]
    );
    assert_eq!(urllib3[0].fixed_versions, ["1.26.17", "2.0.6"]);
    // 1.26.17 fixes PYSEC-2023-192 but not PYSEC-2023-212 (fixed 1.26.18).
    assert_eq!(
        smallest_fixing_version(&urllib3).as_deref(),
        Some("1.26.18")
    );
}

#[test]
fn conda_packages_match_through_their_pypi_identity() {
    let (_temp, db) = database(&[testdata("pypi"), testdata("ranges")]);
    let report = scan(
        &db,
        vec![
            conda("pillow", "10.0.0", Some("pkg:pypi/pillow@10.0.0")),
            // The purl's version is percent-encoded; matched as 2.2.0+cu121.
            conda(
                "range-semver",
                "2.2.0",
                Some("pkg:pypi/range-semver@2.2.0%2Bcu121"),
            ),
            conda(
                "range-ecosystem",
                "2.2.0",
                Some("pkg:pypi/range-ecosystem@2.2.0%2Bcu121"),
            ),
        ],
    );
    assert_eq!(ids_for(&report, "pillow", "10.0.0"), ["PYSEC-2023-175"]);
    let pillow = finding(&report, "pillow", "10.0.0", "PYSEC-2023-175");
    assert_eq!(pillow.package.ecosystem, Ecosystem::PyPI);
    assert_eq!(
        pillow.package.purl.as_deref(),
        Some("pkg:pypi/pillow@10.0.0")
    );
    assert_eq!(pillow.components, ["pkg:conda/pillow@10.0.0"]);
    assert_eq!(
        ids_for(&report, "range-semver", "2.2.0+cu121"),
        ["TEST-SEMVER"]
    );
    assert!(ids_for(&report, "range-ecosystem", "2.2.0+cu121").is_empty());
    assert!(report.not_checked.is_empty(), "{:#?}", report.not_checked);
}

#[test]
fn one_finding_for_two_components_of_the_same_package_version() {
    let (_temp, db) = database(&[testdata("pypi")]);
    let report = scan(
        &db,
        vec![
            pypi("pillow", "10.0.0"),
            conda("pillow", "10.0.0", Some("pkg:pypi/pillow@10.0.0")),
        ],
    );
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].components,
        ["pkg:conda/pillow@10.0.0", "pkg:pypi/pillow@10.0.0"]
    );
}

/// All 42 RUSTSEC records of wasmtime (rustsec/advisory-db, as in
/// `shared/data/osv/crates.io.zip`): SEMVER ranges with up to four intervals, CVSS v3.1 and
/// v4.0 vectors.
#[test]
fn real_crates_io_records_and_the_smallest_fix() {
    let (_temp, db) = database(&[testdata("crates.io")]);
    let report = scan(
        &db,
        vec![package(Ecosystem::CratesIo, "wasmtime", Some("36.0.5"))],
    );
    // Read from the records: each has an interval [25.0.0 or 0.0.0-0 or 30.0.0, 36.0.x) with
    // x >= 6, or [0.0.0-0, 36.0.7).
    let expected = [
        "RUSTSEC-2026-0020",
        "RUSTSEC-2026-0021",
        "RUSTSEC-2026-0085",
        "RUSTSEC-2026-0086",
        "RUSTSEC-2026-0087",
        "RUSTSEC-2026-0088",
        "RUSTSEC-2026-0089",
        "RUSTSEC-2026-0091",
        "RUSTSEC-2026-0092",
        "RUSTSEC-2026-0093",
        "RUSTSEC-2026-0094",
        "RUSTSEC-2026-0095",
        "RUSTSEC-2026-0096",
        "RUSTSEC-2026-0114",
        "RUSTSEC-2026-0222",
    ];
    let mut ids = ids_for(&report, "wasmtime", "36.0.5");
    ids.sort();
    assert_eq!(ids, expected);

    // RUSTSEC-2026-0095: CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H.
    let critical = finding(&report, "wasmtime", "36.0.5", "RUSTSEC-2026-0095");
    assert_eq!(critical.cvss.as_ref().unwrap().version, "4.0");
    assert_eq!(critical.aliases, ["CVE-2026-34987", "GHSA-xx5w-cvp6-jv83"]);
    assert_eq!(critical.fixed_versions, ["36.0.7", "42.0.2", "43.0.1"]);
    // RUSTSEC-2026-0222: CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:L. By the v3.1
    // formulas: impact 6.42 × (1 − 0.78³) = 3.373, exploitability 8.22 × 0.55 × 0.44 × 0.27
    // × 0.62 = 0.333, base roundup(3.706) = 3.8: low.
    let low = finding(&report, "wasmtime", "36.0.5", "RUSTSEC-2026-0222");
    let cvss = low.cvss.as_ref().unwrap();
    assert_eq!((cvss.version.as_str(), cvss.score), ("3.1", 3.8));
    assert_eq!(low.severity, Severity::Low);
    // Report order within the package: most severe first, then id.
    let severities: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);

    // Candidates 36.0.6, 36.0.7, 36.0.8 each leave a record unfixed (RUSTSEC-2026-0085 needs
    // 36.0.7, RUSTSEC-2026-0114 36.0.8, RUSTSEC-2026-0222 36.0.13).
    assert_eq!(
        smallest_fixing_version(&report.findings).as_deref(),
        Some("36.0.13")
    );
    let fixed = scan(
        &db,
        vec![package(Ecosystem::CratesIo, "wasmtime", Some("36.0.13"))],
    );
    assert!(fixed.findings.is_empty(), "{:#?}", fixed.findings);
}

#[test]
fn ignored_ids_and_deterministic_order() {
    let (_temp, db) = database(&[testdata("aliases"), testdata("pypi")]);
    let components = vec![
        pypi("urllib3", "1.26.15"),
        pypi("alias-upstream", "1.0"),
        pypi("aiohttp", "3.8.6"),
    ];
    let report = scan(&db, components.clone());
    let order: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.package.name.as_str(), f.id.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("aiohttp", "PYSEC-2023-250"),
            ("alias-upstream", "GHSA-9999-upst-0001"),
            ("alias-upstream", "TEST-UNRELATED"),
            ("urllib3", "PYSEC-2023-192"),
            ("urllib3", "PYSEC-2023-212"),
        ]
    );
    let mut reversed = components;
    reversed.reverse();
    let again = scan(&db, reversed);
    assert_eq!(
        serde_json::to_string(&again.findings).unwrap(),
        serde_json::to_string(&report.findings).unwrap()
    );

    let mut options = MatchOptions::default();
    options.ignore.insert("CVE-2023-43804".to_owned());
    options.ignore.insert("TEST-UPSTREAM-1".to_owned());
    let ignored = match_inventory(
        &inventory(vec![
            pypi("urllib3", "1.26.15"),
            pypi("alias-upstream", "1.0"),
        ]),
        &db,
        &options,
    )
    .unwrap();
    let ids: Vec<&str> = ignored.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["TEST-UNRELATED", "PYSEC-2023-212"]);
}

#[test]
fn json_report_snapshot() {
    let (_temp, db) = database(&[testdata("aliases"), testdata("ranges")]);
    let report = scan(
        &db,
        vec![
            pypi("alias-chain", "1.1"),
            pypi("range-last-affected", "1.2"),
            package(Ecosystem::PyPI, "numpy", None),
        ],
    );
    insta::assert_json_snapshot!(report);
}

/// The whole of `shared/data/osv/PyPI.zip` against every pin of
/// `shared/bench/inputs/ml-lock.txt`, when those files exist (development and CI).
///
/// The expected set was computed independently of this crate, from the records alone: for
/// each pin, the non-withdrawn records whose `versions` list contains the pin, cross-checked
/// by evaluating their ECOSYSTEM ranges with a plain numeric comparison (every pin and every
/// bound involved is a plain release number).
#[test]
fn shared_pypi_database_against_the_ml_lock() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let zip = shared.join("data/osv/PyPI.zip");
    let lock = shared.join("bench/inputs/ml-lock.txt");
    if !zip.is_file() || !lock.is_file() {
        return;
    }
    let (_temp, db) = database(&[zip]);
    let text = std::fs::read_to_string(&lock).unwrap();
    let components: Vec<Component> = text
        .lines()
        .filter_map(|line| {
            let pin = line.split_whitespace().next()?;
            let (name, version) = pin.split_once("==")?;
            Some(pypi(name, version))
        })
        .collect();
    assert!(components.len() > 150);
    let report = scan(&db, components);
    let mut pairs: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.package.name.clone(), f.id.clone()))
        .collect();
    pairs.sort();
    let expected: Vec<(String, String)> = [
        ("aiohttp", "PYSEC-2023-250"),
        ("aiohttp", "PYSEC-2023-251"),
        ("aiohttp", "PYSEC-2024-24"),
        ("aiohttp", "PYSEC-2024-26"),
        ("cryptography", "PYSEC-2023-254"),
        ("fastapi", "PYSEC-2024-38"),
        ("gradio", "PYSEC-2023-249"),
        ("gradio", "PYSEC-2023-255"),
        ("idna", "PYSEC-2024-60"),
        ("langchain", "PYSEC-2024-43"),
        ("langchain-core", "PYSEC-2024-45"),
        ("mlflow", "PYSEC-2024-51"),
        ("orjson", "PYSEC-2024-40"),
        ("pillow", "PYSEC-2023-175"),
        ("requests", "PYSEC-2023-74"),
        ("urllib3", "PYSEC-2023-192"),
        ("urllib3", "PYSEC-2023-212"),
        ("werkzeug", "PYSEC-2023-221"),
    ]
    .into_iter()
    .map(|(name, id)| (name.to_owned(), id.to_owned()))
    .collect();
    assert_eq!(pairs, expected);
    assert!(report.not_checked.is_empty(), "{:#?}", report.not_checked);
}

/// Matching 50,000 components (every package of the shared PyPI database at 60 versions,
/// the rest without records) against the shared PyPI, crates.io and Go databases. Run with
/// `cargo test --release -p bulwark-match -- --ignored fifty_thousand`.
#[test]
#[ignore = "a timing check; needs shared/data/osv and a release build"]
fn fifty_thousand_components_in_under_a_second() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    if !shared.is_dir() {
        return;
    }
    let zips = ["PyPI.zip", "crates.io.zip", "Go.zip"].map(|name| shared.join(name));
    let (_temp, db) = database(&zips);
    let names: BTreeSet<String> = db
        .ids()
        .unwrap()
        .iter()
        .filter(|id| id.starts_with("PYSEC-"))
        .filter_map(|id| db.get(id).unwrap())
        .flat_map(|advisory| advisory.affected)
        .filter_map(|affected| affected.package.map(|package| package.name))
        .collect();
    let mut components = Vec::new();
    'outer: for minor in 0..60 {
        for name in &names {
            components.push(pypi(name, &format!("1.{minor}.0")));
            if components.len() == 40_000 {
                break 'outer;
            }
        }
    }
    for index in components.len()..50_000 {
        components.push(pypi(&format!("no-advisories-{index}"), "1.0.0"));
    }
    let inventory = inventory(components);
    let start = std::time::Instant::now();
    let report = match_inventory(&inventory, &db, &MatchOptions::default()).unwrap();
    let elapsed = start.elapsed();
    assert!(!report.findings.is_empty());
    assert!(
        elapsed < std::time::Duration::from_secs(1),
        "{elapsed:?} for {} findings",
        report.findings.len()
    );
}
