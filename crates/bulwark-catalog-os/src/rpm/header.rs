//! The rpm header blob, as rpm stores one installed package in its database.
//!
//! A blob is `il` (index entry count) and `dl` (data store length), both big-endian `u32`,
//! then `il` index entries of 16 bytes (tag, type, offset into the data store, count) and the
//! data store. A database blob has no lead and no magic (those belong to `.rpm` files). Its
//! first entry is usually the immutable region (tag 63), which points at a trailer in the
//! data store; region bookkeeping is not needed to read values, so region tags are skipped.
//! Entries added after installation (`dribbles`) follow the region entries and replace a
//! region entry with the same tag, so the last entry of a tag wins.

use std::borrow::Cow;

/// Tags read by the cataloger (`rpmtag.h`).
pub(crate) mod tag {
    pub(crate) const NAME: u32 = 1000;
    pub(crate) const VERSION: u32 = 1001;
    pub(crate) const RELEASE: u32 = 1002;
    pub(crate) const EPOCH: u32 = 1003;
    pub(crate) const SUMMARY: u32 = 1004;
    pub(crate) const VENDOR: u32 = 1011;
    pub(crate) const LICENSE: u32 = 1014;
    pub(crate) const ARCH: u32 = 1022;
    pub(crate) const FILESIZES: u32 = 1028;
    pub(crate) const FILEDIGESTS: u32 = 1035;
    pub(crate) const SOURCERPM: u32 = 1044;
    pub(crate) const PROVIDENAME: u32 = 1047;
    pub(crate) const REQUIRENAME: u32 = 1049;
    pub(crate) const DIRINDEXES: u32 = 1116;
    pub(crate) const BASENAMES: u32 = 1117;
    pub(crate) const DIRNAMES: u32 = 1118;
    pub(crate) const LONGFILESIZES: u32 = 5008;
    pub(crate) const FILEDIGESTALGO: u32 = 5011;
}

/// Region tags (`RPMTAG_HEADERIMAGE`, `HEADERSIGNATURES`, `HEADERIMMUTABLE`): bookkeeping,
/// not values.
const REGION_TAGS: [u32; 3] = [61, 62, 63];

/// `hdrchkTags`: rpm itself refuses headers with this many entries or more.
const MAX_ENTRIES: u32 = 0x1_0000;
/// `hdrchkData`: rpm itself refuses data stores this large or larger.
const MAX_DATA: u32 = 0x100_0000;
const ENTRY_SIZE: usize = 16;

/// Entry types (`rpmTagType`).
mod kind {
    pub(super) const INT16: u32 = 3;
    pub(super) const INT32: u32 = 4;
    pub(super) const INT64: u32 = 5;
    pub(super) const STRING: u32 = 6;
    pub(super) const STRING_ARRAY: u32 = 8;
    pub(super) const I18NSTRING: u32 = 9;
}

/// Why a header blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeaderError {
    #[error("rpm header is {0} bytes, shorter than its 8-byte preamble")]
    Short(usize),
    #[error("rpm header declares {entries} entries and {data} data bytes, beyond rpm's limits")]
    TooLarge { entries: u32, data: u32 },
    #[error("rpm header needs {needed} bytes but the blob has {actual}")]
    Truncated { needed: usize, actual: usize },
    #[error("rpm header tag {tag}: {what}")]
    BadEntry { tag: u32, what: &'static str },
}

/// One index entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: the index and the data store it points into.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

