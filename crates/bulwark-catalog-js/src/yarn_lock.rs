//! `yarn.lock`, both formats yarn has written under that name.
//!
//! - Yarn classic (v1) writes its own indentation format:
//!
//!   ```text
//!   "@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
//!     version "7.12.13"
//!     resolved "https://yarn.registry.invalid/@babel/code-frame/-/code-frame-7.12.13.tgz#sha1"
//!     integrity sha512-…
//!     dependencies:
//!       "@babel/highlight" "^7.12.13"
//!   ```
//!
//! - Yarn berry (2+) writes YAML with a `__metadata` entry, the same comma-joined
//!   descriptors as keys, and `resolution: "name@npm:1.2.3"` naming the locked package.
//!
//! An entry is one package at one version. Its name is that of the package it resolves to
//! (an alias `"str-cjs@npm:string-width@^4"` is `string-width`). Berry's `workspace:`
//! entries are the project and its workspace members, not dependencies, and are left out.
//! Berry's `checksum` is a digest of yarn's own cache archive, not of the published
//! tarball, so it is not reported as the package's hash. The lockfile says nothing about
//! dev or optional use: every entry is [`Scope::Required`](bulwark_inventory::Scope).
//! Dependencies are edges to the entry whose key lists the same `name@range` descriptor.

use std::collections::{BTreeMap, HashMap};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, Hash, HashAlgorithm, PackageSource};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::common::{
    Entries, JsError, Scalar, add_integrity, is_commit, is_project_lockfile, npm_alias,
    npm_component, output, parse_yaml, problem, read_text, source_of, split_spec, yaml_line,
};

const ID: &str = "javascript/yarn-lock";

/// Reads `yarn.lock` (classic and berry).
pub(crate) struct YarnLockCataloger;

impl Cataloger for YarnLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        crate::common::descend(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name() == "yarn.lock" && (file.explicit || is_project_lockfile(file.dir()))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        if is_berry(&text) {
            catalog_berry(&text, file.path)
        } else {
            catalog_classic(&text, file.path)
        }
    }
}

/// Berry files carry a top-level `__metadata:` key; classic files never do.
fn is_berry(text: &str) -> bool {
    text.lines()
        .any(|line| line.starts_with("__metadata:") || line.starts_with("\"__metadata\":"))
}

/// One lock entry, whichever format it came from.
struct Entry {
    descriptors: Vec<String>,
    line: Option<u32>,
    name: String,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    /// `name@range` descriptors of what it depends on (berry ranges without protocol get
    /// the default `npm:` as a second try).
    dependencies: Vec<(String, String)>,
}

/// Turns entries into components and edges; `berry` decides how a dependency range is
/// looked up.
fn entries_output(entries: Vec<Entry>, path: &str, berry: bool) -> CatalogOutput {
    let mut by_descriptor: HashMap<&str, usize> = HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        for descriptor in &entry.descriptors {
            by_descriptor.entry(descriptor.as_str()).or_insert(index);
        }
    }
    let mut edges = Vec::new();
    for (from, entry) in entries.iter().enumerate() {
        for (name, range) in &entry.dependencies {
            let exact = format!("{name}@{range}");
            let target = by_descriptor.get(exact.as_str()).copied().or_else(|| {
                berry
                    .then(|| format!("{name}@npm:{range}"))
                    .and_then(|d| by_descriptor.get(d.as_str()).copied())
            });
            if let Some(to) = target {
                edges.push((from, to));
            }
        }
    }
    let components: Vec<Component> = entries
        .iter()
        .map(|entry| {
            let mut component =
                npm_component(&entry.name, entry.version.as_deref(), path, entry.line, ID);
            if let Some(resolved) = &entry.resolved {
                component.source = source_of(resolved, &entry.name);
                // Classic yarn appends the tarball's SHA-1 to registry URLs.
                if !matches!(component.source, Some(PackageSource::Vcs { .. }))
                    && let Some((_, fragment)) = resolved.split_once('#')
                    && let Some(hash) = Hash::new(HashAlgorithm::Sha1, fragment)
                {
                    component.hashes.insert(hash);
                }
            }
            if let Some(integrity) = &entry.integrity {
                add_integrity(&mut component.hashes, integrity);
            }
            component
        })
        .collect();
    output(components, &edges, Vec::new())
}

/// The package a descriptor stands for: the alias target's name for `a@npm:real@^1`.
fn descriptor_name(descriptor: &str) -> &str {
    let (name, range) = split_spec(descriptor);
    npm_alias(range).map_or(name, |(real, _)| real)
}

// ---------------------------------------------------------------------------------------
// Classic (v1)

/// Splits a classic header (`"a@^1", a@^1.1:` without the colon) into descriptors.
fn split_descriptors(header: &str) -> Vec<String> {
    let mut descriptors = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        let (token, after) = take_token(rest);
        if !token.is_empty() {
            descriptors.push(token);
        }
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    descriptors
}

