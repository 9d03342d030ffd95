//! CycloneDX VEX: a 1.6 JSON BOM with `components` and `vulnerabilities` out, any CycloneDX
//! JSON BOM's `vulnerabilities` in. The mapping is in the crate docs.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::common::{self, Candidate, Product, Target};
use crate::{ExportOptions, Format, Justification, State, Statement, VexError};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    timestamp: String,
    tools: Tools<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Contact<'a>>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: [Tool<'a>; 1],
}

#[derive(Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Contact<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Component<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<&'a str>,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    id: &'a str,
    source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<Reference<'a>>,
    analysis: Analysis<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    affects: Vec<Affect<'a>>,
}

#[derive(Serialize)]
struct Source {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Reference<'a> {
    id: &'a str,
    source: Source,
}

#[derive(Serialize)]
struct Analysis<'a> {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct Affect<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
}

/// One `vulnerabilities` entry: the id, whether it affects products at all (a statement
/// without product stays its own entry, so it reads back as one), and the analysis.
type GroupKey<'a> = (&'a str, bool, State, Option<Justification>, Option<&'a str>);

pub(crate) fn write(
    statements: &[Statement],
    options: &ExportOptions,
) -> Result<Vec<u8>, VexError> {
    let serial_number = serial_number(options.id)?;
    let timestamp = common::format_timestamp(options.timestamp, Format::CycloneDx)?;
    let statements = common::prepare(statements)?;

    // One component per product. A purl is its own bom-ref (what bulwark's SBOMs use too);
    // a name gets `component-N`, skipping any number a purl happens to spell.
    let mut purls: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for statement in &statements {
        match common::product(statement) {
            Some(Product::Purl(purl)) => {
                let name = purls.entry(purl).or_default();
                if name.is_none() {
                    *name = statement.component_name.as_deref();
                }
            }
            Some(Product::Name(name)) => {
                names.insert(name);
            }
            None => {}
        }
    }
    let mut refs: HashMap<Product<'_>, String> = HashMap::new();
    let mut components = Vec::with_capacity(purls.len() + names.len());
    let mut number = 0;
    for name in names {
        let bom_ref = loop {
            number += 1;
            let candidate = format!("component-{number}");
            if !purls.contains_key(candidate.as_str()) {
                break candidate;
            }
        };
        refs.insert(Product::Name(name), bom_ref.clone());
        components.push(Component {
            kind: "library",
            bom_ref,
            name: name.to_owned(),
            version: None,
            purl: None,
        });
    }
    for (&purl, &name) in &purls {
        let (purl_name, version) =
            common::purl_name_version(purl).unwrap_or_else(|| (purl.to_owned(), None));
        refs.insert(Product::Purl(purl), purl.to_owned());
        components.push(Component {
            kind: "library",
            bom_ref: purl.to_owned(),
            name: name.map_or(purl_name, str::to_owned),
            version,
            purl: Some(purl),
        });
    }

    let mut groups: BTreeMap<GroupKey<'_>, (&Statement, BTreeSet<&str>)> = BTreeMap::new();
    for statement in &statements {
        let product = common::product(statement);
        let key = (
            statement.vulnerability.as_str(),
            product.is_some(),
            statement.state,
            statement.justification.map(Justification::to_cyclonedx),
            statement.detail.as_deref(),
        );
        let (_, affects) = groups
            .entry(key)
            .or_insert_with(|| (statement, BTreeSet::new()));
        if let Some(bom_ref) = product.and_then(|product| refs.get(&product)) {
            affects.insert(bom_ref);
        }
    }
    let vulnerabilities = groups
        .into_iter()
        .map(
            |((id, _, state, justification, detail), (statement, affects))| Vulnerability {
                id,
                source: source(id),
                references: statement
                    .aliases
                    .iter()
                    .map(|alias| Reference {
                        id: alias,
                        source: source(alias),
                    })
                    .collect(),
                analysis: Analysis {
                    state: state.as_str(),
                    justification: justification.map(Justification::as_str),
                    detail,
                },
                affects: affects
                    .into_iter()
                    .map(|reference| Affect { reference })
                    .collect(),
            },
        )
        .collect();

    let bom = Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number,
        version: 1,
        metadata: Metadata {
            timestamp,
            tools: Tools {
                components: [Tool {
                    kind: "application",
                    name: "bulwark",
                    version: options.tool_version,
                }],
            },
            authors: if options.author.trim().is_empty() {
                Vec::new()
            } else {
                vec![Contact {
                    name: options.author,
                }]
            },
        },
        components,
        vulnerabilities,
    };
    let mut out = serde_json::to_vec_pretty(&bom)
        .map_err(|error| VexError::Serialize(Format::CycloneDx, error))?;
    out.push(b'\n');
    Ok(out)
}

