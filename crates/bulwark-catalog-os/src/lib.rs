//! Catalogers for operating-system package databases: dpkg (`var/lib/dpkg/status` and the
//! distroless `var/lib/dpkg/status.d/`), apk (`lib/apk/db/installed`) and rpm (`rpmdb.sqlite`,
//! Berkeley DB `Packages` and NDB `Packages.db` under `var/lib/rpm` or
//! `usr/lib/sysimage/rpm`, read without librpm).
//!
//! Every package becomes a [`ComponentKind::OsPackage`](bulwark_inventory::ComponentKind)
//! with a `pkg:deb/...`, `pkg:apk/...` or `pkg:rpm/...` purl whose `distro=` qualifier comes
//! from the `os-release` file of the root filesystem the database belongs to (the path prefix
//! before `var/lib/dpkg`, `lib/apk` or the rpm database directory). Source package names and
//! versions are kept in [`OsPackage`](bulwark_inventory::OsPackage) metadata, because
//! distribution advisories are keyed by source package.
//!
//! Installed files (dpkg `info/<name>.list` and `.md5sums`, apk `F`/`R`/`Z` lines, rpm
//! `BASENAMES`/`DIRNAMES` with `FILEDIGESTS`) become the component's files, which lets
//! [`Inventory::assemble`] fold a Python distribution that the OS package installed
//! (`python3-numpy`'s `dist-info`) into the OS package instead of counting it twice.
//!
//! [`Inventory::assemble`]: bulwark_inventory::Inventory::assemble

mod apk;
mod dpkg;
mod rpm;

use std::error::Error as StdError;

use bulwark_catalog::{CatalogError, Cataloger, Resolver};
use bulwark_inventory::{ComponentId, DependencyRequest, Ecosystem, PackageName, Problem};

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(dpkg::DpkgCataloger),
        Box::new(apk::ApkCataloger),
        Box::new(rpm::RpmCataloger),
    ]
}

