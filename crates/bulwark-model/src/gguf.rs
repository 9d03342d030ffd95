//! GGUF (llama.cpp) v1–v3: the magic `GGUF`, a version, counts, key–value metadata and tensor
//! infos, read by hand with hard limits because the file is untrusted and every length in it
//! is declared by the writer.
//!
//! The reader streams: array values (a tokenizer's 150,000 tokens) are read and dropped, only
//! the keys this crate reports are kept, and tensor data is never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use crate::error::{ModelError, Result};

/// Most key–value pairs accepted (real files hold a few dozen).
pub const MAX_KV_COUNT: u64 = 1 << 16;
/// Most tensors accepted (a 405B model has about 1,100).
pub const MAX_TENSOR_COUNT: u64 = 1 << 20;
/// Longest string accepted (chat templates run to tens of kilobytes).
pub const MAX_STRING_BYTES: u64 = 16 * 1024 * 1024;
/// Most elements in one array value (vocabularies run to a few hundred thousand).
pub const MAX_ARRAY_LEN: u64 = 1 << 24;
/// Deepest nesting of arrays in arrays.
pub const MAX_ARRAY_DEPTH: u32 = 4;
/// Most dimensions of one tensor (ggml uses 4).
pub const MAX_DIMS: u32 = 8;
/// Longest string value kept in [`Gguf::strings`] and longest chat template kept.
const KEEP_STRING_BYTES: usize = 1024 * 1024;

/// What a GGUF header says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gguf {
    /// The format version (1–3).
    pub version: u32,
    /// String values of the keys this crate reports (`general.architecture`,
    /// `general.name`, `tokenizer.ggml.model`, `tokenizer.chat_template`, ...).
    pub strings: BTreeMap<String, String>,
    /// Integer values of the keys this crate reports (`general.file_type`,
    /// `<arch>.context_length`).
    pub integers: BTreeMap<String, u64>,
    /// Number of key–value pairs.
    pub kv_count: u64,
    /// Number of tensors.
    pub tensor_count: u64,
    /// Sum of the tensors' element counts; `None` on overflow.
    pub parameters: Option<u64>,
    /// ggml types of the tensors (`F32`, `Q4_K`), sorted.
    pub dtypes: BTreeSet<String>,
}

impl Gguf {
    /// `general.architecture`.
    pub fn architecture(&self) -> Option<&str> {
        self.strings.get("general.architecture").map(String::as_str)
    }

    /// The quantization named by `general.file_type` (`Q4_K_M`).
    pub fn quantization(&self) -> Option<String> {
        let file_type = *self.integers.get("general.file_type")?;
        Some(match file_type_name(file_type) {
            Some(name) => name.to_owned(),
            None => format!("file type {file_type}"),
        })
    }

    /// `<arch>.context_length`.
    pub fn context_length(&self) -> Option<u64> {
        let arch = self.architecture()?;
        self.integers
            .get(&format!("{arch}.context_length"))
            .copied()
    }

