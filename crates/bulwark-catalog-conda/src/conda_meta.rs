//! Installed conda packages: one `<prefix>/conda-meta/<name>-<version>-<build>.json` record per
//! package of the environment at `<prefix>`.
//!
//! A record lists the files the package installed (relative to the prefix). They become the
//! component's files, which is how [`Inventory::assemble`] folds a Python distribution that
//! conda installed (its `*.dist-info/METADATA` is one of those files) into the conda package
//! instead of counting it again as a pip install.
//!
//! [`Inventory::assemble`]: bulwark_inventory::Inventory::assemble

use std::collections::HashMap;
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver, join_relative};
use bulwark_inventory::{
    ComponentId, DependencyRequest, Ecosystem, FileEntry, Hash, HashAlgorithm, License, Location,
    PackageName, PackageSource,
};
use serde::Deserialize;

use crate::CondaIdentity;
use crate::match_spec::MatchSpec;

/// Reads `conda-meta/*.json`.
pub(crate) struct CondaMetaCataloger;

/// Why a conda-meta record could not be read.
#[derive(Debug, thiserror::Error)]
enum CondaMetaError {
    #[error("cannot read the conda-meta record")]
    Read(#[source] io::Error),
    #[error("not a valid conda-meta JSON record")]
    Json(#[source] serde_json::Error),
    #[error("conda-meta record has no `{0}`")]
    Missing(&'static str),
}

/// The fields of a conda-meta record that matter here; the rest (`timestamp`, `fn`,
/// `link`, ...) is ignored.
#[derive(Debug, Deserialize)]
struct Record {
    name: Option<String>,
    version: Option<String>,
    build: Option<String>,
    /// Older records and some tools write `build_string` instead of `build`.
    build_string: Option<String>,
    build_number: Option<u64>,
    channel: Option<String>,
    /// The archive URL, used for the channel when `channel` is absent.
    url: Option<String>,
    subdir: Option<String>,
    license: Option<String>,
    md5: Option<String>,
    sha256: Option<String>,
    files: Option<Vec<String>>,
    depends: Option<Vec<String>>,
    requested_spec: Option<String>,
    paths_data: Option<PathsData>,
}

/// Per-file digests and sizes (conda ≥ 4.3).
#[derive(Debug, Deserialize)]
struct PathsData {
    #[serde(default)]
    paths: Vec<PathData>,
}

#[derive(Debug, Deserialize)]
struct PathData {
    #[serde(rename = "_path")]
    path: String,
    sha256: Option<String>,
    size_in_bytes: Option<u64>,
}

impl Cataloger for CondaMetaCataloger {
    fn id(&self) -> &'static str {
        "conda/conda-meta"
    }

    /// `conda-meta/history` and other non-JSON files are not package records.
    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        let in_conda_meta = file.dir().rsplit('/').next() == Some("conda-meta");
        in_conda_meta && file.file_name().ends_with(".json")
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(CondaMetaError::Read)?;
        let record: Record = serde_json::from_str(&text).map_err(|error| {
            let line = u32::try_from(error.line()).unwrap_or(0);
            let error = CatalogError::new(CondaMetaError::Json(error));
            if line > 0 { error.at_line(line) } else { error }
        })?;
        let name = record
            .name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .ok_or(CondaMetaError::Missing("name"))?;
        let version = record
            .version
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .ok_or(CondaMetaError::Missing("version"))?;

        let meta_directory = file.dir();
        let prefix = meta_directory
            .strip_suffix("conda-meta")
            .unwrap_or_default()
            .trim_end_matches('/');
        let channel = record.channel.as_deref().or_else(|| {
            let url = record.url.as_deref()?;
            url.rsplit_once('/').map(|(channel, _)| channel)
        });
        let identity = CondaIdentity {
            name,
            version: Some(version),
            build: record.build.as_deref().or(record.build_string.as_deref()),
            build_number: record.build_number,
            channel,
            subdir: record.subdir.as_deref(),
            prefix: Some(if prefix.is_empty() { "." } else { prefix }),
            spec: record.requested_spec.as_deref(),
        };
        let mut component = identity.into_component(Location::new(file.path), self.id());
        component.licenses = record
            .license
            .as_deref()
            .and_then(License::from_declared)
            .into_iter()
            .collect();
        component.hashes = [
            (HashAlgorithm::Md5, &record.md5),
            (HashAlgorithm::Sha256, &record.sha256),
        ]
        .into_iter()
        .filter_map(|(algorithm, digest)| Hash::new(algorithm, digest.as_deref()?))
        .collect();
        component.source = channel.map(|c| PackageSource::Registry {
            url: crate::channel_without_credentials(c),
        });
        component.files =
            installed_files(prefix, record.files.unwrap_or_default(), record.paths_data);
        for file in &component.files {
            if let Some(purl) = crate::python_distribution_purl(&file.path)
                && !component.also_known_as.contains(&purl)
            {
                component.also_known_as.push(purl);
            }
        }

        // Dependencies resolve against the packages of the same environment: records in this
        // `conda-meta` directory. The prefix alone would not do: a base installation holds
        // its named environments below it (`miniconda3/envs/ml`).
        let from = ComponentId::of(&component);
        let within = if meta_directory.is_empty() {
            String::new()
        } else {
            format!("{meta_directory}/")
        };
        let requests = record
            .depends
            .unwrap_or_default()
            .iter()
            .filter_map(|depends| MatchSpec::parse(depends).ok())
            // Virtual packages (`__glibc`, `__cuda`) describe the host, not a package.
            .filter(|spec| !spec.name.starts_with("__"))
            .map(|spec| DependencyRequest {
                from: from.clone(),
                ecosystem: Ecosystem::Conda,
                name: PackageName::new(Ecosystem::Conda, &spec.name),
                within: Some(within.clone()),
            })
            .collect();
        Ok(CatalogOutput {
            components: vec![component],
            requests,
            ..CatalogOutput::default()
        })
    }
}

/// The record's files as target-relative paths, with digests and sizes from `paths_data`.
/// Paths that would leave the target are dropped.
fn installed_files(
    prefix: &str,
    files: Vec<String>,
    paths_data: Option<PathsData>,
) -> Vec<FileEntry> {
    let mut details: HashMap<String, PathData> = paths_data
        .map(|data| data.paths)
        .unwrap_or_default()
        .into_iter()
        .map(|data| (data.path.clone(), data))
        .collect();
    files
        .into_iter()
        .filter_map(|file| {
            let path = join_relative(prefix, &file)?;
            let detail = details.remove(&file);
            Some(FileEntry {
                path,
                digest: detail
                    .as_ref()
                    .and_then(|d| Hash::new(HashAlgorithm::Sha256, d.sha256.as_deref()?)),
                size: detail.and_then(|d| d.size_in_bytes),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bulwark_catalog::DirResolver;
    use bulwark_inventory::{ComponentKind, Inventory, Metadata};
    use serde::Deserialize;

    use super::*;
    use crate::test_support::{catalog_fixture, listing, testdata};

    #[derive(Deserialize)]
    struct Expected {
        expected: BTreeMap<String, Vec<Case>>,
    }

    #[derive(Deserialize)]
    struct Case {
        test: String,
        want_error: Option<String>,
        package_count: usize,
        packages: Vec<ExpectedPackage>,
    }

    #[derive(Deserialize)]
    struct ExpectedPackage {
        name: String,
        version: String,
        purl_type: String,
    }

    /// Every osv-scalibr case. scalibr reports conda-meta records as PyPI packages; bulwark
    /// reports them as conda packages and adds the PyPI identity only where the package
    /// installs a dist-info (jupyterlab's fixture lists no files), so a `pypi` expectation
    /// is checked as name and version of a conda component.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let text = fs_err::read_to_string(testdata("conda-meta").join("EXPECTED.json")).unwrap();
        let expected: Expected = serde_json::from_str(&text).unwrap();
        assert_eq!(expected.expected.len(), 5);
        for (fixture, cases) in expected.expected {
            let result = catalog_fixture(&CondaMetaCataloger, "conda-meta", &fixture);
            for case in cases {
                if case.want_error.is_some() {
                    let error = result
                        .as_ref()
                        .err()
                        .unwrap_or_else(|| panic!("{}", case.test));
                    assert!(!error.render().is_empty());
                    continue;
                }
                let output = result.as_ref().unwrap();
                assert_eq!(output.components.len(), case.package_count, "{}", case.test);
                for (component, package) in output.components.iter().zip(&case.packages) {
                    assert_eq!(component.name, package.name, "{}", case.test);
                    assert_eq!(component.version.as_deref(), Some(package.version.as_str()));
                    assert_eq!(package.purl_type, "pypi");
                    assert_eq!(component.ecosystem, Some(Ecosystem::Conda));
                }
            }
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let error = |fixture: &str| {
            catalog_fixture(&CondaMetaCataloger, "conda-meta", fixture)
                .unwrap_err()
                .render()
        };
        assert_eq!(error("noname"), "conda-meta record has no `name`");
        assert_eq!(error("noversion"), "conda-meta record has no `version`");
        assert_eq!(error("empty"), "conda-meta record has no `name`");
        assert!(error("invalid").starts_with("not a valid conda-meta JSON record: "));
        let invalid = catalog_fixture(&CondaMetaCataloger, "conda-meta", "invalid").unwrap_err();
        assert_eq!(invalid.line, Some(1));
    }

    #[test]
    fn valid_record() {
        let output = catalog_fixture(&CondaMetaCataloger, "conda-meta", "valid").unwrap();
        insta::assert_snapshot!(listing(&output));
        let component = &output.components[0];
        assert_eq!(component.kind, ComponentKind::Library);
        let Metadata::Conda(conda) = &component.metadata else {
            panic!("{:?}", component.metadata);
        };
        assert_eq!(
            conda.channel.as_deref(),
            Some("https://conda.registry.invalid/pkgs/main")
        );
        assert_eq!(conda.build.as_deref(), Some("py39hf3db000"));
    }

    #[test]
    fn wants_only_json_records_in_conda_meta() {
        let wants = |path: &str| {
            CondaMetaCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("env/conda-meta/numpy-1.26.4-py311h64a7726_0.json"));
        assert!(wants("conda-meta/python-3.11.7-h955ad1f_0.json"));
        assert!(!wants("env/conda-meta/history"));
        assert!(!wants("env/conda-meta/.nonadmin"));
        assert!(!wants("env/conda-meta/state"));
        assert!(!wants("env/not-conda-meta/x.json"));
        assert!(!wants("env/lib/package.json"));
    }

    const NUMPY: &str = r#"{
  "name": "numpy",
  "version": "1.26.4",
  "build": "py311h64a7726_0",
  "build_number": 0,
  "channel": "https://conda.registry.invalid/conda-forge/linux-64",
  "subdir": "linux-64",
  "fn": "numpy-1.26.4-py311h64a7726_0.conda",
  "url": "https://conda.registry.invalid/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda",
  "license": "BSD-3-Clause",
  "md5": "a502d7aad449a1206efb366d6a12c52d",
  "sha256": "3f4365e11b28e244c95ba8579942b0802761ba7bb31c026f50d1a9ea9c728149",
  "requested_spec": "conda-forge::numpy=1.26",
  "depends": [
    "__glibc >=2.17,<3.0.a0",
    "libblas >=3.9.0,<4.0a0",
    "python >=3.11,<3.12.0a0",
    "python_abi 3.11.* *_cp311"
  ],
  "constrains": ["numpy-base <0a0"],
  "files": [
    "bin/f2py",
    "lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA",
    "lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD",
    "lib/python3.11/site-packages/numpy/__init__.py",
    "../../../etc/escape"
  ],
  "paths_data": {
    "paths": [
      {
        "_path": "bin/f2py",
        "path_type": "hardlink",
        "sha256": "0f5d4ab8b9e6f3e1c4f1a5c9d2b7a8e6f0c3d1b2a4e5f6a7b8c9d0e1f2a3b4c5",
        "size_in_bytes": 254
      }
    ],
    "paths_version": 1
  }
}"#;

    const PYTHON: &str = r#"{
  "name": "python",
  "version": "3.11.7",
  "build": "hab00c5b_1_cpython",
  "build_number": 1,
  "channel": "https://conda.registry.invalid/conda-forge/linux-64",
  "subdir": "linux-64",
  "license": "Python-2.0",
  "depends": ["libzlib >=1.2.13,<2.0.0a0"],
  "files": ["bin/python3.11"]
}"#;

    fn environment() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("env/conda-meta");
        fs_err::create_dir_all(&meta).unwrap();
        fs_err::write(meta.join("numpy-1.26.4-py311h.json"), NUMPY).unwrap();
        fs_err::write(meta.join("python-3.11.7-hab00c5b_1_cpython.json"), PYTHON).unwrap();
        fs_err::write(meta.join("history"), "==> 2024-01-01 <==\n+numpy\n").unwrap();
        dir
    }

    #[test]
    fn installed_environment_paths_and_python_identity() {
        let dir = environment();
        let resolver = DirResolver::new(dir.path());
        let output = CondaMetaCataloger
            .catalog(
                &FileRef {
                    path: "env/conda-meta/numpy-1.26.4-py311h.json",
                    explicit: false,
                },
                &resolver,
            )
            .unwrap();
        insta::assert_snapshot!(listing(&output));
        let numpy = &output.components[0];
        let paths: Vec<&str> = numpy.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "env/bin/f2py",
                "env/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA",
                "env/lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD",
                "env/lib/python3.11/site-packages/numpy/__init__.py",
            ]
        );
        assert_eq!(numpy.files[0].size, Some(254));
        assert!(numpy.files[0].digest.is_some());
        assert_eq!(
            numpy.purl.as_ref().unwrap().as_str(),
            "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64"
        );
        let aliases: Vec<&str> = numpy.also_known_as.iter().map(|p| p.as_str()).collect();
        assert_eq!(aliases, ["pkg:pypi/numpy@1.26.4"]);
        let Metadata::Conda(conda) = &numpy.metadata else {
            panic!()
        };
        assert_eq!(conda.prefix.as_deref(), Some("env"));
        assert_eq!(conda.spec.as_deref(), Some("conda-forge::numpy=1.26"));
    }

