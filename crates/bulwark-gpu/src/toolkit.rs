//! CUDA toolkits: `version.json` at the root of a toolkit directory (CUDA 11.1 and later;
//! `usr/local/cuda-12.1/version.json`) and the older `version.txt` (`CUDA Version
//! 11.0.207`).
//!
//! `version.json` lists the toolkit (`"cuda"`) and each of its parts with its own version
//! (`"cuda_cudart": {"name": "CUDA Runtime (cudart)", "version": "12.1.105"}`). The toolkit
//! becomes a `cuda-toolkit` component with the `cuda_toolkit` CPE; every part becomes a
//! component the toolkit contains, named like the same library found by file so the two
//! sightings merge (`cuda_cudart` is `cuda-runtime`).

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, GpuFacts, GpuPart, Location, Relationship,
    RelationshipKind,
};

use crate::paths::file_name;
use crate::{TOOLKIT_CPE_PRODUCT, line_of, nvidia_component, nvidia_cpe, read_small, version};

/// The component name of a CUDA toolkit.
pub(crate) const TOOLKIT_NAME: &str = "cuda-toolkit";

/// `version.json` keys and the part each is.
const PARTS: &[(&str, GpuPart)] = &[
    ("cuda_cudart", GpuPart::CudaRuntime),
    ("cuda_nvrtc", GpuPart::Nvrtc),
    ("cuda_cupti", GpuPart::Cupti),
    ("cuda_nvtx", GpuPart::Nvtx),
    ("libnvjitlink", GpuPart::NvJitLink),
    ("libcublas", GpuPart::Cublas),
    ("libcufft", GpuPart::Cufft),
    ("libcurand", GpuPart::Curand),
    ("libcusolver", GpuPart::Cusolver),
    ("libcusparse", GpuPart::Cusparse),
    ("libcufile", GpuPart::Cufile),
];

/// `version.json` entries that are not part of the toolkit directory: the runfile installer
/// lists the driver, the `nvidia-fs` kernel module and the fabric manager it bundles,
/// whether or not they were installed. Reporting them would invent a driver.
const NOT_IN_TOOLKIT: &[&str] = &["cuda", "nvidia_driver", "nvidia_fs", "fabricmanager"];

/// The largest version file read.
const MAX_BYTES: u64 = 1024 * 1024;

/// Reads CUDA toolkit version files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CudaToolkitCataloger;

