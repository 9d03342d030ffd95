//! The binary layout of `records.bin` and `index.bin` (see the crate documentation), and the
//! small file helpers both the reader and the importer use. All integers are little-endian.
//! Every read is bounds-checked: a damaged file gives [`Error::Corrupt`], never a panic.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use crate::Error;

/// The on-disk format version this build reads and writes.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// First bytes of `records.bin`.
pub(crate) const RECORDS_MAGIC: &[u8; 8] = b"BWVDBREC";
/// First bytes of `index.bin`.
pub(crate) const INDEX_MAGIC: &[u8; 8] = b"BWVDBIDX";

/// Section holding the [`RecordEntry`] table.
pub(crate) const RECORDS_SECTION: &str = "records";
/// Section mapping each record id to its record number.
pub(crate) const IDS_SECTION: &str = "ids";
/// Section mapping each alias to the records that list it.
pub(crate) const ALIASES_SECTION: &str = "aliases";
/// Prefix of the per-ecosystem package sections (`packages:PyPI`).
pub(crate) const PACKAGES_PREFIX: &str = "packages:";

/// Record flag: the record is withdrawn.
pub(crate) const FLAG_WITHDRAWN: u32 = 1;

const RECORD_ENTRY_LEN: usize = 32;
const TABLE_ENTRY_LEN: usize = 16;

/// One row of the record table: where a record's compressed JSON lies in `records.bin`, and
/// what the importer needs to merge without decompressing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordEntry {
    pub(crate) offset: u64,
    pub(crate) length: u32,
    pub(crate) flags: u32,
    pub(crate) modified_seconds: i64,
    pub(crate) modified_nanos: u32,
}

impl RecordEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.length.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.modified_seconds.to_le_bytes());
        out.extend_from_slice(&self.modified_nanos.to_le_bytes());
        out.extend_from_slice(&0_u32.to_le_bytes());
    }

    pub(crate) fn modified(&self) -> (i64, u32) {
        (self.modified_seconds, self.modified_nanos)
    }
}

/// Encodes the record table section.
pub(crate) fn encode_records(entries: &[RecordEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * RECORD_ENTRY_LEN);
    for entry in entries {
        entry.encode(&mut out);
    }
    out
}

/// The record table, read into memory.
#[derive(Debug)]
pub(crate) struct RecordTable {
    bytes: Vec<u8>,
}

impl RecordTable {
    pub(crate) fn new(bytes: Vec<u8>, path: &Path) -> Result<Self, Error> {
        if !bytes.len().is_multiple_of(RECORD_ENTRY_LEN) {
            return Err(corrupt(
                path,
                "record table length is not a whole number of rows",
            ));
        }
        Ok(Self { bytes })
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len() / RECORD_ENTRY_LEN
    }

    pub(crate) fn get(&self, number: u32, path: &Path) -> Result<RecordEntry, Error> {
        let start = number as usize * RECORD_ENTRY_LEN;
        let row = self
            .bytes
            .get(start..start + RECORD_ENTRY_LEN)
            .ok_or_else(|| corrupt(path, format!("record number {number} out of range")))?;
        Ok(RecordEntry {
            offset: read_u64(row, 0),
            length: read_u32(row, 8),
            flags: read_u32(row, 12),
            modified_seconds: i64::from_le_bytes(array(row, 16)),
            modified_nanos: read_u32(row, 24),
        })
    }
}

/// Builds a sorted string table: key → list of record numbers.
#[derive(Debug, Default)]
pub(crate) struct TableBuilder {
    keys: BTreeMap<String, Vec<u32>>,
}

