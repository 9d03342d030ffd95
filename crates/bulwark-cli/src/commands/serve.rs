//! `bulwark serve`: the tracking server.

use std::time::Duration;

use anyhow::Context as _;
use bulwark_store::{Severity, Sla};

use crate::cli::ServeArgs;
use crate::printer::Printer;

use super::ExitStatus;

/// Makes its value the first admin key when the store has no key at all.
const BOOTSTRAP_ENV: &str = "BULWARK_BOOTSTRAP_API_KEY";

pub(crate) fn run(args: &ServeArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let mut config = bulwark_server::Config::new(database_url(args.database.as_deref())?);
    config.vulndb_dir = Some(super::db::database_dir(args.db.as_deref())?);
    if let Some(sla) = &args.sla {
        config.sla = parse_sla(sla)?;
    }
    config.policy_fail_on = match args.policy_fail_on.to_ascii_lowercase().as_str() {
        "none" => None,
        other => Some(Severity::parse(other).filter(|s| *s != Severity::Unknown).with_context(
            || format!("invalid `--policy-fail-on` `{other}` (expected low, medium, high, critical or none)"),
        )?),
    };
    config.max_body_bytes = args
        .max_body_mib
        .checked_mul(1024 * 1024)
        .context("`--max-body-mib` is too large")?;
    config.monitor_interval = Duration::from_secs(args.monitor_interval.max(1));
    config.workers = !args.no_workers;
    config.bootstrap_key = std::env::var(BOOTSTRAP_ENV).ok().filter(|k| !k.is_empty());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on `{}`", args.listen))?;
        let server = bulwark_server::start(config)
            .await
            .context("cannot start the server")?;
        let address = listener.local_addr()?;
        printer.info(&format!(
            "bulwark serving on http://{address} (API docs at /api/docs); Ctrl-C stops"
        ));
        bulwark_server::serve(server, listener, shutdown_signal())
            .await
            .context("the server failed")
    })?;
    Ok(ExitStatus::Success)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// `--database`, else `$BULWARK_DATABASE_URL` (clap reads it), else `server.db` beside the
/// vulnerability database's platform directory.
pub(crate) fn database_url(flag: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = flag.filter(|u| !u.is_empty()) {
        return Ok(url.to_owned());
    }
    let data = bulwark_vulndb::default_db_dir()
        .and_then(|db| db.parent().map(std::path::Path::to_path_buf))
        .context("no data directory on this platform; pass `--database sqlite://PATH`")?;
    fs_err::create_dir_all(&data)?;
    Ok(format!("sqlite://{}", data.join("server.db").display()))
}

/// Parses `critical=7d,high=30d,...`.
fn parse_sla(text: &str) -> anyhow::Result<Sla> {
    let mut sla = Sla::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (severity, value) = part.split_once('=').with_context(|| {
            format!("invalid `--sla` entry `{part}` (expected SEVERITY=DURATION)")
        })?;
        let duration = parse_duration(value.trim()).with_context(|| {
            format!("invalid `--sla` duration `{value}` (expected e.g. 7d or 12h)")
        })?;
        match severity.trim().to_ascii_lowercase().as_str() {
            "critical" => sla.critical = duration,
            "high" => sla.high = duration,
            "medium" => sla.medium = duration,
            "low" => sla.low = duration,
            "unknown" => sla.unknown = Some(duration),
            other => anyhow::bail!(
                "invalid `--sla` severity `{other}` (expected critical, high, medium, low or unknown)"
            ),
        }
    }
    Ok(sla)
}

fn parse_duration(value: &str) -> Option<Duration> {
    let (number, unit) = value.split_at(value.len().checked_sub(1)?);
    let number: u64 = number.parse().ok()?;
    match unit {
        "d" => Some(Duration::from_secs(number.checked_mul(86_400)?)),
        "h" => Some(Duration::from_secs(number.checked_mul(3_600)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_lists_override_defaults() {
        let sla = parse_sla("critical=2d, high=12h").unwrap();
        assert_eq!(sla.critical, Duration::from_secs(2 * 86_400));
        assert_eq!(sla.high, Duration::from_secs(12 * 3_600));
        assert_eq!(sla.medium, Sla::default().medium);
        assert!(parse_sla("critical=2w").is_err());
        assert!(parse_sla("severe=2d").is_err());
        assert!(parse_sla("critical").is_err());
    }
}
