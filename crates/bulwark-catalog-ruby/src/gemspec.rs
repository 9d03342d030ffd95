//! Installed gems: the `specifications/*.gemspec` files of a gem home
//! (`…/gems/3.2.0/specifications/nokogiri-1.15.4-x86_64-linux.gemspec`, and
//! `specifications/default/` for the default gems that ship with Ruby).
//!
//! RubyGems writes these files itself when it installs a gem (`Gem::Specification#to_ruby`):
//! Ruby source, one `s.<attribute> = <value>` per line, values as literals
//! (`"1.15.4".freeze`, `["MIT".freeze]`, `%q<racc>`). They are read here as text, the way
//! Syft reads them: only static string literals are taken, nothing is ever evaluated, and an
//! interpolated string (`"#{x}"`) or any other expression is treated as absent. A
//! hand-written gemspec named on the command line is read the same way; whatever it computes
//! is not seen.
//!
//! Runtime dependencies (`add_runtime_dependency`, `add_dependency`) become dependency
//! requests resolved among the gems of the same gem home; development dependencies are not
//! installed with a gem and are skipped.

use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, DependencyRequest, Ecosystem, License, Location, PackageName, Purl,
};

use crate::ruby_literal::{self, Value};

const ID: &str = "ruby/gemspec";

/// Reads installed gem specifications.
pub(crate) struct GemspecCataloger;

/// Why a specification could not be read.
#[derive(Debug, thiserror::Error)]
enum GemspecError {
    #[error("cannot read the gem specification")]
    Read(#[source] io::Error),
    #[error("the gem specification has no static `{0}`")]
    Missing(&'static str),
}

impl Cataloger for GemspecCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !crate::is_installed_gem_content(dir) && !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        let Some(stem) = file.file_name().strip_suffix(".gemspec") else {
            return false;
        };
        !stem.is_empty() && (file.explicit || gem_home(file.path).is_some())
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(GemspecError::Read)?;
        let spec = Specification::parse(&text);
        let (name, name_line) = spec.name.ok_or(GemspecError::Missing("name"))?;
        let version = spec.version.ok_or(GemspecError::Missing("version"))?;

        let mut component = Component::package(
            Ecosystem::RubyGems,
            &name,
            Some(&version),
            Location::new(file.path).at_line(name_line),
            ID,
        );
        let platform = spec.platform.filter(|p| p != "ruby");
        component.purl = Purl::builder(Ecosystem::RubyGems, &name)
            .version(Some(&version))
            .qualifier("platform", platform.as_deref())
            .build();
        component.licenses = spec
            .licenses
            .iter()
            .filter_map(|l| License::from_declared(l))
            .collect();
        component.supplier = Some(spec.authors.join(", ")).filter(|a| !a.is_empty());
        component.description = spec.summary;

        let from = ComponentId::of(&component);
        // Outside a gem home (an explicitly named file) there is nothing to resolve against
        // but the whole target.
        let within = gem_home(file.path).map(str::to_owned);
        let requests = spec
            .dependencies
            .iter()
            .map(|dependency| DependencyRequest {
                from: from.clone(),
                ecosystem: Ecosystem::RubyGems,
                name: PackageName::new(Ecosystem::RubyGems, dependency),
                within: within.clone(),
            })
            .collect();
        Ok(CatalogOutput {
            components: vec![component],
            requests,
            ..CatalogOutput::default()
        })
    }
}

/// The gem home of a specification file: the path up to and including the directory that
/// holds `specifications/` (`""` or ending in `/`). `None` when the file is not in a
/// `specifications/` (or `specifications/default/`) directory.
fn gem_home(path: &str) -> Option<&str> {
    let (dir, _) = path.rsplit_once('/')?;
    let dir = dir.strip_suffix("/default").unwrap_or(dir);
    let home = dir.strip_suffix("specifications")?;
    (home.is_empty() || home.ends_with('/')).then_some(home)
}

