//! Helpers for catalogers' tests: running one cataloger on a fixture file and a compact,
//! deterministic listing of what it found, for snapshot tests.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use bulwark_inventory::{PackageSource, Scope};

use crate::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef, Resolver};

/// A [`Resolver`] over files held in memory, by target-relative path.
#[derive(Debug, Default)]
pub struct MemoryResolver(pub BTreeMap<String, Vec<u8>>);

impl MemoryResolver {
    /// The same files plus `path` with `content`.
    #[must_use]
    pub fn with(mut self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.0.insert(path.to_owned(), content.into());
        self
    }
}

impl Resolver for MemoryResolver {
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<String>> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut names: Vec<String> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect();
        // `a-b` sorts between `a` and `a/x`: equal names need not be adjacent.
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(names)
    }

    fn is_file(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// Catalogs `path` (relative to `root`) as an explicitly named file.
pub fn catalog_fixture(
    cataloger: &dyn Cataloger,
    root: &Path,
    path: &str,
) -> Result<CatalogOutput, CatalogError> {
    let resolver = DirResolver::new(root);
    cataloger.catalog(
        &FileRef {
            path,
            explicit: true,
        },
        &resolver,
    )
}

/// A compact, sorted listing for snapshots:
/// `Kind name@version purl scope [source] hashes=n path:line`, then edges and problems.
pub fn listing(output: &CatalogOutput) -> String {
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
                    line += &format!(" path={path}{}", if *editable { " editable" } else { "" });
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
            for hash in &c.hashes {
                line += &format!(" {}:{}", hash.algorithm.cyclonedx_name(), hash.value);
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
    let mut problems: Vec<String> = output.problems.iter().map(ToString::to_string).collect();
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
