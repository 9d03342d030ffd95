//! dpkg's database: `var/lib/dpkg/status` (one deb822 paragraph per package) and the
//! distroless layout `var/lib/dpkg/status.d/<name>` (one paragraph per file, with a
//! `<name>.md5sums` beside it).
//!
//! Only packages whose current state (the third word of `Status`) is `installed` are
//! reported: that covers `install ok installed` and also packages marked for removal or purge
//! whose files are still on disk (`deinstall ok installed`). Distroless paragraphs have no
//! `Status` and are all installed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, join_relative};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, FileEntry, Hash, HashAlgorithm, Location,
    Metadata, OsPackage, Purl,
};

use crate::{OsRelease, problem, root_before};

const ID: &str = "os/dpkg";
const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";
const INFO: &str = "var/lib/dpkg/info";

/// Reads dpkg status files.
pub(crate) struct DpkgCataloger;

/// Why a dpkg status file or paragraph could not be read.
#[derive(Debug, thiserror::Error)]
enum DpkgError {
    #[error("cannot read the dpkg status file")]
    Read(#[source] io::Error),
    #[error("malformed dpkg status paragraph: {0}")]
    Malformed(&'static str),
    #[error("dpkg status paragraph has no `{0}`")]
    Missing(&'static str),
}

/// The root prefix of a status file and whether it is a distroless `status.d/` entry.
fn root_of<'a>(file: &FileRef<'a>) -> Option<(&'a str, bool)> {
    if let Some(root) = root_before(file.path, STATUS) {
        return Some((root, false));
    }
    let dir = file.dir();
    let root = root_before(dir, STATUS_D)?;
    let name = file.file_name();
    let is_entry = !name.starts_with('.') && !name.ends_with(".md5sums");
    is_entry.then_some((root, true))
}

impl Cataloger for DpkgCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        root_of(file).is_some()
    }

