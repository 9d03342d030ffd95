//! CycloneDX XML (namespace `http://cyclonedx.org/schema/bom/1.x`).
//!
//! The document is read into a small element tree (local names, attributes, text), which is
//! then mapped onto the same components the JSON reader produces. Traps:
//! - Element names are matched by local name, so a prefixed document (`<cdx:component>`) reads
//!   like an unprefixed one; the namespace is checked on the root only.
//! - Attributes carry what JSON has as fields: `type`, `bom-ref`, hash `alg`, property `name`,
//!   dependency `ref`. Arrays are wrapper elements with singular children.
//! - quick-xml hands entity and character references over as separate events; they are put
//!   back into the text here.

use bulwark_inventory::Inventory;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::DecodeError;
use super::cyclonedx::{
    self, Bom, Contact, Dependency, Evidence, HashEntry, IdentityEntry, LicenseChoice,
    LicenseEntry, Nested, Occurrence, OneOrMany, Property, RawComponent, Supplier,
};
use super::model_card::{
    RawApproach, RawConsiderations, RawDataset, RawEnvironmental, RawFairness, RawFormat,
    RawModelCard, RawModelParameters, RawRisk,
};

const NAMESPACE_PREFIX: &str = "http://cyclonedx.org/schema/bom/";

/// A nested component, already read.
pub(super) struct XmlNested(RawComponent<XmlNested>);

impl Nested for XmlNested {
    fn read(self) -> Result<RawComponent<Self>, String> {
        Ok(self.0)
    }
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attribute(&self, name: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    fn child(&self, name: &str) -> Option<&Self> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Self> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The children of the wrapper `wrapper` named `name` (`<hashes><hash/>...`).
    fn wrapped<'a>(
        &'a self,
        wrapper: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Self> + 'a {
        self.all(wrapper).flat_map(move |w| w.all(name))
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned())
    }
}

