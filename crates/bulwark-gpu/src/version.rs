//! Version arithmetic for the GPU stack: dotted numeric versions (`535.104.05`, `12.1.105`)
//! and the CUDA build tags frameworks write into their versions and build strings.
//!
//! Every function here reads a version exactly as written and never completes one: a tag
//! that only says `cuda12` gives CUDA `12`, not `12.0`.

use std::cmp::Ordering;

/// The numeric components of a dotted version (`535.104.05` → `[535, 104, 5]`); `None`
/// when any component is not a decimal number.
pub(crate) fn numeric(version: &str) -> Option<Vec<u64>> {
    if version.is_empty() {
        return None;
    }
    version
        .split('.')
        .map(|part| {
            (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u64>().ok())
                .flatten()
        })
        .collect()
}

/// Whether `version` is a dotted numeric version.
pub(crate) fn is_numeric(version: &str) -> bool {
    numeric(version).is_some()
}

/// Orders two dotted numeric versions component by component (`570.26 < 570.124.06`);
/// `None` when either is not numeric.
pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(numeric(a)?.cmp(&numeric(b)?))
}

/// The leading number of a version (`12` of `12.1.105`).
pub(crate) fn major(version: &str) -> Option<u64> {
    let head = version.split('.').next()?;
    (!head.is_empty() && head.bytes().all(|b| b.is_ascii_digit()))
        .then(|| head.parse().ok())
        .flatten()
}

/// The first two components, as written (`12.1` of `12.1.105`); `None` for a version with
/// fewer than two numeric components.
pub(crate) fn major_minor(version: &str) -> Option<&str> {
    let mut dots = version.match_indices('.').map(|(i, _)| i);
    let first = dots.next()?;
    let end = dots.next().unwrap_or(version.len());
    let head = &version[..end];
    (first > 0 && end > first + 1 && is_numeric(head)).then_some(head)
}

/// Whether one version is a component-wise prefix of the other (`12` and `12.1.105`): the
/// two may name the same release, one of them less precisely.
pub(crate) fn prefix_compatible(a: &str, b: &str) -> bool {
    let (a, b) = (a.split('.'), b.split('.'));
    a.zip(b).all(|(x, y)| x == y)
}

/// The CUDA version of a PyTorch-style tag: `cu121` → `12.1`, `cu92` → `9.2`, `cu118` →
/// `11.8`. PyTorch always writes the minor version as the last digit.
pub(crate) fn cu_tag(tag: &str) -> Option<String> {
    let digits = tag.strip_prefix("cu")?;
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    Some(format!(
        "{}.{minor}",
        major.trim_start_matches('0').max("0")
    ))
}

/// The CUDA version of a `cuda…` tag as jaxlib, conda-forge and Anaconda builds write it:
/// `cuda12.1` → `12.1`, `cuda12` → `12` (major only), `cuda118` / `cuda120` → `11.8` /
/// `12.0`, `cuda112py310he87a039` → `11.2` (digits up to the first non-digit).
pub(crate) fn cuda_tag(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("cuda")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let version = rest[..end].trim_end_matches('.');
    if version.contains('.') {
        return is_numeric(version).then(|| version.to_owned());
    }
    match version.len() {
        1 | 2 => Some(version.to_owned()),
        3 => Some(format!("{}.{}", &version[..2], &version[2..])),
        _ => None,
    }
}

/// The cuDNN version of a jaxlib-style tag: `cudnn89` → `8.9`, `cudnn805` → `8.0.5`,
/// `cudnn8.9.2` → `8.9.2` (conda builds write it dotted).
pub(crate) fn cudnn_tag(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("cudnn")?;
    if rest.contains('.') {
        return is_numeric(rest).then(|| rest.to_owned());
    }
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // cuDNN majors are single digits so far; the rest are minor and patch digits.
    let mut parts: Vec<&str> = Vec::new();
    for i in 0..rest.len() {
        parts.push(&rest[i..=i]);
    }
    Some(parts.join("."))
}

