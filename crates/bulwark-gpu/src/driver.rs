//! The NVIDIA driver: the kernel module's version as a live host reports it
//! (`/proc/driver/nvidia/version`, `/sys/module/nvidia/version`) and the user-space driver
//! libraries, whose file names carry the full driver version (`libcuda.so.535.104.05`,
//! `libnvidia-ml.so.535.104.05`).
//!
//! A `libcuda.so.<version>` inside a toolkit's `compat/` directory is not the installed
//! driver: it is the CUDA forward-compatibility package, a newer user-space driver that
//! lets a data-center GPU on an older kernel driver run a newer CUDA. It becomes a
//! `cuda-compat` component, which [`check`](crate::check) takes into account.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{ComponentKind, GpuFacts, GpuPart, Location};

use crate::library::split_library_name;
use crate::paths::{dir_of, ends_with_segments, file_name, toolkit_version_of};
use crate::{DRIVER_CPE_PRODUCT, nvidia_component, nvidia_cpe, read_small, version};

/// The kernel module's version as `/proc` reports it.
const PROC_VERSION: &str = "proc/driver/nvidia/version";

/// The kernel module's version as sysfs reports it.
const SYS_VERSION: &str = "sys/module/nvidia/version";

/// The component name of the driver.
pub(crate) const DRIVER_NAME: &str = "nvidia-driver";

/// The component name of the forward-compatibility libraries.
pub(crate) const COMPAT_NAME: &str = "cuda-compat";

/// The [`GpuFacts::variant`] that marks the forward-compatibility package.
pub(crate) const FORWARD_COMPAT: &str = "forward-compat";

/// Finds the NVIDIA driver version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NvidiaDriverCataloger;

/// Why a driver version file could not be read.
#[derive(Debug, thiserror::Error)]
enum DriverError {
    #[error(transparent)]
    Read(#[from] crate::ReadError),
    #[error("no `NVRM version:` line with a driver version")]
    NoNvrmLine,
    #[error("`{0}` is not a driver version")]
    NotAVersion(String),
}

/// Whether `name` is a user-space driver library named with the full driver version, and
/// that version.
pub(crate) fn driver_library_version(name: &str) -> Option<&str> {
    let (base, version) = split_library_name(name)?;
    let driver_library = matches!(base, "cuda" | "cudadebugger" | "nvcuvid" | "nvoptix")
        || (base.starts_with("nvidia-") && !base.contains("container"));
    (driver_library && version::is_driver_version(version)).then_some(version)
}

impl Cataloger for NvidiaDriverCataloger {
    fn id(&self) -> &'static str {
        "gpu/nvidia-driver"
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        let name = file.file_name();
        if name == "version" {
            return ends_with_segments(file.path, PROC_VERSION)
                || ends_with_segments(file.path, SYS_VERSION);
        }
        name.starts_with("lib")
            && driver_library_version(name).is_some()
            && !crate::library::in_stubs(file.path)
    }

