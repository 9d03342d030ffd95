//! GPU software recognized by package name and version, per ecosystem: what
//! [`annotate`](crate::annotate) writes into [`GpuFacts`] and what role
//! [`check`](crate::check) gives each component.

use bulwark_inventory::{Component, ComponentKind, Ecosystem, GpuFacts, GpuPart, Metadata};

use crate::driver::FORWARD_COMPAT;
use crate::version;

/// The part of the GPU stack a component plays in the compatibility checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A framework built against CUDA (`torch`, `jaxlib`, `tensorflow`, `cupy`).
    Framework,
    /// A piece of the stack itself (a library, the toolkit, the driver).
    Part(GpuPart),
    /// The CUDA forward-compatibility package.
    ForwardCompat,
    /// Anything else with GPU facts (`cuda-version`, `nvidia-cuda-nvcc-cu12`).
    Other,
}

/// The role of a component in the checks, from its name and the facts already on it.
pub(crate) fn role(component: &Component) -> Role {
    let gpu = component.gpu.as_ref();
    if gpu.and_then(|g| g.variant.as_deref()) == Some(FORWARD_COMPAT) {
        return Role::ForwardCompat;
    }
    if let Some(part) = gpu.and_then(|g| g.provides) {
        return Role::Part(part);
    }
    let name = normalized(&component.name);
    let framework = match component.ecosystem {
        Some(Ecosystem::PyPI) => {
            matches!(
                name.as_str(),
                "torch" | "torchvision" | "torchaudio" | "jaxlib" | "onnxruntime-gpu"
            ) || jax_cuda_plugin(&name).is_some()
                || name.starts_with("tensorflow")
                || name.starts_with("tf-nightly")
                || name.starts_with("cupy-")
                || name.starts_with("mxnet-cu")
                || name == "paddlepaddle-gpu"
        }
        Some(Ecosystem::Conda) => matches!(
            name.as_str(),
            "pytorch"
                | "torchvision"
                | "torchaudio"
                | "jaxlib"
                | "tensorflow"
                | "tensorflow-base"
                | "tensorflow-gpu"
                | "cupy"
                | "onnxruntime"
        ),
        _ => false,
    };
    if framework {
        Role::Framework
    } else {
        Role::Other
    }
}

/// Lowercase with `_` and `.` as `-` (PEP 503; harmless for the other ecosystems' names).
pub(crate) fn normalized(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// The GPU facts a package's name and version state, or `None` for a package that is not
/// GPU software.
pub(crate) fn facts(component: &Component) -> Option<GpuFacts> {
    let version = component.version.as_deref().unwrap_or("");
    let name = normalized(&component.name);
    match component.ecosystem? {
        Ecosystem::PyPI => pypi(&name, version, &component.metadata),
        Ecosystem::Conda => conda(&name, version, &component.metadata),
        _ if component.kind == ComponentKind::OsPackage => os_package(&name, version),
        Ecosystem::Debian
        | Ecosystem::Ubuntu
        | Ecosystem::RedHat
        | Ecosystem::RockyLinux
        | Ecosystem::AlmaLinux
        | Ecosystem::OpenSuse
        | Ecosystem::Suse
        | Ecosystem::Wolfi
        | Ecosystem::Chainguard => os_package(&name, version),
        _ => None,
    }
}

/// PyPI wheel names `nvidia-<library>-cu<major>` and the part each provides.
const NVIDIA_WHEELS: &[(&str, GpuPart)] = &[
    ("cuda-runtime", GpuPart::CudaRuntime),
    ("cuda-nvrtc", GpuPart::Nvrtc),
    ("cuda-cupti", GpuPart::Cupti),
    ("cublas", GpuPart::Cublas),
    ("cufft", GpuPart::Cufft),
    ("curand", GpuPart::Curand),
    ("cusolver", GpuPart::Cusolver),
    ("cusparse", GpuPart::Cusparse),
    ("cusparselt", GpuPart::Cusparselt),
    ("cudnn", GpuPart::Cudnn),
    ("nccl", GpuPart::Nccl),
    ("nvtx", GpuPart::Nvtx),
    ("nvjitlink", GpuPart::NvJitLink),
    ("cufile", GpuPart::Cufile),
];

/// `name-cu12` → (`name`, `12`).
fn cuda_suffix(name: &str) -> Option<(&str, &str)> {
    let (stem, major) = name.rsplit_once("-cu")?;
    (!major.is_empty() && major.len() <= 3 && major.bytes().all(|b| b.is_ascii_digit()))
        .then_some((stem, major))
}

/// `jax-cuda12-plugin` / `jax-cuda12-pjrt` → `12`.
fn jax_cuda_plugin(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("jax-cuda")?;
    let (major, kind) = rest.split_once('-')?;
    (matches!(kind, "plugin" | "pjrt")
        && !major.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit()))
    .then_some(major)
}

