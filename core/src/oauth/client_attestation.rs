//! Wallet (client) attestation — OAuth 2.0 Attestation-Based Client
//! Authentication, draft-ietf-oauth-attestation-based-client-auth-07 (the
//! version HAIP 1.0 references), §4 (headers), §5.1 (Client Attestation
//! JWT), §5.2 (Client Attestation PoP JWT), with HAIP 1.0 §4.3's `x5c`
//! rules.
//!
//! <https://www.ietf.org/archive/id/draft-ietf-oauth-attestation-based-client-auth-07.html#section-5>
//!
//! A wallet provider signs a Client Attestation (`typ:
//! oauth-client-attestation+jwt`) naming the wallet instance's `client_id`
//! in `sub` and its key in `cnf.jwk`; the wallet sends it in the
//! `OAuth-Client-Attestation` header with a PoP (`typ:
//! oauth-client-attestation-pop+jwt`) signed by that key in
//! `OAuth-Client-Attestation-PoP`. [`verify`] checks both with no I/O; the
//! caller records the PoP's `jti` as used (single use needs a store) and,
//! when [`VerifiedClientAttestation::status`] is set, fetches the wallet
//! provider's status list.
//!
//! Later drafts (to -11) keep these claims; see `specs/PROFILE.md` for
//! what changed. PoPs are read leniently: `iss` (which -04 required and
//! some libraries still send) must equal `sub` when present, and a server
//! challenge may come as `challenge` (draft) or `nonce` (older clients).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jose::{Algorithm, CompactJws, Header, JoseError, Jwk, SigningKey, sign_compact};
use crate::status_list::StatusClaim;
use crate::trust::{CertificateChain, TrustAnchors, X509Error};

/// The header that carries the Client Attestation JWT (§4).
pub const ATTESTATION_HEADER: &str = "OAuth-Client-Attestation";
/// The header that carries the Client Attestation PoP JWT (§4).
pub const POP_HEADER: &str = "OAuth-Client-Attestation-PoP";
/// `typ` of the Client Attestation JWT (§5.1).
pub const ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
/// `typ` of the Client Attestation PoP JWT (§5.2).
pub const POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// The token endpoint authentication method (§13.4).
pub const AUTH_METHOD: &str = "attest_jwt_client_auth";

/// `cnf` with a public key (RFC 7800 §3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JwkConfirmation {
    /// `jwk`: the wallet instance's public key.
    pub jwk: Jwk,
}

/// The claims of a Client Attestation JWT (§5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientAttestationClaims {
    /// `iss`: the wallet provider (client attester).
    pub iss: String,
    /// `sub`: the `client_id` of the wallet instance.
    pub sub: String,
    /// `exp`: expiry, seconds since the epoch.
    pub exp: i64,
    /// `iat`: issuance time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// `nbf`: not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// `cnf`: the key that signs the PoP.
    pub cnf: JwkConfirmation,
    /// `status`: where the wallet provider publishes revocation (Token
    /// Status List), when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusClaim>,
    /// `wallet_name`, `wallet_link` and other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `aud`: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single string.
    One(String),
    /// An array.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `value` is (one of) the audience(s).
    pub fn contains(&self, value: &str) -> bool {
        match self {
            Self::One(one) => one == value,
            Self::Many(many) => many.iter().any(|a| a == value),
        }
    }
}

/// The claims of a Client Attestation PoP JWT (§5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientAttestationPopClaims {
    /// `aud`: the authorization server's issuer identifier.
    pub aud: Audience,
    /// `jti`: unique per PoP.
    pub jti: String,
    /// `iat`: when the PoP was made.
    pub iat: i64,
    /// `iss`: the `client_id`, sent by draft -04 and some libraries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `exp`: expiry, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// `challenge`: the server's challenge, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// `nonce`: the older name of `challenge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Signs a Client Attestation with the wallet provider's `key`, its chain
