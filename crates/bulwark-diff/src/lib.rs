//! What changed between two inventories of the same thing (two releases of a project, two
//! builds of an image): components added, removed, upgraded, downgraded or otherwise changed,
//! and vulnerability and artifact findings that are new or resolved.
//!
//! [`diff`] compares [`Inventory`](bulwark_inventory::Inventory)s, [`diff_findings`] the
//! [`MatchReport`](bulwark_match::MatchReport)s made from them, [`diff_artifact_findings`] the
//! unsafe-content findings of their files. Every result is sorted, so equal inputs give
//! byte-equal JSON.
//!
//! # Identity
//!
//! Two components are "the same package in another version" when they agree on everything
//! but the version: the ecosystem, the name normalized for that ecosystem
//! ([`PackageName`](bulwark_inventory::PackageName)), the purl namespace, and the purl
//! qualifiers that name a different artifact rather than a different build of it (`arch` and
//! `distro` for OS packages, `classifier` and `type` for Maven, `arch` for images). A Debian
//! `openssl` for `amd64` and one for `arm64` are two packages; a conda `numpy` of another
//! `build` string is the same one. Components outside package ecosystems (GPU libraries found
//! by file name, models, images) are identified by kind and name.
//!
//! # Several versions of one package
//!
//! One side may hold several versions of one identity (npm's nested `node_modules`, two
//! virtual environments in one image). They are compared as sets: versions on both sides are
//! unchanged, the remaining ones are paired where they can be (versions sharing the longest
//! leading text first, so `4.17.20` pairs with `4.17.21` rather than with `3.10.1`), and what
//! is left over is added or removed.
//!
//! # Direction
//!
//! A paired change is an upgrade or a downgrade by the ecosystem's exact version order
//! ([`bulwark_version`]). It is `changed` when that order cannot decide: the ecosystem has no
//! order (conda, images), a version does not parse, one side is unpinned, or the two
//! spellings are equal in the order (`1.0` and `1.0.0` in PEP 440).

mod components;
mod findings;
mod version;

pub use components::{ComponentRef, InventoryDiff, VersionChange, diff};
pub use findings::{
    ArtifactFindingsDiff, FindingChange, FindingsDiff, diff_artifact_findings, diff_findings,
};
