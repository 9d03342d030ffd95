//! A small read-only reader of the SQLite file format, enough to list the `blob` column of
//! rpm's `Packages` table (`rpmdb.sqlite`, rpm 4.16 and later).
//!
//! Why not a SQLite library: image scans hold the database in memory, never as a file, and
//! SQLite (through sqlx or rusqlite) wants a path and, for sqlx, an async runtime. Reading
//! is simple for one table: the header (page size, page count), table b-trees (interior and
//! leaf pages, overflow chains) and the record format
//! (<https://www.sqlite.org/fileformat2.html>). Index b-trees, free lists, pointer maps
//! and every other table are never touched.
//!
//! rpm opens its database in WAL mode, so recent changes may sit in `rpmdb.sqlite-wal` until
//! a checkpoint. When that file is given, its committed frames replace the pages they hold,
//! as SQLite would do on open; torn or stale frames (bad checksum or salt) are ignored.
//!
//! Hostile input: every offset is checked before use, payload lengths are capped by the
//! file size, and every page is visited at most once in a whole scan (a b-tree or overflow
//! chain that reaches a page twice is an error), so a scan costs at most one pass over the
//! file and always ends.

use std::collections::HashMap;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const HEADER_LEN: usize = 100;
const WAL_HEADER_LEN: usize = 32;
const WAL_FRAME_HEADER_LEN: usize = 24;

/// B-tree page types.
const INTERIOR_TABLE: u8 = 5;
const LEAF_TABLE: u8 = 13;

