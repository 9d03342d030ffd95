//! `go.sum`: the checksums of every module version the build has needed.
//!
//! Each line is `<module> <version>[/go.mod] h1:<base64>`. A `/go.mod` line only says the
//! module's `go.mod` was read while resolving the graph; a plain line says the module's
//! contents were downloaded, so only plain lines name modules that are built.
//!
//! `go.sum` is read in two cases only: beside a `go.mod` whose `go` version is below 1.17,
//! whose `go.mod` does not list indirect dependencies (see [`crate::gomod`]), and alone, where
//! no `go.mod` is beside it ([`GoSumCataloger`]). Beside a newer `go.mod` it adds nothing
//! (the `go.mod` lists the whole build) but versions that lost the version selection.
//!
//! The `h1:` checksums are not reported: they are SHA-256 digests of a listing of the
//! module's files (Go's dirhash), not of any artifact, and a [`Hash`] on a component claims
//! the digest of its archive.
//!
//! [`Hash`]: bulwark_inventory::Hash

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::Location;

use crate::gomod::GoModError;
use crate::module::{OutputBuilder, module_component};

const ID: &str = "go/go-sum";

/// One module version whose contents `go.sum` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SumEntry<'a> {
    pub(crate) path: &'a str,
    pub(crate) version: &'a str,
    /// 1-based.
    pub(crate) line: u32,
}

/// The module versions of a `go.sum` text, in file order, and the 1-based lines that are
/// not `module version hash` (Go refuses such a file; here the rest is still read).
pub(crate) fn parse(text: &str) -> (Vec<SumEntry<'_>>, Vec<u32>) {
    let mut entries = Vec::new();
    let mut malformed = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            [path, version, hash] if hash.contains(':') => {
                if !version.ends_with("/go.mod") {
                    entries.push(SumEntry {
                        path,
                        version,
                        line: number,
                    });
                }
            }
            _ => malformed.push(number),
        }
    }
    (entries, malformed)
}

/// Reads a `go.sum` that has no `go.mod` beside it (a vendored or stripped-down tree);
/// the `go.mod` cataloger reads the others.
pub(crate) struct GoSumCataloger;

impl Cataloger for GoSumCataloger {
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
        file.file_name() == "go.sum"
    }

    fn reads(&self, path: &str) -> bool {
        // Opens the `go.mod` beside it only to see whether it exists.
        let name = path.rsplit('/').next().unwrap_or(path);
        name == "go.sum" || name == "go.mod"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let dir = file.dir();
        let go_mod = if dir.is_empty() {
            "go.mod".to_owned()
        } else {
            format!("{dir}/go.mod")
        };
        if file.file_name() == "go.sum" && resolver.is_file(&go_mod) {
            return Ok(CatalogOutput::default());
        }
        let text = resolver
            .read_to_string(file.path)
            .map_err(GoModError::Read)?;
        let mut builder = OutputBuilder::default();
        add_entries(&mut builder, &text, file.path, ID, |_| true);
        Ok(builder.finish())
    }
}

/// Adds the modules of `text` (a `go.sum` at `path`) that `keep` accepts.
pub(crate) fn add_entries(
    builder: &mut OutputBuilder,
    text: &str,
    path: &str,
    found_by: &str,
    keep: impl Fn(&SumEntry<'_>) -> bool,
) {
    let (entries, malformed) = parse(text);
    for entry in entries.iter().filter(|entry| keep(entry)) {
        builder.add(module_component(
            entry.path,
            Some(entry.version),
            Location::new(path).at_line(entry.line),
            found_by,
        ));
    }
    for line in malformed {
        builder.problem(
            path,
            Some(line),
            found_by,
            "not a `module version hash` line".to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use bulwark_catalog::DirResolver;

    use super::*;

    #[test]
    fn only_content_lines_name_modules() {
        let text = "a.example/x v1.0.0/go.mod h1:AAA=\na.example/x v1.0.1 h1:BBB=\n\nbroken\nb.example/y v0.1.0 h1:CCC= extra\n";
        let (entries, malformed) = parse(text);
        assert_eq!(
            entries,
            [SumEntry {
                path: "a.example/x",
                version: "v1.0.1",
                line: 2
            }]
        );
        assert_eq!(malformed, [4, 5]);
    }

    #[test]
    fn a_go_sum_alone_is_read_and_one_beside_go_mod_is_left_to_it() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("alone")).unwrap();
        fs_err::create_dir_all(dir.path().join("paired")).unwrap();
        let sum = "golang.org/x/sys v0.1.0 h1:AAA=\ngolang.org/x/sys v0.1.0/go.mod h1:BBB=\n";
        fs_err::write(dir.path().join("alone/go.sum"), sum).unwrap();
        fs_err::write(dir.path().join("paired/go.sum"), sum).unwrap();
        fs_err::write(dir.path().join("paired/go.mod"), "module m\n").unwrap();
        let resolver = DirResolver::new(dir.path());
        let catalog = |path| {
            GoSumCataloger
                .catalog(
                    &FileRef {
                        path,
                        explicit: false,
                    },
                    &resolver,
                )
                .unwrap()
        };
        let alone = catalog("alone/go.sum");
        assert_eq!(alone.components.len(), 1);
        let component = &alone.components[0];
        assert_eq!(component.name, "golang.org/x/sys");
        assert_eq!(component.version.as_deref(), Some("v0.1.0"));
        assert_eq!(component.locations.first().unwrap().line, Some(1));
        assert!(component.hashes.is_empty());
        assert!(catalog("paired/go.sum").components.is_empty());
        assert!(GoSumCataloger.reads("paired/go.mod"));
    }
}
