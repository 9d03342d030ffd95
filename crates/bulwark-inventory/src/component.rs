//! One thing found in a stack, and where.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::{Ecosystem, License, PackageName, Purl, SortedSet};

/// What sort of thing a component is. Maps onto CycloneDX component types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    /// A language package (PyPI distribution, npm package, crate, ...).
    Library,
    /// A runnable application.
    Application,
    /// A package of the operating system's package manager.
    OsPackage,
    /// An operating system itself.
    OperatingSystem,
    /// A device driver (the NVIDIA kernel driver and its user-space libraries).
    DeviceDriver,
    /// A GPU runtime or math library (CUDA runtime, cuDNN, NCCL, cuBLAS, TensorRT).
    GpuLibrary,
    /// A machine-learning model file or directory.
    MachineLearningModel,
    /// A dataset.
    Data,
    /// A container image.
    Container,
}

/// Where a component was seen.
///
/// `path` is relative to the scanned target, `/`-separated, so SBOMs of the same tree made on
/// two machines are identical. For a single-file target it is the file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// File path relative to the target.
    pub path: String,
    /// 1-based line within the file, where the format has lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The image layer (diff id) that added the file, for image targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

impl Location {
    /// A location without line or layer.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: None,
            layer: None,
        }
    }

    /// The same location at a line.
    #[must_use]
    pub fn at_line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }
}

/// A hash algorithm, named as CycloneDX names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum HashAlgorithm {
    /// MD5 (legacy lockfiles).
    #[serde(rename = "MD5")]
    Md5,
    /// SHA-1.
    #[serde(rename = "SHA-1")]
    Sha1,
    /// SHA-256.
    #[serde(rename = "SHA-256")]
    Sha256,
    /// SHA-384.
    #[serde(rename = "SHA-384")]
    Sha384,
    /// SHA-512.
    #[serde(rename = "SHA-512")]
    Sha512,
    /// BLAKE2b-256.
    #[serde(rename = "BLAKE2b-256")]
    Blake2b256,
}

impl HashAlgorithm {
    /// Parses the algorithm names used by pip (`sha256`), npm integrity (`sha512`) and
    /// CycloneDX (`SHA-256`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Self::Md5,
            "sha1" => Self::Sha1,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            "blake2b256" => Self::Blake2b256,
            _ => return None,
        })
    }

    /// The CycloneDX spelling (`SHA-256`).
    pub const fn cyclonedx_name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Blake2b256 => "BLAKE2b-256",
        }
    }

    /// The SPDX 2.3 spelling (`SHA256`).
    pub const fn spdx_name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha384 => "SHA384",
            Self::Sha512 => "SHA512",
            Self::Blake2b256 => "BLAKE2b-256",
        }
    }

    /// Length of the digest in hex characters.
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha1 => 40,
            Self::Sha256 | Self::Blake2b256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

/// A digest of a component's artifact (a wheel, a conda archive, a file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Hash {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// Lowercase hex digest.
    pub value: String,
}

impl Hash {
    /// Parses `sha256:abc…`, `sha256=abc…` (pip, RECORD is base64 and handled by its reader).
    /// Returns `None` for unknown algorithms or digests of the wrong length.
    pub fn parse_prefixed(s: &str) -> Option<Self> {
        let (algorithm, value) = s.split_once([':', '='])?;
        Self::new(HashAlgorithm::from_name(algorithm)?, value)
    }

    /// A hash from an algorithm and a hex digest; `None` if the digest is not valid hex of the
    /// algorithm's length.
    pub fn new(algorithm: HashAlgorithm, hex_digest: &str) -> Option<Self> {
        let value = hex_digest.trim().to_ascii_lowercase();
        (value.len() == algorithm.hex_len() && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(Self { algorithm, value })
    }
}

/// Whether a component is needed at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Needed at run time (the default).
    #[default]
    Required,
    /// An optional extra or optional dependency group.
    Optional,
    /// Only for development (dev dependency groups, `[tool.poetry.group.dev]`).
    Development,
}

/// Where a package comes from, as a lockfile or installer records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PackageSource {
    /// A package index or channel.
    Registry {
        /// Index URL or channel name.
        url: String,
    },
    /// A version-control checkout.
    Vcs {
        /// `git`, `hg`, `svn` or `bzr`.
        vcs: String,
        /// Repository URL without the `vcs+` prefix.
        url: String,
        /// Branch, tag or revision as requested.
        #[serde(skip_serializing_if = "Option::is_none")]
        requested_revision: Option<String>,
        /// The resolved commit.
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
    /// A direct archive URL.
    Url {
        /// The URL.
        url: String,
    },
    /// A local directory or archive.
    Path {
        /// The path as written.
        path: String,
        /// Installed in editable (develop) mode.
        editable: bool,
    },
}

