//! Who is calling: the API key of a request, its scopes, and which projects it may see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
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

/// Age after which one request re-authenticates a key in use while the others keep using
/// the cached entry: a busy key never expires all at once, which sent every in-flight
/// request of that key to the store together (200 writes of one row every 10 s under load).
const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// Authenticated keys by the SHA-256 of their secret (never the secret itself).
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], CachedKey>>,
}

struct CachedKey {
    key: ApiKey,
    at: Instant,
    /// A request is re-authenticating it.
    refreshing: bool,
}

/// What the cache knows of a key.
#[derive(Debug, PartialEq)]
enum Cached {
    /// Use it.
    Fresh(ApiKey),
    /// Use it, and re-authenticate it: this caller is the one chosen to.
    Refresh(ApiKey),
    /// Ask the store.
    Miss,
}

impl KeyCache {
    /// The entries; a panic elsewhere while holding them leaves nothing half-updated here.
    fn entries(&self) -> MutexGuard<'_, HashMap<[u8; 32], CachedKey>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, digest: &[u8; 32], now: Instant) -> Cached {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(digest) else {
            return Cached::Miss;
        };
        let age = now.saturating_duration_since(entry.at);
        if age >= CACHE_TTL {
            Cached::Miss
        } else if age >= REFRESH_AFTER && !entry.refreshing {
            entry.refreshing = true;
            Cached::Refresh(entry.key.clone())
        } else {
            Cached::Fresh(entry.key.clone())
        }
    }

    fn put(&self, digest: [u8; 32], key: ApiKey, now: Instant) {
        let mut entries = self.entries();
        if entries.len() > 10_000 {
            entries.retain(|_, entry| now.saturating_duration_since(entry.at) < CACHE_TTL);
        }
        let entry = CachedKey {
            key,
            at: now,
            refreshing: false,
        };
        entries.insert(digest, entry);
    }

    /// A refresh failed for want of the store: let a later request try again.
    fn refresh_failed(&self, digest: &[u8; 32]) {
        let mut entries = self.entries();
        if let Some(entry) = entries.get_mut(digest) {
            entry.refreshing = false;
        }
    }

    fn remove(&self, digest: &[u8; 32]) {
        self.entries().remove(digest);
    }

    /// Forgets every cached key (after a revocation).
    pub(crate) fn clear(&self) {
        self.entries().clear();
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
        let cached = match state.keys.get(&digest, Instant::now()) {
            Cached::Fresh(key) => return Ok(Caller { key }),
            Cached::Refresh(key) => Some(key),
            Cached::Miss => None,
        };
        match state.store.authenticate(secret).await {
            Ok(Some(key)) => {
                state.keys.put(digest, key.clone(), Instant::now());
                Ok(Caller { key })
            }
            Ok(None) => {
                state.keys.remove(&digest);
                Err(ApiError::unauthorized("unknown or revoked API key"))
            }
            // The store did not answer: a key authenticated less than CACHE_TTL ago still
            // counts, as it does for every other request meanwhile.
            Err(error) => match cached {
                Some(key) => {
                    state.keys.refresh_failed(&digest);
                    tracing::warn!("re-authenticating a cached API key failed: {error}");
                    Ok(Caller { key })
                }
                None => Err(error.into()),
            },
        }
    }
}

/// A new random key secret: `bwk_` and 32 random bytes in hex (256 bits).
pub fn generate_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("bwk_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> ApiKey {
        ApiKey {
            id: 1,
            team_id: None,
            name: name.to_owned(),
            prefix: "bwk_0123".to_owned(),
            scopes: vec![Scope::Read],
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_busy_key_is_refreshed_by_one_request_before_it_expires() {
        let cache = KeyCache::default();
        let digest = [7u8; 32];
        let t0 = Instant::now();
        assert_eq!(cache.get(&digest, t0), Cached::Miss);
        cache.put(digest, key("ci"), t0);
        assert_eq!(cache.get(&digest, t0), Cached::Fresh(key("ci")));

        // Past REFRESH_AFTER: exactly one caller is sent to the store, the rest keep going.
        let later = t0 + REFRESH_AFTER;
        assert_eq!(cache.get(&digest, later), Cached::Refresh(key("ci")));
        for _ in 0..3 {
            assert_eq!(cache.get(&digest, later), Cached::Fresh(key("ci")));
        }
        // Its refresh failed: the next caller tries again.
        cache.refresh_failed(&digest);
        assert_eq!(cache.get(&digest, later), Cached::Refresh(key("ci")));
        // It succeeded: fresh again from then on.
        cache.put(digest, key("ci renamed"), later);
        assert_eq!(
            cache.get(&digest, later + REFRESH_AFTER / 2),
            Cached::Fresh(key("ci renamed"))
        );

        // Never refreshed: gone after CACHE_TTL, whatever the flag says.
        assert_eq!(cache.get(&digest, later + CACHE_TTL), Cached::Miss);
        cache.remove(&digest);
        assert_eq!(cache.get(&digest, later), Cached::Miss);
    }
}
