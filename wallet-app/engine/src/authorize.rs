//! Receiving credentials — OpenID4VCI 1.0, authorization code flow (§3.4,
//! §5, §6) as a native app: PKCE S256 (RFC 7636), Pushed Authorization
//! Requests (RFC 9126) when the server has them, a loopback or app
//! redirect URI (RFC 8252 §7).
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-authorization-code-flow>
//! <https://www.rfc-editor.org/rfc/rfc9126#section-2>
//! <https://www.rfc-editor.org/rfc/rfc7636#section-4>
//! <https://www.rfc-editor.org/rfc/rfc8252#section-7.3>
//!
//! Two steps, because the person logs in at the issuer in a browser
//! between them:
//!
//! 1. [`Wallet::begin_authorization`]: an [`Offer`] (from a link, or from
//!    [`Wallet::fetch_issuer`] for wallet-initiated issuance) and the
//!    configurations to receive → a PKCE verifier and a `state` from the
//!    system CSPRNG → the Authorization Request (§5.1:
//!    `authorization_details` of type `openid_credential`, or `scope` when
//!    the server takes no details; `issuer_state` from the offer's grant)
//!    pushed to the PAR endpoint when the server has one (RFC 9126 §2; it
//!    must when it sets `require_pushed_authorization_requests`), else
//!    carried in the URL → a [`PendingAuthorization`] with the URL to open.
//! 2. [`Wallet::finish_authorization`]: the URL the browser was sent back
//!    to → a redirect to the same URI, `state` exactly the one sent
//!    (RFC 6749 §10.12), `iss` the server's (RFC 9207) → an `error`
//!    becomes [`ReceiveError::AuthorizationRefused`] → `/token` with the
//!    code, `code_verifier` and `redirect_uri` (§6.1) → the steps every
//!    grant shares ([`crate::receive`]): nonce, proofs, credential
//!    (by `credential_identifier` when the Token Response names datasets),
//!    verification, storage with a history entry.
//!
//! Nothing is stored unless every step succeeded. A [`PendingAuthorization`]
//! holds the PKCE verifier, a secret: keep it only while the login lasts,
//! and only where the wallet keeps its other secrets.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use intyg_core::oid4vci::{
    AuthorizationCodeTokenRequest, AuthorizationDetail, AuthorizationOutcome, AuthorizationRequest,
    AuthorizationResponse, AuthorizationServerMetadata, CodeVerifier, CredentialConfigurationId,
    OfferError, PushedAuthorizationResponse, TokenRequest,
};
use intyg_core::vc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::Wallet;
use crate::crypto::random;
use crate::dpop::DpopSession;
use crate::receive::{Offer, ReceiveError, Received};

/// The `client_id` the wallet sends. Wallets are public clients that no
/// issuer registers in advance (RFC 6749 §2.1, RFC 8252 §8.4); PKCE binds
/// the code to this wallet instance.
pub const CLIENT_ID: &str = "intyg-wallet";

/// An authorization in progress: the URL to open, and what
/// [`Wallet::finish_authorization`] needs to redeem the code. It can be
/// serialized, so that an app the system stops during the login can
/// finish after a restart; it then holds the PKCE verifier in the clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    offer: Offer,
    authorization_server: AuthorizationServerMetadata,
    configurations: Vec<CredentialConfigurationId>,
    redirect_uri: String,
    state: String,
    #[serde(with = "verifier")]
    code_verifier: CodeVerifier,
    authorization_url: String,
    /// The flow's DPoP key and nonces, when the server takes DPoP: the
    /// PAR bound the code to this key, so the token request must use it.
    #[serde(with = "crate::dpop::stored", default)]
    dpop: Option<Arc<DpopSession>>,
}

impl PendingAuthorization {
    /// The URL to open in a browser: the issuer's authorization endpoint
    /// with the request, or with the `request_uri` of the pushed one.
    pub fn authorization_url(&self) -> &str {
        &self.authorization_url
    }

