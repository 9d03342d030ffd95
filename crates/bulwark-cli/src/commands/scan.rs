//! `bulwark scan`: inventory a target (or read an SBOM) and match it against the database.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use bulwark_inventory::{
    ArtifactFinding, ArtifactSeverity, Component, Ecosystem, Inventory, Location,
};
use bulwark_match::{Finding, MatchOptions, MatchReport, NotChecked, Severity};
use serde::Serialize;

use crate::cli::ScanArgs;
use crate::printer::Printer;

use super::ExitStatus;

/// How many bytes of a file target are read to tell an SBOM from a lockfile.
const SNIFF_BYTES: u64 = 4096;

pub(crate) fn run(args: &ScanArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let format = OutputFormat::parse(&args.format)?;
    let fail_on = args.fail_on.as_deref().map(parse_threshold).transpose()?;
    let dir = super::db::database_dir(args.db.as_deref())?;
    let database = super::db::open(&dir)?;
    let hash_models = matches!(format, OutputFormat::CycloneDxJson);
    let inventory = read_target(&args.target, hash_models, printer)?;
    let gpu_issues = bulwark_gpu::check(&inventory);
    let mut options = MatchOptions::default();
    options.ignore = args.ignore.iter().cloned().collect();
    let report = bulwark_match::match_inventory(&inventory, &database, &options)
        .context("cannot match against the vulnerability database")?;

    if let Some(id) = &args.explain {
        printer
            .document(explain(&report, id)?.as_bytes())
            .context("cannot write to stdout")?;
        return Ok(ExitStatus::Success);
    }
    let document = match format {
        OutputFormat::Json => json_document(&inventory, &report, &gpu_issues)?,
        OutputFormat::Table => {
            let colour = printer.stdout_is_terminal();
            let mut text = table(&report, colour);
            artifact_table(&inventory.findings, colour, &mut text);
            gpu_table(&gpu_issues, &mut text);
            text
        }
        OutputFormat::Sarif => String::from_utf8(bulwark_report::sarif(
            &inventory,
            &report,
            env!("CARGO_PKG_VERSION"),
        )?)?,
        OutputFormat::CycloneDxJson => {
            let options = bulwark_sbom::EncodeOptions {
                tool_name: "bulwark",
                tool_version: env!("CARGO_PKG_VERSION"),
                timestamp: super::sbom::document_timestamp()?,
            };
            String::from_utf8(bulwark_report::cyclonedx_vex(
                &inventory, &report, &options,
            )?)?
        }
    };
    printer
        .document(document.as_bytes())
        .context("cannot write to stdout")?;
    if !report.not_checked.is_empty() {
        printer.warning(&format!(
            "{} components could not be checked (run with `-o json` for the list and reasons)",
            report.not_checked.len()
        ));
    }
    let failed = fail_on.is_some_and(|threshold| {
        report.findings.iter().any(|f| f.severity >= threshold)
            || inventory
                .findings
                .iter()
                .any(|f| artifact_severity(f.severity) >= threshold)
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
    Sarif,
    CycloneDxJson,
}

impl OutputFormat {
    fn parse(value: &str) -> anyhow::Result<Self> {
        match value {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "sarif" => Ok(Self::Sarif),
            "cyclonedx-json" => Ok(Self::CycloneDxJson),
            other => anyhow::bail!(
                "invalid `--format`: `{other}` (expected table, json, sarif or cyclonedx-json)"
            ),
        }
    }
}

pub(super) fn parse_threshold(value: &str) -> anyhow::Result<Severity> {
    match value.to_ascii_lowercase().as_str() {
        "low" => Ok(Severity::Low),
        "medium" => Ok(Severity::Medium),
        "high" => Ok(Severity::High),
        "critical" => Ok(Severity::Critical),
        other => {
            anyhow::bail!("invalid `--fail-on`: `{other}` (expected low, medium, high or critical)")
        }
    }
}

/// An SBOM file is decoded; anything else is inventoried like `bulwark sbom` does.
pub(super) fn read_target(
    target: &Path,
    hash_models: bool,
    printer: Printer,
) -> anyhow::Result<Inventory> {
    if target.is_file() {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut head = Vec::new();
        fs_err::File::open(target)?
            .take(SNIFF_BYTES)
            .read_to_end(&mut head)
            .with_context(|| format!("cannot read `{}`", target.display()))?;
        if bulwark_sbom::looks_like_sbom(&name, &head) {
            let bytes = fs_err::read(target)?;
            let mut inventory = bulwark_sbom::decode(&bytes, &name)
                .with_context(|| format!("cannot read the SBOM `{}`", target.display()))?;
            // Another tool's SBOM says nothing of the GPU stack; names and versions do.
            bulwark_gpu::annotate(&mut inventory);
            for problem in &inventory.problems {
                printer.warning(&problem.to_string());
            }
            return Ok(inventory);
        }
    }
    // Findings need no digests of model files; the CycloneDX report is an SBOM and does.
    let hash_models = hash_models && !crate::env::is_off(crate::env::EnvVars::BULWARK_MODEL_HASHES);
    super::inventory(target, hash_models, printer)
}

/// The `-o json` document: the contract in `docs/cli.md`.
#[derive(Serialize)]
struct ScanDocument<'a> {
    components: Vec<ComponentSummary<'a>>,
    findings: &'a [Finding],
    not_checked: &'a [NotChecked],
    gpu_issues: &'a [bulwark_gpu::GpuIssue],
    artifact_findings: &'a [ArtifactFinding],
}

#[derive(Serialize)]
struct ComponentSummary<'a> {
    name: &'a str,
    version: Option<&'a str>,
    ecosystem: Option<Ecosystem>,
    purl: Option<&'a str>,
    locations: Vec<&'a Location>,
}