/// in `x5c` (leaf first, root left out).
pub fn create_attestation(
    key: &SigningKey,
    x5c: Vec<String>,
    claims: &ClientAttestationClaims,
) -> Result<String, JoseError> {
    let mut header = Header::new(Algorithm::ES256).typ(ATTESTATION_TYP);
    header.x5c = Some(x5c);
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Signing)?;
    sign_compact(&header, &payload, key)
}

/// Signs a PoP with the wallet instance's `key` (the one in `cnf.jwk`).
pub fn create_pop(
    key: &SigningKey,
    claims: &ClientAttestationPopClaims,
) -> Result<String, JoseError> {
    let header = Header::new(Algorithm::ES256).typ(POP_TYP);
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Signing)?;
    sign_compact(&header, &payload, key)
}

/// What the authorization server expects.
#[derive(Debug, Clone, Copy)]
pub struct AttestationExpectations<'a> {
    /// The wallet provider roots.
    pub anchors: &'a TrustAnchors,
    /// The `client_id` the request names, if it names one; `sub` must equal it.
    pub client_id: Option<&'a str>,
    /// This server's issuer identifier; the PoP's `aud`.
    pub issuer: &'a str,
    /// The server's clock, seconds since the epoch.
    pub now: i64,
    /// How old a PoP's `iat` may be, in seconds.
    pub pop_max_age: i64,
    /// Clock skew allowed, in seconds.
    pub leeway: i64,
    /// The challenge the server demands in the PoP, if any.
    pub challenge: Option<&'a str>,
}

/// A Client Attestation and PoP that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClientAttestation {
    /// The wallet instance's `client_id` (`sub`).
    pub client_id: String,
    /// The wallet provider (`iss`).
    pub provider: String,
    /// The wallet instance's key (`cnf.jwk`).
    pub instance_key: Jwk,
    /// The attestation's `status`, for the caller to check.
    pub status: Option<StatusClaim>,
    /// The PoP's `jti`, for the caller to record as used.
    pub pop_jti: String,
    /// Until when the PoP's `jti` must be remembered.
    pub pop_valid_until: i64,
}

