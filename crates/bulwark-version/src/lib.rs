//! Exact version ordering for every package ecosystem bulwark matches against OSV.
//!
//! Each ecosystem orders versions by its own rules; a version range from an advisory is only
//! right when it is evaluated with the same rules as the tool that published the package.
//! [`Scheme`] names each rule set, [`Scheme::for_ecosystem`] picks the one for an
//! [`Ecosystem`], [`parse`] reads a string once into a [`Version`], and [`compare`] /
//! [`compare_in`] order two strings.
//!
//! Parse once, compare many times: a parsed [`Version`] compares without allocating and
//! without regular expressions.
//!
//! # Traps, by ecosystem
//!
//! - **PyPI (PEP 440)**: versions are normalised before they compare: `1.0` = `1.0.0` =
//!   `v1.0`, `1.0c1` = `1.0rc1`, `1.0-1` = `1.0.post1`, `1.0.alpha.1` = `1.0a1`. `1.0.dev1 < 1.0a1 < 1.0 < 1.0+local < 1.0.post1`. Strings that are
//!   not PEP 440 at all (`0.9-doduo`) sort before every PEP 440 version, by the old setuptools
//!   `LegacyVersion` key, as the OSV data generator did.
//! - **npm, crates.io, Hex (SemVer 2.0)**: build metadata (`+build`) never affects precedence,
//!   so `1.2.3+a` = `1.2.3+b`. Prerelease identifiers compare numerically only when all digits
//!   (`-a.5 < -a.10`) and by ASCII otherwise (`-r100 < -r2`, `-R2 < -r100`). A leading `v` is
//!   accepted. Numbers are limited to `u64`, as in node-semver (2^53) and Cargo.
//! - **Go**: module versions are SemVer with a `v`; OSV spells them without. `+incompatible`
//!   is build metadata and is ignored; pseudo-versions (`v0.0.0-20240101000000-abcdef123456`)
//!   are prereleases, so they sort before the release they precede. `v1.2` means `v1.2.0`.
//! - **Maven**: `ComparableVersion` semantics: `-` and `.` both separate, a letter–digit
//!   change is a separator too, trailing zeros and release qualifiers vanish
//!   (`1.0.0` = `1` = `1-ga` = `1-final`), qualifiers order
//!   `alpha < beta < milestone < rc = cr < snapshot < "" < sp < unknown (lexical)`, and
//!   `a1`/`b1`/`m1` mean `alpha-1`/`beta-1`/`milestone-1` only when a digit follows.
//!   `1-1 < 1.1` because a `-` list sorts before a number.
//! - **Debian, Ubuntu (dpkg)**: `epoch:upstream-revision`; `~` sorts before everything, even
//!   the end of the string (`1.0~rc1 < 1.0`); letters sort before other symbols; a missing
//!   revision equals `-0`.
//! - **Red Hat family (rpm)**: `rpmvercmp` on epoch, version and release; `~` sorts before the
//!   end, `^` after it but before any further segment; separators only separate
//!   (`2_0` = `2.0`); a numeric segment beats an alphabetic one.
//! - **Alpine, Wolfi, Chainguard (apk)**: `1.2.3a_rc1_p2~hash-r4`; suffixes order
//!   `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`; a component after
//!   the first that starts with `0` compares as a decimal fraction (`1.02 < 1.1`).
//! - **RubyGems**: segments split at dots and letter–digit changes; any letter makes a
//!   prerelease (`1.0.a < 1.0`), strings sort before numbers, trailing zeros vanish.
//! - **NuGet**: up to four numeric parts (`1.0` = `1.0.0.0`), leading zeros allowed,
//!   prerelease labels compare case-insensitively, metadata is ignored.
//! - **Packagist (Composer)**: PHP `version_compare` after dropping a leading `v`: special forms
//!   `dev < alpha = a < beta = b < RC = rc < (number) < pl = p`, unknown words lowest.
//! - **Pub (Dart)**: SemVer, but build metadata *does* order: `1.0.0 < 1.0.0+1`.
//! - **Hackage, CRAN**: lists of integers (CRAN also splits at `-`); a longer list is greater
//!   (`1.0 < 1.0.0`).

mod apk;
mod composer;
mod dpkg;
mod error;
mod maven;
mod nuget;
mod number;
mod numeric_list;
mod pep440;
mod pub_semver;
mod rpm;
mod rubygems;
mod semver_family;

use std::cmp::Ordering;
use std::fmt;

use bulwark_inventory::Ecosystem;

pub use apk::ApkVersion;
pub use composer::ComposerVersion;
pub use dpkg::DpkgVersion;
pub use error::{CompareError, ParseErrorKind, VersionParseError};
pub use maven::MavenVersion;
pub use nuget::NuGetVersion;
pub use numeric_list::NumericListVersion;
pub use pep440::{LegacyVersion, Pep440Version};
pub use pub_semver::PubVersion;
pub use rpm::RpmVersion;
pub use rubygems::GemVersion;
pub use semver_family::SemVerVersion;

