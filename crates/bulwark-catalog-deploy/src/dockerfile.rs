//! Dockerfiles and Containerfiles: the base image of every build stage and the images files
//! are copied or mounted from.
//!
//! ```dockerfile
//! # syntax=docker/dockerfile:1
//! ARG CUDA=12.4.1
//! FROM --platform=$BUILDPLATFORM nvidia/cuda:${CUDA}-devel-ubuntu22.04 AS build
//! FROM vllm/vllm-openai:v0.6.3
//! COPY --from=build /out /app
//! COPY --from=registry.example/tools/tini:0.19 /tini /tini
//! ```
//!
//! The parser follows the Dockerfile reference: parser directives (`# escape=`` ` ``) at the
//! top, comments, line continuations with the escape character (comment and empty lines
//! inside a continuation are dropped), and heredocs (`RUN <<EOF … EOF`), whose bodies are
//! skipped (a heredoc may write a `FROM` line into a file). `ARG`s before the first `FROM`
//! are the only ones a `FROM` sees; their defaults are substituted, and a `FROM` that needs
//! an argument without default (set by `--build-arg`) is reported as a problem. A `FROM`,
//! `COPY --from=` or `RUN --mount=from=` naming an earlier stage (by name, or by index for
//! `--from`) or `scratch` is no image.

use std::collections::HashMap;
use std::io;

use bulwark_catalog::{CatalogError, CatalogOutput, Cataloger, FileRef, Resolver};

use crate::interpolate::Dialect;
use crate::{Sighting, image_component, problem};

/// Reads Dockerfiles.
pub(crate) struct DockerfileCataloger;

/// Why a Dockerfile could not be read.
#[derive(Debug, thiserror::Error)]
enum DockerfileError {
    #[error("cannot read the Dockerfile")]
    Read(#[source] io::Error),
}

/// A `FROM` without an image.
#[derive(Debug, thiserror::Error)]
#[error("`FROM` names no image")]
struct EmptyFrom;

/// Whether `name` is a Dockerfile's: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
/// `Dockerfile.*` (`Dockerfile.gpu`), in any case, but not a per-Dockerfile ignore file
/// (`Dockerfile.dockerignore`).
pub(crate) fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower
                .strip_suffix(base)
                .is_some_and(|stem| stem.len() > 1 && stem.ends_with('.'))
            || lower
                .strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|suffix| !suffix.is_empty() && !NOT_DOCKERFILE.contains(&suffix))
    })
}

/// Suffixes after `Dockerfile.` that make a file something else: sources named after
/// Dockerfiles (`dockerfile.rs`), documentation, and templates that become a Dockerfile only
/// once rendered (`Dockerfile.j2`, `Dockerfile.in`).
const NOT_DOCKERFILE: &[&str] = &[
    "rs", "py", "go", "js", "ts", "java", "rb", "sh", "md", "rst", "txt", "json", "yaml", "yml",
    "toml", "j2", "jinja", "jinja2", "tmpl", "tpl", "template", "in", "erb", "bak", "orig", "swp",
];

impl Cataloger for DockerfileCataloger {
    fn id(&self) -> &'static str {
        "deploy/dockerfile"
    }

    fn wants(&self, file: &FileRef<'_>) -> bool {
        is_dockerfile_name(file.file_name()) && !crate::in_vendored_tree(file)
    }

    fn descend(&self, dir: &str) -> bool {
        crate::descend_into(dir)
    }

    fn catalog(
        &self,
        file: &FileRef<'_>,
        resolver: &dyn Resolver,
    ) -> Result<CatalogOutput, CatalogError> {
        let text = resolver
            .read_to_string(file.path)
            .map_err(DockerfileError::Read)?;
        let mut output = CatalogOutput::default();
        let mut build = Build::default();
        let parsed = parse(&text);
        let dialect = Dialect::Dockerfile {
            escape: parsed.escape,
        };
        for instruction in &parsed.instructions {
            let found = build.instruction(instruction, dialect);
            for (written, note) in found {
                let sighting = Sighting {
                    written: &written,
                    line: Some(instruction.line),
                    resource_stack: None,
                    note,
                };
                let lookup = |name: &str| build.global_args.get(name).cloned().flatten();
                match image_component(file, &sighting, Some(dialect), &lookup, self.id()) {
                    Ok(component) => output.components.push(component),
                    Err(error) => {
                        output.problems.push(problem(
                            file,
                            Some(instruction.line),
                            self.id(),
                            error,
                        ));
                    }
                }
            }
            if instruction.keyword == "FROM" && first_word(&instruction.arguments).is_none() {
                output
                    .problems
                    .push(problem(file, Some(instruction.line), self.id(), EmptyFrom));
            }
        }
        Ok(output)
    }
}

