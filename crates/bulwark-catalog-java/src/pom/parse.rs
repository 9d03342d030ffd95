//! Reading one `pom.xml` into the few parts of the model bulwark needs, as written (nothing
//! interpolated, nothing inherited).
//!
//! A streaming reader rather than serde: the parts live at several depths (dependencies of
//! the project, of its dependency management, of each profile), everything else (build
//! plugins and *their* dependencies, reporting, distribution management) must be skipped
//! without being mistaken for them, and each dependency's line is wanted.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

use crate::maven::LineIndex;

/// Elements nested deeper than this are refused: a POM is about eight levels deep, and a
/// hostile file a million levels deep would otherwise grow the element stack without bound.
const MAX_DEPTH: usize = 64;

/// Why a POM could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PomError {
    /// The bytes are not text in the declared (or default UTF-8) encoding.
    #[error("not valid {encoding} text")]
    Encoding {
        /// The encoding the bytes were read as.
        encoding: &'static str,
    },
    /// Not well-formed XML.
    #[error("not well-formed XML")]
    Xml(#[source] quick_xml::Error),
    /// An element name XML does not allow (`<${Id}.version>`).
    #[error("`{0}` is not a valid XML element name")]
    InvalidName(String),
    /// An entity reference other than the five XML predefines or a character reference.
    #[error("unknown entity `&{0};`")]
    UnknownEntity(String),
    /// The document ends inside an element.
    #[error("the document ends before `</{0}>`")]
    Truncated(String),
    /// Nested past [`MAX_DEPTH`].
    #[error("elements are nested more than {MAX_DEPTH} deep")]
    TooDeep,
    /// The root element is not `<project>`.
    #[error("not a Maven POM (the root element is not `<project>`)")]
    NotAPom,
}

/// A `<dependency>` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawDependency {
    pub(crate) group_id: Option<String>,
    pub(crate) artifact_id: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) artifact_type: Option<String>,
    pub(crate) classifier: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) optional: Option<String>,
    /// The 1-based line of `<dependency>`.
    pub(crate) line: u32,
}

/// `<parent>` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawParent {
    pub(crate) group_id: Option<String>,
    pub(crate) artifact_id: Option<String>,
    pub(crate) version: Option<String>,
    /// `None` when absent (Maven then looks at `../pom.xml`); `Some("")` for an empty
    /// `<relativePath/>`, which tells Maven not to look on disk at all.
    pub(crate) relative_path: Option<String>,
}

/// The parts of a POM (or of one profile of it) that carry dependencies.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawSection {
    /// `<properties>`; a key written twice keeps its last value, as Maven's does.
    pub(crate) properties: HashMap<String, String>,
    /// `<dependencies>`.
    pub(crate) dependencies: Vec<RawDependency>,
    /// `<dependencyManagement><dependencies>`.
    pub(crate) managed: Vec<RawDependency>,
}

impl RawSection {
    /// Adds a profile's parts after this section's own: its properties win, its
    /// dependencies come after, as Maven injects an active profile.
    fn absorb(&mut self, profile: RawSection) {
        self.properties.extend(profile.properties);
        self.dependencies.extend(profile.dependencies);
        self.managed.extend(profile.managed);
    }
}

/// One POM file as written, with its `activeByDefault` profiles folded in.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawPom {
    pub(crate) group_id: Option<String>,
    pub(crate) artifact_id: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) parent: Option<RawParent>,
    pub(crate) section: RawSection,
}

impl RawPom {
    /// The effective `groupId` as written: its own, else its parent's (a module usually
    /// inherits its group).
    pub(crate) fn group_id(&self) -> Option<&str> {
        self.group_id
            .as_deref()
            .or_else(|| self.parent.as_ref()?.group_id.as_deref())
    }
}

