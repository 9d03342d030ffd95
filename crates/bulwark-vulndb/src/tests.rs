//! Import, lookup and swap tests on the records in `testdata/` and, where present, the shared
//! OSV zips.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use bulwark_inventory::{Ecosystem, PackageName};
use time::macros::datetime;

use crate::{Database, Error, ImportOptions, ImportReport, default_db_dir, import};

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(path)
}

fn options() -> ImportOptions {
    ImportOptions {
        imported_at: Some(datetime!(2026-01-02 03:04:05 UTC)),
    }
}

fn import_into(db: &Path, sources: &[PathBuf]) -> ImportReport {
    import(db, sources, &options()).unwrap()
}

fn ids(advisories: &[crate::Advisory]) -> Vec<&str> {
    advisories.iter().map(|a| a.id.as_str()).collect()
}

fn lookup(db: &Database, ecosystem: Ecosystem, name: &str) -> Vec<String> {
    let found = db
        .advisories_for(ecosystem, &PackageName::new(ecosystem, name))
        .unwrap();
    ids(&found).into_iter().map(str::to_owned).collect()
}

/// Writes every `*.json` under `dir` into a flat zip, as osv.dev lays out `all.zip`.
fn zip_of(dir: &Path, zip_path: &Path) {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut writer = zip::ZipWriter::new(fs::File::create(zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        writer.start_file(name, options).unwrap();
        writer.write_all(&fs::read(&file).unwrap()).unwrap();
    }
    writer.finish().unwrap();
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn imports_a_directory() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    let report = import_into(&db_dir, &[testdata("osv")]);
    assert_eq!(report.read, 10);
    assert_eq!(report.added, 10);
    assert_eq!(report.records, 10);
    assert_eq!(report.withdrawn, 1);
    assert!(report.malformed.is_empty());

    let db = Database::open(&db_dir).unwrap();
    let status = db.status();
    assert_eq!(status.records, 10);
    assert_eq!(status.withdrawn, 1);
    assert_eq!(status.records_without_package, 1);
    assert_eq!(status.malformed, 0);
    assert_eq!(status.imported_at, datetime!(2026-01-02 03:04:05 UTC));
    let counts: Vec<(&str, u64, u64, u64, bool)> = status
        .ecosystems
        .iter()
        .map(|(name, s)| (name.as_str(), s.records, s.withdrawn, s.packages, s.known))
        .collect();
    assert_eq!(
        counts,
        [
            ("Alpine", 1, 0, 1, true),
            ("Debian", 1, 0, 1, true),
            ("Go", 1, 0, 2, true),
            ("OSS-Fuzz", 1, 0, 1, false),
            ("PyPI", 5, 1, 5, true),
        ]
    );
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.sources[0].records, 10);
}

#[test]
fn newest_modified_is_the_maximum() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("osv")]);
    let db = Database::open(&db_dir).unwrap();
    let newest = db
        .ids()
        .unwrap()
        .iter()
        .map(|id| db.get(id).unwrap().unwrap().modified)
        .max();
    assert_eq!(db.status().newest_modified, newest);
}

