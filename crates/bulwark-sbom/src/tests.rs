//! Snapshot, determinism, schema and NTIA-minimum tests for every format, over one inventory
//! that exercises the awkward cases: a PEP 440 local version, a conda package also known as a
//! PyPI distribution, an unpinned requirement, license names and compound expressions, a
//! purl-less GPU library with CPEs, two models without version (one with a model card's worth of
//! facts and a dataset component it depends on, one quantized GGUF), markup and control
//! characters.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bulwark_inventory::{
    Component, ComponentId, ComponentKind, CondaPackage, Ecosystem, Hash, HashAlgorithm, Inventory,
    License, Location, Metadata, ModelInfo, OsPackage, PackageSource, Problem, Purl,
    PythonDistribution, PythonRequirement, Relationship, RelationshipKind, Scope, SortedSet,
};
use serde_json::Value;
use time::macros::datetime;

use crate::{EncodeOptions, Format, encode};

pub(crate) fn options() -> EncodeOptions {
    // Half a second and a non-UTC offset: the output must show 2024-05-01T10:00:00Z.
    EncodeOptions::new("0.1.0", datetime!(2024-05-01 12:00:00.5 +02:00))
}

fn sha256(seed: char) -> Hash {
    Hash::new(HashAlgorithm::Sha256, &seed.to_string().repeat(64)).unwrap()
}

fn pypi(name: &str, version: Option<&str>, location: Location, found_by: &str) -> Component {
    Component::package(Ecosystem::PyPI, name, version, location, found_by)
}

