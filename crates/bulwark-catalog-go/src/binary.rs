//! Go binaries: the modules a binary was built from, from the build information the Go
//! toolchain embeds (see [`crate::buildinfo`]).
//!
//! **Which files.** [`Cataloger::wants`] cannot look inside a file, and offering every file of
//! an image to a binary parser would open them all. The cataloger claims the files directly
//! inside a directory named `bin` or `sbin` (`usr/bin`, `usr/local/sbin`, `root/go/bin`,
//! `app/bin`), where installed executables live, plus any file named explicitly as the
//! target. A claimed file that does not start with an ELF, Mach-O or PE magic (a shell script,
//! a Python entry point) costs one 4-byte read and yields nothing; so does a binary without
//! Go build information. Neither is an error. Go binaries elsewhere (`/app/server`) are
//! found only when named explicitly.
//!
//! **Where the blob is.** ELF binaries carry it in the `.go.buildinfo` section, Mach-O in
//! `__go_buildinfo`; older ELF and PE binaries at the start of the data section (`.data`),
//! where it is searched for at 16-byte alignment within the first [`SEARCH_LIMIT`] bytes.
//! Only those bytes and the blob are read (the file is read through [`object::ReadCache`], never whole).
//! Fat (universal) Mach-O files are not read.
//!
//! **What is reported.** The standard library as `stdlib` at the toolchain version
//! (`go1.22.1` → `1.22.1`), the main module as an application (its version when the build
//! stamped one, none for `(devel)`), and every `dep` at its version, `=>` replacements
//! applied as in `go.mod` (see [`required_component`]), with `depends-on` edges from the
//! main module to each. Build settings (`-ldflags`, `GOOS`, `vcs.revision`) have no field on
//! a component and are not reported; nor are the `h1:` checksums (see [`crate::gosum`]).

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::Location;
use object::read::ReadRef;
use object::{Object, ObjectSection, ObjectSegment, SectionKind};

use crate::buildinfo::{self, BuildInfo, MAGIC, MAX_STRING, Memory};
use crate::module::{
    OutputBuilder, Replacement, main_component, required_component, stdlib_component,
    toolchain_version,
};

const ID: &str = "go/binary";

/// How much of a section is searched for the build information: the linker puts it at the
/// start of its section, and Go's own reader looks no further than this either.
const SEARCH_LIMIT: u64 = 64 * 1024;

/// How much is read from the build information on: its header and two strings, each at most
/// [`MAX_STRING`](crate::buildinfo::MAX_STRING).
const BLOB_LIMIT: u64 = 2 * crate::buildinfo::MAX_STRING + 64;

/// Why a Go binary's build information could not be read.
#[derive(Debug, thiserror::Error)]
enum GoBinaryError {
    /// Could not open or read the file.
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// The blob is there but broken.
    #[error("unreadable Go build information")]
    BuildInfo(#[source] buildinfo::BuildInfoError),
}

/// Reads the build information of Go binaries.
pub(crate) struct GoBinaryCataloger;

impl Cataloger for GoBinaryCataloger {
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
            bulwark_catalog::open_executable(resolver, file.path).map_err(GoBinaryError::Read)?
        else {
            return Ok(CatalogOutput::default());
        };
        let cache = object::ReadCache::new(reader);
        let Ok(binary) = object::File::parse(&cache) else {
            return Ok(CatalogOutput::default());
        };
        let Some(blob) = find_blob(&binary, &cache) else {
            return Ok(CatalogOutput::default());
        };
        let memory = FileMemory {
            binary: &binary,
            data: &cache,
        };
        let info = buildinfo::parse(blob, &memory).map_err(GoBinaryError::BuildInfo)?;
        Ok(catalog_build_info(&info, file.path))
    }
}

/// The build information blob and the rest of its section (up to [`BLOB_LIMIT`] bytes).
fn find_blob<'data, R: ReadRef<'data>>(
    binary: &object::File<'data, R>,
    data: R,
) -> Option<&'data [u8]> {
    for name in [".go.buildinfo", "__go_buildinfo", ".data", "__data"] {
        let Some(section) = binary.section_by_name(name) else {
            continue;
        };
        let Some((offset, size)) = section.file_range() else {
            continue;
        };
        let Ok(window) = data.read_bytes_at(offset, size.min(SEARCH_LIMIT)) else {
            continue;
        };
        let Some(at) = (0..window.len())
            .step_by(16)
            .find(|at| window[*at..].starts_with(MAGIC))
        else {
            continue;
        };
        let at = u64::try_from(at).ok()?;
        return data
            .read_bytes_at(offset.checked_add(at)?, (size - at).min(BLOB_LIMIT))
            .ok();
    }
    None
}

