//! Java archives: `.jar`, `.war`, `.ear`, and Jenkins plugins (`.jpi`, `.hpi`).
//!
//! An archive is opened through [`Resolver::open`] and read through its zip index: only the
//! metadata entries are decompressed, so a 100 MB jar costs its index and a few kilobytes
//! (plus one streaming pass for its SHA-1).
//!
//! What identifies the packages inside, in order of trust:
//!
//! 1. `META-INF/maven/<groupId>/<artifactId>/pom.properties`, written by Maven when it built
//!    the jar: one component per file. A shaded or fat jar carries one for itself and one
//!    for each library it swallowed; all are reported (found by `java/archive`).
//! 2. Without any, `META-INF/MANIFEST.MF`: `Implementation-Title` (when it is an
//!    identifier, not prose) or else `Bundle-SymbolicName` as the name,
//!    `Implementation-Version` or else `Bundle-Version` as the version, and
//!    `Implementation-Vendor-Id` (which the Maven jar plugin fills with the `groupId`) as the
//!    group. Used only when it yields both a name and a version (found by
//!    `java/archive-manifest`).
//! 3. Else the file name, `commons-text-1.9.jar` → `commons-text` `1.9`, the version starting
//!    at the first `-` followed by a digit. No group is guessed, so such a component's name is
//!    the bare artifact; it is marked by its finder, `java/archive-file-name`, as the
//!    weakest evidence.
//!
//! The archive's own component (the one `pom.properties` if there is one, else the one whose
//! `artifactId` the file name starts with; the manifest or file-name component otherwise)
//! carries the archive's SHA-1, Maven's identity of an artifact, and `Contains` edges to the
//! other components found in it. A `.war` or `.ear`'s own component is an application.
//!
//! Nested archives (`BOOT-INF/lib/*.jar` of Spring Boot, `WEB-INF/lib/*.jar` of a war, the
//! modules and `lib/` of an ear; any entry with one of the extensions above) are read from
//! memory, recursively, at most [`Limits::nesting`] levels deep, each at most
//! [`Limits::nested_bytes`] decompressed and all together at most [`Limits::nested_total`]:
//! a decompression bomb stops at the cap and becomes a problem. Their location is the Java
//! URL spelling `outer.jar!/BOOT-INF/lib/inner.jar` (`!/` again for each level).

mod metadata;

use std::collections::HashSet;
use std::io::{self, Cursor, Read, Seek};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Hash, HashAlgorithm, Location, Relationship,
    RelationshipKind,
};
use zip::ZipArchive;
use zip::result::ZipError;

use self::metadata::{manifest_main_attributes, parse_properties};
use crate::maven::{Coordinates, problem};

const ID: &str = "java/archive";
const ID_MANIFEST: &str = "java/archive-manifest";
const ID_FILE_NAME: &str = "java/archive-file-name";

/// Extensions of the archives read, lowercase.
const EXTENSIONS: [&str; 5] = ["jar", "war", "ear", "jpi", "hpi"];

/// A `pom.properties` or manifest is a few hundred bytes; anything near this is not one.
const MAX_METADATA_BYTES: u64 = 1024 * 1024;

/// How many `pom.properties` one archive may hold. The largest shaded jars carry a few
/// hundred; an index of millions is hostile.
const MAX_POM_PROPERTIES: usize = 10_000;

/// Bounds on reading nested archives, which must be decompressed into memory.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// How many archives deep to go below the file itself (an ear holds a war holds jars).
    nesting: usize,
    /// The most bytes one nested archive may decompress to.
    nested_bytes: u64,
    /// The most bytes all nested archives of one file may decompress to together.
    nested_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            nesting: 3,
            nested_bytes: 64 * 1024 * 1024,
            nested_total: 1024 * 1024 * 1024,
        }
    }
}

/// Reads Java archives.
pub(crate) struct ArchiveCataloger;

impl Cataloger for ArchiveCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    /// Inside an installed Python package only its top directory and `jars/` directories
    /// (where PySpark keeps the jars it runs); the rest of a venv's tens of thousands of
    /// package files are not walked for this cataloger's sake.
    fn descend(&self, dir: &str) -> bool {
        if !bulwark_catalog::is_installed_package_content(dir) {
            return true;
        }
        let mut segments = dir.split('/');
        // `…/site-packages/<package>` itself.
        let at_package_root = dir
            .rsplit('/')
            .nth(1)
            .is_some_and(|parent| parent == "site-packages" || parent == "dist-packages");
        at_package_root || segments.any(|segment| segment == "jars")
    }

    /// Archives anywhere, site-packages included: PySpark ships its jars there, and they
    /// run.
    fn wants(&self, file: &FileRef<'_>) -> bool {
        is_archive_name(file.file_name())
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        catalog_with(file, resolver, Limits::default())
    }
}

