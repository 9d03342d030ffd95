//! One parallel pass over a target.
//!
//! Symbolic links are not followed: a virtualenv's `lib64 -> lib` would otherwise report every
//! package twice, and a link cycle cannot stall a scan that never follows links. Nothing is
//! skipped by ignore files or hidden names (`.venv` is exactly where packages live); `.git`
//! directories are pruned, and so is any directory no cataloger wants to
//! [descend](crate::Cataloger::descend) into.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bulwark_inventory::{
    ArtifactFinding, Component, DependencyRequest, Inventory, Problem, Relationship,
};
use ignore::{WalkBuilder, WalkState};

use crate::{CatalogOutput, Cataloger, DirResolver, FileRef, Resolver};

/// Live counters for a progress display; updated by the walker threads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files looked at.
    pub files_seen: AtomicU64,
    /// Files some cataloger read.
    pub files_cataloged: AtomicU64,
    /// Components found so far (before merging duplicates).
    pub components: AtomicU64,
}

/// The target itself cannot be scanned.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// It does not exist or cannot be read.
    #[error("cannot read `{}`", path.display())]
    Unreadable {
        /// The target.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is a single file no cataloger understands.
    #[error("`{}` is not a format bulwark reads (lockfile, manifest, package database or model)", path.display())]
    UnknownFile {
        /// The target.
        path: PathBuf,
    },
}

#[derive(Default)]
struct Collected {
    components: Vec<Component>,
    relationships: Vec<Relationship>,
    requests: Vec<DependencyRequest>,
    problems: Vec<Problem>,
    findings: Vec<ArtifactFinding>,
}

impl Collected {
    fn absorb(&mut self, output: CatalogOutput) {
        self.components.extend(output.components);
        self.relationships.extend(output.relationships);
        self.requests.extend(output.requests);
        self.problems.extend(output.problems);
        self.findings.extend(output.findings);
    }

    fn merge(&mut self, other: Self) {
        self.components.extend(other.components);
        self.relationships.extend(other.relationships);
        self.requests.extend(other.requests);
        self.problems.extend(other.problems);
        self.findings.extend(other.findings);
    }

    /// Assembles the inventory; findings are kept in a fixed order.
    fn into_inventory(self, display: &str) -> Inventory {
        let mut inventory = Inventory::assemble(
            display.to_owned(),
            self.components,
            self.relationships,
            self.requests,
            self.problems,
        );
        let mut findings = self.findings;
        findings.sort();
        findings.dedup();
        inventory.findings = findings;
        inventory
    }
}

/// Catalogs a directory or a single file and assembles the inventory.
///
/// `display` is how the target is named in the output (the argument as the user typed it).
pub fn catalog_target(
    target: &Path,
    display: &str,
    catalogers: &[Box<dyn Cataloger>],
    progress: &Progress,
) -> Result<Inventory, TargetError> {
    let metadata = fs_err::metadata(target).map_err(|source| TargetError::Unreadable {
        path: target.to_owned(),
        source,
    })?;
    let collected = if metadata.is_dir() {
        // Reading the directory up front turns "permission denied on the target" into an
        // error rather than an empty inventory.
        fs_err::read_dir(target).map_err(|source| TargetError::Unreadable {
            path: target.to_owned(),
            source,
        })?;
        walk_directory(target, catalogers, progress)
    } else {
        catalog_single_file(target, catalogers, progress)?
    };
    Ok(collected.into_inventory(display))
}

fn catalog_single_file(
    target: &Path,
    catalogers: &[Box<dyn Cataloger>],
    progress: &Progress,
) -> Result<Collected, TargetError> {
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let resolver = DirResolver::new(parent);
    let file = FileRef {
        path: &name,
        explicit: true,
    };
    let mut collected = Collected::default();
    if !offer(&file, catalogers, &resolver, progress, &mut collected) {
        return Err(TargetError::UnknownFile {
            path: target.to_owned(),
        });
    }
    Ok(collected)
}