fn pypi(name: &str, version: &str, metadata: &Metadata) -> Option<GpuFacts> {
    let local = version.split_once('+').map(|(_, local)| local);
    let part_facts = |part: Option<GpuPart>, cuda: Option<&str>| GpuFacts {
        provides: part,
        part_version: part
            .filter(|_| !version.is_empty())
            .map(|_| version.to_owned()),
        cuda: cuda.map(str::to_owned),
        ..GpuFacts::default()
    };

    if let Some(rest) = name.strip_prefix("nvidia-") {
        let (stem, cuda) = match cuda_suffix(rest) {
            Some((stem, major)) => (stem, Some(major)),
            // CUDA 13 wheels dropped the suffix (`nvidia-cuda-runtime 13.0.96`).
            None => (rest, None),
        };
        let part = NVIDIA_WHEELS
            .iter()
            .find(|(wheel, _)| *wheel == stem)
            .map(|(_, part)| *part);
        if part.is_none() && cuda.is_none() && stem != "tensorrt" {
            // `nvidia-ml-py`, `nvidia-dali`… are not CUDA builds by name.
            return None;
        }
        let part = part.or((stem == "tensorrt").then_some(GpuPart::TensorRt));
        return Some(part_facts(part, cuda));
    }
    if name == "tensorrt" || name.starts_with("tensorrt-") {
        // `tensorrt-cu12-libs` → CUDA 12.
        let cuda = name
            .split('-')
            .nth(1)
            .and_then(|tag| tag.strip_prefix("cu"))
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        return Some(part_facts(Some(GpuPart::TensorRt), cuda));
    }
    if let Some(major) = jax_cuda_plugin(name) {
        return Some(GpuFacts {
            cuda: Some(major.to_owned()),
            variant: Some(format!("cuda{major}")),
            ..GpuFacts::default()
        });
    }
    if let Some(tag) = name.strip_prefix("cupy-") {
        // `cupy-cuda12x` (any 12.x), `cupy-cuda117` (11.7), `cupy-rocm-5-0`.
        if let Some(major) = tag.strip_prefix("cuda").and_then(|t| t.strip_suffix('x')) {
            return Some(GpuFacts {
                cuda: Some(major.to_owned()),
                variant: Some(tag.to_owned()),
                ..GpuFacts::default()
            });
        }
        if let Some(rocm) = tag.strip_prefix("rocm-") {
            return Some(GpuFacts {
                rocm: Some(rocm.replace('-', ".")),
                variant: Some(tag.to_owned()),
                ..GpuFacts::default()
            });
        }
        return version::cuda_tag(tag).map(|cuda| GpuFacts {
            cuda: Some(cuda),
            variant: Some(tag.to_owned()),
            ..GpuFacts::default()
        });
    }
    if let Some(tag) = name.strip_prefix("mxnet-") {
        return version::cu_tag(tag).map(|cuda| GpuFacts {
            cuda: Some(cuda),
            variant: Some(tag.to_owned()),
            ..GpuFacts::default()
        });
    }
    match name {
        "torch" | "torchvision" | "torchaudio" => {
            let mut facts = local.map(torch_local_tag).unwrap_or_default();
            if facts.cuda.is_none() && facts.variant.is_none() {
                pinned_cuda_wheels(metadata, &mut facts);
            }
            Some(facts).filter(|f| *f != GpuFacts::default())
        }
        "jaxlib" => {
            let local = local?;
            let mut facts = GpuFacts {
                variant: Some(local.to_owned()),
                ..GpuFacts::default()
            };
            for tag in local.split(['.', '_']) {
                if tag.starts_with("cudnn") {
                    facts.cudnn = version::cudnn_tag(tag);
                } else if tag.starts_with("cuda") {
                    facts.cuda = version::cuda_tag(tag);
                } else if let Some(rocm) = tag.strip_prefix("rocm") {
                    facts.rocm = Some(rocm.to_owned()).filter(|r| !r.is_empty());
                }
            }
            Some(facts)
        }
        "jax" => jax_extras(metadata),
        "onnxruntime-gpu" | "paddlepaddle-gpu" | "tensorflow-gpu" => Some(GpuFacts {
            variant: Some("gpu".to_owned()),
            ..GpuFacts::default()
        }),
        _ if name.starts_with("tensorflow") => tensorflow_extras(metadata),
        _ => None,
    }
}

