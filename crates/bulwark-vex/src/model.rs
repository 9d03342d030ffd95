//! The statements VEX documents are made of, in bulwark's terms.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

/// bulwark's triage state of a finding. The names are CycloneDX's `analysis.state` values
/// (bulwark's triage was modelled on them); OpenVEX's statuses map onto them (crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// Being investigated (`in_triage`; OpenVEX `under_investigation`).
    InTriage,
    /// The vulnerability may be exploited (`exploitable`; OpenVEX `affected`).
    Exploitable,
    /// The component is not affected (`not_affected`).
    NotAffected,
    /// The finding was a wrong match (`false_positive`; OpenVEX `not_affected`).
    FalsePositive,
    /// The vulnerability has been remediated (`resolved`; OpenVEX `fixed`).
    Resolved,
}

impl State {
    /// Every state, in triage order.
    pub const ALL: &'static [Self] = &[
        Self::InTriage,
        Self::Exploitable,
        Self::NotAffected,
        Self::FalsePositive,
        Self::Resolved,
    ];

    /// The states that close a finding: it no longer counts as risk and is never overdue.
    pub const CLOSING: [Self; 3] = [Self::NotAffected, Self::FalsePositive, Self::Resolved];

    /// Whether this state closes the finding (see [`State::CLOSING`]).
    pub fn is_closing(self) -> bool {
        Self::CLOSING.contains(&self)
    }

    /// The snake_case name the server and CycloneDX use (`in_triage`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InTriage => "in_triage",
            Self::Exploitable => "exploitable",
            Self::NotAffected => "not_affected",
            Self::FalsePositive => "false_positive",
            Self::Resolved => "resolved",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = UnknownName;

    /// Parses [`State::as_str`]'s names, and only those.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                UnknownName::new("triage state", s, Self::ALL.iter().map(|v| v.as_str()))
            })
    }
}

/// Why a finding is not affected: CycloneDX 1.6's nine `analysis.justification` values and
/// OpenVEX's five. The server accepts either vocabulary; each writer maps the other's to its
/// nearest ([`Justification::to_cyclonedx`], [`Justification::to_openvex`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Justification {
    /// CycloneDX: the code has been removed or tree-shaken.
    CodeNotPresent,
    /// CycloneDX: the vulnerable code is not invoked at runtime.
    CodeNotReachable,
    /// CycloneDX: exploitability requires a configurable option to be set or unset.
    RequiresConfiguration,
    /// CycloneDX: exploitability requires a dependency that is not present.
    RequiresDependency,
    /// CycloneDX: exploitability requires an environment that is not present.
    RequiresEnvironment,
    /// CycloneDX: exploitability requires a compiler flag to be set or unset.
    ProtectedByCompiler,
    /// CycloneDX: exploits are prevented at runtime.
    ProtectedAtRuntime,
    /// CycloneDX: attacks are blocked at the physical, logical or network perimeter.
    ProtectedAtPerimeter,
    /// CycloneDX: preventive measures reduce the likelihood or impact.
    ProtectedByMitigatingControl,
    /// OpenVEX: the vulnerable component is not in the product.
    ComponentNotPresent,
    /// OpenVEX: the component is, but the vulnerable code is not.
    VulnerableCodeNotPresent,
    /// OpenVEX: the vulnerable code cannot be executed.
    VulnerableCodeNotInExecutePath,
    /// OpenVEX: the vulnerable code runs, but an attacker cannot control it.
    VulnerableCodeCannotBeControlledByAdversary,
    /// OpenVEX: built-in inline controls prevent exploitation.
    InlineMitigationsAlreadyExist,
}

