//! npm's `package-lock.json`, `npm-shrinkwrap.json` (the same format, published with a
//! package) and the hidden lockfile npm 7+ keeps in `node_modules/.package-lock.json`.
//!
//! - Version 1 (npm 5–6) nests `dependencies`: an entry's own `dependencies` are the copies
//!   installed below it (`node_modules/a/node_modules/b`), and its `requires` name what it
//!   needs, found by Node's lookup: its own nested copies first, then each ancestor's.
//! - Versions 2 and 3 (npm 7+) key `packages` by install path (`node_modules/a`,
//!   `node_modules/a/node_modules/@s/b`); `""` is the project itself. Version 2 also carries
//!   the v1 tree for old npm releases; the `packages` map wins.
//!
//! The project is not a component, and neither are its workspace members (`packages/*`
//! entries matching the root's `workspaces`, reached through `link: true` entries): they
//! are the code being scanned. A `file:` dependency outside the tree is a component.
//!
//! Scope: `dev` is [`Scope::Development`]; `optional` and `devOptional` (an optional
//! dependency of production code that a dev dependency also needs: installed by
//! `npm install --omit=dev` when optional dependencies are) are [`Scope::Optional`]; `dev`
//! together with `optional` is an optional dependency of a dev tool, so development. `peer`
//! does not change scope: npm 7+ installs peer dependencies like any other.

use std::collections::{BTreeMap, HashMap};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, PackageSource, Problem, Scope};
use serde::Deserialize;

use crate::common::{
    Entries, KeyLines, add_integrity, is_project_lockfile, npm_alias, npm_component, output,
    parse_json_object, read_text, source_of,
};

const ID: &str = "javascript/package-lock";

/// Reads `package-lock.json`, `npm-shrinkwrap.json` and `node_modules/.package-lock.json`.
pub(crate) struct PackageLockCataloger;

impl Cataloger for PackageLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        crate::common::descend(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        match file.file_name() {
            "package-lock.json" | "npm-shrinkwrap.json" => {
                file.explicit || is_project_lockfile(file.dir())
            }
            // Only the project's own `node_modules/.package-lock.json`: one inside an installed
            // package (protobufjs ships `cli/node_modules/`) is not part of the npm tree.
            ".package-lock.json" => {
                file.explicit
                    || file
                        .dir()
                        .rsplit_once('/')
                        .map_or(file.dir() == "node_modules", |(project, last)| {
                            last == "node_modules" && is_project_lockfile(project)
                        })
            }
            _ => false,
        }
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        // npm reads `npm-shrinkwrap.json` in preference to `package-lock.json` and ignores
        // the latter when both exist; so does this cataloger.
        if file.file_name() == "package-lock.json" {
            let shrinkwrap = match file.dir() {
                "" => "npm-shrinkwrap.json".to_owned(),
                dir => format!("{dir}/npm-shrinkwrap.json"),
            };
            if resolver.is_file(&shrinkwrap) {
                return Ok(CatalogOutput::default());
            }
        }
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: PackageLock = parse_json_object(&text)?;
        Ok(match lock.packages {
            Some(packages) => catalog_packages(&packages, &text, file.path),
            None => catalog_v1(&lock.dependencies.unwrap_or_default(), &text, file.path),
        })
    }
}

#[derive(Debug, Deserialize)]
struct PackageLock {
    /// v2 and v3.
    packages: Option<Entries<String, PackageEntry>>,
    /// v1 (and the v1 copy inside v2).
    dependencies: Option<Entries<String, V1Entry>>,
}

/// An entry of the v2/v3 `packages` map.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageEntry {
    /// Present when the install path's name is an alias, or for non-`node_modules` entries.
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dev_optional: bool,
    license: Option<serde_json::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    peer_dependencies: BTreeMap<String, serde_json::Value>,
    /// Only on the root entry: workspace globs (or `{packages: [...]}` in old yarn style).
    workspaces: Option<serde_json::Value>,
}

/// An entry of the v1 `dependencies` tree.
#[derive(Debug, Default, Deserialize)]
struct V1Entry {
    /// A version, `npm:real@1.0.0` (alias), a git URL or `file:` path.
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    /// Name → range; in some very old files `true`.
    requires: Option<serde_json::Value>,
    dependencies: Option<Entries<String, V1Entry>>,
}

