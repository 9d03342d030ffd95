//! Machine-learning models in the inventory (an ML-BOM): model files recognized by their
//! content, Hugging Face repository layouts, and what their headers and model cards say.
//!
//! Three catalogers:
//!
//! - `model/file` — a standalone model file, recognized by magic bytes or structure (the
//!   extension only decides which files are looked at): safetensors, GGUF, ONNX, PyTorch zip
//!   checkpoints and TorchScript, legacy `torch.save` streams, pickle / joblib / dill, NumPy
//!   `.npy` / `.npz`, Keras `.keras` and HDF5, TFLite. Each becomes one
//!   [`ComponentKind::MachineLearningModel`] with [`ModelInfo`] metadata.
//! - `model/huggingface` — a Hugging Face snapshot directory (`config.json`, model card,
//!   sharded checkpoints) or hub cache (`models--org--name/snapshots/<rev>/`): one component
//!   per model, its shards in `files`, parameters summed, datasets of the card as
//!   [`ComponentKind::Data`] components it depends on.
//! - `model/tf-savedmodel` — a TensorFlow SavedModel (`saved_model.pb` + `variables/`).
//!
//! Headers are read, tensors never are. Unsafe constructs (Keras `Lambda` layers, ONNX
//! external data outside the model's directory, file-system ops in a TensorFlow graph,
//! `auto_map` remote code, chat templates that reach for Python internals, safetensors
//! headers whose offsets lie) become [`ArtifactFinding`]s. Pickles are only recognized here:
//! scanning them is `bulwark-pickle`'s job.
//!
//! Files are hashed (SHA-256, streamed, in parallel across a model's files) unless
//! [`Options::hashes`] is off.

pub mod chat_template;
mod error;
pub mod gguf;
pub mod hash;
pub mod hdf5;
pub mod hf;
pub mod keras;
pub mod numpy;
pub mod onnx;
mod protobuf;
pub mod pytorch;
pub mod safetensors;
pub mod tensorflow;

mod catalog;

pub use error::{ModelError, Result};

use bulwark_catalog::Cataloger;
pub(crate) use bulwark_inventory::ArtifactSeverity as Severity;

/// How the catalogers work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Compute SHA-256 of every model file. Hashing reads every byte (tens of gigabytes for
    /// a large model); headers alone are a few kilobytes.
    pub hashes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { hashes: true }
    }
}

/// The catalogers of this crate with the default options (hashing on).
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    catalogers_with(Options::default())
}

/// The catalogers of this crate, in a fixed order.
pub fn catalogers_with(options: Options) -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(catalog::ModelFileCataloger { options }),
        Box::new(catalog::HuggingFaceCataloger { options }),
        Box::new(catalog::SavedModelCataloger { options }),
    ]
}
