//! TensorFlow: the op names of a SavedModel's graphs (`saved_model.pb`), and TFLite's
//! flatbuffer identifier.
//!
//! A SavedModel is a graph the loader will run, so an op that touches the file system or
//! calls back into Python is code in the model. The ops are found by walking
//! `SavedModel.meta_graphs[].graph_def` — its `node[].op` and the `node_def[].op` of every
//! function in `library` — with the hand-written protobuf reader.

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Seek};

use crate::error::{ModelError, Result};
use crate::protobuf::{Reader, Wire};

/// Most distinct op names kept.
const MAX_OPS: usize = 4096;

/// What `saved_model.pb` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedModel {
    /// Distinct op names in all graphs and functions.
    pub ops: BTreeSet<String>,
    /// `meta_info_def.tensorflow_version` of the first meta graph.
    pub tensorflow_version: Option<String>,
    /// `meta_info_def.tags`.
    pub tags: BTreeSet<String>,
    /// Number of meta graphs.
    pub meta_graphs: u64,
}

/// How dangerous a TensorFlow op is inside a model, if it is at all.
pub fn unsafe_op(op: &str) -> Option<(crate::Severity, &'static str)> {
    use crate::Severity::{Critical, High};
    Some(match op {
        "PyFunc" | "PyFuncStateless" | "EagerPyFunc" => (
            Critical,
            "calls back into Python code of the loading process",
        ),
        "ReadFile" | "MatchingFiles" | "ImmutableConst" => {
            (High, "reads files of the machine that runs the model")
        }
        "WriteFile" => (High, "writes files on the machine that runs the model"),
        _ => return None,
    })
}

/// Parses a serialized `SavedModel` held in memory.
pub fn parse_saved_model(bytes: &[u8]) -> Result<SavedModel> {
    read_saved_model(Cursor::new(bytes))
}

/// Parses the `SavedModel` behind `reader`.
pub fn read_saved_model<R: Read + Seek>(reader: R) -> Result<SavedModel> {
    let (mut r, end) = Reader::new(reader)?;
    let mut model = SavedModel::default();
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (2, Wire::Len) => {
                let meta_end = r.len(end)?;
                model.meta_graphs += 1;
                meta_graph(&mut r, meta_end, &mut model)?;
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    if model.meta_graphs == 0 {
        return Err(ModelError::invalid("SavedModel", "no meta graphs"));
    }
    Ok(model)
}

fn meta_graph<R: Read + Seek>(r: &mut Reader<R>, end: u64, model: &mut SavedModel) -> Result<()> {
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            // MetaInfoDef: tags (4), tensorflow_version (5).
            (1, Wire::Len) => {
                let info_end = r.len(end)?;
                while let Some((field, wire)) = r.field(info_end)? {
                    match (field, wire) {
                        (4, Wire::Len) => {
                            let tag = r.string(info_end, 256)?;
                            if model.tags.len() < 64 {
                                model.tags.insert(tag);
                            }
                        }
                        (5, Wire::Len) => {
                            let version = r.string(info_end, 256)?;
                            model.tensorflow_version.get_or_insert(version);
                        }
                        (_, wire) => r.skip(wire, info_end)?,
                    }
                }
            }
            // GraphDef: node (1), library (2).
            (2, Wire::Len) => {
                let graph_end = r.len(end)?;
                while let Some((field, wire)) = r.field(graph_end)? {
                    match (field, wire) {
                        (1, Wire::Len) => {
                            let node_end = r.len(graph_end)?;
                            node_def(r, node_end, model)?;
                        }
                        (2, Wire::Len) => {
                            let library_end = r.len(graph_end)?;
                            library(r, library_end, model)?;
                        }
                        (_, wire) => r.skip(wire, graph_end)?,
                    }
                }
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok(())
}

/// `FunctionDefLibrary.function` (1) → `FunctionDef.node_def` (3).
fn library<R: Read + Seek>(r: &mut Reader<R>, end: u64, model: &mut SavedModel) -> Result<()> {
    while let Some((field, wire)) = r.field(end)? {
        if (field, wire) == (1, Wire::Len) {
            let function_end = r.len(end)?;
            while let Some((field, wire)) = r.field(function_end)? {
                if (field, wire) == (3, Wire::Len) {
                    let node_end = r.len(function_end)?;
                    node_def(r, node_end, model)?;
                } else {
                    r.skip(wire, function_end)?;
                }
            }
        } else {
            r.skip(wire, end)?;
        }
    }
    Ok(())
}

/// `NodeDef.op` (2).
fn node_def<R: Read + Seek>(r: &mut Reader<R>, end: u64, model: &mut SavedModel) -> Result<()> {
    while let Some((field, wire)) = r.field(end)? {
        if (field, wire) == (2, Wire::Len) {
            let op = r.string(end, 256)?;
            if model.ops.len() < MAX_OPS {
                model.ops.insert(op);
            }
        } else {
            r.skip(wire, end)?;
        }
    }
    Ok(())
}

/// Whether `prefix` is a TFLite flatbuffer (file identifier `TFL3` at bytes 4–8).
pub fn sniff_tflite(prefix: &[u8]) -> bool {
    prefix.get(4..8) == Some(b"TFL3")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_read_file_in_a_function() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/savedmodel_readfile/saved_model.pb"
        ))
        .unwrap();
        let model = parse_saved_model(&bytes).unwrap();
        assert!(model.ops.contains("ReadFile"), "{:?}", model.ops);
        assert!(model.ops.contains("SaveV2"), "{:?}", model.ops);
        assert!(model.tags.contains("serve"));
        assert!(model.tensorflow_version.is_some());
        let unsafe_ops: Vec<_> = model
            .ops
            .iter()
            .filter(|op| unsafe_op(op).is_some())
            .collect();
        assert_eq!(unsafe_ops, ["ReadFile"]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_saved_model(b"").is_err());
        assert!(parse_saved_model(b"\x12\xff\xff\xff\x7f").is_err());
    }
}