/// One instruction, continuations joined.
#[derive(Debug, PartialEq, Eq)]
struct Instruction {
    /// The line the instruction starts on.
    line: u32,
    /// The keyword, uppercased.
    keyword: String,
    /// Everything after the keyword.
    arguments: String,
}

#[derive(Debug)]
struct Parsed {
    escape: char,
    instructions: Vec<Instruction>,
}

/// Splits a Dockerfile into instructions.
fn parse(text: &str) -> Parsed {
    let mut lines = text.lines().zip(1u32..).peekable();
    let mut escape = '\\';
    // Parser directives: `# name=value` lines at the very top, before anything else.
    while let Some((line, _)) = lines.peek() {
        let Some((name, value)) = directive(line) else {
            break;
        };
        if name.eq_ignore_ascii_case("escape") && matches!(value, "\\" | "`") {
            escape = value.chars().next().unwrap_or('\\');
        }
        lines.next();
    }
    let mut instructions = Vec::new();
    let mut current: Option<(u32, String)> = None;
    while let Some((line, number)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            // Comments and empty lines, also inside a continuation.
            continue;
        }
        let (start, mut joined) = current.take().unwrap_or((number, String::new()));
        let content = line.trim_end();
        if let Some(continued) = content.strip_suffix(escape) {
            joined.push_str(continued);
            current = Some((start, joined));
            continue;
        }
        joined.push_str(content);
        let instruction = instruction(start, &joined);
        // Heredoc bodies are data, not instructions.
        for delimiter in heredoc_delimiters(&instruction) {
            for (body, _) in lines.by_ref() {
                if body.trim() == delimiter {
                    break;
                }
            }
        }
        instructions.extend(instruction);
    }
    if let Some((start, joined)) = current {
        instructions.extend(instruction(start, &joined));
    }
    Parsed {
        escape,
        instructions,
    }
}

fn instruction(line: u32, text: &str) -> Option<Instruction> {
    let text = text.trim();
    let (keyword, arguments) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    (!keyword.is_empty()).then(|| Instruction {
        line,
        keyword: keyword.to_ascii_uppercase(),
        arguments: arguments.trim().to_owned(),
    })
}

/// `# name=value`, the form of a parser directive.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| (name, value.trim()))
}

/// The heredoc delimiters of a `RUN`, `COPY` or `ADD` (`<<EOF`, `<<-EOF`, `<<"EOF"`), in
/// order.
fn heredoc_delimiters(instruction: &Option<Instruction>) -> Vec<String> {
    let Some(instruction) = instruction else {
        return Vec::new();
    };
    if !matches!(instruction.keyword.as_str(), "RUN" | "COPY" | "ADD") {
        return Vec::new();
    }
    let mut delimiters = Vec::new();
    let mut rest = instruction.arguments.as_str();
    while let Some(at) = rest.find("<<") {
        rest = &rest[at + 2..];
        let word = rest.strip_prefix('-').unwrap_or(rest);
        let word = word.strip_prefix(['"', '\'']).unwrap_or(word);
        let len = word
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if len > 0 {
            delimiters.push(word[..len].to_owned());
        }
    }
    delimiters
}

fn first_word(text: &str) -> Option<&str> {
    text.split_whitespace().next()
}

/// What the instructions so far have declared.
#[derive(Debug, Default)]
struct Build {
    /// `ARG`s before the first `FROM`, with their defaults.
    global_args: HashMap<String, Option<String>>,
    /// Stage names so far, lowercased.
    stages: Vec<String>,
    /// Whether a `FROM` has been seen.
    in_stage: bool,
}

impl Build {
    /// The image references an instruction names, each with a description note.
    fn instruction(
        &mut self,
        instruction: &Instruction,
        dialect: Dialect,
    ) -> Vec<(String, Option<String>)> {
        match instruction.keyword.as_str() {
            "ARG" if !self.in_stage => {
                self.global_arg(&instruction.arguments, dialect);
                Vec::new()
            }
            "FROM" => {
                self.in_stage = true;
                self.from(&instruction.arguments, dialect)
                    .into_iter()
                    .collect()
            }
            "COPY" => self.sources(&instruction.arguments, "--from=", "COPY --from source"),
            "RUN" => self.mounts(&instruction.arguments),
            _ => Vec::new(),
        }
    }

