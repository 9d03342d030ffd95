//! The few facts an ELF shared library states about its own version: the `.dynamic`
//! `DT_SONAME` and, for some libraries, a version string in `.rodata`.
//!
//! CUDA libraries are large (cuBLASLt is over 500 MB, nearly all of it GPU code), so nothing
//! here reads a whole file: the reader is seekable, and only the ELF header, the section
//! header table, the `.dynamic` section, the dynamic string table entry and a bounded stretch
//! of `.rodata` are read. Each of those reads is capped, so a hostile header cannot make the
//! scan allocate or read more than a few megabytes.

use std::io::{self, Read, Seek, SeekFrom};

use bulwark_catalog::ReadSeek;
use object::elf;
use object::elf::{FileHeader32, FileHeader64};
use object::read::elf::{Dyn, FileHeader, SectionHeader};
use object::{Endianness, ReadCache, ReadRef};

/// More sections than any linked shared library has; beyond this the header is hostile.
const MAX_SECTIONS: usize = 1 << 16;

/// The largest `.dynamic` section read (a real one holds a few dozen entries).
const MAX_DYNAMIC_BYTES: u64 = 1 << 20;

/// How much of `.rodata` is searched for a version marker.
const MAX_RODATA_SCAN: u64 = 64 << 20;

/// Chunk size of the `.rodata` search.
const CHUNK: usize = 1 << 20;

/// Why an ELF file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ElfError {
    /// The file could not be read.
    #[error("cannot read the ELF file")]
    Io(#[from] io::Error),
    /// The headers are malformed.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
}

impl From<object::read::Error> for ElfError {
    fn from(error: object::read::Error) -> Self {
        Self::Malformed(error.to_string())
    }
}

/// What an ELF file says about its version.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ElfFacts {
    /// `DT_SONAME` (`libcudart.so.12`).
    pub(crate) soname: Option<String>,
    /// The text after the marker that was searched for, up to the first byte that cannot be
    /// part of a version (`2.18.1+cuda12.1` after `NCCL version `).
    pub(crate) marked: Option<String>,
}

/// Reads the SONAME of the ELF file behind `reader` and, when `marker` is given, the
/// version text following the first occurrence of `marker` in `.rodata`. `Ok(None)` when
/// the file is not ELF at all (a linker script named `libfoo.so`, an empty placeholder).
pub(crate) fn read(
    mut reader: Box<dyn ReadSeek>,
    marker: Option<&[u8]>,
) -> Result<Option<ElfFacts>, ElfError> {
    let mut ident = [0u8; 5];
    match reader.read_exact(&mut ident) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    if ident[..4] != elf::ELFMAG {
        return Ok(None);
    }
    reader.seek(SeekFrom::Start(0))?;
    let cache = ReadCache::new(reader);
    let (soname, rodata) = match ident[4] {
        elf::ELFCLASS64 => headers::<FileHeader64<Endianness>, _>(&cache)?,
        elf::ELFCLASS32 => headers::<FileHeader32<Endianness>, _>(&cache)?,
        other => return Err(ElfError::Malformed(format!("unknown ELF class {other}"))),
    };
    let marked = match (marker, rodata) {
        (Some(marker), Some((offset, size))) => {
            let mut reader = cache.into_inner();
            search(&mut reader, offset, size.min(MAX_RODATA_SCAN), marker)?
        }
        _ => None,
    };
    Ok(Some(ElfFacts { soname, marked }))
}

/// The SONAME and the file range of `.rodata`.
type Headers = (Option<String>, Option<(u64, u64)>);

