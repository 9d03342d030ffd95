//! The safetensors header: an 8-byte little-endian length, then that many bytes of JSON that
//! name every tensor (`dtype`, `shape`, `data_offsets` into the data that follows) and an
//! optional `__metadata__` map of strings.
//!
//! Only the header is read, never the tensors: a 140 GB checkpoint costs one small read.
//! The offsets are checked the way a loader would trust them (inside the data, not
//! overlapping, sized as dtype × shape says), because a header that lies about them is how a
//! crafted file makes a careless loader read out of bounds.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};

use serde_json::Value;

use crate::error::{ModelError, Result};

/// The largest header accepted, the same limit the reference implementation enforces.
pub const MAX_HEADER_BYTES: u64 = 100 * 1024 * 1024;

/// One tensor as the header lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name (`model.layers.0.mlp.up_proj.weight`).
    pub name: String,
    /// The dtype as written (`BF16`, `F32`, `I64`).
    pub dtype: String,
    /// The shape.
    pub shape: Vec<u64>,
    /// Start and end of its bytes, relative to the end of the header.
    pub data_offsets: (u64, u64),
}

/// A parsed header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The declared header length (the JSON's size in bytes).
    pub header_len: u64,
    /// The tensors, in the order the header lists them.
    pub tensors: Vec<TensorInfo>,
    /// `__metadata__` (`{"format": "pt"}`).
    pub metadata: BTreeMap<String, String>,
}

/// Something wrong with the tensor offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetProblem {
    /// The tensor concerned.
    pub tensor: String,
    /// What is wrong.
    pub detail: String,
}

impl Header {
    /// The number of parameters: the sum of the shapes' products. `None` when it overflows
    /// a `u64`, which no real model does.
    pub fn parameters(&self) -> Option<u64> {
        self.tensors.iter().try_fold(0u64, |sum, tensor| {
            sum.checked_add(element_count(&tensor.shape)?)
        })
    }

    /// The dtypes present, sorted.
    pub fn dtypes(&self) -> BTreeSet<String> {
        self.tensors.iter().map(|t| t.dtype.clone()).collect()
    }

    /// Checks every tensor's `data_offsets` against the data section of `data_len` bytes
    /// (the file size less `8 + header_len`): start ≤ end, end within the data, size equal
    /// to dtype width × element count (for known dtypes), and no two tensors overlapping.
    pub fn check_offsets(&self, data_len: u64) -> Vec<OffsetProblem> {
        let mut problems = Vec::new();
        let mut spans = Vec::with_capacity(self.tensors.len());
        for tensor in &self.tensors {
            let (start, end) = tensor.data_offsets;
            let problem = |detail: String| OffsetProblem {
                tensor: tensor.name.clone(),
                detail,
            };
            if start > end {
                problems.push(problem(format!(
                    "data_offsets [{start}, {end}] run backwards"
                )));
                continue;
            }
            if end > data_len {
                problems.push(problem(format!(
                    "data_offsets end {end} lies past the {data_len} bytes of tensor data"
                )));
            }
            if let Some(width) = dtype_bits(&tensor.dtype) {
                let expected = element_count(&tensor.shape)
                    .and_then(|n| n.checked_mul(width))
                    .map(|bits| bits.div_ceil(8));
                match expected {
                    Some(expected) if expected == end - start => {}
                    Some(expected) => problems.push(problem(format!(
                        "holds {} bytes but {} {:?} needs {expected}",
                        end - start,
                        tensor.dtype,
                        tensor.shape
                    ))),
                    None => problems.push(problem(format!(
                        "shape {:?} overflows a 64-bit size",
                        tensor.shape
                    ))),
                }
            }
            spans.push((start, end, tensor.name.as_str()));
        }
        spans.sort_unstable();
        for pair in spans.windows(2) {
            let ((_, end_a, name_a), (start_b, _, name_b)) = (pair[0], pair[1]);
            if start_b < end_a {
                problems.push(OffsetProblem {
                    tensor: name_b.to_owned(),
                    detail: format!("overlaps the bytes of `{name_a}`"),
                });
            }
        }
        problems
    }
}

/// The product of a shape's dimensions (1 for a scalar); `None` on overflow.
fn element_count(shape: &[u64]) -> Option<u64> {
    shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d))
}

/// Bits per element of the dtypes the format defines.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Parses a header from the start of a safetensors file: `bytes` holds at least the 8-byte
/// length and the JSON it announces (more is ignored).
pub fn parse_header(bytes: &[u8]) -> Result<Header> {
    let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(ModelError::Truncated {
            what: "safetensors header length",
        });
    };
    let header_len = u64::from_le_bytes(*len_bytes);
    ModelError::check_limit("safetensors header length", header_len, MAX_HEADER_BYTES)?;
    let json = usize::try_from(header_len)
        .ok()
        .and_then(|n| rest.get(..n))
        .ok_or(ModelError::Truncated {
            what: "safetensors header",
        })?;
    parse_json(json, header_len)
}

/// Reads and parses the header of the safetensors file behind `reader`, checking the declared
/// length against the file size before allocating for it. Returns the header and the size of
/// the data section after it.
pub fn read_header<R: Read + Seek>(reader: &mut R) -> Result<(Header, u64)> {
    let file_len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut len_bytes = [0u8; 8];
    reader.read_exact(&mut len_bytes)?;
    let header_len = u64::from_le_bytes(len_bytes);
    ModelError::check_limit("safetensors header length", header_len, MAX_HEADER_BYTES)?;
    let available = file_len.saturating_sub(8);
    ModelError::check_limit("safetensors header length", header_len, available)?;
    let mut json = Vec::new();
    reader.take(header_len).read_to_end(&mut json)?;
    let header = parse_json(&json, header_len)?;
    Ok((header, available - header_len))
}

