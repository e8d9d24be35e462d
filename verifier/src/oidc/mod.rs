//! The OpenID Provider bridge (OpenID Connect Core 1.0, Discovery 1.0):
//! "sign in with wallet" for systems that speak OpenID Connect.
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-configuration` | provider metadata (Discovery §3) |
//! | `GET, POST /authorize` | authorization code flow, PKCE `S256` required (Core §3.1.2): a page with the QR code and the `openid4vp://` link of a request from the scope's template, and a cookie binding the sign-in to this browser; `prompt=none` → `login_required`, `request`/`request_uri` → `request_not_supported`/`request_uri_not_supported` |
//! | `GET /authorize/{tx}/events` | that request's states as Server-Sent Events, followed by the page's script |
//! | `GET /authorize/{tx}/done` | only with the cookie of the browser that opened `/authorize` (else an error page); once the presentation ended: to `redirect_uri?code=…&state=…`, or `?error=access_denied` (declined, no answer), `?error=invalid_request` (a check failed) |
//! | `POST /token` | `client_secret_basic` or `private_key_jwt`; the code once, with its PKCE verifier → ID token (ES256) |
//! | `GET, POST /userinfo` | the same claims for the access token |
//! | `GET /jwks` | the ID token key |
//!
//! Scopes are template names with `_` for `-` (`internship_application`);
//! a request asks for `openid` and exactly one of them, and other scope
//! values (`profile`, `email`) are ignored (Core §3.1.2.1).
//! The ID token's `sub` is pairwise per client: an HMAC of the client id
//! and the personal identity number when the presentation disclosed one
//! (never the number itself), otherwise fresh for each presentation (a
//! holder has no stable key across single-use credential copies).

mod pages;
pub mod token;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use intyg_core::oidc::ProviderMetadata;
use serde::Deserialize;
use sha2::Digest;

use crate::config::OidcClient;
use crate::error::ApiError;
use crate::events::EventStatus;
use crate::model::{OidcRequest, Transaction};
use crate::presentation::{RequestOptions, create_transaction, invocation_uri};
use crate::store::oidc::Grant;
use crate::{AppState, now, random_token, templates};

/// The `acr` of every ID token: a presentation of SD-JWT VCs over
/// OpenID4VP from the holder's wallet, with key binding.
pub const ACR: &str = "https://intyg.se/acr/openid4vp-sd-jwt-vc";
/// The `amr` values (RFC 8176 §2): `pop`, proof of possession of a key,
/// the holder key the key binding JWT is checked against. Nothing tells
/// whether that key is in hardware (`hwk`) or software (`swk`), so neither
/// is claimed; the wallet flow itself is the `acr`.
pub const AMR: [&str; 1] = ["pop"];
/// The cookie binding `/authorize/{tx}/done` to the browser that opened
/// `/authorize` (scoped to `/authorize/{tx}`).
const BROWSER_COOKIE: &str = "intyg_oidc_browser";
/// How long a code lives, in seconds.
const CODE_SECONDS: i64 = 60;
/// How long an access token lives, in seconds.
pub const ACCESS_TOKEN_SECONDS: i64 = 300;

/// The base64url SHA-256 of a code or token: its store key.
pub fn hashed(value: &str) -> String {
    intyg_core::jose::b64url_encode(sha2::Sha256::digest(value.as_bytes()))
}

/// The template behind a scope (`internship_application` →
/// `internship-application`), if there is one.
fn template_of(scope: &str) -> Option<&'static str> {
    templates::TEMPLATES
        .into_iter()
        .find(|name| name.replace('-', "_") == scope)
}

