//! Package ecosystems, spelled exactly as the OSV schema spells them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A package ecosystem. [`Ecosystem::as_str`] and [`FromStr`] round-trip the exact OSV spelling
/// (`"PyPI"`, `"crates.io"`, `"Red Hat"`), so an ecosystem is never passed around as a raw string.
///
/// [`Ecosystem::Conda`] is the one variant OSV does not define: conda packages have a purl type
/// but no advisory feed, so they are matched through their PyPI identity where they have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Ecosystem {
    /// Python Package Index.
    PyPI,
    /// conda channels (not an OSV ecosystem).
    Conda,
    /// npm registry.
    Npm,
    /// Rust crates.
    CratesIo,
    /// Go modules.
    Go,
    /// Maven Central and compatible repositories.
    Maven,
    /// NuGet.
    NuGet,
    /// RubyGems.
    RubyGems,
    /// Composer / Packagist.
    Packagist,
    /// Dart and Flutter packages.
    Pub,
    /// Haskell packages.
    Hackage,
    /// Erlang and Elixir packages.
    Hex,
    /// R packages.
    Cran,
    /// C/C++ packages from ConanCenter.
    ConanCenter,
    /// Debian packages.
    Debian,
    /// Ubuntu packages.
    Ubuntu,
    /// Alpine packages.
    Alpine,
    /// Red Hat Enterprise Linux packages.
    RedHat,
    /// Rocky Linux packages.
    RockyLinux,
    /// AlmaLinux packages.
    AlmaLinux,
    /// openSUSE packages.
    OpenSuse,
    /// SUSE Linux Enterprise packages.
    Suse,
    /// Wolfi packages.
    Wolfi,
    /// Chainguard packages.
    Chainguard,
}

impl Ecosystem {
    /// Every ecosystem, in declaration order.
    pub const ALL: &'static [Self] = &[
        Self::PyPI,
        Self::Conda,
        Self::Npm,
        Self::CratesIo,
        Self::Go,
        Self::Maven,
        Self::NuGet,
        Self::RubyGems,
        Self::Packagist,
        Self::Pub,
        Self::Hackage,
        Self::Hex,
        Self::Cran,
        Self::ConanCenter,
        Self::Debian,
        Self::Ubuntu,
        Self::Alpine,
        Self::RedHat,
        Self::RockyLinux,
        Self::AlmaLinux,
        Self::OpenSuse,
        Self::Suse,
        Self::Wolfi,
        Self::Chainguard,
    ];

    /// The OSV spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PyPI => "PyPI",
            Self::Conda => "conda",
            Self::Npm => "npm",
            Self::CratesIo => "crates.io",
            Self::Go => "Go",
            Self::Maven => "Maven",
            Self::NuGet => "NuGet",
            Self::RubyGems => "RubyGems",
            Self::Packagist => "Packagist",
            Self::Pub => "Pub",
            Self::Hackage => "Hackage",
            Self::Hex => "Hex",
            Self::Cran => "CRAN",
            Self::ConanCenter => "ConanCenter",
            Self::Debian => "Debian",
            Self::Ubuntu => "Ubuntu",
            Self::Alpine => "Alpine",
            Self::RedHat => "Red Hat",
            Self::RockyLinux => "Rocky Linux",
            Self::AlmaLinux => "AlmaLinux",
            Self::OpenSuse => "openSUSE",
            Self::Suse => "SUSE",
            Self::Wolfi => "Wolfi",
            Self::Chainguard => "Chainguard",
        }
    }

    /// The package-url type used for this ecosystem's purls.
    pub const fn purl_type(self) -> &'static str {
        match self {
            Self::PyPI => "pypi",
            Self::Conda => "conda",
            Self::Npm => "npm",
            Self::CratesIo => "cargo",
            Self::Go => "golang",
            Self::Maven => "maven",
            Self::NuGet => "nuget",
            Self::RubyGems => "gem",
            Self::Packagist => "composer",
            Self::Pub => "pub",
            Self::Hackage => "hackage",
            Self::Hex => "hex",
            Self::Cran => "cran",
            Self::ConanCenter => "conan",
            Self::Debian | Self::Ubuntu => "deb",
            Self::Alpine | Self::Wolfi | Self::Chainguard => "apk",
            Self::RedHat | Self::RockyLinux | Self::AlmaLinux | Self::OpenSuse | Self::Suse => {
                "rpm"
            }
        }
    }

    /// Whether OSV publishes advisories for this ecosystem.
    pub const fn is_osv(self) -> bool {
        !matches!(self, Self::Conda)
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string named no ecosystem bulwark knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ecosystem `{name}`{}", hint.map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
pub struct UnknownEcosystem {
    name: String,
    hint: Option<&'static str>,
}

impl FromStr for Ecosystem {
    type Err = UnknownEcosystem;

    /// Parses the exact OSV spelling. A release suffix (`Debian:12`) is not part of the
    /// ecosystem and is rejected here; split it off first.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(found) = Self::ALL.iter().find(|e| e.as_str() == s) {
            return Ok(*found);
        }
        let hint = Self::ALL
            .iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s))
            .map(|e| e.as_str());
        Err(UnknownEcosystem {
            name: s.to_owned(),
            hint,
        })
    }
}

impl Serialize for Ecosystem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Ecosystem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_spelling_round_trips() {
        for ecosystem in Ecosystem::ALL {
            assert_eq!(ecosystem.as_str().parse::<Ecosystem>(), Ok(*ecosystem));
        }
    }

    #[test]
    fn wrong_case_gets_a_hint() {
        let err = "pypi".parse::<Ecosystem>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown ecosystem `pypi` (did you mean `PyPI`?)"
        );
        assert!("Debian:12".parse::<Ecosystem>().is_err());
    }
}
