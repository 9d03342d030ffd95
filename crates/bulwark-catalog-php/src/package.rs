//! The package object Composer writes into both `composer.lock` and `installed.json`, and
//! how a list of them becomes components and edges.
//!
//! - `name` is `vendor/package`: the whole name is the component name (OSV's Packagist
//!   advisories name packages that way), and the purl splits it into namespace and name.
//! - `version` is kept exactly as written, `v`-prefixed tags (`v6.4.1`) included: that is the
//!   version Composer installed, and the Packagist ordering in `bulwark-version` drops a
//!   leading `v` as Composer does, so it still matches OSV ranges, which Packagist advisories
//!   write without it (`fixed: "6.4.1"`). Branch versions (`dev-main`, `2.x-dev`) stay as
//!   they are; their identity is the commit in the source.
//! - `source` (`git`, `hg`, `svn`) becomes a VCS source whose `reference` is the resolved
//!   commit; without a source, a `path` dist is a local directory and any other dist a URL.
//! - `dist.shasum` is a SHA-1 of the archive when Composer knows it (it is empty for archives
//!   from code hosts, which is most of them).
//! - `require` entries naming other packages of the same file become `depends-on` edges.
//!   Platform requirements (`php`, `ext-json`, `lib-icu`, `composer-plugin-api`) have no
//!   `/` in their name and are not packages.

use std::collections::BTreeMap;

use bulwark_catalog::CatalogOutput;
use bulwark_inventory::{
    Component, ComponentId, Ecosystem, Hash, HashAlgorithm, License, Location, PackageSource,
    Problem, Purl, Relationship, RelationshipKind, Scope,
};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// At most this many malformed entries are reported one by one.
const MAX_PROBLEMS: usize = 50;

