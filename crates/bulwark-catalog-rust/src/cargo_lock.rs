//! `Cargo.lock`: Cargo's lockfile, every format version Cargo has written.
//!
//! - **v1** (no `version` key, Cargo before 1.41): dependencies are always written in full,
//!   `"name version (source)"`, and checksums live apart in the `[metadata]` table under
//!   `"checksum name version (source)"` keys. The oldest files also have the root package
//!   in a `[root]` table instead of `[[package]]`; it is read the same way.
//! - **v2** (no `version` key or `version = 2`), **v3** and **v4** (`version = 3`/`4`):
//!   `checksum` sits in each package, and a dependency is written as short as it stays
//!   unambiguous: `"name"`, `"name version"` when the lock holds the name at several
//!   versions, `"name version (source)"` when even that is ambiguous. v4 percent-encodes the
//!   query of git sources.
//!
//! Every package is one component at its exact version:
//!
//! - `source = "registry+…"` / `"sparse+…"`: a registry crate, with its `checksum` as a
//!   SHA-256 [`Hash`] (Cargo's checksum is the SHA-256 of the `.crate` file).
//! - `source = "git+URL?branch=…#commit"`: a [`PackageSource::Vcs`] with the requested
//!   branch, tag or rev and the locked commit.
//! - **no `source`**: a crate of the project itself, a workspace member or a path
//!   dependency (the lock does not tell them apart). They are reported, as
//!   [`ComponentKind::Application`], for three reasons: the dependency edges start from
//!   them; osv-scalibr and osv-scanner report them too (scalibr's `EXPECTED.json` lists
//!   `local-rust-pkg`); and a local crate that shadows a published name at a published
//!   version is exactly what an auditor wants to see. Their kind is what tells them apart
//!   from the crates pulled from a registry.
//!
//! Each `dependencies` entry becomes a `depends-on` edge to the one package it names; an
//! entry naming no package of the lock, or several (only hand-edited files have them), is
//! dropped. Cargo.lock does not record dev- or build-dependency kinds, so every package has
//! the default [`Scope::Required`](bulwark_inventory::Scope).

use std::collections::{BTreeMap, HashMap};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, Hash, HashAlgorithm, Location, PackageSource,
    Relationship, RelationshipKind,
};
use serde::Deserialize;

const ID: &str = "rust/cargo-lock";

/// Why a `Cargo.lock` could not be read at all.
#[derive(Debug, thiserror::Error)]
enum CargoLockError {
    /// Not readable (missing, too large, not UTF-8).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// Not TOML, or not shaped like a lockfile.
    #[error("not a valid Cargo.lock")]
    Toml(#[source] toml::de::Error),
}

/// Reads `Cargo.lock`.
pub(crate) struct CargoLockCataloger;

impl Cataloger for CargoLockCataloger {
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
        file.file_name() == "Cargo.lock"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(CargoLockError::Read)?;
        if text.trim().is_empty() {
            return Ok(CatalogOutput::default());
        }
        let lock: CargoLock = toml::from_str(&text).map_err(|error| {
            let line = error.span().map(|span| line_at(&text, span.start));
            let error = CatalogError::new(CargoLockError::Toml(error));
            match line {
                Some(line) => error.at_line(line),
                None => error,
            }
        })?;
        Ok(catalog_lock(lock, &text, file.path))
    }
}