    fn descend(&self, dir: &str) -> bool {
        crate::paths::descend(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let name = file.file_name();
        if name != "version" {
            let Some(version) = driver_library_version(name) else {
                return Ok(CatalogOutput::default());
            };
            let compat = file_name(dir_of(file.path)) == "compat";
            let component = if compat {
                nvidia_component(
                    ComponentKind::DeviceDriver,
                    COMPAT_NAME,
                    Some(version),
                    Location::new(file.path),
                    self.id(),
                    GpuFacts {
                        cuda: toolkit_version_of(file.path).map(str::to_owned),
                        variant: Some(FORWARD_COMPAT.to_owned()),
                        ..GpuFacts::default()
                    },
                )
            } else {
                driver_component(version, Location::new(file.path), self.id())
            };
            return Ok(CatalogOutput::from_components(vec![component]));
        }

        let bytes = read_small(resolver, file.path, 64 * 1024, "driver version file")
            .map_err(DriverError::from)?;
        let text = String::from_utf8_lossy(&bytes);
        let (version, line) = if ends_with_segments(file.path, SYS_VERSION) {
            let version = text.trim();
            if !version::is_driver_version(version) {
                return Err(DriverError::NotAVersion(version.chars().take(40).collect()).into());
            }
            (version.to_owned(), 1)
        } else {
            nvrm_version(&text).ok_or(DriverError::NoNvrmLine)?
        };
        Ok(CatalogOutput::from_components(vec![driver_component(
            &version,
            Location::new(file.path).at_line(line),
            self.id(),
        )]))
    }
}

/// The driver version on the `NVRM version:` line and that line's number:
/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023`
/// or, for the open kernel modules,
/// `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  (…)`.
fn nvrm_version(text: &str) -> Option<(String, u32)> {
    text.lines().zip(1u32..).find_map(|(line, number)| {
        let rest = line.trim_start().strip_prefix("NVRM version:")?;
        let version = rest
            .split_whitespace()
            .find(|token| version::is_driver_version(token))?;
        Some((version.to_owned(), number))
    })
}

/// The driver at `version`, with the CPE NVIDIA's driver advisories use.
pub(crate) fn driver_component(
    version: &str,
    location: Location,
    found_by: &str,
) -> bulwark_inventory::Component {
    let mut component = nvidia_component(
        ComponentKind::DeviceDriver,
        DRIVER_NAME,
        Some(version),
        location,
        found_by,
        GpuFacts {
            provides: Some(GpuPart::NvidiaDriver),
            part_version: Some(version.to_owned()),
            ..GpuFacts::default()
        },
    );
    component
        .cpes
        .extend(nvidia_cpe(DRIVER_CPE_PRODUCT, version));
    component
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{MemResolver, listing, run};

    const PROC: &str = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  \
                        Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n";

    #[test]
    fn wants_by_path() {
        let cataloger = NvidiaDriverCataloger;
        for (path, wanted) in [
            ("proc/driver/nvidia/version", true),
            ("host/proc/driver/nvidia/version", true),
            ("sys/module/nvidia/version", true),
            ("src/version", false),
            ("usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05", true),
            ("usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05", true),
            (
                "usr/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.535.104.05",
                true,
            ),
            ("usr/lib/x86_64-linux-gnu/libcuda.so.1", false),
            ("usr/lib/x86_64-linux-gnu/libcuda.so", false),
            (
                "usr/lib/x86_64-linux-gnu/libnvidia-container.so.1.14.3",
                false,
            ),
            (
                "usr/local/cuda-12.1/lib64/stubs/libcuda.so.535.104.05",
                false,
            ),
            ("usr/local/cuda-12.1/compat/libcuda.so.530.30.02", true),
            ("usr/lib/libcudart.so.12.1.105", false),
        ] {
            let file = FileRef {
                path,
                explicit: false,
            };
            assert_eq!(cataloger.wants(&file), wanted, "{path}");
        }
    }

    #[test]
    fn proc_version() {
        let resolver = MemResolver::default().with("proc/driver/nvidia/version", PROC);
        let output = run(
            &NvidiaDriverCataloger,
            &resolver,
            "proc/driver/nvidia/version",
        )
        .unwrap();
        assert_eq!(listing(&output), ["nvidia-driver@535.104.05"]);
        let driver = &output.components[0];
        assert_eq!(driver.kind, ComponentKind::DeviceDriver);
        assert_eq!(
            driver.purl.as_ref().unwrap().as_str(),
            "pkg:generic/nvidia/nvidia-driver@535.104.05"
        );
        assert_eq!(
            driver.cpes,
            ["cpe:2.3:a:nvidia:gpu_display_driver:535.104.05:*:*:*:*:*:*:*"]
        );
        assert_eq!(driver.locations.first().unwrap().line, Some(1));
        let gpu = driver.gpu.as_ref().unwrap();
        assert_eq!(gpu.provides, Some(GpuPart::NvidiaDriver));
        assert_eq!(gpu.part_version.as_deref(), Some("535.104.05"));
    }

    #[test]
    fn open_kernel_module_and_sysfs() {
        let open = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  \
                    Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Feb 22 01:25:25 UTC 2024\n";
        let resolver = MemResolver::default()
            .with("proc/driver/nvidia/version", open)
            .with("sys/module/nvidia/version", "550.54.14\n");
        for path in ["proc/driver/nvidia/version", "sys/module/nvidia/version"] {
            let output = run(&NvidiaDriverCataloger, &resolver, path).unwrap();
            assert_eq!(listing(&output), ["nvidia-driver@550.54.14"], "{path}");
        }
    }

    #[test]
    fn unreadable_versions_are_errors() {
        let resolver = MemResolver::default()
            .with("proc/driver/nvidia/version", "garbage\n")
            .with("sys/module/nvidia/version", "1.2\n");
        for path in ["proc/driver/nvidia/version", "sys/module/nvidia/version"] {
            assert!(
                run(&NvidiaDriverCataloger, &resolver, path).is_err(),
                "{path}"
            );
        }
        let huge = MemResolver::default().with("proc/driver/nvidia/version", vec![b'x'; 100_000]);
        let error = run(&NvidiaDriverCataloger, &huge, "proc/driver/nvidia/version")
            .unwrap_err()
            .render();
        assert!(error.contains("larger than"), "{error}");
    }

    #[test]
    fn libraries_and_forward_compat() {
        let resolver = MemResolver::default();
        let output = run(
            &NvidiaDriverCataloger,
            &resolver,
            "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05",
        )
        .unwrap();
        assert_eq!(listing(&output), ["nvidia-driver@535.104.05"]);

        let output = run(
            &NvidiaDriverCataloger,
            &resolver,
            "usr/local/cuda-12.1/compat/libcuda.so.530.30.02",
        )
        .unwrap();
        assert_eq!(listing(&output), ["cuda-compat@530.30.02"]);
        let gpu = output.components[0].gpu.as_ref().unwrap();
        assert_eq!(gpu.provides, None);
        assert_eq!(gpu.variant.as_deref(), Some(FORWARD_COMPAT));
        assert_eq!(gpu.cuda.as_deref(), Some("12.1"));
    }
}
