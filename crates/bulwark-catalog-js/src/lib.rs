//! JavaScript catalogers: npm's `package-lock.json` / `npm-shrinkwrap.json` (v1–v3) and its
//! hidden `node_modules/.package-lock.json`, `yarn.lock` (classic and berry),
//! `pnpm-lock.yaml` (v5–v9), and installed packages (`node_modules/**/package.json`).
//!
//! Every package is a `pkg:npm` component; a scoped name `@scope/name` keeps the scope as
//! the purl namespace (`pkg:npm/%40scope/name@1.0.0`) and as part of the component name,
//! which is how OSV names npm packages. Versions are as the lockfile writes them; an entry
//! that only names a git commit or a path has no version, never an invented one.
//!
//! Traps worth knowing:
//! - A lockfile inside `node_modules/<pkg>/` belongs to that package's own repository, not
//!   to what is installed, and is never read (unless named as the target).
//! - The walk must reach nested `node_modules` but nothing else inside an installed
//!   package: a real tree has 100k+ files, almost all of them sources. See
//!   [`common::descend`].
//! - The project itself (the lock's root entry, yarn/npm workspaces) is not a dependency.

mod common;
mod node_modules;
mod package_lock;
mod pnpm_lock;
mod yarn_lock;

use bulwark_catalog::Cataloger;

/// The catalogers of this crate, in a fixed order.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(package_lock::PackageLockCataloger),
        Box::new(yarn_lock::YarnLockCataloger),
        Box::new(pnpm_lock::PnpmLockCataloger),
        Box::new(node_modules::NodeModulesCataloger),
    ]
}

#[cfg(test)]
mod test_support {
    //! Helpers for the catalogers' tests.

    use std::collections::{BTreeMap, BTreeSet};
    use std::io;
    use std::path::{Path, PathBuf};