#[derive(Debug, Deserialize)]
struct CargoLock {
    /// The `[root]` package of the oldest v1 files.
    root: Option<LockPackage>,
    #[serde(default)]
    package: Vec<LockPackage>,
    /// v1 checksums (`"checksum name version (source)" = "hex"`); other keys are ignored.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
struct LockPackage {
    name: String,
    /// Always present in files Cargo wrote; optional so one odd entry cannot sink the file.
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// A `dependencies` entry: `name`, `name version` or `name version (source)`.
#[derive(Debug, PartialEq, Eq)]
struct DependencyRef<'a> {
    name: &'a str,
    version: Option<&'a str>,
    source: Option<&'a str>,
}

impl<'a> DependencyRef<'a> {
    fn parse(entry: &'a str) -> Option<Self> {
        let (head, source) = match entry.split_once(" (") {
            Some((head, rest)) => (head, Some(rest.strip_suffix(')').unwrap_or(rest))),
            None => (entry, None),
        };
        let mut words = head.split_whitespace();
        let name = words.next()?;
        Some(Self {
            name,
            version: words.next(),
            source,
        })
    }
}

fn catalog_lock(lock: CargoLock, text: &str, path: &str) -> CatalogOutput {
    let checksums = v1_checksums(&lock.metadata);
    let lines = PackageLines::new(text);
    let root_line = header_line(text, "[root]");
    let packages: Vec<(LockPackage, Option<u32>)> = lock
        .root
        .map(|root| {
            let line = root_line.and_then(|from| lines.name_line_from(from, &root.name));
            (root, line)
        })
        .into_iter()
        .chain(
            lock.package
                .into_iter()
                .enumerate()
                .map(|(index, package)| {
                    let line = lines.name_line(index, &package.name);
                    (package, line)
                }),
        )
        .collect();

    let components: Vec<Component> = packages
        .iter()
        .map(|(package, line)| package_component(package, *line, path, &checksums))
        .collect();

    // Indexes by each spelling a dependency can take: `name` (v2+, when the lock holds one
    // version), `name version`, `name version (source)`.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_version: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut by_source: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (index, (package, _)) in packages.iter().enumerate() {
        let name = package.name.as_str();
        by_name.entry(name).or_default().push(index);
        if let Some(version) = package.version.as_deref() {
            by_version.entry((name, version)).or_default().push(index);
            if let Some(source) = package.source.as_deref() {
                by_source
                    .entry((name, version, source))
                    .or_default()
                    .push(index);
            }
        }
    }
    let mut relationships = Vec::new();
    for (from, (package, _)) in packages.iter().enumerate() {
        for entry in &package.dependencies {
            let Some(dependency) = DependencyRef::parse(entry) else {
                continue;
            };
            let matches = match (dependency.version, dependency.source) {
                (None, _) => by_name.get(dependency.name),
                (Some(version), None) => by_version.get(&(dependency.name, version)),
                (Some(version), Some(source)) => by_source.get(&(dependency.name, version, source)),
            };
            // Cargo writes the shortest spelling that names one package; one that names
            // none or several (a hand-edited file) makes no edge rather than a guessed one.
            let Some(&[to]) = matches.map(Vec::as_slice) else {
                continue;
            };
            let relationship = Relationship {
                from: ComponentId::of(&components[from]),
                kind: RelationshipKind::DependsOn,
                to: ComponentId::of(&components[to]),
            };
            if relationship.from != relationship.to {
                relationships.push(relationship);
            }
        }
    }
    relationships.sort();
    relationships.dedup();
    CatalogOutput {
        components,
        relationships,
        ..CatalogOutput::default()
    }
}

fn package_component(
    package: &LockPackage,
    line: Option<u32>,
    path: &str,
    checksums: &HashMap<(&str, &str, &str), &str>,
) -> Component {
    let mut location = Location::new(path);
    location.line = line;
    let version = package.version.as_deref();
    let mut component =
        Component::package(Ecosystem::CratesIo, &package.name, version, location, ID);
    match package.source.as_deref() {
        None => component.kind = ComponentKind::Application,
        Some(source) => component.source = parse_source(source),
    }
    let v1_checksum = || {
        let source = package.source.as_deref()?;
        checksums
            .get(&(package.name.as_str(), version?, source))
            .copied()
    };
    if let Some(hash) = package
        .checksum
        .as_deref()
        .or_else(v1_checksum)
        .and_then(|hex| Hash::new(HashAlgorithm::Sha256, hex))
    {
        component.hashes.insert(hash);
    }
    component
}

/// The v1 `[metadata]` checksums by `(name, version, source)`. Packages without one are
/// written `<none>` there, which [`Hash::new`] later rejects.
fn v1_checksums(metadata: &BTreeMap<String, toml::Value>) -> HashMap<(&str, &str, &str), &str> {
    metadata
        .iter()
        .filter_map(|(key, value)| {
            let dependency = DependencyRef::parse(key.strip_prefix("checksum ")?)?;
            Some((
                (dependency.name, dependency.version?, dependency.source?),
                value.as_str()?,
            ))
        })
        .collect()
}

