//! apk's database: `lib/apk/db/installed`, one paragraph of `X:value` lines per package.
//!
//! `P` name, `V` version, `A` architecture, `o` origin (the source package), `L` license,
//! `m` maintainer, `T` description, `D` dependencies; `F` opens a directory whose files
//! follow as `R` lines, each optionally followed by its `Z` checksum (`Q1` + base64 SHA-1).

use std::collections::BTreeSet;
use std::io;

use base64::Engine as _;
use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, join_relative};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, FileEntry, Hash, HashAlgorithm, License,
    Location, Metadata, OsPackage, Purl,
};

use crate::{OsRelease, problem, root_before};

const ID: &str = "os/apk";
const INSTALLED: &str = "lib/apk/db/installed";

/// Reads apk's installed database.
pub(crate) struct ApkCataloger;

/// Why an apk database or paragraph could not be read.
#[derive(Debug, thiserror::Error)]
enum ApkError {
    #[error("cannot read the apk database")]
    Read(#[source] io::Error),
    #[error("malformed apk database line: not an `X:value` pair")]
    Malformed,
    #[error("apk database entry has no `{0}`")]
    Missing(&'static str),
}

impl Cataloger for ApkCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        root_before(file.path, INSTALLED).is_some()
    }

    fn reads(&self, path: &str) -> bool {
        root_before(path, INSTALLED).is_some() || OsRelease::is_os_release(path)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(root) = root_before(file.path, INSTALLED) else {
            return Ok(CatalogOutput::default());
        };
        let bytes = resolver.read(file.path).map_err(ApkError::Read)?;
        let text = String::from_utf8_lossy(&bytes);
        let flavour = Flavour::of(OsRelease::read(resolver, root).as_ref());
        let mut output = CatalogOutput::default();
        for entry in parse_entries(&text, root.trim_end_matches('/')) {
            if let Some(line) = entry.malformed {
                output
                    .problems
                    .push(problem(file.path, line, ID, ApkError::Malformed));
                continue;
            }
            let Some(name) = entry.name.filter(|n| !n.is_empty()) else {
                output
                    .problems
                    .push(problem(file.path, entry.line, ID, ApkError::Missing("P")));
                continue;
            };
            let Some(version) = entry.version.filter(|v| !v.is_empty()) else {
                output
                    .problems
                    .push(problem(file.path, entry.line, ID, ApkError::Missing("V")));
                continue;
            };
            let mut component = Component::package(
                flavour.ecosystem,
                name,
                Some(version),
                Location::new(file.path).at_line(entry.line),
                ID,
            );
            component.kind = ComponentKind::OsPackage;
            component.purl = Purl::builder(flavour.ecosystem, name)
                .namespace(flavour.namespace)
                .version(Some(version))
                .qualifier("arch", entry.arch)
                .qualifier("distro", flavour.purl_distro.as_deref())
                .build();
            component.licenses = entry
                .license
                .and_then(License::from_declared)
                .into_iter()
                .collect();
            component.supplier = entry.maintainer.map(str::to_owned);
            component.description = entry.description.map(str::to_owned);
            component.metadata = Metadata::OsPackage(OsPackage {
                source_name: Some(entry.origin.unwrap_or(name).to_owned()),
                source_version: Some(version.to_owned()),
                architecture: entry.arch.map(str::to_owned),
                distro: flavour.distro.clone(),
            });
            component.files = entry.files;

            let from = ComponentId::of(&component);
            let depends: BTreeSet<&str> = entry
                .depends
                .iter()
                .filter_map(|d| dependency_name(d))
                .collect();
            output.requests.extend(crate::dependency_requests(
                &from,
                flavour.ecosystem,
                depends,
                root,
            ));
            output.components.push(component);
        }
        Ok(output)
    }
}

/// The distribution an apk database belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flavour {
    ecosystem: Ecosystem,
    namespace: &'static str,
    /// `distro=` qualifier, for the distributions the ecosystem names.
    purl_distro: Option<String>,
    /// The release as `os-release` states it.
    distro: Option<String>,
}

impl Flavour {
    fn of(release: Option<&OsRelease>) -> Self {
        let distro = release.and_then(OsRelease::distro);
        let (ecosystem, namespace, known) = match release.and_then(|r| r.id.as_deref()) {
            Some("alpine") => (Ecosystem::Alpine, "alpine", true),
            Some("wolfi") => (Ecosystem::Wolfi, "wolfi", true),
            Some("chainguard") => (Ecosystem::Chainguard, "chainguard", true),
            _ => (Ecosystem::Alpine, "alpine", false),
        };
        Self {
            ecosystem,
            namespace,
            purl_distro: distro.clone().filter(|_| known),
            distro,
        }
    }
}