/// The inventory every test encodes.
pub(crate) fn inventory() -> Inventory {
    let site = "venv/lib/python3.11/site-packages";

    let mut torch = pypi(
        "torch",
        Some("2.2.0+cu121"),
        Location::new(format!("{site}/torch-2.2.0+cu121.dist-info/METADATA")),
        "python/installed",
    );
    torch.licenses = vec![License::Expression("BSD-3-Clause".into())];
    torch.supplier = Some("PyTorch Team <packages@pytorch.invalid>".into());
    torch.description =
        Some("Tensors and Dynamic neural networks in Python\nwith strong GPU acceleration".into());
    torch.hashes.insert(sha256('a'));
    torch.source = Some(PackageSource::Registry {
        url: "https://download.example.com/whl/cu121".into(),
    });
    torch.metadata = Metadata::PythonDistribution(PythonDistribution {
        metadata_version: Some("2.1".into()),
        requires_python: Some(">=3.8.0".into()),
        installer: Some("pip".into()),
        direct_url: None,
        requires_dist: vec!["filelock".into(), "numpy".into()],
        site_packages: site.into(),
    });

    let mut filelock = pypi(
        "filelock",
        Some("3.13.1"),
        Location::new(format!("{site}/filelock-3.13.1.dist-info/METADATA")),
        "python/installed",
    );
    filelock.licenses = vec![License::Expression("Unlicense OR MIT".into())];
    filelock.metadata = Metadata::PythonDistribution(PythonDistribution {
        installer: Some("uv".into()),
        site_packages: site.into(),
        ..PythonDistribution::default()
    });

    let mut scipy = pypi(
        "scipy",
        Some("1.12.0"),
        Location::new(format!("{site}/scipy-1.12.0.dist-info/METADATA")),
        "python/installed",
    );
    scipy.licenses = vec![
        License::Expression("BSD-3-Clause".into()),
        License::Expression("Apache-2.0 WITH LLVM-exception".into()),
        License::Name("Custom <\"special\"> & 'quoted' license".into()),
    ];
    scipy.source = Some(PackageSource::Vcs {
        vcs: "git".into(),
        url: "https://example.com/scipy/scipy.git".into(),
        requested_revision: Some("v1.12.0".into()),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
    });

    let requests = {
        let mut c = pypi(
            "requests",
            None,
            Location::new("requirements.txt").at_line(3),
            "python/requirements",
        );
        c.metadata = Metadata::PythonRequirement(PythonRequirement {
            specifier: ">=2.31,<3".into(),
            extras: vec!["socks".into()],
            marker: Some("python_version >= \"3.8\"".into()),
        });
        c
    };

    let pytest = {
        let mut c = pypi(
            "pytest",
            Some("8.0.0"),
            Location::new("requirements-dev.txt").at_line(1),
            "python/requirements",
        );
        c.scope = Scope::Development;
        c.source = Some(PackageSource::Url {
            url: "https://downloads.example.com/pytest-8.0.0-py3-none-any.whl".into(),
        });
        c.metadata = Metadata::PythonRequirement(PythonRequirement {
            specifier: "==8.0.0".into(),
            ..PythonRequirement::default()
        });
        c
    };

    let mut numpy = Component::package(
        Ecosystem::Conda,
        "numpy",
        Some("1.26.4"),
        Location::new("envs/ml/conda-meta/numpy-1.26.4-py311h64a7726_0.json"),
        "conda/installed",
    );
    numpy.purl = Purl::builder(Ecosystem::Conda, "numpy")
        .version(Some("1.26.4"))
        .qualifier("build", Some("py311h64a7726_0"))
        .qualifier("channel", Some("conda-forge"))
        .qualifier("subdir", Some("linux-64"))
        .build();
    numpy
        .locations
        .insert(Location::new("environment.yml").at_line(5));
    numpy.also_known_as = vec![
        Purl::builder(Ecosystem::PyPI, "numpy")
            .version(Some("1.26.4"))
            .build()
            .unwrap(),
    ];
    numpy.licenses = vec![License::Name("BSD".into())];
    numpy.hashes.insert(sha256('b'));
    numpy
        .hashes
        .insert(Hash::new(HashAlgorithm::Md5, &"c".repeat(32)).unwrap());
    numpy.metadata = Metadata::Conda(CondaPackage {
        channel: Some("conda-forge".into()),
        subdir: Some("linux-64".into()),
        build: Some("py311h64a7726_0".into()),
        build_number: Some(0),
        prefix: Some("envs/ml".into()),
        spec: None,
    });

    let mut libc = Component::package(
        Ecosystem::Debian,
        "libc6",
        Some("2.36-9+deb12u4"),
        Location::new("var/lib/dpkg/status").at_line(120),
        "os/dpkg",
    );
    libc.kind = ComponentKind::OsPackage;
    libc.purl = Purl::builder_for_type("deb", "libc6")
        .namespace("debian")
        .version(Some("2.36-9+deb12u4"))
        .qualifier("arch", Some("amd64"))
        .qualifier("distro", Some("debian-12"))
        .build();
    libc.supplier = Some("GNU Libc Maintainers <debian-glibc@lists.debian.invalid>".into());
    libc.licenses = vec![License::Expression("LGPL-2.1-or-later".into())];
    libc.metadata = Metadata::OsPackage(OsPackage {
        source_name: Some("glibc".into()),
        source_version: Some("2.36-9+deb12u4".into()),
        architecture: Some("amd64".into()),
        distro: Some("debian-12".into()),
    });

    let cudnn = Component {
        kind: ComponentKind::GpuLibrary,
        name: "cuDNN <runtime> & \"friends\"".into(),
        ecosystem: None,
        version: Some("8.9.7.29".into()),
        purl: None,
        also_known_as: Vec::new(),
        cpes: vec![
            "cpe:2.3:a:nvidia:cudnn:8.9.7.29:*:*:*:*:*:*:*".into(),
            "not a cpe".into(),
            "cpe:/a:nvidia:cudnn:8.9.7.29".into(),
        ],
        locations: SortedSet::from([Location {
            path: "opt/<weird> & 'dir'/\"libcudnn\".so.8".into(),
            line: None,
            layer: Some("sha256:".to_owned() + &"d".repeat(64)),
        }]),
        hashes: BTreeSet::new(),
        licenses: vec![License::Name(
            "NVIDIA cuDNN Software License Agreement".into(),
        )],
        supplier: Some("NVIDIA Corporation".into()),
        description: Some("Deep neural network library \u{1} with a control character".into()),
        scope: Scope::Required,
        source: None,
        found_by: SortedSet::from(["gpu/libraries".to_owned()]),
        files: Vec::new(),
        metadata: Metadata::None,
        gpu: Some(bulwark_inventory::GpuFacts {
            provides: Some(bulwark_inventory::GpuPart::Cudnn),
            part_version: Some("8.9.2.26".to_owned()),
            cuda: Some("12".to_owned()),
            ..Default::default()
        }),
    };

    let mut bert = Component::bare(
        ComponentKind::MachineLearningModel,
        "bert-base.safetensors",
        None,
        "model/safetensors",
    );
    bert.locations = SortedSet::from([Location::new("models/bert-base.safetensors")]);
    bert.hashes = BTreeSet::from([sha256('e')]);
    bert.licenses = vec![License::Expression("Apache-2.0".into())];
    bert.metadata = Metadata::Model(ModelInfo {
        format: "safetensors".into(),
        architecture: Some("BertForMaskedLM".into()),
        task: Some("fill-mask".into()),
        parameters: Some(109_514_298),
        dtypes: vec!["F32".into()],
        context_length: Some(512),
        datasets: vec!["bookcorpus".into(), "wikipedia".into()],
        inputs: vec!["input_ids: int64[batch,sequence]".into()],
        outputs: vec!["logits: float32[batch,sequence,30522]".into()],
        repository: Some("google-bert/bert-base-uncased".into()),
        revision: Some("86b5e0934494bd15c9632b12f734a8a67f723594".into()),
        files: vec!["models/bert-base.safetensors".into()],
        considerations: BTreeMap::from([
            (
                "limitations".into(),
                "Predictions can be biased <even> on neutral & \"plain\" text.".into(),
            ),
            (
                "ethical-considerations".into(),
                "Trained on web text;\nreview outputs before use.".into(),
            ),
            ("use-cases".into(), "Masked language modeling.".into()),
            (
                "bias-risks-and-limitations".into(),
                "A section the model card has no field for.".into(),
            ),
        ]),
        properties: BTreeMap::from([("safetensors:format".into(), "pt".into())]),
        ..ModelInfo::default()
    });

    let mut llama = Component::bare(
        ComponentKind::MachineLearningModel,
        "llama-2-7b.Q4_K_M.gguf",
        None,
        "model/gguf",
    );
    llama.locations = SortedSet::from([Location::new("models/llama-2-7b.Q4_K_M.gguf")]);
    llama.metadata = Metadata::Model(ModelInfo {
        format: "gguf".into(),
        architecture: Some("llama".into()),
        parameters: Some(6_738_415_616),
        dtypes: vec!["F32".into(), "Q4_K".into(), "Q6_K".into()],
        quantization: Some("Q4_K_M".into()),
        context_length: Some(4096),
        base_models: vec!["meta-llama/Llama-2-7b-hf".into()],
        properties: BTreeMap::from([
            ("architecture-family".into(), "transformer".into()),
            ("gguf:tokenizer".into(), "llama".into()),
        ]),
        ..ModelInfo::default()
    });

    let mut bookcorpus = Component::bare(ComponentKind::Data, "bookcorpus", None, "model/card");
    bookcorpus.locations = SortedSet::from([Location::new("models/README.md")]);
    bookcorpus.description = Some("Books used to pre-train BERT".into());

    let edge = |from: &Component, kind, to: &Component| Relationship {
        from: ComponentId::of(from),
        kind,
        to: ComponentId::of(to),
    };
    let relationships = vec![
        edge(&torch, RelationshipKind::DependsOn, &filelock),
        edge(&torch, RelationshipKind::DependsOn, &numpy),
        edge(&scipy, RelationshipKind::DependsOn, &numpy),
        edge(&torch, RelationshipKind::Contains, &cudnn),
        edge(&bert, RelationshipKind::DependsOn, &bookcorpus),
    ];
    let problems = vec![Problem {
        path: "broken/requirements.txt".into(),
        line: Some(7),
        cataloger: Some("python/requirements".into()),
        message: "invalid requirement `foo==`: expected a version".into(),
    }];
    Inventory::assemble(
        "examples/ml-stack".into(),
        vec![
            torch, filelock, scipy, requests, pytest, numpy, libc, cudnn, bert, llama, bookcorpus,
        ],
        relationships,
        Vec::new(),
        problems,
    )
}

