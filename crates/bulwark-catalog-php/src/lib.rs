//! PHP catalogers: Composer's lockfile (`composer.lock`) and what Composer installed
//! (`vendor/composer/installed.json`, Composer 1 and 2 forms).
//!
//! Every package is a [`Packagist`](bulwark_inventory::Ecosystem::Packagist) component named
//! `vendor/package` with a `pkg:composer/<vendor>/<package>@<version>` purl; see
//! [`package`] for how each field is read.
//!
//! Trap: the packages under `vendor/<vendor>/<package>/` are dependencies' source trees, and
//! many ship their own `composer.lock` (and test fixtures full of them). Those describe how a
//! dependency is developed, not what is installed, and are never reported unless named on the
//! command line.

mod composer_lock;
mod installed_json;
mod package;
#[cfg(test)]
mod test_support;

use bulwark_catalog::{CatalogError, Cataloger};
use serde::de::DeserializeOwned;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(composer_lock::ComposerLockCataloger),
        Box::new(installed_json::InstalledJsonCataloger),
    ]
}

/// Why a Composer file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ComposerError {
    /// Not readable (missing, too large, not UTF-8).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// Not JSON of the expected shape.
    #[error("not a valid Composer JSON file")]
    Json(#[source] serde_json::Error),
}

/// Deserializes JSON, pointing the error at its line. serde_json's recursion limit keeps a
/// deeply nested file from exhausting the stack.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, CatalogError> {
    serde_json::from_str(text).map_err(|error| {
        let line = u32::try_from(error.line()).ok().filter(|l| *l > 0);
        let error = CatalogError::new(ComposerError::Json(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

/// Whether `dir` lies inside an installed package: `vendor/<vendor>/<package>/…`. The vendor
/// directory's own `composer/` folder (one level down) is not a package.
pub(crate) fn is_installed_package_content(dir: &str) -> bool {
    let segments: Vec<&str> = dir.split('/').collect();
    segments
        .iter()
        .position(|segment| *segment == "vendor")
        .is_some_and(|vendor| segments.len() > vendor + 2)
}

/// Nothing these catalogers read lies inside an installed package (PHP or Python).
pub(crate) fn descend(dir: &str) -> bool {
    !is_installed_package_content(dir) && !bulwark_catalog::is_installed_package_content(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_package_content() {
        for (dir, inside) in [
            ("vendor", false),
            ("vendor/composer", false),
            ("vendor/symfony", false),
            ("vendor/symfony/console", true),
            ("app/vendor/symfony/console/Tests", true),
            ("src/Vendor/Thing/X", false),
        ] {
            assert_eq!(is_installed_package_content(dir), inside, "{dir}");
        }
    }
}
