//! The GPU software stack: what NVIDIA driver, CUDA toolkit and GPU libraries a target holds,
//! which packages are GPU builds, and whether the pieces fit together.
//!
//! Three parts, used in this order:
//!
//! 1. [`catalogers`] find GPU software by file: the driver (`/proc/driver/nvidia/version`,
//!    `libcuda.so.535.104.05`), CUDA toolkits (`usr/local/cuda-12.1/version.json`), versioned
//!    libraries anywhere (`libcudnn.so.8.9.2`, `libnccl.so.2.18.1`, the copies vendored in
//!    `torch/lib`), version headers (`cudnn_version.h`) and framework build facts
//!    (`torch/version.py`, TensorFlow's `build_info.py`). They claim files by path alone.
//! 2. [`annotate`] runs after the walk. It sets [`GpuFacts`] on packages that are GPU
//!    software by name and version, from every source (PyPI `torch 2.2.0+cu121`,
//!    `nvidia-cudnn-cu12`, conda `pytorch` build strings, Debian `libcudnn8`), folds a
//!    library found by file into the package that installed it, and adds the CPE names
//!    NVIDIA's advisories are published under.
//! 3. [`check`] reports what does not fit: a driver too old for the CUDA a framework needs,
//!    cuDNN built for another CUDA major, a framework next to CUDA wheels of another major,
//!    two versions of one library in one environment.
//!
//! Identity: GPU software found by file has no package ecosystem, so its purl is
//! `pkg:generic/nvidia/<part>@<version>` with the part named as [`GpuPart::as_str`] names it
//! (`pkg:generic/nvidia/cuda-runtime@12.1.105`), whichever file it was read from. The same
//! library seen as `libcudart.so.12.1.105` and in a toolkit's `version.json` is one
//! component.
//!
//! Versions are the ones the source states. A file name such as `libcudart.so.12` gives
//! only the ABI major, and stays `12`; it is left out when a fuller version of the same
//! library sits next to it.
//!
//! [`GpuFacts`]: bulwark_inventory::GpuFacts
//! [`GpuPart::as_str`]: bulwark_inventory::GpuPart::as_str

mod annotate;
mod build_info;
mod check;
mod driver;
mod elf;
mod header;
mod library;
mod names;
mod paths;
mod toolkit;
mod version;

use std::io::Read;

pub use annotate::annotate;
pub use check::{GpuIssue, Severity, check};

/// The stable identifiers of [`GpuIssue`]s.
pub mod issue_ids {
    pub use crate::check::{
        CUDNN_CUDA_MISMATCH, CUDNN_VERSION_MISMATCH, DRIVER_MINOR_COMPAT, DRIVER_TOO_OLD,
        DRIVER_VERSION_MISMATCH, FRAMEWORK_CUDA_MISMATCH, FRAMEWORK_TOOLKIT_MISMATCH,
        LIBRARY_DUPLICATE,
    };
}

use bulwark_catalog::{Cataloger, Resolver};
use bulwark_inventory::{Component, ComponentKind, GpuFacts, Location, Purl};

/// The GPU catalogers, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(driver::NvidiaDriverCataloger),
        Box::new(toolkit::CudaToolkitCataloger),
        Box::new(library::GpuLibraryCataloger),
        Box::new(header::VersionHeaderCataloger),
        Box::new(build_info::FrameworkBuildInfoCataloger),
    ]
}

/// The purl namespace of NVIDIA software found by file.
const NVIDIA: &str = "nvidia";

/// A component of NVIDIA software found by file: no ecosystem, a
/// `pkg:generic/nvidia/<name>@<version>` purl, NVIDIA as supplier.
pub(crate) fn nvidia_component(
    kind: ComponentKind,
    name: &str,
    version: Option<&str>,
    location: Location,
    found_by: &str,
    gpu: GpuFacts,
) -> Component {
    let mut component = Component::bare(kind, name, version, found_by);
    component.locations.insert(location);
    component.purl = Purl::builder_for_type("generic", name)
        .namespace(NVIDIA)
        .version(version)
        .build();
    component.supplier = Some("NVIDIA".to_owned());
    component.gpu = Some(gpu);
    component
}

