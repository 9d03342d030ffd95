//! What the Python lockfile catalogers share: reading and parsing the file, finding a
//! package's line cheaply, matching dependency names to lock entries, and working out a
//! package's scope from the dependency graph.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::str::FromStr;

use bulwark_catalog::{CatalogError, CatalogOutput, Resolver};
use bulwark_inventory::{
    Component, ComponentId, Ecosystem, Hash, HashAlgorithm, Location, PackageName, Relationship,
    RelationshipKind, Scope,
};
use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use serde::de::DeserializeOwned;

/// Why a lockfile could not be read at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockfileError {
    /// Not readable (missing, too large, not UTF-8).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// Not TOML.
    #[error("not a valid TOML lockfile")]
    Toml(#[source] toml::de::Error),
    /// Not JSON.
    #[error("not a valid JSON lockfile")]
    Json(#[source] serde_json::Error),
}

/// Reads `path` as text; `None` when it holds nothing but whitespace (an empty lockfile is
/// an empty lock, not a broken one).
pub(crate) fn read_text(
    resolver: &dyn Resolver,
    path: &str,
) -> Result<Option<String>, CatalogError> {
    let text = resolver.read_to_string(path).map_err(LockfileError::Read)?;
    Ok((!text.trim().is_empty()).then_some(text))
}

/// Deserializes TOML, pointing the error at its line.
pub(crate) fn parse_toml<T: DeserializeOwned>(text: &str) -> Result<T, CatalogError> {
    toml::from_str(text).map_err(|error| {
        let line = error.span().map(|span| line_at(text, span.start));
        let error = CatalogError::new(LockfileError::Toml(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

/// Deserializes JSON, pointing the error at its line.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, CatalogError> {
    serde_json::from_str(text).map_err(|error| {
        let line = u32::try_from(error.line()).ok().filter(|l| *l > 0);
        let error = CatalogError::new(LockfileError::Json(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

/// The 1-based line of a byte offset.
pub(crate) fn line_at(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    let newlines = text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The PEP 503 normalized name, the key lock entries are matched by.
pub(crate) fn normalized(name: &str) -> PackageName {
    PackageName::new(Ecosystem::PyPI, name)
}

/// A PyPI lock entry as a component.
pub(crate) fn lock_component(
    name: &str,
    version: Option<&str>,
    path: &str,
    line: Option<u32>,
    found_by: &str,
) -> Component {
    let mut location = Location::new(path);
    location.line = line;
    Component::package(Ecosystem::PyPI, name, version, location, found_by)
}

/// Parses an `algorithm:hex` digest, ignoring what is not one (lockfiles are machine-written;
/// a digest bulwark cannot represent is simply not reported).
pub(crate) fn add_prefixed_hash(hashes: &mut BTreeSet<Hash>, prefixed: Option<&str>) {
    if let Some(hash) = prefixed.and_then(Hash::parse_prefixed) {
        hashes.insert(hash);
    }
}

/// Adds the digests of a PEP 751 `hashes = { sha256 = "…" }` table.
pub(crate) fn add_hash_table(hashes: &mut BTreeSet<Hash>, table: &BTreeMap<String, String>) {
    hashes.extend(
        table.iter().filter_map(|(algorithm, digest)| {
            Hash::new(HashAlgorithm::from_name(algorithm)?, digest)
        }),
    );
}

/// The lines of the `[[package]]`-style blocks of a TOML lockfile, to find a package's line
/// without a span-keeping parser.
///
/// Package `k` of the parsed array is the `k`-th block. Its line is the block's
/// `name = "<name>"` line; searching for the known name (rather than the first `name =`
/// line) is what keeps a multi-line description that contains `name = "other"` harmless.
pub(crate) struct PackageBlocks<'a> {
    lines: Vec<&'a str>,
    /// Half-open ranges of line indexes.
    blocks: Vec<(usize, usize)>,
}

impl<'a> PackageBlocks<'a> {
    /// Splits `text` at each `header` line (`[[package]]`).
    pub(crate) fn new(text: &'a str, header: &str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let starts: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.trim_start().starts_with(header))
            .map(|(index, _)| index)
            .collect();
        let blocks = starts
            .iter()
            .enumerate()
            .map(|(k, start)| (*start, starts.get(k + 1).copied().unwrap_or(lines.len())))
            .collect();
        Self { lines, blocks }
    }

    /// The 1-based line of package `index` (of `count` parsed packages) named `name`. When
    /// the headers do not line up with the parsed packages (inline arrays), the first
    /// matching line anywhere.
    pub(crate) fn name_line(&self, index: usize, count: usize, name: &str) -> Option<u32> {
        let (start, end) = if self.blocks.len() == count {
            *self.blocks.get(index)?
        } else {
            (0, self.lines.len())
        };
        (start..end)
            .find(|i| is_key_value(self.lines[*i], "name", name))
            .and_then(|i| u32::try_from(i + 1).ok())
    }
}

/// The 1-based line of the first `key = "value"` line of `text`, at or after line `from`.
pub(crate) fn key_value_line(text: &str, from: u32, key: &str, value: &str) -> Option<u32> {
    let skip = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
    text.lines()
        .enumerate()
        .skip(skip)
        .find(|(_, line)| is_key_value(line, key, value))
        .and_then(|(index, _)| u32::try_from(index + 1).ok())
}

/// The 1-based line of the first line that is exactly `header` (a TOML table header).
pub(crate) fn header_line(text: &str, header: &str) -> Option<u32> {
    text.lines()
        .position(|line| line.trim() == header)
        .and_then(|index| u32::try_from(index + 1).ok())
}

/// Whether `line` is `key = "value"` (either quote style, any spacing, inline table too).
fn is_key_value(line: &str, key: &str, value: &str) -> bool {
    let line = line.trim_start().trim_start_matches(['{', ' ']);
    let Some(rest) = line.strip_prefix(key) else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix('=') else {
        return false;
    };
    let rest = rest.trim_start();
    [('"', '"'), ('\'', '\'')].iter().any(|(open, close)| {
        rest.strip_prefix(*open)
            .and_then(|r| r.strip_prefix(value))
            .is_some_and(|r| r.starts_with(*close))
    })
}

/// Where each line of a text starts, so that many byte offsets become line numbers in
/// O(log n) each instead of a rescan of the text per lookup (a 250 KB `Pipfile.lock` has
/// hundreds of entries).
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

/// The 1-based line of the first `"key"` at or after `from` in JSON text, and the offset
/// after it.
pub(crate) fn json_key_line(
    text: &str,
    lines: &LineIndex,
    key: &str,
    from: usize,
) -> Option<(u32, usize)> {
    let needle = format!("\"{key}\"");
    let at = text.get(from..)?.find(&needle)? + from;
    Some((lines.line(at), at + needle.len()))
}

/// Lock entries by normalized name, to turn a dependency name into edges.
pub(crate) struct PackageIndex {
    by_name: BTreeMap<PackageName, Vec<(usize, Option<String>)>>,
}

impl PackageIndex {
    /// Indexes `components` by name.
    pub(crate) fn new(components: &[Component]) -> Self {
        let mut by_name: BTreeMap<PackageName, Vec<(usize, Option<String>)>> = BTreeMap::new();
        for (index, component) in components.iter().enumerate() {
            by_name
                .entry(normalized(&component.name))
                .or_default()
                .push((index, component.version.clone()));
        }
        Self { by_name }
    }

    /// The entries a dependency on `name` means. A lockfile can hold one name at several
    /// versions (one per Python version or platform); then an exact `version`, or else a
    /// PEP 440 `specifier` the candidates satisfy, picks; when neither narrows it down the
    /// dependency stands for all of them.
    pub(crate) fn resolve(
        &self,
        name: &str,
        version: Option<&str>,
        specifier: Option<&str>,
    ) -> Vec<usize> {
        let Some(candidates) = self.by_name.get(&normalized(name)) else {
            return Vec::new();
        };
        let all = || candidates.iter().map(|(index, _)| *index).collect();
        if candidates.len() == 1 {
            return all();
        }
        if let Some(version) = version {
            let exact: Vec<usize> = candidates
                .iter()
                .filter(|(_, v)| v.as_deref() == Some(version))
                .map(|(index, _)| *index)
                .collect();
            if !exact.is_empty() {
                return exact;
            }
        }
        if let Some(specifiers) = specifier.and_then(|s| VersionSpecifiers::from_str(s).ok()) {
            let matching: Vec<usize> = candidates
                .iter()
                .filter(|(_, v)| {
                    v.as_deref()
                        .and_then(|v| Version::from_str(v).ok())
                        .is_some_and(|v| specifiers.contains(&v))
                })
                .map(|(index, _)| *index)
                .collect();
            if !matching.is_empty() {
                return matching;
            }
        }
        all()
    }
}

/// `from` depends on `to`.
pub(crate) fn depends_on(from: &Component, to: &Component) -> Relationship {
    Relationship {
        from: ComponentId::of(from),
        kind: RelationshipKind::DependsOn,
        to: ComponentId::of(to),
    }
}

/// A lockfile's output: its components and their edges, sorted and without repeats.
pub(crate) fn output(
    components: Vec<Component>,
    mut relationships: Vec<Relationship>,
) -> CatalogOutput {
    relationships.sort();
    relationships.dedup();
    CatalogOutput {
        components,
        relationships,
        ..CatalogOutput::default()
    }
}

/// Edges between lock entries as `(from, to, scope of the edge)`: `Required` for a plain
/// dependency, `Optional` through an extra, `Development` through a dev group.
pub(crate) type ScopedEdge = (usize, usize, Scope);

/// The scope of every node reachable from `roots`: the narrowest over all paths, where a
/// path is as wide as its widest edge (a package needed by a dev tool is dev-only unless a
/// run-time path also reaches it). Unreachable nodes get `None`.
pub(crate) fn reachable_scopes(
    count: usize,
    roots: &[usize],
    edges: &[ScopedEdge],
) -> Vec<Option<Scope>> {
    let mut outgoing: Vec<Vec<(usize, Scope)>> = vec![Vec::new(); count];
    for (from, to, scope) in edges {
        if let Some(list) = outgoing.get_mut(*from) {
            list.push((*to, *scope));
        }
    }
    let mut scopes: Vec<Option<Scope>> = vec![None; count];
    let mut queue = VecDeque::new();
    for root in roots {
        if *root < count {
            scopes[*root] = Some(Scope::Required);
            queue.push_back(*root);
        }
    }
    // Scopes only ever narrow, through three levels, so each node is queued at most three
    // times: the loop ends on any graph, cycles included.
    while let Some(node) = queue.pop_front() {
        let Some(scope) = scopes[node] else { continue };
        for (to, edge) in &outgoing[node] {
            let reached = scope.max(*edge);
            if scopes[*to].is_none_or(|current| reached < current) {
                scopes[*to] = Some(reached);
                queue.push_back(*to);
            }
        }
    }
    scopes
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for the catalogers' tests.

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef};
    use bulwark_inventory::{Component, PackageSource, Scope};
    use serde::Deserialize;

    /// `testdata/<folder>`.
    pub(crate) fn testdata(folder: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(folder)
    }

    /// Catalogs `path` under `testdata/<folder>` as an explicitly named file.
    pub(crate) fn catalog_fixture(
        cataloger: &dyn Cataloger,
        folder: &str,
        path: &str,
    ) -> Result<CatalogOutput, CatalogError> {
        let resolver = DirResolver::new(testdata(folder));
        cataloger.catalog(
            &FileRef {
                path,
                explicit: true,
            },
            &resolver,
        )
    }

    /// One case of a fixture folder's `EXPECTED.json`.
    #[derive(Debug, Deserialize)]
    pub(crate) struct ExpectedCase {
        pub(crate) test: String,
        #[serde(default)]
        pub(crate) want_error: Option<String>,
        pub(crate) packages: Vec<ExpectedPackage>,
    }

    /// One expected package.
    #[derive(Debug, Deserialize)]
    pub(crate) struct ExpectedPackage {
        pub(crate) name: String,
        pub(crate) version: String,
        #[serde(default)]
        pub(crate) commit: Option<String>,
    }

    /// `EXPECTED.json` of `testdata/<folder>`: fixture path → cases.
    pub(crate) fn expected(folder: &str) -> BTreeMap<String, Vec<ExpectedCase>> {
        #[derive(Deserialize)]
        struct File {
            expected: BTreeMap<String, Vec<ExpectedCase>>,
        }
        let text = fs_err::read_to_string(testdata(folder).join("EXPECTED.json")).unwrap();
        serde_json::from_str::<File>(&text).unwrap().expected
    }

    /// Checks every case of `testdata/<folder>/EXPECTED.json`: a case that wants an error
    /// gets one; otherwise the `(name, version)` pairs of the components `compared` keeps
    /// are the expected packages plus, for that fixture, the `additions` (`(fixture, name)`
    /// of entries bulwark reports without a version where scalibr drops them), and then
    /// `extra_checks` runs on the case.
    pub(crate) fn assert_expected_json(
        cataloger: &dyn Cataloger,
        folder: &str,
        compared: impl Fn(&Component) -> bool,
        additions: &[(&str, &str)],
        extra_checks: impl Fn(&ExpectedCase, &CatalogOutput),
    ) {
        for (fixture, cases) in expected(folder) {
            let result = catalog_fixture(cataloger, folder, &fixture);
            for case in cases {
                if case.want_error.is_some() {
                    assert!(result.is_err(), "{}", case.test);
                    continue;
                }
                let output = result.as_ref().unwrap();
                let mut want: BTreeSet<(String, String)> = case
                    .packages
                    .iter()
                    .map(|p| (p.name.clone(), p.version.clone()))
                    .collect();
                for (file, name) in additions {
                    if *file == fixture {
                        want.insert(((*name).to_owned(), String::new()));
                    }
                }
                let found = output.components.iter().filter(|c| compared(c));
                assert_eq!(name_versions(found), want, "{}", case.test);
                extra_checks(&case, output);
            }
        }
    }

    /// Every component an expected package states a commit for has that commit in its VCS
    /// source.
    pub(crate) fn assert_commits(case: &ExpectedCase, output: &CatalogOutput) {
        for package in case.packages.iter().filter(|p| p.commit.is_some()) {
            let component = output
                .components
                .iter()
                .find(|c| c.name == package.name)
                .unwrap();
            assert!(
                matches!(&component.source, Some(PackageSource::Vcs { commit, .. }) if commit == &package.commit),
                "{}: {:?}",
                case.test,
                component.source
            );
        }
    }

    /// `(name, version)` pairs, a missing version as `""` the way `EXPECTED.json` writes it.
    pub(crate) fn name_versions<'a>(
        components: impl IntoIterator<Item = &'a Component>,
    ) -> BTreeSet<(String, String)> {
        components
            .into_iter()
            .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
            .collect()
    }

    /// A compact listing for snapshots: `name@version purl scope [source] #hashes :line`.
    pub(crate) fn listing(output: &CatalogOutput) -> String {
        let mut lines: Vec<String> = output
            .components
            .iter()
            .map(|c| {
                let mut line = format!(
                    "{:?} {}@{} {} {}",
                    c.kind,
                    c.name,
                    c.version.as_deref().unwrap_or("-"),
                    c.purl.as_ref().map_or("-", |p| p.as_str()),
                    match c.scope {
                        Scope::Required => "required",
                        Scope::Optional => "optional",
                        Scope::Development => "development",
                    }
                );
                match &c.source {
                    Some(PackageSource::Registry { url }) => line += &format!(" registry={url}"),
                    Some(PackageSource::Url { url }) => line += &format!(" url={url}"),
                    Some(PackageSource::Path { path, editable }) => {
                        line +=
                            &format!(" path={path}{}", if *editable { " editable" } else { "" });
                    }
                    Some(PackageSource::Vcs {
                        vcs,
                        url,
                        requested_revision,
                        commit,
                    }) => {
                        line += &format!(
                            " {vcs}={url} rev={} commit={}",
                            requested_revision.as_deref().unwrap_or("-"),
                            commit.as_deref().unwrap_or("-")
                        );
                    }
                    None => {}
                }
                if !c.hashes.is_empty() {
                    line += &format!(" hashes={}", c.hashes.len());
                }
                for location in &c.locations {
                    line += &format!(
                        " {}:{}",
                        location.path,
                        location.line.map_or("-".to_owned(), |l| l.to_string())
                    );
                }
                line
            })
            .collect();
        lines.sort();
        let mut edges: Vec<String> = output
            .relationships
            .iter()
            .map(|r| format!("{} -> {}", r.from, r.to))
            .collect();
        edges.sort();
        let mut problems: Vec<String> = output
            .problems
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        problems.sort();
        let mut text = lines.join("\n");
        if !edges.is_empty() {
            text += "\n--- edges\n";
            text += &edges.join("\n");
        }
        if !problems.is_empty() {
            text += "\n--- problems\n";
            text += &problems.join("\n");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_name_line_inside_the_right_block() {
        let text = "[[package]]\nname = \"a\"\ndescription = \"\"\"\nname = \"b\"\n\"\"\"\n\n[[package]]\n# name = \"x\"\nname = 'b'\n";
        let blocks = PackageBlocks::new(text, "[[package]]");
        assert_eq!(blocks.name_line(0, 2, "a"), Some(2));
        assert_eq!(blocks.name_line(1, 2, "b"), Some(9));
    }

    #[test]
    fn scopes_narrow_along_the_best_path() {
        // 0 → 1 (required), 0 → 2 (extra), 2 → 3, 0 → 4 (dev), 4 → 1, 4 → 3, 3 → 2 (cycle).
        let edges = [
            (0, 1, Scope::Required),
            (0, 2, Scope::Optional),
            (2, 3, Scope::Required),
            (0, 4, Scope::Development),
            (4, 1, Scope::Required),
            (4, 3, Scope::Required),
            (3, 2, Scope::Required),
        ];
        let scopes = reachable_scopes(6, &[0], &edges);
        assert_eq!(
            scopes,
            [
                Some(Scope::Required),
                Some(Scope::Required),
                Some(Scope::Optional),
                Some(Scope::Optional),
                Some(Scope::Development),
                None,
            ]
        );
    }
}