/// PyTorch's local version tags: `cu121`, `cpu`, `rocm5.7`, `cpu.cxx11.abi`.
fn torch_local_tag(local: &str) -> GpuFacts {
    let head = local.split('.').next().unwrap_or(local);
    if let Some(cuda) = version::cu_tag(head) {
        return GpuFacts {
            cuda: Some(cuda),
            variant: Some(head.to_owned()),
            ..GpuFacts::default()
        };
    }
    if let Some(rocm) = local.strip_prefix("rocm") {
        return GpuFacts {
            rocm: Some(rocm.to_owned()).filter(|r| version::is_numeric(r)),
            variant: Some(local.to_owned()),
            ..GpuFacts::default()
        };
    }
    GpuFacts {
        variant: Some(local.to_owned()),
        ..GpuFacts::default()
    }
}

/// PyTorch wheels from the default index carry no `+cu121` tag but pin the CUDA wheels
/// they were built with (`Requires-Dist: nvidia-cuda-runtime-cu12 (==12.1.105) ;
/// platform_system == "Linux"`). Requirements that apply only with an extra are not the
/// build's and are skipped.
fn pinned_cuda_wheels(metadata: &Metadata, facts: &mut GpuFacts) {
    let Metadata::PythonDistribution(distribution) = metadata else {
        return;
    };
    for requirement in &distribution.requires_dist {
        if requirement.contains("extra ==") || requirement.contains("extra==") {
            continue;
        }
        let name_end = requirement
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(requirement.len());
        let name = normalized(&requirement[..name_end]);
        let Some(pin) = requirement[name_end..].split_once("==").map(|(_, rest)| {
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            &rest[..end]
        }) else {
            continue;
        };
        if !version::is_numeric(pin) {
            continue;
        }
        if name.starts_with("nvidia-cuda-runtime-cu") {
            facts.cuda = version::major_minor(pin).map(str::to_owned);
        } else if name.starts_with("nvidia-cudnn-cu") {
            facts.cudnn = Some(pin.to_owned());
        }
    }
}

/// The extras of a declared `jax[cuda12_pip]` requirement.
fn jax_extras(metadata: &Metadata) -> Option<GpuFacts> {
    let Metadata::PythonRequirement(requirement) = metadata else {
        return None;
    };
    requirement.extras.iter().find_map(|extra| {
        let major: String = extra
            .strip_prefix("cuda")?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(GpuFacts {
            cuda: Some(major).filter(|m| !m.is_empty()),
            variant: Some(extra.clone()),
            ..GpuFacts::default()
        })
    })
}

/// `tensorflow[and-cuda]`.
fn tensorflow_extras(metadata: &Metadata) -> Option<GpuFacts> {
    let Metadata::PythonRequirement(requirement) = metadata else {
        return None;
    };
    requirement
        .extras
        .iter()
        .find(|extra| normalized(extra) == "and-cuda")
        .map(|extra| GpuFacts {
            variant: Some(extra.clone()),
            ..GpuFacts::default()
        })
}

