//! The authorization code flow — OpenID4VCI 1.0 §3.4, §5, §6 — with the
//! login delegated to an external OpenID Connect provider.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-authorization-code-flow>
//!
//! | route | what |
//! |---|---|
//! | `POST /par` | Pushed Authorization Request (RFC 9126 §2) |
//! | `GET /authorize` | Authorization Request (§5.1), by value or by `request_uri` |
//! | `GET /authorize/callback` | the provider's redirect back (OIDC Core §3.1.2.5) |
//! | `POST /token`, `grant_type=authorization_code` | [`token`], called by `issuance::token` |
//!
//! The pipeline: the wallet's request is checked ([`WalletRequest`]: PKCE
//! S256, redirect URI, one credential configuration) → the browser goes to
//! the provider with our own PKCE, `state` and `nonce` ([`PendingLogin`]) →
//! the provider sends it back with a code, which we exchange and whose ID
//! token we validate ([`oidc`], [`id_token`]) → the identity claim names the
//! person, whose `Offered` credential record of that configuration the
//! code will grant ([`IssuedCode`]) → the wallet redeems the code at
//! `/token` with its `code_verifier`.
//!
//! Errors before the login answer the browser with a 400 error object and
//! do not redirect: wallets are unregistered public clients, and
//! redirecting at once to any URI would make this an open redirector
//! (RFC 9700 §4.11.1). Once the person has logged in, outcomes go back to
//! the wallet's `redirect_uri` with `error`, `error_description` and
//! `state` (RFC 6749 §4.1.2.1).

pub mod id_token;
pub mod oidc;
pub mod store;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use intyg_core::oid4vci::UrlRules;
use intyg_core::oid4vci::authorization::{
    AuthorizationDetail, AuthorizationRequest, AuthorizationRequestError, AuthorizeQuery,
    PushedAuthorizationResponse,
};
use intyg_core::oid4vci::id::{AccessToken, CredentialConfigurationId, CredentialIdentifier};
use intyg_core::oid4vci::token::{
    AuthorizationCodeTokenRequest, CodeVerifier, PkceError, TokenErrorCode, verify_pkce_s256,
};
use url::Url;

pub use self::oidc::OidcConfig;
use self::oidc::{Exchange, LoginError, LoginParams, RelyingParty};
pub use self::store::{AuthorizationStore, IssuedCode, PendingLogin, PushedRequest, WalletRequest};
use crate::error::ApiError;
use crate::model::{AccessGrant, CredentialState};
use crate::{AppState, random_token, sha256_hex};

/// Lifetime of an authorization code, in seconds (RFC 6749 §4.1.2: short).
pub const CODE_LIFETIME: i64 = 60;
/// Lifetime of a pushed request's `request_uri`, in seconds.
pub const REQUEST_URI_LIFETIME: i64 = 60;
/// How long a person has to log in at the provider, in seconds.
pub const LOGIN_LIFETIME: i64 = 600;
/// The prefix of our `request_uri` values (RFC 9126 §2.2).
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Our callback path at the issuer.
const CALLBACK_PATH: &str = "/authorize/callback";

/// The routes of the flow; `/token` stays in `issuance`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/par", post(par))
        .route("/authorize", get(authorize))
        .route(CALLBACK_PATH, get(callback))
        .layer(Extension(Arc::new(RelyingParty::default())))
}

fn invalid_request(description: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", description)
}

fn request_error(error: &AuthorizationRequestError) -> ApiError {
    ApiError::bad_request(error.error_code(), error.to_string())
}

/// Which URLs of the provider we accept.
fn provider_rules(state: &AppState) -> UrlRules {
    if state.config.dev {
        UrlRules::DangerousAllowHttpLoopback
    } else {
        UrlRules::HttpsOnly
    }
}

fn oidc_config(state: &AppState) -> Result<&OidcConfig, ApiError> {
    state.config.oidc.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "invalid_request",
            "the authorization code flow is not enabled at this issuer: no identity provider is configured",
        )
    })
}