/// One package entry.
#[derive(Debug, Deserialize)]
pub(crate) struct ComposerPackage {
    name: String,
    version: Option<String>,
    source: Option<Source>,
    dist: Option<Dist>,
    #[serde(default)]
    require: BTreeMap<String, IgnoredAny>,
    #[serde(default)]
    license: OneOrMany,
    #[serde(default)]
    authors: Vec<Author>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    reference: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dist {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    shasum: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Author {
    name: Option<String>,
}

/// `"MIT"` or `["MIT", "GPL-2.0-or-later"]`.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl ComposerPackage {
    fn source(&self) -> Option<PackageSource> {
        if let Some(source) = &self.source
            && let (Some(vcs), Some(url)) = (&source.kind, &source.url)
            && matches!(vcs.as_str(), "git" | "hg" | "svn")
        {
            let reference = source.reference.clone().filter(|r| !r.is_empty());
            let is_commit = reference.as_deref().is_some_and(is_commit);
            return Some(PackageSource::Vcs {
                vcs: vcs.clone(),
                url: url.clone(),
                requested_revision: reference.clone().filter(|_| !is_commit),
                commit: reference.filter(|_| is_commit),
            });
        }
        let dist = self.dist.as_ref()?;
        let url = dist.url.clone().filter(|u| !u.is_empty())?;
        Some(match dist.kind.as_deref() {
            Some("path") => PackageSource::Path {
                path: url,
                editable: false,
            },
            _ => PackageSource::Url { url },
        })
    }

    fn component(&self, path: &str, line: Option<u32>, found_by: &str, scope: Scope) -> Component {
        let version = self.version.as_deref().filter(|v| !v.is_empty());
        let mut location = Location::new(path);
        location.line = line;
        let mut component = Component::package(
            Ecosystem::Packagist,
            &self.name,
            version,
            location,
            found_by,
        );
        component.purl = purl(&self.name, version);
        component.scope = scope;
        component.source = self.source();
        if let Some(hash) = self
            .dist
            .as_ref()
            .and_then(|d| d.shasum.as_deref())
            .filter(|s| !s.is_empty())
            .and_then(|s| Hash::new(HashAlgorithm::Sha1, s))
        {
            component.hashes.insert(hash);
        }
        component.licenses = match &self.license {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(license) => License::from_declared(license).into_iter().collect(),
            OneOrMany::Many(licenses) => licenses
                .iter()
                .filter_map(|l| License::from_declared(l))
                .collect(),
        };
        let authors: Vec<&str> = self
            .authors
            .iter()
            .filter_map(|a| a.name.as_deref())
            .filter(|n| !n.trim().is_empty())
            .collect();
        component.supplier = Some(authors.join(", ")).filter(|a| !a.is_empty());
        component.description = self
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        component
    }
}

/// `pkg:composer/<vendor>/<package>@<version>`. A name without a vendor (never written by
/// Composer for a real package) stays whole.
fn purl(name: &str, version: Option<&str>) -> Option<Purl> {
    let builder = match name.split_once('/') {
        Some((vendor, package)) => Purl::builder(Ecosystem::Packagist, package).namespace(vendor),
        None => Purl::builder(Ecosystem::Packagist, name),
    };
    builder.version(version).build()
}

/// A full hexadecimal git or hg commit.
fn is_commit(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Package entries still as JSON, with the scope their list gives them; each is read on its
/// own so that one malformed entry is a problem, not a lost file.
pub(crate) struct Entries {
    pub(crate) entries: Vec<(serde_json::Value, Scope)>,
    /// Names Composer 2 lists as installed for development only (`dev-package-names`).
    pub(crate) development: Vec<String>,
}

/// Turns a file's package entries into components, edges and problems.
pub(crate) fn catalog(entries: Entries, text: &str, path: &str, found_by: &str) -> CatalogOutput {
    let lines = LineFinder::new(text);
    let mut cursor = 0;
    let mut packages: Vec<ComposerPackage> = Vec::new();
    let mut components: Vec<Component> = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    let mut malformed = 0usize;
    for (index, (value, scope)) in entries.entries.into_iter().enumerate() {
        // Located before it is read, so that a malformed entry with a name still moves the
        // search past itself and its problem has a line.
        let line = value
            .get("name")
            .and_then(serde_json::Value::as_str)
            .and_then(|name| lines.name_line(&mut cursor, name));
        let package = match serde_json::from_value::<ComposerPackage>(value) {
            Ok(package) if !package.name.trim().is_empty() => package,
            Ok(_) => {
                malformed += 1;
                let message = "the package has an empty `name`";
                push_problem(&mut problems, path, found_by, (index, line), message);
                continue;
            }
            Err(error) => {
                malformed += 1;
                let message = format!("malformed package entry: {error}");
                push_problem(&mut problems, path, found_by, (index, line), &message);
                continue;
            }
        };
        let development = entries
            .development
            .iter()
            .any(|name| name.eq_ignore_ascii_case(&package.name));
        let scope = if development {
            Scope::Development
        } else {
            scope
        };
        components.push(package.component(path, line, found_by, scope));
        packages.push(package);
    }
    if malformed > MAX_PROBLEMS {
        problems.push(Problem {
            path: path.to_owned(),
            line: None,
            cataloger: Some(found_by.to_owned()),
            message: format!(
                "{} more malformed package entries",
                malformed - MAX_PROBLEMS
            ),
        });
    }

    // Packagist names are case-insensitive; Composer writes them lowercase.
    let by_name: BTreeMap<String, usize> = packages
        .iter()
        .enumerate()
        .map(|(index, p)| (p.name.to_ascii_lowercase(), index))
        .collect();
    let mut relationships: Vec<Relationship> = Vec::new();
    for (from, package) in packages.iter().enumerate() {
        for required in package.require.keys().filter(|name| name.contains('/')) {
            if let Some(to) = by_name.get(&required.to_ascii_lowercase()) {
                relationships.push(Relationship {
                    from: ComponentId::of(&components[from]),
                    kind: RelationshipKind::DependsOn,
                    to: ComponentId::of(&components[*to]),
                });
            }
        }
    }
    relationships.sort();
    relationships.dedup();
    CatalogOutput {
        components,
        relationships,
        problems,
        ..CatalogOutput::default()
    }
}

/// A problem with the `index`-th entry (0-based) of the file's package lists, at `line`
/// when its name could be found.
fn push_problem(
    problems: &mut Vec<Problem>,
    path: &str,
    found_by: &str,
    (index, line): (usize, Option<u32>),
    message: &str,
) {
    if problems.len() < MAX_PROBLEMS {
        problems.push(Problem {
            path: path.to_owned(),
            line,
            cataloger: Some(found_by.to_owned()),
            message: format!("package entry {}: {message}", index + 1),
        });
    }
}

/// Finds each package's `"name": "<name>"` line, scanning forward: entries are met in file
/// order, so the whole search reads the text about once. A package's `authors` also have
/// `"name"` keys, but never with the package's `vendor/package` value.
struct LineFinder<'a> {
    text: &'a str,
    /// Byte offsets where lines start.
    starts: Vec<usize>,
}

impl<'a> LineFinder<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Self { text, starts }
    }

    fn line_of(&self, offset: usize) -> u32 {
        u32::try_from(self.starts.partition_point(|start| *start <= offset)).unwrap_or(u32::MAX)
    }

    /// The line of the next `"name": "<name>"` at or after `cursor`, moving `cursor` past it.
    /// `None` (cursor unmoved) when the name is not written plainly (JSON escapes).
    fn name_line(&self, cursor: &mut usize, name: &str) -> Option<u32> {
        let mut from = *cursor;
        while let Some(found) = self.text.get(from..)?.find("\"name\"") {
            let key = from + found;
            let after_key = key + "\"name\"".len();
            let rest = self.text[after_key..].trim_start();
            if let Some(value) = rest.strip_prefix(':').map(str::trim_start)
                && let Some(value) = value.strip_prefix('"')
                && value.strip_prefix(name).is_some_and(|r| r.starts_with('"'))
            {
                *cursor = after_key;
                return Some(self.line_of(key));
            }
            from = after_key;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_split_vendor_and_keep_the_version() {
        assert_eq!(
            purl("symfony/console", Some("v6.4.1")).unwrap().as_str(),
            "pkg:composer/symfony/console@v6.4.1"
        );
        assert_eq!(
            purl("monolog/monolog", Some("dev-main")).unwrap().as_str(),
            "pkg:composer/monolog/monolog@dev-main"
        );
    }

    #[test]
    fn name_lines_skip_author_names() {
        let text = "[\n {\"name\": \"a/b\",\n  \"authors\": [{\"name\": \"C D\"}]},\n {\"name\" :  \"c/d\"}\n]";
        let finder = LineFinder::new(text);
        let mut cursor = 0;
        assert_eq!(finder.name_line(&mut cursor, "a/b"), Some(2));
        assert_eq!(finder.name_line(&mut cursor, "c/d"), Some(4));
        assert_eq!(finder.name_line(&mut cursor, "e/f"), None);
    }
}