/// One package paragraph.
#[derive(Debug, Default)]
struct Entry<'a> {
    line: u32,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
    license: Option<&'a str>,
    maintainer: Option<&'a str>,
    description: Option<&'a str>,
    depends: Vec<&'a str>,
    files: Vec<FileEntry>,
    /// The first line that is not an `X:value` pair.
    malformed: Option<u32>,
}

/// Splits the database into paragraphs; file paths are joined onto `base` (the root prefix
/// without its trailing slash).
fn parse_entries<'a>(text: &'a str, base: &str) -> Vec<Entry<'a>> {
    let mut entries = Vec::new();
    let mut current: Option<Entry<'a>> = None;
    let mut directory = "";
    // Whether the last file line was an `R` (a `Z` then belongs to it).
    let mut after_file = false;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            entries.extend(current.take());
            directory = "";
            after_file = false;
            continue;
        }
        let entry = current.get_or_insert_with(|| Entry {
            line: number,
            ..Entry::default()
        });
        let Some((key, value)) = line.split_once(':').filter(|(k, _)| k.len() == 1) else {
            entry.malformed.get_or_insert(number);
            continue;
        };
        let value = value.trim();
        let non_empty = Some(value).filter(|v| !v.is_empty());
        match key {
            "P" => entry.name = non_empty,
            "V" => entry.version = non_empty,
            "A" => entry.arch = non_empty,
            "o" => entry.origin = non_empty,
            "L" => entry.license = non_empty,
            "m" => entry.maintainer = non_empty,
            "T" => entry.description = non_empty,
            "D" => entry.depends.extend(value.split_whitespace()),
            "F" => {
                directory = value;
                after_file = false;
            }
            "R" => {
                let relative = if directory.is_empty() {
                    value.to_owned()
                } else {
                    format!("{directory}/{value}")
                };
                after_file = false;
                if let Some(path) = join_relative(base, relative.trim_start_matches('/')) {
                    entry.files.push(FileEntry {
                        path,
                        digest: None,
                        size: None,
                    });
                    after_file = true;
                }
            }
            "Z" if after_file => {
                if let Some(file) = entry.files.last_mut() {
                    file.digest = checksum(value);
                }
            }
            _ => {}
        }
    }
    entries.extend(current);
    entries
}