/// Conda and OS package base names (after `-dev`, `-static`, `_linux-64` and the
/// `-12-1` toolkit suffix are taken off) and the part each is.
const PACKAGE_PARTS: &[(&str, GpuPart)] = &[
    ("cudatoolkit", GpuPart::CudaToolkit),
    ("cuda-toolkit", GpuPart::CudaToolkit),
    ("cuda-cudart", GpuPart::CudaRuntime),
    ("cuda-nvrtc", GpuPart::Nvrtc),
    ("cuda-cupti", GpuPart::Cupti),
    ("cuda-nvtx", GpuPart::Nvtx),
    ("libnvjitlink", GpuPart::NvJitLink),
    ("libcublas", GpuPart::Cublas),
    ("libcufft", GpuPart::Cufft),
    ("libcurand", GpuPart::Curand),
    ("libcusolver", GpuPart::Cusolver),
    ("libcusparse", GpuPart::Cusparse),
    ("libcusparselt", GpuPart::Cusparselt),
    ("libcufile", GpuPart::Cufile),
    ("cudnn", GpuPart::Cudnn),
    ("libcudnn", GpuPart::Cudnn),
    ("nccl", GpuPart::Nccl),
    ("libnccl", GpuPart::Nccl),
    ("tensorrt", GpuPart::TensorRt),
    ("libnvinfer", GpuPart::TensorRt),
    // Debian's own packaging of CUDA (`nvidia-cuda-toolkit`, `libcudart12`).
    ("nvidia-cuda-toolkit", GpuPart::CudaToolkit),
    ("nvidia-cuda-dev", GpuPart::CudaToolkit),
    ("libcudart", GpuPart::CudaRuntime),
];

/// Strips packaging suffixes that do not change which library a package is.
fn base_name(name: &str) -> &str {
    let mut name = name;
    for suffix in ["-linux-64", "-linux-aarch64", "-linux-ppc64le", "-win-64"] {
        name = name.strip_suffix(suffix).unwrap_or(name);
    }
    for suffix in ["-dev", "-static"] {
        name = name.strip_suffix(suffix).unwrap_or(name);
    }
    name
}

fn conda(name: &str, version: &str, metadata: &Metadata) -> Option<GpuFacts> {
    let build = match metadata {
        Metadata::Conda(conda) => conda.build.as_deref().unwrap_or(""),
        _ => "",
    };
    let from_build = build_facts(build);
    match name {
        "cuda-version" | "pytorch-cuda" => {
            return Some(GpuFacts {
                cuda: Some(version.to_owned()).filter(|v| version::is_numeric(v)),
                ..GpuFacts::default()
            });
        }
        "pytorch" | "torchvision" | "torchaudio" | "jaxlib" | "tensorflow" | "tensorflow-base"
        | "tensorflow-gpu" => {
            return Some(from_build).filter(|f| *f != GpuFacts::default());
        }
        _ => {}
    }
    let base = base_name(name);
    let part = PACKAGE_PARTS
        .iter()
        .find(|(package, _)| *package == base)
        .map(|(_, part)| *part)?;
    let toolkit_versioned = matches!(
        part,
        GpuPart::CudaToolkit
            | GpuPart::CudaRuntime
            | GpuPart::Nvrtc
            | GpuPart::Cupti
            | GpuPart::Nvtx
            | GpuPart::NvJitLink
    );
    Some(GpuFacts {
        provides: Some(part),
        part_version: Some(version.to_owned()).filter(|v| !v.is_empty()),
        cuda: from_build.cuda.or_else(|| {
            toolkit_versioned
                .then(|| version::major_minor(version).map(str::to_owned))
                .flatten()
        }),
        ..GpuFacts::default()
    })
}

