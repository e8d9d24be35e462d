//! Presentation receipt — an **Intyg extension** to OpenID4VP 1.0 §8.2.
//!
//! When a Verifier accepts a response it answers the Response URI POST
//! with `{"intyg_receipt": "<JWT>"}` (beside `redirect_uri`, if any). The
//! OpenID4VP 1.0 §8.2 answer is a JSON object whose unrecognised members a
//! Wallet ignores, so other wallets are unaffected. The JWT:
//!
//! - header: `alg: ES256`, `typ: intyg-receipt+jwt`, `x5c` (the access
//!   certificate chain that signed the Request Object);
//! - claims: see [`Receipt`]: the Verifier (`iss` = its `client_id`), its
//!   transaction (`txn`), the request `nonce`, the `purpose`, when it was
//!   received (`iat`), the claim paths received per credential (names,
//!   never values), `vp_token_hash` ([`vp_token_hash`]), the retention
//!   period and the date of deletion, and the erasure endpoint.
//!
//! A Wallet checks it with the key of the certificate it authenticated
//! the request with, and against what it sent ([`Receipt::verify`]).

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::CLOCK_SKEW_SECONDS;
use crate::jose::{
    Algorithm, CompactJws, Header, JoseError, Signer, VerifyingKey, b64url_encode, sign_compact,
};
use crate::oid4vp::{Presentation, VpToken};

/// The `typ` of a presentation receipt.
pub const RECEIPT_TYP: &str = "intyg-receipt+jwt";
/// The member of the Response URI's JSON answer that carries it.
pub const RECEIPT_MEMBER: &str = "intyg_receipt";

/// What one credential disclosed, as the Verifier received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedCredential {
    /// The DCQL Credential Query id.
    pub query_id: String,
    /// The credential type (`vct`).
    pub vct: String,
    /// JSON pointers (RFC 6901) of the selectively disclosed claims
    /// received, e.g. `/given_name`.
    pub claims: Vec<String>,
}

/// The claims of a presentation receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The Verifier's `client_id` (with its prefix).
    pub iss: String,
    /// The Verifier's name, as it states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier_name: Option<String>,
    /// The Verifier's transaction id: what an erasure request names.
    pub txn: String,
    /// The `nonce` of the request the Wallet answered.
    pub nonce: String,
    /// The stated purpose.
    pub purpose: String,
    /// When the response was accepted (Unix seconds).
    pub iat: i64,
    /// What was received: claim paths, never values.
    pub received: Vec<ReceivedCredential>,
    /// [`vp_token_hash`] of the VP Token received.
    pub vp_token_hash: String,
    /// How long the Verifier keeps the verified claims, in seconds.
    pub retention_seconds: i64,
    /// When they will be deleted (Unix seconds): `iat + retention_seconds`.
    pub retention_until: i64,
    /// Where an erasure request for `txn` goes (HTTPS URL).
    pub erasure_endpoint: String,
}

/// Why a receipt was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    /// The JWS is malformed or its signature does not verify with the
    /// Verifier's key.
    #[error("receipt signature: {0}")]
    Jose(#[from] JoseError),
    /// `typ` is not `intyg-receipt+jwt`.
    #[error("receipt typ is `{0}`, not intyg-receipt+jwt")]
    WrongTyp(String),
    /// The claims are not a receipt.
    #[error("receipt claims: {0}")]
    Malformed(String),
    /// `iss` is not the `client_id` of the request answered.
    #[error("receipt iss `{found}` is not the verifier `{expected}`")]
    WrongIssuer {
        /// The client identifier expected.
        expected: String,
        /// What the receipt says.
        found: String,
    },
    /// `nonce` is not the answered request's.
    #[error("receipt nonce is not the request's")]
    WrongNonce,
    /// `vp_token_hash` is not the hash of what was sent.
    #[error("receipt vp_token_hash does not match the VP Token sent")]
    WrongHash,
    /// `received` names a claim the Wallet did not send.
    #[error("receipt lists claim {0} that was not sent")]
    UnsentClaim(String),
    /// `iat` is in the future, or `retention_until` is not `iat +
    /// retention_seconds`.
    #[error("receipt times are inconsistent")]
    Times,
}

