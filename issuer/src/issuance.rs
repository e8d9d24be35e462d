//! The OpenID4VCI 1.0 endpoints: credential offers by reference (§4.1.3),
//! metadata (§12.2, RFC 8414), `POST /token` (§6), `POST /nonce` (§7) and
//! `POST /credential` (§8). Protocol messages are the types of
//! `intyg_core::oid4vci`; this module checks them against the store.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intyg_core::oid4vci::credential::{
    CredentialErrorCode, CredentialRequest, CredentialResponse, IssuedCredential, Proofs,
};
use intyg_core::oid4vci::id::{AccessToken, CredentialConfigurationId, PreAuthorizedCode};
use intyg_core::oid4vci::metadata::{
    AuthorizationServerMetadata, BatchCredentialIssuance, ClaimDescription, ClaimDisplay,
    CredentialConfiguration, CredentialDisplay, CredentialFormat, CredentialIssuerMetadata,
    CredentialMetadata, IssuerDisplay, ProofTypeMetadata, SigningAlgorithm,
};
use intyg_core::oid4vci::nonce::NonceResponse;
use intyg_core::oid4vci::offer::{CredentialOffer, CredentialOfferRequest, InputMode, TxCodeSpec};
use intyg_core::oid4vci::proof::verify_jwt_proof;
use intyg_core::oid4vci::token::{TokenErrorCode, TokenRequest, TokenResponse};
use intyg_core::vc::{self, IssueParams};
use serde_json::{Map, Value};

use crate::admin::MAX_TX_CODE_ATTEMPTS;
use crate::error::ApiError;
use crate::model::{AccessGrant, CredentialState};
use crate::{AppState, sha256_hex};

/// The most proofs (holder keys, copies) one credential request may carry.
pub const BATCH_SIZE: u64 = 10;
/// Clock skew tolerated on proofs, in seconds.
const LEEWAY: i64 = 60;

/// The `openid-credential-offer://` link of an offer, by reference (§4.1.3).
pub fn offer_uri(state: &AppState, offer_id: &str) -> String {
    CredentialOfferRequest::ByReference(format!("{}/offers/{offer_id}", state.config.public_url))
        .to_uri()
}

fn no_store() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

fn token_error(code: TokenErrorCode, description: impl Into<String>) -> ApiError {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    ApiError::spec(status, &code, description)
}

fn credential_error(code: CredentialErrorCode, description: impl Into<String>) -> ApiError {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    ApiError::spec(status, &code, description)
}

/// `GET /offers/{id}`: the Credential Offer object a `credential_offer_uri` points to.
pub async fn offer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let offer = state
        .stores
        .offers
        .by_id(&id)?
        .filter(|offer| !offer.redeemed && offer.expires_at > crate::now())
        .ok_or_else(|| {
            ApiError::client(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such offer, or it was used or expired",
            )
        })?;
    let code = PreAuthorizedCode::try_from(offer.pre_authorized_code.as_str())
        .map_err(|e| ApiError::Issuance(format!("stored pre-authorized code: {e}")))?;
    let configuration =
        CredentialConfigurationId::try_from(offer.credential_configuration_id.as_str())
            .map_err(|e| ApiError::Issuance(format!("stored configuration id: {e}")))?;
    let tx_code = offer.tx_code_hash.as_ref().map(|_| TxCodeSpec {
        input_mode: Some(InputMode::Numeric),
        length: Some(6),
        description: Some(
            "Ange koden du fick av din handläggare / Enter the code your case officer gave you"
                .into(),
        ),
        extra: Map::new(),
    });
    let body = CredentialOffer::pre_authorized(
        state.config.public_url.clone(),
        vec![configuration],
        code,
        tx_code,
    );
    Ok((no_store(), Json(body)).into_response())
}

/// `GET /.well-known/openid-credential-issuer` (§12.2.2).
pub async fn issuer_metadata(State(state): State<AppState>) -> Json<CredentialIssuerMetadata> {
    Json(issuer_metadata_of(&state))
}

