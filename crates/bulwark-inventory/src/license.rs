//! Declared licenses.

use serde::Serialize;

/// A license as the source declared it.
///
/// A declaration that parses as an SPDX expression (in the lax mode that accepts `/` for `OR`
/// and common misspellings such as `Apache 2.0`) is kept as the canonical expression; anything
/// else (`"BSD"`, a whole license text) is kept as a name, trimmed to its first line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum License {
    /// A valid SPDX license expression, e.g. `MIT OR Apache-2.0`.
    Expression(String),
    /// A free-form license name that is not an SPDX expression.
    Name(String),
}

impl License {
    /// Classifies a declared license string; `None` for an empty or `UNKNOWN` declaration.
    pub fn from_declared(declared: &str) -> Option<Self> {
        let first_line = declared.lines().map(str::trim).find(|l| !l.is_empty())?;
        if first_line.eq_ignore_ascii_case("unknown") || first_line.eq_ignore_ascii_case("none") {
            return None;
        }
        // A full license text pasted into a `License:` field is not a name.
        if declared.lines().filter(|l| !l.trim().is_empty()).count() > 1 {
            return Some(Self::Name(truncate(first_line, 120)));
        }
        // Bare family names name no single license; lax parsing would guess a version
        // (`BSD` → `BSD-2-Clause`), which is worse than keeping the name.
        let family = first_line
            .trim_end_matches(" License")
            .trim_end_matches(" license");
        if [
            "BSD", "GPL", "LGPL", "AGPL", "MPL", "Apache", "CC", "Artistic",
        ]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(family))
        {
            return Some(Self::Name(first_line.to_owned()));
        }
        // `canonicalize` turns lax spellings (`Apache 2.0`, `GPLv3+`, `MIT/X11`) into SPDX ids;
        // `None` means the input already was canonical.
        match spdx::Expression::canonicalize(first_line) {
            Ok(canonical) => {
                let canonical = canonical.unwrap_or_else(|| first_line.to_owned());
                match spdx::Expression::parse(&canonical) {
                    Ok(_) => Some(Self::Expression(canonical)),
                    Err(_) => Some(Self::Name(truncate(first_line, 120))),
                }
            }
            Err(_) => Some(Self::Name(truncate(first_line, 120))),
        }
    }

    /// Builds a license from a trove classifier such as
    /// `License :: OSI Approved :: MIT License`; `None` for classifiers without an SPDX id.
    pub fn from_classifier(classifier: &str) -> Option<Self> {
        let last = classifier.rsplit("::").next()?.trim();
        let id = match last {
            "MIT License" => "MIT",
            "BSD License" => return Some(Self::Name("BSD".to_owned())),
            "Apache Software License" => "Apache-2.0",
            "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
            "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
            "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
            "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
            "GNU Lesser General Public License v2 (LGPLv2)" => "LGPL-2.0-only",
            "ISC License (ISCL)" => "ISC",
            "Python Software Foundation License" => "PSF-2.0",
            "The Unlicense (Unlicense)" => "Unlicense",
            "zlib/libpng License" => "Zlib",
            _ => return None,
        };
        Some(Self::Expression(id.to_owned()))
    }

    /// The expression or name as text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Expression(s) | Self::Name(s) => s,
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_expressions_are_canonicalized() {
        assert_eq!(
            License::from_declared("MIT OR Apache-2.0"),
            Some(License::Expression("MIT OR Apache-2.0".into()))
        );
        assert_eq!(
            License::from_declared("Apache 2.0"),
            Some(License::Expression("Apache-2.0".into()))
        );
    }

    #[test]
    fn free_text_is_a_name() {
        assert_eq!(
            License::from_declared("BSD"),
            Some(License::Name("BSD".into()))
        );
        assert_eq!(License::from_declared("UNKNOWN"), None);
        let text = "Copyright (c) 2005 Someone\n\nPermission is hereby granted";
        assert_eq!(
            License::from_declared(text),
            Some(License::Name("Copyright (c) 2005 Someone".into()))
        );
    }
}
