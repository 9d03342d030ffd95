//! conda-lock's unified lockfile (`conda-lock.yml`, `*.conda-lock.yml`, format version 1).
//!
//! Each `package` entry is one artifact for one platform, installed by conda or by pip:
//!
//! ```yaml
//! - name: numpy
//!   version: 1.26.4
//!   manager: conda
//!   platform: linux-64
//!   dependencies: {libblas: '>=3.9.0,<4.0a0', python: '>=3.11,<3.12.0a0'}
//!   url: https://conda.registry.invalid/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda
//!   hash: {md5: a502d7aad449a1206efb366d6a12c52d, sha256: 3f43…}
//!   category: main
//!   optional: false
//! ```
//!
//! A package locked for two platforms is two artifacts with two purls (the `subdir`
//! qualifier differs); a `noarch` package has one URL, so its entries share one purl and merge.
//! Dependency edges stay within a platform.

use std::collections::{BTreeMap, HashMap};
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, Ecosystem, Hash, HashAlgorithm, Location, PackageName, Problem,
    Relationship, RelationshipKind, Scope,
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::{CondaIdentity, yaml_line};

/// Reads conda-lock unified lockfiles.
pub(crate) struct CondaLockCataloger;

/// Why a lockfile could not be read.
#[derive(Debug, thiserror::Error)]
enum CondaLockError {
    #[error("cannot read the conda-lock file")]
    Read(#[source] io::Error),
    #[error("not a valid conda-lock file")]
    Yaml(#[source] serde_saphyr::Error),
}

#[derive(Debug, Deserialize)]
struct Lockfile {
    package: Option<Vec<Spanned<LockedPackage>>>,
}

#[derive(Debug, Deserialize)]
struct LockedPackage {
    name: Option<String>,
    version: Option<String>,
    manager: Option<String>,
    platform: Option<String>,
    dependencies: Option<BTreeMap<String, IgnoredAny>>,
    url: Option<String>,
    hash: Option<LockedHash>,
    category: Option<String>,
    /// Newer conda-lock releases may list several categories.
    categories: Option<Vec<String>>,
    build: Option<String>,
    source: Option<DependencySource>,
}

#[derive(Debug, Deserialize)]
struct LockedHash {
    md5: Option<String>,
    sha256: Option<String>,
}

/// A pip package locked from a direct URL (`type: url`).
#[derive(Debug, Deserialize)]
struct DependencySource {
    url: Option<String>,
}

/// Which installer a package entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Manager {
    Conda,
    Pip,
}

impl Cataloger for CondaLockCataloger {
    fn id(&self) -> &'static str {
        "conda/conda-lock"
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        // Cheap refusal first: this runs for every file of an image.
        if !crate::is_yaml_name(file.file_name()) {
            return false;
        }
        let name = file.file_name().to_ascii_lowercase();
        let Some(stem) = name
            .strip_suffix(".yml")
            .or_else(|| name.strip_suffix(".yaml"))
        else {
            return false;
        };
        if file.explicit {
            return stem.contains("conda-lock");
        }
        stem == "conda-lock" || stem.ends_with(".conda-lock")
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(CondaLockError::Read)?;
        let lockfile: Option<Lockfile> = crate::parse_yaml(&text, CondaLockError::Yaml)?;
        let mut output = CatalogOutput::default();
        // (platform, lookup key) → the entry's id, for the edges.
        let mut index: HashMap<(String, LookupKey), ComponentId> = HashMap::new();
        let mut entries: Vec<(ComponentId, String, Manager, Vec<String>)> = Vec::new();
        for entry in lockfile.and_then(|l| l.package).unwrap_or_default() {
            let line = yaml_line(&entry.referenced);
            let mut location = Location::new(file.path);
            if let Some(line) = line {
                location = location.at_line(line);
            }
            let package = entry.value;
            let (name, version) = match (package.name.as_deref(), package.version.as_deref()) {
                (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
                    (name, version)
                }
                (name, _) => {
                    output.problems.push(Problem {
                        path: file.path.to_owned(),
                        line,
                        cataloger: Some(self.id().to_owned()),
                        message: match name {
                            Some(name) if !name.is_empty() => {
                                format!("skipped package `{name}`: it has no `version`")
                            }
                            _ => "skipped package entry: it has no `name`".to_owned(),
                        },
                    });
                    continue;
                }
            };
            let manager = match package.manager.as_deref() {
                Some("pip") => Manager::Pip,
                _ => Manager::Conda,
            };
            let platform = package.platform.clone().unwrap_or_default();
            let mut component = match manager {
                Manager::Conda => conda_component(name, version, &package, location, self.id()),
                Manager::Pip => pip_component(name, version, &package, location, self.id()),
            };
            if let Some(hash) = &package.hash {
                component.hashes = [
                    (HashAlgorithm::Md5, &hash.md5),
                    (HashAlgorithm::Sha256, &hash.sha256),
                ]
                .into_iter()
                .filter_map(|(algorithm, digest)| Hash::new(algorithm, digest.as_deref()?))
                .collect();
            }
            component.scope = scope(&package);
            let id = ComponentId::of(&component);
            for key in lookup_keys(manager, name) {
                index
                    .entry((platform.clone(), key))
                    .or_insert_with(|| id.clone());
            }
            let dependencies = package
                .dependencies
                .map(|d| d.into_keys().collect())
                .unwrap_or_default();
            entries.push((id, platform, manager, dependencies));
            output.components.push(component);
        }