/// CUDA facts in a conda build string: `py3.11_cuda12.1_cudnn8.9.2_0` (pytorch channel),
/// `cuda120_py311h…_300` (conda-forge), `cuda11_0`, `py3.11_cpu_0`.
fn build_facts(build: &str) -> GpuFacts {
    let mut facts = GpuFacts::default();
    for token in build.split('_') {
        if token.starts_with("cudnn") {
            facts.cudnn = version::cudnn_tag(token);
        } else if let Some(digits) = token.strip_prefix("cuda") {
            facts.cuda = version::cuda_tag(token);
            let end = digits
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(token.len(), |at| at + 4);
            facts.variant = Some(token[..end].to_owned());
        } else if token == "cpu" {
            facts.variant = Some("cpu".to_owned());
        } else if let Some(rocm) = token.strip_prefix("rocm") {
            facts.rocm = Some(rocm.to_owned()).filter(|r| version::is_numeric(r));
            facts.variant = Some(token.to_owned());
        }
    }
    facts
}

/// Debian, Ubuntu and RPM packages: NVIDIA's repositories name them `cuda-cudart-12-1`,
/// `libcudnn8`, `libcudnn9-cuda-12`, `libnccl2`, `libnvinfer8`; the driver's are
/// `nvidia-driver-535`, `libnvidia-compute-535`, Debian's `libcuda1`.
fn os_package(name: &str, version: &str) -> Option<GpuFacts> {
    let upstream = version::upstream(version);
    let revision_cuda = version::cuda_in_revision(version);
    if is_driver_package(name) {
        return version::is_driver_version(upstream).then(|| GpuFacts {
            provides: Some(GpuPart::NvidiaDriver),
            part_version: Some(upstream.to_owned()),
            ..GpuFacts::default()
        });
    }
    // `cuda-cudart-12-1` → (`cuda-cudart`, CUDA 12.1).
    let (stem, toolkit) = match toolkit_suffix(name) {
        Some((stem, cuda)) => (stem, Some(cuda)),
        None => (name, None),
    };
    if base_name(stem) == "cuda-compat" {
        return Some(GpuFacts {
            cuda: toolkit,
            variant: Some(FORWARD_COMPAT.to_owned()),
            ..GpuFacts::default()
        });
    }
    // `libcudnn9-cuda-12`, `libcudnn9-dev-cuda-12`.
    let (stem, cuda_major) = match stem.rsplit_once("-cuda-") {
        Some((stem, major)) if major.bytes().all(|b| b.is_ascii_digit()) => {
            (stem, Some(major.to_owned()))
        }
        _ => (stem, None),
    };
    let base = base_name(stem).trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let part = PACKAGE_PARTS
        .iter()
        .find(|(package, _)| *package == base)
        .map(|(_, part)| *part)
        .or_else(|| {
            (base.starts_with("libnvinfer") || base.starts_with("libnvonnxparser"))
                .then_some(GpuPart::TensorRt)
        })?;
    // Debian writes its CUDA packages' versions as `<library>~<toolkit>`
    // (`libcudart12 12.0.146~12.0.1-4`, `nvidia-cuda-toolkit 11.8.89~11.8.0-5~deb12u1`).
    let (library_version, toolkit_version) = match upstream.split_once('~') {
        Some((library, toolkit))
            if version::is_numeric(library) && version::is_numeric(toolkit) =>
        {
            (library, Some(toolkit))
        }
        _ => (upstream, None),
    };
    let part_version = if part == GpuPart::CudaToolkit {
        toolkit_version.unwrap_or(library_version)
    } else {
        library_version
    };
    let toolkit_cuda = toolkit_version
        .or((part == GpuPart::CudaToolkit).then_some(part_version))
        .and_then(version::major_minor)
        .map(str::to_owned);
    Some(GpuFacts {
        provides: Some(part),
        part_version: Some(part_version.to_owned()).filter(|v| !v.is_empty()),
        cuda: toolkit.or(revision_cuda).or(cuda_major).or(toolkit_cuda),
        ..GpuFacts::default()
    })
}

