//! Kubernetes manifests: the images of every pod a resource runs.
//!
//! A file qualifies by content, not name: a YAML stream whose documents have `apiVersion`
//! and `kind`. That covers hand-written manifests, `kubectl get -o yaml` output (`kind: List`
//! with `items`), and rendered Helm output (`helm template`, documents separated by `---`
//! with `# Source:` comments).
//!
//! Images are found wherever a pod's containers are, whatever the resource: a
//! `containers`, `initContainers` or `ephemeralContainers` list (Pod `spec`, the
//! `spec.template.spec` of Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and Knative
//! Service, CronJob's `spec.jobTemplate.spec.template.spec`, KubeRay's head and worker group
//! templates, KServe's `spec.predictor.containers` and serving runtimes), and a single
//! `container` mapping (Argo workflow templates). Inside a KServe `InferenceService` every
//! `image` and `storageUri` counts, since the predictor's model formats
//! (`spec.predictor.model`, `spec.predictor.sklearn`, …) are containers written as mappings.
//!
//! # Documents
//!
//! The stream is split into documents at `---` lines and each is parsed on its own, so one
//! broken document costs only itself. Splitting by hand is exact: a line starting with
//! `---` and a space or its end is a document marker wherever it appears in YAML. Documents
//! without `apiVersion` and `kind` are skipped before parsing, so YAML that is no manifest
//! (CI configuration, conda environments, OpenAPI specs) costs a substring search.
//!
//! # Helm templates
//!
//! A chart's `templates/*.yaml` are Go templates (`{{ .Values.image.tag }}`), not YAML, and
//! the images they name are only known once rendered. A document that does not parse and
//! holds `{{` is such a source and is skipped without a problem; an image value that parses
//! but still holds `{{` is skipped the same way. Rendered output is read normally.
//!
//! # Lines
//!
//! Every node's line comes from serde-saphyr's `Spanned`, offset by the document's first line.

use std::fmt;
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, ComponentKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::{ServingStack, Sighting, bare_component, image_component, location, problem};

/// Reads Kubernetes manifests.
pub(crate) struct KubernetesCataloger;

/// Why a manifest file could not be read.
#[derive(Debug, thiserror::Error)]
enum ManifestError {
    #[error("cannot read the manifest file")]
    Read(#[source] io::Error),
}

/// One document that could not be parsed; the others were read.
#[derive(Debug, thiserror::Error)]
#[error("skipped a manifest document that is not valid YAML")]
struct DocumentError(#[source] serde_saphyr::Error);

/// What a mapping is to the pod it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Not a container.
    None,
    /// A container of the pod's workload (`containers`, `container`): it runs what the
    /// resource serves, so a KServe or KubeRay resource names its stack.
    Main,
    /// An init or ephemeral container: a helper (`busybox` waiting for a port), never the
    /// serving stack itself.
    Auxiliary,
}

impl Cataloger for KubernetesCataloger {
    fn id(&self) -> &'static str {
        "deploy/kubernetes"
    }

    /// Every `*.yaml` and `*.yml` outside vendored trees, except Compose files (the Compose
    /// cataloger's): manifests have no conventional name. Non-manifests are dismissed cheaply
    /// in [`catalog`](Cataloger::catalog).
    fn wants(&self, file: &FileRef<'_>) -> bool {
        let name = file.file_name();
        has_yaml_extension(name)
            && !crate::compose::is_compose_name(name)
            && !crate::in_vendored_tree(file)
    }

