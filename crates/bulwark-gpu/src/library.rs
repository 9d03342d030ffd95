//! CUDA, cuDNN, NCCL and TensorRT shared libraries found by file name, wherever they are:
//! a toolkit (`usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105`), an OS
//! package (`usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.2`), a wheel
//! (`site-packages/nvidia/cudnn/lib/libcudnn.so.8`) or a framework's vendored copy
//! (`site-packages/torch/lib/libcudart-e409450e.so.11.0`, the hash added by `auditwheel`).
//!
//! The version is the file name's. A name with fewer than three version components is an
//! ABI name (`libcudart.so.12`, `libnvrtc.so.11.2`): it is skipped when a fuller name of the
//! same library sits in the same directory, and otherwise the ELF file itself is consulted:
//! its SONAME, and for NCCL the `NCCL version 2.18.1+cuda12.1` string it carries in
//! `.rodata`. Only headers and the sections named are read, never a whole library.

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{ComponentKind, GpuFacts, GpuPart, Location, Problem};

use crate::paths::{dir_of, toolkit_version_of};
use crate::{elf, nvidia_component, version};

/// Library base names (between `lib` and `.so`) and the part each belongs to.
const LIBRARIES: &[(&str, GpuPart)] = &[
    ("cudart", GpuPart::CudaRuntime),
    ("cublas", GpuPart::Cublas),
    ("cublasLt", GpuPart::Cublas),
    ("cufft", GpuPart::Cufft),
    ("cufftw", GpuPart::Cufft),
    ("curand", GpuPart::Curand),
    ("cusolver", GpuPart::Cusolver),
    ("cusolverMg", GpuPart::Cusolver),
    ("cusparse", GpuPart::Cusparse),
    ("cusparseLt", GpuPart::Cusparselt),
    ("nvrtc", GpuPart::Nvrtc),
    ("nvrtc-builtins", GpuPart::Nvrtc),
    ("nvJitLink", GpuPart::NvJitLink),
    ("cupti", GpuPart::Cupti),
    ("nvToolsExt", GpuPart::Nvtx),
    ("cudnn", GpuPart::Cudnn),
    ("nccl", GpuPart::Nccl),
    ("nvinfer", GpuPart::TensorRt),
    ("nvinfer_plugin", GpuPart::TensorRt),
    ("nvinfer_lean", GpuPart::TensorRt),
    ("nvinfer_dispatch", GpuPart::TensorRt),
    ("nvinfer_vc_plugin", GpuPart::TensorRt),
    ("nvonnxparser", GpuPart::TensorRt),
    ("cufile", GpuPart::Cufile),
    ("cufile_rdma", GpuPart::Cufile),
];

/// Parts whose library version is the CUDA toolkit's own (`libcudart.so.12.1.105` is CUDA
/// 12.1), so the file states which CUDA it belongs to.
const TOOLKIT_VERSIONED: &[GpuPart] = &[GpuPart::CudaRuntime, GpuPart::Nvrtc, GpuPart::NvJitLink];

/// The `.rodata` string that precedes a library's full version, where one is known.
fn version_marker(part: GpuPart) -> Option<&'static [u8]> {
    match part {
        // NCCL prints its `VERSION_STRING` ("NCCL version 2.18.1+cuda12.1") at init.
        GpuPart::Nccl => Some(b"NCCL version "),
        _ => None,
    }
}

/// Splits `lib<base>.so[.<version>]` into base and version (`""` when unversioned). `None`
/// for other names, or a version that is not dotted digits (`libfoo.so.1.debug`).
pub(crate) fn split_library_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("lib")?;
    let at = rest.find(".so")?;
    let (base, tail) = (&rest[..at], &rest[at + 3..]);
    if base.is_empty() {
        return None;
    }
    let version = match tail.strip_prefix('.') {
        Some(version) if version::is_numeric(version) => version,
        Some(_) => return None,
        None if tail.is_empty() => "",
        None => return None,
    };
    Some((base, version))
}