/// The Credential Issuer Metadata, generated from the credential types.
pub fn issuer_metadata_of(state: &AppState) -> CredentialIssuerMetadata {
    let base = &state.config.public_url;
    let mut configurations = BTreeMap::new();
    for (name, credential_type) in state.types.iter() {
        let Ok(id) = CredentialConfigurationId::try_from(name.as_str()) else {
            continue;
        };
        configurations.insert(id, configuration_of(name, credential_type));
    }
    CredentialIssuerMetadata {
        credential_issuer: base.clone(),
        authorization_servers: None,
        credential_endpoint: format!("{base}/credential"),
        nonce_endpoint: Some(format!("{base}/nonce")),
        deferred_credential_endpoint: None,
        notification_endpoint: None,
        credential_request_encryption: None,
        credential_response_encryption: None,
        batch_credential_issuance: Some(BatchCredentialIssuance {
            batch_size: BATCH_SIZE,
            extra: Map::new(),
        }),
        display: Some(
            match &state.config.name {
                Some(name) => [("sv", name.as_str()), ("en", name.as_str())],
                None => [("sv", "Intyg utfärdare"), ("en", "Intyg issuer")],
            }
            .into_iter()
            .map(|(locale, name)| IssuerDisplay {
                name: Some(name.into()),
                locale: Some(locale.into()),
                ..IssuerDisplay::default()
            })
            .collect(),
        ),
        credential_configurations_supported: configurations,
        extra: Map::new(),
    }
}

fn configuration_of(
    name: &str,
    credential_type: &intyg_core::vc::metadata::CredentialType,
) -> CredentialConfiguration {
    let metadata = &credential_type.metadata;
    let display = metadata
        .display
        .iter()
        .map(|d| {
            let simple = d.rendering.as_ref().and_then(|r| r.simple.as_ref());
            CredentialDisplay {
                name: d.name.clone(),
                locale: Some(d.locale.clone()),
                logo: None,
                description: d.description.clone(),
                background_color: simple.and_then(|s| s.background_color.clone()),
                background_image: None,
                text_color: simple.and_then(|s| s.text_color.clone()),
                extra: Map::new(),
            }
        })
        .collect();
    let claims = metadata
        .claims
        .iter()
        .filter_map(|claim| {
            let path = serde_json::to_value(&claim.path)
                .ok()
                .and_then(|p| serde_json::from_value(p).ok())?;
            Some(ClaimDescription {
                path,
                mandatory: claim.mandatory.then_some(true),
                display: Some(
                    claim
                        .display
                        .iter()
                        .map(|d| ClaimDisplay {
                            name: Some(d.label.clone()),
                            locale: Some(d.locale.clone()),
                            extra: Map::new(),
                        })
                        .collect(),
                ),
                // Intyg's words for enumerated values (PROFILE.md), for
                // wallets that cannot fetch the type metadata.
                extra: match serde_json::to_value(&claim.value_display) {
                    Ok(Value::Array(values)) if !values.is_empty() => {
                        Map::from_iter([("intyg_value_display".to_owned(), Value::Array(values))])
                    }
                    _ => Map::new(),
                },
            })
        })
        .collect();
    CredentialConfiguration {
        format: CredentialFormat::DcSdJwt,
        scope: Some(name.to_owned()),
        cryptographic_binding_methods_supported: Some(vec!["jwk".into()]),
        credential_signing_alg_values_supported: Some(vec![SigningAlgorithm::Jose("ES256".into())]),
        proof_types_supported: Some(BTreeMap::from([(
            "jwt".to_owned(),
            ProofTypeMetadata {
                proof_signing_alg_values_supported: vec!["ES256".into()],
                key_attestations_required: None,
                extra: Map::new(),
            },
        )])),
        credential_metadata: Some(CredentialMetadata {
            display: Some(display),
            claims: Some(claims),
            extra: Map::new(),
        }),
        vct: Some(credential_type.vct().to_owned()),
        extra: Map::new(),
    }
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414, §12.3).
pub async fn authorization_server_metadata(
    State(state): State<AppState>,
) -> Json<AuthorizationServerMetadata> {
    let base = &state.config.public_url;
    Json(AuthorizationServerMetadata {
        issuer: base.clone(),
        // The authorization code flow (auth_code) runs only with an identity provider.
        authorization_endpoint: state
            .config
            .oidc
            .is_some()
            .then(|| format!("{base}/authorize")),
        token_endpoint: Some(format!("{base}/token")),
        pushed_authorization_request_endpoint: state
            .config
            .oidc
            .is_some()
            .then(|| format!("{base}/par")),
        require_pushed_authorization_requests: None,
        jwks_uri: None,
        scopes_supported: Some(state.types.keys().cloned().collect()),
        response_types_supported: Some(vec!["code".into()]),
        grant_types_supported: Some(
            std::iter::once(intyg_core::oid4vci::PRE_AUTHORIZED_CODE_GRANT)
                .chain(state.config.oidc.is_some().then_some("authorization_code"))
                .map(Into::into)
                .collect(),
        ),
        token_endpoint_auth_methods_supported: Some(vec!["none".into()]),
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        authorization_details_types_supported: Some(vec!["openid_credential".into()]),
        pre_authorized_grant_anonymous_access_supported: Some(true),
        extra: Map::new(),
    })
}

