//! `<App>.deps.json`: the dependency manifest `dotnet publish` writes next to an
//! application, which the .NET host reads at start-up. In a container image it is the record
//! of what a published app carries.
//!
//! `libraries` maps `Name/Version` to `{ "type", "sha512", … }`:
//!
//! - `package`: a NuGet package, `sha512` being `sha512-<base64>` of the `.nupkg`.
//! - `runtimepack`: the .NET runtime a self-contained app bundles, keyed
//!   `runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1`. Without its `runtimepack.`
//!   prefix that is the NuGet package the runtime ships as, the name .NET runtime advisories
//!   are filed under, so it is reported by that name.
//! - `project` (and the older `msbuildproject`): the application and the solution's own
//!   projects, reported as [`Application`](ComponentKind::Application)s, the roots of the
//!   graph.
//! - `reference` (a framework assembly reference) is not a package and is skipped.
//!
//! `targets` give each library's `dependencies` with exact versions, which become
//! `depends-on` edges.

use std::collections::BTreeMap;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{ComponentId, ComponentKind, Relationship, RelationshipKind};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{DotnetError, JsonLines, nuget_component, parse_json, problem, sha512_base64};

const ID: &str = "dotnet/deps-json";

/// Reads `*.deps.json`.
pub(crate) struct DepsJsonCataloger;

#[derive(Debug, Deserialize)]
struct DepsJson {
    /// Target name → `Name/Version` → `{ "dependencies": { Name: Version } }`.
    #[serde(default)]
    targets: Map<String, Value>,
    #[serde(default)]
    libraries: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Library {
    #[serde(rename = "type")]
    kind: String,
    sha512: Option<String>,
}

impl Cataloger for DepsJsonCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name()
            .strip_suffix(".deps.json")
            .is_some_and(|stem| !stem.is_empty())
            && (file.explicit || !file.is_in_site_packages())
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
        let deps: DepsJson = parse_json(&text)?;
        let lines = JsonLines::new(&text);
        // `"libraries"` is a top-level key after `targets`, whose keys are the same
        // `Name/Version` strings; start the line search there.
        let mut cursor = text.rfind("\"libraries\"").unwrap_or(0);
        let mut output = CatalogOutput::default();
        // `Name/Version` key, lowercased → index.
        let mut by_key: BTreeMap<String, usize> = BTreeMap::new();

        for (key, library) in &deps.libraries {
            let line = lines.key_line(&mut cursor, key);
            let library = match serde_json::from_value::<Library>(library.clone()) {
                Ok(library) => library,
                Err(error) => {
                    output
                        .problems
                        .push(problem(file.path, line, ID, DotnetError::Entry(error)));
                    continue;
                }
            };
            let Some((name, version)) = key
                .rsplit_once('/')
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            else {
                output.problems.push(problem(
                    file.path,
                    line,
                    ID,
                    DotnetError::Shape("a library key is not `Name/Version`"),
                ));
                continue;
            };
            let (name, kind) = match library.kind.as_str() {
                "package" => (name, ComponentKind::Library),
                "runtimepack" => (
                    name.strip_prefix("runtimepack.").unwrap_or(name),
                    ComponentKind::Library,
                ),
                "project" | "msbuildproject" => (name, ComponentKind::Application),
                _ => continue,
            };
            let mut component = nuget_component(name, version, file.path, line, ID);
            component.kind = kind;
            if let Some(hash) = library
                .sha512
                .as_deref()
                .and_then(|s| s.strip_prefix("sha512-"))
                .and_then(sha512_base64)
            {
                component.hashes.insert(hash);
            }
            by_key.insert(key.to_ascii_lowercase(), output.components.len());
            output.components.push(component);
        }

        let mut relationships = Vec::new();
        for target in deps.targets.values().filter_map(Value::as_object) {
            for (key, entry) in target {
                let Some(from) = by_key.get(&key.to_ascii_lowercase()) else {
                    continue;
                };
                let Some(dependencies) = entry.get("dependencies").and_then(Value::as_object)
                else {
                    continue;
                };
                for (name, version) in dependencies {
                    let Some(version) = version.as_str() else {
                        continue;
                    };
                    // A runtime pack is named with its `runtimepack.` prefix here too.
                    let key = format!("{name}/{version}").to_ascii_lowercase();
                    if let Some(to) = by_key.get(&key) {
                        relationships.push(Relationship {
                            from: ComponentId::of(&output.components[*from]),
                            kind: RelationshipKind::DependsOn,
                            to: ComponentId::of(&output.components[*to]),
                        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_fixture, listing};

    #[test]
    fn claims_deps_json() {
        let want = |path| {
            DepsJsonCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(want("app/Shop.Api.deps.json"));
        assert!(!want("app/.deps.json"));
        assert!(!want("app/Shop.Api.runtimeconfig.json"));
    }

    #[test]
    fn published_app_listing() {
        let output = catalog_fixture(&DepsJsonCataloger, "Shop.Api.deps.json").unwrap();
        insta::assert_snapshot!("deps-json", listing(&output));
        let runtime = output
            .components
            .iter()
            .find(|c| c.name == "Microsoft.NETCore.App.Runtime.linux-x64")
            .unwrap();
        assert_eq!(runtime.version.as_deref(), Some("8.0.1"));
        assert!(output.components.iter().all(|c| c.name != "System.Web"));
    }
}
