//! CycloneDX JSON (1.2 to 1.7; every version's component shape is a superset of the last's in
//! what bulwark reads).
//!
//! The document is read in one pass with typed structs; unknown fields are skipped without
//! being built. Components are first held as raw JSON slices of the input, then read one by
//! one, so a component of the wrong shape becomes a problem instead of failing the document.

use bulwark_inventory::Inventory;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::cyclonedx::{self, Bom, Dependency, Nested, Property, RawComponent};
use super::{DecodeError, json_error};

const SUPPORTED: &str = "CycloneDX JSON 1.2 to 1.7 is read";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    bom_format: String,
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default, borrow)]
    metadata: Option<Metadata<'a>>,
    #[serde(default, borrow)]
    components: Vec<&'a RawValue>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(default, borrow)]
    component: Option<&'a RawValue>,
    #[serde(default)]
    properties: Vec<Property>,
}

impl<'a> Nested for &'a RawValue {
    fn read(self) -> Result<RawComponent<Self>, String> {
        serde_json::from_str::<RawComponent<&'a RawValue>>(self.get()).map_err(|e| e.to_string())
    }
}

pub(super) fn decode(bytes: &[u8], source_name: &str) -> Result<Inventory, DecodeError> {
    let document: Document<'_> =
        serde_json::from_slice(bytes).map_err(json_error(source_name, "CycloneDX"))?;
    if document.bom_format != "CycloneDX" {
        return Err(DecodeError::UnknownFormat {
            source_name: source_name.to_owned(),
            reason: format!("`bomFormat` is `{}`, not `CycloneDX`", document.bom_format),
        });
    }
    let version = document.spec_version.unwrap_or_default();
    let supported = matches!(
        version.as_str(),
        "1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7"
    );
    if !supported {
        return Err(DecodeError::UnsupportedVersion {
            source_name: source_name.to_owned(),
            format: "CycloneDX",
            version: if version.is_empty() {
                "without `specVersion`".to_owned()
            } else {
                version
            },
            supported: SUPPORTED,
        });
    }
    let (subject, metadata_properties) = match document.metadata {
        Some(metadata) => (
            metadata.component.and_then(|c| c.read().ok()),
            metadata.properties,
        ),
        None => (None, Vec::new()),
    };
    let bom = Bom {
        subject_refs: cyclonedx::subject_refs(subject),
        components: document.components,
        dependencies: document.dependencies,
        metadata_properties,
    };
    Ok(cyclonedx::convert(bom, source_name))
}
