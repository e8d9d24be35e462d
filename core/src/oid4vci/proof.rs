//! The `jwt` key proof — OpenID4VCI 1.0 Appendix F.1, verified per
//! Appendix F.4.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-jwt-proof-type>
//!
//! The Wallet signs `{aud, iat, nonce[, iss]}` with the key the credential
//! is to be bound to and names that key in the header (`jwk`, or a
//! did:key / did:jwk URL in `kid`). The issuer checks type, algorithm,
//! key, signature, audience and age with [`verify_jwt_proof`]; it checks the
//! returned nonce against its own store, since only it knows which nonces
//! are live and unused.
//!
//! Our profile (HAIP 1.0) accepts `ES256` only. `x5c`-bound proofs are
//! refused with [`ProofError::X5cNotSupported`]: binding a credential to a
//! certificate needs chain validation, which the issuer does not do.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::has_private_key;
use super::id::CNonce;
use crate::did::DidError;
use crate::jose::{Algorithm, CompactJws, Header, JoseError, Jwk, SigningKey, sign_compact};

/// The `typ` of a key proof JWT.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// The claims of a key proof (Appendix F.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofClaims {
    /// `iss`: the `client_id`; absent with anonymous pre-authorized access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `aud`: the Credential Issuer Identifier.
    pub aud: String,
    /// `iat`: when the proof was made, seconds since the epoch.
    pub iat: i64,
    /// `nonce`: the `c_nonce` from the Nonce Endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Signs a key proof with `key`, whose public JWK goes in the header.
pub fn build_jwt_proof(
    key: &SigningKey,
    aud: &str,
    nonce: Option<&CNonce>,
    iat: i64,
    client_id: Option<&str>,
) -> Result<String, JoseError> {
    let mut header = Header::new(key.algorithm()).typ(PROOF_TYP);
    header.jwk = Some(key.public_jwk());
    let claims = ProofClaims {
        iss: client_id.map(str::to_owned),
        aud: aud.to_owned(),
        iat,
        nonce: nonce.map(|n| n.as_str().to_owned()),
    };
    let payload = serde_json::to_vec(&claims).map_err(|_| JoseError::Signing)?;
    sign_compact(&header, &payload, key)
}

/// What a verified proof tells the issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedProof {
    /// The key to bind the credential to (`cnf.jwk`).
    pub holder_key: Jwk,
    /// `kid`, when the key came from a DID URL.
    pub kid: Option<String>,
    /// `nonce`: the caller checks it is a live, unused `c_nonce`.
    pub nonce: Option<String>,
    /// `iat`.
    pub iat: i64,
    /// `iss`: the client, if not anonymous.
    pub client_id: Option<String>,
    /// The `key_attestation` header (Appendix F.1): a key attestation JWT
    /// for the caller to check with [`super::key_attestation`].
    pub key_attestation: Option<String>,
}

impl VerifiedProof {
    /// The nonce, which an issuer with a Nonce Endpoint requires
    /// (Appendix F.1).
    pub fn require_nonce(&self) -> Result<&str, ProofError> {
        self.nonce.as_deref().ok_or(ProofError::MissingNonce)
    }
}