    fn reads(&self, path: &str) -> bool {
        let file = FileRef {
            path,
            explicit: false,
        };
        let is_info =
            file.dir().ends_with(INFO) && (path.ends_with(".list") || path.ends_with(".md5sums"));
        root_of(&file).is_some() || is_info || OsRelease::is_os_release(path)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some((root, distroless)) = root_of(file) else {
            return Ok(CatalogOutput::default());
        };
        let bytes = resolver.read(file.path).map_err(DpkgError::Read)?;
        let text = String::from_utf8_lossy(&bytes);
        let flavour = Flavour::of(OsRelease::read(resolver, root).as_ref());
        let info_files: HashSet<String> = if distroless {
            HashSet::new()
        } else {
            resolver
                .read_dir(&format!("{root}{INFO}"))
                .map(|names| names.into_iter().collect())
                .unwrap_or_default()
        };

        let mut output = CatalogOutput::default();
        for paragraph in parse_paragraphs(&text) {
            if let Some((line, what)) = paragraph.malformed {
                output
                    .problems
                    .push(problem(file.path, line, ID, DpkgError::Malformed(what)));
                continue;
            }
            let installed = match paragraph.get("Status") {
                Some(status) => status.split_whitespace().nth(2) == Some("installed"),
                None => distroless,
            };
            if !installed {
                continue;
            }
            let Some(name) = paragraph.get("Package").filter(|n| !n.is_empty()) else {
                output.problems.push(problem(
                    file.path,
                    paragraph.line,
                    ID,
                    DpkgError::Missing("Package"),
                ));
                continue;
            };
            let Some(version) = paragraph.get("Version").filter(|v| !v.is_empty()) else {
                output.problems.push(problem(
                    file.path,
                    paragraph.line,
                    ID,
                    DpkgError::Missing("Version"),
                ));
                continue;
            };
            let architecture = paragraph.get("Architecture").filter(|a| !a.is_empty());

            let mut component = Component::package(
                flavour.ecosystem,
                name,
                Some(version),
                Location::new(file.path).at_line(paragraph.line),
                ID,
            );
            component.kind = ComponentKind::OsPackage;
            component.purl = Purl::builder(flavour.ecosystem, name)
                .namespace(flavour.namespace)
                .version(Some(version))
                .qualifier("arch", architecture)
                .qualifier("distro", flavour.purl_distro.as_deref())
                .build();
            component.supplier = paragraph
                .get("Maintainer")
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            component.description = paragraph
                .get("Description")
                .and_then(|d| d.lines().next())
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            let (source_name, source_version) = match paragraph.get("Source") {
                Some(source) if !source.trim().is_empty() => parse_source(source, version),
                _ => (name.to_owned(), version.to_owned()),
            };
            component.metadata = Metadata::OsPackage(OsPackage {
                source_name: Some(source_name),
                source_version: Some(source_version),
                architecture: architecture.map(str::to_owned),
                distro: flavour.distro.clone(),
            });
            component.files = if distroless {
                let md5sums = format!("{}.md5sums", file.path);
                resolver
                    .read(&md5sums)
                    .map(|bytes| installed_files(root, None, Some(&bytes)))
                    .unwrap_or_default()
            } else {
                info_files_of(resolver, root, &info_files, name, architecture)
            };

            let from = ComponentId::of(&component);
            let mut depends = BTreeSet::new();
            for field in ["Pre-Depends", "Depends"] {
                if let Some(value) = paragraph.get(field) {
                    depends.extend(dependency_names(value));
                }
            }
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

/// The distribution a dpkg database belongs to, as purls and ecosystems spell it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flavour {
    ecosystem: Ecosystem,
    namespace: &'static str,
    /// `distro=` qualifier: only for Debian and Ubuntu themselves, whose releases advisories
    /// name.
    purl_distro: Option<String>,
    /// The release as `os-release` states it, whatever the distribution.
    distro: Option<String>,
}

impl Flavour {
    fn of(release: Option<&OsRelease>) -> Self {
        let distro = release.and_then(OsRelease::distro);
        let id = release.and_then(|r| r.id.as_deref());
        let (ecosystem, namespace) = match release {
            Some(r) if r.is_like("ubuntu") => (Ecosystem::Ubuntu, "ubuntu"),
            _ => (Ecosystem::Debian, "debian"),
        };
        let purl_distro = distro
            .clone()
            .filter(|_| matches!(id, Some("debian" | "ubuntu")));
        Self {
            ecosystem,
            namespace,
            purl_distro,
            distro,
        }
    }
}

/// One deb822 paragraph.
#[derive(Debug, Default)]
struct Paragraph<'a> {
    /// 1-based line of its first field.
    line: u32,
    /// Fields in order; continuation lines are joined with `\n`.
    fields: Vec<(&'a str, String)>,
    /// The first malformed line and what is wrong with it.
    malformed: Option<(u32, &'static str)>,
}

impl Paragraph<'_> {
    /// A field's value; field names are case-insensitive.
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits deb822 text into paragraphs.
fn parse_paragraphs(text: &str) -> Vec<Paragraph<'_>> {
    let mut paragraphs = Vec::new();
    let mut current: Option<Paragraph<'_>> = None;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            paragraphs.extend(current.take());
            continue;
        }
        let paragraph = current.get_or_insert_with(|| Paragraph {
            line: number,
            ..Paragraph::default()
        });
        if line.starts_with([' ', '\t']) {
            match paragraph.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => {
                    paragraph
                        .malformed
                        .get_or_insert((number, "continuation line before any field"));
                }
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(char::is_whitespace) => {
                paragraph.fields.push((key, value.trim().to_owned()));
            }
            _ => {
                paragraph
                    .malformed
                    .get_or_insert((number, "line is not a `Field: value` pair"));
            }
        }
    }
    paragraphs.extend(current);
    paragraphs
}

/// `Source: name` or `Source: name (version)`; the version defaults to the binary's.
fn parse_source(source: &str, version: &str) -> (String, String) {
    let source = source.trim();
    match source.split_once('(') {
        Some((name, rest)) => {
            let source_version = rest.trim_end().trim_end_matches(')').trim();
            let source_version = if source_version.is_empty() {
                version
            } else {
                source_version
            };
            (name.trim().to_owned(), source_version.to_owned())
        }
        None => (source.to_owned(), version.to_owned()),
    }
}

/// The first alternative of each `Depends` entry, without version constraint, architecture
/// qualifier (`:any`) or restriction lists.
fn dependency_names(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter_map(|entry| {
        let first = entry.split('|').next()?.trim();
        let name = first
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '<'))
            .next()?;
        let name = name.split(':').next()?;
        (!name.is_empty()).then_some(name)
    })
}