/// `POST /token` (§6): exchanges a pre-authorized code and its PIN for an
/// access token. The code is single-use; wrong PINs are counted and the
/// offer dies after [`MAX_TX_CODE_ATTEMPTS`].
pub async fn token(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let form = std::str::from_utf8(&body)
        .map_err(|_| token_error(TokenErrorCode::InvalidRequest, "body is not UTF-8"))?;
    let request =
        TokenRequest::from_form(form).map_err(|e| token_error(e.error_code(), e.to_string()))?;
    let request = match request {
        TokenRequest::PreAuthorizedCode(request) => request,
        TokenRequest::AuthorizationCode(request) => {
            return crate::auth_code::token(&state, request).await;
        }
    };
    let now = crate::now();
    let invalid = |why: &str| token_error(TokenErrorCode::InvalidGrant, why);
    let offer = state
        .stores
        .offers
        .by_code(request.pre_authorized_code.as_str())?
        .ok_or_else(|| invalid("unknown pre-authorized code"))?;
    if offer.redeemed {
        return Err(invalid("the pre-authorized code was already used"));
    }
    if offer.expires_at <= now {
        return Err(invalid("the pre-authorized code has expired"));
    }
    if offer.failed_attempts >= MAX_TX_CODE_ATTEMPTS {
        return Err(invalid(
            "too many wrong transaction codes; ask for a new offer",
        ));
    }
    if let Some(expected) = &offer.tx_code_hash {
        let Some(given) = &request.tx_code else {
            return Err(token_error(
                TokenErrorCode::InvalidRequest,
                "tx_code is required for this offer",
            ));
        };
        let matches = aws_lc_rs::constant_time::verify_slices_are_equal(
            sha256_hex(given.as_str()).as_bytes(),
            expected.as_bytes(),
        )
        .is_ok();
        if !matches {
            let mut failed = offer.clone();
            failed.failed_attempts += 1;
            state.stores.offers.swap(&offer, &failed)?;
            state.stores.durable().await?;
            return Err(invalid("wrong transaction code"));
        }
    }
    let mut redeemed = offer.clone();
    redeemed.redeemed = true;
    if !state.stores.offers.swap(&offer, &redeemed)? {
        return Err(invalid("the pre-authorized code was already used"));
    }
    let access_token = AccessToken::generate().map_err(|e| ApiError::Issuance(e.to_string()))?;
    let lifetime = state.config.lifetimes.access_token;
    state.stores.grants.insert(&AccessGrant {
        token_hash: sha256_hex(access_token.as_str()),
        credential_id: offer.credential_id.clone(),
        credential_configuration_id: offer.credential_configuration_id.clone(),
        expires_at: now + lifetime,
    })?;
    state.stores.durable().await?;
    state
        .metrics
        .latency
        .with_label_values(&["token"])
        .observe(started.elapsed().as_secs_f64());
    let response = TokenResponse::bearer(access_token, lifetime.unsigned_abs());
    Ok((no_store(), Json(response)).into_response())
}

/// `POST /nonce` (§7): a fresh, single-use `c_nonce`.
pub async fn nonce(State(state): State<AppState>) -> Result<Response, ApiError> {
    let response = NonceResponse::generate().map_err(|e| ApiError::Issuance(e.to_string()))?;
    state.stores.nonces.insert(
        response.c_nonce.as_str(),
        crate::now() + state.config.lifetimes.nonce,
    )?;
    state.stores.durable().await?;
    Ok((no_store(), Json(response)).into_response())
}

