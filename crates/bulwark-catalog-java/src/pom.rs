//! `pom.xml`: the dependencies a Maven project declares.
//!
//! What is reported is what Maven's effective model would list under `<dependencies>`, as far
//! as the files on disk settle it:
//!
//! - `${…}` expressions are expanded from the project's properties, its model values
//!   (`project.version`, `project.groupId`, `project.parent.version`, the deprecated `pom.*`
//!   and bare forms) and the properties of its parents. A value that cannot be expanded (a
//!   property from a parent in a repository, from `settings.xml` or the command line) leaves
//!   the version unset, with a problem saying which property: never a guess.
//! - A dependency without a version takes it from `<dependencyManagement>` (its own or an
//!   inherited one), matched on Maven's key `groupId:artifactId:type:classifier`. Managed
//!   entries are not dependencies and are not reported; neither are `import`-scope BOMs,
//!   whose contents live in a repository.
//! - The parent is read when it is on disk: `<relativePath>` (default `../pom.xml`; a
//!   directory means its `pom.xml`; an empty element means "not on disk"), through the
//!   resolver, only when the file found there really is the declared parent (same `groupId`
//!   and `artifactId`), never outside the target, up to [`MAX_PARENTS`] levels and never in
//!   a cycle. Its properties, dependency management and dependencies are inherited; an
//!   inherited dependency's location is the parent's file and line.
//! - Profiles: only those marked `<activeByDefault>true</activeByDefault>` count (activation
//!   by JDK, OS, property or file cannot be decided statically).
//! - Build plugins' dependencies are not the project's and are skipped.
//! - A version range takes its inclusive lower bound (`[1.2,2.0)` → `1.2`), the version the
//!   range names and the one osv-scalibr reports; an exclusive or open lower bound
//!   (`(1.2,2.0)`, `(,2.0]`) names no version that would be installed, so none is set.
//! - The same `groupId:artifactId:type:classifier` declared twice is reported once, as first
//!   declared (scalibr's choice too; Maven warns about it).
//!
//! Scope: `test` is [`Scope::Development`]; `<optional>true</optional>` is
//! [`Scope::Optional`] (it is not passed on to dependents). `provided` and `system` stay
//! [`Scope::Required`]: the code runs in production, supplied by the container or the host,
//! and its vulnerabilities are live there.

mod interpolate;
mod parse;

use std::collections::{HashMap, HashSet};
use std::io;

use bulwark_catalog::{
    CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, is_installed_package_content,
    join_relative,
};
use bulwark_inventory::{Location, Problem, Scope};

use self::interpolate::{InterpolationError, Interpolator};
use self::parse::{RawDependency, RawParent, RawPom};
use crate::maven::{Coordinates, DEFAULT_TYPE, problem};

const ID: &str = "java/pom";

/// How many parent POMs are followed. Real hierarchies are two to five deep.
const MAX_PARENTS: usize = 16;

/// Reads `pom.xml`.
pub(crate) struct PomCataloger;

impl Cataloger for PomCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !is_installed_package_content(dir)
    }

    /// `pom.xml`; a file named by the user may be any `*.xml` or `*.pom`. Parents elsewhere
    /// than a `pom.xml` (a custom `<relativePath>`) are read too, but only `pom.xml` files are
    /// claimed as companions, which covers Maven's default layout.
    fn wants(&self, file: &FileRef<'_>) -> bool {
        if file.is_in_site_packages() && !file.explicit {
            return false;
        }
        let name = file.file_name();
        name == "pom.xml" || file.explicit && (name.ends_with(".xml") || name.ends_with(".pom"))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let pom = read_pom(resolver, file.path).map_err(|(error, line)| {
            let error = CatalogError::new(error);
            match line {
                Some(line) => error.at_line(line),
                None => error,
            }
        })?;
        let mut problems = Vec::new();
        let chain = with_parents(
            Layer {
                path: file.path.to_owned(),
                pom,
            },
            resolver,
            &mut problems,
        );
        let mut output = effective_dependencies(&chain, &mut problems);
        output.problems.extend(problems);
        Ok(output)
    }
}

