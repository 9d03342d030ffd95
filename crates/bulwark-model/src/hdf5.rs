//! A minimal reader of string attributes of an HDF5 file, enough for the root attributes
//! Keras writes into a legacy `.h5` model (`keras_version`, `backend`, `model_config`).
//!
//! This is not an HDF5 parser: no pure-Rust HDF5 crate was available to this build (the
//! design's choice, `hdf5-reader`, could not be fetched offline). It finds each attribute
//! message by its name in the first [`SCAN_BYTES`] of the file (where h5py writes the root
//! group's object header), checks the message header before the name (attribute message
//! versions 1–3), and decodes a fixed-length string, or a variable-length string through its
//! global-heap collection. Attributes stored elsewhere (dense attribute storage far into
//! the file) are missed, never misread: every offset and size is checked.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use crate::error::{ModelError, Result};

/// The HDF5 superblock signature.
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// How much of the file is searched for attribute messages.
pub const SCAN_BYTES: u64 = 16 * 1024 * 1024;
/// Largest attribute value read (a big model's `model_config` runs to megabytes).
pub const MAX_VALUE_BYTES: u64 = 64 * 1024 * 1024;

/// Whether `prefix` starts with the HDF5 signature.
pub fn sniff(prefix: &[u8]) -> bool {
    prefix.starts_with(SIGNATURE)
}

