//! `uv.lock`: uv's universal lockfile.
//!
//! Every `[[package]]` is one component at its exact version. The project itself (and each
//! workspace member without a build system) is in the lock too, with a `virtual` source, or
//! an `editable`/`directory` source of `.`: it is kept, as the [`ComponentKind::Application`]
//! the other packages hang off, because its `dependencies`, `optional-dependencies` and
//! `dev-dependencies` are what decide each package's [`Scope`]: a package reached only
//! through an extra is optional, only through a dev group development-only.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{ComponentKind, PackageSource, Scope};
use serde::Deserialize;

use crate::lockfile::{
    PackageBlocks, PackageIndex, ScopedEdge, add_prefixed_hash, depends_on, lock_component, output,
    parse_toml, reachable_scopes, read_text,
};
use crate::requirement::is_commit;

const ID: &str = "python/uv-lock";

/// Reads `uv.lock`.
pub(crate) struct UvLockCataloger;

impl Cataloger for UvLockCataloger {
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
        file.file_name() == "uv.lock"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: UvLock = parse_toml(&text)?;
        Ok(catalog_lock(&lock, &text, file.path))
    }
}

#[derive(Debug, Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvPackage {
    name: String,
    /// Absent for source trees with a dynamic version.
    version: Option<String>,
    source: Option<UvSource>,
    #[serde(default)]
    dependencies: Vec<UvDependency>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<UvDependency>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<UvDependency>>,
    sdist: Option<UvArtifact>,
    #[serde(default)]
    wheels: Vec<UvArtifact>,
}

