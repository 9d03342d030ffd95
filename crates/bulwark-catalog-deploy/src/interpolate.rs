//! `${VAR:-default}` substitution, as Compose and Dockerfile `FROM` lines do it.
//!
//! Values set outside the file (the shell environment, `.env`, `--build-arg`) are unknown to
//! a scan. A variable is therefore expanded only when the file itself gives its value: a
//! Dockerfile `ARG` default, or the `default` of `${VAR:-default}`. A variable the file
//! gives no value for (`${TAG}`, `${TAG:?required}`) cannot be expanded and the reference is
//! not reported as an image; the caller turns the error into a `Problem`.

/// How a literal `$` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `$$` (Compose).
    Compose,
    /// The Dockerfile escape character before it (`\$`, or `` `$ `` with `# escape=``).
    Dockerfile {
        /// The escape character.
        escape: char,
    },
}

/// A substitution the file gives no value for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InterpolationError {
    #[error("`${name}` has no default in the file; its value is set where the file is used")]
    Unset { name: String },
    #[error("a `${{` is not closed")]
    Unclosed,
    #[error("`{expression}` uses a substitution bulwark does not evaluate")]
    Unsupported { expression: String },
    #[error("substitutions are nested too deeply")]
    TooDeep,
}

/// A value with its substitutions expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expanded {
    /// The text after substitution.
    pub(crate) value: String,
    /// Whether anything was substituted (the caller notes the original text).
    pub(crate) substituted: bool,
}

/// Nested `${A:-${B:-x}}` deeper than this is hostile, not configuration.
const MAX_DEPTH: usize = 8;

