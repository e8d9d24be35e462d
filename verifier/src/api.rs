//! The HR API (Bearer API key): `POST /api/presentations`, `GET
//! /api/presentations/{id}`, the internship postings (`POST|GET
//! /api/postings`, `GET /api/postings/{id}`, `POST
//! /api/postings/{id}/applications`), and its OpenAPI document at
//! `/openapi.json` (`specs/openapi/verifier-api.json`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intyg_core::dcql::{DcqlQuery, ValidatedQuery};
use intyg_core::oid4vp::{RequestUriMethod, ResponseMode};
use intyg_core::text::Lines;
use intyg_service::portal::Peer;
use serde::{Deserialize, Serialize};

use crate::config::ClientIdPrefixChoice;
use crate::error::ApiError;
use crate::model::{ConsentRecord, Outcome, Transaction, VerifiedCredentialRecord};
use crate::postings::{self, NewPosting};
use crate::presentation::{RequestOptions, create_transaction, invocation_uri};
use crate::store::Posting;
use crate::{AppState, templates};

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../../specs/openapi/verifier-api.json");

/// `POST /api/presentations` body: a template, or a DCQL query and purpose.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePresentation {
    /// A template name (`internship-application`).
    #[serde(default)]
    pub template: Option<String>,
    /// A DCQL query.
    #[serde(default)]
    pub dcql_query: Option<DcqlQuery>,
    /// Why; required with `dcql_query`.
    #[serde(default)]
    pub purpose: Option<String>,
    /// `direct_post.jwt` (default unless configured otherwise) or `direct_post`.
    #[serde(default)]
    pub response_mode: Option<String>,
    /// `x509_san_dns` or `x509_hash`; the configured default if absent.
    #[serde(default)]
    pub client_id_prefix: Option<String>,
    /// `get` or `post` (OpenID4VP 1.0 §5.10); the configured default if
    /// absent.
    #[serde(default)]
    pub request_uri_method: Option<String>,
    /// How old a status list may be, in seconds (0: fetched for this
    /// presentation); the template's setting if absent.
    #[serde(default)]
    pub max_status_age: Option<u64>,
}

/// `POST /api/presentations` answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct PresentationCreated {
    /// The transaction id.
    pub id: String,
    /// The invocation URI (same-device link; QR content): `openid4vp://`,
    /// or `haip-vp://` when the verifier is configured so.
    pub request_uri: String,
    /// The client identifier the request uses (`x509_hash:...` or
    /// `x509_san_dns:...`).
    pub client_id: String,
    /// The invocation URI as a QR code, SVG; only when asked for with
    /// `?qr=svg` (drawing it costs more CPU than the rest of the request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
    /// When the wallet's time to answer runs out.
    pub expires_at: i64,
}

/// `GET /api/presentations/{id}` answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct PresentationView {
    /// The transaction id.
    pub id: String,
    /// `pending`, `verified`, `declined`, `no_matching_credential` or
    /// `failed`.
    pub status: Outcome,
    /// Why it failed (`wrong_nonce`, `revoked`...) or `access_denied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What failed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_description: Option<String>,
    /// The Credential Query whose presentation failed, when one of several
    /// did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_credential: Option<String>,
    /// The Credential Queries the wallet holds nothing for
    /// (`no_matching_credential`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_credentials: Vec<String>,
    /// The verified credentials (empty after the retention period).
    pub credentials: Vec<VerifiedCredentialRecord>,
    /// When the verified claims were deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_deleted_at: Option<i64>,
    /// When the personal data was erased on the person's request
    /// (Intyg extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<i64>,
    /// The legal basis an erasure request was refused under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erasure_refused: Option<String>,
    /// The consent record, once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
}

/// The query of the requests that make a presentation request:
/// `?qr=svg` adds the invocation URI as a QR code (`qr_svg`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateQuery {
    /// `svg`: answer with `qr_svg`.
    #[serde(default)]
    pub qr: Option<QrFormat>,
}

/// The QR code formats the API draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QrFormat {
    /// SVG.
    Svg,
}

/// The QR code asked for in the query; any other query is a 400.
fn qr_asked(
    query: Result<axum::extract::Query<CreateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Option<QrFormat>, ApiError> {
    query.map(|q| q.0.qr).map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "the only query parameter is qr, whose only value is svg",
        )
    })
}

/// Checks the Bearer API key in constant time.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.config.api_key else {
        return Err(ApiError::unauthorized(
            "the HR API is disabled: no API key is configured",
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("missing Bearer API key"))?;
    aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_bytes(), expected.as_bytes())
        .map_err(|_| ApiError::unauthorized("wrong API key"))
}