#[test]
fn lookup_by_ecosystem_and_normalized_name() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("osv")]);
    let db = Database::open(&db_dir).unwrap();

    // PEP 503 on the query side and on the stored side.
    assert_eq!(lookup(&db, Ecosystem::PyPI, "Django"), ["PYSEC-2021-98"]);
    assert_eq!(lookup(&db, Ecosystem::PyPI, "django"), ["PYSEC-2021-98"]);
    assert_eq!(lookup(&db, Ecosystem::PyPI, "jw.util"), ["PYSEC-2020-341"]);
    assert_eq!(lookup(&db, Ecosystem::PyPI, "JW_Util"), ["PYSEC-2020-341"]);
    assert_eq!(lookup(&db, Ecosystem::PyPI, "jw-util"), ["PYSEC-2020-341"]);
    assert_eq!(
        lookup(&db, Ecosystem::PyPI, "gradio"),
        ["GHSA-9v2f-6vcg-3hgv"]
    );
    assert!(lookup(&db, Ecosystem::PyPI, "flask").is_empty());
    // Withdrawn records are returned, flagged.
    let withdrawn = db
        .advisories_for(
            Ecosystem::PyPI,
            &PackageName::new(Ecosystem::PyPI, "Flask_Caching"),
        )
        .unwrap();
    assert_eq!(ids(&withdrawn), ["PYSEC-2021-13"]);
    assert!(withdrawn[0].is_withdrawn());

    // A record listing two packages is found under each.
    assert_eq!(lookup(&db, Ecosystem::Go, "stdlib"), ["GO-2022-0493"]);
    assert_eq!(
        lookup(&db, Ecosystem::Go, "golang.org/x/sys"),
        ["GO-2022-0493"]
    );
    // Go module paths are case-sensitive.
    assert!(lookup(&db, Ecosystem::Go, "Stdlib").is_empty());
    // Same name in another ecosystem.
    assert!(lookup(&db, Ecosystem::Npm, "django").is_empty());

    // Release suffixes fold into the base ecosystem; the record is returned once even though
    // it lists `musl` under nine Alpine releases.
    assert_eq!(lookup(&db, Ecosystem::Debian, "openssl"), ["DLA-3008-1"]);
    let musl = db
        .advisories_for(
            Ecosystem::Alpine,
            &PackageName::new(Ecosystem::Alpine, "musl"),
        )
        .unwrap();
    assert_eq!(ids(&musl), ["ALPINE-CVE-2025-26519"]);
    let package = musl[0].affected[0].package.as_ref().unwrap();
    assert_eq!(package.ecosystem.base.known(), Some(Ecosystem::Alpine));
    assert_eq!(package.ecosystem.release.as_deref(), Some("v3.16"));
    let debian = db.get("DLA-3008-1").unwrap().unwrap();
    let package = debian.affected[0].package.as_ref().unwrap();
    assert_eq!(package.ecosystem.to_string(), "Debian:9");
    assert_eq!(package.ecosystem.release.as_deref(), Some("9"));

    // Unknown ecosystems are kept under their raw name.
    let fuzz = db.advisories_for_raw("OSS-Fuzz", "boost").unwrap();
    assert_eq!(ids(&fuzz), ["OSV-2018-389"]);
}

#[test]
fn get_by_id_and_alias() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("osv")]);
    let db = Database::open(&db_dir).unwrap();

    assert_eq!(db.get("GO-2022-0493").unwrap().unwrap().id, "GO-2022-0493");
    assert_eq!(
        db.get("CVE-2022-29526").unwrap().unwrap().id,
        "GO-2022-0493"
    );
    assert_eq!(
        db.get("GHSA-68w8-qjq3-2gfm").unwrap().unwrap().id,
        "PYSEC-2021-98"
    );
    assert_eq!(
        db.get("CVE-2024-39236").unwrap().unwrap().id,
        "GHSA-9v2f-6vcg-3hgv"
    );
    assert!(db.get("CVE-1999-0001").unwrap().is_none());
    assert_eq!(ids(&db.find("CVE-2021-33203").unwrap()), ["PYSEC-2021-98"]);
    assert!(db.find("nothing").unwrap().is_empty());

    // The stored JSON is the imported file, byte for byte.
    let original = fs::read(testdata("osv/Go/GO-2022-0493.json")).unwrap();
    assert_eq!(db.get_json("GO-2022-0493").unwrap().unwrap(), original);
    assert_eq!(db.ids().unwrap().len(), 10);
}

#[test]
fn imports_a_zip() {
    let temp = tempfile::tempdir().unwrap();
    let zip_path = temp.path().join("all.zip");
    zip_of(&testdata("osv"), &zip_path);
    let db_dir = temp.path().join("db");
    let report = import_into(&db_dir, std::slice::from_ref(&zip_path));
    assert_eq!(report.read, 10);
    assert_eq!(report.records, 10);
    assert_eq!(report.sources[0].path, zip_path);
    let db = Database::open(&db_dir).unwrap();
    assert_eq!(db.status().withdrawn, 1);
    assert_eq!(lookup(&db, Ecosystem::PyPI, "Django"), ["PYSEC-2021-98"]);
}

#[test]
fn malformed_records_are_reported_and_skipped() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    let zip_path = temp.path().join("malformed.zip");
    zip_of(&testdata("malformed"), &zip_path);
    let report = import_into(&db_dir, &[testdata("malformed"), testdata("osv"), zip_path]);
    assert_eq!(report.records, 10);
    assert_eq!(report.malformed.len(), 6);
    assert_eq!(report.sources[0].malformed, 3);
    assert_eq!(report.sources[1].malformed, 0);
    assert_eq!(report.sources[2].malformed, 3);

    let mut found: Vec<(Option<&str>, bool)> = report.malformed[..3]
        .iter()
        .map(|m| (m.id.as_deref(), m.entry.ends_with(".json")))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (None, true),
            (Some("GO-2020-0001-BAD-EVENT"), true),
            (Some("GO-2020-0001-NO-MODIFIED"), true),
        ]
    );
    let reason = |id: &str| {
        report
            .malformed
            .iter()
            .find(|m| m.id.as_deref() == Some(id))
            .map(|m| m.reason.clone())
            .unwrap()
    };
    assert!(
        reason("GO-2020-0001-NO-MODIFIED").contains("modified"),
        "{report:?}"
    );
    assert!(
        reason("GO-2020-0001-BAD-EVENT").contains("range event"),
        "{report:?}"
    );
    assert_eq!(
        report.malformed[3].source,
        temp.path().join("malformed.zip")
    );
    assert!(!report.malformed[3].entry.contains('/'));

    let status = Database::open(&db_dir).unwrap().status();
    assert_eq!(status.malformed, 6);
}

