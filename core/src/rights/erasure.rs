//! Erasure on request (GDPR Art. 17; the EUDI "data deletion request") —
//! an **Intyg extension**.
//!
//! The Wallet POSTs `{"erasure_request": "<JWT>"}` to the receipt's
//! `erasure_endpoint`. The request JWT ([`ErasureRequest`]): header `alg:
//! ES256`, `typ: intyg-erasure-request+jwt` and `jwk`, the holder key
//! (`cnf.jwk`) of a credential presented in that transaction, whose KB-JWT
//! it signed; claims `aud` (the Verifier's `client_id`), `txn`, `iat`
//! (fresh: within [`MAX_AGE_SECONDS`]) and `jti` (single use).
//!
//! The Verifier answers HTTP 200 `{"erasure_answer": "<JWT>"}`
//! ([`ErasureAnswer`], `typ: intyg-erasure-answer+jwt`, signed like the
//! receipt with `x5c`): `status` `erased` with `erased_at`, or `refused`
//! with the `legal_basis` that obliges it to keep the data. A request it
//! cannot accept gets HTTP 400 `{"error": "invalid_erasure_request",
//! "error_description": ...}` (401 for a key that is not the holder's).

use serde::{Deserialize, Serialize};

use super::CLOCK_SKEW_SECONDS;
use crate::jose::{
    Algorithm, CompactJws, Header, JoseError, Jwk, Signer, SigningKey, VerifyingKey, sign_compact,
    thumbprint,
};

/// The `typ` of an erasure request.
pub const ERASURE_REQUEST_TYP: &str = "intyg-erasure-request+jwt";
/// The `typ` of an erasure answer.
pub const ERASURE_ANSWER_TYP: &str = "intyg-erasure-answer+jwt";
/// How old (by `iat`) an erasure request may be, in seconds.
pub const MAX_AGE_SECONDS: i64 = 300;

/// The claims of an erasure request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequest {
    /// The Verifier's `client_id` (the receipt's `iss`).
    pub aud: String,
    /// The transaction whose personal data is to be erased (the
    /// receipt's `txn`).
    pub txn: String,
    /// When it was made (Unix seconds).
    pub iat: i64,
    /// A fresh random id; the Verifier accepts each once.
    pub jti: String,
}

/// An erasure request whose signature, audience and freshness were
/// checked. Whether `holder_key` belongs to the transaction and whether
/// `jti` is new is the Verifier's to check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedErasureRequest {
    /// The claims.
    pub request: ErasureRequest,
    /// RFC 7638 thumbprint of the key that signed it.
    pub holder_key: String,
}

/// Why an erasure request or answer was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ErasureError {
    /// The JWS is malformed or its signature does not verify.
    #[error("signature: {0}")]
    Jose(#[from] JoseError),
    /// The `typ` is not the message's.
    #[error("typ is `{found}`, not {expected}")]
    WrongTyp {
        /// The `typ` expected.
        expected: &'static str,
        /// What the header says.
        found: String,
    },
    /// The request has no `jwk` header.
    #[error("the erasure request has no jwk header")]
    MissingKey,
    /// The claims are not the message's.
    #[error("claims: {0}")]
    Malformed(String),
    /// `aud` (request) or `iss` (answer) is not this Verifier.
    #[error("addressed to `{found}`, not `{expected}`")]
    WrongVerifier {
        /// The client identifier expected.
        expected: String,
        /// What the message says.
        found: String,
    },
    /// The answer is about another transaction.
    #[error("the answer is about transaction `{0}`, not the one asked")]
    WrongTransaction(String),
    /// `iat` is older than [`MAX_AGE_SECONDS`] or in the future.
    #[error("the erasure request is not fresh (iat {iat}, now {now})")]
    Stale {
        /// `iat`.
        iat: i64,
        /// Now.
        now: i64,
    },
    /// An `erased` answer without `erased_at`, or a `refused` one without
    /// `legal_basis`.
    #[error("the answer's status lacks its detail")]
    Incomplete,
}

impl ErasureError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Jose(_) => "invalid_signature",
            Self::WrongTyp { .. } => "wrong_typ",
            Self::MissingKey => "missing_key",
            Self::Malformed(_) => "malformed",
            Self::WrongVerifier { .. } => "wrong_verifier",
            Self::WrongTransaction(_) => "wrong_transaction",
            Self::Stale { .. } => "stale",
            Self::Incomplete => "incomplete",
        }
    }
}

fn check_typ(jws: &CompactJws, expected: &'static str) -> Result<(), ErasureError> {
    match jws.header.typ.as_deref() {
        Some(typ) if typ == expected => Ok(()),
        other => Err(ErasureError::WrongTyp {
            expected,
            found: other.unwrap_or("").to_owned(),
        }),
    }
}

impl ErasureRequest {
    /// Signs the request with the holder key, its public JWK in the
    /// header.
    pub fn sign(&self, holder_key: &SigningKey) -> Result<String, JoseError> {
        let mut header = Header::new(Algorithm::ES256).typ(ERASURE_REQUEST_TYP);
        header.jwk = Some(holder_key.public_jwk());
        let payload = serde_json::to_vec(self).map_err(|_| JoseError::Signing)?;
        sign_compact(&header, &payload, holder_key)
    }

