//! bulwark's own JSON: the inventory as it is, versioned.
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "target": "path/as/given",
//!   "components": [ { "kind": "library", "name": "torch", "ecosystem": "PyPI",
//!                     "version": "2.2.0+cu121", "purl": "pkg:pypi/torch@2.2.0%2Bcu121",
//!                     "locations": [{"path": "...", "line": 3}], "scope": "required",
//!                     "found_by": ["python/installed"], "metadata": {"type": "none"}, ... } ],
//!   "relationships": [ { "from": "<component id>", "kind": "depends-on", "to": "<id>" } ],
//!   "problems": [ { "path": "...", "line": 1, "cataloger": "...", "message": "..." } ]
//! }
//! ```
//!
//! The component fields are those of [`bulwark_inventory::Component`] under their Rust names;
//! `ecosystem` is the OSV spelling (`PyPI`, `crates.io`, `conda` for conda), `kind`, `scope` and
//! relationship kinds are kebab-case, `metadata` is tagged by `type` (`none`,
//! `python-distribution`, `python-requirement`, `conda`, `os-package`, `model`; a model's
//! fields are those of [`bulwark_inventory::ModelInfo`]), a license is
//! `{"type": "expression" | "name", "value": …}`, a hash `{"algorithm": "SHA-256", "value": hex}`,
//! empty optional fields are left out, and installed file lists are never written. A relationship's ends are component
//! ids: the purl, or `kind:name@version#first-location` for a component without one.
//!
//! `schema_version` is raised on any change a reader could trip over (a renamed or retyped
//! field); adding a field is not such a change. There is no timestamp, so the output depends
//! on the inventory alone.

use bulwark_inventory::{Component, Inventory, Problem, Relationship};
use serde::Serialize;

use crate::EncodeError;

/// The version of the layout above.
pub(crate) const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    target: &'a str,
    components: &'a [Component],
    relationships: Vec<&'a Relationship>,
    problems: &'a [Problem],
}

pub(crate) fn encode(inventory: &Inventory) -> Result<Vec<u8>, EncodeError> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        target: &inventory.target,
        components: &inventory.components,
        relationships: inventory.relationships.iter().collect(),
        problems: &inventory.problems,
    };
    let mut out = serde_json::to_vec_pretty(&document)?;
    out.push(b'\n');
    Ok(out)
}
