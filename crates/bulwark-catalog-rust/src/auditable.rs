//! Rust binaries built with `cargo auditable`: the dependency list it embeds.
//!
//! `cargo auditable build` puts a zlib-compressed JSON document in a `.dep-v0` section (ELF,
//! PE, and Mach-O's `__DATA` segment):
//!
//! ```json
//! {"packages": [
//!   {"name": "app", "version": "0.1.0", "source": "local", "dependencies": [1], "root": true},
//!   {"name": "itoa", "version": "1.0.1", "source": "registry"},
//!   {"name": "cc", "version": "1.0.0", "source": "registry", "kind": "build"}
//! ]}
//! ```
//!
//! Every package is a `CratesIo`-ecosystem component at its version; `local` packages (the
//! project's own crates) are [`ComponentKind::Application`]s, as in `Cargo.lock`, and so is the
//! root. `kind: "build"` packages only ran at build time (build scripts, proc macros) and are
//! not in the binary: they are [`Scope::Development`]. `dependencies` are indexes into
//! `packages` and become `depends-on` edges. The document names no registry or git URL, so
//! no [`PackageSource`](bulwark_inventory::PackageSource) is set.
//!
//! **Which files**: as for Go binaries, the files directly inside a `bin` or `sbin`
//! directory, plus any file named explicitly; a file without an ELF, Mach-O or PE magic, or a
//! binary without the section, yields nothing after a 4-byte read. The section is read
//! through [`object::ReadCache`] (never the whole binary), and both it and its decompressed
//! text are capped at [`MAX_BYTES`], as `cargo auditable`'s own reader caps them.

use std::io::Read;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, Location, Relationship, RelationshipKind,
    Scope,
};
use object::read::ReadRef;
use object::{Object, ObjectSection};
use serde::Deserialize;

const ID: &str = "rust/cargo-auditable";

/// The most bytes read from the section, and the most decompressed bytes accepted.
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// Why an audit section could not be read.
#[derive(Debug, thiserror::Error)]
enum AuditableError {
    /// Could not open or read the file.
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// The section is larger than [`MAX_BYTES`].
    #[error("the `.dep-v0` section is over {MAX_BYTES} bytes")]
    TooLarge,
    /// The section is not zlib data, or inflates past [`MAX_BYTES`].
    #[error("the `.dep-v0` section does not decompress")]
    Decompress(#[source] std::io::Error),
    /// The decompressed text is not the expected JSON.
    #[error("the `.dep-v0` section is not a cargo-auditable dependency list")]
    Json(#[source] serde_json::Error),
}

/// Reads the dependency list of `cargo auditable` binaries.
pub(crate) struct AuditableCataloger;

impl Cataloger for AuditableCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    /// Binaries inside installed Python packages are the package's own files.
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.may_be_executable()
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(reader) =
            bulwark_catalog::open_executable(resolver, file.path).map_err(AuditableError::Read)?
        else {
            return Ok(CatalogOutput::default());
        };
        let cache = object::ReadCache::new(reader);
        let Ok(binary) = object::File::parse(&cache) else {
            return Ok(CatalogOutput::default());
        };
        let Some(section) = binary.section_by_name(".dep-v0") else {
            return Ok(CatalogOutput::default());
        };
        let Some((offset, size)) = section.file_range() else {
            return Ok(CatalogOutput::default());
        };
        if size > MAX_BYTES {
            return Err(AuditableError::TooLarge.into());
        }
        let compressed = cache
            .read_bytes_at(offset, size)
            .map_err(|_| AuditableError::Read(std::io::ErrorKind::UnexpectedEof.into()))?;
        let text = decompress(compressed)?;
        let list: DependencyList = serde_json::from_slice(&text).map_err(AuditableError::Json)?;
        Ok(catalog_list(&list, file.path))
    }
}

/// Inflates at most [`MAX_BYTES`]; more is an error rather than a truncated document.
fn decompress(compressed: &[u8]) -> Result<Vec<u8>, AuditableError> {
    let mut text = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(AuditableError::Decompress)?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_BYTES {
        return Err(AuditableError::Decompress(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("inflates to more than {MAX_BYTES} bytes"),
        )));
    }
    Ok(text)
}

#[derive(Debug, Deserialize)]
struct DependencyList {
    packages: Vec<AuditPackage>,
}

#[derive(Debug, Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    /// `crates.io`, `git`, `local`, `registry`, or another string.
    #[serde(default)]
    source: Option<String>,
    /// `runtime` (the default) or `build`.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

