//! `${…}` expressions in POM values.

use std::collections::HashMap;

/// How deep one property may refer to another (`${a}` → `${b}` → …). Real POMs chain two or
/// three; a cycle is caught before this, so the bound is for long hostile chains.
const MAX_NESTING: usize = 32;

/// How many expressions one value may expand in all. `a=${b}${b}`, `b=${c}${c}`, … doubles
/// the work per level; this keeps such a file linear however deep it goes.
const MAX_EXPANSIONS: usize = 1_000;

/// The longest value an expansion may produce.
const MAX_LENGTH: usize = 4_096;

/// Why a value could not be interpolated. The value is then unknown: a version stays unset
/// rather than being reported half-expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InterpolationError {
    /// No property or model value of that name is known here (it may come from a parent POM
    /// outside the target, a profile, the command line or `settings.xml`).
    #[error("`${{{0}}}` is not defined in this POM or a parent found on disk")]
    Undefined(String),
    /// The property refers back to itself.
    #[error("`${{{0}}}` refers to itself")]
    Cycle(String),
    /// The expansion exceeds the nesting, count or length bounds.
    #[error("`${{{0}}}` expands too deeply or too far")]
    TooLarge(String),
}

/// Values `${name}` can stand for: the model values (`project.version`, ...) and the
/// properties in effect.
#[derive(Debug, Default)]
pub(crate) struct Interpolator {
    values: HashMap<String, String>,
}

impl Interpolator {
    /// Defines `name` (a later definition replaces an earlier one).
    pub(crate) fn define(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// Defines `name` only if it is not yet defined.
    pub(crate) fn define_default(&mut self, name: &str, value: &str) {
        if !self.values.contains_key(name) {
            self.values.insert(name.to_owned(), value.to_owned());
        }
    }

    /// `text` with every `${name}` replaced, recursively. A `${` without a closing `}` is
    /// literal text, as in Maven.
    pub(crate) fn interpolate(&self, text: &str) -> Result<String, InterpolationError> {
        let mut out = String::with_capacity(text.len());
        let mut expansions = 0;
        let mut stack = Vec::new();
        self.expand(text, &mut stack, &mut expansions, &mut out)?;
        Ok(out)
    }

    fn expand<'a>(
        &'a self,
        text: &'a str,
        stack: &mut Vec<&'a str>,
        expansions: &mut usize,
        out: &mut String,
    ) -> Result<(), InterpolationError> {
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(length) = rest[start + 2..].find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            let name = rest[start + 2..start + 2 + length].trim();
            rest = &rest[start + 2 + length + 1..];

            if stack.contains(&name) {
                return Err(InterpolationError::Cycle(name.to_owned()));
            }
            *expansions += 1;
            if stack.len() >= MAX_NESTING || *expansions > MAX_EXPANSIONS {
                return Err(InterpolationError::TooLarge(name.to_owned()));
            }
            let value = self
                .values
                .get(name)
                .ok_or_else(|| InterpolationError::Undefined(name.to_owned()))?;
            stack.push(name);
            self.expand(value, stack, expansions, out)?;
            stack.pop();
            if out.len() > MAX_LENGTH {
                return Err(InterpolationError::TooLarge(name.to_owned()));
            }
        }
        out.push_str(rest);
        if out.len() > MAX_LENGTH {
            return Err(InterpolationError::TooLarge(
                stack.last().copied().unwrap_or_default().to_owned(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpolator(pairs: &[(&str, &str)]) -> Interpolator {
        let mut interpolator = Interpolator::default();
        for (name, value) in pairs {
            interpolator.define(*name, *value);
        }
        interpolator
    }

    #[test]
    fn expands_nested_properties() {
        let i = interpolator(&[
            ("netty.major", "4.1"),
            ("netty.version", "${netty.major}.${netty.patch}.Final"),
            ("netty.patch", "100"),
        ]);
        assert_eq!(
            i.interpolate("v${netty.version}").unwrap(),
            "v4.1.100.Final"
        );
        assert_eq!(i.interpolate("plain").unwrap(), "plain");
        assert_eq!(i.interpolate("${unclosed").unwrap(), "${unclosed");
    }

    #[test]
    fn undefined_and_cycles_are_errors() {
        let i = interpolator(&[("a", "${b}"), ("b", "x${a}"), ("self", "${self}")]);
        assert_eq!(
            i.interpolate("${missing}"),
            Err(InterpolationError::Undefined("missing".into()))
        );
        assert_eq!(
            i.interpolate("${a}"),
            Err(InterpolationError::Cycle("a".into()))
        );
        assert_eq!(
            i.interpolate("${self}"),
            Err(InterpolationError::Cycle("self".into()))
        );
    }

    #[test]
    fn exponential_expansion_is_bounded() {
        // p0 = x; p{n} = ${p{n-1}}${p{n-1}}: p40 would be a terabyte.
        let mut i = interpolator(&[("p0", "x")]);
        for n in 1..=40 {
            i.define(format!("p{n}"), format!("${{p{}}}${{p{}}}", n - 1, n - 1));
        }
        assert!(matches!(
            i.interpolate("${p40}"),
            Err(InterpolationError::TooLarge(_))
        ));
        // Empty leaves never grow the output; the expansion count still stops it.
        i.define("p0", "");
        assert!(matches!(
            i.interpolate("${p40}"),
            Err(InterpolationError::TooLarge(_))
        ));
    }
}
