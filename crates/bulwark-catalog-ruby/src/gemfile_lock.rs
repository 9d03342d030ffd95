//! `Gemfile.lock` (and `gems.locked`, its name next to a `gems.rb`): Bundler's lockfile.
//!
//! The format is indentation-based. Unindented lines open sections:
//!
//! - `GEM`, `GIT`, `PATH` and `PLUGIN SOURCE` are sources. Their two-space lines are options
//!   (`remote:`, and for git `revision:`, `branch:`, `tag:`, `ref:`), then `specs:`, under
//!   which four-space lines are the resolved gems, `name (version)` or
//!   `name (version-platform)`, and six-space lines are each gem's dependencies,
//!   `name (requirement)`.
//! - `PLATFORMS`, `DEPENDENCIES`, `RUBY VERSION` and `BUNDLED WITH` describe the bundle.
//! - `CHECKSUMS` (Bundler 2.5 and later) repeats every gem with its digests,
//!   `name (version-platform) sha256=<hex>`.
//!
//! What becomes of each:
//!
//! - Every spec is a component at its exact version. A platform suffix is split off the way
//!   Bundler itself splits it (the version is everything before the first `-`, since a gem
//!   version spelled with `-` is rewritten to `.pre.` when it is built): `nokogiri
//!   (1.15.4-x86_64-linux)` is version `1.15.4` with the purl qualifier
//!   `platform=x86_64-linux`, so advisories for `1.15.4` match it.
//! - The source becomes the component's [`PackageSource`]: the gem server for `GEM` (when the
//!   section names exactly one; old lockfiles with several `remote:` lines cannot say which gem
//!   came from which), the repository and resolved `revision` for `GIT`, the directory for
//!   `PATH`. A `PATH` source at `.` is the project's own gemspec: an
//!   [`Application`](ComponentKind::Application), like a Python lock's own project.
//! - Dependency lines become `depends-on` edges to the specs of that name. When a gem is locked
//!   for several platforms, an edge goes to the variant of the depending gem's platform, else
//!   to the plain (`ruby`) one, else to all of them.
//! - `BUNDLED WITH` names the Bundler version that wrote the lock. Since Bundler 2.3 that
//!   version is the one that runs the bundle (Bundler switches to it), and Rails loads it at
//!   boot (`require "bundler/setup"`), so it is reported as a run-time gem, `bundler`.
//! - `CHECKSUMS` digests become the components' hashes.
//! - `DEPENDENCIES` lists the Gemfile's direct dependencies (`!` marks one pinned to a git or
//!   path source). The component model has no "direct" flag, and a lockfile does not record
//!   Gemfile groups (`group :development`), so it cannot give a scope either: every gem is
//!   [`Scope::Required`](bulwark_inventory::Scope). The section is therefore only recognised.
//!   `RUBY VERSION` and `PLATFORMS` are recognised and not reported: the Ruby a lock was
//!   written with is not the interpreter found in the scanned tree.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::{
    Component, ComponentId, ComponentKind, Ecosystem, Hash, HashAlgorithm, Location, PackageSource,
    Problem, Purl, Relationship, RelationshipKind,
};

const ID: &str = "ruby/gemfile-lock";

/// At most this many malformed lines are reported one by one; a file with more is summarised.
const MAX_PROBLEMS: usize = 50;

/// Reads Bundler lockfiles.
pub(crate) struct GemfileLockCataloger;

