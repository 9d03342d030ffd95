//! Package URLs (<https://github.com/package-url/purl-spec>), the identity of a component.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::Ecosystem;

/// A canonical package URL string.
///
/// Built through [`Purl::builder`], which applies each type's rules (the pypi type lowercases
/// and turns `_` into `-`; the npm namespace `@scope` is percent-encoded) and sorts qualifiers,
/// so equal packages always produce byte-equal purls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purl(String);

/// Collects the parts of a [`Purl`].
#[derive(Debug, Clone)]
pub struct PurlBuilder<'a> {
    ty: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    version: Option<&'a str>,
    qualifiers: Vec<(&'a str, &'a str)>,
    subpath: Option<&'a str>,
}

impl Purl {
    /// Starts a purl of the ecosystem's purl type.
    pub fn builder(ecosystem: Ecosystem, name: &str) -> PurlBuilder<'_> {
        Self::builder_for_type(ecosystem.purl_type(), name)
    }

    /// Starts a purl of an explicit type (`generic`, `huggingface`, ...).
    pub fn builder_for_type<'a>(ty: &'a str, name: &'a str) -> PurlBuilder<'a> {
        PurlBuilder {
            ty,
            namespace: None,
            name,
            version: None,
            qualifiers: Vec::new(),
            subpath: None,
        }
    }

    /// Wraps a purl string read from elsewhere (an SBOM) after checking that it parses.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse::<packageurl::PackageUrl<'_>>()
            .ok()
            .map(|p| Self(p.to_string()))
    }

    /// The purl as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'a> PurlBuilder<'a> {
    /// Sets the namespace (npm scope, Maven group, Go module prefix, distro vendor).
    #[must_use]
    pub fn namespace(mut self, namespace: &'a str) -> Self {
        self.namespace = Some(namespace).filter(|n| !n.is_empty());
        self
    }

    /// Sets the version, kept exactly as given.
    #[must_use]
    pub fn version(mut self, version: Option<&'a str>) -> Self {
        self.version = version.filter(|v| !v.is_empty());
        self
    }

    /// Adds a qualifier; empty values are left out, as the spec requires.
    #[must_use]
    pub fn qualifier(mut self, key: &'a str, value: Option<&'a str>) -> Self {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.qualifiers.push((key, value));
        }
        self
    }

    /// Sets the subpath.
    #[must_use]
    pub fn subpath(mut self, subpath: Option<&'a str>) -> Self {
        self.subpath = subpath.filter(|s| !s.is_empty());
        self
    }

    /// Builds the purl; `None` when a part violates the purl grammar (e.g. an empty name).
    pub fn build(self) -> Option<Purl> {
        let mut purl = packageurl::PackageUrl::new(self.ty, self.name).ok()?;
        if let Some(namespace) = self.namespace {
            purl.with_namespace(namespace).ok()?;
        }
        if let Some(version) = self.version {
            purl.with_version(version).ok()?;
        }
        let mut qualifiers = self.qualifiers;
        qualifiers.sort_unstable();
        for (key, value) in qualifiers {
            purl.add_qualifier(key, value).ok()?;
        }
        if let Some(subpath) = self.subpath {
            purl.with_subpath(subpath).ok()?;
        }
        Some(Purl(purl.to_string()))
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Purl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_local_version_is_kept() {
        let purl = Purl::builder(Ecosystem::PyPI, "Typing_Extensions")
            .version(Some("2.2.0+cu121"))
            .build()
            .unwrap();
        assert_eq!(purl.as_str(), "pkg:pypi/typing-extensions@2.2.0%2Bcu121");
    }

    #[test]
    fn conda_qualifiers_are_sorted() {
        let purl = Purl::builder(Ecosystem::Conda, "numpy")
            .version(Some("1.26.4"))
            .qualifier("subdir", Some("linux-64"))
            .qualifier("channel", Some("conda-forge"))
            .qualifier("build", Some("py311h64a7726_0"))
            .build()
            .unwrap();
        assert_eq!(
            purl.as_str(),
            "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64"
        );
    }

    #[test]
    fn npm_scope() {
        let purl = Purl::builder(Ecosystem::Npm, "core")
            .namespace("@babel")
            .version(Some("7.0.0"))
            .build()
            .unwrap();
        assert_eq!(purl.as_str(), "pkg:npm/%40babel/core@7.0.0");
    }
}
