//! Catalogers find components in files.
//!
//! The [`walk`] module makes one parallel pass over a target and offers every file to each
//! [`Cataloger`] that [claims](Cataloger::wants) it by path. A cataloger reads what it needs
//! through a [`Resolver`] (so the same code works on a directory today and on an image's
//! layered filesystem later), and returns a [`CatalogOutput`]. A cataloger error becomes a
//! [`Problem`](bulwark_inventory::Problem) naming the file; the walk goes on.
//!
//! Catalogers never depend on each other. Cross-file facts (which conda package owns which
//! Python distribution, which installed package satisfies a `Requires-Dist`) are settled after
//! the walk by [`Inventory::assemble`](bulwark_inventory::Inventory::assemble).

mod cataloger;
mod path;
pub mod requirement_text;
mod resolver;
pub mod testing;
pub mod walk;

pub use cataloger::{
    CatalogError, CatalogOutput, Cataloger, FileRef, is_installed_package_content,
};
pub use path::join_relative;
pub use resolver::{DirResolver, MAX_READ_BYTES, ReadSeek, Resolver, open_executable};
pub use walk::{Progress, TargetError, catalog_files, catalog_target};