    /// The default chat template (`tokenizer.chat_template`), and named ones
    /// (`tokenizer.chat_template.<name>`).
    pub fn chat_templates(&self) -> impl Iterator<Item = (&str, &str)> {
        self.strings
            .iter()
            .filter(|(k, _)| k.starts_with("tokenizer.chat_template"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Whether the key's string value is kept.
fn keep_string(key: &str) -> bool {
    matches!(
        key,
        "general.architecture"
            | "general.name"
            | "general.basename"
            | "general.version"
            | "general.license"
            | "general.organization"
            | "general.quantized_by"
            | "general.base_model.0.name"
            | "general.base_model.0.repo_url"
            | "tokenizer.ggml.model"
    ) || key.starts_with("tokenizer.chat_template")
}

/// Whether the key's integer value is kept.
fn keep_integer(key: &str) -> bool {
    key == "general.file_type"
        || key == "general.quantization_version"
        || key.ends_with(".context_length")
}

/// Whether `prefix` starts with the GGUF magic.
pub fn sniff(prefix: &[u8]) -> bool {
    prefix.starts_with(b"GGUF")
}

/// Parses the header of a GGUF file: metadata and tensor infos, stopping before the data.
pub fn parse<R: Read>(reader: R) -> Result<Gguf> {
    let mut r = Cursor {
        inner: reader,
        version: 0,
    };
    let mut magic = [0u8; 4];
    r.read(&mut magic)?;
    if &magic != b"GGUF" {
        return Err(ModelError::invalid("GGUF magic", format!("{magic:02x?}")));
    }
    let version = r.u32()?;
    if !(1..=3).contains(&version) {
        return Err(ModelError::invalid("GGUF version", version.to_string()));
    }
    r.version = version;
    let tensor_count = r.count()?;
    ModelError::check_limit("GGUF tensor count", tensor_count, MAX_TENSOR_COUNT)?;
    let kv_count = r.count()?;
    ModelError::check_limit("GGUF metadata count", kv_count, MAX_KV_COUNT)?;
    let mut gguf = Gguf {
        version,
        kv_count,
        tensor_count,
        ..Gguf::default()
    };
    for _ in 0..kv_count {
        let key = r.string(KEEP_STRING_BYTES)?;
        let ty = r.u32()?;
        match ty {
            8 if keep_string(&key) => {
                let value = r.string(KEEP_STRING_BYTES)?;
                gguf.strings.insert(key, value);
            }
            0 | 2 | 4 | 10 if keep_integer(&key) => {
                let value = r.unsigned(ty)?;
                gguf.integers.insert(key, value);
            }
            _ => r.skip_value(ty, 0)?,
        }
    }
    let mut parameters = Some(0u64);
    for _ in 0..tensor_count {
        r.skip_string()?;
        let n_dims = r.u32()?;
        ModelError::check_limit(
            "GGUF tensor dimensions",
            u64::from(n_dims),
            u64::from(MAX_DIMS),
        )?;
        let mut elements = Some(1u64);
        for _ in 0..n_dims {
            let dim = if version == 1 {
                u64::from(r.u32()?)
            } else {
                r.u64()?
            };
            elements = elements.and_then(|n| n.checked_mul(dim));
        }
        let ty = r.u32()?;
        let _offset = r.u64()?;
        parameters = parameters.zip(elements).and_then(|(a, b)| a.checked_add(b));
        gguf.dtypes.insert(match ggml_type_name(ty) {
            Some(name) => name.to_owned(),
            None => format!("type {ty}"),
        });
    }
    gguf.parameters = parameters;
    Ok(gguf)
}

/// A little-endian reader that knows the version's width of counts and lengths (32 bits in
/// v1, 64 bits since v2).
struct Cursor<R> {
    inner: R,
    version: u32,
}

impl<R: Read> Cursor<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<()> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => ModelError::Truncated {
                what: "GGUF header",
            },
            _ => ModelError::Io(e),
        })
    }

    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// A count or length: u32 in v1, u64 later.
    fn count(&mut self) -> Result<u64> {
        if self.version == 1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }

    fn unsigned(&mut self, ty: u32) -> Result<u64> {
        Ok(match ty {
            0 => {
                let mut b = [0u8; 1];
                self.read(&mut b)?;
                u64::from(b[0])
            }
            2 => {
                let mut b = [0u8; 2];
                self.read(&mut b)?;
                u64::from(u16::from_le_bytes(b))
            }
            4 => u64::from(self.u32()?),
            _ => self.u64()?,
        })
    }

    /// A string of at most `keep` bytes (longer ones, up to the hard limit, are cut at a
    /// character boundary after being read in full).
    fn string(&mut self, keep: usize) -> Result<String> {
        let len = self.count()?;
        ModelError::check_limit("GGUF string length", len, MAX_STRING_BYTES)?;
        let mut bytes = Vec::new();
        (&mut self.inner)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(ModelError::from)?;
        if (bytes.len() as u64) < len {
            return Err(ModelError::Truncated {
                what: "GGUF string",
            });
        }
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if text.len() > keep {
            let mut cut = keep;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Ok(text)
    }

    fn skip_string(&mut self) -> Result<()> {
        let len = self.count()?;
        ModelError::check_limit("GGUF string length", len, MAX_STRING_BYTES)?;
        self.skip(len)
    }

    fn skip(&mut self, len: u64) -> Result<()> {
        let copied = std::io::copy(&mut (&mut self.inner).take(len), &mut std::io::sink())?;
        if copied < len {
            return Err(ModelError::Truncated { what: "GGUF value" });
        }
        Ok(())
    }

    fn skip_value(&mut self, ty: u32, depth: u32) -> Result<()> {
        match ty {
            0 | 1 | 7 => self.skip(1),
            2 | 3 => self.skip(2),
            4..=6 => self.skip(4),
            10..=12 => self.skip(8),
            8 => self.skip_string(),
            9 => {
                ModelError::check_limit(
                    "GGUF array nesting",
                    u64::from(depth + 1),
                    u64::from(MAX_ARRAY_DEPTH),
                )?;
                let element = self.u32()?;
                let len = self.count()?;
                ModelError::check_limit("GGUF array length", len, MAX_ARRAY_LEN)?;
                let width = match element {
                    0 | 1 | 7 => Some(1),
                    2 | 3 => Some(2),
                    4..=6 => Some(4),
                    10..=12 => Some(8),
                    _ => None,
                };
                match width {
                    Some(width) => self.skip(len * width),
                    None => (0..len).try_for_each(|_| self.skip_value(element, depth + 1)),
                }
            }
            other => Err(ModelError::invalid("GGUF value type", other.to_string())),
        }
    }
}

/// `general.file_type` (llama.cpp's `llama_ftype`) as the quantization's usual name.
pub fn file_type_name(file_type: u64) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        4 => "Q4_1_SOME_F16",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        _ => return None,
    })
}