/// The scope npm's flags give.
fn scope_of(dev: bool, optional: bool, dev_optional: bool) -> Scope {
    if dev {
        Scope::Development
    } else if optional || dev_optional {
        Scope::Optional
    } else {
        Scope::Required
    }
}

/// Name and version of an entry whose `version` may be an alias (`npm:real@1.0.0`), a git
/// URL or a `file:` path; only the first is a version.
fn name_and_version<'a>(name: &'a str, version: Option<&'a str>) -> (&'a str, Option<&'a str>) {
    match version {
        Some(v) => match npm_alias(v) {
            Some((real, version)) => (real, Some(version).filter(|v| !v.is_empty())),
            None if looks_like_version(v) => (name, Some(v)),
            None => (name, None),
        },
        None => (name, None),
    }
}

/// npm writes registry versions as semver; anything with a scheme or a path is a source.
fn looks_like_version(version: &str) -> bool {
    !version.is_empty()
        && !version.contains(':')
        && !version.contains('/')
        && !version.contains('#')
}

/// The package name an install path stands for (`node_modules/@s/b` → `@s/b`); for paths
/// outside `node_modules` (a `file:` dependency's directory), the last segment.
fn name_from_path(path: &str) -> &str {
    match path.rfind("node_modules/") {
        Some(at) => &path[at + "node_modules/".len()..],
        None => path.rsplit('/').next().unwrap_or(path),
    }
}

fn catalog_packages(
    packages: &Entries<String, PackageEntry>,
    text: &str,
    path: &str,
) -> CatalogOutput {
    let by_path: HashMap<&str, &PackageEntry> =
        packages.0.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let workspaces = by_path
        .get("")
        .map(|root| workspace_patterns(root.workspaces.as_ref()))
        .unwrap_or_default();

    let mut components: Vec<Component> = Vec::new();
    let mut index_of_path: HashMap<&str, usize> = HashMap::new();
    let mut key_lines = KeyLines::new(text);
    for (key, entry) in &packages.0 {
        let line = key_lines.next(key);
        if key.is_empty() || entry.link {
            continue;
        }
        let in_node_modules = key.starts_with("node_modules/") || key.contains("/node_modules/");
        if !in_node_modules && workspaces.iter().any(|p| glob_match(p, key)) {
            continue;
        }
        let path_name = name_from_path(key);
        let name = entry.name.as_deref().unwrap_or(path_name);
        let (name, version) = name_and_version(name, entry.version.as_deref());
        if name.is_empty() {
            continue;
        }
        let mut component = npm_component(name, version, path, line, ID);
        component.scope = scope_of(entry.dev, entry.optional, entry.dev_optional);
        component.source = entry
            .resolved
            .as_deref()
            .and_then(|r| source_of(r, name))
            .or_else(|| {
                (!in_node_modules).then(|| PackageSource::Path {
                    path: key.clone(),
                    editable: false,
                })
            });
        if let Some(integrity) = &entry.integrity {
            add_integrity(&mut component.hashes, integrity);
        }
        component.licenses = licenses(entry.license.as_ref());
        index_of_path.insert(key.as_str(), components.len());
        components.push(component);
    }

    let mut edges = Vec::new();
    for (key, entry) in &packages.0 {
        let Some(from) = index_of_path.get(key.as_str()) else {
            continue;
        };
        let names = entry
            .dependencies
            .keys()
            .chain(entry.optional_dependencies.keys())
            .chain(entry.peer_dependencies.keys());
        for dependency in names {
            if let Some(to) = resolve_install_path(key, dependency, &by_path)
                .and_then(|target| index_of_path.get(target.as_str()))
            {
                edges.push((*from, *to));
            }
        }
    }
    output(components, &edges, Vec::new())
}

/// Node's module lookup from the package installed at `from`: `from/node_modules/<name>`,
/// then the same below each ancestor package, then the top-level `node_modules/<name>`. A
/// `link` entry is followed to the directory it points at.
fn resolve_install_path(
    from: &str,
    name: &str,
    by_path: &HashMap<&str, &PackageEntry>,
) -> Option<String> {
    let mut base = from;
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(entry) = by_path.get(candidate.as_str()) {
            if entry.link {
                return entry.resolved.clone();
            }
            return Some(candidate);
        }
        if base.is_empty() {
            return None;
        }
        // Up one package: strip `/node_modules/<name>` (or the whole `node_modules/<name>`).
        base = match base.rfind("/node_modules/") {
            Some(at) => &base[..at],
            None => "",
        };
    }
}

