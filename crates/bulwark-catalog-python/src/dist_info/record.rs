//! The file lists and requirement lists that sit next to the metadata: `RECORD`
//! (`*.dist-info`), `installed-files.txt` and `requires.txt` (`*.egg-info`).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bulwark_catalog::join_relative;
use bulwark_inventory::{FileEntry, Hash, HashAlgorithm};

/// RECORD digests are URL-safe base64 without padding
/// ([binary distribution format](https://packaging.python.org/en/latest/specifications/binary-distribution-format/#the-dist-info-directory));
/// padding is tolerated because some installers have written it.
const RECORD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What is wrong with one `RECORD` row.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordRowError {
    /// A quoted field without its closing quote.
    #[error("unterminated quoted field")]
    UnterminatedQuote,
    /// More than path, hash and size.
    #[error("expected at most 3 fields (path, hash, size), found {0}")]
    TooManyFields(usize),
    /// The first field is empty.
    #[error("the path field is empty")]
    EmptyPath,
    /// The hash field is not `<algorithm>=<urlsafe-base64 digest>` of a known algorithm.
    #[error("`{0}` is not a `<algorithm>=<base64 digest>` hash of a known algorithm")]
    BadHash(String),
    /// The size field is not a number.
    #[error("`{0}` is not a file size")]
    BadSize(String),
}

/// A row that could not be fully read, by 1-based line.
#[derive(Debug)]
pub(crate) struct RowProblem {
    pub(crate) line: u32,
    pub(crate) error: RecordRowError,
}

/// Reads a `RECORD` file. Paths are relative to `site_packages` (scripts appear as
/// `../../../bin/x`) and come out target-relative; paths that are absolute or would leave the
/// target cannot be placed in it and are left out. A row with a bad hash or size still
/// contributes its path, so file ownership stays complete.
pub(crate) fn parse_record(
    text: &str,
    site_packages: &str,
    files: &mut Vec<FileEntry>,
    problems: &mut Vec<RowProblem>,
) {
    files.reserve(text.len() / 80);
    for (index, line) in text.lines().enumerate() {
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            continue;
        }
        let mut report = |error| {
            problems.push(RowProblem {
                line: line_number,
                error,
            });
        };
        let fields = match split_csv_row(line) {
            Ok(fields) => fields,
            Err(error) => {
                report(error);
                continue;
            }
        };
        let [path, hash, size] = fields;
        let path = path.unwrap_or_default();
        if path.is_empty() {
            report(RecordRowError::EmptyPath);
            continue;
        }
        let digest = match hash.filter(|h| !h.is_empty()) {
            None => None,
            Some(hash) => match decode_record_hash(&hash) {
                Some(digest) => Some(digest),
                None => {
                    report(RecordRowError::BadHash(hash.into_owned()));
                    None
                }
            },
        };
        let size = match size.filter(|s| !s.is_empty()) {
            None => None,
            Some(size) => match size.trim().parse::<u64>() {
                Ok(size) => Some(size),
                Err(_) => {
                    report(RecordRowError::BadSize(size.into_owned()));
                    None
                }
            },
        };
        if let Some(path) = target_relative(site_packages, &path) {
            files.push(FileEntry { path, digest, size });
        }
    }
}