fn encode_text(format: Format) -> String {
    let bytes = encode(&inventory(), format, &options()).unwrap();
    String::from_utf8(bytes).unwrap()
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/schemas")
}

fn load_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
}

fn cyclonedx_validator() -> jsonschema::Validator {
    let dir = testdata().join("cyclonedx");
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load_json(&dir.join("spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load_json(&dir.join("jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load_json(&dir.join("bom-1.6.schema.json")))
        .unwrap()
}

fn spdx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load_json(&testdata().join("spdx-2.3/spdx-schema.json")))
        .unwrap()
}

#[test]
fn format_names_round_trip() {
    for format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>(), Ok(*format));
    }
    assert!("cyclonedx".parse::<Format>().is_err());
}

#[test]
fn snapshots() {
    insta::assert_snapshot!("cyclonedx_json", encode_text(Format::CycloneDxJson));
    insta::assert_snapshot!("cyclonedx_xml", encode_text(Format::CycloneDxXml));
    insta::assert_snapshot!("spdx_json", encode_text(Format::SpdxJson));
    insta::assert_snapshot!("json", encode_text(Format::Json));
}

#[test]
fn encoding_is_deterministic() {
    for format in Format::ALL {
        let first = encode(&inventory(), *format, &options()).unwrap();
        let second = encode(&inventory(), *format, &options()).unwrap();
        assert_eq!(first, second, "{format}");
    }
}

