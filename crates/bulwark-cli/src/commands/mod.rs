//! One module per subcommand: settings in, library calls, an exit status out.

pub(crate) mod compare_versions;
pub(crate) mod db;
pub(crate) mod diff;
pub(crate) mod keys;
pub(crate) mod push;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod serve;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bulwark_catalog::{Cataloger, Progress};
use bulwark_inventory::Inventory;

use crate::printer::Printer;
use crate::progress::Spinner;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Done; nothing reached the failure threshold.
    Success,
    /// Done, and a finding reached `--fail-on`.
    Failure,
    /// Could not do the job.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => Self::from(0),
            ExitStatus::Failure => Self::from(1),
            ExitStatus::Error => Self::from(2),
        }
    }
}

/// Every cataloger bulwark ships, in a fixed order. `hash_models` says whether model files
/// are hashed whole (an SBOM wants their digests; a scan for unsafe content does not, and a
/// 70 GB checkpoint takes minutes to hash).
pub(crate) fn all_catalogers(hash_models: bool) -> Vec<Box<dyn Cataloger>> {
    let mut catalogers = bulwark_catalog_python::catalogers();
    catalogers.extend(bulwark_catalog_conda::catalogers());
    catalogers.extend(bulwark_catalog_os::catalogers());
    catalogers.extend(bulwark_catalog_js::catalogers());
    catalogers.extend(bulwark_catalog_java::catalogers());
    catalogers.extend(bulwark_catalog_go::catalogers());
    catalogers.extend(bulwark_catalog_rust::catalogers());
    catalogers.extend(bulwark_catalog_ruby::catalogers());
    catalogers.extend(bulwark_catalog_php::catalogers());
    catalogers.extend(bulwark_catalog_dotnet::catalogers());
    catalogers.extend(bulwark_catalog_deploy::catalogers());
    catalogers.extend(bulwark_gpu::catalogers());
    catalogers.extend(bulwark_model::catalogers_with(bulwark_model::Options {
        hashes: hash_models,
    }));
    catalogers.extend(bulwark_pickle::catalogers());
    catalogers
}

/// Walks `target` with every cataloger, showing progress on a terminal and printing each
/// problem as a warning.
pub(crate) fn inventory(
    target: &Path,
    hash_models: bool,
    printer: Printer,
) -> anyhow::Result<Inventory> {
    let catalogers = all_catalogers(hash_models);
    let progress = Progress::default();
    let display = target.display().to_string();
    let done = AtomicBool::new(false);
    let inventory = std::thread::scope(|scope| {
        if printer.wants_progress() {
            let (progress, done) = (&progress, &done);
            scope.spawn(move || {
                let spinner = Spinner::start("scanning");
                while !done.load(Ordering::Relaxed) {
                    spinner.update(progress);
                    std::thread::sleep(Duration::from_millis(80));
                }
            });
        }
        let result = if bulwark_image::looks_like_image(target) {
            bulwark_image::catalog_image(target, &display, &catalogers, &progress)
                .map_err(anyhow::Error::from)
        } else {
            bulwark_catalog::catalog_target(target, &display, &catalogers, &progress)
                .map_err(anyhow::Error::from)
        };
        done.store(true, Ordering::Relaxed);
        result
    })
    .with_context(|| format!("cannot scan `{display}`"))?;
    let mut inventory = inventory;
    bulwark_gpu::annotate(&mut inventory);
    for problem in &inventory.problems {
        printer.warning(&problem.to_string());
    }
    Ok(inventory)
}

/// `severity id: message` for one GPU-stack compatibility issue, as printed on a terminal.
pub(crate) fn gpu_issue_line(issue: &bulwark_gpu::GpuIssue) -> String {
    let severity = match issue.severity {
        bulwark_gpu::Severity::Error => "error",
        bulwark_gpu::Severity::Warning => "warning",
        bulwark_gpu::Severity::Info => "info",
    };
    format!("{severity} {}: {}", issue.id, issue.message)
}
