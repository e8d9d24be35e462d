//! DPoP as a client — RFC 9449 §5 (token requests, PAR §10.1), §7
//! (protected resources), §8 and §9 (server nonces), with HAIP 1.0's ES256.
//!
//! <https://www.rfc-editor.org/rfc/rfc9449.html>
//!
//! One DPoP key per issuance flow: a fresh P-256 key when the flow starts
//! (an offer accepted, an authorization begun), used for the PAR, the
//! token request and every credential request of that flow, then dropped.
//! A key per flow rather than per wallet: two issuers (or two issuances at
//! one) cannot link the wallet by its DPoP key, and there is nothing to
//! store; an access token lives no longer than its flow anyway. Across the
//! browser login of the authorization code flow the key travels, like the
//! PKCE verifier, inside the `PendingAuthorization`.
//!
//! The wallet uses DPoP whenever the authorization server's metadata lists
//! ES256 in `dpop_signing_alg_values_supported`. Proofs are made by
//! `intyg_core::oauth::dpop::create_proof`: `htm`, `htu`, `iat`, a fresh
//! `jti`, the newest server nonce, and `ath` when an access token is
//! presented. Nonces are kept per role, as §8 (authorization server) and
//! §9 (resource server: the credential endpoint) hand them out: the newest
//! `DPoP-Nonce` of each, from error and success answers alike. A
//! `use_dpop_nonce` answer (400 from the authorization server, 401 with a
//! `WWW-Authenticate: DPoP error="use_dpop_nonce"` challenge from the
//! credential endpoint) that carries a new nonce is retried once with it.

use std::sync::Mutex;

use intyg_core::jose::{JoseError, SigningKey};
use intyg_core::oauth::dpop::{DPOP_ALG, DpopError, ProofRequest, create_proof};
use intyg_core::oid4vci::AuthorizationServerMetadata;
use serde::{Deserialize, Serialize};

use crate::http::Reply;

/// The request header that carries a proof (§4.1).
pub(crate) const DPOP_HEADER: &str = "dpop";

/// Which server a nonce belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The authorization server: PAR and token endpoints (§8).
    AuthorizationServer,
    /// The credential issuer's credential endpoint, a protected resource
    /// (§9).
    Resource,
}

/// The DPoP key and the newest server nonces of one issuance flow.
pub(crate) struct DpopSession {
    key: SigningKey,
    nonces: Mutex<Nonces>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Nonces {
    authorization_server: Option<String>,
    resource: Option<String>,
}

impl Nonces {
    fn slot(&mut self, role: Role) -> &mut Option<String> {
        match role {
            Role::AuthorizationServer => &mut self.authorization_server,
            Role::Resource => &mut self.resource,
        }
    }
}

impl std::fmt::Debug for DpopSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopSession").finish_non_exhaustive()
    }
}

/// Whether the authorization server takes DPoP proofs we can make.
pub(crate) fn advertised(server: &AuthorizationServerMetadata) -> bool {
    server
        .dpop_signing_alg_values_supported
        .as_ref()
        .is_some_and(|algs| algs.iter().any(|alg| alg == DPOP_ALG.as_str()))
}

impl DpopSession {
    /// A new flow's session with a fresh key, when `server` advertises
    /// DPoP with ES256; `None` otherwise.
    pub(crate) fn for_server(
        server: &AuthorizationServerMetadata,
    ) -> Result<Option<Self>, JoseError> {
        if !advertised(server) {
            return Ok(None);
        }
        Ok(Some(Self {
            key: SigningKey::generate()?,
            nonces: Mutex::new(Nonces::default()),
        }))
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, Nonces> {
        // A panic while holding this lock leaves plain strings behind,
        // which stay usable.
        self.nonces.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A proof for `POST uri`, with the role's newest nonce and `ath` of
    /// `access_token`.
    pub(crate) fn proof(
        &self,
        role: Role,
        uri: &str,
        access_token: Option<&str>,
    ) -> Result<String, DpopError> {
        let nonce = self.nonces().slot(role).clone();
        create_proof(
            &self.key,
            &ProofRequest {
                method: "POST",
                uri,
                iat: crate::now(),
                nonce: nonce.as_deref(),
                access_token,
            },
        )
    }

    /// The RFC 7638 thumbprint of the key, for `dpop_jkt` (§10).
    pub(crate) fn thumbprint(&self) -> Result<String, JoseError> {
        intyg_core::oauth::dpop::jwk_thumbprint(&self.key.public_jwk())
    }

    /// Keeps the answer's `DPoP-Nonce`, if any, as the role's newest.
    /// Returns whether it differs from the one the proof carried, i.e.
    /// whether a retry can succeed.
    pub(crate) fn remember(&self, role: Role, reply: &Reply) -> bool {
        let Some(fresh) = reply.dpop_nonce.as_deref().map(str::trim) else {
            return false;
        };
        if fresh.is_empty() {
            return false;
        }
        let mut nonces = self.nonces();
        let slot = nonces.slot(role);
        let changed = slot.as_deref() != Some(fresh);
        *slot = Some(fresh.to_owned());
        changed
    }

    /// The private key as a JWK and the nonces, to carry the session
    /// across the browser login.
    fn to_stored(&self) -> Result<StoredSession, JoseError> {
        Ok(StoredSession {
            key: self.key.to_private_jwk()?,
            nonces: self.nonces().clone(),
        })
    }
}

/// Whether an error answer asks for a DPoP nonce: `use_dpop_nonce` in the
/// body (§8) or in a `WWW-Authenticate: DPoP` challenge (§9).
pub(crate) fn asks_for_nonce(reply: &Reply, error: Option<&str>) -> bool {
    error == Some("use_dpop_nonce")
        || reply
            .www_authenticate
            .as_deref()
            .is_some_and(|challenge| challenge.contains("use_dpop_nonce"))
}

/// A session as stored in a `PendingAuthorization`.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    key: intyg_core::jose::Jwk,
    nonces: Nonces,
}

/// Serde for `Option<Arc<DpopSession>>` through its private JWK.
pub(crate) mod stored {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{DpopSession, Mutex, StoredSession};

