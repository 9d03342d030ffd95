//! Validation of uploaded SBOMs against the official JSON schemas (CycloneDX 1.4–1.6, SPDX
//! 2.3), so a malformed document is refused with the schema's own errors instead of being
//! stored half-understood. Validators are built once, on first use.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

const CYCLONEDX_1_4: &str = include_str!("../schemas/bom-1.4.schema.json");
const CYCLONEDX_1_5: &str = include_str!("../schemas/bom-1.5.schema.json");
const CYCLONEDX_1_6: &str = include_str!("../schemas/bom-1.6.schema.json");
const CYCLONEDX_SPDX: &str = include_str!("../schemas/spdx.schema.json");
const CYCLONEDX_JSF: &str = include_str!("../schemas/jsf-0.82.schema.json");
const SPDX_2_3: &str = include_str!("../schemas/spdx-2.3.schema.json");

/// Errors reported per document, at most; a broken generator can produce thousands.
const MAX_ERRORS: usize = 20;

/// Which schema a JSON document is validated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schema {
    CycloneDx14,
    CycloneDx15,
    CycloneDx16,
    Spdx23,
}

fn parse(text: &str) -> Value {
    // The embedded schemas are parsed by the tests; a failure here is a build defect.
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn build(schema: Schema) -> Option<Validator> {
    let (main, cyclonedx) = match schema {
        Schema::CycloneDx14 => (CYCLONEDX_1_4, true),
        Schema::CycloneDx15 => (CYCLONEDX_1_5, true),
        Schema::CycloneDx16 => (CYCLONEDX_1_6, true),
        Schema::Spdx23 => (SPDX_2_3, false),
    };
    let result = if cyclonedx {
        let registry = jsonschema::Registry::new()
            .add(
                "http://cyclonedx.org/schema/spdx.schema.json",
                parse(CYCLONEDX_SPDX),
            )
            .and_then(|r| {
                r.add(
                    "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                    parse(CYCLONEDX_JSF),
                )
            })
            .and_then(|r| r.prepare());
        match registry {
            Ok(registry) => jsonschema::options()
                .with_registry(&registry)
                .build(&parse(main)),
            Err(error) => {
                tracing::error!("cannot load the CycloneDX schemas: {error}");
                return None;
            }
        }
    } else {
        jsonschema::options().build(&parse(main))
    };
    result
        .map_err(|error| tracing::error!("cannot build the {schema:?} validator: {error}"))
        .ok()
}

fn validator(schema: Schema) -> Option<&'static Validator> {
    static VALIDATORS: [OnceLock<Option<Validator>>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let slot = match schema {
        Schema::CycloneDx14 => &VALIDATORS[0],
        Schema::CycloneDx15 => &VALIDATORS[1],
        Schema::CycloneDx16 => &VALIDATORS[2],
        Schema::Spdx23 => &VALIDATORS[3],
    };
    slot.get_or_init(|| build(schema)).as_ref()
}

fn schema_of(document: &Value) -> Option<Schema> {
    if document.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return match document.get("specVersion").and_then(Value::as_str)? {
            "1.4" => Some(Schema::CycloneDx14),
            "1.5" => Some(Schema::CycloneDx15),
            "1.6" => Some(Schema::CycloneDx16),
            _ => None,
        };
    }
    match document.get("spdxVersion").and_then(Value::as_str)? {
        "SPDX-2.3" => Some(Schema::Spdx23),
        _ => None,
    }
}

/// Checks a parsed JSON SBOM against its schema. Versions without an embedded schema (older
/// CycloneDX, SPDX 2.2) pass here and are left to the decoder. The errors name the JSON
/// pointer of each offending value.
pub(crate) fn validate(document: &Value) -> Result<(), Vec<String>> {
    let Some(validator) = schema_of(document).and_then(validator) else {
        return Ok(());
    };
    let mut errors: Vec<String> = validator
        .iter_errors(document)
        .take(MAX_ERRORS + 1)
        .map(|error| {
            let at = error.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {error}")
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    if errors.len() > MAX_ERRORS {
        errors.truncate(MAX_ERRORS);
        errors.push(format!("(only the first {MAX_ERRORS} errors are listed)"));
    }
    Err(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_validator_builds() {
        for schema in [
            Schema::CycloneDx14,
            Schema::CycloneDx15,
            Schema::CycloneDx16,
            Schema::Spdx23,
        ] {
            assert!(validator(schema).is_some(), "{schema:?}");
        }
    }

    #[test]
    fn a_wrong_type_is_reported_with_its_pointer() {
        let document = serde_json::json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "components": [{"type": "library", "name": 7}]
        });
        let errors = validate(&document).unwrap_err();
        assert!(
            errors.iter().any(|e| e.starts_with("/components/0/name")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_minimal_valid_document_passes() {
        let document = serde_json::json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "components": [{"type": "library", "name": "numpy", "version": "1.26.4"}]
        });
        assert_eq!(validate(&document), Ok(()));
    }
}
