//! conda catalogers: installed environments (`conda-meta/*.json`), `environment.yml` and
//! `conda-lock.yml`.
//!
//! Every conda package gets a `pkg:conda/<name>@<version>?build=..&channel=..&subdir=..` purl
//! built the same way whatever the source, so an installed package and its lock entry are one
//! component. The channel qualifier is the channel *name* (`conda-forge`, `pkgs/main`): the
//! URL a channel was reached through (a mirror, a token-bearing proxy) is not identity.

mod conda_lock;
mod conda_meta;
mod environment_yml;
mod match_spec;

use bulwark_catalog::Cataloger;
use bulwark_inventory::{
    Component, CondaPackage, Ecosystem, Location, Metadata, PackageSource, Purl,
};

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(conda_meta::CondaMetaCataloger),
        Box::new(environment_yml::EnvironmentYmlCataloger),
        Box::new(conda_lock::CondaLockCataloger),
    ]
}

/// conda's platform subdirectories; a channel URL often ends in one (`.../conda-forge/linux-64`).
const SUBDIRS: &[&str] = &[
    "noarch",
    "linux-32",
    "linux-64",
    "linux-aarch64",
    "linux-armv6l",
    "linux-armv7l",
    "linux-ppc64",
    "linux-ppc64le",
    "linux-riscv64",
    "linux-s390x",
    "osx-64",
    "osx-arm64",
    "win-32",
    "win-64",
    "win-arm64",
    "zos-z",
    "emscripten-wasm32",
    "wasi-wasm32",
];

/// Whether `segment` is a conda platform subdirectory.
fn is_subdir(segment: &str) -> bool {
    SUBDIRS.contains(&segment)
}

/// A channel as written with credentials removed: `https://user:pass@host/t/<token>/conda-forge`
/// becomes `https://host/conda-forge`. Tokens must never reach an SBOM.
pub(crate) fn channel_without_credentials(channel: &str) -> String {
    let channel = channel.trim().trim_end_matches('/');
    let Some((scheme, rest)) = channel.split_once("://") else {
        return channel.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Channel tokens are the path prefix `t/<token>`.
    if segments.first() == Some(&"t") && segments.len() >= 2 {
        segments.drain(..2);
    }
    let mut out = format!("{scheme}://{host}");
    for segment in segments {
        out.push('/');
        out.push_str(segment);
    }
    out
}

/// The channel name for the purl qualifier: the path of a channel URL without credentials and
/// without a trailing platform subdirectory (`https://host/conda-forge/linux-64` →
/// `conda-forge`, `https://host/pkgs/main` → `pkgs/main`); a name stays as it is. A URL with
/// no path (a channel served at a host's root) is named by its host.
pub(crate) fn channel_name(channel: &str) -> Option<String> {
    let cleaned = channel_without_credentials(channel);
    let (host, path) = match cleaned.split_once("://") {
        Some((_, rest)) => match rest.split_once('/') {
            Some((host, path)) => (Some(host), path),
            None => (Some(rest), ""),
        },
        None => (None, cleaned.as_str()),
    };
    let path = path.trim_matches('/');
    let path = match path.rsplit_once('/') {
        Some((channel, last)) if is_subdir(last) => channel,
        _ if is_subdir(path) => "",
        _ => path,
    };
    let name = if path.is_empty() {
        host.unwrap_or_default()
    } else {
        path
    };
    (!name.is_empty()).then(|| name.to_owned())
}

/// What identifies a conda package, from whichever source.
#[derive(Debug, Default)]
pub(crate) struct CondaIdentity<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: Option<&'a str>,
    pub(crate) build: Option<&'a str>,
    pub(crate) build_number: Option<u64>,
    /// The channel as written (name or URL); credentials are removed before it is kept.
    pub(crate) channel: Option<&'a str>,
    pub(crate) subdir: Option<&'a str>,
    pub(crate) prefix: Option<&'a str>,
    pub(crate) spec: Option<&'a str>,
}

