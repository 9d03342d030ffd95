//! Decoding tests: bulwark's own documents round-trip, real Syft, Trivy and cdxgen outputs
//! decode to the packages they list, the official CycloneDX test BOMs decode, and broken
//! input is reported precisely.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use bulwark_inventory::{
    ComponentId, ComponentKind, Ecosystem, Inventory, Location, Metadata, ModelInfo, Purl,
    RelationshipKind, SortedSet,
};

use super::{DecodeError, decode, looks_like_sbom};
use crate::tests::{inventory, options};
use crate::{Format, encode};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/decode")
        .join(name)
}

fn decode_fixture(name: &str) -> Inventory {
    let bytes = std::fs::read(testdata(name)).unwrap();
    let inventory = decode(&bytes, name).unwrap();
    assert_eq!(inventory.target, name);
    inventory
}

/// `ecosystem name version` per component, sorted as the inventory is.
fn packages(inventory: &Inventory) -> Vec<String> {
    inventory
        .components
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c.ecosystem.map_or("-", Ecosystem::as_str),
                c.name,
                c.version.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

/// A compact listing for snapshots: one line per component with kind, purl and locations,
/// then the edges and problems.
fn listing(inventory: &Inventory) -> String {
    let mut out = String::new();
    for c in &inventory.components {
        let locations: Vec<String> = c
            .locations
            .iter()
            .map(|l| match l.line {
                Some(line) => format!("{}:{line}", l.path),
                None => l.path.clone(),
            })
            .collect();
        let _ = writeln!(
            out,
            "{:?} {} {} {} purl={} at={}",
            c.kind,
            c.ecosystem.map_or("-", Ecosystem::as_str),
            c.name,
            c.version.as_deref().unwrap_or("-"),
            c.purl.as_ref().map_or("-", Purl::as_str),
            locations.join(",")
        );
        for alias in &c.also_known_as {
            let _ = writeln!(out, "    aka {alias}");
        }
    }
    for r in &inventory.relationships {
        let _ = writeln!(out, "{} -{:?}-> {}", r.from, r.kind, r.to);
    }
    for p in &inventory.problems {
        let _ = writeln!(out, "problem: {p}");
    }
    out
}

type Identity = (
    Option<Ecosystem>,
    String,
    Option<String>,
    Option<Purl>,
    Vec<Purl>,
    SortedSet<Location>,
);

fn identities(inventory: &Inventory) -> BTreeSet<Identity> {
    inventory
        .components
        .iter()
        .map(|c| {
            (
                c.ecosystem,
                c.name.clone(),
                c.version.clone(),
                c.purl.clone(),
                c.also_known_as.clone(),
                c.locations.clone(),
            )
        })
        .collect()
}

#[test]
fn every_format_of_ours_round_trips() {
    let original = inventory();
    for format in Format::ALL {
        let bytes = encode(&original, *format, &options()).unwrap();
        let decoded = decode(&bytes, "ours").unwrap();
        assert_eq!(identities(&decoded), identities(&original), "{format}");
        assert_eq!(decoded.relationships, original.relationships, "{format}");
        // Only bulwark's JSON keeps the cataloger of a problem.
        let without_cataloger = |inventory: &Inventory| -> Vec<(String, Option<u32>, String)> {
            let problems = inventory.problems.iter();
            problems
                .map(|p| (p.path.clone(), p.line, p.message.clone()))
                .collect()
        };
        assert_eq!(
            without_cataloger(&decoded),
            without_cataloger(&original),
            "{format}"
        );
        for (decoded, original) in decoded.components.iter().zip(&original.components) {
            assert_eq!(decoded.kind, original.kind, "{format} {}", original.name);
            // SPDX keeps well-formed CPEs as references and the others in a comment.
            let sorted = |cpes: &[String]| cpes.iter().cloned().collect::<BTreeSet<_>>();
            assert_eq!(sorted(&decoded.cpes), sorted(&original.cpes), "{format}");
            if *format != Format::SpdxJson {
                assert_eq!(decoded.cpes, original.cpes, "{format} {}", original.name);
            }
            assert_eq!(
                decoded.hashes, original.hashes,
                "{format} {}",
                original.name
            );
            assert_eq!(
                decoded.supplier, original.supplier,
                "{format} {}",
                original.name
            );
            if matches!(original.metadata, Metadata::Model(_)) {
                // Model facts survive every format: SPDX keeps them as annotations.
                assert_eq!(
                    decoded.metadata, original.metadata,
                    "{format} {}",
                    original.name
                );
            }
            if *format != Format::SpdxJson {
                // SPDX has no scope, finder, package source or typed metadata.
                assert_eq!(decoded.scope, original.scope, "{format} {}", original.name);
                assert_eq!(decoded.found_by, original.found_by, "{format}");
                assert_eq!(
                    decoded.source, original.source,
                    "{format} {}",
                    original.name
                );
                assert_eq!(
                    decoded.metadata, original.metadata,
                    "{format} {}",
                    original.name
                );
                assert_eq!(
                    decoded.licenses, original.licenses,
                    "{format} {}",
                    original.name
                );
            }
        }
    }
    // bulwark's own JSON loses nothing.
    let bytes = encode(&original, Format::Json, &options()).unwrap();
    assert_eq!(decode(&bytes, "ours.json").unwrap(), original);
}

#[test]
fn an_empty_inventory_round_trips() {
    for format in Format::ALL {
        let bytes = encode(&Inventory::default(), *format, &options()).unwrap();
        let decoded = decode(&bytes, "empty").unwrap();
        assert!(decoded.components.is_empty(), "{format}");
        assert!(decoded.problems.is_empty(), "{format}");
    }
}

const VENV_INSTALLED: [&str; 2] = ["PyPI idna 3.6", "PyPI six 1.16.0"];
const REQUIREMENTS: [&str; 3] = ["PyPI Jinja2 3.1.2", "PyPI numpy 1.26.4", "PyPI torch 2.1.2"];

#[test]
fn syft_directory_scans() {
    for name in [
        "syft-venv.cdx.json",
        "syft-venv.cdx.xml",
        "syft-venv.spdx.json",
    ] {
        let inventory = decode_fixture(name);
        // Syft writes the requirement names lowercased (`jinja2`).
        assert_eq!(
            packages(&inventory),
            [
                "PyPI idna 3.6",
                "PyPI jinja2 3.1.2",
                "PyPI numpy 1.26.4",
                "PyPI six 1.16.0",
                "PyPI torch 2.1.2"
            ],
            "{name}"
        );
        assert!(inventory.problems.is_empty(), "{name}");
        let six = &inventory.components[3];
        assert!(
            six.locations.contains(&Location::new(
                "venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA"
            )),
            "{name}: {:?}",
            six.locations
        );
        assert_eq!(
            six.supplier.as_deref(),
            Some("Benjamin Peterson <benjamin@python.invalid>")
        );
        let torch = &inventory.components[4];
        assert!(torch.locations.contains(&Location::new("requirements.txt")));
    }
    insta::assert_snapshot!(
        "syft_venv_cdx_json",
        listing(&decode_fixture("syft-venv.cdx.json"))
    );
}

#[test]
fn syft_xml_and_json_agree() {
    let json = decode_fixture("syft-venv.cdx.json");
    let xml = decode_fixture("syft-venv.cdx.xml");
    assert_eq!(identities(&json), identities(&xml));
    assert_eq!(json.relationships, xml.relationships);
    for (a, b) in json.components.iter().zip(&xml.components) {
        assert_eq!(a.cpes, b.cpes);
        assert_eq!(a.licenses, b.licenses);
        assert_eq!(a.supplier, b.supplier);
    }
}

#[test]
fn syft_polyglot() {
    for name in ["syft-polyglot.cdx.json", "syft-polyglot.spdx.json"] {
        let inventory = decode_fixture(name);
        let mut expected = vec![
            "npm @babel/core 7.23.0",
            "npm app 1.0.0",
            "npm lodash 4.17.20",
            "Go github.com/pkg/errors v0.9.1",
            "Go golang.org/x/text v0.3.7",
            "Maven org.apache.logging.log4j:log4j-core 2.14.1",
            "Maven org.example:app 1.0",
            "Ubuntu bash 5.1-6ubuntu1.1",
            "Ubuntu libc6 2.35-0ubuntu3.6",
            "Ubuntu libssl3 3.0.2-0ubuntu1.15",
        ];
        if name.ends_with(".cdx.json") {
            // The operating system itself, which Syft's SPDX output leaves out.
            expected.insert(0, "- ubuntu 22.04");
        }
        assert_eq!(packages(&inventory), expected, "{name}");
        let libssl = inventory
            .components
            .iter()
            .find(|c| c.name == "libssl3")
            .unwrap();
        assert_eq!(libssl.kind, ComponentKind::OsPackage);
        assert!(
            libssl
                .locations
                .contains(&Location::new("var/lib/dpkg/status"))
        );
        // Syft writes `libc6 DEPENDENCY_OF libssl3` (SPDX) / libssl3 dependsOn libc6 (CycloneDX).
        let libc = inventory
            .components
            .iter()
            .find(|c| c.name == "libc6")
            .unwrap();
        assert!(
            inventory
                .relationships
                .iter()
                .any(|r| r.from == ComponentId::of(libssl)
                    && r.kind == RelationshipKind::DependsOn
                    && r.to == ComponentId::of(libc)),
            "{name}: {:?}",
            inventory.relationships
        );
    }
    insta::assert_snapshot!(
        "syft_polyglot_spdx_json",
        listing(&decode_fixture("syft-polyglot.spdx.json"))
    );
}

#[test]
fn trivy_outputs() {
    for name in [
        "trivy-fs-requirements.cdx.json",
        "trivy-fs-requirements.spdx.json",
    ] {
        let inventory = decode_fixture(name);
        assert_eq!(packages(&inventory), REQUIREMENTS, "{name}");
        // The lockfile component is not a package; its name is where the packages were found.
        for component in &inventory.components {
            assert_eq!(
                component.locations,
                SortedSet::from([Location::new("requirements.txt")]),
                "{name}"
            );
        }
        assert!(inventory.relationships.is_empty(), "{name}");
    }
    for name in ["trivy-rootfs-venv.cdx.json", "trivy-rootfs-venv.spdx.json"] {
        let inventory = decode_fixture(name);
        assert_eq!(packages(&inventory), VENV_INSTALLED, "{name}");
    }
    let rootfs = decode_fixture("trivy-rootfs-venv.cdx.json");
    assert_eq!(
        rootfs.components[0].locations,
        SortedSet::from([Location::new(
            "venv/lib/python3.11/site-packages/idna-3.6.dist-info/METADATA"
        )])
    );

    let ubuntu = decode_fixture("trivy-rootfs-ubuntu.cdx.json");
    assert_eq!(
        packages(&ubuntu),
        [
            "- ubuntu 22.04",
            "Ubuntu bash 5.1-6ubuntu1.1",
            "Ubuntu libc6 2.35-0ubuntu3.6",
            "Ubuntu libssl3 3.0.2-0ubuntu1.15",
        ]
    );
    assert_eq!(ubuntu.components[0].kind, ComponentKind::OperatingSystem);

    let polyglot = decode_fixture("trivy-fs-polyglot.cdx.json");
    assert_eq!(
        packages(&polyglot),
        [
            "npm @babel/core 7.23.0",
            "npm lodash 4.17.20",
            "Go example.invalid/app -",
            "Go github.com/pkg/errors v0.9.1",
            "Go golang.org/x/text v0.3.7",
            "Maven org.apache.logging.log4j:log4j-core 2.14.1",
            "Maven org.example:app 1.0",
        ]
    );
    insta::assert_snapshot!("trivy_fs_polyglot_cdx_json", listing(&polyglot));
}

#[test]
fn cdxgen_output() {
    // CycloneDX 1.7, `evidence.identity` holding file paths instead of purls, `SrcFile`
    // properties for locations.
    let inventory = decode_fixture("cdxgen-python.cdx.json");
    let mut expected: Vec<&str> = REQUIREMENTS.to_vec();
    expected.extend(VENV_INSTALLED);
    expected.sort_by_key(|s| s.to_ascii_lowercase());
    assert_eq!(packages(&inventory), expected);
    for component in &inventory.components {
        assert!(component.also_known_as.is_empty());
        assert!(
            component
                .locations
                .iter()
                .all(|l| l.path.starts_with("dp/proj/")),
            "{:?}",
            component.locations
        );
    }
    // The subject `pkg:pypi/proj@latest` is not a component.
    assert!(inventory.components.iter().all(|c| c.name != "proj"));
}

/// The `valid-*` BOMs of the CycloneDX specification's test suite, 1.4 to 1.6, JSON.
#[test]
fn cyclonedx_specification_test_boms_decode() {
    let zip_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fixtures/sbom/cyclonedx-spec-tests-1.4-1.7.zip");
    let Ok(file) = std::fs::File::open(&zip_path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            zip_path.display()
        );
        return;
    };
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut decoded = 0;
    let mut failures = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        let file_name = name.rsplit('/').next().unwrap_or_default().to_owned();
        let wanted = file_name.starts_with("valid-")
            && file_name.ends_with(".json")
            && ["-1.4.json", "-1.5.json", "-1.6.json", "-1.7.json"]
                .iter()
                .any(|s| file_name.ends_with(s));
        if !wanted {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        match decode(&bytes, &file_name) {
            Ok(inventory) => {
                decoded += 1;
                if !inventory.problems.is_empty() {
                    failures.push(format!("{name}: problems {:?}", inventory.problems));
                }
            }
            Err(error) => failures.push(format!("{name}: {error:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(decoded >= 150, "only {decoded} test BOMs found");
}

#[test]
fn spdx_specification_example_decodes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fixtures/sbom/spdx-2.3/SPDXJSONExample-v2.3.spdx.json");
    let Ok(bytes) = std::fs::read(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing",
            path.display()
        );
        return;
    };
    let inventory = decode(&bytes, "example.spdx.json").unwrap();
    insta::assert_snapshot!("spdx_example", listing(&inventory));
}

#[test]
fn nested_components_are_flattened_with_contains_edges() {
    let document = br#"{
      "bomFormat": "CycloneDX", "specVersion": "1.4",
      "metadata": {"component": {"type": "application", "bom-ref": "root", "name": "app",
        "components": [{"type": "library", "bom-ref": "inner", "name": "inner"}]}},
      "components": [
        {"type": "container", "bom-ref": "image", "name": "image", "version": "1",
         "components": [
           {"type": "library", "bom-ref": "torch", "name": "torch",
            "purl": "pkg:pypi/torch@2.1.2",
            "components": [{"type": "library", "name": "libcudnn", "version": "8.9"}]}
         ]}
      ],
      "dependencies": [{"ref": "root", "dependsOn": ["image"]}, {"ref": "image", "dependsOn": ["torch", "nowhere"]}]
    }"#;
    let inventory = decode(document, "nested.cdx.json").unwrap();
    insta::assert_snapshot!(listing(&inventory), @r"
    Container - image 1 purl=- at=nested.cdx.json
    Library - libcudnn 8.9 purl=- at=nested.cdx.json
    Library PyPI torch 2.1.2 purl=pkg:pypi/torch@2.1.2 at=nested.cdx.json
    container:image@1#nested.cdx.json -DependsOn-> pkg:pypi/torch@2.1.2
    container:image@1#nested.cdx.json -Contains-> pkg:pypi/torch@2.1.2
    pkg:pypi/torch@2.1.2 -Contains-> library:libcudnn@8.9#nested.cdx.json
    ");
}

#[test]
fn a_bad_component_is_a_problem_not_an_error() {
    let document = br#"{
      "bomFormat": "CycloneDX", "specVersion": "1.6",
      "components": [
        {"type": "library", "name": "numpy", "purl": "pkg:pypi/numpy@1.26.4"},
        {"type": "library", "bom-ref": "x", "name": "broken", "purl": "pypi/broken@1"},
        {"type": "library", "name": 5},
        {"type": "library", "name": "nameless-purl-less", "hashes": [{"alg": "SHA-256", "content": "zz"}]},
        {"type": "library", "name": "weird", "purl": "pkg:weird/thing@1.0"},
        {"type": "library"}
      ]
    }"#;
    let inventory = decode(document, "bad.cdx.json").unwrap();
    insta::assert_snapshot!(listing(&inventory), @r"
    Library - nameless-purl-less - purl=- at=bad.cdx.json
    Library - thing 1.0 purl=pkg:weird/thing@1.0 at=bad.cdx.json
    Library PyPI numpy 1.26.4 purl=pkg:pypi/numpy@1.26.4 at=bad.cdx.json
    problem: bad.cdx.json: component 2 (bom-ref `x`) has a purl that does not parse: `pypi/broken@1`: missing scheme
    problem: bad.cdx.json: component 3 cannot be read: invalid type: integer `5`, expected a string at line 1 column 29
    problem: bad.cdx.json: component 6 has neither a name nor a purl
    ");
}

#[test]
fn spdx_dependency_of_is_reversed() {
    let document = br#"{
      "spdxVersion": "SPDX-2.2", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
      "documentDescribes": ["SPDXRef-root"],
      "packages": [
        {"SPDXID": "SPDXRef-root", "name": "my-dir"},
        {"SPDXID": "SPDXRef-a", "name": "flask", "versionInfo": "3.0.0",
         "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/flask@3.0.0"}]},
        {"SPDXID": "SPDXRef-b", "name": "werkzeug", "versionInfo": "3.0.1",
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/werkzeug@3.0.1"},
                          {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:conda/werkzeug@3.0.1"},
                          {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": "cpe:2.3:a:palletsprojects:werkzeug:3.0.1:*:*:*:*:*:*:*"}]},
        {"SPDXID": "SPDXRef-c", "name": "bad", "externalRefs": [{"referenceType": "purl", "referenceLocator": "nonsense"}]}
      ],
      "relationships": [
        {"spdxElementId": "SPDXRef-root", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-a"},
        {"spdxElementId": "SPDXRef-b", "relationshipType": "DEPENDENCY_OF", "relatedSpdxElement": "SPDXRef-a"},
        {"spdxElementId": "SPDXRef-a", "relationshipType": "CONTAINED_BY", "relatedSpdxElement": "SPDXRef-b"}
      ]
    }"#;
    let inventory = decode(document, "x.spdx.json").unwrap();
    insta::assert_snapshot!(listing(&inventory), @r"
    Library PyPI flask 3.0.0 purl=pkg:pypi/flask@3.0.0 at=x.spdx.json
    Library PyPI werkzeug 3.0.1 purl=pkg:pypi/werkzeug@3.0.1 at=x.spdx.json
        aka pkg:conda/werkzeug@3.0.1
    pkg:pypi/flask@3.0.0 -DependsOn-> pkg:pypi/werkzeug@3.0.1
    pkg:pypi/werkzeug@3.0.1 -Contains-> pkg:pypi/flask@3.0.0
    problem: x.spdx.json: package 4 (`SPDXRef-c`) has a purl that does not parse: `nonsense`: missing scheme
    ");
    assert_eq!(
        inventory.components[1].cpes,
        ["cpe:2.3:a:palletsprojects:werkzeug:3.0.1:*:*:*:*:*:*:*"]
    );
}

#[test]
fn purl_traps() {
    let document = br#"{
      "bomFormat": "CycloneDX", "specVersion": "1.5",
      "components": [
        {"type": "library", "name": "torch", "version": "ignored", "purl": "pkg:pypi/torch@2.2.0%2Bcu121",
         "evidence": {"identity": {"field": "purl", "concludedValue": "pkg:conda/pytorch@2.2.0"}}},
        {"type": "library", "group": "org.apache.logging.log4j", "name": "log4j-core", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
        {"type": "library", "name": "openssl", "purl": "pkg:rpm/redhat/openssl@3.0.7-16.el9?epoch=1&arch=x86_64"},
        {"type": "library", "name": "libssl3", "purl": "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?distro=ubuntu-22.04"}
      ]
    }"#;
    let inventory = decode(document, "traps.cdx.json").unwrap();
    assert_eq!(
        packages(&inventory),
        [
            "PyPI torch 2.2.0+cu121",
            "Maven org.apache.logging.log4j:log4j-core 2.14.1",
            "Ubuntu libssl3 3.0.2-0ubuntu1.10",
            "Red Hat openssl 1:3.0.7-16.el9",
        ]
    );
    assert_eq!(
        inventory.components[0].also_known_as,
        [Purl::parse("pkg:conda/pytorch@2.2.0").unwrap()]
    );
    assert_eq!(inventory.components[3].kind, ComponentKind::OsPackage);
}

#[test]
fn broken_documents_are_errors_that_say_why() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"",
            "`f` is not an SBOM bulwark can read: the file is empty",
        ),
        (
            b"hello",
            "`f` is not an SBOM bulwark can read: neither JSON nor XML",
        ),
        (
            b"{\"name\": \"package.json\"}",
            "`f` is not an SBOM bulwark can read: a JSON object without `bomFormat`, `spdxVersion` or `schema_version`",
        ),
        (
            b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [",
            "`f` is not a well-formed CycloneDX JSON document",
        ),
        (
            b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"2.0\"}",
            "`f` is CycloneDX 2.0, which bulwark does not read (CycloneDX JSON 1.2 to 1.7 is read)",
        ),
        (
            b"{\"spdxVersion\": \"SPDX-2.1\"}",
            "`f` is SPDX SPDX-2.1, which bulwark does not read (SPDX 2.2 and 2.3 JSON are read)",
        ),
        (
            b"{\"@context\": \"https://spdx.org/rdf/3.0.1/spdx-context.jsonld\", \"@graph\": []}",
            "`f` is not an SBOM bulwark can read: a JSON-LD document (SPDX 3 is not supported; SPDX 2.2 and 2.3 are)",
        ),
        (
            b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\"><components><component>",
            "`f` is not well-formed CycloneDX XML: the document ends inside `<component>`",
        ),
        (
            b"<project xmlns=\"http://maven.apache.org/POM/4.0.0\"/>",
            "`f` is not an SBOM bulwark can read: XML without the CycloneDX namespace http://cyclonedx.org/schema/bom/1.x",
        ),
        (
            b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n",
            "`f` is not an SBOM bulwark can read: SPDX tag-value is not supported; convert it to SPDX JSON",
        ),
    ];
    for (bytes, message) in cases {
        let error = decode(bytes, "f").unwrap_err();
        assert_eq!(error.to_string(), *message);
    }
    let error = decode(b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": 1.6}", "f").unwrap_err();
    assert!(matches!(error, DecodeError::Json { .. }), "{error:?}");
}

#[test]
fn sbom_files_are_recognized_cheaply() {
    assert!(looks_like_sbom("out/image.cdx.json", b""));
    assert!(looks_like_sbom("SBOM.JSON", b""));
    assert!(looks_like_sbom("x/y.spdx.json", b""));
    assert!(looks_like_sbom("a.bom.xml", b""));
    assert!(looks_like_sbom(
        "anything.json",
        b"\xEF\xBB\xBF  {\n \"bomFormat\": \"CycloneDX\""
    ));
    assert!(looks_like_sbom("x.json", b"{\"spdxVersion\": \"SPDX-2.3\""));
    assert!(looks_like_sbom(
        "x.xml",
        b"<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">"
    ));
    assert!(!looks_like_sbom(
        "package.json",
        b"{\"name\": \"x\", \"components\": []}"
    ));
    assert!(!looks_like_sbom("requirements.txt", b"numpy==1.26.4\n"));
    assert!(!looks_like_sbom("pom.xml", b"<project/>"));
    for name in [
        "syft-venv.cdx.xml",
        "trivy-fs-requirements.spdx.json",
        "cdxgen-python.cdx.json",
    ] {
        let bytes = std::fs::read(testdata(name)).unwrap();
        assert!(
            looks_like_sbom("renamed", &bytes[..bytes.len().min(4096)]),
            "{name}"
        );
    }
}

#[test]
fn decoding_is_deterministic() {
    for name in [
        "syft-venv.cdx.json",
        "syft-polyglot.spdx.json",
        "trivy-fs-polyglot.cdx.json",
    ] {
        assert_eq!(decode_fixture(name), decode_fixture(name));
    }
}

fn model_info<'a>(inventory: &'a Inventory, name: &str) -> &'a ModelInfo {
    let component = inventory
        .components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no component {name}"));
    assert_eq!(component.kind, ComponentKind::MachineLearningModel);
    match &component.metadata {
        Metadata::Model(model) => model,
        other => panic!("{name} has no model metadata: {other:?}"),
    }
}

