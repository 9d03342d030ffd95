//! Container images read as streams.
//!
//! An image (a `docker save` archive, an OCI image layout directory or tar, or a flat
//! root-filesystem tar such as `docker export` writes) is read layer by layer, in order:
//! each layer is decompressed (gzip, zstd or none) and walked as a tar stream, its whiteouts
//! (`.wh.<name>`, `.wh..wh..opq`) hide what the layers below put there, and the result is
//! one flattened view, [`FlatFs`], that the catalogers read through their
//! [`Resolver`](bulwark_catalog::Resolver). Nothing is ever unpacked to disk: only the
//! contents of files some cataloger [reads](bulwark_catalog::Cataloger::reads) are kept
//! (small ones in memory, large ones in one unlinked temporary file), so memory stays bounded
//! on multi-gigabyte CUDA images. Layers are decompressed in parallel and applied in order.
//!
//! Every component records the layer (its diff id) that put its file in place.
//!
//! Hostile archives: member and entry paths are normalized and never climb out of the root;
//! symbolic links resolve as in a chroot at the image root; digests are checked before they
//! name a blob; a layer that decompresses beyond [`layer`]'s limits (size, expansion ratio,
//! entry count) stops with a problem reported, and what it held so far still counts.

mod fs;
mod layer;
mod manifest;
mod source;

use std::path::Path;
use std::sync::{Arc, Mutex};

use bulwark_catalog::{CatalogOutput, Cataloger, Progress};
use bulwark_inventory::{Component, ComponentKind, Inventory, Problem, Purl};
use rayon::prelude::*;

pub use fs::FlatFs;
pub use source::ImageFormat;

use crate::layer::Limits;
use crate::manifest::Layout;
use crate::source::{MemberReader, Source};