/// `serialNumber`: the id, which the schema wants as `urn:uuid:` and lowercase hex.
fn serial_number(id: &str) -> Result<String, VexError> {
    let is_uuid = |text: &str| {
        let groups: Vec<&str> = text.split('-').collect();
        groups.len() == 5
            && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, len)| {
                group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit())
            })
    };
    match id.strip_prefix("urn:uuid:").filter(|uuid| is_uuid(uuid)) {
        Some(uuid) => Ok(format!("urn:uuid:{}", uuid.to_ascii_lowercase())),
        None => Err(VexError::InvalidOption {
            option: "id",
            format: Format::CycloneDx,
            reason: format!("`{id}` is not a `urn:uuid:` URN, which the serialNumber must be"),
        }),
    }
}

/// Who publishes a vulnerability id: NVD for CVEs, GitHub for GHSAs, bulwark for its model
/// rules, OSV (which carries PYSEC, RUSTSEC, GO and the rest) otherwise.
fn source(id: &str) -> Source {
    let (name, url) = if id.starts_with("CVE-") {
        (
            "NVD",
            Some(format!("https://nvd.nist.gov/vuln/detail/{id}")),
        )
    } else if id.starts_with("GHSA-") {
        (
            "GitHub",
            Some(format!("https://github.com/advisories/{id}")),
        )
    } else if id.starts_with("BWM-") {
        ("bulwark", None)
    } else {
        ("OSV", Some(format!("https://osv.dev/vulnerability/{id}")))
    };
    Source { name, url }
}