/// Exactly one key is set.
#[derive(Debug, Default, Deserialize)]
struct UvSource {
    registry: Option<String>,
    git: Option<String>,
    url: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_path: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UvDependency {
    name: String,
    /// Present when the lock holds the name at several versions.
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UvArtifact {
    hash: Option<String>,
}

impl UvSource {
    fn to_source(&self) -> Option<PackageSource> {
        if let Some(url) = &self.registry {
            return Some(PackageSource::Registry { url: url.clone() });
        }
        if let Some(git) = &self.git {
            return Some(git_source(git));
        }
        if let Some(url) = &self.url {
            return Some(PackageSource::Url { url: url.clone() });
        }
        let (path, editable) = self.editable.as_ref().map(|p| (p, true)).or_else(|| {
            [&self.path, &self.directory, &self.virtual_path]
                .into_iter()
                .find_map(|p| p.as_ref().map(|p| (p, false)))
        })?;
        Some(PackageSource::Path {
            path: path.clone(),
            editable,
        })
    }

    /// The lock's own project: virtual, or a source tree at the lock's directory.
    fn is_project(&self) -> bool {
        self.virtual_path.is_some()
            || [&self.editable, &self.directory]
                .into_iter()
                .flatten()
                .any(|p| p == ".")
    }
}

/// `https://host/repo?rev=v1#<commit>` (also `tag=`, `branch=`, `subdirectory=`).
fn git_source(git: &str) -> PackageSource {
    let (without_commit, commit) = match git.split_once('#') {
        Some((url, commit)) => (url, Some(commit)),
        None => (git, None),
    };
    let (url, query) = match without_commit.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (without_commit, None),
    };
    let requested_revision = query.and_then(|query| {
        query.split('&').find_map(|parameter| {
            let (key, value) = parameter.split_once('=')?;
            matches!(key, "rev" | "tag" | "branch").then(|| value.to_owned())
        })
    });
    PackageSource::Vcs {
        vcs: "git".to_owned(),
        url: url.to_owned(),
        requested_revision,
        commit: commit.filter(|c| is_commit(c)).map(str::to_owned),
    }
}

fn catalog_lock(lock: &UvLock, text: &str, path: &str) -> CatalogOutput {
    let blocks = PackageBlocks::new(text, "[[package]]");
    let count = lock.package.len();
    let mut components: Vec<_> = lock
        .package
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let line = blocks.name_line(index, count, &package.name);
            let mut component =
                lock_component(&package.name, package.version.as_deref(), path, line, ID);
            component.source = package.source.as_ref().and_then(UvSource::to_source);
            if package.source.as_ref().is_some_and(UvSource::is_project) {
                component.kind = ComponentKind::Application;
            }
            let mut hashes = BTreeSet::new();
            for artifact in package.sdist.iter().chain(&package.wheels) {
                add_prefixed_hash(&mut hashes, artifact.hash.as_deref());
            }
            component.hashes = hashes;
            component
        })
        .collect();

    let index = PackageIndex::new(&components);
    let mut edges: Vec<ScopedEdge> = Vec::new();
    for (from, package) in lock.package.iter().enumerate() {
        let groups = [(
            Scope::Required,
            package.dependencies.iter().collect::<Vec<_>>(),
        )]
        .into_iter()
        .chain([(
            Scope::Optional,
            package.optional_dependencies.values().flatten().collect(),
        )])
        .chain([(
            Scope::Development,
            package.dev_dependencies.values().flatten().collect(),
        )]);
        for (scope, dependencies) in groups {
            for dependency in dependencies {
                for to in index.resolve(&dependency.name, dependency.version.as_deref(), None) {
                    if !edges.contains(&(from, to, scope)) {
                        edges.push((from, to, scope));
                    }
                }
            }
        }
    }

    // Scopes flow from the project, and from any package nothing in the lock depends on
    // (a workspace member, or a lock without a project entry), whose own needs are run time.
    let has_incoming: BTreeSet<usize> = edges.iter().map(|(_, to, _)| *to).collect();
    let roots: Vec<usize> = components
        .iter()
        .enumerate()
        .filter(|(index, c)| c.kind == ComponentKind::Application || !has_incoming.contains(index))
        .map(|(index, _)| index)
        .collect();
    for (component, scope) in components
        .iter_mut()
        .zip(reachable_scopes(count, &roots, &edges))
    {
        component.scope = scope.unwrap_or_default();
    }

    let relationships: Vec<_> = edges
        .iter()
        .map(|(from, to, _)| depends_on(&components[*from], &components[*to]))
        .collect();
    output(components, relationships)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::test_support::{
        assert_commits, assert_expected_json, catalog_fixture, listing,
    };

    const FOLDER: &str = "uv";

    #[test]
    fn claims_uv_lock_only() {
        assert!(UvLockCataloger.wants(&FileRef {
            path: "a/uv.lock",
            explicit: false
        }));
        assert!(!UvLockCataloger.wants(&FileRef {
            path: "a/poetry.lock",
            explicit: false
        }));
    }

    /// Every case of the osv-scalibr expectations. scalibr drops the lock's own project
    /// (the `virtual = "."` package); bulwark keeps it as the application the edges start
    /// from, so applications are left out of the comparison and checked on their own.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let libraries = |c: &bulwark_inventory::Component| c.kind == ComponentKind::Library;
        assert_expected_json(&UvLockCataloger, FOLDER, libraries, &[], assert_commits);
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "grouped-packages.lock",
            "source-git.lock",
            "no-dependencies.lock",
            "no-packages.lock",
            "names-outside-package-block.lock",
            "sources.lock",
        ] {
            let output = catalog_fixture(&UvLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("uv-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn extras_make_packages_optional_and_dev_groups_development() {
        let output = catalog_fixture(&UvLockCataloger, FOLDER, "sources.lock").unwrap();
        let scope = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.scope)
        };
        assert_eq!(scope("numpy"), Some(Scope::Required));
        assert_eq!(scope("pytest"), Some(Scope::Development));
        assert_eq!(scope("pluggy"), Some(Scope::Development));
        assert_eq!(scope("rich"), Some(Scope::Optional));
        // Needed by a run-time package and by a dev tool: required.
        assert_eq!(scope("packaging"), Some(Scope::Required));
    }

    #[test]
    fn broken_files() {
        let error = catalog_fixture(&UvLockCataloger, FOLDER, "not-toml.txt").unwrap_err();
        assert_eq!(error.line, Some(1));
        let output = catalog_fixture(&UvLockCataloger, FOLDER, "empty.lock").unwrap();
        assert!(output.components.is_empty());
    }
}
