//! `annotate` over inventories the walk produced from realistic trees: a venv holding
//! PyTorch 2.1.2 and the twelve `nvidia-*-cu12` wheels it pins (the bench corpus's `ml-venv`,
//! versions from its `truth/ml-venv.freeze.txt`), with empty files named like the real ones.

use std::path::Path;

use bulwark_catalog::{Cataloger, Progress, catalog_target};
use bulwark_inventory::{ComponentKind, Ecosystem, GpuPart, Inventory, RelationshipKind};

use super::*;

pub(crate) const SITE: &str = "venv/lib/python3.11/site-packages";

/// The NVIDIA wheels torch 2.1.2 pins, with the libraries each installs (the `lib/` file
/// names of the real wheels).
pub(crate) const CUDA_WHEELS: &[(&str, &str, &str, &[&str])] = &[
    (
        "nvidia-cublas-cu12",
        "12.1.3.1",
        "cublas",
        &["libcublas.so.12", "libcublasLt.so.12", "libnvblas.so.12"],
    ),
    (
        "nvidia-cuda-cupti-cu12",
        "12.1.105",
        "cuda_cupti",
        &["libcupti.so.12", "libnvperf_host.so"],
    ),
    (
        "nvidia-cuda-nvrtc-cu12",
        "12.1.105",
        "cuda_nvrtc",
        &["libnvrtc.so.12", "libnvrtc-builtins.so.12.1"],
    ),
    (
        "nvidia-cuda-runtime-cu12",
        "12.1.105",
        "cuda_runtime",
        &["libcudart.so.12"],
    ),
    (
        "nvidia-cudnn-cu12",
        "8.9.2.26",
        "cudnn",
        &[
            "libcudnn.so.8",
            "libcudnn_ops_infer.so.8",
            "libcudnn_cnn_train.so.8",
        ],
    ),
    (
        "nvidia-cufft-cu12",
        "11.0.2.54",
        "cufft",
        &["libcufft.so.11", "libcufftw.so.11"],
    ),
    (
        "nvidia-curand-cu12",
        "10.3.2.106",
        "curand",
        &["libcurand.so.10"],
    ),
    (
        "nvidia-cusolver-cu12",
        "11.4.5.107",
        "cusolver",
        &["libcusolver.so.11", "libcusolverMg.so.11"],
    ),
    (
        "nvidia-cusparse-cu12",
        "12.1.0.106",
        "cusparse",
        &["libcusparse.so.12"],
    ),
    ("nvidia-nccl-cu12", "2.18.1", "nccl", &["libnccl.so.2"]),
    (
        "nvidia-nvjitlink-cu12",
        "12.3.101",
        "nvjitlink",
        &["libnvJitLink.so.12"],
    ),
    (
        "nvidia-nvtx-cu12",
        "12.1.105",
        "nvtx",
        &["libnvToolsExt.so.1"],
    ),
];

pub(crate) fn write(root: &Path, path: &str, content: &str) {
    let full = root.join(path);
    fs_err::create_dir_all(full.parent().unwrap()).unwrap();
    fs_err::write(full, content).unwrap();
}

/// An installed distribution: `METADATA`, `RECORD` listing `files`, and the files.
pub(crate) fn install(
    root: &Path,
    site: &str,
    name: &str,
    version: &str,
    requires: &[&str],
    files: &[(&str, &str)],
) {
    let dist_info = format!("{}-{version}.dist-info", name.replace('-', "_"));
    let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for requirement in requires {
        metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    write(root, &format!("{site}/{dist_info}/METADATA"), &metadata);
    write(root, &format!("{site}/{dist_info}/INSTALLER"), "pip\n");
    let mut record = String::new();
    for (path, content) in files {
        write(root, &format!("{site}/{path}"), content);
        record.push_str(&format!("{path},,\n"));
    }
    record.push_str(&format!("{dist_info}/METADATA,,\n{dist_info}/RECORD,,\n"));
    write(root, &format!("{site}/{dist_info}/RECORD"), &record);
}

/// The torch 2.1.2 venv of the bench corpus.
pub(crate) fn ml_venv(root: &Path, site: &str) {
    let mut requires = vec!["filelock".to_owned()];
    for (wheel, version, dir, libraries) in CUDA_WHEELS {
        requires.push(format!(
            "{wheel} (=={version}) ; platform_system == \"Linux\" and platform_machine == \"x86_64\""
        ));
        let files: Vec<(String, &str)> = libraries
            .iter()
            .map(|lib| (format!("nvidia/{dir}/lib/{lib}"), ""))
            .chain([(format!("nvidia/{dir}/__init__.py"), "")])
            .collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        install(root, site, wheel, version, &[], &files);
    }
    let requires: Vec<&str> = requires.iter().map(String::as_str).collect();
    install(
        root,
        site,
        "torch",
        "2.1.2",
        &requires,
        &[
            (
                "torch/version.py",
                "__version__ = '2.1.2+cu121'\ndebug = False\ncuda: Optional[str] = '12.1'\n\
                 git_version = 'a8e7c98cb95ff97bb30a728c6b2a1ce6bff946eb'\nhip: Optional[str] = None\n",
            ),
            ("torch/lib/libtorch_cuda.so", ""),
            ("torch/lib/libgomp-a34b3233.so.1", ""),
            ("torch/include/ATen/cuda/CUDAContext.h", ""),
        ],
    );
}

pub(crate) fn catalogers() -> Vec<Box<dyn Cataloger>> {
    let mut all = crate::catalogers();
    all.extend(bulwark_catalog_python::catalogers());
    all
}

pub(crate) fn scan(root: &Path) -> Inventory {
    let mut inventory = catalog_target(root, "t", &catalogers(), &Progress::default()).unwrap();
    annotate(&mut inventory);
    inventory
}

fn find<'a>(inventory: &'a Inventory, name: &str) -> &'a Component {
    inventory
        .components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} not in {:?}", names_of(inventory)))
}

