//! OpenVEX: v0.2.0 out, v0.2.0 and v0.0.1 in. The mapping is in the crate docs.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::common::{self, COMPONENT_URN_PREFIX, Candidate, Product, Target};
use crate::{ExportOptions, Format, Justification, State, Statement, VexError};

/// The context bulwark writes.
const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";
/// What every OpenVEX context starts with.
const CONTEXT_PREFIX: &str = "https://openvex.dev/ns";
/// The contexts read without a warning: v0.0.1 (bare and versioned) and v0.2.0.
const KNOWN_CONTEXTS: [&str; 3] = [CONTEXT_PREFIX, "https://openvex.dev/ns/v0.0.1", CONTEXT];
/// The `action_statement` of an exploitable finding without detail (OpenVEX requires one).
const NO_REMEDIATION: &str = "No remediation recorded";
/// The `impact_statement` of a not-affected finding with neither an OpenVEX justification nor
/// any text (OpenVEX requires a justification or an impact statement).
const NO_JUSTIFICATION: &str = "No justification recorded";
/// The leading term that marks a false positive, which OpenVEX has no status for.
const FALSE_POSITIVE: &str = "false_positive";

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@id")]
    id: &'a str,
    author: &'a str,
    timestamp: String,
    version: u32,
    tooling: String,
    statements: Vec<StatementOut<'a>>,
}

#[derive(Serialize)]
struct StatementOut<'a> {
    vulnerability: Vulnerability<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    products: Vec<ProductOut<'a>>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_notes: Option<String>,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<&'a str>,
}

#[derive(Serialize)]
struct ProductOut<'a> {
    #[serde(rename = "@id")]
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    identifiers: Option<Identifiers<'a>>,
}

#[derive(Serialize)]
struct Identifiers<'a> {
    purl: &'a str,
}

pub(crate) fn write(
    statements: &[Statement],
    options: &ExportOptions,
) -> Result<Vec<u8>, VexError> {
    let invalid = |option, reason: &str| VexError::InvalidOption {
        option,
        format: Format::OpenVex,
        reason: reason.to_owned(),
    };
    if options.id.trim().is_empty() {
        return Err(invalid("id", "OpenVEX requires a document `@id`"));
    }
    if options.author.trim().is_empty() {
        return Err(invalid("author", "OpenVEX requires an author"));
    }
    let timestamp = common::format_timestamp(options.timestamp, Format::OpenVex)?;
    let statements = common::prepare(statements)?;
    if statements.is_empty() {
        return Err(VexError::NoStatements);
    }
    let document = Document {
        context: CONTEXT,
        id: options.id,
        author: options.author,
        timestamp,
        version: 1,
        tooling: format!("bulwark {}", options.tool_version),
        statements: statements.iter().map(statement).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&document)
        .map_err(|error| VexError::Serialize(Format::OpenVex, error))?;
    out.push(b'\n');
    Ok(out)
}

fn statement(statement: &Statement) -> StatementOut<'_> {
    let products = match common::product(statement) {
        Some(Product::Purl(purl)) => vec![ProductOut {
            id: purl.to_owned(),
            identifiers: Some(Identifiers { purl }),
        }],
        Some(Product::Name(name)) => vec![ProductOut {
            id: format!("{COMPONENT_URN_PREFIX}{}", common::percent_encode(name)),
            identifiers: None,
        }],
        None => Vec::new(),
    };
    let mut out = StatementOut {
        vulnerability: Vulnerability {
            name: &statement.vulnerability,
            aliases: statement.aliases.iter().map(String::as_str).collect(),
        },
        products,
        status: "",
        justification: None,
        impact_statement: None,
        action_statement: None,
        status_notes: None,
    };
    let detail = statement.detail.clone();
    match statement.state {
        State::InTriage => {
            out.status = "under_investigation";
            out.status_notes = detail;
        }
        State::Resolved => {
            out.status = "fixed";
            out.status_notes = detail;
        }
        State::Exploitable => {
            out.status = "affected";
            out.action_statement = Some(detail.unwrap_or_else(|| NO_REMEDIATION.to_owned()));
        }
        State::NotAffected | State::FalsePositive => {
            out.status = "not_affected";
            let openvex = statement.justification.and_then(Justification::to_openvex);
            // What OpenVEX has no field for leads the text as terms (crate docs).
            let mut terms = Vec::new();
            if statement.state == State::FalsePositive {
                terms.push(FALSE_POSITIVE);
            }
            if let (Some(justification), None) = (statement.justification, openvex) {
                terms.push(justification.as_str());
            }
            terms.extend(statement.detail.as_deref());
            let text = terms.join(": ");
            match openvex {
                Some(justification) => {
                    out.justification = Some(justification.as_str());
                    out.status_notes = (!text.is_empty()).then_some(text);
                }
                None if text.is_empty() => out.impact_statement = Some(NO_JUSTIFICATION.to_owned()),
                None => out.impact_statement = Some(text),
            }
        }
    }
    out
}

