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
use intyg_core::oauth::client_attestation::{self, ClientAttestationError};
use intyg_core::oauth::dpop::DpopError;
use intyg_core::oid4vci::KeyAttestationsRequired;
use intyg_core::oid4vci::credential::{
    CredentialErrorCode, CredentialRequest, CredentialResponse, IssuedCredential, Proofs,
};
use intyg_core::oid4vci::id::{AccessToken, CredentialConfigurationId, PreAuthorizedCode};
use intyg_core::oid4vci::key_attestation::KeyAttestationError;
use intyg_core::oid4vci::metadata::{
    AuthorizationServerMetadata, BatchCredentialIssuance, ClaimDescription, ClaimDisplay,
    CredentialConfiguration, CredentialDisplay, CredentialFormat, CredentialIssuerMetadata,
    CredentialMetadata, IssuerDisplay, Logo, ProofTypeMetadata, SigningAlgorithm,
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
use crate::store::{IssueOutcome, UsedNonce};
use crate::{AppState, sha256_hex};

/// The most proofs (holder keys, copies) one credential request may carry.
pub const BATCH_SIZE: u64 = 10;
/// Clock skew tolerated on proofs, in seconds.
const LEEWAY: i64 = 60;

/// The link of an offer, by reference (§4.1.3): `openid-credential-offer://`,
/// or HAIP 1.0's `haip-vci://` when the issuer is configured so.
pub fn offer_uri(state: &AppState, offer_id: &str) -> String {
    let base = format!("{}://", state.config.offer_scheme.as_str());
    CredentialOfferRequest::ByReference(format!("{}/offers/{offer_id}", state.config.public_url))
        .to_uri_with_base(&base)
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
        .by_id(&id)
        .await?
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
    let keys = state.keys.get();
    for (name, credential_type) in state.types.iter() {
        let Ok(id) = CredentialConfigurationId::try_from(name.as_str()) else {
            continue;
        };
        // A PID without a PID provider to sign it is not offered.
        if keys
            .for_type(name, credential_type.vct(), crate::now())
            .is_err()
        {
            continue;
        }
        let requirements = state.requirements(name);
        configurations.insert(
            id,
            configuration_of(name, credential_type, requirements.key_attestation.as_ref()),
        );
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
    key_attestation: Option<&KeyAttestationsRequired>,
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
                // The type's logo as it is (a wallet decides what it shows).
                logo: simple.and_then(|s| s.logo.as_ref()).map(|l| Logo {
                    uri: Some(l.uri.clone()),
                    alt_text: l.alt_text.clone(),
                    extra: Map::new(),
                }),
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
        proof_types_supported: Some(proof_types(key_attestation)),
        credential_metadata: Some(CredentialMetadata {
            display: Some(display),
            claims: Some(claims),
            extra: Map::new(),
        }),
        vct: Some(credential_type.vct().to_owned()),
        extra: Map::new(),
    }
}

/// `proof_types_supported` (§12.2.4): `jwt`, and when key attestations
/// are required, `jwt` with `key_attestations_required` and the
/// `attestation` proof type (Appendix F.3).
fn proof_types(
    key_attestation: Option<&KeyAttestationsRequired>,
) -> BTreeMap<String, ProofTypeMetadata> {
    let proof_type = || ProofTypeMetadata {
        proof_signing_alg_values_supported: vec!["ES256".into()],
        key_attestations_required: key_attestation.cloned(),
        extra: Map::new(),
    };
    let mut types = BTreeMap::from([("jwt".to_owned(), proof_type())]);
    if key_attestation.is_some() {
        types.insert("attestation".to_owned(), proof_type());
    }
    types
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
        // `none` unless HAIP requires the wallet attestation; the
        // attestation whenever there are wallet provider roots to check it with.
        token_endpoint_auth_methods_supported: Some(
            (state.config.profile == crate::policy::Profile::Basic)
                .then_some("none")
                .into_iter()
                .chain(
                    (!state.wallet_providers.is_empty()).then_some(client_attestation::AUTH_METHOD),
                )
                .map(Into::into)
                .collect(),
        ),
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        authorization_details_types_supported: Some(vec!["openid_credential".into()]),
        pre_authorized_grant_anonymous_access_supported: Some(true),
        dpop_signing_alg_values_supported: Some(vec!["ES256".into()]),
        extra: Map::new(),
    })
}

/// What the wallet proved at the token endpoint: the DPoP key the token
/// is bound to, and whether a wallet attestation authenticated it.
#[derive(Debug, Clone, Default)]
pub struct ClientProof {
    /// The RFC 7638 thumbprint of the DPoP key (`cnf.jkt`).
    pub jkt: Option<String>,
    /// The attested `client_id`, when a wallet attestation was verified.
    pub attested_client: Option<String>,
}