impl<'a> From<&'a Component> for ComponentSummary<'a> {
    fn from(component: &'a Component) -> Self {
        Self {
            name: &component.name,
            version: component.version.as_deref(),
            ecosystem: component.ecosystem,
            purl: component.purl.as_ref().map(bulwark_inventory::Purl::as_str),
            locations: component.locations.iter().collect(),
        }
    }
}

fn json_document(
    inventory: &Inventory,
    report: &MatchReport,
    gpu_issues: &[bulwark_gpu::GpuIssue],
) -> anyhow::Result<String> {
    let document = ScanDocument {
        components: inventory
            .components
            .iter()
            .map(ComponentSummary::from)
            .collect(),
        findings: &report.findings,
        not_checked: &report.not_checked,
        gpu_issues,
        artifact_findings: &inventory.findings,
    };
    let mut text = serde_json::to_string_pretty(&document).context("cannot encode the report")?;
    text.push('\n');
    Ok(text)
}

/// Every finding with `id` among its ids, and for each matched record the entry, the range
/// and the comparisons that put the version inside it.
fn explain(report: &MatchReport, id: &str) -> anyhow::Result<String> {
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.id == id || f.aliases.iter().any(|a| a == id))
        .collect();
    if findings.is_empty() {
        anyhow::bail!("no finding has the id or alias `{id}` in this scan");
    }
    let mut text = String::new();
    for finding in findings {
        let _ = writeln!(
            text,
            "{} affects {} {} ({}){}",
            finding.id,
            finding.package.name,
            finding.package.version,
            finding.package.ecosystem,
            finding
                .package
                .purl
                .as_deref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default()
        );
        if !finding.aliases.is_empty() {
            let _ = writeln!(text, "  aliases: {}", finding.aliases.join(", "));
        }
        let _ = writeln!(
            text,
            "  severity: {} (from {})",
            finding.severity.as_str(),
            finding.severity_source
        );
        for reason in &finding.explanation {
            let range = reason.range_index.map_or_else(
                || "the versions list".to_owned(),
                |i| format!("ranges[{i}]"),
            );
            let _ = writeln!(
                text,
                "  matched {} affected[{}] {range} ({}): {}",
                reason.advisory_id, reason.affected_index, reason.range_type, reason.comparison
            );
        }
        if finding.fixed_versions.is_empty() {
            let _ = writeln!(text, "  no fixed version known");
        } else {
            let _ = writeln!(text, "  fixed in: {}", finding.fixed_versions.join(", "));
        }
    }
    Ok(text)
}

