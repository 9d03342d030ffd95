//! `poetry.lock`, lock format 1.x (Poetry 1) and 2.x (Poetry 2).
//!
//! The formats differ where it matters for an inventory:
//! - Hashes: 1.x keeps them apart, in `[metadata.files]` keyed by name (one list for every
//!   locked version of that name); 2.x puts a `files` array in each package.
//! - Scope: 1.x says `category = "dev"`; 2.x lists the dependency `groups` a package is in,
//!   and a package outside `main` is only needed by a non-main (development) group.
//!   In both, `optional = true` marks a package only an extra pulls in.
//!
//! The root project is not in `poetry.lock` (its `pyproject.toml` is, see the pyproject
//! cataloger), so edges only join lock entries.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{PackageSource, Scope};
use serde::Deserialize;

use crate::lockfile::{
    PackageBlocks, PackageIndex, add_prefixed_hash, depends_on, lock_component, normalized, output,
    parse_toml, read_text,
};

const ID: &str = "python/poetry-lock";

/// Reads `poetry.lock`.
pub(crate) struct PoetryLockCataloger;

impl Cataloger for PoetryLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        if file.is_in_site_packages() && !file.explicit {
            return false;
        }
        file.file_name() == "poetry.lock"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: PoetryLock = parse_toml(&text)?;
        Ok(catalog_lock(&lock, &text, file.path))
    }
}

#[derive(Debug, Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    #[serde(default)]
    metadata: PoetryMetadata,
}

#[derive(Debug, Default, Deserialize)]
struct PoetryMetadata {
    /// Lock format 1.x only.
    #[serde(default)]
    files: BTreeMap<String, Vec<PoetryFile>>,
}

#[derive(Debug, Deserialize)]
struct PoetryPackage {
    name: String,
    version: Option<String>,
    /// 1.x: `main` or `dev`.
    category: Option<String>,
    #[serde(default)]
    optional: bool,
    /// 2.x.
    groups: Option<Vec<String>>,
    #[serde(default)]
    develop: bool,
    /// 2.x.
    #[serde(default)]
    files: Vec<PoetryFile>,
    source: Option<PoetrySource>,
    /// Name → constraint string, `{ version = …, markers = … }`, or a list of those.
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
struct PoetryFile {
    file: Option<String>,
    hash: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PoetrySource {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

impl PoetryPackage {
    fn scope(&self) -> Scope {
        let development = match &self.groups {
            Some(groups) => !groups.iter().any(|g| g == "main"),
            None => self.category.as_deref() == Some("dev"),
        };
        if development {
            Scope::Development
        } else if self.optional {
            Scope::Optional
        } else {
            Scope::Required
        }
    }

    fn source(&self) -> Option<PackageSource> {
        let source = self.source.as_ref()?;
        Some(match source.kind.as_str() {
            "git" => PackageSource::Vcs {
                vcs: "git".to_owned(),
                url: source.url.clone(),
                requested_revision: source.reference.clone(),
                commit: source.resolved_reference.clone(),
            },
            "url" => PackageSource::Url {
                url: source.url.clone(),
            },
            "file" | "directory" => PackageSource::Path {
                path: source.url.clone(),
                editable: self.develop,
            },
            // `legacy` (a PEP 503 simple index) and anything newer.
            _ => PackageSource::Registry {
                url: source.url.clone(),
            },
        })
    }
}

/// The constraint strings of a dependency entry (several when it is split by markers).
fn constraints(value: &toml::Value) -> Vec<Option<&str>> {
    match value {
        toml::Value::String(constraint) => vec![Some(constraint.as_str())],
        toml::Value::Table(table) => vec![table.get("version").and_then(toml::Value::as_str)],
        toml::Value::Array(items) => items.iter().flat_map(constraints).collect(),
        _ => vec![None],
    }
}

fn catalog_lock(lock: &PoetryLock, text: &str, path: &str) -> CatalogOutput {
    let blocks = PackageBlocks::new(text, "[[package]]");
    let count = lock.package.len();
    let same_name_count = |name: &str| {
        lock.package
            .iter()
            .filter(|p| normalized(&p.name) == normalized(name))
            .count()
    };
    let metadata_files: BTreeMap<_, _> = lock
        .metadata
        .files
        .iter()
        .map(|(name, files)| (normalized(name), files))
        .collect();
    let components: Vec<_> = lock
        .package
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let line = blocks.name_line(index, count, &package.name);
            let version = package.version.as_deref();
            let mut component = lock_component(&package.name, version, path, line, ID);
            component.scope = package.scope();
            component.source = package.source();
            let mut hashes = BTreeSet::new();
            for file in &package.files {
                add_prefixed_hash(&mut hashes, file.hash.as_deref());
            }
            if let Some(files) = metadata_files.get(&normalized(&package.name)) {
                // One list serves every locked version of the name; with several versions,
                // a file belongs to the version its file name carries.
                let several = same_name_count(&package.name) > 1;
                for file in files.iter() {
                    let belongs = !several
                        || version.is_some_and(|v| {
                            file.file.as_deref().is_some_and(|f| {
                                f.contains(&format!("-{v}-")) || f.contains(&format!("-{v}."))
                            })
                        });
                    if belongs {
                        add_prefixed_hash(&mut hashes, file.hash.as_deref());
                    }
                }
            }
            component.hashes = hashes;
            component
        })
        .collect();

