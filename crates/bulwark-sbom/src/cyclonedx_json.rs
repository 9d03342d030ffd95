//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! The document is the [`Bom`](crate::cyclonedx::Bom) serialized as pretty JSON with a
//! trailing newline. Traps the model already handles: `$schema` must be exactly
//! `http://cyclonedx.org/schema/bom-1.6.schema.json` (the schema enumerates it), `licenses`
//! never mixes `license` and `expression` entries, and `evidence.identity` is an array in 1.6
//! (an object in 1.5).

use bulwark_inventory::Inventory;

use crate::{EncodeError, EncodeOptions, cyclonedx};

pub(crate) fn encode(
    inventory: &Inventory,
    options: &EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    let bom = cyclonedx::build(inventory, options)?;
    let mut out = serde_json::to_vec_pretty(&bom)?;
    out.push(b'\n');
    Ok(out)
}
