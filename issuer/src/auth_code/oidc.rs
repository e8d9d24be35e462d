//! The issuer as an OpenID Connect relying party of the configured
//! provider (BankID or Freja eID Plus through an IdP, or `intyg-dev-idp`):
//! discovery (OpenID Connect Discovery 1.0 §4), the authorization code
//! flow with PKCE, `state` and `nonce`, the token exchange with
//! `client_secret_basic` (RFC 6749 §2.3.1), ID token validation
//! ([`super::id_token`]) and, when the ID token lacks the identity claim,
//! the UserInfo endpoint (OIDC Core §5.3).
//!
//! Outgoing requests have time limits, follow no redirects, read at most
//! [`MAX_RESPONSE_BYTES`], and go to https URLs only, outside development
//! mode (where http to loopback is allowed).

use std::time::Duration;

use intyg_core::oid4vci::UrlRules;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use super::id_token::{self, Expected, IdTokenError, ProviderJwks};
use crate::config::ConfigError;

/// Largest response body read from the provider.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Time limit of one request to the provider.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The external OpenID Provider (`[oidc]` in the configuration).
///
/// ```toml
/// [oidc]
/// issuer_url = "https://idp.agency.se"
/// client_id = "intyg-issuer"
/// # client_secret: better from the environment, INTYG_OIDC_CLIENT_SECRET
/// identity_claim = "personal_identity_number"   # or "sub", or
/// # "https://id.oidc.se/claim/personalIdentityNumber" (Swedish OIDC profile)
/// scopes = ["openid", "profile"]
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer identifier; discovery is at
    /// `<issuer_url>/.well-known/openid-configuration`.
    pub issuer_url: String,
    /// Our client id at the provider.
    pub client_id: String,
    /// Our client secret (`client_secret_basic`).
    #[serde(default)]
    pub client_secret: String,
    /// The claim holding the personal identity number (`sub` maps the
    /// subject identifier itself).
    #[serde(default = "default_identity_claim")]
    pub identity_claim: String,
    /// Scopes requested; `openid` is always added.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("identity_claim", &self.identity_claim)
            .field("scopes", &self.scopes)
            .finish()
    }
}

fn default_identity_claim() -> String {
    "personal_identity_number".to_owned()
}

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned()]
}

impl OidcConfig {
    /// Applies `INTYG_OIDC_ISSUER_URL`, `INTYG_OIDC_CLIENT_ID` and
    /// `INTYG_OIDC_CLIENT_SECRET` to the `[oidc]` table (creating it if the
    /// issuer URL comes from the environment).
    pub fn with_env(current: Option<Self>) -> Result<Option<Self>, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let mut config = match (current, var("INTYG_OIDC_ISSUER_URL")) {
            (Some(mut config), Some(url)) => {
                config.issuer_url = url;
                config
            }
            (Some(config), None) => config,
            (None, Some(url)) => Self {
                issuer_url: url,
                client_id: String::new(),
                client_secret: String::new(),
                identity_claim: default_identity_claim(),
                scopes: default_scopes(),
            },
            (None, None) => return Ok(None),
        };
        if let Some(id) = var("INTYG_OIDC_CLIENT_ID") {
            config.client_id = id;
        }
        if let Some(secret) = var("INTYG_OIDC_CLIENT_SECRET") {
            config.client_secret = secret;
        }
        if config.client_id.is_empty() {
            return Err(ConfigError::Env("INTYG_OIDC_CLIENT_ID"));
        }
        if config.client_secret.is_empty() {
            return Err(ConfigError::Env("INTYG_OIDC_CLIENT_SECRET"));
        }
        config.issuer_url = config.issuer_url.trim_end_matches('/').to_owned();
        Ok(Some(config))
    }
}

/// Why a login at the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A URL (configured or from discovery) breaks the scheme rules.
    #[error("provider URL {0} is not allowed (https only outside development mode)")]
    InsecureUrl(String),
    /// The provider could not be reached or answered with an HTTP error.
    #[error("provider request to {url} failed: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The response was larger than [`MAX_RESPONSE_BYTES`].
    #[error("provider response from {0} is too large")]
    TooLarge(String),
    /// The response was not the JSON document expected.
    #[error("provider response from {url} does not parse: {reason}")]
    Malformed {
        /// The URL.
        url: String,
        /// The parse error.
        reason: String,
    },
    /// Discovery names another issuer than the configured one.
    #[error("discovery document names issuer {0}, not the configured one")]
    IssuerMismatch(String),
    /// The token endpoint refused the code (`error` of its response).
    #[error("provider token endpoint refused the code: {0}")]
    TokenRefused(String),
    /// The ID token failed validation.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// Neither the ID token nor UserInfo carries the identity claim.
    #[error("the provider did not send the `{0}` claim")]
    MissingIdentity(String),
    /// UserInfo is about another subject than the ID token.
    #[error("UserInfo `sub` differs from the ID token's")]
    UserInfoSubject,
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}

