//! Installed Python distributions (`*.dist-info`, `*.egg-info`, unpacked eggs) and wheel and
//! egg archives lying in the tree.
//!
//! One component per metadata file. The metadata file is the component's location, which is
//! what lets [`Inventory::assemble`](bulwark_inventory::Inventory::assemble) fold a
//! distribution into the conda or OS package whose file list contains it. Siblings
//! (`INSTALLER`, `RECORD`, `direct_url.json`, `installed-files.txt`, `requires.txt`) are read
//! when present; a missing or unreadable sibling never costs the component.

mod core_metadata;
mod direct_url;
mod record;

use std::borrow::Cow;
use std::io::{self, Read as _};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, DependencyRequest, Ecosystem, License, Location, Metadata, PackageName,
    Problem, PythonDistribution,
};
use pep508_rs::{Requirement, VerbatimUrl};

use self::core_metadata::{CoreMetadata, MetadataError};

const ID: &str = "python/installed";

/// A metadata file inside an archive larger than this is refused: real ones are kilobytes,
/// and the declared size of a zip entry is not to be trusted.
const MAX_ARCHIVE_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// More malformed `RECORD` rows than this in one file are summarized, not listed: a corrupt
/// RECORD of a large package would otherwise bury every other problem.
const MAX_RECORD_PROBLEMS: usize = 10;

/// Catalogs installed distributions and distribution archives.
pub(crate) struct DistInfoCataloger;

/// Where the metadata file sits, which decides the site-packages directory and the siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `<site-packages>/<name>-<version>.dist-info/METADATA`.
    DistInfo,
    /// `<site-packages>/<name>.egg-info/PKG-INFO` (setuptools, `pip install` of an sdist
    /// before PEP 517).
    EggInfoDirectory,
    /// `<site-packages>/<name>.egg-info` as one file (distutils; Debian's `python3-*`
    /// packages).
    EggInfoFile,
    /// `<site-packages>/<name>.egg/EGG-INFO/PKG-INFO` (`easy_install`).
    UnpackedEgg,
    /// A `.whl` archive.
    Wheel,
    /// An `.egg` archive.
    EggArchive,
}

impl Layout {
    /// Decides by path alone; `wants` runs on every file of the target.
    fn of(file: &FileRef<'_>) -> Option<Self> {
        let name = file.file_name();
        let parent = file.dir().rsplit('/').next().unwrap_or_default();
        match name {
            "METADATA" if parent.ends_with(".dist-info") => Some(Self::DistInfo),
            "PKG-INFO" if parent.ends_with(".egg-info") => Some(Self::EggInfoDirectory),
            "PKG-INFO" if parent == "EGG-INFO" => Some(Self::UnpackedEgg),
            // A metadata file named on the command line has lost its directory name.
            "METADATA" if file.explicit => Some(Self::DistInfo),
            "PKG-INFO" if file.explicit => Some(Self::EggInfoDirectory),
            _ if name.len() > ".egg-info".len() && name.ends_with(".egg-info") => {
                Some(Self::EggInfoFile)
            }
            _ if name.len() > ".whl".len() && name.ends_with(".whl") => Some(Self::Wheel),
            _ if name.len() > ".egg".len() && name.ends_with(".egg") => Some(Self::EggArchive),
            _ => None,
        }
    }

    /// The site-packages directory, or `None` when it lies outside the target (a metadata
    /// file given as the target itself), in which case installed-file paths and dependency
    /// scopes cannot be expressed.
    fn site_packages<'a>(self, file: &FileRef<'a>) -> Option<&'a str> {
        match self {
            Self::DistInfo | Self::EggInfoDirectory => parent(file.dir()),
            Self::UnpackedEgg => parent(file.dir()).and_then(parent),
            // An archive is not installed anywhere; its directory is the closest fact.
            Self::EggInfoFile | Self::Wheel | Self::EggArchive => Some(file.dir()),
        }
    }
}

/// The directory containing `dir` (`""` for a top-level directory), `None` for the root.
fn parent(dir: &str) -> Option<&str> {
    if dir.is_empty() {
        return None;
    }
    Some(dir.rsplit_once('/').map_or("", |(parent, _)| parent))
}