/// The part a library base name belongs to, accepting the `-<8 hex digits>` suffix
/// `auditwheel` gives vendored copies (`cudart-e409450e`) and the cuDNN 8 sub-libraries
/// (`cudnn_ops_infer`, `cudnn_cnn_train`, cuDNN 9's `cudnn_graph`, …).
pub(crate) fn library_part(base: &str) -> Option<GpuPart> {
    let lookup = |base: &str| {
        LIBRARIES
            .iter()
            .find(|(name, _)| *name == base)
            .map(|(_, part)| *part)
            .or_else(|| base.starts_with("cudnn_").then_some(GpuPart::Cudnn))
    };
    lookup(base).or_else(|| {
        let (stem, hash) = base.rsplit_once('-')?;
        (hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| lookup(stem))
            .flatten()
    })
}

/// Whether a path lies in a `stubs` directory: the link-time stand-ins a toolkit ships
/// (`lib64/stubs/libcuda.so`), which are never loaded.
pub(crate) fn in_stubs(path: &str) -> bool {
    dir_of(path).split('/').any(|segment| segment == "stubs")
}

/// Finds GPU libraries by file name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GpuLibraryCataloger;

impl Cataloger for GpuLibraryCataloger {
    fn id(&self) -> &'static str {
        "gpu/library"
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        let name = file.file_name();
        name.starts_with("lib")
            && split_library_name(name).is_some_and(|(base, _)| library_part(base).is_some())
            && !in_stubs(file.path)
    }

    fn descend(&self, dir: &str) -> bool {
        crate::paths::descend(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let mut output = CatalogOutput::default();
        let Some((base, name_version)) = split_library_name(file.file_name()) else {
            return Ok(output);
        };
        let Some(part) = library_part(base) else {
            return Ok(output);
        };
        let mut found = Found {
            version: name_version.to_owned(),
            cuda: None,
        };
        if depth(name_version) < 3 {
            if has_fuller_sibling(resolver, file, base, name_version) {
                return Ok(output);
            }
            match resolver
                .open(file.path)
                .map_err(elf::ElfError::from)
                .and_then(|reader| elf::read(reader, version_marker(part)))
            {
                Ok(Some(facts)) => found.improve(&facts),
                // Not ELF (an empty placeholder, a linker script): the name is all there is.
                Ok(None) => {}
                Err(error) => output.problems.push(Problem {
                    path: file.path.to_owned(),
                    line: None,
                    cataloger: Some(self.id().to_owned()),
                    message: CatalogError::new(error).render(),
                }),
            }
        }
        if found.version.is_empty() {
            return Ok(output);
        }
        let cuda = found
            .cuda
            .or_else(|| toolkit_version_of(file.path).map(str::to_owned))
            .or_else(|| {
                TOOLKIT_VERSIONED.contains(&part).then(|| {
                    version::major_minor(&found.version)
                        .filter(|_| found.version.split('.').count() >= 3)
                        .map(str::to_owned)
                        .or_else(|| version::major(&found.version).map(|m| m.to_string()))
                })?
            });
        output.components.push(nvidia_component(
            ComponentKind::GpuLibrary,
            part.as_str(),
            Some(&found.version),
            Location::new(file.path),
            self.id(),
            GpuFacts {
                provides: Some(part),
                part_version: Some(found.version.clone()),
                cuda,
                ..GpuFacts::default()
            },
        ));
        Ok(output)
    }
}

/// The version settled on for one library file.
struct Found {
    version: String,
    cuda: Option<String>,
}