impl ClientProof {
    /// Refuses what credential type `configuration` requires and the wallet
    /// did not prove (policy): DPoP first, then the wallet attestation.
    pub fn enforce(&self, state: &AppState, configuration: &str) -> Result<(), ApiError> {
        let requirements = state.requirements(configuration);
        if requirements.dpop && self.jkt.is_none() {
            return Err(crate::dpop::refusal(
                state,
                crate::dpop::Endpoint::AuthorizationServer,
                &DpopError::Missing,
            ));
        }
        if requirements.wallet_attestation && self.attested_client.is_none() {
            return Err(crate::wallet_attestation::refusal(
                &ClientAttestationError::MissingAttestation,
            ));
        }
        Ok(())
    }

    /// The Token Response: `token_type` `DPoP` when bound (RFC 9449 §5).
    pub fn token_response(&self, access_token: AccessToken, lifetime: i64) -> TokenResponse {
        let mut response = TokenResponse::bearer(access_token, lifetime.unsigned_abs());
        if self.jkt.is_some() {
            response.token_type = "DPoP".to_owned();
        }
        response
    }
}

/// `POST /token` (§6): exchanges a pre-authorized code and its PIN for an
/// access token. The code is single-use; wrong PINs are counted and the
/// offer dies after [`MAX_TX_CODE_ATTEMPTS`]. A DPoP proof and a wallet
/// attestation are checked whenever sent, and required as the credential
/// type's policy says.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let form = std::str::from_utf8(&body)
        .map_err(|_| token_error(TokenErrorCode::InvalidRequest, "body is not UTF-8"))?;
    let request =
        TokenRequest::from_form(form).map_err(|e| token_error(e.error_code(), e.to_string()))?;
    let dpop = crate::dpop::check(
        &state,
        &headers,
        "/token",
        false,
        None,
        crate::dpop::Endpoint::AuthorizationServer,
    )
    .await?;
    let client_id = match &request {
        TokenRequest::PreAuthorizedCode(request) => request.client_id.as_deref(),
        TokenRequest::AuthorizationCode(request) => request.client_id.as_deref(),
    };
    let attestation = crate::wallet_attestation::check(&state, &headers, client_id, false).await?;
    let proof = ClientProof {
        jkt: dpop.map(|d| d.jkt),
        attested_client: attestation.map(|a| a.client_id),
    };
    let request = match request {
        TokenRequest::PreAuthorizedCode(request) => request,
        TokenRequest::AuthorizationCode(request) => {
            let mut response = crate::auth_code::token(&state, request, &proof).await?;
            crate::dpop::add_nonce(&state, response.headers_mut());
            return Ok(response);
        }
    };
    let now = crate::now();
    let invalid = |why: &str| token_error(TokenErrorCode::InvalidGrant, why);
    let offer = state
        .stores
        .offers
        .by_code(request.pre_authorized_code.as_str())
        .await?
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
    proof.enforce(&state, &offer.credential_configuration_id)?;
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
            state.stores.offers.swap(&offer, &failed).await?;
            state.stores.durable().await?;
            return Err(invalid("wrong transaction code"));
        }
    }
    let mut redeemed = offer.clone();
    redeemed.redeemed = true;
    let access_token = AccessToken::generate().map_err(|e| ApiError::Issuance(e.to_string()))?;
    let lifetime = state.config.lifetimes.access_token;
    let grant = AccessGrant {
        token_hash: sha256_hex(access_token.as_str()),
        credential_id: offer.credential_id.clone(),
        credential_configuration_id: offer.credential_configuration_id.clone(),
        expires_at: now + lifetime,
        jkt: proof.jkt.clone(),
    };
    // The code is taken and the grant stored in one commit.
    if !state
        .stores
        .issuance
        .redeem(&offer, &redeemed, &grant)
        .await?
    {
        return Err(invalid("the pre-authorized code was already used"));
    }
    state.stores.durable().await?;
    state
        .metrics
        .latency
        .with_label_values(&["token"])
        .observe(started.elapsed().as_secs_f64());
    let response = proof.token_response(access_token, lifetime);
    let mut response = (no_store(), Json(response)).into_response();
    crate::dpop::add_nonce(&state, response.headers_mut());
    Ok(response)
}