/// Whether `prefix` (the first bytes of a file) looks like a safetensors header: a plausible
/// length followed by `{`. Cheap enough to run on every candidate file.
pub fn sniff(prefix: &[u8]) -> bool {
    match prefix.split_first_chunk::<8>() {
        Some((len, rest)) => {
            let len = u64::from_le_bytes(*len);
            (2..=MAX_HEADER_BYTES).contains(&len) && rest.first() == Some(&b'{')
        }
        None => false,
    }
}

fn parse_json(json: &[u8], header_len: u64) -> Result<Header> {
    let what = "safetensors header";
    // serde_json limits nesting to 128 levels, so a deeply nested header is an error, not a
    // stack overflow.
    let value: Value =
        serde_json::from_slice(json).map_err(|source| ModelError::Json { what, source })?;
    let Value::Object(entries) = value else {
        return Err(ModelError::invalid(what, "not a JSON object"));
    };
    let mut header = Header {
        header_len,
        ..Header::default()
    };
    for (name, entry) in entries {
        if name == "__metadata__" {
            let Value::Object(metadata) = entry else {
                return Err(ModelError::invalid(what, "`__metadata__` is not an object"));
            };
            for (key, value) in metadata {
                // The format says strings; keep other values as their JSON text.
                let text = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                header.metadata.insert(key, text);
            }
            continue;
        }
        header.tensors.push(tensor(name, &entry)?);
    }
    Ok(header)
}

fn tensor(name: String, entry: &Value) -> Result<TensorInfo> {
    let what = "safetensors tensor entry";
    let dtype = entry
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| ModelError::invalid(what, format!("`{name}` has no string `dtype`")))?
        .to_owned();
    let shape = entry
        .get("shape")
        .and_then(Value::as_array)
        .and_then(|dims| dims.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
        .ok_or_else(|| {
            ModelError::invalid(
                what,
                format!("`{name}` has no `shape` of unsigned integers"),
            )
        })?;
    let offsets = entry
        .get("data_offsets")
        .and_then(Value::as_array)
        .and_then(|pair| match pair.as_slice() {
            [start, end] => Some((start.as_u64()?, end.as_u64()?)),
            _ => None,
        })
        .ok_or_else(|| ModelError::invalid(what, format!("`{name}` has no `data_offsets` pair")))?;
    Ok(TensorInfo {
        name,
        dtype,
        shape,
        data_offsets: offsets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> Vec<u8> {
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(json.as_bytes());
        bytes
    }

    #[test]
    fn counts_parameters_and_metadata() {
        let header = parse_header(&file(
            r#"{"__metadata__":{"format":"pt"},
                "a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
                "b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}"#,
        ))
        .unwrap();
        assert_eq!(header.parameters(), Some(10));
        assert_eq!(header.metadata["format"], "pt");
        assert_eq!(
            header.dtypes().into_iter().collect::<Vec<_>>(),
            ["BF16", "F32"]
        );
        assert!(header.check_offsets(32).is_empty());
    }

    #[test]
    fn bad_offsets_are_reported() {
        let header = parse_header(&file(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},
                "c":{"dtype":"F32","shape":[1],"data_offsets":[9,4]},
                "d":{"dtype":"F32","shape":[4],"data_offsets":[12,100]},
                "e":{"dtype":"F32","shape":[18446744073709551615,2],"data_offsets":[0,0]}}"#,
        ))
        .unwrap();
        let problems = header.check_offsets(16);
        let details: Vec<_> = problems
            .iter()
            .map(|p| format!("{}: {}", p.tensor, p.detail))
            .collect();
        assert!(
            details.iter().any(|d| d.starts_with("b: overlaps")),
            "{details:?}"
        );
        assert!(
            details.iter().any(|d| d.starts_with("c: data_offsets")),
            "{details:?}"
        );
        assert!(
            details
                .iter()
                .any(|d| d.contains("d: data_offsets end 100")),
            "{details:?}"
        );
        assert!(
            details.iter().any(|d| d.starts_with("d: holds 88 bytes")),
            "{details:?}"
        );
        assert!(
            details.iter().any(|d| d.starts_with("e: shape")),
            "{details:?}"
        );
        assert_eq!(header.parameters(), None);
    }

    #[test]
    fn hostile_lengths_are_errors() {
        let mut huge = (1u64 << 63).to_le_bytes().to_vec();
        huge.push(b'{');
        assert!(matches!(parse_header(&huge), Err(ModelError::Limit { .. })));
        let mut reader = std::io::Cursor::new(huge);
        assert!(read_header(&mut reader).is_err());
        // Declared 1000 bytes, file holds 3.
        let mut short = 1000u64.to_le_bytes().to_vec();
        short.extend_from_slice(b"{}x");
        assert!(matches!(
            read_header(&mut std::io::Cursor::new(short.clone())),
            Err(ModelError::Limit { .. })
        ));
        assert!(matches!(
            parse_header(&short),
            Err(ModelError::Truncated { .. })
        ));
        assert!(parse_header(&[1, 2]).is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_header(&file(&deep)),
            Err(ModelError::Json { .. })
        ));
        assert!(
            parse_header(&file(
                r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#
            ))
            .is_err()
        );
    }

    #[test]
    fn sniffs() {
        assert!(sniff(&file("{}")));
        assert!(!sniff(b"PK\x03\x04xxxxxxxx"));
        assert!(!sniff(&[0xff; 9]));
    }
}
