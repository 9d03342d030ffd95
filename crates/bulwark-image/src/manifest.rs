//! The JSON documents that say what an image is made of: Docker's `manifest.json`, the OCI
//! `index.json`, image manifests and image configs. Only the fields bulwark uses are modeled.

use serde::Deserialize;

use crate::ImageError;
use crate::source::{ImageFormat, Source};

/// One entry of a `docker save` `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// An OCI image index (`index.json`) or manifest list.
#[derive(Debug, Deserialize)]
struct OciIndex {
    manifests: Vec<Descriptor>,
}

/// An OCI or Docker v2 image manifest.
#[derive(Debug, Deserialize)]
struct OciManifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct Platform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
}

/// The image configuration: platform and the digests of the uncompressed layers.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ImageConfig {
    #[serde(default)]
    pub(crate) os: Option<String>,
    #[serde(default)]
    pub(crate) architecture: Option<String>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// What an image is made of, in the order its layers apply.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) format: ImageFormat,
    /// `repo:tag` names the archive records.
    pub(crate) tags: Vec<String>,
    /// The config blob's digest: the image id.
    pub(crate) config_digest: Option<String>,
    pub(crate) config: ImageConfig,
    /// Archive member of each layer, bottom first.
    pub(crate) layer_members: Vec<String>,
    /// The uncompressed digest of each layer from the config, where it says.
    pub(crate) diff_ids: Vec<Option<String>>,
    /// Other images in the archive that were not read.
    pub(crate) skipped_images: usize,
}

/// Media types of manifests that list other manifests.
const INDEX_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The longest chain of nested indexes followed.
const MAX_INDEX_DEPTH: usize = 4;

impl Layout {
    /// Reads the layout of the image stored in `source`.
    pub(crate) fn read(source: &Source, display: &str) -> Result<Self, ImageError> {
        let invalid = |message: String| ImageError::Archive {
            path: display.into(),
            message,
        };
        if source.has("manifest.json") {
            Self::read_docker(source, display)
        } else if source.has("index.json") {
            Self::read_oci(source, display)
        } else {
            Err(invalid(
                "neither `manifest.json` (docker save) nor `index.json` (OCI layout) found".into(),
            ))
        }
    }

    fn read_docker(source: &Source, display: &str) -> Result<Self, ImageError> {
        let entries: Vec<DockerManifestEntry> = parse_json(source, "manifest.json", display)?;
        let skipped_images = entries.len().saturating_sub(1);
        let entry = entries
            .into_iter()
            .next()
            .ok_or_else(|| ImageError::Archive {
                path: display.into(),
                message: "`manifest.json` lists no image".into(),
            })?;
        let config_member = clean_member(&entry.config, display)?;
        let config: ImageConfig = parse_json(source, &config_member, display)?;
        let layer_members = entry
            .layers
            .iter()
            .map(|layer| clean_member(layer, display))
            .collect::<Result<Vec<_>, _>>()?;
        let diff_ids = diff_ids(&config, layer_members.len());
        Ok(Self {
            format: ImageFormat::DockerArchive,
            tags: entry.repo_tags.unwrap_or_default(),
            config_digest: digest_of_member(&config_member),
            config,
            layer_members,
            diff_ids,
            skipped_images,
        })
    }

