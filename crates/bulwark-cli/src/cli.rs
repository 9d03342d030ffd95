//! The command-line surface (see `docs/cli.md`). Only argument definitions live here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The command line: one binary, a subcommand per job.
#[derive(Debug, Parser)]
#[command(
    name = "bulwark",
    version,
    about = "What is in your AI/ML stack, and which known vulnerabilities affect it",
    long_about = None
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Print only errors: no progress, no warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Print more about what is happening (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Inventory a directory, lockfile, manifest or installed environment into an SBOM.
    Sbom(SbomArgs),
    /// Match a target (or any tool's SBOM) against the vulnerability database.
    Scan(ScanArgs),
    /// Import and inspect the vulnerability database.
    Db(DbArgs),
    /// Compare versions with an ecosystem's exact ordering rules.
    CompareVersions(CompareVersionsArgs),
    /// Show what changed between two SBOMs (or targets): components and findings.
    Diff(DiffArgs),
    /// Run the tracking server: REST API, web UI, monitoring and webhooks.
    Serve(ServeArgs),
    /// Inventory a target (or read an SBOM) and upload it to a tracking server.
    Push(PushArgs),
    /// Manage the tracking server's API keys (directly in its database).
    Keys(KeysArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// `sqlite://PATH` (the default: `server.db` in the platform data directory) or
    /// `postgres://USER@HOST/DB`.
    #[arg(long, env = "BULWARK_DATABASE_URL", value_name = "URL")]
    pub(crate) database: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: String,
    /// The vulnerability database directory [default: `$BULWARK_DB_DIR`, else the platform
    /// data directory]. When `bulwark db` updates it, every stored SBOM is re-evaluated.
    #[arg(long, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
    /// Remediation deadlines: `critical=7d,high=30d,medium=90d,low=180d[,unknown=365d]`
    /// (units d or h); unlisted severities keep the defaults shown.
    #[arg(long, value_name = "LIST")]
    pub(crate) sla: Option<String>,
    /// An upload with an open finding at least this severe is a policy failure (event and
    /// webhook): low, medium, high, critical, or `none`.
    #[arg(long, default_value = "critical", value_name = "SEVERITY")]
    pub(crate) policy_fail_on: String,
    /// The largest request body accepted, in MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub(crate) max_body_mib: usize,
    /// Seconds between checks for a vulnerability-database update and for SLA breaches.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub(crate) monitor_interval: u64,
    /// Serve the API only; leave re-evaluation, SLA checks and webhooks to other processes
    /// sharing the database.
    #[arg(long)]
    pub(crate) no_workers: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// A directory, lockfile, image or root filesystem to inventory, or an SBOM file.
    pub(crate) target: PathBuf,
    /// Project name (created on the server when missing).
    #[arg(long)]
    pub(crate) project: String,
    /// Project version.
    #[arg(long)]
    pub(crate) version: String,
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long, env = "BULWARK_SERVER", value_name = "URL")]
    pub(crate) server: String,
    /// An API key with the `upload` scope.
    #[arg(
        long,
        env = "BULWARK_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub(crate) api_key: String,
    /// Parent project name, for a project nested under another.
    #[arg(long, value_name = "NAME")]
    pub(crate) parent: Option<String>,
    /// Tags for a project created by this push (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub(crate) tags: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    /// The server's database, as for `bulwark serve`.
    #[arg(long, env = "BULWARK_DATABASE_URL", value_name = "URL", global = true)]
    pub(crate) database: Option<String>,
    #[command(subcommand)]
    pub(crate) command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key and print its secret (shown only this once).
    Create {
        /// A label for the key, e.g. `ci-upload`.
        #[arg(long)]
        name: String,
        /// Scopes: read, upload, triage, admin (repeatable; default read).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// The team that owns the key (created when missing): the key sees that team's
        /// projects, and projects it creates belong to it. Required unless the key is admin.
        #[arg(long, value_name = "NAME")]
        team: Option<String>,
        /// Print the key as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke {
        /// The key's id (from `bulwark keys list`).
        id: i64,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SbomArgs {
    /// A directory, or a single lockfile, manifest or package-metadata file.
    pub(crate) target: PathBuf,
    /// Output format: cyclonedx-json, cyclonedx-xml, spdx-json or json.
    #[arg(short = 'o', long = "format", default_value = "cyclonedx-json")]
    pub(crate) format: String,
    /// Write the SBOM to this file (atomically) instead of standard output.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// The database directory [default: `$BULWARK_DB_DIR`, else the platform data directory].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Import OSV data: osv.dev `<Ecosystem>/all.zip` archives or directories of OSV JSON.
    Import {
        /// Zips, directories or single OSV JSON files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Download the OSV archives (resuming, retrying, verified) and swap them in atomically.
    Update {
        /// Base URL holding `<Ecosystem>/all.zip` [default: the public OSV bucket].
        #[arg(long, value_name = "URL")]
        source: Option<String>,
        /// Ecosystems to download (repeatable) [default: those bulwark catalogs].
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
    },
    /// Show ecosystems, record counts, the newest modification and the database's age.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// A directory, a lockfile or manifest, or an SBOM file (CycloneDX JSON/XML, SPDX JSON).
    pub(crate) target: PathBuf,
    /// The database directory [default: `$BULWARK_DB_DIR`, else the platform data directory].
    #[arg(long, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
    /// Output format: table, json, sarif or cyclonedx-json (the SBOM with `vulnerabilities`).
    #[arg(short = 'o', long = "format", default_value = "table")]
    pub(crate) format: String,
    /// Exit 1 when a finding is at least this severe: low, medium, high or critical.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) fail_on: Option<String>,
    /// Leave out findings with this id or alias (repeatable).
    #[arg(long = "ignore", value_name = "ID")]
    pub(crate) ignore: Vec<String>,
    /// Explain why the finding with this id (or alias) matched: which record, which affected
    /// entry, which range and which comparisons; printed instead of the report.
    #[arg(long, value_name = "ID", conflicts_with = "format")]
    pub(crate) explain: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The old SBOM file (CycloneDX JSON/XML, SPDX JSON), or a directory, lockfile or image.
    pub(crate) old: PathBuf,
    /// The new SBOM file, or a directory, lockfile or image.
    pub(crate) new: PathBuf,
    /// The database directory [default: `$BULWARK_DB_DIR`, else the platform data directory;
    /// without one, only component changes are shown].
    #[arg(long, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
    /// Output format: table or json.
    #[arg(short = 'o', long = "format", default_value = "table")]
    pub(crate) format: String,
    /// Exit 1 when a new finding is at least this severe: low, medium, high or critical.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) fail_on: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CompareVersionsArgs {
    /// OSV ecosystem name: PyPI, npm, crates.io, Go, Maven, Debian, Ubuntu, Alpine, Red Hat, ...
    pub(crate) ecosystem: String,
    /// The first version; without A and B, `A B` pairs are read from standard input.
    #[arg(requires = "b")]
    pub(crate) a: Option<String>,
    /// The second version.
    pub(crate) b: Option<String>,
}