/// Decodes a POM's bytes: UTF-8 (the XML default, a byte-order mark dropped), UTF-16 with a
/// byte-order mark, or the single-byte Latin encodings old POMs declare
/// (`encoding="iso-8859-1"`). The reader works on text, so this happens first.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, PomError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes, "UTF-16LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes, "UTF-16BE");
    }
    if declares_latin1(bytes) {
        // Every byte is the code point of the same number in ISO-8859-1. windows-1252 differs
        // only in 0x80..0x9F (curly quotes, the euro sign), which never occur in coordinates.
        return Ok(bytes.iter().copied().map(char::from).collect());
    }
    utf8(bytes)
}

fn utf8(bytes: &[u8]) -> Result<String, PomError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| PomError::Encoding { encoding: "UTF-8" })
}

fn utf16(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
    encoding: &'static str,
) -> Result<String, PomError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(PomError::Encoding { encoding });
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| PomError::Encoding { encoding })
}

/// Whether the XML declaration names a Latin-1 family encoding.
fn declares_latin1(bytes: &[u8]) -> bool {
    let Some(head) = bytes.strip_prefix(b"<?xml") else {
        return false;
    };
    let end = head
        .iter()
        .position(|b| *b == b'>')
        .unwrap_or(head.len())
        .min(256);
    let declaration = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let Some((_, after)) = declaration.split_once("encoding") else {
        return false;
    };
    let value = after
        .trim_start()
        .trim_start_matches('=')
        .trim_start()
        .trim_start_matches(['"', '\''])
        .split(['"', '\''])
        .next()
        .unwrap_or_default();
    matches!(
        value,
        "iso-8859-1"
            | "iso8859-1"
            | "latin1"
            | "latin-1"
            | "l1"
            | "iso-8859-15"
            | "windows-1252"
            | "cp1252"
    )
}

/// Where an element's text belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Project,
    Profile,
}