/// Takes one possibly-quoted token off the front of `text`: a quoted string runs to its
/// closing quote (backslash escapes allowed), a bare one to whitespace or a comma.
fn take_token(text: &str) -> (String, &str) {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                _ => value.push(c),
            }
        }
        // Unterminated: take the rest.
        return (value, "");
    }
    let end = text
        .find(|c: char| c.is_whitespace() || c == ',')
        .unwrap_or(text.len());
    (text[..end].to_owned(), &text[end..])
}

fn catalog_classic(text: &str, path: &str) -> Result<CatalogOutput, CatalogError> {
    let mut entries: Vec<Entry> = Vec::new();
    // The nested map being read (`dependencies:`), if any.
    let mut nested: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = raw.trim_end();
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let syntax_error = || {
            CatalogError::new(JsError::YarnSyntax {
                line: line_number,
                text: content.chars().take(80).collect(),
            })
            .at_line(line_number)
        };
        if indent == 0 {
            let header = content.strip_suffix(':').ok_or_else(syntax_error)?;
            let descriptors = split_descriptors(header);
            let first = descriptors.first().ok_or_else(syntax_error)?;
            let name = descriptor_name(first).to_owned();
            entries.push(Entry {
                descriptors,
                line: Some(line_number),
                name,
                version: None,
                resolved: None,
                integrity: None,
                dependencies: Vec::new(),
            });
            nested = None;
            continue;
        }
        let entry = entries.last_mut().ok_or_else(syntax_error)?;
        let (key, rest) = take_token(content);
        let rest = rest.trim();
        if rest == ":" || (rest.is_empty() && key.ends_with(':')) {
            nested = Some(key.trim_end_matches(':').to_owned());
            continue;
        }
        let (value, _) = take_token(rest);
        match (&nested, indent) {
            (Some(map), i) if i > 2 => {
                if map.ends_with("ependencies") && map != "peerDependencies" {
                    entry.dependencies.push((key, value));
                }
            }
            _ => {
                nested = None;
                // yarn also accepts `key: value` in hand-edited files.
                match key.trim_end_matches(':') {
                    "version" => entry.version = Some(value).filter(|v| !v.is_empty()),
                    "resolved" => entry.resolved = Some(value),
                    "integrity" => entry.integrity = Some(value),
                    _ => {}
                }
            }
        }
    }
    // A `file:` or `link:` dependency has no `resolved`; its descriptor says where it is.
    for entry in &mut entries {
        if entry.resolved.is_none() {
            entry.resolved = entry
                .descriptors
                .iter()
                .map(|d| split_spec(d).1)
                .find(|range| range.starts_with("file:") || range.starts_with("link:"))
                .map(str::to_owned);
        }
    }
    Ok(entries_output(entries, path, false))
}

// ---------------------------------------------------------------------------------------
// Berry (v2+)

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BerryEntry {
    version: Option<Scalar>,
    resolution: Option<String>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    optional_dependencies: Option<BTreeMap<String, Scalar>>,
}

fn catalog_berry(text: &str, path: &str) -> Result<CatalogOutput, CatalogError> {
    let lock: Option<Entries<Spanned<String>, Option<BerryEntry>>> = parse_yaml(text)?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (key, entry) in lock.unwrap_or_default().0 {
        let line = yaml_line(&key.referenced);
        let key = key.value;
        if key == "__metadata" {
            continue;
        }
        let Some(entry) = entry else { continue };
        let resolution = entry.resolution.as_deref().unwrap_or_default();
        let descriptors: Vec<String> = key.split(',').map(|d| d.trim().to_owned()).collect();
        let first = descriptors.first().cloned().unwrap_or_default();
        let (name, reference) = if resolution.is_empty() {
            split_spec(&first)
        } else {
            split_spec(resolution)
        };
        if reference.starts_with("workspace:") {
            continue;
        }
        if name.is_empty() {
            problems.push(problem(path, line, ID, format!("`{key}` names no package")));
            continue;
        }
        let resolved = berry_source_text(reference);
        let dependencies = entry
            .dependencies
            .iter()
            .chain(entry.optional_dependencies.iter())
            .flatten()
            .map(|(name, range)| (name.clone(), range.0.clone()))
            .collect();
        entries.push(Entry {
            descriptors,
            line,
            name: name.to_owned(),
            version: entry.version.map(|v| v.0).filter(|v| !v.is_empty()),
            resolved,
            integrity: None,
            dependencies,
        });
    }
    let mut output = entries_output(entries, path, true);
    output.problems = problems;
    Ok(output)
}

