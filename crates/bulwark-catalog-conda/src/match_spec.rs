//! conda match specs: `numpy`, `numpy=1.26`, `numpy==1.26.4`, `numpy=1.26.4=py311h64a7726_0`,
//! `conda-forge::pytorch>=2.1`, `conda-forge/linux-64::numpy`, `cudatoolkit 11.8.*`,
//! `python >=3.11,<3.12.0a0`, `numpy[version='>=1.26',build=*cuda*]`.
//!
//! Follows conda's own reading (`conda.models.match_spec._parse_spec_str`) for the parts an
//! inventory needs: channel, subdir, name, the version constraint, the build, and whether
//! the spec names one exact version.

/// Characters that start a version operator.
const OPERATOR_CHARACTERS: &[char] = &['=', '<', '>', '!', '~'];

/// A parsed match spec, parts as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MatchSpec {
    /// The channel of `channel::name` (name or URL).
    pub(crate) channel: Option<String>,
    /// The subdir of `channel/subdir::name`.
    pub(crate) subdir: Option<String>,
    /// The package name as written.
    pub(crate) name: String,
    /// The version constraint as written (`=1.26`, `>=2.1`, `11.8.*`).
    pub(crate) constraint: Option<String>,
    /// The build string or build pattern.
    pub(crate) build: Option<String>,
}

/// A match spec that names no package.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MatchSpecError {
    /// Nothing but whitespace or a comment.
    #[error("empty match spec")]
    Empty,
    /// The text does not start with a valid package name.
    #[error("`{0}` does not start with a conda package name")]
    InvalidName(String),
}