/// The attributes of a gemspec, as static literals.
#[derive(Debug, Default, PartialEq, Eq)]
struct Specification {
    name: Option<(String, u32)>,
    version: Option<String>,
    platform: Option<String>,
    licenses: Vec<String>,
    authors: Vec<String>,
    summary: Option<String>,
    /// Runtime dependency names.
    dependencies: Vec<String>,
}

impl Specification {
    fn parse(text: &str) -> Self {
        let mut spec = Self::default();
        // The block variable: `s` in what RubyGems writes, often `spec` by hand.
        let mut variable = "s".to_owned();
        // The `# stub: name version platform require_paths` header, a fallback for files
        // whose attributes are not literals.
        let mut stub: Option<(String, String, String, u32)> = None;
        // Specs written by RubyGems before 2.x declare each dependency twice: as
        // `add_development_dependency` for new RubyGems and as `add_dependency` in an `else`
        // branch for old ones. Without evaluating the branches, a name ever declared for
        // development is a development dependency.
        let mut development: Vec<String> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("# stub: ") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(version), Some(platform)) =
                    (words.next(), words.next(), words.next())
                {
                    stub = Some((name.into(), version.into(), platform.into(), number));
                }
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            if let Some(block) = block_variable(line) {
                variable = block.to_owned();
                continue;
            }
            let Some(rest) = line
                .strip_prefix(variable.as_str())
                .and_then(|r| r.strip_prefix('.'))
            else {
                continue;
            };
            if let Some((method, arguments)) = dependency_call(rest) {
                if let Some((Value::String(name), _)) = ruby_literal::parse(arguments) {
                    if method == "add_development_dependency" {
                        development.push(name);
                    } else if !spec.dependencies.contains(&name) {
                        spec.dependencies.push(name);
                    }
                }
                continue;
            }
            let Some((attribute, value)) = rest.split_once('=') else {
                continue;
            };
            let attribute = attribute.trim();
            let value = value.trim_start();
            // `s.name == "x"` is a comparison, not an assignment.
            if value.starts_with('=') {
                continue;
            }
            let Some((value, true)) = ruby_literal::parse(value) else {
                continue;
            };
            match (attribute, value) {
                ("name", Value::String(name)) => spec.name = Some((name, number)),
                ("version", Value::String(version)) => spec.version = Some(version),
                ("platform", Value::String(platform)) => spec.platform = Some(platform),
                ("license", Value::String(license)) => spec.licenses = vec![license],
                ("licenses", Value::Array(licenses)) => spec.licenses = licenses,
                ("licenses", Value::String(license)) => spec.licenses = vec![license],
                ("authors", Value::Array(authors)) => spec.authors = authors,
                ("author" | "authors", Value::String(author)) => spec.authors = vec![author],
                ("summary", Value::String(summary)) => spec.summary = Some(summary),
                _ => {}
            }
        }
        spec.dependencies.retain(|name| !development.contains(name));
        if let Some((name, version, platform, line)) = stub {
            if spec.name.is_none() {
                spec.name = Some((name, line));
            }
            spec.version.get_or_insert(version);
            spec.platform.get_or_insert(platform);
        }
        spec
    }
}