/// Why a POM file could not be read.
#[derive(Debug, thiserror::Error)]
enum PomFileError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot parse `{path}`")]
    Parse {
        path: String,
        #[source]
        source: parse::PomError,
    },
}

/// Why one dependency could not be reported, or not completely.
#[derive(Debug, thiserror::Error)]
enum DependencyError {
    #[error("a dependency without a `{0}` is skipped")]
    Missing(&'static str),
    #[error("the `{field}` of a dependency cannot be worked out; it is skipped")]
    Coordinate {
        field: &'static str,
        #[source]
        source: InterpolationError,
    },
    #[error("the version of `{name}` cannot be worked out; it is reported without one")]
    Version {
        name: String,
        #[source]
        source: InterpolationError,
    },
}

/// One POM of the inheritance chain.
struct Layer {
    /// Target-relative path of the file.
    path: String,
    pom: RawPom,
}

fn read_pom(resolver: &dyn Resolver, path: &str) -> Result<RawPom, (PomFileError, Option<u32>)> {
    let bytes = resolver.read(path).map_err(|source| {
        let path = path.to_owned();
        (PomFileError::Read { path, source }, None)
    })?;
    let parse_error = |source, line| {
        let path = path.to_owned();
        (PomFileError::Parse { path, source }, line)
    };
    let text = parse::decode(&bytes).map_err(|source| parse_error(source, None))?;
    parse::parse(&text).map_err(|(source, line)| parse_error(source, line))
}

/// The chain `[child, parent, grandparent, …]` as far as it is on disk.
fn with_parents(child: Layer, resolver: &dyn Resolver, problems: &mut Vec<Problem>) -> Vec<Layer> {
    let mut chain = vec![child];
    while chain.len() <= MAX_PARENTS {
        let Some(current) = chain.last() else { break };
        let Some(declared) = &current.pom.parent else {
            break;
        };
        let Some(path) = parent_path(&current.path, declared, resolver) else {
            break;
        };
        if chain.iter().any(|layer| layer.path == path) {
            break;
        }
        let pom = match read_pom(resolver, &path) {
            Ok(pom) => pom,
            Err((error, line)) => {
                problems.push(problem(ID, &path, line, error));
                break;
            }
        };
        // A `../pom.xml` that is an aggregator but not the parent is common; Maven then
        // fetches the parent from a repository, and so does nobody here.
        let same_artifact = pom.artifact_id == declared.artifact_id;
        let same_group =
            declared.group_id.is_none() || pom.group_id() == declared.group_id.as_deref();
        if !(same_artifact && same_group) {
            break;
        }
        chain.push(Layer { path, pom });
    }
    chain
}

/// Where the parent declared in the POM at `child_path` is on disk, if it is.
fn parent_path(child_path: &str, parent: &RawParent, resolver: &dyn Resolver) -> Option<String> {
    let relative = parent.relative_path.as_deref().unwrap_or("../pom.xml");
    if relative.is_empty() {
        return None;
    }
    let dir = child_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let joined = join_relative(dir, relative)?;
    if !joined.is_empty() && resolver.is_file(&joined) {
        return Some(joined);
    }
    let in_dir = join_relative(&joined, "pom.xml")?;
    resolver.is_file(&in_dir).then_some(in_dir)
}

/// The expressions the chain defines: every layer's properties (the child's win), then the
/// child's model values, which Maven resolves before properties of the same name.
fn interpolator(chain: &[Layer]) -> Interpolator {
    let mut interpolator = Interpolator::default();
    for layer in chain.iter().rev() {
        for (name, value) in &layer.pom.section.properties {
            interpolator.define(name.as_str(), value.as_str());
        }
    }
    let Some(child) = chain.first().map(|layer| &layer.pom) else {
        return interpolator;
    };
    let parent = child.parent.as_ref();
    let model = [
        ("groupId", child.group_id()),
        ("artifactId", child.artifact_id.as_deref()),
        (
            "version",
            child
                .version
                .as_deref()
                .or_else(|| parent?.version.as_deref()),
        ),
        ("parent.groupId", parent.and_then(|p| p.group_id.as_deref())),
        (
            "parent.artifactId",
            parent.and_then(|p| p.artifact_id.as_deref()),
        ),
        ("parent.version", parent.and_then(|p| p.version.as_deref())),
    ];
    for (name, value) in model {
        let Some(value) = value else { continue };
        interpolator.define(format!("project.{name}"), value);
        interpolator.define(format!("pom.{name}"), value);
        if !name.starts_with("parent.") {
            // Maven 2's bare `${version}`; a property of that name wins.
            interpolator.define_default(name, value);
        }
    }
    interpolator
}

/// Maven's dependency management key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    group: String,
    artifact: String,
    artifact_type: String,
    classifier: String,
}

