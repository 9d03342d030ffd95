//! The build information the Go toolchain embeds in every binary (what `go version -m`
//! prints), parsed from bytes.
//!
//! The blob starts with a 32-byte header: the 14-byte magic `\xff Go buildinf:`, the pointer
//! size, a flags byte, then 16 bytes that depend on the format:
//!
//! - **inline** (Go 1.18 and later, flag `0x2`): right after the header, the Go version and
//!   the module information as two uvarint-length-prefixed strings;
//! - **pointer** (Go 1.13 to 1.17): two pointers (of the header's size and endianness, flag
//!   `0x1` for big-endian) to Go string headers `{data, len}` elsewhere in the binary, read
//!   through [`Memory`].
//!
//! The module information is framed by two 16-byte sentinels, then tab-separated lines
//! (a tab shown as `→`):
//!
//! ```text
//! path → example.com/cmd/tool
//! mod → example.com/cmd → v1.2.3 → h1:…
//! dep → golang.org/x/sys → v0.1.0 → h1:…
//! => → example.com/fork/sys → v0.1.1 → h1:…
//! build → GOOS=linux
//! ```
//!
//! Every length read from the blob is checked against [`MAX_STRING`], so a hostile blob can
//! neither make this allocate much nor read past what it was given.

/// The magic that starts the blob.
pub(crate) const MAGIC: &[u8] = b"\xff Go buildinf:";

/// Header size; the blob is aligned to 16 bytes in its section.
const HEADER_SIZE: usize = 32;

/// The longest version or module-information string accepted. Real ones are a few dozen
/// kilobytes for binaries with hundreds of dependencies.
pub(crate) const MAX_STRING: u64 = 4 * 1024 * 1024;

const FLAG_BIG_ENDIAN: u8 = 0x1;
const FLAG_VERSION_INLINE: u8 = 0x2;

/// Reads the binary's memory at a virtual address (pointer format only).
pub(crate) trait Memory {
    /// `len` bytes at `address`, or `None` where the address is not backed by file data.
    fn read(&self, address: u64, len: u64) -> Option<Vec<u8>>;
}

/// Why a blob could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BuildInfoError {
    /// The bytes do not start with [`MAGIC`] and a full header.
    #[error("no Go build information header")]
    NoHeader,
    /// The pointer format named a pointer size other than 4 or 8.
    #[error("unsupported pointer size {0} in the Go build information")]
    PointerSize(u8),
    /// A string of the blob is missing, truncated or too long.
    #[error("the Go build information is truncated or malformed")]
    Malformed,
}

/// A module as build information names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Module {
    pub(crate) path: String,
    /// As written (`v1.2.3`, `(devel)`); empty for some directory replacements.
    pub(crate) version: String,
    /// Its `=>` replacement, if any.
    pub(crate) replace: Option<Box<Module>>,
}

/// The parsed build information.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BuildInfo {
    /// The toolchain that built the binary, as written (`go1.22.1`,
    /// `go1.22.1 X:boringcrypto`).
    pub(crate) go_version: String,
    /// The main package path (`path` line).
    pub(crate) path: Option<String>,
    /// The main module (`mod` line); absent for binaries built outside module mode.
    pub(crate) main: Option<Module>,
    /// Dependencies (`dep` lines).
    pub(crate) deps: Vec<Module>,
    /// Build settings (`build` lines), `key=value` split once.
    pub(crate) settings: Vec<(String, String)>,
}

