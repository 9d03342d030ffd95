//! pip requirements files (`requirements.txt`, `requirements/*.txt`, `constraints.txt`).
//!
//! The format is pip's, not a standard, and the traps are pip's:
//! - Lines are joined at a trailing `\` *before* comments are removed, and a comment starts
//!   at a `#` only when it begins the line or follows whitespace (`#egg=` and `;#` in a hash
//!   are not comments).
//! - A requirement line ends at its first whitespace-separated token starting with `-`; what
//!   follows are per-requirement options (`--hash`, `--config-settings`, ...). Text between
//!   the requirement and its options makes the requirement unparsable, as it does for pip.
//! - `-r` and `-c` include other files relative to the including file. Includes are read
//!   through the [`Resolver`], never outside the target, and each file at most once per mode,
//!   which ends include loops.
//! - Only a single `==X` or `===X` is a pin: `==1.2.*`, `>=1.2` and `~=1.2` say nothing
//!   about what is installed, so those requirements are reported with no version.
//! - `${VAR}` references are expanded by pip from the installing machine's environment,
//!   which a scan does not know: they are left as written.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, join_relative};
use bulwark_inventory::{
    Component, Ecosystem, Hash, Location, Metadata, PackageName, PackageSource, Problem,
    PythonRequirement,
};
use serde::Deserialize;

use crate::lockfile::normalized;
use crate::requirement::{
    DeclaredRequirement, RequirementError, archive_name_and_version, is_archive, url_file_name,
    url_source, vcs_prefix,
};

const ID: &str = "python/requirements";

/// Reads pip requirements and constraints files.
pub(crate) struct RequirementsCataloger;

impl Cataloger for RequirementsCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    /// `requirements*.txt`, `*requirements.txt`, `requirements/*.txt`, `constraints*.txt`,
    /// and any `.txt` the user names. `*.in` files (pip-tools inputs) are not claimed: the
    /// compiled `.txt` beside them is the exact one.
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        if file.is_in_site_packages() && !file.explicit {
            return false;
        }
        let name = file.file_name();
        if !name.ends_with(".txt") {
            return false;
        }
        file.explicit
            || name.starts_with("requirements")
            || name.ends_with("requirements.txt")
            || name.starts_with("constraints")
            || file.dir().rsplit('/').next() == Some("requirements")
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(RequirementsError::Read)?;
        let mut reader = Reader {
            resolver,
            visited: BTreeSet::from([(file.path.to_owned(), Mode::Requirements)]),
            entries: Vec::new(),
            constraints: BTreeMap::new(),
            problems: Vec::new(),
        };
        reader.read(file.path, &text, Mode::Requirements);
        Ok(reader.finish())
    }
}

/// Why a requirements file could not be read.
#[derive(Debug, thiserror::Error)]
enum RequirementsError {
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
}

/// Trouble with one line; the rest of the file is still read.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("cannot include `{0}`: it is outside the scanned target")]
    IncludeOutside(String),
    #[error("cannot include `{0}`: bulwark does not download included files")]
    IncludeUrl(String),
    #[error("cannot read included file `{path}`")]
    IncludeRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` without a file name")]
    IncludeEmpty(String),
    #[error("unknown option `{0}`; line skipped")]
    UnknownOption(String),
    #[error(transparent)]
    Requirement(#[from] RequirementError),
    #[error("cannot tell which package `{0}` is (add `#egg=<name>` or write `<name> @ <url>`)")]
    Unnamed(String),
    #[error("`--hash` value `{0}` is not an algorithm and digest bulwark knows; ignored")]
    Hash(String),
}

/// Whether a file is read for its requirements or, through `-c`, for its constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Requirements,
    Constraints,
}

/// A requirement as read, before constraints are applied.
struct Entry {
    name: String,
    version: Option<String>,
    location: Location,
    hashes: BTreeSet<Hash>,
    source: Option<PackageSource>,
    requirement: PythonRequirement,
}

/// A pin from a constraints file.
struct Constraint {
    version: String,
    location: Location,
    hashes: BTreeSet<Hash>,
}