/// Why an archive, or an entry of it, could not be read.
#[derive(Debug, thiserror::Error)]
enum ArchiveError {
    #[error("cannot read the archive")]
    Read(#[source] io::Error),
    #[error("not a readable zip archive")]
    Zip(#[source] ZipError),
    #[error("cannot read `{entry}` in the archive")]
    Entry {
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot open `{entry}` in the archive")]
    EntryZip {
        entry: String,
        #[source]
        source: ZipError,
    },
    #[error("`{entry}` in the archive is larger than the {limit}-byte limit; it is skipped")]
    EntryTooLarge { entry: String, limit: u64 },
    #[error(
        "the nested archives hold more than {limit} bytes in all; `{entry}` and later ones are skipped"
    )]
    NestedBudget { entry: String, limit: u64 },
}

fn catalog_with(
    file: &FileRef<'_>,
    resolver: &dyn Resolver,
    limits: Limits,
) -> Result<CatalogOutput, CatalogError> {
    let mut reader = resolver.open(file.path).map_err(ArchiveError::Read)?;
    let sha1 = sha1_of(&mut reader).map_err(ArchiveError::Read)?;
    reader.rewind().map_err(ArchiveError::Read)?;
    let mut archive = ZipArchive::new(reader).map_err(ArchiveError::Zip)?;
    let mut walk = Walk {
        output: CatalogOutput::default(),
        limits,
        nested_left: limits.nested_total,
    };
    walk.archive(
        &mut archive,
        &This {
            location: file.path,
            file_name: file.file_name(),
            sha1: &sha1,
            depth: 0,
        },
    );
    Ok(walk.output)
}

/// Whether a file name ends with an archive extension (any case).
fn is_archive_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, extension)| {
        !stem.is_empty() && EXTENSIONS.iter().any(|e| extension.eq_ignore_ascii_case(e))
    })
}

