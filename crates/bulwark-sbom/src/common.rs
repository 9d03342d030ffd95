//! Pieces shared by the encoders: deterministic identifiers, the graph's roots, license
//! classification, CPE and URI checks, and the flattening of typed metadata into
//! `bulwark:` name/value pairs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use bulwark_inventory::{
    Component, ComponentId, ComponentKind, GpuFacts, Inventory, License, Metadata, ModelInfo,
    PackageSource, RelationshipKind,
};
use uuid::Uuid;

use crate::mlbom;

/// A UUID v5 of `content` in a namespace private to bulwark and `purpose`, so equal documents
/// get equal identifiers and different purposes (a CycloneDX serial, an SPDX namespace)
/// never share one.
pub(crate) fn content_uuid(purpose: &str, content: &[u8]) -> Uuid {
    let namespace = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://bulwark.invalid/{purpose}").as_bytes(),
    );
    Uuid::new_v5(&namespace, content)
}

/// Twelve hex digits identifying `text`; used to keep sanitized identifiers unique.
pub(crate) fn short_digest(text: &str) -> String {
    let simple = content_uuid("short-digest", text.as_bytes())
        .simple()
        .to_string();
    simple[..12].to_owned()
}

/// The kebab-case name of a component kind, as bulwark's own JSON writes it.
pub(crate) const fn kind_name(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Library => "library",
        ComponentKind::Application => "application",
        ComponentKind::OsPackage => "os-package",
        ComponentKind::OperatingSystem => "operating-system",
        ComponentKind::DeviceDriver => "device-driver",
        ComponentKind::GpuLibrary => "gpu-library",
        ComponentKind::MachineLearningModel => "machine-learning-model",
        ComponentKind::Data => "data",
        ComponentKind::Container => "container",
    }
}

/// Components that no edge of the given kinds points at, in inventory order. These are what
/// the target itself is related to, so every component is reachable from the target.
pub(crate) fn roots<'a>(
    inventory: &'a Inventory,
    kinds: &[RelationshipKind],
) -> Vec<&'a Component> {
    let pointed_at: BTreeSet<&ComponentId> = inventory
        .relationships
        .iter()
        .filter(|r| kinds.contains(&r.kind) && r.from != r.to)
        .map(|r| &r.to)
        .collect();
    inventory
        .components
        .iter()
        .filter(|c| !pointed_at.contains(&ComponentId::of(c)))
        .collect()
}

/// For each component, the ids of the components that contain it.
pub(crate) fn containers(inventory: &Inventory) -> BTreeMap<ComponentId, Vec<ComponentId>> {
    let mut map: BTreeMap<ComponentId, Vec<ComponentId>> = BTreeMap::new();
    for relationship in &inventory.relationships {
        if relationship.kind == RelationshipKind::Contains {
            map.entry(relationship.to.clone())
                .or_default()
                .push(relationship.from.clone());
        }
    }
    map
}

