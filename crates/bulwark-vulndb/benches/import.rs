//! Imports all of `shared/data/osv` (the PyPI, crates.io and Go zips) into a fresh database.
//! Target: under 2 s in release on 2 cores.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};

fn shared_zips() -> Option<Vec<PathBuf>> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    let zips: Vec<PathBuf> = ["PyPI.zip", "crates.io.zip", "Go.zip"]
        .iter()
        .map(|name| shared.join(name))
        .collect();
    zips.iter().all(|zip| zip.is_file()).then_some(zips)
}

fn import_shared(criterion: &mut Criterion) {
    let Some(zips) = shared_zips() else {
        return;
    };
    let mut group = criterion.benchmark_group("import");
    group.sample_size(10);
    group.bench_function("shared_osv_zips_fresh", |bencher| {
        bencher.iter_with_setup(
            || tempfile::tempdir().expect("temporary directory"),
            |temp| {
                let report = bulwark_vulndb::import(
                    &temp.path().join("db"),
                    &zips,
                    &bulwark_vulndb::ImportOptions::default(),
                )
                .expect("import");
                assert_eq!(report.records, 8158);
                temp
            },
        );
    });
    let temp = tempfile::tempdir().expect("temporary directory");
    let db_dir = temp.path().join("db");
    bulwark_vulndb::import(&db_dir, &zips, &bulwark_vulndb::ImportOptions::default())
        .expect("import");
    group.bench_function("shared_osv_zips_reimport", |bencher| {
        bencher.iter(|| {
            bulwark_vulndb::import(&db_dir, &zips, &bulwark_vulndb::ImportOptions::default())
                .expect("import")
        });
    });
    group.finish();
}

criterion_group!(benches, import_shared);
criterion_main!(benches);
