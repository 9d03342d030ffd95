//! CycloneDX 1.6 XML (<https://cyclonedx.org/docs/1.6/xml/>), namespace
//! `http://cyclonedx.org/schema/bom/1.6`.
//!
//! Writes the same [`Bom`] as the JSON encoder, element by element, in the order the XSD's
//! `xs:sequence`s demand (XML, unlike JSON, rejects reordered children). Traps:
//! - `serialNumber` and `version` are attributes of `<bom>`; `bom-ref`, `type`, hash `alg`,
//!   property `name`, license `acknowledgement` and dependency `ref` are attributes too.
//! - Arrays become wrapper elements with singular children (`<hashes><hash>`,
//!   `<dependencies><dependency ref><dependency ref/></dependency>`, `<assemblies><assembly ref/>`).
//! - XML 1.0 cannot carry most control characters even escaped; they are replaced with
//!   U+FFFD. Text escapes `&<>'"`; attribute values also escape tab and newline, which a
//!   parser would otherwise normalize to spaces.

use std::borrow::Cow;

use bulwark_inventory::Inventory;
use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;

use crate::cyclonedx::{self, Bom, Component, LicenseChoice, Property};
use crate::mlbom::{ComponentData, Dataset, ModelCard};
use crate::{EncodeError, EncodeOptions};

const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/1.6";