/// The document's OpenVEX `@context`, if it has one (a string, or an array holding one).
pub(crate) fn context(root: &Map<String, Value>) -> Option<&str> {
    match root.get("@context")? {
        Value::String(context) => Some(context.as_str()),
        Value::Array(contexts) => contexts
            .iter()
            .filter_map(Value::as_str)
            .find(|context| context.starts_with(CONTEXT_PREFIX)),
        _ => None,
    }
    .filter(|context| context.starts_with(CONTEXT_PREFIX))
}

/// The statements of an OpenVEX document; `Err` with the reason when it has no `statements`
/// array to read.
pub(crate) fn read(
    root: &Map<String, Value>,
    context: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Candidate>, &'static str> {
    if !KNOWN_CONTEXTS.contains(&context.trim_end_matches('/')) {
        warnings.push(format!(
            "unknown OpenVEX context `{context}`; read as v0.2.0"
        ));
    }
    let statements = root
        .get("statements")
        .and_then(Value::as_array)
        .ok_or("the OpenVEX document has no `statements` array")?;
    let document_time = common::timestamp(root, &["last_updated", "timestamp"]);

    let mut candidates = Vec::new();
    for (index, value) in statements.iter().enumerate() {
        let position = format!("statements[{index}]");
        let Some(object) = value.as_object() else {
            warnings.push(format!("{position} is not an object; skipped"));
            continue;
        };
        // v0.0.1 names the vulnerability with a string, v0.2.0 with an object.
        let (name, aliases) = match object.get("vulnerability") {
            Some(Value::String(name)) if !name.trim().is_empty() => (name.as_str(), Vec::new()),
            Some(Value::Object(vulnerability)) => {
                let Some(name) = common::text(vulnerability, "name") else {
                    warnings.push(format!("{position} has no vulnerability name; skipped"));
                    continue;
                };
                let aliases = vulnerability
                    .get("aliases")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                (name, aliases)
            }
            _ => {
                warnings.push(format!("{position} has no vulnerability; skipped"));
                continue;
            }
        };
        let origin = format!("{position} ({name})");
        let Some(status) = common::text(object, "status") else {
            warnings.push(format!("{origin} has no status; skipped"));
            continue;
        };
        let mut state = match status {
            "not_affected" => State::NotAffected,
            "affected" => State::Exploitable,
            "fixed" => State::Resolved,
            "under_investigation" => State::InTriage,
            other => {
                warnings.push(format!("{origin}: unknown status `{other}`; skipped"));
                continue;
            }
        };
        let mut justification = match common::text(object, "justification") {
            None => None,
            Some(name) => match name.parse::<Justification>() {
                Ok(justification) => Some(justification),
                Err(_) => {
                    warnings.push(format!(
                        "{origin}: unknown justification `{name}`; read without one"
                    ));
                    None
                }
            },
        };

        let texts: Vec<&str> = [
            ("impact_statement", NO_JUSTIFICATION),
            ("action_statement", NO_REMEDIATION),
            ("status_notes", ""),
        ]
        .into_iter()
        .filter_map(|(key, placeholder)| {
            common::text(object, key).filter(|text| *text != placeholder)
        })
        .collect();
        let mut text = texts.join("\n\n");
        if state == State::NotAffected {
            if let Some(rest) = strip_term(&text, FALSE_POSITIVE) {
                state = State::FalsePositive;
                text = rest;
            }
            let cyclonedx = Justification::ALL
                .iter()
                .filter(|justification| !justification.is_openvex())
                .find_map(|&justification| {
                    strip_term(&text, justification.as_str()).map(|rest| (justification, rest))
                });
            if let Some((named, rest)) = cyclonedx {
                justification = Some(named);
                text = rest;
            }
        }
        let detail = (!text.is_empty()).then_some(text);

        let timestamp = common::timestamp(object, &["last_updated", "timestamp"]).or(document_time);
        let mut targets = Vec::new();
        for product in products(object) {
            let target = target(product);
            if target.is_none() {
                warnings.push(format!(
                    "{origin}: a product without purl, @id or CPE; read without product"
                ));
            }
            targets.push(target);
        }
        if targets.is_empty() {
            targets.push(None);
        }
        for target in targets {
            let (purl, component_name) = Target::fields(target);
            candidates.push(Candidate {
                statement: Statement {
                    vulnerability: name.to_owned(),
                    aliases: aliases.clone(),
                    purl,
                    component_name,
                    state,
                    justification,
                    detail: detail.clone(),
                },
                timestamp,
                position: position.clone(),
            });
        }
    }
    Ok(candidates)
}

