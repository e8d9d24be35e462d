//! The wallet-facing endpoints: `GET /request/{id}` (the signed Request
//! Object, OpenID4VP 1.0 §5.10 with RFC 9101), `POST /request/{id}` (the
//! same for `request_uri_method=post`, §5.10: the Wallet's
//! `wallet_metadata` checked, its `wallet_nonce` echoed) and `POST
//! /response/{id}` (the Response URI, §8.2 and §8.3.1).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use intyg_core::dcql::ValidatedQuery;
use intyg_core::jose::SigningKey;
use intyg_core::oid4vp::{
    AuthorizationRequest, ClientId, ClientMetadata, Denial, Invocation, Jwks, Nonce,
    REQUEST_OBJECT_MEDIA_TYPE, REQUEST_URI_POST_CONTENT_TYPE, RequestObjectSource,
    RequestReference, RequestUriMethod, RequestUriPost, ResponseMode, ResponseUriResponse,
    State as OidState, VerifierOffer, sign_request_object,
};
use intyg_service::audit::Event;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use crate::error::ApiError;
use crate::model::{
    ConsentRecord, DisclosedCredential, Outcome, RequestedCredential, StoredQuery, Transaction,
};
use crate::verify::{self, Context, Failure, Reason, Verdict};
use crate::{AppState, now, random_token};

/// How long a signed Request Object is valid, in seconds.
const REQUEST_OBJECT_LIFETIME: i64 = 300;
/// The JWE `enc` values we decrypt, preferred first.
const ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];
/// The signature algorithm of credentials and KB-JWTs we accept.
const PRESENTATION_ALGS: [&str; 1] = ["ES256"];

/// How a new request is made: its Response Mode, Client Identifier and
/// `request_uri_method`.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// `direct_post.jwt` or `direct_post`.
    pub response_mode: ResponseMode,
    /// `x509_hash:...` or `x509_san_dns:...` of our certificate.
    pub client_id: ClientId,
    /// `Some(Post)` to put `request_uri_method=post` in the link.
    pub request_uri_method: Option<RequestUriMethod>,
    /// How old a status list may be for this request, in seconds (0: fetch
    /// it for this presentation); `None`: the template's configured
    /// `max_status_age`, else the list's `ttl`.
    pub max_status_age: Option<u64>,
    /// The posting whose applicant session this is, if any.
    pub posting_id: Option<String>,
    /// The OpenID Connect authorization request it answers, if any.
    pub oidc: Option<crate::model::OidcRequest>,
    /// Who made the request, when the audit trail records its creation
    /// (`presentation.create`): the actor and the client's address.
    pub audit: Option<(String, Option<std::net::IpAddr>)>,
}

impl RequestOptions {
    /// The configured defaults.
    pub fn defaults(state: &AppState) -> Self {
        Self {
            response_mode: state.config.response_mode.mode(),
            client_id: state.identity.client_id.clone(),
            request_uri_method: match state.config.request_uri_method {
                RequestUriMethod::Get => None,
                RequestUriMethod::Post => Some(RequestUriMethod::Post),
            },
            max_status_age: None,
            posting_id: None,
            oidc: None,
            audit: None,
        }
    }
}

/// Makes and stores a new transaction for `query`, with a fresh nonce,
/// `state` and (for `direct_post.jwt`) encryption key; with its audit
/// entry when `options.audit` names the creator. Both are durable when
/// this returns.
pub async fn create_transaction(
    state: &AppState,
    query: &ValidatedQuery,
    purpose: String,
    template: Option<String>,
    options: RequestOptions,
) -> Result<Transaction, ApiError> {
    let now = now();
    let response_mode = options.response_mode;
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
    let max_status_age = options.max_status_age.or_else(|| {
        template
            .as_deref()
            .and_then(|name| state.config.templates.get(name))
            .and_then(|settings| settings.max_status_age)
    });
    let transaction = Transaction {
        id: random_token(18)?,
        nonce: random_token(24)?,
        state: random_token(18)?,
        client_id: options.client_id.to_string(),
        dcql_query: StoredQuery::of(query.query())
            .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?,
        purpose,
        template,
        max_status_age,
        oidc: options.oidc,
        response_mode: response_mode.as_str().to_owned(),
        request_uri_method: options.request_uri_method,
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
        posting_id: options.posting_id.clone(),
        sealed_claims: None,
        holder_keys: Vec::new(),
        vp_token_hash: None,
        erasure: None,
    };
    state.stores.transactions.insert(&transaction).await?;
    let event = options.audit.map(|(actor, source)| {
        Event::new(actor, "presentation.create")
            .subject(format!("transaction:{}", transaction.id))
            .source(source)
    });
    // The record's sync and the audit entry's are in flight together.
    tokio::try_join!(
        async { Ok::<_, ApiError>(state.stores.durable().await?) },
        async {
            if let Some(event) = event {
                state.audit.record(event).await?;
            }
            Ok(())
        }
    )?;
    state
        .metrics
        .created
        .with_label_values(&[transaction.template.as_deref().unwrap_or("dcql")])
        .inc();
    Ok(transaction)
}