    pub(crate) fn serialize<S: Serializer>(
        session: &Option<Arc<DpopSession>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        session
            .as_deref()
            .map(DpopSession::to_stored)
            .transpose()
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Arc<DpopSession>>, D::Error> {
        Option::<StoredSession>::deserialize(deserializer)?
            .map(|stored| {
                Ok(Arc::new(DpopSession {
                    key: intyg_core::jose::SigningKey::from_jwk(&stored.key)
                        .map_err(serde::de::Error::custom)?,
                    nonces: Mutex::new(stored.nonces),
                }))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use intyg_core::jose::{CompactJws, VerifyingKey};

    fn reply(nonce: Option<&str>, challenge: Option<&str>) -> Reply {
        Reply {
            status: 400,
            content_type: None,
            dpop_nonce: nonce.map(str::to_owned),
            www_authenticate: challenge.map(str::to_owned),
            body: Vec::new(),
        }
    }

    fn server(algs: Option<&[&str]>) -> AuthorizationServerMetadata {
        let mut json = serde_json::json!({"issuer": "https://as.example"});
        if let Some(algs) = algs {
            json["dpop_signing_alg_values_supported"] = serde_json::json!(algs);
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn dpop_only_when_es256_is_advertised() {
        assert!(DpopSession::for_server(&server(None)).unwrap().is_none());
        assert!(
            DpopSession::for_server(&server(Some(&["EdDSA"])))
                .unwrap()
                .is_none()
        );
        assert!(
            DpopSession::for_server(&server(Some(&["RS256", "ES256"])))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn nonces_are_kept_per_role_and_carried_in_proofs() {
        let session = DpopSession::for_server(&server(Some(&["ES256"])))
            .unwrap()
            .unwrap();
        let claims = |proof: &str| {
            let jws = CompactJws::parse(proof).unwrap();
            let key = VerifyingKey::from_jwk(jws.header.jwk.as_ref().unwrap()).unwrap();
            jws.verify_with(&key).unwrap();
            jws.payload_json::<serde_json::Value>().unwrap()
        };
        let first = claims(
            &session
                .proof(Role::AuthorizationServer, "https://as.example/token", None)
                .unwrap(),
        );
        assert_eq!(first["htm"], "POST");
        assert_eq!(first["htu"], "https://as.example/token");
        assert!(first.get("nonce").is_none());
        assert!(session.remember(Role::AuthorizationServer, &reply(Some("n-1"), None)));
        // The same nonce again is no reason to retry.
        assert!(!session.remember(Role::AuthorizationServer, &reply(Some("n-1"), None)));
        assert!(!session.remember(Role::AuthorizationServer, &reply(None, None)));
        let second = claims(
            &session
                .proof(Role::AuthorizationServer, "https://as.example/token", None)
                .unwrap(),
        );
        assert_eq!(second["nonce"], "n-1");
        assert_ne!(first["jti"], second["jti"]);
        // The resource server's nonce is its own; `ath` hashes the token.
        let resource = claims(
            &session
                .proof(Role::Resource, "https://as.example/credential", Some("tok"))
                .unwrap(),
        );
        assert!(resource.get("nonce").is_none());
        assert_eq!(
            resource["ath"],
            intyg_core::oauth::dpop::access_token_hash("tok")
        );
        // The newest nonce wins.
        assert!(session.remember(Role::AuthorizationServer, &reply(Some("n-2"), None)));
        let third = claims(
            &session
                .proof(Role::AuthorizationServer, "https://as.example/par", None)
                .unwrap(),
        );
        assert_eq!(third["nonce"], "n-2");
    }

    #[test]
    fn nonce_demands_are_read_from_body_or_challenge() {
        assert!(asks_for_nonce(&reply(None, None), Some("use_dpop_nonce")));
        assert!(asks_for_nonce(
            &reply(
                None,
                Some(r#"DPoP error="use_dpop_nonce", error_description="x""#)
            ),
            None
        ));
        assert!(!asks_for_nonce(
            &reply(None, Some("DPoP error=\"invalid_token\"")),
            Some("invalid_grant")
        ));
    }

    #[test]
    fn a_session_survives_serialization() {
        #[derive(Serialize, Deserialize)]
        struct Carrier {
            #[serde(with = "stored")]
            session: Option<std::sync::Arc<DpopSession>>,
        }
        let session = DpopSession::for_server(&server(Some(&["ES256"])))
            .unwrap()
            .unwrap();
        session.remember(Role::Resource, &reply(Some("rs-1"), None));
        let jwk = session.key.public_jwk();
        let json = serde_json::to_string(&Carrier {
            session: Some(std::sync::Arc::new(session)),
        })
        .unwrap();
        let back: Carrier = serde_json::from_str(&json).unwrap();
        let back = back.session.unwrap();
        assert_eq!(back.key.public_jwk(), jwk);
        assert_eq!(back.nonces().resource.as_deref(), Some("rs-1"));
        let none: Carrier = serde_json::from_str(r#"{"session":null}"#).unwrap();
        assert!(none.session.is_none());
    }
}
