//! Key attestations — OpenID4VCI 1.0 Appendix D (the JWT), used in the
//! `key_attestation` header of a `jwt` proof (Appendix F.1) and as the
//! `attestation` proof type (Appendix F.3); HAIP 1.0 §4.5.1 requires `x5c`.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-key-attestation-in-jwt-form>
//!
//! A wallet provider (its WSCD attester) signs `attested_keys` with the
//! attack potential resistance of their storage (`key_storage`) and of the
//! user authentication guarding them (`user_authentication`), ISO 18045
//! values such as `iso_18045_high`. [`verify_key_attestation`] checks the
//! JWT (no I/O); [`VerifiedKeyAttestation::covers`] and
//! [`VerifiedKeyAttestation::meets`] check it against a proof key and a
//! credential configuration's `key_attestations_required`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::metadata::KeyAttestationsRequired;
use crate::jose::{
    Algorithm, CompactJws, Header, JoseError, Jwk, SigningKey, sign_compact, thumbprint,
};
use crate::status_list::StatusClaim;
use crate::trust::{CertificateChain, TrustAnchors, X509Error};

/// `typ` of a key attestation (Appendix D.1).
pub const KEY_ATTESTATION_TYP: &str = "key-attestation+jwt";
/// The `typ` of OpenID4VCI drafts before 1.0 (Draft 15), which wallets
/// built on them still send (`@openid4vc/openid4vci` 0.4.6); read, never
/// written.
pub const LEGACY_KEY_ATTESTATION_TYP: &str = "keyattestation+jwt";
/// The name of the JOSE header that carries a key attestation in a `jwt`
/// proof (Appendix F.1).
pub const KEY_ATTESTATION_HEADER: &str = "key_attestation";

/// The claims of a key attestation (Appendix D.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyAttestationClaims {
    /// `iss`: the attester, when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `iat`: when it was made. Required.
    pub iat: i64,
    /// `exp`: expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// `attested_keys`: the public keys attested. Required, non-empty.
    pub attested_keys: Vec<Jwk>,
    /// `key_storage`: attack potential resistance of the key storage (D.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<Vec<String>>,
    /// `user_authentication`: attack potential resistance of the user
    /// authentication (D.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_authentication: Option<Vec<String>>,
    /// `certification`: a link to the WSCD's certification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<String>,
    /// `nonce`: the issuer's `c_nonce`, when the attestation was made for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `status`: revocation of the attestation (Token Status List).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusClaim>,
    /// Other claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Signs a key attestation with the wallet provider's `key`, its chain in
/// `x5c`.
pub fn create_key_attestation(
    key: &SigningKey,
    x5c: Vec<String>,
    claims: &KeyAttestationClaims,
) -> Result<String, JoseError> {
    let mut header = Header::new(Algorithm::ES256).typ(KEY_ATTESTATION_TYP);
    header.x5c = Some(x5c);
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Signing)?;
    sign_compact(&header, &payload, key)
}

/// Why a key attestation was refused. Each maps to `invalid_proof`, the
/// message naming the check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyAttestationError {
    /// The configuration requires a key attestation and the proof has none.
    #[error(
        "key attestation missing: this credential configuration requires one (key_attestation header or attestation proof)"
    )]
    Missing,
    /// Not a compact JWS with a usable header.
    #[error("key attestation malformed: {0}")]
    Malformed(#[source] JoseError),
    /// `typ` is not `key-attestation+jwt`.
    #[error("key attestation typ must be `key-attestation+jwt`, not {0:?}")]
    WrongTyp(Option<String>),
    /// Not ES256.
    #[error("key attestation alg `{0}` is not accepted: only ES256 is")]
    UnsupportedAlg(String),
    /// No `x5c` header (HAIP 1.0 §4.5.1).
    #[error("key attestation has no x5c header")]
    MissingX5c,
    /// The chain does not validate to a trusted wallet provider.
    #[error("key attestation x5c: untrusted wallet provider: {0}")]
    Untrusted(#[source] X509Error),
    /// The signature does not verify with the leaf key.
    #[error("key attestation signature does not verify")]
    BadSignature,
    /// Claims malformed, or `attested_keys` empty.
    #[error("key attestation claims are malformed: {0}")]
    MalformedClaims(String),
    /// `exp` has passed.
    #[error("key attestation expired (exp {exp}, now {now})")]
    Expired {
        /// `exp`.
        exp: i64,
        /// The issuer's clock.
        now: i64,
    },
    /// `iat` is in the future.
    #[error("key attestation iat {iat} is in the future (now {now})")]
    IssuedInFuture {
        /// `iat`.
        iat: i64,
        /// The issuer's clock.
        now: i64,
    },
    /// The proof's key is not among `attested_keys`.
    #[error("key attestation attested_keys does not contain the proof key")]
    KeyNotAttested,
    /// `key_storage` lacks every value the configuration accepts.
    #[error("key attestation key_storage {found:?} meets none of the required {required:?}")]
    KeyStorage {
        /// What the attestation says.
        found: Vec<String>,
        /// What the configuration accepts.
        required: Vec<String>,
    },
    /// `user_authentication` lacks every value the configuration accepts.
    #[error(
        "key attestation user_authentication {found:?} meets none of the required {required:?}"
    )]
    UserAuthentication {
        /// What the attestation says.
        found: Vec<String>,
        /// What the configuration accepts.
        required: Vec<String>,
    },
    /// `nonce` is not the proof's `c_nonce`, or is missing where required
    /// (the `attestation` proof type).
    #[error("key attestation nonce is missing or not the c_nonce")]
    WrongNonce,
    /// The wallet provider revoked the attestation.
    #[error("key attestation status: the wallet provider has revoked it ({0})")]
    Revoked(String),
    /// The attestation's status list could not be fetched or verified.
    #[error("key attestation status could not be checked: {0}")]
    StatusUnavailable(String),
}