/// A dependency's coordinates, expanded.
struct Resolved {
    key: Key,
    raw_type: Option<String>,
}

fn resolve_key(
    dependency: &RawDependency,
    interpolator: &Interpolator,
) -> Result<Resolved, DependencyError> {
    let required = |value: &Option<String>, field: &'static str| {
        let value = value.as_deref().filter(|v| !v.is_empty());
        let value = value.ok_or(DependencyError::Missing(field))?;
        let value = interpolator
            .interpolate(value)
            .map_err(|source| DependencyError::Coordinate { field, source })?;
        if value.is_empty() {
            return Err(DependencyError::Missing(field));
        }
        Ok(value)
    };
    let optional = |value: &Option<String>, field: &'static str| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| interpolator.interpolate(v))
            .transpose()
            .map(|v| v.filter(|v| !v.is_empty()))
            .map_err(|source| DependencyError::Coordinate { field, source })
    };
    let group = required(&dependency.group_id, "groupId")?;
    let artifact = required(&dependency.artifact_id, "artifactId")?;
    let raw_type = optional(&dependency.artifact_type, "type")?;
    let classifier = optional(&dependency.classifier, "classifier")?;
    Ok(Resolved {
        key: Key {
            group,
            artifact,
            artifact_type: raw_type.clone().unwrap_or_else(|| DEFAULT_TYPE.to_owned()),
            classifier: classifier.unwrap_or_default(),
        },
        raw_type,
    })
}

fn effective_dependencies(chain: &[Layer], problems: &mut Vec<Problem>) -> CatalogOutput {
    let interpolator = interpolator(chain);

    // Child first: the nearest declaration of a managed key wins.
    let mut managed: HashMap<Key, &RawDependency> = HashMap::new();
    for layer in chain {
        for dependency in &layer.pom.section.managed {
            // A managed entry that cannot be expanded manages nothing that can be matched.
            if let Ok(resolved) = resolve_key(dependency, &interpolator) {
                managed.entry(resolved.key).or_insert(dependency);
            }
        }
    }

    let mut output = CatalogOutput::default();
    let mut seen = HashSet::new();
    for layer in chain {
        for dependency in &layer.pom.section.dependencies {
            let line = Some(dependency.line);
            let resolved = match resolve_key(dependency, &interpolator) {
                Ok(resolved) => resolved,
                Err(error) => {
                    problems.push(problem(ID, &layer.path, line, error));
                    continue;
                }
            };
            if !seen.insert(resolved.key.clone()) {
                continue;
            }
            let management = managed.get(&resolved.key).copied();
            let inherited = |field: fn(&RawDependency) -> &Option<String>| {
                field(dependency)
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .or_else(|| field(management?).as_deref().filter(|v| !v.is_empty()))
            };
            let key = &resolved.key;
            let version = match inherited(|d| &d.version).map(|v| interpolator.interpolate(v)) {
                None => None,
                Some(Ok(version)) => requirement_version(&version).map(str::to_owned),
                Some(Err(source)) => {
                    let name = format!("{}:{}", key.group, key.artifact);
                    problems.push(problem(
                        ID,
                        &layer.path,
                        line,
                        DependencyError::Version { name, source },
                    ));
                    None
                }
            };
            let flag = |field: fn(&RawDependency) -> &Option<String>| {
                inherited(field)
                    .and_then(|v| interpolator.interpolate(v).ok())
                    .map(|v| v.to_ascii_lowercase())
            };
            let scope = match (
                flag(|d| &d.scope).as_deref(),
                flag(|d| &d.optional).as_deref(),
            ) {
                (Some("test"), _) => Scope::Development,
                (_, Some("true")) => Scope::Optional,
                _ => Scope::Required,
            };
            let coordinates = Coordinates {
                group: Some(&key.group),
                artifact: &key.artifact,
                version: version.as_deref(),
                artifact_type: resolved.raw_type.as_deref(),
                classifier: Some(key.classifier.as_str()).filter(|c| !c.is_empty()),
            };
            let mut component =
                coordinates.component(Location::new(&layer.path).at_line(dependency.line), ID);
            component.scope = scope;
            output.components.push(component);
        }
    }
    output
}

