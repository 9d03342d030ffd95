//! `pyproject.toml`: what a project *declares* it needs.
//!
//! Read: PEP 621 `[project]` (`dependencies`, `optional-dependencies` → optional), PEP 735
//! `[dependency-groups]` (with `include-group`; development), Poetry's
//! `[tool.poetry.dependencies]`, `[tool.poetry.dev-dependencies]` and
//! `[tool.poetry.group.<group>.dependencies]` (the `main` group is run time, any other
//! development), uv's legacy `[tool.uv] dev-dependencies` and PDM's
//! `[tool.pdm.dev-dependencies]`.
//!
//! A declaration is a range, not an install: a dependency has a version only when it is
//! pinned exactly (`==1.2` in PEP 508; `1.2` or `==1.2` in Poetry, where a bare version is
//! an exact pin). The project itself is an [`ComponentKind::Application`] with a
//! `depends-on` edge to every declared dependency. `[build-system] requires` is left out:
//! build tools do not ship with the project.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentKind, Ecosystem, Location, Metadata, PackageSource, Problem,
    PythonRequirement, Scope,
};
use pep508_rs::pep440_rs::Version;
use serde::Deserialize;

use crate::lockfile::{depends_on, header_line, key_value_line, line_at, parse_toml, read_text};
use crate::requirement::DeclaredRequirement;

const ID: &str = "python/pyproject";

/// Reads `pyproject.toml`.
pub(crate) struct PyprojectCataloger;

impl Cataloger for PyprojectCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        if file.is_in_site_packages() && !file.explicit {
            return false;
        }
        file.file_name() == "pyproject.toml"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let manifest: Pyproject = parse_toml(&text)?;
        let mut reader = Reader {
            text: &text,
            path: file.path,
            components: Vec::new(),
            problems: Vec::new(),
        };
        reader.read(&manifest);
        Ok(reader.finish(&manifest))
    }
}

#[derive(Debug, Deserialize)]
struct Pyproject {
    project: Option<Project>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: BTreeMap<String, Vec<GroupEntry>>,
    tool: Option<Tool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Project {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
}

/// A PEP 735 group entry.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum GroupEntry {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
    /// A table kind a later PEP may add; ignored rather than failing the file.
    Other(
        #[allow(dead_code, reason = "kept only so that unknown entries deserialize")] toml::Value,
    ),
}

#[derive(Debug, Deserialize)]
struct Tool {
    poetry: Option<Poetry>,
    uv: Option<UvTool>,
    pdm: Option<PdmTool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Poetry {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    group: BTreeMap<String, PoetryGroup>,
}

#[derive(Debug, Deserialize)]
struct PoetryGroup {
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvTool {
    #[serde(default)]
    dev_dependencies: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PdmTool {
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<String>>,
}

struct Reader<'a> {
    text: &'a str,
    path: &'a str,
    components: Vec<Component>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn read(&mut self, manifest: &Pyproject) {
        if let Some(project) = &manifest.project {
            self.requirements(&project.dependencies, Scope::Required);
            for extra in project.optional_dependencies.values() {
                self.requirements(extra, Scope::Optional);
            }
        }
        for group in manifest.dependency_groups.keys() {
            let mut seen = BTreeSet::new();
            let requirements = group_requirements(&manifest.dependency_groups, group, &mut seen);
            self.requirements(requirements, Scope::Development);
        }
        let Some(tool) = &manifest.tool else { return };
        if let Some(poetry) = &tool.poetry {
            self.poetry(
                "[tool.poetry.dependencies]",
                &poetry.dependencies,
                Scope::Required,
            );
            self.poetry(
                "[tool.poetry.dev-dependencies]",
                &poetry.dev_dependencies,
                Scope::Development,
            );
            for (name, group) in &poetry.group {
                let scope = if name == "main" {
                    Scope::Required
                } else {
                    Scope::Development
                };
                let header = format!("[tool.poetry.group.{name}.dependencies]");
                self.poetry(&header, &group.dependencies, scope);
            }
        }
        if let Some(uv) = &tool.uv {
            self.requirements(&uv.dev_dependencies, Scope::Development);
        }
        if let Some(pdm) = &tool.pdm {
            for group in pdm.dev_dependencies.values() {
                self.requirements(group, Scope::Development);
            }
        }
    }

    /// PEP 508 strings; an invalid one is a problem at its line.
    fn requirements<'s>(
        &mut self,
        requirements: impl IntoIterator<Item = &'s String>,
        scope: Scope,
    ) {
        for text in requirements {
            let line = quoted_line(self.text, text);
            match DeclaredRequirement::parse(text) {
                Ok(requirement) => {
                    let mut location = Location::new(self.path);
                    location.line = line;
                    self.components
                        .push(requirement.into_component(location, ID, scope));
                }
                Err(error) => self.problems.push(Problem {
                    path: self.path.to_owned(),
                    line,
                    cataloger: Some(ID.to_owned()),
                    message: CatalogError::new(error).render(),
                }),
            }
        }
    }

