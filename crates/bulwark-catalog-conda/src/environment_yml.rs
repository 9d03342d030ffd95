//! Placeholder; being written.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

/// Placeholder cataloger.
pub(crate) struct EnvironmentYmlCataloger;

impl Cataloger for EnvironmentYmlCataloger {
    fn id(&self) -> &'static str {
        "conda/environment-yml"
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