#[test]
fn reimport_is_idempotent() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("osv")]);
    let first = Database::open(&db_dir).unwrap();
    let first_status = first.status();
    let first_json = first.get_json("PYSEC-2021-98").unwrap();
    drop(first);

    let report = import_into(&db_dir, &[testdata("osv")]);
    assert_eq!(report.added, 0);
    assert_eq!(report.updated, 0);
    assert_eq!(report.unchanged, 10);
    assert_eq!(report.records, 10);
    let second = Database::open(&db_dir).unwrap();
    assert_eq!(second.status().ecosystems, first_status.ecosystems);
    assert_eq!(second.status().records, first_status.records);
    assert_eq!(second.status().sources, first_status.sources);
    assert_eq!(second.get_json("PYSEC-2021-98").unwrap(), first_json);

    // Only the current generation is left behind (besides the writers' lock file).
    let entries: Vec<String> = fs::read_dir(&db_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".lock")
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
}

#[test]
fn newer_modified_wins_in_either_order() {
    let newer = datetime!(2023-11-08 04:12:35.436175 UTC);

    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("osv")]);
    let report = import_into(&db_dir, &[testdata("older")]);
    assert_eq!(
        (report.older_ignored, report.updated, report.added),
        (1, 0, 0)
    );
    let db = Database::open(&db_dir).unwrap();
    assert_eq!(db.get("PYSEC-2023-74").unwrap().unwrap().modified, newer);

    let db_dir = temp.path().join("db2");
    import_into(&db_dir, &[testdata("older")]);
    let report = import_into(&db_dir, &[testdata("osv")]);
    assert_eq!((report.updated, report.added), (1, 9));
    let db = Database::open(&db_dir).unwrap();
    assert_eq!(db.get("PYSEC-2023-74").unwrap().unwrap().modified, newer);
    assert_eq!(db.status().records, 10);
    // The replaced record's packages and aliases come from the new copy; the others survive
    // the merge without being re-parsed.
    assert_eq!(lookup(&db, Ecosystem::PyPI, "requests"), ["PYSEC-2023-74"]);
    assert_eq!(
        db.get("CVE-2023-32681").unwrap().unwrap().id,
        "PYSEC-2023-74"
    );

    // Within one import, the newer copy wins as well, whichever source comes first.
    let db_dir = temp.path().join("db3");
    let report = import_into(&db_dir, &[testdata("osv"), testdata("older")]);
    assert_eq!(report.older_ignored, 1);
    let db = Database::open(&db_dir).unwrap();
    assert_eq!(db.get("PYSEC-2023-74").unwrap().unwrap().modified, newer);
}

#[test]
fn incremental_import_keeps_stored_records() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("older/PYSEC-2023-74.json")]);
    import_into(&db_dir, &[testdata("osv/Go")]);
    let db = Database::open(&db_dir).unwrap();
    assert_eq!(db.status().records, 2);
    assert_eq!(db.status().sources.len(), 2);
    assert_eq!(lookup(&db, Ecosystem::PyPI, "requests"), ["PYSEC-2023-74"]);
    assert_eq!(lookup(&db, Ecosystem::Go, "stdlib"), ["GO-2022-0493"]);
    assert_eq!(
        db.get("CVE-2023-32681").unwrap().unwrap().id,
        "PYSEC-2023-74"
    );
}

