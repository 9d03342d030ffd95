//! ONNX (`ModelProto`): IR version, opsets, producer, graph inputs and outputs, initializers
//! and where their data lives, read with the hand-written [protobuf reader](crate::protobuf).
//!
//! Field numbers are those of `onnx.proto` (onnx 1.15). Initializer bytes (`raw_data`) are
//! skipped by seeking, so a 2 GB model costs a walk over its message keys.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};

use crate::error::{ModelError, Result};
use crate::protobuf::{Reader, Wire};

/// Longest string field kept (names, producer, metadata values).
const KEEP: u64 = 4096;
/// Most inputs or outputs listed, and most external-data locations kept.
const MAX_LISTED: usize = 1024;
/// Most dimensions read per tensor or shape.
const MAX_DIMS: usize = 64;

/// What an ONNX model says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnnxModel {
    /// `ir_version`.
    pub ir_version: Option<u64>,
    /// `opset_import`: domain (empty for the default `ai.onnx`) → version.
    pub opsets: BTreeMap<String, u64>,
    /// `producer_name`.
    pub producer_name: Option<String>,
    /// `producer_version`.
    pub producer_version: Option<String>,
    /// `domain`.
    pub domain: Option<String>,
    /// `model_version`.
    pub model_version: Option<u64>,
    /// `graph.name`.
    pub graph_name: Option<String>,
    /// Graph inputs as `name: type[dims]`, leaving out those that are initializers.
    pub inputs: Vec<String>,
    /// Graph outputs in the same form.
    pub outputs: Vec<String>,
    /// Number of nodes in the main graph.
    pub nodes: u64,
    /// Number of initializers.
    pub initializers: u64,
    /// Sum of the initializers' element counts; `None` on overflow.
    pub parameters: Option<u64>,
    /// Element types of the initializers (`FLOAT`, `FLOAT16`).
    pub dtypes: Vec<String>,
    /// `location` of every initializer stored outside the file (`external_data`), with the
    /// initializer's name.
    pub external_data: Vec<(String, String)>,
    /// `metadata_props`.
    pub metadata: BTreeMap<String, String>,
}

/// Parses a serialized `ModelProto` held in memory.
pub fn parse(bytes: &[u8]) -> Result<OnnxModel> {
    read(Cursor::new(bytes))
}

/// Parses the `ModelProto` behind `reader`, seeking over tensor data.
pub fn read<R: Read + Seek>(reader: R) -> Result<OnnxModel> {
    let (mut r, end) = Reader::new(reader)?;
    let mut model = OnnxModel {
        parameters: Some(0),
        ..OnnxModel::default()
    };
    let mut saw_graph = false;
    let mut initializer_names = Vec::new();
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, Wire::Varint) => model.ir_version = Some(r.varint(end)?),
            (2, Wire::Len) => model.producer_name = Some(r.string(end, KEEP)?),
            (3, Wire::Len) => model.producer_version = Some(r.string(end, KEEP)?),
            (4, Wire::Len) => model.domain = Some(r.string(end, KEEP)?),
            (5, Wire::Varint) => model.model_version = Some(r.varint(end)?),
            (7, Wire::Len) => {
                let graph_end = r.len(end)?;
                graph(&mut r, graph_end, &mut model, &mut initializer_names)?;
                saw_graph = true;
            }
            (8, Wire::Len) => {
                let opset_end = r.len(end)?;
                let (domain, version) = opset(&mut r, opset_end)?;
                model.opsets.insert(domain, version);
            }
            (14, Wire::Len) => {
                let entry_end = r.len(end)?;
                let (key, value) = string_pair(&mut r, entry_end)?;
                if model.metadata.len() < MAX_LISTED {
                    model.metadata.insert(key, value);
                }
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    if model.ir_version.is_none() && !saw_graph {
        return Err(ModelError::invalid(
            "ONNX model",
            "neither ir_version nor graph",
        ));
    }
    // Older exporters list initializers among the graph inputs too; they are weights, not
    // inputs a caller feeds.
    initializer_names.sort_unstable();
    model.inputs.retain(|input| {
        let name = input.split(':').next().unwrap_or_default();
        initializer_names
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_err()
    });
    model.dtypes.sort_unstable();
    model.dtypes.dedup();
    Ok(model)
}