/// `POST /credential` (§8): one SD-JWT VC per JWT proof (batch issuance),
/// each bound to the key of its proof and given its own status index.
pub async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let now = crate::now();
    let grant = bearer_grant(&state, &headers, now)?;
    let request = CredentialRequest::from_json(&body)
        .map_err(|e| credential_error(e.error_code(), e.to_string()))?;
    request
        .check_batch_size(Some(BATCH_SIZE))
        .map_err(|e| credential_error(e.error_code(), e.to_string()))?;
    // §8.2: by configuration, or by a `credential_identifier` from the
    // Token Response (the authorization code flow names the record).
    match (
        request.credential_configuration_id.as_ref(),
        request.credential_identifier.as_ref(),
    ) {
        (Some(id), _) if id.as_str() == grant.credential_configuration_id => {}
        (Some(id), _) => {
            return Err(credential_error(
                CredentialErrorCode::UnknownCredentialConfiguration,
                format!("the access token does not grant `{id}`"),
            ));
        }
        (None, Some(id)) if id.as_str() == grant.credential_id => {}
        (None, _) => {
            return Err(credential_error(
                CredentialErrorCode::UnknownCredentialIdentifier,
                "the access token does not grant this credential_identifier",
            ));
        }
    }
    let Some(Proofs::Jwt(jwts)) = &request.proofs else {
        return Err(credential_error(
            CredentialErrorCode::InvalidProof,
            "proofs.jwt is required",
        ));
    };
    let mut holder_keys = Vec::with_capacity(jwts.len());
    let mut nonces = Vec::new();
    for (i, jwt) in jwts.iter().enumerate() {
        let proof = verify_jwt_proof(
            jwt,
            &state.config.public_url,
            now,
            state.config.lifetimes.nonce,
            LEEWAY,
        )
        .map_err(|e| {
            credential_error(
                CredentialErrorCode::InvalidProof,
                format!("proof #{i}: {e}"),
            )
        })?;
        let nonce = proof.nonce.clone().ok_or_else(|| {
            credential_error(
                CredentialErrorCode::InvalidNonce,
                format!("proof #{i} has no nonce"),
            )
        })?;
        if !nonces.contains(&nonce) {
            nonces.push(nonce);
        }
        holder_keys.push(proof.holder_key);
    }
    for nonce in &nonces {
        match state.stores.nonces.consume(nonce)? {
            Some(expires_at) if expires_at > now => {}
            _ => {
                return Err(credential_error(
                    CredentialErrorCode::InvalidNonce,
                    "c_nonce is unknown, used or expired; get a new one from the nonce endpoint",
                ));
            }
        }
    }
    let mut record = state
        .stores
        .credentials
        .get(&grant.credential_id)?
        .ok_or_else(|| {
            ApiError::Issuance(format!("credential record {} is gone", grant.credential_id))
        })?;
    if record.state != CredentialState::Offered {
        return Err(credential_error(
            CredentialErrorCode::CredentialRequestDenied,
            "this offer was already issued or was revoked",
        ));
    }
    let Some(credential_type) = state.types.get(&record.credential_configuration_id) else {
        return Err(credential_error(
            CredentialErrorCode::UnknownCredentialConfiguration,
            "the credential type is no longer offered",
        ));
    };
    let count = u64::try_from(holder_keys.len()).unwrap_or(u64::MAX);
    let first = state.stores.status.allocate(count)?;
    let mut credentials = Vec::with_capacity(holder_keys.len());
    for (offset, holder_key) in (0..count).zip(holder_keys) {
        let mut params = IssueParams::new(state.config.public_url.clone(), now);
        params.expires_at = Some(now + state.config.lifetimes.credential);
        params.holder_key = Some(holder_key);
        params.status = Some(state.status.reference(first + offset));
        params.kid = Some(state.key.kid.clone());
        let issued = vc::issue(
            credential_type,
            record.claims.clone(),
            &params,
            &state.key.key,
        )
        .map_err(|e| ApiError::Issuance(format!("stored claims no longer issue: {}", e.code())))?;
        credentials.push(IssuedCredential::compact(issued.to_string()));
    }
    record.state = CredentialState::Issued;
    record.status_indices = (first..first + count).collect();
    record.issued_at = Some(now);
    state.stores.credentials.put(&record)?;
    state.stores.durable().await?;
    state
        .metrics
        .issued
        .with_label_values(&[record.credential_configuration_id.as_str()])
        .inc_by(count);
    state
        .metrics
        .latency
        .with_label_values(&["credential"])
        .observe(started.elapsed().as_secs_f64());
    Ok((
        no_store(),
        Json(CredentialResponse::immediate(credentials, None)),
    )
        .into_response())
}

/// The grant of the request's Bearer access token (RFC 6750 §2.1).
fn bearer_grant(state: &AppState, headers: &HeaderMap, now: i64) -> Result<AccessGrant, ApiError> {
    let invalid = |why: &str| ApiError::client(StatusCode::UNAUTHORIZED, "invalid_token", why);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| invalid("missing Bearer access token"))?;
    let grant = state
        .stores
        .grants
        .get(&sha256_hex(token))?
        .ok_or_else(|| invalid("unknown access token"))?;
    if grant.expires_at <= now {
        return Err(invalid("the access token has expired"));
    }
    Ok(grant)
}

/// `GET /.well-known/jwt-vc-issuer` (draft-ietf-oauth-sd-jwt-vc §5): the
/// keys that verify this issuer's credentials.
pub async fn jwt_vc_issuer_metadata(State(state): State<AppState>) -> Response {
    let body = serde_json::json!({
        "issuer": state.config.public_url,
        "jwks": { "keys": [state.key.public_jwk()] },
    });
    Json(body).into_response()
}
