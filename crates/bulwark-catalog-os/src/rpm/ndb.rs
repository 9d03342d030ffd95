//! rpm's own "NDB" package database, `Packages.db` (SUSE since SLE 15 SP3 and openSUSE).
//!
//! Layout (rpm `lib/backend/ndb/rpmpkg.c`), all little-endian: a 32-byte header (`RpmP`
//! magic, version 0, generation, number of 4096-byte slot pages), then 16-byte slots
//! (`Slot` magic, package index, block offset, block count) up to the end of the slot pages,
//! then blobs addressed in 16-byte blocks: a 16-byte blob header (`BlbS` magic, package
//! index, generation, length), the header blob itself, and a trailer. A slot with package
//! index 0 is free. Slots are read in order; blob checksums are not verified (a damaged blob
//! fails to parse as an rpm header instead).

use super::BlobSink;

const HEADER_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const HEADER_LEN: usize = 32;
const SLOT_LEN: usize = 16;
const SLOT_PAGE_LEN: usize = 4096;
const BLOCK_LEN: usize = 16;
const BLOB_HEADER_LEN: usize = 16;
/// go-rpmdb's sanity limit (over 500,000 slots).
const MAX_SLOT_PAGES: usize = 2048;

/// Why an NDB file, or one blob in it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NdbError {
    #[error("not an rpm NDB database")]
    NotNdb,
    #[error("rpm NDB header: {0}")]
    Header(&'static str),
    #[error("rpm NDB slot {slot}: bad magic, the slot table is corrupt")]
    Slot { slot: usize },
    #[error("rpm NDB blob of package {package}: {what}")]
    Blob { package: u32, what: &'static str },
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(word))
}

/// Calls `blob` with every package blob, or the error that kept one from being read. An
/// `Err` return means the database (or the rest of its slot table) is unusable.
pub(crate) fn packages(bytes: &[u8], blob: &mut BlobSink<'_, NdbError>) -> Result<(), NdbError> {
    if le_u32(bytes, 0) != Some(HEADER_MAGIC) {
        return Err(NdbError::NotNdb);
    }
    if le_u32(bytes, 4) != Some(0) {
        return Err(NdbError::Header("unknown version"));
    }
    let slot_pages = le_u32(bytes, 12)
        .map(|n| n as usize)
        .filter(|&n| (1..=MAX_SLOT_PAGES).contains(&n))
        .ok_or(NdbError::Header("slot page count out of range"))?;
    let slots = bytes
        .get(HEADER_LEN..slot_pages * SLOT_PAGE_LEN)
        .ok_or(NdbError::Header("slot pages beyond the end of the file"))?;
    for (index, slot) in slots.chunks_exact(SLOT_LEN).enumerate() {
        let word = |i: usize| le_u32(slot, 4 * i).unwrap_or(0);
        if word(0) != SLOT_MAGIC {
            return Err(NdbError::Slot { slot: index });
        }
        let package = word(1);
        if package == 0 {
            continue;
        }
        blob(read_blob(
            bytes,
            package,
            word(2) as usize,
            word(3) as usize,
        ));
    }
    Ok(())
}

fn read_blob(bytes: &[u8], package: u32, offset: usize, blocks: usize) -> Result<&[u8], NdbError> {
    let bad = |what| NdbError::Blob { package, what };
    let start = offset
        .checked_mul(BLOCK_LEN)
        .ok_or(bad("offset out of range"))?;
    let room = blocks
        .checked_mul(BLOCK_LEN)
        .and_then(|len| bytes.get(start..start.checked_add(len)?))
        .ok_or(bad("blocks beyond the end of the file"))?;
    if le_u32(room, 0) != Some(BLOB_MAGIC) {
        return Err(bad("bad blob magic"));
    }
    if le_u32(room, 4) != Some(package) {
        return Err(bad("blob belongs to another package"));
    }
    let length = le_u32(room, 12).unwrap_or(0) as usize;
    room.get(BLOB_HEADER_LEN..BLOB_HEADER_LEN.saturating_add(length))
        .ok_or(bad("blob longer than its blocks"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(slots: &[[u32; 4]], blobs: &[(usize, Vec<u8>)]) -> Vec<u8> {
        let mut file = vec![0_u8; SLOT_PAGE_LEN * 2];
        file[..4].copy_from_slice(b"RpmP");
        file[12..16].copy_from_slice(&1_u32.to_le_bytes());
        for chunk in file[HEADER_LEN..SLOT_PAGE_LEN].chunks_exact_mut(SLOT_LEN) {
            chunk[..4].copy_from_slice(b"Slot");
        }
        for (i, slot) in slots.iter().enumerate() {
            let at = HEADER_LEN + i * SLOT_LEN;
            for (j, word) in slot.iter().enumerate() {
                file[at + 4 * j..at + 4 * j + 4].copy_from_slice(&word.to_le_bytes());
            }
        }
        for (at, bytes) in blobs {
            file[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        file
    }

    fn blob_at(package: u32, data: &[u8]) -> Vec<u8> {
        let mut out = b"BlbS".to_vec();
        out.extend(package.to_le_bytes());
        out.extend(0_u32.to_le_bytes());
        out.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn slots_and_blobs() {
        let slot = u32::from_le_bytes(*b"Slot");
        let file = database(
            &[
                [slot, 1, 256, 2],
                [slot, 0, 0, 0],
                [slot, 2, 258, 1],
                [slot, 3, 256, 2],
                [slot, 4, u32::MAX, u32::MAX],
            ],
            &[
                (4096, blob_at(1, b"hello")),
                (4128, blob_at(2, b"this is too long")),
            ],
        );
        let mut seen = Vec::new();
        packages(&file, &mut |b| seen.push(b.map(<[u8]>::to_vec))).unwrap();
        assert_eq!(seen[0], Ok(b"hello".to_vec()));
        assert_eq!(
            seen[1..],
            [
                Err(NdbError::Blob {
                    package: 2,
                    what: "blob longer than its blocks"
                }),
                Err(NdbError::Blob {
                    package: 3,
                    what: "blob belongs to another package"
                }),
                Err(NdbError::Blob {
                    package: 4,
                    what: "blocks beyond the end of the file"
                }),
            ]
        );
    }

    #[test]
    fn bad_headers() {
        assert_eq!(packages(b"Rpm", &mut |_| {}), Err(NdbError::NotNdb));
        let mut file = database(&[], &[]);
        file[12..16].copy_from_slice(&5000_u32.to_le_bytes());
        assert!(matches!(
            packages(&file, &mut |_| {}),
            Err(NdbError::Header(_))
        ));
        let mut file = database(&[], &[]);
        file[HEADER_LEN] = b'X';
        assert_eq!(
            packages(&file, &mut |_| {}),
            Err(NdbError::Slot { slot: 0 })
        );
    }
}
