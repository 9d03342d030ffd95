//! `bulwark keys`: create, list and revoke the tracking server's API keys, directly in its
//! database (the way to make the first keys, and to recover when every admin key is lost).

use std::fmt::Write as _;

use anyhow::Context as _;
use bulwark_store::{NewApiKey, Scope, Store, StoreError};

use crate::cli::{KeysArgs, KeysCommand};
use crate::printer::Printer;

use super::ExitStatus;

pub(crate) fn run(args: &KeysArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let url = super::serve::database_url(args.database.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = Store::connect(&url)
            .await
            .context("cannot open the server's database")?;
        let result = match &args.command {
            KeysCommand::Create {
                name,
                scopes,
                team,
                json,
            } => create(&store, name, scopes, team.as_deref(), *json, printer).await,
            KeysCommand::List { json } => list(&store, *json, printer).await,
            KeysCommand::Revoke { id } => {
                store
                    .revoke_api_key(*id)
                    .await
                    .with_context(|| format!("cannot revoke key {id}"))?;
                printer.info(&format!("revoked key {id}"));
                Ok(ExitStatus::Success)
            }
        };
        store.close().await;
        result
    })
}

async fn create(
    store: &Store,
    name: &str,
    scopes: &[String],
    team: Option<&str>,
    json: bool,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let scopes = if scopes.is_empty() {
        vec![Scope::Read]
    } else {
        scopes
            .iter()
            .map(|s| {
                Scope::parse(s).with_context(|| {
                    format!("invalid `--scope` `{s}` (expected read, upload, triage or admin)")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    // Only admin keys see team-less projects; a team-less upload key could not read back
    // what it uploads.
    if team.is_none() && !scopes.contains(&Scope::Admin) {
        anyhow::bail!(
            "a key without the admin scope needs `--team NAME` (the team is created when missing)"
        );
    }
    let team_id = match team {
        Some(team) => Some(team_id(store, team).await?),
        None => None,
    };
    let secret = bulwark_server::generate_secret()
        .map_err(|e| anyhow::anyhow!("cannot generate a key: {e}"))?;
    let key = store
        .create_api_key(&NewApiKey {
            secret: &secret,
            name,
            team_id,
            scopes: &scopes,
        })
        .await
        .context("cannot create the key")?;
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    let text = if json {
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "id": key.id,
            "name": key.name,
            "scopes": scopes,
            "team_id": key.team_id,
            "secret": secret,
        }))?;
        text.push('\n');
        text
    } else {
        printer.info(&format!(
            "created key {} `{}` ({}); its secret follows and is not shown again",
            key.id,
            key.name,
            scopes.join(", ")
        ));
        format!("{secret}\n")
    };
    printer.document(text.as_bytes())?;
    Ok(ExitStatus::Success)
}

/// The team's id, creating the team when it does not exist.
async fn team_id(store: &Store, name: &str) -> anyhow::Result<i64> {
    for _ in 0..2 {
        if let Some(team) = store
            .list_teams()
            .await?
            .into_iter()
            .find(|t| t.name == name)
        {
            return Ok(team.id);
        }
        match store.create_team(name).await {
            Ok(team) => return Ok(team.id),
            Err(StoreError::Conflict { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    anyhow::bail!("cannot create team `{name}`")
}

async fn list(store: &Store, json: bool, printer: Printer) -> anyhow::Result<ExitStatus> {
    let keys = store.list_api_keys(None).await?;
    let text = if json {
        let items: Vec<serde_json::Value> = keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "id": k.id,
                    "name": k.name,
                    "prefix": k.prefix,
                    "scopes": k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                    "team_id": k.team_id,
                    "created_at": rfc3339(k.created_at),
                    "revoked_at": k.revoked_at.map(rfc3339),
                    "last_used_at": k.last_used_at.map(rfc3339),
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&items)?;
        text.push('\n');
        text
    } else {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "{:>4}  {:<24} {:<10} {:<24} STATE",
            "ID", "NAME", "PREFIX", "SCOPES"
        );
        for k in &keys {
            let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
            let state = if k.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            };
            let _ = writeln!(
                text,
                "{:>4}  {:<24} {:<10} {:<24} {state}",
                k.id,
                k.name,
                k.prefix,
                scopes.join(",")
            );
        }
        text
    };
    printer.document(text.as_bytes())?;
    Ok(ExitStatus::Success)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
