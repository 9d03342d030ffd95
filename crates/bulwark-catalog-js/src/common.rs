//! What the JavaScript catalogers share: npm purls, `integrity` strings, what a `resolved`
//! URL says about where a package came from, the shape of `node_modules` trees, order-keeping
//! map parsing, YAML budgets, and scope propagation over a dependency graph.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use bulwark_catalog::{CatalogError, CatalogOutput, Resolver};
use bulwark_inventory::{
    Component, ComponentId, Ecosystem, Hash, HashAlgorithm, Location, PackageSource, Problem, Purl,
    Relationship, RelationshipKind, Scope,
};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Why a JavaScript lockfile or manifest could not be read at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsError {
    /// Not readable (missing, too large, not UTF-8).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// Not JSON.
    #[error("not a valid JSON file")]
    Json(#[source] serde_json::Error),
    /// Not YAML.
    #[error("not a valid YAML lockfile")]
    Yaml(#[source] serde_saphyr::Error),
    /// JSON, but `null` or another non-object at the top.
    #[error("the file holds JSON `{found}`, not an object")]
    NotAnObject {
        /// What the top-level value was.
        found: &'static str,
    },
    /// A `yarn.lock` v1 line that is not part of the format.
    #[error("line {line} is not yarn lockfile syntax: `{text}`")]
    YarnSyntax {
        /// 1-based line.
        line: u32,
        /// The line, shortened.
        text: String,
    },
}

/// Reads `path` as text; `None` when it holds nothing but whitespace (an empty lockfile is
/// an empty lock, not a broken one).
pub(crate) fn read_text(
    resolver: &dyn Resolver,
    path: &str,
) -> Result<Option<String>, CatalogError> {
    let text = resolver.read_to_string(path).map_err(JsError::Read)?;
    Ok((!text.trim().is_empty()).then_some(text))
}

/// Deserializes JSON, pointing the error at its line. `null` and other non-objects at the
/// top level are errors: no npm file is anything but an object.
pub(crate) fn parse_json_object<T: DeserializeOwned>(text: &str) -> Result<T, CatalogError> {
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        let found = match first {
            Some('n') => "null",
            Some('[') => "array",
            Some('"') => "string",
            Some('t' | 'f') => "boolean",
            Some(c) if c == '-' || c.is_ascii_digit() => "number",
            _ => "",
        };
        if !found.is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return Err(CatalogError::new(JsError::NotAnObject { found }));
        }
    }
    serde_json::from_str(text).map_err(|error| {
        let line = u32::try_from(error.line()).ok().filter(|l| *l > 0);
        let error = CatalogError::new(JsError::Json(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

/// YAML parser settings for untrusted input: no alias bombs, bounded nesting and node
/// counts, one-line error messages.
fn yaml_options() -> serde_saphyr::Options {
    // Lockfiles use no anchors; a few are tolerated for hand-edited files.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 32;
    // A monorepo's pnpm lock has tens of thousands of packages with a dozen nodes each; the
    // default 250,000 is too tight, and the resolver already caps the file size.
    budget.max_nodes = 8_000_000;
    budget.max_events = 16_000_000;
    serde_saphyr::options! {
        budget: Some(budget),
        with_snippet: false,
    }
}

/// Parses untrusted YAML with [`yaml_options`]' budgets; a syntax error points at its line.
pub(crate) fn parse_yaml<T: DeserializeOwned>(text: &str) -> Result<T, CatalogError> {
    serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|error| {
        let line = error.location().as_ref().and_then(yaml_line);
        let error = CatalogError::new(JsError::Yaml(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

/// The 1-based line of a YAML location.
pub(crate) fn yaml_line(location: &serde_saphyr::Location) -> Option<u32> {
    u32::try_from(location.line()).ok().filter(|&line| line > 0)
}

/// A JSON object or YAML mapping as its entries in document order, so that entries can be
/// matched to their lines by scanning forward, and repeated keys are not silently merged.
#[derive(Debug)]
pub(crate) struct Entries<K, V>(pub(crate) Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
            type Value = Entries<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // The size hint comes from the input: cap it, so a lying hint cannot reserve
                // gigabytes up front.
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }

            // YAML writes an empty mapping as nothing at all (`packages:`).
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// A YAML scalar read as text whatever its type: `lockfileVersion: 5.4` and
/// `lockfileVersion: '6.0'` mean the same, and so do `version: 1.10` and `version: '1.10'`
/// (but a float would print the first as `1.1`, so numbers are taken as written by the
/// parser's string view where it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scalar(pub(crate) String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }

        // `deserialize_str` makes serde-saphyr hand over a plain scalar's text as written.
        deserializer.deserialize_str(ScalarVisitor)
    }
}

/// The `pkg:npm` purl of `name` (`@scope/name` puts the scope in the namespace).
pub(crate) fn npm_purl(name: &str, version: Option<&str>) -> Option<Purl> {
    match split_scope(name) {
        Some((scope, bare)) => Purl::builder(Ecosystem::Npm, bare)
            .namespace(scope)
            .version(version)
            .build(),
        None => Purl::builder(Ecosystem::Npm, name).version(version).build(),
    }
}

/// `@scope/name` → (`@scope`, `name`).
fn split_scope(name: &str) -> Option<(&str, &str)> {
    if !name.starts_with('@') {
        return None;
    }
    name.split_once('/')
        .filter(|(scope, bare)| scope.len() > 1 && !bare.is_empty())
}

/// An npm package sighting as a component with its purl.
pub(crate) fn npm_component(
    name: &str,
    version: Option<&str>,
    path: &str,
    line: Option<u32>,
    found_by: &str,
) -> Component {
    let mut location = Location::new(path);
    location.line = line;
    let mut component = Component::package(Ecosystem::Npm, name, version, location, found_by);
    component.purl = npm_purl(name, version);
    component
}

/// Splits a package specifier `name@range` (`@scope/name@^1`, `alias@npm:real@1`) at the
/// first `@` that is not the scope's; a bare name has an empty range.
pub(crate) fn split_spec(spec: &str) -> (&str, &str) {
    let search_from = usize::from(spec.starts_with('@'));
    match spec[search_from..].find('@') {
        Some(at) => (&spec[..search_from + at], &spec[search_from + at + 1..]),
        None => (spec, ""),
    }
}

/// `npm:real-name@1.2.3` (an alias) → (`real-name`, `1.2.3`).
pub(crate) fn npm_alias(range: &str) -> Option<(&str, &str)> {
    let (name, version) = split_spec(range.strip_prefix("npm:")?);
    (!name.is_empty()).then_some((name, version))
}

/// Adds the digests of an npm `integrity` string (Subresource Integrity: space-separated
/// `sha512-<base64>` entries). Entries bulwark cannot represent are skipped: the string is
/// machine-written, and a digest that does not decode is simply not reported.
pub(crate) fn add_integrity(hashes: &mut BTreeSet<Hash>, integrity: &str) {
    for entry in integrity.split_whitespace() {
        let Some((algorithm, digest)) = entry.split_once('-') else {
            continue;
        };
        // SRI allows `?options` after the digest.
        let digest = digest.split('?').next().unwrap_or(digest);
        let Some(algorithm) = HashAlgorithm::from_name(algorithm) else {
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(digest) else {
            continue;
        };
        if let Some(hash) = Hash::new(algorithm, &hex::encode(bytes)) {
            hashes.insert(hash);
        }
    }
}

/// Whether `revision` is a full commit id (SHA-1, or SHA-256 for such repositories). Short
/// ids and branch names are not commits: `#main` names a moving target.
pub(crate) fn is_commit(revision: &str) -> bool {
    matches!(revision.len(), 40 | 64) && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Drops credentials from a URL: lockfiles written with a token in a registry or git URL
/// (`https://token@host/…`, `https://user:password@host/…`) must not leak it into an SBOM.
/// The plain user of an ssh URL (`ssh://git@host/…`) is no secret and is kept.
pub(crate) fn without_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let is_http = url[..scheme_end].ends_with("http") || url[..scheme_end].ends_with("https");
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    match authority.rfind('@') {
        Some(at) if is_http || authority[..at].contains(':') => format!(
            "{}{}",
            &url[..authority_start],
            &url[authority_start + at + 1..]
        ),
        _ => url.to_owned(),
    }
}

/// The commit a URL fragment names: `#<sha>`, `#commit=<sha>`, `#commit:<sha>` (yarn berry),
/// possibly among other `&`-separated parameters.
fn fragment_commit(fragment: &str) -> Option<String> {
    if is_commit(fragment) {
        return Some(fragment.to_owned());
    }
    fragment.split('&').find_map(|parameter| {
        let sha = parameter
            .strip_prefix("commit=")
            .or_else(|| parameter.strip_prefix("commit:"))?;
        is_commit(sha).then(|| sha.to_owned())
    })
}

/// Whether a URL path is a package archive (whose `#fragment` is a digest, not a commit).
fn is_archive(path: &str) -> bool {
    path.ends_with(".tgz") || path.ends_with(".tar.gz") || path.ends_with(".tar")
}

/// Where a package came from, as its `resolved`/`resolution` text says, for npm, yarn and
/// pnpm alike. `name` is the package's name, used to find the registry base of a
/// `<registry>/<name>/-/<file>.tgz` tarball URL. `None` for nothing recognizable.
///
/// - git URLs (`git+ssh://`, `git://`, `github:owner/repo#sha`, `https://host/repo#commit=`)
///   are VCS sources, the commit taken from the fragment;
/// - GitHub's `codeload` tarballs and GitLab's `archive.tar.gz?ref=` downloads of a commit are
///   VCS sources of that commit;
/// - registry tarballs are the registry, everything else on http(s) a URL;
/// - `file:`, `link:` and bare relative paths are local directories or archives.
pub(crate) fn source_of(resolved: &str, name: &str) -> Option<PackageSource> {
    let resolved = resolved.trim();
    if resolved.is_empty() {
        return None;
    }
    for prefix in ["file:", "link:", "portal:"] {
        if let Some(path) = resolved.strip_prefix(prefix) {
            // yarn berry appends `::locator=…` to local paths.
            let path = path.split("::").next().unwrap_or(path);
            let path = path.split('#').next().unwrap_or(path);
            return Some(PackageSource::Path {
                path: path.to_owned(),
                editable: false,
            });
        }
    }
    let (without_fragment, fragment) = match resolved.split_once('#') {
        Some((url, fragment)) => (url, Some(fragment)),
        None => (resolved, None),
    };
    let (base, query) = match without_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (without_fragment, None),
    };

    let shorthand = ["github:", "gitlab:", "bitbucket:", "gist:"]
        .iter()
        .any(|p| resolved.starts_with(p));
    let git_scheme = resolved.starts_with("git+")
        || resolved.starts_with("git://")
        || resolved.starts_with("ssh://")
        || resolved.starts_with("git@");
    if shorthand || git_scheme {
        let url = without_fragment
            .strip_prefix("git+")
            .unwrap_or(without_fragment);
        return Some(vcs(url, fragment.and_then(fragment_commit)));
    }
    if !(resolved.starts_with("https://") || resolved.starts_with("http://")) {
        // A bare relative path: npm's `resolved` of a linked workspace or file dependency.
        if !resolved.contains("://") && !resolved.contains(':') {
            return Some(PackageSource::Path {
                path: resolved.to_owned(),
                editable: false,
            });
        }
        return None;
    }

    // `https://codeload.github.com/<owner>/<repo>/tar.gz/<sha>`.
    if let Some(rest) = base
        .strip_prefix("https://codeload.github.com/")
        .or_else(|| base.strip_prefix("http://codeload.github.com/"))
    {
        let parts: Vec<&str> = rest.split('/').collect();
        if let [owner, repo, "tar.gz" | "zip", sha] = parts.as_slice()
            && is_commit(sha)
        {
            let url = format!("https://github.com/{owner}/{repo}");
            return Some(vcs(&url, Some((*sha).to_owned())));
        }
    }
    // `https://gitlab.com/<group>/<repo>/repository/archive.tar.gz?ref=<sha>`.
    if let Some((repository, _)) = base.split_once("/repository/archive")
        && let Some(sha) = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|parameter| parameter.strip_prefix("ref="))
            .filter(|sha| is_commit(sha))
    {
        return Some(vcs(repository, Some(sha.to_owned())));
    }
    let host_path = base.split_once("://").map_or(base, |(_, rest)| rest);
    if !is_archive(host_path)
        && let Some(commit) = fragment.and_then(fragment_commit)
    {
        return Some(vcs(without_fragment, Some(commit)));
    }
    if !name.is_empty() {
        let marker = format!("/{name}/-/");
        if let Some(at) = base.find(&marker) {
            return Some(PackageSource::Registry {
                url: without_credentials(&base[..at]),
            });
        }
    }
    Some(PackageSource::Url {
        url: without_credentials(without_fragment),
    })
}

fn vcs(url: &str, commit: Option<String>) -> PackageSource {
    PackageSource::Vcs {
        vcs: "git".to_owned(),
        url: without_credentials(url),
        requested_revision: None,
        commit,
    }
}

/// Where a directory lies relative to `node_modules` trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeModulesPlace {
    /// Not inside any `node_modules`.
    Outside,
    /// A `node_modules` directory itself (or a `@scope` folder in one, or pnpm's store).
    Container,
    /// The root of an installed package: `node_modules/<name>`, `node_modules/@scope/<name>`.
    PackageRoot,
    /// Inside an installed package's own files (`node_modules/x/lib`), where no other
    /// package is installed unless through a further `node_modules`.
    PackageContent,
}

/// Classifies a target-relative directory path (`/`-separated).
///
/// pnpm keeps the real packages in `node_modules/.pnpm/<name>@<version>/node_modules/<name>`;
/// that store is a container too. `node_modules/.bin` holds only links to executables.
pub(crate) fn node_modules_place(dir: &str) -> NodeModulesPlace {
    #[derive(Clone, Copy)]
    enum State {
        Outside,
        NodeModules,
        Scope,
        Package,
        PnpmStore,
        PnpmEntry,
        Content,
    }
    let mut state = State::Outside;
    for segment in dir.split('/').filter(|s| !s.is_empty()) {
        state = match state {
            State::Outside => {
                if segment == "node_modules" {
                    State::NodeModules
                } else {
                    State::Outside
                }
            }
            State::NodeModules => match segment {
                ".pnpm" => State::PnpmStore,
                s if s.starts_with('@') => State::Scope,
                s if s.starts_with('.') => State::Content,
                _ => State::Package,
            },
            State::Scope => State::Package,
            State::Package | State::PnpmEntry => {
                if segment == "node_modules" {
                    State::NodeModules
                } else {
                    State::Content
                }
            }
            State::PnpmStore => {
                if segment == "node_modules" {
                    State::NodeModules
                } else {
                    State::PnpmEntry
                }
            }
            State::Content => State::Content,
        };
        if matches!(state, State::Content) {
            break;
        }
    }
    match state {
        State::Outside => NodeModulesPlace::Outside,
        State::NodeModules | State::Scope | State::PnpmStore | State::PnpmEntry => {
            NodeModulesPlace::Container
        }
        State::Package => NodeModulesPlace::PackageRoot,
        State::Content => NodeModulesPlace::PackageContent,
    }
}

/// Whether a lockfile at `path` belongs to the project being scanned rather than to an
/// installed package's own sources (`node_modules/x/yarn.lock` is a file of `x`'s repository
/// that was published by accident, not something installed here).
pub(crate) fn is_project_lockfile(dir: &str) -> bool {
    !dir.split('/').any(|segment| segment == "node_modules")
}

/// Whether the walk should enter `dir` for any JavaScript cataloger: never `.git`, and never
/// the inside of an installed package, where only a nested `node_modules` could hold more
/// packages. Checking each path segment keeps this O(path length).
pub(crate) fn descend(dir: &str) -> bool {
    // Node packages vendored inside an installed Python package (gradio ships a
    // `node_modules`) are that package's own files, as its manifests are.
    if dir.split('/').any(|segment| segment == ".git")
        || bulwark_catalog::is_installed_package_content(dir)
    {
        return false;
    }
    node_modules_place(dir) != NodeModulesPlace::PackageContent
}

/// `from` depends on `to`.
pub(crate) fn depends_on(from: &Component, to: &Component) -> Relationship {
    Relationship {
        from: ComponentId::of(from),
        kind: RelationshipKind::DependsOn,
        to: ComponentId::of(to),
    }
}

/// A recoverable problem in `path` found by `cataloger`.
pub(crate) fn problem(path: &str, line: Option<u32>, cataloger: &str, message: String) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        cataloger: Some(cataloger.to_owned()),
        message,
    }
}

/// An output of components, edges between them given as index pairs (repeats and
/// self-edges dropped), and problems.
pub(crate) fn output(
    components: Vec<Component>,
    edges: &[(usize, usize)],
    problems: Vec<Problem>,
) -> CatalogOutput {
    let mut relationships: Vec<Relationship> = edges
        .iter()
        .filter(|(from, to)| from != to)
        .filter_map(|(from, to)| Some(depends_on(components.get(*from)?, components.get(*to)?)))
        .filter(|r| r.from != r.to)
        .collect();
    relationships.sort();
    relationships.dedup();
    CatalogOutput {
        components,
        relationships,
        requests: Vec::new(),
        problems,
        findings: Vec::new(),
    }
}

/// The scope of every node reachable from `roots` (each root with its own scope): the
/// narrowest over all paths, where a path is as wide as its root's scope (a package needed
/// only by dev tools is dev-only unless a run-time path also reaches it). Unreachable nodes
/// get `None`.
pub(crate) fn reachable_scopes(
    count: usize,
    roots: &[(usize, Scope)],
    edges: &[(usize, usize)],
) -> Vec<Option<Scope>> {
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (from, to) in edges {
        if *to < count
            && let Some(list) = outgoing.get_mut(*from)
        {
            list.push(*to);
        }
    }
    let mut scopes: Vec<Option<Scope>> = vec![None; count];
    let mut queue = VecDeque::new();
    for (root, scope) in roots {
        if *root < count && scopes[*root].is_none_or(|current| *scope < current) {
            scopes[*root] = Some(*scope);
            queue.push_back(*root);
        }
    }
    // Scopes only ever narrow, through three levels, so each node is queued at most three
    // times: the loop ends on any graph, cycles included.
    while let Some(node) = queue.pop_front() {
        let Some(scope) = scopes[node] else { continue };
        for to in &outgoing[node] {
            if scopes[*to].is_none_or(|current| scope < current) {
                scopes[*to] = Some(scope);
                queue.push_back(*to);
            }
        }
    }
    scopes
}

/// Where each line of a text starts, so that many byte offsets become line numbers in
/// O(log n) each.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Self(starts)
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let line = self.0.partition_point(|start| *start <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

/// Finds the lines of a JSON document's object keys in document order, scanning forward
/// once. After a key is not found (written with escapes, say) it gives up rather than
/// rescanning the rest of the text for every later key, which would make a hostile file
/// quadratic; later entries then have no line.
pub(crate) struct KeyLines<'a> {
    text: &'a str,
    lines: LineIndex,
    cursor: Option<usize>,
}

impl<'a> KeyLines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            lines: LineIndex::new(text),
            cursor: Some(0),
        }
    }

    /// The line of the next `"key": {` after the previous one found.
    pub(crate) fn next(&mut self, key: &str) -> Option<u32> {
        let found = find_object_key(self.text, key, self.cursor?);
        self.cursor = found.map(|(_, after)| after);
        found.map(|(at, _)| self.lines.line(at))
    }
}