/// What the Wallet checks a receipt against.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptExpectations<'a> {
    /// The `client_id` of the request answered.
    pub client_id: &'a str,
    /// Its `nonce`.
    pub nonce: &'a str,
    /// [`vp_token_hash`] of the VP Token sent.
    pub vp_token_hash: &'a str,
    /// The pointers sent, per Credential Query id.
    pub sent: &'a [(String, Vec<String>)],
    /// Now, Unix seconds.
    pub now: i64,
}

impl Receipt {
    /// Signs the receipt with the Verifier's access certificate key and
    /// chain.
    pub fn sign(
        &self,
        key: &(impl Signer + ?Sized),
        x5c: Vec<String>,
    ) -> Result<String, JoseError> {
        let mut header = Header::new(Algorithm::ES256).typ(RECEIPT_TYP);
        header.x5c = Some(x5c);
        let payload = serde_json::to_vec(self).map_err(|_| JoseError::Signing)?;
        sign_compact(&header, &payload, key)
    }

    /// Verifies a receipt JWT with `key` (the leaf of the certificate the
    /// request was authenticated with) and checks it against what the
    /// Wallet sent.
    pub fn verify(
        jwt: &str,
        key: &VerifyingKey,
        expected: &ReceiptExpectations<'_>,
    ) -> Result<Self, ReceiptError> {
        let jws = CompactJws::parse(jwt)?;
        match jws.header.typ.as_deref() {
            Some(RECEIPT_TYP) => {}
            other => return Err(ReceiptError::WrongTyp(other.unwrap_or("").to_owned())),
        }
        jws.verify_with(key)?;
        let receipt: Self = jws
            .payload_json()
            .map_err(|e| ReceiptError::Malformed(e.to_string()))?;
        if receipt.iss != expected.client_id {
            return Err(ReceiptError::WrongIssuer {
                expected: expected.client_id.to_owned(),
                found: receipt.iss,
            });
        }
        if receipt.nonce != expected.nonce {
            return Err(ReceiptError::WrongNonce);
        }
        if receipt.vp_token_hash != expected.vp_token_hash {
            return Err(ReceiptError::WrongHash);
        }
        for credential in &receipt.received {
            let sent = expected
                .sent
                .iter()
                .find(|(id, _)| *id == credential.query_id);
            for claim in &credential.claims {
                if !sent.is_some_and(|(_, claims)| claims.contains(claim)) {
                    return Err(ReceiptError::UnsentClaim(format!(
                        "{}{claim}",
                        credential.query_id
                    )));
                }
            }
        }
        if receipt.iat > expected.now + CLOCK_SKEW_SECONDS
            || receipt.retention_seconds < 0
            || receipt.iat.checked_add(receipt.retention_seconds) != Some(receipt.retention_until)
        {
            return Err(ReceiptError::Times);
        }
        Ok(receipt)
    }
}