/// The CPE 2.3 name of an NVIDIA product at a version, as NVD writes NVIDIA's advisories
/// (`cpe:2.3:a:nvidia:cuda_toolkit:12.1.1:*:*:*:*:*:*:*`). `None` for a version that is
/// not plain dotted digits: those would need CPE escaping, and NVIDIA versions never do.
pub(crate) fn nvidia_cpe(product: &str, version: &str) -> Option<String> {
    version::is_numeric(version)
        .then(|| format!("cpe:2.3:a:nvidia:{product}:{version}:*:*:*:*:*:*:*"))
}

/// The CPE product of the NVIDIA display driver (every GPU driver advisory uses it).
pub(crate) const DRIVER_CPE_PRODUCT: &str = "gpu_display_driver";

/// The CPE product of the CUDA toolkit.
pub(crate) const TOOLKIT_CPE_PRODUCT: &str = "cuda_toolkit";

/// Why a small file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// It could not be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// It is larger than the format ever is.
    #[error("file is larger than {limit} bytes, which a {what} never is")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// What the file should be.
        what: &'static str,
    },
}

/// Reads a file that is small by nature (a version file, a header), refusing more than
/// `limit` bytes without reading them.
pub(crate) fn read_small(
    resolver: &dyn Resolver,
    path: &str,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, ReadError> {
    let reader = resolver.open(path)?;
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit, what });
    }
    Ok(bytes)
}

/// The 1-based number of the first line of `text` containing `needle`.
pub(crate) fn line_of(text: &str, needle: &str) -> Option<u32> {
    text.lines()
        .position(|line| line.contains(needle))
        .and_then(|index| u32::try_from(index + 1).ok())
}

#[cfg(test)]
pub(crate) mod test_support {
    //! An in-memory [`Resolver`] and a runner for one cataloger.

    use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

    pub(crate) use bulwark_catalog::testing::MemoryResolver as MemResolver;

    /// Runs `cataloger` on `path`, which it must want.
    pub(crate) fn run(
        cataloger: &dyn Cataloger,
        resolver: &dyn Resolver,
        path: &str,
    ) -> Result<CatalogOutput, CatalogError> {
        let file = FileRef {
            path,
            explicit: false,
        };
        assert!(
            cataloger.wants(&file),
            "{} does not want {path}",
            cataloger.id()
        );
        cataloger.catalog(&file, resolver)
    }

    /// `name@version` of every component, sorted.
    pub(crate) fn listing(output: &CatalogOutput) -> Vec<String> {
        let mut found: Vec<String> = output
            .components
            .iter()
            .map(|c| format!("{}@{}", c.name, c.version.as_deref().unwrap_or("")))
            .collect();
        found.sort();
        found
    }

    /// The fixture folder of this crate.
    pub(crate) fn testdata(relative: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_nvidia_identity() {
        let component = nvidia_component(
            ComponentKind::GpuLibrary,
            "cuda-runtime",
            Some("12.1.105"),
            Location::new("usr/lib/libcudart.so.12.1.105"),
            "gpu/library",
            GpuFacts::default(),
        );
        assert_eq!(
            component.purl.as_ref().map(Purl::as_str),
            Some("pkg:generic/nvidia/cuda-runtime@12.1.105")
        );
        assert_eq!(component.ecosystem, None);
        assert_eq!(
            nvidia_cpe(DRIVER_CPE_PRODUCT, "535.104.05").as_deref(),
            Some("cpe:2.3:a:nvidia:gpu_display_driver:535.104.05:*:*:*:*:*:*:*")
        );
        assert_eq!(nvidia_cpe(TOOLKIT_CPE_PRODUCT, "12.1.1+x"), None);
        assert_eq!(line_of("a\nb\"cuda\"\n", "\"cuda\""), Some(2));
    }
}
