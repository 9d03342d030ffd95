//! `pylock.toml` and `pylock.<name>.toml`: the standard lockfile of
//! [PEP 751](https://peps.python.org/pep-0751/), written by pip, uv and PDM.
//!
//! `version` is optional in the standard: a source tree (`directory`) or VCS checkout may
//! have none until it is built. Such a package is reported without a version, never
//! skipped; the lock's own project (`directory = { path = "." }`) becomes the
//! [`ComponentKind::Application`]. A package's artifacts (`vcs`, `directory`, `archive`,
//! `sdist`, `wheels`) give its source and hashes.
//!
//! Scope comes from the package `marker`, where PEP 751 locks with extras and groups say
//! which selection installs a package (`"dev" in dependency_groups`, `"cli" in extras`).

use std::collections::BTreeMap;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{ComponentKind, PackageSource, Scope};
use serde::Deserialize;

use crate::lockfile::{
    PackageBlocks, PackageIndex, add_hash_table, depends_on, lock_component, output, parse_toml,
    read_text,
};

const ID: &str = "python/pylock";

/// Reads PEP 751 lockfiles.
pub(crate) struct PylockCataloger;

impl Cataloger for PylockCataloger {
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
        let name = file.file_name();
        name == "pylock.toml"
            || name
                .strip_prefix("pylock.")
                .and_then(|rest| rest.strip_suffix(".toml"))
                .is_some_and(|middle| !middle.is_empty() && !middle.contains('.'))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: Pylock = parse_toml(&text)?;
        Ok(catalog_lock(&lock, &text, file.path))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Pylock {
    #[serde(default)]
    packages: Vec<Package>,
    #[serde(default)]
    default_groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    index: Option<String>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    vcs: Option<Vcs>,
    directory: Option<Directory>,
    archive: Option<Archive>,
    sdist: Option<Archive>,
    #[serde(default)]
    wheels: Vec<Archive>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Vcs {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    path: Option<String>,
    requested_revision: Option<String>,
    commit_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Directory {
    path: String,
    #[serde(default)]
    editable: bool,
}

/// An `archive`, `sdist` or wheel.
#[derive(Debug, Deserialize)]
struct Archive {
    url: Option<String>,
    path: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

impl Package {
    fn source(&self) -> Option<PackageSource> {
        if let Some(vcs) = &self.vcs {
            return Some(PackageSource::Vcs {
                vcs: vcs.kind.clone(),
                url: vcs
                    .url
                    .clone()
                    .or_else(|| vcs.path.clone())
                    .unwrap_or_default(),
                requested_revision: vcs.requested_revision.clone(),
                commit: vcs.commit_id.clone(),
            });
        }
        if let Some(directory) = &self.directory {
            return Some(PackageSource::Path {
                path: directory.path.clone(),
                editable: directory.editable,
            });
        }
        if let Some(archive) = &self.archive {
            if let Some(url) = &archive.url {
                return Some(PackageSource::Url { url: url.clone() });
            }
            if let Some(path) = &archive.path {
                return Some(PackageSource::Path {
                    path: path.clone(),
                    editable: false,
                });
            }
        }
        self.index
            .as_ref()
            .map(|url| PackageSource::Registry { url: url.clone() })
    }

    fn is_project(&self) -> bool {
        self.directory
            .as_ref()
            .is_some_and(|d| matches!(d.path.as_str(), "." | "./" | ""))
    }

    /// Which selection installs the package, read from its marker: any default group (or no
    /// selection at all) makes it required; otherwise an extra makes it optional and a
    /// non-default dependency group development-only.
    fn scope(&self, default_groups: &[String]) -> Scope {
        let Some(marker) = &self.marker else {
            return Scope::Required;
        };
        let groups = selected(marker, "dependency_groups");
        let extras = selected(marker, "extras");
        if groups.is_empty() && extras.is_empty()
            || groups.iter().any(|g| default_groups.iter().any(|d| d == g))
        {
            Scope::Required
        } else if !extras.is_empty() {
            Scope::Optional
        } else {
            Scope::Development
        }
    }
}

/// The names of `"name" in <variable>` clauses of a marker.
fn selected<'a>(marker: &'a str, variable: &str) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut rest = marker;
    while let Some(at) = rest.find(" in ") {
        let before = rest[..at].trim_end();
        let after = rest[at + 4..].trim_start();
        if after.starts_with(variable)
            && let Some(quote) = before.chars().last().filter(|c| matches!(c, '"' | '\''))
            && let Some(open) = before[..before.len() - 1].rfind(quote)
        {
            names.push(&before[open + 1..before.len() - 1]);
        }
        rest = &rest[at + 4..];
    }
    names
}

fn catalog_lock(lock: &Pylock, text: &str, path: &str) -> CatalogOutput {
    let blocks = PackageBlocks::new(text, "[[packages]]");
    let count = lock.packages.len();
    let components: Vec<_> = lock
        .packages
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let line = blocks.name_line(index, count, &package.name);
            let mut component =
                lock_component(&package.name, package.version.as_deref(), path, line, ID);
            if package.is_project() {
                component.kind = ComponentKind::Application;
            }
            component.scope = package.scope(&lock.default_groups);
            component.source = package.source();
            for archive in package
                .archive
                .iter()
                .chain(&package.sdist)
                .chain(&package.wheels)
            {
                add_hash_table(&mut component.hashes, &archive.hashes);
            }
            component
        })
        .collect();