impl<'a> Header<'a> {
    /// Reads the index and checks that every entry lies inside the data store.
    pub(crate) fn parse(blob: &'a [u8]) -> Result<Self, HeaderError> {
        let (Some(il), Some(dl)) = (be_u32(blob, 0), be_u32(blob, 4)) else {
            return Err(HeaderError::Short(blob.len()));
        };
        if il >= MAX_ENTRIES || dl >= MAX_DATA {
            return Err(HeaderError::TooLarge {
                entries: il,
                data: dl,
            });
        }
        // Both fit in 24 bits, so none of this overflows.
        let index_len = il as usize * ENTRY_SIZE;
        let needed = 8 + index_len + dl as usize;
        if blob.len() < needed {
            return Err(HeaderError::Truncated {
                needed,
                actual: blob.len(),
            });
        }
        let index = &blob[8..8 + index_len];
        let data = &blob[8 + index_len..needed];
        let mut entries = Vec::with_capacity(il as usize);
        for raw in index.chunks_exact(ENTRY_SIZE) {
            let word = |i: usize| u32::from_be_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
            let (tag, kind, offset, count) = (word(0), word(4), word(8), word(12));
            if REGION_TAGS.contains(&tag) {
                continue;
            }
            let entry = Entry {
                tag,
                kind,
                // An offset beyond the data store (or negative, as a region trailer's is) is
                // caught by the bounds checks of every read below.
                offset: offset as usize,
                count: count as usize,
            };
            if entry.offset > data.len() {
                return Err(HeaderError::BadEntry {
                    tag,
                    what: "offset beyond the data store",
                });
            }
            entries.push(entry);
        }
        Ok(Self { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag)
    }

    /// A STRING, or the first (untranslated) value of an I18NSTRING or STRING_ARRAY.
    pub(crate) fn string(&self, tag: u32) -> Result<Option<Cow<'a, str>>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        match entry.kind {
            kind::STRING | kind::I18NSTRING | kind::STRING_ARRAY if entry.count > 0 => Ok(Some(
                self.strings_of(entry)?
                    .next()
                    .transpose()?
                    .unwrap_or_default(),
            )),
            _ => Err(HeaderError::BadEntry {
                tag,
                what: "not a string",
            }),
        }
    }

    /// A STRING_ARRAY (a STRING reads as an array of one); empty when the tag is absent.
    pub(crate) fn strings(&self, tag: u32) -> Result<Vec<Cow<'a, str>>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        match entry.kind {
            kind::STRING_ARRAY | kind::STRING | kind::I18NSTRING => {
                self.strings_of(entry)?.collect()
            }
            _ => Err(HeaderError::BadEntry {
                tag,
                what: "not a string array",
            }),
        }
    }

    fn strings_of(
        &self,
        entry: &Entry,
    ) -> Result<impl Iterator<Item = Result<Cow<'a, str>, HeaderError>> + 'a, HeaderError> {
        let tag = entry.tag;
        let count = if entry.kind == kind::STRING {
            1
        } else {
            entry.count
        };
        let mut rest = &self.data[entry.offset..];
        // Every string takes at least its NUL, so a count beyond the bytes left is a lie
        // told to make us loop or allocate.
        if count > rest.len() {
            return Err(HeaderError::BadEntry {
                tag,
                what: "more strings than data bytes",
            });
        }
        Ok((0..count).map(move |_| {
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(HeaderError::BadEntry {
                    tag,
                    what: "string without a terminating NUL",
                })?;
            let value = String::from_utf8_lossy(&rest[..end]);
            rest = &rest[end + 1..];
            Ok(value)
        }))
    }

    /// An integer array (INT16, INT32 or INT64), widened to `u64`; empty when absent.
    pub(crate) fn integers(&self, tag: u32) -> Result<Vec<u64>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        let width = match entry.kind {
            kind::INT16 => 2,
            kind::INT32 => 4,
            kind::INT64 => 8,
            _ => {
                return Err(HeaderError::BadEntry {
                    tag,
                    what: "not an integer",
                });
            }
        };
        let bytes = entry
            .count
            .checked_mul(width)
            .and_then(|len| self.data.get(entry.offset..entry.offset.checked_add(len)?))
            .ok_or(HeaderError::BadEntry {
                tag,
                what: "integers beyond the data store",
            })?;
        Ok(bytes
            .chunks_exact(width)
            .map(|chunk| chunk.iter().fold(0_u64, |acc, &b| acc << 8 | u64::from(b)))
            .collect())
    }

    /// The first value of an integer tag.
    pub(crate) fn integer(&self, tag: u32) -> Result<Option<u64>, HeaderError> {
        Ok(self.integers(tag)?.first().copied())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from `(tag, type, count, data)` entries.
    pub(crate) fn blob(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, kind, count, bytes) in entries {
            index.extend(tag.to_be_bytes());
            index.extend(kind.to_be_bytes());
            index.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
            index.extend(count.to_be_bytes());
            data.extend(bytes);
        }
        let mut out = Vec::new();
        out.extend(u32::try_from(entries.len()).unwrap().to_be_bytes());
        out.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    pub(crate) fn string(tag: u32, value: &str) -> (u32, u32, u32, Vec<u8>) {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        (tag, kind::STRING, 1, bytes)
    }

    pub(crate) fn strings(tag: u32, values: &[&str]) -> (u32, u32, u32, Vec<u8>) {
        let mut bytes = Vec::new();
        for value in values {
            bytes.extend(value.as_bytes());
            bytes.push(0);
        }
        (
            tag,
            kind::STRING_ARRAY,
            u32::try_from(values.len()).unwrap(),
            bytes,
        )
    }

    pub(crate) fn int32s(tag: u32, values: &[u32]) -> (u32, u32, u32, Vec<u8>) {
        let bytes = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        (
            tag,
            kind::INT32,
            u32::try_from(values.len()).unwrap(),
            bytes,
        )
    }

    #[test]
    fn reads_each_type() {
        let bytes = blob(&[
            (63, 7, 16, vec![0; 16]),
            string(tag::NAME, "bash"),
            (
                tag::SUMMARY,
                kind::I18NSTRING,
                2,
                b"The shell\0Die Shell\0".to_vec(),
            ),
            strings(tag::BASENAMES, &["bash", "sh"]),
            int32s(tag::DIRINDEXES, &[0, 1]),
            (
                tag::LONGFILESIZES,
                kind::INT64,
                1,
                5_000_000_000_u64.to_be_bytes().to_vec(),
            ),
            string(tag::NAME, "dribble"),
        ]);
        let header = Header::parse(&bytes).unwrap();
        assert_eq!(header.string(tag::NAME).unwrap().unwrap(), "dribble");
        assert_eq!(header.string(tag::SUMMARY).unwrap().unwrap(), "The shell");
        assert_eq!(header.strings(tag::BASENAMES).unwrap(), ["bash", "sh"]);
        assert_eq!(header.integers(tag::DIRINDEXES).unwrap(), [0, 1]);
        assert_eq!(
            header.integer(tag::LONGFILESIZES).unwrap(),
            Some(5_000_000_000)
        );
        assert_eq!(header.string(tag::VERSION).unwrap(), None);
        assert!(header.integers(tag::EPOCH).unwrap().is_empty());
        assert!(header.integers(tag::NAME).is_err());
    }

    #[test]
    fn hostile_headers_are_errors() {
        assert_eq!(
            Header::parse(&[0, 0, 0]).unwrap_err(),
            HeaderError::Short(3)
        );
        let huge = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        assert!(matches!(
            Header::parse(&huge),
            Err(HeaderError::TooLarge { .. })
        ));
        let mut bytes = blob(&[string(tag::NAME, "bash")]);
        bytes.pop();
        assert!(matches!(
            Header::parse(&bytes),
            Err(HeaderError::Truncated { .. })
        ));
        // No NUL before the end of the data store.
        let bytes = blob(&[(tag::NAME, kind::STRING, 1, b"bash".to_vec())]);
        assert!(Header::parse(&bytes).unwrap().string(tag::NAME).is_err());
        // A count of strings that cannot fit.
        let bytes = blob(&[(
            tag::BASENAMES,
            kind::STRING_ARRAY,
            1_000_000,
            b"a\0".to_vec(),
        )]);
        assert!(
            Header::parse(&bytes)
                .unwrap()
                .strings(tag::BASENAMES)
                .is_err()
        );
        // Integers running past the end.
        let bytes = blob(&[(tag::DIRINDEXES, kind::INT32, u32::MAX, vec![0; 4])]);
        assert!(
            Header::parse(&bytes)
                .unwrap()
                .integers(tag::DIRINDEXES)
                .is_err()
        );
        // An offset past the data store.
        let mut bytes = blob(&[string(tag::NAME, "bash")]);
        bytes[16..20].copy_from_slice(&100_u32.to_be_bytes());
        assert!(Header::parse(&bytes).is_err());
    }
}