/// Why a wallet attestation was refused; every variant maps to
/// `invalid_client` (§5.3, RFC 6749 §5.2) with the check named.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClientAttestationError {
    /// The `OAuth-Client-Attestation` header is missing.
    #[error("wallet attestation missing: no OAuth-Client-Attestation header")]
    MissingAttestation,
    /// The `OAuth-Client-Attestation-PoP` header is missing.
    #[error("wallet attestation PoP missing: no OAuth-Client-Attestation-PoP header")]
    MissingPop,
    /// The attestation is not a compact JWS with a usable header.
    #[error("wallet attestation malformed: {0}")]
    Malformed(#[source] JoseError),
    /// The attestation's `typ` is wrong.
    #[error("wallet attestation typ must be `oauth-client-attestation+jwt`, not {0:?}")]
    WrongTyp(Option<String>),
    /// The attestation is not ES256.
    #[error("wallet attestation alg `{0}` is not accepted: only ES256 is")]
    UnsupportedAlg(String),
    /// The attestation has no `x5c` (HAIP 1.0 §4.3.1).
    #[error("wallet attestation has no x5c header")]
    MissingX5c,
    /// The `x5c` chain does not validate to a trusted wallet provider.
    #[error("wallet attestation x5c: untrusted wallet provider: {0}")]
    Untrusted(#[source] X509Error),
    /// The attestation's signature does not verify with the leaf key.
    #[error("wallet attestation signature does not verify")]
    BadSignature,
    /// The claims are not a JSON object with `iss`, `sub`, `exp`, `cnf.jwk`.
    #[error("wallet attestation claims are malformed: {0}")]
    MalformedClaims(String),
    /// `cnf.jwk` holds a private key or is not a usable P-256 key.
    #[error("wallet attestation cnf.jwk is not a usable public key")]
    BadInstanceKey,
    /// The attestation has expired.
    #[error("wallet attestation expired (exp {exp}, now {now})")]
    Expired {
        /// `exp`.
        exp: i64,
        /// The server's clock.
        now: i64,
    },
    /// `iat` or `nbf` is in the future.
    #[error("wallet attestation is not yet valid (iat/nbf {at}, now {now})")]
    NotYetValid {
        /// `iat` or `nbf`.
        at: i64,
        /// The server's clock.
        now: i64,
    },
    /// `sub` is not the `client_id` of the request.
    #[error("wallet attestation sub `{sub}` is not the client_id `{client_id}`")]
    SubjectMismatch {
        /// The attestation's `sub`.
        sub: String,
        /// The request's `client_id`.
        client_id: String,
    },
    /// The PoP is not a compact JWS.
    #[error("wallet attestation PoP malformed: {0}")]
    PopMalformed(#[source] JoseError),
    /// The PoP's `typ` is wrong.
    #[error("wallet attestation PoP typ must be `oauth-client-attestation-pop+jwt`, not {0:?}")]
    PopWrongTyp(Option<String>),
    /// The PoP is not signed by `cnf.jwk`.
    #[error("wallet attestation PoP is not signed by the attested key (cnf.jwk)")]
    PopBadSignature,
    /// The PoP claims are not what §5.2 requires.
    #[error("wallet attestation PoP claims are malformed: {0}")]
    PopMalformedClaims(String),
    /// The PoP's `aud` is not this server.
    #[error("wallet attestation PoP aud does not name this issuer `{0}`")]
    PopWrongAudience(String),
    /// The PoP's `iss` is not the attestation's `sub`.
    #[error("wallet attestation PoP iss `{0}` is not the attestation's sub")]
    PopIssuerMismatch(String),
    /// The PoP's `iat` is in the future, or too old, or its `exp` passed.
    #[error("wallet attestation PoP is outside its time window (iat {iat}, now {now})")]
    PopStale {
        /// The PoP's `iat`.
        iat: i64,
        /// The server's clock.
        now: i64,
    },
    /// The PoP lacks the challenge the server demands, or has another.
    #[error("wallet attestation PoP does not carry the server's challenge")]
    PopWrongChallenge,
    /// The PoP's `jti` was used before.
    #[error("wallet attestation PoP jti was already used")]
    PopReplayed,
    /// The wallet provider revoked or suspended this attestation.
    #[error("wallet attestation status: the wallet provider has revoked it ({0})")]
    Revoked(String),
    /// The attestation's status list could not be fetched or verified.
    #[error("wallet attestation status could not be checked: {0}")]
    StatusUnavailable(String),
}

fn parse(jwt: &str) -> Result<CompactJws, ClientAttestationError> {
    CompactJws::parse(jwt).map_err(|error| match error {
        JoseError::UnsupportedAlg(alg) => ClientAttestationError::UnsupportedAlg(alg),
        other => ClientAttestationError::Malformed(other),
    })
}

/// Verifies a Client Attestation and its PoP (§5.1, §5.2, HAIP 1.0
/// §4.3.1): the attestation's `typ`, ES256, `x5c` to a wallet provider
/// root (leaf not self-signed, root not sent), signature, `exp`/`iat`/`nbf`,
/// `sub` = `client_id`; the PoP's `typ`, signature by `cnf.jwk`, `aud`,
/// `iss` if present, `iat` window, `exp` if present, challenge if demanded.
pub fn verify(
    attestation: &str,
    pop: &str,
    expect: &AttestationExpectations<'_>,
) -> Result<VerifiedClientAttestation, ClientAttestationError> {
    use ClientAttestationError as E;
    let jws = parse(attestation)?;
    if jws.header.typ.as_deref() != Some(ATTESTATION_TYP) {
        return Err(E::WrongTyp(jws.header.typ.clone()));
    }
    if jws.header.alg != Algorithm::ES256 {
        return Err(E::UnsupportedAlg(jws.header.alg.as_str().to_owned()));
    }
    let x5c = jws.header.x5c.as_deref().ok_or(E::MissingX5c)?;
    let leaf = CertificateChain::from_x5c(x5c)
        .and_then(|chain| chain.validate_haip(expect.anchors, expect.now))
        .map_err(E::Untrusted)?;
    jws.verify_with(&leaf.key).map_err(|_| E::BadSignature)?;
    let claims: ClientAttestationClaims =
        serde_json::from_slice(&jws.payload).map_err(|e| E::MalformedClaims(e.to_string()))?;
    let instance_key = claims.cnf.jwk.clone();
    if crate::oid4vci::has_private_key(&instance_key)
        || crate::jose::VerifyingKey::from_jwk(&instance_key).is_err()
    {
        return Err(E::BadInstanceKey);
    }
    if claims.exp <= expect.now.saturating_sub(expect.leeway) {
        return Err(E::Expired {
            exp: claims.exp,
            now: expect.now,
        });
    }
    for at in [claims.iat, claims.nbf].into_iter().flatten() {
        if at > expect.now.saturating_add(expect.leeway) {
            return Err(E::NotYetValid {
                at,
                now: expect.now,
            });
        }
    }
    if let Some(client_id) = expect.client_id
        && client_id != claims.sub
    {
        return Err(E::SubjectMismatch {
            sub: claims.sub,
            client_id: client_id.to_owned(),
        });
    }

    let pop_jws = CompactJws::parse(pop).map_err(E::PopMalformed)?;
    if pop_jws.header.typ.as_deref() != Some(POP_TYP) {
        return Err(E::PopWrongTyp(pop_jws.header.typ.clone()));
    }
    if pop_jws.header.alg != Algorithm::ES256 {
        return Err(E::PopMalformed(JoseError::UnsupportedAlg(
            pop_jws.header.alg.as_str().to_owned(),
        )));
    }
    pop_jws
        .verify(&instance_key)
        .map_err(|_| E::PopBadSignature)?;
    let pop_claims: ClientAttestationPopClaims = serde_json::from_slice(&pop_jws.payload)
        .map_err(|e| E::PopMalformedClaims(e.to_string()))?;
    if pop_claims.jti.is_empty() || pop_claims.jti.len() > crate::oauth::dpop::MAX_JTI_LEN {
        return Err(E::PopMalformedClaims(
            "jti must be 1 to 256 characters".into(),
        ));
    }
    if !pop_claims.aud.contains(expect.issuer) {
        return Err(E::PopWrongAudience(expect.issuer.to_owned()));
    }
    if let Some(iss) = &pop_claims.iss
        && *iss != claims.sub
    {
        return Err(E::PopIssuerMismatch(iss.clone()));
    }
    let stale = E::PopStale {
        iat: pop_claims.iat,
        now: expect.now,
    };
    if pop_claims.iat > expect.now.saturating_add(expect.leeway)
        || expect.now.saturating_sub(pop_claims.iat)
            > expect.pop_max_age.saturating_add(expect.leeway)
        || pop_claims
            .exp
            .is_some_and(|exp| exp <= expect.now.saturating_sub(expect.leeway))
    {
        return Err(stale);
    }
    if let Some(challenge) = expect.challenge {
        let given = pop_claims
            .challenge
            .as_deref()
            .or(pop_claims.nonce.as_deref());
        if given != Some(challenge) {
            return Err(E::PopWrongChallenge);
        }
    }
    Ok(VerifiedClientAttestation {
        client_id: claims.sub,
        provider: claims.iss,
        instance_key,
        status: claims.status,
        pop_jti: pop_claims.jti,
        pop_valid_until: pop_claims
            .iat
            .saturating_add(expect.pop_max_age)
            .saturating_add(expect.leeway.saturating_mul(2)),
    })
}