/// Hands `file` to every cataloger that wants it; returns whether any did.
fn offer(
    file: &FileRef<'_>,
    catalogers: &[Box<dyn Cataloger>],
    resolver: &dyn Resolver,
    progress: &Progress,
    into: &mut Collected,
) -> bool {
    progress.files_seen.fetch_add(1, Ordering::Relaxed);
    let mut claimed = false;
    for cataloger in catalogers {
        if !cataloger.wants(file) {
            continue;
        }
        claimed = true;
        let _span =
            tracing::debug_span!("catalog", cataloger = cataloger.id(), path = file.path).entered();
        match cataloger.catalog(file, resolver) {
            Ok(mut output) => {
                progress
                    .components
                    .fetch_add(output.components.len() as u64, Ordering::Relaxed);
                record_layers(&mut output, resolver);
                into.absorb(output);
            }
            Err(error) => into.problems.push(Problem {
                path: file.path.to_owned(),
                line: error.line,
                cataloger: Some(cataloger.id().to_owned()),
                message: error.render(),
            }),
        }
    }
    if claimed {
        progress.files_cataloged.fetch_add(1, Ordering::Relaxed);
    }
    claimed
}

/// Fills in the layer of every reported location that lacks one, for layered targets.
fn record_layers(output: &mut CatalogOutput, resolver: &dyn Resolver) {
    for component in &mut output.components {
        let layered = component.locations.iter().any(|location| {
            location.layer.is_none() && resolver.layer_of(&location.path).is_some()
        });
        if !layered {
            continue;
        }
        component.locations = std::mem::take(&mut component.locations)
            .into_iter()
            .map(|mut location| {
                if location.layer.is_none() {
                    location.layer = resolver.layer_of(&location.path).map(str::to_owned);
                }
                location
            })
            .collect();
    }
}

/// Catalogs a target that is not a directory on disk, such as an image's flattened layers:
/// `files` lists its regular files (target-relative, `/`-separated, sorted) and `resolver`
/// reads them. Directories no cataloger [descends](Cataloger::descend) into are skipped, as
/// in a directory walk; files are cataloged in parallel. `seed` holds what the caller knows
/// already (the image itself as a component, problems met reading its layers).
pub fn catalog_files(
    display: &str,
    files: &[&str],
    resolver: &dyn Resolver,
    catalogers: &[Box<dyn Cataloger>],
    progress: &Progress,
    seed: CatalogOutput,
) -> Inventory {
    use rayon::prelude::*;

    let wanted: Vec<&str> = {
        let mut pruned: Option<String> = None;
        let mut descended = std::collections::HashSet::new();
        files
            .iter()
            .copied()
            .filter(|path| {
                if let Some(prefix) = &pruned
                    && path.starts_with(prefix.as_str())
                {
                    return false;
                }
                pruned = None;
                // Check each ancestor directory once, shallowest first.
                for (index, _) in path.match_indices('/') {
                    let dir = &path[..index];
                    if descended.contains(dir) {
                        continue;
                    }
                    if catalogers.iter().any(|c| c.descend(dir)) {
                        descended.insert(dir.to_owned());
                    } else {
                        pruned = Some(format!("{dir}/"));
                        return false;
                    }
                }
                true
            })
            .collect()
    };
    let collected = wanted
        .par_iter()
        .fold(Collected::default, |mut collected, path| {
            let file = FileRef {
                path,
                explicit: false,
            };
            offer(&file, catalogers, resolver, progress, &mut collected);
            collected
        })
        .reduce(Collected::default, |mut a, b| {
            a.merge(b);
            a
        });
    let mut all = Collected::default();
    all.absorb(seed);
    all.merge(collected);
    all.into_inventory(display)
}

fn walk_directory(
    root: &Path,
    catalogers: &[Box<dyn Cataloger>],
    progress: &Progress,
) -> Collected {
    let resolver = DirResolver::new(root);
    let results: Mutex<Vec<Collected>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build_parallel()
        .run(|| {
            let mut sink = PerThread {
                collected: Collected::default(),
                results: &results,
            };
            let resolver = &resolver;
            Box::new(move |entry| {
                visit(
                    entry,
                    root,
                    catalogers,
                    resolver,
                    progress,
                    &mut sink.collected,
                )
            })
        });
    let mut all = Collected::default();
    for part in results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        all.merge(part);
    }
    all
}

/// A walker thread's findings; handed to the shared list when the thread's visitor is dropped,
/// so threads never contend on a lock per file.
struct PerThread<'a> {
    collected: Collected,
    results: &'a Mutex<Vec<Collected>>,
}

impl Drop for PerThread<'_> {
    fn drop(&mut self) {
        let collected = std::mem::take(&mut self.collected);
        self.results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(collected);
    }
}

