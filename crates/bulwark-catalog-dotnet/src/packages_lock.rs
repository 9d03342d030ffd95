//! `packages.lock.json`: NuGet's lockfile (`RestorePackagesWithLockFile`), versions 1 and 2.
//!
//! `dependencies` maps each target framework (`net8.0`, and `net8.0/linux-x64` for a
//! runtime identifier) to the packages restored for it. Each entry has a `type`:
//!
//! - `Direct`, `Transitive` and `CentralTransitive` (central package management, version 2)
//!   are packages, at their `resolved` version, with `contentHash`, the base64 SHA-512 of the
//!   `.nupkg`.
//! - `Project` is another project of the same solution (a `ProjectReference`): the
//!   solution's own code, not a package, so it is not reported.
//!
//! A package restored for several frameworks is one component (its purl is the same). Its
//! `dependencies` name other packages with a version *range*; the edge goes to the version
//! that same framework resolved.
//!
//! The lockfile does not say which packages are build-only (`PrivateAssets="all"`), so every
//! package is [`Scope::Required`](bulwark_inventory::Scope).

use std::collections::BTreeMap;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, ComponentId, Relationship, RelationshipKind};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{DotnetError, JsonLines, nuget_component, parse_json, problem, sha512_base64};

const ID: &str = "dotnet/packages-lock";

/// Reads `packages.lock.json`.
pub(crate) struct PackagesLockCataloger;

#[derive(Debug, Deserialize)]
struct PackagesLock {
    /// Framework → package name → entry, in file order.
    #[serde(default)]
    dependencies: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    resolved: Option<String>,
    #[serde(rename = "contentHash")]
    content_hash: Option<String>,
    /// Name → version range.
    #[serde(default)]
    dependencies: Map<String, Value>,
}

impl Cataloger for PackagesLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name() == "packages.lock.json" && (file.explicit || !file.is_in_site_packages())
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(DotnetError::Read)?;
        if text.trim().is_empty() {
            return Ok(CatalogOutput::default());
        }
        let lock: PackagesLock = parse_json(&text)?;
        let lines = JsonLines::new(&text);
        let mut cursor = 0;
        let mut output = CatalogOutput::default();
        // (lowercase name, version) → index: NuGet ids are case-insensitive.
        let mut by_key: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut frameworks: Vec<Framework> = Vec::new();

        for (framework, packages) in &lock.dependencies {
            let line = lines.key_line(&mut cursor, framework);
            let Some(packages) = packages.as_object() else {
                output.problems.push(problem(
                    file.path,
                    line,
                    ID,
                    DotnetError::Shape("a target framework's packages are not an object"),
                ));
                continue;
            };
            let mut resolved_here = BTreeMap::new();
            let mut dependencies = Vec::new();
            for (name, entry) in packages {
                let line = lines.key_line(&mut cursor, name);
                let entry = match serde_json::from_value::<Entry>(entry.clone()) {
                    Ok(entry) => entry,
                    Err(error) => {
                        output.problems.push(problem(
                            file.path,
                            line,
                            ID,
                            DotnetError::Entry(error),
                        ));
                        continue;
                    }
                };
                if entry.kind.as_deref() == Some("Project") {
                    continue;
                }
                let Some(version) = entry.resolved.filter(|v| !v.is_empty()) else {
                    output.problems.push(problem(
                        file.path,
                        line,
                        ID,
                        DotnetError::Shape("a package entry has no `resolved` version"),
                    ));
                    continue;
                };
                let key = (name.to_ascii_lowercase(), version.clone());
                let index = *by_key.entry(key).or_insert_with(|| {
                    output
                        .components
                        .push(nuget_component(name, &version, file.path, line, ID));
                    output.components.len() - 1
                });
                if let Some(hash) = entry.content_hash.as_deref().and_then(sha512_base64) {
                    output.components[index].hashes.insert(hash);
                }
                resolved_here.insert(name.to_ascii_lowercase(), index);
                dependencies.push((index, entry.dependencies.keys().cloned().collect()));
            }
            frameworks.push(Framework {
                resolved: resolved_here,
                dependencies,
            });
        }

        let mut relationships = Vec::new();
        for framework in &frameworks {
            for (from, names) in &framework.dependencies {
                for name in names {
                    if let Some(to) = framework.resolved.get(&name.to_ascii_lowercase()) {
                        relationships.push(edge(&output.components, *from, *to));
                    }
                }
            }
        }
        relationships.sort();
        relationships.dedup();
        output.relationships = relationships;
        Ok(output)
    }
}

/// What one target framework resolved.
struct Framework {
    /// Lowercase package name → component index.
    resolved: BTreeMap<String, usize>,
    /// Component index → the names its entry depends on.
    dependencies: Vec<(usize, Vec<String>)>,
}

fn edge(components: &[Component], from: usize, to: usize) -> Relationship {
    Relationship {
        from: ComponentId::of(&components[from]),
        kind: RelationshipKind::DependsOn,
        to: ComponentId::of(&components[to]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_fixture, listing};

    #[test]
    fn claims_the_lockfile() {
        let want = |path| {
            PackagesLockCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(want("src/Api/packages.lock.json"));
        assert!(!want("src/Api/packages.lock.json.bak"));
        assert!(!want("src/Api/package-lock.json"));
    }

    #[test]
    fn lock_listing() {
        let output = catalog_fixture(&PackagesLockCataloger, "packages.lock.json").unwrap();
        insta::assert_snapshot!("packages-lock", listing(&output));
    }

    #[test]
    fn frameworks_merge_and_projects_are_not_packages() {
        let output = catalog_fixture(&PackagesLockCataloger, "packages.lock.json").unwrap();
        let json: Vec<_> = output
            .components
            .iter()
            .filter(|c| c.name == "Newtonsoft.Json")
            .collect();
        // Restored for two frameworks at one version: one component.
        assert_eq!(json.len(), 1);
        assert_eq!(json[0].hashes.len(), 1);
        assert!(output.components.iter().all(|c| c.name != "Shop.Core"));
        // Two versions of one package, one per framework: two components, and each
        // framework's dependent points at its own.
        let versions: Vec<_> = output
            .components
            .iter()
            .filter(|c| c.name == "System.Text.Json")
            .filter_map(|c| c.version.as_deref())
            .collect();
        assert_eq!(versions.len(), 2);
    }

    #[test]
    fn broken_files() {
        let error =
            catalog_fixture(&PackagesLockCataloger, "truncated.packages.lock.json").unwrap_err();
        assert!(error.line.is_some());
        let output =
            catalog_fixture(&PackagesLockCataloger, "bad-entries.packages.lock.json").unwrap();
        insta::assert_snapshot!("bad-entries", listing(&output));
    }
}
