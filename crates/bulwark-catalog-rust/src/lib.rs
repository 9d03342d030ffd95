//! Rust catalogers: `Cargo.lock` in every format version Cargo has written (v1 to v4), and
//! the dependency list `cargo auditable` embeds in binaries (`.dep-v0`).

mod auditable;
mod cargo_lock;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(cargo_lock::CargoLockCataloger),
        Box::new(auditable::AuditableCataloger),
    ]
}
