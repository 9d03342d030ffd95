//! Placeholder; being written.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

/// Placeholder cataloger.
pub(crate) struct CondaLockCataloger;

impl Cataloger for CondaLockCataloger {
    fn id(&self) -> &'static str {
        "conda/conda-lock"
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
