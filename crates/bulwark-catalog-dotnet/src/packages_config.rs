//! `packages.config`: the package list of projects that predate `PackageReference`.
//!
//! ```xml
//! <packages>
//!   <package id="Newtonsoft.Json" version="13.0.3" targetFramework="net472" />
//!   <package id="NUnit" version="3.14.0" developmentDependency="true" />
//! </packages>
//! ```
//!
//! Every package is listed, transitive ones included, at its exact version; there are no
//! edges and no hashes. `developmentDependency="true"` marks a build-time-only package
//! ([`Scope::Development`]).
//!
//! The file is read as a stream of XML events: no tree is built, so its size is the only
//! bound on memory and nesting costs nothing.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::Scope;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::{DotnetError, line_of, nuget_component, problem};

const ID: &str = "dotnet/packages-config";

/// Reads `packages.config`.
pub(crate) struct PackagesConfigCataloger;

impl Cataloger for PackagesConfigCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        file.file_name() == "packages.config" && (file.explicit || !file.is_in_site_packages())
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(DotnetError::Read)?;
        if text.trim().is_empty() {
            return Ok(CatalogOutput::default());
        }
        parse(&text, file.path)
    }
}

/// Reads the package list of `text`, the contents of `path`.
fn parse(text: &str, path: &str) -> Result<CatalogOutput, CatalogError> {
    let mut reader = Reader::from_str(text);
    let mut output = CatalogOutput::default();
    // Open elements; `<package>` counts only directly inside the root.
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|error| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            CatalogError::new(DotnetError::Xml(error)).at_line(line_of(text, at))
        })?;
        let (element, opens) = match event {
            Event::Start(element) => (element, true),
            Event::Empty(element) => (element, false),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        if depth == 0 {
            if element.local_name().as_ref() != "packages" {
                return Err(CatalogError::new(DotnetError::Shape(
                    "the root element is not `<packages>`",
                ))
                .at_line(line_of(text, start)));
            }
            saw_root = true;
        } else if depth == 1 && element.local_name().as_ref() == "package" {
            package(&element, text, start, path, &mut output);
        }
        if opens {
            depth = depth.saturating_add(1);
        }
    }
    if !saw_root {
        return Err(CatalogError::new(DotnetError::Shape(
            "no `<packages>` element",
        )));
    }
    Ok(output)
}

/// One `<package id=… version=…>`.
fn package(
    element: &BytesStart<'_>,
    text: &str,
    start: usize,
    path: &str,
    output: &mut CatalogOutput,
) {
    let line = line_of(text, start);
    let mut id = None;
    let mut version = None;
    let mut development = false;
    for attribute in element.attributes() {
        let Ok(attribute) = attribute else {
            output.problems.push(problem(
                path,
                Some(line),
                ID,
                DotnetError::Shape("malformed attribute in `<package>`"),
            ));
            return;
        };
        let Ok(value) = attribute.normalized_value(XmlVersion::Implicit1_0) else {
            continue;
        };
        match attribute.key.local_name().as_ref() {
            "id" => id = Some(value.trim().to_owned()),
            "version" => version = Some(value.trim().to_owned()),
            "developmentDependency" => development = value.trim().eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    let (Some(id), Some(version)) = (
        id.filter(|i| !i.is_empty()),
        version.filter(|v| !v.is_empty()),
    ) else {
        output.problems.push(problem(
            path,
            Some(line),
            ID,
            DotnetError::Shape("a `<package>` lacks `id` or `version`"),
        ));
        return;
    };
    let mut component = nuget_component(&id, &version, path, Some(line), ID);
    if development {
        component.scope = Scope::Development;
    }
    output.components.push(component);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_fixture, listing};

    #[test]
    fn config_listing() {
        let output = catalog_fixture(&PackagesConfigCataloger, "packages.config").unwrap();
        insta::assert_snapshot!("packages-config", listing(&output));
        let nunit = output
            .components
            .iter()
            .find(|c| c.name == "NUnit")
            .unwrap();
        assert_eq!(nunit.scope, Scope::Development);
    }

    #[test]
    fn broken_files() {
        let error =
            catalog_fixture(&PackagesConfigCataloger, "other-root.packages.config").unwrap_err();
        assert_eq!(error.line, Some(2));
        let error =
            catalog_fixture(&PackagesConfigCataloger, "unclosed.packages.config").unwrap_err();
        assert!(error.to_string().contains("XML"), "{error}");
        let mut deep = String::from("<packages>");
        deep += &"<a>".repeat(100_000);
        deep += "<package id=\"x\" version=\"1\"/>";
        deep += &"</a>".repeat(100_000);
        deep += "</packages>";
        let output = parse(&deep, "packages.config").unwrap();
        // Nested elsewhere than directly in the root: not a package of this file.
        assert!(output.components.is_empty());
    }
}
