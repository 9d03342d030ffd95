//! `go.mod`: a Go module's requirements.
//!
//! Read as Go's `modfile` reads it: `//` comments, directives on one line or in
//! `verb ( … )` blocks, quoted (`"…"`) and raw (`` `…` ``) strings. What is reported:
//!
//! - every `require`d module at the version written (with its `v`), `// indirect` ones too
//!   (indirect requirements are still built; since Go 1.17 `go.mod` lists the whole build);
//! - `replace` applied the way Go applies it: a replacement with an old version replaces
//!   only that version, one without replaces every version, and a versioned one wins over an
//!   unversioned one. A module replaced by another module is reported as the replacement; a
//!   module replaced by a directory keeps its path, has no version and a
//!   [`PackageSource::Path`](bulwark_inventory::PackageSource::Path) (see
//!   [`required_component`]);
//! - the module itself, as an application without a version, with a `depends-on` edge to
//!   each direct (not `// indirect`) requirement and to the standard library;
//! - the standard library as the module `stdlib`, at the `toolchain` version or else the `go`
//!   version, as osv-scalibr and osv-scanner report it. The `go` line is the *minimum*
//!   language version, so the stdlib version is a floor when no `toolchain` is named;
//! - for a `go` version below 1.17 (no `go` line means 1.16), the modules of the `go.sum`
//!   beside it (`go.mod` → `go.sum`, `x.mod` → `x.sum`) that `go.mod` does not require: such a
//!   `go.mod` lists only direct dependencies. They get no edge (who needs them is unknown).
//!
//! `exclude` and `retract` never change what a build uses from a `go.mod` that states its
//! requirements, so they are read (to keep the syntax check honest) and otherwise ignored;
//! so are `godebug`, `tool` and `ignore`. An unknown directive is an error, as it is to Go:
//! such a file is not a `go.mod`.

use std::collections::HashSet;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};
use bulwark_inventory::Location;

use crate::gosum;
use crate::module::{
    OutputBuilder, Replacement, main_component, required_component, stdlib_component,
    toolchain_version,
};

const ID: &str = "go/go-mod";

/// Why a `go.mod` (or `go.sum`) could not be read at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GoModError {
    /// Not readable (missing, too large, not UTF-8).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// Not `go.mod` syntax.
    #[error("not a valid go.mod: {0}")]
    Syntax(String),
}

/// Reads `go.mod`, and the `go.sum` beside it where the `go.mod` is older than Go 1.17.
pub(crate) struct GoModCataloger;

impl Cataloger for GoModCataloger {
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
        file.file_name() == "go.mod"
    }

    fn reads(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        name == "go.mod" || name == "go.sum"
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(GoModError::Read)?;
        let go_mod = GoMod::parse(&text)?;
        let sum_path = sum_path(file.path);
        let sum_text = if go_mod.lists_only_direct_requirements() && resolver.is_file(&sum_path) {
            Some(
                resolver
                    .read_to_string(&sum_path)
                    .map_err(GoModError::Read)?,
            )
        } else {
            None
        };
        Ok(catalog_go_mod(
            &go_mod,
            file.path,
            sum_text.as_deref().map(|text| (sum_path.as_str(), text)),
        ))
    }
}

/// The `go.sum` of a `go.mod`: the same name with `.sum` for `.mod`.
fn sum_path(mod_path: &str) -> String {
    match mod_path.strip_suffix(".mod") {
        Some(stem) => format!("{stem}.sum"),
        None => format!("{mod_path}.sum"),
    }
}

/// The parts of a `go.mod` that decide what is built.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct GoMod {
    /// `module` path and line.
    module: Option<(String, u32)>,
    /// `go` version and line.
    go: Option<(String, u32)>,
    /// `toolchain` name and line.
    toolchain: Option<(String, u32)>,
    requires: Vec<Require>,
    replaces: Vec<Replace>,
}

#[derive(Debug, PartialEq, Eq)]
struct Require {
    path: String,
    version: String,
    indirect: bool,
    line: u32,
}

#[derive(Debug, PartialEq, Eq)]
struct Replace {
    old_path: String,
    old_version: Option<String>,
    new_path: String,
    new_version: Option<String>,
}

