//! Helpers for catalogers' tests: running one cataloger on a fixture file and a compact,
//! deterministic listing of what it found, for snapshot tests.

use std::path::Path;

use bulwark_inventory::{PackageSource, Scope};

use crate::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef};

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
