//! rpm's package database in its three backends, read from bytes without librpm:
//!
//! - SQLite `rpmdb.sqlite` (rpm 4.16+: RHEL 9, Fedora 33+, CBL-Mariner 2), with its WAL;
//! - Berkeley DB hash `Packages` (RHEL/CentOS up to 8, Amazon Linux 2);
//! - NDB `Packages.db` (SUSE, openSUSE).
//!
//! Each is looked for under `var/lib/rpm/` and under `usr/lib/sysimage/rpm/`, where Fedora 36+
//! and openSUSE keep it (`var/lib/rpm` is then a symbolic link, which the walk does not
//! follow). The backend is chosen by the file's magic number, not its name.
//!
//! Every row of the database is an rpm header blob ([`header`]); each becomes an OS package
//! with a `pkg:rpm/<vendor>/<name>@<version>-<release>?arch=&epoch=&distro=` purl, the
//! source rpm's name and version as [`OsPackage`] metadata, and its installed files
//! (`DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, with `FILEDIGESTS` and sizes), so a Python
//! distribution rpm installed folds into the rpm package. `gpg-pubkey` entries are imported
//! signing keys, not packages, and are skipped.
//!
//! Identity. The purl follows the purl specification's rpm type: the version is
//! `version-release`, the epoch a qualifier, the namespace the vendor. The vendor is spelled
//! as the vendors' own advisories spell it where that differs from the `os-release` `ID`
//! (`redhat` for `rhel`, as Red Hat's VEX and CSAF files and peer scanners write it; `suse`
//! for SLES and SLE Micro; `opensuse` for every openSUSE; `amazon` for `amzn`; `oracle` for
//! `ol`), and is the `ID` otherwise (`fedora`, `centos`, `rocky`, `almalinux`, `mariner`);
//! without `os-release` there is no namespace. `distro=` is `<ID>-<VERSION_ID>`. The
//! component version is the whole EVR, `[epoch:]version-release`, because rpm compares
//! epochs first. OSV ecosystems exist for RHEL (`Red Hat`), Rocky Linux, AlmaLinux, SUSE and
//! openSUSE; packages of other distributions (Fedora, CentOS, Amazon Linux, CBL-Mariner,
//! Oracle Linux) have no ecosystem and are reported, not matched.
//!
//! Dependencies: rpm requires *capabilities* (`libc.so.6()(64bit)`, `/bin/sh`,
//! `config(bash)`), which other packages provide. The whole database is one file, so both
//! ends are known here: every `REQUIRENAME` is resolved against the `PROVIDENAME`s and
//! installed files of the same database and becomes a `DependsOn` relationship to each
//! provider. Versioned requirements are not checked (`REQUIREVERSION` is not read), rich
//! dependencies (`(a or b)`) and `rpmlib(...)` features are skipped.

mod bdb;
mod header;
mod ndb;
mod sqlite;

use std::collections::{BTreeSet, HashMap};
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, join_relative};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, FileEntry, Hash, HashAlgorithm, License,
    Location, Metadata, OsPackage, Problem, Purl, Relationship, RelationshipKind,
};

use crate::{OsRelease, root_before};
use header::{Header, HeaderError, tag};

const ID: &str = "os/rpm";

/// Where rpm keeps its database, relative to a root filesystem.
const DATABASES: [&str; 6] = [
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
];

/// SQLite's write-ahead log beside `rpmdb.sqlite`.
const WAL_SUFFIX: &str = "-wal";

/// Per-package problems reported before the rest are only counted: a corrupt database can
/// have a bad entry in each of half a million slots.
const MAX_PROBLEMS: usize = 20;

/// Reads rpm package databases.
pub(crate) struct RpmCataloger;

