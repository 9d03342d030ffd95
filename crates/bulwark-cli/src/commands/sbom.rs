//! `bulwark sbom`: inventory a target and write it as an SBOM.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use bulwark_sbom::{EncodeOptions, Format};

use crate::cli::SbomArgs;
use crate::env::EnvVars;
use crate::printer::Printer;

use super::ExitStatus;

pub(crate) fn run(args: &SbomArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let format: Format = args
        .format
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("invalid `--format`")?;
    let hash_models = !crate::env::is_off(EnvVars::BULWARK_MODEL_HASHES);
    let inventory = super::inventory(&args.target, hash_models, printer)?;
    for finding in &inventory.findings {
        printer.warning(&format!(
            "unsafe artifact: {}: {} {}: {}",
            finding.path, finding.severity, finding.id, finding.message
        ));
    }
    for issue in bulwark_gpu::check(&inventory) {
        printer.warning(&format!("GPU stack: {}", super::gpu_issue_line(&issue)));
    }
    let options = EncodeOptions {
        tool_name: "bulwark",
        tool_version: env!("CARGO_PKG_VERSION"),
        timestamp: document_timestamp()?,
    };
    let document =
        bulwark_sbom::encode(&inventory, format, &options).context("cannot encode the SBOM")?;
    match &args.output {
        Some(path) => write_atomically(path, &document)?,
        None => printer
            .document(&document)
            .context("cannot write to stdout")?,
    }
    Ok(ExitStatus::Success)
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else now, to the second.
pub(crate) fn document_timestamp() -> anyhow::Result<time::OffsetDateTime> {
    match std::env::var(EnvVars::SOURCE_DATE_EPOCH) {
        Ok(value) => {
            let seconds: i64 = value.trim().parse().with_context(|| {
                format!(
                    "`{}` is not a number of seconds: `{value}`",
                    EnvVars::SOURCE_DATE_EPOCH
                )
            })?;
            time::OffsetDateTime::from_unix_timestamp(seconds)
                .with_context(|| format!("`{}` is out of range", EnvVars::SOURCE_DATE_EPOCH))
        }
        Err(_) => {
            let now = time::OffsetDateTime::now_utc();
            Ok(now.replace_nanosecond(0).unwrap_or(now))
        }
    }
}

/// Writes through a temporary file in the same directory, flushed to disk, then renamed over
/// `path`: a crash or a full disk never leaves a half-written SBOM where the old one was.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(directory)
        .with_context(|| format!("cannot create a file in `{}`", directory.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}