/// The invocation URI of a transaction (`openid4vp://` or, when
/// configured, `haip-vp://`): `client_id`, `request_uri` and, for
/// `post`, `request_uri_method` with the `client_metadata` §5.1 asks for
/// so that the Wallet knows what to state in `wallet_metadata` (§5.10).
pub fn invocation_uri(state: &AppState, transaction: &Transaction) -> Result<String, ApiError> {
    let client_id = stored_client_id(transaction)?;
    let mut extra = Map::new();
    if transaction.request_uri_method == Some(RequestUriMethod::Post) {
        let metadata = client_metadata(state, None, ENC_VALUES.map(str::to_owned).to_vec());
        extra.insert(
            "client_metadata".into(),
            serde_json::to_value(metadata).unwrap_or(Value::Null),
        );
    }
    Ok(Invocation::ByReference(RequestReference {
        client_id,
        source: RequestObjectSource::Uri {
            request_uri: format!("{}/request/{}", state.config.public_url, transaction.id),
            method: transaction.request_uri_method,
        },
        extra,
    })
    .to_uri(state.config.invocation_scheme.base()))
}

fn stored_client_id(transaction: &Transaction) -> Result<ClientId, ApiError> {
    transaction
        .client_id
        .parse()
        .map_err(|_| ApiError::bad_request("server_error", "stored client_id"))
}

