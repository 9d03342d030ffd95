//! Berkeley DB hash databases, as rpm up to 4.15 keeps `var/lib/rpm/Packages` (RHEL and
//! CentOS up to 8, Amazon Linux 2, older SUSE).
//!
//! The file is an array of pages; page 0 is the hash metadata page (magic, page size, last
//! page number). Bucket pages (`P_HASH`, `P_HASH_UNSORTED`) hold an index of key/value
//! items; an rpm header never fits on a bucket page, so its value is an off-page item
//! (`H_OFFPAGE`) naming the first page of an overflow chain and the total length. Like
//! go-rpmdb, this reads every bucket page in file order and follows the off-page values; the
//! one small on-page value (key 0, rpm's header-instance counter) is not a package.
//! Bucket order is hash order, not installation order.
//!
//! Berkeley DB writes in the byte order of the machine that created the file; the magic
//! number says which. Every overflow page may be read once in a whole scan, so hostile
//! chains (loops, two items sharing pages) cost at most one pass over the file.

use super::BlobSink;

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
const PAGE_HEADER_LEN: usize = 26;

/// Page types (`db_page.h`).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
/// Hash item type of an off-page value.
const H_OFFPAGE: u8 = 3;

/// Why a Berkeley DB file, or one value in it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BdbError {
    #[error("not a Berkeley DB file")]
    NotBdb,
    #[error("a Berkeley DB B-tree, not the hash database rpm writes")]
    NotHash,
    #[error("Berkeley DB metadata: {0}")]
    Meta(&'static str),
    #[error("Berkeley DB page {page}: {what}")]
    Page { page: u64, what: &'static str },
}

/// Byte order of the file.
#[derive(Debug, Clone, Copy)]
struct Order {
    big_endian: bool,
}

impl Order {
    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let word: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(word)
        } else {
            u32::from_le_bytes(word)
        })
    }

    fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let word: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(word)
        } else {
            u16::from_le_bytes(word)
        })
    }
}