/// `POST /api/presentations[?qr=svg]`.
pub async fn create(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    query: Result<axum::extract::Query<CreateQuery>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let qr = qr_asked(query)?;
    let request: CreatePresentation = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?;
    let (query, purpose, template) = match (request.template, request.dcql_query) {
        (Some(name), None) => {
            let template = templates::template(&name)
                .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?
                .ok_or_else(|| {
                    ApiError::bad_request("invalid_request", format!("unknown template `{name}`"))
                })?;
            let purpose = request
                .purpose
                .unwrap_or_else(|| template.purpose.to_owned());
            (template.query, purpose, Some(name))
        }
        (None, Some(query)) => {
            let query = ValidatedQuery::try_from(query).map_err(|e| {
                ApiError::bad_request("invalid_request", format!("dcql_query: {e}"))
            })?;
            let purpose = request
                .purpose
                .filter(|p| !p.trim().is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request("invalid_request", "purpose is required with dcql_query")
                })?;
            (query, purpose, None)
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give exactly one of template and dcql_query",
            ));
        }
    };
    postings::check_text(&purpose, postings::PURPOSE_MAX, Lines::Multi).map_err(|problem| {
        ApiError::bad_request("invalid_request", format!("purpose {problem}"))
    })?;
    let mut options = request_options(
        &state,
        request.response_mode.as_deref(),
        request.client_id_prefix.as_deref(),
        request.request_uri_method.as_deref(),
    )?;
    options.max_status_age = request.max_status_age;
    options.audit = Some((API_CREATOR.to_owned(), state.portal.client(&peer)));
    let transaction = create_transaction(&state, &query, purpose, template, options).await?;
    created(&state, transaction, qr)
}

/// The request options asked for, each defaulting to the configuration:
/// `response_mode` (`direct_post.jwt`, `direct_post`), `client_id_prefix`
/// (`x509_san_dns`, `x509_hash`) and `request_uri_method` (`get`, `post`).
/// Any other value is a 400 that names it.
fn request_options(
    state: &AppState,
    response_mode: Option<&str>,
    client_id_prefix: Option<&str>,
    request_uri_method: Option<&str>,
) -> Result<RequestOptions, ApiError> {
    let mut options = RequestOptions::defaults(state);
    match response_mode {
        None => {}
        Some("direct_post.jwt") => options.response_mode = ResponseMode::DirectPostJwt,
        Some("direct_post") => options.response_mode = ResponseMode::DirectPost,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                format!("response_mode `{other}` is not direct_post or direct_post.jwt"),
            ));
        }
    }
    if let Some(asked) = client_id_prefix {
        let prefix = ClientIdPrefixChoice::parse(asked).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_request",
                format!("client_id_prefix `{asked}` is not x509_san_dns or x509_hash"),
            )
        })?;
        options.client_id = state.identity.client_id_for(prefix).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_request",
                format!(
                    "client_id_prefix x509_san_dns needs the DNS name `{}` in this verifier's certificate, which lacks it",
                    state.config.san_dns
                ),
            )
        })?;
    }
    if let Some(asked) = request_uri_method {
        options.request_uri_method = match asked.parse::<RequestUriMethod>() {
            Ok(RequestUriMethod::Get) => None,
            Ok(RequestUriMethod::Post) => Some(RequestUriMethod::Post),
            Err(_) => {
                return Err(ApiError::bad_request(
                    "invalid_request_uri_method",
                    format!("request_uri_method `{asked}` is neither get nor post"),
                ));
            }
        };
    }
    Ok(options)
}

/// The 201 answer for a new presentation request, with the QR code if
/// asked for.
fn created(
    state: &AppState,
    transaction: Transaction,
    qr: Option<QrFormat>,
) -> Result<(StatusCode, Json<PresentationCreated>), ApiError> {
    let request_uri = invocation_uri(state, &transaction)?;
    let qr_svg = match qr {
        Some(QrFormat::Svg) => Some(crate::qr::svg(&request_uri)?),
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(PresentationCreated {
            id: transaction.id,
            request_uri,
            client_id: transaction.client_id,
            qr_svg,
            expires_at: transaction.expires_at,
        }),
    ))
}