/// Our `client_metadata` (§5.1, §11): name, response encryption `jwks`
/// (if any), the `enc` values, our formats and algorithms.
fn client_metadata(
    state: &AppState,
    jwks: Option<Jwks>,
    enc_values: Vec<String>,
) -> ClientMetadata {
    let mut extra = Map::new();
    extra.insert("client_name".into(), state.config.name.clone().into());
    ClientMetadata {
        jwks,
        encrypted_response_enc_values_supported: Some(enc_values),
        vp_formats_supported: Some(
            match json!({"dc+sd-jwt": {
                "sd-jwt_alg_values": PRESENTATION_ALGS, "kb-jwt_alg_values": PRESENTATION_ALGS
            }}) {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        ),
        extra,
    }
}

/// The Authorization Request of a transaction.
fn authorization_request(
    state: &AppState,
    transaction: &Transaction,
) -> Result<AuthorizationRequest, ApiError> {
    let invalid = |what: &str| ApiError::bad_request("server_error", format!("stored {what}"));
    let query = transaction
        .dcql_query
        .query()
        .map_err(|_| invalid("query"))
        .and_then(|q| ValidatedQuery::try_from(q).map_err(|_| invalid("query")))?;
    let nonce: Nonce = transaction.nonce.parse().map_err(|_| invalid("nonce"))?;
    let mode: ResponseMode = transaction
        .response_mode
        .parse()
        .map_err(|_| invalid("response mode"))?;
    let mut request = AuthorizationRequest::new(stored_client_id(transaction)?, nonce, query);
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
    request.client_metadata = Some(client_metadata(
        state,
        jwks,
        ENC_VALUES.map(str::to_owned).to_vec(),
    ));
    request
        .extra
        .insert("purpose".into(), transaction.purpose.clone().into());
    request.verifier_info = state.registrations.verifier_info();
    Ok(request)
}

/// The transaction of a request URI, if it still waits for an answer.
async fn pending_transaction(
    state: &AppState,
    id: &str,
    now: i64,
) -> Result<Transaction, ApiError> {
    let transaction = state
        .stores
        .transactions
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    if transaction.outcome != Outcome::Pending || transaction.expires_at <= now {
        return Err(ApiError::not_found("pending transaction"));
    }
    Ok(transaction)
}

/// `GET /request/{id}`: the signed Request Object
/// (`application/oauth-authz-req+jwt`), with our `x5c` chain.
pub async fn request_object(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let now = now();
    let transaction = pending_transaction(&state, &id, now).await?;
    let request = authorization_request(&state, &transaction)?;
    signed_request_object(&state, &transaction, &request, now)
}

/// `POST /request/{id}` (§5.10): the Wallet's form body (`wallet_metadata`,
/// `wallet_nonce`, both optional) → the signed Request Object, echoing
/// `wallet_nonce`, with the response encryption narrowed to what the
/// Wallet supports. A Wallet whose metadata rules out our Client
/// Identifier Prefix, ES256 Request Objects, our format and algorithms,
/// the Response Mode or every encryption choice gets a 400 naming it.
pub async fn request_object_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if !content_type.is_some_and(|t| t.eq_ignore_ascii_case(REQUEST_URI_POST_CONTENT_TYPE)) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "the request URI POST must be application/x-www-form-urlencoded (OpenID4VP 1.0 §5.10)",
        ));
    }
    let post = RequestUriPost::from_form(&body)
        .map_err(|e| ApiError::bad_request(e.error_code(), e.to_string()))?;
    let now = now();
    let transaction = pending_transaction(&state, &id, now).await?;
    let mut request = authorization_request(&state, &transaction)?;
    if let Some(metadata) = &post.wallet_metadata {
        let formats: Vec<&str> = request
            .dcql_query
            .query()
            .credentials
            .iter()
            .map(|c| c.format.as_str())
            .collect();
        let offer = VerifierOffer {
            client_id_prefix: stored_client_id(&transaction)?.prefix(),
            signing_alg: "ES256",
            formats: &formats,
            presentation_algs: &PRESENTATION_ALGS,
            response_mode: request.response_mode(),
            encryption_alg: "ECDH-ES",
            encryption_enc: &ENC_VALUES,
        };
        let negotiated = metadata
            .negotiate(&offer)
            .map_err(|e| ApiError::bad_request(e.error_code(), e.to_string()))?;
        if let (Some(enc), Some(client_metadata)) =
            (negotiated.encryption_enc, request.client_metadata.as_mut())
        {
            client_metadata.encrypted_response_enc_values_supported = Some(enc);
        }
    }
    request.wallet_nonce = post.wallet_nonce.map(String::from);
    signed_request_object(&state, &transaction, &request, now)
}

