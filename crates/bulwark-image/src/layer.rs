//! Reading one layer: a (compressed) tar stream turned into the changes it makes, keeping the
//! contents of only the files some cataloger reads.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::Arc;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use bulwark_catalog::ReadSeek;

use crate::fs::{Content, Spill};
use crate::source::Compression;

/// Files up to this size are kept in memory; larger kept files (binaries a cataloger may
/// read, jars) go to the spill file, where they cost page cache rather than heap.
const IN_MEMORY_BYTES: u64 = 64 * 1024;

/// The read buffer of a layer. Small, because an uncompressed layer is read by seeking from
/// header to header and every seek discards the buffer.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Limits that keep a hostile layer from costing unbounded time or memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Most bytes one layer may decompress to.
    pub(crate) max_layer_bytes: u64,
    /// Once a layer has produced this many bytes, it may not expand more than
    /// `max_expansion` times its compressed size.
    pub(crate) expansion_floor: u64,
    pub(crate) max_expansion: u64,
    /// Most entries (files, directories, links) one layer may hold.
    pub(crate) max_entries: usize,
    /// Largest file whose contents are kept.
    pub(crate) max_kept_file: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_layer_bytes: 256 * 1024 * 1024 * 1024,
            expansion_floor: 1024 * 1024 * 1024,
            max_expansion: 1000,
            max_entries: 4_000_000,
            max_kept_file: bulwark_catalog::MAX_READ_BYTES,
        }
    }
}

/// What one entry of a layer puts in place.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    File {
        content: Option<Content>,
    },
    Dir,
    Symlink(String),
    /// A hard link to an earlier path (of this layer or one below).
    Hardlink(String),
}

/// Everything one layer does, in stream order.
#[derive(Debug, Default)]
pub(crate) struct LayerChanges {
    /// Paths (normalized, relative to the root) and what they become.
    pub(crate) entries: Vec<(String, Change)>,
    /// Paths deleted from the layers below (`.wh.<name>`).
    pub(crate) whiteouts: Vec<String>,
    /// Directories whose lower contents are hidden (`.wh..wh..opq`).
    pub(crate) opaque_dirs: Vec<String>,
    /// The digest of the uncompressed stream: the layer's diff id.
    pub(crate) diff_id: String,
    /// Entries that were skipped or could not be read, as messages.
    pub(crate) problems: Vec<String>,
}

/// Why a layer could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LayerError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("{0}")]
    Limit(String),
}

/// Reads the layer stream `blob` (plain, gzip or zstd tar). `keep` says which paths'
/// contents to keep. On error the changes read so far are returned with the error, so a
/// truncated layer still contributes what it holds.
///
/// `diff_id` is the layer's digest as the image config states it. When it is known the
/// stream is not hashed again (hashing costs more than everything else together on an
/// uncompressed layer), and an uncompressed layer is read by seeking from header to header
/// without reading the data of files nobody keeps.
pub(crate) fn read_layer(
    blob: Box<dyn ReadSeek>,
    origin: Option<(Arc<File>, u64)>,
    diff_id: Option<&str>,
    keep: &(dyn Fn(&str) -> bool + Sync),
    spill: &Mutex<Option<Spill>>,
    limits: Limits,
) -> (LayerChanges, Option<LayerError>) {
    let mut changes = LayerChanges::default();
    let blob = match StrictSeek::new(blob) {
        Ok(blob) => blob,
        Err(error) => return (changes, Some(error.into())),
    };
    let counted = CountingReader::new(blob);
    let compressed_bytes = counted.count.clone();
    let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, counted);
    let compression = match Compression::sniff(&mut buffered) {
        Ok(compression) => compression,
        Err(error) => return (changes, Some(error.into())),
    };
    if let Some(diff_id) = diff_id {
        diff_id.clone_into(&mut changes.diff_id);
        if compression == Compression::None {
            let mut archive = tar::Archive::new(buffered);
            let outcome = archive
                .entries_with_seek()
                .map_err(LayerError::from)
                .and_then(|entries| {
                    let store = Store {
                        spill,
                        origin: origin.as_ref(),
                    };
                    read_entries(entries, keep, &store, limits, &mut changes)
                });
            return (changes, outcome.err());
        }
    }
    let hashing = HashingReader {
        inner: compression.decoder(buffered),
        hasher: diff_id.is_none().then(Sha256::new),
        bytes: 0,
        compressed_bytes,
        limits,
    };
    let mut archive = tar::Archive::new(hashing);
    let outcome = archive
        .entries()
        .map_err(LayerError::from)
        .and_then(|entries| {
            let store = Store {
                spill,
                origin: None,
            };
            read_entries(entries, keep, &store, limits, &mut changes)
        });
    let mut hashing = archive.into_inner();
    if let Some(hasher) = hashing.hasher.take() {
        // The diff id covers the whole stream, including the padding after the last entry.
        let outcome = outcome.and_then(|()| {
            hashing.hasher = Some(hasher);
            io::copy(&mut hashing, &mut io::sink())?;
            Ok(())
        });
        if let Some(hasher) = hashing.hasher.take() {
            changes.diff_id = format!("sha256:{}", hex::encode(hasher.finalize()));
        }
        return (changes, outcome.err());
    }
    (changes, outcome.err())
}

/// Where kept contents go.
struct Store<'a> {
    spill: &'a Mutex<Option<Spill>>,
    /// The file an uncompressed layer lies in and the layer's offset there: large files are
    /// then recorded as a byte range of it instead of being copied.
    origin: Option<&'a (Arc<File>, u64)>,
}