/// The upstream part of a Debian or RPM version: no epoch, no revision or release
/// (`1:535.104.05-0ubuntu0.22.04.1` → `535.104.05`).
pub(crate) fn upstream(version: &str) -> &str {
    let without_epoch = match version.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => version,
    };
    without_epoch
        .rsplit_once('-')
        .map_or(without_epoch, |(upstream, _)| upstream)
}

/// The CUDA version a Debian or RPM revision names (`1+cuda12.1`, `1.cuda12.1`).
pub(crate) fn cuda_in_revision(version: &str) -> Option<String> {
    let (_, revision) = version.rsplit_once('-')?;
    let at = revision.find("cuda")?;
    cuda_tag(&revision[at..])
}

/// Whether `version` looks like an NVIDIA driver version: a three-digit branch and at least
/// one more component (`535.104.05`, `570.26`). Keeps `libnvidia-container.so.1.14.3` out.
pub(crate) fn is_driver_version(version: &str) -> bool {
    numeric(version).is_some_and(|parts| parts.len() >= 2 && (100..1000).contains(&parts[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order() {
        assert_eq!(compare("570.26", "570.124.06"), Some(Ordering::Less));
        assert_eq!(compare("535.104.05", "535.104.5"), Some(Ordering::Equal));
        assert_eq!(compare("525.60.13", "525.60.13.1"), Some(Ordering::Less));
        assert_eq!(compare("12.1a", "12"), None);
        assert_eq!(numeric(""), None);
        assert_eq!(numeric("1..2"), None);
    }

    #[test]
    fn parts_of_versions() {
        assert_eq!(major("12.1.105"), Some(12));
        assert_eq!(major("x.1"), None);
        assert_eq!(major_minor("12.1.105"), Some("12.1"));
        assert_eq!(major_minor("11.8"), Some("11.8"));
        assert_eq!(major_minor("12"), None);
        assert_eq!(major_minor("12.x"), None);
        assert!(prefix_compatible("12", "12.1.105"));
        assert!(prefix_compatible("8.9.2.26", "8.9.2"));
        assert!(!prefix_compatible("8.9.2", "8.6.0"));
        assert!(!prefix_compatible("11", "12.1"));
    }

    #[test]
    fn cuda_tags() {
        assert_eq!(cu_tag("cu121").as_deref(), Some("12.1"));
        assert_eq!(cu_tag("cu92").as_deref(), Some("9.2"));
        assert_eq!(cu_tag("cu118").as_deref(), Some("11.8"));
        assert_eq!(cu_tag("cu1").as_deref(), None);
        assert_eq!(cu_tag("cpu"), None);
        assert_eq!(cuda_tag("cuda12").as_deref(), Some("12"));
        assert_eq!(cuda_tag("cuda12.1").as_deref(), Some("12.1"));
        assert_eq!(cuda_tag("cuda120").as_deref(), Some("12.0"));
        assert_eq!(cuda_tag("cuda112py310he87a039").as_deref(), Some("11.2"));
        assert_eq!(cuda_tag("cuda").as_deref(), None);
        assert_eq!(cudnn_tag("cudnn89").as_deref(), Some("8.9"));
        assert_eq!(cudnn_tag("cudnn805").as_deref(), Some("8.0.5"));
        assert_eq!(cudnn_tag("cudnn8.9.2").as_deref(), Some("8.9.2"));
        assert_eq!(cudnn_tag("cudnn"), None);
    }

    #[test]
    fn os_versions() {
        assert_eq!(upstream("1:535.104.05-0ubuntu0.22.04.1"), "535.104.05");
        assert_eq!(upstream("8.9.2.26-1+cuda12.1"), "8.9.2.26");
        assert_eq!(upstream("12.1.105"), "12.1.105");
        assert_eq!(
            cuda_in_revision("8.9.2.26-1+cuda12.1").as_deref(),
            Some("12.1")
        );
        assert_eq!(
            cuda_in_revision("2.18.3-1.cuda12.2").as_deref(),
            Some("12.2")
        );
        assert_eq!(cuda_in_revision("12.1.105-1"), None);
        assert!(is_driver_version("535.104.05"));
        assert!(is_driver_version("570.26"));
        assert!(!is_driver_version("1.14.3"));
        assert!(!is_driver_version("535"));
    }
}