impl CondaIdentity<'_> {
    /// The purl: `pkg:conda/<name>@<version>` with `build`, `channel` and `subdir` qualifiers
    /// where known.
    pub(crate) fn purl(&self) -> Option<Purl> {
        let channel = self.channel.and_then(channel_name);
        Purl::builder(Ecosystem::Conda, self.name)
            .version(self.version)
            .qualifier("build", self.build)
            .qualifier("channel", channel.as_deref())
            .qualifier("subdir", self.subdir)
            .build()
    }

    /// A library component with this identity and `Metadata::Conda`.
    pub(crate) fn into_component(self, location: Location, found_by: &str) -> Component {
        let mut component = Component::package(
            Ecosystem::Conda,
            self.name,
            self.version,
            location,
            found_by,
        );
        component.purl = self.purl();
        component.metadata = Metadata::Conda(CondaPackage {
            channel: self.channel.map(channel_without_credentials),
            subdir: self.subdir.map(str::to_owned),
            build: self.build.map(str::to_owned),
            build_number: self.build_number,
            prefix: self.prefix.map(str::to_owned),
            spec: self.spec.map(str::to_owned),
        });
        component
    }
}

/// YAML parser settings for untrusted input: no alias bombs, bounded nesting, and one-line
/// error messages (the runner reports them as single-line warnings).
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    // Neither format uses anchors; a handful is tolerated for hand-written files.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 32;
    // A multi-platform lock of a large ML stack has a few hundred thousand nodes; the
    // default 250,000 is too tight, and the resolver already caps the file size.
    budget.max_nodes = 4_000_000;
    budget.max_events = 8_000_000;
    serde_saphyr::options! {
        budget: Some(budget),
        with_snippet: false,
    }
}

/// The 1-based line of a YAML location.
/// Parses an untrusted YAML document with [`yaml_options`]' budgets; a syntax error becomes
/// a [`bulwark_catalog::CatalogError`] at its line, its cause wrapped by `wrap`.
pub(crate) fn parse_yaml<T, E>(
    text: &str,
    wrap: impl FnOnce(serde_saphyr::Error) -> E,
) -> Result<T, bulwark_catalog::CatalogError>
where
    T: serde::de::DeserializeOwned,
    E: std::error::Error + Send + Sync + 'static,
{
    serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|error| {
        let line = error.location().as_ref().and_then(yaml_line);
        let error = bulwark_catalog::CatalogError::new(wrap(error));
        match line {
            Some(line) => error.at_line(line),
            None => error,
        }
    })
}

pub(crate) fn yaml_line(location: &serde_saphyr::Location) -> Option<u32> {
    u32::try_from(location.line()).ok().filter(|&line| line > 0)
}

/// The `pkg:pypi` purl of a Python distribution whose metadata directory (`numpy-1.26.4.dist-info`,
/// `PyYAML-6.0.1-py3.11.egg-info`) a conda package installs directly into `site-packages`.
///
/// Directory names escape `-` in names and versions as `_` (PEP 427 / setuptools), so the
/// first `-` separates name from version; the purl builder then normalizes `_` back to `-`.
pub(crate) fn python_distribution_purl(path: &str) -> Option<Purl> {
    let mut segments = path.split('/');
    segments
        .by_ref()
        .find(|s| s.eq_ignore_ascii_case("site-packages"))?;
    let directory = segments.next()?;
    let stem = directory
        .strip_suffix(".dist-info")
        .or_else(|| directory.strip_suffix(".egg-info"))?;
    let (name, rest) = stem.split_once('-')?;
    // egg-info names may carry `-py3.11` (and a platform) after the version.
    let version = rest.split('-').next()?;
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Purl::builder(Ecosystem::PyPI, name)
        .version(Some(version))
        .build()
}

