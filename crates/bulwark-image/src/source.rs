//! Where an image's blobs come from: an OCI layout directory, or a tar archive (`docker save`
//! output, classic or Docker >= 25, or an OCI layout packed as tar).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bulwark_catalog::ReadSeek;

use crate::ImageError;
use crate::layer::{CountingReader, Limits, check_expansion};

/// How the image is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// `docker save` output: `manifest.json` naming the config and the layers.
    DockerArchive,
    /// An OCI image layout (`oci-layout`, `index.json`, `blobs/`), as a directory or a tar.
    OciLayout,
}

/// Random access to the files of an image archive or layout directory.
pub(crate) enum Source {
    /// An OCI layout directory.
    Dir(PathBuf),
    /// A tar archive; members are read in place through their offsets.
    Tar {
        /// The archive (or its decompressed copy).
        file: Arc<File>,
        /// Member path -> (data offset, size), symbolic links already followed.
        members: HashMap<String, (u64, u64)>,
    },
}

/// Longest chain of symbolic links followed inside an archive.
const MAX_LINK_HOPS: usize = 16;

impl Source {
    /// Opens `path`, a directory or a (possibly gzip- or zstd-compressed) tar archive.
    pub(crate) fn open(path: &Path, limits: Limits) -> Result<Self, ImageError> {
        let unreadable = |source| ImageError::Io {
            path: path.to_owned(),
            source,
        };
        if fs_err::metadata(path).map_err(unreadable)?.is_dir() {
            return Ok(Self::Dir(path.to_owned()));
        }
        let mut file = fs_err::File::open(path).map_err(unreadable)?.into_parts().0;
        let compression = Compression::sniff(&mut BufReader::new(&mut file)).map_err(unreadable)?;
        file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        if compression != Compression::None {
            // A compressed archive cannot be read in place: decompress it once into an
            // unlinked temporary file (never into the tree, never under a member's name).
            let mut copy = tempfile::tempfile().map_err(unreadable)?;
            let counted = CountingReader::new(file);
            let compressed = Arc::clone(&counted.count);
            let mut decoder = compression.decoder(BufReader::new(counted));
            let mut buffer = vec![0; 256 * 1024];
            let mut written = 0u64;
            loop {
                let read = decoder.read(&mut buffer).map_err(unreadable)?;
                if read == 0 {
                    break;
                }
                written += read as u64;
                check_expansion(written, compressed.load(Ordering::Relaxed), limits).map_err(
                    |error| ImageError::Archive {
                        path: path.display().to_string(),
                        message: error.to_string(),
                    },
                )?;
                copy.write_all(&buffer[..read]).map_err(unreadable)?;
            }
            copy.seek(SeekFrom::Start(0)).map_err(unreadable)?;
            file = copy;
        }
        let members = index_tar(&file).map_err(|source| ImageError::Archive {
            path: path.display().to_string(),
            message: source.to_string(),
        })?;
        Ok(Self::Tar {
            file: Arc::new(file),
            members,
        })
    }