fn graph<R: Read + Seek>(
    r: &mut Reader<R>,
    end: u64,
    model: &mut OnnxModel,
    initializer_names: &mut Vec<String>,
) -> Result<()> {
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, Wire::Len) => {
                model.nodes += 1;
                r.skip(wire, end)?;
            }
            (2, Wire::Len) => model.graph_name = Some(r.string(end, KEEP)?),
            (5, Wire::Len) => {
                let tensor_end = r.len(end)?;
                let tensor = tensor(r, tensor_end)?;
                model.initializers += 1;
                let count = tensor
                    .dims
                    .iter()
                    .try_fold(1u64, |n, &d| n.checked_mul(u64::try_from(d).ok()?));
                model.parameters = model
                    .parameters
                    .zip(count)
                    .and_then(|(a, b)| a.checked_add(b));
                model.dtypes.push(elem_type_name(tensor.data_type));
                if let Some(location) = tensor.location
                    && model.external_data.len() < MAX_LISTED
                {
                    model.external_data.push((tensor.name.clone(), location));
                }
                if initializer_names.len() < 1 << 20 {
                    initializer_names.push(tensor.name);
                }
            }
            (11 | 12, Wire::Len) => {
                let info_end = r.len(end)?;
                let text = value_info(r, info_end)?;
                let list = if field == 11 {
                    &mut model.inputs
                } else {
                    &mut model.outputs
                };
                if list.len() < MAX_LISTED {
                    list.push(text);
                }
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok(())
}

#[derive(Default)]
struct Tensor {
    name: String,
    dims: Vec<i64>,
    data_type: u64,
    location: Option<String>,
}

fn tensor<R: Read + Seek>(r: &mut Reader<R>, end: u64) -> Result<Tensor> {
    let mut tensor = Tensor::default();
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, _) => r.int64s(wire, end, &mut tensor.dims, MAX_DIMS)?,
            (2, Wire::Varint) => tensor.data_type = r.varint(end)?,
            (8, Wire::Len) => tensor.name = r.string(end, KEEP)?,
            (13, Wire::Len) => {
                let entry_end = r.len(end)?;
                let (key, value) = string_pair(r, entry_end)?;
                if key == "location" {
                    tensor.location = Some(value);
                }
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok(tensor)
}

fn opset<R: Read + Seek>(r: &mut Reader<R>, end: u64) -> Result<(String, u64)> {
    let (mut domain, mut version) = (String::new(), 0);
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, Wire::Len) => domain = r.string(end, KEEP)?,
            (2, Wire::Varint) => version = r.varint(end)?,
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok((domain, version))
}

/// A `StringStringEntryProto` (key 1, value 2).
fn string_pair<R: Read + Seek>(r: &mut Reader<R>, end: u64) -> Result<(String, String)> {
    let (mut key, mut value) = (String::new(), String::new());
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, Wire::Len) => key = r.string(end, KEEP)?,
            (2, Wire::Len) => value = r.string(end, KEEP)?,
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok((key, value))
}

/// A `ValueInfoProto` as `name: float[batch,4]`; types other than tensors by their kind.
fn value_info<R: Read + Seek>(r: &mut Reader<R>, end: u64) -> Result<String> {
    let mut name = String::new();
    let mut ty = None;
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, Wire::Len) => name = r.string(end, KEEP)?,
            (2, Wire::Len) => {
                let type_end = r.len(end)?;
                ty = Some(type_proto(r, type_end)?);
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok(match ty {
        Some(ty) => format!("{name}: {ty}"),
        None => name,
    })
}