    let index = PackageIndex::new(&components);
    let mut relationships = Vec::new();
    for (from, package) in lock.package.iter().enumerate() {
        for (name, value) in &package.dependencies {
            for constraint in constraints(value) {
                for to in index.resolve(name, None, constraint) {
                    relationships.push(depends_on(&components[from], &components[to]));
                }
            }
        }
    }
    output(components, relationships)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::test_support::{
        assert_commits, assert_expected_json, catalog_fixture, listing,
    };

    const FOLDER: &str = "poetry";

    #[test]
    fn claims_poetry_lock_only() {
        assert!(PoetryLockCataloger.wants(&FileRef {
            path: "poetry.lock",
            explicit: false
        }));
        assert!(!PoetryLockCataloger.wants(&FileRef {
            path: "two-packages.lock",
            explicit: true
        }));
    }

    /// Every case of the osv-scalibr expectations, including the dependency groups scalibr
    /// states (`dev` ↔ development, `optional` ↔ optional) and git commits.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        assert_expected_json(&PoetryLockCataloger, FOLDER, |_| true, &[], assert_commits);
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "multiple-packages.v2.lock",
            "two-packages.lock",
            "source-git.lock",
            "source-legacy.lock",
            "one-package-with-metadata.lock",
            "optional-package.lock",
            "sources.v1.lock",
        ] {
            let output = catalog_fixture(&PoetryLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("poetry-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn scopes_of_both_formats() {
        let output =
            catalog_fixture(&PoetryLockCataloger, FOLDER, "multiple-packages.v2.lock").unwrap();
        let scope = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .scope
        };
        assert_eq!(scope("async-timeout"), Scope::Optional);
        assert_eq!(scope("faker"), Scope::Development);
        assert_eq!(scope("six"), Scope::Required);

        let output = catalog_fixture(&PoetryLockCataloger, FOLDER, "sources.v1.lock").unwrap();
        let pytest = output
            .components
            .iter()
            .find(|c| c.name == "pytest")
            .unwrap();
        assert_eq!(pytest.scope, Scope::Development);
    }

    #[test]
    fn broken_and_empty_files() {
        assert!(catalog_fixture(&PoetryLockCataloger, FOLDER, "not-toml.txt").is_err());
        for fixture in ["empty-file.lock", "empty.lock"] {
            let output = catalog_fixture(&PoetryLockCataloger, FOLDER, fixture).unwrap();
            assert!(output.components.is_empty(), "{fixture}");
        }
    }
}
