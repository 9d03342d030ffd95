//! Who is calling: the API key of a request, its scopes, and which projects it may see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use bulwark_store::{ApiKey, Project, Scope};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// The header Dependency-Track clients send; `Authorization: Bearer` works too.
pub const API_KEY_HEADER: &str = "x-api-key";

/// How long a successful authentication is reused before the store is asked again. The store
/// marks a key used on every authentication (a write); without this, 200 readers would queue
/// on SQLite's single writer. Revocation through this process clears the cache at once;
/// other processes see it within this time.
const CACHE_TTL: Duration = Duration::from_secs(10);

/// Authenticated keys by the SHA-256 of their secret (never the secret itself).
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], (ApiKey, Instant)>>,
}

impl KeyCache {
    fn get(&self, digest: &[u8; 32]) -> Option<ApiKey> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(key, _)| key.clone())
    }

    fn put(&self, digest: [u8; 32], key: ApiKey) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        entries.insert(digest, (key, Instant::now()));
    }

    /// Forgets every cached key (after a revocation).
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The key behind a request.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The stored key.
    pub(crate) key: ApiKey,
}

impl Caller {
    /// Refuses the request unless the key grants `scope`.
    pub(crate) fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.key.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this API key lacks the `{}` scope",
                scope.as_str()
            )))
        }
    }

    /// Whether this is an admin key (sees every team's projects).
    pub(crate) fn is_admin(&self) -> bool {
        self.key.allows(Scope::Admin)
    }

    /// The teams whose projects this key sees: `None` for all (admin).
    pub(crate) fn teams(&self) -> Option<Vec<i64>> {
        if self.is_admin() {
            None
        } else {
            Some(self.key.team_id.into_iter().collect())
        }
    }

    /// Whether the key may see `project`.
    pub(crate) fn can_see(&self, project: &Project) -> bool {
        self.is_admin() || (project.team_id.is_some() && project.team_id == self.key.team_id)
    }

    /// How the audit trail names this caller.
    pub(crate) fn actor(&self) -> String {
        format!("{} ({}…)", self.key.name, self.key.prefix)
    }
}

fn secret_of(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get(API_KEY_HEADER) {
        return value.to_str().ok().map(str::trim);
    }
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Caller, ApiError> {
        let Some(secret) = secret_of(parts).filter(|s| !s.is_empty()) else {
            return Err(ApiError::unauthorized(
                "an API key is required: send it as `X-Api-Key` or `Authorization: Bearer`",
            ));
        };
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if let Some(key) = state.keys.get(&digest) {
            return Ok(Caller { key });
        }
        match state.store.authenticate(secret).await? {
            Some(key) => {
                state.keys.put(digest, key.clone());
                Ok(Caller { key })
            }
            None => Err(ApiError::unauthorized("unknown or revoked API key")),
        }
    }
}

/// A new random key secret: `bwk_` and 32 random bytes in hex (256 bits).
pub fn generate_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("bwk_{}", hex::encode(bytes)))
}
