//! `pdm.lock`: PDM's lockfile.
//!
//! Each `[[package]]` lists the dependency `groups` that need it. `default` is the run-time
//! group; the lock does not say whether another group is an optional-dependencies extra or
//! a development group, so a package outside `default` is development-only when every
//! group it is in has a development name (`dev`, `test`, `lint`, `doc`, ...), and optional
//! otherwise. `dependencies` are PEP 508 strings naming other lock entries. Hashes are in
//! each package's `files` (lock format 4) or, in older locks, in `[metadata.files]` keyed
//! by `"name version"`.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{PackageSource, Scope};
use serde::Deserialize;

use crate::lockfile::{
    PackageBlocks, PackageIndex, add_prefixed_hash, depends_on, lock_component, normalized, output,
    parse_toml, read_text,
};
use crate::requirement::{DeclaredRequirement, is_commit};

const ID: &str = "python/pdm-lock";

/// Group names taken for development groups.
const DEVELOPMENT_GROUPS: [&str; 12] = [
    "dev",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "lint",
    "linting",
    "doc",
    "docs",
    "typing",
    "format",
];

/// Reads `pdm.lock`.
pub(crate) struct PdmLockCataloger;

impl Cataloger for PdmLockCataloger {
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
        file.file_name() == "pdm.lock"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: PdmLock = parse_toml(&text)?;
        Ok(catalog_lock(&lock, &text, file.path))
    }
}

#[derive(Debug, Deserialize)]
struct PdmLock {
    #[serde(default)]
    package: Vec<PdmPackage>,
    #[serde(default)]
    metadata: PdmMetadata,
}

#[derive(Debug, Default, Deserialize)]
struct PdmMetadata {
    /// Older lock formats: `"name version"` → files.
    #[serde(default)]
    files: BTreeMap<String, Vec<PdmFile>>,
}

#[derive(Debug, Deserialize)]
struct PdmPackage {
    name: String,
    version: Option<String>,
    groups: Option<Vec<String>>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    files: Vec<PdmFile>,
    git: Option<String>,
    hg: Option<String>,
    revision: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    editable: bool,
}

#[derive(Debug, Deserialize)]
struct PdmFile {
    hash: Option<String>,
}

impl PdmPackage {
    fn scope(&self) -> Scope {
        let Some(groups) = &self.groups else {
            return Scope::Required;
        };
        if groups.is_empty() || groups.iter().any(|g| g == "default") {
            Scope::Required
        } else if groups
            .iter()
            .all(|g| DEVELOPMENT_GROUPS.contains(&g.to_ascii_lowercase().as_str()))
        {
            Scope::Development
        } else {
            Scope::Optional
        }
    }

    fn source(&self) -> Option<PackageSource> {
        let vcs = [("git", &self.git), ("hg", &self.hg)]
            .into_iter()
            .find_map(|(vcs, url)| url.as_ref().map(|url| (vcs, url)));
        if let Some((vcs, url)) = vcs {
            return Some(PackageSource::Vcs {
                vcs: vcs.to_owned(),
                url: url.clone(),
                requested_revision: self.reference.clone(),
                commit: self.revision.clone().filter(|r| is_commit(r)),
            });
        }
        if let Some(path) = &self.path {
            return Some(PackageSource::Path {
                path: path.clone(),
                editable: self.editable,
            });
        }
        self.url
            .as_ref()
            .map(|url| PackageSource::Url { url: url.clone() })
    }
}

/// The name and specifier of a dependency string. PDM writes PEP 508, but also
/// `-e file:///…#egg=name` for editable dependencies; those keep only the name.
fn dependency(text: &str) -> Option<(String, Option<String>)> {
    match DeclaredRequirement::parse(text) {
        Ok(requirement) => Some((
            requirement.name,
            (!requirement.specifier.is_empty()).then_some(requirement.specifier),
        )),
        Err(_) => text
            .split_once("#egg=")
            .map(|(_, egg)| (egg.split(['[', '&']).next().unwrap_or(egg).to_owned(), None)),
    }
}

fn catalog_lock(lock: &PdmLock, text: &str, path: &str) -> CatalogOutput {
    let blocks = PackageBlocks::new(text, "[[package]]");
    let count = lock.package.len();
    let metadata_files: BTreeMap<(_, &str), _> = lock
        .metadata
        .files
        .iter()
        .filter_map(|(key, files)| {
            let (name, version) = key.split_once(' ')?;
            Some(((normalized(name), version.trim()), files))
        })
        .collect();
    let components: Vec<_> = lock
        .package
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let line = blocks.name_line(index, count, &package.name);
            let mut component =
                lock_component(&package.name, package.version.as_deref(), path, line, ID);
            component.scope = package.scope();
            component.source = package.source();
            let mut hashes = BTreeSet::new();
            let old_style = package
                .version
                .as_deref()
                .and_then(|version| metadata_files.get(&(normalized(&package.name), version)));
            for file in package
                .files
                .iter()
                .chain(old_style.into_iter().flat_map(|files| files.iter()))
            {
                add_prefixed_hash(&mut hashes, file.hash.as_deref());
            }
            component.hashes = hashes;
            component
        })
        .collect();

    let index = PackageIndex::new(&components);
    let mut relationships = Vec::new();
    for (from, package) in lock.package.iter().enumerate() {
        for (name, specifier) in package.dependencies.iter().filter_map(|d| dependency(d)) {
            for to in index.resolve(&name, None, specifier.as_deref()) {
                relationships.push(depends_on(&components[from], &components[to]));
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

    const FOLDER: &str = "pdm";

    #[test]
    fn claims_pdm_lock_only() {
        assert!(PdmLockCataloger.wants(&FileRef {
            path: "pdm.lock",
            explicit: false
        }));
        assert!(!PdmLockCataloger.wants(&FileRef {
            path: "single-package.toml",
            explicit: true
        }));
    }

    /// Every case of the osv-scalibr expectations, commits included.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        assert_expected_json(&PdmLockCataloger, FOLDER, |_| true, &[], assert_commits);
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "dev-dependency.toml",
            "optional-dependency.toml",
            "git-dependency.toml",
            "names-outside-package-block.toml",
            "two-packages.toml",
        ] {
            let output = catalog_fixture(&PdmLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("pdm-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn groups_decide_scope() {
        let scope = |fixture: &str, name: &str| {
            let output = catalog_fixture(&PdmLockCataloger, FOLDER, fixture).unwrap();
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .scope
        };
        assert_eq!(scope("dev-dependency.toml", "pyroute2"), Scope::Development);
        assert_eq!(scope("dev-dependency.toml", "toml"), Scope::Required);
        assert_eq!(
            scope("optional-dependency.toml", "win-inet-pton"),
            Scope::Optional
        );
    }

    #[test]
    fn broken_and_empty_files() {
        assert!(catalog_fixture(&PdmLockCataloger, FOLDER, "not-toml.txt").is_err());
        for fixture in ["empty-file.toml", "empty.toml"] {
            let output = catalog_fixture(&PdmLockCataloger, FOLDER, fixture).unwrap();
            assert!(output.components.is_empty(), "{fixture}");
        }
    }
}