/// The SHA-1 of everything `reader` yields, read in blocks.
fn sha1_of(reader: &mut impl Read) -> io::Result<String> {
    let mut hasher = sha1_smol::Sha1::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => hasher.update(&buffer[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(hasher.digest().to_string())
}

/// The archive being read.
struct This<'a> {
    /// Its location: the target-relative path, with `!/entry` per nesting level.
    location: &'a str,
    /// Its own file name.
    file_name: &'a str,
    /// Its SHA-1, hex.
    sha1: &'a str,
    /// 0 for the file itself.
    depth: usize,
}

struct Walk {
    output: CatalogOutput,
    limits: Limits,
    /// Decompressed bytes nested archives may still take.
    nested_left: u64,
}

impl Walk {
    /// Reports the archive's components and those of the archives in it; returns the id of
    /// the archive's own component, if one is known.
    fn archive<R: Read + Seek>(
        &mut self,
        archive: &mut ZipArchive<R>,
        this: &This<'_>,
    ) -> Option<ComponentId> {
        let names: Vec<(usize, String)> = (0..archive.len())
            .filter_map(|index| Some((index, archive.name_for_index(index)?.ok()?.into_owned())))
            .collect();

        let mut found = self.pom_properties(archive, &names, this);
        let own = match own_component(&found, this.file_name) {
            Some(index) => Some(index),
            None if found.is_empty() => {
                let component = self
                    .manifest_component(archive, this)
                    .unwrap_or_else(|| file_name_component(this));
                found.push((String::new(), component));
                Some(0)
            }
            None => None,
        };
        let own_id = own.and_then(|index| {
            let (_, component) = found.get_mut(index)?;
            if let Some(hash) = Hash::new(HashAlgorithm::Sha1, this.sha1) {
                component.hashes.insert(hash);
            }
            if is_application(this.file_name) {
                component.kind = ComponentKind::Application;
            }
            Some(ComponentId::of(component))
        });
        for (_, component) in found {
            self.contains(own_id.as_ref(), &component);
            self.output.components.push(component);
        }

        if this.depth < self.limits.nesting {
            for (index, name) in &names {
                let entry_name = name.rsplit('/').next().unwrap_or(name);
                if name.ends_with('/') || !is_archive_name(entry_name) {
                    continue;
                }
                if let Some(nested) = self.nested(archive, *index, name, this) {
                    self.edge(own_id.as_ref(), nested);
                }
            }
        }
        own_id
    }

    /// One component per `META-INF/maven/<group>/<artifact>/pom.properties`, with the
    /// `artifactId` each was found under.
    fn pom_properties<R: Read + Seek>(
        &mut self,
        archive: &mut ZipArchive<R>,
        names: &[(usize, String)],
        this: &This<'_>,
    ) -> Vec<(String, Component)> {
        let mut found: Vec<(String, Component)> = Vec::new();
        let mut purls = HashSet::new();
        let entries = names
            .iter()
            .filter_map(|(index, name)| Some((*index, name, pom_properties_dir(name)?)))
            .take(MAX_POM_PROPERTIES);
        for (index, name, (dir_group, dir_artifact)) in entries {
            let text = match read_entry(archive, index, name, MAX_METADATA_BYTES) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(error) => {
                    self.output
                        .problems
                        .push(problem(ID, this.location, None, error));
                    continue;
                }
            };
            let properties = parse_properties(&text);
            let field = |key: &str| {
                properties
                    .get(key)
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
            };
            let group = field("groupId").unwrap_or(dir_group);
            let artifact = field("artifactId").unwrap_or(dir_artifact);
            let component = Coordinates::new(Some(group), artifact, field("version"))
                .component(Location::new(this.location), ID);
            if purls.insert(component.purl.clone()) {
                found.push((artifact.to_owned(), component));
            }
        }
        found
    }

    /// The component `META-INF/MANIFEST.MF` describes, if it names a package and version.
    fn manifest_component<R: Read + Seek>(
        &mut self,
        archive: &mut ZipArchive<R>,
        this: &This<'_>,
    ) -> Option<Component> {
        const MANIFEST: &str = "META-INF/MANIFEST.MF";
        let index = archive.index_for_name(MANIFEST)?;
        let bytes = match read_entry(archive, index, MANIFEST, MAX_METADATA_BYTES) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.output
                    .problems
                    .push(problem(ID, this.location, None, error));
                return None;
            }
        };
        let attributes = manifest_main_attributes(&String::from_utf8_lossy(&bytes));
        let get = |name: &str| {
            attributes
                .get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let identifier = |v: &&str| !v.contains(char::is_whitespace);
        let version = get("implementation-version").or_else(|| get("bundle-version"))?;
        let name = get("implementation-title").filter(identifier).or_else(|| {
            get("bundle-symbolicname")
                .and_then(|s| s.split(';').next())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .filter(identifier)
        })?;
        let group = get("implementation-vendor-id").filter(identifier);
        Some(
            Coordinates::new(group, name, Some(version))
                .component(Location::new(this.location), ID_MANIFEST),
        )
    }

    /// Reads the nested archive at `index` and walks it; returns its own component's id.
    fn nested<R: Read + Seek>(
        &mut self,
        archive: &mut ZipArchive<R>,
        index: usize,
        name: &str,
        this: &This<'_>,
    ) -> Option<ComponentId> {
        if self.nested_left == 0 {
            // The budget ran out, which was reported once.
            return None;
        }
        let location = format!("{}!/{name}", this.location);
        let limit = self.limits.nested_bytes.min(self.nested_left);
        let bytes = match read_entry(archive, index, name, limit) {
            Ok(bytes) => bytes,
            Err(ArchiveError::EntryTooLarge { entry, .. }) if limit < self.limits.nested_bytes => {
                let limit = self.limits.nested_total;
                let error = ArchiveError::NestedBudget { entry, limit };
                self.output
                    .problems
                    .push(problem(ID, this.location, None, error));
                // Nothing later fits either.
                self.nested_left = 0;
                return None;
            }
            Err(error) => {
                self.output
                    .problems
                    .push(problem(ID, this.location, None, error));
                return None;
            }
        };
        self.nested_left = self.nested_left.saturating_sub(bytes.len() as u64);
        let sha1 = sha1_of(&mut bytes.as_slice()).ok()?;
        let mut nested = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(nested) => nested,
            Err(error) => {
                self.output
                    .problems
                    .push(problem(ID, &location, None, ArchiveError::Zip(error)));
                return None;
            }
        };
        let file_name = name.rsplit('/').next().unwrap_or(name);
        self.archive(
            &mut nested,
            &This {
                location: &location,
                file_name,
                sha1: &sha1,
                depth: this.depth + 1,
            },
        )
    }

    /// `own` contains `component` (unless they are the same).
    fn contains(&mut self, own: Option<&ComponentId>, component: &Component) {
        self.edge(own, ComponentId::of(component));
    }

    fn edge(&mut self, own: Option<&ComponentId>, to: ComponentId) {
        if let Some(from) = own.filter(|from| **from != to) {
            self.output.relationships.push(Relationship {
                from: from.clone(),
                kind: RelationshipKind::Contains,
                to,
            });
        }
    }
}