/// An installed file of a package (from `RECORD`, `conda-meta/*.json` `files`, dpkg `.list`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FileEntry {
    /// Path relative to the target, `/`-separated.
    pub path: String,
    /// Recorded digest, where the package database records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Hash>,
    /// Recorded size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// `direct_url.json` ([PEP 610](https://peps.python.org/pep-0610/)).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DirectUrl {
    /// The URL the distribution was installed from.
    pub url: String,
    /// `dir_info.editable`.
    pub editable: bool,
    /// `vcs_info.vcs` and `vcs_info.commit_id`, for VCS installs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcs: Option<(String, String)>,
}

/// Facts about an installed Python distribution (`*.dist-info` / `*.egg-info`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PythonDistribution {
    /// `Metadata-Version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_version: Option<String>,
    /// `Requires-Python`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// The `INSTALLER` file (`pip`, `uv`, `conda`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installer: Option<String>,
    /// `direct_url.json`, when installed from a URL, VCS or local directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_url: Option<DirectUrl>,
    /// `Requires-Dist` lines, verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requires_dist: Vec<String>,
    /// The site-packages directory it is installed in, relative to the target.
    pub site_packages: String,
}

/// A requirement as declared in a requirements file or `pyproject.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PythonRequirement {
    /// The version specifier as written (`>=1.2,<2`), empty when none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub specifier: String,
    /// Requested extras.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// The environment marker as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

/// Facts about a conda package (`conda-meta/*.json`, conda-lock, environment.yml).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CondaPackage {
    /// Channel name or URL (`conda-forge`, `pkgs/main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Platform subdirectory (`linux-64`, `noarch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdir: Option<String>,
    /// Build string (`py311h64a7726_0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Build number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_number: Option<u64>,
    /// The environment prefix it is installed in, relative to the target (installed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The match spec as requested (`numpy=1.26`, `conda-forge::pytorch>=2.1`): the
    /// `environment.yml` entry, or `requested_spec` of an installed package. Kept because an
    /// unpinned spec has no version to show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// Facts about an installed operating-system package (dpkg, apk).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OsPackage {
    /// The source package it was built from (dpkg `Source`, apk origin). Distribution
    /// advisories are keyed by source package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package's version (dpkg `Source: name (version)`, else the binary's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// The package architecture (`amd64`, `all`, `x86_64`, `noarch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The distribution and release from `os-release`, `<ID>-<VERSION_ID>` (`debian-12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<String>,
}

/// A part of the GPU software stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GpuPart {
    /// The NVIDIA kernel driver or its user-space libraries (`libcuda`, `libnvidia-ml`).
    NvidiaDriver,
    /// The CUDA runtime (`libcudart`).
    CudaRuntime,
    /// The CUDA toolkit as a whole (`/usr/local/cuda`, `version.json`, `nvcc`).
    CudaToolkit,
    /// The CUDA runtime compiler (`libnvrtc`).
    Nvrtc,
    /// The CUDA JIT linker (`libnvJitLink`).
    #[serde(rename = "nvjitlink")]
    NvJitLink,
    /// CUDA profiling tools interface (`libcupti`).
    Cupti,
    /// NVIDIA Tools Extension (`libnvToolsExt`).
    Nvtx,
    /// cuDNN.
    Cudnn,
    /// NCCL.
    Nccl,
    /// cuBLAS (and cuBLASLt).
    Cublas,
    /// cuFFT.
    Cufft,
    /// cuRAND.
    Curand,
    /// cuSOLVER.
    Cusolver,
    /// cuSPARSE.
    Cusparse,
    /// cuSPARSELt.
    Cusparselt,
    /// cuFile / GPUDirect Storage.
    Cufile,
    /// TensorRT.
    TensorRt,
    /// The ROCm runtime (AMD).
    Rocm,
}