/// A set of version-ordering rules. Several ecosystems can share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// PEP 440 (PyPI), with the legacy fallback for non-PEP 440 strings.
    Pep440,
    /// SemVer 2.0 precedence (crates.io, Hex); build metadata ignored.
    SemVer,
    /// node-semver strict versions (npm); build metadata ignored.
    Npm,
    /// Go module versions: SemVer with optional `v`, `+incompatible` ignored.
    Go,
    /// Maven `ComparableVersion`.
    Maven,
    /// dpkg (Debian, Ubuntu).
    Dpkg,
    /// rpm `rpmvercmp` with epoch and release (Red Hat, Rocky Linux, AlmaLinux, SUSE).
    Rpm,
    /// apk-tools (Alpine, Wolfi, Chainguard).
    Apk,
    /// `Gem::Version` (RubyGems).
    RubyGems,
    /// `NuGetVersion` (NuGet).
    NuGet,
    /// PHP `version_compare` as used for Packagist.
    Composer,
    /// Dart `pub_semver` (Pub).
    Pub,
    /// Haskell `Data.Version` (Hackage).
    Hackage,
    /// R `package_version` (CRAN).
    Cran,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: &'static [Self] = &[
        Self::Pep440,
        Self::SemVer,
        Self::Npm,
        Self::Go,
        Self::Maven,
        Self::Dpkg,
        Self::Rpm,
        Self::Apk,
        Self::RubyGems,
        Self::NuGet,
        Self::Composer,
        Self::Pub,
        Self::Hackage,
        Self::Cran,
    ];

    /// The scheme an ecosystem's versions follow, or `None` where bulwark has none
    /// (conda, ConanCenter).
    pub const fn for_ecosystem(ecosystem: Ecosystem) -> Option<Self> {
        Some(match ecosystem {
            Ecosystem::PyPI => Self::Pep440,
            Ecosystem::Npm => Self::Npm,
            Ecosystem::CratesIo | Ecosystem::Hex => Self::SemVer,
            Ecosystem::Go => Self::Go,
            Ecosystem::Maven => Self::Maven,
            Ecosystem::NuGet => Self::NuGet,
            Ecosystem::RubyGems => Self::RubyGems,
            Ecosystem::Packagist => Self::Composer,
            Ecosystem::Pub => Self::Pub,
            Ecosystem::Hackage => Self::Hackage,
            Ecosystem::Cran => Self::Cran,
            Ecosystem::Debian | Ecosystem::Ubuntu => Self::Dpkg,
            Ecosystem::RedHat
            | Ecosystem::RockyLinux
            | Ecosystem::AlmaLinux
            | Ecosystem::OpenSuse
            | Ecosystem::Suse => Self::Rpm,
            Ecosystem::Alpine | Ecosystem::Wolfi | Ecosystem::Chainguard => Self::Apk,
            _ => return None,
        })
    }

    /// A short name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pep440 => "PEP 440",
            Self::SemVer => "SemVer",
            Self::Npm => "npm",
            Self::Go => "Go",
            Self::Maven => "Maven",
            Self::Dpkg => "dpkg",
            Self::Rpm => "rpm",
            Self::Apk => "apk",
            Self::RubyGems => "RubyGems",
            Self::NuGet => "NuGet",
            Self::Composer => "Composer",
            Self::Pub => "Pub",
            Self::Hackage => "Hackage",
            Self::Cran => "CRAN",
        }
    }

    /// Parses `text` under this scheme.
    pub fn parse(self, text: &str) -> Result<Version, VersionParseError> {
        Ok(match self {
            Self::Pep440 => Version::Pep440(Pep440Version::parse(text)?),
            Self::SemVer => Version::SemVer(SemVerVersion::parse_semver(text)?),
            Self::Npm => Version::Npm(SemVerVersion::parse_npm(text)?),
            Self::Go => Version::Go(SemVerVersion::parse_go(text)?),
            Self::Maven => Version::Maven(MavenVersion::parse(text)?),
            Self::Dpkg => Version::Dpkg(DpkgVersion::parse(text)?),
            Self::Rpm => Version::Rpm(RpmVersion::parse(text)?),
            Self::Apk => Version::Apk(ApkVersion::parse(text)?),
            Self::RubyGems => Version::RubyGems(GemVersion::parse(text)?),
            Self::NuGet => Version::NuGet(NuGetVersion::parse(text)?),
            Self::Composer => Version::Composer(ComposerVersion::parse(text)?),
            Self::Pub => Version::Pub(PubVersion::parse(text)?),
            Self::Hackage => Version::Hackage(NumericListVersion::parse_hackage(text)?),
            Self::Cran => Version::Cran(NumericListVersion::parse_cran(text)?),
        })
    }

    /// Parses both strings and orders them.
    pub fn compare(self, left: &str, right: &str) -> Result<Ordering, VersionParseError> {
        let left = self.parse(left)?;
        let right = self.parse(right)?;
        Ok(left.cmp_same_scheme(&right))
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A parsed version. Versions of the same scheme are totally ordered; versions of different
/// schemes are not comparable ([`PartialOrd`] gives `None`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Version {
    /// PyPI.
    Pep440(Pep440Version),
    /// crates.io, Hex.
    SemVer(SemVerVersion),
    /// npm.
    Npm(SemVerVersion),
    /// Go.
    Go(SemVerVersion),
    /// Maven.
    Maven(MavenVersion),
    /// Debian, Ubuntu.
    Dpkg(DpkgVersion),
    /// Red Hat family, SUSE.
    Rpm(RpmVersion),
    /// Alpine, Wolfi, Chainguard.
    Apk(ApkVersion),
    /// RubyGems.
    RubyGems(GemVersion),
    /// NuGet.
    NuGet(NuGetVersion),
    /// Packagist.
    Composer(ComposerVersion),
    /// Pub.
    Pub(PubVersion),
    /// Hackage.
    Hackage(NumericListVersion),
    /// CRAN.
    Cran(NumericListVersion),
}

