//! The files pickles travel in: PyTorch zip archives (and TorchScript ones), zip in zip,
//! PyTorch's legacy tar and stacked-pickle formats, `.npy`/`.npz`, gzip/zlib-compressed
//! joblib dumps and raw pickle streams.
//!
//! Content decides, never the name: each file and member is sniffed. Only the pickle
//! regions are read (a multi-gigabyte checkpoint costs its index, its pickles and a seek per
//! tensor); every read is capped per member and per file, and what a cap cut off is itself a
//! finding.
//!
//! Zip archives are read as tolerantly as PyTorch's reader (miniz) and Python's `zipfile`
//! together: members are the union of the central directory and a walk over the local file
//! headers, so a member only one of them lists is still read, and flag or CRC mismatches are
//! ignored.

use std::io::{self, Cursor, Read, Seek, SeekFrom};

use bulwark_catalog::ReadSeek;
use bulwark_inventory::{ArtifactFinding, ArtifactSeverity};
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};

use crate::Limits;
use crate::machine::{Context, PickleFinding, Session, StreamRun};
use crate::policy::{self, Class, REMEDY_LOAD, REMEDY_MALFORMED, rule};

/// Scans one file (or archive) for unsafe pickles. `name` is the file's path as reported in
/// the findings. I/O errors end the scan of what they hit and become findings: a file the
/// scanner cannot read is not a file it can call safe.
pub fn scan_file(reader: &mut dyn ReadSeek, name: &str, limits: &Limits) -> Vec<ArtifactFinding> {
    let mut scan = Scan {
        limits,
        path: name.to_owned(),
        read_total: 0,
        findings: Vec::new(),
    };
    if let Err(error) = scan.any(reader, None, 0) {
        scan.note(
            None,
            0,
            rule::LIMIT,
            ArtifactSeverity::Medium,
            format!("the file could not be read to the end ({error}); the rest was not scanned"),
        );
    }
    scan.findings
        .sort_by(|a, b| (&a.member, a.offset, &a.id).cmp(&(&b.member, b.offset, &b.id)));
    scan.findings
}

/// The first bytes of a stream, enough to tell formats apart (tar's magic is at 257).
const SNIFF: usize = 512;

/// PyTorch's legacy format starts with its magic number, pickled with protocol 2 as `LONG1`.
const LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

/// A pickle window starts this big and grows fourfold while a pickle runs past its end.
const FIRST_WINDOW: u64 = 1 << 20;

/// TorchScript source files are small; a bigger one is not read past this.
const MAX_SOURCE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    Npy,
    Gzip,
    Zlib,
    Pickle,
    Other,
}

fn sniff(head: &[u8]) -> Kind {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if head.get(257..262) == Some(b"ustar") {
        Kind::Tar
    } else if head.starts_with(b"\x93NUMPY") {
        Kind::Npy
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Kind::Gzip
    } else if head.len() >= 2
        && head[0] == 0x78
        && matches!(head[1], 0x01 | 0x5e | 0x9c | 0xda)
        && (u16::from(head[0]) * 256 + u16::from(head[1])) % 31 == 0
    {
        Kind::Zlib
    } else if head
        .first()
        .is_some_and(|&b| crate::opcode::may_start_pickle(b))
    {
        Kind::Pickle
    } else {
        Kind::Other
    }
}

struct Scan<'l> {
    limits: &'l Limits,
    path: String,
    read_total: u64,
    findings: Vec<ArtifactFinding>,
}

/// A member's place: its `!/`-joined name, or none for the file itself.
type Member<'a> = Option<&'a str>;

fn join(member: Member<'_>, name: &str) -> String {
    match member {
        Some(outer) => format!("{outer}!/{name}"),
        None => name.to_owned(),
    }
}

fn stream_len(reader: &mut dyn ReadSeek) -> io::Result<u64> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    Ok(len)
}