#[test]
fn serial_and_namespace_ignore_the_timestamp() {
    let later = EncodeOptions::new("0.1.0", datetime!(2030-01-01 00:00:00 UTC));
    let serial = |options: &EncodeOptions| {
        let bytes = encode(&inventory(), Format::CycloneDxJson, options).unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["serialNumber"].clone()
    };
    assert_eq!(serial(&options()), serial(&later));
    let namespace = |options: &EncodeOptions| {
        let bytes = encode(&inventory(), Format::SpdxJson, options).unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["documentNamespace"].clone()
    };
    assert_eq!(namespace(&options()), namespace(&later));

    // ... but not the content.
    let mut other = inventory();
    other.components.pop();
    let bytes = encode(&other, Format::CycloneDxJson, &options()).unwrap();
    let other_serial = serde_json::from_slice::<Value>(&bytes).unwrap()["serialNumber"].clone();
    assert_ne!(serial(&options()), other_serial);

    // The XML encoding of the same BOM carries the same serial.
    let xml = encode_text(Format::CycloneDxXml);
    assert!(xml.contains(&format!("serialNumber={}", serial(&options()))));
}

#[test]
fn cyclonedx_json_is_schema_valid() {
    let document: Value = serde_json::from_str(&encode_text(Format::CycloneDxJson)).unwrap();
    assert_valid(&cyclonedx_validator(), &document);
    let empty = encode(&Inventory::default(), Format::CycloneDxJson, &options()).unwrap();
    assert_valid(
        &cyclonedx_validator(),
        &serde_json::from_slice(&empty).unwrap(),
    );
}

#[test]
fn cyclonedx_json_schema_check_catches_errors() {
    // Guards the guard: a validator that accepts everything would make the test above void.
    let mut document: Value = serde_json::from_str(&encode_text(Format::CycloneDxJson)).unwrap();
    document["components"][0]["licenses"] =
        serde_json::json!([{"expression": "MIT"}, {"license": {"id": "MIT"}}]);
    assert!(!cyclonedx_validator().is_valid(&document));
    let mut document: Value = serde_json::from_str(&encode_text(Format::CycloneDxJson)).unwrap();
    document["metadata"]["timestamp"] = "yesterday".into();
    assert!(!cyclonedx_validator().is_valid(&document));
}