impl GoMod {
    /// Parses `go.mod` text. An empty file is a valid, empty `go.mod`.
    pub(crate) fn parse(text: &str) -> Result<Self, CatalogError> {
        let mut go_mod = Self::default();
        let mut block: Option<(String, u32)> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let error =
                |message: String| CatalogError::new(GoModError::Syntax(message)).at_line(line);
            let (code, comment) = split_comment(raw);
            let tokens = tokenize(code).map_err(error)?;
            let indirect = comment.is_some_and(is_indirect_comment);
            if let Some((verb, _)) = &block {
                match tokens.as_slice() {
                    [] => {}
                    [close] if close == ")" => block = None,
                    args => go_mod
                        .directive(verb, args, indirect, line)
                        .map_err(error)?,
                }
                continue;
            }
            let Some((verb, args)) = tokens.split_first() else {
                continue;
            };
            match args {
                [open] if open == "(" => {
                    check_verb(verb).map_err(error)?;
                    block = Some((verb.clone(), line));
                }
                [open, close] if open == "(" && close == ")" => check_verb(verb).map_err(error)?,
                _ => go_mod
                    .directive(verb, args, indirect, line)
                    .map_err(error)?,
            }
        }
        if let Some((verb, line)) = block {
            return Err(CatalogError::new(GoModError::Syntax(format!(
                "the `{verb} (` block is never closed"
            )))
            .at_line(line));
        }
        Ok(go_mod)
    }

    fn directive(
        &mut self,
        verb: &str,
        args: &[String],
        indirect: bool,
        line: u32,
    ) -> Result<(), String> {
        check_verb(verb)?;
        let arity = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "`{verb}` takes {n} argument(s), found {}",
                    args.len()
                ))
            }
        };
        match verb {
            "module" => {
                arity(1)?;
                self.module.get_or_insert((args[0].clone(), line));
            }
            "go" => {
                arity(1)?;
                self.go = Some((args[0].clone(), line));
            }
            "toolchain" => {
                arity(1)?;
                self.toolchain = Some((args[0].clone(), line));
            }
            "require" => {
                arity(2)?;
                self.requires.push(Require {
                    path: args[0].clone(),
                    version: args[1].clone(),
                    indirect,
                    line,
                });
            }
            "replace" => {
                let arrow = args
                    .iter()
                    .position(|a| a == "=>")
                    .ok_or_else(|| "`replace` without `=>`".to_owned())?;
                let (old, new) = (&args[..arrow], &args[arrow + 1..]);
                let (Some(old_path), Some(new_path)) = (old.first(), new.first()) else {
                    return Err("`replace` needs a module on each side of `=>`".to_owned());
                };
                if old.len() > 2 || new.len() > 2 {
                    return Err("`replace` takes `path [version] => path [version]`".to_owned());
                }
                self.replaces.push(Replace {
                    old_path: old_path.clone(),
                    old_version: old.get(1).cloned(),
                    new_path: new_path.clone(),
                    new_version: new.get(1).cloned(),
                });
            }
            "exclude" => arity(2)?,
            // `retract`, `godebug`, `tool`, `ignore`: nothing a scan needs.
            _ => {}
        }
        Ok(())
    }

    /// Whether this `go.mod` predates Go 1.17's complete requirement lists: its `go` version
    /// is below 1.17, or it has no `go` line (which Go reads as 1.16).
    fn lists_only_direct_requirements(&self) -> bool {
        let Some((version, _)) = &self.go else {
            return true;
        };
        let mut numbers = version.split('.').map(|n| {
            let digits = n.find(|c: char| !c.is_ascii_digit()).unwrap_or(n.len());
            n[..digits].parse::<u64>().ok()
        });
        match (numbers.next().flatten(), numbers.next().flatten()) {
            (Some(major), Some(minor)) => (major, minor) < (1, 17),
            (Some(major), None) => major < 1,
            _ => false,
        }
    }

    /// The replacement for `path version`: a versioned replace of exactly that version, else
    /// an unversioned replace of the path (the last one written, where a file repeats one).
    fn replacement(&self, path: &str, version: &str) -> Option<Replacement<'_>> {
        let exact = self
            .replaces
            .iter()
            .rev()
            .find(|r| r.old_path == path && r.old_version.as_deref() == Some(version));
        let any = || {
            self.replaces
                .iter()
                .rev()
                .find(|r| r.old_path == path && r.old_version.is_none())
        };
        exact
            .or_else(any)
            .map(|r| Replacement::new(&r.new_path, r.new_version.as_deref()))
    }

    /// The standard library's version and line: the toolchain's, else the `go` line's.
    fn stdlib(&self) -> Option<(&str, u32)> {
        self.toolchain
            .as_ref()
            .and_then(|(name, line)| Some((toolchain_version(name)?, *line)))
            .or_else(|| {
                self.go
                    .as_ref()
                    .map(|(version, line)| (version.as_str(), *line))
            })
    }
}