#[derive(Debug, thiserror::Error)]
enum ToolkitError {
    #[error(transparent)]
    Read(#[from] crate::ReadError),
    #[error("invalid JSON")]
    Json(#[from] serde_json::Error),
}

/// Whether `dir` is a toolkit directory: `cuda`, or `cuda-<version>`.
fn is_toolkit_dir(dir: &str) -> bool {
    let name = file_name(dir);
    name == "cuda" || name.strip_prefix("cuda-").is_some_and(version::is_numeric)
}

impl Cataloger for CudaToolkitCataloger {
    fn id(&self) -> &'static str {
        "gpu/cuda-toolkit"
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        matches!(file.file_name(), "version.json" | "version.txt") && is_toolkit_dir(file.dir())
    }

    fn descend(&self, dir: &str) -> bool {
        crate::paths::descend(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let bytes = read_small(resolver, file.path, MAX_BYTES, "CUDA version file")
            .map_err(ToolkitError::from)?;
        let text = String::from_utf8_lossy(&bytes);
        if file.file_name() == "version.txt" {
            return Ok(self.version_txt(file.path, &text));
        }
        let json: serde_json::Value = serde_json::from_str(&text).map_err(ToolkitError::from)?;
        Ok(self.version_json(file.path, &text, &json))
    }
}

impl CudaToolkitCataloger {
    /// `CUDA Version 11.0.207`; anything else in a `cuda/version.txt` is not ours.
    fn version_txt(&self, path: &str, text: &str) -> CatalogOutput {
        let found = text.lines().zip(1u32..).find_map(|(line, number)| {
            let version = line.trim().strip_prefix("CUDA Version ")?.trim();
            version::is_numeric(version).then_some((version, number))
        });
        let Some((version, line)) = found else {
            return CatalogOutput::default();
        };
        CatalogOutput::from_components(vec![toolkit_component(
            version,
            Location::new(path).at_line(line),
            self.id(),
        )])
    }

    fn version_json(&self, path: &str, text: &str, json: &serde_json::Value) -> CatalogOutput {
        let entry_version = |key: &str| {
            json.get(key)?
                .get("version")?
                .as_str()
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let at = |key: &str| {
            let location = Location::new(path);
            match line_of(text, &format!("\"{key}\"")) {
                Some(line) => location.at_line(line),
                None => location,
            }
        };
        // A `version.json` without the toolkit entry is some other file.
        let Some(toolkit_version) = entry_version("cuda") else {
            return CatalogOutput::default();
        };
        let toolkit = toolkit_component(toolkit_version, at("cuda"), self.id());
        let toolkit_id = ComponentId::of(&toolkit);
        let cuda = version::major_minor(toolkit_version).map(str::to_owned);

        let mut output = CatalogOutput::default();
        for key in json.as_object().into_iter().flat_map(|o| o.keys()) {
            if NOT_IN_TOOLKIT.contains(&key.as_str()) {
                continue;
            }
            let Some(part_version) = entry_version(key) else {
                continue;
            };
            let part = PARTS.iter().find(|(k, _)| k == key).map(|(_, part)| *part);
            // Parts without a `GpuPart` (nvcc, cuobjdump, NPP, Nsight) keep their key as
            // name, kebab-cased like the rest.
            let name = part.map_or_else(|| key.replace('_', "-"), |p| p.as_str().to_owned());
            let component = nvidia_component(
                ComponentKind::GpuLibrary,
                &name,
                Some(part_version),
                at(key),
                self.id(),
                GpuFacts {
                    provides: part,
                    part_version: part.map(|_| part_version.to_owned()),
                    cuda: cuda.clone(),
                    ..GpuFacts::default()
                },
            );
            output.relationships.push(Relationship {
                from: toolkit_id.clone(),
                kind: RelationshipKind::Contains,
                to: ComponentId::of(&component),
            });
            output.components.push(component);
        }
        output.components.push(toolkit);
        output
    }
}

/// The toolkit at `version`, with the CPE NVIDIA's CUDA toolkit advisories use.
fn toolkit_component(version: &str, location: Location, found_by: &str) -> Component {
    let mut component = nvidia_component(
        ComponentKind::GpuLibrary,
        TOOLKIT_NAME,
        Some(version),
        location,
        found_by,
        GpuFacts {
            provides: Some(GpuPart::CudaToolkit),
            part_version: Some(version.to_owned()),
            cuda: version::major_minor(version).map(str::to_owned),
            ..GpuFacts::default()
        },
    );
    component
        .cpes
        .extend(nvidia_cpe(TOOLKIT_CPE_PRODUCT, version));
    component
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{MemResolver, listing, run, testdata};

    fn fixture(name: &str) -> Vec<u8> {
        fs_err::read(testdata(name)).unwrap()
    }

    #[test]
    fn version_json_of_cuda_12_1() {
        let path = "usr/local/cuda-12.1/version.json";
        let resolver = MemResolver::default().with(path, fixture("cuda-12.1/version.json"));
        let output = run(&CudaToolkitCataloger, &resolver, path).unwrap();
        let found = listing(&output);
        for want in [
            "cuda-toolkit@12.1.1",
            "cuda-runtime@12.1.105",
            "cublas@12.1.3.1",
            "cufft@11.0.2.54",
            "curand@10.3.2.106",
            "cusolver@11.4.5.107",
            "cusparse@12.1.0.106",
            "nvjitlink@12.1.105",
            "cuda-nvcc@12.1.105",
            "cuda-cuobjdump@12.1.111",
        ] {
            assert!(found.contains(&want.to_owned()), "{want} in {found:?}");
        }
        assert!(!found.iter().any(|c| c.contains("530.30.02")), "{found:?}");
        // One component per entry but the driver; the toolkit contains all others.
        let json: serde_json::Value =
            serde_json::from_slice(&fixture("cuda-12.1/version.json")).unwrap();
        let entries = json.as_object().unwrap().len();
        assert_eq!(output.components.len(), entries - 1);
        assert_eq!(output.relationships.len(), entries - 2);

        let toolkit = output
            .components
            .iter()
            .find(|c| c.name == TOOLKIT_NAME)
            .unwrap();
        assert_eq!(
            toolkit.cpes,
            ["cpe:2.3:a:nvidia:cuda_toolkit:12.1.1:*:*:*:*:*:*:*"]
        );
        assert_eq!(toolkit.locations.first().unwrap().line, Some(2));
        let cudart = output
            .components
            .iter()
            .find(|c| c.name == "cuda-runtime")
            .unwrap();
        let gpu = cudart.gpu.as_ref().unwrap();
        assert_eq!(gpu.provides, Some(GpuPart::CudaRuntime));
        assert_eq!(gpu.cuda.as_deref(), Some("12.1"));
        assert!(
            output
                .relationships
                .iter()
                .all(|r| r.from == ComponentId::of(toolkit))
        );
    }

    #[test]
    fn version_txt_of_cuda_11_0() {
        let path = "usr/local/cuda-11.0/version.txt";
        let resolver = MemResolver::default().with(path, "CUDA Version 11.0.207\n");
        let output = run(&CudaToolkitCataloger, &resolver, path).unwrap();
        assert_eq!(listing(&output), ["cuda-toolkit@11.0.207"]);
        let resolver = MemResolver::default().with(path, "something else\n");
        assert!(
            run(&CudaToolkitCataloger, &resolver, path)
                .unwrap()
                .components
                .is_empty()
        );
    }

    #[test]
    fn other_and_broken_files() {
        let path = "project/cuda/version.json";
        let resolver = MemResolver::default().with(path, r#"{"version": "1.0"}"#);
        assert!(
            run(&CudaToolkitCataloger, &resolver, path)
                .unwrap()
                .components
                .is_empty()
        );
        let resolver = MemResolver::default().with(path, r#"{"cuda": "#);
        assert!(run(&CudaToolkitCataloger, &resolver, path).is_err());
        let resolver = MemResolver::default().with(path, vec![b' '; 2 * 1024 * 1024]);
        assert!(run(&CudaToolkitCataloger, &resolver, path).is_err());
    }

    #[test]
    fn wants_toolkit_directories_only() {
        for (path, wanted) in [
            ("usr/local/cuda-12.1/version.json", true),
            ("usr/local/cuda/version.json", true),
            ("opt/cuda/version.txt", true),
            ("usr/local/cuda-12.1/nsight/version.json", false),
            ("app/version.json", false),
            ("usr/local/cuda-x/version.json", false),
        ] {
            let file = FileRef {
                path,
                explicit: false,
            };
            assert_eq!(CudaToolkitCataloger.wants(&file), wanted, "{path}");
        }
    }
}