#[test]
fn spdx_json_is_schema_valid() {
    let document: Value = serde_json::from_str(&encode_text(Format::SpdxJson)).unwrap();
    assert_valid(&spdx_validator(), &document);
    let empty = encode(&Inventory::default(), Format::SpdxJson, &options()).unwrap();
    assert_valid(&spdx_validator(), &serde_json::from_slice(&empty).unwrap());
}

#[test]
fn spdx_ids_use_only_allowed_characters() {
    let document: Value = serde_json::from_str(&encode_text(Format::SpdxJson)).unwrap();
    let mut seen = BTreeSet::new();
    for package in document["packages"].as_array().unwrap() {
        let id = package["SPDXID"].as_str().unwrap();
        let rest = id.strip_prefix("SPDXRef-").unwrap();
        assert!(
            rest.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')),
            "{id}"
        );
        assert!(seen.insert(id.to_owned()), "duplicate {id}");
    }
}

/// bulwark's own JSON has no published schema; check its documented shape instead.
#[test]
fn json_has_the_documented_shape() {
    let document: Value = serde_json::from_str(&encode_text(Format::Json)).unwrap();
    let keys: Vec<&str> = document
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "schema_version",
            "target",
            "components",
            "relationships",
            "problems"
        ]
    );
    assert_eq!(document["schema_version"], 1);
    let ecosystems: BTreeSet<&str> = document["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["ecosystem"].as_str())
        .collect();
    assert_eq!(ecosystems, BTreeSet::from(["Debian", "PyPI", "conda"]));
}

/// Runs `xmllint` against the official XSD. Without `xmllint` (Debian package
/// `libxml2-utils`) the test returns quietly on a developer machine, but fails under CI
/// (`CI` set), so the check cannot silently disappear there.
#[test]
fn cyclonedx_xml_is_schema_valid() {
    let xsd = testdata().join("cyclonedx-xsd/bom-1.6.SNAPSHOT.xsd");
    for inventory in [inventory(), Inventory::default()] {
        let xml = encode(&inventory, Format::CycloneDxXml, &options()).unwrap();
        let child = Command::new("xmllint")
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(&xsd)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "xmllint is required in CI (apt-get install libxml2-utils)"
                );
                return;
            }
            Err(error) => panic!("cannot run xmllint: {error}"),
        };
        child.stdin.take().unwrap().write_all(&xml).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "xmllint rejected the document:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// NTIA minimum elements: supplier, component name, version, unique identifier, dependency
/// relationships, author of the SBOM data, timestamp.
#[test]
fn cyclonedx_has_ntia_minimum_elements() {
    let inventory = inventory();
    let document: Value = serde_json::from_str(&encode_text(Format::CycloneDxJson)).unwrap();
    assert_eq!(document["metadata"]["timestamp"], "2024-05-01T10:00:00Z");
    assert_eq!(
        document["metadata"]["tools"]["components"][0]["name"],
        "bulwark"
    );
    let components = document["components"].as_array().unwrap();
    assert_eq!(components.len(), inventory.components.len());
    let mut refs = BTreeSet::new();
    for (encoded, component) in components.iter().zip(&inventory.components) {
        assert_eq!(encoded["name"], component.name.as_str());
        // A version is present exactly when the source stated one.
        assert_eq!(
            encoded["version"].as_str(),
            component.version.as_deref(),
            "{}",
            component.name
        );
        assert_eq!(
            encoded["supplier"]["name"].as_str().is_some(),
            component.supplier.is_some()
        );
        let bom_ref = encoded["bom-ref"].as_str().unwrap();
        assert!(
            refs.insert(bom_ref.to_owned()),
            "duplicate bom-ref {bom_ref}"
        );
        assert_eq!(
            encoded["purl"].as_str(),
            component.purl.as_ref().map(Purl::as_str)
        );
    }
    assert!(!refs.contains(crate::cyclonedx::TARGET_REF));
    let dependencies: BTreeMap<&str, Vec<&str>> = document["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let depends_on = d["dependsOn"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
                .unwrap_or_default();
            (d["ref"].as_str().unwrap(), depends_on)
        })
        .collect();
    // One entry per component plus the target, every ref resolving to a component.
    assert_eq!(dependencies.len(), components.len() + 1);
    for target in dependencies.values().flatten() {
        assert!(refs.contains(*target), "{target}");
    }
    assert_eq!(
        dependencies["pkg:pypi/torch@2.2.0%2Bcu121"],
        [
            "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64",
            "pkg:pypi/filelock@3.13.1"
        ]
    );
}