impl TableBuilder {
    pub(crate) fn insert(&mut self, key: &str, record: u32) {
        let postings = self.keys.entry(key.to_owned()).or_default();
        if postings.last() != Some(&record) {
            postings.push(record);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Layout: `count: u32`, `count` rows of `key_offset, key_len, postings_offset,
    /// postings_count` (u32 each, offsets from the section start), the key bytes, then the
    /// postings (u32 record numbers). Rows are sorted by key bytes.
    pub(crate) fn encode(&self, path: &Path) -> Result<Vec<u8>, Error> {
        let count = self.keys.len();
        let header_len = 4 + count * TABLE_ENTRY_LEN;
        let keys_len: usize = self.keys.keys().map(String::len).sum();
        let postings_len: usize = self.keys.values().map(|p| p.len() * 4).sum();
        let total = header_len + keys_len + postings_len;
        if u32::try_from(total).is_err() {
            return Err(corrupt(path, "an index section would exceed 4 GiB"));
        }
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&u32_of(count).to_le_bytes());
        let mut key_offset = header_len;
        let mut postings_offset = header_len + keys_len;
        for (key, postings) in &self.keys {
            out.extend_from_slice(&u32_of(key_offset).to_le_bytes());
            out.extend_from_slice(&u32_of(key.len()).to_le_bytes());
            out.extend_from_slice(&u32_of(postings_offset).to_le_bytes());
            out.extend_from_slice(&u32_of(postings.len()).to_le_bytes());
            key_offset += key.len();
            postings_offset += postings.len() * 4;
        }
        for key in self.keys.keys() {
            out.extend_from_slice(key.as_bytes());
        }
        for postings in self.keys.values() {
            for record in postings {
                out.extend_from_slice(&record.to_le_bytes());
            }
        }
        Ok(out)
    }
}

/// Converts a length already checked to fit (the whole section fits in `u32`).
fn u32_of(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A string table section, read into memory.
#[derive(Debug)]
pub(crate) struct Table {
    bytes: Vec<u8>,
    count: usize,
}

impl Table {
    pub(crate) fn new(bytes: Vec<u8>, path: &Path) -> Result<Self, Error> {
        let count = bytes
            .get(0..4)
            .map(|b| read_u32(b, 0) as usize)
            .ok_or_else(|| corrupt(path, "index section too short"))?;
        if count
            .checked_mul(TABLE_ENTRY_LEN)
            .and_then(|n| n.checked_add(4))
            .is_none_or(|n| n > bytes.len())
        {
            return Err(corrupt(path, "index section row count exceeds its length"));
        }
        Ok(Self { bytes, count })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    fn row(&self, index: usize, path: &Path) -> Result<(&[u8], &[u8]), Error> {
        let start = 4 + index * TABLE_ENTRY_LEN;
        let row = self
            .bytes
            .get(start..start + TABLE_ENTRY_LEN)
            .ok_or_else(|| corrupt(path, "index row out of range"))?;
        let key_offset = read_u32(row, 0) as usize;
        let key_len = read_u32(row, 4) as usize;
        let postings_offset = read_u32(row, 8) as usize;
        let postings_count = read_u32(row, 12) as usize;
        let key = self
            .bytes
            .get(key_offset..key_offset + key_len)
            .ok_or_else(|| corrupt(path, "index key out of range"))?;
        let postings = self
            .bytes
            .get(postings_offset..postings_offset + postings_count * 4)
            .ok_or_else(|| corrupt(path, "index postings out of range"))?;
        Ok((key, postings))
    }

    /// The record numbers stored under `key` (binary search).
    pub(crate) fn lookup(&self, key: &str, path: &Path) -> Result<Vec<u32>, Error> {
        let wanted = key.as_bytes();
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = low + (high - low) / 2;
            let (found, postings) = self.row(middle, path)?;
            match found.cmp(wanted) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Ok(decode_postings(postings)),
            }
        }
        Ok(Vec::new())
    }

    /// Every key with its record numbers, in key order.
    pub(crate) fn entries(&self, path: &Path) -> Result<Vec<(String, Vec<u32>)>, Error> {
        (0..self.count)
            .map(|index| {
                let (key, postings) = self.row(index, path)?;
                let key = std::str::from_utf8(key)
                    .map_err(|_| corrupt(path, "index key is not UTF-8"))?;
                Ok((key.to_owned(), decode_postings(postings)))
            })
            .collect()
    }
}

fn decode_postings(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|chunk| read_u32(chunk, 0))
        .collect()
}

/// Encodes `index.bin`: magic, `directory_len: u32`, the directory (`count: u32`, then per
/// section `name_len: u32`, name, `offset: u64`, `length: u64`, offsets from the file start),
/// then the sections.
pub(crate) fn encode_index(sections: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut directory = Vec::new();
    directory.extend_from_slice(&u32_of(sections.len()).to_le_bytes());
    let directory_len: usize = 4 + sections
        .iter()
        .map(|(n, _)| 4 + n.len() + 16)
        .sum::<usize>();
    let mut offset = (INDEX_MAGIC.len() + 4 + directory_len) as u64;
    for (name, bytes) in sections {
        directory.extend_from_slice(&u32_of(name.len()).to_le_bytes());
        directory.extend_from_slice(name.as_bytes());
        directory.extend_from_slice(&offset.to_le_bytes());
        directory.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        offset += bytes.len() as u64;
    }
    let mut out = Vec::with_capacity(offset as usize);
    out.extend_from_slice(INDEX_MAGIC);
    out.extend_from_slice(&u32_of(directory.len()).to_le_bytes());
    out.extend_from_slice(&directory);
    for (_, bytes) in sections {
        out.extend_from_slice(bytes);
    }
    out
}

