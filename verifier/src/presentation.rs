//! The wallet-facing endpoints: `GET /request/{id}` (the signed Request
//! Object, OpenID4VP 1.0 §5.10 with RFC 9101) and `POST /response/{id}`
//! (the Response URI, §8.2 and §8.3.1).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use intyg_core::dcql::{DcqlQuery, ValidatedQuery};
use intyg_core::jose::SigningKey;
use intyg_core::oid4vp::{
    AuthorizationRequest, ClientMetadata, Denial, Invocation, Jwks, Nonce, OPENID4VP_SCHEME,
    RequestObjectSource, RequestReference, ResponseMode, ResponseUriResponse, State as OidState,
    sign_request_object,
};
use serde::Deserialize as _;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::error::ApiError;
use crate::model::{ConsentRecord, DisclosedCredential, Outcome, RequestedCredential, Transaction};
use crate::verify::{self, Context, Failure, Reason, Verdict};
use crate::{AppState, now, random_token};

/// How long a signed Request Object is valid, in seconds.
const REQUEST_OBJECT_LIFETIME: i64 = 300;

/// Makes and stores a new transaction for `query`, with a fresh nonce,
/// `state` and (for `direct_post.jwt`) encryption key.
pub async fn create_transaction(
    state: &AppState,
    query: &ValidatedQuery,
    purpose: String,
    template: Option<String>,
    response_mode: ResponseMode,
) -> Result<Transaction, ApiError> {
    let now = now();
    let encryption_key = match response_mode {
        ResponseMode::DirectPostJwt => {
            let key = SigningKey::generate()?;
            let mut jwk = key.to_private_jwk()?;
            jwk.key_id = Some(random_token(12)?);
            match serde_json::to_value(jwk) {
                Ok(Value::Object(map)) => Some(map),
                _ => return Err(ApiError::bad_request("server_error", "key export failed")),
            }
        }
        _ => None,
    };
    let transaction = Transaction {
        id: random_token(18)?,
        nonce: random_token(24)?,
        state: random_token(18)?,
        client_id: state.identity.client_id.to_string(),
        dcql_query: serde_json::to_value(query.query()).unwrap_or(Value::Null),
        purpose,
        template,
        response_mode: response_mode.as_str().to_owned(),
        encryption_key,
        created_at: now,
        expires_at: now + state.config.transaction_seconds,
        outcome: Outcome::Pending,
        processing: false,
        reason: None,
        reason_description: None,
        failed_credential: None,
        missing_credentials: Vec::new(),
        credentials: Vec::new(),
        completed_at: None,
        claims_deleted_at: None,
    };
    state.stores.transactions.insert(&transaction).await?;
    state.stores.durable().await?;
    state
        .metrics
        .created
        .with_label_values(&[transaction.template.as_deref().unwrap_or("dcql")])
        .inc();
    Ok(transaction)
}

/// The `openid4vp://` invocation URI of a transaction: `client_id` and
/// `request_uri` (§5.10).
pub fn invocation_uri(state: &AppState, transaction: &Transaction) -> String {
    Invocation::ByReference(RequestReference {
        client_id: state.identity.client_id.clone(),
        source: RequestObjectSource::Uri {
            request_uri: format!("{}/request/{}", state.config.public_url, transaction.id),
            method: None,
        },
        extra: Map::new(),
    })
    .to_uri(OPENID4VP_SCHEME)
}