fn names_of(inventory: &Inventory) -> Vec<String> {
    inventory
        .components
        .iter()
        .map(|c| format!("{}@{}", c.name, c.version.as_deref().unwrap_or("")))
        .collect()
}

#[test]
fn wheel_libraries_fold_into_their_wheels_and_torch_learns_its_build() {
    let dir = tempfile::tempdir().unwrap();
    ml_venv(dir.path(), SITE);
    let inventory = scan(dir.path());

    // Every library file belongs to a wheel of the same part: no separate components, no
    // placeholder left.
    let loose: Vec<String> = inventory
        .components
        .iter()
        .filter(|c| c.ecosystem.is_none())
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(loose.is_empty(), "{loose:#?}");
    assert_eq!(inventory.components.len(), CUDA_WHEELS.len() + 1);

    for (wheel, version, dir, libraries) in CUDA_WHEELS {
        let component = find(&inventory, wheel);
        let gpu = component.gpu.as_ref().unwrap();
        assert_eq!(gpu.part_version.as_deref(), Some(*version), "{wheel}");
        assert_eq!(gpu.cuda.as_deref(), Some("12"), "{wheel}");
        assert!(gpu.provides.is_some(), "{wheel}");
        for library in *libraries {
            if crate::library::split_library_name(library)
                .is_some_and(|(base, _)| crate::library::library_part(base).is_some())
            {
                let path = format!("{SITE}/nvidia/{dir}/lib/{library}");
                assert!(
                    component.locations.iter().any(|l| l.path == path),
                    "{wheel} lacks {path}"
                );
                assert!(component.found_by.contains(&"gpu/library".to_owned()));
            }
        }
    }
    assert_eq!(
        find(&inventory, "nvidia-cudnn-cu12")
            .gpu
            .as_ref()
            .unwrap()
            .provides,
        Some(GpuPart::Cudnn)
    );

    let torch = find(&inventory, "torch");
    let gpu = torch.gpu.as_ref().unwrap();
    assert_eq!(gpu.cuda.as_deref(), Some("12.1"));
    assert_eq!(gpu.cudnn.as_deref(), Some("8.9.2.26"));
    assert_eq!(gpu.variant.as_deref(), Some("cu121"));
    assert!(
        torch
            .locations
            .iter()
            .any(|l| l.path == format!("{SITE}/torch/version.py"))
    );

    // Sorted as assemble sorts, and idempotent.
    let mut again = inventory.clone();
    annotate(&mut again);
    assert_eq!(again, inventory);
}

#[test]
fn vendored_libraries_stay_and_are_contained() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        SITE,
        "torch",
        "1.13.1+cu117",
        &[],
        &[
            ("torch/lib/libcudart-d0da41ae.so.11.0", ""),
            ("torch/lib/libnvToolsExt-847d78f2.so.1", ""),
            ("torch/lib/libcudnn.so.8", ""),
        ],
    );
    let inventory = scan(dir.path());
    let torch = find(&inventory, "torch");
    let gpu = torch.gpu.as_ref().unwrap();
    assert_eq!(gpu.cuda.as_deref(), Some("11.7"));
    assert_eq!(gpu.variant.as_deref(), Some("cu117"));
    assert_eq!(
        gpu.cudnn.as_deref(),
        Some("8"),
        "learned from the vendored cuDNN"
    );

    let cudart = find(&inventory, "cuda-runtime");
    assert_eq!(cudart.version.as_deref(), Some("11.0"));
    assert_eq!(cudart.kind, ComponentKind::GpuLibrary);
    let contained: Vec<&str> = inventory
        .relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::Contains && r.from == ComponentId::of(torch))
        .map(|r| r.to.as_str())
        .collect();
    assert_eq!(
        contained,
        [
            "pkg:generic/nvidia/cuda-runtime@11.0",
            "pkg:generic/nvidia/cudnn@8",
            "pkg:generic/nvidia/nvtx@1"
        ]
    );
}