/// Parses the blob that `data` starts with (the rest of the section may follow).
pub(crate) fn parse(data: &[u8], memory: &dyn Memory) -> Result<BuildInfo, BuildInfoError> {
    if data.len() < HEADER_SIZE || !data.starts_with(MAGIC) {
        return Err(BuildInfoError::NoHeader);
    }
    let pointer_size = data[14];
    let flags = data[15];
    let (version, modinfo) = if flags & FLAG_VERSION_INLINE != 0 {
        let rest = &data[HEADER_SIZE..];
        let (version, rest) = decode_string(rest).ok_or(BuildInfoError::Malformed)?;
        let (modinfo, _) = decode_string(rest).ok_or(BuildInfoError::Malformed)?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        let size = match pointer_size {
            4 | 8 => usize::from(pointer_size),
            other => return Err(BuildInfoError::PointerSize(other)),
        };
        let pointers = Pointers {
            size,
            big_endian: flags & FLAG_BIG_ENDIAN != 0,
        };
        let version_at = pointers
            .read(&data[16..])
            .ok_or(BuildInfoError::Malformed)?;
        let modinfo_at = pointers
            .read(&data[16 + size..])
            .ok_or(BuildInfoError::Malformed)?;
        (
            pointers
                .string(memory, version_at)
                .ok_or(BuildInfoError::Malformed)?,
            pointers
                .string(memory, modinfo_at)
                .ok_or(BuildInfoError::Malformed)?,
        )
    };
    if version.is_empty() {
        return Err(BuildInfoError::Malformed);
    }
    let mut info = parse_modinfo(&String::from_utf8_lossy(strip_sentinels(&modinfo)));
    info.go_version = String::from_utf8_lossy(&version).into_owned();
    Ok(info)
}

/// A uvarint-length-prefixed string and what follows it.
fn decode_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, used) = uvarint(data)?;
    if len > MAX_STRING {
        return None;
    }
    let len = usize::try_from(len).ok()?;
    let rest = data.get(used..)?;
    Some((rest.get(..len)?, rest.get(len..)?))
}

/// Go's `binary.Uvarint`: the value and the bytes it took.
fn uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (index, byte) in data.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * u32::try_from(index).ok()?;
        if index == 9 && *byte > 1 {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

/// The module information between its sentinels, or nothing when it is not framed (Go's
/// own rule: at least 33 bytes, with a newline 17 bytes from the end).
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let len = modinfo.len();
    if len >= 33 && modinfo[len - 17] == b'\n' {
        &modinfo[16..len - 16]
    } else {
        &[]
    }
}

/// Pointer decoding for the pre-1.18 format.
struct Pointers {
    size: usize,
    big_endian: bool,
}