/// The Authorization Request of a transaction.
fn authorization_request(
    state: &AppState,
    transaction: &Transaction,
) -> Result<AuthorizationRequest, ApiError> {
    let invalid = |what: &str| ApiError::bad_request("server_error", format!("stored {what}"));
    let query = DcqlQuery::deserialize(&transaction.dcql_query)
        .map_err(|_| invalid("query"))
        .and_then(|q| ValidatedQuery::try_from(q).map_err(|_| invalid("query")))?;
    let nonce: Nonce = transaction.nonce.parse().map_err(|_| invalid("nonce"))?;
    let mode: ResponseMode = transaction
        .response_mode
        .parse()
        .map_err(|_| invalid("response mode"))?;
    let mut request = AuthorizationRequest::new(state.identity.client_id.clone(), nonce, query);
    request.response_mode = Some(mode);
    request.response_uri = Some(format!(
        "{}/response/{}",
        state.config.public_url, transaction.id
    ));
    request.state = Some(
        transaction
            .state
            .parse::<OidState>()
            .map_err(|_| invalid("state"))?,
    );
    let jwks = transaction.encryption_key.as_ref().map(|private| {
        let mut public = private.clone();
        public.remove("d");
        public.insert("use".into(), "enc".into());
        public.insert("alg".into(), "ECDH-ES".into());
        Jwks { keys: vec![public] }
    });
    let mut extra = Map::new();
    extra.insert("client_name".into(), state.config.name.clone().into());
    request.client_metadata = Some(ClientMetadata {
        jwks,
        encrypted_response_enc_values_supported: Some(vec!["A128GCM".into(), "A256GCM".into()]),
        vp_formats_supported: Some(
            match json!({"dc+sd-jwt": {
                "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]
            }}) {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        ),
        extra,
    });
    request
        .extra
        .insert("purpose".into(), transaction.purpose.clone().into());
    Ok(request)
}

/// `GET /request/{id}`: the signed Request Object
/// (`application/oauth-authz-req+jwt`), with our `x5c` chain.
pub async fn request_object(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let transaction = state
        .stores
        .transactions
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    let now = now();
    if transaction.outcome != Outcome::Pending || transaction.expires_at <= now {
        return Err(ApiError::not_found("pending transaction"));
    }
    let request = authorization_request(&state, &transaction)?;
    let jwt = sign_request_object(
        &request,
        &state.identity.key,
        state.identity.chain.to_x5c(),
        now,
        now + REQUEST_OBJECT_LIFETIME.min(transaction.expires_at - now),
    )?;
    let mut response = jwt.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/oauth-authz-req+jwt"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /response/{id}`: checks the response, records the outcome (and,
/// when verified, a consent record) and answers `{}` (§8.2), or a 400 that
/// names the reason.
pub async fn response(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, ApiError> {
    let current = state
        .stores
        .transactions
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    if current.outcome != Outcome::Pending || current.processing {
        state.metrics.outcome(Reason::Replay.code());
        return Err(ApiError::Refused(Reason::Replay));
    }
    let mut processing = current.clone();
    processing.processing = true;
    if !state
        .stores
        .transactions
        .swap(&current, &processing)
        .await?
    {
        state.metrics.outcome(Reason::Replay.code());
        return Err(ApiError::Refused(Reason::Replay));
    }
    let now = now();
    let result = if now >= processing.expires_at {
        Err(Reason::TransactionExpired.into())
    } else {
        let trust = state
            .trust
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let context = Context {
            trust: &trust,
            status: &state.status,
            now,
        };
        verify::check(&context, &processing, &body).await
    };
    let mut done = processing.clone();
    done.processing = false;
    done.encryption_key = None;
    done.completed_at = Some(now);
    let answer = match result {
        Ok(Verdict::Verified(accepted)) => {
            let consent = consent_record(&state, &done, &accepted, &body, now);
            done.outcome = Outcome::Verified;
            done.credentials = accepted.into_iter().map(|a| a.record).collect();
            for record in &mut done.credentials {
                if let Some(iss) = &record.issuer {
                    record.issuer_name = state.issuer_names.of(iss).await.as_ref().clone();
                }
            }
            state.stores.consents.insert(&consent).await?;
            state.metrics.outcome("verified");
            Ok(())
        }
        Ok(Verdict::Denied(Denial::Declined)) => {
            done.outcome = Outcome::Declined;
            done.reason = Some("access_denied".into());
            state.metrics.outcome("declined");
            Ok(())
        }
        Ok(Verdict::Denied(Denial::NoMatchingCredential(ids))) => {
            done.outcome = Outcome::NoMatchingCredential;
            done.reason = Some("access_denied".into());
            done.reason_description = Some(Denial::NoMatchingCredential(ids.clone()).description());
            done.missing_credentials = ids;
            state.metrics.outcome("no_matching_credential");
            Ok(())
        }
        Err(Failure { reason, query_id }) => {
            tracing::info!(transaction = %done.id, reason = reason.code(), "presentation refused");
            done.outcome = Outcome::Failed;
            done.reason = Some(reason.code().to_owned());
            done.reason_description = Some(reason.to_string());
            done.failed_credential = query_id;
            state.metrics.outcome(reason.code());
            Err(reason)
        }
    };
    if !state.stores.transactions.swap(&processing, &done).await? {
        return Err(ApiError::Refused(Reason::Replay));
    }
    state.stores.durable().await?;
    match answer {
        Ok(()) => Ok(Json(ResponseUriResponse::default()).into_response()),
        Err(reason) => Err(ApiError::Refused(reason)),
    }
}

fn consent_record(
    state: &AppState,
    transaction: &Transaction,
    accepted: &[verify::Accepted],
    body: &str,
    now: i64,
) -> ConsentRecord {
    let requested = DcqlQuery::deserialize(&transaction.dcql_query)
        .map(|query| {
            query
                .credentials
                .iter()
                .map(|credential| RequestedCredential {
                    query_id: credential.id.clone(),
                    vct_values: credential.meta.vct_values.clone().unwrap_or_default(),
                    claims: credential
                        .claims
                        .iter()
                        .flatten()
                        .map(|claim| claim.path.to_string())
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    ConsentRecord {
        transaction_id: transaction.id.clone(),
        verifier: transaction.client_id.clone(),
        verifier_name: state.config.name.clone(),
        purpose: transaction.purpose.clone(),
        requested,
        disclosed: accepted
            .iter()
            .map(|a| DisclosedCredential {
                query_id: a.record.query_id.clone(),
                vct: a.record.vct.clone(),
                issuer: a.record.issuer.clone(),
                claims: a.disclosed.clone(),
            })
            .collect(),
        at: now,
        presentation_digest: intyg_core::jose::b64url_encode(sha2::Sha256::digest(body.as_bytes())),
    }
}
