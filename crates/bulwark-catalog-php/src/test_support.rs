//! Helpers for the catalogers' tests (shared ones live in `bulwark_catalog::testing`).

use std::path::{Path, PathBuf};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger};

pub(crate) use bulwark_catalog::testing::listing;

/// `testdata/`.
pub(crate) fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Catalogs `path` under `testdata/` as an explicitly named file.
pub(crate) fn catalog_fixture(
    cataloger: &dyn Cataloger,
    path: &str,
) -> Result<CatalogOutput, CatalogError> {
    bulwark_catalog::testing::catalog_fixture(cataloger, &testdata(), path)
}
