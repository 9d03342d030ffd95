//! `pnpm-lock.yaml`, lockfile versions 5 to 9.
//!
//! Every entry of `packages` is one package at one version. Its key names it, in a format
//! that changed over time:
//!
//! | version | key | peer suffix |
//! |---|---|---|
//! | 5.x | `/name/1.0.0`, `/@scope/name/1.0.0`, `host/name/1.0.0` | `_react@18.2.0` |
//! | 6.x | `/name@1.0.0`, `/@scope/name@1.0.0` | `(react@18.2.0)` |
//! | 9.x | `name@1.0.0` (peers only in `snapshots`) | `(react@18.2.0)` |
//!
//! The peer suffix says which peers a copy was linked against; it is not part of the
//! version. Entries from git, tarballs and directories carry `name` and `version` fields,
//! which win over the key. An entry whose name or version cannot be told is a problem, and
//! the rest of the file is still read.
//!
//! Scope: up to v6 each entry says `dev: true` (dev-only), `dev: false` (production) or
//! nothing (both), and `optional: true`. v9 dropped those flags, so scopes flow from the
//! `importers`' `dependencies`, `optionalDependencies` and `devDependencies` along the
//! `snapshots` graph. Edges are the `dependencies` and `optionalDependencies` of each entry
//! (v9: each snapshot), resolved to the entry they name.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, PackageSource, Problem, Scope};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use crate::common::{
    Entries, Scalar, add_integrity, is_commit, is_project_lockfile, npm_component, output,
    parse_yaml, problem, reachable_scopes, read_text, source_of, split_spec, without_credentials,
    yaml_line,
};

const ID: &str = "javascript/pnpm-lock";

/// Reads `pnpm-lock.yaml`.
pub(crate) struct PnpmLockCataloger;

