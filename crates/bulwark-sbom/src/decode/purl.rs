//! From a purl read in an SBOM to bulwark's ecosystem, name and version.

use bulwark_inventory::{Ecosystem, PackageName, Purl};
use packageurl::PackageUrl;

/// What a purl says about a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    /// The canonical purl.
    pub(super) purl: Purl,
    /// The ecosystem, when bulwark knows the purl type (and, for distributions, the distro).
    pub(super) ecosystem: Option<Ecosystem>,
    /// The package name as the ecosystem spells it (Maven `group:artifact`, Go module path).
    pub(super) name: String,
    /// The percent-decoded version, with an `epoch` qualifier put back in front.
    pub(super) version: Option<String>,
    /// Whether the purl type is a distribution's package manager (deb, rpm, apk, alpm).
    pub(super) is_os_package: bool,
}

/// Parses `text`; the error is the parser's message.
pub(super) fn identify(text: &str) -> Result<Identity, String> {
    let parsed: PackageUrl<'_> = text.trim().parse().map_err(|e| format!("{e}"))?;
    let purl = Purl::parse(text.trim()).ok_or_else(|| "not a valid package URL".to_owned())?;
    let ty = parsed.ty();
    let namespace = parsed.namespace().filter(|n| !n.is_empty());
    let qualifier = |key: &str| {
        parsed
            .qualifiers()
            .get(key)
            .map(|v| v.as_ref())
            .filter(|v| !v.is_empty())
    };
    let ecosystem = ecosystem(ty, namespace, qualifier("distro"));
    let name = match (ty, namespace) {
        ("maven", Some(group)) => format!("{group}:{}", parsed.name()),
        ("npm", Some(scope)) if !scope.starts_with('@') => format!("@{scope}/{}", parsed.name()),
        ("npm" | "golang" | "composer", Some(namespace)) => {
            format!("{namespace}/{}", parsed.name())
        }
        _ => parsed.name().to_owned(),
    };
    let mut version = parsed
        .version()
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    if matches!(ty, "rpm" | "deb")
        && let (Some(epoch), Some(v)) = (qualifier("epoch"), version.as_mut())
        && !v.contains(':')
        && epoch != "0"
    {
        *v = format!("{epoch}:{v}");
    }
    Ok(Identity {
        purl,
        ecosystem,
        name,
        version,
        is_os_package: matches!(ty, "deb" | "rpm" | "apk" | "alpm"),
    })
}

fn ecosystem(ty: &str, namespace: Option<&str>, distro: Option<&str>) -> Option<Ecosystem> {
    Some(match ty {
        "pypi" => Ecosystem::PyPI,
        "conda" => Ecosystem::Conda,
        "npm" => Ecosystem::Npm,
        "cargo" => Ecosystem::CratesIo,
        "golang" => Ecosystem::Go,
        "maven" => Ecosystem::Maven,
        "nuget" => Ecosystem::NuGet,
        "gem" => Ecosystem::RubyGems,
        "composer" => Ecosystem::Packagist,
        "pub" => Ecosystem::Pub,
        "hackage" => Ecosystem::Hackage,
        "hex" => Ecosystem::Hex,
        "cran" => Ecosystem::Cran,
        "conan" => Ecosystem::ConanCenter,
        "deb" | "apk" | "rpm" => return distribution(ty, namespace, distro),
        _ => return None,
    })
}

/// The distribution of an OS package: the namespace names the vendor (`debian`, `ubuntu`,
/// `alpine`, `redhat`, ...); the `distro` qualifier (`ubuntu-22.04`, `alpine-3.19`) is asked
/// when the namespace says nothing.
fn distribution(ty: &str, namespace: Option<&str>, distro: Option<&str>) -> Option<Ecosystem> {
    let candidates = [namespace, distro.map(distro_name)];
    candidates
        .into_iter()
        .flatten()
        .find_map(|vendor| vendor_ecosystem(ty, &vendor.to_ascii_lowercase()))
}

/// `ubuntu-22.04` → `ubuntu`, `rhel-9` → `rhel`.
fn distro_name(distro: &str) -> &str {
    distro.split(['-', ':', '@']).next().unwrap_or(distro)
}

