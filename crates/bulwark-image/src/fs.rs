//! The flattened filesystem of an image: every layer's changes applied in order, whiteouts
//! included, readable through the catalogers' [`Resolver`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use bulwark_catalog::{ReadSeek, Resolver};

use crate::layer::{Change, LayerChanges};

/// Longest chain of symbolic links followed while resolving one path (as Linux's 40).
const MAX_SYMLINK_HOPS: usize = 40;

/// The kept contents of a file.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Small files, in memory.
    Memory(Arc<[u8]>),
    /// Larger files: a byte range of a file on disk, either the spill file or, for an
    /// uncompressed layer, the image archive itself (nothing is copied then).
    InFile {
        file: Arc<File>,
        offset: u64,
        len: u64,
    },
}

/// One unlinked temporary file that holds the large kept files of all layers.
#[derive(Debug)]
pub(crate) struct Spill {
    file: Arc<File>,
    end: u64,
}

impl Spill {
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Self {
            file: Arc::new(tempfile::tempfile()?),
            end: 0,
        })
    }

    /// Appends everything `reader` yields and returns where it lies.
    pub(crate) fn append(&mut self, reader: &mut impl Read) -> io::Result<Content> {
        let mut file: &File = &self.file;
        file.seek(SeekFrom::Start(self.end))?;
        let len = io::copy(reader, &mut file)?;
        file.flush()?;
        let content = Content::InFile {
            file: Arc::clone(&self.file),
            offset: self.end,
            len,
        };
        self.end += len;
        Ok(content)
    }
}

#[derive(Debug, Clone)]
enum NodeKind {
    File { content: Option<Content> },
    Dir,
    Symlink(String),
}

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    /// Index of the layer that put it in place.
    layer: usize,
}

/// The union of an image's layers.
#[derive(Debug, Default)]
pub struct FlatFs {
    nodes: BTreeMap<String, Node>,
    /// Diff id of each layer, bottom first.
    layers: Vec<String>,
}

impl FlatFs {
    /// Applies one layer on top of the ones applied so far.
    pub(crate) fn apply(&mut self, changes: LayerChanges) {
        let layer = self.layers.len();
        self.layers.push(changes.diff_id.clone());
        // Whiteouts and opaque directories hide what the layers below put there, never what
        // this layer itself adds, so they are applied before this layer's entries.
        for dir in &changes.opaque_dirs {
            self.remove_below(dir);
        }
        for path in &changes.whiteouts {
            self.nodes.remove(path);
            self.remove_below(path);
        }
        for (path, change) in changes.entries {
            let kind = match change {
                Change::File { content } => NodeKind::File { content },
                Change::Dir => NodeKind::Dir,
                Change::Symlink(target) => NodeKind::Symlink(target),
                Change::Hardlink(target) => match self.nodes.get(&target) {
                    Some(Node {
                        kind: kind @ NodeKind::File { .. },
                        ..
                    }) => kind.clone(),
                    _ => NodeKind::File { content: None },
                },
            };
            if !matches!(kind, NodeKind::Dir) {
                // A file replacing a directory replaces what was below it, too.
                self.remove_below(&path);
            }
            self.nodes.insert(path, Node { kind, layer });
        }
    }

    /// Removes everything strictly below `dir` (everything, for the root).
    fn remove_below(&mut self, dir: &str) {
        if dir.is_empty() {
            self.nodes.clear();
            return;
        }
        let prefix = format!("{dir}/");
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(path, _)| path.starts_with(&prefix))
            .map(|(path, _)| path.clone())
            .collect();
        for path in doomed {
            self.nodes.remove(&path);
        }
    }

    /// Every regular file, sorted.
    pub fn files(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, node)| matches!(node.kind, NodeKind::File { .. }))
            .map(|(path, _)| path.as_str())
            .collect()
    }

    /// The diff ids of the layers, bottom first.
    pub fn layers(&self) -> &[String] {
        &self.layers
    }

    /// Resolves `path`, following symbolic links as the kernel would inside a chroot at the
    /// image root: absolute targets start at the root and `..` never climbs above it.
    fn resolve(&self, path: &str) -> io::Result<(String, &Node)> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(part);
            let current = resolved.join("/");
            if let Some(Node {
                kind: NodeKind::Symlink(target),
                ..
            }) = self.nodes.get(&current)
            {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("too many levels of symbolic links at `{path}`"),
                    ));
                }
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(
                    target
                        .split('/')
                        .rev()
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        let resolved = resolved.join("/");
        match self.nodes.get(&resolved) {
            Some(node) => Ok((resolved, node)),
            None => Err(not_found(path)),
        }
    }

    fn content(&self, path: &str) -> io::Result<&Content> {
        let (_, node) = self.resolve(path)?;
        match &node.kind {
            NodeKind::File {
                content: Some(content),
            } => Ok(content),
            NodeKind::File { content: None } => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "`{path}` was not kept while the image layers were read (no cataloger \
                     declared that it reads it)"
                ),
            )),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{path}` is not a file"),
            )),
        }
    }
}

fn not_found(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("`{path}` does not exist in the image"),
    )
}

impl Resolver for FlatFs {
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        match self.content(path)? {
            Content::Memory(bytes) => Ok(bytes.to_vec()),
            Content::InFile { file, offset, len } => {
                let mut bytes = vec![0; usize::try_from(*len).unwrap_or(0)];
                let mut filled = 0;
                while filled < bytes.len() {
                    let read =
                        crate::source::read_at(file, &mut bytes[filled..], offset + filled as u64)?;
                    if read == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    filled += read;
                }
                Ok(bytes)
            }
        }
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn ReadSeek>> {
        match self.content(path)? {
            Content::Memory(bytes) => Ok(Box::new(io::Cursor::new(Arc::clone(bytes)))),
            Content::InFile { file, offset, len } => Ok(Box::new(SpillReader {
                file: Arc::clone(file),
                start: *offset,
                len: *len,
                position: 0,
            })),
        }
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<String>> {
        let dir = if path.is_empty() {
            String::new()
        } else {
            let (resolved, node) = self.resolve(path)?;
            if !matches!(node.kind, NodeKind::Dir) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{path}` is not a directory"),
                ));
            }
            resolved
        };
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut names: Vec<String> = Vec::new();
        for (child, _) in self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
        {
            let name = child[prefix.len()..].split('/').next().unwrap_or_default();
            if !name.is_empty() && names.last().is_none_or(|last| last != name) {
                names.push(name.to_owned());
            }
        }
        // `a-b` sorts between `a` and `a/x`, so equal names need not be adjacent yet.
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    fn is_file(&self, path: &str) -> bool {
        self.resolve(path)
            .is_ok_and(|(_, node)| matches!(node.kind, NodeKind::File { .. }))
    }

    fn layer_of(&self, path: &str) -> Option<&str> {
        let node = self.nodes.get(path)?;
        self.layers
            .get(node.layer)
            .map(String::as_str)
            .filter(|id| !id.is_empty())
    }
}