/// Signs `request` with our key and `x5c` chain as the answer of the
/// request URI (`application/oauth-authz-req+jwt`, not cached).
fn signed_request_object(
    state: &AppState,
    transaction: &Transaction,
    request: &AuthorizationRequest,
    now: i64,
) -> Result<Response, ApiError> {
    let jwt = sign_request_object(
        request,
        &state.identity.key,
        state.identity.chain.to_x5c(),
        now,
        now + REQUEST_OBJECT_LIFETIME.min(transaction.expires_at - now),
    )?;
    let mut response = jwt.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(REQUEST_OBJECT_MEDIA_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /response/{id}`: checks the response, records the outcome (and,
/// when verified, a consent record) and answers `{}` (§8.2), or a 400 that
/// names the reason.
///
/// Once a response has taken the transaction ([`TransactionStore::claim`]),
/// the transaction ends with an outcome whatever happens: the check runs
/// in a task of its own, so a wallet that hangs up mid-check does not
/// cancel it, and a failure of the verifier itself is recorded as a failed
/// presentation (reason `server_error`) before the 500 goes out. A page, a
/// stream or a webhook waiting for the outcome always gets one.
///
/// [`TransactionStore::claim`]: crate::store::TransactionStore::claim
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
    if !state.stores.transactions.claim(&current).await? {
        state.metrics.outcome(Reason::Replay.code());
        return Err(ApiError::Refused(Reason::Replay));
    }
    match tokio::spawn(answer(state, current, body)).await {
        Ok(answer) => answer,
        Err(join) => {
            tracing::error!(transaction = %id, error = %join, "checking a response stopped");
            Err(ApiError::Aborted)
        }
    }
}

/// The reason recorded when the verifier itself failed to finish a check.
pub const SERVER_ERROR: &str = "server_error";

/// Checks the response to the claimed transaction `current` and writes its
/// outcome; on a failure of the verifier itself, writes a failed outcome
/// ([`SERVER_ERROR`]) and returns the error.
async fn answer(state: AppState, current: Transaction, body: String) -> Result<Response, ApiError> {
    let now = now();
    match conclude(&state, &current, &body, now).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::error!(transaction = %current.id, %error, "the response could not be recorded");
            state.metrics.outcome(SERVER_ERROR);
            let mut failed = completed(&current, now);
            failed.outcome = Outcome::Failed;
            failed.reason = Some(SERVER_ERROR.into());
            failed.reason_description = Some(
                "the verifier could not complete the check; ask for a new presentation".into(),
            );
            // If even this write fails, the transaction stays taken and
            // pending; `EventStatus::of` ends it once its time is up.
            record(&state, &current, &failed, None).await?;
            Err(error)
        }
    }
}

/// `current` as a completed transaction (its response key dropped).
fn completed(current: &Transaction, now: i64) -> Transaction {
    let mut done = current.clone();
    done.encryption_key = None;
    done.completed_at = Some(now);
    done
}

/// Writes `done` (and `consent`) over `current` together with its webhook
/// event's deliveries, makes them durable and wakes the local watchers and
/// the delivery worker; false when another write came first.
async fn record(
    state: &AppState,
    current: &Transaction,
    done: &Transaction,
    consent: Option<&ConsentRecord>,
) -> Result<bool, ApiError> {
    let events = match crate::webhooks::EventType::of(done.outcome) {
        Some(event) => crate::webhooks::deliveries(state, event, done).await?,
        None => Vec::new(),
    };
    if !state
        .stores
        .transactions
        .finish(current, done, consent, &events)
        .await?
    {
        return Ok(false);
    }
    state.stores.durable().await?;
    state.changes.changed(&done.id);
    if !events.is_empty() {
        state.webhooks.wake();
    }
    Ok(true)
}

/// The check and its outcome, written: `Ok` with the answer for the wallet
/// (`{}` or the refusal), `Err` when the verifier failed and wrote nothing.
async fn conclude(
    state: &AppState,
    current: &Transaction,
    body: &str,
    now: i64,
) -> Result<Result<Response, ApiError>, ApiError> {
    let result = if now >= current.expires_at {
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
        verify::check(&context, current, body).await
    };
    let mut done = completed(current, now);
    let mut receipt = None;
    let mut consent = None;
    let answer = match result {
        Ok(Verdict::Verified(accepted, vp_token_hash)) => {
            let record = consent_record(state, &done, &accepted, body, now);
            receipt = Some(crate::receipt::issue(
                state,
                &done,
                &record,
                &vp_token_hash,
                now,
            )?);
            consent = Some(record);
            done.outcome = Outcome::Verified;
            done.holder_keys = accepted
                .iter()
                .filter_map(|a| a.holder_key.clone())
                .collect();
            done.vp_token_hash = Some(vp_token_hash);
            done.credentials = accepted.into_iter().map(|a| a.record).collect();
            for record in &mut done.credentials {
                if let Some(iss) = &record.issuer {
                    record.issuer_name = state.issuer_names.of(iss).await.as_ref().clone();
                }
            }
            // The key is stored (and synced) before the record that needs
            // it: a failure here writes no outcome.
            if let Some(key) = crate::personal::seal(&mut done)? {
                state.stores.keys.put(&done.id, &key).await?;
            }
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
    // The outcome and its consent record are written together.
    if !record(state, current, &done, consent.as_ref()).await? {
        return Ok(Err(ApiError::Refused(Reason::Replay)));
    }
    Ok(match answer {
        Ok(()) => {
            let mut answer = ResponseUriResponse::default();
            if let Some(receipt) = receipt {
                answer.extra.insert(
                    intyg_core::rights::receipt::RECEIPT_MEMBER.into(),
                    receipt.into(),
                );
            }
            Ok(Json(answer).into_response())
        }
        Err(reason) => Err(ApiError::Refused(reason)),
    })
}

fn consent_record(
    state: &AppState,
    transaction: &Transaction,
    accepted: &[verify::Accepted],
    body: &str,
    now: i64,
) -> ConsentRecord {
    let requested = transaction
        .dcql_query
        .query()
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
        erased_at: None,
    }
}