    fn descend(&self, dir: &str) -> bool {
        crate::descend_into(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let bytes = resolver.read(file.path).map_err(ManifestError::Read)?;
        let mut output = CatalogOutput::default();
        // Most YAML files are not manifests: decide before decoding or parsing anything.
        if !contains(&bytes, b"apiVersion") {
            return Ok(output);
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| ManifestError::Read(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        for (first_line, document) in documents(text) {
            if !(document.contains("apiVersion") && document.contains("kind")) {
                continue;
            }
            let offset = first_line - 1;
            let root = match serde_saphyr::from_str_with_options::<Option<Node>>(
                document,
                crate::yaml_options(),
            ) {
                Ok(Some(root)) => root,
                Ok(None) => continue,
                // A Helm template source, not rendered output.
                Err(_) if document.contains("{{") => continue,
                Err(error) => {
                    let line = error
                        .location()
                        .as_ref()
                        .and_then(crate::yaml_line)
                        .map(|line| line + offset);
                    output
                        .problems
                        .push(problem(file, line, self.id(), DocumentError(error)));
                    continue;
                }
            };
            let mut walk = Walk {
                file,
                found_by: self.id(),
                offset,
                output: &mut output,
            };
            walk.node(&root, None, Slot::None);
        }
        Ok(output)
    }
}

/// Whether a file name ends in `.yaml` or `.yml`, in any case.
pub(crate) fn has_yaml_extension(name: &str) -> bool {
    let bytes = name.as_bytes();
    let ends_with = |suffix: &[u8]| {
        bytes.len() > suffix.len()
            && bytes[bytes.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    ends_with(b".yaml") || ends_with(b".yml")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The documents of a YAML stream with the 1-based line each starts on. A document starts at
/// its `---` marker line (kept: `--- {a: 1}` has content on it).
fn documents(text: &str) -> Vec<(u32, &str)> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut start_line = 1u32;
    let mut line = 1u32;
    let mut position = 0;
    for raw in text.split_inclusive('\n') {
        let is_marker = raw
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']));
        if is_marker && position > start {
            documents.push((start_line, &text[start..position]));
            start = position;
            start_line = line;
        } else if is_marker {
            start_line = line;
        }
        position += raw.len();
        line = line.saturating_add(1);
    }
    if start < text.len() {
        documents.push((start_line, &text[start..]));
    }
    documents
}

/// The resource whose pods are being walked.
#[derive(Debug, Clone, Copy)]
struct Resource<'a> {
    kind: &'a str,
    name: Option<&'a str>,
    stack: Option<ServingStack>,
    /// Inside a KServe `InferenceService`, where any `image` or `storageUri` counts.
    inference_service: bool,
}

struct Walk<'a, 'o> {
    file: &'a FileRef<'a>,
    found_by: &'static str,
    offset: u32,
    output: &'o mut CatalogOutput,
}

impl Walk<'_, '_> {
    /// Visits `node` inside `resource`; `slot` says whether `node` is a container.
    /// Recursion is bounded by the parser's depth budget.
    fn node<'n>(&mut self, node: &'n Node, resource: Option<Resource<'n>>, slot: Slot) {
        match node {
            Node::Map(entries) => {
                let resource = Self::resource(node).or(resource);
                let Some(resource) = resource else {
                    // Not inside a resource: only a `List`'s items can hold one.
                    for (_, child) in entries {
                        self.node(child, None, Slot::None);
                    }
                    return;
                };
                if (slot != Slot::None || resource.inference_service)
                    && let Some((image, line)) = node.scalar("image")
                {
                    let stack = (slot != Slot::Auxiliary)
                        .then_some(resource.stack)
                        .flatten();
                    self.image(image, line, stack);
                }
                if resource.inference_service
                    && let Some((uri, line)) = node.scalar("storageUri")
                {
                    self.model(uri, line, resource);
                }
                for (key, child) in entries {
                    let child_slot = match (child, key.as_str()) {
                        (Node::Seq(_), "containers") | (Node::Map(_), "container") => Slot::Main,
                        (Node::Seq(_), "initContainers" | "ephemeralContainers") => Slot::Auxiliary,
                        _ => Slot::None,
                    };
                    self.node(child, Some(resource), child_slot);
                }
            }
            Node::Seq(items) => {
                for item in items {
                    self.node(item, resource, slot);
                }
            }
            Node::Scalar { .. } | Node::Other => {}
        }
    }

    /// The resource a mapping is, if it has `apiVersion` and `kind`.
    fn resource(node: &Node) -> Option<Resource<'_>> {
        let (api_version, _) = node.scalar("apiVersion")?;
        let (kind, _) = node.scalar("kind")?;
        let name = node
            .get("metadata")
            .and_then(|metadata| metadata.scalar("name"))
            .map(|(name, _)| name);
        let group = api_version.split('/').next().unwrap_or_default();
        Some(Resource {
            kind,
            name,
            stack: ServingStack::from_resource(api_version, kind),
            inference_service: group == "serving.kserve.io" && kind == "InferenceService",
        })
    }

    fn image(&mut self, image: &str, line: Option<u32>, resource_stack: Option<ServingStack>) {
        // An unrendered Helm value, not an image.
        if image.contains("{{") || image.trim().is_empty() {
            return;
        }
        let line = line.map(|l| l.saturating_add(self.offset));
        let sighting = Sighting {
            written: image,
            line,
            resource_stack,
            note: None,
        };
        // Manifests have no variable substitution: `$` is part of the value.
        match image_component(self.file, &sighting, None, &|_| None, self.found_by) {
            Ok(component) => self.output.components.push(component),
            Err(error) => self
                .output
                .problems
                .push(problem(self.file, line, self.found_by, error)),
        }
    }

    fn model(&mut self, uri: &str, line: Option<u32>, resource: Resource<'_>) {
        let uri = uri_without_secrets(uri.trim());
        if uri.is_empty() || uri.contains("{{") {
            return;
        }
        let line = line.map(|l| l.saturating_add(self.offset));
        let mut component: Component = bare_component(
            ComponentKind::MachineLearningModel,
            &uri,
            None,
            location(self.file, line),
            self.found_by,
        );
        component.description = Some(match resource.name {
            Some(name) => format!("model served by {} `{name}`", resource.kind),
            None => format!("model served by a {}", resource.kind),
        });
        self.output.components.push(component);
    }
}

/// A storage URI without user information, query or fragment: signed URLs carry their
/// credentials there (`?sig=…`, `user:token@`), and those must never reach an SBOM.
fn uri_without_secrets(uri: &str) -> String {
    let uri = uri.split(['?', '#']).next().unwrap_or(uri);
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// A YAML node with the lines of its scalars: the little of a manifest the walk needs, in
/// document order.
#[derive(Debug)]
enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    /// A string scalar and its line within the document.
    Scalar {
        text: String,
        line: Option<u32>,
    },
    /// Numbers, booleans, nulls, and keys that are not scalars.
    Other,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Self::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value under `key` and its line.
    fn scalar(&self, key: &str) -> Option<(&str, Option<u32>)> {
        match self.get(key)? {
            Self::Scalar { text, line } => Some((text, *line)),
            _ => None,
        }
    }

    fn located(spanned: Spanned<Node>) -> Self {
        match spanned.value {
            Self::Scalar { text, .. } => Self::Scalar {
                text,
                line: crate::yaml_line(&spanned.referenced),
            },
            other => other,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Scalar {
            text: value.to_owned(),
            line: None,
        })
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Node, E> {
        Ok(Node::Scalar {
            text: value,
            line: None,
        })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(Node::located(item));
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let value = Node::located(map.next_value::<Spanned<Node>>()?);
            if let Some(key) = key {
                entries.push((key, value));
            }
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key as text; `None` for a key that is a collection (legal YAML, never a
/// manifest field).
struct Key(Option<String>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping key")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Key, E> {
                Ok(Key(Some(value.to_owned())))
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Key, E> {
                Ok(Key(Some(value.to_string())))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Key, E> {
                Ok(Key(Some(value.to_string())))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Key, E> {
                Ok(Key(Some(value.to_string())))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Key, E> {
                Ok(Key(Some(value.to_string())))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Key(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Key(None))
            }
        }

        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_text, listing};

    fn catalog(text: &str) -> CatalogOutput {
        catalog_text(&KubernetesCataloger, "manifest.yaml", text).unwrap()
    }

    #[test]
    fn wants_yaml_but_not_compose_or_vendored() {
        let wants = |path: &str| {
            KubernetesCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("deploy/app.yaml"));
        assert!(wants("k8s/RENDERED.YML"));
        assert!(!wants("compose.yaml"));
        assert!(!wants("docker-compose.prod.yml"));
        assert!(!wants("web/node_modules/x/deploy.yaml"));
        assert!(!wants("venv/lib/python3.11/site-packages/ray/serve.yaml"));
        assert!(!wants("Dockerfile"));
        assert!(!wants(".yaml"));
    }

    #[test]
    fn documents_split_at_markers_only() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: |\n  ---x\n---{not a marker}\n...\n---\n";
        let docs = documents(text);
        let firsts: Vec<u32> = docs.iter().map(|(line, _)| *line).collect();
        assert_eq!(firsts, [1, 2, 4, 9]);
        assert_eq!(docs[2].1, "--- # c\nc: |\n  ---x\n---{not a marker}\n...\n");
        assert!(documents("").is_empty());
        assert_eq!(documents("---\na: 1\n"), [(1, "---\na: 1\n")]);
    }

    #[test]
    fn yaml_that_is_no_manifest_is_dismissed() {
        let output = catalog("name: ci\njobs:\n  build:\n    image: app:1\n");
        assert!(output.components.is_empty() && output.problems.is_empty());
        // Not even valid YAML, and not a manifest: no problem either.
        let output = catalog("key: [unclosed\n");
        assert!(output.components.is_empty() && output.problems.is_empty());
    }

    #[test]
    fn kinds_and_container_lists() {
        let text = r"apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  initContainers:
    - name: init
      image: busybox:1.36
  containers:
    - name: app
      image: registry.invalid/team/app:1.0
  ephemeralContainers:
    - name: dbg
      image: registry.invalid/tools/debug:2
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: registry.invalid/team/batch@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent}
    spec:
      template:
        spec:
          containers: [{name: agent, image: registry.invalid/ops/agent:3}]
";
        insta_like(
            &listing(&catalog(text)),
            "Container busybox@1.36 pkg:oci/busybox?repository_url=library%2Fbusybox&tag=1.36 [container image (mutable tag)] manifest.yaml:7
Container registry.invalid/team/app@1.0 pkg:oci/app?repository_url=registry.invalid%2Fteam%2Fapp&tag=1.0 [container image (mutable tag)] manifest.yaml:10
Container registry.invalid/tools/debug@2 pkg:oci/debug?repository_url=registry.invalid%2Ftools%2Fdebug&tag=2 [container image (mutable tag)] manifest.yaml:13
Container registry.invalid/team/batch@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef pkg:oci/batch@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef?repository_url=registry.invalid%2Fteam%2Fbatch [container image (pinned by digest)] manifest.yaml:27
Container registry.invalid/ops/agent@3 pkg:oci/agent?repository_url=registry.invalid%2Fops%2Fagent&tag=3 [container image (mutable tag)] manifest.yaml:38
",
        );
    }

    /// Plain string comparison with a readable diff on failure.
    fn insta_like(actual: &str, expected: &str) {
        assert_eq!(actual, expected, "\n--- actual\n{actual}");
    }

    #[test]
    fn helm_templates_are_skipped_without_problems() {
        let template = r#"{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" . }}
spec:
  template:
    spec:
      containers:
        - image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
{{- end }}
"#;
        let output = catalog(template);
        assert!(output.components.is_empty(), "{output:?}");
        assert!(output.problems.is_empty(), "{output:?}");
        // Quoted template values parse as YAML; they are still no images.
        let quoted = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: \"{{ .Values.image }}\"\n";
        let output = catalog(quoted);
        assert!(output.components.is_empty() && output.problems.is_empty());
    }

    #[test]
    fn a_broken_document_costs_only_itself() {
        let text = "apiVersion: v1\nkind: Pod\nspec: [unclosed\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: app:1\n";
        let output = catalog(text);
        assert_eq!(output.components.len(), 1);
        assert_eq!(
            output.components[0].locations.first().unwrap().line,
            Some(9)
        );
        assert_eq!(output.problems.len(), 1, "{:?}", output.problems);
        assert!(output.problems[0].line.is_some_and(|l| l <= 4));
    }

    #[test]
    fn bad_references_are_problems_at_their_line() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: Team/App:1\n    - image: ok:1\n";
        let output = catalog(text);
        assert_eq!(output.components.len(), 1);
        assert_eq!(output.problems.len(), 1);
        assert_eq!(output.problems[0].line, Some(5));
        assert!(
            output.problems[0].message.contains("Team/App:1"),
            "{}",
            output.problems[0]
        );
    }

    #[test]
    fn hostile_input_is_bounded() {
        let deep = format!(
            "apiVersion: v1\nkind: Pod\nspec: {}x{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let output = catalog(&deep);
        assert!(output.components.is_empty());
        assert_eq!(output.problems.len(), 1);
        let bomb = format!(
            "apiVersion: v1\nkind: Pod\na: &a [x, x, x, x, x, x, x, x, x, x]\n{}",
            (0..12)
                .map(|i| format!(
                    "{}: &{} [{}]\n",
                    (b'b' + i) as char,
                    (b'b' + i) as char,
                    vec![format!("*{}", (b'a' + i) as char); 10].join(", ")
                ))
                .collect::<String>()
        );
        let output = catalog(&bomb);
        assert!(output.components.is_empty());
        assert_eq!(output.problems.len(), 1, "an alias bomb is refused");
        let truncated = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: \"app:1";
        assert_eq!(catalog(truncated).problems.len(), 1);
        assert!(
            catalog("\u{feff}apiVersion: v1\nkind: Pod\n")
                .problems
                .is_empty()
        );
    }

    #[test]
    fn nesting_up_to_the_budget_fits_a_small_stack() {
        // Containers nested in containers: each level adds a sequence and a mapping.
        let nested = |levels: usize| {
            let mut text = String::from("apiVersion: v1\nkind: Pod\nspec:\n");
            for level in 0..levels {
                let indent = "  ".repeat(level + 1);
                text.push_str(&format!(
                    "{indent}containers:\n{indent}- image: app:{level}\n"
                ));
                text.push_str(&format!("{indent}  x: 1\n"));
            }
            text
        };
        // Run where a walker runs: a thread with a 2 MiB stack.
        let run = |text: String| {
            std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || catalog(&text))
                .unwrap()
                .join()
                .unwrap()
        };
        let within = run(nested(30));
        assert_eq!(within.components.len(), 30, "{:?}", within.problems);
        let beyond = run(nested(40));
        assert!(beyond.components.is_empty());
        assert_eq!(beyond.problems.len(), 1);
    }

    #[test]
    fn secrets_are_cut_from_storage_uris() {
        assert_eq!(
            uri_without_secrets("https://user:token@models.invalid/m/model.bin?sig=abc#x"),
            "https://models.invalid/m/model.bin"
        );
        assert_eq!(
            uri_without_secrets("s3://bucket/models/llama"),
            "s3://bucket/models/llama"
        );
        assert_eq!(
            uri_without_secrets("pvc://claim/model"),
            "pvc://claim/model"
        );
    }
}
