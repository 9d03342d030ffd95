//! `bulwark diff A B`: what changed between two SBOMs (or two targets): components added,
//! removed, upgraded and downgraded, and findings that are new or resolved.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use bulwark_diff::{
    ArtifactFindingsDiff, ComponentRef, FindingsDiff, InventoryDiff, VersionChange,
};
use bulwark_inventory::{ComponentKind, Ecosystem};
use bulwark_match::MatchOptions;
use bulwark_vulndb::Database;
use serde::Serialize;

use crate::cli::DiffArgs;
use crate::printer::Printer;

use super::ExitStatus;

pub(crate) fn run(args: &DiffArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let format = OutputFormat::parse(&args.format)?;
    let fail_on = args
        .fail_on
        .as_deref()
        .map(super::scan::parse_threshold)
        .transpose()?;
    let database = find_database(args.db.as_deref())?;
    if database.is_none() {
        // A CI gate that cannot see findings must not pass silently.
        if fail_on.is_some() {
            anyhow::bail!(
                "`--fail-on` needs a vulnerability database; pass `--db DIR` or run `bulwark db import PATH...` first"
            );
        }
        printer.info(
            "note: no vulnerability database (`--db DIR` or `bulwark db import`); showing component changes only",
        );
    }
    let old = super::scan::read_target(&args.old, false, printer)?;
    let new = super::scan::read_target(&args.new, false, printer)?;

    let components = bulwark_diff::diff(&old, &new);
    let findings = database
        .map(|database| {
            let options = MatchOptions::default();
            let old_report = bulwark_match::match_inventory(&old, &database, &options)
                .context("cannot match the old SBOM against the vulnerability database")?;
            let new_report = bulwark_match::match_inventory(&new, &database, &options)
                .context("cannot match the new SBOM against the vulnerability database")?;
            anyhow::Ok(bulwark_diff::diff_findings(&old_report, &new_report))
        })
        .transpose()?;
    let artifacts = bulwark_diff::diff_artifact_findings(&old.findings, &new.findings);

    let document = match format {
        OutputFormat::Json => {
            let document = DiffDocument {
                old: &old.target,
                new: &new.target,
                components: &components,
                findings: findings.as_ref(),
                artifact_findings: &artifacts,
            };
            let mut text =
                serde_json::to_string_pretty(&document).context("cannot encode the diff")?;
            text.push('\n');
            text
        }
        OutputFormat::Table => table(
            &components,
            findings.as_ref(),
            &artifacts,
            printer.stdout_is_terminal(),
        ),
    };
    printer
        .document(document.as_bytes())
        .context("cannot write to stdout")?;

    let failed = fail_on.is_some_and(|threshold| {
        findings
            .iter()
            .flat_map(|f| &f.new)
            .any(|f| f.severity >= threshold)
            || artifacts
                .new
                .iter()
                .any(|f| super::scan::artifact_severity(f.severity) >= threshold)
    });
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

#[derive(Debug, Clone, Copy)]
enum OutputFormat {
    Table,
    Json,
}

impl OutputFormat {
    fn parse(value: &str) -> anyhow::Result<Self> {
        match value {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            other => anyhow::bail!("invalid `--format`: `{other}` (expected table or json)"),
        }
    }
}

/// The database named by `--db` (which must exist), else the default one if there is one:
/// a diff is useful without findings, a scan is not.
fn find_database(flag: Option<&Path>) -> anyhow::Result<Option<Database>> {
    if let Some(dir) = flag {
        return super::db::open(dir).map(Some);
    }
    let Ok(dir) = super::db::database_dir(None) else {
        return Ok(None);
    };
    match Database::open(&dir) {
        Err(bulwark_vulndb::Error::Missing { .. }) => Ok(None),
        _ => super::db::open(&dir).map(Some),
    }
}

/// The `-o json` document (see `docs/cli.md`).
#[derive(Serialize)]
struct DiffDocument<'a> {
    old: &'a str,
    new: &'a str,
    components: &'a InventoryDiff,
    /// `null` when no database was available.
    findings: Option<&'a FindingsDiff>,
    artifact_findings: &'a ArtifactFindingsDiff,
}