/// Joins a directory and a file name into a target-relative path.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Why an installed distribution or archive could not be read.
#[derive(Debug, thiserror::Error)]
enum DistInfoError {
    /// The metadata file is not core metadata or lacks a required field.
    #[error("invalid core metadata")]
    Metadata(#[source] MetadataError),
    /// The archive is not a readable zip file.
    #[error("cannot open the archive")]
    Archive(#[source] zip::result::ZipError),
    /// The metadata entry of the archive cannot be read.
    #[error("cannot read `{entry}` in the archive")]
    ArchiveEntry {
        /// The entry.
        entry: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The metadata entry of the archive claims an absurd size.
    #[error("`{entry}` in the archive is {size} bytes, more than a metadata file can be")]
    ArchiveEntryTooLarge {
        /// The entry.
        entry: String,
        /// Its declared uncompressed size.
        size: u64,
    },
}

/// Recoverable trouble in a sibling file, reported as a [`Problem`].
#[derive(Debug, thiserror::Error)]
enum SiblingError {
    #[error("cannot read the file")]
    Read(#[source] io::Error),
    #[error("invalid `direct_url.json`")]
    DirectUrl(#[source] serde_json::Error),
    #[error("skipped an unparsable requirement `{requirement}`")]
    Requirement {
        requirement: String,
        #[source]
        source: pep508_rs::Pep508ErrorSource<VerbatimUrl>,
    },
    #[error("malformed RECORD row")]
    RecordRow(#[source] record::RecordRowError),
    #[error("{0} more malformed RECORD rows not listed")]
    MoreRecordRows(usize),
    #[error("the archive holds no `{0}`; not a distribution")]
    ArchiveWithoutMetadata(&'static str),
}

fn problem(path: &str, line: Option<u32>, error: SiblingError) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        cataloger: Some(ID.to_owned()),
        message: CatalogError::new(error).render(),
    }
}

impl Cataloger for DistInfoCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        Layout::of(file).is_some()
    }

    /// The metadata file and its siblings (`RECORD`, `INSTALLER`, `direct_url.json`, ...).
    fn reads(&self, path: &str) -> bool {
        let file = FileRef {
            path,
            explicit: false,
        };
        let dir = file.dir();
        Layout::of(&file).is_some()
            || dir.ends_with(".dist-info")
            || dir.ends_with(".egg-info")
            || dir.ends_with("/EGG-INFO")
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(layout) = Layout::of(file) else {
            return Ok(CatalogOutput::default());
        };
        match layout {
            Layout::Wheel | Layout::EggArchive => catalog_archive(file, layout, resolver),
            Layout::DistInfo
            | Layout::EggInfoDirectory
            | Layout::EggInfoFile
            | Layout::UnpackedEgg => catalog_installed(file, layout, resolver),
        }
    }
}

/// A `Requires-Dist` requirement and where it was written.
struct RequirementLine<'a> {
    text: Cow<'a, str>,
    path: &'a str,
    line: u32,
}

fn catalog_installed(
    file: &FileRef<'_>,
    layout: Layout,
    resolver: &dyn Resolver,
) -> Result<CatalogOutput, CatalogError> {
    let text = decode(resolver.read(file.path)?);
    let metadata = parse_metadata(&text)?;
    let mut output = CatalogOutput::default();
    let site_packages = layout.site_packages(file);
    let metadata_dir = file.dir();

    let (mut component, mut distribution) = describe(&metadata, file.path, site_packages)?;
    let mut requirements = requires_dist(&metadata, file.path);

    // setuptools keeps requirements in `requires.txt`, not in PKG-INFO.
    let requires_txt_path;
    let requires_txt;
    if requirements.is_empty() && matches!(layout, Layout::EggInfoDirectory | Layout::UnpackedEgg) {
        requires_txt_path = join(metadata_dir, "requires.txt");
        requires_txt = read_sibling(resolver, &requires_txt_path, &mut output.problems)
            .map(|text| record::requires_txt_to_requires_dist(&text))
            .unwrap_or_default();
        requirements = requires_txt
            .iter()
            .map(|(text, line)| RequirementLine {
                text: Cow::Borrowed(text),
                path: &requires_txt_path,
                line: *line,
            })
            .collect();
    }

    if layout == Layout::DistInfo {
        let installer_path = join(metadata_dir, "INSTALLER");
        distribution.installer = read_sibling(resolver, &installer_path, &mut output.problems)
            .map(|text| text.trim().to_owned())
            .filter(|installer| !installer.is_empty());

        let direct_url_path = join(metadata_dir, "direct_url.json");
        if let Some(text) = read_sibling(resolver, &direct_url_path, &mut output.problems) {
            match direct_url::parse_direct_url(&text) {
                Ok((direct_url, source)) => {
                    distribution.direct_url = Some(direct_url);
                    component.source = Some(source);
                }
                Err(error) => output.problems.push(problem(
                    &direct_url_path,
                    u32::try_from(error.line()).ok(),
                    SiblingError::DirectUrl(error),
                )),
            }
        }

        if let Some(site_packages) = site_packages {
            let record_path = join(metadata_dir, "RECORD");
            if let Some(text) = read_sibling(resolver, &record_path, &mut output.problems) {
                let mut row_problems = Vec::new();
                record::parse_record(
                    &text,
                    site_packages,
                    &mut component.files,
                    &mut row_problems,
                );
                report_record_problems(&record_path, row_problems, &mut output.problems);
            }
        }
    } else if layout == Layout::EggInfoDirectory && site_packages.is_some() {
        let installed_files_path = join(metadata_dir, "installed-files.txt");
        if let Some(text) = read_sibling(resolver, &installed_files_path, &mut output.problems) {
            component.files = record::parse_installed_files(&text, metadata_dir);
        }
    }

    distribution.requires_dist = requirements
        .iter()
        .map(|r| r.text.clone().into_owned())
        .collect();
    if let Some(site_packages) = site_packages {
        let from = ComponentId::of(&component);
        let within = if site_packages.is_empty() {
            String::new()
        } else {
            format!("{site_packages}/")
        };
        output.requests = dependency_requests(&requirements, &from, &within, &mut output.problems);
    }
    component.metadata = Metadata::PythonDistribution(distribution);
    output.components.push(component);
    Ok(output)
}

fn catalog_archive(
    file: &FileRef<'_>,
    layout: Layout,
    resolver: &dyn Resolver,
) -> Result<CatalogOutput, CatalogError> {
    // Opened, not read: only the zip index and one metadata entry are read, so a
    // gigabyte-sized wheel costs a few kilobytes.
    let mut archive =
        zip::ZipArchive::new(resolver.open(file.path)?).map_err(DistInfoError::Archive)?;
    let mut output = CatalogOutput::default();
    let (entry, expected) = match layout {
        Layout::Wheel => (
            wheel_metadata_entry(&archive, file.file_name()),
            "*.dist-info/METADATA",
        ),
        _ => (
            archive
                .index_for_name("EGG-INFO/PKG-INFO")
                .map(|_| "EGG-INFO/PKG-INFO".to_owned()),
            "EGG-INFO/PKG-INFO",
        ),
    };
    let Some(entry) = entry else {
        output.problems.push(problem(
            file.path,
            None,
            SiblingError::ArchiveWithoutMetadata(expected),
        ));
        return Ok(output);
    };
    let text = decode(read_archive_entry(&mut archive, &entry)?);
    let metadata = parse_metadata(&text)?;
    let (mut component, mut distribution) =
        describe(&metadata, file.path, layout.site_packages(file))?;
    let mut requires = requires_dist(&metadata, file.path)
        .into_iter()
        .map(|r| r.text.into_owned())
        .collect::<Vec<_>>();
    if requires.is_empty() && layout == Layout::EggArchive {
        let requires_entry = "EGG-INFO/requires.txt";
        if archive.index_for_name(requires_entry).is_some() {
            let text = decode(read_archive_entry(&mut archive, requires_entry)?);
            requires = record::requires_txt_to_requires_dist(&text)
                .into_iter()
                .map(|(requirement, _)| requirement)
                .collect();
        }
    }
    // A wheel lying in the tree is not installed: its requirements are facts about it, but
    // not edges to whatever happens to sit in the same directory.
    distribution.requires_dist = requires;
    component.metadata = Metadata::PythonDistribution(distribution);
    output.components.push(component);
    Ok(output)
}

/// The wheel's `<name>-<version>.dist-info/METADATA`. A wheel has exactly one top-level
/// `.dist-info` directory; should a broken one have several, the one named like the file wins.
fn wheel_metadata_entry<R: io::Read + io::Seek>(
    archive: &zip::ZipArchive<R>,
    file_name: &str,
) -> Option<String> {
    let mut stem_parts = file_name.trim_end_matches(".whl").splitn(3, '-');
    let prefix = match (stem_parts.next(), stem_parts.next()) {
        (Some(name), Some(version)) => format!("{name}-{version}.dist-info/"),
        _ => String::new(),
    };
    let mut candidates = archive.file_names().filter_map(Result::ok).filter(|name| {
        name.strip_suffix("/METADATA")
            .is_some_and(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
    });
    let first = candidates.next()?;
    if first.starts_with(&prefix) {
        return Some(first.into_owned());
    }
    Some(
        candidates
            .find(|name| name.starts_with(&prefix))
            .unwrap_or(first)
            .into_owned(),
    )
}

fn read_archive_entry<R: io::Read + io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    entry: &str,
) -> Result<Vec<u8>, DistInfoError> {
    let file = archive.by_name(entry).map_err(DistInfoError::Archive)?;
    if file.size() > MAX_ARCHIVE_METADATA_BYTES {
        return Err(DistInfoError::ArchiveEntryTooLarge {
            entry: entry.to_owned(),
            size: file.size(),
        });
    }
    let capacity = usize::try_from(file.size()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(MAX_ARCHIVE_METADATA_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|source| DistInfoError::ArchiveEntry {
            entry: entry.to_owned(),
            source,
        })?;
    Ok(bytes)
}

/// Metadata is UTF-8 by specification, but old distributions wrote Latin-1 author names;
/// a wrong byte in an author name must not lose the package.
fn decode(bytes: Vec<u8>) -> String {
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
    match text.strip_prefix('\u{feff}') {
        Some(stripped) => stripped.to_owned(),
        None => text,
    }
}

fn parse_metadata(text: &str) -> Result<CoreMetadata<'_>, CatalogError> {
    CoreMetadata::parse(text).map_err(metadata_error)
}

fn metadata_error(error: MetadataError) -> CatalogError {
    let line = error.line();
    let error = CatalogError::new(DistInfoError::Metadata(error));
    match line {
        Some(line) => error.at_line(line),
        None => error,
    }
}

/// The component and its Python facts from the core metadata alone.
fn describe(
    metadata: &CoreMetadata<'_>,
    path: &str,
    site_packages: Option<&str>,
) -> Result<(Component, PythonDistribution), CatalogError> {
    let (name, version) = metadata.name_and_version().map_err(metadata_error)?;
    let mut component = Component::package(
        Ecosystem::PyPI,
        &name,
        Some(&version),
        Location::new(path),
        ID,
    );
    component.description = metadata.text("Summary").map(Cow::into_owned);
    component.supplier = metadata
        .text("Author")
        .or_else(|| metadata.text("Maintainer"))
        .map(Cow::into_owned)
        .or_else(|| {
            metadata
                .text("Author-email")
                .and_then(|e| names_of_addresses(&e))
        })
        .or_else(|| {
            metadata
                .text("Maintainer-email")
                .and_then(|e| names_of_addresses(&e))
        });
    component.licenses = licenses(metadata);
    let distribution = PythonDistribution {
        metadata_version: metadata.text("Metadata-Version").map(Cow::into_owned),
        requires_python: metadata.text("Requires-Python").map(Cow::into_owned),
        installer: None,
        direct_url: None,
        requires_dist: Vec::new(),
        site_packages: site_packages.unwrap_or_default().to_owned(),
    };
    Ok((component, distribution))
}

/// `License-Expression` (Metadata 2.4, always SPDX) wins over the free-form `License`;
/// license classifiers are used only when neither says anything.
fn licenses(metadata: &CoreMetadata<'_>) -> Vec<License> {
    let declared = match metadata.first("License-Expression") {
        Some(expression) => License::from_declared(&expression.value()),
        // The raw value keeps its line breaks: a whole license text pasted into `License`
        // must be recognized as one and not unfolded into a single line.
        None => metadata
            .first("License")
            .and_then(|license| License::from_declared(license.raw_value)),
    };
    if let Some(license) = declared {
        return vec![license];
    }
    let mut licenses: Vec<License> = Vec::new();
    for classifier in metadata.all("Classifier") {
        let value = classifier.value();
        if value.starts_with("License ::")
            && let Some(license) = License::from_classifier(&value)
            && !licenses.contains(&license)
        {
            licenses.push(license);
        }
    }
    licenses
}

/// The display names in an address list (`"A B" <a@x>, C <c@y>` → `A B, C`); `None` when the
/// list holds bare addresses only.
fn names_of_addresses(addresses: &str) -> Option<String> {
    fn display_name(address: &str) -> Option<&str> {
        let (name, _) = address.split_once('<')?;
        let name = name.trim().trim_matches('"').trim();
        (!name.is_empty()).then_some(name)
    }
    let mut names: Vec<&str> = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (index, character) in addresses.char_indices() {
        match character {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                names.extend(display_name(&addresses[start..index]));
                start = index + 1;
            }
            _ => {}
        }
    }
    names.extend(display_name(&addresses[start..]));
    (!names.is_empty()).then(|| names.join(", "))
}

fn requires_dist<'a>(metadata: &CoreMetadata<'a>, path: &'a str) -> Vec<RequirementLine<'a>> {
    metadata
        .all("Requires-Dist")
        .map(|field| RequirementLine {
            text: field.value(),
            path,
            line: field.line,
        })
        .filter(|requirement| !requirement.text.is_empty())
        .collect()
}

/// One request per distinct required name whose marker can hold without any extra: an extra's
/// requirements are installed only when someone asked for the extra, so they prove nothing.
/// Other markers (`sys_platform`, `python_version`) are left in: the request resolves only if
/// the dependency is actually installed next to this distribution.
fn dependency_requests(
    requirements: &[RequirementLine<'_>],
    from: &ComponentId,
    within: &str,
    problems: &mut Vec<Problem>,
) -> Vec<DependencyRequest> {
    let mut requests: Vec<DependencyRequest> = Vec::new();
    for requirement in requirements {
        let parsed = match requirement.text.parse::<Requirement<VerbatimUrl>>() {
            Ok(parsed) => parsed,
            Err(error) => {
                problems.push(problem(
                    requirement.path,
                    Some(requirement.line),
                    SiblingError::Requirement {
                        requirement: requirement.text.clone().into_owned(),
                        source: error.message,
                    },
                ));
                continue;
            }
        };
        if !parsed.marker.evaluate_extras(&[]) {
            continue;
        }
        let name = PackageName::new(Ecosystem::PyPI, parsed.name.as_ref());
        if requests.iter().any(|r| r.name == name) {
            continue;
        }
        requests.push(DependencyRequest {
            from: from.clone(),
            ecosystem: Ecosystem::PyPI,
            name,
            within: Some(within.to_owned()),
        });
    }
    requests
}

/// Reads an optional sibling file: absent is normal and silent, unreadable is a problem.
fn read_sibling(
    resolver: &dyn Resolver,
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match resolver.read(path) {
        Ok(bytes) => Some(decode(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            problems.push(problem(path, None, SiblingError::Read(error)));
            None
        }
    }
}

fn report_record_problems(
    record_path: &str,
    row_problems: Vec<record::RowProblem>,
    problems: &mut Vec<Problem>,
) {
    let total = row_problems.len();
    for row in row_problems.into_iter().take(MAX_RECORD_PROBLEMS) {
        problems.push(problem(
            record_path,
            Some(row.line),
            SiblingError::RecordRow(row.error),
        ));
    }
    if total > MAX_RECORD_PROBLEMS {
        problems.push(problem(
            record_path,
            None,
            SiblingError::MoreRecordRows(total - MAX_RECORD_PROBLEMS),
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write as _;
    use std::path::{Path, PathBuf};

    use bulwark_catalog::{Progress, catalog_target};
    use bulwark_inventory::{HashAlgorithm, PackageSource};

    use super::*;

    fn testdata() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dist-info")
    }

    /// Files by target-relative path, for cases that need no directory tree.
    #[derive(Default)]
    struct MemoryResolver(BTreeMap<String, Vec<u8>>);

    impl MemoryResolver {
        fn with(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
            self.0.insert(path.to_owned(), bytes.into());
            self
        }
    }

    impl Resolver for MemoryResolver {
        fn read(&self, path: &str) -> io::Result<Vec<u8>> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn read_dir(&self, _path: &str) -> io::Result<Vec<String>> {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }

        fn is_file(&self, path: &str) -> bool {
            self.0.contains_key(path)
        }
    }

    fn catalog(path: &str, resolver: &dyn Resolver) -> Result<CatalogOutput, CatalogError> {
        let file = FileRef {
            path,
            explicit: false,
        };
        assert!(DistInfoCataloger.wants(&file), "does not want {path}");
        DistInfoCataloger.catalog(&file, resolver)
    }

    fn distribution(component: &Component) -> &PythonDistribution {
        match &component.metadata {
            Metadata::PythonDistribution(distribution) => distribution,
            other => panic!("not a distribution: {other:?}"),
        }
    }

    #[test]
    fn wants_metadata_files_and_archives_by_path_alone() {
        let wanted = [
            "venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
            "usr/lib/python3/dist-packages/pycups-2.0.1.egg-info",
            "site-packages/demo.egg-info/PKG-INFO",
            "site-packages/demo-1.0-py3.10.egg/EGG-INFO/PKG-INFO",
            "wheelhouse/torch-2.2.0+cu121-cp311-cp311-linux_x86_64.whl",
            "dist/demo-1.0-py3.10.egg",
            "top.dist-info/METADATA",
        ];
        for path in wanted {
            let file = FileRef {
                path,
                explicit: false,
            };
            assert!(DistInfoCataloger.wants(&file), "{path}");
        }
        let unwanted = [
            "site-packages/six-1.16.0.dist-info/RECORD",
            "site-packages/six-1.16.0.dist-info/INSTALLER",
            "src/demo/METADATA",
            "PKG-INFO",
            "demo-1.0/PKG-INFO",
            "site-packages/demo.egg-info/requires.txt",
            ".whl",
            "notes/wheel.txt",
        ];
        for path in unwanted {
            let file = FileRef {
                path,
                explicit: false,
            };
            assert!(!DistInfoCataloger.wants(&file), "{path}");
        }
        for path in ["METADATA", "PKG-INFO"] {
            let file = FileRef {
                path,
                explicit: true,
            };
            assert!(DistInfoCataloger.wants(&file), "explicit {path}");
        }
    }

    /// Where each osv-scalibr fixture is offered: its Go test names the path pattern the
    /// fixture stands for (`.dist-info/METADATA`, `.egg-info`, ...).
    const SCALIBR_CASES: &[(&str, &str)] = &[
        ("distinfo_meta", "pip-22.2.2.dist-info/METADATA"),
        (
            "egginfo_pkginfo",
            "setuptools-57.4.0-py3.10.egg/EGG-INFO/PKG-INFO",
        ),
        ("egginfo", "pycups-2.0.1.egg-info"),
        ("pkginfo", "httplib2-0.20.4.egg-info/PKG-INFO"),
        ("malformed_pkginfo", "passlib-1.7.4.egg-info/PKG-INFO"),
        ("monotonic-1.6-py3.10.egg", "monotonic-1.6-py3.10.egg"),
        (
            "monotonic-1.6-py2.py3-none-any.whl",
            "monotonic-1.6-py2.py3-none-any.whl",
        ),
        (
            "monotonic_no_pkginfo-1.6-py3.10.egg",
            "monotonic_no_pkginfo-1.6-py3.10.egg",
        ),
        ("mixed_case", "httplib2-1.0.dist-info/METADATA"),
        (
            "special_chars",
            "backports.ssl_match_hostname-3.5.0.1.dist-info/METADATA",
        ),
        (
            "pyopenssl-26.0.0.dist-info",
            "pyOpenSSL-26.0.0.dist-info/METADATA",
        ),
        ("repeated_pkginfo", "root-1.0.0.dist-info/METADATA"),
        ("empty", "empty-1.0.dist-info/METADATA"),
    ];

    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let directory = testdata().join("osv-scalibr");
        let expected: serde_json::Value =
            serde_json::from_slice(&fs_err::read(directory.join("EXPECTED.json")).unwrap())
                .unwrap();
        let cases = expected["expected"].as_object().unwrap();
        assert_eq!(
            cases.len(),
            SCALIBR_CASES.len(),
            "every EXPECTED.json case is tested"
        );
        for (fixture, offered_as) in SCALIBR_CASES {
            let bytes = fs_err::read(directory.join(fixture)).unwrap();
            let resolver = MemoryResolver::default().with(offered_as, bytes);
            let result = catalog(offered_as, &resolver);
            for case in cases[*fixture].as_array().unwrap() {
                let test = case["test"].as_str().unwrap();
                if case.get("want_error").is_some() {
                    assert!(result.is_err(), "{test}: expected an error");
                    continue;
                }
                let output = result.as_ref().unwrap_or_else(|e| panic!("{test}: {e}"));
                let found: Vec<_> = output
                    .components
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "name": c.name,
                            "version": c.version,
                            "purl_type": c.purl.as_ref().unwrap().as_str()
                                .strip_prefix("pkg:").unwrap().split('/').next().unwrap(),
                        })
                    })
                    .collect();
                assert_eq!(serde_json::Value::from(found), case["packages"], "{test}");
                assert_eq!(
                    output.components.len() as u64,
                    case["package_count"].as_u64().unwrap(),
                    "{test}"
                );
            }
        }
    }