fn vendor_ecosystem(ty: &str, vendor: &str) -> Option<Ecosystem> {
    Some(match (ty, vendor) {
        ("deb", "debian") => Ecosystem::Debian,
        ("deb", "ubuntu") => Ecosystem::Ubuntu,
        ("apk", "alpine") => Ecosystem::Alpine,
        ("apk", "wolfi") => Ecosystem::Wolfi,
        ("apk", "chainguard") => Ecosystem::Chainguard,
        ("rpm", "redhat" | "rhel") => Ecosystem::RedHat,
        ("rpm", "rocky" | "rockylinux") => Ecosystem::RockyLinux,
        ("rpm", "almalinux" | "alma") => Ecosystem::AlmaLinux,
        ("rpm", v) if v.starts_with("opensuse") => Ecosystem::OpenSuse,
        ("rpm", "suse" | "sles" | "sle") => Ecosystem::Suse,
        _ => return None,
    })
}

/// The name to show: the document's own spelling when it names the same package as the purl
/// (`Jinja2` for `pkg:pypi/jinja2`, `core` in group `@babel`), else the purl's.
pub(super) fn display_name(identity: &Identity, name: Option<&str>, group: Option<&str>) -> String {
    let (Some(ecosystem), Some(name)) = (identity.ecosystem, name.filter(|n| !n.is_empty())) else {
        return identity.name.clone();
    };
    let wanted = PackageName::new(ecosystem, &identity.name);
    let separator = if ecosystem == Ecosystem::Maven {
        ":"
    } else {
        "/"
    };
    let grouped = group
        .filter(|g| !g.is_empty())
        .map(|group| format!("{group}{separator}{name}"));
    [Some(name.to_owned()), grouped]
        .into_iter()
        .flatten()
        .find(|candidate| PackageName::new(ecosystem, candidate) == wanted)
        .unwrap_or_else(|| identity.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> (Option<Ecosystem>, String, Option<String>) {
        let identity = identify(text).unwrap();
        (identity.ecosystem, identity.name, identity.version)
    }

    #[test]
    fn ecosystems_names_and_versions() {
        let cases: &[(&str, Option<Ecosystem>, &str, Option<&str>)] = &[
            (
                "pkg:pypi/torch@2.2.0%2Bcu121",
                Some(Ecosystem::PyPI),
                "torch",
                Some("2.2.0+cu121"),
            ),
            (
                "pkg:pypi/torch@2.2.0+cu121",
                Some(Ecosystem::PyPI),
                "torch",
                Some("2.2.0+cu121"),
            ),
            (
                "pkg:npm/%40babel/core@7.0.0",
                Some(Ecosystem::Npm),
                "@babel/core",
                Some("7.0.0"),
            ),
            (
                "pkg:npm/babel/core@7.0.0",
                Some(Ecosystem::Npm),
                "@babel/core",
                Some("7.0.0"),
            ),
            (
                "pkg:cargo/serde@1.0.0",
                Some(Ecosystem::CratesIo),
                "serde",
                Some("1.0.0"),
            ),
            (
                "pkg:golang/github.com/pkg/errors@v0.9.1",
                Some(Ecosystem::Go),
                "github.com/pkg/errors",
                Some("v0.9.1"),
            ),
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                Some(Ecosystem::Maven),
                "org.apache.logging.log4j:log4j-core",
                Some("2.14.1"),
            ),
            (
                "pkg:gem/rails@7.0.0",
                Some(Ecosystem::RubyGems),
                "rails",
                Some("7.0.0"),
            ),
            (
                "pkg:nuget/Newtonsoft.Json@13.0.1",
                Some(Ecosystem::NuGet),
                "Newtonsoft.Json",
                Some("13.0.1"),
            ),
            (
                "pkg:composer/symfony/http-kernel@6.0.0",
                Some(Ecosystem::Packagist),
                "symfony/http-kernel",
                Some("6.0.0"),
            ),
            (
                "pkg:pub/http@1.0.0",
                Some(Ecosystem::Pub),
                "http",
                Some("1.0.0"),
            ),
            (
                "pkg:hackage/aeson@2.0.0",
                Some(Ecosystem::Hackage),
                "aeson",
                Some("2.0.0"),
            ),
            (
                "pkg:hex/phoenix@1.7.0",
                Some(Ecosystem::Hex),
                "phoenix",
                Some("1.7.0"),
            ),
            (
                "pkg:cran/ggplot2@3.4.0",
                Some(Ecosystem::Cran),
                "ggplot2",
                Some("3.4.0"),
            ),
            (
                "pkg:conan/openssl@3.0.0",
                Some(Ecosystem::ConanCenter),
                "openssl",
                Some("3.0.0"),
            ),
            (
                "pkg:conda/numpy@1.26.4?channel=conda-forge",
                Some(Ecosystem::Conda),
                "numpy",
                Some("1.26.4"),
            ),
            (
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
                Some(Ecosystem::Debian),
                "libc6",
                Some("2.36-9+deb12u4"),
            ),
            (
                "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?distro=ubuntu-22.04",
                Some(Ecosystem::Ubuntu),
                "libssl3",
                Some("3.0.2-0ubuntu1.10"),
            ),
            (
                "pkg:deb/libc6@2.36?distro=ubuntu-22.04",
                Some(Ecosystem::Ubuntu),
                "libc6",
                Some("2.36"),
            ),
            ("pkg:deb/raspbian/libc6@2.36", None, "libc6", Some("2.36")),
            (
                "pkg:apk/alpine/musl@1.2.4-r2?distro=3.18.4",
                Some(Ecosystem::Alpine),
                "musl",
                Some("1.2.4-r2"),
            ),
            (
                "pkg:apk/wolfi/glibc@2.38-r1",
                Some(Ecosystem::Wolfi),
                "glibc",
                Some("2.38-r1"),
            ),
            (
                "pkg:apk/chainguard/glibc@2.38-r1",
                Some(Ecosystem::Chainguard),
                "glibc",
                Some("2.38-r1"),
            ),
            (
                "pkg:rpm/redhat/openssl@3.0.7-16.el9?epoch=1&arch=x86_64",
                Some(Ecosystem::RedHat),
                "openssl",
                Some("1:3.0.7-16.el9"),
            ),
            (
                "pkg:rpm/rocky/bash@5.1.8-6.el9",
                Some(Ecosystem::RockyLinux),
                "bash",
                Some("5.1.8-6.el9"),
            ),
            (
                "pkg:rpm/almalinux/bash@5.1.8",
                Some(Ecosystem::AlmaLinux),
                "bash",
                Some("5.1.8"),
            ),
            (
                "pkg:rpm/opensuse/bash@5.1",
                Some(Ecosystem::OpenSuse),
                "bash",
                Some("5.1"),
            ),
            (
                "pkg:rpm/suse/bash@5.1",
                Some(Ecosystem::Suse),
                "bash",
                Some("5.1"),
            ),
            ("pkg:rpm/centos/bash@5.1?epoch=0", None, "bash", Some("5.1")),
            ("pkg:generic/openssl@3.0.0", None, "openssl", Some("3.0.0")),
            (
                "pkg:github/pytorch/pytorch@v2.1.0",
                None,
                "pytorch",
                Some("v2.1.0"),
            ),
            ("pkg:pypi/requests", Some(Ecosystem::PyPI), "requests", None),
        ];
        for (text, ecosystem, name, version) in cases {
            assert_eq!(
                id(text),
                (*ecosystem, (*name).to_owned(), version.map(str::to_owned)),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_purls_are_errors() {
        assert!(identify("pypi/numpy@1.0").is_err());
        assert!(identify("pkg:pypi").is_err());
        assert!(identify("").is_err());
    }

    #[test]
    fn display_names() {
        let jinja = identify("pkg:pypi/jinja2@3.1.2").unwrap();
        assert_eq!(display_name(&jinja, Some("Jinja2"), None), "Jinja2");
        assert_eq!(display_name(&jinja, Some("flask"), None), "jinja2");
        let log4j = identify("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
        assert_eq!(
            display_name(&log4j, Some("log4j-core"), Some("org.apache.logging.log4j")),
            "org.apache.logging.log4j:log4j-core"
        );
        let babel = identify("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(
            display_name(&babel, Some("core"), Some("@babel")),
            "@babel/core"
        );
    }
}