fn table(
    components: &InventoryDiff,
    findings: Option<&FindingsDiff>,
    artifacts: &ArtifactFindingsDiff,
    colour: bool,
) -> String {
    let mut text = String::new();
    let refs = |list: &[ComponentRef]| -> Vec<String> {
        list.iter()
            .map(|c| {
                format!(
                    "{} {} ({})",
                    c.name,
                    version_label(c.version.as_deref()),
                    origin(c.ecosystem, c.kind)
                )
            })
            .collect()
    };
    let changes = |list: &[VersionChange]| -> Vec<String> {
        list.iter()
            .map(|c| {
                format!(
                    "{} {} → {} ({})",
                    c.name,
                    version_label(c.old_version.as_deref()),
                    version_label(c.new_version.as_deref()),
                    origin(c.ecosystem, c.kind)
                )
            })
            .collect()
    };
    section(&mut text, "Added", &refs(&components.added));
    section(&mut text, "Removed", &refs(&components.removed));
    section(&mut text, "Upgraded", &changes(&components.upgraded));
    section(&mut text, "Downgraded", &changes(&components.downgraded));
    if !components.changed.is_empty() {
        section(&mut text, "Changed", &changes(&components.changed));
    }
    let _ = writeln!(text, "Unchanged: {}", components.unchanged);

    match findings {
        Some(findings) => {
            text.push('\n');
            finding_section(&mut text, "New findings", &findings.new, true, colour);
            finding_section(
                &mut text,
                "Resolved findings",
                &findings.resolved,
                false,
                colour,
            );
        }
        None => text.push_str("\nFindings: not checked (no vulnerability database).\n"),
    }
    if !artifacts.new.is_empty() || !artifacts.resolved.is_empty() {
        text.push('\n');
        for (title, list) in [
            ("New unsafe artifacts", &artifacts.new),
            ("Resolved unsafe artifacts", &artifacts.resolved),
        ] {
            let lines: Vec<String> = list
                .iter()
                .map(|f| {
                    format!(
                        "{} {}  {}: {}",
                        super::scan::paint(super::scan::artifact_severity(f.severity), colour),
                        f.id,
                        f.path,
                        f.message
                    )
                })
                .collect();
            section(&mut text, title, &lines);
        }
    }
    text
}

/// `Title (n):` and one indented line per entry, or `Title: none`.
fn section(text: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        let _ = writeln!(text, "{title}: none");
        return;
    }
    let _ = writeln!(text, "{title} ({}):", lines.len());
    for line in lines {
        let _ = writeln!(text, "  {line}");
    }
}

fn finding_section(
    text: &mut String,
    title: &str,
    findings: &[bulwark_diff::FindingChange],
    with_fix: bool,
    colour: bool,
) {
    if findings.is_empty() {
        let _ = writeln!(text, "{title}: none");
        return;
    }
    let _ = writeln!(text, "{title} ({}):", findings.len());
    for finding in findings {
        let aliases = if finding.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", finding.aliases.join(", "))
        };
        let fix = match (with_fix, finding.fixed_versions.is_empty()) {
            (false, _) => String::new(),
            (true, true) => "  no fix".to_owned(),
            (true, false) => format!("  fixed in {}", finding.fixed_versions.join(", ")),
        };
        let _ = writeln!(
            text,
            "  {} {}{aliases}  {} {} ({}){fix}",
            super::scan::paint(finding.severity, colour),
            finding.id,
            finding.package,
            finding.versions.join(", "),
            finding.ecosystem
        );
        if let Some(summary) = &finding.summary {
            let _ = writeln!(text, "      {summary}");
        }
    }
}

fn version_label(version: Option<&str>) -> &str {
    version.unwrap_or("(unpinned)")
}

/// The ecosystem, or for components outside one, their kind (`gpu-library`).
fn origin(ecosystem: Option<Ecosystem>, kind: ComponentKind) -> String {
    match ecosystem {
        Some(ecosystem) => ecosystem.to_string(),
        None => serde_json::to_string(&kind)
            .map(|k| k.trim_matches('"').to_owned())
            .unwrap_or_default(),
    }
}