#[test]
fn os_packages_own_the_driver_and_toolkit_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "usr/local/cuda-12.1/version.json",
        &fs_err::read_to_string(crate::test_support::testdata("cuda-12.1/version.json")).unwrap(),
    );
    write(
        root,
        "usr/local/cuda-12.1/targets/x86_64-linux/lib/libcudart.so.12.1.105",
        "",
    );
    write(root, "usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05", "");
    write(
        root,
        "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05",
        "",
    );
    let mut inventory =
        catalog_target(root, "t", &crate::catalogers(), &Progress::default()).unwrap();

    // An OS package that installed the driver libraries, as the dpkg cataloger reports it.
    let mut compute = Component::package(
        Ecosystem::Ubuntu,
        "libnvidia-compute-535",
        Some("535.104.05-0ubuntu0.22.04.1"),
        Location::new("var/lib/dpkg/status").at_line(10),
        "os/dpkg",
    );
    compute.kind = ComponentKind::OsPackage;
    compute.files = [
        "libcuda.so.535.104.05",
        "libnvidia-ml.so.535.104.05",
        "libcuda.so.1",
    ]
    .iter()
    .map(|name| bulwark_inventory::FileEntry {
        path: format!("usr/lib/x86_64-linux-gnu/{name}"),
        digest: None,
        size: None,
    })
    .collect();
    inventory.components.push(compute);
    let edges_before = inventory.relationships.len();
    annotate(&mut inventory);

    assert!(
        !inventory
            .components
            .iter()
            .any(|c| c.name == "nvidia-driver"),
        "{:?}",
        names_of(&inventory)
    );
    let compute = find(&inventory, "libnvidia-compute-535");
    let gpu = compute.gpu.as_ref().unwrap();
    assert_eq!(gpu.provides, Some(GpuPart::NvidiaDriver));
    assert_eq!(gpu.part_version.as_deref(), Some("535.104.05"));
    assert_eq!(
        compute.cpes,
        ["cpe:2.3:a:nvidia:gpu_display_driver:535.104.05:*:*:*:*:*:*:*"]
    );
    assert_eq!(compute.locations.len(), 3);

    // The runtime from the file name and from version.json is one component, contained in
    // the toolkit.
    let cudart = find(&inventory, "cuda-runtime");
    assert_eq!(cudart.version.as_deref(), Some("12.1.105"));
    assert_eq!(cudart.locations.len(), 2);
    let toolkit = find(&inventory, "cuda-toolkit");
    assert!(
        inventory
            .relationships
            .contains(&bulwark_inventory::Relationship {
                from: ComponentId::of(toolkit),
                kind: RelationshipKind::Contains,
                to: ComponentId::of(cudart),
            })
    );
    assert_eq!(inventory.relationships.len(), edges_before);
    // Every edge still points at a component.
    let ids: BTreeSet<ComponentId> = inventory.components.iter().map(ComponentId::of).collect();
    assert!(
        inventory
            .relationships
            .iter()
            .all(|r| ids.contains(&r.from) && ids.contains(&r.to))
    );
}

#[test]
fn an_unowned_placeholder_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &format!("{SITE}/torch/version.py"),
        "__version__ = '2.1.2+cu121'\ncuda = '12.1'\n",
    );
    let inventory = scan(dir.path());
    assert!(
        inventory.components.is_empty(),
        "{:?}",
        names_of(&inventory)
    );
}

#[test]
fn tensorflow_build_info_without_record_folds_by_name() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), SITE, "tensorflow", "2.15.0", &[], &[]);
    write(
        dir.path(),
        &format!("{SITE}/tensorflow/python/platform/build_info.py"),
        "build_info = collections.OrderedDict([('cuda_version', '12.2'), ('cudnn_version', '8'), \
         ('is_cuda_build', True)])\n",
    );
    let inventory = scan(dir.path());
    assert_eq!(inventory.components.len(), 1);
    let gpu = inventory.components[0].gpu.as_ref().unwrap();
    assert_eq!(gpu.cuda.as_deref(), Some("12.2"));
    assert_eq!(gpu.cudnn.as_deref(), Some("8"));
}
