//! Gradle dependency locks: `gradle.lockfile`, `buildscript-gradle.lockfile`, and the
//! per-configuration files of Gradle before 6 (`gradle/dependency-locks/<configuration>.lockfile`).
//!
//! Each line is `group:artifact:version=configuration,configuration,…` (the old format has
//! no `=` part: the file name is the configuration); `empty=…` lists the configurations that
//! lock nothing; `#` starts a comment. A line that is none of these (a merge-conflict marker,
//! a stray edit) is a problem, and the rest of the file is still read.
//!
//! Scope: a package locked only for test configurations (`testCompileClasspath`,
//! `integrationTestRuntimeClasspath`, `androidTestImplementation…`), for
//! `developmentOnly` (Spring Boot's devtools, left out of production), or for annotation
//! processors (they run inside the compiler and are not shipped) is
//! [`Scope::Development`]; so is everything in `buildscript-gradle.lockfile`, the build's own
//! plugins. Anything on a compile or runtime classpath is [`Scope::Required`].

use bulwark_catalog::{
    CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, is_installed_package_content,
};
use bulwark_inventory::{Location, Scope};

use crate::maven::{Coordinates, problem};

const ID: &str = "java/gradle-lockfile";

/// Reads Gradle lockfiles.
pub(crate) struct GradleLockfileCataloger;

/// Why a line of a lockfile was not read.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("`{0}` is not a `group:artifact:version=configurations` entry")]
    Malformed(String),
}

/// Why a lockfile could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the Gradle lockfile")]
struct ReadError(#[source] std::io::Error);

impl Cataloger for GradleLockfileCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        if file.is_in_site_packages() && !file.explicit {
            return false;
        }
        let name = file.file_name();
        name == "gradle.lockfile"
            || name == "buildscript-gradle.lockfile"
            || name.ends_with(".lockfile")
                && (file.explicit || file.dir().ends_with("gradle/dependency-locks"))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver.read_to_string(file.path).map_err(ReadError)?;
        Ok(parse(&text, file.path, file.file_name()))
    }
}

fn parse(text: &str, path: &str, file_name: &str) -> CatalogOutput {
    let buildscript = file_name.starts_with("buildscript-");
    // The old one-file-per-configuration format names the configuration in the file name.
    let legacy_configuration = file_name
        .strip_suffix(".lockfile")
        .filter(|stem| *stem != "gradle" && *stem != "buildscript-gradle");
    let mut output = CatalogOutput::default();
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coordinates, configurations) = match line.split_once('=') {
            Some((coordinates, configurations)) => (coordinates, configurations),
            None => (line, legacy_configuration.unwrap_or_default()),
        };
        let Some((group, artifact, version)) = split_coordinates(coordinates) else {
            let error = LineError::Malformed(line.to_owned());
            output.problems.push(problem(ID, path, Some(number), error));
            continue;
        };
        let mut component = Coordinates::new(Some(group), artifact, Some(version))
            .component(Location::new(path).at_line(number), ID);
        let mut configurations = configurations
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .peekable();
        let development_only =
            configurations.peek().is_some() && configurations.all(is_development_configuration);
        if buildscript || development_only {
            component.scope = Scope::Development;
        }
        output.components.push(component);
    }
    output
}

/// `group:artifact:version`, each part non-empty and without spaces.
fn split_coordinates(text: &str) -> Option<(&str, &str, &str)> {
    let mut parts = text.split(':');
    let group = parts.next()?;
    let artifact = parts.next()?;
    let version = parts.next()?;
    let valid = |part: &str| !part.is_empty() && !part.contains(char::is_whitespace);
    (parts.next().is_none() && valid(group) && valid(artifact) && valid(version))
        .then_some((group, artifact, version))
}

/// Whether a configuration never reaches the built application: tests of any source set
/// (`test…`, `…Test…`), `developmentOnly`, and annotation processors.
fn is_development_configuration(name: &str) -> bool {
    name.starts_with("test")
        || name.contains("Test")
        || name == "developmentOnly"
        || name == "annotationProcessor"
        || name.ends_with("AnnotationProcessor")
        || name.starts_with("kapt")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_expected_json, catalog_tree, component, purls};

    #[test]
    fn scalibr_fixtures_match_expected_json() {
        let cases = assert_expected_json(&GradleLockfileCataloger, "gradle-lockfile", &[]);
        assert_eq!(cases, 5);
    }

    #[test]
    fn bad_lines_are_problems_and_the_rest_is_read() {
        let output = crate::test_support::catalog_fixture(
            &GradleLockfileCataloger,
            "gradle-lockfile",
            "with-bad-pkg",
        )
        .unwrap();
        let lines: Vec<_> = output.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(9), Some(10)]);
        let lines: Vec<_> = output
            .components
            .iter()
            .map(|c| c.locations.first().unwrap().line)
            .collect();
        assert_eq!(lines, [Some(7), Some(14)]);
    }

    #[test]
    fn scope_follows_the_configurations() {
        let lock = "\
org.junit:junit-bom:5.9.1=testCompileClasspath,testRuntimeClasspath
org.mockito:mockito-core:4.8.0=integrationTestRuntimeClasspath,testRuntimeClasspath
org.springframework.boot:spring-boot-devtools:2.7.6=developmentOnly
org.projectlombok:lombok:1.18.24=annotationProcessor,testAnnotationProcessor
org.slf4j:slf4j-api:2.0.3=runtimeClasspath,testRuntimeClasspath
com.google.guava:guava:31.1-jre=
empty=
";
        let output = catalog_tree(&[("gradle.lockfile", lock)], "gradle.lockfile");
        let scopes: Vec<_> = output.components.iter().map(|c| c.scope).collect();
        assert_eq!(
            scopes,
            [
                Scope::Development,
                Scope::Development,
                Scope::Development,
                Scope::Development,
                Scope::Required,
                Scope::Required,
            ]
        );
        assert_eq!(
            purls(&output)[5],
            "pkg:maven/com.google.guava/guava@31.1-jre"
        );
    }

    #[test]
    fn buildscript_and_legacy_locks() {
        let plugins = "org.jetbrains.kotlin:kotlin-gradle-plugin:1.7.20=classpath\n";
        let output = catalog_tree(
            &[("buildscript-gradle.lockfile", plugins)],
            "buildscript-gradle.lockfile",
        );
        assert_eq!(
            component(&output, "org.jetbrains.kotlin:kotlin-gradle-plugin").scope,
            Scope::Development
        );

        let path = "gradle/dependency-locks/testRuntimeClasspath.lockfile";
        let legacy = "# comment\norg.junit:junit-bom:5.9.1\n";
        assert!(GradleLockfileCataloger.wants(&FileRef {
            path,
            explicit: false
        }));
        let output = catalog_tree(&[(path, legacy)], path);
        let junit = component(&output, "org.junit:junit-bom");
        assert_eq!(
            (junit.version.as_deref(), junit.scope),
            (Some("5.9.1"), Scope::Development)
        );
    }

    #[test]
    fn wants_lockfiles_by_name() {
        let wants = |path| {
            GradleLockfileCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("app/gradle.lockfile"));
        assert!(wants("buildscript-gradle.lockfile"));
        assert!(!wants("app/other.lockfile"));
        assert!(!wants(
            "venv/lib/python3.12/site-packages/x/gradle.lockfile"
        ));
    }
}