#[test]
fn failed_import_leaves_the_old_database() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    import_into(&db_dir, &[testdata("osv/Go")]);
    let before: Vec<PathBuf> = fs::read_dir(&db_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();

    // A source that does not exist: nothing is touched.
    let missing = temp.path().join("does-not-exist.zip");
    let error = import(&db_dir, &[testdata("osv"), missing.clone()], &options()).unwrap_err();
    assert!(
        matches!(&error, Error::Read { path, .. } if *path == missing),
        "{error:?}"
    );

    // A source that fails half-way (not a zip), after the new generation was started.
    let not_a_zip = testdata("README.md");
    let error = import(&db_dir, &[testdata("osv"), not_a_zip.clone()], &options()).unwrap_err();
    assert!(
        matches!(&error, Error::Zip { path, .. } if *path == not_a_zip),
        "{error:?}"
    );
    assert!(error.to_string().contains("README.md"));

    let db = Database::open(&db_dir).unwrap();
    assert_eq!(db.status().records, 1);
    assert_eq!(lookup(&db, Ecosystem::Go, "stdlib"), ["GO-2022-0493"]);
    assert!(lookup(&db, Ecosystem::PyPI, "django").is_empty());
    let after: Vec<PathBuf> = fs::read_dir(&db_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn missing_newer_and_damaged_databases() {
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    assert!(matches!(
        Database::open(&db_dir),
        Err(Error::Missing { .. })
    ));
    fs::create_dir(&db_dir).unwrap();
    let error = Database::open(&db_dir).unwrap_err();
    assert!(matches!(error, Error::Missing { .. }));
    assert!(error.to_string().contains("no vulnerability database"));

    import_into(&db_dir, &[testdata("osv/Go")]);
    let generation = db_dir.join(fs::read_to_string(db_dir.join("CURRENT")).unwrap().trim());

    // Truncated records file.
    let records = generation.join("records.bin");
    let bytes = fs::read(&records).unwrap();
    fs::write(&records, &bytes[..bytes.len() - 1]).unwrap();
    assert!(matches!(
        Database::open(&db_dir),
        Err(Error::Corrupt { .. })
    ));
    fs::write(&records, &bytes).unwrap();
    Database::open(&db_dir).unwrap();

    // Written by a newer format.
    let meta_path = generation.join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();
    fs::write(
        &meta_path,
        meta.replace("\"format_version\": 1", "\"format_version\": 99"),
    )
    .unwrap();
    let error = Database::open(&db_dir).unwrap_err();
    assert!(
        matches!(
            error,
            Error::NewerFormat {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("newer bulwark"));
    // An import refuses to overwrite it.
    assert!(matches!(
        import(&db_dir, &[testdata("osv")], &options()),
        Err(Error::NewerFormat { .. })
    ));
}

#[test]
fn database_is_shareable_between_threads() {
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Database>();
}

#[test]
fn default_dir_ends_in_bulwark_db() {
    if let Some(dir) = default_db_dir() {
        assert!(dir.ends_with("bulwark/db"), "{}", dir.display());
        assert!(dir.is_absolute());
    }
}

/// The three real databases in `shared/data/osv`, when that directory exists (in development
/// and CI): exact counts from its README.
#[test]
fn imports_the_shared_osv_zips() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    if !shared.is_dir() {
        return;
    }
    let zips = ["PyPI.zip", "crates.io.zip", "Go.zip"].map(|name| shared.join(name));
    let temp = tempfile::tempdir().unwrap();
    let db_dir = temp.path().join("db");
    let report = import_into(&db_dir, &zips);
    assert!(report.malformed.is_empty(), "{:?}", report.malformed);
    assert_eq!(report.records, 2661 + 1206 + 4291);
    let db = Database::open(&db_dir).unwrap();
    let status = db.status();
    let counts: Vec<(&str, u64, u64)> = status
        .ecosystems
        .iter()
        .map(|(name, s)| (name.as_str(), s.records, s.withdrawn))
        .collect();
    assert_eq!(
        counts,
        [
            ("Go", 4291, 17),
            ("PyPI", 2661, 10),
            ("crates.io", 1206, 13)
        ]
    );
    assert_eq!(status.ecosystems["PyPI"].packages, 664);
    assert_eq!(status.ecosystems["crates.io"].packages, 908);
    assert_eq!(status.ecosystems["Go"].packages, 1373);
    assert_eq!(status.withdrawn, 40);
    assert_eq!(
        status.sources.iter().map(|s| s.records).collect::<Vec<_>>(),
        [2661, 1206, 4291]
    );
    // PYSEC-2024-55 has `modified: 0001-01-01T00:00:00Z` upstream and still imports.
    assert_eq!(
        db.get("PYSEC-2024-55").unwrap().unwrap().modified,
        datetime!(0001-01-01 00:00:00 UTC)
    );
    assert!(!lookup(&db, Ecosystem::PyPI, "Django").is_empty());
    assert!(!lookup(&db, Ecosystem::CratesIo, "tokio").is_empty());
}