/// Why an image could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file or directory cannot be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The image path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not an image bulwark understands, or its documents are broken.
    #[error("`{path}` is not a readable image: {message}")]
    Archive {
        /// The image as named by the user.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// An image, flattened.
#[derive(Debug)]
pub struct Image {
    /// How it was stored (`None` for a flat root-filesystem tar).
    pub format: Option<ImageFormat>,
    /// `repo:tag` names recorded with it.
    pub tags: Vec<String>,
    /// The image id: the digest of its config.
    pub config_digest: Option<String>,
    /// `linux`, ...
    pub os: Option<String>,
    /// `amd64`, `arm64`, ...
    pub architecture: Option<String>,
    /// The union of its layers.
    pub fs: FlatFs,
    /// Layers or entries that could not be read; the rest was.
    pub problems: Vec<Problem>,
}

/// Whether `path` looks like an image rather than a plain directory or a single manifest:
/// an OCI layout directory, or a tar archive (compressed or not).
pub fn looks_like_image(path: &Path) -> bool {
    if path.is_dir() {
        return path.join("oci-layout").is_file() && path.join("index.json").is_file();
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut reader = std::io::BufReader::new(file);
    let Ok(compression) = source::Compression::sniff(&mut reader) else {
        return false;
    };
    let mut head = [0u8; 512];
    let mut decoder = compression.decoder(reader);
    std::io::Read::read_exact(&mut decoder, &mut head).is_ok() && &head[257..262] == b"ustar"
}

/// Reads the image at `path`, keeping the contents of the files for which `keep` is true.
pub fn read_image(
    path: &Path,
    display: &str,
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Image, ImageError> {
    read_image_with(path, display, keep, Limits::default())
}

fn read_image_with(
    path: &Path,
    display: &str,
    keep: &(dyn Fn(&str) -> bool + Sync),
    limits: Limits,
) -> Result<Image, ImageError> {
    let source = Source::open(path, limits)?;
    let layout = match Layout::read(&source, display) {
        Ok(layout) => Some(layout),
        // A tar with neither document is a flat root filesystem (`docker export`).
        Err(_) if matches!(source, Source::Tar { .. }) && !source.has("oci-layout") => None,
        Err(error) => return Err(error),
    };
    let spill = Mutex::new(None);
    let mut problems = Vec::new();
    let mut fs = FlatFs::default();
    match &layout {
        Some(layout) => {
            if layout.skipped_images > 0 {
                problems.push(Problem {
                    path: String::new(),
                    line: None,
                    cataloger: None,
                    message: format!(
                        "the archive holds {} more image(s); only the first was read",
                        layout.skipped_images
                    ),
                });
            }
            let layers: Vec<_> = layout
                .layer_members
                .par_iter()
                .zip(&layout.diff_ids)
                .map(|(member, diff_id)| match source.locate_member(member) {
                    Ok((file, offset, len)) => layer::read_layer(
                        Box::new(MemberReader::new(Arc::clone(&file), offset, len)),
                        Some((file, offset)),
                        diff_id.as_deref(),
                        keep,
                        &spill,
                        limits,
                    ),
                    Err(error) => (layer::LayerChanges::default(), Some(error.into())),
                })
                .collect();
            for (index, (mut changes, error)) in layers.into_iter().enumerate() {
                let member = &layout.layer_members[index];
                let layer_problem = |message: String| Problem {
                    path: member.clone(),
                    line: None,
                    cataloger: None,
                    message,
                };
                if let Some(error) = error {
                    problems.push(layer_problem(format!(
                        "layer {} could not be read to its end: {error}; what it held up to \
                         there is included",
                        index + 1
                    )));
                }
                if changes.diff_id.is_empty()
                    && let Some(expected) = &layout.diff_ids[index]
                {
                    changes.diff_id.clone_from(expected);
                }
                problems.extend(changes.problems.drain(..).map(&layer_problem));
                fs.apply(changes);
            }
        }
        None => {
            let unreadable = |source| ImageError::Io {
                path: path.to_owned(),
                source,
            };
            let file = Arc::new(std::fs::File::open(path).map_err(unreadable)?);
            let len = file.metadata().map_err(unreadable)?.len();
            let (mut changes, error) = layer::read_layer(
                Box::new(MemberReader::new(Arc::clone(&file), 0, len)),
                Some((file, 0)),
                // A flat root filesystem has no layers to tell apart.
                Some(""),
                keep,
                &spill,
                limits,
            );
            let problem = |message: String| Problem {
                path: String::new(),
                line: None,
                cataloger: None,
                message,
            };
            if let Some(error) = error {
                problems.push(problem(format!(
                    "the archive could not be read to its end: {error}"
                )));
            }
            problems.extend(changes.problems.drain(..).map(problem));
            fs.apply(changes);
        }
    }
    let (format, tags, config_digest, os, architecture) = match layout {
        Some(layout) => (
            Some(layout.format),
            layout.tags,
            layout.config_digest,
            layout.config.os,
            layout.config.architecture,
        ),
        None => (None, Vec::new(), None, None, None),
    };
    Ok(Image {
        format,
        tags,
        config_digest,
        os,
        architecture,
        fs,
        problems,
    })
}

/// Catalogs the image at `path` with `catalogers` and assembles its inventory.
pub fn catalog_image(
    path: &Path,
    display: &str,
    catalogers: &[Box<dyn Cataloger>],
    progress: &Progress,
) -> Result<Inventory, ImageError> {
    let keep = |file: &str| catalogers.iter().any(|c| c.reads(file));
    let image = read_image(path, display, &keep)?;
    let files = image.fs.files();
    let seed = CatalogOutput {
        components: image.component(display).into_iter().collect(),
        problems: image.problems.clone(),
        ..CatalogOutput::default()
    };
    Ok(bulwark_catalog::catalog_files(
        display, &files, &image.fs, catalogers, progress, seed,
    ))
}

impl Image {
    /// The image itself as a component: `pkg:oci/<name>@<image id>?tag=...`, named after its
    /// first `repo:tag` (else after the file), so an SBOM says which image it describes.
    /// `None` for a flat root filesystem, which has no image id.
    pub fn component(&self, display: &str) -> Option<Component> {
        let digest = self.config_digest.as_deref()?;
        let reference = self.tags.first().map(String::as_str);
        // `repo:tag`, where the repository may carry a registry with a port (`host:5000/a`).
        let file_name = display
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(display);
        let (repository, tag) = match reference {
            // An OCI layout may name only the tag (`1`): the repository is then unknown.
            Some(tag) if !tag.contains(['/', ':']) => (file_name, Some(tag)),
            Some(reference) => match reference.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
                _ => (reference, None),
            },
            None => (file_name, None),
        };
        let known_repository = reference.is_some_and(|r| r.contains(['/', ':']));
        let name = repository
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(repository)
            .to_ascii_lowercase();
        let purl = Purl::builder_for_type("oci", &name)
            .version(Some(digest))
            .qualifier("repository_url", known_repository.then_some(repository))
            .qualifier("tag", tag)
            .qualifier("arch", self.architecture.as_deref())
            .build();
        let mut component = Component::bare(
            ComponentKind::Container,
            repository,
            Some(digest),
            "image/manifest",
        );
        component.purl = purl;
        component.description = Some(match &self.os {
            Some(os) => format!(
                "container image ({os}/{})",
                self.architecture.as_deref().unwrap_or("unknown")
            ),
            None => "container image".to_owned(),
        });
        Some(component)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A gzip stream of `zeros` zero bytes behind a tar header for one file.
    fn zero_bomb(zeros: u64) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let mut header = tar::Header::new_gnu();
        header.set_size(zeros);
        header.set_mode(0o644);
        header.set_path("zeros").unwrap();
        header.set_cksum();
        encoder.write_all(header.as_bytes()).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..zeros >> 20 {
            encoder.write_all(&chunk).unwrap();
        }
        encoder.finish().unwrap()
    }

    fn small_limits() -> Limits {
        Limits {
            expansion_floor: 4 << 20,
            max_expansion: 100,
            ..Limits::default()
        }
    }

    #[test]
    fn the_image_component_names_what_the_archive_records() {
        let image = |tags: &[&str]| Image {
            format: Some(ImageFormat::OciLayout),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            config_digest: Some("sha256:ab".to_owned()),
            os: Some("linux".to_owned()),
            architecture: Some("arm64".to_owned()),
            fs: FlatFs::default(),
            problems: Vec::new(),
        };
        let purl = |tags: &[&str]| {
            let component = image(tags).component("images/app.oci/").unwrap();
            (component.name, component.purl.unwrap().as_str().to_owned())
        };
        assert_eq!(
            purl(&["registry.invalid:5000/team/app:2.1"]),
            (
                "registry.invalid:5000/team/app".to_owned(),
                "pkg:oci/app@sha256:ab?arch=arm64&repository_url=registry.invalid:5000%2Fteam%2Fapp&tag=2.1"
                    .to_owned()
            )
        );
        // A bare tag says nothing of the repository: the file names the image.
        assert_eq!(
            purl(&["1"]),
            (
                "app.oci".to_owned(),
                "pkg:oci/app.oci@sha256:ab?arch=arm64&tag=1".to_owned()
            )
        );
        assert_eq!(
            purl(&[]),
            (
                "app.oci".to_owned(),
                "pkg:oci/app.oci@sha256:ab?arch=arm64".to_owned()
            )
        );
    }

    #[test]
    fn a_compressed_archive_that_is_a_bomb_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.tar.gz");
        fs_err::write(&path, zero_bomb(16 << 20)).unwrap();
        let error = read_image_with(&path, "bomb", &|_| false, small_limits()).unwrap_err();
        assert!(error.to_string().contains("decompression bomb"), "{error}");
    }

    #[test]
    fn a_layer_that_is_a_bomb_stops_with_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let layer = zero_bomb(16 << 20);
        let config = br#"{"rootfs":{"diff_ids":[]}}"#;
        let mut archive = tar::Builder::new(Vec::new());
        for (name, data) in [
            ("layer.tar", &layer[..]),
            ("config.json", &config[..]),
            (
                "manifest.json",
                br#"[{"Config":"config.json","Layers":["layer.tar"]}]"#,
            ),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            archive.append_data(&mut header, name, data).unwrap();
        }
        let path = dir.path().join("image.tar");
        fs_err::write(&path, archive.into_inner().unwrap()).unwrap();
        let image = read_image_with(&path, "image", &|_| true, small_limits()).unwrap();
        assert!(
            image
                .problems
                .iter()
                .any(|p| p.path == "layer.tar" && p.message.contains("decompression bomb")),
            "{:?}",
            image.problems
        );
    }
}
