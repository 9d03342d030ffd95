//! What the Go catalogers share: module components with the right purl, the standard
//! library component, replacement targets, and output assembly.

use std::collections::HashSet;

use bulwark_catalog::CatalogOutput;
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, Location, PackageSource, Problem, Purl,
    Relationship, RelationshipKind,
};

/// The name OSV files Go standard-library advisories under.
pub(crate) const STDLIB: &str = "stdlib";

/// A Go module component: `github.com/foo/bar` at `v1.2.3` has the purl
/// `pkg:golang/github.com/foo/bar@v1.2.3`, the module path split into the purl namespace
/// (all but the last segment) and name (the last), as the purl spec's golang type wants.
/// Versions are kept as Go writes them, with their `v`. The `packageurl` crate lowercases
/// golang namespaces and names (`github.com/BurntSushi/toml` →
/// `pkg:golang/github.com/burntsushi/toml`), so that is the canonical purl here and in every
/// purl bulwark parses; the component's `name` keeps the module path's case, which is what
/// advisories are matched by.
pub(crate) fn module_component(
    path: &str,
    version: Option<&str>,
    location: Location,
    found_by: &str,
) -> Component {
    let mut component = Component::package(Ecosystem::Go, path, version, location, found_by);
    component.purl = go_purl(path, version);
    component
}

/// `pkg:golang/<namespace>/<name>@<version>`; `None` for a path the purl grammar rejects.
pub(crate) fn go_purl(path: &str, version: Option<&str>) -> Option<Purl> {
    let (namespace, name) = path.rsplit_once('/').unwrap_or(("", path));
    Purl::builder(Ecosystem::Go, name)
        .namespace(namespace)
        .version(version)
        .build()
}

/// The module a build is of: the project itself, as an application without a version
/// (go.mod never states one; a binary's is usually `(devel)`).
pub(crate) fn main_component(
    path: &str,
    version: Option<&str>,
    location: Location,
    found_by: &str,
) -> Component {
    let mut component = module_component(path, version, location, found_by);
    component.kind = ComponentKind::Application;
    component
}

/// The Go standard library at a toolchain version.
pub(crate) fn stdlib_component(version: &str, location: Location, found_by: &str) -> Component {
    module_component(STDLIB, Some(version), location, found_by)
}

/// The Go version in a toolchain name: `go1.23.6` → `1.23.6`. What follows the version is
/// dropped: a `-suffix` of a custom toolchain name (`go1.23.6-xyz`, as osv-scalibr does), the
/// ` X:experiment` list a binary's version carries, a `+auto` suffix. `None` for `default`
/// (the toolchain directive's "none"), `devel …` builds and anything else that names no
/// release.
pub(crate) fn toolchain_version(toolchain: &str) -> Option<&str> {
    let rest = toolchain.trim().strip_prefix("go")?;
    let end = rest.find(['-', '+', ' ', '\t']).unwrap_or(rest.len());
    let version = &rest[..end];
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some(version)
}

/// Whether a replacement target is a directory rather than a module path, by Go's own rule
/// (`modfile.IsDirectoryPath`): it starts with `./`, `../` or `/` (or their Windows
/// spellings, or a drive letter), or is `.` or `..`.
pub(crate) fn is_directory_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    path == "."
        || path == ".."
        || ["./", "../", "/", ".\\", "..\\", "\\"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
        || (bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'/' | b'\\'))
}

/// What a module is replaced by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Replacement<'a> {
    /// Another module at a version.
    Module {
        /// Module path.
        path: &'a str,
        /// Version as written.
        version: Option<&'a str>,
    },
    /// A local directory.
    Directory(&'a str),
}

impl<'a> Replacement<'a> {
    /// Classifies `path version` of a replace directive or a binary's `=>` line.
    pub(crate) fn new(path: &'a str, version: Option<&'a str>) -> Self {
        if is_directory_path(path) {
            Self::Directory(path)
        } else {
            Self::Module { path, version }
        }
    }
}