impl GpuPart {
    /// The kebab-case name used in properties (`cuda-runtime`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NvidiaDriver => "nvidia-driver",
            Self::CudaRuntime => "cuda-runtime",
            Self::CudaToolkit => "cuda-toolkit",
            Self::Nvrtc => "nvrtc",
            Self::NvJitLink => "nvjitlink",
            Self::Cupti => "cupti",
            Self::Nvtx => "nvtx",
            Self::Cudnn => "cudnn",
            Self::Nccl => "nccl",
            Self::Cublas => "cublas",
            Self::Cufft => "cufft",
            Self::Curand => "curand",
            Self::Cusolver => "cusolver",
            Self::Cusparse => "cusparse",
            Self::Cusparselt => "cusparselt",
            Self::Cufile => "cufile",
            Self::TensorRt => "tensorrt",
            Self::Rocm => "rocm",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    pub fn from_name(name: &str) -> Option<Self> {
        const ALL: [GpuPart; 18] = [
            GpuPart::NvidiaDriver,
            GpuPart::CudaRuntime,
            GpuPart::CudaToolkit,
            GpuPart::Nvrtc,
            GpuPart::NvJitLink,
            GpuPart::Cupti,
            GpuPart::Nvtx,
            GpuPart::Cudnn,
            GpuPart::Nccl,
            GpuPart::Cublas,
            GpuPart::Cufft,
            GpuPart::Curand,
            GpuPart::Cusolver,
            GpuPart::Cusparse,
            GpuPart::Cusparselt,
            GpuPart::Cufile,
            GpuPart::TensorRt,
            GpuPart::Rocm,
        ];
        ALL.into_iter().find(|part| part.as_str() == name)
    }
}

/// What a component is or needs in the GPU stack: a CUDA library says which part it provides,
/// a framework build (`torch 2.2.0+cu121`) says which CUDA it was built for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GpuFacts {
    /// The part of the GPU stack this component is, if it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provides: Option<GpuPart>,
    /// The version of that part (for a wheel such as `nvidia-cudnn-cu12 8.9.2.26` the same
    /// as the package version; for a library found by file name, the file's version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_version: Option<String>,
    /// The CUDA version the component was built for or requires (`12.1` for `+cu121`, `12`
    /// for a `-cu12` wheel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// The cuDNN version it was built with, where stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cudnn: Option<String>,
    /// The ROCm version of an AMD build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rocm: Option<String>,
    /// The raw build-variant tag as written (`cu121`, `rocm5.7`, `cpu`, `cuda12_pip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl GpuFacts {
    /// Fills the fields this one lacks from `other`.
    pub fn merge(&mut self, other: Self) {
        self.provides = self.provides.or(other.provides);
        self.part_version = self.part_version.take().or(other.part_version);
        self.cuda = self.cuda.take().or(other.cuda);
        self.cudnn = self.cudnn.take().or(other.cudnn);
        self.rocm = self.rocm.take().or(other.rocm);
        self.variant = self.variant.take().or(other.variant);
    }
}

/// What is known about a machine-learning model (a file, a sharded checkpoint or a repository
/// snapshot): what its files and its model card say. Nothing here is guessed; a field the
/// sources do not state stays empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ModelInfo {
    /// The serialization format: `safetensors`, `gguf`, `onnx`, `pytorch` (zip checkpoint),
    /// `pytorch-legacy`, `torchscript`, `pickle`, `joblib`, `numpy`, `keras`, `keras-hdf5`,
    /// `tf-savedmodel`, `tflite`.
    pub format: String,
    /// The architecture (`LlamaForCausalLM`; GGUF `general.architecture`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The task (`text-generation`; the model card's `pipeline_tag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The number of parameters, counted from tensor shapes where the format lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    /// Tensor data types present (`BF16`, `F16`, `Q4_K`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dtypes: Vec<String>,
    /// The quantization scheme (`Q4_K_M`), where stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// The context length, where stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Models this one derives from (`base_model` in the model card).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub base_models: Vec<String>,
    /// Datasets it was trained or evaluated on, as the model card names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<String>,
    /// Inputs, as `name: type[shape]` where the format says (ONNX graph inputs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Outputs, in the same form.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// The Hugging Face repository (`meta-llama/Llama-2-7b-hf`), for hub layouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The repository revision (the commit of a hub cache snapshot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The files that make up the model (the shards of a sharded checkpoint), target-relative.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Model-card considerations by section (`limitations`, `ethical-considerations`, ...).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub considerations: std::collections::BTreeMap<String, String>,
    /// Further format-specific facts (`onnx:opset`, `gguf:tokenizer`, `keras:version`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub properties: std::collections::BTreeMap<String, String>,
}

/// Ecosystem-specific facts about a component; one variant per kind of source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Metadata {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// An installed Python distribution.
    PythonDistribution(PythonDistribution),
    /// A declared Python requirement (requirements file, `pyproject.toml`).
    PythonRequirement(PythonRequirement),
    /// A conda package.
    Conda(CondaPackage),
    /// An installed operating-system package.
    OsPackage(OsPackage),
    /// A machine-learning model.
    Model(ModelInfo),
}

impl Metadata {
    /// How much a source knows: installed facts outrank lock entries, which outrank
    /// declarations. Used when two sightings of one component are merged.
    fn rank(&self) -> u8 {
        match self {
            Self::None => 0,
            Self::PythonRequirement(_) => 1,
            Self::Conda(_) | Self::PythonDistribution(_) | Self::OsPackage(_) | Self::Model(_) => 2,
        }
    }
}

