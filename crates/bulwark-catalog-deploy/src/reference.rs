//! Container image references (`registry.example:5000/team/app:1.2@sha256:…`) and their purls.
//!
//! The grammar is the one Docker and the OCI distribution spec use
//! (`distribution/reference`):
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path-component { "/" path-component }
//! domain     := host [ ":" port ]          (the first segment, when it contains `.` or `:`,
//!                                            is `localhost`, or has an uppercase letter)
//! path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" encoded        (sha256: 64 hex, sha512: 128 hex)
//! ```
//!
//! A reference without a registry means the engine's default registry. Its host is not
//! written anywhere by bulwark (an SBOM should say what the file said, and the default is a
//! setting of the engine, not a fact of the file); the repository path gets the implied
//! `library/` namespace for single-segment names, as every engine resolves it.

use std::fmt;

use bulwark_inventory::Purl;

/// The purl type of container images
/// (<https://github.com/package-url/purl-spec/blob/main/types-doc/oci-definition.md>).
pub const OCI_PURL_TYPE: &str = "oci";

/// The tag an engine pulls when a reference names neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

/// Longest repository name the grammar allows (host included).
const MAX_NAME_LEN: usize = 255;

/// Longest tag the grammar allows.
const MAX_TAG_LEN: usize = 128;