/// The files of `name` from `info/<name>:<arch>.list` or `info/<name>.list` and the
/// matching `.md5sums`.
fn info_files_of(
    resolver: &dyn Resolver,
    root: &str,
    info_files: &HashSet<String>,
    name: &str,
    architecture: Option<&str>,
) -> Vec<FileEntry> {
    let with_arch = architecture.map(|arch| format!("{name}:{arch}"));
    let stem = with_arch
        .iter()
        .map(String::as_str)
        .chain([name])
        .find(|stem| {
            info_files.contains(&format!("{stem}.list"))
                || info_files.contains(&format!("{stem}.md5sums"))
        });
    let Some(stem) = stem else {
        return Vec::new();
    };
    let read = |extension: &str| {
        let file_name = format!("{stem}.{extension}");
        if info_files.contains(&file_name) {
            resolver.read(&format!("{root}{INFO}/{file_name}")).ok()
        } else {
            None
        }
    };
    installed_files(root, read("list").as_deref(), read("md5sums").as_deref())
}

/// Target-relative file entries from a `.list` (absolute paths, one a line) and a `.md5sums`
/// (`<md5>  <path relative to the root>`). Paths listed in only one of them are kept.
fn installed_files(root: &str, list: Option<&[u8]>, md5sums: Option<&[u8]>) -> Vec<FileEntry> {
    let base = root.trim_end_matches('/');
    let to_target = |path: &str| {
        let relative = path.trim().trim_start_matches('/');
        if relative.is_empty() || relative == "." {
            return None;
        }
        join_relative(base, relative)
    };
    let mut digests: HashMap<String, Hash> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    if let Some(md5sums) = md5sums {
        for line in String::from_utf8_lossy(md5sums).lines() {
            let Some((digest, path)) = line.trim().split_once(char::is_whitespace) else {
                continue;
            };
            let (Some(hash), Some(path)) = (Hash::new(HashAlgorithm::Md5, digest), to_target(path))
            else {
                continue;
            };
            if digests.insert(path.clone(), hash).is_none() {
                order.push(path);
            }
        }
    }
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    if let Some(list) = list {
        for line in String::from_utf8_lossy(list).lines() {
            let Some(path) = to_target(line) else {
                continue;
            };
            if seen.insert(path.clone()) {
                entries.push(FileEntry {
                    digest: digests.get(&path).cloned(),
                    path,
                    size: None,
                });
            }
        }
    }
    for path in order {
        if seen.insert(path.clone()) {
            entries.push(FileEntry {
                digest: digests.remove(&path),
                path,
                size: None,
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{MemResolver, expected_cases, run, testdata};

    fn names(output: &CatalogOutput) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = output
            .components
            .iter()
            .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
            .collect();
        names.sort();
        names
    }

    /// Every case of the scalibr test table, with each fixture placed where dpkg keeps it.
    ///
    /// Deviations: cases "including not installed" run scalibr with an option to report
    /// packages that are not installed; bulwark has no such option, so they are skipped.
    /// Where scalibr returns an error (`invalid`), bulwark reports Problems and goes on, so
    /// the check is "no packages and at least one problem". The opkg fixtures share the
    /// format and are read as dpkg status files.
    #[test]
    fn scalibr_fixtures() {
        let cases = expected_cases("dpkg/EXPECTED.json");
        assert!(cases.len() > 20);
        for (fixture, test, want_error, expected) in cases {
            if test.contains("including not installed") {
                continue;
            }
            let content = fs_err::read(testdata(&format!("dpkg/{fixture}"))).unwrap();
            let (path, resolver) = if let Some(entry) = fixture.strip_prefix("dpkg/status.d/") {
                let path = format!("{STATUS_D}/{entry}");
                let mut resolver = MemResolver::default().with(&path, content);
                if !entry.ends_with(".md5sums") {
                    let md5sums = testdata(&format!("dpkg/{fixture}.md5sums"));
                    if let Ok(bytes) = fs_err::read(md5sums) {
                        resolver = resolver.with(&format!("{path}.md5sums"), bytes);
                    }
                }
                (path, resolver)
            } else {
                (
                    STATUS.to_owned(),
                    MemResolver::default().with(STATUS, content),
                )
            };
            let output = run(&DpkgCataloger, &resolver, &path);
            let mut expected = expected;
            expected.sort();
            assert_eq!(names(&output), expected, "{fixture}: {test}");
            if want_error {
                assert!(!output.problems.is_empty(), "{fixture}: {test}");
            }
        }
    }

    #[test]
    fn valid_status_fields() {
        let content = fs_err::read(testdata("dpkg/dpkg/valid")).unwrap();
        let resolver = MemResolver::default()
            .with("img/var/lib/dpkg/status", content)
            .with(
                "img/etc/os-release",
                "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
            );
        let output = run(&DpkgCataloger, &resolver, "img/var/lib/dpkg/status");
        let attr = output.components.iter().find(|c| c.name == "attr").unwrap();
        assert_eq!(attr.kind, ComponentKind::OsPackage);
        assert_eq!(attr.version.as_deref(), Some("1:2.5.1-4"));
        assert_eq!(
            attr.purl.as_ref().unwrap().as_str(),
            "pkg:deb/debian/attr@1:2.5.1-4?arch=amd64&distro=debian-12"
        );
        let accounts = output
            .components
            .iter()
            .find(|c| c.name == "accountsservice")
            .unwrap();
        assert_eq!(
            accounts.description.as_deref(),
            Some("query and manipulate user account information")
        );
        assert!(accounts.supplier.as_deref().unwrap().starts_with("Debian"));
        let from = ComponentId::of(accounts);
        let mut depends: Vec<&str> = output
            .requests
            .iter()
            .filter(|r| r.from == from)
            .map(|r| {
                assert_eq!(r.within.as_deref(), Some("img/"));
                r.name.as_str()
            })
            .collect();
        depends.sort_unstable();
        assert_eq!(
            depends,
            [
                "default-dbus-system-bus",
                "libaccountsservice0",
                "libc6",
                "libglib2.0-0",
                "libpolkit-gobject-1-0"
            ]
        );
    }

    #[test]
    fn source_field() {
        assert_eq!(
            parse_source("firefox-esr", "78.13.0esr-1~deb10u1"),
            ("firefox-esr".into(), "78.13.0esr-1~deb10u1".into())
        );
        assert_eq!(
            parse_source("util-linux (2.38.1-5)", "2.38.1-5+b1"),
            ("util-linux".into(), "2.38.1-5".into())
        );
        let content = fs_err::read(testdata("dpkg/dpkg/transitional")).unwrap();
        let resolver = MemResolver::default().with(STATUS, content);
        let output = run(&DpkgCataloger, &resolver, STATUS);
        let Metadata::OsPackage(os) = &output.components[0].metadata else {
            panic!("no OS metadata");
        };
        assert_eq!(os.source_name.as_deref(), Some("firefox-esr"));
        assert_eq!(os.source_version.as_deref(), Some("78.13.0esr-1~deb10u1"));
        assert_eq!(os.architecture.as_deref(), Some("all"));
        assert_eq!(os.distro, None);
        // No os-release: Debian without a distro qualifier.
        assert_eq!(
            output.components[0].purl.as_ref().unwrap().as_str(),
            "pkg:deb/debian/iceweasel@78.13.0esr-1~deb10u1?arch=all"
        );
    }

    #[test]
    fn ubuntu_and_derivatives() {
        let ubuntu = OsRelease::parse("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n");
        let flavour = Flavour::of(Some(&ubuntu));
        assert_eq!(flavour.ecosystem, Ecosystem::Ubuntu);
        assert_eq!(flavour.purl_distro.as_deref(), Some("ubuntu-22.04"));
        let mint = OsRelease::parse("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=21\n");
        let flavour = Flavour::of(Some(&mint));
        assert_eq!(flavour.ecosystem, Ecosystem::Ubuntu);
        assert_eq!(flavour.purl_distro, None);
        assert_eq!(flavour.distro.as_deref(), Some("linuxmint-21"));
        let unknown = Flavour::of(None);
        assert_eq!(unknown.ecosystem, Ecosystem::Debian);
        assert_eq!(unknown.purl_distro, None);
    }

    #[test]
    fn distroless_md5sums_are_files() {
        let output = run(
            &DpkgCataloger,
            &MemResolver::default()
                .with(
                    "var/lib/dpkg/status.d/foo",
                    fs_err::read(testdata("dpkg/dpkg/status.d/foo")).unwrap(),
                )
                .with(
                    "var/lib/dpkg/status.d/foo.md5sums",
                    fs_err::read(testdata("dpkg/dpkg/status.d/foo.md5sums")).unwrap(),
                ),
            "var/lib/dpkg/status.d/foo",
        );
        let files = &output.components[0].files;
        assert_eq!(files.len(), 6);
        assert_eq!(files[0].path, "usr/lib/os-release");
        assert_eq!(
            files[0].digest.as_ref().unwrap().value,
            "07d31e7e63800ab1b7966980709c51eb"
        );
    }

    #[test]
    fn dependency_names_strip_constraints() {
        let names: Vec<&str> =
            dependency_names("libc6 (>= 2.34), python3:any, a | b, c [amd64], d <!nocheck>")
                .collect();
        assert_eq!(names, ["libc6", "python3", "a", "c", "d"]);
    }

    /// A root filesystem on disk: os-release, two packages (one only has config files left)
    /// and a `.list` naming a Python distribution, which assembling folds into the package.
    #[test]
    fn rootfs_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, content: &str| {
            let full = dir.path().join(path);
            fs_err::create_dir_all(full.parent().unwrap()).unwrap();
            fs_err::write(full, content).unwrap();
        };
        write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
        write(
            STATUS,
            "Package: python3-six\nStatus: install ok installed\nArchitecture: all\n\
             Source: six\nVersion: 1.16.0-4\nDepends: python3:any\n\
             Description: Python 2 and 3 compatibility library\n more text\n\n\
             Package: old-tool\nStatus: deinstall ok config-files\nArchitecture: amd64\n\
             Version: 1.0-1\n",
        );
        write(
            "var/lib/dpkg/info/python3-six.list",
            "/.\n/usr\n/usr/lib/python3/dist-packages/six-1.16.0.egg-info\n\
             /usr/lib/python3/dist-packages/six.py\n",
        );
        write(
            "var/lib/dpkg/info/python3-six.md5sums",
            "0123456789abcdef0123456789abcdef  usr/lib/python3/dist-packages/six.py\n",
        );
        let resolver = bulwark_catalog::DirResolver::new(dir.path());
        let output = run(&DpkgCataloger, &resolver, STATUS);
        assert!(output.problems.is_empty(), "{:?}", output.problems);
        assert_eq!(output.components.len(), 1);
        let six = &output.components[0];
        assert_eq!(
            six.purl.as_ref().unwrap().as_str(),
            "pkg:deb/debian/python3-six@1.16.0-4?arch=all&distro=debian-12"
        );
        assert_eq!(six.ecosystem, Some(Ecosystem::Debian));
        assert!(
            six.files
                .iter()
                .any(|f| f.path == "usr/lib/python3/dist-packages/six-1.16.0.egg-info")
        );
        let six_py = six
            .files
            .iter()
            .find(|f| f.path == "usr/lib/python3/dist-packages/six.py")
            .unwrap();
        assert_eq!(
            six_py.digest.as_ref().unwrap().algorithm,
            HashAlgorithm::Md5
        );
        let Metadata::OsPackage(os) = &six.metadata else {
            panic!("no OS metadata");
        };
        assert_eq!(os.source_name.as_deref(), Some("six"));
        assert_eq!(os.source_version.as_deref(), Some("1.16.0-4"));
        assert_eq!(os.distro.as_deref(), Some("debian-12"));

        // The egg-info the deb installed is the deb package, not a second component.
        let mut pypi = Component::package(
            Ecosystem::PyPI,
            "six",
            Some("1.16.0"),
            Location::new("usr/lib/python3/dist-packages/six-1.16.0.egg-info"),
            "python/dist-info",
        );
        pypi.metadata =
            Metadata::PythonDistribution(bulwark_inventory::PythonDistribution::default());
        let mut components = output.components;
        components.push(pypi);
        let inventory = bulwark_inventory::Inventory::assemble(
            "t".into(),
            components,
            vec![],
            output.requests,
            vec![],
        );
        assert_eq!(inventory.components.len(), 1);
        assert_eq!(
            inventory.components[0].also_known_as[0].as_str(),
            "pkg:pypi/six@1.16.0"
        );
    }
}
