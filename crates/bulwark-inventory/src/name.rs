//! Package names normalized the way each ecosystem compares them.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::Ecosystem;

/// A package name normalized for matching in one ecosystem.
///
/// - PyPI: [PEP 503](https://peps.python.org/pep-0503/#normalized-names): lowercase, every run
///   of `-`, `_` and `.` becomes one `-` (`Foo.Bar__baz` → `foo-bar-baz`).
/// - conda, NuGet, Packagist: ASCII lowercase (their registries are case-insensitive).
/// - Everything else is compared exactly as written (npm names are already lowercase; Go module
///   paths, Maven coordinates and distro package names are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName(String);

impl PackageName {
    /// Normalizes `name` for `ecosystem`.
    pub fn new(ecosystem: Ecosystem, name: &str) -> Self {
        let name = name.trim();
        match ecosystem {
            Ecosystem::PyPI => Self(normalize_pep503(name)),
            Ecosystem::Conda | Ecosystem::NuGet | Ecosystem::Packagist => {
                Self(name.to_ascii_lowercase())
            }
            _ => Self(name.to_owned()),
        }
    }

    /// The normalized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn normalize_pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator_run = false;
        }
    }
    out
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PackageName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        for (raw, normalized) in [
            ("Django", "django"),
            ("zope.interface", "zope-interface"),
            ("Foo.Bar__baz", "foo-bar-baz"),
            ("typing_extensions", "typing-extensions"),
            ("nvidia-cuda-runtime-cu12", "nvidia-cuda-runtime-cu12"),
            ("a-_.b", "a-b"),
        ] {
            assert_eq!(PackageName::new(Ecosystem::PyPI, raw).as_str(), normalized);
        }
    }

    #[test]
    fn case_sensitive_ecosystems_keep_case() {
        assert_eq!(
            PackageName::new(Ecosystem::Go, "github.com/BurntSushi/toml").as_str(),
            "github.com/BurntSushi/toml"
        );
        assert_eq!(
            PackageName::new(Ecosystem::Conda, "PyYAML").as_str(),
            "pyyaml"
        );
    }
}