/// The provider's discovery document, the members we use.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    /// `issuer`.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `jwks_uri`.
    pub jwks_uri: String,
    /// `userinfo_endpoint`.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct ProviderTokens {
    access_token: String,
    id_token: String,
}

#[derive(Deserialize)]
struct ProviderError {
    error: String,
}

/// The relying party: an HTTP client built on first use.
#[derive(Debug, Default)]
pub struct RelyingParty {
    http: tokio::sync::OnceCell<reqwest::Client>,
}

/// What a finished login tells us.
#[derive(Debug)]
pub struct LoggedIn {
    /// The value of the identity claim: who logged in.
    pub identity: String,
}

impl RelyingParty {
    async fn client(&self) -> Result<&reqwest::Client, LoginError> {
        self.http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .timeout(TIMEOUT)
                    .connect_timeout(TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| LoginError::Client(e.to_string()))
            })
            .await
    }

    /// Fetches and checks the provider's discovery document.
    pub async fn discover(
        &self,
        config: &OidcConfig,
        rules: UrlRules,
    ) -> Result<ProviderMetadata, LoginError> {
        let url = format!("{}/.well-known/openid-configuration", config.issuer_url);
        let metadata: ProviderMetadata = self.get_json(&url, rules, None).await?;
        if metadata.issuer.trim_end_matches('/') != config.issuer_url {
            return Err(LoginError::IssuerMismatch(metadata.issuer));
        }
        for endpoint in [
            &metadata.authorization_endpoint,
            &metadata.token_endpoint,
            &metadata.jwks_uri,
        ]
        .into_iter()
        .chain(&metadata.userinfo_endpoint)
        {
            if !rules.allows(endpoint) {
                return Err(LoginError::InsecureUrl(endpoint.clone()));
            }
        }
        Ok(metadata)
    }

    /// The provider's authorization URL for a login.
    pub fn authorization_url(
        metadata: &ProviderMetadata,
        config: &OidcConfig,
        params: &LoginParams<'_>,
    ) -> Result<String, LoginError> {
        let mut url = Url::parse(&metadata.authorization_endpoint)
            .map_err(|_| LoginError::InsecureUrl(metadata.authorization_endpoint.clone()))?;
        let mut scopes = vec!["openid"];
        scopes.extend(
            config
                .scopes
                .iter()
                .map(String::as_str)
                .filter(|s| *s != "openid"),
        );
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &config.client_id)
                .append_pair("redirect_uri", params.redirect_uri)
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", params.state)
                .append_pair("nonce", params.nonce)
                .append_pair("code_challenge", params.code_challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = params.login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(url.into())
    }

    /// Exchanges the provider's code, validates the ID token and returns
    /// the identity claim.
    pub async fn finish(
        &self,
        config: &OidcConfig,
        rules: UrlRules,
        exchange: &Exchange<'_>,
    ) -> Result<LoggedIn, LoginError> {
        let metadata = self.discover(config, rules).await?;
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let request = self
            .client()
            .await?
            .post(&metadata.token_endpoint)
            .basic_auth(
                encode(&config.client_id),
                Some(encode(&config.client_secret)),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", exchange.code),
                ("redirect_uri", exchange.redirect_uri),
                ("code_verifier", exchange.code_verifier),
            ]);
        let (status, body) = self.send(&metadata.token_endpoint, request).await?;
        if !status.is_success() {
            let error = serde_json::from_slice::<ProviderError>(&body)
                .map_or_else(|_| format!("HTTP {status}"), |e| e.error);
            return Err(LoginError::TokenRefused(error));
        }
        let tokens: ProviderTokens = parse(&metadata.token_endpoint, &body)?;
        let jwks: ProviderJwks = self.get_json(&metadata.jwks_uri, rules, None).await?;
        let claims = id_token::validate(
            &tokens.id_token,
            &jwks,
            &Expected {
                issuer: &metadata.issuer,
                client_id: &config.client_id,
                nonce: exchange.nonce,
                now: exchange.now,
            },
        )?;
        if let Some(identity) = identity_of(&claims, &config.identity_claim) {
            return Ok(LoggedIn { identity });
        }
        let Some(userinfo_endpoint) = &metadata.userinfo_endpoint else {
            return Err(LoginError::MissingIdentity(config.identity_claim.clone()));
        };
        let userinfo: Map<String, Value> = self
            .get_json(userinfo_endpoint, rules, Some(&tokens.access_token))
            .await?;
        if userinfo.get("sub") != claims.get("sub") {
            return Err(LoginError::UserInfoSubject);
        }
        identity_of(&userinfo, &config.identity_claim)
            .map(|identity| LoggedIn { identity })
            .ok_or_else(|| LoginError::MissingIdentity(config.identity_claim.clone()))
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        rules: UrlRules,
        bearer: Option<&str>,
    ) -> Result<T, LoginError> {
        if !rules.allows(url) {
            return Err(LoginError::InsecureUrl(url.to_owned()));
        }
        let mut request = self.client().await?.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let (status, body) = self.send(url, request).await?;
        if !status.is_success() {
            return Err(LoginError::Http {
                url: url.to_owned(),
                reason: format!("HTTP {status}"),
            });
        }
        parse(url, &body)
    }

    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), LoginError> {
        let http = |e: reqwest::Error| LoginError::Http {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        let mut response = request.send().await.map_err(http)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(LoginError::TooLarge(url.to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

fn parse<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, LoginError> {
    serde_json::from_slice(body).map_err(|e| LoginError::Malformed {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

/// The identity claim's value, if it is a non-empty string.
fn identity_of(claims: &Map<String, Value>, claim: &str) -> Option<String> {
    claims
        .get(claim)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
}

/// The parameters of one login request to the provider.
#[derive(Debug)]
pub struct LoginParams<'a> {
    /// Our callback.
    pub redirect_uri: &'a str,
    /// `state` (CSRF, and the key of the pending login).
    pub state: &'a str,
    /// `nonce`, to be echoed in the ID token.
    pub nonce: &'a str,
    /// PKCE S256 challenge of our verifier.
    pub code_challenge: &'a str,
    /// `login_hint` from the wallet, if any.
    pub login_hint: Option<&'a str>,
}

/// What the token exchange needs.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The provider's authorization code.
    pub code: &'a str,
    /// Our callback, as sent in the login request.
    pub redirect_uri: &'a str,
    /// Our PKCE verifier.
    pub code_verifier: &'a str,
    /// The nonce sent.
    pub nonce: &'a str,
    /// Now, seconds since the epoch.
    pub now: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_claim_may_be_sub_and_must_be_a_non_empty_string() {
        let claims: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "sub": "abc", "personal_identity_number": "199403172381", "blank": " ", "n": 7
        }))
        .unwrap();
        assert_eq!(identity_of(&claims, "sub").as_deref(), Some("abc"));
        assert_eq!(
            identity_of(&claims, "personal_identity_number").as_deref(),
            Some("199403172381")
        );
        assert_eq!(identity_of(&claims, "blank"), None);
        assert_eq!(identity_of(&claims, "n"), None);
        assert_eq!(identity_of(&claims, "absent"), None);
    }

    #[test]
    fn login_url_carries_pkce_state_nonce_and_openid_scope() {
        let metadata = ProviderMetadata {
            issuer: "https://idp.example".into(),
            authorization_endpoint: "https://idp.example/auth?tenant=a".into(),
            token_endpoint: "https://idp.example/token".into(),
            jwks_uri: "https://idp.example/jwks".into(),
            userinfo_endpoint: None,
        };
        let config = OidcConfig {
            issuer_url: "https://idp.example".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            identity_claim: default_identity_claim(),
            scopes: vec!["profile".into(), "openid".into()],
        };
        let url = RelyingParty::authorization_url(
            &metadata,
            &config,
            &LoginParams {
                redirect_uri: "https://issuer.example/authorize/callback",
                state: "st",
                nonce: "no",
                code_challenge: "ch",
                login_hint: Some("199403172381"),
            },
        )
        .unwrap();
        let parsed = Url::parse(&url).unwrap();
        let pairs: std::collections::BTreeMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs["tenant"], "a");
        assert_eq!(pairs["scope"], "openid profile");
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["nonce"], "no");
        assert_eq!(pairs["state"], "st");
        assert_eq!(pairs["login_hint"], "199403172381");
        assert!(!format!("{config:?}").contains("\"s\""));
    }
}