fn read_entries<R: Read>(
    entries: tar::Entries<'_, R>,
    keep: &(dyn Fn(&str) -> bool + Sync),
    store: &Store<'_>,
    limits: Limits,
    changes: &mut LayerChanges,
) -> Result<(), LayerError> {
    let mut count = 0usize;
    for entry in entries {
        let mut entry = entry?;
        count += 1;
        if count > limits.max_entries {
            return Err(LayerError::Limit(format!(
                "the layer has more than {} entries",
                limits.max_entries
            )));
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = normalize(&raw_path) else {
            if !matches!(raw_path.trim_matches('/'), "" | ".") {
                changes.problems.push(format!(
                    "entry `{raw_path}` points outside the root; skipped"
                ));
            }
            continue;
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if let Some(hidden) = name.strip_prefix(".wh.") {
            if hidden == ".wh..opq" {
                changes.opaque_dirs.push(dir.to_owned());
            } else if !hidden.is_empty() && !hidden.starts_with(".wh.") {
                changes.whiteouts.push(join(dir, hidden));
            }
            continue;
        }
        let entry_type = entry.header().entry_type();
        let change = match entry_type {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.size();
                let content = if keep(&path) {
                    if size > limits.max_kept_file {
                        changes.problems.push(format!(
                            "`{path}` is {size} bytes, more than the {}-byte limit; not read",
                            limits.max_kept_file
                        ));
                        None
                    } else {
                        Some(keep_content(&mut entry, size, store)?)
                    }
                } else {
                    None
                };
                Change::File { content }
            }
            tar::EntryType::Directory => Change::Dir,
            tar::EntryType::Symlink => match entry.link_name_bytes() {
                Some(target) => Change::Symlink(String::from_utf8_lossy(&target).into_owned()),
                None => continue,
            },
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned());
                match target.as_deref().and_then(normalize) {
                    Some(target) => Change::Hardlink(target),
                    None => {
                        changes.problems.push(format!(
                            "hard link `{path}` points outside the root; skipped"
                        ));
                        continue;
                    }
                }
            }
            // Devices, FIFOs and extension headers hold nothing a cataloger reads.
            _ => continue,
        };
        changes.entries.push((path, change));
    }
    Ok(())
}

fn keep_content<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    size: u64,
    store: &Store<'_>,
) -> io::Result<Content> {
    if size <= IN_MEMORY_BYTES {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry.take(size).read_to_end(&mut bytes)?;
        return Ok(Content::Memory(bytes.into()));
    }
    if let Some((file, base)) = store.origin {
        return Ok(Content::InFile {
            file: Arc::clone(file),
            offset: base + entry.raw_file_position(),
            len: size,
        });
    }
    // Large kept files (a Go binary, a jar) of compressed layers go to one unlinked temporary
    // file, so memory stays bounded whatever the image holds.
    let mut guard = store
        .spill
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if guard.is_none() {
        *guard = Some(Spill::new()?);
    }
    let Some(spill) = guard.as_mut() else {
        return Err(io::Error::other("spill file unavailable"));
    };
    spill.append(&mut entry.take(size))
}

/// A layer path without leading `/` or `./`, `.` segments resolved; `None` for the root
/// itself and for paths that climb out of it.
pub(crate) fn normalize(path: &str) -> Option<String> {
    crate::source::normalize_member(path)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// A seekable stream that refuses to seek past its end: the tar reader skips file data by
/// seeking, and a layer cut short inside an entry must read as truncated, not as ended.
struct StrictSeek<R> {
    inner: R,
    len: u64,
}

impl<R: Read + io::Seek> StrictSeek<R> {
    fn new(mut inner: R) -> io::Result<Self> {
        let len = inner.seek(io::SeekFrom::End(0))?;
        inner.seek(io::SeekFrom::Start(0))?;
        Ok(Self { inner, len })
    }
}

impl<R: Read> Read for StrictSeek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: io::Seek> io::Seek for StrictSeek<R> {
    fn seek(&mut self, position: io::SeekFrom) -> io::Result<u64> {
        let target = self.inner.seek(position)?;
        if target > self.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the layer ends at byte {} inside an entry: truncated",
                    self.len
                ),
            ));
        }
        Ok(target)
    }
}

/// Counts the compressed bytes read, for the expansion limit.
pub(crate) struct CountingReader<R> {
    inner: R,
    pub(crate) count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R> CountingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            count: std::sync::Arc::default(),
        }
    }
}

impl<R: io::Seek> io::Seek for CountingReader<R> {
    fn seek(&mut self, position: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(position)
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count
            .fetch_add(read as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(read)
    }
}

/// Checks a decompressed byte count against the size and expansion limits.
pub(crate) fn check_expansion(bytes: u64, compressed: u64, limits: Limits) -> io::Result<()> {
    if bytes > limits.max_layer_bytes {
        return Err(io::Error::other(format!(
            "it decompresses to more than {} bytes",
            limits.max_layer_bytes
        )));
    }
    if bytes > limits.expansion_floor && bytes / compressed.max(1) > limits.max_expansion {
        return Err(io::Error::other(format!(
            "it expands more than {}-fold ({bytes} bytes from {compressed}): a decompression bomb",
            limits.max_expansion
        )));
    }
    Ok(())
}

/// Hashes the uncompressed stream and enforces the size and expansion limits on it.
struct HashingReader<R> {
    inner: R,
    /// `None` when the digest is known already.
    hasher: Option<Sha256>,
    bytes: u64,
    compressed_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    limits: Limits,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..read]);
        }
        self.bytes += read as u64;
        check_expansion(
            self.bytes,
            self.compressed_bytes
                .load(std::sync::atomic::Ordering::Relaxed),
            self.limits,
        )?;
        Ok(read)
    }
}