/// Parses a POM. `Err` carries the 1-based line where reading stopped.
pub(crate) fn parse(text: &str) -> Result<RawPom, (PomError, Option<u32>)> {
    let lines = LineIndex::new(text);
    let mut parser = Parser::default();
    let mut reader = Reader::from_str(text);
    loop {
        let before = offset(reader.buffer_position());
        let event = reader.read_event().map_err(|error| {
            let at = offset(reader.error_position());
            (PomError::Xml(error), Some(lines.line(at)))
        })?;
        let at = || Some(lines.line(before));
        match event {
            Event::Start(start) => {
                let name = start.name().into_inner();
                parser
                    .start(name, lines.line(before))
                    .map_err(|e| (e, at()))?;
            }
            Event::Empty(start) => {
                let name = start.name().into_inner();
                parser
                    .start(name, lines.line(before))
                    .map_err(|e| (e, at()))?;
                parser.end();
            }
            Event::End(_) => parser.end(),
            Event::Text(text) => parser.text.push_str(&text.xml10_content()),
            Event::CData(data) => parser.text.push_str(&data.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference).map_err(|e| (e, at()))?;
                parser.text.push(resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = parser.stack.last() {
        return Err((
            PomError::Truncated(open.clone()),
            Some(lines.line(text.len())),
        ));
    }
    if !parser.seen_project {
        return Err((PomError::NotAPom, None));
    }
    let mut pom = parser.pom;
    for profile in parser.active_profiles {
        pom.section.absorb(profile);
    }
    Ok(pom)
}

fn offset(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

/// `&lt;` and friends, and character references; a POM has no DTD to define others.
fn resolve_reference(reference: &BytesRef<'_>) -> Result<char, PomError> {
    let unknown = || PomError::UnknownEntity(reference.xml10_content().into_owned());
    if reference.is_char_ref() {
        return reference
            .resolve_char_ref()
            .ok()
            .flatten()
            .ok_or_else(unknown);
    }
    match &*reference.xml10_content() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => Err(unknown()),
    }
}

/// Whether `name` is an XML name (`NameStartChar NameChar*`, the ASCII part checked exactly,
/// non-ASCII letters accepted). quick-xml leaves names unchecked, and a name such as
/// `${Id}.version` is the mark of a template, not a POM.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii();
    start(first) && chars.all(|c| start(c) || c.is_ascii_digit() || c == '-' || c == '.')
}

#[derive(Default)]
struct Parser {
    /// Local names of the open elements.
    stack: Vec<String>,
    /// Text of the innermost element so far.
    text: String,
    seen_project: bool,
    pom: RawPom,
    /// The profile being read.
    profile: RawSection,
    profile_active: bool,
    /// The `activeByDefault` profiles read, folded in at the end (a profile's properties win
    /// over the project's wherever in the file either stands).
    active_profiles: Vec<RawSection>,
    /// The `<dependency>` being read, and whether it is a managed one.
    dependency: Option<(RawDependency, bool)>,
}

impl Parser {
    fn start(&mut self, name: &str, line: u32) -> Result<(), PomError> {
        if !is_xml_name(name) {
            return Err(PomError::InvalidName(name.to_owned()));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(PomError::TooDeep);
        }
        let local = name.rsplit(':').next().unwrap_or(name);
        if self.stack.is_empty() {
            if local != "project" {
                return Err(PomError::NotAPom);
            }
            self.seen_project = true;
        }
        self.stack.push(local.to_owned());
        self.text.clear();
        let path: Vec<&str> = self.stack.iter().map(String::as_str).collect();
        match split_owner(&path) {
            Some((_, ["dependencies", "dependency"])) => {
                self.dependency = Some((new_dependency(line), false));
            }
            Some((_, ["dependencyManagement", "dependencies", "dependency"])) => {
                self.dependency = Some((new_dependency(line), true));
            }
            Some((Owner::Project, ["profiles", "profile"])) => {
                self.profile = RawSection::default();
                self.profile_active = false;
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self) {
        let text = std::mem::take(&mut self.text).trim().to_owned();
        // Taken out for the call, which needs `self` mutably.
        let mut stack = std::mem::take(&mut self.stack);
        let path: Vec<&str> = stack.iter().map(String::as_str).collect();
        if let Some((owner, rest)) = split_owner(&path) {
            self.element(owner, rest, text);
        }
        stack.pop();
        self.stack = stack;
    }

    /// The element at `rest` (below the project or a profile) has ended with `text`.
    fn element(&mut self, owner: Owner, rest: &[&str], text: String) {
        let section = match owner {
            Owner::Project => &mut self.pom.section,
            Owner::Profile => &mut self.profile,
        };
        match (owner, rest) {
            (_, ["properties", key]) => {
                section.properties.insert((*key).to_owned(), text);
            }
            (_, ["dependencies", "dependency"]) => {
                if let Some((dependency, false)) = self.dependency.take() {
                    section.dependencies.push(dependency);
                }
            }
            (_, ["dependencyManagement", "dependencies", "dependency"]) => {
                if let Some((dependency, true)) = self.dependency.take() {
                    section.managed.push(dependency);
                }
            }
            (_, ["dependencies", "dependency", field])
            | (_, ["dependencyManagement", "dependencies", "dependency", field]) => {
                if let Some((dependency, _)) = &mut self.dependency {
                    set_dependency_field(dependency, field, text);
                }
            }
            (Owner::Profile, ["activation", "activeByDefault"]) => {
                self.profile_active = text == "true";
            }
            (Owner::Project, ["profiles", "profile"]) => {
                let profile = std::mem::take(&mut self.profile);
                if self.profile_active {
                    self.active_profiles.push(profile);
                }
            }
            (Owner::Project, ["groupId"]) => self.pom.group_id = Some(text),
            (Owner::Project, ["artifactId"]) => self.pom.artifact_id = Some(text),
            (Owner::Project, ["version"]) => self.pom.version = Some(text),
            (Owner::Project, ["parent", field]) => {
                let parent = self.pom.parent.get_or_insert_with(RawParent::default);
                match *field {
                    "groupId" => parent.group_id = Some(text),
                    "artifactId" => parent.artifact_id = Some(text),
                    "version" => parent.version = Some(text),
                    "relativePath" => parent.relative_path = Some(text),
                    _ => {}
                }
            }
            (Owner::Project, ["parent"]) => {
                self.pom.parent.get_or_insert_with(RawParent::default);
            }
            _ => {}
        }
    }
}

fn new_dependency(line: u32) -> RawDependency {
    RawDependency {
        line,
        ..RawDependency::default()
    }
}

fn set_dependency_field(dependency: &mut RawDependency, field: &str, text: String) {
    let slot = match field {
        "groupId" => &mut dependency.group_id,
        "artifactId" => &mut dependency.artifact_id,
        "version" => &mut dependency.version,
        "type" => &mut dependency.artifact_type,
        "classifier" => &mut dependency.classifier,
        "scope" => &mut dependency.scope,
        "optional" => &mut dependency.optional,
        _ => return,
    };
    *slot = Some(text);
}

/// Splits an element path into its owner and the path below it: `project/…` belongs to the
/// project, `project/profiles/profile/…` to the profile being read. Paths elsewhere (build
/// plugins' dependencies, reporting) belong to neither and are skipped.
fn split_owner<'p, 'a>(path: &'p [&'a str]) -> Option<(Owner, &'p [&'a str])> {
    match path {
        ["project", "profiles", "profile", rest @ ..] if !rest.is_empty() => {
            Some((Owner::Profile, rest))
        }
        ["project", rest @ ..] => Some((Owner::Project, rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_project_and_profile_dependencies() {
        let text = r#"<?xml version="1.0"?>
<p:project xmlns:p="http://maven.apache.org/POM/4.0.0">
  <p:parent><p:groupId>g</p:groupId><p:artifactId>parent</p:artifactId><p:relativePath/></p:parent>
  <build><plugins><plugin><dependencies>
    <dependency><groupId>plugin</groupId><artifactId>dep</artifactId></dependency>
  </dependencies></plugin></plugins></build>
  <dependencies>
    <dependency>
      <groupId>a&amp;b</groupId><artifactId><![CDATA[x]]>&#x79;</artifactId>
      <optional> true </optional>
    </dependency>
  </dependencies>
  <profiles>
    <profile>
      <dependencies><dependency><groupId>inactive</groupId></dependency></dependencies>
      <properties><p>inactive</p></properties>
    </profile>
    <profile>
      <properties><p>active</p></properties>
      <dependencies><dependency><groupId>active</groupId></dependency></dependencies>
      <activation><activeByDefault>true</activeByDefault></activation>
    </profile>
  </profiles>
  <properties><p>own</p></properties>
</p:project>"#;
        let pom = parse(text).unwrap();
        let parent = pom.parent.as_ref().unwrap();
        assert_eq!(parent.relative_path.as_deref(), Some(""));
        assert_eq!(pom.group_id(), Some("g"));
        let groups: Vec<_> = pom
            .section
            .dependencies
            .iter()
            .map(|d| (d.group_id.as_deref().unwrap(), d.line))
            .collect();
        assert_eq!(groups, [("a&b", 8), ("active", 20)]);
        assert_eq!(
            pom.section.dependencies[0].artifact_id.as_deref(),
            Some("xy")
        );
        assert_eq!(
            pom.section.dependencies[0].optional.as_deref(),
            Some("true")
        );
        // The active profile's property wins over the project's, though written before it.
        assert_eq!(pom.section.properties["p"], "active");
    }

    #[test]
    fn refuses_what_is_not_a_pom() {
        for (text, line) in [
            ("this is not a pom.xml file!", None),
            ("<settings><x/></settings>", Some(1)),
            (
                "<project>\n<${Id}.version>1</${Id}.version></project>",
                Some(2),
            ),
            ("<project>\n<dependencies>", Some(2)),
            ("<project><a>&nbsp;</a></project>", Some(1)),
        ] {
            let (_, at) = parse(text).unwrap_err();
            assert_eq!(at, line, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_followed() {
        let text = format!("<project>{}", "<a>".repeat(100_000));
        assert!(matches!(parse(&text), Err((PomError::TooDeep, _))));
    }

    #[test]
    fn decodes_declared_latin1_and_utf16() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><project>\xe9</project>";
        assert!(
            decode(latin1)
                .unwrap()
                .ends_with("<project>\u{e9}</project>")
        );
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<project/>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "<project/>");
        assert!(decode(b"<project>\xe9</project>").is_err());
    }
}