struct Reader<'a> {
    resolver: &'a dyn Resolver,
    visited: BTreeSet<(String, Mode)>,
    entries: Vec<Entry>,
    /// By normalized name; the first pin read wins, as it does for pip (which rejects
    /// conflicting pins outright).
    constraints: BTreeMap<PackageName, Constraint>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn read(&mut self, path: &str, text: &str, mode: Mode) {
        for (line_number, line) in logical_lines(text) {
            let line = strip_comment(&line).trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('-') {
                self.option_line(path, line_number, line, mode);
            } else {
                self.requirement_line(path, line_number, line, mode);
            }
        }
    }

    fn problem(&mut self, path: &str, line: u32, error: LineError) {
        self.problems.push(Problem {
            path: path.to_owned(),
            line: Some(line),
            cataloger: Some(ID.to_owned()),
            message: CatalogError::new(error).render(),
        });
    }

    fn option_line(&mut self, path: &str, line_number: u32, line: &str, mode: Mode) {
        let (option, value) = split_option(line);
        match option {
            "-r" | "--requirement" => self.include(path, line_number, option, value, mode),
            "-c" | "--constraint" => {
                self.include(path, line_number, option, value, Mode::Constraints);
            }
            "-e" | "--editable" => {
                self.unnamed(path, line_number, value, true, mode, BTreeSet::new());
            }
            // Index, download and build options change where packages come from, not which.
            "-i" | "--index-url" | "--extra-index-url" | "--no-index" | "-f" | "--find-links"
            | "--trusted-host" | "--no-binary" | "--only-binary" | "--prefer-binary"
            | "--require-hashes" | "--pre" | "--use-feature" | "-Z" | "--always-unzip"
            | "--hash" | "--global-option" | "--install-option" | "--config-settings" | "-C" => {}
            _ => self.problem(
                path,
                line_number,
                LineError::UnknownOption(option.to_owned()),
            ),
        }
    }

    fn include(&mut self, path: &str, line_number: u32, option: &str, value: &str, mode: Mode) {
        if value.is_empty() {
            return self.problem(
                path,
                line_number,
                LineError::IncludeEmpty(option.to_owned()),
            );
        }
        if value.contains("://") {
            return self.problem(path, line_number, LineError::IncludeUrl(value.to_owned()));
        }
        let directory = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let Some(target) = join_relative(directory, value) else {
            return self.problem(
                path,
                line_number,
                LineError::IncludeOutside(value.to_owned()),
            );
        };
        if !self.visited.insert((target.clone(), mode)) {
            return;
        }
        match self.resolver.read_to_string(&target) {
            Ok(text) => self.read(&target, &text, mode),
            // Only the kind of the I/O error is kept: the resolver's message names the file by
            // its absolute path on the scanning machine, and problems name files relative to
            // the target.
            Err(error) => self.problem(
                path,
                line_number,
                LineError::IncludeRead {
                    path: value.to_owned(),
                    source: std::io::Error::from(error.kind()),
                },
            ),
        }
    }

    fn requirement_line(&mut self, path: &str, line_number: u32, line: &str, mode: Mode) {
        let (requirement, options) = split_options(line);
        let hashes = self.hashes(path, line_number, options);
        if is_unnamed(requirement) {
            return self.unnamed(path, line_number, requirement, false, mode, hashes);
        }
        let requirement = match DeclaredRequirement::parse(requirement) {
            Ok(requirement) => requirement,
            Err(error) => return self.problem(path, line_number, error.into()),
        };
        let location = Location::new(path).at_line(line_number);
        if mode == Mode::Constraints {
            if let Some(version) = requirement.version() {
                self.constraints
                    .entry(normalized(&requirement.name))
                    .or_insert(Constraint {
                        version,
                        location,
                        hashes,
                    });
            }
            return;
        }
        self.entries.push(Entry {
            version: requirement.version(),
            source: requirement.source(),
            name: requirement.name,
            location,
            hashes,
            requirement: PythonRequirement {
                specifier: requirement.specifier,
                extras: requirement.extras,
                marker: requirement.marker,
            },
        });
    }

    /// The `--hash` values among a requirement's options.
    fn hashes(&mut self, path: &str, line_number: u32, options: &str) -> BTreeSet<Hash> {
        let mut hashes = BTreeSet::new();
        let mut tokens = options.split_whitespace();
        while let Some(token) = tokens.next() {
            let (option, inline) = match token.split_once('=') {
                Some((option, value)) if option.starts_with("--") => (option, Some(value)),
                _ => (token, None),
            };
            match option {
                "--hash" => {
                    let value = inline.or_else(|| tokens.next()).unwrap_or_default();
                    match Hash::parse_prefixed(value) {
                        Some(hash) => {
                            hashes.insert(hash);
                        }
                        None => {
                            self.problem(path, line_number, LineError::Hash(value.to_owned()));
                        }
                    }
                }
                "--global-option" | "--install-option" | "--config-settings" | "-C"
                    if inline.is_none() =>
                {
                    tokens.next();
                }
                _ => {}
            }
        }
        hashes
    }

    /// A requirement given as a URL, VCS URL or local path rather than a name: its name comes
    /// from `#egg=`, from an archive's file name, or from the `pyproject.toml` of a local
    /// directory.
    fn unnamed(
        &mut self,
        path: &str,
        line_number: u32,
        value: &str,
        editable: bool,
        mode: Mode,
        hashes: BTreeSet<Hash>,
    ) {
        // A constraint pins a *name*; pip does not accept unnamed constraints.
        if mode == Mode::Constraints {
            return;
        }
        let (target, marker) = split_unnamed_marker(value);
        let (target, extras) = split_trailing_extras(target);
        let without_fragment = target.split('#').next().unwrap_or(target);
        let egg = target.split_once('#').and_then(|(_, fragment)| {
            fragment.split('&').find_map(|parameter| {
                parameter
                    .strip_prefix("egg=")
                    .map(|egg| egg.split('[').next().unwrap_or(egg))
            })
        });
        let is_vcs = vcs_prefix(target).is_some();
        let mut source = url_source(target);
        if let PackageSource::Path {
            path: local,
            editable: is_editable,
        } = &mut source
        {
            local.clone_from(&without_fragment.to_owned());
            *is_editable = editable;
        }
        let file_name = url_file_name(target);
        let identity = if is_vcs {
            egg.map(|egg| (egg.to_owned(), None))
        } else if is_archive(file_name) {
            archive_name_and_version(egg, file_name)
                .map(|(name, version)| (name, Some(version)))
                .or_else(|| egg.map(|egg| (egg.to_owned(), None)))
        } else if let Some(egg) = egg {
            Some((egg.to_owned(), None))
        } else if !target.contains("://") {
            self.local_project(path, without_fragment)
        } else {
            None
        };
        let Some((name, version)) = identity else {
            return self.problem(path, line_number, LineError::Unnamed(value.to_owned()));
        };
        self.entries.push(Entry {
            name,
            version,
            location: Location::new(path).at_line(line_number),
            hashes,
            source: Some(source),
            requirement: PythonRequirement {
                specifier: String::new(),
                extras,
                marker,
            },
        });
    }

    /// Name and version of a local project directory, from its `pyproject.toml`.
    fn local_project(&self, path: &str, directory: &str) -> Option<(String, Option<String>)> {
        #[derive(Deserialize)]
        struct Manifest {
            project: Option<Named>,
            tool: Option<Tool>,
        }
        #[derive(Deserialize)]
        struct Tool {
            poetry: Option<Named>,
        }
        #[derive(Deserialize)]
        struct Named {
            name: Option<String>,
            version: Option<String>,
        }
        let including_directory = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let project = join_relative(
            including_directory,
            directory.strip_prefix("file:").unwrap_or(directory),
        )?;
        let manifest_path = join_relative(&project, "pyproject.toml")?;
        let text = self.resolver.read_to_string(&manifest_path).ok()?;
        let manifest: Manifest = toml::from_str(&text).ok()?;
        [manifest.project, manifest.tool.and_then(|t| t.poetry)]
            .into_iter()
            .flatten()
            .find_map(|named| Some((named.name?, named.version)))
    }

    /// The components, with constraints applied.
    ///
    /// A `-c` constraint only pins something also required: an entry of a constraints file
    /// that nothing requires is not installed by pip, so it is not a component. A required
    /// name without a pin of its own takes the constraint's pin (pip installs exactly that),
    /// and the constraint's line and hashes are added to it. A constraints file named or
    /// found on its own is read as a list of requirements, since nothing else states what it
    /// constrains.
    fn finish(self) -> CatalogOutput {
        let components = self
            .entries
            .into_iter()
            .map(|mut entry| {
                if entry.version.is_none()
                    && entry.source.is_none()
                    && let Some(constraint) = self.constraints.get(&normalized(&entry.name))
                {
                    entry.version = Some(constraint.version.clone());
                    entry.hashes.extend(constraint.hashes.iter().cloned());
                    let mut component = build(entry);
                    component.locations.insert(constraint.location.clone());
                    return component;
                }
                build(entry)
            })
            .collect();
        CatalogOutput {
            components,
            problems: self.problems,
            ..CatalogOutput::default()
        }
    }
}