fn headers<'data, Elf, R>(data: R) -> Result<Headers, ElfError>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let count = header.shnum(endian, data)?;
    if count > MAX_SECTIONS {
        return Err(ElfError::Malformed(format!("{count} sections")));
    }
    let sections = header.sections(endian, data)?;
    let mut soname = None;
    let mut rodata = None;
    for section in sections.iter() {
        if sections.section_name(endian, section).ok() == Some(b".rodata".as_slice()) {
            rodata = section.file_range(endian);
        }
        if section.sh_type(endian) != elf::SHT_DYNAMIC || soname.is_some() {
            continue;
        }
        let size: u64 = section.sh_size(endian).into();
        if size > MAX_DYNAMIC_BYTES {
            return Err(ElfError::Malformed(format!(
                ".dynamic section of {size} bytes"
            )));
        }
        let Some((entries, link)) = section.dynamic(endian, data)? else {
            continue;
        };
        let strings = sections.strings(endian, data, link)?;
        soname = entries
            .iter()
            .take_while(|entry| entry.tag32(endian) != Some(elf::DT_NULL as i32))
            .find(|entry| entry.tag32(endian) == Some(elf::DT_SONAME as i32))
            .and_then(|entry| entry.string(endian, strings).ok())
            .map(|name| String::from_utf8_lossy(name).into_owned());
    }
    Ok((soname, rodata))
}

/// Searches `size` bytes from `offset` for `marker` and returns the version text after it.
fn search(
    reader: &mut dyn ReadSeek,
    offset: u64,
    size: u64,
    marker: &[u8],
) -> Result<Option<String>, ElfError> {
    if marker.is_empty() {
        return Ok(None);
    }
    // Keep enough of each chunk's end to find a marker and its version across the seam.
    let keep = marker.len() + 64;
    reader.seek(SeekFrom::Start(offset))?;
    let mut limited = reader.take(size);
    let mut window: Vec<u8> = Vec::with_capacity(CHUNK + keep);
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let read = read_full(&mut limited, &mut chunk)?;
        window.extend_from_slice(&chunk[..read]);
        let at_end = read < CHUNK;
        if let Some(start) = find(&window, marker) {
            let tail = &window[start + marker.len()..];
            // A match too close to the seam is completed by the next chunk.
            if at_end || tail.len() >= 64 {
                return Ok(version_prefix(tail));
            }
        }
        if at_end {
            return Ok(None);
        }
        let drop = window.len().saturating_sub(keep);
        window.drain(..drop);
    }
}

