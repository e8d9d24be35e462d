//! The OpenID Provider bridge's grants: authorization codes (single-use:
//! taken by one `remove` on sled, one `DELETE .. RETURNING` on PostgreSQL)
//! and access tokens for `/userinfo`, keyed by the SHA-256 of the value
//! (never the value itself); and links from a used code to the access
//! token issued for it, so that a second use of the code revokes the token
//! (RFC 6749 §4.1.2).

use async_trait::async_trait;
use intyg_service::pg::{Pg, PgError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    /// The verified, disclosed claims.
    pub claims: Map<String, Value>,
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

    async fn put_link(&self, key: &str, target: &str, _expires_at: i64) -> Result<(), StoreError> {
        self.tree.insert(key.as_bytes(), super::encode(&target)?)?;
        Ok(())
    }

    async fn take_link(&self, key: &str) -> Result<Option<String>, StoreError> {
        super::decode(self.tree.remove(key.as_bytes())?)
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
}
