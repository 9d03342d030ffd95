//! The component model shared by every part of bulwark.
//!
//! An [`Inventory`] answers "what is in this stack": a sorted list of [`Component`]s (Python
//! distributions, conda packages, OS packages, GPU libraries, model files, ...), the typed
//! [`Relationship`]s between them, and the [`Problem`]s met while building it.
//!
//! This crate knows nothing about files or vulnerabilities. Catalogers produce components,
//! SBOM encoders and the matcher consume them.
//!
//! Traps worth knowing:
//! - A component's *identity* is its purl (see [`ComponentId`]); two sightings of the same purl
//!   are one component with two locations, never two components.
//! - Versions are kept exactly as the source states them. PEP 440 local versions such as
//!   `2.2.0+cu121` are identity, not noise, so nothing here normalizes a version.
//! - Names are normalized per ecosystem only for *matching* ([`PackageName`]); the name shown to
//!   users is the one the source wrote.
#![warn(missing_docs)]

mod component;
mod ecosystem;
mod finding;
mod inventory;
mod license;
mod name;
mod purl;
mod set;

pub use component::{
    Component, ComponentKind, CondaPackage, DirectUrl, FileEntry, GpuFacts, GpuPart, Hash,
    HashAlgorithm, Location, Metadata, ModelInfo, OsPackage, PackageSource, PythonDistribution,
    PythonRequirement, Scope,
};
pub use ecosystem::{Ecosystem, UnknownEcosystem};
pub use finding::{ArtifactFinding, ArtifactSeverity};
pub use inventory::{
    ComponentId, DependencyRequest, Inventory, Problem, Relationship, RelationshipKind,
};
pub use license::License;
pub use name::PackageName;
pub use purl::Purl;
pub use set::SortedSet;