/// The rest of `text` after a leading `term` (alone, or followed by `": "`).
fn strip_term(text: &str, term: &str) -> Option<String> {
    let rest = text.strip_prefix(term)?;
    if rest.is_empty() {
        Some(String::new())
    } else {
        rest.strip_prefix(": ").map(str::to_owned)
    }
}

/// What a statement is about: its `subcomponents` where it has them (v0.0.1), else each
/// product, or that product's `subcomponents` where it has them (v0.2.0).
fn products(statement: &Map<String, Value>) -> Vec<&Value> {
    fn nonempty(value: Option<&Value>) -> Option<&Vec<Value>> {
        value
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
    }
    if let Some(subcomponents) = nonempty(statement.get("subcomponents")) {
        return subcomponents.iter().collect();
    }
    let mut out = Vec::new();
    for product in nonempty(statement.get("products")).into_iter().flatten() {
        match nonempty(product.get("subcomponents")) {
            Some(subcomponents) => out.extend(subcomponents),
            None => out.push(product),
        }
    }
    out
}

/// A product (a string in v0.0.1, an object in v0.2.0) as a purl or a name.
fn target(product: &Value) -> Option<Target> {
    let from_id = |id: &str| {
        if id.starts_with("pkg:") {
            Target::Purl(id.to_owned())
        } else if let Some(name) = id.strip_prefix(COMPONENT_URN_PREFIX) {
            Target::Name(common::percent_decode(name).unwrap_or_else(|| name.to_owned()))
        } else {
            Target::Name(id.to_owned())
        }
    };
    match product {
        Value::String(id) if !id.trim().is_empty() => Some(from_id(id)),
        Value::Object(product) => {
            let identifiers = product.get("identifiers").and_then(Value::as_object);
            identifiers
                .and_then(|identifiers| common::text(identifiers, "purl"))
                .map(|purl| Target::Purl(purl.to_owned()))
                .or_else(|| common::text(product, "@id").map(from_id))
                .or_else(|| {
                    let identifiers = identifiers?;
                    ["cpe23", "@cpe23", "cpe22", "@cpe22"]
                        .into_iter()
                        .find_map(|key| common::text(identifiers, key))
                        .map(|cpe| Target::Name(cpe.to_owned()))
                })
        }
        _ => None,
    }
}