    /// `ARG NAME`, `ARG NAME=default`, `ARG A=1 B="2"`. A default may use earlier arguments.
    fn global_arg(&mut self, arguments: &str, dialect: Dialect) {
        for word in words(arguments) {
            let (name, default) = match word.split_once('=') {
                Some((name, default)) => (name, Some(default)),
                None => (word.as_str(), None),
            };
            let default = default.map(|d| {
                let lookup = |n: &str| self.global_args.get(n).cloned().flatten();
                crate::interpolate::expand(d, dialect, &lookup)
                    .map_or_else(|_| d.to_owned(), |e| e.value)
            });
            self.global_args.insert(name.to_owned(), default);
        }
    }

    /// `FROM [--platform=…] image [AS name]`.
    fn from(&mut self, arguments: &str, dialect: Dialect) -> Option<(String, Option<String>)> {
        let mut words = arguments.split_whitespace().peekable();
        let mut platform = None;
        while let Some(flag) = words.peek().and_then(|w| w.strip_prefix("--")) {
            if let Some(value) = flag.strip_prefix("platform=") {
                platform = Some(value);
            }
            words.next();
        }
        let image = words.next()?;
        let lookup = |n: &str| self.global_args.get(n).cloned().flatten();
        let lower = crate::interpolate::expand(image, dialect, &lookup)
            .map_or_else(|_| image.to_owned(), |e| e.value)
            .to_ascii_lowercase();
        // Only an earlier stage can be referred to: in `FROM base AS base`, `base` is an image.
        let is_stage = self.stages.contains(&lower);
        if let (Some(r#as), Some(name)) = (words.next(), words.next())
            && r#as.eq_ignore_ascii_case("as")
        {
            self.stages.push(name.to_ascii_lowercase());
        }
        if lower == "scratch" || is_stage {
            return None;
        }
        // A platform written with variables (`$BUILDPLATFORM`) says nothing about the image.
        let note = platform
            .filter(|p| !p.contains('$'))
            .map(|p| format!("platform {p}"));
        Some((image.to_owned(), note))
    }

    /// `--from=<source>` flags of `COPY`.
    fn sources(&self, arguments: &str, flag: &str, note: &str) -> Vec<(String, Option<String>)> {
        arguments
            .split_whitespace()
            .take_while(|w| w.starts_with("--"))
            .filter_map(|w| w.strip_prefix(flag))
            .filter_map(|source| self.image_source(source))
            .map(|source| (source, Some(note.to_owned())))
            .collect()
    }

    /// `from=<source>` options of `RUN --mount=…`.
    fn mounts(&self, arguments: &str) -> Vec<(String, Option<String>)> {
        arguments
            .split_whitespace()
            .take_while(|w| w.starts_with("--"))
            .filter_map(|w| w.strip_prefix("--mount="))
            .flat_map(|options| options.split(','))
            .filter_map(|option| option.strip_prefix("from="))
            .filter_map(|source| self.image_source(source))
            .map(|source| (source, Some("RUN --mount source".to_owned())))
            .collect()
    }

    /// A `--from` source that is an image: not a stage name, not a stage index.
    fn image_source(&self, source: &str) -> Option<String> {
        let source = source.trim_matches(['"', '\'']);
        let lower = source.to_ascii_lowercase();
        let is_index = !source.is_empty() && source.bytes().all(|b| b.is_ascii_digit());
        (!source.is_empty() && !is_index && lower != "scratch" && !self.stages.contains(&lower))
            .then(|| source.to_owned())
    }
}

/// Whitespace-separated words with `"…"` and `'…'` quoting (quotes removed).
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::catalog_text;

    fn images(text: &str) -> Vec<(String, u32)> {
        let output = catalog_text(&DockerfileCataloger, "Dockerfile", text).unwrap();
        assert!(output.problems.is_empty(), "{:?}", output.problems);
        output
            .components
            .iter()
            .map(|c| {
                (
                    format!("{}@{}", c.name, c.version.as_deref().unwrap_or("-")),
                    c.locations.first().unwrap().line.unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn names() {
        for (name, wanted) in [
            ("Dockerfile", true),
            ("dockerfile", true),
            ("Containerfile", true),
            ("gpu.Dockerfile", true),
            ("Dockerfile.gpu", true),
            ("Dockerfile.dockerignore", false),
            ("gpu.Dockerfile.dockerignore", false),
            ("Dockerfile.", false),
            ("MyDockerfile", false),
            ("Dockerfiles", false),
            ("dockerfile.rs", false),
            ("Dockerfile.j2", false),
        ] {
            assert_eq!(is_dockerfile_name(name), wanted, "{name}");
        }
    }

    #[test]
    fn stages_args_and_platforms() {
        let text = "# syntax=docker/dockerfile:1\nARG BASE=python\nARG TAG=\"3.11-slim\"\nFROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS Build\nRUN pip wheel .\nFROM build AS test\nFROM scratch AS empty\nFROM --platform=linux/amd64 registry.invalid/runtime:1 AS final\nCOPY --from=build /w /w\nCOPY --from=0 /w /w\nCOPY --from=registry.invalid/tools/tini:0.19 /tini /tini\nRUN --mount=type=cache,target=/c --mount=type=bind,from=registry.invalid/data:3,target=/d true\n";
        assert_eq!(
            images(text),
            [
                ("python@3.11-slim".to_owned(), 4),
                ("registry.invalid/runtime@1".to_owned(), 8),
                ("registry.invalid/tools/tini@0.19".to_owned(), 11),
                ("registry.invalid/data@3".to_owned(), 12),
            ]
        );
        let output = catalog_text(&DockerfileCataloger, "Dockerfile", text).unwrap();
        assert_eq!(
            output.components[0].description.as_deref(),
            Some(
                "container image (mutable tag; written `${BASE}:${TAG}`, variables at their defaults)"
            )
        );
        assert_eq!(
            output.components[1].description.as_deref(),
            Some("container image (mutable tag; platform linux/amd64)")
        );
    }

    #[test]
    fn a_stage_cannot_name_itself() {
        // `FROM base AS base` pulls the image `base`: there is no earlier stage `base`.
        assert_eq!(
            images("FROM base AS base\nFROM base\n"),
            [("base@latest".to_owned(), 1)]
        );
    }

    #[test]
    fn continuations_comments_and_heredocs() {
        let text = "FROM \\\n  # a comment inside a continuation\n\n  registry.invalid/a:1\nRUN <<EOF\nFROM registry.invalid/not-an-image:1\nEOF\nCOPY <<-\"END\" /etc/x\n\tFROM registry.invalid/nor-this:1\n\tEND\nfrom registry.invalid/b:2 as final\n";
        assert_eq!(
            images(text),
            [
                ("registry.invalid/a@1".to_owned(), 1),
                ("registry.invalid/b@2".to_owned(), 11)
            ]
        );
    }

    #[test]
    fn escape_directive() {
        let text = "# escape=`\n\nFROM registry.invalid/win:`\nltsc2022\nRUN dir c:\\\nFROM registry.invalid/c:1\n";
        assert_eq!(
            images(text),
            [
                ("registry.invalid/win@ltsc2022".to_owned(), 3),
                ("registry.invalid/c@1".to_owned(), 6)
            ]
        );
        // A directive after the first instruction is a comment.
        let parsed = parse("FROM a\n# escape=`\nRUN x `\nFROM b\n");
        assert_eq!(parsed.escape, '\\');
        assert_eq!(parsed.instructions.len(), 3);
    }

    #[test]
    fn arguments_set_at_build_time_are_problems() {
        let text = "ARG TAG\nFROM registry.invalid/app:${TAG}\nFROM\nARG LATE=1\nFROM registry.invalid/app:$LATE\n";
        let output = catalog_text(&DockerfileCataloger, "Dockerfile", text).unwrap();
        assert!(output.components.is_empty(), "{:?}", output.components);
        let lines: Vec<Option<u32>> = output.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(5)], "{:?}", output.problems);
        assert!(output.problems[0].message.contains("`$TAG` has no default"));
    }

    #[test]
    fn global_arguments_use_earlier_ones() {
        assert_eq!(
            images("ARG V=1.2\nARG IMAGE=registry.invalid/app:${V}\nFROM $IMAGE\n"),
            [("registry.invalid/app@1.2".to_owned(), 3)]
        );
    }

    #[test]
    fn words_unquote() {
        assert_eq!(
            words("A=1 B=\"two words\" C='x' D"),
            ["A=1", "B=two words", "C=x", "D"]
        );
    }

    #[test]
    fn unterminated_input_is_fine() {
        assert!(images("FROM registry.invalid/a:1 \\").len() == 1);
        assert!(images("RUN <<EOF\nFROM x\n").is_empty());
        assert!(images("").is_empty());
    }
}
