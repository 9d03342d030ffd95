//! Deployment catalogers: the container images a deployment runs, from Kubernetes manifests
//! (rendered Helm output, KServe, KubeRay, Knative), Compose files and Dockerfiles, with the
//! ML serving stack each image belongs to.
//!
//! # Components
//!
//! Every image reference becomes a [`ComponentKind::Container`] component:
//!
//! - `name`: the reference as people write it, without tag or digest (`vllm/vllm-openai`,
//!   `registry.example/team/app`); see [`ImageRef::name`].
//! - `version`: the tag as written, the digest when the reference has no tag, and `latest`
//!   when it has neither (what every engine pulls then, so `nginx` and `nginx:latest` are one
//!   component).
//! - `purl`: `pkg:oci/<last path segment>@<digest>?repository_url=<registry>/<path>&tag=<tag>`
//!   ([`ImageRef::purl`]). The purl version is the digest and nothing else: **a container
//!   purl without a version is a mutable reference**. A reference naming no registry keeps
//!   the bare repository path in `repository_url` (`library/nginx` for `nginx`): the default
//!   registry is an engine setting, and bulwark writes no registry host of its own. The
//!   shared purl builder percent-encodes `/` in qualifier values, so the canonical text is
//!   `pkg:oci/vllm-openai?repository_url=vllm%2Fvllm-openai&tag=v0.6.3`.
//! - `description`: `"<stack> serving image (mutable tag)"` or `"container image (pinned by
//!   digest)"`, plus the text as written when variables were substituted, so both facts reach
//!   SBOMs.
//! - `locations`: the file and the line of the reference.
//!
//! [`image_reference`] reads the reference back from a component (also one decoded from an
//! SBOM), and [`serving_stack`] tells its serving stack.
//!
//! A KServe `storageUri` (the model an `InferenceService` serves) becomes a
//! [`ComponentKind::MachineLearningModel`] component named by the URI, without credentials
//! or query string, and without purl or version.

mod compose;
mod dockerfile;
mod interpolate;
mod kubernetes;
mod reference;
mod stack;

use bulwark_catalog::{CatalogError, Cataloger, FileRef};
use bulwark_inventory::{Component, ComponentKind, Location, Problem};

pub use reference::{DEFAULT_TAG, ImageRef, ImageRefError, OCI_PURL_TYPE};
pub use stack::ServingStack;

use interpolate::{Dialect, InterpolationError};

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(kubernetes::KubernetesCataloger),
        Box::new(compose::ComposeCataloger),
        Box::new(dockerfile::DockerfileCataloger),
    ]
}

/// The image reference of a container component, read back from its purl: registry,
/// repository, tag and digest. `None` for other components.
///
/// A reference that is not [pinned](ImageRef::is_pinned) names a mutable tag; the CLI can
/// report it as a finding:
///
/// ```
/// # use bulwark_catalog_deploy::ImageRef;
/// let reference = ImageRef::parse("vllm/vllm-openai:v0.6.3").unwrap();
/// assert!(!reference.is_pinned());
/// assert_eq!(reference.effective_tag(), Some("v0.6.3"));
/// ```
pub fn image_reference(component: &Component) -> Option<ImageRef> {
    if component.kind != ComponentKind::Container {
        return None;
    }
    ImageRef::from_purl(component.purl.as_ref()?)
}

/// The ML serving stack a container component belongs to: by its image repository, or, for
/// an image a KServe or KubeRay resource runs, by that resource (recorded at the head of the
/// description, since a component has no other place for it).
pub fn serving_stack(component: &Component) -> Option<ServingStack> {
    if component.kind != ComponentKind::Container {
        return None;
    }
    if let Some(stack) =
        image_reference(component).and_then(|r| ServingStack::from_repository(r.path()))
    {
        return Some(stack);
    }
    let description = component.description.as_deref()?;
    ServingStack::ALL.iter().copied().find(|stack| {
        description
            .strip_prefix(stack.name())
            .is_some_and(|rest| rest.starts_with(" serving image"))
    })
}

/// Whether files below `dir` can hold deployment files worth reading: not installed Python
/// packages' or npm packages' own trees (their Dockerfiles and compose files are the
/// packages' sources and tests, not this deployment).
fn descend_into(dir: &str) -> bool {
    !dir.split('/')
        .any(|s| matches!(s, "node_modules" | "site-packages" | "dist-packages"))
}

/// Whether a file lies where [`descend_into`] would not go (for explicit single files too).
fn in_vendored_tree(file: &FileRef<'_>) -> bool {
    !descend_into(file.dir())
}

/// An image reference found in a file, before it becomes a component.
#[derive(Debug)]
struct Sighting<'a> {
    /// The text as written in the file.
    written: &'a str,
    /// The 1-based line.
    line: Option<u32>,
    /// The stack the enclosing resource implies (KServe, KubeRay).
    resource_stack: Option<ServingStack>,
    /// A fact about this use of the image for the description (`built by this Compose file`).
    note: Option<String>,
}