/// Splits one CSV row as Python's `csv` module writes it (fields quoted with `"` when they
/// contain a comma or quote, quotes doubled inside). Returns up to three fields.
fn split_csv_row(line: &str) -> Result<[Option<std::borrow::Cow<'_, str>>; 3], RecordRowError> {
    use std::borrow::Cow;
    let mut fields: [Option<Cow<'_, str>>; 3] = [None, None, None];
    let mut count = 0;
    let mut rest = line;
    loop {
        let (field, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut remaining = quoted;
            loop {
                let Some(quote) = remaining.find('"') else {
                    return Err(RecordRowError::UnterminatedQuote);
                };
                value.push_str(&remaining[..quote]);
                remaining = &remaining[quote + 1..];
                match remaining.strip_prefix('"') {
                    Some(after_doubled) => {
                        value.push('"');
                        remaining = after_doubled;
                    }
                    None => break,
                }
            }
            // Anything between the closing quote and the next comma is kept, as `csv` does.
            let (tail, after) = match remaining.split_once(',') {
                Some((tail, after)) => (tail, Some(after)),
                None => (remaining, None),
            };
            value.push_str(tail);
            (Cow::Owned(value), after)
        } else {
            match rest.split_once(',') {
                Some((field, after)) => (Cow::Borrowed(field), Some(after)),
                None => (Cow::Borrowed(rest), None),
            }
        };
        if count < fields.len() {
            fields[count] = Some(field);
        }
        count += 1;
        match after {
            Some(after) => rest = after,
            None => break,
        }
    }
    if count > fields.len() {
        return Err(RecordRowError::TooManyFields(count));
    }
    Ok(fields)
}

/// `sha256=<urlsafe base64>` to a hex [`Hash`]; `None` when malformed.
fn decode_record_hash(field: &str) -> Option<Hash> {
    let (algorithm, encoded) = field.trim().split_once('=')?;
    let algorithm = HashAlgorithm::from_name(algorithm)?;
    // Some installers (Debian's python3-* packages among them) write hex digests instead of
    // base64; a hex string of exactly the digest's length cannot be valid base64 of it.
    if encoded.len() == algorithm.hex_len() && encoded.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Hash::new(algorithm, encoded);
    }
    let mut digest = [0_u8; 64];
    let length = RECORD_BASE64
        .decode_slice(encoded.as_bytes(), &mut digest)
        .ok()?;
    (length * 2 == algorithm.hex_len()).then(|| Hash {
        algorithm,
        value: hex::encode(&digest[..length]),
    })
}

/// `relative` (from a file list) resolved against `base` into a target-relative path.
fn target_relative(base: &str, relative: &str) -> Option<String> {
    let is_clean = !relative.starts_with('/')
        && !relative.contains('\\')
        && relative
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if !is_clean {
        return join_relative(base, relative);
    }
    if base.is_empty() {
        return Some(relative.to_owned());
    }
    let mut path = String::with_capacity(base.len() + 1 + relative.len());
    path.push_str(base);
    path.push('/');
    path.push_str(relative);
    Some(path)
}

/// Reads `installed-files.txt` (written by pip for `*.egg-info` installs): one path per line,
/// relative to the egg-info directory itself.
pub(crate) fn parse_installed_files(text: &str, egg_info_dir: &str) -> Vec<FileEntry> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter_map(|line| target_relative(egg_info_dir, line))
        // `./` names the egg-info directory itself, which is not a file.
        .filter(|path| path != egg_info_dir)
        .map(|path| FileEntry {
            path,
            digest: None,
            size: None,
        })
        .collect()
}