/// Why a lockfile, or one line of it, could not be read.
#[derive(Debug, thiserror::Error)]
enum GemfileLockError {
    #[error("cannot read the lockfile")]
    Read(#[source] io::Error),
    #[error("not a Bundler lockfile: no GEM, GIT, PATH or DEPENDENCIES section")]
    NotALockfile,
    #[error("malformed gem line `{0}`: expected `name (version)`")]
    MalformedSpec(String),
    #[error("unexpected line `{0}` in the {1} section")]
    Unexpected(String, &'static str),
    #[error("unresolved merge conflict marker")]
    Conflict,
    #[error("{0} more malformed lines")]
    More(usize),
}

impl Cataloger for GemfileLockCataloger {
    fn id(&self) -> &'static str {
        ID
    }

    fn descend(&self, dir: &str) -> bool {
        !crate::is_installed_gem_content(dir) && !bulwark_catalog::is_installed_package_content(dir)
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        matches!(file.file_name(), "Gemfile.lock" | "gems.locked")
            && (file.explicit
                || !(crate::is_installed_gem_content(file.dir()) || file.is_in_site_packages()))
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(GemfileLockError::Read)?;
        if text.trim().is_empty() {
            return Ok(CatalogOutput::default());
        }
        let lock = Lockfile::parse(&text);
        if !lock.recognised {
            return Err(CatalogError::new(GemfileLockError::NotALockfile).at_line(1));
        }
        Ok(lock.into_output(file.path))
    }
}

/// The section a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before the first header, or under one this parser does not know.
    Other,
    /// A source section: index into [`Lockfile::sources`].
    Source(usize),
    Platforms,
    Dependencies,
    RubyVersion,
    BundledWith,
    Checksums,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Self::Other => "unknown",
            Self::Source(_) => "source",
            Self::Platforms => "PLATFORMS",
            Self::Dependencies => "DEPENDENCIES",
            Self::RubyVersion => "RUBY VERSION",
            Self::BundledWith => "BUNDLED WITH",
            Self::Checksums => "CHECKSUMS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Gem,
    Git,
    Path,
    Plugin,
}

/// One `GEM`/`GIT`/`PATH`/`PLUGIN SOURCE` section's options.
#[derive(Debug)]
struct Source<'a> {
    kind: SourceKind,
    remotes: Vec<&'a str>,
    revision: Option<&'a str>,
    /// `branch:`, `tag:` or `ref:`, as requested in the Gemfile.
    requested: Option<&'a str>,
}

impl Source<'_> {
    fn to_package_source(&self) -> Option<PackageSource> {
        let [remote] = self.remotes.as_slice() else {
            return None;
        };
        let remote = (*remote).to_owned();
        match self.kind {
            SourceKind::Gem => Some(PackageSource::Registry { url: remote }),
            SourceKind::Git => Some(PackageSource::Vcs {
                vcs: "git".to_owned(),
                url: remote,
                requested_revision: self.requested.map(str::to_owned),
                commit: self.revision.map(str::to_owned),
            }),
            SourceKind::Path => Some(PackageSource::Path {
                path: remote,
                editable: false,
            }),
            // A plugin source is whatever the plugin makes of its remote.
            SourceKind::Plugin => None,
        }
    }

    /// The project's own gemspec (`gemspec` in the Gemfile).
    fn is_project(&self) -> bool {
        self.kind == SourceKind::Path && self.remotes.as_slice() == ["."]
    }
}

/// A resolved gem under `specs:`.
#[derive(Debug)]
struct Spec<'a> {
    name: &'a str,
    version: &'a str,
    platform: Option<&'a str>,
    line: u32,
    source: usize,
    dependencies: Vec<&'a str>,
}