fn catalog_list(list: &DependencyList, path: &str) -> CatalogOutput {
    let components: Vec<Component> = list
        .packages
        .iter()
        .map(|package| {
            let mut component = Component::package(
                Ecosystem::CratesIo,
                &package.name,
                Some(&package.version),
                Location::new(path),
                ID,
            );
            if package.root || package.source.as_deref() == Some("local") {
                component.kind = ComponentKind::Application;
            }
            if package.kind.as_deref() == Some("build") {
                component.scope = Scope::Development;
            }
            component
        })
        .collect();
    let mut relationships = Vec::new();
    for (from, package) in list.packages.iter().enumerate() {
        // Indexes past the list (only a hostile document has them) and self-edges are
        // dropped.
        for to in package.dependencies.iter().filter(|to| **to != from) {
            if let Some(target) = components.get(*to) {
                relationships.push(Relationship {
                    from: ComponentId::of(&components[from]),
                    kind: RelationshipKind::DependsOn,
                    to: ComponentId::of(target),
                });
            }
        }
    }
    relationships.sort();
    relationships.dedup();
    CatalogOutput {
        components,
        relationships,
        ..CatalogOutput::default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::io::Write;

    use bulwark_catalog::DirResolver;
    use object::write;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};

    use super::*;

    const LIST: &str = r#"{"packages":[
        {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2,3,9],"root":true},
        {"name":"itoa","version":"1.0.1","source":"registry"},
        {"name":"helper","version":"0.2.0","source":"local","dependencies":[1]},
        {"name":"cc","version":"1.0.83","source":"registry","kind":"build"}
    ]}"#;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// An object file of `format` with a `.dep-v0` section holding `contents`.
    fn object_file(format: BinaryFormat, segment: &str, contents: &[u8]) -> Vec<u8> {
        let mut file = write::Object::new(format, Architecture::X86_64, Endianness::Little);
        let section = file.add_section(
            segment.as_bytes().to_vec(),
            b".dep-v0".to_vec(),
            SectionKind::ReadOnlyData,
        );
        file.append_section_data(section, contents, 1);
        file.write().unwrap()
    }

    fn catalog_bytes(path: &str, bytes: &[u8]) -> Result<CatalogOutput, CatalogError> {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join(path);
        fs_err::create_dir_all(full.parent().unwrap()).unwrap();
        fs_err::write(&full, bytes).unwrap();
        AuditableCataloger.catalog(
            &FileRef {
                path,
                explicit: false,
            },
            &DirResolver::new(dir.path()),
        )
    }

    #[test]
    fn reads_the_dependency_list_of_elf_and_mach_o_binaries() {
        for (format, segment) in [(BinaryFormat::Elf, ""), (BinaryFormat::MachO, "__DATA")] {
            let binary = object_file(format, segment, &zlib(LIST.as_bytes()));
            let output = catalog_bytes("usr/bin/app", &binary).unwrap();
            let listing: BTreeSet<String> = output
                .components
                .iter()
                .map(|c| {
                    format!(
                        "{:?} {} {:?}",
                        c.kind,
                        c.purl.as_ref().unwrap().as_str(),
                        c.scope
                    )
                })
                .collect();
            assert_eq!(
                listing,
                BTreeSet::from([
                    "Application pkg:cargo/app@0.1.0 Required".to_owned(),
                    "Application pkg:cargo/helper@0.2.0 Required".to_owned(),
                    "Library pkg:cargo/itoa@1.0.1 Required".to_owned(),
                    "Library pkg:cargo/cc@1.0.83 Development".to_owned(),
                ])
            );
            let edges: BTreeSet<(&str, &str)> = output
                .relationships
                .iter()
                .map(|r| (r.from.as_str(), r.to.as_str()))
                .collect();
            assert_eq!(
                edges,
                BTreeSet::from([
                    ("pkg:cargo/app@0.1.0", "pkg:cargo/itoa@1.0.1"),
                    ("pkg:cargo/app@0.1.0", "pkg:cargo/helper@0.2.0"),
                    ("pkg:cargo/app@0.1.0", "pkg:cargo/cc@1.0.83"),
                    ("pkg:cargo/helper@0.2.0", "pkg:cargo/itoa@1.0.1"),
                ])
            );
            assert_eq!(
                output.components[0].locations.first().unwrap().path,
                "usr/bin/app"
            );
        }
    }

    #[test]
    fn files_without_the_section_yield_nothing() {
        let plain = {
            let mut file =
                write::Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
            let section = file.add_section(Vec::new(), b".data".to_vec(), SectionKind::Data);
            file.append_section_data(section, &[0; 64], 1);
            file.write().unwrap()
        };
        for bytes in [
            b"#!/bin/sh\n".to_vec(),
            Vec::new(),
            b"\x7fELF truncated".to_vec(),
            plain,
        ] {
            let output = catalog_bytes("bin/tool", &bytes).unwrap();
            assert!(output.components.is_empty());
        }
    }

    #[test]
    fn broken_sections_are_errors() {
        let not_zlib = object_file(BinaryFormat::Elf, "", b"not zlib at all");
        let error = catalog_bytes("bin/tool", &not_zlib).unwrap_err();
        assert!(error.render().contains("decompress"), "{}", error.render());
        let not_json = object_file(BinaryFormat::Elf, "", &zlib(b"[1, 2"));
        let error = catalog_bytes("bin/tool", &not_json).unwrap_err();
        assert!(
            error.render().contains("dependency list"),
            "{}",
            error.render()
        );
    }

    /// A small section that inflates past the cap is refused, not inflated.
    #[test]
    fn decompression_is_bounded() {
        let bomb = zlib(&vec![b' '; usize::try_from(MAX_BYTES).unwrap() + 1]);
        assert!(bomb.len() < 64 * 1024);
        assert!(matches!(
            decompress(&bomb),
            Err(AuditableError::Decompress(_))
        ));
        assert_eq!(decompress(&zlib(b"{}")).unwrap(), b"{}");
    }

    #[test]
    fn claims_files_directly_in_bin_and_sbin() {
        let wants = |path, explicit| AuditableCataloger.wants(&FileRef { path, explicit });
        assert!(wants("usr/local/bin/rg", false));
        assert!(wants("sbin/tool", false));
        assert!(!wants("usr/lib/libfoo.so", false));
        assert!(!wants("bin/sub/tool", false));
        assert!(wants("target/release/app", true));
    }
}