/// A parsed image reference.
///
/// `registry` is `None` when the reference names none (the engine's default registry). In
/// that case a single-segment `repository` carries the implied `library/` namespace: `nginx`
/// and `library/nginx` are the same image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// Registry host and optional port, as written (`registry.example:5000`).
    pub registry: Option<String>,
    /// Repository path within the registry (`vllm/vllm-openai`, `library/nginx`).
    pub repository: String,
    /// The tag as written; `None` when the reference has none (see [`ImageRef::effective_tag`]).
    pub tag: Option<String>,
    /// The content digest as written (`sha256:<64 hex>`).
    pub digest: Option<String>,
}

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{reference}` is not a valid image reference: {reason}")]
pub struct ImageRefError {
    /// The text as given.
    pub reference: String,
    /// What rule it breaks.
    pub reason: &'static str,
}

impl ImageRef {
    /// Parses a reference with the Docker grammar (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, ImageRefError> {
        let fail = |reason| ImageRefError {
            reference: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains whitespace"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (text, None),
        };
        if let Some(digest) = digest {
            check_digest(digest).map_err(fail)?;
        }
        // A tag follows the last `:` that comes after the last `/`; a `:` before that is a port.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_and_tag[..last_slash + i],
                Some(&name_and_tag[last_slash + i + 1..]),
            ),
            None => (name_and_tag, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(fail)?;
        }
        if name.is_empty() {
            return Err(fail("the repository name is empty"));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(fail("the repository name is longer than 255 characters"));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if is_registry(first) => (Some(first), rest),
            _ => (None, name),
        };
        if let Some(registry) = registry {
            check_registry(registry).map_err(fail)?;
        }
        for component in path.split('/') {
            check_path_component(component).map_err(fail)?;
        }
        let repository = if registry.is_none() && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self {
            registry: registry.map(str::to_owned),
            repository,
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// Whether the reference is pinned to content by a digest. An unpinned reference names a
    /// mutable tag: what it pulls can change under the same name.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// The tag an engine resolves: the one written, or `latest` when the reference names
    /// neither tag nor digest. A digest-only reference has none.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// The name as people write it: the registry if any, then the repository, with the
    /// implied `library/` of the default registry left out (`nginx`, `vllm/vllm-openai`,
    /// `registry.example/team/app`).
    pub fn name(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self
                .repository
                .strip_prefix("library/")
                .filter(|rest| !rest.contains('/'))
                .unwrap_or(&self.repository)
                .to_owned(),
        }
    }

    /// The repository path without the registry's implied `library/` namespace; the part
    /// serving stacks are recognized by.
    pub fn path(&self) -> &str {
        if self.registry.is_none()
            && let Some(rest) = self.repository.strip_prefix("library/")
        {
            return rest;
        }
        &self.repository
    }

    /// `registry/repository`, or the bare repository path when no registry is named.
    pub fn repository_url(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// The package URL: `pkg:oci/<last path segment>@<digest>?repository_url=<registry>/<path>&tag=<tag>`.
    ///
    /// The version is the digest when the reference is pinned and absent otherwise, so a purl
    /// without a version is a mutable reference. `repository_url` is the bare repository path
    /// (`library/nginx`) when the reference names no registry: bulwark does not write the
    /// engine's default registry host for it. `tag` is [`ImageRef::effective_tag`].
    pub fn purl(&self) -> Option<Purl> {
        let name = self
            .repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository);
        let repository_url = self.repository_url();
        Purl::builder_for_type(OCI_PURL_TYPE, name)
            .version(self.digest.as_deref())
            .qualifier("repository_url", Some(&repository_url))
            .qualifier("tag", self.effective_tag())
            .build()
    }

    /// Reads a reference back from an `oci` purl made by [`ImageRef::purl`] (or by another
    /// tool that sets `repository_url`). `None` for other purl types or unparsable purls.
    pub fn from_purl(purl: &Purl) -> Option<Self> {
        let parsed: packageurl::PackageUrl<'_> = purl.as_str().parse().ok()?;
        if parsed.ty() != OCI_PURL_TYPE {
            return None;
        }
        let qualifiers = parsed.qualifiers();
        let repository_url = qualifiers
            .get("repository_url")
            .map_or_else(|| parsed.name().to_owned(), ToString::to_string);
        // A purl from another tool may carry a scheme on the repository URL.
        let repository_url = repository_url
            .split_once("://")
            .map_or(repository_url.as_str(), |(_, rest)| rest);
        let mut text = repository_url.to_owned();
        if let Some(tag) = qualifiers.get("tag") {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = parsed.version() {
            text.push('@');
            text.push_str(digest);
        }
        Self::parse(&text).ok()
    }
}

impl fmt::Display for ImageRef {
    /// The reference as people write it: [`ImageRef::name`], then `:tag` and `@digest` where
    /// the reference has them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Whether the first segment of a name is a registry host rather than a namespace.
fn is_registry(segment: &str) -> bool {
    segment.contains(['.', ':'])
        || segment == "localhost"
        || segment.bytes().any(|b| b.is_ascii_uppercase())
}

/// `host[:port]`, the host a DNS name, an IPv4 address or a bracketed IPv6 address.
fn check_registry(registry: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or("the registry's IPv6 address is not closed")?;
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err("the registry's IPv6 address is malformed");
        }
        match after {
            "" => ("", None),
            _ => (
                "",
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or("the registry has text after its address")?,
                ),
            ),
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    if !registry.starts_with('[') {
        let labels_ok = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !labels_ok {
            return Err("the registry host is malformed");
        }
    }
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the registry port is not a number");
    }
    Ok(())
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn check_path_component(component: &str) -> Result<(), &'static str> {
    if component.is_empty() {
        return Err("the repository path has an empty segment");
    }
    let bytes = component.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return Err(
            "a repository path segment must start and end with a lowercase letter or digit",
        );
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let valid = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !valid {
            return Err(if separator.bytes().any(|b| b.is_ascii_uppercase()) {
                "the repository path must be lowercase"
            } else {
                "the repository path has a character or separator the grammar forbids"
            });
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), &'static str> {
    let mut bytes = tag.bytes();
    let Some(first) = bytes.next() else {
        return Err("the tag is empty");
    };
    if tag.len() > MAX_TAG_LEN {
        return Err("the tag is longer than 128 characters");
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if !word(first) || !bytes.all(|b| word(b) || b == b'.' || b == b'-') {
        return Err("the tag has a character the grammar forbids");
    }
    Ok(())
}

fn check_digest(digest: &str) -> Result<(), &'static str> {
    let (algorithm, encoded) = digest
        .split_once(':')
        .ok_or("the digest has no algorithm")?;
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !algorithm_ok {
        return Err("the digest algorithm is malformed");
    }
    let lower_hex = |len: usize| {
        encoded.len() == len
            && encoded
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match algorithm {
        "sha256" if !lower_hex(64) => Err("a sha256 digest is 64 lowercase hex digits"),
        "sha512" if !lower_hex(128) => Err("a sha512 digest is 128 lowercase hex digits"),
        _ if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-')) =>
        {
            Err("the digest is malformed")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parts(text: &str) -> (Option<String>, String, Option<String>, Option<String>) {
        let r = ImageRef::parse(text).unwrap_or_else(|e| panic!("{e}"));
        (r.registry, r.repository, r.tag, r.digest)
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn registry_is_the_first_segment_only_when_it_looks_like_a_host() {
        assert_eq!(parts("nginx"), (None, "library/nginx".into(), None, None));
        assert_eq!(
            parts("vllm/vllm-openai:v0.6.3"),
            (None, "vllm/vllm-openai".into(), s("v0.6.3"), None)
        );
        assert_eq!(
            parts("nvcr.registry.invalid/nvidia/tritonserver:24.08-py3"),
            (
                s("nvcr.registry.invalid"),
                "nvidia/tritonserver".into(),
                s("24.08-py3"),
                None
            )
        );
        assert_eq!(
            parts("localhost/app"),
            (s("localhost"), "app".into(), None, None)
        );
        assert_eq!(
            parts("mirror:5000/app:1.0"),
            (s("mirror:5000"), "app".into(), s("1.0"), None)
        );
        assert_eq!(
            parts("Mirror/app"),
            (s("Mirror"), "app".into(), None, None),
            "an uppercase first segment is a host (namespaces are lowercase)"
        );
        assert_eq!(
            parts("[fd00::1]:5000/team/app"),
            (s("[fd00::1]:5000"), "team/app".into(), None, None)
        );
    }

    #[test]
    fn tag_and_digest() {
        let port_no_tag = parts("registry.invalid:5000/team/app");
        assert_eq!(port_no_tag.2, None, "a port is not a tag");
        let both = ImageRef::parse(&format!("registry.invalid:5000/team/app:2.1@{SHA}")).unwrap();
        assert_eq!(both.tag.as_deref(), Some("2.1"));
        assert_eq!(both.digest.as_deref(), Some(SHA));
        assert!(both.is_pinned());
        assert_eq!(both.effective_tag(), Some("2.1"));
        let digest_only = ImageRef::parse(&format!("team/app@{SHA}")).unwrap();
        assert_eq!(digest_only.effective_tag(), None);
        let bare = ImageRef::parse("team/app").unwrap();
        assert!(!bare.is_pinned());
        assert_eq!(bare.effective_tag(), Some("latest"));
    }

    #[test]
    fn invalid_references() {
        for (text, why) in [
            ("", "empty"),
            ("Team/App", "uppercase path"),
            ("nginx:", "empty tag"),
            ("nginx:-x", "tag starts with a dash"),
            ("nginx@sha256:abc", "short digest"),
            (
                "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "uppercase hex",
            ),
            ("nginx@", "empty digest"),
            ("team//app", "empty segment"),
            ("team/app-", "trailing separator"),
            ("team/a___b", "triple underscore"),
            ("registry.invalid:port/app", "port not a number"),
            ("-bad.registry.invalid/app", "host label starts with a dash"),
            ("nginx latest", "whitespace"),
            ("${IMAGE}", "unexpanded variable"),
        ] {
            assert!(ImageRef::parse(text).is_err(), "{why}: {text}");
        }
        let long = format!("team/{}", "a".repeat(300));
        assert!(ImageRef::parse(&long).is_err());
        let long_tag = format!("team/app:{}", "1".repeat(129));
        assert!(ImageRef::parse(&long_tag).is_err());
    }

    #[test]
    fn separators() {
        for ok in ["a.b", "a_b", "a__b", "a---b", "a-b.c_d"] {
            assert!(check_path_component(ok).is_ok(), "{ok}");
        }
        for bad in ["a.-b", "a..b", ".a", "a_", "A"] {
            assert!(check_path_component(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_leave_out_the_implied_namespace() {
        assert_eq!(ImageRef::parse("nginx:1.25").unwrap().name(), "nginx");
        assert_eq!(ImageRef::parse("library/nginx").unwrap().name(), "nginx");
        assert_eq!(ImageRef::parse("library/nginx").unwrap().path(), "nginx");
        assert_eq!(
            ImageRef::parse("registry.invalid/library/nginx")
                .unwrap()
                .name(),
            "registry.invalid/library/nginx",
            "only the default registry implies `library/`"
        );
        let display = format!("{}", ImageRef::parse(&format!("team/app:1@{SHA}")).unwrap());
        assert_eq!(display, format!("team/app:1@{SHA}"));
    }

    #[test]
    fn purls() {
        let purl = |text: &str| ImageRef::parse(text).unwrap().purl().unwrap().to_string();
        assert_eq!(
            purl("nginx"),
            "pkg:oci/nginx?repository_url=library%2Fnginx&tag=latest"
        );
        assert_eq!(
            purl("registry.invalid:5000/team/app:2.1"),
            "pkg:oci/app?repository_url=registry.invalid:5000%2Fteam%2Fapp&tag=2.1"
        );
        assert_eq!(
            purl(&format!("registry.invalid/team/app:2.1@{SHA}")),
            format!("pkg:oci/app@{SHA}?repository_url=registry.invalid%2Fteam%2Fapp&tag=2.1")
        );
        assert_eq!(
            purl(&format!("team/app@{SHA}")),
            format!("pkg:oci/app@{SHA}?repository_url=team%2Fapp")
        );
        assert_eq!(
            purl("nginx"),
            purl("library/nginx:latest"),
            "the same image, the same identity"
        );
    }

    #[test]
    fn purls_read_back() {
        for text in [
            "nginx",
            "vllm/vllm-openai:v0.6.3",
            "registry.invalid:5000/team/app:2.1",
            &format!("registry.invalid/team/app@{SHA}"),
            &format!("team/app:1@{SHA}"),
        ] {
            let reference = ImageRef::parse(text).unwrap();
            let back = ImageRef::from_purl(&reference.purl().unwrap()).unwrap();
            assert_eq!(back.repository_url(), reference.repository_url(), "{text}");
            assert_eq!(back.digest, reference.digest, "{text}");
            assert_eq!(back.effective_tag(), reference.effective_tag(), "{text}");
        }
        let other = Purl::parse("pkg:pypi/torch@2.1.2").unwrap();
        assert_eq!(ImageRef::from_purl(&other), None);
        let with_scheme = Purl::parse(
            "pkg:oci/app?repository_url=https%3A%2F%2Fregistry.invalid%2Fteam%2Fapp&tag=1",
        )
        .unwrap();
        assert_eq!(
            ImageRef::from_purl(&with_scheme).unwrap().to_string(),
            "registry.invalid/team/app:1"
        );
    }
}