pub(crate) fn encode(
    inventory: &Inventory,
    options: &EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    let bom = cyclonedx::build(inventory, options)?;
    let mut xml = Xml {
        writer: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    xml.write_bom(&bom)?;
    let mut out = xml.writer.into_inner();
    out.push(b'\n');
    Ok(out)
}

struct Xml {
    writer: Writer<Vec<u8>>,
}

type IoResult = std::io::Result<()>;

impl Xml {
    fn write_bom(&mut self, bom: &Bom) -> IoResult {
        self.writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let version = bom.version.to_string();
        self.start(
            "bom",
            &[
                ("xmlns", NAMESPACE),
                ("serialNumber", &bom.serial_number),
                ("version", &version),
            ],
        )?;

        self.start("metadata", &[])?;
        self.text("timestamp", &bom.metadata.timestamp)?;
        self.start("tools", &[])?;
        self.start("components", &[])?;
        for tool in &bom.metadata.tools.components {
            self.component(tool)?;
        }
        self.end("components")?;
        self.end("tools")?;
        self.component_named("component", &bom.metadata.component)?;
        self.properties(&bom.metadata.properties)?;
        self.end("metadata")?;

        self.start("components", &[])?;
        for component in &bom.components {
            self.component(component)?;
        }
        self.end("components")?;

        self.start("dependencies", &[])?;
        for dependency in &bom.dependencies {
            if dependency.depends_on.is_empty() {
                self.empty("dependency", &[("ref", &dependency.reference)])?;
            } else {
                self.start("dependency", &[("ref", &dependency.reference)])?;
                for target in &dependency.depends_on {
                    self.empty("dependency", &[("ref", target)])?;
                }
                self.end("dependency")?;
            }
        }
        self.end("dependencies")?;

        if !bom.compositions.is_empty() {
            self.start("compositions", &[])?;
            for composition in &bom.compositions {
                self.start("composition", &[])?;
                self.text("aggregate", composition.aggregate)?;
                self.start("assemblies", &[])?;
                for assembly in &composition.assemblies {
                    self.empty("assembly", &[("ref", assembly)])?;
                }
                self.end("assemblies")?;
                self.end("composition")?;
            }
            self.end("compositions")?;
        }
        self.end("bom")
    }

    fn component(&mut self, component: &Component) -> IoResult {
        self.component_named("component", component)
    }

    /// A component, children in the order of the XSD's `component` sequence: supplier, name,
    /// version, description, scope, hashes, licenses, cpe, purl, externalReferences,
    /// properties, evidence, modelCard, data.
    fn component_named(&mut self, element: &str, component: &Component) -> IoResult {
        let mut attributes = vec![("type", component.kind)];
        if let Some(bom_ref) = &component.bom_ref {
            attributes.push(("bom-ref", bom_ref));
        }
        self.start(element, &attributes)?;
        if let Some(supplier) = &component.supplier {
            self.start("supplier", &[])?;
            self.text("name", &supplier.name)?;
            for contact in &supplier.contact {
                self.start("contact", &[])?;
                self.text("name", &contact.name)?;
                self.text("email", &contact.email)?;
                self.end("contact")?;
            }
            self.end("supplier")?;
        }
        self.text("name", &component.name)?;
        self.optional_text("version", component.version.as_deref())?;
        self.optional_text("description", component.description.as_deref())?;
        self.optional_text("scope", component.scope)?;
        if !component.hashes.is_empty() {
            self.start("hashes", &[])?;
            for hash in &component.hashes {
                self.text_with("hash", &[("alg", hash.alg)], &hash.content)?;
            }
            self.end("hashes")?;
        }
        if !component.licenses.is_empty() {
            self.start("licenses", &[])?;
            for choice in &component.licenses {
                match choice {
                    LicenseChoice::License { license } => {
                        self.start("license", &[("acknowledgement", license.acknowledgement)])?;
                        self.optional_text("id", license.id.as_deref())?;
                        self.optional_text("name", license.name.as_deref())?;
                        self.end("license")?;
                    }
                    LicenseChoice::Expression {
                        expression,
                        acknowledgement,
                    } => {
                        self.text_with(
                            "expression",
                            &[("acknowledgement", acknowledgement)],
                            expression,
                        )?;
                    }
                }
            }
            self.end("licenses")?;
        }
        self.optional_text("cpe", component.cpe.as_deref())?;
        self.optional_text("purl", component.purl.as_deref())?;
        if !component.external_references.is_empty() {
            self.start("externalReferences", &[])?;
            for reference in &component.external_references {
                self.start("reference", &[("type", reference.kind)])?;
                self.text("url", &reference.url)?;
                self.optional_text("comment", reference.comment.as_deref())?;
                self.end("reference")?;
            }
            self.end("externalReferences")?;
        }
        self.properties(&component.properties)?;
        if let Some(evidence) = &component.evidence {
            self.start("evidence", &[])?;
            for identity in &evidence.identity {
                self.start("identity", &[])?;
                self.text("field", identity.field)?;
                self.text("concludedValue", &identity.concluded_value)?;
                self.end("identity")?;
            }
            if !evidence.occurrences.is_empty() {
                self.start("occurrences", &[])?;
                for occurrence in &evidence.occurrences {
                    self.start("occurrence", &[])?;
                    self.text("location", &occurrence.location)?;
                    if let Some(line) = occurrence.line {
                        self.text("line", &line.to_string())?;
                    }
                    self.optional_text(
                        "additionalContext",
                        occurrence.additional_context.as_deref(),
                    )?;
                    self.end("occurrence")?;
                }
                self.end("occurrences")?;
            }
            self.end("evidence")?;
        }
        if let Some(card) = &component.model_card {
            self.model_card(card)?;
        }
        // `data` repeats without a wrapper element, unlike the other arrays.
        for data in &component.data {
            self.component_data("data", data)?;
        }
        self.end(element)
    }

    /// `modelCard` in the XSD's order: modelParameters (task, architectureFamily,
    /// modelArchitecture, datasets, inputs, outputs), then considerations (users, useCases,
    /// technicalLimitations, performanceTradeoffs, ethicalConsiderations).
    fn model_card(&mut self, card: &ModelCard) -> IoResult {
        self.start("modelCard", &[])?;
        if let Some(parameters) = &card.model_parameters {
            self.start("modelParameters", &[])?;
            self.optional_text("task", parameters.task.as_deref())?;
            self.optional_text(
                "architectureFamily",
                parameters.architecture_family.as_deref(),
            )?;
            self.optional_text(
                "modelArchitecture",
                parameters.model_architecture.as_deref(),
            )?;
            if !parameters.datasets.is_empty() {
                self.start("datasets", &[])?;
                for dataset in &parameters.datasets {
                    match dataset {
                        Dataset::Ref { reference } => self.text("ref", reference)?,
                        Dataset::Inline(data) => self.component_data("dataset", data)?,
                    }
                }
                self.end("datasets")?;
            }
            for (wrapper, element, formats) in [
                ("inputs", "input", &parameters.inputs),
                ("outputs", "output", &parameters.outputs),
            ] {
                if formats.is_empty() {
                    continue;
                }
                self.start(wrapper, &[])?;
                for format in formats {
                    self.start(element, &[])?;
                    self.text("format", &format.format)?;
                    self.end(element)?;
                }
                self.end(wrapper)?;
            }
            self.end("modelParameters")?;
        }
        if let Some(considerations) = &card.considerations {
            self.start("considerations", &[])?;
            for (wrapper, element, texts) in [
                ("users", "user", &considerations.users),
                ("useCases", "useCase", &considerations.use_cases),
                (
                    "technicalLimitations",
                    "technicalLimitation",
                    &considerations.technical_limitations,
                ),
                (
                    "performanceTradeoffs",
                    "performanceTradeoff",
                    &considerations.performance_tradeoffs,
                ),
            ] {
                if texts.is_empty() {
                    continue;
                }
                self.start(wrapper, &[])?;
                for text in texts {
                    self.text(element, text)?;
                }
                self.end(wrapper)?;
            }
            if !considerations.ethical_considerations.is_empty() {
                self.start("ethicalConsiderations", &[])?;
                for risk in &considerations.ethical_considerations {
                    self.start("ethicalConsideration", &[])?;
                    self.text("name", &risk.name)?;
                    self.end("ethicalConsideration")?;
                }
                self.end("ethicalConsiderations")?;
            }
            self.end("considerations")?;
        }
        self.end("modelCard")
    }

    /// A `componentDataType` element: `type`, then `name`.
    fn component_data(&mut self, element: &str, data: &ComponentData) -> IoResult {
        self.start(element, &[])?;
        self.text("type", data.kind)?;
        self.text("name", &data.name)?;
        self.end(element)
    }

    fn properties(&mut self, properties: &[Property]) -> IoResult {
        if properties.is_empty() {
            return Ok(());
        }
        self.start("properties", &[])?;
        for property in properties {
            self.text_with("property", &[("name", &property.name)], &property.value)?;
        }
        self.end("properties")
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) -> IoResult {
        self.writer
            .write_event(Event::Start(element(name, attributes)))
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> IoResult {
        self.writer
            .write_event(Event::Empty(element(name, attributes)))
    }

    fn end(&mut self, name: &str) -> IoResult {
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }

    fn text(&mut self, name: &str, text: &str) -> IoResult {
        self.text_with(name, &[], text)
    }

    fn optional_text(&mut self, name: &str, text: Option<&str>) -> IoResult {
        match text {
            Some(text) => self.text(name, text),
            None => Ok(()),
        }
    }

    fn text_with(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> IoResult {
        self.start(name, attributes)?;
        self.writer
            .write_event(Event::Text(BytesText::new(&xml_chars(text))))?;
        self.end(name)
    }
}

fn element<'a>(name: &'a str, attributes: &[(&'a str, &str)]) -> BytesStart<'a> {
    let mut start = BytesStart::new(name);
    for (key, value) in attributes {
        let escaped = quick_xml::escape::escape(xml_chars(value).into_owned())
            .replace('\t', "&#9;")
            .replace('\n', "&#10;");
        start.push_attribute(Attribute {
            key: QName(key),
            value: Cow::Owned(escaped),
        });
    }
    start
}

/// Replaces characters XML 1.0 cannot represent (C0 controls other than tab, newline and
/// carriage return; U+FFFE and U+FFFF) with U+FFFD.
fn xml_chars(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.chars()
                .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

const fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(xml_chars("a\u{1}b\tc"), "a\u{FFFD}b\tc");
        assert!(matches!(xml_chars("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn attributes_escape_markup_and_whitespace() {
        let start = element("x", &[("ref", "a<b>&\"c'\td\ne")]);
        let written = start.to_string();
        assert_eq!(written, "x ref=\"a&lt;b&gt;&amp;&quot;c&apos;&#9;d&#10;e\"");
    }
}