/// Calls `value` with every off-page value of the hash database in `bytes`, or with the
/// error that kept one from being read. An `Err` return means the file is not a usable
/// hash database at all.
pub(crate) fn packages(bytes: &[u8], value: &mut BlobSink<'_, BdbError>) -> Result<(), BdbError> {
    let meta = bytes.get(..512).ok_or(BdbError::NotBdb)?;
    let little = Order { big_endian: false };
    let big = Order { big_endian: true };
    let order = [little, big]
        .into_iter()
        .find(|o| o.u32(meta, 12) == Some(HASH_MAGIC));
    let Some(order) = order else {
        if [little, big]
            .iter()
            .any(|o| o.u32(meta, 12) == Some(BTREE_MAGIC))
        {
            return Err(BdbError::NotHash);
        }
        return Err(BdbError::NotBdb);
    };
    if meta[25] != P_HASHMETA {
        return Err(BdbError::Meta("page 0 is not a hash metadata page"));
    }
    if meta[24] != 0 {
        return Err(BdbError::Meta("the database is encrypted"));
    }
    let page_size = order
        .u32(meta, 20)
        .map(|size| size as usize)
        .filter(|size| (512..=65_536).contains(size) && size.is_power_of_two())
        .ok_or(BdbError::Meta("invalid page size"))?;
    let last_page = order.u32(meta, 32).unwrap_or(0) as usize;
    let pages_in_file = bytes.len() / page_size;
    let page = |number: usize| {
        let start = number.checked_mul(page_size)?;
        bytes.get(start..start.checked_add(page_size)?)
    };
    let mut visited = vec![false; pages_in_file];
    // Pages past the end of a truncated file are missing, not read.
    for number in 1..=last_page.min(pages_in_file.saturating_sub(1)) {
        let Some(bucket) = page(number) else { break };
        if !matches!(bucket[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(order.u16(bucket, 20).unwrap_or(0));
        // Items alternate key, value: every second index entry is a value.
        for item in (1..entries).step_by(2) {
            let bad = |what| BdbError::Page {
                page: number as u64,
                what,
            };
            let Some(offset) = order.u16(bucket, PAGE_HEADER_LEN + 2 * item) else {
                value(Err(bad("item index beyond the page")));
                break;
            };
            let offset = usize::from(offset);
            if bucket.get(offset) != Some(&H_OFFPAGE) {
                continue;
            }
            let (Some(first), Some(length)) =
                (order.u32(bucket, offset + 4), order.u32(bucket, offset + 8))
            else {
                value(Err(bad("off-page item beyond the page")));
                continue;
            };
            let chain = read_chain(
                first as usize,
                length as usize,
                bytes.len(),
                &mut visited,
                &page,
                order,
            );
            match &chain {
                Ok(bytes) => value(Ok(bytes)),
                Err(error) => value(Err(error.clone())),
            }
        }
    }
    Ok(())
}

/// Concatenates an overflow chain until `length` bytes are read.
fn read_chain<'a>(
    first: usize,
    length: usize,
    file_len: usize,
    visited: &mut [bool],
    page: &dyn Fn(usize) -> Option<&'a [u8]>,
    order: Order,
) -> Result<Vec<u8>, BdbError> {
    let bad = |number: usize, what| BdbError::Page {
        page: number as u64,
        what,
    };
    if length > file_len {
        return Err(bad(first, "value longer than the file"));
    }
    let mut out = Vec::with_capacity(length);
    let mut number = first;
    while out.len() < length {
        if number == 0 {
            return Err(bad(first, "overflow chain ends early"));
        }
        let seen = visited
            .get_mut(number)
            .ok_or(bad(number, "overflow page beyond the end of the file"))?;
        if *seen {
            return Err(bad(number, "overflow page reached twice"));
        }
        *seen = true;
        let overflow =
            page(number).ok_or(bad(number, "overflow page beyond the end of the file"))?;
        if overflow[25] != P_OVERFLOW {
            return Err(bad(number, "not an overflow page"));
        }
        // `hf_offset` of an overflow page is the number of bytes it holds.
        let held = usize::from(order.u16(overflow, 22).unwrap_or(0));
        let data = overflow
            .get(PAGE_HEADER_LEN..PAGE_HEADER_LEN + held)
            .filter(|data| !data.is_empty())
            .ok_or(bad(number, "overflow page length out of range"))?;
        let take = data.len().min(length - out.len());
        out.extend_from_slice(&data[..take]);
        number = order.u32(overflow, 16).unwrap_or(0) as usize;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_bdb() {
        assert_eq!(packages(b"asdf\n", &mut |_| {}), Err(BdbError::NotBdb));
        let mut meta = vec![0_u8; 512];
        meta[12..16].copy_from_slice(&BTREE_MAGIC.to_le_bytes());
        assert_eq!(packages(&meta, &mut |_| {}), Err(BdbError::NotHash));
        meta[12..16].copy_from_slice(&HASH_MAGIC.to_be_bytes());
        assert!(matches!(
            packages(&meta, &mut |_| {}),
            Err(BdbError::Meta(_))
        ));
    }

    /// A hand-made big-endian database: one bucket page with an off-page item whose chain
    /// loops back on itself.
    #[test]
    fn looping_chain_is_an_error() {
        let size = 512_usize;
        let mut file = vec![0_u8; 4 * size];
        file[12..16].copy_from_slice(&HASH_MAGIC.to_be_bytes());
        file[20..24].copy_from_slice(&512_u32.to_be_bytes());
        file[25] = P_HASHMETA;
        file[32..36].copy_from_slice(&3_u32.to_be_bytes());
        // Page 1: a bucket with a key and an off-page value at offset 100.
        let bucket = &mut file[size..2 * size];
        bucket[25] = P_HASH;
        bucket[20..22].copy_from_slice(&2_u16.to_be_bytes());
        bucket[28..30].copy_from_slice(&100_u16.to_be_bytes());
        bucket[100] = H_OFFPAGE;
        bucket[104..108].copy_from_slice(&2_u32.to_be_bytes());
        bucket[108..112].copy_from_slice(&1000_u32.to_be_bytes());
        // Pages 2 and 3: overflow pages of 10 bytes pointing at each other.
        for (number, next) in [(2_usize, 3_u32), (3, 2)] {
            let overflow = &mut file[number * size..(number + 1) * size];
            overflow[25] = P_OVERFLOW;
            overflow[16..20].copy_from_slice(&next.to_be_bytes());
            overflow[22..24].copy_from_slice(&10_u16.to_be_bytes());
        }
        let mut seen = Vec::new();
        packages(&file, &mut |v| seen.push(v.map(<[u8]>::len))).unwrap();
        assert_eq!(
            seen,
            [Err(BdbError::Page {
                page: 2,
                what: "overflow page reached twice"
            })]
        );
        // Shorten the value to what the two pages hold: read in order.
        file[size + 108..size + 112].copy_from_slice(&15_u32.to_be_bytes());
        let mut seen = Vec::new();
        packages(&file, &mut |v| seen.push(v.map(<[u8]>::len))).unwrap();
        assert_eq!(seen, [Ok(15)]);
    }
}