/// The component a required module stands for once its replacement (if any) is applied.
///
/// A module replaced by another module is reported as the replacement, which is the code that
/// is built. A module replaced by a directory keeps its module path (that is what the code
/// imports, and what an auditor searches for) with no version, since the directory has none,
/// and a [`PackageSource::Path`] naming the directory. osv-scalibr reports such a module
/// under the directory name (`./fork/net`) instead, which is no module path and makes a
/// purl of a file path.
pub(crate) fn required_component(
    path: &str,
    version: Option<&str>,
    replacement: Option<&Replacement<'_>>,
    location: Location,
    found_by: &str,
) -> Component {
    match replacement {
        None => module_component(path, version, location, found_by),
        Some(Replacement::Module { path, version }) => {
            module_component(path, *version, location, found_by)
        }
        Some(Replacement::Directory(directory)) => {
            let mut component = module_component(path, None, location, found_by);
            component.source = Some(PackageSource::Path {
                path: (*directory).to_owned(),
                editable: false,
            });
            component
        }
    }
}

/// Collects a file's components without repeats (two requirements replaced by the same
/// module are one component) and the main module's edges.
#[derive(Debug, Default)]
pub(crate) struct OutputBuilder {
    output: CatalogOutput,
    seen: HashSet<ComponentId>,
}

impl OutputBuilder {
    /// Adds `component` unless an equal one is in already; returns its id either way.
    pub(crate) fn add(&mut self, component: Component) -> ComponentId {
        let id = ComponentId::of(&component);
        if self.seen.insert(id.clone()) {
            self.output.components.push(component);
        }
        id
    }

    /// `from` depends on `to`.
    pub(crate) fn depends_on(&mut self, from: &ComponentId, to: ComponentId) {
        if *from != to {
            self.output.relationships.push(Relationship {
                from: from.clone(),
                kind: RelationshipKind::DependsOn,
                to,
            });
        }
    }

    /// Records recoverable trouble at a line.
    pub(crate) fn problem(
        &mut self,
        path: &str,
        line: Option<u32>,
        found_by: &str,
        message: String,
    ) {
        self.output.problems.push(Problem {
            path: path.to_owned(),
            line,
            cataloger: Some(found_by.to_owned()),
            message,
        });
    }

    /// The output, edges sorted and without repeats.
    pub(crate) fn finish(mut self) -> CatalogOutput {
        self.output.relationships.sort();
        self.output.relationships.dedup();
        self.output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_split_the_module_path_into_namespace_and_name() {
        for (path, version, purl) in [
            (
                "github.com/BurntSushi/toml",
                Some("v1.0.0"),
                "pkg:golang/github.com/burntsushi/toml@v1.0.0",
            ),
            (
                "golang.org/x/sys",
                Some("v0.0.0-20210630005230-0f9fa26af87c"),
                "pkg:golang/golang.org/x/sys@v0.0.0-20210630005230-0f9fa26af87c",
            ),
            (
                "github.com/docker/docker",
                Some("v24.0.7+incompatible"),
                "pkg:golang/github.com/docker/docker@v24.0.7%2Bincompatible",
            ),
            ("stdlib", Some("1.17"), "pkg:golang/stdlib@1.17"),
            ("my-library", None, "pkg:golang/my-library"),
        ] {
            assert_eq!(go_purl(path, version).unwrap().as_str(), purl);
        }
    }

    #[test]
    fn toolchain_versions() {
        for (toolchain, version) in [
            ("go1.23.6", Some("1.23.6")),
            ("go1.23.6-xyz", Some("1.23.6")),
            ("go1.22.1 X:boringcrypto", Some("1.22.1")),
            ("go1.21rc2", Some("1.21rc2")),
            ("default", None),
            ("devel go1.23-3a1f5e8 Mon Jan 1", None),
            ("go", None),
        ] {
            assert_eq!(toolchain_version(toolchain), version, "{toolchain}");
        }
    }

    #[test]
    fn directory_paths() {
        for (path, directory) in [
            ("./fork/net", true),
            ("../net", true),
            ("/abs/net", true),
            (".", true),
            ("C:\\src\\net", true),
            ("example.com/fork/net", false),
            ("fork/net", false),
            (".hidden/net", false),
        ] {
            assert_eq!(is_directory_path(path), directory, "{path}");
        }
    }
}