/// `POST /nonce` (§7): a fresh, single-use `c_nonce`, sealed (nothing is
/// stored until a proof uses it).
pub async fn nonce(State(state): State<AppState>) -> Result<Response, ApiError> {
    let c_nonce = state
        .c_nonces
        .seal(crate::now() + state.config.lifetimes.nonce)
        .map_err(|e| ApiError::Issuance(e.to_string()))?;
    Ok((no_store(), Json(NonceResponse { c_nonce })).into_response())
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
    let grant = crate::dpop::authorize(&state, &headers, "/credential").await?;
    let requirements = state.requirements(&grant.credential_configuration_id);
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
    let (holder_keys, nonces) = match &request.proofs {
        Some(Proofs::Jwt(jwts)) => jwt_proofs(&state, jwts, &requirements, now).await?,
        Some(Proofs::Attestation(attestations)) => {
            attestation_proof(&state, attestations, &requirements).await?
        }
        _ => {
            return Err(credential_error(
                CredentialErrorCode::InvalidProof,
                "proofs.jwt or proofs.attestation is required",
            ));
        }
    };
    let count = u64::try_from(holder_keys.len()).unwrap_or(u64::MAX);
    let nonce_refusal = |why: &dyn std::fmt::Display| {
        credential_error(
            CredentialErrorCode::InvalidNonce,
            format!("{why}; get a new one from the nonce endpoint"),
        )
    };
    let spent = "the c_nonce was already used";
    let nonces = nonces
        .into_iter()
        .map(|nonce| {
            let expires_at = state
                .c_nonces
                .open(&nonce, now)
                .map_err(|e| nonce_refusal(&e))?;
            Ok(UsedNonce { nonce, expires_at })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    // One read (and the indices, only for an offered record with unused
    // nonces); the nonces are spent with the record's update below, in one
    // commit after signing.
    let reservation = state
        .stores
        .issuance
        .reserve(&grant.credential_id, &nonces, count)
        .await?;
    if !reservation.nonces_unused {
        return Err(nonce_refusal(&spent));
    }
    let record = reservation.record.ok_or_else(|| {
        ApiError::Issuance(format!("credential record {} is gone", grant.credential_id))
    })?;
    let already = || {
        credential_error(
            CredentialErrorCode::CredentialRequestDenied,
            "this offer was already issued or was revoked",
        )
    };
    if record.state != CredentialState::Offered {
        return Err(already());
    }
    let Some(credential_type) = state.types.get(&record.credential_configuration_id) else {
        return Err(credential_error(
            CredentialErrorCode::UnknownCredentialConfiguration,
            "the credential type is no longer offered",
        ));
    };
    let indices = reservation.indices;
    let mut credentials = Vec::with_capacity(holder_keys.len());
    let keys = state.keys.get();
    let signing = keys
        .for_type(
            &record.credential_configuration_id,
            credential_type.vct(),
            now,
        )
        .map_err(|e| {
            credential_error(CredentialErrorCode::CredentialRequestDenied, e.to_string())
        })?;
    let own_chain = keys.has_own_signer(&record.credential_configuration_id);
    // Minimal attestations: predicates computed today, and a validity that
    // ends before any of them could become untrue.
    let mut claims = record.claims.clone();
    let declared = credential_type
        .schema
        .document()
        .get("properties")
        .and_then(|p| p.get("registered_at_least"))
        .is_some();
    let mut expires_at = now + state.config.lifetimes.credential;
    if let Some(turns_true) =
        crate::predicates::apply(&mut claims, declared, intyg_service::time::date(now))
    {
        let cut = turns_true
            .to_zoned_datetime(intyg_service::time::zone())
            .map(|day| day.timestamp().as_second())
            .map_err(|e| ApiError::Issuance(format!("predicate validity: {e}")))?;
        expires_at = expires_at.min(cut);
    }
    for (&index, holder_key) in indices.iter().zip(holder_keys) {
        let mut params = IssueParams::new(state.config.public_url.clone(), now);
        params.expires_at = Some(expires_at);
        params.holder_key = Some(holder_key);
        // Status list tokens are signed with the issuer's own chain, which
        // a verifier of a type signed under another (the PID's) does not
        // trust for it: such a type carries no status.
        params.status = (!own_chain).then(|| state.status.reference(index));
        params.kid = Some(signing.kid.clone());
        params.x5c = signing.x5c();
        let issued = vc::issue(
            credential_type,
            claims.clone(),
            &params,
            signing.signer.as_ref(),
        )
        .map_err(|e| ApiError::Issuance(format!("stored claims no longer issue: {}", e.code())))?;
        credentials.push(IssuedCredential::compact(issued.to_string()));
    }
    let mut issued = record.clone();
    issued.state = CredentialState::Issued;
    issued.status_indices = indices;
    issued.issued_at = Some(now);
    // Nothing is answered unless the nonces were still there to consume and
    // the record is still as read (not withdrawn, not issued meanwhile).
    match state
        .stores
        .issuance
        .issue(&record, &issued, &nonces)
        .await?
    {
        IssueOutcome::Issued => {}
        IssueOutcome::NonceGone => return Err(nonce_refusal(&spent)),
        IssueOutcome::RecordChanged => return Err(already()),
    }
    state.stores.durable().await?;
    let record = issued;
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
    let mut response = (
        no_store(),
        Json(CredentialResponse::immediate(credentials, None)),
    )
        .into_response();
    crate::dpop::add_nonce(&state, response.headers_mut());
    Ok(response)
}

/// `jwt` proofs (Appendix F.1, F.4): the holder keys and the distinct
/// nonces to consume; each proof's `key_attestation` header checked, and
/// required when the configuration requires key attestation.
async fn jwt_proofs(
    state: &AppState,
    jwts: &[String],
    requirements: &crate::policy::Requirements,
    now: i64,
) -> Result<(Vec<intyg_core::jose::Jwk>, Vec<String>), ApiError> {
    let mut holder_keys = Vec::with_capacity(jwts.len());
    let mut nonces = Vec::new();
    for (i, jwt) in jwts.iter().enumerate() {
        let name = format!("proof #{i}");
        let proof = verify_jwt_proof(
            jwt,
            &state.config.public_url,
            now,
            state.config.lifetimes.nonce,
            LEEWAY,
        )
        .map_err(|e| credential_error(CredentialErrorCode::InvalidProof, format!("{name}: {e}")))?;
        let nonce = proof.nonce.clone().ok_or_else(|| {
            credential_error(
                CredentialErrorCode::InvalidNonce,
                format!("{name} has no nonce"),
            )
        })?;
        // Without roots, an attestation nobody asked for cannot be checked
        // and is not evaluated (a `basic` issuer serves every wallet).
        let checkable =
            requirements.key_attestation.is_some() || !state.wallet_providers.is_empty();
        match &proof.key_attestation {
            Some(attestation) if checkable => {
                let expect = crate::key_attestation::Expectations {
                    key: Some(&proof.holder_key),
                    nonce: Some(&nonce),
                    nonce_required: false,
                    required: requirements.key_attestation.as_ref(),
                };
                crate::key_attestation::check(state, &name, attestation, &expect).await?;
            }
            None if requirements.key_attestation.is_some() => {
                return Err(crate::key_attestation::refusal(
                    &name,
                    &KeyAttestationError::Missing,
                ));
            }
            _ => {}
        }
        if !nonces.contains(&nonce) {
            nonces.push(nonce);
        }
        holder_keys.push(proof.holder_key);
    }
    Ok((holder_keys, nonces))
}

/// The `attestation` proof type (Appendix F.3): one key attestation whose
/// `nonce` is a `c_nonce`; every attested key gets a credential.
async fn attestation_proof(
    state: &AppState,
    attestations: &[String],
    requirements: &crate::policy::Requirements,
) -> Result<(Vec<intyg_core::jose::Jwk>, Vec<String>), ApiError> {
    let [attestation] = attestations else {
        return Err(credential_error(
            CredentialErrorCode::InvalidProof,
            "proofs.attestation must hold exactly one key attestation",
        ));
    };
    let expect = crate::key_attestation::Expectations {
        key: None,
        nonce: None,
        nonce_required: true,
        required: requirements.key_attestation.as_ref(),
    };
    let verified =
        crate::key_attestation::check(state, "attestation proof", attestation, &expect).await?;
    let keys = verified.keys();
    if u64::try_from(keys.len()).unwrap_or(u64::MAX) > BATCH_SIZE {
        return Err(credential_error(
            CredentialErrorCode::InvalidProof,
            format!("the key attestation attests more than {BATCH_SIZE} keys"),
        ));
    }
    let nonce = verified.claims.nonce.clone().ok_or_else(|| {
        crate::key_attestation::refusal("attestation proof", &KeyAttestationError::WrongNonce)
    })?;
    Ok((keys.to_vec(), vec![nonce]))
}

/// `GET /.well-known/jwt-vc-issuer` (draft-ietf-oauth-sd-jwt-vc §5): the
/// keys that verify this issuer's credentials: every signing credential in
/// force (rollover), each with its `kid` and `x5c`.
pub async fn jwt_vc_issuer_metadata(State(state): State<AppState>) -> Response {
    let keys: Vec<_> = state
        .keys
        .get()
        .all()
        .into_iter()
        .map(crate::signing::SigningCredential::public_jwk)
        .collect();
    let body = serde_json::json!({
        "issuer": state.config.public_url,
        "jwks": { "keys": keys },
    });
    Json(body).into_response()
}