/// `Q1<base64 SHA-1>` (or `Q2<base64 SHA-256>`, apk-tools 3) as a hex digest.
fn checksum(value: &str) -> Option<Hash> {
    let (algorithm, encoded) = if let Some(rest) = value.strip_prefix("Q1") {
        (HashAlgorithm::Sha1, rest)
    } else if let Some(rest) = value.strip_prefix("Q2") {
        (HashAlgorithm::Sha256, rest)
    } else {
        return None;
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Hash::new(algorithm, &hex::encode(bytes))
}

/// The package a `D:` token names: `name`, `name>=1.0`, `name=1.0-r0`, `name~1`. Conflicts
/// (`!name`) and provided names (`so:libc.musl-x86_64.so.1`, `cmd:sh`, `pc:zlib`, `/bin/sh`)
/// name no package and are dropped.
fn dependency_name(token: &str) -> Option<&str> {
    if token.starts_with(['!', '/']) {
        return None;
    }
    let name = token
        .split(['<', '>', '=', '~'])
        .next()
        .filter(|n| !n.is_empty())?;
    (!name.contains(':')).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{MemResolver, expected_cases, run, testdata};

    /// Every case of the scalibr test table, with each fixture placed at
    /// `lib/apk/db/installed`.
    ///
    /// Deviations: the os-release variants (`osrelease_openwrt`, `no osrelease`, ...) only
    /// change the distro in scalibr's expectations and are checked by name and version here
    /// (the distro logic has its own test). Where scalibr returns an error (`invalid`),
    /// bulwark reports Problems and goes on: "no packages and at least one problem".
    #[test]
    fn scalibr_fixtures() {
        let cases = expected_cases("apk/EXPECTED.json");
        assert!(cases.len() >= 8);
        for (fixture, test, want_error, mut expected) in cases {
            let content = fs_err::read(testdata(&format!("apk/{fixture}"))).unwrap();
            let resolver = MemResolver::default().with(INSTALLED, content);
            let output = run(&ApkCataloger, &resolver, INSTALLED);
            let mut names: Vec<(String, String)> = output
                .components
                .iter()
                .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
                .collect();
            names.sort();
            expected.sort();
            assert_eq!(names, expected, "{fixture}: {test}");
            if want_error {
                assert!(!output.problems.is_empty(), "{fixture}: {test}");
            } else {
                assert!(output.problems.is_empty(), "{fixture}: {test}");
            }
        }
    }

    #[test]
    fn alpine_package_fields() {
        let content = fs_err::read(testdata("apk/installed")).unwrap();
        let resolver = MemResolver::default()
            .with("rootfs/lib/apk/db/installed", content)
            .with(
                "rootfs/etc/os-release",
                "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.0\n",
            );
        let output = run(&ApkCataloger, &resolver, "rootfs/lib/apk/db/installed");
        let base = output
            .components
            .iter()
            .find(|c| c.name == "alpine-baselayout")
            .unwrap();
        assert_eq!(base.kind, ComponentKind::OsPackage);
        assert_eq!(base.ecosystem, Some(Ecosystem::Alpine));
        assert_eq!(
            base.purl.as_ref().unwrap().as_str(),
            "pkg:apk/alpine/alpine-baselayout@3.4.3-r1?arch=x86_64&distro=alpine-3.18.0"
        );
        assert_eq!(base.licenses, [License::Expression("GPL-2.0-only".into())]);
        let motd = base
            .files
            .iter()
            .find(|f| f.path == "rootfs/etc/motd")
            .unwrap();
        let digest = motd.digest.as_ref().unwrap();
        assert_eq!(digest.algorithm, HashAlgorithm::Sha1);
        assert_eq!(digest.value.len(), 40);
        let from = ComponentId::of(base);
        let depends: Vec<&str> = output
            .requests
            .iter()
            .filter(|r| r.from == from)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(depends, ["alpine-baselayout-data"]);

        let ssl = output
            .components
            .iter()
            .find(|c| c.name == "libssl3")
            .unwrap();
        let Metadata::OsPackage(os) = &ssl.metadata else {
            panic!("no OS metadata");
        };
        assert_eq!(os.source_name.as_deref(), Some("openssl"));
        assert_eq!(os.distro.as_deref(), Some("alpine-3.18.0"));
    }

    #[test]
    fn origin_defaults_to_name_and_flavours() {
        let content = fs_err::read(testdata("apk/no-origin")).unwrap();
        let output = run(
            &ApkCataloger,
            &MemResolver::default().with(INSTALLED, content),
            INSTALLED,
        );
        let Metadata::OsPackage(os) = &output.components[0].metadata else {
            panic!("no OS metadata");
        };
        assert_eq!(os.source_name.as_deref(), Some("pkgname"));
        assert_eq!(
            output.components[0].purl.as_ref().unwrap().as_str(),
            "pkg:apk/alpine/pkgname@1.2.3?arch=x86_64"
        );
        let wolfi = Flavour::of(Some(&OsRelease::parse("ID=wolfi\nVERSION_ID=20230201\n")));
        assert_eq!(wolfi.ecosystem, Ecosystem::Wolfi);
        assert_eq!(wolfi.purl_distro.as_deref(), Some("wolfi-20230201"));
        let openwrt = Flavour::of(Some(&OsRelease::parse("ID=openwrt\nVERSION_ID=24.10\n")));
        assert_eq!(openwrt.ecosystem, Ecosystem::Alpine);
        assert_eq!(openwrt.purl_distro, None);
    }

    #[test]
    fn dependency_tokens() {
        let names: Vec<&str> = [
            "musl>=1.2",
            "so:libc.musl-x86_64.so.1",
            "/bin/sh",
            "!conflict",
            "zlib",
            "cmd:sh",
        ]
        .into_iter()
        .filter_map(dependency_name)
        .collect();
        assert_eq!(names, ["musl", "zlib"]);
    }

    #[test]
    fn checksums() {
        let hash = checksum("Q1SLkS9hBidUbPwwrw+XR0Whv3ww8=").unwrap();
        assert_eq!(hash.algorithm, HashAlgorithm::Sha1);
        assert_eq!(hash.value, "48b912f610627546cfc30af0f974745a1bf7c30f");
        assert_eq!(checksum("not-a-checksum"), None);
    }
}
