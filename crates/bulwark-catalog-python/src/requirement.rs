//! One declared Python requirement (`name[extras] specifier ; marker` or `name @ url`), as
//! requirements files and `pyproject.toml` write it.
//!
//! `pep508_rs` validates the grammar; what is *reported* is cut from the text as written:
//! `pep508_rs` normalizes names (`Mopidy-Dirble` → `mopidy-dirble`), versions
//! (`1.2-alpha` → `1.2a0`) and markers (`python_version` → `python_full_version`), and an
//! inventory shows what the source says.

use std::str::FromStr;

use bulwark_catalog::requirement_text::{RawUrl, split_extras, split_marker, split_name};
use bulwark_inventory::{
    Component, Ecosystem, Location, Metadata, PackageName, PackageSource, PythonRequirement, Scope,
};
use pep508_rs::pep440_rs::Operator;
use pep508_rs::{Pep508ErrorSource, Requirement, VersionOrUrl};

/// A requirement string that is not PEP 508.
#[derive(Debug, thiserror::Error)]
#[error("`{text}` is not a valid requirement")]
pub(crate) struct RequirementError {
    text: String,
    #[source]
    source: Pep508ErrorSource<RawUrl>,
}

/// A parsed requirement, every part as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredRequirement {
    /// The distribution name as written.
    pub(crate) name: String,
    /// Requested extras.
    pub(crate) extras: Vec<String>,
    /// The version specifier (`>= 2.8.1, == 2.8.*`), empty when none.
    pub(crate) specifier: String,
    /// The environment marker.
    pub(crate) marker: Option<String>,
    /// The URL of a `name @ url` requirement.
    pub(crate) url: Option<String>,
    /// The version when the specifier is one exact pin (`==1.2`, `===1.2`); `==1.2.*` is a
    /// range, not a pin.
    pub(crate) pinned: Option<String>,
}

impl DeclaredRequirement {
    /// Parses a PEP 508 requirement. A requirement whose specifier or URL holds a `${VAR}`
    /// reference (which pip expands from the installer's environment, unknown to a scanner)
    /// keeps its name, with the rest as written and no version.
    pub(crate) fn parse(text: &str) -> Result<Self, RequirementError> {
        let text = text.trim();
        match Requirement::<RawUrl>::from_str(text) {
            Ok(parsed) => Ok(Self::from_parsed(text, &parsed)),
            Err(error) => {
                if text.contains("${")
                    && let Some(requirement) = Self::with_environment_variable(text)
                {
                    return Ok(requirement);
                }
                Err(RequirementError {
                    text: text.to_owned(),
                    source: error.message,
                })
            }
        }
    }

    fn from_parsed(text: &str, parsed: &Requirement<RawUrl>) -> Self {
        let (name, rest) = split_name(text);
        let (extras, rest) = split_extras(rest);
        match &parsed.version_or_url {
            Some(VersionOrUrl::Url(url)) => {
                // `rest` is `@ <url> [; marker]`; the URL is the parser's verbatim slice.
                let after_url = rest
                    .find(url.0.as_str())
                    .map_or("", |start| &rest[start + url.0.len()..]);
                let marker = after_url.trim().strip_prefix(';').map(str::trim);
                Self {
                    name: name.to_owned(),
                    extras,
                    specifier: String::new(),
                    marker: marker.filter(|m| !m.is_empty()).map(str::to_owned),
                    url: Some(url.0.clone()),
                    pinned: None,
                }
            }
            version => {
                let (specifier, marker) = split_marker(rest);
                let pinned = match version {
                    Some(VersionOrUrl::VersionSpecifier(specifiers))
                        if specifiers.len() == 1
                            && matches!(
                                specifiers[0].operator(),
                                Operator::Equal | Operator::ExactEqual
                            ) =>
                    {
                        exact_version(&specifier)
                    }
                    _ => None,
                };
                Self {
                    name: name.to_owned(),
                    extras,
                    specifier,
                    marker,
                    url: None,
                    pinned,
                }
            }
        }
    }