/// Why a written reference gave no image.
#[derive(Debug, thiserror::Error)]
enum SightingError {
    #[error("image `{written}` cannot be resolved from the file alone")]
    Interpolation {
        written: String,
        #[source]
        source: InterpolationError,
    },
    #[error(transparent)]
    Reference(#[from] ImageRefError),
}

/// The component for `sighting`: its variables expanded with `lookup` in `dialect` (`None`
/// for formats without substitution), its reference parsed.
fn image_component(
    file: &FileRef<'_>,
    sighting: &Sighting<'_>,
    dialect: Option<Dialect>,
    lookup: &dyn Fn(&str) -> Option<String>,
    found_by: &str,
) -> Result<Component, SightingError> {
    let written = sighting.written.trim();
    let (text, substituted) = match dialect {
        Some(dialect) => {
            let expanded = interpolate::expand(written, dialect, lookup).map_err(|source| {
                SightingError::Interpolation {
                    written: written.to_owned(),
                    source,
                }
            })?;
            (expanded.value, expanded.substituted)
        }
        None => (written.to_owned(), false),
    };
    let reference = ImageRef::parse(&text)?;
    let stack = ServingStack::from_repository(reference.path()).or(sighting.resource_stack);
    let mut notes = vec![
        if reference.is_pinned() {
            "pinned by digest"
        } else {
            "mutable tag"
        }
        .to_owned(),
    ];
    if substituted {
        notes.push(format!("written `{written}`, variables at their defaults"));
    }
    notes.extend(sighting.note.clone());
    let head = match stack {
        Some(stack) => format!("{} serving image", stack.name()),
        None => "container image".to_owned(),
    };
    let version = reference
        .tag
        .as_deref()
        .or(reference.digest.as_deref())
        .unwrap_or(DEFAULT_TAG);
    let mut component = bare_component(
        ComponentKind::Container,
        &reference.name(),
        Some(version),
        location(file, sighting.line),
        found_by,
    );
    component.purl = reference.purl();
    component.description = Some(format!("{head} ({})", notes.join("; ")));
    Ok(component)
}

/// A component outside any package ecosystem, found at `location`.
fn bare_component(
    kind: ComponentKind,
    name: &str,
    version: Option<&str>,
    location: Location,
    found_by: &str,
) -> Component {
    let mut component = Component::bare(kind, name, version, found_by);
    component.locations.insert(location);
    component
}

fn location(file: &FileRef<'_>, line: Option<u32>) -> Location {
    let location = Location::new(file.path);
    match line {
        Some(line) => location.at_line(line),
        None => location,
    }
}

/// A problem in one entry of a file; the rest of the file was read.
fn problem(
    file: &FileRef<'_>,
    line: Option<u32>,
    cataloger: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> Problem {
    Problem {
        path: file.path.to_owned(),
        line,
        cataloger: Some(cataloger.to_owned()),
        message: CatalogError::new(error).render(),
    }
}

/// YAML parser settings for untrusted input: bounded aliases, nesting and size, one-line
/// errors.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Compose files share settings through anchors and merge keys (`<<: *defaults`);
    // manifests rarely use them. A few thousand is generous for both and no alias bomb.
    budget.max_aliases = 5_000;
    budget.max_anchors = 5_000;
    // Deeper than any manifest (CRD schemas included) and shallow enough for small stacks.
    budget.max_depth = 64;
    serde_saphyr::options! {
        budget: Some(budget),
        with_snippet: false,
    }
}

/// The 1-based line of a YAML location, `None` when unknown.
fn yaml_line(location: &serde_saphyr::Location) -> Option<u32> {
    u32::try_from(location.line()).ok().filter(|&line| line > 0)
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::test_support::{catalog_fixture, listing, testdata};

    #[derive(Debug, Deserialize)]
    struct Expected {
        cataloger: String,
        images: Vec<ExpectedImage>,
        #[serde(default)]
        models: Vec<ExpectedModel>,
        #[serde(default)]
        problems: Vec<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
    struct ExpectedImage {
        name: String,
        version: String,
        line: u32,
        stack: Option<String>,
        pinned: bool,
        #[serde(default)]
        purl: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
    struct ExpectedModel {
        name: String,
        line: u32,
    }

    /// Every fixture of `testdata/EXPECTED.json` gives exactly the images, models and
    /// problems listed there, and its cataloger wants it.
    #[test]
    fn fixtures_match_expected_json() {
        #[derive(Deserialize)]
        struct File {
            expected: BTreeMap<String, Expected>,
        }
        let text = fs_err::read_to_string(testdata().join("EXPECTED.json")).unwrap();
        let expected = serde_json::from_str::<File>(&text).unwrap().expected;
        assert_eq!(expected.len(), 7);
        let catalogers = catalogers();
        for (fixture, want) in expected {
            let cataloger = catalogers
                .iter()
                .find(|c| c.id() == want.cataloger)
                .unwrap_or_else(|| panic!("no cataloger {}", want.cataloger));
            let file = FileRef {
                path: &fixture,
                explicit: false,
            };
            assert!(cataloger.wants(&file), "{fixture}");
            for other in catalogers.iter().filter(|c| c.id() != want.cataloger) {
                assert!(
                    !other.wants(&file),
                    "{fixture} is also wanted by {}",
                    other.id()
                );
            }
            let output = catalog_fixture(cataloger.as_ref(), &fixture).unwrap();
            let context = format!("{fixture}:\n{}", listing(&output));
            let images: Vec<ExpectedImage> = output
                .components
                .iter()
                .filter(|c| c.kind == ComponentKind::Container)
                .map(|c| {
                    let purl = c.purl.as_ref().map(ToString::to_string);
                    let wanted_purl = want
                        .images
                        .iter()
                        .find(|i| i.name == c.name && i.purl.is_some())
                        .and(purl);
                    ExpectedImage {
                        name: c.name.clone(),
                        version: c.version.clone().unwrap_or_default(),
                        line: c.locations.first().and_then(|l| l.line).unwrap_or(0),
                        stack: serving_stack(c).map(|s| s.name().to_owned()),
                        pinned: image_reference(c).unwrap().is_pinned(),
                        purl: wanted_purl,
                    }
                })
                .collect();
            let mut want_images = want.images;
            want_images.sort();
            let mut images = images;
            images.sort();
            assert_eq!(images, want_images, "{context}");
            let mut models: Vec<ExpectedModel> = output
                .components
                .iter()
                .filter(|c| c.kind == ComponentKind::MachineLearningModel)
                .map(|c| ExpectedModel {
                    name: c.name.clone(),
                    line: c.locations.first().and_then(|l| l.line).unwrap_or(0),
                })
                .collect();
            models.sort();
            let mut want_models = want.models;
            want_models.sort();
            assert_eq!(models, want_models, "{context}");
            let problems: Vec<u32> = output
                .problems
                .iter()
                .map(|p| p.line.unwrap_or(0))
                .collect();
            assert_eq!(problems, want.problems, "{context}");
        }
    }

    fn component(written: &str, resource_stack: Option<ServingStack>) -> Component {
        let file = FileRef {
            path: "deploy/app.yaml",
            explicit: false,
        };
        let sighting = Sighting {
            written,
            line: Some(7),
            resource_stack,
            note: None,
        };
        image_component(&file, &sighting, Some(Dialect::Compose), &|_| None, "test").unwrap()
    }

    #[test]
    fn container_components() {
        let c = component("vllm/vllm-openai:v0.6.3", None);
        assert_eq!(c.kind, ComponentKind::Container);
        assert_eq!(c.ecosystem, None);
        assert_eq!(c.name, "vllm/vllm-openai");
        assert_eq!(c.version.as_deref(), Some("v0.6.3"));
        assert_eq!(
            c.purl.as_ref().unwrap().as_str(),
            "pkg:oci/vllm-openai?repository_url=vllm%2Fvllm-openai&tag=v0.6.3"
        );
        assert_eq!(
            c.description.as_deref(),
            Some("vLLM serving image (mutable tag)")
        );
        assert_eq!(c.locations.first().unwrap().line, Some(7));
        assert_eq!(serving_stack(&c), Some(ServingStack::Vllm));
        assert!(!image_reference(&c).unwrap().is_pinned());
    }

    #[test]
    fn the_resource_names_the_stack_of_a_custom_image() {
        let c = component(
            "registry.invalid/team/predictor:1",
            Some(ServingStack::KServe),
        );
        assert_eq!(
            c.description.as_deref(),
            Some("KServe serving image (mutable tag)")
        );
        assert_eq!(serving_stack(&c), Some(ServingStack::KServe));
        let plain = component("registry.invalid/team/predictor:1", None);
        assert_eq!(serving_stack(&plain), None);
        assert_eq!(plain.version.as_deref(), Some("1"));
    }

    #[test]
    fn substitution_is_noted() {
        let c = component("app:${TAG:-2.0}", None);
        assert_eq!(c.version.as_deref(), Some("2.0"));
        assert_eq!(
            c.description.as_deref(),
            Some(
                "container image (mutable tag; written `app:${TAG:-2.0}`, variables at their defaults)"
            )
        );
    }

    #[test]
    fn defaults_and_digests_as_versions() {
        assert_eq!(component("nginx", None).version.as_deref(), Some("latest"));
        let sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let pinned = component(&format!("nginx@{sha}"), None);
        assert_eq!(pinned.version.as_deref(), Some(sha));
        assert!(image_reference(&pinned).unwrap().is_pinned());
        assert_eq!(
            pinned.description.as_deref(),
            Some("container image (pinned by digest)")
        );
    }

    #[test]
    fn vendored_trees_are_pruned() {
        assert!(descend_into("deploy/k8s"));
        assert!(!descend_into("web/node_modules/pkg"));
        assert!(!descend_into("venv/lib/python3.11/site-packages"));
    }
}