    #[test]
    fn scalibr_fixture_details() {
        let directory = testdata().join("osv-scalibr");
        let read = |fixture: &str, offered_as: &str| {
            let bytes = fs_err::read(directory.join(fixture)).unwrap();
            catalog(
                offered_as,
                &MemoryResolver::default().with(offered_as, bytes),
            )
            .unwrap()
        };

        let pyopenssl = read(
            "pyopenssl-26.0.0.dist-info",
            "sp/pyOpenSSL-26.0.0.dist-info/METADATA",
        );
        let component = &pyopenssl.components[0];
        assert_eq!(
            component.purl.as_ref().unwrap().as_str(),
            "pkg:pypi/pyopenssl@26.0.0"
        );
        assert_eq!(
            component.supplier.as_deref(),
            Some("The pyOpenSSL developers")
        );
        assert_eq!(
            component.description.as_deref(),
            Some("Python wrapper module around the OpenSSL library")
        );
        let python = distribution(component);
        assert_eq!(python.metadata_version.as_deref(), Some("2.4"));
        assert_eq!(python.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(python.requires_dist.len(), 7);
        assert_eq!(python.site_packages, "sp");
        let requested: Vec<_> = pyopenssl.requests.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(requested, ["cryptography", "typing-extensions"]);
        assert!(
            pyopenssl
                .requests
                .iter()
                .all(|r| r.within.as_deref() == Some("sp/"))
        );

        // The unindented `Keywords` continuation does not end the headers.
        let passlib = read("malformed_pkginfo", "passlib-1.7.4.egg-info/PKG-INFO");
        assert_eq!(
            passlib.components[0].licenses,
            [License::Name("BSD".into())]
        );
        assert!(passlib.problems.is_empty());

        let pycups = read(
            "egginfo",
            "usr/lib/python3/dist-packages/pycups-2.0.1.egg-info",
        );
        let component = &pycups.components[0];
        assert_eq!(
            component.licenses,
            [License::Expression("GPL-2.0-or-later".into())]
        );
        assert_eq!(
            distribution(component).site_packages,
            "usr/lib/python3/dist-packages"
        );
        assert_eq!(
            distribution(component).metadata_version.as_deref(),
            Some("1.1")
        );

        let setuptools = read(
            "egginfo_pkginfo",
            "sp/setuptools-57.4.0-py3.10.egg/EGG-INFO/PKG-INFO",
        );
        let component = &setuptools.components[0];
        assert_eq!(distribution(component).site_packages, "sp");
        // `License: UNKNOWN` falls back to the classifier.
        assert_eq!(component.licenses, [License::Expression("MIT".into())]);

        let egg = read(
            "monotonic_no_pkginfo-1.6-py3.10.egg",
            "monotonic_no_pkginfo-1.6-py3.10.egg",
        );
        assert_eq!(egg.problems.len(), 1);
        assert_eq!(
            egg.problems[0].message,
            "the archive holds no `EGG-INFO/PKG-INFO`; not a distribution"
        );

        let wheel = read(
            "monotonic-1.6-py2.py3-none-any.whl",
            "dist/monotonic-1.6-py2.py3-none-any.whl",
        );
        let component = &wheel.components[0];
        assert_eq!(component.supplier.as_deref(), Some("Ori Livneh"));
        assert_eq!(distribution(component).site_packages, "dist");
        assert!(wheel.requests.is_empty());
        assert!(component.files.is_empty());
    }

    #[test]
    fn missing_fields_and_non_metadata_are_errors() {
        let path = "sp/broken-1.0.dist-info/METADATA";
        let cases = [
            (
                "Metadata-Version: 2.1\nName: broken\n",
                "invalid core metadata: the metadata has no `Version` field",
                None,
            ),
            (
                "Metadata-Version: 2.1\nVersion: 1.0\n",
                "invalid core metadata: the metadata has no `Name` field",
                None,
            ),
            (
                "Metadata-Version: 2.1\nSummary: x\n",
                "invalid core metadata: the metadata has neither a `Name` nor a `Version` field",
                None,
            ),
            (
                "<html>\nName: broken\n",
                "invalid core metadata: line 1 is not a `Name: value` header; not a core metadata file",
                Some(1),
            ),
            (
                "",
                "invalid core metadata: the metadata file is empty",
                None,
            ),
        ];
        for (text, message, line) in cases {
            let resolver = MemoryResolver::default().with(path, text);
            let error = catalog(path, &resolver).unwrap_err();
            assert_eq!(error.render(), message);
            assert_eq!(error.line, line);
        }
        let wheel = "demo-1.0-py3-none-any.whl";
        let resolver = MemoryResolver::default().with(wheel, "not a zip");
        let error = catalog(wheel, &resolver).unwrap_err();
        assert!(
            error.render().starts_with("cannot open the archive: "),
            "{}",
            error.render()
        );
    }

    #[test]
    fn license_expression_wins_over_license_and_classifiers() {
        let path = "demo-1.0.dist-info/METADATA";
        let cases = [
            (
                "License-Expression: MIT OR Apache-2.0\nLicense: BSD\nClassifier: License :: OSI Approved :: MIT License\n",
                vec![License::Expression("MIT OR Apache-2.0".into())],
            ),
            (
                "License: Apache 2.0\nClassifier: License :: OSI Approved :: MIT License\n",
                vec![License::Expression("Apache-2.0".into())],
            ),
            (
                "License: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n\
              Classifier: License :: OSI Approved :: Apache Software License\n\
              Classifier: License :: OSI Approved :: MIT License\n",
                vec![
                    License::Expression("MIT".into()),
                    License::Expression("Apache-2.0".into()),
                ],
            ),
            (
                "License: Copyright (c) Someone\n        \n        Permission is hereby granted\n",
                vec![License::Name("Copyright (c) Someone".into())],
            ),
            ("Classifier: Programming Language :: Python\n", vec![]),
        ];
        for (headers, licenses) in cases {
            let text = format!("Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n{headers}");
            let output = catalog(path, &MemoryResolver::default().with(path, text)).unwrap();
            assert_eq!(output.components[0].licenses, licenses, "{headers}");
        }
    }

    #[test]
    fn supplier_falls_back_to_maintainer_and_address_names() {
        let path = "demo-1.0.dist-info/METADATA";
        let cases = [
            ("Author: A\nMaintainer: M\n", Some("A")),
            (
                "Maintainer: M\nAuthor-email: X <x@example.invalid>\n",
                Some("M"),
            ),
            (
                "Author-email: \"Doe, Jane\" <j@example.invalid>, Bob <b@example.invalid>\n",
                Some("Doe, Jane, Bob"),
            ),
            (
                "Author-email: j@example.invalid\nMaintainer-email: Team <t@example.invalid>\n",
                Some("Team"),
            ),
            ("Author-email: j@example.invalid\n", None),
        ];
        for (headers, supplier) in cases {
            let text = format!("Name: demo\nVersion: 1.0\n{headers}");
            let output = catalog(path, &MemoryResolver::default().with(path, text)).unwrap();
            assert_eq!(
                output.components[0].supplier.as_deref(),
                supplier,
                "{headers}"
            );
        }
    }

    #[test]
    fn local_versions_are_kept_as_written() {
        let path = "sp/torch-2.2.0+cu121.dist-info/METADATA";
        let text = "Metadata-Version: 2.1\nName: torch\nVersion: 2.2.0+cu121\n";
        let output = catalog(path, &MemoryResolver::default().with(path, text)).unwrap();
        let component = &output.components[0];
        assert_eq!(component.version.as_deref(), Some("2.2.0+cu121"));
        assert_eq!(
            component.purl.as_ref().unwrap().as_str(),
            "pkg:pypi/torch@2.2.0%2Bcu121"
        );
    }

    #[test]
    fn record_hashes_and_script_paths() {
        let site = "venv/lib/python3.11/site-packages";
        let path = format!("{site}/helper_lib-2.2.0+cu121.dist-info/METADATA");
        let resolver = bulwark_catalog::DirResolver::new(testdata());
        let output = catalog(&path, &resolver).unwrap();
        let component = &output.components[0];
        let files: BTreeMap<_, _> = component
            .files
            .iter()
            .map(|f| (f.path.as_str(), f))
            .collect();
        let script = files["venv/bin/helper"];
        assert_eq!(script.size, Some(54));
        let digest = script.digest.as_ref().unwrap();
        assert_eq!(digest.algorithm, HashAlgorithm::Sha256);
        assert_eq!(digest.value.len(), 64);
        let init = files[format!("{site}/helper_lib/__init__.py").as_str()];
        assert_eq!(
            init.digest.as_ref().unwrap().value,
            "e13df8c44af5dea1e412403910b99cc5a48f2ccbf68a66b3374d6ab9cef9fc65"
        );
        assert!(files.contains_key(format!("{site}/helper_lib/broken.py").as_str()));
        assert_eq!(component.files.len(), 7);
        let problems: Vec<_> = output.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                format!(
                    "{site}/helper_lib-2.2.0+cu121.dist-info/RECORD:6: malformed RECORD row: `sha256=not-base64!` is not a `<algorithm>=<base64 digest>` hash of a known algorithm"
                ),
                format!(
                    "{site}/helper_lib-2.2.0+cu121.dist-info/RECORD:6: malformed RECORD row: `twelve` is not a file size"
                ),
            ]
        );
    }

    #[test]
    fn venv_with_dependencies_editable_vcs_and_egg_info() {
        let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(DistInfoCataloger)];
        let inventory = catalog_target(
            &testdata().join("venv"),
            "venv",
            &catalogers,
            &Progress::default(),
        )
        .unwrap();
        insta::assert_json_snapshot!("venv_inventory", inventory);

        // `files` is not serialized; list it compactly.
        let mut listing = String::new();
        for component in &inventory.components {
            listing.push_str(&format!("{}\n", component.name));
            for file in &component.files {
                let digest = file.digest.as_ref().map_or("-", |d| d.value.as_str());
                let size = file.size.map_or("-".to_owned(), |s| s.to_string());
                listing.push_str(&format!("  {} {digest} {size}\n", file.path));
            }
        }
        insta::assert_snapshot!("venv_files", listing);

        let by_name = |name: &str| {
            inventory
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap()
        };
        assert_eq!(
            by_name("demo-app").source,
            Some(PackageSource::Path {
                path: "/home/dev/demo-app".into(),
                editable: true
            })
        );
        assert!(matches!(
            by_name("helper_lib").source,
            Some(PackageSource::Vcs { ref commit, .. }) if commit.as_deref() == Some("4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39")
        ));
        let edges: Vec<_> = inventory
            .relationships
            .iter()
            .map(|r| format!("{} -> {}", r.from, r.to))
            .collect();
        assert_eq!(
            edges,
            [
                "pkg:pypi/demo-app@1.0.0 -> pkg:pypi/helper-lib@2.2.0%2Bcu121",
                "pkg:pypi/demo-app@1.0.0 -> pkg:pypi/oldstyle@0.9",
                "pkg:pypi/oldstyle@0.9 -> pkg:pypi/helper-lib@2.2.0%2Bcu121",
            ]
        );
    }

    #[test]
    fn requests_are_scoped_to_the_site_packages_directory() {
        let site = "venv/lib/python3.11/site-packages";
        let path = format!("{site}/demo_app-1.0.0.dist-info/METADATA");
        let output = catalog(&path, &bulwark_catalog::DirResolver::new(testdata())).unwrap();
        let component = &output.components[0];
        let requests: Vec<_> = output
            .requests
            .iter()
            .map(|r| (r.name.as_str(), r.within.as_deref()))
            .collect();
        let within = Some("venv/lib/python3.11/site-packages/");
        // `pytest` is only for the `test` extra; `oldstyle` is needed outside Windows even
        // without its extra.
        assert_eq!(
            requests,
            [
                ("helper-lib", within),
                ("missing-dependency", within),
                ("oldstyle", within)
            ]
        );
        assert!(
            output
                .requests
                .iter()
                .all(|r| r.from == ComponentId::of(component))
        );
        assert_eq!(
            output
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [format!(
                "{path}:15: skipped an unparsable requirement `this is not (a requirement`: \
                 Expected one of `@`, `(`, `<`, `=`, `>`, `~`, `!`, `;`, found `i`"
            )]
        );
        let python = distribution(component);
        assert_eq!(python.requires_dist.len(), 5);
        assert_eq!(python.installer.as_deref(), Some("pip"));
        assert_eq!(python.direct_url.as_ref().map(|d| d.editable), Some(true));

        // At the target root the scope is the whole target.
        let root = "demo-1.0.dist-info/METADATA";
        let text = "Name: demo\nVersion: 1.0\nRequires-Dist: six\n";
        let output = catalog(root, &MemoryResolver::default().with(root, text)).unwrap();
        assert_eq!(output.requests[0].within.as_deref(), Some(""));
        assert_eq!(distribution(&output.components[0]).site_packages, "");
    }

    #[test]
    fn an_explicit_metadata_file_has_no_site_packages_to_scope_to() {
        let text = "Name: demo\nVersion: 1.0\nRequires-Dist: six\n";
        let resolver = MemoryResolver::default()
            .with("METADATA", text)
            .with("RECORD", "../../../bin/demo,,\ndemo.py,,\n")
            .with("INSTALLER", "uv\n");
        let file = FileRef {
            path: "METADATA",
            explicit: true,
        };
        let output = DistInfoCataloger.catalog(&file, &resolver).unwrap();
        let component = &output.components[0];
        assert!(output.requests.is_empty());
        assert!(component.files.is_empty());
        assert_eq!(distribution(component).installer.as_deref(), Some("uv"));
        assert_eq!(distribution(component).requires_dist, ["six"]);
    }

    #[test]
    fn bad_siblings_are_problems_and_the_component_counts() {
        let dir = "sp/demo-1.0.dist-info";
        let mut record = String::new();
        for index in 0..25 {
            record.push_str(&format!("f{index}.py,sha256=bad,1\n"));
        }
        let resolver = MemoryResolver::default()
            .with(&format!("{dir}/METADATA"), "Name: demo\nVersion: 1.0\n")
            .with(&format!("{dir}/direct_url.json"), "{\"url\": 3}")
            .with(&format!("{dir}/RECORD"), record);
        let output = catalog(&format!("{dir}/METADATA"), &resolver).unwrap();
        assert_eq!(output.components.len(), 1);
        assert_eq!(output.components[0].files.len(), 25);
        assert_eq!(output.problems.len(), 1 + MAX_RECORD_PROBLEMS + 1);
        assert!(
            output.problems[0]
                .message
                .starts_with("invalid `direct_url.json`: ")
        );
        assert_eq!(
            output.problems.last().unwrap().message,
            "15 more malformed RECORD rows not listed"
        );
    }

    /// A wheel built in memory: `METADATA` inside a `.dist-info` directory, next to the
    /// wheel's own `RECORD`.
    fn wheel(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn wheel_archive() {
        let bytes = wheel(&[
            ("helper_lib/__init__.py", "VALUE = 1\n"),
            (
                "vendored-0.1.dist-info/METADATA",
                "Name: vendored\nVersion: 0.1\n",
            ),
            (
                "helper_lib-2.2.0+cu121.dist-info/METADATA",
                "Metadata-Version: 2.4\nName: helper_lib\nVersion: 2.2.0+cu121\n\
                 License-Expression: Apache-2.0\nRequires-Dist: numpy>=1.26\n",
            ),
            (
                "helper_lib-2.2.0+cu121.dist-info/RECORD",
                "helper_lib/__init__.py,,\n",
            ),
        ]);
        let path = "wheelhouse/helper_lib-2.2.0+cu121-py3-none-any.whl";
        let output = catalog(path, &MemoryResolver::default().with(path, bytes)).unwrap();
        assert_eq!(output.components.len(), 1);
        let component = &output.components[0];
        assert_eq!(component.name, "helper_lib");
        assert_eq!(component.version.as_deref(), Some("2.2.0+cu121"));
        assert_eq!(
            component.licenses,
            [License::Expression("Apache-2.0".into())]
        );
        assert_eq!(component.locations.first().unwrap().path, path);
        assert_eq!(distribution(component).requires_dist, ["numpy>=1.26"]);
        assert!(output.requests.is_empty());
        assert!(component.files.is_empty());

        let bare = wheel(&[("helper_lib/__init__.py", "")]);
        let output = catalog(path, &MemoryResolver::default().with(path, bare)).unwrap();
        assert!(output.components.is_empty());
        assert_eq!(
            output.problems[0].message,
            "the archive holds no `*.dist-info/METADATA`; not a distribution"
        );
    }

    /// Catalogs a real environment: `BULWARK_PYTHON_ENV=/tmp/bulwark-corpus/ml-venv cargo test
    /// -p bulwark-catalog-python --release -- --ignored real_environment`.
    #[test]
    #[ignore = "needs a Python environment on disk"]
    fn real_environment() {
        let Some(root) = std::env::var_os("BULWARK_PYTHON_ENV") else {
            return;
        };
        let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(DistInfoCataloger)];
        let started = std::time::Instant::now();
        let inventory =
            catalog_target(Path::new(&root), "env", &catalogers, &Progress::default()).unwrap();
        let elapsed = started.elapsed();
        let files: usize = inventory.components.iter().map(|c| c.files.len()).sum();
        assert!(!inventory.components.is_empty());
        assert!(inventory.problems.is_empty(), "{:#?}", inventory.problems);
        // The bar for an ML environment (torch, the CUDA wheels, ~50k files): well under 1 s.
        assert!(
            cfg!(debug_assertions) || elapsed < std::time::Duration::from_secs(1),
            "{} components, {files} files, {} edges in {elapsed:?}",
            inventory.components.len(),
            inventory.relationships.len(),
        );
    }
}