impl Justification {
    /// Every justification: CycloneDX's in spec order, then OpenVEX's.
    pub const ALL: &'static [Self] = &[
        Self::CodeNotPresent,
        Self::CodeNotReachable,
        Self::RequiresConfiguration,
        Self::RequiresDependency,
        Self::RequiresEnvironment,
        Self::ProtectedByCompiler,
        Self::ProtectedAtRuntime,
        Self::ProtectedAtPerimeter,
        Self::ProtectedByMitigatingControl,
        Self::ComponentNotPresent,
        Self::VulnerableCodeNotPresent,
        Self::VulnerableCodeNotInExecutePath,
        Self::VulnerableCodeCannotBeControlledByAdversary,
        Self::InlineMitigationsAlreadyExist,
    ];

    /// The spec's spelling (`code_not_present`, `vulnerable_code_not_present`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CodeNotPresent => "code_not_present",
            Self::CodeNotReachable => "code_not_reachable",
            Self::RequiresConfiguration => "requires_configuration",
            Self::RequiresDependency => "requires_dependency",
            Self::RequiresEnvironment => "requires_environment",
            Self::ProtectedByCompiler => "protected_by_compiler",
            Self::ProtectedAtRuntime => "protected_at_runtime",
            Self::ProtectedAtPerimeter => "protected_at_perimeter",
            Self::ProtectedByMitigatingControl => "protected_by_mitigating_control",
            Self::ComponentNotPresent => "component_not_present",
            Self::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            Self::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
            Self::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Self::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }

    /// Whether this is one of OpenVEX's five (else it is one of CycloneDX's nine).
    pub const fn is_openvex(self) -> bool {
        matches!(
            self,
            Self::ComponentNotPresent
                | Self::VulnerableCodeNotPresent
                | Self::VulnerableCodeNotInExecutePath
                | Self::VulnerableCodeCannotBeControlledByAdversary
                | Self::InlineMitigationsAlreadyExist
        )
    }

    /// The CycloneDX justification written for this one: itself for a CycloneDX one, the
    /// nearest CycloneDX one for an OpenVEX one (crate docs give the reasons).
    pub const fn to_cyclonedx(self) -> Self {
        match self {
            Self::ComponentNotPresent | Self::VulnerableCodeNotPresent => Self::CodeNotPresent,
            Self::VulnerableCodeNotInExecutePath => Self::CodeNotReachable,
            Self::VulnerableCodeCannotBeControlledByAdversary
            | Self::InlineMitigationsAlreadyExist => Self::ProtectedByMitigatingControl,
            other => other,
        }
    }

    /// The OpenVEX justification written for this one: itself for an OpenVEX one, the nearest
    /// OpenVEX one for a CycloneDX one, and `None` for the four CycloneDX ones OpenVEX has no
    /// counterpart for (requires configuration, dependency or environment, protected at the
    /// perimeter: the code is present and reachable, the protection lies outside).
    pub const fn to_openvex(self) -> Option<Self> {
        match self {
            Self::CodeNotPresent => Some(Self::VulnerableCodeNotPresent),
            Self::CodeNotReachable => Some(Self::VulnerableCodeNotInExecutePath),
            Self::ProtectedByCompiler
            | Self::ProtectedAtRuntime
            | Self::ProtectedByMitigatingControl => Some(Self::InlineMitigationsAlreadyExist),
            Self::RequiresConfiguration
            | Self::RequiresDependency
            | Self::RequiresEnvironment
            | Self::ProtectedAtPerimeter => None,
            Self::ComponentNotPresent
            | Self::VulnerableCodeNotPresent
            | Self::VulnerableCodeNotInExecutePath
            | Self::VulnerableCodeCannotBeControlledByAdversary
            | Self::InlineMitigationsAlreadyExist => Some(self),
        }
    }
}

impl fmt::Display for Justification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Justification {
    type Err = UnknownName;

    /// Parses [`Justification::as_str`]'s names (either vocabulary), and only those.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|justification| justification.as_str() == s)
            .ok_or_else(|| {
                UnknownName::new("justification", s, Self::ALL.iter().map(|v| v.as_str()))
            })
    }
}

/// A name that [`State`], [`Justification`] or [`Format`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected one of: {expected})")]
pub struct UnknownName {
    /// What was being parsed (`triage state`).
    pub what: &'static str,
    /// The name given.
    pub value: String,
    /// The names accepted, comma-separated.
    pub expected: String,
}

impl UnknownName {
    fn new<'a>(what: &'static str, value: &str, expected: impl Iterator<Item = &'a str>) -> Self {
        Self {
            what,
            value: value.to_owned(),
            expected: expected.collect::<Vec<_>>().join(", "),
        }
    }
}

/// One triage decision: what is known about one vulnerability in one product.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Statement {
    /// The primary id (`GHSA-…`, `CVE-…`, `PYSEC-…`, `BWM-…` for bulwark's model rules).
    pub vulnerability: String,
    /// Other ids of the same vulnerability.
    pub aliases: Vec<String>,
    /// The affected product or component.
    pub purl: Option<String>,
    /// The affected component's name when it has no purl (models, GPU libraries). Read back
    /// only for products without purl: neither format ties a name to a purl.
    pub component_name: Option<String>,
    /// The triage state.
    pub state: State,
    /// Why not affected (or, for CycloneDX, any other state).
    pub justification: Option<Justification>,
    /// Free text: how the state was determined, what to do.
    pub detail: Option<String>,
}

/// A VEX format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// CycloneDX 1.6 JSON with `vulnerabilities` (read: any CycloneDX JSON version).
    CycloneDx,
    /// OpenVEX v0.2.0 (read: v0.2.0 and v0.0.1).
    OpenVex,
}

impl Format {
    /// Both formats.
    pub const ALL: &'static [Self] = &[Self::CycloneDx, Self::OpenVex];

    /// The name the server's `?format=` takes (`cyclonedx`, `openvex`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CycloneDx => "cyclonedx",
            Self::OpenVex => "openvex",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|format| format.as_str() == s)
            .ok_or_else(|| UnknownName::new("VEX format", s, Self::ALL.iter().map(|v| v.as_str())))
    }
}

/// A document [`parse`](crate::parse) has read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The format it was in.
    pub format: Format,
    /// Its statements, normalized and sorted by vulnerability id, then product.
    pub statements: Vec<Statement>,
    /// What was skipped, could not be resolved or was superseded, each naming the place
    /// (``vulnerabilities[2] (CVE-2024-1234): unknown analysis.state `fixed`; skipped``).
    pub warnings: Vec<String>,
}

/// What a writer needs besides the statements. The caller chooses the id and the time, so
/// equal input gives equal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions<'a> {
    /// Who makes the statements: OpenVEX `author`, CycloneDX `metadata.authors[0].name`.
    pub author: &'a str,
    /// The document's identity: OpenVEX `@id` (an IRI), CycloneDX `serialNumber` (which must
    /// be a `urn:uuid:` URN; one serves both).
    pub id: &'a str,
    /// When the document was issued; written in UTC, to whole seconds.
    pub timestamp: OffsetDateTime,
    /// bulwark's version, written as the producing tool's.
    pub tool_version: &'a str,
}