/// Reads until `buf` is full or the input ends.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(relative) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + relative;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The leading run of version characters (`2.18.1+cuda12.1`), `None` if it does not start
/// with a digit.
fn version_prefix(bytes: &[u8]) -> Option<String> {
    let end = bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_')))
        .unwrap_or(bytes.len());
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    text.starts_with(|c: char| c.is_ascii_digit())
        .then(|| text.to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a minimal little-endian ELF64 shared object: a `.dynstr`, a `.dynamic` with
    /// one `DT_SONAME`, a `.rodata` holding `rodata`, and the section name table. The layout
    /// is the one `ld` produces in spirit (header, section data, section headers at the end)
    /// without program headers, which nothing here reads.
    pub(crate) fn shared_object(soname: &str, rodata: &[u8]) -> Vec<u8> {
        let mut dynstr = vec![0u8];
        dynstr.extend_from_slice(soname.as_bytes());
        dynstr.push(0);
        let mut dynamic = Vec::new();
        for (tag, value) in [(elf::DT_SONAME as u64, 1u64), (elf::DT_NULL as u64, 0)] {
            dynamic.extend_from_slice(&tag.to_le_bytes());
            dynamic.extend_from_slice(&value.to_le_bytes());
        }
        let shstrtab = b"\0.dynstr\0.dynamic\0.rodata\0.shstrtab\0".to_vec();
        let name_at = |name: &str| {
            let needle = format!("\0{name}\0");
            find(&shstrtab, needle.as_bytes()).map_or(0, |at| at + 1) as u32
        };

        let mut out = vec![0u8; 64];
        let place = |out: &mut Vec<u8>, bytes: &[u8]| {
            while !out.len().is_multiple_of(8) {
                out.push(0);
            }
            let offset = out.len() as u64;
            out.extend_from_slice(bytes);
            (offset, bytes.len() as u64)
        };
        let dynstr_at = place(&mut out, &dynstr);
        let dynamic_at = place(&mut out, &dynamic);
        let rodata_at = place(&mut out, rodata);
        let shstrtab_at = place(&mut out, &shstrtab);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let shoff = out.len() as u64;

        // (name, type, flags, (offset, size), link, entsize)
        type SectionRow = (u32, u32, u64, (u64, u64), u32, u64);
        let sections: [SectionRow; 5] = [
            (0, elf::SHT_NULL, 0, (0, 0), 0, 0),
            (name_at(".dynstr"), elf::SHT_STRTAB, 2, dynstr_at, 0, 0),
            (name_at(".dynamic"), elf::SHT_DYNAMIC, 3, dynamic_at, 1, 16),
            (name_at(".rodata"), elf::SHT_PROGBITS, 2, rodata_at, 0, 0),
            (name_at(".shstrtab"), elf::SHT_STRTAB, 0, shstrtab_at, 0, 0),
        ];
        for (name, kind, flags, (offset, size), link, entsize) in sections {
            out.extend_from_slice(&name.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&link.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes()); // sh_info
            out.extend_from_slice(&8u64.to_le_bytes()); // sh_addralign
            out.extend_from_slice(&entsize.to_le_bytes());
        }

        let header = &mut out[..64];
        header[..4].copy_from_slice(&elf::ELFMAG);
        header[4] = elf::ELFCLASS64;
        header[5] = elf::ELFDATA2LSB;
        header[6] = elf::EV_CURRENT;
        header[16..18].copy_from_slice(&elf::ET_DYN.to_le_bytes());
        header[18..20].copy_from_slice(&elf::EM_X86_64.to_le_bytes());
        header[20..24].copy_from_slice(&1u32.to_le_bytes());
        header[40..48].copy_from_slice(&shoff.to_le_bytes());
        header[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        header[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        header[60..62].copy_from_slice(&5u16.to_le_bytes()); // e_shnum
        header[62..64].copy_from_slice(&4u16.to_le_bytes()); // e_shstrndx
        out
    }

    fn read_bytes(bytes: Vec<u8>, marker: Option<&[u8]>) -> Result<Option<ElfFacts>, ElfError> {
        read(Box::new(io::Cursor::new(bytes)), marker)
    }

    #[test]
    fn soname_and_marked_version() {
        let mut rodata = b"\0\0unrelated\0".to_vec();
        rodata.extend_from_slice(b"NCCL version 2.18.1+cuda12.1\0more");
        let facts = read_bytes(
            shared_object("libnccl.so.2", &rodata),
            Some(b"NCCL version "),
        )
        .unwrap()
        .unwrap();
        assert_eq!(facts.soname.as_deref(), Some("libnccl.so.2"));
        assert_eq!(facts.marked.as_deref(), Some("2.18.1+cuda12.1"));

        let facts = read_bytes(shared_object("libcudart.so.12", b"x"), None)
            .unwrap()
            .unwrap();
        assert_eq!(facts.soname.as_deref(), Some("libcudart.so.12"));
        assert_eq!(facts.marked, None);
    }

    #[test]
    fn not_elf_is_none() {
        assert_eq!(read_bytes(Vec::new(), None).unwrap(), None);
        assert_eq!(
            read_bytes(b"/* GNU ld script */ INPUT(libfoo.so.1)".to_vec(), None).unwrap(),
            None
        );
    }

    #[test]
    fn truncated_and_hostile_headers_are_errors_not_panics() {
        let good = shared_object("libcudnn.so.8", b"");
        for cut in [6, 40, 64, 100, good.len() - 10] {
            let result = read_bytes(good[..cut].to_vec(), Some(b"x"));
            assert!(result.is_err(), "cut at {cut}: {result:?}");
        }
        // A section count far beyond the file.
        let mut hostile = good.clone();
        hostile[60..62].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(read_bytes(hostile, None).is_err());
        // A section header offset beyond the file.
        let mut hostile = good;
        hostile[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(read_bytes(hostile, None).is_err());
    }

    #[test]
    fn marker_across_chunk_seam() {
        let mut rodata = vec![b'x'; CHUNK - 5];
        rodata.extend_from_slice(b"NCCL version 2.21.5+cuda12.4\0");
        let facts = read_bytes(
            shared_object("libnccl.so.2", &rodata),
            Some(b"NCCL version "),
        )
        .unwrap()
        .unwrap();
        assert_eq!(facts.marked.as_deref(), Some("2.21.5+cuda12.4"));
    }
}