impl MatchSpec {
    /// Parses a match spec.
    pub(crate) fn parse(text: &str) -> Result<Self, MatchSpecError> {
        let spec = text.split('#').next().unwrap_or_default().trim();
        if spec.is_empty() {
            return Err(MatchSpecError::Empty);
        }
        let (spec, brackets) = split_brackets(spec);
        let (channel, subdir, spec) = match spec.rsplit_once("::") {
            Some((channel, rest)) => {
                let channel = channel.trim_end_matches('/');
                match channel.rsplit_once('/') {
                    Some((channel, last)) if crate::is_subdir(last) => {
                        (Some(channel), Some(last), rest)
                    }
                    _ => (Some(channel), None, rest),
                }
            }
            None => (None, None, spec),
        };
        let spec = spec.trim();
        let name_end = spec
            .find(|c: char| c.is_whitespace() || OPERATOR_CHARACTERS.contains(&c))
            .unwrap_or(spec.len());
        let (name, rest) = spec.split_at(name_end);
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
        if !valid_name {
            return Err(MatchSpecError::InvalidName(text.trim().to_owned()));
        }
        let (constraint, build) = split_version_and_build(rest.trim());
        let mut parsed = Self {
            channel: channel.filter(|c| !c.is_empty()).map(str::to_owned),
            subdir: subdir.map(str::to_owned),
            name: name.to_owned(),
            constraint,
            build,
        };
        for (key, value) in brackets {
            let value = Some(value.to_owned());
            match key {
                "version" => parsed.constraint = value,
                "build" => parsed.build = value,
                "channel" => parsed.channel = value,
                "subdir" => parsed.subdir = value,
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// The version when the spec names exactly one, as written.
    ///
    /// conda's operators differ from pip's, and the difference matters here:
    /// - `==1.26.4` is exact.
    /// - `=1.26.4=py311h64a7726_0` (a version with a build) is exact: conda compares the
    ///   version exactly once a build is given.
    /// - `1.26.4` in the space form (`numpy 1.26.4`) is exact.
    /// - `=X` is, strictly, fuzzy: conda reads `=1.26` as `1.26.*`. It is still reported as
    ///   version `X`, because that is the version the author declared and what every
    ///   environment file in practice means by it (`conda env export --no-builds` writes each
    ///   installed package as `name=X`; `idna=3.6` and `pytorch-cuda=12.1` name real releases
    ///   whose two segments look exactly like the fuzzy `numpy=1.26`). The spec is kept in the
    ///   metadata, so the fuzzy reading is never lost.
    /// - Anything with a wildcard, a range or an alternative is not a pin.
    pub(crate) fn exact_version(&self) -> Option<&str> {
        let constraint = self.constraint.as_deref()?;
        if let Some(version) = constraint.strip_prefix("==") {
            return is_plain_version(version).then_some(version);
        }
        if let Some(version) = constraint.strip_prefix('=') {
            return is_plain_version(version).then_some(version);
        }
        is_plain_version(constraint).then_some(constraint)
    }

    /// The build string when it names one build (not a pattern such as `*cuda*`).
    pub(crate) fn exact_build(&self) -> Option<&str> {
        self.build
            .as_deref()
            .filter(|b| !b.is_empty() && !b.contains(['*', '?', '[', ',', '|']))
    }
}

/// Splits a trailing `[key=value, ...]` off a spec.
fn split_brackets(spec: &str) -> (&str, Vec<(&str, &str)>) {
    let Some(inner) = spec.strip_suffix(']') else {
        return (spec, Vec::new());
    };
    let Some(open) = inner.find('[') else {
        return (spec, Vec::new());
    };
    let pairs = inner[open + 1..]
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| {
            let value = value.trim().trim_matches(['\'', '"']);
            (key.trim(), value)
        })
        .collect();
    (inner[..open].trim_end(), pairs)
}

/// Splits what follows the name into a version constraint and a build: `=1.26.4=py311_0`,
/// `==1.26.4`, `>=2.1,<3`, `1.26.4 py311_0`, `>=3.9, <3.10`.
fn split_version_and_build(rest: &str) -> (Option<String>, Option<String>) {
    if rest.is_empty() {
        return (None, None);
    }
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    if tokens.len() > 1 {
        // The space form `version build`; spaces inside a range (`>=3.9, <3.10`) follow a
        // `,` or `|` or precede an operator.
        let (last, before) = tokens.split_last().unwrap_or((&"", &[]));
        let joins_range = before.last().is_some_and(|t| t.ends_with([',', '|']))
            || last.starts_with(OPERATOR_CHARACTERS)
            || last.starts_with([',', '|']);
        if !joins_range {
            return (Some(before.concat()), Some((*last).to_owned()));
        }
        return (Some(tokens.concat()), None);
    }
    let operator_length = if rest.starts_with("==") {
        2
    } else if rest.starts_with('=') {
        1
    } else {
        return (Some(rest.to_owned()), None);
    };
    match rest[operator_length..].split_once('=') {
        Some((version, build)) => (
            Some(rest[..operator_length + version.len()].to_owned()),
            Some(build.to_owned()).filter(|b| !b.is_empty()),
        ),
        None => (Some(rest.to_owned()), None),
    }
}

/// Whether `version` is one version, not a pattern, range or alternative.
fn is_plain_version(version: &str) -> bool {
    !version.is_empty()
        && !version.contains(['*', ',', '|', '<', '>', '!', '~', '=', ' ', '(', ')'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> MatchSpec {
        MatchSpec::parse(text).unwrap()
    }

    #[test]
    fn exact_versions() {
        let cases = [
            ("numpy", None),
            ("pip", None),
            ("numpy==1.26.4", Some("1.26.4")),
            ("numpy=1.26.4=py311h64a7726_0", Some("1.26.4")),
            ("numpy=1.26=py311h64a7726_0", Some("1.26")),
            ("numpy=1.26.4=*cuda*", Some("1.26.4")),
            ("numpy=1.26.4", Some("1.26.4")),
            ("numpy=1.26", Some("1.26")),
            ("python=3.11", Some("3.11")),
            ("numpy=1.26.*", None),
            ("numpy==1.26.*", None),
            ("conda-forge::pytorch>=2.1", None),
            ("python>=3.10", None),
            ("cudatoolkit 11.8.*", None),
            ("cudatoolkit 11.8.0", Some("11.8.0")),
            ("numpy 1.26.4 py311h64a7726_0", Some("1.26.4")),
            ("python >=3.11,<3.12.0a0", None),
            ("python >=3.9, <3.10", None),
            ("numpy[version='==1.26.4']", Some("1.26.4")),
            ("numpy >=1.2|1.3.4", None),
        ];
        for (text, version) in cases {
            assert_eq!(parse(text).exact_version(), version, "{text}");
        }
    }

    #[test]
    fn parts() {
        let spec = parse("conda-forge::pytorch>=2.1");
        assert_eq!(spec.channel.as_deref(), Some("conda-forge"));
        assert_eq!(spec.name, "pytorch");
        assert_eq!(spec.constraint.as_deref(), Some(">=2.1"));

        let spec = parse("conda-forge/linux-64::numpy=1.26.4=py311h64a7726_0");
        assert_eq!(spec.channel.as_deref(), Some("conda-forge"));
        assert_eq!(spec.subdir.as_deref(), Some("linux-64"));
        assert_eq!(spec.exact_build(), Some("py311h64a7726_0"));

        let spec = parse("python_abi 3.11.* *_cp311");
        assert_eq!(spec.name, "python_abi");
        assert_eq!(spec.constraint.as_deref(), Some("3.11.*"));
        assert_eq!(spec.build.as_deref(), Some("*_cp311"));
        assert_eq!(spec.exact_build(), None);

        let spec = parse("numpy[version='>=1.26', build=py311*]  # comment");
        assert_eq!(spec.constraint.as_deref(), Some(">=1.26"));
        assert_eq!(spec.build.as_deref(), Some("py311*"));

        let spec = parse("https://conda.registry.invalid/conda-forge::numpy");
        assert_eq!(
            spec.channel.as_deref(),
            Some("https://conda.registry.invalid/conda-forge")
        );
    }

    #[test]
    fn bad_specs() {
        assert!(matches!(
            MatchSpec::parse("  # x"),
            Err(MatchSpecError::Empty)
        ));
        assert!(matches!(
            MatchSpec::parse(">=1.0"),
            Err(MatchSpecError::InvalidName(_))
        ));
        assert!(matches!(
            MatchSpec::parse("{bad}"),
            Err(MatchSpecError::InvalidName(_))
        ));
    }
}