/// `GET /.well-known/openid-configuration`.
pub async fn configuration(State(state): State<AppState>) -> Response {
    let base = &state.config.public_url;
    let mut scopes = vec!["openid".to_owned()];
    scopes.extend(templates::TEMPLATES.iter().map(|t| t.replace('-', "_")));
    let list = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
    let metadata = ProviderMetadata {
        issuer: base.clone(),
        authorization_endpoint: format!("{base}/authorize"),
        token_endpoint: format!("{base}/token"),
        userinfo_endpoint: format!("{base}/userinfo"),
        jwks_uri: format!("{base}/jwks"),
        scopes_supported: scopes,
        response_types_supported: list(&["code"]),
        response_modes_supported: list(&["query"]),
        grant_types_supported: list(&["authorization_code"]),
        subject_types_supported: list(&["pairwise"]),
        id_token_signing_alg_values_supported: list(&["ES256"]),
        token_endpoint_auth_methods_supported: list(&["client_secret_basic", "private_key_jwt"]),
        token_endpoint_auth_signing_alg_values_supported: list(&["ES256"]),
        code_challenge_methods_supported: list(&["S256"]),
        acr_values_supported: vec![ACR.to_owned()],
        claims_supported: list(&[
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
        ]),
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
    };
    axum::Json(metadata).into_response()
}

/// `GET /jwks`: the key ID tokens are signed with.
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(axum::Json(serde_json::json!({"keys": [token::public_jwk(&state)?]})).into_response())
}

/// The parameters of an authorization request (Core §3.1.2.1), from the
/// query of `GET /authorize` or the form body of `POST /authorize`. Other
/// parameters are ignored; a repeated one makes the request malformed.
#[derive(Debug, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    request: Option<String>,
    request_uri: Option<String>,
}

/// `redirect_uri` with `error` (and `state`) in its query.
fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("error", error);
        query.append_pair("error_description", description);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn client<'a>(state: &'a AppState, id: &str) -> Option<&'a OidcClient> {
    state.config.oidc_clients.iter().find(|c| c.client_id == id)
}

/// `GET /authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    query: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    authorize_with(&state, query.ok().map(|Query(params)| params)).await
}

/// `POST /authorize` (`application/x-www-form-urlencoded`, Core §3.1.2.1).
pub async fn authorize_form(
    State(state): State<AppState>,
    form: Result<Form<AuthorizeParams>, axum::extract::rejection::FormRejection>,
) -> Response {
    authorize_with(&state, form.ok().map(|Form(params)| params)).await
}

/// Checks an authorization request; errors about the client or the
/// redirect URI are shown (never redirected to an unchecked URI), others
/// go back to the client, server-side failures as `server_error`. A good
/// request becomes a presentation request from the scope's template,
/// shown as a QR code and a same-device link, and the browser gets the
/// cookie that `/authorize/{tx}/done` asks for.
async fn authorize_with(state: &AppState, params: Option<AuthorizeParams>) -> Response {
    let Some(params) = params else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The authorization request is malformed.",
        );
    };
    let Some(client) = params.client_id.as_deref().and_then(|id| client(state, id)) else {
        return pages::error(StatusCode::BAD_REQUEST, "Unknown client_id.");
    };
    let Some(redirect_uri) = params
        .redirect_uri
        .as_deref()
        .filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The redirect_uri is not registered for this client.",
        );
    };
    let back = |error: &str, description: &str| {
        error_redirect(redirect_uri, error, description, params.state.as_deref())
    };
    match checked(client, &params) {
        Err((error, description)) => back(error, &description),
        Ok(checked) => match start(state, client, redirect_uri, &params, checked).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(%error, "starting an OpenID Connect sign-in failed");
                back("server_error", "the sign-in could not be started")
            }
        },
    }
}

/// What a checked authorization request asks for.
struct Checked {
    code_challenge: String,
    template_scope: String,
    template_name: &'static str,
}