fn visit(
    entry: Result<ignore::DirEntry, ignore::Error>,
    root: &Path,
    catalogers: &[Box<dyn Cataloger>],
    resolver: &DirResolver,
    progress: &Progress,
    into: &mut Collected,
) -> WalkState {
    let entry = match entry {
        Ok(entry) => entry,
        Err(error) => {
            into.problems.push(walk_problem(root, &error));
            return WalkState::Continue;
        }
    };
    let Some(file_type) = entry.file_type() else {
        return WalkState::Continue;
    };
    let Some(relative) = relative_path(root, entry.path()) else {
        return WalkState::Continue;
    };
    if file_type.is_dir() {
        // Skip a directory only when no cataloger could want anything below it.
        let wanted = relative.is_empty() || catalogers.iter().any(|c| c.descend(&relative));
        return if wanted {
            WalkState::Continue
        } else {
            WalkState::Skip
        };
    }
    if file_type.is_file() {
        let file = FileRef {
            path: &relative,
            explicit: false,
        };
        offer(&file, catalogers, resolver, progress, into);
    }
    WalkState::Continue
}

fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for component in relative.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&component.as_os_str().to_string_lossy());
    }
    Some(out)
}

fn walk_problem(root: &Path, error: &ignore::Error) -> Problem {
    fn find_path(error: &ignore::Error) -> Option<&Path> {
        match error {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                find_path(err)
            }
            ignore::Error::Loop { child, .. } => Some(child),
            _ => None,
        }
    }
    let path = find_path(error)
        .and_then(|p| relative_path(root, p))
        .unwrap_or_default();
    let message = match error.io_error() {
        Some(io) => io.to_string(),
        None => error.to_string(),
    };
    Problem {
        path,
        line: None,
        cataloger: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_inventory::{Ecosystem, Location};

    /// Claims `*.pin` files holding `name==version` and fails on anything else.
    struct PinCataloger;

    impl Cataloger for PinCataloger {
        fn id(&self) -> &'static str {
            "test/pin"
        }
        fn wants(&self, file: &FileRef<'_>) -> bool {
            file.path.ends_with(".pin")
        }
        fn descend(&self, dir: &str) -> bool {
            !dir.ends_with("/vendored")
        }
        fn catalog(
            &self,
            file: &FileRef<'_>,
            resolver: &dyn Resolver,
        ) -> Result<CatalogOutput, crate::CatalogError> {
            let text = resolver.read_to_string(file.path)?;
            let (name, version) = text
                .trim()
                .split_once("==")
                .ok_or_else(|| crate::CatalogError::new("expected `name==version`").at_line(1))?;
            Ok(CatalogOutput::from_components(vec![Component::package(
                Ecosystem::PyPI,
                name,
                Some(version),
                Location::new(file.path),
                self.id(),
            )]))
        }
    }

    #[test]
    fn a_bad_file_is_a_problem_and_the_walk_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("a/.hidden")).unwrap();
        fs_err::write(dir.path().join("a/good.pin"), "numpy==1.26.0").unwrap();
        fs_err::write(dir.path().join("a/.hidden/also.pin"), "torch==2.2.0+cu121").unwrap();
        fs_err::write(dir.path().join("bad.pin"), "garbage").unwrap();
        // Below a directory no cataloger descends into: never offered.
        fs_err::create_dir_all(dir.path().join("a/vendored")).unwrap();
        fs_err::write(dir.path().join("a/vendored/skipped.pin"), "six==1.16.0").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();

        let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(PinCataloger)];
        let progress = Progress::default();
        let inventory = catalog_target(dir.path(), "t", &catalogers, &progress).unwrap();

        let found: Vec<_> = inventory
            .components
            .iter()
            .map(|c| format!("{}@{}", c.name, c.version.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(found, ["numpy@1.26.0", "torch@2.2.0+cu121"]);
        assert_eq!(inventory.problems.len(), 1);
        assert_eq!(
            inventory.problems[0].to_string(),
            "bad.pin:1: expected `name==version`"
        );
        assert_eq!(progress.files_cataloged.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn an_unknown_single_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.md");
        fs_err::write(&file, "hello").unwrap();
        let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(PinCataloger)];
        let error =
            catalog_target(&file, "notes.md", &catalogers, &Progress::default()).unwrap_err();
        assert!(matches!(error, TargetError::UnknownFile { .. }));
    }
}