    use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, DirResolver, FileRef, Resolver};
    use bulwark_inventory::{Component, PackageSource, Scope};
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

    /// A resolver holding one file.
    pub(crate) struct OneFile {
        path: String,
        text: String,
    }

    impl OneFile {
        pub(crate) fn new(path: &str, text: &str) -> Self {
            Self {
                path: path.to_owned(),
                text: text.to_owned(),
            }
        }
    }

    impl Resolver for OneFile {
        fn read(&self, path: &str) -> io::Result<Vec<u8>> {
            if path == self.path {
                Ok(self.text.as_bytes().to_vec())
            } else {
                Err(io::Error::from(io::ErrorKind::NotFound))
            }
        }

        fn read_dir(&self, _path: &str) -> io::Result<Vec<String>> {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }

        fn is_file(&self, path: &str) -> bool {
            path == self.path
        }
    }

    /// Catalogs `text` as the file `path`; panics on an error.
    pub(crate) fn catalog_text(cataloger: &dyn Cataloger, path: &str, text: &str) -> CatalogOutput {
        cataloger
            .catalog(
                &FileRef {
                    path,
                    explicit: true,
                },
                &OneFile::new(path, text),
            )
            .unwrap()
    }

    /// One case of a fixture folder's `EXPECTED.json`.
    #[derive(Debug, Deserialize)]
    pub(crate) struct ExpectedCase {
        pub(crate) test: String,
        #[serde(default)]
        pub(crate) want_error: Option<String>,
        pub(crate) package_count: usize,
        pub(crate) packages: Vec<ExpectedPackage>,
    }

    /// One expected package.
    #[derive(Debug, Deserialize)]
    pub(crate) struct ExpectedPackage {
        pub(crate) name: String,
        pub(crate) version: String,
        pub(crate) purl_type: String,
        #[serde(default)]
        pub(crate) commit: Option<String>,
        #[serde(default)]
        pub(crate) dep_groups: Option<Vec<String>>,
    }

    /// `EXPECTED.json` of `testdata/<folder>`: fixture path → cases.
    pub(crate) fn expected(folder: &str) -> BTreeMap<String, Vec<ExpectedCase>> {
        #[derive(Deserialize)]
        struct File {
            expected: BTreeMap<String, Vec<ExpectedCase>>,
        }
        let text = fs_err::read_to_string(testdata(folder).join("EXPECTED.json")).unwrap();
        serde_json::from_str::<File>(&text).unwrap().expected
    }

    /// Checks every case of `testdata/<folder>/EXPECTED.json` and returns how many ran.
    ///
    /// - A case that wants an error and no packages gets an error.
    /// - A case that wants an error *and* packages (scalibr returns both) gets the
    ///   packages and at least one problem.
    /// - Otherwise the `(name, version)` pairs of the components `compared` keeps are the
    ///   expected ones, less the `(fixture, name)` pairs in `left_out` (deliberate
    ///   deviations, documented at the call), all purls are `pkg:npm`, and `extra_checks`
    ///   runs on the case.
    pub(crate) fn check_expected(
        cataloger: &dyn Cataloger,
        folder: &str,
        compared: impl Fn(&ExpectedCase, &Component) -> bool,
        left_out: &[(&str, &str)],
        extra_checks: impl Fn(&ExpectedCase, &CatalogOutput),
    ) -> usize {
        let mut cases_run = 0;
        for (fixture, cases) in expected(folder) {
            let result = catalog_fixture(cataloger, folder, &fixture);
            for case in cases {
                cases_run += 1;
                assert_eq!(case.package_count, case.packages.len(), "{}", case.test);
                let want: BTreeSet<(String, String)> = case
                    .packages
                    .iter()
                    .inspect(|p| assert_eq!(p.purl_type, "npm"))
                    .filter(|p| !left_out.contains(&(fixture.as_str(), p.name.as_str())))
                    .map(|p| (p.name.clone(), p.version.clone()))
                    .collect();
                if case.want_error.is_some() && want.is_empty() {
                    assert!(result.is_err(), "{}", case.test);
                    continue;
                }
                let output = match &result {
                    Ok(output) => output,
                    Err(error) => panic!("{}: {}", case.test, error.render()),
                };
                if case.want_error.is_some() {
                    assert!(!output.problems.is_empty(), "{}", case.test);
                }
                let found: BTreeSet<(String, String)> = output
                    .components
                    .iter()
                    .filter(|c| compared(&case, c))
                    .map(|c| (c.name.clone(), c.version.clone().unwrap_or_default()))
                    .collect();
                assert_eq!(found, want, "{}", case.test);
                for component in &output.components {
                    let purl = component.purl.as_ref().map(|p| p.as_str().to_owned());
                    assert!(
                        purl.as_deref().is_some_and(|p| p.starts_with("pkg:npm/")),
                        "{}: {purl:?}",
                        case.test
                    );
                }
                extra_checks(&case, output);
            }
        }
        assert!(cases_run > 0);
        cases_run
    }

    /// Every expected package with a commit has a component of that name and version whose
    /// VCS source names the commit.
    pub(crate) fn assert_commits(case: &ExpectedCase, output: &CatalogOutput) {
        for package in case
            .packages
            .iter()
            .filter(|p| p.commit.as_deref().is_some_and(|c| !c.is_empty()))
        {
            let found = output.components.iter().any(|c| {
                c.name == package.name
                    && c.version.clone().unwrap_or_default() == package.version
                    && matches!(&c.source, Some(PackageSource::Vcs { commit, .. }) if commit == &package.commit)
            });
            assert!(
                found,
                "{}: {} {} at {:?}",
                case.test, package.name, package.version, package.commit
            );
        }
    }

    /// A compact listing for snapshots: `kind name@version purl scope [source] #hashes
    /// path:line`, then the edges and problems.
    pub(crate) fn listing(output: &CatalogOutput) -> String {
        let mut lines: Vec<String> = output
            .components
            .iter()
            .map(|c| {
                let mut line = format!(
                    "{:?} {}@{} {} {}",
                    c.kind,
                    c.name,
                    c.version.as_deref().unwrap_or("-"),
                    c.purl.as_ref().map_or("-", |p| p.as_str()),
                    match c.scope {
                        Scope::Required => "required",
                        Scope::Optional => "optional",
                        Scope::Development => "development",
                    }
                );
                match &c.source {
                    Some(PackageSource::Registry { url }) => line += &format!(" registry={url}"),
                    Some(PackageSource::Url { url }) => line += &format!(" url={url}"),
                    Some(PackageSource::Path { path, .. }) => line += &format!(" path={path}"),
                    Some(PackageSource::Vcs { url, commit, .. }) => {
                        line += &format!(" git={url} commit={}", commit.as_deref().unwrap_or("-"));
                    }
                    None => {}
                }
                if !c.hashes.is_empty() {
                    line += &format!(" hashes={}", c.hashes.len());
                }
                for location in &c.locations {
                    line += &format!(
                        " {}:{}",
                        location.path,
                        location.line.map_or("-".to_owned(), |l| l.to_string())
                    );
                }
                line
            })
            .collect();
        lines.sort();
        let mut edges: Vec<String> = output
            .relationships
            .iter()
            .map(|r| format!("{} -> {}", r.from, r.to))
            .collect();
        edges.sort();
        let mut problems: Vec<String> = output.problems.iter().map(ToString::to_string).collect();
        problems.sort();
        let mut text = lines.join("\n");
        if !edges.is_empty() {
            text += "\n--- edges\n";
            text += &edges.join("\n");
        }
        if !problems.is_empty() {
            text += "\n--- problems\n";
            text += &problems.join("\n");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use bulwark_catalog::FileRef;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let catalogers = super::catalogers();
        let mut ids: Vec<&str> = catalogers.iter().map(|c| c.id()).collect();
        assert!(ids.iter().all(|id| {
            id.starts_with("javascript/")
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'/')
        }));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), catalogers.len());
    }

    #[test]
    fn no_cataloger_claims_files_inside_installed_packages_or_git() {
        for cataloger in super::catalogers() {
            for path in [
                "node_modules/x/lib/package.json",
                "node_modules/x/yarn.lock",
                "node_modules/x/package-lock.json",
                "node_modules/x/pnpm-lock.yaml",
                "package.json",
            ] {
                let file = FileRef {
                    path,
                    explicit: false,
                };
                assert!(!cataloger.wants(&file), "{} {path}", cataloger.id());
            }
            assert!(!cataloger.descend("project/.git"));
            assert!(!cataloger.descend("node_modules/x/dist"));
            assert!(cataloger.descend("node_modules/x/node_modules"));
        }
    }
}