/// Why a SQLite file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SqliteError {
    #[error("not a SQLite 3 database")]
    NotSqlite,
    #[error("SQLite header: {0}")]
    Header(&'static str),
    #[error("SQLite page {page} is beyond the end of the file")]
    MissingPage { page: u64 },
    #[error("SQLite page {page}: {what}")]
    Page { page: u32, what: &'static str },
    #[error("SQLite page {page} is reached twice: the b-tree is corrupt")]
    Revisited { page: u32 },
    #[error("SQLite record: {0}")]
    Record(&'static str),
    #[error("the database has no `Packages` table")]
    NoPackagesTable,
}

/// A database file (plus its committed WAL pages) opened for reading.
pub(crate) struct Database<'a> {
    bytes: &'a [u8],
    page_size: usize,
    /// Page size less the bytes reserved at the end of each page.
    usable: usize,
    page_count: u32,
    /// Pages whose latest committed version is in the WAL.
    wal: HashMap<u32, &'a [u8]>,
    /// Pages visited so far in this scan (index: page number).
    visited: Vec<bool>,
}

impl<'a> Database<'a> {
    /// Checks the header and applies the committed frames of `wal` (if any).
    pub(crate) fn open(bytes: &'a [u8], wal: Option<&'a [u8]>) -> Result<Self, SqliteError> {
        let header = bytes.get(..HEADER_LEN).ok_or(SqliteError::NotSqlite)?;
        if &header[..16] != MAGIC {
            return Err(SqliteError::NotSqlite);
        }
        let page_size = match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65_536,
            size if size >= 512 && size.is_power_of_two() => usize::from(size),
            _ => return Err(SqliteError::Header("invalid page size")),
        };
        let usable = page_size - usize::from(header[20]);
        // SQLite's own minimum: below this the overflow arithmetic breaks.
        if usable < 480 {
            return Err(SqliteError::Header("too many reserved bytes per page"));
        }
        if !matches!(be_u32(header, 56), Some(0 | 1)) {
            return Err(SqliteError::Header("text encoding is not UTF-8"));
        }
        let in_file = u32::try_from(bytes.len() / page_size).unwrap_or(u32::MAX);
        // The header's page count is valid only when written by the same change as the
        // "version-valid-for" number; otherwise the file size decides, as in SQLite.
        let declared = be_u32(header, 28).unwrap_or(0);
        let mut page_count = if declared != 0 && header[24..28] == header[92..96] {
            declared.min(in_file)
        } else {
            in_file
        };
        let ((wal, wal_pages), frames) = match wal {
            Some(wal) => (
                wal_overlay(wal, page_size),
                wal.len() / (WAL_FRAME_HEADER_LEN + page_size),
            ),
            None => ((HashMap::new(), None), 0),
        };
        if let Some(pages) = wal_pages {
            // The last commit states the database size; it may have grown past the file, by
            // at most one page a frame.
            let frames = u32::try_from(frames).unwrap_or(u32::MAX);
            page_count = pages.min(in_file.saturating_add(frames));
        }
        Ok(Self {
            bytes,
            page_size,
            usable,
            page_count,
            wal,
            visited: vec![false; page_count as usize + 1],
        })
    }

    /// Calls `row` with the `blob` of every row of the `Packages` table, in rowid (`hnum`)
    /// order, which is installation order.
    pub(crate) fn packages(&mut self, row: &mut dyn FnMut(&[u8])) -> Result<(), SqliteError> {
        let root = self.packages_root()?;
        self.walk_table(root, &mut |payload| {
            let record = Record::parse(&payload)?;
            // `hnum INTEGER PRIMARY KEY` is the rowid and stored as NULL: the blob is the
            // first (and only) BLOB column.
            let blob = (0..record.len())
                .find_map(|i| match record.value(i) {
                    Ok(Value::Blob(blob)) => Some(blob),
                    _ => None,
                })
                .ok_or(SqliteError::Record("a `Packages` row without a blob"))?;
            row(blob);
            Ok(())
        })
    }

    /// The root page of `Packages`, from `sqlite_schema` (rooted at page 1).
    fn packages_root(&mut self) -> Result<u32, SqliteError> {
        let mut root = None;
        self.walk_table(1, &mut |payload| {
            let record = Record::parse(&payload)?;
            if root.is_none()
                && record.value(0)? == Value::Text(b"table")
                && record.value(1)? == Value::Text(b"Packages")
                && let Value::Integer(page) = record.value(3)?
            {
                root = Some(
                    u32::try_from(page)
                        .map_err(|_| SqliteError::Record("`Packages` root page out of range"))?,
                );
            }
            Ok(())
        })?;
        root.ok_or(SqliteError::NoPackagesTable)
    }

    /// A page by number (1-based), from the WAL if it holds a newer version.
    fn page(&self, number: u32) -> Result<&'a [u8], SqliteError> {
        if number == 0 || number > self.page_count {
            return Err(SqliteError::MissingPage {
                page: u64::from(number),
            });
        }
        if let Some(page) = self.wal.get(&number) {
            return Ok(page);
        }
        let start = (number as usize - 1) * self.page_size;
        self.bytes
            .get(start..start + self.page_size)
            .ok_or(SqliteError::MissingPage {
                page: u64::from(number),
            })
    }

    /// Marks `number` visited; an error the second time.
    fn visit(&mut self, number: u32) -> Result<(), SqliteError> {
        match self.visited.get_mut(number as usize) {
            Some(seen) if *seen => Err(SqliteError::Revisited { page: number }),
            Some(seen) => {
                *seen = true;
                Ok(())
            }
            None => Err(SqliteError::MissingPage {
                page: u64::from(number),
            }),
        }
    }

    /// Calls `row` with the payload of every leaf cell of the table b-tree at `root`, in key
    /// order.
    fn walk_table(
        &mut self,
        root: u32,
        row: &mut dyn FnMut(Vec<u8>) -> Result<(), SqliteError>,
    ) -> Result<(), SqliteError> {
        let mut stack = vec![root];
        while let Some(number) = stack.pop() {
            self.visit(number)?;
            let page = self.page(number)?;
            let at = if number == 1 { HEADER_LEN } else { 0 };
            let bad = |what| SqliteError::Page { page: number, what };
            let header = page.get(at..at + 8).ok_or(bad("truncated page header"))?;
            let kind = header[0];
            let cells = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let pointers_at = at + if kind == INTERIOR_TABLE { 12 } else { 8 };
            let pointers = page
                .get(pointers_at..pointers_at + 2 * cells)
                .ok_or(bad("cell pointers beyond the page"))?;
            let usable = self.usable;
            let cell_at = |i: usize| {
                let offset =
                    usize::from(u16::from_be_bytes([pointers[2 * i], pointers[2 * i + 1]]));
                if offset < pointers_at + 2 * cells || offset >= usable {
                    Err(bad("cell pointer outside the cell area"))
                } else {
                    Ok(&page[offset..usable])
                }
            };
            match kind {
                INTERIOR_TABLE => {
                    let right = be_u32(page, at + 8).ok_or(bad("truncated page header"))?;
                    // Pushed in reverse so that pages pop in key order.
                    stack.push(right);
                    for i in (0..cells).rev() {
                        let cell = cell_at(i)?;
                        stack.push(be_u32(cell, 0).ok_or(bad("truncated interior cell"))?);
                    }
                }
                LEAF_TABLE => {
                    for i in 0..cells {
                        let payload = self.leaf_payload(number, cell_at(i)?)?;
                        row(payload)?;
                    }
                }
                _ => return Err(bad("not a table b-tree page")),
            }
        }
        Ok(())
    }

    /// The whole payload of a table leaf cell, following its overflow chain.
    fn leaf_payload(&mut self, number: u32, cell: &[u8]) -> Result<Vec<u8>, SqliteError> {
        let bad = |what| SqliteError::Page { page: number, what };
        let (length, n) = varint(cell).ok_or(bad("truncated cell"))?;
        let (_rowid, m) = varint(&cell[n..]).ok_or(bad("truncated cell"))?;
        let body = &cell[n + m..];
        // No payload can be larger than the database.
        let total_bytes = self.page_count as usize * self.page_size;
        let length = usize::try_from(length)
            .ok()
            .filter(|&l| l <= total_bytes)
            .ok_or(bad("payload larger than the database"))?;
        let usable = self.usable;
        let max_local = usable - 35;
        let local = if length <= max_local {
            length
        } else {
            let min_local = (usable - 12) * 32 / 255 - 23;
            let k = min_local + (length - min_local) % (usable - 4);
            if k <= max_local { k } else { min_local }
        };
        let mut payload = Vec::with_capacity(length);
        payload.extend_from_slice(body.get(..local).ok_or(bad("payload beyond the page"))?);
        if local == length {
            return Ok(payload);
        }
        let mut next = be_u32(body, local).ok_or(bad("overflow pointer beyond the page"))?;
        while payload.len() < length {
            self.visit(next)?;
            let page = self.page(next)?;
            let take = (length - payload.len()).min(usable - 4);
            payload.extend_from_slice(&page[4..4 + take]);
            next = be_u32(page, 0).unwrap_or(0);
        }
        Ok(payload)
    }
}