        for (from, platform, manager, dependencies) in entries {
            for dependency in dependencies {
                // A pip package's dependency may be satisfied by a conda package of the same
                // environment (conda-lock lets conda install what it can).
                let candidates = match manager {
                    Manager::Conda => vec![LookupKey::conda(&dependency)],
                    Manager::Pip => vec![
                        LookupKey::Pip(PackageName::new(Ecosystem::PyPI, &dependency)),
                        LookupKey::CondaAsPip(PackageName::new(Ecosystem::PyPI, &dependency)),
                    ],
                };
                let to = candidates
                    .into_iter()
                    .find_map(|key| index.get(&(platform.clone(), key)));
                if let Some(to) = to
                    && *to != from
                {
                    output.relationships.push(Relationship {
                        from: from.clone(),
                        kind: RelationshipKind::DependsOn,
                        to: to.clone(),
                    });
                }
            }
        }
        output.relationships.sort();
        output.relationships.dedup();
        Ok(output)
    }
}

/// How a dependency name finds its entry. conda names compare lowercased and exactly
/// (`typing_extensions` and `typing-extensions` are two conda packages); pip names compare by
/// PEP 503, and so does a conda package looked up from a pip dependency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LookupKey {
    Conda(PackageName),
    Pip(PackageName),
    CondaAsPip(PackageName),
}

impl LookupKey {
    fn conda(name: &str) -> Self {
        Self::Conda(PackageName::new(Ecosystem::Conda, name))
    }
}

fn lookup_keys(manager: Manager, name: &str) -> Vec<LookupKey> {
    let python_name = PackageName::new(Ecosystem::PyPI, name);
    match manager {
        Manager::Conda => vec![LookupKey::conda(name), LookupKey::CondaAsPip(python_name)],
        Manager::Pip => vec![LookupKey::Pip(python_name)],
    }
}

/// `main` is required, `dev` development-only, any other category (an extra) optional; a
/// package in several categories takes the narrowest.
fn scope(package: &LockedPackage) -> Scope {
    let categories = package
        .categories
        .iter()
        .flatten()
        .chain(package.category.as_ref());
    categories
        .map(|category| match category.as_str() {
            "main" => Scope::Required,
            "dev" => Scope::Development,
            _ => Scope::Optional,
        })
        .min()
        .unwrap_or(Scope::Required)
}

/// A conda entry. Channel, subdir and build come from the archive URL
/// (`<channel>/<subdir>/<name>-<version>-<build>.conda`); the `build` field, where present,
/// wins, and the platform stands in for a URL without a subdir.
fn conda_component(
    name: &str,
    version: &str,
    package: &LockedPackage,
    location: Location,
    found_by: &str,
) -> Component {
    let url = package.url.as_deref().unwrap_or_default();
    let url = url.split(['#', '?']).next().unwrap_or(url);
    let (directory, file_name) = url.rsplit_once('/').unwrap_or(("", url));
    let (channel, subdir) = match directory.rsplit_once('/') {
        Some((channel, subdir)) if crate::is_subdir(subdir) => (Some(channel), Some(subdir)),
        _ => (Some(directory).filter(|d| !d.is_empty()), None),
    };
    let build_from_url = file_name
        .strip_suffix(".conda")
        .or_else(|| file_name.strip_suffix(".tar.bz2"))
        .and_then(|stem| stem.rsplit_once('-'))
        .map(|(_, build)| build);
    let identity = CondaIdentity {
        name,
        version: Some(version),
        build: package.build.as_deref().or(build_from_url),
        channel,
        subdir: subdir.or(package.platform.as_deref()),
        ..CondaIdentity::default()
    };
    let mut component = identity.into_component(location, found_by);
    component.source = channel.map(|c| bulwark_inventory::PackageSource::Registry {
        url: crate::channel_without_credentials(c),
    });
    component
}