/// A key attestation that passed [`verify_key_attestation`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedKeyAttestation {
    /// Its claims.
    pub claims: KeyAttestationClaims,
    thumbprints: Vec<String>,
}

impl VerifiedKeyAttestation {
    /// Whether `key` is one of `attested_keys` (by RFC 7638 thumbprint).
    pub fn covers(&self, key: &Jwk) -> Result<(), KeyAttestationError> {
        let wanted = thumbprint(key).map_err(|_| KeyAttestationError::KeyNotAttested)?;
        if self.thumbprints.contains(&wanted) {
            Ok(())
        } else {
            Err(KeyAttestationError::KeyNotAttested)
        }
    }

    /// Whether `key_storage` and `user_authentication` each hold at least
    /// one value the configuration accepts (§12.2.4, Appendix D.2).
    pub fn meets(&self, required: &KeyAttestationsRequired) -> Result<(), KeyAttestationError> {
        let fits = |found: &Option<Vec<String>>, required: &Option<Vec<String>>| match required {
            Some(required) if !required.is_empty() => {
                let found = found.clone().unwrap_or_default();
                if found.iter().any(|value| required.contains(value)) {
                    Ok(())
                } else {
                    Err((found, required.clone()))
                }
            }
            _ => Ok(()),
        };
        fits(&self.claims.key_storage, &required.key_storage)
            .map_err(|(found, required)| KeyAttestationError::KeyStorage { found, required })?;
        fits(
            &self.claims.user_authentication,
            &required.user_authentication,
        )
        .map_err(|(found, required)| KeyAttestationError::UserAuthentication { found, required })
    }

    /// The attested keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.claims.attested_keys
    }
}

/// Verifies a key attestation: `typ`, ES256, `x5c` to a wallet provider
/// root (leaf not self-signed, root not sent), signature, `iat`, `exp`,
/// `attested_keys` non-empty public keys. `nonce` and `status` are the
/// caller's (they need the nonce store and the network).
pub fn verify_key_attestation(
    jwt: &str,
    anchors: &TrustAnchors,
    now: i64,
    leeway: i64,
) -> Result<VerifiedKeyAttestation, KeyAttestationError> {
    use KeyAttestationError as E;
    let jws = CompactJws::parse(jwt).map_err(|error| match error {
        JoseError::UnsupportedAlg(alg) => E::UnsupportedAlg(alg),
        other => E::Malformed(other),
    })?;
    if !matches!(
        jws.header.typ.as_deref(),
        Some(KEY_ATTESTATION_TYP | LEGACY_KEY_ATTESTATION_TYP)
    ) {
        return Err(E::WrongTyp(jws.header.typ.clone()));
    }
    if jws.header.alg != Algorithm::ES256 {
        return Err(E::UnsupportedAlg(jws.header.alg.as_str().to_owned()));
    }
    let x5c = jws.header.x5c.as_deref().ok_or(E::MissingX5c)?;
    let leaf = CertificateChain::from_x5c(x5c)
        .and_then(|chain| chain.validate_haip(anchors, now))
        .map_err(E::Untrusted)?;
    jws.verify_with(&leaf.key).map_err(|_| E::BadSignature)?;
    let claims: KeyAttestationClaims =
        serde_json::from_slice(&jws.payload).map_err(|e| E::MalformedClaims(e.to_string()))?;
    if claims.attested_keys.is_empty() {
        return Err(E::MalformedClaims("attested_keys is empty".into()));
    }
    let thumbprints = claims
        .attested_keys
        .iter()
        .map(|key| {
            if super::has_private_key(key) {
                return Err(E::MalformedClaims(
                    "attested_keys holds a private key".into(),
                ));
            }
            thumbprint(key).map_err(|e| E::MalformedClaims(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(exp) = claims.exp
        && exp <= now.saturating_sub(leeway)
    {
        return Err(E::Expired { exp, now });
    }
    if claims.iat > now.saturating_add(leeway) {
        return Err(E::IssuedInFuture {
            iat: claims.iat,
            now,
        });
    }
    Ok(VerifiedKeyAttestation {
        claims,
        thumbprints,
    })
}