/// What a lockfile says, borrowed from its text.
#[derive(Debug, Default)]
struct Lockfile<'a> {
    sources: Vec<Source<'a>>,
    specs: Vec<Spec<'a>>,
    /// `(name, version, platform)` → digests.
    checksums: BTreeMap<(&'a str, &'a str, Option<&'a str>), Vec<Hash>>,
    /// `BUNDLED WITH` version and line.
    bundler: Option<(&'a str, u32)>,
    /// Whether any section header of a lockfile was seen.
    recognised: bool,
    problems: Vec<(u32, GemfileLockError)>,
}

impl<'a> Lockfile<'a> {
    fn parse(text: &'a str) -> Self {
        let mut lock = Self::default();
        let mut section = Section::Other;
        let mut in_specs = false;
        // The spec that six-space dependency lines belong to; none after a malformed one.
        let mut current: Option<usize> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let line = raw.trim_end();
            if line.is_empty() {
                continue;
            }
            let indent = line.len() - line.trim_start_matches(' ').len();
            let content = &line[indent..];
            if indent == 0 {
                if is_conflict_marker(content) {
                    // Bundler refuses such a file; both sides are read, since either may be
                    // what gets installed.
                    lock.problem(number, GemfileLockError::Conflict);
                    current = None;
                    continue;
                }
                section = lock.open_section(content);
                in_specs = false;
                current = None;
                continue;
            }
            match section {
                Section::Other | Section::Platforms | Section::RubyVersion => {}
                Section::Source(source) => match indent {
                    2 if content == "specs:" => in_specs = true,
                    2 => lock.source_option(source, content),
                    4 if in_specs => match parse_name_version(content) {
                        Some((name, Some((version, platform)))) => {
                            current = Some(lock.specs.len());
                            lock.specs.push(Spec {
                                name,
                                version,
                                platform,
                                line: number,
                                source,
                                dependencies: Vec::new(),
                            });
                        }
                        _ => {
                            current = None;
                            lock.problem(
                                number,
                                GemfileLockError::MalformedSpec(truncate(content)),
                            );
                        }
                    },
                    // The dependencies of a malformed spec line are dropped with it.
                    6 if in_specs => {
                        if let Some(spec) = current.and_then(|index| lock.specs.get_mut(index)) {
                            let name = content.split([' ', '(']).next().unwrap_or(content);
                            spec.dependencies.push(name);
                        }
                    }
                    _ => lock.problem(
                        number,
                        GemfileLockError::Unexpected(truncate(content), section.name()),
                    ),
                },
                Section::Dependencies => {}
                Section::BundledWith => {
                    if lock.bundler.is_none() {
                        lock.bundler = Some((content, number));
                    }
                }
                Section::Checksums => lock.checksum(content),
            }
        }
        lock
    }

    fn open_section(&mut self, header: &str) -> Section {
        let source = |kind| Source {
            kind,
            remotes: Vec::new(),
            revision: None,
            requested: None,
        };
        let section = match header {
            "GEM" => {
                self.sources.push(source(SourceKind::Gem));
                Section::Source(self.sources.len() - 1)
            }
            "GIT" => {
                self.sources.push(source(SourceKind::Git));
                Section::Source(self.sources.len() - 1)
            }
            "PATH" => {
                self.sources.push(source(SourceKind::Path));
                Section::Source(self.sources.len() - 1)
            }
            "PLUGIN SOURCE" => {
                self.sources.push(source(SourceKind::Plugin));
                Section::Source(self.sources.len() - 1)
            }
            "PLATFORMS" => Section::Platforms,
            "DEPENDENCIES" => Section::Dependencies,
            "RUBY VERSION" => Section::RubyVersion,
            "BUNDLED WITH" => Section::BundledWith,
            "CHECKSUMS" => Section::Checksums,
            // Unknown sections (a future Bundler's) are skipped whole, as Bundler skips them.
            _ => return Section::Other,
        };
        // PLATFORMS, RUBY VERSION and the others appear in lockfiles, but only a source or
        // DEPENDENCIES makes a file a lockfile (Bundler writes DEPENDENCIES even when empty).
        if matches!(section, Section::Source(_) | Section::Dependencies) {
            self.recognised = true;
        }
        section
    }

    fn source_option(&mut self, source: usize, content: &'a str) {
        let Some((key, value)) = content.split_once(':') else {
            return;
        };
        let value = value.trim();
        let Some(source) = self.sources.get_mut(source) else {
            return;
        };
        match key {
            "remote" => source.remotes.push(value),
            "revision" => source.revision = Some(value),
            "branch" | "tag" | "ref" => source.requested = Some(value),
            // `glob:`, `submodules:`, `type:` (plugins) say nothing bulwark reports.
            _ => {}
        }
    }

    /// `name (version[-platform]) algorithm=digest[,algorithm=digest]`.
    fn checksum(&mut self, content: &'a str) {
        let (entry, digests) = match content.find(") ") {
            Some(end) => (&content[..=end], content[end + 2..].trim()),
            None => (content, ""),
        };
        let Some((name, Some((version, platform)))) = parse_name_version(entry) else {
            return;
        };
        let hashes = digests
            .split(',')
            .filter_map(|digest| {
                let (algorithm, value) = digest.trim().split_once('=')?;
                Hash::new(HashAlgorithm::from_name(algorithm)?, value)
            })
            .collect::<Vec<_>>();
        if !hashes.is_empty() {
            self.checksums
                .entry((name, version, platform))
                .or_default()
                .extend(hashes);
        }
    }

    fn problem(&mut self, line: u32, error: GemfileLockError) {
        self.problems.push((line, error));
    }

    fn into_output(self, path: &str) -> CatalogOutput {
        let mut components: Vec<Component> = self
            .specs
            .iter()
            .map(|spec| {
                let mut component =
                    gem_component(spec.name, spec.version, spec.platform, path, spec.line);
                if let Some(source) = self.sources.get(spec.source) {
                    component.source = source.to_package_source();
                    if source.is_project() {
                        component.kind = ComponentKind::Application;
                    }
                }
                if let Some(hashes) = self
                    .checksums
                    .get(&(spec.name, spec.version, spec.platform))
                {
                    component.hashes.extend(hashes.iter().cloned());
                }
                component
            })
            .collect();

        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, spec) in self.specs.iter().enumerate() {
            by_name.entry(spec.name).or_default().push(index);
        }
        let mut relationships = BTreeSet::new();
        for (from, spec) in self.specs.iter().enumerate() {
            for dependency in &spec.dependencies {
                let Some(candidates) = by_name.get(dependency) else {
                    continue;
                };
                for to in pick_platform(candidates, &self.specs, spec.platform) {
                    relationships.insert(Relationship {
                        from: ComponentId::of(&components[from]),
                        kind: RelationshipKind::DependsOn,
                        to: ComponentId::of(&components[to]),
                    });
                }
            }
        }

        if let Some((version, line)) = self.bundler
            && !self.specs.iter().any(|spec| spec.name == "bundler")
        {
            components.push(gem_component("bundler", version, None, path, line));
        }

        let mut problems: Vec<Problem> = self
            .problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(|(line, error)| problem(path, *line, error))
            .collect();
        if let Some(first_elided) = self.problems.get(MAX_PROBLEMS) {
            let more = GemfileLockError::More(self.problems.len() - MAX_PROBLEMS);
            problems.push(problem(path, first_elided.0, &more));
        }
        CatalogOutput {
            components,
            relationships: relationships.into_iter().collect(),
            problems,
            ..CatalogOutput::default()
        }
    }
}

