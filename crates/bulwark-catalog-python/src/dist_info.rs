//! Placeholder; being written.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

/// Placeholder cataloger.
pub(crate) struct DistInfoCataloger;

impl Cataloger for DistInfoCataloger {
    fn id(&self) -> &'static str {
        "python/installed"
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