/// The binary's memory, for the pointer format: addresses are mapped to file offsets
/// through the loadable segments (as Go does for ELF), or through the sections where a file
/// has no segments (Mach-O and PE map by section in Go, and object files have no segments).
struct FileMemory<'a, 'data, R: ReadRef<'data>> {
    binary: &'a object::File<'data, R>,
    data: R,
}

impl<'data, R: ReadRef<'data>> Memory for FileMemory<'_, 'data, R> {
    fn read(&self, address: u64, len: u64) -> Option<Vec<u8>> {
        if len > MAX_STRING {
            return None;
        }
        let ranges = self
            .binary
            .segments()
            .map(|segment| (segment.address(), segment.file_range()))
            .chain(
                self.binary
                    .sections()
                    .filter(|section| {
                        !matches!(
                            section.kind(),
                            SectionKind::Metadata | SectionKind::UninitializedData
                        )
                    })
                    .filter_map(|section| Some((section.address(), section.file_range()?))),
            );
        for (start, (offset, size)) in ranges {
            let Some(skip) = address.checked_sub(start) else {
                continue;
            };
            if skip >= size || len > size - skip {
                continue;
            }
            let bytes = self
                .data
                .read_bytes_at(offset.checked_add(skip)?, len)
                .ok()?;
            return Some(bytes.to_vec());
        }
        None
    }
}