    /// The whole environment through the walk: the dependency on python resolves, the one
    /// on libblas (not installed here) is dropped, and `history` is not read.
    #[test]
    fn environment_walk_links_dependencies() {
        let dir = environment();
        let catalogers = crate::catalogers();
        let inventory = bulwark_catalog::catalog_target(
            dir.path(),
            "t",
            &catalogers,
            &bulwark_catalog::Progress::default(),
        )
        .unwrap();
        assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
        assert_eq!(inventory.components.len(), 2);
        let edges: Vec<String> = inventory
            .relationships
            .iter()
            .map(|r| format!("{} -> {}", r.from, r.to))
            .collect();
        assert_eq!(
            edges,
            [
                "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64 -> pkg:conda/python@3.11.7?build=hab00c5b_1_cpython&channel=conda-forge&subdir=linux-64"
            ]
        );
    }

    /// A pip-visible dist-info of a conda package folds into the conda package.
    #[test]
    fn conda_owned_distribution_folds() {
        let dir = environment();
        let resolver = DirResolver::new(dir.path());
        let output = CondaMetaCataloger
            .catalog(
                &FileRef {
                    path: "env/conda-meta/numpy-1.26.4-py311h.json",
                    explicit: false,
                },
                &resolver,
            )
            .unwrap();
        let mut installed = bulwark_inventory::Component::package(
            Ecosystem::PyPI,
            "numpy",
            Some("1.26.4"),
            Location::new("env/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA"),
            "python/dist-info",
        );
        installed.metadata =
            Metadata::PythonDistribution(bulwark_inventory::PythonDistribution::default());
        let mut components = output.components;
        components.push(installed);
        let inventory = Inventory::assemble("t".into(), components, vec![], vec![], vec![]);
        assert_eq!(inventory.components.len(), 1);
        assert_eq!(inventory.components[0].also_known_as.len(), 1);
        assert_eq!(inventory.components[0].locations.len(), 2);
    }

    #[test]
    fn record_at_the_target_root() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("conda-meta")).unwrap();
        fs_err::write(dir.path().join("conda-meta/numpy.json"), NUMPY).unwrap();
        let output = CondaMetaCataloger
            .catalog(
                &FileRef {
                    path: "conda-meta/numpy.json",
                    explicit: false,
                },
                &DirResolver::new(dir.path()),
            )
            .unwrap();
        let numpy = &output.components[0];
        assert_eq!(
            numpy.files[1].path,
            "lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA"
        );
        assert_eq!(output.requests[0].within.as_deref(), Some("conda-meta/"));
    }
}