/// A tensor's `ggml_type` by name.
pub fn ggml_type_name(ty: u32) -> Option<&'static str> {
    Some(match ty {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        6 => "Q5_0",
        7 => "Q5_1",
        8 => "Q8_0",
        9 => "Q8_1",
        10 => "Q2_K",
        11 => "Q3_K",
        12 => "Q4_K",
        13 => "Q5_K",
        14 => "Q6_K",
        15 => "Q8_K",
        16 => "IQ2_XXS",
        17 => "IQ2_XS",
        18 => "IQ3_XXS",
        19 => "IQ1_S",
        20 => "IQ4_NL",
        21 => "IQ3_S",
        22 => "IQ2_S",
        23 => "IQ4_XS",
        24 => "I8",
        25 => "I16",
        26 => "I32",
        27 => "I64",
        28 => "F64",
        29 => "IQ1_M",
        30 => "BF16",
        34 => "TQ1_0",
        35 => "TQ2_0",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Vec<u8> {
        let mut out = (s.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(s.as_bytes());
        out
    }

    fn header(version: u32, tensors: u64, kvs: u64) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&tensors.to_le_bytes());
        out.extend_from_slice(&kvs.to_le_bytes());
        out
    }

    #[test]
    fn reads_the_generated_fixture() {
        let bytes =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/tiny.gguf")).unwrap();
        let gguf = parse(bytes.as_slice()).unwrap();
        assert_eq!(gguf.version, 3);
        assert_eq!(gguf.architecture(), Some("llama"));
        assert_eq!(gguf.strings["general.name"], "tiny-llama-test");
        assert_eq!(gguf.quantization().as_deref(), Some("Q4_K_M"));
        assert_eq!(gguf.context_length(), Some(2048));
        assert_eq!(gguf.strings["tokenizer.ggml.model"], "llama");
        assert_eq!(gguf.parameters, Some(256 * 4 + 256));
        assert_eq!(gguf.dtypes.iter().collect::<Vec<_>>(), ["F32", "Q4_K"]);
        assert_eq!(gguf.chat_templates().count(), 1);
    }

    #[test]
    fn hostile_counts_and_lengths_are_errors() {
        let err = |bytes: Vec<u8>| parse(bytes.as_slice()).unwrap_err();
        assert!(matches!(
            err(header(3, u64::MAX, 0)),
            ModelError::Limit { .. }
        ));
        assert!(matches!(
            err(header(3, 0, u64::MAX)),
            ModelError::Limit { .. }
        ));
        // A key with a 2^62-byte length.
        let mut long_key = header(3, 0, 1);
        long_key.extend_from_slice(&(1u64 << 62).to_le_bytes());
        assert!(matches!(err(long_key), ModelError::Limit { .. }));
        // An array of 2^40 strings.
        let mut big_array = header(3, 0, 1);
        big_array.extend(string("k"));
        big_array.extend_from_slice(&9u32.to_le_bytes());
        big_array.extend_from_slice(&8u32.to_le_bytes());
        big_array.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(matches!(err(big_array), ModelError::Limit { .. }));
        // Arrays nested past the limit.
        let mut nested = header(3, 0, 1);
        nested.extend(string("k"));
        nested.extend_from_slice(&9u32.to_le_bytes());
        for _ in 0..10 {
            nested.extend_from_slice(&9u32.to_le_bytes());
            nested.extend_from_slice(&1u64.to_le_bytes());
        }
        assert!(matches!(err(nested), ModelError::Limit { .. }));
        // Truncated and wrong versions.
        assert!(matches!(err(header(3, 1, 1)), ModelError::Truncated { .. }));
        assert!(matches!(err(header(9, 0, 0)), ModelError::Invalid { .. }));
        assert!(matches!(err(b"GGML".to_vec()), ModelError::Invalid { .. }));
        // A tensor with 1000 dimensions.
        let mut dims = header(3, 1, 0);
        dims.extend(string("t"));
        dims.extend_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(err(dims), ModelError::Limit { .. }));
    }

    #[test]
    fn version_one_uses_32_bit_lengths() {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes()); // tensors
        bytes.extend_from_slice(&1u32.to_le_bytes()); // kvs
        bytes.extend_from_slice(&20u32.to_le_bytes());
        bytes.extend_from_slice(b"general.architecture");
        bytes.extend_from_slice(&8u32.to_le_bytes());
        bytes.extend_from_slice(&5u32.to_le_bytes());
        bytes.extend_from_slice(b"llama");
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.push(b'w');
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&5u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes()); // F16
        bytes.extend_from_slice(&0u64.to_le_bytes());
        let gguf = parse(bytes.as_slice()).unwrap();
        assert_eq!(gguf.architecture(), Some("llama"));
        assert_eq!(gguf.parameters, Some(15));
        assert!(gguf.dtypes.contains("F16"));
    }
}