/// A pip entry: a PyPI package. Its URL is where the wheel was found; only a direct
/// reference (`source`, or a VCS URL) is a source worth reporting.
fn pip_component(
    name: &str,
    version: &str,
    package: &LockedPackage,
    location: Location,
    found_by: &str,
) -> Component {
    let mut component =
        Component::package(Ecosystem::PyPI, name, Some(version), location, found_by);
    let direct = package
        .source
        .as_ref()
        .and_then(|s| s.url.as_deref())
        .or(package.url.as_deref().filter(|u| {
            ["git+", "hg+", "svn+", "bzr+"]
                .iter()
                .any(|p| u.starts_with(p))
        }));
    component.source = direct.map(crate::pip_url_source);
    component
}

#[cfg(test)]
mod tests {
    use bulwark_inventory::Metadata;

    use super::*;
    use crate::test_support::{catalog_fixture, listing};

    const FOLDER: &str = "conda-lock";

    #[test]
    fn fixture_listings() {
        for fixture in ["conda-lock.yml", "minimal.conda-lock.yml"] {
            let output = catalog_fixture(&CondaLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(fixture, listing(&output));
        }
    }

    #[test]
    fn platforms_managers_and_categories() {
        let output = catalog_fixture(&CondaLockCataloger, FOLDER, "conda-lock.yml").unwrap();
        let find = |purl: &str| {
            output
                .components
                .iter()
                .find(|c| c.purl.as_ref().is_some_and(|p| p.as_str() == purl))
                .unwrap_or_else(|| panic!("{purl}"))
        };
        let numpy_linux = find(
            "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64",
        );
        assert_eq!(numpy_linux.hashes.len(), 2);
        let Metadata::Conda(conda) = &numpy_linux.metadata else {
            panic!()
        };
        assert_eq!(
            conda.channel.as_deref(),
            Some("https://conda.registry.invalid/conda-forge")
        );
        find("pkg:conda/numpy@1.26.4?build=py311h7125741_0&channel=conda-forge&subdir=osx-arm64");
        let pytest =
            find("pkg:conda/pytest@7.4.4?build=pyhd8ed1ab_0&channel=conda-forge&subdir=noarch");
        assert_eq!(pytest.scope, Scope::Development);
        let requests = find("pkg:pypi/requests@2.31.0");
        assert_eq!(requests.ecosystem, Some(Ecosystem::PyPI));
        assert_eq!(requests.scope, Scope::Required);
        // Every edge stays on its platform.
        for edge in &output.relationships {
            let platform = |id: &ComponentId| {
                ["linux-64", "osx-arm64"]
                    .into_iter()
                    .find(|p| id.as_str().contains(p))
            };
            if let (Some(from), Some(to)) = (platform(&edge.from), platform(&edge.to)) {
                assert_eq!(from, to, "{edge:?}");
            }
        }
    }

    #[test]
    fn broken_files() {
        let error =
            catalog_fixture(&CondaLockCataloger, FOLDER, "broken.conda-lock.yml").unwrap_err();
        assert!(
            error.render().starts_with("not a valid conda-lock file"),
            "{}",
            error.render()
        );
        assert!(error.line.is_some());
    }

    #[test]
    fn wants() {
        let wants =
            |path: &str, explicit: bool| CondaLockCataloger.wants(&FileRef { path, explicit });
        assert!(wants("conda-lock.yml", false));
        assert!(wants("a/conda-lock.yaml", false));
        assert!(wants("a/gpu.conda-lock.yml", false));
        assert!(!wants("environment.yml", false));
        assert!(!wants("conda-linux-64.lock", false));
        assert!(wants("conda-lock-gpu.yml", true));
        assert!(!wants("conda-lock-gpu.yml", false));
    }
}
