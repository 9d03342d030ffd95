//! `Pipfile.lock`: pipenv's JSON lockfile.
//!
//! Two maps of name → entry: `default` (run time) and `develop` (development only). An
//! entry pins with `"version": "==X"`; git, path and file entries have no version (pipenv
//! resolves them at install time) and are reported without one, with their source and the
//! locked `ref`. A name in both maps is two sightings that merge into one required
//! component. The lock records no dependency edges.

use std::collections::BTreeMap;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{Component, PackageSource, Scope};
use serde::Deserialize;

use crate::lockfile::{
    LineIndex, add_prefixed_hash, json_key_line, lock_component, parse_json, read_text,
};
use crate::requirement::{is_commit, url_source};

const ID: &str = "python/pipfile-lock";

/// Reads `Pipfile.lock`.
pub(crate) struct PipfileLockCataloger;

impl Cataloger for PipfileLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        if file.is_in_site_packages() && !file.explicit {
            return false;
        }
        file.file_name() == "Pipfile.lock"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let Some(text) = read_text(resolver, file.path)? else {
            return Ok(CatalogOutput::default());
        };
        let lock: PipfileLock = parse_json(&text)?;
        let lines = LineIndex::new(&text);
        let mut components = Vec::new();
        for (section, entries, scope) in [
            ("default", &lock.default, Scope::Required),
            ("develop", &lock.develop, Scope::Development),
        ] {
            // Lines are found by searching for the key after the section's key: cheap, and
            // right for every lockfile pipenv writes (minified ones are one line anyway).
            // pipenv writes entries sorted, the order they are iterated in here, so each search
            // starts after the previous hit and the section is read once. A hit past the
            // section's end (the same name in the next section) falls back to a search from
            // the section start, which keeps hand-edited, unsorted files right.
            let section_start = json_key_line(&text, &lines, section, 0).map_or(0, |(_, end)| end);
            let section_end = ["default", "develop"]
                .iter()
                .filter_map(|other| json_key_line(&text, &lines, other, 0))
                .map(|(_, end)| end)
                .filter(|end| *end > section_start)
                .min()
                .unwrap_or(text.len());
            let mut cursor = section_start;
            for (name, entry) in entries {
                let found = json_key_line(&text, &lines, name, cursor)
                    .filter(|(_, end)| *end <= section_end)
                    .or_else(|| json_key_line(&text, &lines, name, section_start));
                if let Some((_, end)) = found {
                    cursor = end;
                }
                let line = found.map(|(line, _)| line);
                components.push(entry.component(name, &lock.meta, file.path, line, scope));
            }
        }
        Ok(CatalogOutput::from_components(components))
    }
}

#[derive(Debug, Deserialize)]
struct PipfileLock {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default)]
    sources: Vec<IndexSource>,
}

#[derive(Debug, Deserialize)]
struct IndexSource {
    name: String,
    url: String,
}

#[derive(Debug, Deserialize)]
struct Entry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    /// The name of a `_meta.sources` index.
    index: Option<String>,
    git: Option<String>,
    hg: Option<String>,
    svn: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    file: Option<String>,
    #[serde(default)]
    editable: bool,
}

impl Entry {
    fn component(
        &self,
        name: &str,
        meta: &Meta,
        path: &str,
        line: Option<u32>,
        scope: Scope,
    ) -> Component {
        let version = self.version.as_deref().map(|v| {
            v.strip_prefix("===")
                .or_else(|| v.strip_prefix("=="))
                .unwrap_or(v)
                .trim()
        });
        let mut component = lock_component(name, version, path, line, ID);
        component.scope = scope;
        component.source = self.source(meta);
        for hash in &self.hashes {
            add_prefixed_hash(&mut component.hashes, Some(hash));
        }
        component
    }

    fn source(&self, meta: &Meta) -> Option<PackageSource> {
        let vcs = [("git", &self.git), ("hg", &self.hg), ("svn", &self.svn)]
            .into_iter()
            .find_map(|(vcs, url)| url.as_ref().map(|url| (vcs, url)));
        if let Some((vcs, url)) = vcs {
            return Some(PackageSource::Vcs {
                vcs: vcs.to_owned(),
                url: url
                    .strip_prefix(&format!("{vcs}+"))
                    .unwrap_or(url)
                    .to_owned(),
                requested_revision: self.reference.clone(),
                commit: self.reference.clone().filter(|r| is_commit(r)),
            });
        }
        if let Some(path) = &self.path {
            return Some(PackageSource::Path {
                path: path.clone(),
                editable: self.editable,
            });
        }
        if let Some(file) = &self.file {
            return Some(url_source(file));
        }
        let index = self.index.as_ref()?;
        meta.sources
            .iter()
            .find(|source| &source.name == index)
            .map(|source| PackageSource::Registry {
                url: source.url.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::test_support::{assert_expected_json, catalog_fixture, listing};

    const FOLDER: &str = "pipenv";

    #[test]
    fn claims_pipfile_lock_only() {
        assert!(PipfileLockCataloger.wants(&FileRef {
            path: "x/Pipfile.lock",
            explicit: false
        }));
        assert!(!PipfileLockCataloger.wants(&FileRef {
            path: "x/Pipfile",
            explicit: true
        }));
    }

    /// Every case of the osv-scalibr expectations. scalibr drops entries without a version
    /// (git and path entries); bulwark reports them with no version and their source, so
    /// `no-version.json` has two components where scalibr expects none.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let additions: &[(&str, &str)] = &[
            ("no-version.json", "markupsafe"),
            ("no-version.json", "itsdangerous"),
        ];
        assert_expected_json(
            &PipfileLockCataloger,
            FOLDER,
            |_| true,
            additions,
            |_, _| {},
        );
    }

    #[test]
    fn fixture_listings() {
        for fixture in [
            "multiple-packages.json",
            "no-version.json",
            "minified.json",
            "sources.json",
        ] {
            let output = catalog_fixture(&PipfileLockCataloger, FOLDER, fixture).unwrap();
            insta::assert_snapshot!(format!("pipenv-{fixture}"), listing(&output));
        }
    }

    #[test]
    fn develop_entries_are_development_only() {
        let output = catalog_fixture(&PipfileLockCataloger, FOLDER, "two-packages.json").unwrap();
        let markupsafe = output
            .components
            .iter()
            .find(|c| c.name == "markupsafe")
            .unwrap();
        assert_eq!(markupsafe.scope, Scope::Development);
        assert_eq!(markupsafe.hashes.len(), 40);
    }

    #[test]
    fn broken_and_empty_files() {
        assert!(catalog_fixture(&PipfileLockCataloger, FOLDER, "not-json.txt").is_err());
        for fixture in ["empty-file", "empty.json"] {
            let output = catalog_fixture(&PipfileLockCataloger, FOLDER, fixture).unwrap();
            assert!(output.components.is_empty(), "{fixture}");
        }
    }
}