/// Checks a wallet's `redirect_uri`: https, or http to a loopback IP
/// literal on any port (RFC 8252 §7.3, native apps); in development mode
/// also `localhost` (RFC 8252 §8.3 advises against it) and custom schemes
/// (RFC 8252 §7.1). No fragment (RFC 6749 §3.1.2).
pub fn check_redirect_uri(uri: &str, dev: bool) -> Result<(), &'static str> {
    let url = Url::parse(uri).map_err(|_| "redirect_uri is not an absolute URI")?;
    if url.fragment().is_some() {
        return Err("redirect_uri must not have a fragment");
    }
    let loopback_ip = matches!(
        url.host(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match url.scheme() {
        "https" if UrlRules::HttpsOnly.allows(uri) => Ok(()),
        "http" if loopback_ip => Ok(()),
        "http" if dev && UrlRules::DangerousAllowHttpLoopback.allows(uri) => Ok(()),
        "https" | "http" => {
            Err("redirect_uri must be https, or http to a loopback IP address (127.0.0.1 or [::1])")
        }
        "javascript" | "data" | "file" | "blob" | "about" | "vbscript" => {
            Err("redirect_uri has a scheme that is never allowed")
        }
        _ if dev => Ok(()),
        _ => Err("redirect_uri must be https; custom schemes only in development mode"),
    }
}

/// Turns a parsed Authorization Request into a [`WalletRequest`], or says
/// which rule it breaks.
fn check_request(
    state: &AppState,
    request: AuthorizationRequest,
) -> Result<WalletRequest, ApiError> {
    let Some(code_challenge) = request.code_challenge else {
        return Err(invalid_request(
            "code_challenge is required (PKCE with code_challenge_method=S256)",
        ));
    };
    let redirect_uri = request
        .redirect_uri
        .ok_or_else(|| invalid_request("redirect_uri is required"))?;
    check_redirect_uri(&redirect_uri, state.config.dev).map_err(invalid_request)?;
    let credential_configuration_id = match (&request.authorization_details, &request.scope) {
        (Some(details), _) => {
            let [detail] = details.as_slice() else {
                return Err(ApiError::bad_request(
                    "invalid_authorization_details",
                    "ask for exactly one openid_credential entry per request",
                ));
            };
            let id = detail.credential_configuration_id.as_str();
            if !state.types.contains_key(id) {
                return Err(ApiError::bad_request(
                    "invalid_authorization_details",
                    format!("unknown credential_configuration_id `{id}`"),
                ));
            }
            if let Some(locations) = &detail.locations
                && !locations.contains(&state.config.public_url)
            {
                return Err(ApiError::bad_request(
                    "invalid_authorization_details",
                    "locations does not name this credential issuer",
                ));
            }
            id.to_owned()
        }
        (None, Some(scope)) => {
            let known: Vec<&str> = scope
                .split_whitespace()
                .filter(|s| state.types.contains_key(*s))
                .collect();
            match known.as_slice() {
                [one] => (*one).to_owned(),
                [] => {
                    return Err(ApiError::bad_request(
                        "invalid_scope",
                        "scope names no credential configuration of this issuer",
                    ));
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "invalid_scope",
                        "ask for exactly one credential configuration per request",
                    ));
                }
            }
        }
        // AuthorizationRequest::from_form refuses a request with neither.
        (None, None) => return Err(invalid_request("nothing requested")),
    };
    Ok(WalletRequest {
        authorization_details: request.authorization_details.is_some(),
        client_id: request.client_id,
        redirect_uri,
        state: request.state,
        code_challenge,
        credential_configuration_id,
        issuer_state: request.issuer_state.map(|s| s.as_str().to_owned()),
        login_hint: request.extra.get("login_hint").cloned(),
        dpop_jkt: request.extra.get("dpop_jkt").cloned(),
    })
}