/// A package's `source` as a [`PackageSource`].
fn parse_source(source: &str) -> Option<PackageSource> {
    if let Some(url) = source.strip_prefix("registry+") {
        return Some(PackageSource::Registry {
            url: url.to_owned(),
        });
    }
    if source.starts_with("sparse+") {
        // Cargo spells sparse index URLs with the prefix (`sparse+https://…`).
        return Some(PackageSource::Registry {
            url: source.to_owned(),
        });
    }
    if let Some(git) = source.strip_prefix("git+") {
        return Some(git_source(git));
    }
    source
        .strip_prefix("path+")
        .map(|path| PackageSource::Path {
            path: path.strip_prefix("file://").unwrap_or(path).to_owned(),
            editable: false,
        })
}

/// `https://host/repo?branch=main#<commit>` (also `tag=`, `rev=`); v4 percent-encodes the
/// query values.
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
            matches!(key, "rev" | "tag" | "branch").then(|| percent_decode(value))
        })
    });
    PackageSource::Vcs {
        vcs: "git".to_owned(),
        url: url.to_owned(),
        requested_revision,
        commit: commit
            .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_owned),
    }
}

/// Decodes `%XX` escapes; anything malformed is kept as written.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap_or_else(|_| value.to_owned())
}

/// The 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    let newlines = text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The 1-based line of the first line that is exactly `header`.
fn header_line(text: &str, header: &str) -> Option<u32> {
    text.lines()
        .position(|line| line.trim() == header)
        .and_then(|index| u32::try_from(index + 1).ok())
}

/// Finds the `name = "…"` line of each `[[package]]` block without a span-keeping parser:
/// package `k` of the parsed array is the `k`-th block, and searching for its known name
/// (rather than the first `name =` line) keeps commented-out lines harmless.
struct PackageLines<'a> {
    lines: Vec<&'a str>,
    /// Half-open ranges of line indexes, one per `[[package]]` header.
    blocks: Vec<(usize, usize)>,
}

impl<'a> PackageLines<'a> {
    fn new(text: &'a str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let starts: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.trim() == "[[package]]")
            .map(|(index, _)| index)
            .collect();
        let blocks = starts
            .iter()
            .enumerate()
            .map(|(k, start)| (*start, starts.get(k + 1).copied().unwrap_or(lines.len())))
            .collect();
        Self { lines, blocks }
    }

    /// The line of package `index`, or `None` when the blocks do not line up.
    fn name_line(&self, index: usize, name: &str) -> Option<u32> {
        let (start, end) = *self.blocks.get(index)?;
        self.find(start, end, name)
    }

    /// The first `name = "<name>"` line at or after the 1-based line `from`.
    fn name_line_from(&self, from: u32, name: &str) -> Option<u32> {
        let start = usize::try_from(from).ok()?.saturating_sub(1);
        self.find(start, self.lines.len(), name)
    }

    fn find(&self, start: usize, end: usize, name: &str) -> Option<u32> {
        (start..end.min(self.lines.len()))
            .find(|i| is_name_line(self.lines[*i], name))
            .and_then(|i| u32::try_from(i + 1).ok())
    }
}

