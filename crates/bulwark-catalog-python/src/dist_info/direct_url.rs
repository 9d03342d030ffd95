//! `direct_url.json` ([PEP 610](https://peps.python.org/pep-0610/)): how a distribution that
//! did not come from an index was installed.

use bulwark_inventory::{DirectUrl, PackageSource};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct DirectUrlJson {
    url: String,
    #[serde(default)]
    dir_info: Option<DirInfo>,
    #[serde(default)]
    vcs_info: Option<VcsInfo>,
}

#[derive(Debug, Deserialize)]
struct DirInfo {
    #[serde(default)]
    editable: bool,
}

#[derive(Debug, Deserialize)]
struct VcsInfo {
    vcs: String,
    commit_id: String,
    #[serde(default)]
    requested_revision: Option<String>,
}

/// Parses `direct_url.json` into the recorded facts and the matching [`PackageSource`].
pub(crate) fn parse_direct_url(
    text: &str,
) -> Result<(DirectUrl, PackageSource), serde_json::Error> {
    let parsed: DirectUrlJson = serde_json::from_str(text)?;
    let url = without_credentials(parsed.url.trim());
    let editable = parsed.dir_info.as_ref().is_some_and(|d| d.editable);
    let source = if let Some(vcs) = &parsed.vcs_info {
        PackageSource::Vcs {
            vcs: vcs.vcs.clone(),
            url: url.clone(),
            requested_revision: vcs.requested_revision.clone(),
            commit: Some(vcs.commit_id.clone()),
        }
    } else if let Some(path) = file_url_to_path(&url) {
        PackageSource::Path { path, editable }
    } else {
        PackageSource::Url { url: url.clone() }
    };
    let direct_url = DirectUrl {
        url,
        editable,
        vcs: parsed.vcs_info.map(|v| (v.vcs, v.commit_id)),
    };
    Ok((direct_url, source))
}

/// Drops the user-info part of a URL. PEP 610 asks installers to strip credentials, but a
/// token-only user name (`https://<token>@host/...`) is commonly left in; an SBOM must not
/// carry it. `git@` (SSH) is not a secret and stays.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info != "git" => {
            format!("{scheme}://{host}{}", &rest[authority_end..])
        }
        _ => url.to_owned(),
    }
}

/// `file:///home/u/project` → `/home/u/project` (percent-decoded); `None` for other schemes.
fn file_url_to_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    // `file:///C:/src` is a Windows drive path.
    let path = match rest.strip_prefix('/') {
        Some(after) if after.as_bytes().get(1) == Some(&b':') => after,
        _ => rest,
    };
    Some(percent_decode(path))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editable_directory_install() {
        let (direct_url, source) = parse_direct_url(
            r#"{"url": "file:///home/dev/my%20project", "dir_info": {"editable": true}}"#,
        )
        .unwrap();
        assert!(direct_url.editable);
        assert_eq!(direct_url.url, "file:///home/dev/my%20project");
        assert_eq!(
            source,
            PackageSource::Path {
                path: "/home/dev/my project".into(),
                editable: true
            }
        );
    }

    #[test]
    fn vcs_install_keeps_commit_and_drops_credentials() {
        let (direct_url, source) = parse_direct_url(
            r#"{"url": "https://ghp_secret@git.registry.invalid/org/repo.git",
                "vcs_info": {"vcs": "git", "commit_id": "0123abcd", "requested_revision": "v1.0"},
                "subdirectory": "pkg"}"#,
        )
        .unwrap();
        assert_eq!(direct_url.url, "https://git.registry.invalid/org/repo.git");
        assert_eq!(direct_url.vcs, Some(("git".into(), "0123abcd".into())));
        assert_eq!(
            source,
            PackageSource::Vcs {
                vcs: "git".into(),
                url: "https://git.registry.invalid/org/repo.git".into(),
                requested_revision: Some("v1.0".into()),
                commit: Some("0123abcd".into()),
            }
        );
    }

    #[test]
    fn archive_urls_and_ssh_users() {
        let (_, source) = parse_direct_url(
            r#"{"url": "https://files.registry.invalid/demo-1.0.tar.gz", "archive_info": {}}"#,
        )
        .unwrap();
        assert_eq!(
            source,
            PackageSource::Url {
                url: "https://files.registry.invalid/demo-1.0.tar.gz".into()
            }
        );
        assert_eq!(
            without_credentials("ssh://git@git.registry.invalid/o/r.git"),
            "ssh://git@git.registry.invalid/o/r.git"
        );
        assert_eq!(
            file_url_to_path("file:///C:/src/x").as_deref(),
            Some("C:/src/x")
        );
        assert!(parse_direct_url(r#"{"dir_info": {}}"#).is_err());
    }
}
