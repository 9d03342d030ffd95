//! Path arithmetic shared by the catalogers, [`annotate`](crate::annotate) and
//! [`check`](crate::check). Paths are target-relative and `/`-separated.

use bulwark_catalog::is_installed_package_content;

/// Directories inside installed Python packages where GPU libraries and build facts live,
/// as paths below `site-packages/` with `*` for one segment. Everything else inside
/// installed packages is pruned: a PyTorch install alone puts twelve thousand files there.
const PACKAGE_DIRS: &[&str] = &[
    "torch",
    "torch/lib",
    "nvidia",
    "nvidia/*",
    "nvidia/*/lib",
    // CUDA 13 wheels install below `nvidia/cu13/lib`.
    "nvidia/*/*/lib",
    "jaxlib",
    "jaxlib/cuda",
    "jax_plugins",
    "jax_plugins/*",
    "tensorflow",
    "tensorflow/python",
    "tensorflow/python/platform",
    "tensorrt_libs",
    "tensorrt",
];

/// Whether the walk should enter `dir` for the GPU catalogers: everywhere, except inside
/// installed Python packages, where only [`PACKAGE_DIRS`] qualify.
pub(crate) fn descend(dir: &str) -> bool {
    if !is_installed_package_content(dir) {
        return true;
    }
    let Some((_, inside)) = split_site_packages(dir) else {
        return true;
    };
    PACKAGE_DIRS
        .iter()
        .any(|pattern| glob_segments(pattern, inside))
}

/// Matches `/`-separated segments, `*` standing for exactly one segment.
fn glob_segments(pattern: &str, path: &str) -> bool {
    let mut pattern = pattern.split('/');
    let mut path = path.split('/');
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p == "*" || p == s => {}
            _ => return false,
        }
    }
}

/// Splits a path at its `site-packages` (or `dist-packages`) directory: the directory
/// itself (`venv/lib/python3.11/site-packages`) and what lies below it (`torch/lib`).
pub(crate) fn split_site_packages(path: &str) -> Option<(&str, &str)> {
    let mut offset = 0;
    for segment in path.split('/') {
        let end = offset + segment.len();
        if segment == "site-packages" || segment == "dist-packages" {
            let rest = path.get(end + 1..).unwrap_or("");
            return Some((&path[..end], rest));
        }
        offset = end + 1;
    }
    None
}

/// The CUDA version of the side-by-side toolkit directory a path lies in
/// (`usr/local/cuda-12.1/targets/…` → `12.1`).
pub(crate) fn toolkit_version_of(path: &str) -> Option<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix("cuda-"))
        .find(|version| crate::version::is_numeric(version))
}

/// The directory part of a path (`""` at the root).
pub(crate) fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The last segment of a path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether `path` ends with the segments of `suffix` (`proc/driver/nvidia/version` at the
/// root of the target or below a root filesystem directory).
pub(crate) fn ends_with_segments(path: &str, suffix: &str) -> bool {
    path.strip_suffix(suffix)
        .is_some_and(|prefix| prefix.is_empty() || prefix.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descends_only_into_gpu_directories_of_installed_packages() {
        for (dir, wanted) in [
            ("usr/lib/x86_64-linux-gnu", true),
            ("venv/lib/python3.11/site-packages", true),
            ("venv/lib/python3.11/site-packages/torch", true),
            ("venv/lib/python3.11/site-packages/torch/lib", true),
            ("venv/lib/python3.11/site-packages/torch/include", false),
            (
                "venv/lib/python3.11/site-packages/torch/include/ATen",
                false,
            ),
            ("venv/lib/python3.11/site-packages/nvidia/cudnn/lib", true),
            (
                "venv/lib/python3.11/site-packages/nvidia/cudnn/include",
                false,
            ),
            ("venv/lib/python3.11/site-packages/nvidia/cu13/lib", true),
            (
                "venv/lib/python3.11/site-packages/tensorflow/python/platform",
                true,
            ),
            ("venv/lib/python3.11/site-packages/tensorflow/core", false),
            ("venv/lib/python3.11/site-packages/transformers", false),
            ("usr/lib/python3/dist-packages/jaxlib", true),
            (
                "venv/lib/python3.11/site-packages/numpy-1.26.0.dist-info",
                true,
            ),
        ] {
            assert_eq!(descend(dir), wanted, "{dir}");
        }
    }

    #[test]
    fn site_packages_and_toolkits() {
        assert_eq!(
            split_site_packages("venv/lib/python3.11/site-packages/torch/lib/x.so"),
            Some(("venv/lib/python3.11/site-packages", "torch/lib/x.so"))
        );
        assert_eq!(
            split_site_packages("site-packages"),
            Some(("site-packages", ""))
        );
        assert_eq!(split_site_packages("usr/lib/libcuda.so.1"), None);
        assert_eq!(
            toolkit_version_of("usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12"),
            Some("12.1")
        );
        assert_eq!(
            toolkit_version_of("usr/local/cuda/lib64/libcudart.so.12"),
            None
        );
        assert!(ends_with_segments(
            "proc/driver/nvidia/version",
            "proc/driver/nvidia/version"
        ));
        assert!(ends_with_segments(
            "host/proc/driver/nvidia/version",
            "proc/driver/nvidia/version"
        ));
        assert!(!ends_with_segments(
            "xproc/driver/nvidia/version",
            "proc/driver/nvidia/version"
        ));
    }
}