#[test]
fn spdx_has_ntia_minimum_elements() {
    let inventory = inventory();
    let document: Value = serde_json::from_str(&encode_text(Format::SpdxJson)).unwrap();
    assert_eq!(document["creationInfo"]["created"], "2024-05-01T10:00:00Z");
    assert_eq!(
        document["creationInfo"]["creators"][0],
        "Tool: bulwark-0.1.0"
    );
    let packages = document["packages"].as_array().unwrap();
    // The root package for the target comes first.
    assert_eq!(packages.len(), inventory.components.len() + 1);
    for (package, component) in packages[1..].iter().zip(&inventory.components) {
        assert_eq!(package["name"], component.name.as_str());
        assert_eq!(
            package["versionInfo"].as_str(),
            component.version.as_deref()
        );
        assert_eq!(
            package["supplier"] != "NOASSERTION",
            component.supplier.is_some()
        );
    }
    let relationships = document["relationships"].as_array().unwrap();
    assert_eq!(relationships[0]["relationshipType"], "DESCRIBES");
    assert_eq!(relationships[0]["spdxElementId"], "SPDXRef-DOCUMENT");
    // Every package but the root is the target of some relationship.
    let related: BTreeSet<&str> = relationships
        .iter()
        .map(|r| r["relatedSpdxElement"].as_str().unwrap())
        .collect();
    for package in packages {
        assert!(related.contains(package["SPDXID"].as_str().unwrap()));
    }
}

#[test]
fn every_cyclonedx_license_id_is_in_the_schema_enum() {
    let schema = load_json(&testdata().join("cyclonedx/spdx.schema.json"));
    let known: BTreeSet<&str> = schema["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for license in spdx::identifiers::LICENSES {
        if crate::common::is_cyclonedx_license_id(license.name) {
            assert!(
                known.contains(license.name),
                "{} is not in CycloneDX's license enum; add it to NOT_IN_CYCLONEDX_LICENSE_ENUM",
                license.name
            );
        }
    }
}