/// A hand-made ML-BOM shaped like what Hugging Face AIBOM generators write (see
/// `testdata/README.md`): the model card is read as far as it maps, the dataset ref becomes a
/// depends-on edge to the data component and gives the dataset its name.
#[test]
fn another_tools_ml_bom_keeps_its_models() {
    let inventory = decode_fixture("aibom-hf-model.cdx.json");
    insta::assert_snapshot!(listing(&inventory), @r"
    MachineLearningModel - tiny-bert 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c purl=pkg:huggingface/example-org/tiny-bert@0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c at=aibom-hf-model.cdx.json
    Data - wikitext wikitext-2-raw-v1 purl=- at=aibom-hf-model.cdx.json
    Library PyPI transformers 4.46.3 purl=pkg:pypi/transformers@4.46.3 at=aibom-hf-model.cdx.json
    pkg:huggingface/example-org/tiny-bert@0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c -DependsOn-> data:wikitext@wikitext-2-raw-v1#aibom-hf-model.cdx.json
    pkg:huggingface/example-org/tiny-bert@0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c -DependsOn-> pkg:pypi/transformers@4.46.3
    ");
    let model = model_info(&inventory, "tiny-bert");
    assert_eq!(model.format, "", "no format is stated, none is invented");
    assert_eq!(model.architecture.as_deref(), Some("BertForMaskedLM"));
    assert_eq!(model.task.as_deref(), Some("fill-mask"));
    assert_eq!(model.datasets, ["wikitext", "bookcorpus"]);
    assert_eq!(model.inputs, ["text"]);
    assert_eq!(model.outputs, ["fill-mask predictions"]);
    let considerations: Vec<(&str, &str)> = model
        .considerations
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        considerations,
        [
            ("environmental-considerations", "hardware: 1x GPU, 2 hours"),
            (
                "ethical-considerations",
                "Reproduces biases of web text\nMitigation: Evaluate on your own data"
            ),
            (
                "fairness-assessments",
                "group at risk: non-native speakers; harms: lower accuracy"
            ),
            ("limitations", "English only; context of 128 tokens."),
            (
                "use-cases",
                "Masked token prediction\nFine-tuning for classification"
            ),
            ("users", "NLP researchers"),
        ]
    );
    let properties: Vec<(&str, &str)> = model
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        properties,
        [
            ("approach", "self-supervised"),
            ("architecture-family", "transformer"),
            ("library_name", "transformers"),
            ("primaryPurpose", "fill-mask"),
        ]
    );
    let tiny_bert = inventory
        .components
        .iter()
        .find(|c| c.name == "tiny-bert")
        .unwrap();
    assert_eq!(tiny_bert.hashes.len(), 1);
    assert_eq!(tiny_bert.supplier.as_deref(), Some("example-org"));

    // Written again by bulwark, in every format, the model facts come back unchanged.
    for format in Format::ALL {
        let bytes = encode(&inventory, *format, &options()).unwrap();
        let again = decode(&bytes, "again").unwrap();
        assert_eq!(model_info(&again, "tiny-bert"), model, "{format}");
        assert_eq!(again.relationships, inventory.relationships, "{format}");
    }
}

