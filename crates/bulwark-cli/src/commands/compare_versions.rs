//! `bulwark compare-versions`: one ecosystem's ordering, for scripts and for checking us.

use std::cmp::Ordering;
use std::io::BufRead as _;

use anyhow::Context as _;
use bulwark_inventory::Ecosystem;

use crate::cli::CompareVersionsArgs;
use crate::printer::Printer;

use super::ExitStatus;

pub(crate) fn run(args: &CompareVersionsArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    // A release suffix (`Debian:12`) names the same ordering as its base ecosystem.
    let base = args.ecosystem.split(':').next().unwrap_or_default();
    let ecosystem: Ecosystem = base
        .parse()
        .with_context(|| format!("invalid ecosystem `{}`", args.ecosystem))?;
    if let (Some(a), Some(b)) = (&args.a, &args.b) {
        let ordering = bulwark_version::compare_in(ecosystem, a, b)?;
        printer
            .document(format!("{}\n", symbol(ordering)).as_bytes())
            .context("cannot write to stdout")?;
        return Ok(ExitStatus::Success);
    }
    let mut out = String::new();
    let mut any_error = false;
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("cannot read standard input")?;
        let mut fields = line.split_whitespace();
        let result = match (fields.next(), fields.next(), fields.next()) {
            (None, ..) => continue,
            (Some(a), Some(b), None) => {
                bulwark_version::compare_in(ecosystem, a, b).map_err(|e| e.to_string())
            }
            _ => Err(format!(
                "line {}: expected two versions separated by whitespace",
                index + 1
            )),
        };
        match result {
            Ok(ordering) => out.push_str(symbol(ordering)),
            Err(message) => {
                any_error = true;
                out.push_str("error: ");
                out.push_str(&message);
            }
        }
        out.push('\n');
    }
    printer
        .document(out.as_bytes())
        .context("cannot write to stdout")?;
    Ok(if any_error {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn symbol(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}