/// Random access to a file kept in the spill file.
struct SpillReader {
    file: Arc<File>,
    start: u64,
    len: u64,
    position: u64,
}

impl Read for SpillReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.position);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let read =
            crate::source::read_at(&self.file, &mut buf[..want], self.start + self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl Seek for SpillReader {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let target = match position {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        self.position = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Change {
        Change::File {
            content: Some(Content::Memory(text.as_bytes().into())),
        }
    }

    fn layer(
        id: &str,
        entries: Vec<(&str, Change)>,
        whiteouts: &[&str],
        opaque: &[&str],
    ) -> LayerChanges {
        LayerChanges {
            entries: entries
                .into_iter()
                .map(|(p, c)| (p.to_owned(), c))
                .collect(),
            whiteouts: whiteouts.iter().map(|s| (*s).to_owned()).collect(),
            opaque_dirs: opaque.iter().map(|s| (*s).to_owned()).collect(),
            diff_id: id.to_owned(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_lower_layers_only() {
        let mut fs = FlatFs::default();
        fs.apply(layer(
            "sha256:1",
            vec![
                ("etc", Change::Dir),
                ("etc/a", file("a1")),
                ("etc/b", file("b1")),
                ("opt/app/x", file("x1")),
                ("opt/app/y", file("y1")),
                ("usr/lib/os-release", file("ID=debian")),
                (
                    "etc/os-release",
                    Change::Symlink("../usr/lib/os-release".into()),
                ),
            ],
            &[],
            &[],
        ));
        fs.apply(layer(
            "sha256:2",
            vec![("etc/a", file("a2")), ("opt/app/z", file("z2"))],
            &["etc/b"],
            &["opt/app"],
        ));
        assert_eq!(fs.files(), ["etc/a", "opt/app/z", "usr/lib/os-release"]);
        assert_eq!(fs.read("etc/a").unwrap(), b"a2");
        assert!(!fs.is_file("etc/b"));
        assert_eq!(fs.layer_of("etc/a"), Some("sha256:2"));
        assert_eq!(fs.layer_of("usr/lib/os-release"), Some("sha256:1"));
        assert_eq!(fs.read("etc/os-release").unwrap(), b"ID=debian");
        assert_eq!(
            fs.read_dir("opt/app").unwrap_or_default(),
            Vec::<String>::new()
        );
        assert_eq!(fs.read_dir("etc").unwrap(), ["a", "os-release"]);
    }

    #[test]
    fn symlinks_never_leave_the_root() {
        let mut fs = FlatFs::default();
        fs.apply(layer(
            "sha256:1",
            vec![
                ("etc/passwd", file("image's own")),
                ("a/escape", Change::Symlink("../../../../etc/passwd".into())),
                ("a/absolute", Change::Symlink("/etc/passwd".into())),
                ("a/loop", Change::Symlink("loop".into())),
            ],
            &[],
            &[],
        ));
        assert_eq!(fs.read("a/escape").unwrap(), b"image's own");
        assert_eq!(fs.read("a/absolute").unwrap(), b"image's own");
        assert!(fs.read("a/loop").is_err());
    }

    #[test]
    fn hard_links_share_their_target_and_files_replace_directories() {
        let mut fs = FlatFs::default();
        fs.apply(layer(
            "sha256:1",
            vec![
                ("bin/python3.11", file("elf")),
                ("bin/python3", Change::Hardlink("bin/python3.11".into())),
                ("data/sub/file", file("x")),
            ],
            &[],
            &[],
        ));
        fs.apply(layer(
            "sha256:2",
            vec![("data", file("now a file"))],
            &[],
            &[],
        ));
        assert_eq!(fs.read("bin/python3").unwrap(), b"elf");
        assert_eq!(fs.files(), ["bin/python3", "bin/python3.11", "data"]);
    }
}
