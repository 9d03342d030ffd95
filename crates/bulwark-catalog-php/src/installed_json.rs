//! `vendor/composer/installed.json`: what Composer installed into a vendor directory.
//!
//! Composer 1 writes a bare array of packages. Composer 2 writes
//! `{"packages": [...], "dev": true, "dev-package-names": [...]}`, and the names listed in
//! `dev-package-names` were installed only for development ([`Scope::Development`]);
//! Composer 1 does not say, so its packages are all run-time.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::Scope;
use serde::Deserialize;

use crate::package::{Entries, catalog};
use crate::{ComposerError, parse_json};

const ID: &str = "php/composer-installed";

/// Reads `vendor/composer/installed.json`.
pub(crate) struct InstalledJsonCataloger;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Installed {
    Composer2 {
        packages: Vec<serde_json::Value>,
        #[serde(default, rename = "dev-package-names")]
        development: Vec<String>,
    },
    Composer1(Vec<serde_json::Value>),
}

impl Cataloger for InstalledJsonCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        crate::descend(dir)
    }

    /// `<vendor dir>/composer/installed.json`. The vendor directory can be renamed
    /// (`config.vendor-dir`), so only the `composer/` part is required.
    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name() == "installed.json"
            && file.dir().rsplit('/').next() == Some("composer")
            && (file.explicit || !file.is_in_site_packages())
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(ComposerError::Read)?;
        if text.trim().is_empty() {
            return Ok(CatalogOutput::default());
        }
        let (packages, development) = match parse_json::<Installed>(&text)? {
            Installed::Composer2 {
                packages,
                development,
            } => (packages, development),
            Installed::Composer1(packages) => (packages, Vec::new()),
        };
        Ok(catalog(
            Entries {
                entries: packages.into_iter().map(|p| (p, Scope::Required)).collect(),
                development,
            },
            &text,
            file.path,
            ID,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_fixture, listing};

    #[test]
    fn claims_composer_installed_json() {
        let want = |path| {
            InstalledJsonCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(want("vendor/composer/installed.json"));
        assert!(want("app/libs/composer/installed.json"));
        assert!(!want("vendor/composer/installed.php"));
        assert!(!want("vendor/installed.json"));
    }

    #[test]
    fn composer_2_marks_dev_packages() {
        let output = catalog_fixture(
            &InstalledJsonCataloger,
            "composer2/vendor/composer/installed.json",
        )
        .unwrap();
        insta::assert_snapshot!("installed-composer2", listing(&output));
        let scope = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.scope)
        };
        assert_eq!(scope("phpunit/php-timer"), Some(Scope::Development));
        assert_eq!(scope("guzzlehttp/guzzle"), Some(Scope::Required));
    }

    #[test]
    fn composer_1_array() {
        let output = catalog_fixture(
            &InstalledJsonCataloger,
            "composer1/vendor/composer/installed.json",
        )
        .unwrap();
        insta::assert_snapshot!("installed-composer1", listing(&output));
        assert!(output.components.iter().all(|c| c.scope == Scope::Required));
    }

    #[test]
    fn not_installed_json() {
        let error = catalog_fixture(&InstalledJsonCataloger, "not-installed.json").unwrap_err();
        assert!(error.to_string().contains("JSON"), "{error}");
    }
}