/// The offset of the first `"key": {` at or after `from` in JSON text (an object-valued key,
/// so a `"key": "range"` in a `requires` map is passed over), and the offset after the key.
pub(crate) fn find_object_key(text: &str, key: &str, from: usize) -> Option<(usize, usize)> {
    let needle = format!("\"{key}\"");
    let mut cursor = from;
    loop {
        let at = text.get(cursor..)?.find(&needle)? + cursor;
        let after = at + needle.len();
        let rest = text[after..].trim_start();
        if let Some(value) = rest.strip_prefix(':')
            && value.trim_start().starts_with('{')
        {
            return Some((at, after));
        }
        cursor = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_purls_use_the_namespace() {
        assert_eq!(
            npm_purl("@babel/code-frame", Some("7.0.0"))
                .unwrap()
                .as_str(),
            "pkg:npm/%40babel/code-frame@7.0.0"
        );
        assert_eq!(
            npm_purl("wrappy", Some("1.0.2")).unwrap().as_str(),
            "pkg:npm/wrappy@1.0.2"
        );
        assert_eq!(
            npm_purl("domino", Some("2.1.6+git")).unwrap().as_str(),
            "pkg:npm/domino@2.1.6%2Bgit"
        );
    }

    #[test]
    fn specifiers_split_after_the_scope() {
        assert_eq!(split_spec("@babel/core@^7.0.0"), ("@babel/core", "^7.0.0"));
        assert_eq!(split_spec("a@npm:b@1"), ("a", "npm:b@1"));
        assert_eq!(split_spec("balanced-match"), ("balanced-match", ""));
        assert_eq!(split_spec("@scope/bare"), ("@scope/bare", ""));
        assert_eq!(
            npm_alias("npm:@babel/core@7.1.0"),
            Some(("@babel/core", "7.1.0"))
        );
        assert_eq!(npm_alias("^1.0.0"), None);
    }

    #[test]
    fn integrity_becomes_hex_digests() {
        let mut hashes = BTreeSet::new();
        add_integrity(
            &mut hashes,
            "sha1-tSQ9jz7BqjXxNkYFvA0QNuMKtp8= sha512-notbase64!! md4-AAAA",
        );
        let hashes: Vec<_> = hashes.into_iter().collect();
        assert_eq!(hashes.len(), 1);
        assert_eq!(hashes[0].algorithm, HashAlgorithm::Sha1);
        assert_eq!(hashes[0].value, "b5243d8f3ec1aa35f1364605bc0d1036e30ab69f");
    }

    #[test]
    fn resolved_urls_become_sources() {
        let commit = "3b1bb80b302c2e552685dc8a029797ec832ea7c9";
        let vcs_commit = |source: Option<PackageSource>| match source {
            Some(PackageSource::Vcs { commit, url, .. }) => (url, commit),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            vcs_commit(source_of(
                &format!("git+ssh://git@github.com/o/r.git#{commit}"),
                "x"
            )),
            (
                "ssh://git@github.com/o/r.git".to_owned(),
                Some(commit.to_owned())
            )
        );
        assert_eq!(
            vcs_commit(source_of(&format!("github:o/r#{commit}"), "x")).1,
            Some(commit.to_owned())
        );
        assert_eq!(
            vcs_commit(source_of(
                &format!("https://codeload.github.com/o/r/tar.gz/{commit}"),
                "x"
            )),
            ("https://github.com/o/r".to_owned(), Some(commit.to_owned()))
        );
        assert_eq!(
            vcs_commit(source_of(
                &format!("https://tok@github.com/o/r.git#commit={commit}"),
                "x"
            )),
            (
                "https://github.com/o/r.git".to_owned(),
                Some(commit.to_owned())
            )
        );
        // A branch is no commit.
        assert_eq!(vcs_commit(source_of("github:o/r#main", "x")).1, None);
        // The fragment of a registry tarball is its SHA-1, not a commit.
        assert_eq!(
            source_of(
                &format!("https://user:secret@yarn.registry.invalid/@s/x/-/x-1.0.0.tgz#{commit}"),
                "@s/x"
            ),
            Some(PackageSource::Registry {
                url: "https://yarn.registry.invalid".to_owned()
            })
        );
        assert_eq!(
            source_of("https://cdn.invalid/x.tgz", "x"),
            Some(PackageSource::Url {
                url: "https://cdn.invalid/x.tgz".to_owned()
            })
        );
        assert_eq!(
            source_of("file:deps/x", "x"),
            Some(PackageSource::Path {
                path: "deps/x".to_owned(),
                editable: false
            })
        );
        assert_eq!(source_of("", "x"), None);
    }

    #[test]
    fn places_in_node_modules_trees() {
        use NodeModulesPlace::*;
        for (dir, place) in [
            ("", Outside),
            ("app/src", Outside),
            ("app/node_modules", Container),
            ("app/node_modules/@babel", Container),
            ("app/node_modules/@babel/core", PackageRoot),
            ("app/node_modules/@babel/core/lib", PackageContent),
            ("node_modules/x", PackageRoot),
            ("node_modules/x/lib/deep", PackageContent),
            ("node_modules/x/node_modules", Container),
            ("node_modules/x/node_modules/y", PackageRoot),
            ("node_modules/.bin", PackageContent),
            ("node_modules/.pnpm", Container),
            ("node_modules/.pnpm/a@1.0.0", Container),
            ("node_modules/.pnpm/a@1.0.0/node_modules/a", PackageRoot),
            ("node_modules/.pnpm/a@1.0.0/dist", PackageContent),
        ] {
            assert_eq!(node_modules_place(dir), place, "{dir}");
        }
        assert!(!descend("a/.git"));
        assert!(!descend("node_modules/x/test"));
        assert!(descend("node_modules/x/node_modules/@s/y"));
    }

    #[test]
    fn scopes_flow_from_roots() {
        // 0 (required root) → 1 → 2; 3 (dev root) → 2, 3 → 4; 5 unreachable.
        let scopes = reachable_scopes(
            6,
            &[(0, Scope::Required), (3, Scope::Development)],
            &[(0, 1), (1, 2), (3, 2), (3, 4), (2, 1)],
        );
        assert_eq!(
            scopes,
            [
                Some(Scope::Required),
                Some(Scope::Required),
                Some(Scope::Required),
                Some(Scope::Development),
                Some(Scope::Development),
                None
            ]
        );
    }

    #[test]
    fn object_keys_skip_string_values() {
        let text = r#"{"requires": {"b": "^1"}, "dependencies": {"b": {"version": "1"}}}"#;
        let (at, _) = find_object_key(text, "b", 0).unwrap();
        assert!(text[at..].starts_with("\"b\": {"));
        assert_eq!(find_object_key(text, "c", 0), None);
    }

    #[test]
    fn credentials_are_dropped() {
        assert_eq!(
            without_credentials("https://u:p@h.invalid/a@b"),
            "https://h.invalid/a@b"
        );
        assert_eq!(
            without_credentials("https://h.invalid/x"),
            "https://h.invalid/x"
        );
        assert_eq!(
            without_credentials("git+https://token@h.invalid/x"),
            "git+https://h.invalid/x"
        );
        assert_eq!(
            without_credentials("ssh://git@h.invalid/x"),
            "ssh://git@h.invalid/x"
        );
    }
}
