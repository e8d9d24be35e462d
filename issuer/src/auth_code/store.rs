//! What the authorization code flow stores between its redirects, and the
//! [`AuthorizationStore`] trait with its sled implementation.
//!
//! Every record is keyed by the SHA-256 (hex) of its secret (`request_uri`,
//! the provider `state`, the authorization code), so the secrets themselves
//! never rest on disk, and every record is taken (removed) when used: that
//! makes each single-use, atomically.

use async_trait::async_trait;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::store::StoreError;

/// A validated Authorization Request from a wallet (OpenID4VCI §5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletRequest {
    /// `client_id` (public client, unregistered).
    pub client_id: String,
    /// `redirect_uri`, checked against the redirect rules.
    pub redirect_uri: String,
    /// The wallet's `state`, echoed back on the redirect.
    pub state: Option<String>,
    /// PKCE S256 `code_challenge`.
    pub code_challenge: String,
    /// The one credential configuration asked for.
    pub credential_configuration_id: String,
    /// `issuer_state` from a Credential Offer, if any.
    pub issuer_state: Option<String>,
    /// `login_hint`, passed on to the identity provider.
    pub login_hint: Option<String>,
    /// Whether the request named the credential in `authorization_details`
    /// (then the Token Response must carry `credential_identifiers`,
    /// OpenID4VCI 1.0 §6.2) rather than in `scope`.
    #[serde(default)]
    pub authorization_details: bool,
    /// The DPoP key the code is bound to (RFC 9449 §10): the PAR's proof
    /// key, or the `dpop_jkt` parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

/// A pushed Authorization Request (RFC 9126), waiting for `/authorize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushedRequest {
    /// The request.
    pub request: WalletRequest,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
}

/// A login in progress at the identity provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The wallet's request that started it.
    pub request: WalletRequest,
    /// The OpenID Connect `nonce` sent to the provider.
    pub nonce: String,
    /// Our PKCE `code_verifier` towards the provider.
    pub code_verifier: String,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
}

/// An authorization code handed to a wallet, bound to its client, redirect
/// URI, PKCE challenge and the credential record the person may fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedCode {
    /// `client_id` of the Authorization Request.
    pub client_id: String,
    /// `redirect_uri` of the Authorization Request.
    pub redirect_uri: String,
    /// PKCE S256 `code_challenge`.
    pub code_challenge: String,
    /// The credential record the code grants.
    pub credential_id: String,
    /// Its credential configuration.
    pub credential_configuration_id: String,
    /// Whether the Authorization Request used `authorization_details`.
    #[serde(default)]
    pub authorization_details: bool,
    /// The DPoP key the token request must prove (RFC 9449 §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
}

/// Pushed requests, logins in progress and authorization codes. Each is
/// stored under the hash of its secret and can be taken once.
#[async_trait]
pub trait AuthorizationStore: Send + Sync {
    /// Stores a pushed request under the hash of its `request_uri`.
    async fn put_pushed(&self, key: &str, pushed: &PushedRequest) -> Result<(), StoreError>;
    /// Removes and returns a pushed request.
    async fn take_pushed(&self, key: &str) -> Result<Option<PushedRequest>, StoreError>;
    /// Stores a login under the hash of the provider `state`.
    async fn put_login(&self, key: &str, login: &PendingLogin) -> Result<(), StoreError>;
    /// Removes and returns a login.
    async fn take_login(&self, key: &str) -> Result<Option<PendingLogin>, StoreError>;
    /// Stores an authorization code under its hash.
    async fn put_code(&self, key: &str, code: &IssuedCode) -> Result<(), StoreError>;
    /// Removes and returns an authorization code.
    async fn take_code(&self, key: &str) -> Result<Option<IssuedCode>, StoreError>;
}

use intyg_service::backup::Tree;

fn key(kind: &str, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(kind.len() + 1 + key.len());
    out.extend_from_slice(kind.as_bytes());
    out.push(0);
    out.extend_from_slice(key.as_bytes());
    out
}

fn put(tree: &Tree, kind: &str, k: &str, value: &impl Serialize) -> Result<(), StoreError> {
    tree.insert(key(kind, k), serde_json::to_vec(value)?)?;
    Ok(())
}

fn take<T: DeserializeOwned>(tree: &Tree, kind: &str, k: &str) -> Result<Option<T>, StoreError> {
    tree.remove(key(kind, k))?
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(StoreError::from)
}

/// The sled implementation: one tree (`authorizations`), a kind prefix per
/// record type.
#[async_trait]
impl AuthorizationStore for Tree {
    async fn put_pushed(&self, k: &str, pushed: &PushedRequest) -> Result<(), StoreError> {
        put(self, "par", k, pushed)
    }

    async fn take_pushed(&self, k: &str) -> Result<Option<PushedRequest>, StoreError> {
        take(self, "par", k)
    }

    async fn put_login(&self, k: &str, login: &PendingLogin) -> Result<(), StoreError> {
        put(self, "login", k, login)
    }

    async fn take_login(&self, k: &str) -> Result<Option<PendingLogin>, StoreError> {
        take(self, "login", k)
    }

    async fn put_code(&self, k: &str, code: &IssuedCode) -> Result<(), StoreError> {
        put(self, "code", k, code)
    }

    async fn take_code(&self, k: &str) -> Result<Option<IssuedCode>, StoreError> {
        take(self, "code", k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_are_taken_once_and_kinds_do_not_mix() {
        let db =
            intyg_service::backup::Db::new(sled::Config::new().temporary(true).open().unwrap());
        let tree = db.open_tree("authorizations").unwrap();
        let store: &dyn AuthorizationStore = &tree;
        let code = IssuedCode {
            client_id: "w".into(),
            redirect_uri: "https://w.example/cb".into(),
            code_challenge: "c".into(),
            credential_id: "r".into(),
            credential_configuration_id: "t".into(),
            authorization_details: true,
            dpop_jkt: Some("jkt".into()),
            expires_at: 1,
        };
        store.put_code("k", &code).await.unwrap();
        assert!(store.take_login("k").await.unwrap().is_none());
        assert!(store.take_pushed("k").await.unwrap().is_none());
        assert_eq!(store.take_code("k").await.unwrap(), Some(code));
        assert_eq!(store.take_code("k").await.unwrap(), None);
    }
}