    /// The redirect URI the browser will come back to.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The `state` sent; the callback must carry it back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The credential issuer.
    pub fn issuer(&self) -> &str {
        self.offer.issuer()
    }

    /// The configurations asked for.
    pub fn configurations(&self) -> &[CredentialConfigurationId] {
        &self.configurations
    }

    /// The query of `callback` if it is a redirect to our redirect URI
    /// (same scheme, host, port and path).
    fn callback_query(&self, callback: &str) -> Result<String, ReceiveError> {
        let mismatch = || ReceiveError::CallbackMismatch(self.redirect_uri.clone());
        let expected = Url::parse(&self.redirect_uri).map_err(|_| mismatch())?;
        let got = Url::parse(callback.trim()).map_err(|_| mismatch())?;
        let same = got.scheme() == expected.scheme()
            && got.host() == expected.host()
            && got.port_or_known_default() == expected.port_or_known_default()
            && got.path() == expected.path();
        if !same {
            return Err(mismatch());
        }
        Ok(got.query().unwrap_or_default().to_owned())
    }
}

/// A `CodeVerifier` as its string, checked again when read back.
mod verifier {
    use intyg_core::oid4vci::CodeVerifier;
    use serde::de::Error as _;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        verifier: &CodeVerifier,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(verifier.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<CodeVerifier, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(D::Error::custom)
    }
}

/// The authorization endpoint, if `server` runs the authorization code
/// flow as this wallet does: an endpoint, the grant type when grant types
/// are listed (RFC 8414 §2 defaults include it), S256 when PKCE methods are
/// listed.
pub(crate) fn code_flow_support(
    server: &AuthorizationServerMetadata,
) -> Result<&str, ReceiveError> {
    let unsupported = ReceiveError::AuthorizationCodeUnsupported;
    let endpoint = server
        .authorization_endpoint
        .as_deref()
        .ok_or(unsupported("it has no authorization_endpoint"))?;
    if server
        .grant_types_supported
        .as_ref()
        .is_some_and(|types| !types.iter().any(|t| t == "authorization_code"))
    {
        return Err(unsupported(
            "authorization_code is not among its grant_types_supported",
        ));
    }
    if server
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|methods| !methods.iter().any(|m| m == "S256"))
    {
        return Err(unsupported(
            "PKCE S256 is not among its code_challenge_methods_supported",
        ));
    }
    Ok(endpoint)
}

/// `base` with `query` appended (`?` or `&`).
fn with_query(base: &str, query: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}")
}