/// `GET /api/presentations/{id}`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<PresentationView>, ApiError> {
    authorize(&state, &headers)?;
    let mut transaction = state
        .stores
        .transactions
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("presentation"))?;
    crate::personal::open(&state, &mut transaction).await?;
    let consent = state.stores.consents.get(&id).await?;
    let erased_at = transaction.erased_at();
    let erasure_refused = transaction.erasure.as_ref().and_then(|e| e.refused.clone());
    Ok(Json(PresentationView {
        id: transaction.id,
        status: transaction.outcome,
        reason: transaction.reason,
        reason_description: transaction.reason_description,
        failed_credential: transaction.failed_credential,
        missing_credentials: transaction.missing_credentials,
        credentials: transaction.credentials,
        claims_deleted_at: transaction.claims_deleted_at,
        erased_at,
        erasure_refused,
        consent,
    }))
}

/// `GET /api/presentations/{id}/events`: Server-Sent Events, one named
/// after each state the presentation takes (`pending`, then `verified`,
/// `declined`, `no_matching_credential`, `failed` or `expired`; the state
/// is also the event's `id`), ending after the final one. A client that
/// reconnects naming the final state (`Last-Event-ID`) gets 204 No
/// Content, which stops an `EventSource`.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let Some(transaction) = state.stores.transactions.get(&id).await? else {
        return Err(ApiError::not_found("presentation"));
    };
    if crate::events::seen_the_end(&headers, &transaction, crate::now()) {
        return Ok(axum::http::StatusCode::NO_CONTENT.into_response());
    }
    Ok(crate::events::watch(state, id, crate::events::api_event).into_response())
}

/// `POST /api/postings` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePosting {
    /// The title.
    pub title: String,
    /// What the internship is.
    pub description: String,
    /// Why applicants are asked for their credentials.
    pub purpose: String,
    /// How old a status list may be for its applications, in seconds
    /// (0: fetched for each presentation).
    #[serde(default)]
    pub max_status_age: Option<u64>,
    /// A legal basis to keep applicants' data despite an erasure request
    /// (e.g. "a concluded employment contract"); erasure requests on its
    /// applications get a signed refusal naming it.
    #[serde(default)]
    pub legal_basis: Option<String>,
}

/// A posting with its applications, as `GET /api/postings/{id}` shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct PostingView {
    /// The posting.
    #[serde(flatten)]
    pub posting: Posting,
    /// Its applicant sessions, newest first.
    pub applications: Vec<ApplicationView>,
}

/// One applicant session of a posting.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApplicationView {
    /// The presentation (transaction) id, for `GET /api/presentations/{id}`.
    pub presentation_id: String,
    /// When it was opened.
    pub created_at: i64,
    /// Where it stands.
    pub status: Outcome,
}

/// `POST /api/postings/{id}/applications` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenApplication {
    /// `direct_post.jwt` or `direct_post`; the configured default if absent.
    #[serde(default)]
    pub response_mode: Option<String>,
    /// `x509_san_dns` or `x509_hash`; the configured default if absent.
    #[serde(default)]
    pub client_id_prefix: Option<String>,
    /// `get` or `post`; the configured default if absent.
    #[serde(default)]
    pub request_uri_method: Option<String>,
}

/// The username recorded as the creator of postings made with the API.
const API_CREATOR: &str = "api";

/// `POST /api/postings`.
pub async fn create_posting(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let request: CreatePosting = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?;
    let new = NewPosting {
        title: &request.title,
        description: &request.description,
        purpose: &request.purpose,
        max_status_age: request.max_status_age,
        legal_basis: request.legal_basis.as_deref(),
    };
    if let Some((field, problem)) = new.problems().first() {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("{field} {problem}"),
        ));
    }
    let source = state.portal.client(&peer);
    let posting = postings::create(&state, new, API_CREATOR, source).await?;
    Ok((StatusCode::CREATED, Json(posting)))
}

/// `GET /api/postings`: every posting, newest first.
pub async fn list_postings(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Posting>>, ApiError> {
    authorize(&state, &headers)?;
    let mut all = state.stores.postings.all().await?;
    all.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    Ok(Json(all))
}

/// `GET /api/postings/{id}`.
pub async fn show_posting(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<PostingView>, ApiError> {
    authorize(&state, &headers)?;
    let posting = state
        .stores
        .postings
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("posting"))?;
    let mut applications = Vec::new();
    for application in state.stores.postings.applications(&id).await? {
        if let Some(transaction) = state
            .stores
            .transactions
            .get(&application.transaction_id)
            .await?
        {
            applications.push(ApplicationView {
                presentation_id: transaction.id,
                created_at: application.created_at,
                status: transaction.outcome,
            });
        }
    }
    applications.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    Ok(Json(PostingView {
        posting,
        applications,
    }))
}

/// `POST /api/postings/{id}/applications[?qr=svg]`: opens an applicant
/// session, a presentation request with the posting's purpose.
pub async fn open_application(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<CreateQuery>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let qr = qr_asked(query)?;
    let request: OpenApplication = if body.is_empty() {
        OpenApplication::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?
    };
    let posting = state
        .stores
        .postings
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("posting"))?;
    let options = request_options(
        &state,
        request.response_mode.as_deref(),
        request.client_id_prefix.as_deref(),
        request.request_uri_method.as_deref(),
    )?;
    let source = state.portal.client(&peer);
    let transaction =
        postings::open_application(&state, &posting, options, API_CREATOR, source).await?;
    created(&state, transaction, qr)
}

