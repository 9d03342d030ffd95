//! Unsafe content found in a file: a model whose pickle imports `os.system`, a Keras model with
//! a Lambda layer. Vulnerabilities come from the advisory database; these come from reading
//! the artifact itself.

use std::fmt;

use serde::Serialize;

/// How dangerous an artifact finding is. Ordered: `Critical` is the greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactSeverity {
    /// Worth knowing; not a risk by itself.
    Low,
    /// Unknown or unusual content that may be harmful (an import outside the allowlist).
    Medium,
    /// Content that can run code under conditions (custom objects, `trust_remote_code`).
    High,
    /// Runs code when loaded (`os.system`, `builtins.exec`, a resolver of names to callables).
    Critical,
}

impl ArtifactSeverity {
    /// The lowercase name (`critical`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for ArtifactSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One unsafe thing in one file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ArtifactFinding {
    /// The file, relative to the target (as component locations are).
    pub path: String,
    /// The member inside an archive, `!/`-joined when archives nest (`archive/data.pkl`,
    /// `model.zip!/inner.pt!/archive/data.pkl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Byte offset in the (member's) stream: the pickle opcode, the header field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// A stable rule id (`BWM-PICKLE-CODE-EXEC`).
    pub id: String,
    /// How dangerous it is.
    pub severity: ArtifactSeverity,
    /// The callable or construct involved (`os.system`, `Lambda`, `auto_map`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callable: Option<String>,
    /// What was found, in one sentence.
    pub message: String,
    /// What to do about it (`convert the checkpoint to safetensors`).
    pub remedy: String,
}