/// `POST /par` (RFC 9126 §2): stores a checked request for one use.
///
/// PAR takes DPoP (RFC 9449 §10.1) and the wallet attestation (the
/// attestation draft §13) when sent, and requires them as the issuer-wide
/// profile says; the credential type's own policy applies at `/token`.
pub async fn par(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    oidc_config(&state)?;
    let form = std::str::from_utf8(&body).map_err(|_| invalid_request("body is not UTF-8"))?;
    let request = AuthorizationRequest::from_form(form).map_err(|e| request_error(&e))?;
    let required = crate::policy::Requirements::of_profile(state.config.profile);
    let dpop = crate::dpop::check(
        &state,
        &headers,
        "/par",
        required.dpop,
        None,
        crate::dpop::Endpoint::AuthorizationServer,
    )
    .await?;
    crate::wallet_attestation::check(
        &state,
        &headers,
        Some(request.client_id.as_str()),
        required.wallet_attestation,
    )
    .await?;
    if request.extra.contains_key("request_uri") {
        return Err(invalid_request(
            "request_uri must not be pushed (RFC 9126 §2.1)",
        ));
    }
    let mut request = check_request(&state, request)?;
    // RFC 9449 §10.1: a proof at PAR binds the code to its key.
    if let Some(dpop) = dpop {
        match &request.dpop_jkt {
            Some(jkt) if *jkt != dpop.jkt => {
                return Err(invalid_request(
                    "dpop_jkt is not the thumbprint of the DPoP proof's key",
                ));
            }
            _ => request.dpop_jkt = Some(dpop.jkt),
        }
    }
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token(32)?);
    state
        .stores
        .authorizations
        .put_pushed(
            &sha256_hex(&request_uri),
            &PushedRequest {
                request,
                expires_at: crate::now() + REQUEST_URI_LIFETIME,
            },
        )
        .await?;
    state.stores.durable().await?;
    let body = PushedAuthorizationResponse {
        request_uri,
        expires_in: REQUEST_URI_LIFETIME.unsigned_abs(),
    };
    let mut response = (StatusCode::CREATED, no_store(), Json(body)).into_response();
    crate::dpop::add_nonce(&state, response.headers_mut());
    Ok(response)
}

/// `GET /authorize` (§5.1): checks the request (or loads the pushed one)
/// and sends the browser to the identity provider.
pub async fn authorize(
    State(state): State<AppState>,
    Extension(rp): Extension<Arc<RelyingParty>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let config = oidc_config(&state)?;
    let query = AuthorizeQuery::parse(query.as_deref().unwrap_or_default())
        .map_err(|e| request_error(&e))?;
    let request = match query {
        AuthorizeQuery::Request(request) => check_request(&state, request)?,
        AuthorizeQuery::Pushed {
            client_id,
            request_uri,
        } => {
            let pushed = state
                .stores
                .authorizations
                .take_pushed(&sha256_hex(&request_uri))
                .await?
                .filter(|p| p.expires_at > crate::now())
                .ok_or_else(|| invalid_request("request_uri is unknown, used or expired"))?;
            if pushed.request.client_id != client_id {
                return Err(invalid_request(
                    "client_id differs from the pushed request's",
                ));
            }
            pushed.request
        }
    };
    let metadata = rp
        .discover(config, provider_rules(&state))
        .await
        .map_err(|e| provider_unavailable(&e))?;
    let provider_state = random_token(32)?;
    let login = PendingLogin {
        nonce: random_token(32)?,
        code_verifier: CodeVerifier::generate()
            .map_err(|e| ApiError::Issuance(e.to_string()))?
            .as_str()
            .to_owned(),
        expires_at: crate::now() + LOGIN_LIFETIME,
        request,
    };
    let challenge = login
        .code_verifier
        .parse::<CodeVerifier>()
        .map_err(|e| ApiError::Issuance(e.to_string()))?
        .s256_challenge();
    let callback = format!("{}{CALLBACK_PATH}", state.config.public_url);
    let location = RelyingParty::authorization_url(
        &metadata,
        config,
        &LoginParams {
            redirect_uri: &callback,
            state: &provider_state,
            nonce: &login.nonce,
            code_challenge: &challenge,
            login_hint: login.request.login_hint.as_deref(),
        },
    )
    .map_err(|e| provider_unavailable(&e))?;
    state
        .stores
        .authorizations
        .put_login(&sha256_hex(&provider_state), &login)
        .await?;
    state.stores.durable().await?;
    Ok(Redirect::to(&location).into_response())
}

/// The provider is misconfigured or down: a 503 whose details go to the log.
fn provider_unavailable(error: &LoginError) -> ApiError {
    tracing::error!(error = %error, "identity provider unavailable");
    ApiError::client(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the identity provider cannot be reached; try again later",
    )
}

/// A redirect back to the wallet (RFC 6749 §4.1.2, §4.1.2.1, RFC 9207).
struct WalletRedirect<'a> {
    request: &'a WalletRequest,
    issuer: &'a str,
}