#[test]
fn an_ml_bom_in_xml_reads_like_json() {
    let document = br#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">
  <components>
    <component type="machine-learning-model" bom-ref="m">
      <name>resnet</name>
      <modelCard>
        <modelParameters>
          <approach><type>supervised</type></approach>
          <task>image-classification</task>
          <architectureFamily>convolutional neural network</architectureFamily>
          <modelArchitecture>ResNet-50</modelArchitecture>
          <datasets><ref>d</ref><dataset><type>dataset</type><name>cifar</name></dataset></datasets>
          <inputs><input><format>image</format></input></inputs>
        </modelParameters>
        <considerations>
          <users><user>vision teams</user></users>
          <ethicalConsiderations>
            <ethicalConsideration><name>surveillance</name><mitigationStrategy>policy</mitigationStrategy></ethicalConsideration>
          </ethicalConsiderations>
          <fairnessAssessments>
            <fairnessAssessment><groupAtRisk>children</groupAtRisk><benefits>none</benefits></fairnessAssessment>
          </fairnessAssessments>
        </considerations>
        <properties><property name="framework">pytorch</property></properties>
      </modelCard>
    </component>
    <component type="data" bom-ref="d">
      <name>imagenet</name>
      <data><type>dataset</type><name>imagenet</name></data>
    </component>
  </components>
</bom>"#;
    let inventory = decode(document, "ml.cdx.xml").unwrap();
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    let model = model_info(&inventory, "resnet");
    assert_eq!(model.architecture.as_deref(), Some("ResNet-50"));
    assert_eq!(model.task.as_deref(), Some("image-classification"));
    assert_eq!(model.datasets, ["imagenet", "cifar"]);
    assert_eq!(model.inputs, ["image"]);
    assert_eq!(model.considerations["users"], "vision teams");
    assert_eq!(
        model.considerations["ethical-considerations"],
        "surveillance\nMitigation: policy"
    );
    assert_eq!(
        model.considerations["fairness-assessments"],
        "group at risk: children; benefits: none"
    );
    assert_eq!(
        model.properties["architecture-family"],
        "convolutional neural network"
    );
    assert_eq!(model.properties["approach"], "supervised");
    assert_eq!(model.properties["framework"], "pytorch");
    let data = inventory
        .components
        .iter()
        .find(|c| c.name == "imagenet")
        .unwrap();
    assert_eq!(data.kind, ComponentKind::Data);
    assert!(
        inventory
            .relationships
            .iter()
            .any(|r| r.kind == RelationshipKind::DependsOn && r.to == ComponentId::of(data))
    );
}

#[test]
fn a_malformed_model_card_does_not_cost_the_model() {
    let document = br#"{
      "bomFormat": "CycloneDX", "specVersion": "1.6",
      "components": [
        {"type": "machine-learning-model", "name": "m", "version": "1",
         "modelCard": {"modelParameters": {"datasets": {"not": "an array"}}}},
        {"type": "machine-learning-model", "name": "n", "version": "1",
         "modelCard": {"modelParameters": {"datasets": [{"ref": "nowhere"}]}}}
      ]
    }"#;
    let inventory = decode(document, "bad-card.cdx.json").unwrap();
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    assert_eq!(packages(&inventory), ["- m 1", "- n 1"]);
    assert_eq!(inventory.components[0].metadata, Metadata::None);
    // A ref to nothing in the document is the only name the dataset has.
    assert_eq!(model_info(&inventory, "n").datasets, ["nowhere"]);
    assert!(inventory.relationships.is_empty());
}