    let index = PackageIndex::new(&components);
    let mut relationships = Vec::new();
    for (from, package) in lock.packages.iter().enumerate() {
        for dependency in &package.dependencies {
            let Some(name) = &dependency.name else {
                continue;
            };
            for to in index.resolve(name, dependency.version.as_deref(), None) {
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

    const FOLDER: &str = "pylock";

    #[test]
    fn claims_pylock_names() {
        let wants = |path: &str| {
            PylockCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("pylock.toml"));
        assert!(wants("app/pylock.dev.toml"));
        assert!(!wants("pylock.a.b.toml"));
        assert!(!wants("pylock..toml"));
        assert!(!wants("example.toml"));
    }

    /// Every case of the osv-scalibr expectations. scalibr skips packages without a
    /// version; bulwark reports them (the project's own `directory = { path = "." }` as an
    /// application), so they are added to the expected sets here.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let additions: &[(&str, &str)] = &[
            ("commits.toml", "net-inf-eval"),
            ("pip-just-self.toml", "hspaans-github-io"),
        ];
        assert_expected_json(
            &PylockCataloger,
            FOLDER,
            |_| true,
            additions,
            assert_commits,
        );
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "commits.toml",
            "example.toml",
            "pip-full.toml",
            "pip-just-self.toml",
            "pdm-full.toml",
            "names-outside-package-block.toml",
            "pylock.sources.toml",
        ] {
            let output = catalog_fixture(&PylockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("pylock-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn markers_decide_scope() {
        let output = catalog_fixture(&PylockCataloger, FOLDER, "pdm-full.toml").unwrap();
        let scope = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .scope
        };
        assert_eq!(scope("chardet"), Scope::Required);
        assert_eq!(scope("idna"), Scope::Required);
        assert_eq!(scope("pytest"), Scope::Optional);
        assert_eq!(scope("setuptools"), Scope::Optional);
        assert_eq!(
            selected(
                r#""a" in extras or 'b' in dependency_groups and "c" in extras"#,
                "extras"
            ),
            ["a", "c"]
        );
    }

    #[test]
    fn broken_and_empty_files() {
        assert!(catalog_fixture(&PylockCataloger, FOLDER, "not-toml.txt").is_err());
        let output = catalog_fixture(&PylockCataloger, FOLDER, "empty.toml").unwrap();
        assert!(output.components.is_empty());
    }
}