/// Findings grouped by package, the most severe package first.
/// An artifact finding's severity on the advisories' scale, for `--fail-on`.
pub(super) fn artifact_severity(severity: ArtifactSeverity) -> Severity {
    match severity {
        ArtifactSeverity::Low => Severity::Low,
        ArtifactSeverity::Medium => Severity::Medium,
        ArtifactSeverity::High => Severity::High,
        ArtifactSeverity::Critical => Severity::Critical,
    }
}

/// Unsafe model files after the vulnerability table, grouped by file, worst first.
fn artifact_table(findings: &[ArtifactFinding], colour: bool, text: &mut String) {
    if findings.is_empty() {
        return;
    }
    let mut by_file: BTreeMap<&str, Vec<&ArtifactFinding>> = BTreeMap::new();
    for finding in findings {
        by_file
            .entry(finding.path.as_str())
            .or_default()
            .push(finding);
    }
    let _ = writeln!(text, "\nUnsafe artifacts:");
    for (path, mut findings) in by_file {
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        let _ = writeln!(text, "{path}");
        for finding in findings {
            let place = match (&finding.member, finding.offset) {
                (Some(member), Some(offset)) => format!(" [{member} @ {offset}]"),
                (Some(member), None) => format!(" [{member}]"),
                (None, Some(offset)) => format!(" [@ {offset}]"),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                text,
                "  {} {}{place}: {}",
                paint(artifact_severity(finding.severity), colour),
                finding.id,
                finding.message
            );
            let _ = writeln!(text, "    → {}", finding.remedy);
        }
    }
}

/// The GPU-stack compatibility issues after the vulnerability table.
fn gpu_table(issues: &[bulwark_gpu::GpuIssue], text: &mut String) {
    if issues.is_empty() {
        return;
    }
    let _ = writeln!(text, "\nGPU stack compatibility:");
    for issue in issues {
        let _ = writeln!(text, "  {}", super::gpu_issue_line(issue));
    }
}

fn table(report: &MatchReport, colour: bool) -> String {
    let mut text = String::new();
    if report.findings.is_empty() {
        text.push_str("No known vulnerabilities found.\n");
        return text;
    }
    let mut groups = report.by_package();
    groups.sort_by(|(a, fa), (b, fb)| {
        let worst = |f: &[&Finding]| f.iter().map(|x| x.severity).max();
        worst(fb)
            .cmp(&worst(fa))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.version.cmp(&b.version))
    });
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for (package, findings) in &groups {
        let fix = bulwark_match::smallest_fixing_version(
            &findings.iter().map(|f| (*f).clone()).collect::<Vec<_>>(),
        );
        let _ = writeln!(
            text,
            "{} {} ({}){}",
            package.name,
            package.version,
            package.ecosystem,
            fix.map(|v| format!("  → upgrade to {v}"))
                .unwrap_or_default()
        );
        let mut findings = findings.clone();
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        for finding in findings {
            *counts.entry(finding.severity).or_default() += 1;
            let severity = paint(finding.severity, colour);
            let score = finding
                .cvss
                .as_ref()
                .map(|c| format!(" {:.1}", c.score))
                .unwrap_or_default();
            let aliases = if finding.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", finding.aliases.join(", "))
            };
            let fixed = if finding.fixed_versions.is_empty() {
                "no fix".to_owned()
            } else {
                format!("fixed in {}", finding.fixed_versions.join(", "))
            };
            let _ = writeln!(
                text,
                "  {severity}{score}  {}{aliases}  {fixed}",
                finding.id
            );
            if let Some(summary) = &finding.summary {
                let _ = writeln!(text, "      {summary}");
            }
        }
    }
    let summary: Vec<String> = counts
        .iter()
        .rev()
        .map(|(severity, n)| format!("{n} {}", severity.as_str()))
        .collect();
    let _ = writeln!(
        text,
        "\n{} findings in {} packages: {}",
        report.findings.len(),
        groups.len(),
        summary.join(", ")
    );
    text
}

pub(super) fn paint(severity: Severity, colour: bool) -> String {
    let label = format!("{:<8}", severity.as_str().to_ascii_uppercase());
    if !colour {
        return label;
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::None | Severity::Unknown => "2",
    };
    format!("\u{1b}[{code}m{label}\u{1b}[0m")
}