/// The root entry's `workspaces`: a list of globs, or yarn's `{ "packages": [...] }`.
fn workspace_patterns(value: Option<&serde_json::Value>) -> Vec<String> {
    let list = match value {
        Some(serde_json::Value::Array(list)) => list,
        Some(serde_json::Value::Object(object)) => match object.get("packages") {
            Some(serde_json::Value::Array(list)) => list,
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    list.iter()
        .filter_map(serde_json::Value::as_str)
        .map(|p| p.trim_start_matches("./").trim_end_matches('/').to_owned())
        .collect()
}

/// Matches a path against a workspace glob: `*` within one segment, `**` across any number.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.first(), path.first()) {
            (None, None) => true,
            (Some(&"**"), _) => {
                segments_match(&pattern[1..], path)
                    || (!path.is_empty() && segments_match(pattern, &path[1..]))
            }
            (Some(p), Some(s)) => segment_match(p, s) && segments_match(&pattern[1..], &path[1..]),
            _ => false,
        }
    }
    fn segment_match(pattern: &str, segment: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == segment,
            Some((prefix, rest)) => {
                let Some(tail) = segment.strip_prefix(prefix) else {
                    return false;
                };
                (0..=tail.len())
                    .filter(|i| tail.is_char_boundary(*i))
                    .any(|i| segment_match(rest, &tail[i..]))
            }
        }
    }
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Bounded: workspace globs have a handful of segments.
    pattern.len() <= 16 && segments_match(&pattern, &path)
}

/// `license` as npm copies it from `package.json`: a string, or a legacy `{ "type": … }`.
pub(crate) fn licenses(value: Option<&serde_json::Value>) -> Vec<bulwark_inventory::License> {
    let declared = match value {
        Some(serde_json::Value::String(s)) => Some(s.as_str()),
        Some(serde_json::Value::Object(o)) => o.get("type").and_then(serde_json::Value::as_str),
        _ => None,
    };
    declared
        .and_then(bulwark_inventory::License::from_declared)
        .into_iter()
        .collect()
}

/// A v1 entry flattened: its component index and the names visible from it.
struct V1Node<'a> {
    parent: Option<usize>,
    /// Nested copies: name → node.
    children: HashMap<&'a str, usize>,
    requires: Vec<&'a str>,
}