impl Found {
    /// Takes a fuller version from the ELF file: the `.rodata` marker's, else a SONAME that
    /// says more than the file name and agrees with it.
    fn improve(&mut self, facts: &elf::ElfFacts) {
        if let Some(marked) = &facts.marked {
            let (release, build) = marked.split_once('+').unwrap_or((marked, ""));
            if version::is_numeric(release) && version::prefix_compatible(release, &self.version) {
                self.version = release.to_owned();
                self.cuda = version::cuda_tag(build);
                return;
            }
        }
        let soname_version = facts
            .soname
            .as_deref()
            .and_then(split_library_name)
            .map(|(_, version)| version);
        if let Some(soname_version) = soname_version
            && depth(soname_version) > depth(&self.version)
            && (self.version.is_empty()
                || version::prefix_compatible(soname_version, &self.version))
        {
            self.version = soname_version.to_owned();
        }
    }
}

/// The number of components of a version (`0` for none).
fn depth(version: &str) -> usize {
    if version.is_empty() {
        0
    } else {
        version.split('.').count()
    }
}

/// Whether the directory holds the same library under a fuller version (`libcudart.so.12`
/// next to `libcudart.so.12.1.105`, copied rather than linked).
fn has_fuller_sibling(
    resolver: &dyn Resolver,
    file: &FileRef<'_>,
    base: &str,
    version: &str,
) -> bool {
    let Ok(names) = resolver.read_dir(file.dir()) else {
        return false;
    };
    names.iter().any(|name| {
        split_library_name(name).is_some_and(|(other_base, other)| {
            other_base == base
                && depth(other) > depth(version)
                && (version.is_empty() || version::prefix_compatible(other, version))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::tests::shared_object;
    use crate::test_support::{MemResolver, listing, run};

    #[test]
    fn names() {
        assert_eq!(
            split_library_name("libcudart.so.12.1.105"),
            Some(("cudart", "12.1.105"))
        );
        assert_eq!(split_library_name("libcudart.so"), Some(("cudart", "")));
        assert_eq!(split_library_name("libcudart.so.12.debug"), None);
        assert_eq!(split_library_name("libcudart.solib"), None);
        assert_eq!(split_library_name("lib.so.1"), None);
        assert_eq!(library_part("cudart-e409450e"), Some(GpuPart::CudaRuntime));
        assert_eq!(library_part("nvrtc-builtins"), Some(GpuPart::Nvrtc));
        assert_eq!(library_part("cudnn_ops_infer"), Some(GpuPart::Cudnn));
        assert_eq!(library_part("cublasLt"), Some(GpuPart::Cublas));
        assert_eq!(library_part("cudart-xyz"), None);
        assert_eq!(library_part("cudart_static"), None);
        assert_eq!(library_part("torch_cuda"), None);
    }

    #[test]
    fn full_versions_from_names() {
        let resolver = MemResolver::default();
        let cases = [
            (
                "usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105",
                "cuda-runtime@12.1.105",
                Some("12.1"),
            ),
            (
                "usr/lib/x86_64-linux-gnu/libcublasLt.so.12.1.3.1",
                "cublas@12.1.3.1",
                None,
            ),
            (
                "usr/lib/x86_64-linux-gnu/libcudnn_ops_infer.so.8.9.2",
                "cudnn@8.9.2",
                None,
            ),
            (
                "usr/lib/x86_64-linux-gnu/libnvinfer.so.8.6.1",
                "tensorrt@8.6.1",
                None,
            ),
            (
                "opt/libs/libnvrtc.so.12.1.105",
                "nvrtc@12.1.105",
                Some("12.1"),
            ),
        ];
        for (path, want, cuda) in cases {
            let output = run(&GpuLibraryCataloger, &resolver, path).unwrap();
            assert_eq!(listing(&output), [want], "{path}");
            let gpu = output.components[0].gpu.as_ref().unwrap();
            assert_eq!(gpu.cuda.as_deref(), cuda, "{path}");
            assert_eq!(
                output.components[0].kind,
                ComponentKind::GpuLibrary,
                "{path}"
            );
        }
    }

    #[test]
    fn abi_names_defer_to_fuller_siblings() {
        let dir = "usr/local/cuda-12.1/lib64";
        let resolver = MemResolver::default()
            .with(&format!("{dir}/libcudart.so.12"), "")
            .with(&format!("{dir}/libcudart.so.12.1.105"), "")
            .with(&format!("{dir}/libcufft.so.11"), "");
        let output = run(
            &GpuLibraryCataloger,
            &resolver,
            &format!("{dir}/libcudart.so.12"),
        )
        .unwrap();
        assert!(output.components.is_empty());
        // No fuller sibling, not ELF: the ABI version as the name writes it.
        let output = run(
            &GpuLibraryCataloger,
            &resolver,
            &format!("{dir}/libcufft.so.11"),
        )
        .unwrap();
        assert_eq!(listing(&output), ["cufft@11"]);
        assert!(output.problems.is_empty());
    }

    #[test]
    fn vendored_copy_reads_the_elf() {
        let torch = "venv/lib/python3.11/site-packages/torch/lib";
        let mut rodata = b"\0junk\0".to_vec();
        rodata.extend_from_slice(b"NCCL version 2.18.1+cuda12.1\0");
        let resolver = MemResolver::default()
            .with(
                &format!("{torch}/libcudart-e409450e.so.11.0"),
                shared_object("libcudart-e409450e.so.11.0", b""),
            )
            .with(
                &format!("{torch}/libnccl.so.2"),
                shared_object("libnccl.so.2", &rodata),
            )
            .with(
                &format!("{torch}/libcudnn.so"),
                shared_object("libcudnn.so.8", b""),
            )
            .with(
                &format!("{torch}/libnvrtc-672ee683.so.11.2"),
                b"\x7fELF\x02garbage".to_vec(),
            );

        let output = run(
            &GpuLibraryCataloger,
            &resolver,
            &format!("{torch}/libcudart-e409450e.so.11.0"),
        )
        .unwrap();
        assert_eq!(listing(&output), ["cuda-runtime@11.0"]);
        assert_eq!(
            output.components[0].gpu.as_ref().unwrap().cuda.as_deref(),
            Some("11")
        );

        let output = run(
            &GpuLibraryCataloger,
            &resolver,
            &format!("{torch}/libnccl.so.2"),
        )
        .unwrap();
        assert_eq!(listing(&output), ["nccl@2.18.1"]);
        assert_eq!(
            output.components[0].gpu.as_ref().unwrap().cuda.as_deref(),
            Some("12.1")
        );

        let output = run(
            &GpuLibraryCataloger,
            &resolver,
            &format!("{torch}/libcudnn.so"),
        )
        .unwrap();
        assert_eq!(listing(&output), ["cudnn@8"]);

        // A broken ELF: a problem, and the name's version still stands.
        let output = run(
            &GpuLibraryCataloger,
            &resolver,
            &format!("{torch}/libnvrtc-672ee683.so.11.2"),
        )
        .unwrap();
        assert_eq!(listing(&output), ["nvrtc@11.2"]);
        assert_eq!(output.problems.len(), 1);
        assert!(output.problems[0].message.contains("ELF"));
    }

    #[test]
    fn wants_only_gpu_libraries_outside_stubs() {
        for (path, wanted) in [
            ("usr/lib/libcudnn.so.8.9.2", true),
            ("usr/lib/libcudnn_adv_train.so.8", true),
            ("usr/lib/libcudart_static.a", false),
            ("usr/lib/libcudart.so.12.1.105", true),
            ("usr/local/cuda/lib64/stubs/libcublas.so", false),
            ("usr/lib/libcuda.so.535.104.05", false),
            ("usr/lib/libssl.so.3", false),
            ("site-packages/torch/lib/libtorch_cuda.so", false),
        ] {
            let file = FileRef {
                path,
                explicit: false,
            };
            assert_eq!(GpuLibraryCataloger.wants(&file), wanted, "{path}");
        }
    }
}