    /// A Poetry dependency table: name → constraint, table, or list of tables.
    fn poetry(&mut self, header: &str, dependencies: &BTreeMap<String, toml::Value>, scope: Scope) {
        let section = header_line(self.text, header);
        for (name, value) in dependencies {
            if name.eq_ignore_ascii_case("python") {
                continue;
            }
            let line = section.and_then(|from| key_line(self.text, from, name));
            let entries: Vec<&toml::Value> = match value {
                toml::Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for entry in entries {
                let mut location = Location::new(self.path);
                location.line = line;
                self.components
                    .push(poetry_component(name, entry, location, scope));
            }
        }
    }

    fn finish(self, manifest: &Pyproject) -> CatalogOutput {
        let poetry = manifest.tool.as_ref().and_then(|t| t.poetry.as_ref());
        let project = manifest.project.as_ref();
        let name = project
            .and_then(|p| p.name.as_deref())
            .or_else(|| poetry.and_then(|p| p.name.as_deref()));
        let Some(name) = name else {
            // Nothing names the project (a workspace root, a tool-only file): the
            // declarations stand alone.
            return CatalogOutput {
                components: self.components,
                problems: self.problems,
                ..CatalogOutput::default()
            };
        };
        // `version` may be dynamic (set by the build backend): then there is none to report.
        let version = project
            .and_then(|p| p.version.as_deref())
            .or_else(|| poetry.and_then(|p| p.version.as_deref()));
        let mut location = Location::new(self.path);
        location.line = key_value_line(self.text, 1, "name", name);
        let mut root = Component::package(Ecosystem::PyPI, name, version, location, ID);
        root.kind = ComponentKind::Application;
        let mut relationships: Vec<_> = self
            .components
            .iter()
            .map(|dependency| depends_on(&root, dependency))
            .collect();
        relationships.sort();
        relationships.dedup();
        let mut components = self.components;
        components.push(root);
        CatalogOutput {
            components,
            relationships,
            problems: self.problems,
            ..CatalogOutput::default()
        }
    }
}

/// The requirement strings of a PEP 735 group, `include-group`s expanded; a group that
/// includes itself, directly or not, is expanded once.
fn group_requirements<'a>(
    groups: &'a BTreeMap<String, Vec<GroupEntry>>,
    group: &str,
    seen: &mut BTreeSet<String>,
) -> Vec<&'a String> {
    // PEP 735 compares group names normalized like package names.
    let key = |name: &str| crate::lockfile::normalized(name);
    if !seen.insert(key(group).as_str().to_owned()) {
        return Vec::new();
    }
    let Some(entries) = groups
        .iter()
        .find(|(name, _)| key(name) == key(group))
        .map(|(_, e)| e)
    else {
        return Vec::new();
    };
    let mut requirements = Vec::new();
    for entry in entries {
        match entry {
            GroupEntry::Requirement(text) => requirements.push(text),
            GroupEntry::Include { include_group } => {
                requirements.extend(group_requirements(groups, include_group, seen));
            }
            GroupEntry::Other(_) => {}
        }
    }
    requirements
}