    /// Verifies a request JWT: `typ`, the signature with its `jwk`
    /// header, `aud` one of `audiences` (the Verifier's client
    /// identifiers; the caller then matches it to the transaction's),
    /// `iat` within [`MAX_AGE_SECONDS`].
    pub fn verify(
        jwt: &str,
        audiences: &[&str],
        now: i64,
    ) -> Result<VerifiedErasureRequest, ErasureError> {
        let jws = CompactJws::parse(jwt)?;
        check_typ(&jws, ERASURE_REQUEST_TYP)?;
        let jwk: &Jwk = jws.header.jwk.as_ref().ok_or(ErasureError::MissingKey)?;
        jws.verify_with(&VerifyingKey::from_jwk(jwk)?)?;
        let holder_key = thumbprint(jwk)?;
        let request: Self = jws
            .payload_json()
            .map_err(|e| ErasureError::Malformed(e.to_string()))?;
        if !audiences.contains(&request.aud.as_str()) {
            return Err(ErasureError::WrongVerifier {
                expected: audiences.join(" or "),
                found: request.aud,
            });
        }
        if request.iat > now + CLOCK_SKEW_SECONDS
            || request.iat < now - MAX_AGE_SECONDS - CLOCK_SKEW_SECONDS
        {
            return Err(ErasureError::Stale {
                iat: request.iat,
                now,
            });
        }
        if request.jti.is_empty() || request.jti.len() > 256 {
            return Err(ErasureError::Malformed("jti".into()));
        }
        Ok(VerifiedErasureRequest {
            request,
            holder_key,
        })
    }
}

/// The body of a POST to the erasure endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequestBody {
    /// The signed [`ErasureRequest`].
    pub erasure_request: String,
}

/// The erasure endpoint's HTTP 200 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureAnswerBody {
    /// The signed [`ErasureAnswer`].
    pub erasure_answer: String,
}

/// The wire `error` of a refused erasure request.
pub const ERASURE_ERROR_CODE: &str = "invalid_erasure_request";

/// Why a Verifier refuses an erasure request (HTTP 400, or 401 for
/// [`Refusal::NotHolderKey`]; `error` [`ERASURE_ERROR_CODE`], `reason`
/// [`Refusal::code`]). A legal basis to keep the data is no refusal of
/// the request: it is a signed [`ErasureStatus::Refused`] answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// The body is not `{"erasure_request": ...}`.
    #[error("the body is not an erasure request object")]
    MalformedBody,
    /// The request JWT failed a check.
    #[error("erasure request: {0}")]
    Request(#[from] ErasureError),
    /// No transaction with that id received a presentation here.
    #[error("no presentation was received in that transaction")]
    UnknownTransaction,
    /// The request is signed by a key that is not a holder key of the
    /// transaction's presentations.
    #[error("the erasure request is not signed by the holder key of that presentation")]
    NotHolderKey,
    /// The request's `jti` was already used.
    #[error("the erasure request was already used (jti replayed)")]
    Replay,
}

impl Refusal {
    /// A stable code (the error object's `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedBody => "malformed_body",
            Self::Request(e) => e.code(),
            Self::UnknownTransaction => "unknown_transaction",
            Self::NotHolderKey => "not_holder_key",
            Self::Replay => "replay",
        }
    }
}

/// What the Verifier did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// The transaction's personal data is erased.
    Erased,
    /// A legal basis obliges the Verifier to keep it.
    Refused,
}

impl ErasureStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erased => "erased",
            Self::Refused => "refused",
        }
    }
}

/// The claims of an erasure answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureAnswer {
    /// The Verifier's `client_id`.
    pub iss: String,
    /// The transaction.
    pub txn: String,
    /// When this answer was made (Unix seconds).
    pub iat: i64,
    /// `erased` or `refused`.
    pub status: ErasureStatus,
    /// When the personal data was erased (the first erasure's time, for
    /// every later request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<i64>,
    /// Why the data is kept (`refused`), in the Verifier's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// The `jti` of the request answered.
    pub request_jti: String,
}

impl ErasureAnswer {
    /// Signs the answer with the Verifier's access certificate key and
    /// chain.
    pub fn sign(
        &self,
        key: &(impl Signer + ?Sized),
        x5c: Vec<String>,
    ) -> Result<String, JoseError> {
        let mut header = Header::new(Algorithm::ES256).typ(ERASURE_ANSWER_TYP);
        header.x5c = Some(x5c);
        let payload = serde_json::to_vec(self).map_err(|_| JoseError::Signing)?;
        sign_compact(&header, &payload, key)
    }

