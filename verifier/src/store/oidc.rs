//! The OpenID Provider bridge's grants: authorization codes (single-use:
//! taken by one `remove` on sled, one `DELETE .. RETURNING` on PostgreSQL)
//! and access tokens for `/userinfo`, keyed by the SHA-256 of the value
//! (never the value itself); and links from a used code to the access
//! token issued for it, so that a second use of the code revokes the token
//! (RFC 6749 §4.1.2).

use async_trait::async_trait;
use intyg_service::pg::{Pg, PgError};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// What a code or an access token stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge (codes).
    pub code_challenge: String,
    /// The granted scopes.
    pub scope: String,
    /// The authorization request's `nonce`.
    pub nonce: Option<String>,
    /// The pairwise subject.
    pub sub: String,
    /// The verified transaction whose claims it grants. The claims stay
    /// sealed there and are read when a token or `/userinfo` is served:
    /// a grant never holds a claim value, and an erasure or the end of
    /// retention takes them from every grant at once. (Empty in a grant of
    /// an earlier version, which then grants nothing.)
    #[serde(default)]
    pub transaction_id: String,
    /// When the holder presented.
    pub auth_time: i64,
    /// When it stops being accepted, seconds since the epoch.
    pub expires_at: i64,
}

/// Codes and access tokens.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a grant under `key` (a hash).
    async fn put(&self, key: &str, grant: &Grant) -> Result<(), StoreError>;
    /// Takes the grant under `key`: a second take finds nothing.
    async fn take(&self, key: &str) -> Result<Option<Grant>, StoreError>;
    /// Reads the grant under `key`.
    async fn get(&self, key: &str) -> Result<Option<Grant>, StoreError>;
    /// Remembers under `key` (a hash) the key of another grant until
    /// `expires_at`: the access token issued for a used code.
    async fn put_link(&self, key: &str, target: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Takes the key remembered under `key`: a second take finds nothing.
    async fn take_link(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Forgets every grant and link that expired before `now`; returns
    /// how many.
    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError>;
}

/// A link on sled: the grant key it leads to, and until when.
#[derive(Serialize, Deserialize)]
struct Link {
    target: String,
    expires_at: i64,
}

/// What every entry of the sled tree has, grant or link.
#[derive(Deserialize)]
struct Expiring {
    expires_at: i64,
}

/// On sled.
pub(super) struct SledGrants {
    pub(super) tree: intyg_service::backup::Tree,
}

#[async_trait]
impl GrantStore for SledGrants {
    async fn put(&self, key: &str, grant: &Grant) -> Result<(), StoreError> {
        self.tree.insert(key.as_bytes(), super::encode(grant)?)?;
        Ok(())
    }

    async fn take(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        super::decode(self.tree.remove(key.as_bytes())?)
    }

    async fn get(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        super::decode(self.tree.get(key.as_bytes())?)
    }

    async fn put_link(&self, key: &str, target: &str, expires_at: i64) -> Result<(), StoreError> {
        let link = Link {
            target: target.to_owned(),
            expires_at,
        };
        self.tree.insert(key.as_bytes(), super::encode(&link)?)?;
        Ok(())
    }

    async fn take_link(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(super::decode::<Link>(self.tree.remove(key.as_bytes())?)?.map(|link| link.target))
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        let mut purged = 0;
        for entry in self.tree.iter() {
            let (key, value) = entry?;
            // An entry without an expiry (a link of an earlier version,
            // which lived minutes) goes too.
            let expired = serde_json::from_slice::<Expiring>(&value)
                .map_or(true, |entry| entry.expires_at <= now);
            // Removed only as read: a grant put again meanwhile stays.
            if expired
                && self
                    .tree
                    .compare_and_swap(&key, Some(&value), None::<&[u8]>)?
                    .is_ok()
            {
                purged += 1;
            }
        }
        Ok(purged)
    }
}

/// On PostgreSQL (table `verifier_oidc_grants`).
#[derive(Debug, Clone)]
pub(super) struct PgGrants {
    pub(super) pg: Pg,
}

fn decode(row: &intyg_service::pg::Row) -> Result<Grant, StoreError> {
    let text: &str = row.try_get(0).map_err(PgError::from)?;
    Ok(serde_json::from_str(text)?)
}

#[async_trait]
impl GrantStore for PgGrants {
    async fn put(&self, key: &str, grant: &Grant) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_oidc_grants (key, expires_at, record) VALUES ($1, $2, $3)",
                &[&key, &grant.expires_at, &serde_json::to_string(grant)?],
            )
            .await?;
        Ok(())
    }

    async fn take(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        self.pg
            .query_opt(
                "DELETE FROM verifier_oidc_grants WHERE key = $1 RETURNING record",
                &[&key],
            )
            .await?
            .map(|row| decode(&row))
            .transpose()
    }

    async fn get(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        self.pg
            .query_opt(
                "SELECT record FROM verifier_oidc_grants WHERE key = $1",
                &[&key],
            )
            .await?
            .map(|row| decode(&row))
            .transpose()
    }

    async fn put_link(&self, key: &str, target: &str, expires_at: i64) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_oidc_grants (key, expires_at, record) VALUES ($1, $2, $3)",
                &[&key, &expires_at, &serde_json::to_string(target)?],
            )
            .await?;
        Ok(())
    }

    async fn take_link(&self, key: &str) -> Result<Option<String>, StoreError> {
        let Some(row) = self
            .pg
            .query_opt(
                "DELETE FROM verifier_oidc_grants WHERE key = $1 RETURNING record",
                &[&key],
            )
            .await?
        else {
            return Ok(None);
        };
        let text: &str = row.try_get(0).map_err(PgError::from)?;
        Ok(Some(serde_json::from_str(text)?))
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        let purged = self
            .pg
            .execute(
                "DELETE FROM verifier_oidc_grants WHERE expires_at <= $1",
                &[&now],
            )
            .await?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }
}