/// One Poetry dependency entry as a component.
fn poetry_component(
    name: &str,
    value: &toml::Value,
    location: Location,
    scope: Scope,
) -> Component {
    let table = value.as_table();
    let get = |key: &str| table.and_then(|t| t.get(key)).and_then(toml::Value::as_str);
    let specifier = value
        .as_str()
        .or_else(|| get("version"))
        .unwrap_or_default();
    let optional = table
        .and_then(|t| t.get("optional"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    let extras = table
        .and_then(|t| t.get("extras"))
        .and_then(toml::Value::as_array)
        .map(|extras| {
            extras
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let source = if let Some(git) = get("git") {
        Some(PackageSource::Vcs {
            vcs: "git".to_owned(),
            url: git.to_owned(),
            requested_revision: get("rev")
                .or_else(|| get("tag"))
                .or_else(|| get("branch"))
                .map(str::to_owned),
            commit: None,
        })
    } else if let Some(path) = get("path") {
        Some(PackageSource::Path {
            path: path.to_owned(),
            editable: table
                .and_then(|t| t.get("develop"))
                .and_then(toml::Value::as_bool)
                .unwrap_or(false),
        })
    } else {
        get("url").map(|url| PackageSource::Url {
            url: url.to_owned(),
        })
    };
    let version = poetry_pin(specifier);
    let mut component = Component::package(Ecosystem::PyPI, name, version, location, ID);
    component.scope = if optional && scope == Scope::Required {
        Scope::Optional
    } else {
        scope
    };
    component.source = source;
    component.metadata = Metadata::PythonRequirement(PythonRequirement {
        specifier: specifier.to_owned(),
        extras,
        marker: get("markers").map(str::to_owned),
    });
    component
}

/// The version of an exact Poetry constraint: `1.2.3` (Poetry reads a bare version as
/// `==1.2.3`) or `==1.2.3`. `^1.2`, `~1.2`, `1.2.*` and ranges are not pins.
fn poetry_pin(constraint: &str) -> Option<&str> {
    let constraint = constraint.trim();
    let version = constraint
        .strip_prefix("==")
        .map(str::trim)
        .unwrap_or(constraint);
    (!version.is_empty() && Version::from_str(version).is_ok()).then_some(version)
}

/// The 1-based line where `"text"` (or `'text'`) is written.
fn quoted_line(text: &str, value: &str) -> Option<u32> {
    ['"', '\'']
        .iter()
        .find_map(|quote| text.find(&format!("{quote}{value}{quote}")))
        .map(|offset| line_at(text, offset))
}

/// The line of key `key` in the table that starts at line `from` (1-based).
fn key_line(text: &str, from: u32, key: &str) -> Option<u32> {
    let skip = usize::try_from(from).unwrap_or(usize::MAX);
    for (index, line) in text.lines().enumerate().skip(skip) {
        let line = line.trim_start();
        if line.starts_with('[') {
            return None;
        }
        let rest = line
            .strip_prefix(key)
            .or_else(|| line.strip_prefix(&format!("\"{key}\"")));
        if rest.is_some_and(|r| r.trim_start().starts_with('=')) {
            return u32::try_from(index + 1).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::test_support::{catalog_fixture, listing};

    const FOLDER: &str = "pyproject";

    fn catalog(fixture: &str) -> CatalogOutput {
        catalog_fixture(&PyprojectCataloger, FOLDER, fixture).unwrap()
    }

    #[test]
    fn claims_pyproject_toml_only() {
        assert!(PyprojectCataloger.wants(&FileRef {
            path: "a/pyproject.toml",
            explicit: false
        }));
        assert!(!PyprojectCataloger.wants(&FileRef {
            path: "a/Pipfile",
            explicit: true
        }));
    }

    #[test]
    fn pep_621_and_dependency_groups() {
        let output = catalog("pep621/pyproject.toml");
        insta::assert_snapshot!("pep621", listing(&output));
        let root = output
            .components
            .iter()
            .find(|c| c.kind == ComponentKind::Application)
            .unwrap();
        assert_eq!(root.name, "demo-app");
        // One edge per distinct dependency: `numpy` is declared twice, `pytest` and
        // `pytest-cov` reach `dev` through `include-group`.
        assert_eq!(output.relationships.len(), 8);
        assert_eq!(output.problems.len(), 1);
        assert_eq!(output.problems[0].line, Some(15));
        let torch = output
            .components
            .iter()
            .find(|c| c.name == "torch")
            .unwrap();
        assert_eq!(torch.version.as_deref(), Some("2.2.0+cu121"));
    }

    #[test]
    fn poetry_tables() {
        let output = catalog("poetry/pyproject.toml");
        insta::assert_snapshot!("poetry", listing(&output));
        let pinned = output
            .components
            .iter()
            .find(|c| c.name == "requests")
            .unwrap();
        assert_eq!(pinned.version.as_deref(), Some("2.31.0"));
        let caret = output
            .components
            .iter()
            .find(|c| c.name == "numpy")
            .unwrap();
        assert_eq!(caret.version, None);
        let Metadata::PythonRequirement(requirement) = &caret.metadata else {
            panic!("{:?}", caret.metadata);
        };
        assert_eq!(requirement.specifier, "^1.26");
    }

    #[test]
    fn poetry_pins() {
        assert_eq!(poetry_pin("1.2.3"), Some("1.2.3"));
        assert_eq!(poetry_pin("==1.2.3"), Some("1.2.3"));
        for constraint in ["^1.2", "~1.2", "1.2.*", ">=1,<2", "*", ""] {
            assert_eq!(poetry_pin(constraint), None, "{constraint}");
        }
    }

    #[test]
    fn broken_and_empty_files() {
        assert!(catalog_fixture(&PyprojectCataloger, FOLDER, "broken/pyproject.toml").is_err());
        let output = catalog("empty/pyproject.toml");
        assert!(output.components.is_empty());
    }
}