    /// The lenient reading of a requirement with `${VAR}` in it: a valid name, then anything.
    fn with_environment_variable(text: &str) -> Option<Self> {
        let (name, rest) = split_name(text);
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return None;
        }
        let (extras, rest) = split_extras(rest);
        let rest = rest.trim();
        if let Some(url) = rest.strip_prefix('@') {
            let (url, marker) = match url.find(" ;") {
                Some(at) => (&url[..at], Some(url[at + 2..].trim().to_owned())),
                None => (url, None),
            };
            return Some(Self {
                name: name.to_owned(),
                extras,
                specifier: String::new(),
                marker,
                url: Some(url.trim().to_owned()),
                pinned: None,
            });
        }
        let (specifier, marker) = split_marker(rest);
        Some(Self {
            name: name.to_owned(),
            extras,
            specifier,
            marker,
            url: None,
            pinned: None,
        })
    }

    /// Where the requirement points, for `name @ url` requirements.
    pub(crate) fn source(&self) -> Option<PackageSource> {
        self.url.as_deref().map(url_source)
    }

    /// The version: the pin, or for `name @ <archive url>` the version in the archive's file
    /// name (a wheel or sdist file name states its version exactly).
    pub(crate) fn version(&self) -> Option<String> {
        self.pinned.clone().or_else(|| {
            let url = self.url.as_deref()?;
            if vcs_prefix(url).is_some() {
                return None;
            }
            archive_name_and_version(Some(&self.name), url_file_name(url)).map(|(_, v)| v)
        })
    }

    /// The requirement as a component found at `location`.
    pub(crate) fn into_component(
        self,
        location: Location,
        found_by: &str,
        scope: Scope,
    ) -> Component {
        let version = self.version();
        let mut component = Component::package(
            Ecosystem::PyPI,
            &self.name,
            version.as_deref(),
            location,
            found_by,
        );
        component.scope = scope;
        component.source = self.source();
        component.metadata = Metadata::PythonRequirement(PythonRequirement {
            specifier: self.specifier,
            extras: self.extras,
            marker: self.marker,
        });
        component
    }
}

/// The version of a single `==X` / `===X` specifier, as written.
fn exact_version(specifier: &str) -> Option<String> {
    let version = specifier
        .strip_prefix("===")
        .or_else(|| specifier.strip_prefix("=="))?
        .trim();
    (!version.is_empty()).then(|| version.to_owned())
}

/// `git`, `hg`, `svn` or `bzr` for `git+https://…`-style URLs.
pub(crate) fn vcs_prefix(url: &str) -> Option<(&'static str, &str)> {
    ["git", "hg", "svn", "bzr"].into_iter().find_map(|vcs| {
        url.strip_prefix(vcs)
            .and_then(|rest| rest.strip_prefix('+'))
            .map(|rest| (vcs, rest))
    })
}

/// The source a pip-style URL stands for: `git+https://host/repo@rev#egg=x` is a VCS
/// checkout at `rev`, `file:` URLs and plain paths are local, anything else a download.
pub(crate) fn url_source(url: &str) -> PackageSource {
    if let Some((vcs, rest)) = vcs_prefix(url) {
        let without_fragment = rest.split('#').next().unwrap_or(rest);
        // The revision follows the last `@` of the path; an `@` before the path's first `/`
        // is user info (`ssh://git@host/repo`).
        let path_start = without_fragment
            .find("://")
            .map_or(0, |scheme_end| scheme_end + 3);
        let path_start = without_fragment[path_start..]
            .find('/')
            .map_or(without_fragment.len(), |slash| path_start + slash);
        let (repository, revision) = match without_fragment[path_start..].rfind('@') {
            Some(at) => (
                &without_fragment[..path_start + at],
                Some(&without_fragment[path_start + at + 1..]),
            ),
            None => (without_fragment, None),
        };
        let revision = revision.filter(|r| !r.is_empty());
        return PackageSource::Vcs {
            vcs: vcs.to_owned(),
            url: repository.to_owned(),
            requested_revision: revision.map(str::to_owned),
            commit: revision.filter(|r| is_commit(r)).map(str::to_owned),
        };
    }
    if url.contains("://") {
        PackageSource::Url {
            url: url.to_owned(),
        }
    } else {
        PackageSource::Path {
            path: url.strip_prefix("file:").unwrap_or(url).to_owned(),
            editable: false,
        }
    }
}