/// Whether `line` is `name = "<name>"` (any spacing).
fn is_name_line(line: &str, name: &str) -> bool {
    line.trim_start()
        .strip_prefix("name")
        .and_then(|rest| rest.trim_start().strip_prefix('='))
        .and_then(|rest| rest.trim_start().strip_prefix('"'))
        .and_then(|rest| rest.strip_prefix(name))
        .is_some_and(|rest| rest.starts_with('"'))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use bulwark_catalog::DirResolver;
    use serde::Deserialize;

    use super::*;

    fn testdata() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cargo")
    }

    fn catalog(path: &str) -> Result<CatalogOutput, CatalogError> {
        CargoLockCataloger.catalog(
            &FileRef {
                path,
                explicit: true,
            },
            &DirResolver::new(testdata()),
        )
    }

    fn find<'a>(output: &'a CatalogOutput, name: &str, version: &str) -> &'a Component {
        output
            .components
            .iter()
            .find(|c| c.name == name && c.version.as_deref() == Some(version))
            .unwrap_or_else(|| panic!("{name} {version} not found"))
    }

    /// `from -> to` edges as `name@version` pairs.
    fn edges(output: &CatalogOutput) -> BTreeSet<(String, String)> {
        output
            .relationships
            .iter()
            .map(|r| {
                let short = |id: &ComponentId| {
                    id.as_str()
                        .strip_prefix("pkg:cargo/")
                        .unwrap_or(id.as_str())
                        .to_owned()
                };
                (short(&r.from), short(&r.to))
            })
            .collect()
    }

    #[derive(Deserialize)]
    struct Expected {
        expected: BTreeMap<String, Vec<ExpectedCase>>,
    }

    #[derive(Deserialize)]
    struct ExpectedCase {
        test: String,
        want_error: Option<String>,
        packages: Vec<ExpectedPackage>,
    }

    #[derive(Deserialize)]
    struct ExpectedPackage {
        name: String,
        version: String,
        purl_type: String,
    }

    /// Every case of the osv-scalibr expectations, project crates included (scalibr reports
    /// them too).
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let text = fs_err::read_to_string(testdata().join("EXPECTED.json")).unwrap();
        let expected: Expected = serde_json::from_str(&text).unwrap();
        let mut cases = 0;
        for (fixture, fixture_cases) in expected.expected {
            let result = catalog(&fixture);
            for case in fixture_cases {
                cases += 1;
                if case.want_error.is_some() {
                    assert!(result.is_err(), "{}", case.test);
                    continue;
                }
                let output = result.as_ref().unwrap();
                let want: BTreeSet<(String, String)> = case
                    .packages
                    .iter()
                    .map(|p| {
                        assert_eq!(p.purl_type, "cargo");
                        (p.name.clone(), p.version.clone())
                    })
                    .collect();
                let found: BTreeSet<(String, String)> = output
                    .components
                    .iter()
                    .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
                    .collect();
                assert_eq!(found, want, "{}", case.test);
                assert_eq!(
                    output.components.len(),
                    case.packages.len(),
                    "{}",
                    case.test
                );
                for component in &output.components {
                    let purl = component.purl.as_ref().unwrap().as_str();
                    assert!(purl.starts_with("pkg:cargo/"), "{purl}");
                }
            }
        }
        assert_eq!(cases, 9);
    }

    #[test]
    fn claims_cargo_lock_only() {
        let wants = |path| {
            CargoLockCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("Cargo.lock"));
        assert!(wants("src/app/Cargo.lock"));
        assert!(!wants("cargo.lock"));
        assert!(!wants("Cargo.toml"));
        assert!(!wants("venv/lib/python3.11/site-packages/pkg/Cargo.lock"));
    }

    #[test]
    fn registry_git_and_local_packages() {
        let output = catalog("two-packages-with-local.lock").unwrap();
        let registry = find(&output, "addr2line", "0.15.2");
        assert_eq!(registry.kind, ComponentKind::Library);
        assert_eq!(
            registry.purl.as_ref().unwrap().as_str(),
            "pkg:cargo/addr2line@0.15.2"
        );
        assert!(matches!(
            &registry.source,
            Some(PackageSource::Registry { url }) if url.ends_with("crates.io-index")
        ));
        let hash = registry.hashes.first().unwrap();
        assert_eq!(hash.algorithm, HashAlgorithm::Sha256);
        assert!(hash.value.starts_with("e7a2e47a"));
        assert_eq!(registry.locations.first().unwrap().line, Some(6));

        let local = find(&output, "local-rust-pkg", "0.1.0");
        assert_eq!(local.kind, ComponentKind::Application);
        assert_eq!(local.source, None);
        assert!(local.hashes.is_empty());
        assert_eq!(local.locations.first().unwrap().line, Some(15));

        let output = catalog("package-with-comments.lock").unwrap();
        let git = find(&output, "syn", "1.0.73");
        assert_eq!(
            git.source,
            Some(PackageSource::Vcs {
                vcs: "git".to_owned(),
                url: "https://github.com/rust-lang/cargo".to_owned(),
                requested_revision: Some("master".to_owned()),
                commit: Some("061a9ab4cfabf2a403dbeab4bbcb8ff97d344dff".to_owned()),
            })
        );
        // The commented-out `# name = "fake-package"` line is not the package's line.
        assert_eq!(git.locations.first().unwrap().line, Some(13));
    }

    /// v1: no `version` key, full dependency spellings, checksums in `[metadata]`, the root
    /// package in `[root]`.
    #[test]
    fn version_1_with_metadata_checksums() {
        let output = catalog("v1.lock").unwrap();
        let names: BTreeSet<_> = output
            .components
            .iter()
            .map(|c| format!("{}@{}", c.name, c.version.as_deref().unwrap_or("-")))
            .collect();
        assert_eq!(
            names,
            BTreeSet::from([
                "demo@0.1.0".to_owned(),
                "itoa@0.4.8".to_owned(),
                "itoa@1.0.1".to_owned(),
                "serde@1.0.130".to_owned(),
                "forked@0.2.0".to_owned(),
            ])
        );
        let root = find(&output, "demo", "0.1.0");
        assert_eq!(root.kind, ComponentKind::Application);
        assert_eq!(root.locations.first().unwrap().line, Some(2));
        let itoa = find(&output, "itoa", "1.0.1");
        assert_eq!(
            itoa.hashes.first().map(|h| h.value.as_str()),
            Some("b7e4b9a5f2c1d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8")
        );
        // `<none>` is no checksum.
        assert!(find(&output, "forked", "0.2.0").hashes.is_empty());
        assert_eq!(
            edges(&output),
            BTreeSet::from([
                ("demo@0.1.0".to_owned(), "itoa@1.0.1".to_owned()),
                ("demo@0.1.0".to_owned(), "serde@1.0.130".to_owned()),
                ("demo@0.1.0".to_owned(), "forked@0.2.0".to_owned()),
                ("serde@1.0.130".to_owned(), "itoa@0.4.8".to_owned()),
            ])
        );
    }

    /// v2+: `"name"`, `"name version"` and `"name version (source)"` each resolve to the one
    /// package they mean; a dependency missing from the lock makes no edge.
    #[test]
    fn short_dependency_spellings_resolve_to_the_exact_package() {
        let output = catalog("v4.lock").unwrap();
        assert_eq!(
            edges(&output),
            BTreeSet::from([
                ("app@0.1.0".to_owned(), "helper@0.1.0".to_owned()),
                ("app@0.1.0".to_owned(), "rand@0.8.5".to_owned()),
                ("app@0.1.0".to_owned(), "rand_core@0.6.4".to_owned()),
                ("helper@0.1.0".to_owned(), "rand@0.7.3".to_owned()),
                ("rand@0.8.5".to_owned(), "rand_core@0.6.4".to_owned()),
                ("rand@0.7.3".to_owned(), "rand_core@0.5.1".to_owned()),
            ])
        );
        // `rand_core 0.6.4` from the registry and from git share one purl (one component
        // after assembly) but are two sightings here.
        let sightings = output
            .components
            .iter()
            .filter(|c| c.name == "rand_core" && c.version.as_deref() == Some("0.6.4"))
            .count();
        assert_eq!(sightings, 2);
        let git = output
            .components
            .iter()
            .find(|c| c.name == "rand_core" && matches!(c.source, Some(PackageSource::Vcs { .. })))
            .unwrap();
        assert!(matches!(
            &git.source,
            Some(PackageSource::Vcs { requested_revision: Some(rev), commit: Some(_), .. })
                if rev == "feature/x"
        ));
        let sparse = find(&output, "rand", "0.8.5");
        assert!(matches!(
            &sparse.source,
            Some(PackageSource::Registry { url }) if url.starts_with("sparse+https://")
        ));
        assert_eq!(
            find(&output, "helper", "0.1.0").kind,
            ComponentKind::Application
        );
    }

    #[test]
    fn broken_and_empty_files() {
        let error = catalog("not-toml.txt").unwrap_err();
        assert_eq!(error.line, Some(1));
        let error = catalog("missing-name.lock").unwrap_err();
        assert!(error.render().contains("name"), "{}", error.render());
        assert!(catalog("empty.lock").unwrap().components.is_empty());
    }

    #[test]
    fn dependency_spellings() {
        assert_eq!(
            DependencyRef::parse("serde 1.0.130 (registry+https://index.registry.invalid/)"),
            Some(DependencyRef {
                name: "serde",
                version: Some("1.0.130"),
                source: Some("registry+https://index.registry.invalid/"),
            })
        );
        assert_eq!(
            DependencyRef::parse("itoa"),
            Some(DependencyRef {
                name: "itoa",
                version: None,
                source: None,
            })
        );
        assert_eq!(DependencyRef::parse("  "), None);
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("feature%2Fx"), "feature/x");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%2"), "%zz%2");
    }
}