/// The `vp_token_hash` of a VP Token: base64url (no padding) of SHA-256
/// over, for each Credential Query id in byte order and each of its
/// Presentations in order, `id LF presentation LF` (UTF-8; a JSON
/// Presentation as its compact JSON text).
pub fn vp_token_hash(vp_token: &VpToken) -> String {
    let mut hasher = sha2::Sha256::new();
    for (id, presentations) in &vp_token.0 {
        for presentation in presentations {
            hasher.update(id.as_bytes());
            hasher.update(b"\n");
            match presentation {
                Presentation::Compact(text) => hasher.update(text.as_bytes()),
                Presentation::Object(object) => {
                    hasher.update(serde_json::Value::Object(object.clone()).to_string())
                }
            }
            hasher.update(b"\n");
        }
    }
    b64url_encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    fn receipt() -> Receipt {
        Receipt {
            iss: "x509_hash:abc".into(),
            verifier_name: Some("Employer".into()),
            txn: "t1".into(),
            nonce: "n1".into(),
            purpose: "Internship".into(),
            iat: 1000,
            received: vec![ReceivedCredential {
                query_id: "registration".into(),
                vct: "https://intyg.se/credentials/registration-certificate/v1".into(),
                claims: vec!["/registration_status".into()],
            }],
            vp_token_hash: "h".into(),
            retention_seconds: 100,
            retention_until: 1100,
            erasure_endpoint: "https://verifier.example/erasure".into(),
        }
    }

    fn sent() -> Vec<(String, Vec<String>)> {
        vec![(
            "registration".into(),
            vec!["/registration_status".into(), "/registered_since".into()],
        )]
    }

    fn expectations(sent: &[(String, Vec<String>)]) -> ReceiptExpectations<'_> {
        ReceiptExpectations {
            client_id: "x509_hash:abc",
            nonce: "n1",
            vp_token_hash: "h",
            sent,
            now: 1000,
        }
    }

    #[test]
    fn a_signed_receipt_verifies_against_what_was_sent() {
        let key = SigningKey::generate().unwrap();
        let jwt = receipt().sign(&key, vec!["AA==".into()]).unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let sent = sent();
        assert_eq!(
            Receipt::verify(&jwt, &public, &expectations(&sent)).unwrap(),
            receipt()
        );
    }

    #[test]
    fn a_tampered_receipt_is_refused() {
        let key = SigningKey::generate().unwrap();
        let jwt = receipt().sign(&key, vec![]).unwrap();
        let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let mut changed = receipt();
        changed.retention_seconds = 10_000_000;
        changed.retention_until = changed.iat + changed.retention_seconds;
        parts[1] = b64url_encode(serde_json::to_vec(&changed).unwrap());
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let sent = sent();
        assert!(matches!(
            Receipt::verify(&parts.join("."), &public, &expectations(&sent)),
            Err(ReceiptError::Jose(JoseError::InvalidSignature))
        ));
    }

    #[test]
    fn a_receipt_signed_by_another_key_is_refused() {
        let jwt = receipt()
            .sign(&SigningKey::generate().unwrap(), vec![])
            .unwrap();
        let other = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&other.public_jwk()).unwrap();
        let sent = sent();
        assert!(matches!(
            Receipt::verify(&jwt, &public, &expectations(&sent)),
            Err(ReceiptError::Jose(JoseError::InvalidSignature))
        ));
    }

    #[test]
    fn a_receipt_for_another_request_or_token_is_refused() {
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let sent = sent();
        let mut other = receipt();
        other.nonce = "n2".into();
        let jwt = other.sign(&key, vec![]).unwrap();
        assert_eq!(
            Receipt::verify(&jwt, &public, &expectations(&sent)),
            Err(ReceiptError::WrongNonce)
        );
        let mut other = receipt();
        other.vp_token_hash = "g".into();
        let jwt = other.sign(&key, vec![]).unwrap();
        assert_eq!(
            Receipt::verify(&jwt, &public, &expectations(&sent)),
            Err(ReceiptError::WrongHash)
        );
        let mut other = receipt();
        other.iss = "x509_hash:other".into();
        let jwt = other.sign(&key, vec![]).unwrap();
        assert!(matches!(
            Receipt::verify(&jwt, &public, &expectations(&sent)),
            Err(ReceiptError::WrongIssuer { .. })
        ));
        let mut other = receipt();
        other.received[0].claims.push("/birthdate".into());
        let jwt = other.sign(&key, vec![]).unwrap();
        assert_eq!(
            Receipt::verify(&jwt, &public, &expectations(&sent)),
            Err(ReceiptError::UnsentClaim("registration/birthdate".into()))
        );
        let mut other = receipt();
        other.retention_until += 1;
        let jwt = other.sign(&key, vec![]).unwrap();
        assert_eq!(
            Receipt::verify(&jwt, &public, &expectations(&sent)),
            Err(ReceiptError::Times)
        );
    }

    #[test]
    fn the_vp_token_hash_covers_ids_and_presentations() {
        let token = |id: &str, p: &str| {
            VpToken(
                [(id.to_owned(), vec![Presentation::Compact(p.to_owned())])]
                    .into_iter()
                    .collect(),
            )
        };
        assert_eq!(
            vp_token_hash(&token("a", "x~")),
            vp_token_hash(&token("a", "x~"))
        );
        assert_ne!(
            vp_token_hash(&token("a", "x~")),
            vp_token_hash(&token("b", "x~"))
        );
        assert_ne!(
            vp_token_hash(&token("a", "x~")),
            vp_token_hash(&token("a", "y~"))
        );
    }
}
