//! PyTorch checkpoints and the pickle family, recognized by structure only.
//!
//! The zip checkpoint (`torch.save` since 1.6) is `<prefix>/data.pkl` with storages in
//! `<prefix>/data/<n>` and `version`/`byteorder` records; TorchScript archives add `code/`
//! and `constants.pkl`. The pickles inside are left to the pickle scanner (`bulwark-pickle`):
//! this module lists the layout and names the pickle members, it never unpickles or scans.

use std::io::{Read, Seek};

use crate::error::{ModelError, Result};

/// Most archive members looked at.
const MAX_MEMBERS: usize = 1 << 20;

/// The layout of a PyTorch zip archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TorchZip {
    /// The archive's top folder (`archive`, `tiny`), as the writer chose it.
    pub prefix: String,
    /// Whether it is a TorchScript archive (`code/`, `constants.pkl`).
    pub torchscript: bool,
    /// The `version` record, trimmed.
    pub version: Option<String>,
    /// The `byteorder` record (`little`).
    pub byteorder: Option<String>,
    /// Number of `data/<n>` storages.
    pub storages: u64,
    /// The pickle members (`archive/data.pkl`, `constants.pkl`), for the pickle scanner.
    pub pickles: Vec<String>,
}

/// Reads a zip archive's member list and small records; `Ok(None)` when the archive is not a
/// PyTorch checkpoint (no `data.pkl`).
pub fn read_zip<R: Read + Seek>(reader: R) -> Result<Option<TorchZip>> {
    let mut archive = zip::ZipArchive::new(reader)?;
    let names: Vec<String> = archive
        .file_names()
        .take(MAX_MEMBERS)
        .filter_map(|name| name.ok().map(|n| n.into_owned()))
        .collect();
    let Some(data_pkl) = names.iter().find(|n| {
        n.rsplit_once('/')
            .is_some_and(|(dir, file)| file == "data.pkl" && !dir.contains('/'))
    }) else {
        return Ok(None);
    };
    let prefix = data_pkl.trim_end_matches("/data.pkl").to_owned();
    let inside = |rest: &str| format!("{prefix}/{rest}");
    let mut torch = TorchZip {
        torchscript: names.iter().any(|n| n.starts_with(&inside("code/")))
            || names.contains(&inside("constants.pkl")),
        storages: names
            .iter()
            .filter(|n| {
                n.strip_prefix(&inside("data/")).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
                })
            })
            .count() as u64,
        pickles: names
            .iter()
            .filter(|n| n.ends_with(".pkl"))
            .cloned()
            .collect(),
        prefix: prefix.clone(),
        ..TorchZip::default()
    };
    for (record, slot) in [
        ("version", &mut torch.version),
        ("byteorder", &mut torch.byteorder),
    ] {
        // Newer writers put `version` under `.data/`.
        for candidate in [inside(record), inside(&format!(".data/{record}"))] {
            if let Ok(member) = archive.by_name(&candidate) {
                let mut text = String::new();
                member
                    .take(64)
                    .read_to_string(&mut text)
                    .map_err(ModelError::from)?;
                *slot = Some(text.trim().to_owned());
                break;
            }
        }
    }
    Ok(Some(torch))
}

/// The pickle protocol of a file that starts with a `PROTO` opcode (`\x80` then 2–5).
/// Protocol 0 and 1 pickles have no header and are not recognized: too many text files
/// would look like them.
pub fn pickle_protocol(prefix: &[u8]) -> Option<u8> {
    match prefix {
        [0x80, protocol @ 2..=5, ..] => Some(*protocol),
        _ => None,
    }
}

/// The legacy (pre-1.6) `torch.save` stream: pickles stacked one after another, the first
/// being the magic number `0x1950a86a20f9469cfc6c` as a pickled `long`.
pub fn is_legacy_stacked_pickle(prefix: &[u8]) -> bool {
    const MAGIC: [u8; 12] = [
        0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
    ];
    pickle_protocol(prefix).is_some() && prefix.get(2..14) == Some(&MAGIC)
}

/// Whether `prefix` is a tar archive (`ustar` at offset 257), the oldest `torch.save` format.
pub fn is_tar(prefix: &[u8]) -> bool {
    prefix.get(257..262) == Some(b"ustar")
}

/// Whether `prefix` starts a zip archive.
pub fn is_zip(prefix: &[u8]) -> bool {
    prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn zip_checkpoint_and_torchscript() {
        let torch = read_zip(std::io::Cursor::new(fixture("tiny.pt")))
            .unwrap()
            .unwrap();
        assert!(!torch.torchscript);
        assert_eq!(torch.storages, 4);
        assert_eq!(torch.byteorder.as_deref(), Some("little"));
        assert!(torch.version.is_some());
        assert_eq!(torch.pickles, [format!("{}/data.pkl", torch.prefix)]);
        let script = read_zip(std::io::Cursor::new(fixture("tiny_script.pt")))
            .unwrap()
            .unwrap();
        assert!(script.torchscript);
        assert!(script.pickles.iter().any(|p| p.ends_with("constants.pkl")));
        // A .keras archive is a zip but not a checkpoint.
        assert!(
            read_zip(std::io::Cursor::new(fixture("tiny.keras")))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn legacy_and_pickles() {
        assert!(is_legacy_stacked_pickle(&fixture("tiny_legacy.pt")));
        assert!(!is_legacy_stacked_pickle(&fixture("tiny.pkl")));
        assert_eq!(pickle_protocol(&fixture("tiny.pkl")), Some(4));
        assert!(pickle_protocol(&fixture("tiny.joblib")).is_some());
        assert_eq!(pickle_protocol(b"\x80\x09"), None);
        assert!(!is_tar(b"short"));
    }
}
