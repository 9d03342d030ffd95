//! `bulwark db`: import and inspect the vulnerability database.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bulwark_vulndb::{Database, ImportOptions};

use crate::cli::{DbArgs, DbCommand};
use crate::env::EnvVars;
use crate::printer::Printer;

use super::ExitStatus;

pub(crate) fn run(args: &DbArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let dir = database_dir(args.db.as_deref())?;
    match &args.command {
        DbCommand::Import { paths } => import(&dir, paths, printer),
        DbCommand::Update { source, ecosystems } => {
            update(&dir, source.as_deref(), ecosystems, printer)
        }
        DbCommand::Status { json } => status(&dir, *json, printer),
    }
}

/// `--db`, else `$BULWARK_DB_DIR`, else the platform data directory.
pub(crate) fn database_dir(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_owned());
    }
    if let Some(dir) = std::env::var_os(EnvVars::BULWARK_DB_DIR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    bulwark_vulndb::default_db_dir().with_context(|| {
        format!(
            "no data directory on this platform; pass `--db DIR` or set `{}`",
            EnvVars::BULWARK_DB_DIR
        )
    })
}

fn import(dir: &Path, paths: &[PathBuf], printer: Printer) -> anyhow::Result<ExitStatus> {
    let report = bulwark_vulndb::import(dir, paths, &ImportOptions::default())
        .with_context(|| format!("cannot import into `{}`", dir.display()))?;
    for malformed in &report.malformed {
        let id = malformed.id.as_deref().unwrap_or(&malformed.entry);
        printer.warning(&format!(
            "{}: skipped `{id}`: {}",
            malformed.source.display(),
            malformed.reason
        ));
    }
    printer.info(&format!(
        "imported {} records into `{}`: {} added, {} updated, {} unchanged, {} older ignored, {} malformed; {} records in all ({} withdrawn)",
        report.read,
        dir.display(),
        report.added,
        report.updated,
        report.unchanged,
        report.older_ignored,
        report.malformed.len(),
        report.records,
        report.withdrawn,
    ));
    Ok(ExitStatus::Success)
}

fn update(
    dir: &Path,
    source: Option<&str>,
    ecosystems: &[String],
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let mut options = bulwark_vulndb::UpdateOptions::default();
    if let Some(source) = source {
        source.clone_into(&mut options.base_url);
    }
    if !ecosystems.is_empty() {
        ecosystems.clone_into(&mut options.ecosystems);
    }
    let report = bulwark_vulndb::update(dir, &options)
        .with_context(|| format!("cannot update `{}`", dir.display()))?;
    for (ecosystem, reason) in &report.failed {
        printer.warning(&format!("{ecosystem}: {reason}; its old records are kept"));
    }
    for (ecosystem, bytes) in &report.downloaded {
        printer.info(&format!("downloaded {ecosystem} ({bytes} bytes)"));
    }
    if let Some(import) = &report.import {
        printer.info(&format!(
            "{} records read: {} added, {} updated, {} unchanged, {} malformed; {} records in all",
            import.read,
            import.added,
            import.updated,
            import.unchanged,
            import.malformed.len(),
            import.records
        ));
    }
    Ok(ExitStatus::Success)
}

fn status(dir: &Path, json: bool, printer: Printer) -> anyhow::Result<ExitStatus> {
    let database = open(dir)?;
    let status = database.status();
    if json {
        let mut text = serde_json::to_string_pretty(&status).context("cannot encode the status")?;
        text.push('\n');
        printer
            .document(text.as_bytes())
            .context("cannot write to stdout")?;
        return Ok(ExitStatus::Success);
    }
    let now = time::OffsetDateTime::now_utc();
    let mut text = String::new();
    let _ = writeln!(text, "database:  {}", status.dir.display());
    let _ = writeln!(
        text,
        "records:   {} ({} withdrawn, {} without a package, {} malformed skipped)",
        status.records, status.withdrawn, status.records_without_package, status.malformed
    );
    let _ = writeln!(
        text,
        "imported:  {} ({} ago)",
        format_time(status.imported_at),
        format_age(now - status.imported_at)
    );
    if let Some(newest) = status.newest_modified {
        let _ = writeln!(
            text,
            "newest:    {} ({} ago)",
            format_time(newest),
            format_age(now - newest)
        );
    }
    let _ = writeln!(
        text,
        "\n{:<16} {:>9} {:>9} {:>9}",
        "ecosystem", "records", "withdrawn", "packages"
    );
    for (name, ecosystem) in &status.ecosystems {
        let label = if ecosystem.known {
            name.clone()
        } else {
            format!("{name} (unknown)")
        };
        let _ = writeln!(
            text,
            "{label:<16} {:>9} {:>9} {:>9}",
            ecosystem.records, ecosystem.withdrawn, ecosystem.packages
        );
    }
    printer
        .document(text.as_bytes())
        .context("cannot write to stdout")?;
    Ok(ExitStatus::Success)
}

/// Opens the database, turning "there is none" into advice.
pub(crate) fn open(dir: &Path) -> anyhow::Result<Database> {
    Database::open(dir).map_err(|error| match error {
        bulwark_vulndb::Error::Missing { .. } => anyhow::anyhow!(
            "no vulnerability database in `{}`; run `bulwark db import PATH...` first",
            dir.display()
        ),
        other => anyhow::Error::new(other).context(format!("cannot open `{}`", dir.display())),
    })
}

fn format_time(time: time::OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}

fn format_age(age: time::Duration) -> String {
    let seconds = age.whole_seconds().max(0);
    match seconds {
        0..=119 => format!("{seconds} s"),
        120..=7_199 => format!("{} min", seconds / 60),
        7_200..=172_799 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}