fn build(entry: Entry) -> Component {
    let mut component = Component::package(
        Ecosystem::PyPI,
        &entry.name,
        entry.version.as_deref(),
        entry.location,
        ID,
    );
    component.hashes = entry.hashes;
    component.source = entry.source;
    component.metadata = Metadata::PythonRequirement(entry.requirement);
    component
}

/// Joins `\`-continued lines the way pip does; each logical line carries the number of its
/// first physical line. A comment line never continues, and a trailing `\` on the last line
/// is dropped.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let is_comment = line.trim_start().starts_with('#');
        if line.ends_with('\\') && !is_comment {
            pending
                .get_or_insert_with(|| (number, String::new()))
                .1
                .push_str(line.trim_matches('\\'));
            continue;
        }
        // A comment line ending a continuation must stay a comment once joined.
        let line = if is_comment {
            format!(" {line}")
        } else {
            line.to_owned()
        };
        match pending.take() {
            Some((start, mut joined)) => {
                joined.push_str(&line);
                lines.push((start, joined));
            }
            None => lines.push((number, line)),
        }
    }
    lines.extend(pending);
    lines
}

/// Drops a comment: from a `#` at the start of the line or after whitespace.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (at, c) in line.char_indices() {
        if c == '#' && previous_is_space {
            return &line[..at];
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

/// Splits `-r file`, `--requirement=file`, `--requirement file`, `-rfile` into option and
/// value. A short option takes the rest of the line as its value, as optparse does.
fn split_option(line: &str) -> (&str, &str) {
    if line.starts_with("--") {
        let end = line
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(line.len());
        let value = line[end..].strip_prefix('=').unwrap_or(&line[end..]);
        return (&line[..end], unquote(value));
    }
    let end = line.char_indices().nth(2).map_or(line.len(), |(at, _)| at);
    (&line[..end], unquote(&line[end..]))
}

/// Splits a requirement line at its first whitespace-separated token that starts with `-`,
/// as pip's `break_args_options` does.
fn split_options(line: &str) -> (&str, &str) {
    let mut at = 0;
    for token in line.split_whitespace() {
        // `split_whitespace` yields slices of `line`, so the offset is exact.
        let start = token.as_ptr() as usize - line.as_ptr() as usize;
        if token.starts_with('-') {
            return (line[..start].trim_end(), &line[start..]);
        }
        at = start + token.len();
    }
    (&line[..at], "")
}

fn unquote(value: &str) -> &str {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value)
}