    fn read_oci(source: &Source, display: &str) -> Result<Self, ImageError> {
        let index: OciIndex = parse_json(source, "index.json", display)?;
        let mut skipped_images = 0;
        let mut tags = Vec::new();
        let mut candidates = index.manifests;
        let mut depth = 0;
        let manifest = loop {
            let chosen = choose_manifest(&mut candidates).ok_or_else(|| ImageError::Archive {
                path: display.into(),
                message: "the OCI index lists no image manifest".into(),
            })?;
            skipped_images += candidates.len();
            // containerd records the full reference; the OCI annotation is often a bare tag.
            if let Some(name) = chosen.annotations.as_ref().and_then(|a| {
                a.get("io.containerd.image.name")
                    .or_else(|| a.get("org.opencontainers.image.ref.name"))
            }) {
                tags.push(name.clone());
            }
            let member = blob_member(&chosen.digest, display)?;
            let is_index = chosen
                .media_type
                .as_deref()
                .is_some_and(|t| INDEX_MEDIA_TYPES.contains(&t));
            if is_index {
                depth += 1;
                if depth > MAX_INDEX_DEPTH {
                    return Err(ImageError::Archive {
                        path: display.into(),
                        message: format!("image indexes nest deeper than {MAX_INDEX_DEPTH}"),
                    });
                }
                let nested: OciIndex = parse_json(source, &member, display)?;
                candidates = nested.manifests;
                continue;
            }
            break parse_json::<OciManifest>(source, &member, display)?;
        };
        let config_member = blob_member(&manifest.config.digest, display)?;
        let config: ImageConfig = parse_json(source, &config_member, display)?;
        let layer_members = manifest
            .layers
            .iter()
            .map(|layer| blob_member(&layer.digest, display))
            .collect::<Result<Vec<_>, _>>()?;
        let diff_ids = diff_ids(&config, layer_members.len());
        Ok(Self {
            format: ImageFormat::OciLayout,
            tags,
            config_digest: Some(manifest.config.digest),
            config,
            layer_members,
            diff_ids,
            skipped_images,
        })
    }
}

/// Picks the manifest to read: linux/amd64 where the index offers platforms, else the first.
/// The rest stay in `candidates` (they are the images not read).
fn choose_manifest(candidates: &mut Vec<Descriptor>) -> Option<Descriptor> {
    let position = candidates
        .iter()
        .position(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
        })
        .unwrap_or(0);
    (position < candidates.len()).then(|| candidates.remove(position))
}

fn diff_ids(config: &ImageConfig, layers: usize) -> Vec<Option<String>> {
    let listed = config.rootfs.as_ref().map_or(&[][..], |r| &r.diff_ids[..]);
    (0..layers).map(|i| listed.get(i).cloned()).collect()
}

/// The archive member of a blob: `blobs/<algorithm>/<hex>`. The digest is checked so that it
/// cannot name anything else (`sha256:../../etc`).
fn blob_member(digest: &str, display: &str) -> Result<String, ImageError> {
    let valid = digest.split_once(':').filter(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && !hex.is_empty()
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    match valid {
        Some((algorithm, hex)) => Ok(format!("blobs/{algorithm}/{hex}")),
        None => Err(ImageError::Archive {
            path: display.into(),
            message: format!("`{digest}` is not a valid digest"),
        }),
    }
}

fn clean_member(member: &str, display: &str) -> Result<String, ImageError> {
    crate::source::normalize_member(member).ok_or_else(|| ImageError::Archive {
        path: display.into(),
        message: format!("`{member}` points outside the archive"),
    })
}

/// `sha256:<hex>` for a member named by its digest (`blobs/sha256/<hex>`, `<hex>.json`).
fn digest_of_member(member: &str) -> Option<String> {
    let name = member.rsplit('/').next()?;
    let hex = name.strip_suffix(".json").unwrap_or(name);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

fn parse_json<T: serde::de::DeserializeOwned>(
    source: &Source,
    member: &str,
    display: &str,
) -> Result<T, ImageError> {
    let bytes = source
        .read_member(member)
        .map_err(|error| ImageError::Archive {
            path: display.into(),
            message: format!("cannot read `{member}`: {error}"),
        })?;
    serde_json::from_slice(&bytes).map_err(|error| ImageError::Archive {
        path: display.into(),
        message: format!("`{member}` is not a valid image document: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_digests_are_checked() {
        assert_eq!(
            blob_member("sha256:abcdef01", "t").unwrap(),
            "blobs/sha256/abcdef01"
        );
        assert!(blob_member("sha256:../../etc/passwd", "t").is_err());
        assert!(blob_member("abcdef", "t").is_err());
    }

    #[test]
    fn config_member_names_give_the_image_id() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_of_member(&format!("{hex}.json")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_of_member(&format!("blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_of_member("config.json"), None);
    }
}