    /// Verifies an answer JWT with the Verifier's key, for `client_id`'s
    /// transaction `txn`.
    pub fn verify(
        jwt: &str,
        key: &VerifyingKey,
        client_id: &str,
        txn: &str,
    ) -> Result<Self, ErasureError> {
        let jws = CompactJws::parse(jwt)?;
        check_typ(&jws, ERASURE_ANSWER_TYP)?;
        jws.verify_with(key)?;
        let answer: Self = jws
            .payload_json()
            .map_err(|e| ErasureError::Malformed(e.to_string()))?;
        if answer.iss != client_id {
            return Err(ErasureError::WrongVerifier {
                expected: client_id.to_owned(),
                found: answer.iss,
            });
        }
        if answer.txn != txn {
            return Err(ErasureError::WrongTransaction(answer.txn));
        }
        match answer.status {
            ErasureStatus::Erased if answer.erased_at.is_none() => Err(ErasureError::Incomplete),
            ErasureStatus::Refused if answer.legal_basis.is_none() => Err(ErasureError::Incomplete),
            _ => Ok(answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(iat: i64) -> ErasureRequest {
        ErasureRequest {
            aud: "x509_hash:abc".into(),
            txn: "t1".into(),
            iat,
            jti: "j1".into(),
        }
    }

    #[test]
    fn a_fresh_request_verifies_and_names_its_key() {
        let holder = SigningKey::generate().unwrap();
        let jwt = request(1000).sign(&holder).unwrap();
        let verified = ErasureRequest::verify(&jwt, &["x509_hash:abc"], 1100).unwrap();
        assert_eq!(verified.request, request(1000));
        assert_eq!(
            verified.holder_key,
            thumbprint(&holder.public_jwk()).unwrap()
        );
    }

    #[test]
    fn a_stale_or_misaddressed_request_is_refused() {
        let holder = SigningKey::generate().unwrap();
        let jwt = request(1000).sign(&holder).unwrap();
        assert!(matches!(
            ErasureRequest::verify(&jwt, &["x509_hash:abc"], 1000 + MAX_AGE_SECONDS + 61),
            Err(ErasureError::Stale { .. })
        ));
        assert!(matches!(
            ErasureRequest::verify(&jwt, &["x509_hash:abc"], 1000 - 61),
            Err(ErasureError::Stale { .. })
        ));
        assert!(matches!(
            ErasureRequest::verify(&jwt, &["x509_hash:other"], 1000),
            Err(ErasureError::WrongVerifier { .. })
        ));
    }

    #[test]
    fn a_request_whose_jwk_did_not_sign_it_is_refused() {
        let holder = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let jwt = request(1000).sign(&holder).unwrap();
        let (_, rest) = jwt.split_once('.').unwrap();
        let mut header = Header::new(Algorithm::ES256).typ(ERASURE_REQUEST_TYP);
        header.jwk = Some(other.public_jwk());
        let forged = format!(
            "{}.{rest}",
            crate::jose::b64url_encode(serde_json::to_vec(&header).unwrap())
        );
        assert_eq!(
            ErasureRequest::verify(&forged, &["x509_hash:abc"], 1000),
            Err(ErasureError::Jose(JoseError::InvalidSignature))
        );
    }

    #[test]
    fn a_request_of_another_typ_or_without_its_key_is_refused() {
        let holder = SigningKey::generate().unwrap();
        let payload = serde_json::to_vec(&request(1000)).unwrap();
        let mut header = Header::new(Algorithm::ES256).typ("JWT");
        header.jwk = Some(holder.public_jwk());
        let jwt = sign_compact(&header, &payload, &holder).unwrap();
        assert!(matches!(
            ErasureRequest::verify(&jwt, &["x509_hash:abc"], 1000),
            Err(ErasureError::WrongTyp { .. })
        ));
        let header = Header::new(Algorithm::ES256).typ(ERASURE_REQUEST_TYP);
        let jwt = sign_compact(&header, &payload, &holder).unwrap();
        assert_eq!(
            ErasureRequest::verify(&jwt, &["x509_hash:abc"], 1000),
            Err(ErasureError::MissingKey)
        );
    }

    #[test]
    fn an_answer_verifies_and_must_be_complete() {
        let verifier = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&verifier.public_jwk()).unwrap();
        let mut answer = ErasureAnswer {
            iss: "x509_hash:abc".into(),
            txn: "t1".into(),
            iat: 5,
            status: ErasureStatus::Refused,
            erased_at: None,
            legal_basis: Some("employment contract".into()),
            request_jti: "j1".into(),
        };
        let jwt = answer.sign(&verifier, vec![]).unwrap();
        assert_eq!(
            ErasureAnswer::verify(&jwt, &public, "x509_hash:abc", "t1").unwrap(),
            answer
        );
        assert_eq!(
            ErasureAnswer::verify(&jwt, &public, "x509_hash:abc", "t2"),
            Err(ErasureError::WrongTransaction("t1".into()))
        );
        answer.status = ErasureStatus::Erased;
        let jwt = answer.sign(&verifier, vec![]).unwrap();
        assert_eq!(
            ErasureAnswer::verify(&jwt, &public, "x509_hash:abc", "t1"),
            Err(ErasureError::Incomplete)
        );
    }
}
