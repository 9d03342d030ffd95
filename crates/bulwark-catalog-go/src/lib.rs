//! Go catalogers: `go.mod` (with the `go.sum` beside an old one), a `go.sum` alone, and the
//! build information embedded in Go binaries.
//!
//! Every module is a [`Ecosystem::Go`](bulwark_inventory::Ecosystem::Go) component named by
//! its module path, at its version as Go writes it (`v1.2.3`, with the `v`), with the purl
//! `pkg:golang/<path prefix>/<last segment>@<version>`. The standard library is the module
//! `stdlib`, the name OSV files its advisories under, at the toolchain's version (`1.22.1`).
//!
//! Deviations from osv-scalibr, whose expectations the tests check: scalibr drops the `v`
//! from versions (bulwark keeps what the file says; bulwark's Go version order reads both),
//! names a module replaced by a local directory after the directory (bulwark keeps the
//! module path and records the directory as the source), and does not report the module
//! itself (bulwark reports it as the application the dependency edges start from).

mod binary;
mod buildinfo;
mod gomod;
mod gosum;
mod module;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(gomod::GoModCataloger),
        Box::new(gosum::GoSumCataloger),
        Box::new(binary::GoBinaryCataloger),
    ]
}
