//! `bulwark push`: inventory a target (or read an SBOM file) and upload it to a tracking
//! server as one version of a project. Unsafe model files found locally travel in the
//! document as `BWM-…` vulnerabilities, since the server cannot rescan files it never sees.

use std::time::Duration;

use anyhow::Context as _;
use bulwark_match::MatchReport;

use crate::cli::PushArgs;
use crate::printer::Printer;

use super::ExitStatus;

/// Uploads of a large image's SBOM take a while to match on the server.
const TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) fn run(args: &PushArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let inventory = super::scan::read_target(&args.target, true, printer)?;
    let options = bulwark_sbom::EncodeOptions {
        tool_name: "bulwark",
        tool_version: env!("CARGO_PKG_VERSION"),
        timestamp: super::sbom::document_timestamp()?,
    };
    // The server matches vulnerabilities itself; the document carries the artifact findings.
    let document = bulwark_report::cyclonedx_vex(&inventory, &MatchReport::default(), &options)
        .context("cannot encode the SBOM")?;

    let base = args.server.trim_end_matches('/');
    let mut url = format!(
        "{base}/api/v1/sboms?project={}&version={}",
        encode(&args.project),
        encode(&args.version)
    );
    if let Some(parent) = &args.parent {
        url.push_str(&format!("&parent={}", encode(parent)));
    }
    if !args.tags.is_empty() {
        url.push_str(&format!("&tags={}", encode(&args.tags.join(","))));
    }
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut response = agent
        .post(&url)
        .header("X-Api-Key", &args.api_key)
        .header("Content-Type", "application/vnd.cyclonedx+json")
        .send(&document[..])
        .with_context(|| format!("cannot reach the server at `{base}`"))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    if status != 201 {
        let detail = answer
            .get("detail")
            .and_then(|d| d.as_str())
            .unwrap_or(body.trim());
        let mut message = format!("the server refused the upload (HTTP {status}): {detail}");
        for error in answer
            .get("errors")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str())
        {
            message.push_str("\n  ");
            message.push_str(error);
        }
        anyhow::bail!(message);
    }
    let number = |key: &str| {
        answer
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let version_id = answer
        .pointer("/version/id")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_default();
    printer.info(&format!(
        "pushed {} {}: {} components, {} findings ({} new); {base}/#/versions/{version_id}",
        args.project,
        args.version,
        number("components"),
        number("findings"),
        number("new_findings"),
    ));
    Ok(ExitStatus::Success)
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::encode("ml app/1.0+cu121"), "ml%20app%2F1.0%2Bcu121");
    }
}