/// The components of a binary's build information.
fn catalog_build_info(info: &BuildInfo, path: &str) -> CatalogOutput {
    let location = || Location::new(path);
    let mut builder = OutputBuilder::default();
    let main = info.main.as_ref().map(|main| {
        let version = Some(main.version.as_str()).filter(|v| !v.is_empty() && *v != "(devel)");
        builder.add(main_component(&main.path, version, location(), ID))
    });
    if let Some(version) = toolchain_version(&info.go_version) {
        let id = builder.add(stdlib_component(version, location(), ID));
        if let Some(main) = &main {
            builder.depends_on(main, id);
        }
    }
    for dep in &info.deps {
        let replacement = dep.replace.as_deref().map(|replace| {
            Replacement::new(
                &replace.path,
                Some(replace.version.as_str()).filter(|v| !v.is_empty()),
            )
        });
        let version = Some(dep.version.as_str()).filter(|v| !v.is_empty());
        let id = builder.add(required_component(
            &dep.path,
            version,
            replacement.as_ref(),
            location(),
            ID,
        ));
        if let Some(main) = &main {
            builder.depends_on(main, id);
        }
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bulwark_catalog::DirResolver;
    use bulwark_inventory::{ComponentKind, PackageSource};
    use object::write;
    use object::{Architecture, BinaryFormat, Endianness};

    use super::*;
    use crate::buildinfo::test_support::{framed, inline_blob};

    const LINES: &str = "path\texample.com/tool/cmd/tool\n\
        mod\texample.com/tool\tv1.4.0\th1:aaa=\n\
        dep\tgithub.com/BurntSushi/toml\tv1.0.0\th1:bbb=\n\
        dep\tgolang.org/x/net\tv0.2.0\th1:ccc=\n\
        =>\texample.com/fork/net\tv0.2.1\th1:ddd=\n\
        dep\texample.com/local\tv1.0.0\n\
        =>\t../local\t\n\
        build\tGOOS=linux\n\
        build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n";

    /// A relocatable object of `format` whose only data section, `name` in `segment`, holds
    /// `contents`: just what a Go binary has that the cataloger looks at.
    fn object_file(format: BinaryFormat, segment: &str, name: &str, contents: &[u8]) -> Vec<u8> {
        let mut file = write::Object::new(format, Architecture::X86_64, Endianness::Little);
        let section = file.add_section(
            segment.as_bytes().to_vec(),
            name.as_bytes().to_vec(),
            SectionKind::Data,
        );
        file.append_section_data(section, contents, 16);
        file.write().unwrap()
    }

    fn catalog_bytes(path: &str, bytes: &[u8]) -> Result<CatalogOutput, CatalogError> {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join(path);
        fs_err::create_dir_all(full.parent().unwrap()).unwrap();
        fs_err::write(&full, bytes).unwrap();
        GoBinaryCataloger.catalog(
            &FileRef {
                path,
                explicit: false,
            },
            &DirResolver::new(dir.path()),
        )
    }

    fn purls(output: &CatalogOutput) -> BTreeSet<String> {
        output
            .components
            .iter()
            .map(|c| c.purl.as_ref().unwrap().as_str().to_owned())
            .collect()
    }

    fn check_tool(output: &CatalogOutput) {
        assert_eq!(
            purls(output),
            BTreeSet::from([
                "pkg:golang/example.com/tool@v1.4.0".to_owned(),
                "pkg:golang/stdlib@1.22.1".to_owned(),
                "pkg:golang/github.com/burntsushi/toml@v1.0.0".to_owned(),
                "pkg:golang/example.com/fork/net@v0.2.1".to_owned(),
                "pkg:golang/example.com/local".to_owned(),
            ])
        );
        let main = output
            .components
            .iter()
            .find(|c| c.kind == ComponentKind::Application)
            .unwrap();
        assert_eq!(main.name, "example.com/tool");
        let local = output
            .components
            .iter()
            .find(|c| c.name == "example.com/local")
            .unwrap();
        assert_eq!(
            local.source,
            Some(PackageSource::Path {
                path: "../local".to_owned(),
                editable: false
            })
        );
        assert_eq!(local.locations.first().unwrap().path, "usr/local/bin/tool");
        assert_eq!(output.relationships.len(), 4);
        assert!(
            output
                .relationships
                .iter()
                .all(|r| r.from.as_str() == "pkg:golang/example.com/tool@v1.4.0")
        );
    }

    #[test]
    fn elf_with_inline_build_information() {
        let blob = inline_blob("go1.22.1 X:boringcrypto", LINES);
        let elf = object_file(BinaryFormat::Elf, "", ".go.buildinfo", &blob);
        check_tool(&catalog_bytes("usr/local/bin/tool", &elf).unwrap());
    }

    #[test]
    fn mach_o_with_inline_build_information() {
        let blob = inline_blob("go1.22.1", LINES);
        let macho = object_file(BinaryFormat::MachO, "__DATA", "__go_buildinfo", &blob);
        check_tool(&catalog_bytes("usr/local/bin/tool", &macho).unwrap());
    }

    /// A pre-1.18 blob at the start of `.data`, its pointers resolved through the section
    /// (object files have no segments; the section is at address 0).
    #[test]
    fn elf_with_pointer_build_information_in_data() {
        let version = b"go1.22.1";
        let modinfo = framed(LINES);
        let (version_header, modinfo_header) = (32u64, 48u64);
        let (version_at, modinfo_at) = (64u64, 64 + 8u64);
        let mut section = MAGIC.to_vec();
        section.extend([8, 0]);
        section.extend(version_header.to_le_bytes());
        section.extend(modinfo_header.to_le_bytes());
        section.extend(version_at.to_le_bytes());
        section.extend(u64::try_from(version.len()).unwrap().to_le_bytes());
        section.extend(modinfo_at.to_le_bytes());
        section.extend(u64::try_from(modinfo.len()).unwrap().to_le_bytes());
        section.extend(version);
        section.extend(&modinfo);
        let elf = object_file(BinaryFormat::Elf, "", ".data", &section);
        check_tool(&catalog_bytes("usr/local/bin/tool", &elf).unwrap());
    }

    #[test]
    fn files_that_are_not_go_binaries_yield_nothing() {
        for bytes in [
            b"#!/bin/sh\necho hi\n".to_vec(),
            Vec::new(),
            b"\x7fEL".to_vec(),
            b"\x7fELF but truncated".to_vec(),
            b"MZ is a fine start for a text".to_vec(),
            object_file(BinaryFormat::Elf, "", ".data", &[0; 256]),
        ] {
            let output = catalog_bytes("usr/bin/thing", &bytes).unwrap();
            assert!(output.components.is_empty());
            assert!(output.problems.is_empty());
        }
    }

    #[test]
    fn a_broken_blob_is_an_error() {
        let blob = inline_blob("go1.22.1", LINES);
        let elf = object_file(BinaryFormat::Elf, "", ".go.buildinfo", &blob[..40]);
        let error = catalog_bytes("bin/tool", &elf).unwrap_err();
        assert!(
            error.render().contains("Go build information"),
            "{}",
            error.render()
        );
    }

    #[test]
    fn claims_files_directly_in_bin_and_sbin() {
        let wants = |path, explicit| GoBinaryCataloger.wants(&FileRef { path, explicit });
        assert!(wants("usr/bin/kubectl", false));
        assert!(wants("usr/local/sbin/thing", false));
        assert!(wants("root/go/bin/gopls", false));
        assert!(wants("bin/app", false));
        assert!(!wants("app/server", false));
        assert!(!wants("usr/bin/sub/thing", false));
        assert!(!wants(
            "venv/lib/python3.12/site-packages/pkg/bin/tool",
            false
        ));
        assert!(wants("app/server", true));
    }
}