impl WalletRedirect<'_> {
    fn to(&self, pairs: &[(&str, &str)]) -> Result<Response, ApiError> {
        let mut url = Url::parse(&self.request.redirect_uri)
            .map_err(|_| ApiError::Issuance("stored redirect_uri no longer parses".into()))?;
        {
            let mut query = url.query_pairs_mut();
            query.extend_pairs(pairs);
            if let Some(state) = &self.request.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", self.issuer);
        }
        let mut response = Redirect::to(url.as_str()).into_response();
        response.headers_mut().extend(no_store());
        Ok(response)
    }

    fn error(&self, code: &str, description: &str) -> Result<Response, ApiError> {
        self.to(&[("error", code), ("error_description", description)])
    }
}

/// `GET /authorize/callback`: the provider's answer. Validates the login,
/// finds what the person may be issued and sends the wallet its code.
pub async fn callback(
    State(state): State<AppState>,
    Extension(rp): Extension<Arc<RelyingParty>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let config = oidc_config(&state)?;
    let params: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let provider_state = params
        .get("state")
        .ok_or_else(|| invalid_request("the identity provider's answer lacks state"))?;
    let now = crate::now();
    let login = state
        .stores
        .authorizations
        .take_login(&sha256_hex(provider_state))
        .await?
        .filter(|l| l.expires_at > now)
        .ok_or_else(|| invalid_request("unknown or expired login; start again from the wallet"))?;
    state.stores.durable().await?;
    let wallet = WalletRedirect {
        request: &login.request,
        issuer: &state.config.public_url,
    };
    // RFC 9207 §2.4: a provider that names itself must name the right one
    // (mix-up defence).
    if params
        .get("iss")
        .is_some_and(|iss| iss != &config.issuer_url)
    {
        return wallet.error(
            "access_denied",
            "the answer came from another identity provider (iss)",
        );
    }
    if let Some(error) = params.get("error") {
        tracing::info!(provider_error = %error, "login at the identity provider not completed");
        return wallet.error(
            "access_denied",
            "the login at the identity provider was cancelled or refused",
        );
    }
    let Some(code) = params.get("code") else {
        return wallet.error("server_error", "the identity provider sent no code");
    };
    let callback = format!("{}{CALLBACK_PATH}", state.config.public_url);
    let exchange = Exchange {
        code,
        redirect_uri: &callback,
        code_verifier: &login.code_verifier,
        nonce: &login.nonce,
        now,
    };
    let identity = match rp.finish(config, provider_rules(&state), &exchange).await {
        Ok(logged_in) => logged_in.identity,
        Err(error) => {
            tracing::warn!(error = %error, "login at the identity provider failed");
            return match error {
                LoginError::IdToken(_)
                | LoginError::MissingIdentity(_)
                | LoginError::UserInfoSubject
                | LoginError::TokenRefused(_) => wallet.error(
                    "access_denied",
                    &format!("the login could not be verified: {error}"),
                ),
                _ => wallet.error(
                    "temporarily_unavailable",
                    "the identity provider cannot be reached; try again later",
                ),
            };
        }
    };
    let configuration = &login.request.credential_configuration_id;
    let record = state
        .stores
        .credentials
        .by_subject(&identity)
        .await?
        .into_iter()
        .find(|r| {
            r.state == CredentialState::Offered && &r.credential_configuration_id == configuration
        });
    let Some(record) = record else {
        return wallet.error(
            "access_denied",
            &format!(
                "there is no {configuration} waiting for you at this issuer; ask your case officer to register one"
            ),
        );
    };
    let code = random_token(32)?;
    state
        .stores
        .authorizations
        .put_code(
            &sha256_hex(&code),
            &IssuedCode {
                client_id: login.request.client_id.clone(),
                redirect_uri: login.request.redirect_uri.clone(),
                code_challenge: login.request.code_challenge.clone(),
                credential_id: record.id,
                credential_configuration_id: record.credential_configuration_id,
                authorization_details: login.request.authorization_details,
                dpop_jkt: login.request.dpop_jkt.clone(),
                expires_at: now + CODE_LIFETIME,
            },
        )
        .await?;
    state.stores.durable().await?;
    wallet.to(&[("code", &code)])
}

fn no_store() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

fn token_error(code: TokenErrorCode, description: impl Into<String>) -> ApiError {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    ApiError::spec(status, &code, description)
}