#[test]
fn duplicate_component_ids_still_get_unique_refs() {
    let mut inventory = inventory();
    let first = inventory.components[0].clone();
    inventory.components.push(first);
    let document: Value =
        serde_json::from_slice(&encode(&inventory, Format::CycloneDxJson, &options()).unwrap())
            .unwrap();
    let refs: Vec<&str> = document["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&&str> = refs.iter().collect();
    assert_eq!(unique.len(), refs.len());
    assert_valid(&cyclonedx_validator(), &document);
}

/// The ML-BOM parts: models are `machine-learning-model` components with a model card whose
/// dataset refs point at `data` components, datasets carry a `data` entry, and no other
/// component has either.
#[test]
fn cyclonedx_models_have_model_cards_and_datasets_are_data() {
    let document: Value = serde_json::from_str(&encode_text(Format::CycloneDxJson)).unwrap();
    let components = document["components"].as_array().unwrap();
    let by_name = |name: &str| -> &Value {
        components
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no component {name}"))
    };
    let bert = by_name("bert-base.safetensors");
    let bookcorpus = by_name("bookcorpus");
    assert_eq!(bert["type"], "machine-learning-model");
    assert_eq!(bookcorpus["type"], "data");
    assert_eq!(
        bookcorpus["data"],
        serde_json::json!([{"type": "dataset", "name": "bookcorpus"}])
    );
    let parameters = &bert["modelCard"]["modelParameters"];
    assert_eq!(parameters["modelArchitecture"], "BertForMaskedLM");
    assert_eq!(parameters["task"], "fill-mask");
    assert_eq!(parameters["datasets"][0]["ref"], bookcorpus["bom-ref"]);
    assert_eq!(
        parameters["datasets"][1],
        serde_json::json!({"type": "dataset", "name": "wikipedia"})
    );
    let considerations = &bert["modelCard"]["considerations"];
    assert_eq!(considerations["useCases"][0], "Masked language modeling.");
    assert!(
        considerations["ethicalConsiderations"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("Trained on web text")
    );
    // Each fact once: what the card holds is not repeated as a property.
    let names: Vec<&str> = bert["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"bulwark:model:format"));
    assert!(names.contains(&"bulwark:model:consideration:bias-risks-and-limitations"));
    assert!(!names.contains(&"bulwark:model:architecture"));
    assert!(!names.contains(&"bulwark:model:consideration:use-cases"));

    let llama = by_name("llama-2-7b.Q4_K_M.gguf");
    assert_eq!(
        llama["modelCard"]["modelParameters"]["architectureFamily"],
        "transformer"
    );
    for component in components {
        let kind = component["type"].as_str().unwrap();
        assert_eq!(
            component.get("modelCard").is_some(),
            kind == "machine-learning-model",
            "{}",
            component["name"]
        );
        assert_eq!(
            component.get("data").is_some(),
            kind == "data",
            "{}",
            component["name"]
        );
    }
}

#[test]
fn cyclonedx_model_card_schema_check_catches_errors() {
    // The schema check sees inside model cards: a dataset entry of the wrong shape fails.
    let mut document: Value = serde_json::from_str(&encode_text(Format::CycloneDxJson)).unwrap();
    let components = document["components"].as_array_mut().unwrap();
    let bert = components
        .iter_mut()
        .find(|c| c["name"] == "bert-base.safetensors")
        .unwrap();
    bert["modelCard"]["modelParameters"]["datasets"][1] = serde_json::json!({"name": "untyped"});
    assert!(!cyclonedx_validator().is_valid(&document));
}

#[test]
fn spdx_models_are_annotated_packages() {
    let document: Value = serde_json::from_str(&encode_text(Format::SpdxJson)).unwrap();
    let packages = document["packages"].as_array().unwrap();
    let bert = packages
        .iter()
        .find(|p| p["name"] == "bert-base.safetensors")
        .unwrap();
    assert_eq!(bert["primaryPackagePurpose"], "OTHER");
    let comments: Vec<&str> = bert["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["annotationType"], "OTHER");
            assert_eq!(a["annotator"], "Tool: bulwark-0.1.0");
            assert_eq!(a["annotationDate"], "2024-05-01T10:00:00Z");
            a["comment"].as_str().unwrap()
        })
        .collect();
    assert!(comments.contains(&"bulwark:model:architecture: BertForMaskedLM"));
    assert!(comments.contains(&"bulwark:model:dataset: bookcorpus"));
    let bookcorpus = packages.iter().find(|p| p["name"] == "bookcorpus").unwrap();
    assert!(bookcorpus.get("annotations").is_none());
    let depends_on = document["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| {
            r["spdxElementId"] == bert["SPDXID"]
                && r["relationshipType"] == "DEPENDS_ON"
                && r["relatedSpdxElement"] == bookcorpus["SPDXID"]
        });
    assert!(depends_on, "the model DEPENDS_ON its dataset");
}

#[test]
fn every_spdx_purpose_is_in_the_schema_enum() {
    let schema = load_json(&testdata().join("spdx-2.3/spdx-schema.json"));
    let allowed =
        &schema["properties"]["packages"]["items"]["properties"]["primaryPackagePurpose"]["enum"];
    let allowed: BTreeSet<&str> = allowed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for kind in [
        ComponentKind::Library,
        ComponentKind::Application,
        ComponentKind::OsPackage,
        ComponentKind::OperatingSystem,
        ComponentKind::DeviceDriver,
        ComponentKind::GpuLibrary,
        ComponentKind::MachineLearningModel,
        ComponentKind::Data,
        ComponentKind::Container,
    ] {
        let purpose = crate::spdx_json::purpose(kind);
        assert!(allowed.contains(purpose), "{kind:?} → {purpose}");
    }
}
