//! What the Java catalogers share: Maven coordinates as a component, and problems.

use std::error::Error as StdError;

use bulwark_catalog::CatalogError;
use bulwark_inventory::{Component, Ecosystem, Location, Problem, Purl};

/// The `type` Maven assumes when a dependency names none; the purl leaves it out.
pub(crate) const DEFAULT_TYPE: &str = "jar";

/// Maven coordinates as a source states them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coordinates<'a> {
    /// The `groupId`; `None` only for archives identified by file name or a manifest without
    /// `Implementation-Vendor-Id`, where no group is known (and none is guessed).
    pub(crate) group: Option<&'a str>,
    /// The `artifactId`.
    pub(crate) artifact: &'a str,
    /// The exact version, or `None` when the source does not settle one.
    pub(crate) version: Option<&'a str>,
    /// The packaging `type` (`pom`, `test-jar`, ...); `jar` is the default and left out.
    pub(crate) artifact_type: Option<&'a str>,
    /// The `classifier` (`sources`, `linux-x86_64`, ...).
    pub(crate) classifier: Option<&'a str>,
}

impl<'a> Coordinates<'a> {
    /// Plain `group:artifact:version` coordinates.
    pub(crate) fn new(group: Option<&'a str>, artifact: &'a str, version: Option<&'a str>) -> Self {
        Self {
            group,
            artifact,
            version,
            artifact_type: None,
            classifier: None,
        }
    }

    /// The name OSV and bulwark use for a Maven package: `group:artifact`, or the bare
    /// artifact when no group is known.
    pub(crate) fn name(&self) -> String {
        match self.group.filter(|g| !g.is_empty()) {
            Some(group) => format!("{group}:{}", self.artifact),
            None => self.artifact.to_owned(),
        }
    }

    /// A Maven component with the purl `pkg:maven/<group>/<artifact>@<version>`, plus the
    /// `classifier` and a non-`jar` `type` as qualifiers: a `sources` jar or a `pom` is another
    /// artifact than the jar, though the same package for advisories (the name stays
    /// `group:artifact`).
    pub(crate) fn component(&self, location: Location, found_by: &str) -> Component {
        let name = self.name();
        let mut component =
            Component::package(Ecosystem::Maven, &name, self.version, location, found_by);
        component.purl = Purl::builder(Ecosystem::Maven, self.artifact)
            .namespace(self.group.unwrap_or_default())
            .version(self.version)
            .qualifier("classifier", self.classifier)
            .qualifier("type", self.artifact_type.filter(|t| *t != DEFAULT_TYPE))
            .build();
        component
    }
}

/// A recoverable problem met by `cataloger` in `path`.
pub(crate) fn problem(
    cataloger: &str,
    path: &str,
    line: Option<u32>,
    error: impl StdError + Send + Sync + 'static,
) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        cataloger: Some(cataloger.to_owned()),
        message: CatalogError::new(error).render(),
    }
}

/// Where each line of a text starts, so that many byte offsets become line numbers in
/// O(log n) each.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Self(starts)
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let line = self.0.partition_point(|start| *start <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_keeps_group_classifier_and_non_default_type() {
        let coordinates = Coordinates {
            group: Some("io.netty"),
            artifact: "netty-transport-native-epoll",
            version: Some("4.1.100.Final"),
            artifact_type: Some("jar"),
            classifier: Some("linux-x86_64"),
        };
        let component = coordinates.component(Location::new("pom.xml"), "java/pom");
        assert_eq!(component.name, "io.netty:netty-transport-native-epoll");
        assert_eq!(
            component.purl.unwrap().as_str(),
            "pkg:maven/io.netty/netty-transport-native-epoll@4.1.100.Final?classifier=linux-x86_64"
        );

        let pom = Coordinates {
            artifact_type: Some("pom"),
            ..Coordinates::new(Some("org.example"), "bom", None)
        };
        let component = pom.component(Location::new("pom.xml"), "java/pom");
        assert_eq!(component.version, None);
        assert_eq!(
            component.purl.unwrap().as_str(),
            "pkg:maven/org.example/bom?type=pom"
        );
    }

    #[test]
    fn without_group_the_name_is_the_artifact() {
        let component = Coordinates::new(None, "commons-text", Some("1.9"))
            .component(Location::new("lib/commons-text-1.9.jar"), "java/archive");
        assert_eq!(component.name, "commons-text");
        assert_eq!(
            component.purl.unwrap().as_str(),
            "pkg:maven/commons-text@1.9"
        );
    }

    #[test]
    fn line_index() {
        let lines = LineIndex::new("a\nbb\n\nc");
        assert_eq!(
            [0, 1, 2, 4, 5, 6].map(|o| lines.line(o)),
            [1, 1, 2, 2, 3, 4]
        );
    }
}