/// How a declared license is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LicenseForm<'a> {
    /// A single SPDX license id that CycloneDX 1.6's license enum knows.
    Id(&'a str),
    /// Any other valid SPDX expression (compound, `WITH`, `LicenseRef-`, or an id newer than
    /// CycloneDX's license list).
    Expression(&'a str),
    /// A free-form name.
    Name(&'a str),
}

/// Ids of the `spdx` crate's license list (3.29.0) missing from the enum in CycloneDX 1.6's
/// `spdx.schema.json` (3.28.0) or not licenses at all (`NOASSERTION`). Writing one as
/// `license.id` would fail schema validation, so these are written as expressions. The test
/// `every_cyclonedx_license_id_is_in_the_schema_enum` catches drift when either list moves.
const NOT_IN_CYCLONEDX_LICENSE_ENUM: &[&str] = &[
    "BSD-2-Clause-pos-unchanged",
    "BSD-3-Clause-OpenWebUI",
    "BSD-Source-Code-no-disclaimer",
    "BSD-Source-alt-GPL",
    "BSD-ask-to-endorse",
    "Brian-Gladman-3-Clause-no-conversion",
    "Bugroff",
    "CC-BY-NC-3.0-IGO",
    "FDK-MPEG-H",
    "GFDL-1.1-invariants",
    "GFDL-1.1-no-invariants",
    "GFDL-1.2-invariants",
    "GFDL-1.2-no-invariants",
    "GFDL-1.3-invariants",
    "GFDL-1.3-no-invariants",
    "Hippocratic-3.0-core",
    "Informatica",
    "MVT-1.1",
    "NOASSERTION",
    "atc-game",
];

/// Whether `id` may be written as a CycloneDX `license.id`.
pub(crate) fn is_cyclonedx_license_id(id: &str) -> bool {
    // `spdx::license_id` ignores a trailing `+`, which an `id` must not carry.
    !id.ends_with('+')
        && spdx::license_id(id).is_some_and(|l| l.name == id)
        && !NOT_IN_CYCLONEDX_LICENSE_ENUM.contains(&id)
}

impl<'a> LicenseForm<'a> {
    pub(crate) fn of(license: &'a License) -> Self {
        match license {
            License::Expression(e) if is_cyclonedx_license_id(e) => Self::Id(e),
            License::Expression(e) => Self::Expression(e),
            License::Name(n) => Self::Name(n),
        }
    }
}

/// Whether `cpe` matches the `cpe` pattern of CycloneDX 1.6 (a CPE 2.3 formatted string or a
/// CPE 2.2 URI). Others are kept as properties rather than invalidating the document.
pub(crate) fn is_valid_cpe(cpe: &str) -> bool {
    is_cpe23(cpe) || is_cpe22(cpe)
}

/// Whether `cpe` is a CPE 2.3 formatted string binding.
pub(crate) fn is_cpe23(cpe: &str) -> bool {
    let Some(rest) = cpe.strip_prefix("cpe:2.3:") else {
        return false;
    };
    let fields = split_unescaped_colons(rest);
    fields.len() == 11
        && matches!(fields[0], "a" | "h" | "o" | "*" | "-")
        && fields[1..=5].iter().all(|f| is_cpe23_component(f))
        && is_cpe23_language(fields[6])
        && fields[7..].iter().all(|f| is_cpe23_component(f))
}

fn split_unescaped_colons(s: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ':' => {
                fields.push(&s[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    fields.push(&s[start..]);
    fields
}

fn is_cpe23_component(field: &str) -> bool {
    const QUOTABLE: &str = "\\*?!\"#$%&'()+,/:;<=>@[]^`{|}~";
    if field == "*" || field == "-" {
        return true;
    }
    let body = field
        .strip_prefix('*')
        .unwrap_or_else(|| field.trim_start_matches('?'));
    let body = body
        .strip_suffix('*')
        .unwrap_or_else(|| body.trim_end_matches('?'));
    if body.is_empty() {
        return false;
    }
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        let ok = match c {
            '\\' => chars.next().is_some_and(|q| QUOTABLE.contains(q)),
            c => c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'),
        };
        if !ok {
            return false;
        }
    }
    true
}

fn is_cpe23_language(field: &str) -> bool {
    if field == "*" || field == "-" {
        return true;
    }
    let (language, region) = match field.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (field, None),
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && region.is_none_or(|r| {
            (r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()))
                || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The CPE 2.2 URI form, as CycloneDX's pattern has it:
/// `[c][pP][eE]:/[AHOaho]?(:[A-Za-z0-9._\-~%]*){0,6}`.
fn is_cpe22(cpe: &str) -> bool {
    let bytes = cpe.as_bytes();
    if bytes.len() < 5
        || bytes[0] != b'c'
        || !bytes[1].eq_ignore_ascii_case(&b'p')
        || !bytes[2].eq_ignore_ascii_case(&b'e')
        || &bytes[3..5] != b":/"
    {
        return false;
    }
    let rest = &cpe[5..];
    let rest = rest
        .strip_prefix(['a', 'h', 'o', 'A', 'H', 'O'])
        .unwrap_or(rest);
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let components: Vec<&str> = rest.split(':').collect();
    components.len() <= 6
        && components.iter().all(|c| {
            c.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '~' | '%'))
        })
}

/// Whether `url` is an absolute URL that JSON Schema's `iri-reference` format and XML Schema's
/// `anyURI` both accept: a scheme, then no whitespace, controls or characters RFC 3987 leaves
/// out, and only well-formed percent escapes. (`git@host:org/repo.git` is not one.)
pub(crate) fn is_absolute_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let b = bytes[index];
        if b == b'%' {
            let hex = bytes.get(index + 1..index + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
            continue;
        }
        if b.is_ascii_control()
            || b == b' '
            || matches!(
                b,
                b'<' | b'>' | b'"' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'`'
            )
        {
            return false;
        }
        index += 1;
    }
    true
}

/// A property name and value. Names are namespaced `bulwark:` per the CycloneDX property
/// taxonomy convention, so they never clash with another tool's. Most names are fixed; a
/// model's considerations sections and format-specific facts carry their key in the name.
pub(crate) type Property = (Cow<'static, str>, String);

/// A property with a fixed name.
fn prop(name: &'static str, value: impl Into<String>) -> Property {
    (Cow::Borrowed(name), value.into())
}

/// Every fact of a model as properties, for formats without a model card (SPDX annotations).
pub(crate) fn model_properties(model: &ModelInfo) -> Vec<Property> {
    let mut properties = Vec::new();
    push_model(&mut properties, model, false);
    properties
}

/// Flattens what a component knows beyond the common fields into properties, in a fixed
/// order: kind, ecosystem, finders, extra CPEs, containers, package source, typed metadata.
pub(crate) fn component_properties(
    component: &Component,
    extra_cpes: &[&str],
    contained_by: &[String],
) -> Vec<Property> {
    let mut properties: Vec<Property> = vec![prop("bulwark:kind", kind_name(component.kind))];
    if let Some(ecosystem) = component.ecosystem {
        properties.push(prop("bulwark:ecosystem", ecosystem.as_str()));
    }
    for finder in &component.found_by {
        properties.push(prop("bulwark:found-by", finder.clone()));
    }
    for cpe in extra_cpes {
        properties.push(prop("bulwark:cpe", *cpe));
    }
    for container in contained_by {
        properties.push(prop("bulwark:contained-by", container.clone()));
    }
    if let Some(source) = &component.source {
        push_source(&mut properties, source);
    }
    // Only a `machine-learning-model` component gets a model card (the spec forbids one on
    // other types), so only there are the card's facts left out of the properties.
    let card = component.kind == ComponentKind::MachineLearningModel;
    push_metadata(&mut properties, &component.metadata, card);
    if let Some(gpu) = &component.gpu {
        push_gpu(&mut properties, gpu);
    }
    properties
}

fn push_gpu(properties: &mut Vec<Property>, gpu: &GpuFacts) {
    let fields = [
        (
            "bulwark:gpu:provides",
            gpu.provides.map(|p| p.as_str().to_owned()),
        ),
        ("bulwark:gpu:part-version", gpu.part_version.clone()),
        ("bulwark:gpu:cuda", gpu.cuda.clone()),
        ("bulwark:gpu:cudnn", gpu.cudnn.clone()),
        ("bulwark:gpu:rocm", gpu.rocm.clone()),
        ("bulwark:gpu:variant", gpu.variant.clone()),
    ];
    properties.extend(fields.into_iter().filter_map(|(k, v)| Some(prop(k, v?))));
}

fn push_source(properties: &mut Vec<Property>, source: &PackageSource) {
    match source {
        PackageSource::Registry { url } => {
            properties.push(prop("bulwark:package-source", "registry"));
            properties.push(prop("bulwark:package-source:url", url.clone()));
        }
        PackageSource::Vcs {
            vcs,
            url,
            requested_revision,
            commit,
        } => {
            properties.push(prop("bulwark:package-source", "vcs"));
            properties.push(prop("bulwark:package-source:vcs", vcs.clone()));
            properties.push(prop("bulwark:package-source:url", url.clone()));
            if let Some(revision) = requested_revision {
                properties.push(prop(
                    "bulwark:package-source:requested-revision",
                    revision.clone(),
                ));
            }
            if let Some(commit) = commit {
                properties.push(prop("bulwark:package-source:commit", commit.clone()));
            }
        }
        PackageSource::Url { url } => {
            properties.push(prop("bulwark:package-source", "url"));
            properties.push(prop("bulwark:package-source:url", url.clone()));
        }
        PackageSource::Path { path, editable } => {
            properties.push(prop("bulwark:package-source", "path"));
            properties.push(prop("bulwark:package-source:path", path.clone()));
            properties.push(prop(
                "bulwark:package-source:editable",
                editable.to_string(),
            ));
        }
    }
}

fn push_metadata(properties: &mut Vec<Property>, metadata: &Metadata, card: bool) {
    match metadata {
        Metadata::None => {}
        Metadata::PythonDistribution(distribution) => {
            if let Some(v) = &distribution.metadata_version {
                properties.push(prop("bulwark:python:metadata-version", v.clone()));
            }
            if let Some(v) = &distribution.requires_python {
                properties.push(prop("bulwark:python:requires-python", v.clone()));
            }
            if let Some(v) = &distribution.installer {
                properties.push(prop("bulwark:python:installer", v.clone()));
            }
            if let Some(direct_url) = &distribution.direct_url {
                properties.push(prop("bulwark:python:direct-url", direct_url.url.clone()));
                properties.push(prop(
                    "bulwark:python:direct-url:editable",
                    direct_url.editable.to_string(),
                ));
                if let Some((vcs, commit)) = &direct_url.vcs {
                    properties.push(prop("bulwark:python:direct-url:vcs", vcs.clone()));
                    properties.push(prop("bulwark:python:direct-url:commit", commit.clone()));
                }
            }
            for requirement in &distribution.requires_dist {
                properties.push(prop("bulwark:python:requires-dist", requirement.clone()));
            }
            properties.push(prop(
                "bulwark:python:site-packages",
                distribution.site_packages.clone(),
            ));
        }
        Metadata::PythonRequirement(requirement) => {
            if !requirement.specifier.is_empty() {
                properties.push(prop(
                    "bulwark:python:requirement-specifier",
                    requirement.specifier.clone(),
                ));
            }
            for extra in &requirement.extras {
                properties.push(prop("bulwark:python:requirement-extra", extra.clone()));
            }
            if let Some(marker) = &requirement.marker {
                properties.push(prop("bulwark:python:requirement-marker", marker.clone()));
            }
        }
        Metadata::Conda(conda) => {
            let fields = [
                ("bulwark:conda:channel", conda.channel.clone()),
                ("bulwark:conda:subdir", conda.subdir.clone()),
                ("bulwark:conda:build", conda.build.clone()),
                (
                    "bulwark:conda:build-number",
                    conda.build_number.map(|n| n.to_string()),
                ),
                ("bulwark:conda:prefix", conda.prefix.clone()),
                ("bulwark:conda:spec", conda.spec.clone()),
            ];
            properties.extend(fields.into_iter().filter_map(|(k, v)| Some(prop(k, v?))));
        }
        Metadata::OsPackage(os) => {
            let fields = [
                ("bulwark:os:source-name", os.source_name.clone()),
                ("bulwark:os:source-version", os.source_version.clone()),
                ("bulwark:os:architecture", os.architecture.clone()),
                ("bulwark:os:distro", os.distro.clone()),
            ];
            properties.extend(fields.into_iter().filter_map(|(k, v)| Some(prop(k, v?))));
        }
        Metadata::Model(model) => push_model(properties, model, card),
    }
}

/// A model's facts as properties. With `card`, the facts a CycloneDX `modelCard` holds
/// (architecture, task, datasets, inputs, outputs, the considerations it has a field for and
/// the architecture family) are left to the card, so each fact is written once; without it
/// (SPDX, or model metadata on a component of another kind) every fact is a property.
///
/// Names: `bulwark:model:<field>` for the fixed fields (one property per list entry),
/// `bulwark:model:consideration:<section>` for a considerations section and
/// `bulwark:model:property:<key>` for a format-specific fact.
fn push_model(properties: &mut Vec<Property>, model: &ModelInfo, card: bool) {
    if !model.format.is_empty() {
        properties.push(prop("bulwark:model:format", model.format.as_str()));
    }
    let mut fields = Vec::new();
    if !card {
        fields.push(("bulwark:model:architecture", model.architecture.clone()));
        fields.push(("bulwark:model:task", model.task.clone()));
    }
    fields.extend([
        (
            "bulwark:model:parameters",
            model.parameters.map(|n| n.to_string()),
        ),
        ("bulwark:model:quantization", model.quantization.clone()),
        (
            "bulwark:model:context-length",
            model.context_length.map(|n| n.to_string()),
        ),
        ("bulwark:model:repository", model.repository.clone()),
        ("bulwark:model:revision", model.revision.clone()),
    ]);
    properties.extend(fields.into_iter().filter_map(|(k, v)| Some(prop(k, v?))));
    let mut lists = vec![
        ("bulwark:model:dtype", &model.dtypes),
        ("bulwark:model:file", &model.files),
        ("bulwark:model:base-model", &model.base_models),
    ];
    if !card {
        lists.extend([
            ("bulwark:model:dataset", &model.datasets),
            ("bulwark:model:input", &model.inputs),
            ("bulwark:model:output", &model.outputs),
        ]);
    }
    for (name, values) in lists {
        properties.extend(values.iter().map(|value| prop(name, value.as_str())));
    }
    for (section, text) in &model.considerations {
        if !(card && mlbom::Section::of_key(section).is_some()) {
            properties.push((
                format!("{CONSIDERATION_PREFIX}{section}").into(),
                text.clone(),
            ));
        }
    }
    for (key, value) in &model.properties {
        if !(card && key == mlbom::ARCHITECTURE_FAMILY) {
            properties.push((
                format!("{MODEL_PROPERTY_PREFIX}{key}").into(),
                value.clone(),
            ));
        }
    }
}

/// The name prefix of a considerations section's property.
pub(crate) const CONSIDERATION_PREFIX: &str = "bulwark:model:consideration:";
/// The name prefix of a format-specific model fact's property.
pub(crate) const MODEL_PROPERTY_PREFIX: &str = "bulwark:model:property:";

/// Splits a declared author such as `Jane Doe <jane@example.org>` (how Python metadata, conda
/// recipes and Debian control files write a person) into name and email. A value without an
/// `<…@…>` part is all name. The name falls back to the email when only an address is given.
pub(crate) fn split_contact(declared: &str) -> (String, Option<String>) {
    let declared = one_line(declared);
    if let Some((name, rest)) = declared.split_once('<')
        && let Some((email, _)) = rest.split_once('>')
        && email.contains('@')
        && !email.contains(char::is_whitespace)
    {
        let name = name.trim().trim_end_matches(',').trim();
        let name = if name.is_empty() { email } else { name };
        return (name.to_owned(), Some(email.to_owned()));
    }
    (declared, None)
}

/// Collapses runs of whitespace (newlines included) into single spaces: supplier and
/// description fields are one-line in both specs.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpe_checks() {
        assert!(is_valid_cpe(
            "cpe:2.3:a:nvidia:cuda_toolkit:12.1.0:*:*:*:*:*:*:*"
        ));
        assert!(is_valid_cpe(
            "cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:en-us:*:*:*:*"
        ));
        assert!(is_valid_cpe("cpe:/a:nvidia:cuda:12.1"));
        assert!(!is_valid_cpe("cpe:2.3:a:nvidia:cuda"));
        assert!(!is_valid_cpe("cpe:2.3:a:nv idia:cuda:1:*:*:*:*:*:*:*"));
        assert!(!is_valid_cpe("cuda"));
    }

    #[test]
    fn url_checks() {
        assert!(is_absolute_url("https://example.invalid/a%20b?x=1#frag"));
        assert!(is_absolute_url(
            "git+ssh://git@example.invalid/org/repo.git"
        ));
        assert!(!is_absolute_url("git@example.invalid:org/repo.git"));
        assert!(!is_absolute_url("https://example.invalid/a b"));
        assert!(!is_absolute_url("https://example.invalid/%zz"));
        assert!(!is_absolute_url("./relative/path"));
    }

    #[test]
    fn contacts() {
        assert_eq!(
            split_contact("Jane Doe <jane@example.org>"),
            ("Jane Doe".to_owned(), Some("jane@example.org".to_owned()))
        );
        assert_eq!(
            split_contact("<jane@example.org>"),
            (
                "jane@example.org".to_owned(),
                Some("jane@example.org".to_owned())
            )
        );
        assert_eq!(
            split_contact("NVIDIA  Corporation"),
            ("NVIDIA Corporation".to_owned(), None)
        );
        assert_eq!(
            split_contact("a <not an email>"),
            ("a <not an email>".to_owned(), None)
        );
    }

    #[test]
    fn license_forms() {
        let mit = License::Expression("MIT".into());
        assert_eq!(LicenseForm::of(&mit), LicenseForm::Id("MIT"));
        let compound = License::Expression("MIT OR Apache-2.0".into());
        assert_eq!(
            LicenseForm::of(&compound),
            LicenseForm::Expression("MIT OR Apache-2.0")
        );
        let plus = License::Expression("GPL-2.0+".into());
        assert_eq!(LicenseForm::of(&plus), LicenseForm::Expression("GPL-2.0+"));
        let name = License::Name("BSD".into());
        assert_eq!(LicenseForm::of(&name), LicenseForm::Name("BSD"));
    }
}