impl Version {
    /// The scheme the version was parsed with.
    pub const fn scheme(&self) -> Scheme {
        match self {
            Self::Pep440(_) => Scheme::Pep440,
            Self::SemVer(_) => Scheme::SemVer,
            Self::Npm(_) => Scheme::Npm,
            Self::Go(_) => Scheme::Go,
            Self::Maven(_) => Scheme::Maven,
            Self::Dpkg(_) => Scheme::Dpkg,
            Self::Rpm(_) => Scheme::Rpm,
            Self::Apk(_) => Scheme::Apk,
            Self::RubyGems(_) => Scheme::RubyGems,
            Self::NuGet(_) => Scheme::NuGet,
            Self::Composer(_) => Scheme::Composer,
            Self::Pub(_) => Scheme::Pub,
            Self::Hackage(_) => Scheme::Hackage,
            Self::Cran(_) => Scheme::Cran,
        }
    }

    /// Orders two versions of the same scheme; `None` when the schemes differ.
    pub fn try_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(match (self, other) {
            (Self::Pep440(left), Self::Pep440(right)) => left.cmp(right),
            (Self::SemVer(left), Self::SemVer(right))
            | (Self::Npm(left), Self::Npm(right))
            | (Self::Go(left), Self::Go(right)) => left.cmp(right),
            (Self::Maven(left), Self::Maven(right)) => left.cmp(right),
            (Self::Dpkg(left), Self::Dpkg(right)) => left.cmp(right),
            (Self::Rpm(left), Self::Rpm(right)) => left.cmp(right),
            (Self::Apk(left), Self::Apk(right)) => left.cmp(right),
            (Self::RubyGems(left), Self::RubyGems(right)) => left.cmp(right),
            (Self::NuGet(left), Self::NuGet(right)) => left.cmp(right),
            (Self::Composer(left), Self::Composer(right)) => left.cmp(right),
            (Self::Pub(left), Self::Pub(right)) => left.cmp(right),
            (Self::Hackage(left), Self::Hackage(right)) | (Self::Cran(left), Self::Cran(right)) => {
                left.cmp(right)
            }
            _ => return None,
        })
    }

    /// Orders two versions that are known to share a scheme (both from [`Scheme::parse`] with
    /// the same scheme). Versions of different schemes order by scheme, which is meaningless
    /// but keeps this a total order.
    fn cmp_same_scheme(&self, other: &Self) -> Ordering {
        self.try_cmp(other)
            .unwrap_or_else(|| self.scheme().cmp(&other.scheme()))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.try_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.try_cmp(other)
    }
}

/// Parses `text` under `scheme`.
pub fn parse(scheme: Scheme, text: &str) -> Result<Version, VersionParseError> {
    scheme.parse(text)
}

/// Orders two version strings under `scheme`.
pub fn compare(scheme: Scheme, left: &str, right: &str) -> Result<Ordering, VersionParseError> {
    scheme.compare(left, right)
}

/// Parses `text` as a version of `ecosystem`.
pub fn parse_in(ecosystem: Ecosystem, text: &str) -> Result<Version, CompareError> {
    let scheme = Scheme::for_ecosystem(ecosystem).ok_or(CompareError::NoScheme(ecosystem))?;
    Ok(scheme.parse(text)?)
}

/// Orders two version strings of `ecosystem`, e.g. for `bulwark compare-versions`.
pub fn compare_in(ecosystem: Ecosystem, left: &str, right: &str) -> Result<Ordering, CompareError> {
    let scheme = Scheme::for_ecosystem(ecosystem).ok_or(CompareError::NoScheme(ecosystem))?;
    Ok(scheme.compare(left, right)?)
}

/// Trims surrounding whitespace and rejects an empty string.
fn trimmed(scheme: Scheme, text: &str) -> Result<&str, VersionParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(VersionParseError::new(scheme, text, ParseErrorKind::Empty));
    }
    Ok(trimmed)
}
