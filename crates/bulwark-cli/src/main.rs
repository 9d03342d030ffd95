//! The `bulwark` binary: argument parsing and wiring only; the work happens in the library
//! crates.

mod cli;
mod commands;
mod env;
mod printer;
mod progress;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::commands::ExitStatus;
use crate::env::EnvVars;
use crate::printer::{Printer, Verbosity};

/// mimalloc returns memory freed between phases (the matcher's short-lived advisory parses
/// between long-lived findings) instead of holding it as glibc's allocator does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    init_logging(cli.global.verbose);
    let printer = Printer::new(verbosity);
    let result = match &cli.command {
        Command::Sbom(args) => commands::sbom::run(args, printer),
        Command::Scan(args) => commands::scan::run(args, printer),
        Command::Db(args) => commands::db::run(args, printer),
        Command::CompareVersions(args) => commands::compare_versions::run(args, printer),
        Command::Diff(args) => commands::diff::run(args, printer),
        Command::Serve(args) => commands::serve::run(args, printer),
        Command::Push(args) => commands::push::run(args, printer),
        Command::Keys(args) => commands::keys::run(args, printer),
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            printer.error(&format!("{error:#}"));
            ExitStatus::Error.into()
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "bulwark=info,info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(EnvVars::BULWARK_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}