/// The part of a berry resolution reference that says where the package came from, in the
/// form [`source_of`] reads: registry packages (`npm:1.2.3`) say nothing beyond the
/// registry, which the lockfile does not name; `patch:` wraps the patched package's own
/// reference, percent-encoded.
fn berry_source_text(reference: &str) -> Option<String> {
    if reference.starts_with("npm:") {
        return None;
    }
    if let Some(patched) = reference.strip_prefix("patch:") {
        let inner = patched.split('#').next().unwrap_or(patched);
        let inner = inner.replace("%3A", ":").replace("%40", "@");
        let (_, inner_reference) = split_spec(&inner);
        return berry_source_text(inner_reference);
    }
    // `https://host/repo.git#commit=<sha>`, `file:…`, `link:…`, `portal:…`.
    let is_known = reference.contains("://")
        || ["file:", "link:", "portal:", "github:", "git@"]
            .iter()
            .any(|p| reference.starts_with(p))
        || reference
            .split_once('#')
            .is_some_and(|(_, f)| is_commit(f.trim_start_matches("commit=")));
    is_known.then(|| reference.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        assert_commits, catalog_fixture, catalog_text, check_expected, listing,
    };

    const FOLDER: &str = "yarn";

    #[test]
    fn claims_yarn_lock_of_the_project_only() {
        let wants = |path| {
            YarnLockCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("yarn.lock"));
        assert!(wants("web/yarn.lock"));
        assert!(!wants("node_modules/x/yarn.lock"));
        assert!(!wants("web/package-lock.json"));
    }

    /// Every case of the osv-scalibr expectations. Deliberate deviation: scalibr leaves out
    /// only the root workspace (`workspace:.`) and reports workspace members such as
    /// `@ws/ansi-regex@workspace:ansi-regex`; bulwark leaves out every `workspace:` entry,
    /// since members are the scanned project's own code, not dependencies.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let cases = check_expected(
            &YarnLockCataloger,
            FOLDER,
            |_, _| true,
            &[("exclude-root.v2.lock", "@ws/ansi-regex")],
            assert_commits,
        );
        assert_eq!(cases, 25);
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "files.v1.lock",
            "with-aliases.v1.lock",
            "scoped-packages.v2.lock",
            "with-aliases.v2.lock",
        ] {
            let output = catalog_fixture(&YarnLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("yarn-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn classic_dependencies_resolve_through_descriptors() {
        let text = r#"# yarn lockfile v1


"@s/a@^1.0.0", "@s/a@^1.1.0":
  version "1.2.0"
  resolved "https://yarn.registry.invalid/@s/a/-/a-1.2.0.tgz#b5243d8f3ec1aa35f13646056f03ed0ee30ab69f"
  dependencies:
    b "^2"
    "b-alias" "npm:b@^3"
  optionalDependencies:
    missing "^1"

b@^2:
  version "2.0.0"

"b-alias@npm:b@^3":
  version "3.0.0"
"#;
        let output = catalog_text(&YarnLockCataloger, "yarn.lock", text);
        insta::assert_snapshot!(listing(&output), @r"
        Library @s/a@1.2.0 pkg:npm/%40s/a@1.2.0 required registry=https://yarn.registry.invalid hashes=1 yarn.lock:4
        Library b@2.0.0 pkg:npm/b@2.0.0 required yarn.lock:13
        Library b@3.0.0 pkg:npm/b@3.0.0 required yarn.lock:16
        --- edges
        pkg:npm/%40s/a@1.2.0 -> pkg:npm/b@2.0.0
        pkg:npm/%40s/a@1.2.0 -> pkg:npm/b@3.0.0
        ");
    }

    #[test]
    fn berry_patches_and_workspaces() {
        let text = r#"__metadata:
  version: 6
  cacheKey: 8

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    resolve: "patch:resolve@^1.20.0#~builtin<compat/resolve>"
  languageName: unknown
  linkType: soft

"resolve@patch:resolve@^1.20.0#~builtin<compat/resolve>":
  version: 1.20
  resolution: "resolve@patch:resolve@npm%3A1.20.0#~builtin<compat/resolve>::version=1.20.0&hash=07638b"
  dependencies:
    path-parse: ^1.0.6
  checksum: a0d4ca0d6d1b0b9e2c6b0b3b4e2cf6ab3e0c6b1b0b9e2c6b0b3b4e2cf6ab3e0c
  languageName: node
  linkType: hard

"path-parse@npm:^1.0.6":
  version: 1.0.7
  resolution: "path-parse@npm:1.0.7"
"#;
        let output = catalog_text(&YarnLockCataloger, "yarn.lock", text);
        insta::assert_snapshot!(listing(&output), @r"
        Library path-parse@1.0.7 pkg:npm/path-parse@1.0.7 required yarn.lock:22
        Library resolve@1.20 pkg:npm/resolve@1.20 required yarn.lock:13
        --- edges
        pkg:npm/resolve@1.20 -> pkg:npm/path-parse@1.0.7
        ");
    }

    #[test]
    fn broken_files() {
        let error = catalog_text_err("yarn.lock", "a@^1:\n  version \"1\"\nnot a header\n");
        assert_eq!(error.line, Some(3));
        let error = catalog_text_err("yarn.lock", "__metadata:\n  version: [\n");
        assert!(error.line.is_some());
        for fixture in ["empty.v1.lock", "empty.v2.lock", "metadata-only.v2.lock"] {
            let output = catalog_fixture(&YarnLockCataloger, FOLDER, fixture).unwrap();
            assert!(output.components.is_empty(), "{fixture}");
        }
    }

    fn catalog_text_err(path: &str, text: &str) -> CatalogError {
        YarnLockCataloger
            .catalog(
                &FileRef {
                    path,
                    explicit: true,
                },
                &crate::test_support::OneFile::new(path, text),
            )
            .unwrap_err()
    }
}