/// The checks after the client and its redirect URI (Core §3.1.2.2): the
/// OAuth error code and description of the first that fails.
fn checked(
    client: &OidcClient,
    params: &AuthorizeParams,
) -> Result<Checked, (&'static str, String)> {
    let refuse = |error: &'static str, description: &str| Err((error, description.to_owned()));
    if params.request.is_some() {
        return refuse(
            "request_not_supported",
            "request objects are not supported: send the parameters in the query or form",
        );
    }
    if params.request_uri.is_some() {
        return refuse(
            "request_uri_not_supported",
            "request_uri is not supported: send the parameters in the query or form",
        );
    }
    if params.response_type.as_deref() != Some("code") {
        return refuse(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if prompts.contains(&"none") {
        if prompts.len() > 1 {
            return refuse("invalid_request", "prompt=none cannot be combined");
        }
        return refuse(
            "login_required",
            "signing in with a wallet always needs the holder",
        );
    }
    let Some(code_challenge) = params.code_challenge.clone().filter(|c| c.len() == 43) else {
        return refuse("invalid_request", "PKCE is required: code_challenge (S256)");
    };
    if params.code_challenge_method.as_deref() != Some("S256") {
        return refuse("invalid_request", "code_challenge_method must be S256");
    }
    // Scope values not understood are ignored (Core §3.1.2.1).
    let scopes: std::collections::BTreeSet<&str> = params
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !scopes.contains("openid") {
        return refuse("invalid_scope", "the openid scope is required");
    }
    let templates: Vec<(&str, &'static str)> = scopes
        .iter()
        .filter_map(|scope| template_of(scope).map(|name| (*scope, name)))
        .collect();
    if let Some((denied, _)) = templates.iter().find(|(scope, _)| {
        client
            .scopes
            .as_ref()
            .is_some_and(|allowed| !allowed.iter().any(|s| s == scope))
    }) {
        return Err((
            "invalid_scope",
            format!("this client may not ask for `{denied}`"),
        ));
    }
    let [(template_scope, template_name)] = templates[..] else {
        return refuse(
            "invalid_scope",
            "ask for exactly one template scope, e.g. internship_application",
        );
    };
    Ok(Checked {
        code_challenge,
        template_scope: template_scope.to_owned(),
        template_name,
    })
}

/// Makes the presentation request of a checked authorization request and
/// answers its waiting page with the browser's cookie.
async fn start(
    state: &AppState,
    client: &OidcClient,
    redirect_uri: &str,
    params: &AuthorizeParams,
    checked: Checked,
) -> Result<Response, ApiError> {
    let template = templates::template(checked.template_name)
        .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?
        .ok_or_else(|| ApiError::bad_request("server_error", "template missing"))?;
    // `amr` says `pop`: every credential must come with key binding.
    if template
        .query
        .query()
        .credentials
        .iter()
        .any(|credential| !credential.require_cryptographic_holder_binding)
    {
        return Err(ApiError::bad_request(
            "server_error",
            "the template does not require holder binding",
        ));
    }
    let browser = random_token(32)?;
    let mut options = RequestOptions::defaults(state);
    options.oidc = Some(OidcRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge: checked.code_challenge,
        scope: format!("openid {}", checked.template_scope),
        answered: false,
        browser_binding: Some(hashed(&browser)),
    });
    let transaction = create_transaction(
        state,
        &template.query,
        template.purpose.to_owned(),
        Some(checked.template_name.to_owned()),
        options,
    )
    .await?;
    let mut response = waiting_page(state, &transaction)?;
    // As the portals decide it: Secure on an https public URL.
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{BROWSER_COOKIE}={browser}; Path=/authorize/{}; HttpOnly; SameSite=Lax{secure}",
        transaction.id
    );
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| ApiError::bad_request("server_error", "transaction id in a cookie"))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Whether the request carries the cookie of the browser that opened the
/// authorization request (compared in constant time, by its hash).
fn same_browser(headers: &HeaderMap, request: &OidcRequest) -> bool {
    let Some(expected) = request.browser_binding.as_deref() else {
        return false;
    };
    intyg_service::portal::parse_cookies(headers)
        .get(BROWSER_COOKIE)
        .is_some_and(|value| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                hashed(value).as_bytes(),
                expected.as_bytes(),
            )
            .is_ok()
        })
}

fn waiting_page(state: &AppState, transaction: &Transaction) -> Result<Response, ApiError> {
    let uri = invocation_uri(state, transaction)?;
    let qr = crate::qr::svg(&uri)?;
    Ok(pages::waiting(
        &state.config.name,
        &transaction.id,
        &uri,
        &qr,
    ))
}