/// Whether a requirement is a URL or a path rather than a name (pip's `is_url` and
/// `_looks_like_path`).
fn is_unnamed(requirement: &str) -> bool {
    let head = requirement.split(';').next().unwrap_or(requirement).trim();
    let is_url = head.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    is_url
        || (!head.contains('@')
            && (head.starts_with(['.', '/', '~'])
                || head.contains(['/', '\\'])
                || is_archive(head)))
}

/// `url ; marker` for unnamed requirements, where the URL itself may contain `;`: pip
/// splits at `; ` there.
fn split_unnamed_marker(value: &str) -> (&str, Option<String>) {
    match value.split_once("; ").or_else(|| value.split_once(" ;")) {
        Some((target, marker)) => {
            let marker = marker.trim();
            (
                target.trim(),
                (!marker.is_empty()).then(|| marker.to_owned()),
            )
        }
        None => (value.trim(), None),
    }
}

/// `./dir[extra1,extra2]` → (`./dir`, extras).
fn split_trailing_extras(target: &str) -> (&str, Vec<String>) {
    if target.ends_with(']')
        && let Some(open) = target.rfind('[')
    {
        let extras = target[open + 1..target.len() - 1]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        return (&target[..open], extras);
    }
    (target, Vec::new())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bulwark_catalog::DirResolver;

    use super::*;
    use crate::lockfile::test_support::{
        catalog_fixture, expected, listing, name_versions, testdata,
    };

    const FOLDER: &str = "requirements";

    fn catalog(path: &str) -> CatalogOutput {
        catalog_fixture(&RequirementsCataloger, FOLDER, path).unwrap()
    }

    #[test]
    fn claims_requirements_and_constraints_files() {
        let wants =
            |path: &str, explicit: bool| RequirementsCataloger.wants(&FileRef { path, explicit });
        for path in [
            "requirements.txt",
            "app/requirements-dev.txt",
            "dev-requirements.txt",
            "requirements/base.txt",
            "constraints.txt",
            "constraints-gpu.txt",
        ] {
            assert!(wants(path, false), "{path}");
        }
        for path in [
            "requirements.in",
            "notes.txt",
            "requirements.txt.bak",
            "setup.py",
        ] {
            assert!(!wants(path, false), "{path}");
        }
        assert!(wants("deps.txt", true));
        assert!(!wants("deps.in", true));
    }

    /// Every case of the osv-scalibr expectations, with bulwark's deliberate differences
    /// spelled out. `EXPECTED.json` writes "no version" as `""`, as bulwark's `None` is
    /// compared here.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        // (fixture, name, version bulwark reports or None when bulwark reports nothing).
        let differences: &[(&str, &str, Option<&str>)] = &[
            // scalibr reports the bound of `>=`, `<=` and `~=` as the version; those say nothing
            // about what is installed, and bulwark never invents a version.
            ("with_versions.txt", "newspaper3k", Some("")),
            (
                "with_versions.txt",
                "combination-._-.also_-._valid",
                Some(""),
            ),
            ("with_versions.txt", "pkg", Some("")),
            ("example.txt", "keyring", Some("")),
            ("example.txt", "Mopidy-Dirble", Some("")),
            // scalibr skips URL and path requirements; bulwark reports them, with the
            // version a wheel's file name states exactly.
            ("example.txt", "urllib3", Some("")),
            ("example.txt", "numpy", Some("1.9.2")),
            (
                "example.txt",
                "wxPython_Phoenix",
                Some("3.0.3.dev1820+49a8884"),
            ),
            // scalibr drops a requirement whose version is an unexpanded `${VAR}`; bulwark
            // keeps the package, without a version.
            ("env_var.txt", "qwert", Some("")),
            // scalibr reports `1.0 unexpected_text_before_options_stays_around` as the
            // version; pip rejects the line, and bulwark reports it as a problem.
            ("per_req_options.txt", "foo7", None),
        ];
        let cases = expected(FOLDER);
        assert!(!cases.is_empty());
        for (fixture, fixture_cases) in &cases {
            let output = catalog(fixture);
            for case in fixture_cases {
                assert!(case.want_error.is_none(), "{}", case.test);
                let mut want: BTreeSet<(String, String)> = case
                    .packages
                    .iter()
                    .map(|p| (p.name.clone(), p.version.clone()))
                    .collect();
                for (file, name, version) in differences {
                    if file == fixture {
                        want.retain(|(n, _)| n != name);
                        if let Some(version) = version {
                            want.insert(((*name).to_owned(), (*version).to_owned()));
                        }
                    }
                }
                assert_eq!(
                    name_versions(&output.components),
                    want,
                    "{} ({fixture})",
                    case.test
                );
            }
        }
    }

    #[test]
    fn osv_scalibr_fixture_listings() {
        for fixture in [
            "example.txt",
            "per_req_options.txt",
            "invalid.txt",
            "loop.txt",
            "multiline_and_comments.txt",
        ] {
            insta::assert_snapshot!(format!("scalibr-{fixture}"), listing(&catalog(fixture)));
        }
    }

    #[test]
    fn include_loops_terminate() {
        let output = catalog("loop.txt");
        assert!(output.components.is_empty());
        assert!(output.problems.is_empty(), "{:?}", output.problems);
    }

    #[test]
    fn unparsable_lines_are_problems_with_their_line() {
        let output = catalog("invalid.txt");
        let lines: Vec<Option<u32>> = output.problems.iter().map(|p| p.line).collect();
        // Line 4 (`urllib3 @ https://…/==1.26.8.zip`) is valid PEP 508, an odd file name
        // aside; `-foo==1.0` is `-f oo==1.0` (`--find-links`) to pip: neither is a problem.
        assert_eq!(lines, [Some(1), Some(2), Some(3)]);
        assert!(output.problems.iter().all(|p| p.path == "invalid.txt"));
    }

    /// The hand-written project: includes from a subdirectory, constraints, hashes, VCS,
    /// editable installs, markers, extras, environment variables and a local project.
    #[test]
    fn hand_written_project() {
        let output = catalog("project/requirements.txt");
        insta::assert_snapshot!("project", listing(&output));

        let torch = output
            .components
            .iter()
            .find(|c| c.name == "torch")
            .unwrap();
        assert_eq!(torch.version.as_deref(), Some("2.2.0+cu121"));
        assert_eq!(torch.hashes.len(), 2);
        let Metadata::PythonRequirement(requirement) = &torch.metadata else {
            panic!("{:?}", torch.metadata);
        };
        assert_eq!(
            requirement.marker.as_deref(),
            Some("sys_platform == \"linux\"")
        );
    }

    #[test]
    fn constraints_pin_only_what_is_required() {
        let output = catalog("project/requirements.txt");
        let numpy = output
            .components
            .iter()
            .find(|c| c.name == "numpy")
            .unwrap();
        assert_eq!(numpy.version.as_deref(), Some("1.26.4"));
        assert_eq!(numpy.locations.len(), 2);
        assert!(!output.components.iter().any(|c| c.name == "scipy"));
    }

    #[test]
    fn a_missing_top_level_file_is_an_error() {
        let resolver = DirResolver::new(testdata(FOLDER));
        let file = FileRef {
            path: "absent-requirements.txt",
            explicit: false,
        };
        assert!(RequirementsCataloger.catalog(&file, &resolver).is_err());
    }

    #[test]
    fn joins_lines_like_pip() {
        let lines = logical_lines("a==1 \\\n  --hash=sha256:x\n# c \\\nb==2 \\\n");
        assert_eq!(
            lines,
            [
                (1, "a==1   --hash=sha256:x".to_owned()),
                (3, " # c \\".to_owned()),
                (4, "b==2 ".to_owned()),
            ]
        );
        assert_eq!(strip_comment("a==1 # x"), "a==1 ");
        assert_eq!(
            strip_comment("a @ https://h.invalid/a.zip#egg=a"),
            "a @ https://h.invalid/a.zip#egg=a"
        );
        assert_eq!(
            split_options("a==1; b < \"2\" --hash=x y"),
            ("a==1; b < \"2\"", "--hash=x y")
        );
        assert_eq!(split_options("foo17--hash==1.0"), ("foo17--hash==1.0", ""));
    }
}