/// `Gem::Specification.new do |s|` → `s`.
fn block_variable(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Gem::Specification.new")?;
    let (_, after) = rest.split_once('|')?;
    let (variable, _) = after.split_once('|')?;
    let variable = variable.trim();
    (!variable.is_empty()
        && variable
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some(variable)
}

/// `add_runtime_dependency(%q<racc>, …)` or `add_dependency "racc", …` → the method and the
/// text after the opening parenthesis or space.
fn dependency_call(rest: &str) -> Option<(&str, &str)> {
    for method in [
        "add_runtime_dependency",
        "add_development_dependency",
        "add_dependency",
    ] {
        if let Some(arguments) = rest.strip_prefix(method) {
            let arguments = arguments
                .strip_prefix('(')
                .or_else(|| arguments.strip_prefix(' '))?;
            return Some((method, arguments.trim_start()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_fixture, listing};

    fn want(path: &str) -> bool {
        GemspecCataloger.wants(&FileRef {
            path,
            explicit: false,
        })
    }

    #[test]
    fn claims_specifications_of_a_gem_home() {
        assert!(want(
            "usr/local/lib/ruby/gems/3.2.0/specifications/rack-3.0.8.gemspec"
        ));
        assert!(want(
            "usr/local/lib/ruby/gems/3.2.0/specifications/default/json-2.6.3.gemspec"
        ));
        assert!(want("specifications/rack-3.0.8.gemspec"));
        // A gem's own source gemspec is not an installed gem.
        assert!(!want(
            "vendor/bundle/ruby/3.2.0/gems/rack-3.0.8/rack.gemspec"
        ));
        assert!(!want("myspecifications/rack.gemspec"));
        assert!(!want("specifications/rack-3.0.8.gemspec.bak"));
        assert!(GemspecCataloger.wants(&FileRef {
            path: "mygem.gemspec",
            explicit: true
        }));
        assert_eq!(
            gem_home("a/gems/3.2.0/specifications/default/x.gemspec"),
            Some("a/gems/3.2.0/")
        );
        assert_eq!(gem_home("specifications/x.gemspec"), Some(""));
    }

    #[test]
    fn installed_gem_home_listing() {
        let mut text = String::new();
        for fixture in [
            "nokogiri-1.15.4-x86_64-linux.gemspec",
            "racc-1.7.3.gemspec",
            "default/json-2.7.1.gemspec",
            "legacy-0.9.0.gemspec",
        ] {
            let path = format!("gem-home/specifications/{fixture}");
            let file = FileRef {
                path: &path,
                explicit: false,
            };
            assert!(GemspecCataloger.wants(&file), "{path}");
            let output = catalog_fixture(&GemspecCataloger, &path).unwrap();
            text += &listing(&output);
            for component in &output.components {
                text += &format!(
                    "\n  licenses={:?} supplier={:?} description={:?}",
                    component
                        .licenses
                        .iter()
                        .map(License::as_str)
                        .collect::<Vec<_>>(),
                    component.supplier,
                    component.description
                );
            }
            for request in &output.requests {
                text += &format!("\n  requests {} within {:?}", request.name, request.within);
            }
            text += "\n";
        }
        insta::assert_snapshot!("gem-home", text);
    }

    #[test]
    fn platform_is_a_qualifier_and_runtime_dependencies_are_requests() {
        let output = catalog_fixture(
            &GemspecCataloger,
            "gem-home/specifications/nokogiri-1.15.4-x86_64-linux.gemspec",
        )
        .unwrap();
        let component = &output.components[0];
        assert_eq!(component.version.as_deref(), Some("1.15.4"));
        assert_eq!(
            component.purl.as_ref().map(Purl::as_str),
            Some("pkg:gem/nokogiri@1.15.4?platform=x86_64-linux")
        );
        let names: Vec<&str> = output.requests.iter().map(|r| r.name.as_str()).collect();
        // `rake-compiler` is a development dependency.
        assert_eq!(names, ["racc"]);
        assert_eq!(output.requests[0].within.as_deref(), Some("gem-home/"));
    }

    #[test]
    fn interpolated_and_computed_values_are_not_read() {
        let spec = Specification::parse(
            "Gem::Specification.new do |spec|\n  spec.name = \"demo\"\n  \
             spec.version = Demo::VERSION\n  spec.license = \"#{LICENSE}\"\n  \
             spec.authors = [\"A\", author_name]\n  spec.summary = 'It''s'\nend\n",
        );
        assert_eq!(spec.name, Some(("demo".to_owned(), 2)));
        assert_eq!(spec.version, None);
        assert!(spec.licenses.is_empty());
        assert!(spec.authors.is_empty());
        // Two adjacent literals are not one static value bulwark can read safely.
        assert_eq!(spec.summary, None);
    }

    #[test]
    fn a_spec_without_a_version_is_an_error() {
        let error = catalog_fixture(&GemspecCataloger, "computed.gemspec").unwrap_err();
        assert!(error.to_string().contains("version"), "{error}");
    }
}