impl Cataloger for PnpmLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        crate::common::descend(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        let name = file.file_name();
        if file.explicit {
            return name.starts_with("pnpm-lock")
                && (name.ends_with(".yaml") || name.ends_with(".yml"));
        }
        name == "pnpm-lock.yaml" && is_project_lockfile(file.dir())
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: Option<PnpmLock> = parse_yaml(&text)?;
        Ok(lock.map_or_else(CatalogOutput::default, |lock| {
            catalog_lock(&lock, file.path)
        }))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PnpmLock {
    lockfile_version: Option<Scalar>,
    importers: Option<Entries<String, Option<Importer>>>,
    packages: Option<Entries<Spanned<String>, Option<PnpmPackage>>>,
    snapshots: Option<Entries<String, Option<Snapshot>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Importer {
    dependencies: Option<BTreeMap<String, DependencyRef>>,
    optional_dependencies: Option<BTreeMap<String, DependencyRef>>,
    dev_dependencies: Option<BTreeMap<String, DependencyRef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PnpmPackage {
    name: Option<String>,
    version: Option<Scalar>,
    resolution: Option<Resolution>,
    dev: Option<bool>,
    optional: Option<bool>,
    dependencies: Option<BTreeMap<String, DependencyRef>>,
    optional_dependencies: Option<BTreeMap<String, DependencyRef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    dependencies: Option<BTreeMap<String, DependencyRef>>,
    optional_dependencies: Option<BTreeMap<String, DependencyRef>>,
}

#[derive(Debug, Default, Deserialize)]
struct Resolution {
    integrity: Option<String>,
    tarball: Option<String>,
    commit: Option<String>,
    repo: Option<String>,
    directory: Option<String>,
}

/// A dependency's locked reference: `1.0.0`, `1.0.0(react@18.2.0)`, `/real/1.0.0` (an alias
/// in v5), a URL, or in importers of v6+ `{ specifier, version }`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DependencyRef(String);

impl<'de> Deserialize<'de> for DependencyRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;

        impl<'de> Visitor<'de> for RefVisitor {
            type Value = DependencyRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version or a map with `version`")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DependencyRef, E> {
                Ok(DependencyRef(v.to_owned()))
            }

            // `react: 18` is a version, not a number.
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DependencyRef, E> {
                Ok(DependencyRef(v.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DependencyRef, E> {
                Ok(DependencyRef(v.to_string()))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DependencyRef, E> {
                Ok(DependencyRef(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DependencyRef, A::Error> {
                let mut version = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "version" {
                        version = Some(map.next_value::<Scalar>()?.0);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(DependencyRef(version.unwrap_or_default()))
            }
        }

        deserializer.deserialize_any(RefVisitor)
    }
}

/// How package keys are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    /// `/name/1.0.0_peer@1.0.0` (v5).
    Slash,
    /// `/name@1.0.0(peer@1.0.0)` (v6), `name@1.0.0` (v9).
    At,
}

/// The major lockfile version: `5.4` → 5, `'9.0'` → 9.
fn major_version(lock: &PnpmLock) -> Option<u32> {
    let text = &lock.lockfile_version.as_ref()?.0;
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether a version from a key is one: registry versions are semver and start with a
/// digit; anything else is a path segment of a URL-shaped key.
fn is_version(version: &str) -> bool {
    version.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// The key without the peer suffix.
fn without_peers(key: &str, style: KeyStyle) -> &str {
    let key = key.split('(').next().unwrap_or(key);
    match style {
        KeyStyle::At => key,
        KeyStyle::Slash => {
            // The suffix starts at the first `_` of the version segment (semver has none).
            let version_start = key.rfind('/').map_or(0, |i| i + 1);
            match key[version_start..].find('_') {
                Some(i) => &key[..version_start + i],
                None => key,
            }
        }
    }
}

/// Name and version from a package key, where the key spells them; the version without
/// its peer suffix.
fn parse_key(key: &str, style: KeyStyle) -> (Option<&str>, Option<&str>) {
    let key = without_peers(key, style);
    match style {
        KeyStyle::Slash => {
            // `/name/1.0.0`, or `host/name/1.0.0` for a package from another registry.
            let rest = match key.strip_prefix('/') {
                Some(rest) => rest,
                None => key.split_once('/').map_or("", |(_, rest)| rest),
            };
            let segments: Vec<&str> = rest.split('/').collect();
            let (name, version) = match segments.as_slice() {
                [scope, _, version] if scope.starts_with('@') => {
                    (&rest[..rest.len() - version.len() - 1], *version)
                }
                [name, version] => (*name, *version),
                _ => return (None, None),
            };
            if is_version(version) && !name.is_empty() {
                (Some(name), Some(version))
            } else {
                (None, None)
            }
        }
        KeyStyle::At => {
            let rest = key.strip_prefix('/').unwrap_or(key);
            let (name, version) = split_spec(rest);
            let scoped = name.starts_with('@') && name.matches('/').count() == 1;
            let plain = !name.contains('/') && !name.contains(':');
            if name.is_empty() || version.is_empty() || !(scoped || plain) {
                return (None, None);
            }
            (Some(name), Some(version).filter(|v| is_version(v)))
        }
    }
}

/// Where the entry came from.
fn source_of_entry(
    key: &str,
    name: &str,
    resolution: Option<&Resolution>,
) -> Option<PackageSource> {
    if let Some(resolution) = resolution {
        if let (Some(repo), Some(commit)) = (&resolution.repo, &resolution.commit) {
            return Some(PackageSource::Vcs {
                vcs: "git".to_owned(),
                url: without_credentials(repo.strip_prefix("git+").unwrap_or(repo)),
                requested_revision: None,
                commit: is_commit(commit).then(|| commit.clone()),
            });
        }
        if let Some(tarball) = &resolution.tarball {
            return source_of(tarball, name);
        }
        if let Some(directory) = &resolution.directory {
            return Some(PackageSource::Path {
                path: directory.clone(),
                editable: false,
            });
        }
    }
    key.starts_with("file:")
        .then(|| source_of(key, name))
        .flatten()
}

fn catalog_lock(lock: &PnpmLock, path: &str) -> CatalogOutput {
    let major = major_version(lock);
    let style = match major {
        Some(version) if version >= 6 => KeyStyle::At,
        Some(_) => KeyStyle::Slash,
        None if lock.snapshots.is_some() => KeyStyle::At,
        None => KeyStyle::Slash,
    };
    let v9 = major.is_some_and(|v| v >= 9) || lock.snapshots.is_some();

    let mut components: Vec<Component> = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    // Every package key (with and without peer suffix) → its component.
    let mut index_of_key: HashMap<&str, usize> = HashMap::new();
    // (name, version) → component, so peer variants of one package are one component.
    let mut index_of_package: HashMap<(String, String), usize> = HashMap::new();
    let empty = Entries::default();
    let packages = lock.packages.as_ref().unwrap_or(&empty);
    for (key, package) in &packages.0 {
        let line = yaml_line(&key.referenced);
        let key = key.value.as_str();
        let package = package.as_ref();
        let (key_name, key_version) = parse_key(key, style);
        let name = package.and_then(|p| p.name.as_deref()).or(key_name);
        let version = package
            .and_then(|p| p.version.as_ref())
            .map(|v| v.0.as_str())
            .or(key_version);
        let (Some(name), Some(version)) = (name, version) else {
            problems.push(problem(
                path,
                line,
                ID,
                format!("invalid dependency path `{key}`: no package name and version in it"),
            ));
            continue;
        };
        let scope = match package {
            Some(PnpmPackage {
                dev: Some(true), ..
            }) => Scope::Development,
            Some(PnpmPackage {
                optional: Some(true),
                ..
            }) => Scope::Optional,
            _ => Scope::Required,
        };
        let identity = (name.to_owned(), version.to_owned());
        let index = match index_of_package.get(&identity) {
            Some(index) => {
                let existing = &mut components[*index];
                existing.scope = existing.scope.min(scope);
                *index
            }
            None => {
                let mut component = npm_component(name, Some(version), path, line, ID);
                component.scope = scope;
                let resolution = package.and_then(|p| p.resolution.as_ref());
                component.source = source_of_entry(key, name, resolution);
                if let Some(integrity) = resolution.and_then(|r| r.integrity.as_deref()) {
                    add_integrity(&mut component.hashes, integrity);
                }
                index_of_package.insert(identity, components.len());
                components.push(component);
                components.len() - 1
            }
        };
        index_of_key.insert(key, index);
        index_of_key
            .entry(without_peers(key, style))
            .or_insert(index);
    }

    let lookup = |name: &str, reference: &str| -> Option<usize> {
        let candidates = match style {
            KeyStyle::Slash => [
                format!("/{name}/{reference}"),
                reference.to_owned(),
                format!("/{reference}"),
            ],
            KeyStyle::At if v9 => [
                format!("{name}@{reference}"),
                reference.to_owned(),
                format!("{name}@{}", without_peers(reference, style)),
            ],
            KeyStyle::At => [
                format!("/{name}@{reference}"),
                reference.to_owned(),
                format!("/{reference}"),
            ],
        };
        candidates.iter().find_map(|candidate| {
            index_of_key
                .get(candidate.as_str())
                .or_else(|| index_of_key.get(without_peers(candidate, style)))
                .copied()
        })
    };

    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut add_edges =
        |from: usize, dependencies: [Option<&BTreeMap<String, DependencyRef>>; 2]| {
            for (name, reference) in dependencies.into_iter().flatten().flatten() {
                if let Some(to) = lookup(name, &reference.0) {
                    edges.push((from, to));
                }
            }
        };
    if v9 {
        for (key, snapshot) in lock.snapshots.iter().flat_map(|s| &s.0) {
            let Some(from) = index_of_key
                .get(key.as_str())
                .or_else(|| index_of_key.get(without_peers(key, style)))
                .copied()
            else {
                continue;
            };
            if let Some(snapshot) = snapshot {
                add_edges(
                    from,
                    [
                        snapshot.dependencies.as_ref(),
                        snapshot.optional_dependencies.as_ref(),
                    ],
                );
            }
        }
    } else {
        for (key, package) in &packages.0 {
            let (Some(from), Some(package)) = (index_of_key.get(key.value.as_str()), package)
            else {
                continue;
            };
            add_edges(
                *from,
                [
                    package.dependencies.as_ref(),
                    package.optional_dependencies.as_ref(),
                ],
            );
        }
    }

    if v9 && let Some(importers) = &lock.importers {
        let mut roots = Vec::new();
        for importer in importers.0.iter().filter_map(|(_, i)| i.as_ref()) {
            for (scope, dependencies) in [
                (Scope::Required, &importer.dependencies),
                (Scope::Optional, &importer.optional_dependencies),
                (Scope::Development, &importer.dev_dependencies),
            ] {
                for (name, reference) in dependencies.iter().flatten() {
                    if let Some(index) = lookup(name, &reference.0) {
                        roots.push((index, scope));
                    }
                }
            }
        }
        let scopes = reachable_scopes(components.len(), &roots, &edges);
        for (component, scope) in components.iter_mut().zip(scopes) {
            // A package no importer reaches (a stale entry) keeps the default.
            component.scope = scope.unwrap_or_default();
        }
    }
    output(components, &edges, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        assert_commits, catalog_fixture, catalog_text, check_expected, listing,
    };

    const FOLDER: &str = "pnpm";

    #[test]
    fn claims_pnpm_lock_of_the_project_only() {
        let wants = |path| {
            PnpmLockCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("pnpm-lock.yaml"));
        assert!(!wants("node_modules/.pnpm/lock.yaml"));
        assert!(!wants("node_modules/x/pnpm-lock.yaml"));
        assert!(!wants("pnpm-workspace.yaml"));
    }

    /// Every case of the osv-scalibr expectations. Deliberate deviation: for
    /// `invalid-path.yaml` and `invalid-paths.yaml` scalibr returns the valid package *and*
    /// an error; bulwark returns the package and reports each invalid key as a problem of
    /// the file (checked by the harness for cases that expect an error and packages).
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let cases = check_expected(&PnpmLockCataloger, FOLDER, |_, _| true, &[], assert_commits);
        assert_eq!(cases, 32);
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "peer-dependencies.yaml",
            "peer-dependencies-v6.yaml",
            "peer-dependencies.v9.yaml",
            "mixed-groups.v9.yaml",
            "exotic.yaml",
            "files.yaml",
            "tarball.yaml",
        ] {
            let output = catalog_fixture(&PnpmLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("pnpm-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn v9_scopes_flow_from_importers() {
        let text = "lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      a:
        specifier: ^1
        version: 1.0.0(react@18.2.0)
    devDependencies:
      d:
        specifier: ^1
        version: 1.0.0
packages:
  a@1.0.0:
    resolution: {integrity: sha1-tSQ9jz7BqjXxNkYFvA0QNuMKtp8=}
  shared@2.0.0: {}
  d@1.0.0: {}
  devonly@3.0.0: {}
  react@18.2.0: {}
snapshots:
  a@1.0.0(react@18.2.0):
    dependencies:
      shared: 2.0.0
      react: 18.2.0
  d@1.0.0:
    dependencies:
      shared: 2.0.0
      devonly: 3.0.0
  shared@2.0.0: {}
  devonly@3.0.0: {}
  react@18.2.0: {}
";
        let output = catalog_text(&PnpmLockCataloger, "pnpm-lock.yaml", text);
        insta::assert_snapshot!(listing(&output), @r"
        Library a@1.0.0 pkg:npm/a@1.0.0 required hashes=1 pnpm-lock.yaml:13
        Library d@1.0.0 pkg:npm/d@1.0.0 development pnpm-lock.yaml:16
        Library devonly@3.0.0 pkg:npm/devonly@3.0.0 development pnpm-lock.yaml:17
        Library react@18.2.0 pkg:npm/react@18.2.0 required pnpm-lock.yaml:18
        Library shared@2.0.0 pkg:npm/shared@2.0.0 required pnpm-lock.yaml:15
        --- edges
        pkg:npm/a@1.0.0 -> pkg:npm/react@18.2.0
        pkg:npm/a@1.0.0 -> pkg:npm/shared@2.0.0
        pkg:npm/d@1.0.0 -> pkg:npm/devonly@3.0.0
        pkg:npm/d@1.0.0 -> pkg:npm/shared@2.0.0
        ");
    }

    #[test]
    fn keys_of_every_version() {
        use KeyStyle::{At, Slash};
        for (key, style, want) in [
            ("/acorn/8.7.0", Slash, (Some("acorn"), Some("8.7.0"))),
            (
                "/@s/n/1.0.0_react@18.2.0",
                Slash,
                (Some("@s/n"), Some("1.0.0")),
            ),
            (
                "registry.invalid/@s/n/1.1.0",
                Slash,
                (Some("@s/n"), Some("1.1.0")),
            ),
            (
                "/foo/1.4.0_@types+babel__core@7.1.14",
                Slash,
                (Some("foo"), Some("1.4.0")),
            ),
            ("/foo/bar", Slash, (None, None)),
            ("invalidpath1", Slash, (None, None)),
            (
                "/react-dom@18.2.0(react@18.2.0)",
                At,
                (Some("react-dom"), Some("18.2.0")),
            ),
            ("@s/n@5.57.1", At, (Some("@s/n"), Some("5.57.1"))),
            ("a@https://codeload.invalid/x/y", At, (Some("a"), None)),
            ("github.com/o/r/abc", At, (None, None)),
        ] {
            assert_eq!(parse_key(key, style), want, "{key}");
        }
    }

    #[test]
    fn broken_files() {
        let error = catalog_fixture(&PnpmLockCataloger, FOLDER, "not-yaml.txt").unwrap_err();
        assert!(error.line.is_some(), "{}", error.render());
        for fixture in ["empty.yaml", "no-packages.yaml", "missing-packages.yaml"] {
            let output = catalog_fixture(&PnpmLockCataloger, FOLDER, fixture).unwrap();
            assert!(output.components.is_empty(), "{fixture}");
        }
        // An alias bomb is refused by the parser's budget, not expanded.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            bomb += &format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            );
        }
        let result = PnpmLockCataloger.catalog(
            &FileRef {
                path: "pnpm-lock.yaml",
                explicit: true,
            },
            &crate::test_support::OneFile::new("pnpm-lock.yaml", &bomb),
        );
        assert!(result.is_err());
    }
}