/// Where a pip URL points: `git+https://host/repo@rev` is a VCS checkout, `file:` URLs and
/// paths are local, anything else a download. Credentials in the URL are dropped.
pub(crate) fn pip_url_source(url: &str) -> PackageSource {
    let url = url.trim();
    let vcs_split = ["git", "hg", "svn", "bzr"].into_iter().find_map(|vcs| {
        url.strip_prefix(vcs)
            .and_then(|rest| rest.strip_prefix('+'))
            .map(|rest| (vcs, rest))
    });
    if let Some((vcs, rest)) = vcs_split {
        let rest = rest.split('#').next().unwrap_or(rest);
        // The revision follows the last `@` of the path; an `@` before the path is user info.
        let path_start = rest.find("://").map_or(0, |scheme_end| scheme_end + 3);
        let path_start = rest[path_start..]
            .find('/')
            .map_or(rest.len(), |slash| path_start + slash);
        let (repository, revision) = match rest[path_start..].rfind('@') {
            Some(at) => (
                &rest[..path_start + at],
                Some(&rest[path_start + at + 1..]).filter(|r| !r.is_empty()),
            ),
            None => (rest, None),
        };
        let is_commit =
            |r: &&str| matches!(r.len(), 40 | 64) && r.bytes().all(|b| b.is_ascii_hexdigit());
        return PackageSource::Vcs {
            vcs: vcs.to_owned(),
            url: channel_without_credentials(repository),
            requested_revision: revision.map(str::to_owned),
            commit: revision.filter(is_commit).map(str::to_owned),
        };
    }
    if let Some(path) = url.strip_prefix("file://") {
        return PackageSource::Path {
            path: path.to_owned(),
            editable: false,
        };
    }
    if url.contains("://") {
        return PackageSource::Url {
            url: channel_without_credentials(url),
        };
    }
    PackageSource::Path {
        path: url.to_owned(),
        editable: false,
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::fmt::Write as _;
    use std::path::PathBuf;

    use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef};
    use bulwark_inventory::{Metadata, PackageSource, Scope};

    pub(crate) fn testdata(folder: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(folder)
    }

    pub(crate) fn catalog_fixture(
        cataloger: &dyn Cataloger,
        folder: &str,
        file: &str,
    ) -> Result<CatalogOutput, CatalogError> {
        let resolver = DirResolver::new(testdata(folder));
        cataloger.catalog(
            &FileRef {
                path: file,
                explicit: false,
            },
            &resolver,
        )
    }

    /// One line per component, then the edges and dependency requests, for snapshots.
    pub(crate) fn listing(output: &CatalogOutput) -> String {
        let mut out = String::new();
        for c in &output.components {
            let _ = write!(
                out,
                "{:?} {} {}@{} {}",
                c.kind,
                c.ecosystem.map_or("-", |e| e.as_str()),
                c.name,
                c.version.as_deref().unwrap_or("-"),
                c.purl.as_ref().map_or("-", |p| p.as_str()),
            );
            let _ = write!(
                out,
                " {}",
                match c.scope {
                    Scope::Required => "required",
                    Scope::Optional => "optional",
                    Scope::Development => "development",
                }
            );
            for alias in &c.also_known_as {
                let _ = write!(out, " aka={alias}");
            }
            match &c.metadata {
                Metadata::Conda(conda) => {
                    if let Some(channel) = &conda.channel {
                        let _ = write!(out, " channel={channel}");
                    }
                    if let Some(build_number) = conda.build_number {
                        let _ = write!(out, " build_number={build_number}");
                    }
                    if let Some(prefix) = &conda.prefix {
                        let _ = write!(out, " prefix={prefix:?}");
                    }
                    if let Some(spec) = &conda.spec {
                        let _ = write!(out, " spec={spec:?}");
                    }
                }
                Metadata::PythonRequirement(requirement) => {
                    if !requirement.specifier.is_empty() {
                        let _ = write!(out, " specifier={:?}", requirement.specifier);
                    }
                    if !requirement.extras.is_empty() {
                        let _ = write!(out, " extras={}", requirement.extras.join(","));
                    }
                    if let Some(marker) = &requirement.marker {
                        let _ = write!(out, " marker={marker:?}");
                    }
                }
                _ => {}
            }
            match &c.source {
                Some(PackageSource::Registry { url }) => {
                    let _ = write!(out, " registry={url}");
                }
                Some(PackageSource::Url { url }) => {
                    let _ = write!(out, " url={url}");
                }
                Some(PackageSource::Vcs {
                    vcs, url, commit, ..
                }) => {
                    let _ = write!(
                        out,
                        " {vcs}={url} commit={}",
                        commit.as_deref().unwrap_or("-")
                    );
                }
                Some(PackageSource::Path { path, .. }) => {
                    let _ = write!(out, " path={path}");
                }
                None => {}
            }
            for hash in &c.hashes {
                let _ = write!(out, " {}", hash.algorithm.cyclonedx_name());
            }
            for license in &c.licenses {
                let _ = write!(out, " license={}", license.as_str());
            }
            if !c.files.is_empty() {
                let _ = write!(out, " files={}", c.files.len());
            }
            for location in &c.locations {
                let _ = write!(out, " {}", location.path);
                if let Some(line) = location.line {
                    let _ = write!(out, ":{line}");
                }
            }
            out.push('\n');
        }
        if !output.relationships.is_empty() {
            out.push_str("--- edges\n");
            let mut edges: Vec<String> = output
                .relationships
                .iter()
                .map(|r| format!("{} -> {}", r.from, r.to))
                .collect();
            edges.sort();
            for edge in edges {
                let _ = writeln!(out, "{edge}");
            }
        }
        if !output.requests.is_empty() {
            out.push_str("--- requests\n");
            for request in &output.requests {
                let _ = writeln!(
                    out,
                    "{} -> {} {} within {:?}",
                    request.from,
                    request.ecosystem.as_str(),
                    request.name,
                    request.within
                );
            }
        }
        if !output.problems.is_empty() {
            out.push_str("--- problems\n");
            for problem in &output.problems {
                let _ = writeln!(out, "{problem}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names() {
        let cases = [
            ("conda-forge", "conda-forge"),
            ("pkgs/main", "pkgs/main"),
            ("https://conda.registry.invalid/conda-forge", "conda-forge"),
            (
                "https://conda.registry.invalid/conda-forge/linux-64/",
                "conda-forge",
            ),
            ("https://conda.registry.invalid/pkgs/main", "pkgs/main"),
            (
                "https://user:secret@conda.registry.invalid/t/tk-123/internal/noarch",
                "internal",
            ),
            (
                "https://channel.registry.invalid",
                "channel.registry.invalid",
            ),
        ];
        for (channel, name) in cases {
            assert_eq!(channel_name(channel).as_deref(), Some(name), "{channel}");
        }
    }

    #[test]
    fn credentials_are_removed_from_kept_channels() {
        assert_eq!(
            channel_without_credentials(
                "https://user:secret@conda.registry.invalid/t/tk-123/internal/"
            ),
            "https://conda.registry.invalid/internal"
        );
        assert_eq!(channel_without_credentials("conda-forge"), "conda-forge");
    }

    #[test]
    fn python_distribution_purls() {
        let purl = |path: &str| python_distribution_purl(path).map(|p| p.as_str().to_owned());
        assert_eq!(
            purl("lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA").as_deref(),
            Some("pkg:pypi/numpy@1.26.4")
        );
        assert_eq!(
            purl("Lib/site-packages/typing_extensions-4.9.0.dist-info/RECORD").as_deref(),
            Some("pkg:pypi/typing-extensions@4.9.0")
        );
        assert_eq!(
            purl("lib/python3.11/site-packages/PyYAML-6.0.1-py3.11.egg-info/PKG-INFO").as_deref(),
            Some("pkg:pypi/pyyaml@6.0.1")
        );
        assert_eq!(
            purl("lib/python3.11/site-packages/pip/_vendor/rich-13.0.dist-info/METADATA"),
            None
        );
        assert_eq!(purl("lib/libz.so.1"), None);
    }
}

/// Whether a file name ends in `.yml` or `.yaml`, in any case, without allocating.
pub(crate) fn is_yaml_name(name: &str) -> bool {
    let name = name.as_bytes();
    [&b".yml"[..], &b".yaml"[..]].iter().any(|suffix| {
        name.len() >= suffix.len() && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    })
}