/// Reads the string attributes named in `names` (the first message found for each).
pub fn read_string_attributes<R: Read + Seek>(
    reader: &mut R,
    names: &[&str],
) -> Result<BTreeMap<String, String>> {
    let file_len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    reader.take(SCAN_BYTES).read_to_end(&mut head)?;
    if !sniff(&head) {
        return Err(ModelError::invalid("HDF5 file", "no signature at offset 0"));
    }
    let version = *head.get(8).ok_or(ModelError::Truncated {
        what: "HDF5 superblock",
    })?;
    let offset_size = match version {
        0 | 1 => head.get(13),
        2 | 3 => head.get(9),
        _ => {
            return Err(ModelError::invalid(
                "HDF5 superblock version",
                version.to_string(),
            ));
        }
    };
    let offset_size = usize::from(*offset_size.ok_or(ModelError::Truncated {
        what: "HDF5 superblock",
    })?);
    if ![2, 4, 8].contains(&offset_size) {
        return Err(ModelError::invalid(
            "HDF5 offset size",
            offset_size.to_string(),
        ));
    }
    let mut out = BTreeMap::new();
    for name in names {
        let mut needle = name.as_bytes().to_vec();
        needle.push(0);
        let mut from = 0;
        while let Some(found) = find(&head[from..], &needle).map(|i| i + from) {
            from = found + 1;
            if let Some(value) = attribute_at(&head, found, name, offset_size, reader, file_len)? {
                out.insert((*name).to_owned(), value);
                break;
            }
        }
    }
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<usize> {
    bytes
        .get(at..at + 2)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
}

fn uint_at(bytes: &[u8], at: usize, size: usize) -> Option<u64> {
    let b = bytes.get(at..at + size)?;
    Some(
        b.iter()
            .rev()
            .fold(0u64, |n, &byte| (n << 8) | u64::from(byte)),
    )
}

/// Decodes the attribute message whose name starts at `name_at`, if the bytes before it are a
/// valid message header for that name.
fn attribute_at<R: Read + Seek>(
    head: &[u8],
    name_at: usize,
    name: &str,
    offset_size: usize,
    reader: &mut R,
    file_len: u64,
) -> Result<Option<String>> {
    let name_size = name.len() + 1;
    let pad8 = |n: usize| n.div_ceil(8) * 8;
    // (header start, padded?) per message version.
    let layout = [(1u8, 8usize, true), (2, 8, false), (3, 9, false)]
        .into_iter()
        .find_map(|(version, header_len, padded)| {
            let start = name_at.checked_sub(header_len)?;
            (head.get(start) == Some(&version) && u16_at(head, start + 2) == Some(name_size))
                .then_some((start, padded))
        });
    let Some((start, padded)) = layout else {
        return Ok(None);
    };
    let (Some(dt_size), Some(ds_size)) = (u16_at(head, start + 4), u16_at(head, start + 6)) else {
        return Ok(None);
    };
    let size = |n: usize| if padded { pad8(n) } else { n };
    let dt_at = name_at + size(name_size);
    let data_at = dt_at + size(dt_size) + size(ds_size);
    let Some(class_byte) = head.get(dt_at) else {
        return Ok(None);
    };
    let element_size = uint_at(head, dt_at + 4, 4).unwrap_or(0);
    match class_byte & 0x0f {
        // Fixed-length string: the value is inline.
        3 => {
            let len = usize::try_from(element_size).unwrap_or(usize::MAX);
            let Some(bytes) = head.get(data_at..data_at.saturating_add(len)) else {
                return Ok(None);
            };
            Ok(Some(text(bytes)))
        }
        // Variable-length string: length, global heap collection address, object index.
        9 if head.get(dt_at + 1).is_some_and(|b| b & 0x0f == 1) => {
            let (Some(len), Some(address), Some(index)) = (
                uint_at(head, data_at, 4),
                uint_at(head, data_at + 4, offset_size),
                uint_at(head, data_at + 4 + offset_size, 4),
            ) else {
                return Ok(None);
            };
            global_heap_object(reader, address, index, len, file_len).map(Some)
        }
        _ => Ok(None),
    }
}

/// Reads object `index` of the global heap collection at `address`.
fn global_heap_object<R: Read + Seek>(
    reader: &mut R,
    address: u64,
    index: u64,
    len: u64,
    file_len: u64,
) -> Result<String> {
    let what = "HDF5 global heap";
    ModelError::check_limit("HDF5 attribute length", len, MAX_VALUE_BYTES)?;
    if address.checked_add(16).is_none_or(|end| end > file_len) {
        return Err(ModelError::Truncated { what });
    }
    reader.seek(SeekFrom::Start(address))?;
    let mut header = [0u8; 16];
    reader.read_exact(&mut header)?;
    if &header[..4] != b"GCOL" {
        return Err(ModelError::invalid(
            what,
            format!("no GCOL signature at {address}"),
        ));
    }
    let collection_size = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
    let end = address.saturating_add(collection_size).min(file_len);
    let mut pos = address + 16;
    while pos + 16 <= end {
        let mut object = [0u8; 16];
        reader.read_exact(&mut object)?;
        let object_index = u64::from(u16::from_le_bytes([object[0], object[1]]));
        let size = u64::from_le_bytes(object[8..16].try_into().unwrap_or_default());
        if object_index == 0 {
            break; // free space: the rest of the collection is unused
        }
        let padded = size.div_ceil(8).saturating_mul(8);
        if object_index == index {
            ModelError::check_limit("HDF5 attribute length", size, MAX_VALUE_BYTES)?;
            let mut bytes = Vec::new();
            reader
                .take(size.min(len.max(size)))
                .read_to_end(&mut bytes)?;
            if (bytes.len() as u64) < size {
                return Err(ModelError::Truncated { what });
            }
            bytes.truncate(usize::try_from(len).unwrap_or(usize::MAX));
            return Ok(text(&bytes));
        }
        pos = pos.saturating_add(16).saturating_add(padded);
        reader.seek(SeekFrom::Start(pos))?;
    }
    Err(ModelError::invalid(
        what,
        format!("object {index} not in the collection at {address}"),
    ))
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(name: &str) -> BTreeMap<String, String> {
        let bytes =
            std::fs::read(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        read_string_attributes(
            &mut std::io::Cursor::new(bytes),
            &["keras_version", "backend", "model_config"],
        )
        .unwrap()
    }

    #[test]
    fn reads_keras_root_attributes() {
        let attrs = attributes("lambda.h5");
        assert_eq!(attrs["keras_version"], "2.14.0");
        assert_eq!(attrs["backend"], "tensorflow");
        let config: serde_json::Value = serde_json::from_str(&attrs["model_config"]).unwrap();
        let inspected = crate::keras::inspect_config(&config);
        assert_eq!(inspected.issues.len(), 1);
        assert!(attributes("tiny.h5").contains_key("model_config"));
    }

    #[test]
    fn corrupt_files_fail_cleanly() {
        let mut bytes =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/lambda.h5")).unwrap();
        // Point every GCOL signature somewhere wrong, then truncate.
        let at = find(&bytes, b"GCOL").unwrap();
        bytes[at] = b'X';
        let result = read_string_attributes(&mut std::io::Cursor::new(&bytes), &["model_config"]);
        assert!(result.is_err());
        for cut in [8, 20, 900, 1000] {
            let _ =
                read_string_attributes(&mut std::io::Cursor::new(&bytes[..cut]), &["model_config"]);
        }
        assert!(read_string_attributes(&mut std::io::Cursor::new(b"nope"), &["x"]).is_err());
    }
}
