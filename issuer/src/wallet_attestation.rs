//! Wallet attestation at PAR and the token endpoint —
//! draft-ietf-oauth-attestation-based-client-auth-07 §4, §5.3 (client
//! authentication `attest_jwt_client_auth`), HAIP 1.0 §4.3.
//!
//! The headers are checked by `intyg_core::oauth::client_attestation`;
//! this module brings the wallet provider roots, the clock, the PoP `jti`
//! replay store (prefix `wapop:`) and the attestation's status list.
//! Every refusal is `invalid_client` (401) with a description naming the
//! check that failed. Without configured roots, an attestation that was
//! not required is not evaluated (a `basic` issuer serves every wallet).

use axum::http::{HeaderMap, StatusCode};
use intyg_core::oauth::client_attestation::{
    self, ATTESTATION_HEADER, AttestationExpectations, ClientAttestationError, POP_HEADER,
    VerifiedClientAttestation,
};

use crate::AppState;
use crate::attestation_status::AttestationStatus;
use crate::error::ApiError;

/// How old a PoP's `iat` may be, in seconds.
pub const POP_MAX_AGE: i64 = 300;
/// Clock skew allowed, in seconds.
pub const LEEWAY: i64 = 60;

/// The `invalid_client` refusal for `error`.
pub fn refusal(error: &ClientAttestationError) -> ApiError {
    ApiError::client(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        error.to_string(),
    )
}

fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::client(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!("wallet attestation: more than one {name} header"),
        ));
    }
    first.to_str().map(Some).map_err(|_| {
        ApiError::client(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!("wallet attestation: the {name} header is not ASCII"),
        )
    })
}

/// Checks the request's wallet attestation, if any, for `client_id` (the
/// one the request names, if it names one). `None` when there is none and
/// `required` is false.
pub async fn check(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
    required: bool,
) -> Result<Option<VerifiedClientAttestation>, ApiError> {
    let attestation = single(headers, ATTESTATION_HEADER)?;
    let pop = single(headers, POP_HEADER)?;
    let (attestation, pop) = match (attestation, pop) {
        (None, None) if required => {
            return Err(refusal(&ClientAttestationError::MissingAttestation));
        }
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(refusal(&ClientAttestationError::MissingAttestation)),
        (Some(_), None) => return Err(refusal(&ClientAttestationError::MissingPop)),
        (Some(attestation), Some(pop)) => (attestation, pop),
    };
    if !required && state.wallet_providers.is_empty() {
        tracing::debug!("wallet attestation sent but no wallet provider root is configured");
        return Ok(None);
    }
    let now = crate::now();
    let verified = client_attestation::verify(
        attestation,
        pop,
        &AttestationExpectations {
            anchors: &state.wallet_providers.anchors(),
            client_id,
            issuer: &state.config.public_url,
            now,
            pop_max_age: POP_MAX_AGE,
            leeway: LEEWAY,
            challenge: None,
        },
    )
    .map_err(|e| refusal(&e))?;
    let key = format!("wapop:{}:{}", verified.client_id, verified.pop_jti);
    if !state
        .stores
        .replay
        .insert_if_absent(&key, verified.pop_valid_until, now)
        .await?
    {
        return Err(refusal(&ClientAttestationError::PopReplayed));
    }
    if let Some(status) = &verified.status {
        match state
            .attestation_status
            .check(status, &state.wallet_providers.anchors(), now)
            .await
        {
            Ok(AttestationStatus::Valid) => {}
            Ok(AttestationStatus::NotValid(value)) => {
                return Err(refusal(&ClientAttestationError::Revoked(format!(
                    "{value:?}"
                ))));
            }
            Err(e) => {
                return Err(refusal(&ClientAttestationError::StatusUnavailable(
                    e.to_string(),
                )));
            }
        }
    }
    Ok(Some(verified))
}