/// Reads the section directory of `index.bin`: name → (offset, length).
pub(crate) fn read_index_directory(
    file: &File,
    path: &Path,
    file_len: u64,
) -> Result<BTreeMap<String, (u64, u64)>, Error> {
    let head = read_at(file, path, 0, INDEX_MAGIC.len() + 4)?;
    if head.get(..INDEX_MAGIC.len()) != Some(INDEX_MAGIC.as_slice()) {
        return Err(corrupt(path, "not a bulwark index file"));
    }
    let directory_len = u64::from(read_u32(&head, INDEX_MAGIC.len()));
    if directory_len + head.len() as u64 > file_len {
        return Err(corrupt(path, "section directory exceeds the file"));
    }
    let directory = read_at(file, path, head.len() as u64, directory_len as usize)?;
    let mut cursor = Cursor {
        bytes: &directory,
        position: 0,
        path,
    };
    let count = cursor.u32()?;
    let mut sections = BTreeMap::new();
    for _ in 0..count {
        let name_len = cursor.u32()? as usize;
        let name = std::str::from_utf8(cursor.take(name_len)?)
            .map_err(|_| corrupt(path, "section name is not UTF-8"))?
            .to_owned();
        let offset = cursor.u64()?;
        let length = cursor.u64()?;
        if offset.checked_add(length).is_none_or(|end| end > file_len) {
            return Err(corrupt(path, format!("section `{name}` exceeds the file")));
        }
        sections.insert(name, (offset, length));
    }
    Ok(sections)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        let slice = self
            .bytes
            .get(self.position..self.position + len)
            .ok_or_else(|| corrupt(self.path, "section directory is truncated"))?;
        self.position += len;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        Ok(read_u32(self.take(4)?, 0))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        Ok(read_u64(self.take(8)?, 0))
    }
}

/// Compresses one record's JSON (raw deflate).
pub(crate) fn compress(json: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder =
        DeflateEncoder::new(Vec::with_capacity(json.len() / 3 + 64), Compression::new(6));
    encoder.write_all(json)?;
    encoder.finish()
}

/// Decompresses one record's JSON.
pub(crate) fn decompress(blob: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(blob.len() * 4);
    DeflateDecoder::new(blob).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads exactly `len` bytes at `offset` without moving a shared cursor, so several threads
/// can read one file at once.
pub(crate) fn read_at(file: &File, path: &Path, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
    let mut buffer = vec![0; len];
    read_exact_at(file, &mut buffer, offset).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(buffer)
}

#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Positioned reads of `read_at` for files that may be shorter than asked (zip reading).
#[cfg(unix)]
pub(crate) fn read_some_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
pub(crate) fn read_some_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}

pub(crate) fn corrupt(path: &Path, problem: impl Into<String>) -> Error {
    Error::Corrupt {
        path: PathBuf::from(path),
        problem: problem.into(),
    }
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    if let Some(slice) = bytes.get(at..at + N) {
        out.copy_from_slice(slice);
    }
    out
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(array(bytes, at))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(array(bytes, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trip_and_lookup() {
        let path = Path::new("test");
        let mut builder = TableBuilder::default();
        builder.insert("django", 3);
        builder.insert("django", 3);
        builder.insert("django", 7);
        builder.insert("aiohttp", 1);
        builder.insert("zope-interface", 2);
        let table = Table::new(builder.encode(path).unwrap(), path).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(table.lookup("django", path).unwrap(), vec![3, 7]);
        assert_eq!(table.lookup("zope-interface", path).unwrap(), vec![2]);
        assert!(table.lookup("flask", path).unwrap().is_empty());
        assert!(table.lookup("", path).unwrap().is_empty());
        assert_eq!(
            table.entries(path).unwrap()[0],
            ("aiohttp".to_owned(), vec![1])
        );
    }

    #[test]
    fn truncated_table_is_an_error_not_a_panic() {
        let path = Path::new("test");
        let mut builder = TableBuilder::default();
        builder.insert("django", 3);
        let mut bytes = builder.encode(path).unwrap();
        bytes.truncate(bytes.len() - 2);
        let table = Table::new(bytes, path).unwrap();
        assert!(matches!(
            table.lookup("django", path),
            Err(Error::Corrupt { .. })
        ));
        assert!(Table::new(vec![9, 0, 0, 0], path).is_err());
    }

    #[test]
    fn compression_round_trip() {
        let json = br#"{"id": "X", "modified": "2024-01-01T00:00:00Z"}"#;
        assert_eq!(decompress(&compress(json).unwrap()).unwrap(), json);
    }
}