/// One component of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    /// What it is.
    pub kind: ComponentKind,
    /// The name as the source wrote it.
    pub name: String,
    /// The package ecosystem, where it has one (GPU libraries and models may not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<Ecosystem>,
    /// The exact version as stated by the source; `None` when the source does not pin one
    /// (an unpinned requirement), never an invented one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The package URL, the component's identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<Purl>,
    /// Further purls the same thing is known by (a conda package that is also a PyPI
    /// distribution, a Debian package that installed a Python distribution).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_known_as: Vec<Purl>,
    /// CPE 2.3 names, for components no package ecosystem covers (CUDA, the NVIDIA driver).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    /// Every place the component was found.
    pub locations: SortedSet<Location>,
    /// Artifact digests (wheel or archive hashes from lockfiles, conda `sha256`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub hashes: BTreeSet<Hash>,
    /// Declared licenses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<License>,
    /// Author or maintainer, as declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// One-line description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Run-time, optional or development-only.
    pub scope: Scope,
    /// Where the package comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<PackageSource>,
    /// Ids of the catalogers that found it (`python/uv-lock`).
    pub found_by: SortedSet<String>,
    /// Files the component installed. Used to decide which package owns which file; not
    /// written to SBOMs (a PyTorch wheel alone installs over ten thousand files).
    #[serde(skip)]
    pub files: Vec<FileEntry>,
    /// Typed, ecosystem-specific facts.
    pub metadata: Metadata,
    /// Its place in the GPU stack, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuFacts>,
}

impl Component {
    /// A package of `ecosystem` with its purl built from name and version.
    pub fn package(
        ecosystem: Ecosystem,
        name: &str,
        version: Option<&str>,
        location: Location,
        found_by: &str,
    ) -> Self {
        let purl = Purl::builder(ecosystem, name).version(version).build();
        Self {
            kind: ComponentKind::Library,
            name: name.to_owned(),
            ecosystem: Some(ecosystem),
            version: version.map(str::to_owned),
            purl,
            also_known_as: Vec::new(),
            cpes: Vec::new(),
            locations: SortedSet::from([location]),
            hashes: BTreeSet::new(),
            licenses: Vec::new(),
            supplier: None,
            description: None,
            scope: Scope::Required,
            source: None,
            found_by: SortedSet::from([found_by.to_owned()]),
            files: Vec::new(),
            metadata: Metadata::None,
            gpu: None,
        }
    }

    /// A component outside any package ecosystem (a container image, a GPU library found by
    /// file name): no ecosystem, no purl and no location until the caller sets them.
    pub fn bare(kind: ComponentKind, name: &str, version: Option<&str>, found_by: &str) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            ecosystem: None,
            version: version.map(str::to_owned),
            purl: None,
            also_known_as: Vec::new(),
            cpes: Vec::new(),
            locations: SortedSet::default(),
            hashes: BTreeSet::new(),
            licenses: Vec::new(),
            supplier: None,
            description: None,
            scope: Scope::Required,
            source: None,
            found_by: SortedSet::from([found_by.to_owned()]),
            files: Vec::new(),
            metadata: Metadata::None,
            gpu: None,
        }
    }

    /// The name normalized for matching, if the component has an ecosystem.
    pub fn package_name(&self) -> Option<PackageName> {
        self.ecosystem.map(|e| PackageName::new(e, &self.name))
    }

    /// Folds another sighting of the same component into this one: locations, hashes,
    /// licenses, aliases and finders are united; fields this one lacks are taken from
    /// `other`; the richer metadata wins; the narrower scope wins (a package both required
    /// and dev-only is required).
    pub fn merge(&mut self, other: Self) {
        self.locations.extend(other.locations);
        self.hashes.extend(other.hashes);
        self.found_by.extend(other.found_by);
        for license in other.licenses {
            if !self.licenses.contains(&license) {
                self.licenses.push(license);
            }
        }
        for purl in other.also_known_as {
            if !self.also_known_as.contains(&purl) && Some(&purl) != self.purl.as_ref() {
                self.also_known_as.push(purl);
            }
        }
        for cpe in other.cpes {
            if !self.cpes.contains(&cpe) {
                self.cpes.push(cpe);
            }
        }
        self.scope = self.scope.min(other.scope);
        self.supplier = self.supplier.take().or(other.supplier);
        self.description = self.description.take().or(other.description);
        self.source = self.source.take().or(other.source);
        if self.files.is_empty() {
            self.files = other.files;
        }
        if other.metadata.rank() > self.metadata.rank() {
            self.metadata = other.metadata;
        }
        match (&mut self.gpu, other.gpu) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }
}