/// Converts setuptools' `requires.txt` into `Requires-Dist` strings the way
/// `importlib.metadata` does: a `[extra]` section header becomes `extra == "extra"`, a
/// `[:marker]` header becomes the marker, `[extra:marker]` both. Returns each requirement with
/// its 1-based line.
pub(crate) fn requires_txt_to_requires_dist(text: &str) -> Vec<(String, u32)> {
    let mut requirements = Vec::new();
    let mut condition = String::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (extra, marker) = section.split_once(':').unwrap_or((section, ""));
            let (extra, marker) = (extra.trim(), marker.trim());
            condition = match (extra.is_empty(), marker.is_empty()) {
                (true, true) => String::new(),
                (true, false) => marker.to_owned(),
                (false, true) => format!("extra == \"{extra}\""),
                (false, false) => format!("({marker}) and extra == \"{extra}\""),
            };
            continue;
        }
        let requirement = if condition.is_empty() {
            line.to_owned()
        } else {
            // A URL requirement needs a space before `;` or the `;` is read as part of the URL.
            let space = if line.contains('@') { " " } else { "" };
            format!("{line}{space}; {condition}")
        };
        requirements.push((requirement, line_number));
    }
    requirements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_rows_become_target_relative_files_with_hex_digests() {
        let text = "six.py,sha256=TOOfQwrEFGzO1bLgbdS9MUUgTDeu6oyz1QVqF8Nwusc,34549\n\
                    ../../../bin/tool,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,10\n\
                    \"odd,name.py\",,\n\
                    six-1.16.0.dist-info/RECORD,,\n";
        let mut files = Vec::new();
        let mut problems = Vec::new();
        parse_record(
            text,
            "venv/lib/python3.11/site-packages",
            &mut files,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "venv/lib/python3.11/site-packages/six.py",
                "venv/bin/tool",
                "venv/lib/python3.11/site-packages/odd,name.py",
                "venv/lib/python3.11/site-packages/six-1.16.0.dist-info/RECORD",
            ]
        );
        let digest = files[0].digest.as_ref().unwrap();
        assert_eq!(digest.algorithm, HashAlgorithm::Sha256);
        assert_eq!(
            digest.value,
            "4ce39f430ac4146cced5b2e06dd4bd3145204c37aeea8cb3d5056a17c370bac7"
        );
        assert_eq!(files[0].size, Some(34549));
        assert_eq!(files[1].digest.as_ref().unwrap().value, "0".repeat(64));
        assert_eq!(files[2].digest, None);
    }

    #[test]
    fn hex_digests_as_debian_writes_them_are_accepted() {
        let hex = "43f5e03f2fe01cbc705198e2b5676059b1b709248289e016861e2720d271685b";
        let hash = decode_record_hash(&format!("sha256={}", hex.to_uppercase())).unwrap();
        assert_eq!(hash.algorithm, HashAlgorithm::Sha256);
        assert_eq!(hash.value, hex);
        // 64 characters of base64 are not a sha256 digest (48 bytes): still refused.
        assert!(decode_record_hash(&format!("sha256={}", "z".repeat(64))).is_none());
    }

    #[test]
    fn malformed_rows_are_problems_and_keep_their_path() {
        let text = "a.py,md7=xyz,1\nb.py,sha256=AAAA,1\nc.py,,big\n\"d.py,,\ne.py,,,extra\n,,\n\
                    ../../../../../outside,,\n";
        let mut files = Vec::new();
        let mut problems = Vec::new();
        parse_record(text, "lib/site-packages", &mut files, &mut problems);
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "lib/site-packages/a.py",
                "lib/site-packages/b.py",
                "lib/site-packages/c.py"
            ]
        );
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            problems[0].error.to_string(),
            "`md7=xyz` is not a `<algorithm>=<base64 digest>` hash of a known algorithm"
        );
    }

    #[test]
    fn installed_files_are_relative_to_the_egg_info_directory() {
        let files = parse_installed_files(
            "../demo/__init__.py\n./\nPKG-INFO\n../../../../bin/demo\n",
            "env/lib/python3.9/site-packages/demo-1.0-py3.9.egg-info",
        );
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "env/lib/python3.9/site-packages/demo/__init__.py",
                "env/lib/python3.9/site-packages/demo-1.0-py3.9.egg-info/PKG-INFO",
                "env/bin/demo",
            ]
        );
    }

    #[test]
    fn requires_txt_sections_become_markers() {
        let text = "numpy>=1.0\n\n[:python_version < \"3.8\"]\nimportlib-metadata\n\n[test]\n\
                    pytest\n\n[ssl:sys_platform == \"win32\"]\nwincertstore @ https://x.registry.invalid/w.zip\n";
        let requirements = requires_txt_to_requires_dist(text);
        let strings: Vec<_> = requirements.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            strings,
            [
                "numpy>=1.0",
                "importlib-metadata; python_version < \"3.8\"",
                "pytest; extra == \"test\"",
                "wincertstore @ https://x.registry.invalid/w.zip ; (sys_platform == \"win32\") and extra == \"ssl\"",
            ]
        );
        assert_eq!(requirements[2].1, 7);
    }
}
