//! Java catalogers: Maven `pom.xml` (with properties, dependency management and parents on
//! disk), Gradle lockfiles, and Java archives (`.jar`, `.war`, `.ear`, Jenkins `.jpi`/`.hpi`,
//! nested ones included).
//!
//! Every component is in the Maven ecosystem, named `groupId:artifactId` as OSV names Maven
//! packages, with the purl `pkg:maven/<groupId>/<artifactId>@<version>` (`classifier` and a
//! non-`jar` `type` as qualifiers).

mod archive;
mod gradle_lockfile;
mod maven;
mod pom;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(pom::PomCataloger),
        Box::new(gradle_lockfile::GradleLockfileCataloger),
        Box::new(archive::ArchiveCataloger),
    ]
}

#[cfg(test)]
mod test_support {
    //! Helpers for the catalogers' tests.

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef};
    use bulwark_inventory::{Component, Scope};
    use serde::Deserialize;

    /// `testdata/<folder>`.
    pub(crate) fn testdata(folder: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(folder)
    }

    /// Catalogs `path` under `testdata/<folder>` as an explicitly named file.
    pub(crate) fn catalog_fixture(
        cataloger: &dyn Cataloger,
        folder: &str,
        path: &str,
    ) -> Result<CatalogOutput, CatalogError> {
        let resolver = DirResolver::new(testdata(folder));
        cataloger.catalog(
            &FileRef {
                path,
                explicit: true,
            },
            &resolver,
        )
    }

    /// Writes `files` into a temporary directory and catalogs `path` there as found by a walk.
    pub(crate) fn catalog_bytes(files: &[(&str, Vec<u8>)], path: &str) -> CatalogOutput {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            let full = dir.path().join(name);
            fs_err::create_dir_all(full.parent().unwrap()).unwrap();
            fs_err::write(full, bytes).unwrap();
        }
        let resolver = DirResolver::new(dir.path());
        let file = FileRef {
            path,
            explicit: false,
        };
        let cataloger = crate::catalogers()
            .into_iter()
            .find(|c| c.wants(&file))
            .unwrap();
        cataloger.catalog(&file, &resolver).unwrap()
    }

    /// [`catalog_bytes`] for text files.
    pub(crate) fn catalog_tree(files: &[(&str, &str)], path: &str) -> CatalogOutput {
        let files: Vec<(&str, Vec<u8>)> = files
            .iter()
            .map(|(name, text)| (*name, text.as_bytes().to_vec()))
            .collect();
        catalog_bytes(&files, path)
    }

    /// The component named `name`.
    pub(crate) fn component<'a>(output: &'a CatalogOutput, name: &str) -> &'a Component {
        output
            .components
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", purls(output)))
    }

    /// The purls of the components, in output order.
    pub(crate) fn purls(output: &CatalogOutput) -> Vec<String> {
        output
            .components
            .iter()
            .map(|c| c.purl.as_ref().map_or("-", |p| p.as_str()).to_owned())
            .collect()
    }

    #[derive(Debug, Deserialize)]
    struct ExpectedCase {
        test: String,
        #[serde(default)]
        want_error: Option<String>,
        package_count: usize,
        packages: Vec<ExpectedPackage>,
    }

    #[derive(Debug, Deserialize)]
    struct ExpectedPackage {
        name: String,
        version: String,
        purl_type: String,
        /// Only in the POM cases; `["test"]` for a test-scoped dependency.
        #[serde(default)]
        dep_groups: Option<Vec<String>>,
    }

    /// Checks every case of `testdata/<folder>/EXPECTED.json` and returns how many there
    /// were. A case that wants an error gets one; otherwise the components' distinct
    /// `(name, version)` pairs are the expected packages, their number is the expected count
    /// plus the fixture's entry in `extra_artifacts` (artifacts bulwark tells apart and
    /// scalibr does not), every purl is of the expected type, and a package in the `test`
    /// dependency group is development-only while one in none is not.
    pub(crate) fn assert_expected_json(
        cataloger: &dyn Cataloger,
        folder: &str,
        extra_artifacts: &[(&str, usize)],
    ) -> usize {
        #[derive(Deserialize)]
        struct File {
            expected: BTreeMap<String, Vec<ExpectedCase>>,
        }
        let text = fs_err::read_to_string(testdata(folder).join("EXPECTED.json")).unwrap();
        let expected = serde_json::from_str::<File>(&text).unwrap().expected;
        let mut count = 0;
        for (fixture, cases) in expected {
            let result = catalog_fixture(cataloger, folder, &fixture);
            for case in cases {
                count += 1;
                if case.want_error.is_some() {
                    assert!(result.is_err(), "{}", case.test);
                    continue;
                }
                let output = result.as_ref().unwrap();
                let want: BTreeSet<(String, String)> = case
                    .packages
                    .iter()
                    .map(|p| (p.name.clone(), p.version.clone()))
                    .collect();
                let found: BTreeSet<(String, String)> = output
                    .components
                    .iter()
                    .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
                    .collect();
                assert_eq!(found, want, "{}", case.test);
                let extra = extra_artifacts
                    .iter()
                    .find(|(name, _)| *name == fixture)
                    .map_or(0, |(_, extra)| *extra);
                assert_eq!(
                    output.components.len(),
                    case.package_count + extra,
                    "{}",
                    case.test
                );
                for package in &case.packages {
                    let prefix = format!("pkg:{}/", package.purl_type);
                    let matching = output.components.iter().filter(|c| c.name == package.name);
                    for found in matching {
                        let purl = found.purl.as_ref().unwrap().as_str();
                        assert!(purl.starts_with(&prefix), "{}: {purl}", case.test);
                        if let Some(groups) = &package.dep_groups {
                            let test_only = groups.iter().any(|g| g == "test");
                            assert_eq!(
                                found.scope == Scope::Development,
                                test_only,
                                "{}: {}",
                                case.test,
                                package.name
                            );
                        }
                    }
                }
            }
        }
        count
    }
}