    /// Whether the archive or directory holds `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        match self {
            Self::Dir(root) => root.join(name).is_file(),
            Self::Tar { members, .. } => members.contains_key(name),
        }
    }

    /// The file that holds member `name`, where its bytes start in it and how many there are.
    /// Layers are read through it, and large files of uncompressed layers are later read in
    /// place from it.
    pub(crate) fn locate_member(&self, name: &str) -> io::Result<(Arc<File>, u64, u64)> {
        match self {
            Self::Dir(root) => {
                let file = fs_err::File::open(root.join(name))?;
                let len = file.metadata()?.len();
                Ok((Arc::new(file.into()), 0, len))
            }
            Self::Tar { file, members } => {
                let &(offset, size) = members.get(name).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("no member `{name}`"))
                })?;
                Ok((Arc::clone(file), offset, size))
            }
        }
    }

    /// Opens member `name` for reading.
    pub(crate) fn open_member(&self, name: &str) -> io::Result<Box<dyn ReadSeek>> {
        let (file, offset, len) = self.locate_member(name)?;
        Ok(Box::new(MemberReader::new(file, offset, len)))
    }

    /// Reads a small member (a manifest or config) whole.
    pub(crate) fn read_member(&self, name: &str) -> io::Result<Vec<u8>> {
        /// Manifests and configs are kilobytes; a larger one is not what it claims to be.
        const MAX_METADATA_BYTES: u64 = 64 * 1024 * 1024;
        let mut bytes = Vec::new();
        self.open_member(name)?
            .take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_METADATA_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{name}` is larger than {MAX_METADATA_BYTES} bytes"),
            ));
        }
        Ok(bytes)
    }
}

/// Reads one member of a tar archive through positional reads, so several layers can be read
/// at once from one open file.
pub(crate) struct MemberReader {
    file: Arc<File>,
    start: u64,
    position: u64,
    end: u64,
}

impl MemberReader {
    /// Reads `len` bytes of `file` from `start` on.
    pub(crate) fn new(file: Arc<File>, start: u64, len: u64) -> Self {
        Self {
            file,
            start,
            position: start,
            end: start + len,
        }
    }
}

impl Seek for MemberReader {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let target = match position {
            SeekFrom::Start(offset) => self.start.checked_add(offset),
            SeekFrom::End(delta) => self.end.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        match target {
            Some(target) if target >= self.start => {
                self.position = target;
                Ok(target - self.start)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the member",
            )),
        }
    }
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.position);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let read = read_at(&self.file, &mut buf[..want], self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Lists the members of a tar archive without reading their data, following symbolic links
/// between members (Docker >= 25 links `<id>/layer.tar` to `blobs/sha256/<hex>`).
fn index_tar(file: &File) -> io::Result<HashMap<String, (u64, u64)>> {
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    let mut links = Vec::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        let Some(name) = normalize_member(&String::from_utf8_lossy(&entry.path_bytes())) else {
            continue;
        };
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                if let Some(target) = entry.link_name_bytes() {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let is_symlink = entry.header().entry_type() == tar::EntryType::Symlink;
                    links.push((name, target, is_symlink));
                }
            }
            _ => {}
        }
    }
    let mut links: Vec<(String, Option<String>)> = links
        .into_iter()
        .map(|(name, target, is_symlink)| {
            let resolved = resolve_link(&name, &target, is_symlink);
            (name, resolved)
        })
        .collect();
    // A link may point at another link: resolve in rounds.
    for _ in 0..MAX_LINK_HOPS {
        let before = links.len();
        links.retain(|(name, target)| {
            match target.as_deref().and_then(|t| members.get(t)).copied() {
                Some(found) => {
                    members.insert(name.clone(), found);
                    false
                }
                None => true,
            }
        });
        if links.len() == before {
            break;
        }
    }
    Ok(members)
}

/// The member a link points at: a symlink target is relative to the link's directory, a hard
/// link target to the archive root.
fn resolve_link(name: &str, target: &str, is_symlink: bool) -> Option<String> {
    if is_symlink && !target.starts_with('/') {
        let dir = name.rsplit_once('/').map_or("", |(dir, _)| dir);
        normalize_member(&format!("{dir}/{target}"))
    } else {
        normalize_member(target)
    }
}

/// A member path without `./`, leading `/` or `..` segments; `None` if it climbs out.
pub(crate) fn normalize_member(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The compression of a layer or archive, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Looks at the first bytes without consuming them.
    pub(crate) fn sniff(reader: &mut impl BufRead) -> io::Result<Self> {
        let head = reader.fill_buf()?;
        Ok(if head.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Self::Zstd
        } else {
            Self::None
        })
    }

    /// Wraps `reader` in the matching decoder.
    pub(crate) fn decoder<'a>(self, reader: impl BufRead + Send + 'a) -> Box<dyn Read + Send + 'a> {
        match self {
            Self::None => Box::new(reader),
            Self::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
            Self::Zstd => match zstd::stream::read::Decoder::with_buffer(reader) {
                Ok(decoder) => Box::new(decoder),
                Err(error) => Box::new(FailingReader(Some(error))),
            },
        }
    }
}

/// A reader that reports one error: a decoder that could not even start.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("decoder failed")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_never_climb_out() {
        assert_eq!(
            normalize_member("./blobs/sha256/ab").as_deref(),
            Some("blobs/sha256/ab")
        );
        assert_eq!(
            normalize_member("/manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(normalize_member("a/../b").as_deref(), Some("b"));
        assert_eq!(normalize_member("../etc/passwd"), None);
        assert_eq!(normalize_member("./"), None);
    }

    #[test]
    fn links_resolve_relative_to_their_directory() {
        assert_eq!(
            resolve_link("abc/layer.tar", "../blobs/sha256/ff", true).as_deref(),
            Some("blobs/sha256/ff")
        );
        assert_eq!(
            resolve_link("abc/layer.tar", "blobs/sha256/ff", false).as_deref(),
            Some("blobs/sha256/ff")
        );
    }
}