/// The fields of `os-release(5)` that name a distribution release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OsRelease {
    /// `ID`, lowercase (`debian`, `ubuntu`, `alpine`).
    pub(crate) id: Option<String>,
    /// `ID_LIKE`, split on whitespace.
    pub(crate) id_like: Vec<String>,
    /// `VERSION_ID` (`12`, `22.04`, `3.19.1`).
    pub(crate) version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`).
    pub(crate) version_codename: Option<String>,
}

impl OsRelease {
    /// Parses `KEY=value` lines; values may be single- or double-quoted.
    pub(crate) fn parse(text: &str) -> Self {
        let mut release = Self::default();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            if value.is_empty() {
                continue;
            }
            match key.trim() {
                "ID" => release.id = Some(value.to_ascii_lowercase()),
                "ID_LIKE" => {
                    release.id_like = value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect();
                }
                "VERSION_ID" => release.version_id = Some(value.to_owned()),
                "VERSION_CODENAME" => release.version_codename = Some(value.to_owned()),
                _ => {}
            }
        }
        release
    }

    /// Whether `path` is an `os-release` file that [`read`](Self::read) may open: catalogers
    /// list it among the files they read, so image scans keep it.
    pub(crate) fn is_os_release(path: &str) -> bool {
        ["etc/os-release", "usr/lib/os-release"]
            .iter()
            .any(|candidate| {
                path.strip_suffix(candidate)
                    .is_some_and(|root| root.is_empty() || root.ends_with('/'))
            })
    }

    /// Reads `<root>etc/os-release`, else `<root>usr/lib/os-release`; `None` when neither
    /// exists or is readable. `root` is empty or ends with `/`.
    pub(crate) fn read(resolver: &dyn Resolver, root: &str) -> Option<Self> {
        ["etc/os-release", "usr/lib/os-release"]
            .iter()
            .find_map(|candidate| {
                let bytes = resolver.read(&format!("{root}{candidate}")).ok()?;
                Some(Self::parse(&String::from_utf8_lossy(&bytes)))
            })
    }

    /// `<ID>-<VERSION_ID>` (`debian-12`), falling back to the codename (`debian-trixie` on a
    /// testing release without `VERSION_ID`); `None` without an `ID`.
    pub(crate) fn distro(&self) -> Option<String> {
        let id = self.id.as_deref()?;
        let version = self
            .version_id
            .as_deref()
            .or(self.version_codename.as_deref())?;
        Some(format!("{id}-{version}"))
    }

    /// Whether the distribution is `id` or declares itself like it.
    pub(crate) fn is_like(&self, id: &str) -> bool {
        self.id.as_deref() == Some(id) || self.id_like.iter().any(|like| like == id)
    }
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// The root filesystem prefix of `path` when it ends with `suffix` (`""` or `<prefix>/`).
pub(crate) fn root_before<'a>(path: &'a str, suffix: &str) -> Option<&'a str> {
    let prefix = path.strip_suffix(suffix)?;
    (prefix.is_empty() || prefix.ends_with('/')).then_some(prefix)
}

/// A recoverable problem at a line of `path`.
pub(crate) fn problem(
    path: &str,
    line: u32,
    cataloger: &str,
    error: impl StdError + Send + Sync + 'static,
) -> Problem {
    Problem {
        path: path.to_owned(),
        line: Some(line),
        cataloger: Some(cataloger.to_owned()),
        message: CatalogError::new(error).render(),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! An in-memory [`Resolver`] and fixture helpers.

    use bulwark_catalog::{CatalogOutput, Cataloger, FileRef, Resolver};

    pub(crate) use bulwark_catalog::testing::MemoryResolver as MemResolver;

    /// Runs `cataloger` on `path` if it wants it; an empty output otherwise.
    pub(crate) fn run(
        cataloger: &dyn Cataloger,
        resolver: &dyn Resolver,
        path: &str,
    ) -> CatalogOutput {
        let file = FileRef {
            path,
            explicit: false,
        };
        if !cataloger.wants(&file) {
            return CatalogOutput::default();
        }
        cataloger
            .catalog(&file, resolver)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The fixture folder of this crate.
    pub(crate) fn testdata(relative: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(relative)
    }

    /// `(fixture, test name, want_error, [(name, version)])` rows of an `EXPECTED.json`.
    pub(crate) type ExpectedCase = (String, String, bool, Vec<(String, String)>);

    pub(crate) fn expected_cases(relative: &str) -> Vec<ExpectedCase> {
        let text = fs_err::read_to_string(testdata(relative)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut rows = Vec::new();
        for (fixture, cases) in json["expected"].as_object().unwrap() {
            for case in cases.as_array().unwrap() {
                let packages = case["packages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap().to_owned(),
                            p["version"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect();
                rows.push((
                    fixture.clone(),
                    case["test"].as_str().unwrap().to_owned(),
                    case.get("want_error").is_some(),
                    packages,
                ));
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_fields() {
        let release = OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n\
             VERSION_CODENAME=bookworm\nID_LIKE='ubuntu debian'\n",
        );
        assert_eq!(release.id.as_deref(), Some("debian"));
        assert_eq!(release.version_id.as_deref(), Some("12"));
        assert_eq!(release.version_codename.as_deref(), Some("bookworm"));
        assert_eq!(release.distro().as_deref(), Some("debian-12"));
        assert!(release.is_like("ubuntu"));
        let testing = OsRelease::parse("ID=debian\nVERSION_CODENAME=trixie\n");
        assert_eq!(testing.distro().as_deref(), Some("debian-trixie"));
        assert_eq!(OsRelease::parse("VERSION_ID=1").distro(), None);
    }

    #[test]
    fn roots() {
        assert_eq!(
            root_before("var/lib/dpkg/status", "var/lib/dpkg/status"),
            Some("")
        );
        assert_eq!(
            root_before("img/var/lib/dpkg/status", "var/lib/dpkg/status"),
            Some("img/")
        );
        assert_eq!(
            root_before("xvar/lib/dpkg/status", "var/lib/dpkg/status"),
            None
        );
    }
}

/// One request per dependency name, resolved after the walk among the packages of the same
/// root filesystem.
pub(crate) fn dependency_requests<'a>(
    from: &'a ComponentId,
    ecosystem: Ecosystem,
    names: impl IntoIterator<Item = &'a str> + 'a,
    root: &'a str,
) -> impl Iterator<Item = DependencyRequest> + 'a {
    names.into_iter().map(move |name| DependencyRequest {
        from: from.clone(),
        ecosystem,
        name: PackageName::new(ecosystem, name),
        within: Some(root.to_owned()),
    })
}
