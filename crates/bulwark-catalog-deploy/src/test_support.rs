//! Helpers shared by the tests of this crate.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef, Resolver};

/// A resolver holding one file in memory.
struct OneFile<'a> {
    path: &'a str,
    text: &'a str,
}

impl Resolver for OneFile<'_> {
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        if path == self.path {
            Ok(self.text.as_bytes().to_vec())
        } else {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
    }

    fn read_dir(&self, _: &str) -> io::Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn is_file(&self, path: &str) -> bool {
        path == self.path
    }
}

/// Catalogs `text` as the file `path`.
pub(crate) fn catalog_text(
    cataloger: &dyn Cataloger,
    path: &str,
    text: &str,
) -> Result<CatalogOutput, CatalogError> {
    cataloger.catalog(
        &FileRef {
            path,
            explicit: false,
        },
        &OneFile { path, text },
    )
}

/// The crate's `testdata` directory.
pub(crate) fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Catalogs the fixture `testdata/<path>`.
pub(crate) fn catalog_fixture(
    cataloger: &dyn Cataloger,
    path: &str,
) -> Result<CatalogOutput, CatalogError> {
    cataloger.catalog(
        &FileRef {
            path,
            explicit: false,
        },
        &DirResolver::new(testdata()),
    )
}

/// One line per component, `kind name@version purl [description] path:line`, then problems.
pub(crate) fn listing(output: &CatalogOutput) -> String {
    let mut out = String::new();
    for c in &output.components {
        let _ = write!(
            out,
            "{:?} {}@{} {} [{}]",
            c.kind,
            c.name,
            c.version.as_deref().unwrap_or("-"),
            c.purl.as_ref().map_or("-", |p| p.as_str()),
            c.description.as_deref().unwrap_or_default(),
        );
        for location in &c.locations {
            let _ = write!(out, " {}", location.path);
            if let Some(line) = location.line {
                let _ = write!(out, ":{line}");
            }
        }
        out.push('\n');
    }
    for problem in &output.problems {
        let _ = writeln!(out, "problem {problem}");
    }
    out
}