/// `-12-1` at the end of a name → CUDA `12.1`.
fn toolkit_suffix(name: &str) -> Option<(&str, String)> {
    let (rest, minor) = name.rsplit_once('-')?;
    let (stem, major) = rest.rsplit_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor) && !stem.is_empty()).then(|| (stem, format!("{major}.{minor}")))
}

/// Packages of the NVIDIA driver. The container toolkit (`nvidia-container-toolkit`,
/// `libnvidia-container1`) shares the prefix but is not the driver; the driver-version check
/// on the version keeps anything else out.
fn is_driver_package(name: &str) -> bool {
    if name.contains("container") {
        return false;
    }
    [
        "nvidia-driver",
        "nvidia-utils",
        "nvidia-kernel",
        "nvidia-dkms",
        "nvidia-compute-utils",
        "nvidia-kmod",
        "kmod-nvidia",
        "libnvidia-",
        "nvidia-smi",
        "libcuda1",
        "nvidia-headless",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_inventory::{CondaPackage, Location, PythonDistribution, PythonRequirement};

    fn package(ecosystem: Ecosystem, name: &str, version: &str) -> Component {
        let mut component =
            Component::package(ecosystem, name, Some(version), Location::new("x"), "test");
        if matches!(
            ecosystem,
            Ecosystem::Debian | Ecosystem::Ubuntu | Ecosystem::RedHat
        ) {
            component.kind = ComponentKind::OsPackage;
        }
        component
    }

    fn conda_build(name: &str, version: &str, build: &str) -> Component {
        let mut component = package(Ecosystem::Conda, name, version);
        component.metadata = Metadata::Conda(CondaPackage {
            build: Some(build.to_owned()),
            ..CondaPackage::default()
        });
        component
    }

    /// `provides/part_version/cuda/cudnn/rocm/variant` as one line.
    fn line(facts: Option<GpuFacts>) -> String {
        let Some(f) = facts else {
            return "-".to_owned();
        };
        format!(
            "{}/{}/{}/{}/{}/{}",
            f.provides.map_or("", GpuPart::as_str),
            f.part_version.as_deref().unwrap_or(""),
            f.cuda.as_deref().unwrap_or(""),
            f.cudnn.as_deref().unwrap_or(""),
            f.rocm.as_deref().unwrap_or(""),
            f.variant.as_deref().unwrap_or("")
        )
    }

    #[test]
    fn pypi_packages() {
        for (name, version, want) in [
            ("torch", "2.2.0+cu121", "//12.1///cu121"),
            ("torch", "2.2.0+cpu", "/////cpu"),
            ("torch", "2.1.2+rocm5.6", "////5.6/rocm5.6"),
            ("torchvision", "0.17.0+cu118", "//11.8///cu118"),
            ("torch", "2.1.2", "-"),
            ("nvidia-cudnn-cu12", "8.9.2.26", "cudnn/8.9.2.26/12///"),
            (
                "nvidia-cuda-runtime-cu12",
                "12.1.105",
                "cuda-runtime/12.1.105/12///",
            ),
            ("nvidia_cublas_cu11", "11.11.3.6", "cublas/11.11.3.6/11///"),
            (
                "nvidia-nvjitlink-cu12",
                "12.3.101",
                "nvjitlink/12.3.101/12///",
            ),
            ("nvidia-cusparselt-cu12", "0.6.2", "cusparselt/0.6.2/12///"),
            ("nvidia-cuda-nvcc-cu12", "12.1.105", "//12///"),
            ("nvidia-cuda-runtime", "13.0.96", "cuda-runtime/13.0.96////"),
            ("nvidia-ml-py", "12.535.108", "-"),
            (
                "jaxlib",
                "0.4.23+cuda12.cudnn89",
                "//12/8.9//cuda12.cudnn89",
            ),
            ("jaxlib", "0.4.23", "-"),
            ("jax-cuda12-plugin", "0.4.30", "//12///cuda12"),
            ("jax-cuda12-pjrt", "0.4.30", "//12///cuda12"),
            ("tensorrt", "8.6.1", "tensorrt/8.6.1////"),
            ("tensorrt-cu12-libs", "10.0.1", "tensorrt/10.0.1/12///"),
            ("cupy-cuda12x", "13.0.0", "//12///cuda12x"),
            ("cupy-cuda117", "10.6.0", "//11.7///cuda117"),
            ("onnxruntime-gpu", "1.17.1", "/////gpu"),
            ("requests", "2.31.0", "-"),
        ] {
            let component = package(Ecosystem::PyPI, name, version);
            assert_eq!(line(facts(&component)), want, "{name} {version}");
        }
    }

    #[test]
    fn torch_from_the_default_index_pins_its_cuda_wheels() {
        let mut torch = package(Ecosystem::PyPI, "torch", "2.1.2");
        torch.metadata = Metadata::PythonDistribution(PythonDistribution {
            requires_dist: vec![
                "filelock".into(),
                "nvidia-cuda-runtime-cu12 (==12.1.105) ; platform_system == \"Linux\" and platform_machine == \"x86_64\"".into(),
                "nvidia-cudnn-cu12==8.9.2.26; platform_system == \"Linux\"".into(),
                "nvidia-cuda-runtime-cu11==11.8.89; extra == \"cu11\"".into(),
            ],
            ..PythonDistribution::default()
        });
        assert_eq!(line(facts(&torch)), "//12.1/8.9.2.26//");
    }

    #[test]
    fn declared_extras() {
        let mut jax = package(Ecosystem::PyPI, "jax", "0.4.23");
        jax.metadata = Metadata::PythonRequirement(PythonRequirement {
            extras: vec!["cuda12_pip".into()],
            ..PythonRequirement::default()
        });
        assert_eq!(line(facts(&jax)), "//12///cuda12_pip");
        let mut tf = package(Ecosystem::PyPI, "tensorflow", "2.15.0");
        tf.metadata = Metadata::PythonRequirement(PythonRequirement {
            extras: vec!["and-cuda".into()],
            ..PythonRequirement::default()
        });
        assert_eq!(line(facts(&tf)), "/////and-cuda");
    }

    #[test]
    fn conda_packages() {
        for (component, want) in [
            (
                conda_build("cudatoolkit", "11.8.0", "h6a678d5_0"),
                "cuda-toolkit/11.8.0/11.8///",
            ),
            (
                conda_build("cuda-cudart", "12.1.105", "0"),
                "cuda-runtime/12.1.105/12.1///",
            ),
            (
                conda_build("cuda-cudart_linux-64", "12.1.105", "h59595ed_0"),
                "cuda-runtime/12.1.105/12.1///",
            ),
            (
                conda_build("cuda-version", "12.1", "h1d6eff3_3"),
                "//12.1///",
            ),
            (
                conda_build("cudnn", "8.9.2.26", "cuda12_0"),
                "cudnn/8.9.2.26/12///",
            ),
            (
                conda_build("nccl", "2.18.3.1", "h12f7317_0"),
                "nccl/2.18.3.1////",
            ),
            (
                conda_build("pytorch", "2.1.2", "py3.11_cuda12.1_cudnn8.9.2_0"),
                "//12.1/8.9.2//cuda12.1",
            ),
            (
                conda_build("pytorch", "2.1.2", "cuda120_py311h25b6552_300"),
                "//12.0///cuda120",
            ),
            (conda_build("pytorch", "2.1.2", "py3.11_cpu_0"), "/////cpu"),
            (
                conda_build("pytorch-cuda", "12.1", "ha16c6d3_5"),
                "//12.1///",
            ),
            (conda_build("numpy", "1.26.4", "py311h64a7726_0"), "-"),
        ] {
            assert_eq!(line(facts(&component)), want, "{}", component.name);
        }
    }

    #[test]
    fn os_packages() {
        for (ecosystem, name, version, want) in [
            (
                Ecosystem::Ubuntu,
                "cuda-cudart-12-1",
                "12.1.105-1",
                "cuda-runtime/12.1.105/12.1///",
            ),
            (
                Ecosystem::Ubuntu,
                "cuda-cudart-dev-12-1",
                "12.1.105-1",
                "cuda-runtime/12.1.105/12.1///",
            ),
            (
                Ecosystem::Ubuntu,
                "cuda-toolkit-12-1",
                "12.1.1-1",
                "cuda-toolkit/12.1.1/12.1///",
            ),
            (
                Ecosystem::Ubuntu,
                "libcudnn8",
                "8.9.2.26-1+cuda12.1",
                "cudnn/8.9.2.26/12.1///",
            ),
            (
                Ecosystem::Ubuntu,
                "libcudnn8-dev",
                "8.9.2.26-1+cuda12.1",
                "cudnn/8.9.2.26/12.1///",
            ),
            (
                Ecosystem::Ubuntu,
                "libcudnn9-cuda-12",
                "9.1.0.70-1",
                "cudnn/9.1.0.70/12///",
            ),
            (
                Ecosystem::Ubuntu,
                "libnccl2",
                "2.18.3-1+cuda12.1",
                "nccl/2.18.3/12.1///",
            ),
            (
                Ecosystem::Ubuntu,
                "libnvinfer8",
                "8.6.1.6-1+cuda12.0",
                "tensorrt/8.6.1.6/12.0///",
            ),
            (
                Ecosystem::Ubuntu,
                "libnvinfer-plugin8",
                "8.6.1.6-1+cuda12.0",
                "tensorrt/8.6.1.6/12.0///",
            ),
            (
                Ecosystem::Ubuntu,
                "nvidia-driver-535",
                "535.104.05-0ubuntu0.22.04.1",
                "nvidia-driver/535.104.05////",
            ),
            (
                Ecosystem::Ubuntu,
                "libnvidia-compute-535",
                "535.104.05-0ubuntu0.22.04.1",
                "nvidia-driver/535.104.05////",
            ),
            (
                Ecosystem::Debian,
                "libcuda1",
                "525.147.05-4~deb12u1",
                "nvidia-driver/525.147.05////",
            ),
            (Ecosystem::Ubuntu, "libnvidia-container1", "1.14.3-1", "-"),
            (
                Ecosystem::Ubuntu,
                "nvidia-container-toolkit",
                "1.14.3-1",
                "-",
            ),
            (
                Ecosystem::Ubuntu,
                "cuda-compat-12-1",
                "530.30.02-1",
                "//12.1///forward-compat",
            ),
            (
                Ecosystem::RedHat,
                "libcudnn8",
                "8.9.2.26-1.cuda12.1",
                "cudnn/8.9.2.26/12.1///",
            ),
            (
                Ecosystem::RedHat,
                "nvidia-driver",
                "3:535.104.05-1.el8",
                "nvidia-driver/535.104.05////",
            ),
            (Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u2", "-"),
            (
                Ecosystem::Debian,
                "nvidia-cuda-toolkit",
                "11.8.89~11.8.0-5~deb12u1",
                "cuda-toolkit/11.8.0/11.8///",
            ),
            (
                Ecosystem::Debian,
                "libcudart12",
                "12.0.146~12.0.1-4",
                "cuda-runtime/12.0.146/12.0///",
            ),
        ] {
            let component = package(ecosystem, name, version);
            assert_eq!(line(facts(&component)), want, "{name} {version}");
        }
    }

    #[test]
    fn roles() {
        let torch = package(Ecosystem::PyPI, "torch", "2.1.2");
        assert_eq!(role(&torch), Role::Framework);
        let mut cudnn = package(Ecosystem::PyPI, "nvidia-cudnn-cu12", "8.9.2.26");
        cudnn.gpu = facts(&cudnn);
        assert_eq!(role(&cudnn), Role::Part(GpuPart::Cudnn));
        let mut nvcc = package(Ecosystem::PyPI, "nvidia-cuda-nvcc-cu12", "12.1.105");
        nvcc.gpu = facts(&nvcc);
        assert_eq!(role(&nvcc), Role::Other);
        let pytorch = conda_build("pytorch", "2.1.2", "py3.11_cuda12.1_cudnn8.9.2_0");
        assert_eq!(role(&pytorch), Role::Framework);
    }
}
