//! Key attestations at the credential endpoint — OpenID4VCI 1.0
//! Appendix D, F.1 (`key_attestation` header of a `jwt` proof) and F.3
//! (the `attestation` proof type); HAIP 1.0 §4.5.
//!
//! The JWT is checked by `intyg_core::oid4vci::key_attestation`; this
//! module adds the wallet provider roots, the credential configuration's
//! `key_attestations_required`, the nonce and the status list. Every
//! refusal is `invalid_proof` naming the check.

use axum::http::StatusCode;
use intyg_core::jose::Jwk;
use intyg_core::oid4vci::KeyAttestationsRequired;
use intyg_core::oid4vci::credential::CredentialErrorCode;
use intyg_core::oid4vci::key_attestation::{
    KeyAttestationError, VerifiedKeyAttestation, verify_key_attestation,
};

use crate::AppState;
use crate::attestation_status::AttestationStatus;
use crate::error::ApiError;

/// Clock skew allowed, in seconds.
pub const LEEWAY: i64 = 60;

/// The `invalid_proof` refusal for `error`, naming the proof.
pub fn refusal(proof: &str, error: &KeyAttestationError) -> ApiError {
    ApiError::spec(
        StatusCode::BAD_REQUEST,
        &CredentialErrorCode::InvalidProof,
        format!("{proof}: {error}"),
    )
}

/// What a key attestation must satisfy for one proof.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The proof's key, which must be attested (the `jwt` proof type).
    pub key: Option<&'a Jwk>,
    /// The `c_nonce` the attestation's `nonce` must equal when it has one;
    /// `None`: the caller checks the `nonce` against its store.
    pub nonce: Option<&'a str>,
    /// Whether `nonce` must be present.
    pub nonce_required: bool,
    /// The configuration's demands; `None`: none beyond a valid attestation.
    pub required: Option<&'a KeyAttestationsRequired>,
}

/// Checks one key attestation; `proof` names it in errors (`proof #0`).
pub async fn check(
    state: &AppState,
    proof: &str,
    jwt: &str,
    expect: &Expectations<'_>,
) -> Result<VerifiedKeyAttestation, ApiError> {
    let refuse = |error: KeyAttestationError| refusal(proof, &error);
    let now = crate::now();
    let verified = verify_key_attestation(jwt, &state.wallet_providers.anchors(), now, LEEWAY)
        .map_err(refuse)?;
    if let Some(key) = expect.key {
        verified.covers(key).map_err(refuse)?;
    }
    match (verified.claims.nonce.as_deref(), expect.nonce) {
        (Some(found), Some(nonce)) if found == nonce => {}
        // The `attestation` proof type: the caller consumes it as a c_nonce.
        (Some(_), None) => {}
        (None, _) if !expect.nonce_required => {}
        _ => return Err(refuse(KeyAttestationError::WrongNonce)),
    }
    if let Some(required) = expect.required {
        verified.meets(required).map_err(refuse)?;
    }
    if let Some(status) = &verified.claims.status {
        match state
            .attestation_status
            .check(status, &state.wallet_providers.anchors(), now)
            .await
        {
            Ok(AttestationStatus::Valid) => {}
            Ok(AttestationStatus::NotValid(value)) => {
                return Err(refuse(KeyAttestationError::Revoked(format!("{value:?}"))));
            }
            Err(e) => {
                return Err(refuse(KeyAttestationError::StatusUnavailable(
                    e.to_string(),
                )));
            }
        }
    }
    Ok(verified)
}