fn problem(path: &str, line: u32, error: &GemfileLockError) -> Problem {
    Problem {
        path: path.to_owned(),
        line: Some(line),
        cataloger: Some(ID.to_owned()),
        message: error.to_string(),
    }
}

/// A gem at `version`, with the `platform` qualifier when it is not the plain Ruby one.
fn gem_component(
    name: &str,
    version: &str,
    platform: Option<&str>,
    path: &str,
    line: u32,
) -> Component {
    let mut component = Component::package(
        Ecosystem::RubyGems,
        name,
        Some(version),
        Location::new(path).at_line(line),
        ID,
    );
    component.purl = Purl::builder(Ecosystem::RubyGems, name)
        .version(Some(version))
        .qualifier("platform", platform)
        .build();
    component
}

/// Which of the specs named alike a dependency of a gem on `platform` means.
fn pick_platform(candidates: &[usize], specs: &[Spec<'_>], platform: Option<&str>) -> Vec<usize> {
    if candidates.len() > 1 {
        for wanted in [platform, None] {
            let matching: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|index| specs.get(*index).is_some_and(|s| s.platform == wanted))
                .collect();
            if !matching.is_empty() {
                return matching;
            }
        }
    }
    candidates.to_vec()
}

/// A locked version and its platform, if not the plain Ruby one.
type Pinned<'a> = (&'a str, Option<&'a str>);