/// The OIDC transaction `tx`, or a 404.
async fn oidc_transaction(
    state: &AppState,
    tx: &str,
) -> Result<(Transaction, OidcRequest), ApiError> {
    let transaction = state
        .stores
        .transactions
        .get(tx)
        .await?
        .ok_or_else(|| ApiError::not_found("authorization"))?;
    let request = transaction
        .oidc
        .clone()
        .ok_or_else(|| ApiError::not_found("authorization"))?;
    Ok((transaction, request))
}

/// `GET /authorize/{tx}/events`: the states of the presentation.
pub async fn events(
    State(state): State<AppState>,
    Path(tx): Path<String>,
) -> Result<Response, ApiError> {
    oidc_transaction(&state, &tx).await?;
    Ok(crate::events::watch(state, tx, crate::events::api_event).into_response())
}

/// `GET /authorize/{tx}/done`: once the presentation has ended, the
/// browser goes back to the client, once; while it waits, the page again.
pub async fn done(
    State(state): State<AppState>,
    Path(tx): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (transaction, request) = oidc_transaction(&state, &tx).await?;
    if !same_browser(&headers, &request) {
        return Ok(pages::error(
            StatusCode::FORBIDDEN,
            "This sign-in was started in another browser (or its cookie is gone). Start again from the service.",
        ));
    }
    if request.answered {
        return Ok(pages::error(
            StatusCode::GONE,
            "This sign-in has already been answered. Start again from the service.",
        ));
    }
    let status = EventStatus::of(&transaction, now());
    if !status.is_final() {
        return waiting_page(&state, &transaction);
    }
    let mut answered = transaction.clone();
    if let Some(oidc) = answered.oidc.as_mut() {
        oidc.answered = true;
    }
    if !state
        .stores
        .transactions
        .swap(&transaction, &answered)
        .await?
    {
        return Ok(pages::error(
            StatusCode::CONFLICT,
            "This sign-in was answered in another window.",
        ));
    }
    let redirect_uri = request.redirect_uri.as_str();
    let state_param = request.state.as_deref();
    let response = match status {
        EventStatus::Verified => {
            let code = random_token(32)?;
            // The claims are sealed in the store (`personal`).
            let mut transaction = transaction.clone();
            crate::personal::open(&state, &mut transaction).await?;
            let grant = Grant {
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                scope: request.scope.clone(),
                nonce: request.nonce.clone(),
                sub: token::pairwise_subject(&state, &request.client_id, &transaction)?,
                transaction_id: transaction.id.clone(),
                auth_time: transaction.completed_at.unwrap_or_else(now),
                expires_at: now() + CODE_SECONDS,
            };
            state
                .stores
                .grants
                .put(&hashed(&format!("code\0{code}")), &grant)
                .await?;
            let mut url = url::Url::parse(redirect_uri)
                .map_err(|_| ApiError::bad_request("server_error", "stored redirect_uri"))?;
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("code", &code);
                if let Some(value) = state_param {
                    query.append_pair("state", value);
                }
            }
            Redirect::to(url.as_str()).into_response()
        }
        EventStatus::Declined | EventStatus::NoMatchingCredential => error_redirect(
            redirect_uri,
            "access_denied",
            "the holder declined or has no matching credential",
            state_param,
        ),
        EventStatus::Expired => error_redirect(
            redirect_uri,
            "access_denied",
            "the wallet did not answer in time",
            state_param,
        ),
        EventStatus::Failed | EventStatus::Pending => error_redirect(
            redirect_uri,
            "invalid_request",
            &format!(
                "the presentation failed verification: {}",
                transaction.reason.as_deref().unwrap_or("unknown")
            ),
            state_param,
        ),
    };
    state.stores.durable().await?;
    Ok(response)
}

/// `GET /oidc/authorize.js`.
pub async fn script() -> Response {
    let mut response = pages::JS.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