pub(super) fn decode(bytes: &[u8], source_name: &str) -> Result<Inventory, DecodeError> {
    let error = |message: String| DecodeError::Xml {
        source_name: source_name.to_owned(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| error(format!("not UTF-8 ({e})")))?;
    let root = parse(text).map_err(error)?;
    if root.name != "bom" {
        return Err(error(format!(
            "the root element is `{}`, not `bom`",
            root.name
        )));
    }
    let namespace = root
        .attributes
        .iter()
        .find(|(key, value)| {
            (key == "xmlns" || key.starts_with("xmlns:")) && value.starts_with(NAMESPACE_PREFIX)
        })
        .map(|(_, value)| value.clone());
    let Some(namespace) = namespace else {
        return Err(DecodeError::UnknownFormat {
            source_name: source_name.to_owned(),
            reason: "the `bom` element is not in a CycloneDX namespace".to_owned(),
        });
    };
    let version = namespace.trim_start_matches(NAMESPACE_PREFIX);
    if !matches!(
        version,
        "1.0" | "1.1" | "1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7"
    ) {
        return Err(DecodeError::UnsupportedVersion {
            source_name: source_name.to_owned(),
            format: "CycloneDX",
            version: version.to_owned(),
            supported: "CycloneDX XML 1.0 to 1.7 is read",
        });
    }

    let metadata = root.child("metadata");
    let subject = metadata.and_then(|m| m.child("component")).map(component);
    let bom = Bom {
        subject_refs: cyclonedx::subject_refs(subject),
        components: root
            .wrapped("components", "component")
            .map(|c| XmlNested(component(c)))
            .collect(),
        dependencies: root
            .wrapped("dependencies", "dependency")
            .map(|d| Dependency {
                reference: d.attribute("ref").unwrap_or_default(),
                depends_on: d
                    .all("dependency")
                    .filter_map(|t| t.attribute("ref"))
                    .collect(),
            })
            .collect(),
        metadata_properties: metadata.map(properties).unwrap_or_default(),
    };
    Ok(cyclonedx::convert(bom, source_name))
}

fn properties(element: &Element) -> Vec<Property> {
    element
        .wrapped("properties", "property")
        .map(|p| Property {
            name: p.attribute("name").unwrap_or_default(),
            value: Some(p.text.clone()),
        })
        .collect()
}

fn contact(element: &Element) -> Contact {
    Contact {
        name: element.text_of("name"),
        email: element.text_of("email"),
    }
}

fn component(element: &Element) -> RawComponent<XmlNested> {
    RawComponent {
        kind: element.attribute("type"),
        bom_ref: element.attribute("bom-ref"),
        supplier: element.child("supplier").map(|s| Supplier {
            name: s.text_of("name"),
            contact: s.all("contact").map(contact).collect(),
        }),
        author: element.text_of("author"),
        authors: element.wrapped("authors", "author").map(contact).collect(),
        publisher: element.text_of("publisher"),
        group: element.text_of("group"),
        name: element.text_of("name"),
        version: element.text_of("version"),
        description: element.text_of("description"),
        scope: element.text_of("scope"),
        hashes: element
            .wrapped("hashes", "hash")
            .map(|h| HashEntry {
                alg: h.attribute("alg").unwrap_or_default(),
                content: h.text.trim().to_owned(),
            })
            .collect(),
        licenses: element
            .all("licenses")
            .flat_map(|l| l.children.iter())
            .map(|choice| match choice.name.as_str() {
                "expression" => LicenseChoice {
                    license: None,
                    expression: Some(choice.text.trim().to_owned()),
                },
                _ => LicenseChoice {
                    license: Some(LicenseEntry {
                        id: choice.text_of("id"),
                        name: choice.text_of("name"),
                    }),
                    expression: None,
                },
            })
            .collect(),
        cpe: element.text_of("cpe"),
        purl: element.text_of("purl"),
        properties: properties(element),
        evidence: element.child("evidence").map(|e| Evidence {
            identity: Some(OneOrMany::Many(
                e.all("identity")
                    .map(|i| IdentityEntry {
                        field: i.text_of("field"),
                        concluded_value: i.text_of("concludedValue"),
                    })
                    .collect(),
            )),
            occurrences: e
                .wrapped("occurrences", "occurrence")
                .map(|o| Occurrence {
                    location: o.text_of("location"),
                    line: o.text_of("line").and_then(|l| l.parse().ok()),
                    additional_context: o.text_of("additionalContext"),
                })
                .collect(),
        }),
        model_card: element.child("modelCard").map(model_card),
        components: element
            .wrapped("components", "component")
            .map(|c| XmlNested(component(c)))
            .collect(),
    }
}

/// `modelCard`, read into the same shape the JSON reader produces. Free text (the
/// considerations) is kept as written; short fields are trimmed.
fn model_card(element: &Element) -> RawModelCard {
    let texts = |parent: &Element, wrapper: &str, name: &str| -> Vec<String> {
        parent
            .wrapped(wrapper, name)
            .map(|e| e.text.clone())
            .collect()
    };
    let formats = |parent: &Element, wrapper: &str, name: &str| -> Vec<RawFormat> {
        parent
            .wrapped(wrapper, name)
            .map(|e| RawFormat {
                format: e.text_of("format"),
            })
            .collect()
    };
    RawModelCard {
        model_parameters: element
            .child("modelParameters")
            .map(|p| RawModelParameters {
                approach: p.child("approach").map(|a| RawApproach {
                    kind: a.text_of("type"),
                }),
                task: p.text_of("task"),
                architecture_family: p.text_of("architectureFamily"),
                model_architecture: p.text_of("modelArchitecture"),
                datasets: p
                    .all("datasets")
                    .flat_map(|d| d.children.iter())
                    .filter_map(|d| match d.name.as_str() {
                        "ref" => Some(RawDataset {
                            reference: Some(d.text.trim().to_owned()),
                            name: None,
                        }),
                        "dataset" => Some(RawDataset {
                            reference: None,
                            name: d.text_of("name"),
                        }),
                        _ => None,
                    })
                    .collect(),
                inputs: formats(p, "inputs", "input"),
                outputs: formats(p, "outputs", "output"),
            }),
        considerations: element.child("considerations").map(|c| RawConsiderations {
            users: texts(c, "users", "user"),
            use_cases: texts(c, "useCases", "useCase"),
            technical_limitations: texts(c, "technicalLimitations", "technicalLimitation"),
            performance_tradeoffs: texts(c, "performanceTradeoffs", "performanceTradeoff"),
            ethical_considerations: c
                .wrapped("ethicalConsiderations", "ethicalConsideration")
                .map(|e| RawRisk {
                    name: e.child("name").map(|n| n.text.clone()),
                    mitigation_strategy: e.child("mitigationStrategy").map(|m| m.text.clone()),
                })
                .collect(),
            fairness_assessments: c
                .wrapped("fairnessAssessments", "fairnessAssessment")
                .map(|f| RawFairness {
                    group_at_risk: f.text_of("groupAtRisk"),
                    benefits: f.text_of("benefits"),
                    harms: f.text_of("harms"),
                    mitigation_strategy: f.text_of("mitigationStrategy"),
                })
                .collect(),
            environmental_considerations: c.child("environmentalConsiderations").map(|e| {
                RawEnvironmental {
                    properties: properties(e),
                }
            }),
        }),
        properties: properties(element),
    }
}

/// Reads the document into an element tree; the error names the byte position.
fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |reader: &Reader<&[u8]>| reader.error_position();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("{e} at byte {}", at(&reader)))?;
        match event {
            Event::Start(start) => stack.push(element(&start, reader.buffer_position())?),
            Event::Empty(start) => {
                close(
                    element(&start, reader.buffer_position())?,
                    &mut stack,
                    &mut root,
                );
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| {
                    format!("unexpected end tag at byte {}", reader.buffer_position())
                })?;
                close(element, &mut stack, &mut root);
            }
            Event::Text(content) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&content.xml10_content());
                }
            }
            Event::CData(content) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&content.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| {
                            format!(
                                "unknown entity `&{};` at byte {}",
                                &*reference,
                                reader.buffer_position()
                            )
                        })?
                        .to_owned(),
                    Err(e) => return Err(format!("{e} at byte {}", reader.buffer_position())),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "the document ends inside `<{}>`",
            stack.last().map(|e| e.name.as_str()).unwrap_or_default()
        ));
    }
    root.ok_or_else(|| "the document has no root element".to_owned())
}

/// An element without children or text yet, from its start tag.
fn element(start: &BytesStart<'_>, position: u64) -> Result<Element, String> {
    let name = start.local_name().as_ref().to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("{e} at byte {position}"))?;
        let key: String = attribute.key.as_ref().to_owned();
        // `xmlns:cdx` stays whole (it declares a namespace); `cdx:ref` becomes `ref`.
        let key = match key.split_once(':') {
            Some(("xmlns", _)) | None => key,
            Some((_, local)) => local.to_owned(),
        };
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("{e} at byte {position}"))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => {
            if root.is_none() {
                *root = Some(element);
            }
        }
    }
}