fn catalog_v1(top: &Entries<String, V1Entry>, text: &str, path: &str) -> CatalogOutput {
    let mut components = Vec::new();
    let mut nodes: Vec<V1Node<'_>> = Vec::new();
    let mut top_level: HashMap<&str, usize> = HashMap::new();
    let mut key_lines = KeyLines::new(text);
    let mut problems: Vec<Problem> = Vec::new();
    // Depth-first in document order, so each entry's key is found after its parent's.
    // serde_json's recursion limit already bounds the depth of the parsed tree.
    let mut stack: Vec<(Option<usize>, &Entries<String, V1Entry>, usize)> = vec![(None, top, 0)];
    while let Some((parent, level, position)) = stack.pop() {
        let Some((name, entry)) = level.0.get(position) else {
            continue;
        };
        stack.push((parent, level, position + 1));
        let line = key_lines.next(name);
        let (real_name, version) = name_and_version(name, entry.version.as_deref());
        let mut component = npm_component(real_name, version, path, line, ID);
        component.scope = scope_of(entry.dev, entry.optional, false);
        let source_text = match version {
            // A git URL or `file:` path in `version` says more than `resolved`.
            None => entry.version.as_deref().or(entry.resolved.as_deref()),
            Some(_) => entry.resolved.as_deref(),
        };
        component.source = source_text.and_then(|s| source_of(s, real_name));
        if let Some(integrity) = &entry.integrity {
            add_integrity(&mut component.hashes, integrity);
        }
        if entry.version.is_none() {
            problems.push(crate::common::problem(
                path,
                line,
                ID,
                format!("`{name}` has no version"),
            ));
        }
        let index = components.len();
        components.push(component);
        let requires = match &entry.requires {
            Some(serde_json::Value::Object(map)) => map.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        nodes.push(V1Node {
            parent,
            children: HashMap::new(),
            requires,
        });
        match parent {
            Some(p) => {
                nodes[p].children.insert(name.as_str(), index);
            }
            None => {
                top_level.insert(name.as_str(), index);
            }
        }
        if let Some(nested) = &entry.dependencies {
            stack.push((Some(index), nested, 0));
        }
    }

    let mut edges = Vec::new();
    for (from, node) in nodes.iter().enumerate() {
        for name in &node.requires {
            let mut at = Some(from);
            let target = loop {
                match at {
                    Some(n) => {
                        if let Some(found) = nodes[n].children.get(name) {
                            break Some(*found);
                        }
                        at = nodes[n].parent;
                    }
                    None => break top_level.get(name).copied(),
                }
            };
            if let Some(to) = target {
                edges.push((from, to));
            }
        }
    }
    output(components, &edges, problems)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::test_support::{ExpectedCase, assert_commits, catalog_fixture, check_expected};

    const FOLDER: &str = "npm-package-lock";

    /// `(name, version)` pairs of the components.
    fn name_versions(components: &[Component]) -> BTreeSet<(String, String)> {
        components
            .iter()
            .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn claims_lockfiles_of_the_project_only() {
        let wants = |path| {
            PackageLockCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("package-lock.json"));
        assert!(wants("app/npm-shrinkwrap.json"));
        assert!(wants("app/node_modules/.package-lock.json"));
        assert!(wants("node_modules/.package-lock.json"));
        assert!(!wants(
            "node_modules/onnx-proto/node_modules/protobufjs/cli/node_modules/.package-lock.json"
        ));
        assert!(!wants("app/node_modules/x/package-lock.json"));
        assert!(!wants("app/.package-lock.json"));
        assert!(!wants("app/package.json"));
    }

    /// Every case of the osv-scalibr expectations; no deviation in names or versions.
    /// `null.v2.jsontest` is an error, as in scalibr, with bulwark's own message. Scopes
    /// are checked against scalibr's `dep_groups` by [`assert_dep_groups`].
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let cases = check_expected(
            &PackageLockCataloger,
            FOLDER,
            |_, _| true,
            &[],
            |case, output| {
                assert_commits(case, output);
                assert_dep_groups(case, output);
            },
        );
        assert_eq!(cases, 34);
    }

    /// scalibr's `dep_groups` as bulwark scopes: `dev` (with or without `optional`) is
    /// development, `optional` alone optional, none required. v2's `devOptional`, which
    /// scalibr reports as `dev` + `optional`, is optional here (see the module docs), so
    /// that one combination is checked against the v1 meaning only for v1 files.
    fn assert_dep_groups(case: &ExpectedCase, output: &CatalogOutput) {
        for package in &case.packages {
            let Some(groups) = &package.dep_groups else {
                continue;
            };
            let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
            let want = match groups.as_slice() {
                [] | ["bundled"] => Scope::Required,
                ["dev"] | ["bundled", "dev"] => Scope::Development,
                ["optional"] => Scope::Optional,
                ["dev", "optional"] if case.test.contains("V1") => Scope::Development,
                ["dev", "optional"] => Scope::Optional,
                other => panic!("{}: unexpected groups {other:?}", case.test),
            };
            let found = output.components.iter().any(|c| {
                c.name == package.name
                    && c.version.clone().unwrap_or_default() == package.version
                    && c.scope == want
            });
            assert!(found, "{}: {} should be {want:?}", case.test, package.name);
        }
    }

    #[test]
    fn v2_nested_and_scoped_entries_get_edges_lines_and_hashes() {
        let output =
            catalog_fixture(&PackageLockCataloger, FOLDER, "nested-dependencies.v2.json").unwrap();
        let listing = crate::test_support::listing(&output);
        insta::assert_snapshot!(listing);
    }

    #[test]
    fn v1_requires_resolve_to_the_nearest_copy() {
        let output =
            catalog_fixture(&PackageLockCataloger, FOLDER, "nested-dependencies.v1.json").unwrap();
        insta::assert_snapshot!(crate::test_support::listing(&output));
    }

    #[test]
    fn aliases_report_the_real_package() {
        for fixture in ["alias.v1.json", "alias.v2.json"] {
            let output = catalog_fixture(&PackageLockCataloger, FOLDER, fixture).unwrap();
            let purls: BTreeSet<&str> = output
                .components
                .iter()
                .filter_map(|c| c.purl.as_ref().map(|p| p.as_str()))
                .collect();
            assert!(
                purls.contains("pkg:npm/%40babel/code-frame@7.0.0"),
                "{fixture}"
            );
            assert!(purls.contains("pkg:npm/string-width@4.2.0"), "{fixture}");
        }
    }

    #[test]
    fn workspaces_and_links_are_the_project() {
        let text = r#"{
  "lockfileVersion": 3,
  "packages": {
    "": { "workspaces": ["packages/*"], "dependencies": { "a": "^1" } },
    "node_modules/a": { "version": "1.0.0", "dependencies": { "ws": "*" } },
    "node_modules/ws": { "resolved": "packages/ws", "link": true },
    "packages/ws": { "name": "ws", "version": "0.1.0", "dependencies": { "b": "^2" } },
    "packages/ws/node_modules/b": { "version": "2.0.0", "devOptional": true, "peer": true },
    "node_modules/b": { "version": "3.0.0", "dev": true, "optional": true },
    "node_modules/local": { "resolved": "vendor/local", "link": true },
    "vendor/local": { "name": "local", "version": "9.9.9" }
  }
}"#;
        let output =
            crate::test_support::catalog_text(&PackageLockCataloger, "package-lock.json", text);
        assert_eq!(
            name_versions(&output.components),
            [
                ("a", "1.0.0"),
                ("b", "2.0.0"),
                ("b", "3.0.0"),
                ("local", "9.9.9")
            ]
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
        );
        let scope = |version: &str| {
            output
                .components
                .iter()
                .find(|c| c.version.as_deref() == Some(version))
                .map(|c| c.scope)
        };
        assert_eq!(scope("2.0.0"), Some(Scope::Optional));
        assert_eq!(scope("3.0.0"), Some(Scope::Development));
        // The workspace member is not a component, so its edge to `b` is not reported.
        assert!(output.relationships.is_empty());
        let line = output.components[1].locations.first().unwrap().line;
        assert_eq!(line, Some(8));
    }

    #[test]
    fn shrinkwrap_wins_over_package_lock() {
        let output =
            catalog_fixture(&PackageLockCataloger, FOLDER, "both/package-lock.json").unwrap();
        assert!(output.components.is_empty());
        let output =
            catalog_fixture(&PackageLockCataloger, FOLDER, "both/npm-shrinkwrap.json").unwrap();
        assert_eq!(output.components.len(), 2);
    }

    #[test]
    fn broken_files() {
        let error = catalog_fixture(&PackageLockCataloger, FOLDER, "not-json.txt").unwrap_err();
        assert!(error.line.is_some());
        let error = catalog_fixture(&PackageLockCataloger, FOLDER, "null.v2.jsontest").unwrap_err();
        assert!(error.render().contains("null"), "{}", error.render());
        // Hostile nesting hits serde_json's recursion limit, not the stack.
        let deep = format!(
            "{{\"dependencies\": {}{}}}",
            "{\"a\": {\"dependencies\": ".repeat(10_000),
            "}}".repeat(10_000)
        );
        let result = PackageLockCataloger.catalog(
            &FileRef {
                path: "package-lock.json",
                explicit: true,
            },
            &crate::test_support::OneFile::new("package-lock.json", &deep),
        );
        assert!(result.is_err());
    }

    #[test]
    fn workspace_globs() {
        assert!(glob_match("packages/*", "packages/ws"));
        assert!(!glob_match("packages/*", "packages/ws/deep"));
        assert!(glob_match("packages/**", "packages/ws/deep"));
        assert!(glob_match("apps/app-*", "apps/app-web"));
        assert!(glob_match("tools/cli", "tools/cli"));
        assert!(!glob_match("tools/cli", "tools/cli2"));
    }
}
