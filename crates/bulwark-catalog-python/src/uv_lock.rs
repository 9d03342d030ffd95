//! Placeholder; being written.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

/// Placeholder cataloger.
pub(crate) struct UvLockCataloger;

impl Cataloger for UvLockCataloger {
    fn id(&self) -> &'static str {
        "python/uv-lock"
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
