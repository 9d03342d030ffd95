//! conda environment files (`environment.yml`): what an environment asks for.
//!
//! `dependencies` holds conda match specs and, under a nested `- pip:` list, pip requirements.
//! The two are different ecosystems: a pip entry is a PyPI package, never a conda one (a
//! peer labels them conda, and then matches PyPI advisories against conda names).
//!
//! ```yaml
//! name: ml
//! channels: [conda-forge]
//! dependencies:
//!   - python=3.11
//!   - conda-forge::pytorch>=2.1
//!   - pip
//!   - pip:
//!       - transformers==4.36.2
//! ```

use std::fmt;
use std::io;
use std::str::FromStr;

use bulwark_catalog::requirement_text::{RawUrl, split_extras, split_marker, split_name};
use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, Ecosystem, Location, Metadata, PackageSource, Problem, PythonRequirement,
};
use pep508_rs::pep440_rs::Operator;
use pep508_rs::{Pep508ErrorSource, Requirement, VersionOrUrl};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_saphyr::Spanned;

use crate::match_spec::{MatchSpec, MatchSpecError};
use crate::{CondaIdentity, yaml_line};

/// Reads conda environment files.
pub(crate) struct EnvironmentYmlCataloger;

/// Why an environment file could not be read.
#[derive(Debug, thiserror::Error)]
enum EnvironmentError {
    #[error("cannot read the environment file")]
    Read(#[source] io::Error),
    #[error("not a valid conda environment file")]
    Yaml(#[source] serde_saphyr::Error),
}

/// One entry that was skipped; the rest of the file was read.
#[derive(Debug, thiserror::Error)]
enum EntryError {
    #[error("skipped conda dependency")]
    Conda(#[source] MatchSpecError),
    #[error("skipped pip requirement `{text}`")]
    Pip {
        text: String,
        #[source]
        source: Pep508ErrorSource<RawUrl>,
    },
}

#[derive(Debug, Deserialize)]
struct Environment {
    dependencies: Option<Vec<Spanned<Dependency>>>,
}

/// A `dependencies` item: a match spec, or a mapping of installer name to requirement list
/// (only `pip` exists in practice).
#[derive(Debug)]
enum Dependency {
    Spec(String),
    Pip(Vec<Spanned<Option<String>>>),
    Other,
}

impl<'de> Deserialize<'de> for Dependency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DependencyVisitor;

        impl<'de> Visitor<'de> for DependencyVisitor {
            type Value = Dependency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a match spec or a `pip:` list")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Dependency, E> {
                Ok(Dependency::Spec(value.to_owned()))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Dependency, E> {
                Ok(Dependency::Other)
            }

            // A number or boolean names no package; one odd item must not lose the file.
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Dependency, E> {
                Ok(Dependency::Other)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Dependency, E> {
                Ok(Dependency::Other)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Dependency, E> {
                Ok(Dependency::Other)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Dependency, E> {
                Ok(Dependency::Other)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dependency, A::Error> {
                let mut pip = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "pip" {
                        let entries: Option<Vec<Spanned<Option<String>>>> = map.next_value()?;
                        pip = Some(entries.unwrap_or_default());
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(pip.map_or(Dependency::Other, Dependency::Pip))
            }
        }

        deserializer.deserialize_any(DependencyVisitor)
    }
}

impl Cataloger for EnvironmentYmlCataloger {
    fn id(&self) -> &'static str {
        "conda/environment-yml"
    }

    /// `environment.yml` and variants (`environment-gpu.yml`, `ml_environment.yaml`); a file
    /// the user names may be called anything with `env` or `conda` in it (`env.yml`,
    /// `conda.yaml`). conda-lock files are the lock cataloger's.
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        // Cheap refusal first: this runs for every file of an image.
        if !crate::is_yaml_name(file.file_name()) {
            return false;
        }
        let name = file.file_name().to_ascii_lowercase();
        let Some(stem) = name
            .strip_suffix(".yml")
            .or_else(|| name.strip_suffix(".yaml"))
        else {
            return false;
        };
        if stem.contains("conda-lock") {
            return false;
        }
        if file.explicit {
            return stem.contains("env") || stem.contains("conda");
        }
        stem == "environment"
            || stem
                .strip_prefix("environment")
                .is_some_and(|rest| rest.starts_with(['-', '_', '.']))
            || stem
                .strip_suffix("environment")
                .is_some_and(|rest| rest.ends_with(['-', '_', '.']))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(EnvironmentError::Read)?;
        let environment: Option<Environment> = crate::parse_yaml(&text, EnvironmentError::Yaml)?;
        let mut output = CatalogOutput::default();
        let dependencies = environment.and_then(|e| e.dependencies).unwrap_or_default();
        for dependency in dependencies {
            let line = yaml_line(&dependency.referenced);
            match dependency.value {
                Dependency::Spec(spec) => match conda_component(&spec, file, line, self.id()) {
                    Ok(component) => output.components.push(component),
                    Err(error) => output.problems.push(problem(file, line, self.id(), error)),
                },
                Dependency::Pip(entries) => {
                    for entry in entries {
                        let line = yaml_line(&entry.referenced);
                        let Some(text) = entry.value else { continue };
                        match pip_component(&text, file, line, self.id()) {
                            Ok(Some(component)) => output.components.push(component),
                            Ok(None) => {}
                            Err(error) => {
                                output.problems.push(problem(file, line, self.id(), error));
                            }
                        }
                    }
                }
                Dependency::Other => {}
            }
        }
        Ok(output)
    }
}

fn location(file: &FileRef<'_>, line: Option<u32>) -> Location {
    let location = Location::new(file.path);
    match line {
        Some(line) => location.at_line(line),
        None => location,
    }
}

fn problem(file: &FileRef<'_>, line: Option<u32>, found_by: &str, error: EntryError) -> Problem {
    Problem {
        path: file.path.to_owned(),
        line,
        cataloger: Some(found_by.to_owned()),
        message: CatalogError::new(error).render(),
    }
}

/// A conda match spec as a component; a version only where the spec pins one (see
/// [`MatchSpec::exact_version`]).
fn conda_component(
    spec_text: &str,
    file: &FileRef<'_>,
    line: Option<u32>,
    found_by: &str,
) -> Result<Component, EntryError> {
    let spec = MatchSpec::parse(spec_text).map_err(EntryError::Conda)?;
    let version = spec.exact_version();
    let identity = CondaIdentity {
        name: &spec.name,
        version,
        build: version.and(spec.exact_build()),
        build_number: None,
        channel: spec.channel.as_deref(),
        subdir: spec.subdir.as_deref(),
        prefix: None,
        spec: Some(spec_text.split('#').next().unwrap_or_default().trim()),
    };
    let mut component = identity.into_component(location(file, line), found_by);
    component.source = spec.channel.as_deref().map(|c| PackageSource::Registry {
        url: crate::channel_without_credentials(c),
    });
    Ok(component)
}

/// A pip entry as a PyPI component. Options (`-r requirements.txt`, `--index-url ...`,
/// `-e .`) and bare paths name no package and give `None`; a bare VCS or archive URL is
/// reported when its `#egg=` fragment names the package.
fn pip_component(
    text: &str,
    file: &FileRef<'_>,
    line: Option<u32>,
    found_by: &str,
) -> Result<Option<Component>, EntryError> {
    // pip comments need a space before `#` (a URL fragment has none).
    let text = text.split(" #").next().unwrap_or_default().trim();
    if text.is_empty() || text.starts_with('-') {
        return Ok(None);
    }
    let looks_like_location =
        text.contains("://") || text.starts_with(['.', '/', '~']) || text.contains('\\');
    let requirement = match Requirement::<RawUrl>::from_str(text) {
        Ok(requirement) => requirement,
        Err(_) if looks_like_location => return Ok(egg_component(text, file, line, found_by)),
        Err(error) => {
            return Err(EntryError::Pip {
                text: text.to_owned(),
                source: error.message,
            });
        }
    };
    let (name, rest) = split_name(text);
    let (extras, rest) = split_extras(rest);
    let (version, specifier, marker, source) = match &requirement.version_or_url {
        Some(VersionOrUrl::Url(url)) => {
            let after_url = rest
                .find(url.0.as_str())
                .map_or("", |start| &rest[start + url.0.len()..]);
            let marker = after_url.trim().strip_prefix(';').map(str::trim);
            (
                None,
                String::new(),
                marker.filter(|m| !m.is_empty()).map(str::to_owned),
                Some(crate::pip_url_source(&url.0)),
            )
        }
        version_or_url => {
            let (specifier, marker) = split_marker(rest);
            let pinned = match version_or_url {
                Some(VersionOrUrl::VersionSpecifier(specifiers))
                    if specifiers.len() == 1
                        && matches!(
                            specifiers[0].operator(),
                            Operator::Equal | Operator::ExactEqual
                        ) =>
                {
                    specifier
                        .strip_prefix("===")
                        .or_else(|| specifier.strip_prefix("=="))
                        .map(|v| v.trim().to_owned())
                }
                _ => None,
            };
            (pinned, specifier, marker, None)
        }
    };
    let mut component = Component::package(
        Ecosystem::PyPI,
        name,
        version.as_deref(),
        location(file, line),
        found_by,
    );
    component.source = source;
    component.metadata = Metadata::PythonRequirement(PythonRequirement {
        specifier,
        extras,
        marker,
    });
    Ok(Some(component))
}

/// `git+https://host/repo@v1#egg=name`: the name from the fragment, no version.
fn egg_component(
    text: &str,
    file: &FileRef<'_>,
    line: Option<u32>,
    found_by: &str,
) -> Option<Component> {
    let (url, fragment) = text.split_once('#')?;
    let name = fragment
        .split('&')
        .find_map(|part| part.strip_prefix("egg="))?;
    let (name, _) = split_name(name);
    if name.is_empty() {
        return None;
    }
    let mut component =
        Component::package(Ecosystem::PyPI, name, None, location(file, line), found_by);
    component.source = Some(crate::pip_url_source(url));
    component.metadata = Metadata::PythonRequirement(PythonRequirement::default());
    Some(component)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::test_support::{catalog_fixture, listing, testdata};

    const FOLDER: &str = "environment-yml";

    #[test]
    fn fixture_listings() {
        for fixture in [
            "environment.yml",
            "exported-environment.yml",
            "bench-environment.yml",
        ] {
            let output = catalog_fixture(&EnvironmentYmlCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(fixture, listing(&output));
        }
    }

    /// pip entries are PyPI, conda entries conda, in the hand fixture.
    #[test]
    fn pip_section_is_pypi() {
        let output = catalog_fixture(&EnvironmentYmlCataloger, FOLDER, "environment.yml").unwrap();
        let ecosystem = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.ecosystem)
        };
        assert_eq!(ecosystem("numpy"), Some(Ecosystem::Conda));
        assert_eq!(ecosystem("pip"), Some(Ecosystem::Conda));
        assert_eq!(ecosystem("transformers"), Some(Ecosystem::PyPI));
        assert_eq!(ecosystem("Flash_Attn"), Some(Ecosystem::PyPI));
        assert!(output.problems.is_empty(), "{:?}", output.problems);
    }

    /// The bench's generated environment against its truth file: every entry is found with
    /// the truth's version, two-segment `=` specs such as `idna=3.6` and `pytorch-cuda=12.1`
    /// included (see `MatchSpec::exact_version`).
    #[test]
    fn bench_environment_matches_truth() {
        let output =
            catalog_fixture(&EnvironmentYmlCataloger, FOLDER, "bench-environment.yml").unwrap();
        let truth =
            fs_err::read_to_string(testdata(FOLDER).join("bench-environment.yml.truth")).unwrap();
        let want: BTreeSet<(String, String, String)> = truth
            .lines()
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                Some((
                    parts.next()?.to_owned(),
                    parts.next()?.to_owned(),
                    parts.next()?.to_owned(),
                ))
            })
            .collect();
        let got: BTreeSet<(String, String, String)> = output
            .components
            .iter()
            .filter_map(|c| {
                let ecosystem = match c.ecosystem? {
                    Ecosystem::Conda => "conda",
                    Ecosystem::PyPI => "pypi",
                    _ => return None,
                };
                let name = bulwark_inventory::PackageName::new(c.ecosystem?, &c.name);
                Some((
                    ecosystem.to_owned(),
                    name.as_str().to_owned(),
                    c.version.clone()?,
                ))
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn broken_files() {
        let error = catalog_fixture(&EnvironmentYmlCataloger, FOLDER, "broken-environment.yml")
            .unwrap_err();
        assert!(
            error
                .render()
                .starts_with("not a valid conda environment file"),
            "{}",
            error.render()
        );
        assert!(error.line.is_some());

        let error = catalog_fixture(
            &EnvironmentYmlCataloger,
            FOLDER,
            "alias-bomb-environment.yml",
        )
        .unwrap_err();
        assert!(
            error.render().contains("budget"),
            "the YAML budget refuses it: {}",
            error.render()
        );

        let output =
            catalog_fixture(&EnvironmentYmlCataloger, FOLDER, "empty-environment.yml").unwrap();
        assert!(output.components.is_empty());
    }

    #[test]
    fn wants() {
        let wants =
            |path: &str, explicit: bool| EnvironmentYmlCataloger.wants(&FileRef { path, explicit });
        assert!(wants("environment.yml", false));
        assert!(wants("sub/environment.yaml", false));
        assert!(wants("environment-gpu.yml", false));
        assert!(wants("ml_environment.yml", false));
        assert!(!wants("environments.yml", false));
        assert!(!wants("conda-lock.yml", false));
        assert!(!wants("pnpm-lock.yaml", false));
        assert!(!wants("env.yml", false));
        assert!(wants("env.yml", true));
        assert!(wants("conda.yaml", true));
        assert!(!wants("conda-lock.yml", true));
        assert!(!wants("pnpm-lock.yaml", true));
    }
}