const VERBS: &[&str] = &[
    "module",
    "go",
    "toolchain",
    "godebug",
    "require",
    "exclude",
    "replace",
    "retract",
    "tool",
    "ignore",
];

fn check_verb(verb: &str) -> Result<(), String> {
    if VERBS.contains(&verb) {
        Ok(())
    } else {
        Err(format!("unknown directive `{verb}`"))
    }
}

/// Splits a line at its `//` comment (outside quotes): `(code, comment text)`.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(b'"') if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'`' => quote = Some(b),
            None if b == b'/' && bytes.get(i + 1) == Some(&b'/') => {
                return (&line[..i], Some(&line[i + 2..]));
            }
            None => {}
        }
        i += 1;
    }
    (line, None)
}

/// Go's rule: the comment is `indirect`, or starts `indirect;`.
fn is_indirect_comment(comment: &str) -> bool {
    let comment = comment.trim();
    comment == "indirect" || comment.starts_with("indirect;")
}

/// The tokens of a comment-free line: words, `(`, `)`, `=>`, and unquoted strings.
fn tokenize(code: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' | ')' => tokens.push(c.to_string()),
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted string".to_owned()),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, 't')) => value.push('\t'),
                            Some((_, escaped)) => value.push(escaped),
                            None => return Err("unterminated quoted string".to_owned()),
                        },
                        Some((_, other)) => value.push(other),
                    }
                }
                tokens.push(value);
            }
            '`' => {
                let rest = &code[start + 1..];
                let end = rest
                    .find('`')
                    .ok_or_else(|| "unterminated raw string".to_owned())?;
                tokens.push(rest[..end].to_owned());
                // Skip the raw string and its closing quote.
                while chars.peek().is_some_and(|(i, _)| *i <= start + 1 + end) {
                    chars.next();
                }
            }
            _ => {
                let mut end = code.len();
                while let Some((i, next)) = chars.peek().copied() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | '"' | '`') {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(code[start..end].to_owned());
            }
        }
    }
    Ok(tokens)
}

