//! Read access to the files of a target.

use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

/// A file opened for random access (a zip archive's central directory is at its end).
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// Files larger than this are not read into memory by catalogers (a lockfile or metadata file
/// is never this big; a file that is is hostile or misnamed).
pub const MAX_READ_BYTES: u64 = 256 * 1024 * 1024;

/// Read access to a target's files by target-relative, `/`-separated path.
///
/// A directory target reads from disk; image targets (later) read from their layers.
pub trait Resolver: Send + Sync {
    /// Reads a whole file. Fails for files over [`MAX_READ_BYTES`].
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;

    /// Reads a whole file as UTF-8 (a leading byte-order mark is dropped).
    fn read_to_string(&self, path: &str) -> io::Result<String> {
        let bytes = self.read(path)?;
        let text =
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(match text.strip_prefix('\u{feff}') {
            Some(stripped) => stripped.to_owned(),
            None => text,
        })
    }

    /// Opens a file for random access, whatever its size: archives (wheels of PyTorch are
    /// close to a gigabyte) are read through their index, never whole.
    ///
    /// The default reads the whole file; resolvers over real storage override it.
    fn open(&self, path: &str) -> io::Result<Box<dyn ReadSeek>> {
        Ok(Box::new(io::Cursor::new(self.read(path)?)))
    }

    /// Names of the entries in a directory, sorted.
    fn read_dir(&self, path: &str) -> io::Result<Vec<String>>;

    /// Whether a regular file exists at `path`.
    fn is_file(&self, path: &str) -> bool;

    /// The image layer (its diff id, `sha256:...`) that put the file at `path` in place, for
    /// targets built from layers. The walk records it in every location a cataloger reports.
    fn layer_of(&self, path: &str) -> Option<&str> {
        let _ = path;
        None
    }
}

/// A [`Resolver`] over a directory on disk.
#[derive(Debug, Clone)]
pub struct DirResolver {
    root: PathBuf,
}

impl DirResolver {
    /// Reads below `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory read from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.root.clone()
        } else {
            self.root.join(path)
        }
    }
}

impl Resolver for DirResolver {
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let full = self.full(path);
        let len = fs_err::metadata(&full)?.len();
        if len > MAX_READ_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file is {len} bytes, more than the {MAX_READ_BYTES}-byte limit"),
            ));
        }
        fs_err::read(full)
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn ReadSeek>> {
        let file = fs_err::File::open(self.full(path))?;
        Ok(Box::new(io::BufReader::new(file)))
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<String>> {
        let mut names = fs_err::read_dir(self.full(path))?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    fn is_file(&self, path: &str) -> bool {
        self.full(path).is_file()
    }
}

/// Opens `path` if it starts like an executable (ELF, Mach-O of either byte order and width,
/// or PE); `Ok(None)` for anything else, which binary catalogers skip without a word.
pub fn open_executable(
    resolver: &dyn Resolver,
    path: &str,
) -> io::Result<Option<Box<dyn ReadSeek>>> {
    let mut reader = resolver.open(path)?;
    let mut magic = [0u8; 4];
    if reader.read_exact(&mut magic).is_err() {
        return Ok(None);
    }
    let executable = matches!(
        magic,
        [0x7f, b'E', b'L', b'F']
            | [0xfe, 0xed, 0xfa, 0xce | 0xcf]
            | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
            | [b'M', b'Z', _, _]
    );
    Ok(executable.then_some(reader))
}