/// A record: its serial types and the body they describe.
struct Record<'p> {
    types: Vec<u64>,
    body: &'p [u8],
}

/// One column value (only the kinds this reader compares or returns).
#[derive(Debug, PartialEq, Eq)]
enum Value<'p> {
    Null,
    Integer(i64),
    Real,
    Text(&'p [u8]),
    Blob(&'p [u8]),
}

impl<'p> Record<'p> {
    fn parse(payload: &'p [u8]) -> Result<Self, SqliteError> {
        let (header_len, n) = varint(payload).ok_or(SqliteError::Record("truncated header"))?;
        let header_len = usize::try_from(header_len)
            .ok()
            .filter(|&l| l >= n && l <= payload.len())
            .ok_or(SqliteError::Record("header length out of range"))?;
        let mut types = Vec::new();
        let mut at = n;
        while at < header_len {
            let (serial, n) = varint(&payload[at..header_len])
                .ok_or(SqliteError::Record("truncated serial type"))?;
            types.push(serial);
            at += n;
        }
        Ok(Self {
            types,
            body: &payload[header_len..],
        })
    }

    fn len(&self) -> usize {
        self.types.len()
    }

    /// The value of column `index`; a missing trailing column reads as NULL, as in SQLite.
    fn value(&self, index: usize) -> Result<Value<'p>, SqliteError> {
        let mut at = 0_usize;
        for (i, &serial) in self.types.iter().enumerate() {
            let size = serial_size(serial).ok_or(SqliteError::Record("reserved serial type"))?;
            let bytes = at
                .checked_add(size)
                .and_then(|end| self.body.get(at..end))
                .ok_or(SqliteError::Record("value beyond the record"))?;
            if i == index {
                return Ok(match serial {
                    0 => Value::Null,
                    1..=6 => {
                        let sign = if bytes[0] & 0x80 != 0 { -1_i64 } else { 0 };
                        Value::Integer(bytes.iter().fold(sign, |acc, &b| acc << 8 | i64::from(b)))
                    }
                    7 => Value::Real,
                    8 => Value::Integer(0),
                    9 => Value::Integer(1),
                    s if s % 2 == 0 => Value::Blob(bytes),
                    _ => Value::Text(bytes),
                });
            }
            at += size;
        }
        Ok(Value::Null)
    }
}

/// The body size of a serial type; `None` for the reserved types 10 and 11.
fn serial_size(serial: u64) -> Option<usize> {
    Some(match serial {
        0 | 8 | 9 => 0,
        1..=4 => serial as usize,
        5 => 6,
        6 | 7 => 8,
        10 | 11 => return None,
        n => usize::try_from((n - 12) / 2).ok()?,
    })
}