/// The components and edges of a parsed `go.mod` at `path`, plus the modules of its `go.sum`
/// (path and text) where that is to be read.
fn catalog_go_mod(go_mod: &GoMod, path: &str, sum: Option<(&str, &str)>) -> CatalogOutput {
    let mut builder = OutputBuilder::default();
    let main = go_mod.module.as_ref().map(|(module, line)| {
        builder.add(main_component(
            module,
            None,
            Location::new(path).at_line(*line),
            ID,
        ))
    });
    for require in &go_mod.requires {
        let replacement = go_mod.replacement(&require.path, &require.version);
        let id = builder.add(required_component(
            &require.path,
            Some(&require.version),
            replacement.as_ref(),
            Location::new(path).at_line(require.line),
            ID,
        ));
        if let Some(main) = &main
            && !require.indirect
        {
            builder.depends_on(main, id);
        }
    }
    if let Some((version, line)) = go_mod.stdlib() {
        let id = builder.add(stdlib_component(
            version,
            Location::new(path).at_line(line),
            ID,
        ));
        if let Some(main) = &main {
            builder.depends_on(main, id);
        }
    }
    if let Some((sum_path, sum_text)) = sum {
        let required: HashSet<&str> = go_mod.requires.iter().map(|r| r.path.as_str()).collect();
        gosum::add_entries(&mut builder, sum_text, sum_path, ID, |entry| {
            !required.contains(entry.path)
        });
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use bulwark_catalog::DirResolver;
    use bulwark_inventory::{Component, ComponentId, ComponentKind, PackageSource};
    use serde::Deserialize;

    use super::*;

    fn testdata() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/gomod")
    }

    fn catalog(path: &str) -> Result<CatalogOutput, CatalogError> {
        GoModCataloger.catalog(
            &FileRef {
                path,
                explicit: true,
            },
            &DirResolver::new(testdata()),
        )
    }

    #[derive(Deserialize)]
    struct Expected {
        expected: BTreeMap<String, Vec<ExpectedCase>>,
    }

    #[derive(Deserialize)]
    struct ExpectedCase {
        test: String,
        want_error: Option<String>,
        packages: Vec<ExpectedPackage>,
    }

    #[derive(Deserialize)]
    struct ExpectedPackage {
        name: String,
        version: String,
        purl_type: String,
    }

    /// How bulwark's `(name, version)` is written in scalibr's terms: scalibr drops the `v`
    /// Go writes, and names a module replaced by a directory after the directory.
    fn as_scalibr_writes_it(component: &Component) -> (String, String) {
        let version = component.version.as_deref().unwrap_or_default();
        let version = version.strip_prefix('v').unwrap_or(version).to_owned();
        match &component.source {
            Some(PackageSource::Path { path, .. }) => (path.clone(), version),
            _ => (component.name.clone(), version),
        }
    }

    /// The targets of the main module's edges: its direct requirements and the stdlib.
    fn direct(output: &CatalogOutput) -> BTreeSet<ComponentId> {
        output.relationships.iter().map(|r| r.to.clone()).collect()
    }

    /// Every case of the osv-scalibr expectations. Compared are the libraries (scalibr does
    /// not report the module itself, which bulwark keeps as the application the edges start
    /// from). The `…WithExcludeIndirectConfig…` cases ask scalibr for direct dependencies
    /// only; bulwark has no such setting but the same answer in the main module's edges, so
    /// those cases are checked against the edge targets.
    #[test]
    fn osv_scalibr_fixtures_match_expected_json() {
        let text = fs_err::read_to_string(testdata().join("EXPECTED.json")).unwrap();
        let expected: Expected = serde_json::from_str(&text).unwrap();
        let mut cases = 0;
        for (fixture, fixture_cases) in expected.expected {
            let result = catalog(&fixture);
            for case in fixture_cases {
                cases += 1;
                if case.want_error.is_some() {
                    assert!(result.is_err(), "{}", case.test);
                    continue;
                }
                let output = result.as_ref().unwrap();
                assert!(output.problems.is_empty(), "{}", case.test);
                let want: BTreeSet<(String, String)> = case
                    .packages
                    .iter()
                    .map(|p| {
                        assert_eq!(p.purl_type, "golang");
                        (p.name.clone(), p.version.clone())
                    })
                    .collect();
                let direct_only = case.test.contains("ExcludeIndirect");
                let direct = direct(output);
                let found: BTreeSet<(String, String)> = output
                    .components
                    .iter()
                    .filter(|c| c.kind == ComponentKind::Library)
                    .filter(|c| !direct_only || direct.contains(&ComponentId::of(c)))
                    .map(as_scalibr_writes_it)
                    .collect();
                assert_eq!(found, want, "{}", case.test);
            }
        }
        assert_eq!(cases, 17);
    }

    #[test]
    fn the_module_depends_on_its_direct_requirements_and_stdlib() {
        let output = catalog("indirect-packages.mod").unwrap();
        let main = output
            .components
            .iter()
            .find(|c| c.kind == ComponentKind::Application)
            .unwrap();
        assert_eq!(main.name, "my-library");
        assert_eq!(main.version, None);
        assert_eq!(main.locations.first().unwrap().line, Some(1));
        let edges: BTreeSet<&str> = output
            .relationships
            .iter()
            .inspect(|r| assert_eq!(r.from, ComponentId::of(main)))
            .map(|r| r.to.as_str())
            .collect();
        assert_eq!(
            edges,
            BTreeSet::from([
                "pkg:golang/github.com/burntsushi/toml@v1.0.0",
                "pkg:golang/gopkg.in/yaml.v2@v2.4.0",
                "pkg:golang/stdlib@1.17",
            ])
        );
        let sys = output
            .components
            .iter()
            .find(|c| c.name == "golang.org/x/sys")
            .unwrap();
        assert_eq!(
            sys.version.as_deref(),
            Some("v0.0.0-20210630005230-0f9fa26af87c")
        );
        assert_eq!(sys.locations.first().unwrap().line, Some(13));
    }

    #[test]
    fn old_go_mod_takes_its_indirect_modules_from_go_sum() {
        let output = catalog("indirect-1.16.mod").unwrap();
        let spew = output
            .components
            .iter()
            .find(|c| c.name == "github.com/davecgh/go-spew")
            .unwrap();
        let location = spew.locations.first().unwrap();
        assert_eq!(
            (location.path.as_str(), location.line),
            ("indirect-1.16.sum", Some(2))
        );
        // The module required by go.mod is reported once, from go.mod.
        let logrus: Vec<_> = output
            .components
            .iter()
            .filter(|c| c.name == "github.com/sirupsen/logrus")
            .collect();
        assert_eq!(logrus.len(), 1);
        assert_eq!(
            logrus[0].locations.first().unwrap().path,
            "indirect-1.16.mod"
        );
    }

    #[test]
    fn local_replacement_keeps_the_module_path() {
        let output = catalog("replace-local.mod").unwrap();
        let net = output
            .components
            .iter()
            .find(|c| c.name == "golang.org/x/net")
            .unwrap();
        assert_eq!(net.version, None);
        assert_eq!(
            net.source,
            Some(PackageSource::Path {
                path: "./fork/net".to_owned(),
                editable: false
            })
        );
        assert_eq!(
            net.purl.as_ref().unwrap().as_str(),
            "pkg:golang/golang.org/x/net"
        );
    }

    #[test]
    fn syntax() {
        let text = r#"module "example.com/quoted" // the module
go 1.21.0
toolchain default
require (
	example.com/a v1.0.0 // indirect; used by b
	`example.com/raw` v2.0.0+incompatible
	example.com/c v0.1.0 // not indirect
)
exclude example.com/a v0.9.0
retract [v1.0.0, v1.0.5] // oops
replace example.com/c => example.com/c2 v0.2.0
replace example.com/c v0.1.0 => ../c
godebug default=go1.21
"#;
        let go_mod = GoMod::parse(text).unwrap();
        assert_eq!(go_mod.module, Some(("example.com/quoted".to_owned(), 1)));
        assert_eq!(go_mod.stdlib(), Some(("1.21.0", 2)));
        let requires: Vec<_> = go_mod
            .requires
            .iter()
            .map(|r| (r.path.as_str(), r.version.as_str(), r.indirect, r.line))
            .collect();
        assert_eq!(
            requires,
            [
                ("example.com/a", "v1.0.0", true, 5),
                ("example.com/raw", "v2.0.0+incompatible", false, 6),
                ("example.com/c", "v0.1.0", false, 7),
            ]
        );
        // The versioned replace wins over the unversioned one.
        assert_eq!(
            go_mod.replacement("example.com/c", "v0.1.0"),
            Some(Replacement::Directory("../c"))
        );
        assert_eq!(
            go_mod.replacement("example.com/c", "v0.3.0"),
            Some(Replacement::Module {
                path: "example.com/c2",
                version: Some("v0.2.0")
            })
        );
        assert!(!go_mod.lists_only_direct_requirements());
    }

    #[test]
    fn errors_name_their_line() {
        for (text, line) in [
            ("module m\nthis is not a go.mod file!\n", 2),
            ("module m\nrequire (\n\tx v1\n", 2),
            ("require a\n", 1),
            ("replace a v1 b v2\n", 1),
            ("module \"unterminated\n", 1),
        ] {
            let error = GoMod::parse(text).unwrap_err();
            assert_eq!(error.line, Some(line), "{text:?}: {}", error.render());
        }
        assert_eq!(GoMod::parse("").unwrap(), GoMod::default());
    }

    #[test]
    fn claims_go_mod_only() {
        let wants = |path| {
            GoModCataloger.wants(&FileRef {
                path,
                explicit: false,
            })
        };
        assert!(wants("go.mod"));
        assert!(wants("src/app/go.mod"));
        assert!(!wants("src/app/go.sum"));
        assert!(!wants("venv/lib/python3.12/site-packages/x/go.mod"));
        assert!(GoModCataloger.reads("src/app/go.sum"));
    }
}
