//! NumPy `.npy` (`\x93NUMPY`, a version, a header length and a Python-literal dict with
//! `descr`, `fortran_order` and `shape`) and `.npz` (a zip of `.npy` members).

use std::io::{Read, Seek};

use crate::error::{ModelError, Result};

/// Largest `.npy` header accepted (NumPy itself refuses more than 10,000 bytes by default).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most `.npz` members read.
const MAX_MEMBERS: usize = 4096;

/// One array's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The format version (`1.0`, `2.0`, `3.0`).
    pub version: (u8, u8),
    /// `descr`, the dtype string (`<f4`, `|b1`), or `object`-style descriptions as written.
    pub descr: String,
    /// `shape`.
    pub shape: Vec<u64>,
    /// `fortran_order`.
    pub fortran_order: bool,
}

impl NpyHeader {
    /// The element count; `None` on overflow.
    pub fn elements(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d))
    }

    /// Whether the array holds Python objects, which NumPy stores as a pickle.
    pub fn is_object(&self) -> bool {
        self.descr.contains('O')
    }
}

/// Whether `prefix` starts with the `.npy` magic.
pub fn sniff(prefix: &[u8]) -> bool {
    prefix.starts_with(b"\x93NUMPY")
}

/// Parses the header at the start of `bytes` (more bytes after it are ignored).
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader> {
    let what = ".npy header";
    if !sniff(bytes) {
        return Err(ModelError::invalid(what, "no \\x93NUMPY magic"));
    }
    let (&major, &minor) = (
        bytes.get(6).ok_or(ModelError::Truncated { what })?,
        bytes.get(7).ok_or(ModelError::Truncated { what })?,
    );
    let (len, start) = match major {
        1 => {
            let b = bytes.get(8..10).ok_or(ModelError::Truncated { what })?;
            (usize::from(u16::from_le_bytes([b[0], b[1]])), 10)
        }
        2 | 3 => {
            let b = bytes.get(8..12).ok_or(ModelError::Truncated { what })?;
            let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (usize::try_from(len).unwrap_or(usize::MAX), 12)
        }
        other => {
            return Err(ModelError::invalid(
                what,
                format!("version {other}.{minor}"),
            ));
        }
    };
    ModelError::check_limit(what, len as u64, MAX_HEADER_BYTES as u64)?;
    let text = bytes
        .get(start..start + len)
        .ok_or(ModelError::Truncated { what })?;
    let text = String::from_utf8_lossy(text);
    let descr = dict_value(&text, "descr")
        .map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_owned())
        .ok_or_else(|| ModelError::invalid(what, "no `descr`"))?;
    let fortran_order = dict_value(&text, "fortran_order").is_some_and(|v| v == "True");
    let shape_text =
        dict_value(&text, "shape").ok_or_else(|| ModelError::invalid(what, "no `shape`"))?;
    let shape = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<u64>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| ModelError::invalid(what, format!("shape {shape_text}")))?;
    Ok(NpyHeader {
        version: (major, minor),
        descr,
        shape,
        fortran_order,
    })
}

/// The value text of `'key': value` in a header dict: a quoted string, a tuple, or a bare
/// word. Structured dtypes (`descr` a list) come back as the whole bracketed list.
fn dict_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text
        .find(&format!("'{key}'"))
        .or_else(|| text.find(&format!("\"{key}\"")))?;
    let rest = text[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let (open, close) = match rest.chars().next()? {
        '(' => ('(', ')'),
        '[' => ('[', ']'),
        '\'' | '"' => {
            let quote = rest.chars().next()?;
            let end = rest[1..].find(quote)? + 2;
            return Some(&rest[..end]);
        }
        _ => {
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            return Some(rest[..end].trim());
        }
    };
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(&rest[..=i]);
            }
        }
    }
    None
}

/// The `.npy` members of an `.npz` archive with their headers.
pub fn read_npz<R: Read + Seek>(reader: R) -> Result<Vec<(String, NpyHeader)>> {
    let mut archive = zip::ZipArchive::new(reader)?;
    let mut arrays = Vec::new();
    for index in 0..archive.len().min(MAX_MEMBERS) {
        let member = archive.by_index(index)?;
        let name = member.name().map(|n| n.into_owned()).unwrap_or_default();
        if !name.ends_with(".npy") {
            continue;
        }
        let mut prefix = Vec::new();
        member
            .take(MAX_HEADER_BYTES as u64 + 12)
            .read_to_end(&mut prefix)?;
        arrays.push((name, parse_header(&prefix)?));
    }
    Ok(arrays)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn reads_npy_and_npz() {
        let header = parse_header(&fixture("tiny.npy")).unwrap();
        assert_eq!(header.descr, "<f4");
        assert_eq!(header.shape, [3, 4]);
        assert!(!header.fortran_order);
        assert_eq!(header.elements(), Some(12));
        let arrays = read_npz(std::io::Cursor::new(fixture("tiny.npz"))).unwrap();
        let summary: Vec<_> = arrays
            .iter()
            .map(|(name, h)| format!("{name} {} {:?}", h.descr, h.shape))
            .collect();
        assert_eq!(summary, ["a.npy <i8 [2, 3]", "b.npy <f2 [5]"]);
    }

    #[test]
    fn hostile_headers_are_errors() {
        assert!(parse_header(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
        assert!(parse_header(b"\x93NUMPY\x02\x00\xff\xff\xff\xff{").is_err());
        assert!(parse_header(b"\x93NUMPY\x09\x00").is_err());
        let mut bad = b"\x93NUMPY\x01\x00".to_vec();
        let dict =
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, ), }";
        bad.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bad.extend_from_slice(dict);
        assert!(parse_header(&bad).is_err());
        let mut scalar = b"\x93NUMPY\x01\x00".to_vec();
        let dict = b"{'descr': '|O', 'fortran_order': False, 'shape': (), }";
        scalar.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        scalar.extend_from_slice(dict);
        let header = parse_header(&scalar).unwrap();
        assert!(header.shape.is_empty());
        assert!(header.is_object());
    }
}
