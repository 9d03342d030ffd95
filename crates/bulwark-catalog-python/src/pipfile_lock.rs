//! Placeholder; being written.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

/// Placeholder cataloger.
pub(crate) struct PipfileLockCataloger;

impl Cataloger for PipfileLockCataloger {
    fn id(&self) -> &'static str {
        "python/pipfile-lock"
    }

    fn wants(&self, _file: &FileRef<'_>) -> bool {
        false
    }

    fn catalog(
        &self,
        _file: &FileRef<'_>,
        _resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        Ok(CatalogOutput::default())
    }
}
