//! `composer.lock`: Composer's lockfile. `packages` are the run-time packages,
//! `packages-dev` the ones `composer install --no-dev` leaves out
//! ([`Scope::Development`]). The project itself is not in the lock.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::Scope;
use serde::Deserialize;

use crate::package::{Entries, catalog};
use crate::{ComposerError, parse_json};

const ID: &str = "php/composer-lock";

/// Reads `composer.lock`.
pub(crate) struct ComposerLockCataloger;

#[derive(Debug, Deserialize)]
struct ComposerLock {
    #[serde(default)]
    packages: Vec<serde_json::Value>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Vec<serde_json::Value>,
}

impl Cataloger for ComposerLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        crate::descend(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name() == "composer.lock"
            && (file.explicit
                || !(crate::is_installed_package_content(file.dir()) || file.is_in_site_packages()))
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
        let lock: ComposerLock = parse_json(&text)?;
        let entries = lock
            .packages
            .into_iter()
            .map(|p| (p, Scope::Required))
            .chain(
                lock.packages_dev
                    .into_iter()
                    .map(|p| (p, Scope::Development)),
            )
            .collect();
        Ok(catalog(
            Entries {
                entries,
                development: Vec::new(),
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
    use bulwark_inventory::{PackageSource, Purl};

    fn want(path: &str) -> bool {
        ComposerLockCataloger.wants(&FileRef {
            path,
            explicit: false,
        })
    }

    #[test]
    fn claims_project_lockfiles_only() {
        assert!(want("composer.lock"));
        assert!(want("web/app/composer.lock"));
        assert!(!want("web/app/composer.json"));
        // A dependency's own lockfile, shipped in its package.
        assert!(!want("vendor/symfony/console/composer.lock"));
        assert!(!want("vendor/symfony/console/Tests/Fixtures/composer.lock"));
        assert!(ComposerLockCataloger.wants(&FileRef {
            path: "vendor/a/b/composer.lock",
            explicit: true,
        }));
    }

    #[test]
    fn lock_listing() {
        let output = catalog_fixture(&ComposerLockCataloger, "composer.lock").unwrap();
        insta::assert_snapshot!("composer-lock", listing(&output));
    }

    #[test]
    fn versions_sources_and_scopes() {
        let output = catalog_fixture(&ComposerLockCataloger, "composer.lock").unwrap();
        let find = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        let console = find("symfony/console");
        // Kept exactly, leading `v` included.
        assert_eq!(console.version.as_deref(), Some("v6.4.1"));
        assert_eq!(
            console.purl.as_ref().map(Purl::as_str),
            Some("pkg:composer/symfony/console@v6.4.1")
        );
        assert!(matches!(
            &console.source,
            Some(PackageSource::Vcs { commit: Some(c), requested_revision: None, .. })
                if c == "a550a7c99daeedef3f9d23fb82e3531525ff11fd"
        ));
        assert_eq!(find("phpunit/phpunit").scope, Scope::Development);
        assert_eq!(console.scope, Scope::Required);
        // `dist.shasum` when not empty.
        assert_eq!(find("psr/log").hashes.len(), 1);
        assert!(console.hashes.is_empty());
        assert!(matches!(
            &find("acme/local-tools").source,
            Some(PackageSource::Path { path, .. }) if path == "../packages/local-tools"
        ));
    }

    #[test]
    fn one_bad_entry_is_a_problem() {
        let output = catalog_fixture(&ComposerLockCataloger, "bad-entry.composer.lock").unwrap();
        insta::assert_snapshot!("bad-entry", listing(&output));
    }

    #[test]
    fn broken_files() {
        let error = catalog_fixture(&ComposerLockCataloger, "truncated.composer.lock").unwrap_err();
        assert!(error.line.is_some());
        let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let error = crate::parse_json::<ComposerLock>(&nested).unwrap_err();
        assert!(error.to_string().contains("JSON"), "{error}");
        let output = catalog_fixture(&ComposerLockCataloger, "empty.composer.lock").unwrap();
        assert!(output.components.is_empty());
    }
}