/// A `TypeProto`: `tensor_type` (1) in full; `sequence_type` (4), `map_type` (5),
/// `sparse_tensor_type` (8) and `optional_type` (9) by kind only, so that nested types
/// cannot drive recursion.
fn type_proto<R: Read + Seek>(r: &mut Reader<R>, end: u64) -> Result<String> {
    let mut text = String::from("unknown");
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            (1, Wire::Len) => {
                let tensor_end = r.len(end)?;
                let mut elem = 0;
                let mut dims = Vec::new();
                while let Some((field, wire)) = r.field(tensor_end)? {
                    match (field, wire) {
                        (1, Wire::Varint) => elem = r.varint(tensor_end)?,
                        (2, Wire::Len) => {
                            let shape_end = r.len(tensor_end)?;
                            while let Some((field, wire)) = r.field(shape_end)? {
                                if field == 1 && wire == Wire::Len {
                                    let dim_end = r.len(shape_end)?;
                                    let dim = dimension(r, dim_end)?;
                                    if dims.len() < MAX_DIMS {
                                        dims.push(dim);
                                    }
                                } else {
                                    r.skip(wire, shape_end)?;
                                }
                            }
                        }
                        (_, wire) => r.skip(wire, tensor_end)?,
                    }
                }
                text = format!(
                    "{}[{}]",
                    elem_type_name(elem).to_ascii_lowercase(),
                    dims.join(",")
                );
            }
            (4, _) => {
                text = "sequence".to_owned();
                r.skip(wire, end)?;
            }
            (5, _) => {
                text = "map".to_owned();
                r.skip(wire, end)?;
            }
            (8, _) => {
                text = "sparse_tensor".to_owned();
                r.skip(wire, end)?;
            }
            (9, _) => {
                text = "optional".to_owned();
                r.skip(wire, end)?;
            }
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok(text)
}

/// A `TensorShapeProto.Dimension`: `dim_value` (1) or `dim_param` (2); `?` when neither.
fn dimension<R: Read + Seek>(r: &mut Reader<R>, end: u64) -> Result<String> {
    let mut text = String::from("?");
    while let Some((field, wire)) = r.field(end)? {
        match (field, wire) {
            #[allow(clippy::cast_possible_wrap)]
            (1, Wire::Varint) => text = (r.varint(end)? as i64).to_string(),
            (2, Wire::Len) => text = r.string(end, 256)?,
            (_, wire) => r.skip(wire, end)?,
        }
    }
    Ok(text)
}

/// `TensorProto.DataType` by its enum name.
pub fn elem_type_name(ty: u64) -> String {
    match ty {
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        17 => "FLOAT8E4M3FN",
        18 => "FLOAT8E4M3FNUZ",
        19 => "FLOAT8E5M2",
        20 => "FLOAT8E5M2FNUZ",
        21 => "UINT4",
        22 => "INT4",
        23 => "FLOAT4E2M1",
        0 => "UNDEFINED",
        other => return format!("TYPE{other}"),
    }
    .to_owned()
}

/// Whether an external-data `location` may point outside the model's directory: absolute
/// (`/etc/passwd`, `C:\...`, `\\server\share`) or climbing with `..`. onnx's own checker
/// rejects both; older runtimes did not.
pub fn location_escapes(location: &str) -> bool {
    let normalized = location.replace('\\', "/");
    normalized.starts_with('/')
        || normalized.as_bytes().get(1) == Some(&b':')
        || normalized.split('/').any(|segment| segment == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn reads_a_torch_export() {
        let model = parse(&fixture("tiny.onnx")).unwrap();
        assert!(model.ir_version.is_some());
        assert_eq!(model.opsets.get(""), Some(&17));
        assert_eq!(model.producer_name.as_deref(), Some("pytorch"));
        assert_eq!(model.producer_version.as_deref(), Some("2.1.2"));
        assert_eq!(model.inputs, ["input: float[batch,4]"]);
        // torch names the exported output's dynamic axis itself.
        assert_eq!(model.outputs, ["logits: float[Gemmlogits_dim_0,2]"]);
        assert_eq!(model.initializers, 4);
        assert_eq!(model.parameters, Some(4 * 8 + 8 + 8 * 2 + 2));
        assert_eq!(model.dtypes, ["FLOAT"]);
        assert!(model.external_data.is_empty());
    }

    #[test]
    fn lists_external_data() {
        let model = parse(&fixture("external_escape.onnx")).unwrap();
        assert_eq!(
            model.external_data,
            [("w".to_owned(), "../../etc/weights.bin".to_owned())]
        );
        assert!(location_escapes(&model.external_data[0].1));
        assert!(!location_escapes("weights/part.bin"));
        assert!(location_escapes("/etc/passwd"));
        assert!(location_escapes("C:\\x"));
    }

    #[test]
    fn truncation_and_garbage_are_errors() {
        let bytes = fixture("tiny.onnx");
        for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
            // Every prefix either parses (the cut fell between fields) or fails cleanly.
            let _ = parse(&bytes[..cut]);
        }
        assert!(parse(b"\x3a\xff\xff\xff\xff\x0f").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"\x07\x07\x07").is_err());
    }
}
