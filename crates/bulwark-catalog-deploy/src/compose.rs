//! Compose files (`compose.yaml`, `docker-compose*.yml`): the image of every service.
//!
//! ```yaml
//! services:
//!   llm:
//!     image: vllm/vllm-openai:${VLLM_TAG:-v0.6.3}
//!   api:
//!     build: ./api          # no `image:`, nothing to report
//! ```
//!
//! `image:` values are interpolated as Compose does, with what the file alone knows: a
//! `${VAR:-default}` takes its default (noted in the description), a `${VAR}` whose value
//! comes from the environment cannot be resolved and is reported as a problem. A service with
//! both `build:` and `image:` names the image it builds; it is reported, with a note.

use std::collections::BTreeMap;
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::interpolate::Dialect;
use crate::{Sighting, image_component, problem};

/// Reads Compose files.
pub(crate) struct ComposeCataloger;

/// Why a Compose file could not be read.
#[derive(Debug, thiserror::Error)]
enum ComposeError {
    #[error("cannot read the Compose file")]
    Read(#[source] io::Error),
    #[error("not a valid Compose file")]
    Yaml(#[source] serde_saphyr::Error),
}

#[derive(Debug, Deserialize)]
struct ComposeFile {
    services: Option<BTreeMap<String, Option<Service>>>,
}

#[derive(Debug, Deserialize)]
struct Service {
    image: Option<Spanned<String>>,
    build: Option<IgnoredAny>,
}

/// Whether `name` is a Compose file name: `compose.yaml`, `compose.override.yml`,
/// `compose.<env>.yaml`, `docker-compose.yml`, `docker-compose.<anything>.yaml`,
/// `docker-compose-<anything>.yml`, in any case.
pub(crate) fn is_compose_name(name: &str) -> bool {
    if !crate::kubernetes::has_yaml_extension(name) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))
        .unwrap_or(&lower);
    stem == "compose" || stem.starts_with("compose.") || stem.starts_with("docker-compose")
}

impl Cataloger for ComposeCataloger {
    fn id(&self) -> &'static str {
        "deploy/compose"
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        is_compose_name(file.file_name()) && !crate::in_vendored_tree(file)
    }

    fn descend(&self, dir: &str) -> bool {
        crate::descend_into(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(ComposeError::Read)?;
        let compose: Option<ComposeFile> =
            serde_saphyr::from_str_with_options(&text, crate::yaml_options()).map_err(|error| {
                let line = error.location().as_ref().and_then(crate::yaml_line);
                let error = CatalogError::new(ComposeError::Yaml(error));
                match line {
                    Some(line) => error.at_line(line),
                    None => error,
                }
            })?;
        let mut output = CatalogOutput::default();
        let services = compose.and_then(|c| c.services).unwrap_or_default();
        for service in services.into_values().flatten() {
            let Some(image) = service.image else {
                continue;
            };
            let line = crate::yaml_line(&image.referenced);
            let sighting = Sighting {
                written: &image.value,
                line,
                resource_stack: None,
                note: service
                    .build
                    .map(|_| "built by this Compose file".to_owned()),
            };
            match image_component(
                file,
                &sighting,
                Some(Dialect::Compose),
                &|_| None,
                self.id(),
            ) {
                Ok(component) => output.components.push(component),
                Err(error) => output.problems.push(problem(file, line, self.id(), error)),
            }
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::catalog_text;

    #[test]
    fn names() {
        for (name, compose) in [
            ("compose.yaml", true),
            ("compose.yml", true),
            ("compose.override.yaml", true),
            ("docker-compose.yml", true),
            ("Docker-Compose.YAML", true),
            ("docker-compose.gpu.yml", true),
            ("docker-compose-dev.yaml", true),
            ("composer.yaml", false),
            ("my-compose.yml", false),
            ("docker-compose.json", false),
            ("compose", false),
        ] {
            assert_eq!(is_compose_name(name), compose, "{name}");
        }
    }

    #[test]
    fn services() {
        let text = "services:\n  web:\n    image: nginx:1.25\n  api:\n    build: ./api\n  worker:\n    build: .\n    image: registry.invalid/team/worker:dev\n  empty:\n";
        let output = catalog_text(&ComposeCataloger, "compose.yaml", text).unwrap();
        let found: Vec<(String, Option<u32>, String)> = output
            .components
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.locations.first().unwrap().line,
                    c.description.clone().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "nginx".into(),
                    Some(3),
                    "container image (mutable tag)".into()
                ),
                (
                    "registry.invalid/team/worker".into(),
                    Some(8),
                    "container image (mutable tag; built by this Compose file)".into()
                ),
            ]
        );
    }

    #[test]
    fn unresolvable_images_are_problems() {
        let text = "services:\n  app:\n    image: registry.invalid/app:${TAG}\n";
        let output = catalog_text(&ComposeCataloger, "compose.yaml", text).unwrap();
        assert!(output.components.is_empty());
        assert_eq!(output.problems.len(), 1);
        assert_eq!(output.problems[0].line, Some(3));
        assert!(
            output.problems[0].message.contains("`$TAG` has no default"),
            "{}",
            output.problems[0]
        );
    }

    #[test]
    fn broken_and_empty_files() {
        let error =
            catalog_text(&ComposeCataloger, "compose.yaml", "services:\n  a: [\n").unwrap_err();
        assert!(error.line.is_some());
        let output = catalog_text(&ComposeCataloger, "compose.yaml", "").unwrap();
        assert!(output.components.is_empty() && output.problems.is_empty());
        let output = catalog_text(&ComposeCataloger, "compose.yaml", "version: '3'\n").unwrap();
        assert!(output.components.is_empty());
    }
}