/// `(group, artifact)` of a `META-INF/maven/<group>/<artifact>/pom.properties` entry.
fn pom_properties_dir(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("META-INF/maven/")?;
    let rest = rest.strip_suffix("/pom.properties")?;
    let (group, artifact) = rest.split_once('/')?;
    (!group.is_empty() && !artifact.is_empty() && !artifact.contains('/'))
        .then_some((group, artifact))
}

/// Which `pom.properties` describes the archive itself: the only one, or else the one whose
/// `artifactId` the file name starts with (the longest, so that `guava-testlib-…` is not
/// taken for `guava`).
fn own_component(found: &[(String, Component)], file_name: &str) -> Option<usize> {
    if found.len() == 1 {
        return Some(0);
    }
    let stem = stem(file_name);
    found
        .iter()
        .enumerate()
        .filter(|(_, (artifact, _))| {
            stem == artifact
                || stem
                    .strip_prefix(artifact.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|(_, (artifact, _))| artifact.len())
        .map(|(index, _)| index)
}

/// The component the file name alone suggests.
fn file_name_component(this: &This<'_>) -> Component {
    let (artifact, version) = split_file_name(stem(this.file_name));
    Coordinates::new(None, artifact, version).component(Location::new(this.location), ID_FILE_NAME)
}

/// `commons-text-1.9` → (`commons-text`, `1.9`): the version starts at the first `-`
/// followed by a digit.
fn split_file_name(stem: &str) -> (&str, Option<&str>) {
    let split = stem
        .match_indices('-')
        .map(|(index, _)| index)
        .find(|index| {
            *index > 0
                && stem
                    .as_bytes()
                    .get(index + 1)
                    .is_some_and(u8::is_ascii_digit)
        });
    match split {
        Some(index) => (&stem[..index], Some(&stem[index + 1..])),
        None => (stem, None),
    }
}

fn stem(file_name: &str) -> &str {
    file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
}

/// Web and enterprise archives are deployable applications, not libraries.
fn is_application(file_name: &str) -> bool {
    file_name.rsplit_once('.').is_some_and(|(_, extension)| {
        extension.eq_ignore_ascii_case("war") || extension.eq_ignore_ascii_case("ear")
    })
}

/// Reads one entry, refusing more than `limit` decompressed bytes whatever its header says.
fn read_entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    index: usize,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, ArchiveError> {
    let too_large = || ArchiveError::EntryTooLarge {
        entry: name.to_owned(),
        limit,
    };
    let file = archive
        .by_index(index)
        .map_err(|source| ArchiveError::EntryZip {
            entry: name.to_owned(),
            source,
        })?;
    if file.size() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ArchiveError::Entry {
            entry: name.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use bulwark_inventory::Scope;
    use zip::write::SimpleFileOptions;

    use super::*;
    use crate::test_support::{catalog_bytes, component, purls};

    /// A zip archive of `entries`, deflated, with fixed timestamps.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn pom_properties(group: &str, artifact: &str, version: &str) -> (String, Vec<u8>) {
        (
            format!("META-INF/maven/{group}/{artifact}/pom.properties"),
            format!(
                "#Generated by Maven\nartifactId={artifact}\ngroupId={group}\nversion={version}\n"
            )
            .into_bytes(),
        )
    }

    fn jar(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
        let borrowed: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
            .collect();
        zip_of(&borrowed)
    }

    fn sha1_hex(bytes: &[u8]) -> String {
        sha1_of(&mut &bytes[..]).unwrap()
    }

    fn edges(output: &CatalogOutput) -> Vec<String> {
        let mut edges: Vec<String> = output
            .relationships
            .iter()
            .map(|r| format!("{} contains {}", r.from, r.to))
            .collect();
        edges.sort();
        edges
    }

    #[test]
    fn pom_properties_identify_the_jar_and_its_sha1() {
        let bytes = jar(&[
            (
                "META-INF/MANIFEST.MF".into(),
                b"Implementation-Title: ignored\n".to_vec(),
            ),
            pom_properties("org.apache.commons", "commons-text", "1.9"),
        ]);
        let output = catalog_bytes(
            &[("lib/commons-text-1.9.jar", bytes.clone())],
            "lib/commons-text-1.9.jar",
        );
        assert_eq!(
            purls(&output),
            ["pkg:maven/org.apache.commons/commons-text@1.9"]
        );
        let text = &output.components[0];
        assert_eq!(text.found_by.first().map(String::as_str), Some(ID));
        assert_eq!(text.kind, ComponentKind::Library);
        assert_eq!(text.scope, Scope::Required);
        let hash = text.hashes.first().unwrap();
        assert_eq!(
            (hash.algorithm, hash.value.as_str()),
            (HashAlgorithm::Sha1, sha1_hex(&bytes).as_str())
        );
        assert!(output.relationships.is_empty());
    }

    #[test]
    fn a_shaded_jar_reports_every_pom_properties() {
        let bytes = jar(&[
            pom_properties("com.google.guava", "guava", "31.1-jre"),
            pom_properties("org.example", "app", "2.0"),
            pom_properties("org.apache.logging.log4j", "log4j-core", "2.14.1"),
        ]);
        let output = catalog_bytes(&[("app-2.0-all.jar", bytes)], "app-2.0-all.jar");
        assert_eq!(output.components.len(), 3);
        let app = component(&output, "org.example:app");
        assert_eq!(app.hashes.len(), 1);
        assert!(
            component(&output, "com.google.guava:guava")
                .hashes
                .is_empty()
        );
        assert_eq!(
            edges(&output),
            [
                "pkg:maven/org.example/app@2.0 contains pkg:maven/com.google.guava/guava@31.1-jre",
                "pkg:maven/org.example/app@2.0 contains pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            ]
        );
    }

    #[test]
    fn the_manifest_when_there_is_no_pom_properties() {
        let manifest = b"Manifest-Version: 1.0\r\nImplementation-Title: Apache Commons Text\r\n\
            Implementation-Version: 1.9\r\nImplementation-Vendor-Id: org.apache.commons\r\n\
            Bundle-SymbolicName: org.apache.commons.text;singleton:=true\r\n\r\n";
        let bytes = zip_of(&[("META-INF/MANIFEST.MF", manifest)]);
        let output = catalog_bytes(&[("x.war", bytes)], "x.war");
        let found = &output.components[0];
        assert_eq!(
            purls(&output),
            ["pkg:maven/org.apache.commons/org.apache.commons.text@1.9"]
        );
        assert_eq!(
            found.found_by.first().map(String::as_str),
            Some(ID_MANIFEST)
        );
        assert_eq!(found.kind, ComponentKind::Application);
        assert_eq!(found.hashes.len(), 1);
    }

    #[test]
    fn the_file_name_as_a_last_resort() {
        let no_version_manifest = zip_of(&[(
            "META-INF/MANIFEST.MF",
            b"Implementation-Title: commons-text\n",
        )]);
        for (name, artifact, version) in [
            ("commons-text-1.9.jar", "commons-text", Some("1.9")),
            ("guava-31.1-jre.JAR", "guava", Some("31.1-jre")),
            (
                "spring-boot-starter-web-2.7.4.jar",
                "spring-boot-starter-web",
                Some("2.7.4"),
            ),
            ("app.jar", "app", None),
        ] {
            let output = catalog_bytes(&[(name, no_version_manifest.clone())], name);
            let found = &output.components[0];
            assert_eq!(
                (found.name.as_str(), found.version.as_deref()),
                (artifact, version),
                "{name}"
            );
            assert_eq!(
                found.found_by.first().map(String::as_str),
                Some(ID_FILE_NAME)
            );
        }
    }

    #[test]
    fn nested_jars_are_read_with_their_own_sha1_and_location() {
        let inner = jar(&[pom_properties("org.yaml", "snakeyaml", "1.30")]);
        let unknown = zip_of(&[("a.class", b"\xca\xfe\xba\xbe")]);
        let outer = zip_of(&[
            ("BOOT-INF/lib/snakeyaml-1.30.jar", &inner),
            ("BOOT-INF/lib/private-lib-0.1.jar", &unknown),
            ("BOOT-INF/lib/broken-1.0.jar", b"not a zip"),
            (
                "META-INF/maven/com.acme/svc/pom.properties",
                b"groupId=com.acme\nartifactId=svc\nversion=3\n",
            ),
        ]);
        let output = catalog_bytes(&[("svc.jar", outer)], "svc.jar");
        let yaml = component(&output, "org.yaml:snakeyaml");
        assert_eq!(
            yaml.locations.first().unwrap().path,
            "svc.jar!/BOOT-INF/lib/snakeyaml-1.30.jar"
        );
        assert_eq!(yaml.hashes.first().unwrap().value, sha1_hex(&inner));
        let private = component(&output, "private-lib");
        assert_eq!(private.version.as_deref(), Some("0.1"));
        assert_eq!(
            edges(&output),
            [
                "pkg:maven/com.acme/svc@3 contains pkg:maven/org.yaml/snakeyaml@1.30",
                "pkg:maven/com.acme/svc@3 contains pkg:maven/private-lib@0.1",
            ]
        );
        assert_eq!(output.problems.len(), 1);
        assert_eq!(
            output.problems[0].path,
            "svc.jar!/BOOT-INF/lib/broken-1.0.jar"
        );
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let mut bytes = jar(&[pom_properties("g", "level5", "1")]);
        for level in (0..5).rev() {
            let properties = pom_properties("g", &format!("level{level}"), "1");
            let nested = (format!("lib/level{}-1.jar", level + 1), bytes);
            bytes = jar(&[properties, nested]);
        }
        let output = catalog_bytes(&[("level0-1.jar", bytes)], "level0-1.jar");
        let names: Vec<_> = output.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["g:level0", "g:level1", "g:level2", "g:level3"]);
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_cap() {
        let bomb = vec![0_u8; 4 * 1024 * 1024];
        let small = jar(&[pom_properties("g", "small", "1")]);
        let outer = zip_of(&[("lib/bomb-1.jar", &bomb), ("lib/small-1.jar", &small)]);
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("app.ear"), &outer).unwrap();
        let resolver = bulwark_catalog::DirResolver::new(dir.path());
        let limits = Limits {
            nested_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let file = FileRef {
            path: "app.ear",
            explicit: false,
        };
        let output = catalog_with(&file, &resolver, limits).unwrap();
        assert_eq!(output.problems.len(), 1);
        assert!(output.problems[0].message.contains("lib/bomb-1.jar"));
        assert!(output.components.iter().any(|c| c.name == "g:small"));

        // A total budget smaller than both: the first that does not fit ends the nesting.
        let limits = Limits {
            nested_total: 1024,
            ..Limits::default()
        };
        let output = catalog_with(&file, &resolver, limits).unwrap();
        assert_eq!(output.problems.len(), 1);
        assert!(output.components.iter().all(|c| c.name != "g:small"));
    }

    #[test]
    fn what_is_not_a_zip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("fake.jar"), b"PK\x03\x04 truncated").unwrap();
        let resolver = bulwark_catalog::DirResolver::new(dir.path());
        let file = FileRef {
            path: "fake.jar",
            explicit: false,
        };
        assert!(ArchiveCataloger.catalog(&file, &resolver).is_err());
    }

    #[test]
    fn descends_into_python_packages_only_for_their_jars() {
        let site = "venv/lib/python3.11/site-packages";
        assert!(ArchiveCataloger.descend("app/lib"));
        assert!(ArchiveCataloger.descend(site));
        assert!(ArchiveCataloger.descend(&format!("{site}/pyspark")));
        assert!(ArchiveCataloger.descend(&format!("{site}/pyspark/jars")));
        assert!(!ArchiveCataloger.descend(&format!("{site}/scipy/sparse/tests")));
    }

    #[test]
    fn wants_archives_by_extension() {
        let wants = |path| {
            ArchiveCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("opt/app/app.jar"));
        assert!(wants("deploy/shop.WAR"));
        assert!(wants("jenkins/plugins/git.hpi"));
        assert!(wants(
            "venv/lib/python3.11/site-packages/pyspark/jars/log4j-core-2.17.2.jar"
        ));
        assert!(!wants("src/Main.java"));
        assert!(!wants(".jar"));
        assert!(!wants("jar"));
    }

    #[test]
    fn sha1_matches_a_known_vector() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn pom_properties_paths() {
        assert_eq!(
            pom_properties_dir("META-INF/maven/org.yaml/snakeyaml/pom.properties"),
            Some(("org.yaml", "snakeyaml"))
        );
        assert_eq!(pom_properties_dir("META-INF/maven/x/pom.properties"), None);
        assert_eq!(
            pom_properties_dir("META-INF/maven/a/b/c/pom.properties"),
            None
        );
    }
}