impl Pointers {
    fn read(&self, bytes: &[u8]) -> Option<u64> {
        let bytes = bytes.get(..self.size)?;
        let mut value: u64 = 0;
        for index in 0..self.size {
            let byte = if self.big_endian {
                bytes[index]
            } else {
                bytes[self.size - 1 - index]
            };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    }

    /// The Go string whose header `{data, len}` is at `address`.
    fn string(&self, memory: &dyn Memory, address: u64) -> Option<Vec<u8>> {
        let size = u64::try_from(self.size).ok()?;
        let header = memory.read(address, 2 * size)?;
        let data = self.read(&header)?;
        let len = self.read(header.get(self.size..)?)?;
        if len > MAX_STRING {
            return None;
        }
        if len == 0 {
            return Some(Vec::new());
        }
        let bytes = memory.read(data, len)?;
        (u64::try_from(bytes.len()).ok()? == len).then_some(bytes)
    }
}

/// Parses the module information lines. Unknown lines are skipped, as `go version -m`
/// skips them.
fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    // Where the last `mod`/`dep` went, for a following `=>`.
    let mut last: Option<Option<usize>> = None;
    for line in text.lines() {
        let mut fields = line.split('\t');
        let kind = fields.next().unwrap_or_default();
        let module = |mut fields: std::str::Split<'_, char>| {
            let path = fields.next().filter(|p| !p.is_empty())?;
            Some(Module {
                path: path.to_owned(),
                version: fields.next().unwrap_or_default().to_owned(),
                replace: None,
            })
        };
        match kind {
            "path" => info.path = fields.next().map(str::to_owned),
            "mod" => {
                info.main = module(fields);
                last = info.main.as_ref().map(|_| None);
            }
            "dep" => {
                if let Some(dep) = module(fields) {
                    info.deps.push(dep);
                    last = Some(Some(info.deps.len() - 1));
                } else {
                    last = None;
                }
            }
            "=>" => {
                let target = match last.take() {
                    Some(None) => info.main.as_mut(),
                    Some(Some(index)) => info.deps.get_mut(index),
                    None => None,
                };
                if let (Some(target), Some(replacement)) = (target, module(fields)) {
                    target.replace = Some(Box::new(replacement));
                }
            }
            "build" => {
                if let Some((key, value)) = fields.next().and_then(|s| s.split_once('=')) {
                    info.settings.push((key.to_owned(), value.to_owned()));
                }
            }
            _ => {}
        }
    }
    info
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Builds blobs the way the Go linker lays them out.

    use super::{HEADER_SIZE, MAGIC};

    /// 16 arbitrary bytes, standing in for cmd/go's `infoStart`/`infoEnd` sentinels.
    pub(crate) const SENTINEL: &[u8; 16] = b"0123456789abcdef";

    /// The framed module information of `lines`.
    pub(crate) fn framed(lines: &str) -> Vec<u8> {
        let mut modinfo = SENTINEL.to_vec();
        modinfo.extend_from_slice(lines.as_bytes());
        modinfo.extend_from_slice(SENTINEL);
        modinfo
    }

    fn uvarint(mut value: usize, out: &mut Vec<u8>) {
        while value >= 0x80 {
            out.push(u8::try_from(value & 0x7f).unwrap() | 0x80);
            value >>= 7;
        }
        out.push(u8::try_from(value).unwrap());
    }

    /// A Go 1.18+ inline blob.
    pub(crate) fn inline_blob(version: &str, lines: &str) -> Vec<u8> {
        let mut blob = MAGIC.to_vec();
        blob.push(8);
        blob.push(0x2);
        blob.resize(HEADER_SIZE, 0);
        uvarint(version.len(), &mut blob);
        blob.extend_from_slice(version.as_bytes());
        let modinfo = framed(lines);
        uvarint(modinfo.len(), &mut blob);
        blob.extend_from_slice(&modinfo);
        blob
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::test_support::{framed, inline_blob};
    use super::*;

    /// A sparse address space.
    #[derive(Default)]
    struct FakeMemory(BTreeMap<u64, Vec<u8>>);

    impl Memory for FakeMemory {
        fn read(&self, address: u64, len: u64) -> Option<Vec<u8>> {
            let (start, bytes) = self.0.range(..=address).next_back()?;
            let offset = usize::try_from(address - start).ok()?;
            let end = offset.checked_add(usize::try_from(len).ok()?)?;
            bytes.get(offset..end).map(<[u8]>::to_vec)
        }
    }

    const LINES: &str = "path\texample.com/cmd/tool\n\
        mod\texample.com/cmd\t(devel)\t\n\
        dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n\
        dep\tgolang.org/x/net\tv0.2.0\th1:def=\n\
        =>\texample.com/fork/net\tv0.2.1\th1:ghi=\n\
        dep\texample.com/local\tv1.0.0\n\
        =>\t../local\t\n\
        build\t-ldflags=-s -w\n\
        build\tGOOS=linux\n";

    fn check(info: &BuildInfo) {
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(info.path.as_deref(), Some("example.com/cmd/tool"));
        let main = info.main.as_ref().unwrap();
        assert_eq!(
            (main.path.as_str(), main.version.as_str()),
            ("example.com/cmd", "(devel)")
        );
        assert_eq!(info.deps.len(), 3);
        assert_eq!(info.deps[0].replace, None);
        let fork = info.deps[1].replace.as_deref().unwrap();
        assert_eq!(
            (fork.path.as_str(), fork.version.as_str()),
            ("example.com/fork/net", "v0.2.1")
        );
        let local = info.deps[2].replace.as_deref().unwrap();
        assert_eq!(
            (local.path.as_str(), local.version.as_str()),
            ("../local", "")
        );
        assert_eq!(
            info.settings,
            [
                ("-ldflags".to_owned(), "-s -w".to_owned()),
                ("GOOS".to_owned(), "linux".to_owned())
            ]
        );
    }

    #[test]
    fn inline_format() {
        let mut blob = inline_blob("go1.22.1", LINES);
        // Section padding after the blob is ignored.
        blob.extend_from_slice(&[0; 64]);
        check(&parse(&blob, &FakeMemory::default()).unwrap());
    }

    /// The pre-1.18 layout: the header points at string headers, which point at the bytes.
    #[test]
    fn pointer_format_both_endians_and_sizes() {
        for (size, big_endian) in [(8usize, false), (4, false), (8, true), (4, true)] {
            let encode = |value: u64| -> Vec<u8> {
                let bytes = value.to_be_bytes();
                let mut out = bytes[8 - size..].to_vec();
                if !big_endian {
                    out.reverse();
                }
                out
            };
            let version = b"go1.22.1".to_vec();
            let modinfo = framed(LINES);
            let mut memory = FakeMemory::default();
            // String headers at 0x1000 and 0x1100, their bytes at 0x2000 and 0x3000.
            let mut header = encode(0x2000);
            header.extend(encode(u64::try_from(version.len()).unwrap()));
            memory.0.insert(0x1000, header);
            let mut header = encode(0x3000);
            header.extend(encode(u64::try_from(modinfo.len()).unwrap()));
            memory.0.insert(0x1100, header);
            memory.0.insert(0x2000, version);
            memory.0.insert(0x3000, modinfo);

            let mut blob = MAGIC.to_vec();
            blob.push(u8::try_from(size).unwrap());
            blob.push(if big_endian { FLAG_BIG_ENDIAN } else { 0 });
            blob.extend(encode(0x1000));
            blob.extend(encode(0x1100));
            blob.resize(HEADER_SIZE, 0);
            check(&parse(&blob, &memory).unwrap());
        }
    }

    #[test]
    fn hostile_blobs_fail_cleanly() {
        let memory = FakeMemory::default();
        assert_eq!(
            parse(b"\xff Go buildinf:", &memory),
            Err(BuildInfoError::NoHeader)
        );
        assert_eq!(parse(&[0; 64], &memory), Err(BuildInfoError::NoHeader));
        // Truncated inline strings.
        let blob = inline_blob("go1.22.1", LINES);
        for cut in [HEADER_SIZE, HEADER_SIZE + 3, blob.len() - 1] {
            assert_eq!(
                parse(&blob[..cut], &memory),
                Err(BuildInfoError::Malformed),
                "{cut}"
            );
        }
        // A length of 2^63.
        let mut blob = MAGIC.to_vec();
        blob.extend([8, 0x2]);
        blob.resize(HEADER_SIZE, 0);
        blob.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
        assert_eq!(parse(&blob, &memory), Err(BuildInfoError::Malformed));
        // Pointers to nowhere, and an odd pointer size.
        let mut blob = MAGIC.to_vec();
        blob.extend([8, 0]);
        blob.resize(HEADER_SIZE, 0xee);
        assert_eq!(parse(&blob, &memory), Err(BuildInfoError::Malformed));
        blob[14] = 3;
        assert_eq!(parse(&blob, &memory), Err(BuildInfoError::PointerSize(3)));
    }

    #[test]
    fn unframed_module_information_is_empty() {
        let mut blob = MAGIC.to_vec();
        blob.extend([8, 0x2]);
        blob.resize(HEADER_SIZE, 0);
        blob.extend([8]);
        blob.extend(b"go1.16.3");
        blob.extend([4]);
        blob.extend(b"junk");
        let info = parse(&blob, &FakeMemory::default()).unwrap();
        assert_eq!(info.go_version, "go1.16.3");
        assert_eq!(info.main, None);
        assert!(info.deps.is_empty());
    }

    #[test]
    fn uvarints() {
        assert_eq!(uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(uvarint(&[0xac, 0x02]), Some((300, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[0xff; 11]), None);
    }
}