/// Expands `text`. `lookup` gives the value the file sets for a variable, `None` when it sets
/// none.
pub(crate) fn expand(
    text: &str,
    dialect: Dialect,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, InterpolationError> {
    let mut substituted = false;
    let value = expand_at(text, dialect, lookup, 0, &mut substituted)?;
    Ok(Expanded { value, substituted })
}

fn expand_at(
    text: &str,
    dialect: Dialect,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
    substituted: &mut bool,
) -> Result<String, InterpolationError> {
    if depth > MAX_DEPTH {
        return Err(InterpolationError::TooDeep);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        // Escapes first: `$$` in Compose, `\$` in a Dockerfile.
        match dialect {
            Dialect::Compose if rest.starts_with("$$") => {
                out.push('$');
                rest = &rest[2..];
                continue;
            }
            Dialect::Dockerfile { escape }
                if c == escape && rest[c.len_utf8()..].starts_with('$') =>
            {
                out.push('$');
                rest = &rest[c.len_utf8() + 1..];
                continue;
            }
            _ => {}
        }
        if c != '$' {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let after = &rest[1..];
        if let Some(braced) = after.strip_prefix('{') {
            let end = closing_brace(braced).ok_or(InterpolationError::Unclosed)?;
            let expression = &braced[..end];
            out.push_str(&braced_value(
                expression,
                dialect,
                lookup,
                depth,
                substituted,
            )?);
            *substituted = true;
            rest = &braced[end + 1..];
        } else {
            let name_len = variable_name_len(after);
            if name_len == 0 {
                // A `$` before anything that is not a name is literal.
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..name_len];
            let value = lookup(name).ok_or_else(|| InterpolationError::Unset {
                name: name.to_owned(),
            })?;
            out.push_str(&value);
            *substituted = true;
            rest = &after[name_len..];
        }
    }
    Ok(out)
}

/// `NAME`, `NAME:-word`, `NAME-word`, `NAME:+word`, `NAME+word`, `NAME:?msg`, `NAME?msg`.
fn braced_value(
    expression: &str,
    dialect: Dialect,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
    substituted: &mut bool,
) -> Result<String, InterpolationError> {
    let name_len = variable_name_len(expression);
    let (name, operation) = expression.split_at(name_len);
    let unsupported = || InterpolationError::Unsupported {
        expression: format!("${{{expression}}}"),
    };
    if name.is_empty() {
        return Err(unsupported());
    }
    let value = lookup(name);
    let unset = || InterpolationError::Unset {
        name: name.to_owned(),
    };
    let (colon, operation) = match operation.strip_prefix(':') {
        Some(rest) => (true, rest),
        None => (false, operation),
    };
    // With a colon, an empty value counts as unset.
    let set = value.as_deref().filter(|v| !colon || !v.is_empty());
    let mut word = |w: &str| expand_at(w, dialect, lookup, depth + 1, substituted);
    match operation.chars().next() {
        None if !colon => value.ok_or_else(unset),
        Some('-') => match set {
            Some(v) => Ok(v.to_owned()),
            None => word(&operation[1..]),
        },
        Some('+') => match set {
            Some(_) => word(&operation[1..]),
            None => Ok(String::new()),
        },
        Some('?') => set.map(str::to_owned).ok_or_else(unset),
        _ => Err(unsupported()),
    }
}

/// The index of the `}` closing an expression that starts after `${`, counting nested `${`.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Length of the `[A-Za-z_][A-Za-z0-9_]*` name at the start of `text`.
fn variable_name_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compose(text: &str) -> Result<String, InterpolationError> {
        expand(text, Dialect::Compose, &|_| None).map(|e| e.value)
    }

    fn docker(text: &str) -> Result<String, InterpolationError> {
        let lookup = |name: &str| match name {
            "TAG" => Some("1.2".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        expand(text, Dialect::Dockerfile { escape: '\\' }, &lookup).map(|e| e.value)
    }

    #[test]
    fn compose_uses_defaults() {
        assert_eq!(compose("app:${TAG:-1.0}").unwrap(), "app:1.0");
        assert_eq!(compose("app:${TAG-1.0}").unwrap(), "app:1.0");
        assert_eq!(
            compose("${REG:-registry.invalid}/app:${TAG:-${BASE:-2}}").unwrap(),
            "registry.invalid/app:2"
        );
        assert_eq!(compose("app${SUFFIX:+-x}").unwrap(), "app");
        assert_eq!(compose("a$$b").unwrap(), "a$b");
        assert_eq!(compose("price$").unwrap(), "price$");
        assert!(
            !expand("app:1", Dialect::Compose, &|_| None)
                .unwrap()
                .substituted
        );
        assert!(
            expand("app:${T:-1}", Dialect::Compose, &|_| None)
                .unwrap()
                .substituted
        );
    }

    #[test]
    fn unknown_values_are_errors() {
        assert_eq!(
            compose("app:${TAG}"),
            Err(InterpolationError::Unset { name: "TAG".into() })
        );
        assert_eq!(
            compose("app:$TAG"),
            Err(InterpolationError::Unset { name: "TAG".into() })
        );
        assert!(matches!(
            compose("app:${TAG:?set TAG}"),
            Err(InterpolationError::Unset { .. })
        ));
        assert_eq!(compose("app:${TAG"), Err(InterpolationError::Unclosed));
        assert!(matches!(
            docker("${TAG#1}"),
            Err(InterpolationError::Unsupported { .. })
        ));
        assert!(matches!(
            compose("${}"),
            Err(InterpolationError::Unsupported { .. })
        ));
    }

    #[test]
    fn dockerfile_arguments() {
        assert_eq!(docker("app:$TAG").unwrap(), "app:1.2");
        assert_eq!(docker("app:${TAG}-slim").unwrap(), "app:1.2-slim");
        assert_eq!(docker("app:${EMPTY:-3}").unwrap(), "app:3");
        assert_eq!(docker("app:${EMPTY-3}").unwrap(), "app:");
        assert_eq!(docker("app:${TAG:+pinned}").unwrap(), "app:pinned");
        assert_eq!(docker("a\\$b").unwrap(), "a$b");
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let deep = format!("{}x{}", "${A:-".repeat(100), "}".repeat(100));
        assert_eq!(compose(&deep), Err(InterpolationError::TooDeep));
    }
}
