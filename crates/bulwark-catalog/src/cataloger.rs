//! The plugin interface every format implements.

use std::error::Error as StdError;
use std::fmt;

use bulwark_inventory::{Component, DependencyRequest, Problem, Relationship};

/// A file offered to a cataloger.
#[derive(Debug, Clone, Copy)]
pub struct FileRef<'a> {
    /// Path relative to the target root, `/`-separated.
    pub path: &'a str,
    /// Whether the user named this file as the target itself. Catalogers may then accept
    /// names they would not claim during a walk (`bulwark sbom deps.txt`).
    pub explicit: bool,
}

impl<'a> FileRef<'a> {
    /// The last path segment.
    pub fn file_name(&self) -> &'a str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    /// Whether the file lies in an installed Python package tree (`site-packages/`,
    /// `dist-packages/`). Manifests and lockfiles found there are part of an installed
    /// package's own sources or tests (gradio ships whole test projects), not dependencies of
    /// what is being scanned; reporting them is the false positive peers are known for.
    pub fn is_in_site_packages(&self) -> bool {
        self.dir()
            .split('/')
            .any(|segment| segment == "site-packages" || segment == "dist-packages")
    }

    /// Whether the file may be a program whose embedded metadata binary catalogers read (Go
    /// build info, `cargo auditable` data): a file directly in a `bin/` or `sbin/` directory
    /// outside Python packages, or a file the user named whose name has no extension (or
    /// `.exe`). Binaries cannot be told by path alone; this keeps the guess cheap and narrow.
    pub fn may_be_executable(&self) -> bool {
        if self.explicit {
            let name = self.file_name();
            return !name.contains('.') || name.ends_with(".exe");
        }
        let parent = self.dir().rsplit('/').next().unwrap_or_default();
        (parent == "bin" || parent == "sbin") && !self.is_in_site_packages()
    }

    /// The directory part (empty for a file at the root), without a trailing slash.
    pub fn dir(&self) -> &'a str {
        self.path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
}

/// Whether `dir` lies inside an installed Python package's own files: below
/// `site-packages/<package>/` (or `dist-packages/`), as opposed to the `*.dist-info`,
/// `*.egg-info` and `*.egg` metadata directories beside the packages. Python metadata is never
/// found there, and a PyTorch install alone puts twelve thousand files there.
pub fn is_installed_package_content(dir: &str) -> bool {
    let mut segments = dir.split('/');
    while let Some(segment) = segments.next() {
        if segment == "site-packages" || segment == "dist-packages" {
            return match segments.next() {
                Some(entry) => {
                    !(entry.ends_with(".dist-info")
                        || entry.ends_with(".egg-info")
                        || entry.ends_with(".egg"))
                }
                None => false,
            };
        }
    }
    false
}

/// What a cataloger found in one file.
#[derive(Debug, Default)]
pub struct CatalogOutput {
    /// Components found.
    pub components: Vec<bulwark_inventory::Component>,
    /// Edges whose both ends the cataloger knows.
    pub relationships: Vec<Relationship>,
    /// Dependencies to resolve against other files' components after the walk.
    pub requests: Vec<DependencyRequest>,
    /// Recoverable trouble inside the file (one bad line of many); the rest was read.
    pub problems: Vec<Problem>,
    /// Unsafe content found in the file (a pickle that imports `os.system`).
    pub findings: Vec<bulwark_inventory::ArtifactFinding>,
}

impl CatalogOutput {
    /// An output holding just these components.
    pub fn from_components(components: Vec<Component>) -> Self {
        Self {
            components,
            ..Self::default()
        }
    }
}

/// Why a cataloger could not read a file at all.
#[derive(Debug)]
pub struct CatalogError {
    /// The 1-based line where it went wrong, if known.
    pub line: Option<u32>,
    /// What went wrong.
    pub source: Box<dyn StdError + Send + Sync>,
}

impl CatalogError {
    /// Wraps any error.
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            line: None,
            source: source.into(),
        }
    }

    /// The same error at a line.
    #[must_use]
    pub fn at_line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }

    /// The message with every cause, `: `-joined, for a one-line warning.
    pub fn render(&self) -> String {
        let mut message = self.source.to_string();
        let mut cause = self.source.source();
        while let Some(c) = cause {
            let text = c.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            cause = c.source();
        }
        message
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for CatalogError {
    fn from(error: E) -> Self {
        Self::new(error)
    }
}

/// A parser for one file format.
///
/// Implementations are small and stateless: `wants` is a cheap look at the path (it runs for
/// every file of the target), `catalog` does the reading.
pub trait Cataloger: Send + Sync {
    /// `<family>/<format>` in kebab-case: `python/uv-lock`, `conda/conda-meta`.
    fn id(&self) -> &'static str;

    /// Whether this cataloger reads `file`. Must not do I/O.
    fn wants(&self, file: &FileRef<'_>) -> bool;

    /// Whether this cataloger may read the file at `path` (target-relative): the files it
    /// [wants](Cataloger::wants) plus the companions it opens through the resolver while
    /// cataloging them (a `dist-info`'s `RECORD`, dpkg's `info/*.list`, `os-release`).
    /// Image targets keep only such files' contents while streaming their layers, so a
    /// companion left out here reads as missing there. Must not do I/O.
    fn reads(&self, path: &str) -> bool {
        self.wants(&FileRef {
            path,
            explicit: false,
        })
    }

    /// Whether files below the directory `dir` (target-relative) could interest this
    /// cataloger. The walk skips a directory only when no cataloger wants to descend into it,
    /// so saying `false` is an optimization, never a filter on what others see. Must not do
    /// I/O.
    fn descend(&self, dir: &str) -> bool {
        let _ = dir;
        true
    }

    /// Reads `file` (and any sibling it needs) through `resolver`.
    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn crate::Resolver,
    ) -> Result<CatalogOutput, CatalogError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_package_content() {
        for (dir, inside) in [
            ("venv/lib/python3.11/site-packages", false),
            (
                "venv/lib/python3.11/site-packages/torch-2.1.2.dist-info",
                false,
            ),
            ("usr/lib/python3/dist-packages/six.egg-info", false),
            ("site-packages/foo-1.0-py3.11.egg/EGG-INFO", false),
            ("venv/lib/python3.11/site-packages/torch", true),
            (
                "venv/lib/python3.11/site-packages/gradio/_frontend_code/test",
                true,
            ),
            ("project/src", false),
        ] {
            assert_eq!(is_installed_package_content(dir), inside, "{dir}");
        }
    }
}