/// A SQLite varint: big-endian, 7 bits a byte, the ninth byte whole. Value and length.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0_u64;
    for (i, &byte) in bytes.iter().take(9).enumerate() {
        if i == 8 {
            return Some((value << 8 | u64::from(byte), 9));
        }
        value = value << 7 | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// The pages of the committed transactions in a WAL file, and the database size in pages
/// that the last commit states. An unusable WAL (wrong magic, page size or header
/// checksum) holds nothing, as for SQLite.
fn wal_overlay(wal: &[u8], page_size: usize) -> (HashMap<u32, &[u8]>, Option<u32>) {
    let mut committed = HashMap::new();
    let Some(header) = wal.get(..WAL_HEADER_LEN) else {
        return (committed, None);
    };
    let big_endian = match be_u32(header, 0) {
        Some(0x377f_0682) => false,
        Some(0x377f_0683) => true,
        _ => return (committed, None),
    };
    if be_u32(header, 8).map(|size| size as usize) != Some(page_size) {
        return (committed, None);
    }
    let mut sum = wal_checksum(big_endian, &header[..24], (0, 0));
    if Some(sum) != be_u32(header, 24).zip(be_u32(header, 28)) {
        return (committed, None);
    }
    let salt = &header[16..24];
    let mut pending: Vec<(u32, &[u8])> = Vec::new();
    let mut db_pages = None;
    for frame in wal[WAL_HEADER_LEN..].chunks_exact(WAL_FRAME_HEADER_LEN + page_size) {
        let (head, page) = frame.split_at(WAL_FRAME_HEADER_LEN);
        if &head[8..16] != salt {
            break;
        }
        sum = wal_checksum(big_endian, &head[..8], sum);
        sum = wal_checksum(big_endian, page, sum);
        if Some(sum) != be_u32(head, 16).zip(be_u32(head, 20)) {
            break;
        }
        let (Some(number), Some(commit)) = (be_u32(head, 0), be_u32(head, 4)) else {
            break;
        };
        pending.push((number, page));
        if commit != 0 {
            committed.extend(pending.drain(..));
            db_pages = Some(commit);
        }
    }
    (committed, db_pages)
}

/// SQLite's WAL checksum over 8-byte chunks, continuing from `(s0, s1)`.
fn wal_checksum(big_endian: bool, data: &[u8], (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    let word = |bytes: &[u8]| {
        let array = [bytes[0], bytes[1], bytes[2], bytes[3]];
        if big_endian {
            u32::from_be_bytes(array)
        } else {
            u32::from_le_bytes(array)
        }
    };
    for chunk in data.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&chunk[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&chunk[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
        assert_eq!(varint(&[]), None);
    }

    #[test]
    fn records() {
        // Header of 5 bytes: its length, NULL, 1-byte int, 3-byte text, 2-byte blob.
        let payload = [5, 0, 1, 19, 16, 0xfe, b'a', b'b', b'c', 0xde, 0xad];
        let record = Record::parse(&payload).unwrap();
        assert_eq!(record.len(), 4);
        assert_eq!(record.value(0), Ok(Value::Null));
        assert_eq!(record.value(1), Ok(Value::Integer(-2)));
        assert_eq!(record.value(2), Ok(Value::Text(b"abc")));
        assert_eq!(record.value(3), Ok(Value::Blob(&[0xde, 0xad])));
        assert_eq!(record.value(9), Ok(Value::Null));
        // A text longer than the record.
        let record = Record::parse(&[2, 0x7f, b'a']).unwrap();
        assert!(record.value(0).is_err());
        assert!(Record::parse(&[0x7f, 0]).is_err());
    }

    #[test]
    fn headers() {
        assert_eq!(
            Database::open(b"", None).err(),
            Some(SqliteError::NotSqlite)
        );
        let mut header = [0_u8; 100];
        header[..16].copy_from_slice(MAGIC);
        header[16..18].copy_from_slice(&1000_u16.to_be_bytes());
        assert!(matches!(
            Database::open(&header, None),
            Err(SqliteError::Header(_))
        ));
        header[16..18].copy_from_slice(&512_u16.to_be_bytes());
        // No page 1 in a 100-byte file.
        let mut db = Database::open(&header, None).unwrap();
        assert!(matches!(
            db.packages(&mut |_| {}),
            Err(SqliteError::MissingPage { page: 1 })
        ));
    }
}