/// `POST /token` with `grant_type=authorization_code` (§6.1, RFC 6749
/// §4.1.3, RFC 7636 §4.6). The code is taken on first use, whatever the
/// outcome, so a stolen code cannot be tried twice.
pub async fn token(
    state: &AppState,
    request: AuthorizationCodeTokenRequest,
    proof: &crate::issuance::ClientProof,
) -> Result<Response, ApiError> {
    let invalid = |why: &str| token_error(TokenErrorCode::InvalidGrant, why);
    let now = crate::now();
    let code = state
        .stores
        .authorizations
        .take_code(&sha256_hex(request.code.as_str()))
        .await?;
    state.stores.durable().await?;
    let code = code.ok_or_else(|| invalid("unknown authorization code, or it was already used"))?;
    if code.expires_at <= now {
        return Err(invalid("the authorization code has expired"));
    }
    match request.client_id.as_deref() {
        None => {
            return Err(token_error(
                TokenErrorCode::InvalidRequest,
                "client_id is required",
            ));
        }
        Some(id) if id != code.client_id => {
            return Err(invalid(
                "the authorization code was issued to another client_id",
            ));
        }
        Some(_) => {}
    }
    if request.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
        return Err(invalid(
            "redirect_uri differs from the one in the authorization request",
        ));
    }
    verify_pkce_s256(&code.code_challenge, request.code_verifier.as_ref()).map_err(
        |e| match e {
            PkceError::MissingVerifier => {
                token_error(TokenErrorCode::InvalidRequest, e.to_string())
            }
            _ => invalid(&e.to_string()),
        },
    )?;
    if let Some(details) = &request.authorization_details
        && details
            .iter()
            .any(|d| d.credential_configuration_id.as_str() != code.credential_configuration_id)
    {
        return Err(token_error(
            TokenErrorCode::InvalidAuthorizationDetails,
            "authorization_details asks for more than was authorized",
        ));
    }
    proof.enforce(state, &code.credential_configuration_id)?;
    if let Some(bound) = &code.dpop_jkt
        && proof.jkt.as_ref() != Some(bound)
    {
        return Err(ApiError::Dpop {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_dpop_proof",
            description: "the authorization code is bound to another DPoP key than this proof's (RFC 9449 §10)".into(),
            nonce: state.dpop.fresh_nonce(now),
            challenge: false,
        });
    }
    let access_token = AccessToken::generate().map_err(|e| ApiError::Issuance(e.to_string()))?;
    let lifetime = state.config.lifetimes.access_token;
    let mut response = proof.token_response(access_token, lifetime);
    // §6.2: REQUIRED when `authorization_details` was used in the
    // Authorization or Token Request. The one dataset is the record.
    if code.authorization_details || request.authorization_details.is_some() {
        let identifier = CredentialIdentifier::try_from(code.credential_id.as_str())
            .map_err(|e| ApiError::Issuance(e.to_string()))?;
        let configuration =
            CredentialConfigurationId::try_from(code.credential_configuration_id.as_str())
                .map_err(|e| ApiError::Issuance(e.to_string()))?;
        let mut detail = AuthorizationDetail::for_configuration(configuration);
        detail.credential_identifiers = Some(vec![identifier]);
        response.authorization_details = Some(vec![detail]);
    }
    state
        .stores
        .grants
        .insert(&AccessGrant {
            token_hash: sha256_hex(response.access_token.as_str()),
            credential_id: code.credential_id,
            credential_configuration_id: code.credential_configuration_id,
            expires_at: now + lifetime,
            jkt: proof.jkt.clone(),
        })
        .await?;
    state.stores.durable().await?;
    Ok((no_store(), Json(response)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://wallet.example/cb",
            "https://wallet.example/cb?x=1",
            // RFC 8252 §7.3: loopback IP literals, any port, for native apps.
            "http://127.0.0.1:9/cb",
            "http://127.0.0.1:51234/callback",
            "http://[::1]:9/cb",
        ] {
            assert_eq!(check_redirect_uri(ok, false), Ok(()), "{ok}");
        }
        for dev_only in [
            "http://localhost/cb",
            "eu.europa.ec.euidi://authorization",
            "intyg-wallet:/cb",
        ] {
            assert!(check_redirect_uri(dev_only, false).is_err(), "{dev_only}");
            assert_eq!(check_redirect_uri(dev_only, true), Ok(()), "{dev_only}");
        }
        for never in [
            "http://wallet.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://10.0.0.1/cb",
            "https://wallet.example/cb#frag",
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
        ] {
            assert!(check_redirect_uri(never, true).is_err(), "{never}");
        }
    }
}