/// Why an rpm database or one package in it could not be read.
#[derive(Debug, thiserror::Error)]
enum RpmError {
    #[error("cannot read the rpm database")]
    Read(#[source] io::Error),
    #[error("the rpm database is empty")]
    Empty,
    #[error("unreadable rpm SQLite database")]
    Sqlite(#[source] sqlite::SqliteError),
    #[error("unreadable rpm Berkeley DB database")]
    Bdb(#[source] bdb::BdbError),
    #[error("unreadable rpm NDB database")]
    Ndb(#[source] ndb::NdbError),
    #[error("unreadable rpm package header")]
    Header(#[source] HeaderError),
    #[error("rpm package header has no {0}")]
    Missing(&'static str),
    #[error("rpm package {0}: its file name, directory and index lists disagree")]
    Files(String),
    #[error("{0} more rpm database entries could not be read")]
    More(usize),
}

impl From<HeaderError> for RpmError {
    fn from(error: HeaderError) -> Self {
        Self::Header(error)
    }
}

/// The root filesystem prefix of a database path.
fn root_of(path: &str) -> Option<&str> {
    DATABASES
        .iter()
        .find_map(|database| root_before(path, database))
}

impl Cataloger for RpmCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        root_of(file.path).is_some()
    }

    fn reads(&self, path: &str) -> bool {
        root_of(path).is_some()
            || path
                .strip_suffix(WAL_SUFFIX)
                .is_some_and(|db| db.ends_with(".sqlite") && root_of(db).is_some())
            || OsRelease::is_os_release(path)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(root) = root_of(file.path) else {
            return Ok(CatalogOutput::default());
        };
        let bytes = resolver.read(file.path).map_err(RpmError::Read)?;
        let wal = if bytes.starts_with(b"SQLite format 3\0") {
            resolver.read(&format!("{}{WAL_SUFFIX}", file.path)).ok()
        } else {
            None
        };
        let mut problems = Problems::new(file.path);
        let mut packages = Vec::new();
        let base = root.trim_end_matches('/');
        let mut on_blob =
            |blob: Result<&[u8], RpmError>| match blob.and_then(|b| Package::read(b, base)) {
                Ok(Some(package)) => packages.push(package),
                Ok(None) => {}
                Err(error) => problems.push(error),
            };
        let scanned = read_database(&bytes, wal.as_deref(), &mut on_blob);
        if let Err(error) = scanned {
            // Nothing read: the file is not a database we can use. Otherwise keep what was
            // read and say the rest is missing.
            if packages.is_empty() && problems.is_empty() {
                return Err(CatalogError::new(error));
            }
            problems.push(error);
        }

        let flavour = Flavour::of(OsRelease::read(resolver, root).as_ref());
        let edges = dependencies(&packages, base);
        let components: Vec<Component> = packages
            .into_iter()
            .map(|package| package.into_component(file.path, &flavour))
            .collect();
        let ids: Vec<ComponentId> = components.iter().map(ComponentId::of).collect();
        let relationships = edges
            .into_iter()
            .map(|(from, to)| Relationship {
                from: ids[from].clone(),
                kind: RelationshipKind::DependsOn,
                to: ids[to].clone(),
            })
            .collect();
        Ok(CatalogOutput {
            components,
            relationships,
            requests: Vec::new(),
            problems: problems.finish(),
            findings: Vec::new(),
        })
    }
}

/// Where a backend delivers each package blob it finds, or the error that kept one from
/// being read.
type BlobSink<'s, E> = dyn FnMut(Result<&[u8], E>) + 's;

/// Calls `blob` with each package blob of whichever backend `bytes` is.
fn read_database(
    bytes: &[u8],
    wal: Option<&[u8]>,
    blob: &mut BlobSink<'_, RpmError>,
) -> Result<(), RpmError> {
    if bytes.is_empty() {
        return Err(RpmError::Empty);
    }
    if bytes.starts_with(b"SQLite format 3\0") {
        let mut database = sqlite::Database::open(bytes, wal).map_err(RpmError::Sqlite)?;
        database
            .packages(&mut |b| blob(Ok(b)))
            .map_err(RpmError::Sqlite)
    } else if bytes.starts_with(b"RpmP") {
        ndb::packages(bytes, &mut |b| blob(b.map_err(RpmError::Ndb))).map_err(RpmError::Ndb)
    } else {
        bdb::packages(bytes, &mut |b| blob(b.map_err(RpmError::Bdb))).map_err(RpmError::Bdb)
    }
}

/// Per-entry problems, the first [`MAX_PROBLEMS`] in full and the rest counted.
struct Problems<'p> {
    path: &'p str,
    kept: Vec<Problem>,
    more: usize,
}

impl<'p> Problems<'p> {
    fn new(path: &'p str) -> Self {
        Self {
            path,
            kept: Vec::new(),
            more: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    fn push(&mut self, error: RpmError) {
        if self.kept.len() < MAX_PROBLEMS {
            self.kept.push(Problem {
                path: self.path.to_owned(),
                line: None,
                cataloger: Some(ID.to_owned()),
                message: CatalogError::new(error).render(),
            });
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<Problem> {
        if self.more > 0 {
            self.kept.push(Problem {
                path: self.path.to_owned(),
                line: None,
                cataloger: Some(ID.to_owned()),
                message: RpmError::More(self.more).to_string(),
            });
        }
        self.kept
    }
}

/// What the cataloger keeps of one header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Package {
    name: String,
    /// `EPOCH`, when the header has one (absent reads as 0 to rpm, but is not written).
    epoch: Option<u64>,
    version: String,
    release: Option<String>,
    arch: Option<String>,
    source_rpm: Option<String>,
    license: Option<String>,
    vendor: Option<String>,
    summary: Option<String>,
    provides: Vec<String>,
    requires: Vec<String>,
    /// Installed files, target-relative.
    files: Vec<FileEntry>,
}

impl Package {
    /// Reads a header blob; `None` for `gpg-pubkey` entries. `base` is the root
    /// filesystem's target-relative path without a trailing `/`.
    fn read(blob: &[u8], base: &str) -> Result<Option<Self>, RpmError> {
        let header = Header::parse(blob)?;
        let text = |tag| -> Result<Option<String>, RpmError> {
            Ok(header
                .string(tag)?
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()))
        };
        let name = text(tag::NAME)?.ok_or(RpmError::Missing("NAME"))?;
        if name == "gpg-pubkey" {
            return Ok(None);
        }
        let version = text(tag::VERSION)?.ok_or(RpmError::Missing("VERSION"))?;
        let epoch = header.integer(tag::EPOCH)?;
        let files = installed_files(&header, base).ok_or_else(|| RpmError::Files(name.clone()))?;
        Ok(Some(Self {
            epoch,
            version,
            release: text(tag::RELEASE)?,
            arch: text(tag::ARCH)?,
            source_rpm: text(tag::SOURCERPM)?,
            license: text(tag::LICENSE)?,
            vendor: text(tag::VENDOR)?,
            summary: text(tag::SUMMARY)?,
            provides: owned(header.strings(tag::PROVIDENAME)?),
            requires: owned(header.strings(tag::REQUIRENAME)?),
            files,
            name,
        }))
    }

    /// `version-release`, as purls and `rpm -q` write it.
    fn version_release(&self) -> String {
        match &self.release {
            Some(release) => format!("{}-{release}", self.version),
            None => self.version.clone(),
        }
    }

    /// `epoch:` before `text` when the package has an epoch.
    fn with_epoch(&self, text: &str) -> String {
        match self.epoch {
            Some(epoch) => format!("{epoch}:{text}"),
            None => text.to_owned(),
        }
    }

    fn into_component(self, path: &str, flavour: &Flavour) -> Component {
        let version_release = self.version_release();
        // The component's version is the full EVR: rpm compares epochs first, so
        // `1:3.0.7-27.el9` must not read as `3.0.7-27.el9` to the matcher.
        let evr = self.with_epoch(&version_release);
        // `Component::package` wants an ecosystem; distributions OSV has none for get it
        // cleared below.
        let mut component = Component::package(
            flavour.ecosystem.unwrap_or(Ecosystem::RedHat),
            &self.name,
            Some(&evr),
            Location::new(path),
            ID,
        );
        component.ecosystem = flavour.ecosystem;
        component.kind = ComponentKind::OsPackage;
        let epoch = self.epoch.map(|e| e.to_string());
        let mut purl = Purl::builder_for_type("rpm", &self.name)
            .version(Some(&version_release))
            .qualifier("arch", self.arch.as_deref())
            .qualifier("epoch", epoch.as_deref())
            .qualifier("distro", flavour.distro.as_deref());
        if let Some(namespace) = &flavour.namespace {
            purl = purl.namespace(namespace);
        }
        component.purl = purl.build();
        component.licenses = self
            .license
            .as_deref()
            .and_then(License::from_declared)
            .into_iter()
            .collect();
        let (source_name, source_version) = self
            .source_rpm
            .as_deref()
            .and_then(parse_source_rpm)
            .map_or_else(
                || (self.name.clone(), version_release.clone()),
                |(name, version)| (name.to_owned(), version.to_owned()),
            );
        // The source rpm's file name has no epoch, but binary and source packages share one
        // spec file and so one epoch; advisories compare it.
        let source_version = self.with_epoch(&source_version);
        component.metadata = Metadata::OsPackage(OsPackage {
            source_name: Some(source_name),
            source_version: Some(source_version),
            architecture: self.arch,
            distro: flavour.distro.clone(),
        });
        component.supplier = self.vendor;
        component.description = self.summary;
        component.files = self.files;
        component
    }
}

fn owned(strings: Vec<std::borrow::Cow<'_, str>>) -> Vec<String> {
    strings
        .into_iter()
        .map(std::borrow::Cow::into_owned)
        .collect()
}

/// `openssl-3.0.7-27.el9.src.rpm` → (`openssl`, `3.0.7-27.el9`). rpm names may contain
/// `-`, versions and releases may not, so the last two `-` split the three.
fn parse_source_rpm(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name
        .strip_suffix(".src.rpm")
        .or_else(|| file_name.strip_suffix(".nosrc.rpm"))?;
    let (name_version, _release) = stem.rsplit_once('-')?;
    let (name, _version) = name_version.rsplit_once('-')?;
    let version_release = &stem[name.len() + 1..];
    (!name.is_empty() && !_version.is_empty() && !_release.is_empty())
        .then_some((name, version_release))
}

/// Installed files from `BASENAMES`, `DIRNAMES` and `DIRINDEXES`, with `FILEDIGESTS`
/// (in the `FILEDIGESTALGO` algorithm, MD5 when absent) and `FILESIZES`/`LONGFILESIZES`
/// where the lists line up. `None` when the three name lists disagree.
fn installed_files(header: &Header<'_>, base: &str) -> Option<Vec<FileEntry>> {
    let basenames = header.strings(tag::BASENAMES).ok()?;
    if basenames.is_empty() {
        return Some(Vec::new());
    }
    let dirnames = header.strings(tag::DIRNAMES).ok()?;
    let indexes = header.integers(tag::DIRINDEXES).ok()?;
    if indexes.len() != basenames.len() {
        return None;
    }
    let digests = header
        .strings(tag::FILEDIGESTS)
        .unwrap_or_default()
        .into_iter()
        .map(Some)
        .collect::<Vec<_>>();
    let algorithm = match header.integer(tag::FILEDIGESTALGO).ok().flatten() {
        None | Some(1) => Some(HashAlgorithm::Md5),
        Some(2) => Some(HashAlgorithm::Sha1),
        Some(8) => Some(HashAlgorithm::Sha256),
        Some(9) => Some(HashAlgorithm::Sha384),
        Some(10) => Some(HashAlgorithm::Sha512),
        Some(_) => None,
    };
    let sizes = [tag::LONGFILESIZES, tag::FILESIZES]
        .into_iter()
        .map(|tag| header.integers(tag).unwrap_or_default())
        .find(|sizes| sizes.len() == basenames.len())
        .unwrap_or_default();
    let mut files = Vec::with_capacity(basenames.len());
    for (i, (basename, &index)) in basenames.iter().zip(&indexes).enumerate() {
        let dirname = dirnames.get(usize::try_from(index).ok()?)?;
        let absolute = format!("{dirname}{basename}");
        let Some(path) = join_relative(base, absolute.trim_start_matches('/')) else {
            continue;
        };
        let digest = algorithm
            .zip(digests.get(i).cloned().flatten())
            .and_then(|(algorithm, hex)| Hash::new(algorithm, &hex).filter(|_| !hex.is_empty()));
        files.push(FileEntry {
            path,
            digest,
            size: sizes.get(i).copied(),
        });
    }
    Some(files)
}

/// `(requirer, provider)` index pairs: every `REQUIRENAME` resolved against the capabilities
/// (`PROVIDENAME`, the package name) and files of the other packages of the database.
/// `base` is the root filesystem, as for [`Package::read`].
fn dependencies(packages: &[Package], base: &str) -> BTreeSet<(usize, usize)> {
    let skipped = |require: &str| require.starts_with("rpmlib(") || require.starts_with('(');
    let mut providers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, package) in packages.iter().enumerate() {
        let names: BTreeSet<&str> = package
            .provides
            .iter()
            .map(String::as_str)
            .chain([package.name.as_str()])
            .collect();
        for name in names {
            providers.entry(name).or_default().push(index);
        }
    }
    // File requirements (`/bin/sh`) are answered by installed files; only the paths some
    // package asks for are indexed. Requirements are absolute, files target-relative.
    let wanted: HashMap<String, &str> = packages
        .iter()
        .flat_map(|p| &p.requires)
        .filter(|r| r.starts_with('/') && !providers.contains_key(r.as_str()))
        .filter_map(|r| Some((join_relative(base, r.trim_start_matches('/'))?, r.as_str())))
        .collect();
    let mut file_owners: HashMap<&str, Vec<usize>> = HashMap::new();
    if !wanted.is_empty() {
        for (index, package) in packages.iter().enumerate() {
            for file in &package.files {
                if let Some(require) = wanted.get(&file.path) {
                    file_owners.entry(require).or_default().push(index);
                }
            }
        }
    }
    let mut edges = BTreeSet::new();
    for (index, package) in packages.iter().enumerate() {
        for require in &package.requires {
            if skipped(require) {
                continue;
            }
            let found = providers
                .get(require.as_str())
                .or_else(|| file_owners.get(require.as_str()));
            for &provider in found.into_iter().flatten() {
                if provider != index {
                    edges.insert((index, provider));
                }
            }
        }
    }
    edges
}

/// The distribution an rpm database belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flavour {
    /// The OSV ecosystem; `None` for distributions OSV has no ecosystem for (Fedora,
    /// CentOS, Amazon Linux, CBL-Mariner, Oracle Linux, ...).
    ecosystem: Option<Ecosystem>,
    /// The purl namespace: the vendor, as the purl specification's rpm examples and Red Hat's
    /// own advisories write it (`redhat`, `suse`, `opensuse`, `fedora`); otherwise the
    /// `os-release` `ID`. `None` without `os-release`.
    namespace: Option<String>,
    /// `<ID>-<VERSION_ID>` from `os-release`, the purl `distro=` qualifier.
    distro: Option<String>,
}

impl Flavour {
    fn of(release: Option<&OsRelease>) -> Self {
        let id = release.and_then(|r| r.id.as_deref());
        let suse = matches!(
            id,
            Some("sles" | "sled" | "sles_sap" | "sle-micro" | "sl-micro")
        );
        let opensuse = id.is_some_and(|id| id.starts_with("opensuse"));
        let ecosystem = match id {
            Some("rhel") => Some(Ecosystem::RedHat),
            Some("rocky") => Some(Ecosystem::RockyLinux),
            Some("almalinux") => Some(Ecosystem::AlmaLinux),
            _ if suse => Some(Ecosystem::Suse),
            _ if opensuse => Some(Ecosystem::OpenSuse),
            _ => None,
        };
        let namespace = match id {
            Some("rhel") => Some("redhat"),
            Some("amzn") => Some("amazon"),
            Some("ol") => Some("oracle"),
            _ if suse => Some("suse"),
            _ if opensuse => Some("opensuse"),
            other => other,
        };
        Self {
            ecosystem,
            namespace: namespace.map(str::to_owned),
            distro: release.and_then(OsRelease::distro),
        }
    }
}

#[cfg(test)]
mod tests;