/// The version a `<version>` value names: itself for a plain version, the inclusive lower
/// bound of a range (`[1.2,2.0)`, `[1.2]`), nothing for a range whose lower bound is
/// exclusive or open (`(1.2,2.0)`, `(,2.0]`) or for an empty value.
fn requirement_version(text: &str) -> Option<&str> {
    let text = text.trim();
    if let Some(range) = text.strip_prefix('[') {
        let lower = range
            .split([',', ']', ')'])
            .next()
            .unwrap_or_default()
            .trim();
        return (!lower.is_empty()).then_some(lower);
    }
    (!text.is_empty() && !text.starts_with('(')).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        assert_expected_json, catalog_fixture, catalog_tree, component, purls,
    };

    /// Fixtures where bulwark reports more artifacts than osv-scalibr, which keys a POM's
    /// dependencies by `groupId:artifactId` alone: Maven's own key adds `type` and
    /// `classifier`, so `my-lib` as a `pom` and as a `jar`, or with and without the `sources`
    /// classifier, are two artifacts (two purls) of one package (one name).
    const EXTRA_ARTIFACTS: &[(&str, usize)] = &[
        ("explicit-jar.xml", 1),
        ("with-multiple-classifiers.xml", 1),
    ];

    #[test]
    fn scalibr_fixtures_match_expected_json() {
        let cases = assert_expected_json(&PomCataloger, "maven-pom", EXTRA_ARTIFACTS);
        assert_eq!(cases, 19);
    }

    #[test]
    fn type_and_classifier_are_qualifiers() {
        let output = catalog_fixture(&PomCataloger, "maven-pom", "with-type-classifier.xml");
        assert_eq!(
            purls(&output.unwrap()),
            ["pkg:maven/abc/xyz@1.0.0?classifier=sources&type=pom"]
        );
        let output = catalog_fixture(&PomCataloger, "maven-pom", "explicit-jar.xml").unwrap();
        assert_eq!(
            purls(&output),
            [
                "pkg:maven/org.different/my-lib@1.0.0",
                "pkg:maven/com.example/my-lib@1.0.0?type=pom",
                "pkg:maven/com.example/my-lib@1.0.0",
            ]
        );
    }

    #[test]
    fn the_first_of_duplicate_declarations_wins() {
        let output = catalog_fixture(&PomCataloger, "maven-pom", "multi-version.xml").unwrap();
        assert_eq!(purls(&output), ["pkg:maven/abc/example.com@1.0.0"]);
        assert_eq!(
            output.components[0].locations.first().unwrap().line,
            Some(8)
        );
    }

    #[test]
    fn test_scope_is_development() {
        let output = catalog_fixture(&PomCataloger, "maven-pom", "with-scope.xml").unwrap();
        assert_eq!(component(&output, "junit:junit").scope, Scope::Development);
        assert_eq!(component(&output, "abc:xyz").scope, Scope::Required);
    }

    #[test]
    fn a_parent_on_disk_lends_versions_and_dependencies() {
        let output = catalog_fixture(&PomCataloger, "maven-pom", "with-parent.xml").unwrap();
        let chuck = component(&output, "org.chuck:chuck");
        assert_eq!(chuck.version.as_deref(), Some("3.0.0"));
        let dave = component(&output, "org.dave:dave");
        let location = dave.locations.first().unwrap();
        assert_eq!(
            (location.path.as_str(), location.line),
            ("parent/pom.xml", Some(15))
        );
        assert_eq!(component(&output, "org.frank:frank").version, None);
        assert!(
            output
                .components
                .iter()
                .all(|c| !c.name.starts_with("org.import"))
        );
    }

    #[test]
    fn inherits_properties_management_and_project_version() {
        let parent = r"<project>
  <groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>7.1</version>
  <properties><lib.version>2.0</lib.version><lib.group>org.lib</lib.group></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.managed</groupId><artifactId>m</artifactId><version>${lib.version}</version><scope>test</scope></dependency>
    <dependency><groupId>org.managed</groupId><artifactId>m</artifactId><classifier>tests</classifier><version>9</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>${project.groupId}</groupId><artifactId>sibling</artifactId><version>${project.version}</version></dependency>
  </dependencies>
</project>";
        let child = r"<project>
  <parent><groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>7.1</version></parent>
  <artifactId>app</artifactId>
  <properties><lib.version>3.0</lib.version></properties>
  <dependencies>
    <dependency><groupId>${lib.group}</groupId><artifactId>lib</artifactId><version>${lib.version}</version></dependency>
    <dependency><groupId>org.managed</groupId><artifactId>m</artifactId></dependency>
    <dependency><groupId>org.acme</groupId><artifactId>core</artifactId><version>${project.parent.version}</version><optional>true</optional></dependency>
    <dependency><groupId>org.acme</groupId><artifactId>api</artifactId><version>[1.5,2)</version><scope>provided</scope></dependency>
    <dependency><groupId>org.acme</groupId><artifactId>spi</artifactId><version>(1.5,2)</version></dependency>
  </dependencies>
</project>";
        let output = catalog_tree(
            &[("pom.xml", parent), ("app/pom.xml", child)],
            "app/pom.xml",
        );
        assert!(output.problems.is_empty(), "{:?}", output.problems);
        let versions: Vec<_> = output
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.version.as_deref(), c.scope))
            .collect();
        assert_eq!(
            versions,
            [
                ("org.lib:lib", Some("3.0"), Scope::Required),
                // The managed version and scope; the child's property wins inside it.
                ("org.managed:m", Some("3.0"), Scope::Development),
                ("org.acme:core", Some("7.1"), Scope::Optional),
                ("org.acme:api", Some("1.5"), Scope::Required),
                ("org.acme:spi", None, Scope::Required),
                // Inherited, and expanded as the child: the child's version is the parent's.
                ("org.acme:sibling", Some("7.1"), Scope::Required),
            ]
        );
        let sibling = component(&output, "org.acme:sibling");
        assert_eq!(sibling.locations.first().unwrap().path, "pom.xml");
    }

    #[test]
    fn a_file_that_is_not_the_declared_parent_is_not_inherited() {
        let aggregator = r"<project><groupId>org.acme</groupId><artifactId>aggregator</artifactId>
  <properties><v>1</v></properties>
  <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>1</version></dependency></dependencies>
</project>";
        let child = r"<project>
  <parent><groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>7.1</version></parent>
  <artifactId>app</artifactId>
  <dependencies><dependency><groupId>a</groupId><artifactId>b</artifactId><version>${v}</version></dependency></dependencies>
</project>";
        let output = catalog_tree(
            &[("pom.xml", aggregator), ("app/pom.xml", child)],
            "app/pom.xml",
        );
        assert_eq!(purls(&output), ["pkg:maven/a/b"]);
        assert_eq!(output.problems.len(), 1);
        assert_eq!(output.problems[0].line, Some(4));
        assert!(
            output.problems[0].message.contains("`${v}`"),
            "{}",
            output.problems[0].message
        );
    }

    #[test]
    fn parent_cycles_and_escapes_end_the_chain() {
        // a → b → a, each the other's declared parent.
        let a = r"<project><groupId>g</groupId><artifactId>a</artifactId>
  <parent><groupId>g</groupId><artifactId>b</artifactId><relativePath>../b</relativePath></parent>
  <dependencies><dependency><groupId>g</groupId><artifactId>from-a</artifactId><version>1</version></dependency></dependencies>
</project>";
        let b = r"<project><groupId>g</groupId><artifactId>b</artifactId>
  <parent><groupId>g</groupId><artifactId>a</artifactId><relativePath>../a/pom.xml</relativePath></parent>
  <dependencies><dependency><groupId>g</groupId><artifactId>from-b</artifactId><version>1</version></dependency></dependencies>
</project>";
        let output = catalog_tree(&[("a/pom.xml", a), ("b/pom.xml", b)], "a/pom.xml");
        let names: Vec<_> = output.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["g:from-a", "g:from-b"]);

        // The default `../pom.xml` of a POM at the root would leave the target.
        let root =
            r"<project><parent><groupId>g</groupId><artifactId>p</artifactId></parent></project>";
        assert!(
            catalog_tree(&[("pom.xml", root)], "pom.xml")
                .components
                .is_empty()
        );
    }

    #[test]
    fn a_broken_parent_is_a_problem_not_a_failure() {
        let child = r"<project>
  <parent><groupId>g</groupId><artifactId>p</artifactId></parent>
  <dependencies><dependency><groupId>a</groupId><artifactId>b</artifactId><version>1</version></dependency></dependencies>
</project>";
        let output = catalog_tree(
            &[("pom.xml", "<project>\n<oops>"), ("m/pom.xml", child)],
            "m/pom.xml",
        );
        assert_eq!(purls(&output), ["pkg:maven/a/b@1"]);
        assert_eq!(output.problems.len(), 1);
        assert_eq!(output.problems[0].path, "pom.xml");
    }

    #[test]
    fn self_referring_properties_leave_the_version_unset() {
        let pom = r"<project>
  <properties><a>${b}</a><b>${a}</b></properties>
  <dependencies><dependency><groupId>g</groupId><artifactId>x</artifactId><version>${a}</version></dependency></dependencies>
</project>";
        let output = catalog_tree(&[("pom.xml", pom)], "pom.xml");
        assert_eq!(output.components[0].version, None);
        assert!(output.problems[0].message.contains("refers to itself"));
    }

    #[test]
    fn walks_claim_pom_xml_only_outside_site_packages() {
        let wants = |path, explicit| PomCataloger.wants(&FileRef { path, explicit });
        assert!(wants("svc/pom.xml", false));
        assert!(!wants("svc/parent.xml", false));
        assert!(wants("svc/parent.xml", true));
        assert!(!wants("venv/lib/python3.11/site-packages/x/pom.xml", false));
        assert!(!PomCataloger.descend("venv/lib/python3.11/site-packages/pyspark"));
    }

    #[test]
    fn versions_named_by_ranges() {
        for (text, version) in [
            ("1.0", Some("1.0")),
            ("[1.0]", Some("1.0")),
            ("[1.0,2.0)", Some("1.0")),
            ("[ 1.0 , 2.0 ]", Some("1.0")),
            ("[1.0,2.0),[3.0,)", Some("1.0")),
            ("(1.0,2.0)", None),
            ("(,2.0]", None),
            ("[,2.0]", None),
            ("  ", None),
        ] {
            assert_eq!(requirement_version(text), version, "{text}");
        }
    }
}