/// `name`, `name (version)` or `name (version-platform)`, as Bundler's `NAME_VERSION` pattern
/// reads them: the version runs to the first `-`, the platform is the rest. `None` for a
/// line that is not of that shape; `Some((name, None))` for a bare name.
fn parse_name_version(content: &str) -> Option<(&str, Option<Pinned<'_>>)> {
    let Some((name, rest)) = content.split_once(" (") else {
        let valid = !content.is_empty() && !content.contains([' ', '(', ')']);
        return valid.then_some((content, None));
    };
    let inside = rest.strip_suffix(')')?;
    if name.is_empty() || name.contains([' ', '(']) || inside.is_empty() {
        return None;
    }
    let (version, platform) = match inside.split_once('-') {
        Some((version, platform)) => (version, Some(platform).filter(|p| !p.is_empty())),
        None => (inside, None),
    };
    if version.is_empty() || version.contains([' ', ',']) {
        return None;
    }
    Some((name, Some((version, platform))))
}

/// `<<<<<<< HEAD`, `=======`, `>>>>>>> branch`, `||||||| base`.
fn is_conflict_marker(line: &str) -> bool {
    ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
        .iter()
        .any(|marker| line.starts_with(marker))
}

/// A line quoted in a message, cut short.
fn truncate(content: &str) -> String {
    const MAX: usize = 80;
    match content.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &content[..end]),
        None => content.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{catalog_fixture, listing};
    use bulwark_inventory::Scope;

    fn want(path: &str) -> bool {
        GemfileLockCataloger.wants(&FileRef {
            path,
            explicit: false,
        })
    }

    #[test]
    fn claims_lockfiles_outside_installed_gems() {
        assert!(want("Gemfile.lock"));
        assert!(want("app/gems.locked"));
        assert!(!want("app/Gemfile"));
        assert!(!want("app/Gemfile.lock.bak"));
        // A gem's own lockfile, shipped inside the installed gem.
        assert!(!want(
            "vendor/bundle/ruby/3.2.0/gems/rack-3.0.8/Gemfile.lock"
        ));
        assert!(!want(
            "vendor/bundle/ruby/3.2.0/bundler/gems/rails-0123abc/Gemfile.lock"
        ));
        // A monorepo's gem folder is not an installed gem.
        assert!(want("gems/billing/Gemfile.lock"));
        assert!(GemfileLockCataloger.wants(&FileRef {
            path: "usr/local/bundle/gems/rack-3.0.8/Gemfile.lock",
            explicit: true,
        }));
    }

    #[test]
    fn name_versions_split_like_bundler() {
        assert_eq!(
            parse_name_version("nokogiri (1.15.4-x86_64-linux)"),
            Some(("nokogiri", Some(("1.15.4", Some("x86_64-linux")))))
        );
        assert_eq!(
            parse_name_version("rails (7.1.2)"),
            Some(("rails", Some(("7.1.2", None))))
        );
        assert_eq!(
            parse_name_version("jruby-openssl (0.14.2-java)"),
            Some(("jruby-openssl", Some(("0.14.2", Some("java")))))
        );
        assert_eq!(parse_name_version("rack"), Some(("rack", None)));
        assert_eq!(parse_name_version("rack (>= 2.2.4, < 4)"), None);
        assert_eq!(parse_name_version("rack (1.0"), None);
        assert_eq!(parse_name_version("(1.0)"), None);
    }

    #[test]
    fn rails_app_listing() {
        let output = catalog_fixture(&GemfileLockCataloger, "Gemfile.lock").unwrap();
        insta::assert_snapshot!("rails-app", listing(&output));
    }

    #[test]
    fn platform_variants_keep_the_version_and_qualify_the_purl() {
        let output = catalog_fixture(&GemfileLockCataloger, "Gemfile.lock").unwrap();
        let nokogiri: Vec<&Component> = output
            .components
            .iter()
            .filter(|c| c.name == "nokogiri")
            .collect();
        assert_eq!(nokogiri.len(), 2);
        for component in &nokogiri {
            assert_eq!(component.version.as_deref(), Some("1.15.4"));
        }
        let purls: BTreeSet<&str> = nokogiri
            .iter()
            .filter_map(|c| c.purl.as_ref().map(Purl::as_str))
            .collect();
        assert_eq!(
            purls,
            BTreeSet::from([
                "pkg:gem/nokogiri@1.15.4?platform=arm64-darwin",
                "pkg:gem/nokogiri@1.15.4?platform=x86_64-linux",
            ])
        );
        // loofah and the git gem are plain `ruby` gems; nokogiri has no plain variant here,
        // so each of their dependencies on it reaches both platform variants.
        let edges_to_nokogiri = output
            .relationships
            .iter()
            .filter(|r| r.to.as_str().starts_with("pkg:gem/nokogiri@"))
            .count();
        assert_eq!(edges_to_nokogiri, 4);
    }

    #[test]
    fn sources_checksums_and_bundler() {
        let output = catalog_fixture(&GemfileLockCataloger, "Gemfile.lock").unwrap();
        let find = |name: &str| {
            output
                .components
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert!(matches!(
            &find("rails-html-sanitizer").source,
            Some(PackageSource::Vcs { commit: Some(commit), requested_revision: Some(branch), .. })
                if commit == "7d4c2a6e0f8b1c3d5e7f9a1b3c5d7e9f0a2b4c6d" && branch == "main"
        ));
        assert!(matches!(
            &find("rack").source,
            Some(PackageSource::Registry { url }) if url == "https://gems.registry.invalid/"
        ));
        let app = find("shop");
        assert_eq!(app.kind, ComponentKind::Application);
        assert!(matches!(&app.source, Some(PackageSource::Path { path, .. }) if path == "."));
        assert_eq!(find("rack").hashes.len(), 1);
        assert!(find("rails-html-sanitizer").hashes.is_empty());
        let bundler = find("bundler");
        assert_eq!(bundler.version.as_deref(), Some("2.5.6"));
        assert_eq!(bundler.scope, Scope::Required);
    }

    #[test]
    fn several_gem_servers_name_no_source() {
        let output = catalog_fixture(&GemfileLockCataloger, "two-remotes.Gemfile.lock").unwrap();
        assert!(!output.components.is_empty());
        assert!(output.components.iter().all(|c| c.source.is_none()));
        insta::assert_snapshot!("two-remotes", listing(&output));
    }

    #[test]
    fn broken_lines_are_problems_and_the_rest_is_read() {
        let output = catalog_fixture(&GemfileLockCataloger, "broken.Gemfile.lock").unwrap();
        insta::assert_snapshot!("broken", listing(&output));
    }

    #[test]
    fn not_a_lockfile() {
        let error = catalog_fixture(&GemfileLockCataloger, "not-a-lockfile.txt").unwrap_err();
        assert_eq!(error.line, Some(1));
        let output = catalog_fixture(&GemfileLockCataloger, "empty.Gemfile.lock").unwrap();
        assert!(output.components.is_empty());
    }

    #[test]
    fn hostile_input_is_bounded() {
        let mut text = String::from("GEM\n  remote: x\n  specs:\n");
        for _ in 0..10_000 {
            text.push_str("    (((\n");
        }
        let lock = Lockfile::parse(&text);
        let output = lock.into_output("Gemfile.lock");
        assert_eq!(output.problems.len(), MAX_PROBLEMS + 1);
        assert!(output.components.is_empty());
    }

    #[test]
    fn dependencies_prefer_the_same_platform_then_plain_ruby() {
        let spec = |name, platform| Spec {
            name,
            version: "1",
            platform,
            line: 1,
            source: 0,
            dependencies: Vec::new(),
        };
        let specs = [
            spec("ffi", None),
            spec("ffi", Some("x86_64-linux")),
            spec("ffi", Some("java")),
        ];
        assert_eq!(pick_platform(&[0, 1, 2], &specs, Some("java")), [2]);
        assert_eq!(pick_platform(&[0, 1, 2], &specs, Some("arm64-darwin")), [0]);
        assert_eq!(pick_platform(&[0, 1, 2], &specs, None), [0]);
        assert_eq!(pick_platform(&[1, 2], &specs, None), [1, 2]);
    }
}
