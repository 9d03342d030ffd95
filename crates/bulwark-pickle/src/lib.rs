//! The pickle scanner: model files that run code when loaded.
//!
//! A pickle is a program for a small stack machine whose instructions import callables and
//! call them; `torch.load(weights_only=False)`, `joblib.load` and `numpy.load(allow_pickle=
//! True)` run it. Public scanners are denylists and keep being bypassed. This one is
//! **default-deny**: every opcode of protocols 0–5 is simulated symbolically (stack and memo
//! exactly, nothing executed), every import is checked against an allowlist of the callables
//! PyTorch's `weights_only` unpickler, NumPy and joblib need to rebuild arrays, and
//! everything else is a finding graded by severity. What cannot be read (truncation, unknown
//! opcodes, exhausted budgets) is a finding too, never "clean".
//!
//! - [`analyze`]: one byte stream (several concatenated pickles), the engine a fuzz target
//!   calls.
//! - [`scan_file`]: a file of any supported container (PyTorch zip and legacy tar/stacked
//!   formats, TorchScript, zip in zip, `.npy`/`.npz`, joblib, raw pickle).
//! - [`catalogers`]: the `model/pickle` cataloger reporting [`ArtifactFinding`]s.
//!
//! [`ArtifactFinding`]: bulwark_inventory::ArtifactFinding

mod cataloger;
mod container;
mod machine;
mod opcode;
mod policy;

#[cfg(test)]
mod asm;
#[cfg(test)]
mod tests;

use bulwark_catalog::Cataloger;

pub use container::scan_file;
pub use machine::{Analysis, Import, PickleFinding, analyze};

/// Bounds on the work one file may cost. Hostile input hits these, never the machine's
/// memory: every length is checked against the input before it is allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Opcodes executed per file, nested pickles included (bytes decoded count 1/64 each).
    pub max_ops: u64,
    /// Values on the symbolic stack, and open MARKs.
    pub max_stack: usize,
    /// Memo entries per pickle.
    pub max_memo: usize,
    /// Values created per pickle.
    pub max_values: usize,
    /// How deep pickles passed to `pickle.loads` are followed.
    pub max_nesting: u32,
    /// Findings kept per stream; the rest are counted.
    pub max_findings: usize,
    /// Imports kept per stream.
    pub max_imports: usize,
    /// Bytes read (after decompression) for one member or one pickle stream.
    pub max_member_bytes: u64,
    /// Bytes read for the whole file, all members together.
    pub max_file_bytes: u64,
    /// How deep archives in archives are opened.
    pub max_archive_depth: u32,
    /// Members read per archive.
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_ops: 50_000_000,
            max_stack: 1_000_000,
            max_memo: 1_000_000,
            max_values: 4_000_000,
            max_nesting: 4,
            max_findings: 1_000,
            max_imports: 10_000,
            max_member_bytes: 256 << 20,
            max_file_bytes: 1 << 30,
            max_archive_depth: 4,
            max_members: 100_000,
        }
    }
}

/// The catalogers of this crate: `model/pickle`.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(cataloger::PickleCataloger)]
}