/// `GET /openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `POST /api/webhooks` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries go: https (http on loopback in `--dev`), no
    /// private or loopback address unless the deployment allows it.
    pub url: String,
    /// Event types: `presentation.verified`, `presentation.failed`,
    /// `presentation.declined`, `presentation.erased`.
    pub events: Vec<String>,
}

/// A subscription as the API shows it: the secret only when it is made.
#[derive(Debug, Serialize, Deserialize)]
pub struct WebhookView {
    /// Its id.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types.
    pub events: Vec<String>,
    /// When it was made.
    pub created_at: i64,
    /// The Standard Webhooks signing secret (`whsec_...`), shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn of(subscription: crate::store::Subscription, with_secret: bool) -> Self {
        Self {
            id: subscription.id,
            url: subscription.url,
            events: subscription.events,
            created_at: subscription.created_at,
            secret: with_secret.then_some(subscription.secret),
        }
    }
}

/// `POST /api/webhooks`: a subscription; the answer carries its secret.
pub async fn create_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let request: CreateWebhook = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("body: {e}")))?;
    state.webhooks.fetcher.check_url(&request.url).map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            format!(
                "url `{}` is refused: https only, and no private or loopback address unless the deployment allows it",
                request.url
            ),
        )
    })?;
    if request.events.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "events must name at least one event type",
        ));
    }
    if let Some(unknown) = request
        .events
        .iter()
        .find(|e| crate::webhooks::EventType::parse(e).is_none())
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("unknown event type `{unknown}`"),
        ));
    }
    let mut bytes = vec![0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ApiError::Key(intyg_core::jose::JoseError::Signing))?;
    let secret = intyg_core::webhook::Secret::from_bytes(bytes)
        .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?;
    let mut events = request.events;
    events.sort();
    events.dedup();
    let subscription = crate::store::Subscription {
        id: crate::random_token(12)?,
        url: request.url,
        events,
        secret: secret.encode(),
        created_at: crate::now(),
    };
    state.stores.subscriptions.insert(&subscription).await?;
    state.stores.durable().await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookView::of(subscription, true)),
    ))
}

/// `GET /api/webhooks`: every subscription, without secrets.
pub async fn list_webhooks(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    authorize(&state, &headers)?;
    let mut all = state.stores.subscriptions.all().await?;
    all.sort_by_key(|s| s.created_at);
    Ok(Json(
        all.into_iter().map(|s| WebhookView::of(s, false)).collect(),
    ))
}

/// `DELETE /api/webhooks/{id}`: 204, or 404. Its queued deliveries
/// become dead letters at their next attempt.
pub async fn delete_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    authorize(&state, &headers)?;
    if !state.stores.subscriptions.delete(&id).await? {
        return Err(ApiError::not_found("webhook"));
    }
    state.stores.durable().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/webhook-deliveries` query.
#[derive(Debug, Deserialize)]
pub struct DeliveryFilter {
    /// `pending`, `delivered` or `dead`; all when absent.
    #[serde(default)]
    pub state: Option<crate::store::DeliveryState>,
}

/// `GET /api/webhook-deliveries[?state=dead]`: the outbox, newest first.
pub async fn list_deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<DeliveryFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<crate::store::Delivery>>, ApiError> {
    authorize(&state, &headers)?;
    let axum::extract::Query(filter) = query.map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "state must be pending, delivered or dead",
        )
    })?;
    let mut all = state.stores.outbox.list(filter.state).await?;
    all.sort_by_key(|d| std::cmp::Reverse(d.created_at));
    Ok(Json(all))
}

/// `POST /api/webhook-deliveries/{id}/retry`: a dead delivery queued
/// again with fresh attempts; 404 unless it is dead.
pub async fn retry_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<crate::store::Delivery>, ApiError> {
    authorize(&state, &headers)?;
    crate::webhooks::deliver::retry(&state, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("dead delivery"))
}