/// Whether `revision` is a full commit id (SHA-1 or SHA-256), not a branch or tag.
pub(crate) fn is_commit(revision: &str) -> bool {
    matches!(revision.len(), 40 | 64) && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The last path segment of a URL or path, without query or fragment.
pub(crate) fn url_file_name(url: &str) -> &str {
    let url = url.split(['#', '?']).next().unwrap_or(url);
    url.trim_end_matches('/')
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(url)
}

const SDIST_EXTENSIONS: [&str; 6] = [".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar"];

/// Whether a file name is a wheel or an sdist archive.
pub(crate) fn is_archive(file_name: &str) -> bool {
    file_name.ends_with(".whl") || SDIST_EXTENSIONS.iter().any(|e| file_name.ends_with(e))
}

/// Name and version from a wheel (`name-version-tags.whl`) or sdist (`name-version.tar.gz`)
/// file name. A wheel file name states both; an sdist's name can contain `-`, so the split
/// is only trusted when `expected_name` tells where the name ends.
pub(crate) fn archive_name_and_version(
    expected_name: Option<&str>,
    file_name: &str,
) -> Option<(String, String)> {
    let same = |a: &str, b: &str| {
        PackageName::new(Ecosystem::PyPI, a) == PackageName::new(Ecosystem::PyPI, b)
    };
    if let Some(stem) = file_name.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (name, version) = (parts.next()?, parts.next()?);
        if parts.next().is_none() || expected_name.is_some_and(|e| !same(e, name)) {
            return None;
        }
        return Some((name.to_owned(), version.to_owned()));
    }
    let stem = SDIST_EXTENSIONS
        .iter()
        .find_map(|e| file_name.strip_suffix(e))?;
    let expected = expected_name?;
    stem.match_indices('-').find_map(|(at, _)| {
        let version = &stem[at + 1..];
        (same(&stem[..at], expected) && !version.is_empty())
            .then(|| (expected.to_owned(), version.to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DeclaredRequirement {
        DeclaredRequirement::parse(text).unwrap()
    }

    #[test]
    fn keeps_every_part_as_written() {
        let requirement =
            parse(r#"requests [security, tests] >= 2.8.1, == 2.8.* ; python_version < "2.7""#);
        assert_eq!(requirement.name, "requests");
        assert_eq!(requirement.extras, ["security", "tests"]);
        assert_eq!(requirement.specifier, ">= 2.8.1, == 2.8.*");
        assert_eq!(
            requirement.marker.as_deref(),
            Some(r#"python_version < "2.7""#)
        );
        assert_eq!(requirement.pinned, None);

        let requirement = parse("PyCrypto==1.2-alpha");
        assert_eq!(requirement.name, "PyCrypto");
        assert_eq!(requirement.pinned.as_deref(), Some("1.2-alpha"));
        assert_eq!(parse("yolo===1.0").pinned.as_deref(), Some("1.0"));
        assert_eq!(parse("old (==2.0)").pinned.as_deref(), Some("2.0"));
    }

    #[test]
    fn only_a_single_exact_specifier_is_a_pin() {
        for text in ["asdf==0.7.*", "a>=1", "a==1.0,<2", "a~=1.1", "a!=1.0", "a"] {
            assert_eq!(parse(text).pinned, None, "{text}");
        }
        assert_eq!(
            parse("torch==2.2.0+cu121").version().as_deref(),
            Some("2.2.0+cu121")
        );
    }

    #[test]
    fn url_requirements_keep_url_and_marker() {
        let requirement = parse(
            "demo @ https://example.invalid/demo-1.2.0-py3-none-any.whl ; sys_platform == 'linux'",
        );
        assert_eq!(
            requirement.url.as_deref(),
            Some("https://example.invalid/demo-1.2.0-py3-none-any.whl")
        );
        assert_eq!(
            requirement.marker.as_deref(),
            Some("sys_platform == 'linux'")
        );
        assert_eq!(requirement.version().as_deref(), Some("1.2.0"));
        assert!(matches!(
            requirement.source(),
            Some(PackageSource::Url { .. })
        ));

        let requirement = parse("lib @ git+ssh://git@host.invalid/org/lib.git@v1.0#egg=lib");
        assert_eq!(
            requirement.source(),
            Some(PackageSource::Vcs {
                vcs: "git".into(),
                url: "ssh://git@host.invalid/org/lib.git".into(),
                requested_revision: Some("v1.0".into()),
                commit: None,
            })
        );
        assert_eq!(requirement.version(), None);
    }

    #[test]
    fn environment_variables_are_left_alone() {
        let requirement = parse("qwert==${MY_VARIABLE_1}");
        assert_eq!(requirement.name, "qwert");
        assert_eq!(requirement.specifier, "==${MY_VARIABLE_1}");
        assert_eq!(requirement.version(), None);
    }

    #[test]
    fn rejects_what_is_not_pep_508() {
        for text in ["asdf==", "==1.0", "asdf 1.0", "foo7==1.0 trailing"] {
            let error = DeclaredRequirement::parse(text).unwrap_err();
            assert!(error.to_string().contains(text), "{error}");
        }
    }

    #[test]
    fn archive_file_names() {
        assert_eq!(
            archive_name_and_version(
                None,
                "wxPython_Phoenix-3.0.3.dev1820+49a8884-cp34-none-win_amd64.whl"
            ),
            Some(("wxPython_Phoenix".into(), "3.0.3.dev1820+49a8884".into()))
        );
        assert_eq!(
            archive_name_and_version(
                Some("python-dateutil"),
                "python-dateutil-2.9.0.post0.tar.gz"
            ),
            Some(("python-dateutil".into(), "2.9.0.post0".into()))
        );
        assert_eq!(archive_name_and_version(None, "x-1.0.tar.gz"), None);
        assert_eq!(
            archive_name_and_version(Some("urllib3"), "1.26.8.zip"),
            None
        );
    }
}