fn read_at(reader: &mut dyn ReadSeek, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    reader.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(len.min(1 << 20));
    reader.take(len as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

impl Scan<'_> {
    fn note(
        &mut self,
        member: Member<'_>,
        offset: u64,
        id: &str,
        severity: ArtifactSeverity,
        message: String,
    ) {
        self.findings.push(ArtifactFinding {
            path: self.path.clone(),
            member: member.map(str::to_owned),
            offset: Some(offset),
            id: id.to_owned(),
            severity,
            callable: None,
            message,
            remedy: REMEDY_MALFORMED.to_owned(),
        });
    }

    /// Charges `n` bytes to the per-file read budget; false (and a finding) when spent.
    fn charge(&mut self, member: Member<'_>, n: u64) -> bool {
        if self.read_total.saturating_add(n) > self.limits.max_file_bytes {
            if !self
                .findings
                .iter()
                .any(|f| f.id == rule::LIMIT && f.message.contains("per-file"))
            {
                self.note(
                    member,
                    0,
                    rule::LIMIT,
                    ArtifactSeverity::Medium,
                    format!(
                        "the per-file read budget of {} bytes is spent; this and later members were not scanned",
                        self.limits.max_file_bytes
                    ),
                );
            }
            return false;
        }
        self.read_total += n;
        true
    }

    fn report(&mut self, member: Member<'_>, base: u64, found: PickleFinding) {
        let (offset, message) = match found.nesting.first() {
            Some(&outer) => (
                base + outer,
                format!(
                    "in a nested pickle (depth {}, offset {} inside it): {}",
                    found.nesting.len(),
                    found.offset,
                    found.message
                ),
            ),
            None => (base + found.offset, found.message),
        };
        self.findings.push(ArtifactFinding {
            path: self.path.clone(),
            member: member.map(str::to_owned),
            offset: Some(offset),
            id: found.id.to_owned(),
            severity: found.severity,
            callable: found.callable,
            message,
            remedy: found.remedy.to_owned(),
        });
    }

    /// Sniffs a stream and scans it as what it is.
    fn any(&mut self, reader: &mut dyn ReadSeek, member: Member<'_>, depth: u32) -> io::Result<()> {
        let len = stream_len(reader)?;
        let head = read_at(reader, 0, SNIFF)?;
        match sniff(&head) {
            Kind::Zip => self.zip(reader, len, member, depth),
            Kind::Tar => self.tar(reader, len, member, depth),
            Kind::Npy => self.npy(reader, len, member, Context::default()),
            Kind::Gzip | Kind::Zlib => {
                let kind = sniff(&head);
                self.compressed(reader, kind, member, depth)
            }
            Kind::Pickle => {
                let legacy = head.starts_with(LEGACY_MAGIC);
                // The legacy format is five pickles (magic, protocol, sys info, data,
                // storage keys) and then raw storages, which are never unpickled.
                let max = legacy.then_some(5);
                self.pickles(reader, 0, len, max, member, Context::default())?;
                Ok(())
            }
            Kind::Other => Ok(()),
        }
    }

    /// Pickles from `start` to at most `end`, read through a window that grows while a
    /// pickle runs past it (up to the per-member cap). With `max` unset, the whole range is
    /// one stream.
    fn pickles(
        &mut self,
        reader: &mut dyn ReadSeek,
        start: u64,
        end: u64,
        max: Option<usize>,
        member: Member<'_>,
        ctx: Context,
    ) -> io::Result<Option<StreamRun>> {
        let available = end.saturating_sub(start);
        let cap = self.limits.max_member_bytes.min(available);
        let mut window = if max.is_some() {
            FIRST_WINDOW.min(cap)
        } else {
            cap
        };
        loop {
            if !self.charge(member, window) {
                return Ok(None);
            }
            let data = read_at(reader, start, window as usize)?;
            let mut session = Session::new(self.limits, ctx);
            let run = session.stream(&data, &[], max);
            if run.cut && window < cap {
                window = window.saturating_mul(4).min(cap);
                continue;
            }
            let analysis = session.finish(run.pickles);
            for found in analysis.findings {
                self.report(member, start, found);
            }
            if available > window && (run.cut || max.is_none()) {
                self.note(
                    member,
                    start + window,
                    rule::LIMIT,
                    ArtifactSeverity::Medium,
                    format!(
                        "the pickle stream is larger than the {}-byte cap; the rest was not scanned",
                        self.limits.max_member_bytes
                    ),
                );
            }
            return Ok(Some(run));
        }
    }

    fn compressed(
        &mut self,
        reader: &mut dyn ReadSeek,
        kind: Kind,
        member: Member<'_>,
        depth: u32,
    ) -> io::Result<()> {
        reader.seek(SeekFrom::Start(0))?;
        let cap = self.limits.max_member_bytes;
        let mut data = Vec::new();
        let result = if kind == Kind::Gzip {
            GzDecoder::new(&mut *reader)
                .take(cap + 1)
                .read_to_end(&mut data)
        } else {
            ZlibDecoder::new(&mut *reader)
                .take(cap + 1)
                .read_to_end(&mut data)
        };
        let label = if kind == Kind::Gzip { "gzip" } else { "zlib" };
        if let Err(error) = result {
            self.note(
                member,
                0,
                rule::MALFORMED,
                ArtifactSeverity::Medium,
                format!("the {label} stream is corrupt ({error}); what decompressed is scanned"),
            );
        }
        self.nested_bytes(data, member, depth)
    }

    /// Decompressed or extracted bytes, scanned as a stream of their own.
    fn nested_bytes(
        &mut self,
        mut data: Vec<u8>,
        member: Member<'_>,
        depth: u32,
    ) -> io::Result<()> {
        if depth >= self.limits.max_archive_depth {
            self.note(
                member,
                0,
                rule::LIMIT,
                ArtifactSeverity::Medium,
                format!(
                    "archives nest more than {} levels deep; the inner ones were not scanned",
                    self.limits.max_archive_depth
                ),
            );
            return Ok(());
        }
        let cap = self.limits.max_member_bytes;
        if data.len() as u64 > cap {
            data.truncate(cap as usize);
            self.note(
                member,
                cap,
                rule::LIMIT,
                ArtifactSeverity::Medium,
                format!("the content expands past the {cap}-byte cap (a decompression bomb or a huge member); the rest was not scanned"),
            );
        }
        self.any(&mut Cursor::new(data), member, depth + 1)
    }

    // ---- zip ----

    fn zip(
        &mut self,
        reader: &mut dyn ReadSeek,
        len: u64,
        member: Member<'_>,
        depth: u32,
    ) -> io::Result<()> {
        let entries = zip_entries(reader, len, self.limits.max_members)?;
        let torchscript = entries.iter().any(|e| {
            e.name.ends_with("constants.pkl")
                || e.name.contains("/code/")
                || e.name.starts_with("code/")
        });
        let ctx = Context { torchscript };
        for entry in &entries {
            if entry.is_dir() {
                continue;
            }
            let inner = join(member, &entry.name);
            if let Err(error) = self.zip_member(reader, len, entry, &inner, depth, ctx) {
                self.note(
                    Some(&inner),
                    0,
                    rule::LIMIT,
                    ArtifactSeverity::Medium,
                    format!("the member could not be read ({error}); it was not scanned"),
                );
            }
        }
        Ok(())
    }

    fn zip_member(
        &mut self,
        reader: &mut dyn ReadSeek,
        len: u64,
        entry: &ZipEntry,
        inner: &str,
        depth: u32,
        ctx: Context,
    ) -> io::Result<()> {
        let name = entry.name.as_str();
        let file_name = name.rsplit('/').next().unwrap_or(name);
        // PyTorch reads `<archive>/data/<n>` as raw storage bytes, never as a pickle.
        let storage = name
            .rsplit_once("/data/")
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let source = ctx.torchscript
            && name.ends_with(".py")
            && (name.contains("/code/") || name.starts_with("code/"));
        let pickle_name = [
            ".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".npy", ".dill",
        ]
        .iter()
        .any(|ext| file_name.ends_with(ext));
        if storage && !pickle_name {
            return Ok(());
        }
        let Some(data_offset) = entry.data_offset else {
            return Ok(());
        };
        match entry.method {
            0 => {
                let end = data_offset.saturating_add(entry.compressed).min(len);
                let head = read_at(
                    reader,
                    data_offset,
                    SNIFF.min((end - data_offset.min(end)) as usize),
                )?;
                let kind = sniff(&head);
                if source {
                    let size = (end - data_offset.min(end)).min(MAX_SOURCE_BYTES);
                    if self.charge(Some(inner), size) {
                        let text = read_at(reader, data_offset, size as usize)?;
                        self.torchscript_source(&text, inner);
                    }
                    return Ok(());
                }
                match kind {
                    Kind::Pickle
                        if head.get(1).is_some_and(|v| (2..=5).contains(v)) || pickle_name =>
                    {
                        let max = head.starts_with(LEGACY_MAGIC).then_some(5);
                        let mut window = Window::new(reader, data_offset, end)?;
                        let size = window.len;
                        self.pickles(&mut window, 0, size, max, Some(inner), ctx)?;
                    }
                    Kind::Npy => {
                        let mut window = Window::new(reader, data_offset, end)?;
                        let size = window.len;
                        self.npy(&mut window, size, Some(inner), ctx)?;
                    }
                    Kind::Zip | Kind::Tar | Kind::Gzip | Kind::Zlib => {
                        let size =
                            (end - data_offset.min(end)).min(self.limits.max_member_bytes + 1);
                        if self.charge(Some(inner), size) {
                            let data = read_at(reader, data_offset, size as usize)?;
                            self.nested_bytes(data, Some(inner), depth)?;
                        }
                    }
                    _ => {}
                }
            }
            8 => {
                // Deflated: sniff the start, then inflate what is worth reading.
                reader.seek(SeekFrom::Start(data_offset))?;
                let mut head = Vec::new();
                let _ = DeflateDecoder::new((&mut *reader).take(entry.compressed))
                    .take(SNIFF as u64)
                    .read_to_end(&mut head);
                let kind = sniff(&head);
                let wanted = source
                    || pickle_name
                    || matches!(
                        kind,
                        Kind::Npy | Kind::Zip | Kind::Tar | Kind::Gzip | Kind::Zlib
                    )
                    || (kind == Kind::Pickle && head.get(1).is_some_and(|v| (2..=5).contains(v)));
                if !wanted {
                    return Ok(());
                }
                let cap = self.limits.max_member_bytes;
                reader.seek(SeekFrom::Start(data_offset))?;
                let mut data = Vec::new();
                let inflated = DeflateDecoder::new((&mut *reader).take(entry.compressed))
                    .take(cap + 1)
                    .read_to_end(&mut data);
                if !self.charge(Some(inner), data.len() as u64) {
                    return Ok(());
                }
                if let Err(error) = inflated {
                    self.note(
                        Some(inner),
                        0,
                        rule::MALFORMED,
                        ArtifactSeverity::Medium,
                        format!("the member's deflate stream is corrupt ({error}); what inflated is scanned"),
                    );
                }
                if source {
                    data.truncate(MAX_SOURCE_BYTES as usize);
                    self.torchscript_source(&data, inner);
                    return Ok(());
                }
                if data.len() as u64 > cap {
                    data.truncate(cap as usize);
                    self.note(
                        Some(inner),
                        cap,
                        rule::LIMIT,
                        ArtifactSeverity::Medium,
                        format!(
                            "the member inflates past the {cap}-byte cap; the rest was not scanned"
                        ),
                    );
                }
                if depth >= self.limits.max_archive_depth && matches!(kind, Kind::Zip | Kind::Tar) {
                    return self.nested_bytes(data, Some(inner), depth);
                }
                let mut cursor = Cursor::new(data);
                match kind {
                    Kind::Npy => {
                        let size = cursor.get_ref().len() as u64;
                        self.npy(&mut cursor, size, Some(inner), ctx)?;
                    }
                    Kind::Zip | Kind::Tar | Kind::Gzip | Kind::Zlib => {
                        self.nested_bytes(cursor.into_inner(), Some(inner), depth)?;
                    }
                    _ => {
                        let size = cursor.get_ref().len() as u64;
                        let max = cursor.get_ref().starts_with(LEGACY_MAGIC).then_some(5);
                        self.pickles(&mut cursor, 0, size, max, Some(inner), ctx)?;
                    }
                }
            }
            method => {
                if pickle_name || source {
                    self.note(
                        Some(inner),
                        0,
                        rule::LIMIT,
                        ArtifactSeverity::Medium,
                        format!("the member is compressed with zip method {method}, which the scanner does not read; Python's zipfile may"),
                    );
                }
            }
        }
        Ok(())
    }

    // ---- npy ----

    /// `.npy`: a header dict; an object array (`'|O'` anywhere in its `descr`) is followed
    /// by a pickle, which `numpy.load(allow_pickle=True)` unpickles.
    fn npy(
        &mut self,
        reader: &mut dyn ReadSeek,
        len: u64,
        member: Member<'_>,
        ctx: Context,
    ) -> io::Result<()> {
        let head = read_at(reader, 0, 12)?;
        if head.len() < 10 {
            return Ok(());
        }
        let (header_len, start) = match head[6] {
            1 => (u64::from(u16::from_le_bytes([head[8], head[9]])), 10),
            2 | 3 if head.len() >= 12 => (
                u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]])),
                12,
            ),
            _ => return Ok(()),
        };
        let header = read_at(reader, start, header_len.min(1 << 20) as usize)?;
        let header = String::from_utf8_lossy(&header);
        let object = ["'|O'", "'O'", "'<O'", "'>O'", "'=O'", "\"|O\""]
            .iter()
            .any(|d| header.contains(d));
        if object {
            self.pickles(reader, start + header_len, len, Some(1), member, ctx)?;
        }
        Ok(())
    }

    // ---- tar ----

    fn tar(
        &mut self,
        reader: &mut dyn ReadSeek,
        len: u64,
        member: Member<'_>,
        depth: u32,
    ) -> io::Result<()> {
        let mut pos = 0u64;
        let mut long_name: Option<String> = None;
        let mut count = 0usize;
        while pos + 512 <= len && count < self.limits.max_members {
            count += 1;
            let header = read_at(reader, pos, 512)?;
            if header.len() < 512 || header.iter().all(|&b| b == 0) {
                break;
            }
            let size = tar_size(&header[124..136]).unwrap_or(0);
            let data = pos + 512;
            let next = data.saturating_add(size.div_ceil(512) * 512);
            let typeflag = header[156];
            let field = |range: std::ops::Range<usize>| {
                let raw = &header[range];
                let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                String::from_utf8_lossy(&raw[..end]).into_owned()
            };
            let mut name = field(0..100);
            let prefix = field(345..500);
            if header.get(257..262) == Some(b"ustar") && !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
            if let Some(long) = long_name.take() {
                name = long;
            }
            match typeflag {
                b'L' | b'x' => {
                    let body = read_at(reader, data, size.min(64 * 1024) as usize)?;
                    let text = String::from_utf8_lossy(&body);
                    long_name = if typeflag == b'L' {
                        Some(text.trim_end_matches('\0').to_owned())
                    } else {
                        text.lines()
                            .find_map(|l| l.split_once(" path=").map(|(_, p)| p.to_owned()))
                    };
                }
                b'0' | 0 | b'7' => {
                    let inner = join(member, name.trim_start_matches("./"));
                    let end = data.saturating_add(size).min(len);
                    if let Err(error) = self.tar_member(reader, data, end, &inner, depth) {
                        self.note(
                            Some(&inner),
                            0,
                            rule::LIMIT,
                            ArtifactSeverity::Medium,
                            format!("the member could not be read ({error}); it was not scanned"),
                        );
                    }
                }
                _ => {}
            }
            pos = next;
        }
        Ok(())
    }

    fn tar_member(
        &mut self,
        reader: &mut dyn ReadSeek,
        start: u64,
        end: u64,
        inner: &str,
        depth: u32,
    ) -> io::Result<()> {
        let base = inner.rsplit("!/").next().unwrap_or(inner);
        let base = base.rsplit('/').next().unwrap_or(base);
        let mut window = Window::new(reader, start, end)?;
        let size = window.len;
        match base {
            "storages" => return self.legacy_records(&mut window, size, inner, Legacy::Storages),
            "tensors" => return self.legacy_records(&mut window, size, inner, Legacy::Tensors),
            _ => {}
        }
        let head = read_at(&mut window, 0, SNIFF)?;
        match sniff(&head) {
            Kind::Other => Ok(()),
            Kind::Pickle => {
                let size = window.len;
                let max = head.starts_with(LEGACY_MAGIC).then_some(5);
                self.pickles(&mut window, 0, size, max, Some(inner), Context::default())?;
                Ok(())
            }
            Kind::Npy => {
                let size = window.len;
                self.npy(&mut window, size, Some(inner), Context::default())
            }
            _ => {
                let size = window.len.min(self.limits.max_member_bytes + 1);
                if self.charge(Some(inner), size) {
                    let data = read_at(&mut window, 0, size as usize)?;
                    self.nested_bytes(data, Some(inner), depth)?;
                }
                Ok(())
            }
        }
    }

    /// The legacy tar's `storages` and `tensors` members: a count pickle, then records of
    /// one pickle followed by raw data whose size the record declares.
    fn legacy_records(
        &mut self,
        reader: &mut dyn ReadSeek,
        end: u64,
        inner: &str,
        kind: Legacy,
    ) -> io::Result<()> {
        let start = 0;
        let member = Some(inner);
        let Some(run) = self.pickles(reader, start, end, Some(1), member, Context::default())?
        else {
            return Ok(());
        };
        let count = run.root.int.unwrap_or(0).max(0) as u64;
        let mut pos = start + run.end as u64;
        let mut done = 0u64;
        while done < count && pos < end && done < self.limits.max_members as u64 {
            done += 1;
            let Some(run) = self.pickles(reader, pos, end, Some(1), member, Context::default())?
            else {
                return Ok(());
            };
            if run.cut {
                return Ok(());
            }
            pos += run.end as u64;
            let skip = match kind {
                Legacy::Storages => {
                    let element = run
                        .root
                        .globals
                        .iter()
                        .find_map(|g| storage_element_size(g));
                    let numel = read_at(reader, pos, 8)?;
                    match (element, <[u8; 8]>::try_from(numel.as_slice())) {
                        (Some(element), Ok(numel)) => u64::from_le_bytes(numel)
                            .checked_mul(element)
                            .and_then(|n| n.checked_add(8)),
                        _ => None,
                    }
                }
                Legacy::Tensors => {
                    let ndim = read_at(reader, pos, 4)?;
                    <[u8; 4]>::try_from(ndim.as_slice())
                        .ok()
                        .map(|n| u64::from(u32::from_le_bytes(n)))
                        .and_then(|ndim| ndim.checked_mul(16))
                        .map(|n| n + 8 + 8)
                }
            };
            match skip.and_then(|s| pos.checked_add(s)) {
                Some(next) if next <= end => pos = next,
                _ => {
                    self.note(
                        member,
                        pos - start,
                        rule::MALFORMED,
                        ArtifactSeverity::Medium,
                        "a legacy storage or tensor record declares data the member does not hold; the rest was not scanned".to_owned(),
                    );
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    // ---- TorchScript ----

    /// TorchScript source (`code/**/*.py`) is compiled by `torch.jit.load`. Any mention of a
    /// dangerous module or builtin there is reported.
    fn torchscript_source(&mut self, text: &[u8], inner: &str) {
        let text = String::from_utf8_lossy(text);
        let mut seen = std::collections::BTreeSet::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if !(c.is_ascii_alphabetic() || c == b'_')
                || (i > 0
                    && (bytes[i - 1].is_ascii_alphanumeric()
                        || bytes[i - 1] == b'_'
                        || bytes[i - 1] == b'.'))
            {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            let token = text[start..i].trim_end_matches('.');
            let call = bytes.get(i) == Some(&b'(');
            let imported = text[..start].trim_end().ends_with("import")
                || text[..start].trim_end().ends_with("from");
            let (module, name) = match token.split_once('.') {
                Some((module, name)) => (module, name),
                None if call
                    && matches!(token, "eval" | "exec" | "compile" | "__import__" | "open") =>
                {
                    ("builtins", token)
                }
                None if imported => (token, "*"),
                None => continue,
            };
            if let Class::Denied {
                rule: found,
                severity,
                why,
            } = policy::classify(module, name, true)
                && severity >= ArtifactSeverity::High
                && found != rule::UNKNOWN_IMPORT
                && seen.insert(token.to_owned())
            {
                self.findings.push(ArtifactFinding {
                    path: self.path.clone(),
                    member: Some(inner.to_owned()),
                    offset: Some(start as u64),
                    id: rule::TORCHSCRIPT.to_owned(),
                    severity,
                    callable: Some(if module == "builtins" {
                        format!("builtins.{name}")
                    } else {
                        token.to_owned()
                    }),
                    message: format!("the TorchScript code uses {token}, which {why}"),
                    remedy: REMEDY_LOAD.to_owned(),
                });
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Legacy {
    Storages,
    Tensors,
}

/// Bytes per element of a legacy `torch.<Type>Storage`.
fn storage_element_size(path: &str) -> Option<u64> {
    let name = path.rsplit('.').next()?.strip_suffix("Storage")?;
    Some(match name {
        "Double" | "Long" | "ComplexFloat" => 8,
        "Float" | "Int" | "QInt32" => 4,
        "Half" | "BFloat16" | "Short" => 2,
        "Char" | "Byte" | "Bool" | "QInt8" | "QUInt8" | "QUInt4x2" | "QUInt2x4" => 1,
        "ComplexDouble" => 16,
        _ => return None,
    })
}

/// A tar size field: octal text, or base-256 when the high bit is set.
fn tar_size(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..].iter().try_fold(0u64, |acc, &b| {
            acc.checked_mul(256).map(|v| v + u64::from(b))
        });
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A slice of a stream, itself seekable from 0.
struct Window<'r> {
    inner: &'r mut dyn ReadSeek,
    start: u64,
    len: u64,
    pos: u64,
}

impl<'r> Window<'r> {
    fn new(inner: &'r mut dyn ReadSeek, start: u64, end: u64) -> io::Result<Self> {
        Ok(Self {
            inner,
            start,
            len: end.saturating_sub(start),
            pos: 0,
        })
    }
}

impl Read for Window<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        self.inner.seek(SeekFrom::Start(self.start + self.pos))?;
        let n = buf.len().min(left.min(usize::MAX as u64) as usize);
        let read = self.inner.read(&mut buf[..n])?;
        self.pos += read as u64;
        Ok(read)
    }
}

impl Seek for Window<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

// ---- zip index ----

#[derive(Debug, Clone)]
struct ZipEntry {
    name: String,
    method: u16,
    compressed: u64,
    local_offset: u64,
    /// Where the member's data starts (after its local header), when the header was read.
    data_offset: Option<u64>,
}

impl ZipEntry {
    fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

fn le16(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 2)
        .map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4).map_or(0, |s| {
        u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    })
}

fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// The zip64 extended-information extra field: the values whose 32-bit field is saturated,
/// in order.
fn zip64_extra(extra: &[u8], wanted: &mut [&mut u64]) {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = le16(extra, i);
        let size = le16(extra, i + 2) as usize;
        let body = extra
            .get(i + 4..(i + 4 + size).min(extra.len()))
            .unwrap_or(&[]);
        if id == 1 {
            let mut at = 0;
            for value in wanted.iter_mut() {
                if **value == 0xffff_ffff && at + 8 <= body.len() {
                    **value = le64(body, at);
                    at += 8;
                }
            }
            return;
        }
        i += 4 + size;
    }
}

/// The members of a zip: its central directory's entries and those found by walking the
/// local headers from the start, merged by local-header offset.
fn zip_entries(reader: &mut dyn ReadSeek, len: u64, max: usize) -> io::Result<Vec<ZipEntry>> {
    let mut entries: Vec<ZipEntry> = Vec::new();
    let central = central_directory(reader, len, max).unwrap_or_default();
    // Walk the local headers.
    let mut pos = 0u64;
    let mut walked = 0;
    while pos + 30 <= len && walked < max {
        let header = read_at(reader, pos, 30)?;
        if !header.starts_with(b"PK\x03\x04") {
            // Out of step: look for the next local header (bounded).
            match find_signature(reader, pos + 1, len, b"PK\x03\x04", 64 << 20)? {
                Some(next) => {
                    pos = next;
                    continue;
                }
                None => break,
            }
        }
        walked += 1;
        let flags = le16(&header, 6);
        let method = le16(&header, 8) as u16;
        let mut compressed = le32(&header, 18);
        let mut uncompressed = le32(&header, 22);
        let name_len = le16(&header, 26);
        let extra_len = le16(&header, 28);
        let rest = read_at(reader, pos + 30, (name_len + extra_len) as usize)?;
        let name =
            String::from_utf8_lossy(rest.get(..name_len as usize).unwrap_or(&rest)).into_owned();
        zip64_extra(
            rest.get(name_len as usize..).unwrap_or(&[]),
            &mut [&mut uncompressed, &mut compressed],
        );
        let data_offset = pos + 30 + name_len + extra_len;
        if let Some(listed) = central.iter().find(|e| e.local_offset == pos)
            && (flags & 8 != 0 || compressed == 0)
        {
            compressed = listed.compressed;
        } else if flags & 8 != 0 && compressed == 0 {
            // Sizes follow the data: find where the next record starts.
            let next = find_signature(reader, data_offset, len, b"PK", 64 << 20)?;
            compressed = next.map_or(len - data_offset.min(len), |n| n - data_offset);
            // The data descriptor is skipped by the resynchronization above.
        }
        entries.push(ZipEntry {
            name,
            method,
            compressed,
            local_offset: pos,
            data_offset: Some(data_offset),
        });
        pos = data_offset.saturating_add(compressed);
    }
    for mut entry in central {
        if entries.iter().any(|e| e.local_offset == entry.local_offset) {
            continue;
        }
        let header = read_at(reader, entry.local_offset, 30)?;
        if header.starts_with(b"PK\x03\x04") {
            entry.data_offset =
                Some(entry.local_offset + 30 + le16(&header, 26) + le16(&header, 28));
        }
        entries.push(entry);
        if entries.len() >= max {
            break;
        }
    }
    Ok(entries)
}

fn central_directory(reader: &mut dyn ReadSeek, len: u64, max: usize) -> io::Result<Vec<ZipEntry>> {
    let tail_len = len.min(65_557 + 20);
    let tail = read_at(reader, len - tail_len, tail_len as usize)?;
    let Some(eocd) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return Ok(Vec::new());
    };
    let mut count = le16(&tail, eocd + 10);
    let mut size = le32(&tail, eocd + 12);
    let mut offset = le32(&tail, eocd + 16);
    if eocd >= 20 && tail[eocd - 20..].starts_with(b"PK\x06\x07") {
        let eocd64_at = le64(&tail, eocd - 20 + 8);
        let eocd64 = read_at(reader, eocd64_at, 56)?;
        if eocd64.starts_with(b"PK\x06\x06") {
            count = le64(&eocd64, 32);
            size = le64(&eocd64, 40);
            offset = le64(&eocd64, 48);
        }
    }
    let size = size.min(len.saturating_sub(offset)).min(256 << 20);
    let directory = read_at(reader, offset, size as usize)?;
    let mut entries = Vec::new();
    let mut i = 0;
    while i + 46 <= directory.len() && (entries.len() as u64) < count.min(max as u64) {
        if &directory[i..i + 4] != b"PK\x01\x02" {
            break;
        }
        let method = le16(&directory, i + 10) as u16;
        let mut compressed = le32(&directory, i + 20);
        let mut uncompressed = le32(&directory, i + 24);
        let name_len = le16(&directory, i + 28) as usize;
        let extra_len = le16(&directory, i + 30) as usize;
        let comment_len = le16(&directory, i + 32) as usize;
        let mut local_offset = le32(&directory, i + 42);
        let name_end = (i + 46 + name_len).min(directory.len());
        let name = String::from_utf8_lossy(&directory[i + 46..name_end]).into_owned();
        let extra = directory
            .get(name_end..(name_end + extra_len).min(directory.len()))
            .unwrap_or(&[]);
        zip64_extra(
            extra,
            &mut [&mut uncompressed, &mut compressed, &mut local_offset],
        );
        entries.push(ZipEntry {
            name,
            method,
            compressed,
            local_offset,
            data_offset: None,
        });
        i += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// The offset of the next `signature` at or after `from`, reading at most `limit` bytes.
fn find_signature(
    reader: &mut dyn ReadSeek,
    from: u64,
    len: u64,
    signature: &[u8],
    limit: u64,
) -> io::Result<Option<u64>> {
    const CHUNK: usize = 64 * 1024;
    let mut pos = from;
    let stop = len.min(from.saturating_add(limit));
    while pos < stop {
        let chunk = read_at(
            reader,
            pos,
            CHUNK.min((stop - pos) as usize + signature.len() - 1),
        )?;
        if let Some(found) = chunk.windows(signature.len()).position(|w| w == signature) {
            return Ok(Some(pos + found as u64));
        }
        if chunk.len() < signature.len() {
            break;
        }
        pos += (chunk.len() - (signature.len() - 1)) as u64;
    }
    Ok(None)
}