/// The statements of a CycloneDX BOM's `vulnerabilities`.
pub(crate) fn read(root: &Map<String, Value>, warnings: &mut Vec<String>) -> Vec<Candidate> {
    let Some(vulnerabilities) = root.get("vulnerabilities") else {
        warnings.push("the BOM has no `vulnerabilities`: there is nothing to read".to_owned());
        return Vec::new();
    };
    let Some(vulnerabilities) = vulnerabilities.as_array() else {
        warnings.push("`vulnerabilities` is not an array; nothing read".to_owned());
        return Vec::new();
    };
    let components = component_index(root);

    let mut candidates = Vec::new();
    for (index, vulnerability) in vulnerabilities.iter().enumerate() {
        let position = format!("vulnerabilities[{index}]");
        let Some(vulnerability) = vulnerability.as_object() else {
            warnings.push(format!("{position} is not an object; skipped"));
            continue;
        };
        let Some(id) = common::text(vulnerability, "id") else {
            warnings.push(format!("{position} has no id; skipped"));
            continue;
        };
        let origin = format!("{position} ({id})");
        let analysis = vulnerability.get("analysis").and_then(Value::as_object);
        let Some(state) = analysis.and_then(|analysis| common::text(analysis, "state")) else {
            warnings.push(format!("{origin} has no analysis.state; skipped"));
            continue;
        };
        let state = match state {
            "resolved_with_pedigree" => State::Resolved,
            other => match other.parse::<State>() {
                Ok(state) => state,
                Err(_) => {
                    warnings.push(format!(
                        "{origin}: unknown analysis.state `{other}`; skipped"
                    ));
                    continue;
                }
            },
        };
        let justification = match analysis.and_then(|a| common::text(a, "justification")) {
            None => None,
            Some(name) => match name.parse::<Justification>() {
                Ok(justification) => Some(justification),
                Err(_) => {
                    warnings.push(format!(
                        "{origin}: unknown analysis.justification `{name}`; read without one"
                    ));
                    None
                }
            },
        };
        let detail = analysis
            .and_then(|analysis| common::text(analysis, "detail"))
            .map(str::to_owned);
        let timestamp = analysis
            .and_then(|analysis| common::timestamp(analysis, &["lastUpdated", "firstIssued"]));
        let aliases = vulnerability
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|reference| reference.get("id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        let template = Statement {
            vulnerability: id.to_owned(),
            aliases,
            purl: None,
            component_name: None,
            state,
            justification,
            detail,
        };

        let mut products = Vec::new();
        let affects = vulnerability.get("affects").and_then(Value::as_array);
        for (affect_index, affect) in affects.into_iter().flatten().enumerate() {
            let reference = affect
                .get("ref")
                .and_then(Value::as_str)
                .filter(|reference| !reference.is_empty());
            let Some(reference) = reference else {
                warnings.push(format!(
                    "{origin}: affects[{affect_index}] has no ref; skipped"
                ));
                continue;
            };
            let product = resolve(reference, &components);
            if product.is_none() {
                warnings.push(format!(
                    "{origin}: affects ref `{reference}` is no component of the BOM and no purl; \
                     read without product"
                ));
            }
            products.push(product);
        }
        if products.is_empty() {
            products.push(None);
        }
        for product in products {
            let (purl, component_name) = Target::fields(product);
            candidates.push(Candidate {
                statement: Statement {
                    purl,
                    component_name,
                    ..template.clone()
                },
                timestamp,
                position: position.clone(),
            });
        }
    }
    candidates
}

/// What a `bom-ref` names: a component's (or service's) purl and name.
#[derive(Debug, Clone, Copy)]
struct Named<'a> {
    purl: Option<&'a str>,
    name: Option<&'a str>,
}

/// Every `bom-ref` of the BOM's components and services, nested ones and
/// `metadata.component` included. A duplicated `bom-ref` (invalid) keeps its first meaning.
fn component_index(root: &Map<String, Value>) -> HashMap<&str, Named<'_>> {
    let mut index = HashMap::new();
    let mut queue: VecDeque<&Value> = VecDeque::new();
    queue.extend(
        root.get("metadata")
            .and_then(|metadata| metadata.get("component")),
    );
    for key in ["components", "services"] {
        queue.extend(
            root.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    while let Some(value) = queue.pop_front() {
        let Some(object) = value.as_object() else {
            continue;
        };
        for key in ["components", "services"] {
            queue.extend(
                object
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        }
        if let Some(bom_ref) = common::text(object, "bom-ref") {
            index.entry(bom_ref).or_insert(Named {
                purl: common::text(object, "purl"),
                name: common::text(object, "name"),
            });
        }
    }
    index
}

/// The product an `affects` ref stands for: the purl of the component it names, else the ref
/// itself when it is a purl, else the component's name; a BOM-Link by its fragment.
fn resolve(reference: &str, components: &HashMap<&str, Named<'_>>) -> Option<Target> {
    let lookup = |reference: &str| {
        let named = components.get(reference);
        named
            .and_then(|named| named.purl)
            .or_else(|| reference.starts_with("pkg:").then_some(reference))
            .map(Product::Purl)
            .or_else(|| named.and_then(|named| named.name).map(Product::Name))
            .map(Target::from)
    };
    if let Some(product) = lookup(reference) {
        return Some(product);
    }
    let (_, fragment) = reference.strip_prefix("urn:cdx:")?.split_once('#')?;
    let fragment = common::percent_decode(fragment).unwrap_or_else(|| fragment.to_owned());
    lookup(&fragment)
}