/// Why a key proof was refused, one variant per check of Appendix F.4.
/// Every one maps to `invalid_proof` ([`ProofError::to_response`]).
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// Not a compact JWS (three base64url parts, a JSON header).
    #[error("the key proof is not a compact JWS: {0}")]
    Malformed(#[source] JoseError),
    /// `alg` is not ES256 (`none`, HMAC, RSA, EdDSA…).
    #[error("key proof alg `{0}` is not accepted: only ES256 is")]
    UnsupportedAlg(String),
    /// The header carries `crit`.
    #[error("the key proof header has an unknown critical parameter `{0}`")]
    UnknownCrit(String),
    /// `typ` is not `openid4vci-proof+jwt`.
    #[error("key proof typ must be `openid4vci-proof+jwt`, not {0:?}")]
    WrongTyp(Option<String>),
    /// None of `jwk`, `kid`, `x5c` is present.
    #[error("the key proof header names no key (jwk, kid or x5c)")]
    NoKey,
    /// More than one of `jwk`, `kid`, `x5c` is present.
    #[error("the key proof header must name its key once: jwk, kid and x5c are exclusive")]
    AmbiguousKey,
    /// The `jwk` header holds private key material.
    #[error("the key proof's jwk header contains a private key")]
    PrivateKeyInHeader,
    /// The key is in `x5c`, which this issuer does not accept.
    #[error("x5c-bound key proofs are not supported; send the key as jwk or a did:key/did:jwk kid")]
    X5cNotSupported,
    /// `kid` is not a did:key or did:jwk URL we can resolve.
    #[error("the key proof's kid cannot be resolved: {0}")]
    UnresolvableKid(#[source] DidError),
    /// The key is not a usable P-256 public key.
    #[error("the key proof's key is not usable: {0}")]
    UnusableKey(#[source] JoseError),
    /// The signature does not verify with the header's key.
    #[error("the key proof signature does not verify")]
    BadSignature,
    /// The payload is not a JSON object, or a claim has the wrong type.
    #[error("the key proof claims are malformed: {0}")]
    MalformedClaims(#[source] serde_json::Error),
    /// `aud` is absent.
    #[error("the key proof has no aud")]
    MissingAudience,
    /// `iat` is absent.
    #[error("the key proof has no iat")]
    MissingIssuedAt,
    /// `aud` is not this Credential Issuer.
    #[error("key proof aud is `{found}`, expected `{expected}`")]
    WrongAudience {
        /// This issuer's identifier.
        expected: String,
        /// The proof's `aud`.
        found: String,
    },
    /// `iat` is later than now plus leeway.
    #[error("the key proof was issued in the future (iat {iat}, now {now})")]
    IssuedInFuture {
        /// The proof's `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// `iat` is older than the allowed age plus leeway.
    #[error("the key proof is too old (iat {iat}, now {now}, max age {max_age} s)")]
    TooOld {
        /// The proof's `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
        /// The allowed age.
        max_age: i64,
    },
    /// The `key_attestation` header is not a string (a compact JWT).
    #[error("the key proof's key_attestation header is not a compact JWT string")]
    MalformedKeyAttestationHeader,
    /// The proof has no `nonce` but the issuer requires one.
    #[error("the key proof has no nonce; fetch a c_nonce from the nonce endpoint")]
    MissingNonce,
}

impl ProofError {
    /// The Credential Error Response for this failure (`invalid_proof`).
    pub fn to_response(&self) -> super::credential::CredentialErrorResponse {
        super::credential::CredentialErrorResponse::new(
            super::credential::CredentialErrorCode::InvalidProof,
            Some(&self.to_string()),
        )
    }
}

fn parse(jwt: &str) -> Result<CompactJws, ProofError> {
    CompactJws::parse(jwt).map_err(|error| match error {
        JoseError::UnsupportedAlg(alg) => ProofError::UnsupportedAlg(alg),
        JoseError::UnknownCrit(name) => ProofError::UnknownCrit(name),
        other => ProofError::Malformed(other),
    })
}

/// The holder key named by the header, and its `kid` if it came from a DID.
fn holder_key(header: &Header) -> Result<(Jwk, Option<String>), ProofError> {
    match (&header.jwk, &header.kid, &header.x5c) {
        (None, None, None) => Err(ProofError::NoKey),
        (Some(jwk), None, None) if has_private_key(jwk) => Err(ProofError::PrivateKeyInHeader),
        (Some(jwk), None, None) => Ok((jwk.clone(), None)),
        (None, Some(kid), None) => crate::did::resolve_key(kid)
            .map(|resolved| (resolved.jwk, Some(kid.clone())))
            .map_err(ProofError::UnresolvableKid),
        (None, None, Some(_)) => Err(ProofError::X5cNotSupported),
        _ => Err(ProofError::AmbiguousKey),
    }
}

fn take_string(claims: &mut Map<String, Value>, name: &str) -> Result<Option<String>, ProofError> {
    claims
        .remove(name)
        .filter(|value| !value.is_null())
        .map(serde_json::from_value)
        .transpose()
        .map_err(ProofError::MalformedClaims)
}

/// Verifies a `jwt` key proof for the issuer `expected_aud` at time `now`
/// (seconds since the epoch): `typ`, `alg`, the header key, signature,
/// `aud`, and that `iat` is neither in the future nor older than `max_age`
/// (both with `leeway` seconds of clock skew). The nonce is returned, not
/// checked: compare it with the issuer's nonce store (single use).
pub fn verify_jwt_proof(
    jwt: &str,
    expected_aud: &str,
    now: i64,
    max_age: i64,
    leeway: i64,
) -> Result<VerifiedProof, ProofError> {
    let jws = parse(jwt)?;
    if jws.header.alg != Algorithm::ES256 {
        return Err(ProofError::UnsupportedAlg(
            jws.header.alg.as_str().to_owned(),
        ));
    }
    if jws.header.typ.as_deref() != Some(PROOF_TYP) {
        return Err(ProofError::WrongTyp(jws.header.typ.clone()));
    }
    let (holder_key, kid) = holder_key(&jws.header)?;
    let key_attestation = match jws
        .header
        .extra
        .get(super::key_attestation::KEY_ATTESTATION_HEADER)
    {
        None => None,
        Some(Value::String(jwt)) => Some(jwt.clone()),
        Some(_) => return Err(ProofError::MalformedKeyAttestationHeader),
    };
    jws.verify(&holder_key).map_err(|error| match error {
        JoseError::InvalidSignature => ProofError::BadSignature,
        other => ProofError::UnusableKey(other),
    })?;
    let mut claims: Map<String, Value> = jws.payload_json().map_err(ProofError::MalformedClaims)?;
    let aud = take_string(&mut claims, "aud")?.ok_or(ProofError::MissingAudience)?;
    let iat = claims
        .remove("iat")
        .map(|value| super::json::u64(value).map_err(ProofError::MalformedClaims))
        .transpose()?
        .ok_or(ProofError::MissingIssuedAt)?;
    let iat = i64::try_from(iat).unwrap_or(i64::MAX);
    if aud != expected_aud {
        return Err(ProofError::WrongAudience {
            expected: expected_aud.to_owned(),
            found: aud,
        });
    }
    if iat > now.saturating_add(leeway) {
        return Err(ProofError::IssuedInFuture { iat, now });
    }
    if now.saturating_sub(iat) > max_age.saturating_add(leeway) {
        return Err(ProofError::TooOld { iat, now, max_age });
    }
    Ok(VerifiedProof {
        holder_key,
        kid,
        nonce: take_string(&mut claims, "nonce")?,
        iat,
        client_id: take_string(&mut claims, "iss")?,
        key_attestation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether an error is the expected one.
    type Check<E> = fn(&E) -> bool;
    use crate::jose::b64url_encode;

    const AUD: &str = "https://issuer.example";
    const NOW: i64 = 1_700_000_000;

    fn verify(jwt: &str) -> Result<VerifiedProof, ProofError> {
        verify_jwt_proof(jwt, AUD, NOW, 300, 30)
    }

    fn signed(header: &Header, claims: &Value, key: &SigningKey) -> String {
        sign_compact(header, claims.to_string().as_bytes(), key).unwrap()
    }

    fn proof_header(key: &SigningKey) -> Header {
        let mut header = Header::new(Algorithm::ES256).typ(PROOF_TYP);
        header.jwk = Some(key.public_jwk());
        header
    }

    #[test]
    fn built_proof_verifies() {
        let key = SigningKey::generate().unwrap();
        let nonce: CNonce = "n-1".parse().unwrap();
        let jwt = build_jwt_proof(&key, AUD, Some(&nonce), NOW - 10, Some("wallet")).unwrap();
        let verified = verify(&jwt).unwrap();
        assert_eq!(verified.holder_key, key.public_jwk());
        assert_eq!(verified.require_nonce().unwrap(), "n-1");
        assert_eq!(verified.iat, NOW - 10);
        assert_eq!(verified.client_id.as_deref(), Some("wallet"));
        assert_eq!(verified.kid, None);
        let anonymous = build_jwt_proof(&key, AUD, None, NOW, None).unwrap();
        let verified = verify(&anonymous).unwrap();
        assert!(matches!(
            verified.require_nonce(),
            Err(ProofError::MissingNonce)
        ));
        assert_eq!(verified.client_id, None);
    }

    #[test]
    fn key_attestation_header_is_returned_and_must_be_a_string() {
        let key = SigningKey::generate().unwrap();
        let claims = serde_json::json!({"aud": AUD, "iat": NOW, "nonce": "n"});
        let mut header = proof_header(&key);
        header
            .extra
            .insert("key_attestation".into(), "a.b.c".into());
        let verified = verify(&signed(&header, &claims, &key)).unwrap();
        assert_eq!(verified.key_attestation.as_deref(), Some("a.b.c"));
        header.extra.insert("key_attestation".into(), 5.into());
        assert!(matches!(
            verify(&signed(&header, &claims, &key)),
            Err(ProofError::MalformedKeyAttestationHeader)
        ));
        assert_eq!(
            verify(&signed(&proof_header(&key), &claims, &key))
                .unwrap()
                .key_attestation,
            None
        );
    }

    #[test]
    fn kid_as_did_jwk_is_resolved() {
        let key = SigningKey::generate().unwrap();
        let did = format!(
            "did:jwk:{}",
            b64url_encode(serde_json::to_vec(&key.public_jwk()).unwrap())
        );
        let kid = format!("{did}#0");
        let header = Header::new(Algorithm::ES256).typ(PROOF_TYP).kid(&kid);
        let jwt = signed(&header, &serde_json::json!({"aud": AUD, "iat": NOW}), &key);
        let verified = verify(&jwt).unwrap();
        assert_eq!(verified.kid.as_deref(), Some(kid.as_str()));
        let header = Header::new(Algorithm::ES256)
            .typ(PROOF_TYP)
            .kid("did:example:123#1");
        let jwt = signed(&header, &serde_json::json!({"aud": AUD, "iat": NOW}), &key);
        assert!(matches!(verify(&jwt), Err(ProofError::UnresolvableKid(_))));
    }

    #[test]
    fn every_check_has_its_error() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let good = serde_json::json!({"aud": AUD, "iat": NOW, "nonce": "n"});

        assert!(matches!(verify("a.b"), Err(ProofError::Malformed(_))));
        let none = format!(
            "{}.{}.",
            b64url_encode(r#"{"alg":"none"}"#),
            b64url_encode("{}")
        );
        assert!(matches!(verify(&none), Err(ProofError::UnsupportedAlg(a)) if a == "none"));
        let crit = format!(
            "{}.{}.AA",
            b64url_encode(r#"{"alg":"ES256","crit":["x"],"x":1}"#),
            b64url_encode("{}")
        );
        assert!(matches!(verify(&crit), Err(ProofError::UnknownCrit(c)) if c == "x"));
        let eddsa = format!(
            "{}.{}.AA",
            b64url_encode(r#"{"alg":"EdDSA"}"#),
            b64url_encode("{}")
        );
        assert!(matches!(verify(&eddsa), Err(ProofError::UnsupportedAlg(a)) if a == "EdDSA"));

        let mut header = proof_header(&key);
        header.typ = Some("JWT".into());
        assert!(matches!(
            verify(&signed(&header, &good, &key)),
            Err(ProofError::WrongTyp(Some(t))) if t == "JWT"
        ));

        let bare = Header::new(Algorithm::ES256).typ(PROOF_TYP);
        assert!(matches!(
            verify(&signed(&bare, &good, &key)),
            Err(ProofError::NoKey)
        ));

        let mut both = proof_header(&key);
        both.kid = Some("did:example:1".into());
        assert!(matches!(
            verify(&signed(&both, &good, &key)),
            Err(ProofError::AmbiguousKey)
        ));

        let mut private = proof_header(&key);
        private.jwk = Some(key.to_private_jwk().unwrap());
        assert!(matches!(
            verify(&signed(&private, &good, &key)),
            Err(ProofError::PrivateKeyInHeader)
        ));

        let mut x5c = Header::new(Algorithm::ES256).typ(PROOF_TYP);
        x5c.x5c = Some(vec!["MIIB".into()]);
        assert!(matches!(
            verify(&signed(&x5c, &good, &key)),
            Err(ProofError::X5cNotSupported)
        ));

        let mut okp = Header::new(Algorithm::ES256).typ(PROOF_TYP);
        okp.jwk = Some(
            serde_json::from_str(
                r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            )
            .unwrap(),
        );
        assert!(matches!(
            verify(&signed(&okp, &good, &key)),
            Err(ProofError::UnusableKey(_))
        ));

        assert!(matches!(
            verify(&signed(&proof_header(&other), &good, &key)),
            Err(ProofError::BadSignature)
        ));

        let header = proof_header(&key);
        let cases: Vec<(Value, Check<ProofError>)> = vec![
            (serde_json::json!([1]), |e| {
                matches!(e, ProofError::MalformedClaims(_))
            }),
            (serde_json::json!({"aud": 1, "iat": NOW}), |e| {
                matches!(e, ProofError::MalformedClaims(_))
            }),
            (serde_json::json!({"aud": AUD, "iat": "now"}), |e| {
                matches!(e, ProofError::MalformedClaims(_))
            }),
            (
                serde_json::json!({"aud": AUD, "iat": NOW, "nonce": 5}),
                |e| matches!(e, ProofError::MalformedClaims(_)),
            ),
            (serde_json::json!({"iat": NOW}), |e| {
                matches!(e, ProofError::MissingAudience)
            }),
            (serde_json::json!({"aud": AUD}), |e| {
                matches!(e, ProofError::MissingIssuedAt)
            }),
            (
                serde_json::json!({"aud": "https://evil.example", "iat": NOW}),
                |e| matches!(e, ProofError::WrongAudience { found, .. } if found == "https://evil.example"),
            ),
            (serde_json::json!({"aud": AUD, "iat": NOW + 31}), |e| {
                matches!(e, ProofError::IssuedInFuture { .. })
            }),
            (serde_json::json!({"aud": AUD, "iat": NOW - 331}), |e| {
                matches!(e, ProofError::TooOld { max_age: 300, .. })
            }),
        ];
        for (claims, expected) in cases {
            let error = verify(&signed(&header, &claims, &key)).unwrap_err();
            assert!(expected(&error), "{claims}: {error:?}");
            assert_eq!(
                error.to_response().error,
                crate::oid4vci::CredentialErrorCode::InvalidProof
            );
        }
        // Within leeway on both sides.
        assert!(
            verify(&signed(
                &header,
                &serde_json::json!({"aud": AUD, "iat": NOW + 30}),
                &key
            ))
            .is_ok()
        );
        assert!(
            verify(&signed(
                &header,
                &serde_json::json!({"aud": AUD, "iat": NOW - 330}),
                &key
            ))
            .is_ok()
        );
    }
}