impl Wallet {
    /// Starts the authorization code flow for `configurations` of `offer`,
    /// to come back to `redirect_uri` (for a native app, e.g.
    /// `http://127.0.0.1:{port}/callback`, RFC 8252 §7.3). Pushes the
    /// request when the server has a PAR endpoint. Stores nothing; open
    /// [`PendingAuthorization::authorization_url`] in a browser and pass
    /// the redirect to [`Wallet::finish_authorization`].
    pub async fn begin_authorization(
        &self,
        offer: &Offer,
        configurations: &[CredentialConfigurationId],
        redirect_uri: &str,
    ) -> Result<PendingAuthorization, ReceiveError> {
        if configurations.is_empty() {
            return Err(ReceiveError::NoConfiguration);
        }
        let mut scopes = Vec::new();
        for id in configurations {
            let configuration = offer
                .metadata
                .credential_configurations_supported
                .get(id)
                .filter(|_| offer.offer.credential_configuration_ids.contains(id))
                .ok_or_else(|| OfferError::UnknownCredentialConfiguration(id.clone()))?;
            let format = configuration.format.as_str();
            if format != vc::TYP && format != vc::LEGACY_TYP {
                return Err(ReceiveError::UnsupportedFormat {
                    id: id.as_str().to_owned(),
                    format: format.to_owned(),
                });
            }
            scopes.push(configuration.scope.clone());
        }
        let redirect = Url::parse(redirect_uri)
            .map_err(|_| ReceiveError::InvalidRedirectUri(redirect_uri.to_owned()))?;
        if redirect.fragment().is_some() {
            return Err(ReceiveError::InvalidRedirectUri(redirect_uri.to_owned()));
        }
        let grant = offer.offer.authorization_code_grant();
        let server = match grant.and_then(|g| g.authorization_server.as_deref()) {
            Some(named) if !same_identifier(named, &offer.authorization_server.issuer) => {
                self.authorization_server_metadata(named).await?
            }
            _ => offer.authorization_server.clone(),
        };
        let endpoint = code_flow_support(&server)?;
        self.http().check(endpoint)?;
        offer.check_certification_demands(&server, configurations)?;
        let dpop = DpopSession::for_server(&server)?.map(Arc::new);

        let code_verifier = CodeVerifier::generate()?;
        let state: String = random::<16>()?.iter().map(|b| format!("{b:02x}")).collect();
        let mut request =
            AuthorizationRequest::new(CLIENT_ID, code_verifier.s256_challenge(), Vec::new());
        let takes_details = server
            .authorization_details_types_supported
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == "openid_credential"));
        let scopes: Option<Vec<String>> = scopes.into_iter().collect();
        match scopes {
            // §5.1.2: by scope when the server takes no details.
            Some(scopes) if !takes_details => {
                request.authorization_details = None;
                request.scope = Some(scopes.join(" "));
                if !same_identifier(&server.issuer, offer.issuer()) {
                    request.resource = Some(offer.issuer().to_owned());
                }
            }
            _ => {
                // §5.1.1: `locations` names the issuer when its metadata
                // lists authorization servers.
                let locations = offer
                    .metadata
                    .authorization_servers
                    .as_ref()
                    .map(|_| vec![offer.issuer().to_owned()]);
                request.authorization_details = Some(
                    configurations
                        .iter()
                        .map(|id| AuthorizationDetail {
                            locations: locations.clone(),
                            ..AuthorizationDetail::for_configuration(id.clone())
                        })
                        .collect(),
                );
            }
        }
        request.redirect_uri = Some(redirect_uri.to_owned());
        request.state = Some(state.clone());
        request.issuer_state = grant.and_then(|g| g.issuer_state.clone());
        if let Some(session) = &dpop
            && server.pushed_authorization_request_endpoint.is_none()
        {
            // RFC 9449 §10: without PAR (whose DPoP header binds the code),
            // the code is bound to the key by its thumbprint.
            request
                .extra
                .insert("dpop_jkt".into(), session.thumbprint()?);
        }

        let authorization_url = match (
            &server.pushed_authorization_request_endpoint,
            server.require_pushed_authorization_requests,
        ) {
            (Some(par), _) => {
                let pushed = self.push(par, &request, dpop.as_deref()).await?;
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("client_id", CLIENT_ID)
                    .append_pair("request_uri", &pushed.request_uri)
                    .finish();
                with_query(endpoint, &query)
            }
            (None, Some(true)) => {
                return Err(ReceiveError::AuthorizationCodeUnsupported(
                    "it requires pushed authorization requests but has no pushed_authorization_request_endpoint",
                ));
            }
            (None, _) => with_query(endpoint, &request.to_form()),
        };
        tracing::info!(issuer = %offer.issuer(), pushed = server.pushed_authorization_request_endpoint.is_some(), "authorization started");
        Ok(PendingAuthorization {
            offer: offer.clone(),
            authorization_server: server,
            configurations: configurations.to_vec(),
            redirect_uri: redirect_uri.to_owned(),
            state,
            code_verifier,
            authorization_url,
            dpop,
        })
    }

    /// `POST` to the PAR endpoint (RFC 9126 §2.1, §2.2).
    async fn push(
        &self,
        endpoint: &str,
        request: &AuthorizationRequest,
        dpop: Option<&DpopSession>,
    ) -> Result<PushedAuthorizationResponse, ReceiveError> {
        self.post_oauth_form(
            endpoint,
            request.to_form(),
            "pushed authorization request",
            dpop,
            |error, description| ReceiveError::ParRefused { error, description },
        )
        .await
    }

    /// Finishes the authorization code flow with the URL the browser was
    /// redirected to: checks it, redeems the code with the PKCE verifier,
    /// receives, verifies and stores the credentials, and logs the
    /// issuance. Nothing is stored unless every step succeeds.
    pub async fn finish_authorization(
        &mut self,
        pending: PendingAuthorization,
        callback: &str,
    ) -> Result<Received, ReceiveError> {
        let response = AuthorizationResponse::from_query(&pending.callback_query(callback)?)?;
        let state_matches = response.state.as_deref().is_some_and(|state| {
            verify_slices_are_equal(state.as_bytes(), pending.state.as_bytes()).is_ok()
        });
        if !state_matches {
            return Err(ReceiveError::StateMismatch);
        }
        let server = &pending.authorization_server;
        let iss_promised = server
            .extra
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            == Some(true);
        match &response.iss {
            Some(iss) if iss != &server.issuer => {
                return Err(ReceiveError::AuthorizationServerMismatch {
                    expected: server.issuer.clone(),
                    found: Some(iss.clone()),
                });
            }
            None if iss_promised => {
                return Err(ReceiveError::AuthorizationServerMismatch {
                    expected: server.issuer.clone(),
                    found: None,
                });
            }
            _ => {}
        }
        let code = match response.outcome {
            AuthorizationOutcome::Code(code) => code,
            AuthorizationOutcome::Error {
                error,
                error_description,
                ..
            } => {
                tracing::info!(issuer = %pending.issuer(), %error, "authorization refused");
                return Err(ReceiveError::AuthorizationRefused {
                    error,
                    description: error_description,
                });
            }
        };
        let request = TokenRequest::AuthorizationCode(AuthorizationCodeTokenRequest {
            code,
            redirect_uri: Some(pending.redirect_uri.clone()),
            code_verifier: Some(pending.code_verifier.clone()),
            client_id: Some(CLIENT_ID.to_owned()),
            authorization_details: None,
            extra: BTreeMap::new(),
        });
        let dpop = pending.dpop.as_deref();
        let token = self.token(server, request, dpop).await?;
        self.receive(&pending.offer, &pending.configurations, &token, dpop)
            .await
    }
}

/// Whether two issuer identifiers are the same, ignoring a trailing `/`.
fn same_identifier(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(json: serde_json::Value) -> AuthorizationServerMetadata {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn code_flow_support_reads_the_metadata() {
        let full = server(serde_json::json!({
            "issuer": "https://as.example",
            "authorization_endpoint": "https://as.example/authorize",
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
        }));
        assert_eq!(
            code_flow_support(&full).unwrap(),
            "https://as.example/authorize"
        );
        // RFC 8414 defaults: no list means no restriction we can read.
        let bare = server(serde_json::json!({
            "issuer": "https://as.example",
            "authorization_endpoint": "https://as.example/authorize",
        }));
        assert!(code_flow_support(&bare).is_ok());
        for refused in [
            serde_json::json!({"issuer": "https://as.example"}),
            serde_json::json!({"issuer": "https://as.example", "authorization_endpoint": "https://as.example/a",
                "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]}),
            serde_json::json!({"issuer": "https://as.example", "authorization_endpoint": "https://as.example/a",
                "code_challenge_methods_supported": ["plain"]}),
        ] {
            let error = code_flow_support(&server(refused.clone())).unwrap_err();
            assert_eq!(error.code(), "unsupported_grant", "{refused}");
        }
    }

    #[test]
    fn queries_are_appended() {
        assert_eq!(
            with_query("https://as.example/authorize", "a=1"),
            "https://as.example/authorize?a=1"
        );
        assert_eq!(
            with_query("https://as.example/authorize?tenant=x", "a=1"),
            "https://as.example/authorize?tenant=x&a=1"
        );
    }
}
