//! `GET /authorize` and `POST /par` — OpenID4VCI 1.0 §5 (Authorization
//! Request, with RFC 6749 §4.1.1, RFC 7636 PKCE, RFC 9396
//! `authorization_details` and RFC 9126 Pushed Authorization Requests).
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-authorization-request>
//! <https://www.rfc-editor.org/rfc/rfc9126#section-2>
//!
//! Our profile accepts only `response_type=code` and PKCE `S256`: `plain`
//! PKCE is refused, since it protects nothing once the request leaks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::form::{self, FormError};
use super::id::{
    AuthorizationCode, CredentialConfigurationId, CredentialIdentifier, IdError, IssuerState,
};
use super::metadata::ClaimDescription;

/// An `authorization_details` entry of type `openid_credential` (§5.1.1),
/// in Authorization and Token Requests and in the Token Response (§6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationDetail {
    /// `type`: always `openid_credential`.
    #[serde(rename = "type")]
    pub detail_type: AuthorizationDetailType,
    /// `credential_configuration_id`.
    pub credential_configuration_id: CredentialConfigurationId,
    /// `claims`: the claims the Wallet asks for (Appendix B.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimDescription>>,
    /// `locations` (RFC 9396 §2.2): the Credential Issuer Identifier when
    /// the issuer uses an external Authorization Server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// `credential_identifiers`: Token Response only (§6.2), the datasets
    /// the token allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifiers: Option<Vec<CredentialIdentifier>>,
    /// Other data fields (§5.1.1 allows them).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AuthorizationDetail {
    /// A detail asking for one credential configuration.
    pub fn for_configuration(id: CredentialConfigurationId) -> Self {
        Self {
            detail_type: AuthorizationDetailType::OpenidCredential,
            credential_configuration_id: id,
            claims: None,
            locations: None,
            credential_identifiers: None,
            extra: Map::new(),
        }
    }
}

/// Authorization details types we process. Closed: RFC 9396 §5 has an
/// Authorization Server refuse types it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthorizationDetailType {
    /// `openid_credential` (§5.1.1).
    #[serde(rename = "openid_credential")]
    OpenidCredential,
}

/// `code_challenge_method` (RFC 7636 §4.3). Closed: only `S256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CodeChallengeMethod {
    /// `S256`: `BASE64URL(SHA256(code_verifier))`.
    S256,
}

/// An Authorization Request (§5.1), sent as a query or as a PAR body.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationRequest {
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `state`: the Wallet's CSRF token, echoed back.
    pub state: Option<String>,
    /// `code_challenge` (RFC 7636 §4.2).
    pub code_challenge: Option<String>,
    /// `code_challenge_method`; `Some` whenever `code_challenge` is.
    pub code_challenge_method: Option<CodeChallengeMethod>,
    /// `authorization_details` (§5.1.1).
    pub authorization_details: Option<Vec<AuthorizationDetail>>,
    /// `scope` (§5.1.2).
    pub scope: Option<String>,
    /// `issuer_state` (§5.1.3), from the Credential Offer.
    pub issuer_state: Option<IssuerState>,
    /// `resource` (RFC 8707), the Credential Issuer when `scope` is used
    /// with an external Authorization Server.
    pub resource: Option<String>,
    /// Other parameters (RFC 6749 §3.1: ignore them).
    pub extra: BTreeMap<String, String>,
}

/// What `GET /authorize` can carry: a full request, or a reference to a
/// pushed one (RFC 9126 §4).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeQuery {
    /// A request in the query.
    Request(AuthorizationRequest),
    /// `client_id` and the `request_uri` from a PAR response.
    Pushed {
        /// `client_id`.
        client_id: String,
        /// `request_uri`, e.g. `urn:ietf:params:oauth:request_uri:…`.
        request_uri: String,
    },
}

/// Why an Authorization Request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizationRequestError {
    /// Not valid form encoding.
    #[error("malformed authorization request: {0}")]
    Form(#[from] FormError),
    /// A required parameter is absent.
    #[error("the authorization request lacks `{0}`")]
    MissingParameter(&'static str),
    /// `response_type` is not `code`.
    #[error("unsupported response_type `{0}`: only `code` is supported")]
    UnsupportedResponseType(String),
    /// `code_challenge_method` is not `S256`, or is absent (which RFC 7636
    /// reads as `plain`).
    #[error("code_challenge_method must be S256, not `{0}`")]
    UnsupportedChallengeMethod(String),
    /// `code_challenge_method` without `code_challenge`.
    #[error("code_challenge_method is present without code_challenge")]
    MethodWithoutChallenge,
    /// `code_challenge` is not 43 base64url characters (an S256 digest).
    #[error("code_challenge is not a base64url SHA-256 digest")]
    InvalidCodeChallenge,
    /// `authorization_details` is not a JSON array of `openid_credential`
    /// objects.
    #[error("invalid authorization_details: {0}")]
    InvalidAuthorizationDetails(#[source] serde_json::Error),
    /// `issuer_state` is empty, blank or has bad characters.
    #[error("invalid issuer_state: {0}")]
    InvalidIssuerState(#[source] IdError),
    /// Neither `authorization_details` nor `scope` says what to issue.
    #[error("the request has neither authorization_details nor scope")]
    NothingRequested,
}

impl AuthorizationRequestError {
    /// The RFC 6749 §4.1.2.1 / RFC 9396 §5 error code for the redirect.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::InvalidAuthorizationDetails(_) => "invalid_authorization_details",
            _ => "invalid_request",
        }
    }
}

fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl AuthorizationRequest {
    /// A request for `details` with PKCE.
    pub fn new(
        client_id: impl Into<String>,
        code_challenge: impl Into<String>,
        details: Vec<AuthorizationDetail>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: None,
            state: None,
            code_challenge: Some(code_challenge.into()),
            code_challenge_method: Some(CodeChallengeMethod::S256),
            authorization_details: Some(details),
            scope: None,
            issuer_state: None,
            resource: None,
            extra: BTreeMap::new(),
        }
    }

    /// Parses a query string or PAR body (without the leading `?`).
    pub fn from_form(input: &str) -> Result<Self, AuthorizationRequestError> {
        Self::from_params(form::parse(input)?)
    }

    fn from_params(
        mut params: BTreeMap<String, String>,
    ) -> Result<Self, AuthorizationRequestError> {
        use AuthorizationRequestError as E;
        match params.remove("response_type") {
            None => return Err(E::MissingParameter("response_type")),
            Some(code) if code == "code" => {}
            Some(other) => return Err(E::UnsupportedResponseType(other)),
        }
        let client_id = params
            .remove("client_id")
            .ok_or(E::MissingParameter("client_id"))?;
        let code_challenge = params.remove("code_challenge");
        let code_challenge_method = match (params.remove("code_challenge_method"), &code_challenge)
        {
            (Some(method), Some(_)) if method == "S256" => Some(CodeChallengeMethod::S256),
            (Some(method), Some(_)) => return Err(E::UnsupportedChallengeMethod(method)),
            (None, Some(_)) => return Err(E::UnsupportedChallengeMethod("plain".into())),
            (Some(_), None) => return Err(E::MethodWithoutChallenge),
            (None, None) => None,
        };
        if code_challenge
            .as_deref()
            .is_some_and(|c| !is_s256_challenge(c))
        {
            return Err(E::InvalidCodeChallenge);
        }
        let authorization_details = params
            .remove("authorization_details")
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(E::InvalidAuthorizationDetails)?;
        let scope = params.remove("scope");
        if authorization_details.is_none() && scope.is_none() {
            return Err(E::NothingRequested);
        }
        let issuer_state = params
            .remove("issuer_state")
            .map(IssuerState::try_from)
            .transpose()
            .map_err(E::InvalidIssuerState)?;
        Ok(Self {
            client_id,
            redirect_uri: params.remove("redirect_uri"),
            state: params.remove("state"),
            code_challenge,
            code_challenge_method,
            authorization_details,
            scope,
            issuer_state,
            resource: params.remove("resource"),
            extra: params,
        })
    }

    /// The request as a query string or PAR body (no leading `?`).
    pub fn to_form(&self) -> String {
        // Serializing plain data structs cannot fail; `[]` keeps the
        // output well-formed regardless.
        let details = self
            .authorization_details
            .as_ref()
            .map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".to_owned()));
        let method = self.code_challenge_method.map(|_| "S256");
        let pairs = [
            ("response_type", Some("code")),
            ("client_id", Some(self.client_id.as_str())),
            ("redirect_uri", self.redirect_uri.as_deref()),
            ("state", self.state.as_deref()),
            ("code_challenge", self.code_challenge.as_deref()),
            ("code_challenge_method", method),
            ("authorization_details", details.as_deref()),
            ("scope", self.scope.as_deref()),
            (
                "issuer_state",
                self.issuer_state.as_ref().map(|s| s.as_str()),
            ),
            ("resource", self.resource.as_deref()),
        ];
        form::serialize(
            pairs
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| (name, v)))
                .chain(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        )
    }
}

impl AuthorizeQuery {
    /// Parses the query of `GET /authorize`: a reference to a pushed
    /// request if `request_uri` is present, a full request otherwise.
    pub fn parse(query: &str) -> Result<Self, AuthorizationRequestError> {
        let mut params = form::parse(query)?;
        match params.remove("request_uri") {
            Some(request_uri) => Ok(Self::Pushed {
                client_id: params
                    .remove("client_id")
                    .ok_or(AuthorizationRequestError::MissingParameter("client_id"))?,
                request_uri,
            }),
            None => AuthorizationRequest::from_params(params).map(Self::Request),
        }
    }
}

/// The Pushed Authorization Response (RFC 9126 §2.2), status 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedAuthorizationResponse {
    /// `request_uri`: a one-time reference to the pushed request.
    pub request_uri: String,
    /// `expires_in`: its lifetime in seconds.
    pub expires_in: u64,
}

/// The Authorization Response a Wallet's `redirect_uri` receives (RFC 6749
/// §4.1.2, §4.1.2.1), with the issuer identification of RFC 9207 §2:
/// either a code or an error, and the `state` the request carried.
///
/// <https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2>
/// <https://www.rfc-editor.org/rfc/rfc9207#section-2>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The code, or why there is none.
    pub outcome: AuthorizationOutcome,
    /// `state`, echoed from the Authorization Request.
    pub state: Option<String>,
    /// `iss` (RFC 9207): the Authorization Server's issuer identifier.
    pub iss: Option<String>,
}

/// What the Authorization Server decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationOutcome {
    /// `code`: to redeem at the Token Endpoint.
    Code(AuthorizationCode),
    /// `error` (RFC 6749 §4.1.2.1): e.g. `access_denied`. Open: extensions
    /// (RFC 9396 `invalid_authorization_details`, …) add codes.
    Error {
        /// `error`.
        error: String,
        /// `error_description`.
        error_description: Option<String>,
        /// `error_uri`.
        error_uri: Option<String>,
    },
}

/// Why a redirect to the Wallet is not an Authorization Response.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizationResponseError {
    /// Not valid form encoding, or a parameter repeats.
    #[error("malformed authorization response: {0}")]
    Form(#[from] FormError),
    /// Neither `code` nor `error`.
    #[error("the authorization response has neither `code` nor `error`")]
    NoOutcome,
    /// Both `code` and `error`.
    #[error("the authorization response has both `code` and `error`")]
    BothOutcomes,
    /// `code` is empty or has characters outside printable ASCII.
    #[error("invalid code: {0}")]
    InvalidCode(#[source] IdError),
}

impl AuthorizationResponse {
    /// Parses the query of the redirect (without the leading `?`).
    /// Unknown parameters are ignored (RFC 6749 §3.1).
    pub fn from_query(query: &str) -> Result<Self, AuthorizationResponseError> {
        use AuthorizationResponseError as E;
        let mut params = form::parse(query)?;
        let outcome = match (params.remove("code"), params.remove("error")) {
            (Some(_), Some(_)) => return Err(E::BothOutcomes),
            (None, None) => return Err(E::NoOutcome),
            (Some(code), None) => AuthorizationOutcome::Code(
                AuthorizationCode::try_from(code).map_err(E::InvalidCode)?,
            ),
            (None, Some(error)) => AuthorizationOutcome::Error {
                error,
                error_description: params.remove("error_description"),
                error_uri: params.remove("error_uri"),
            },
        };
        Ok(Self {
            outcome,
            state: params.remove("state"),
            iss: params.remove("iss"),
        })
    }

    /// The response as a query string (no leading `?`).
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = match &self.outcome {
            AuthorizationOutcome::Code(code) => vec![("code", code.as_str())],
            AuthorizationOutcome::Error {
                error,
                error_description,
                error_uri,
            } => [
                ("error", Some(error.as_str())),
                ("error_description", error_description.as_deref()),
                ("error_uri", error_uri.as_deref()),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect(),
        };
        pairs.extend(
            [
                ("state", self.state.as_deref()),
                ("iss", self.iss.as_deref()),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v))),
        );
        form::serialize(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_4_1_2_responses_parse_and_round_trip() {
        let ok = AuthorizationResponse::from_query(
            "code=SplxlOBeZQQYbYS6WxSbIA&state=xyz&iss=https%3A%2F%2Fas.example&x=1",
        )
        .unwrap();
        assert_eq!(
            ok.outcome,
            AuthorizationOutcome::Code("SplxlOBeZQQYbYS6WxSbIA".parse().unwrap())
        );
        assert_eq!(ok.state.as_deref(), Some("xyz"));
        assert_eq!(ok.iss.as_deref(), Some("https://as.example"));
        assert_eq!(
            AuthorizationResponse::from_query(&ok.to_query()).unwrap(),
            ok
        );

        let denied = AuthorizationResponse::from_query(
            "error=access_denied&error_description=no+thanks&state=xyz",
        )
        .unwrap();
        assert_eq!(
            denied.outcome,
            AuthorizationOutcome::Error {
                error: "access_denied".into(),
                error_description: Some("no thanks".into()),
                error_uri: None,
            }
        );
        assert_eq!(
            AuthorizationResponse::from_query(&denied.to_query()).unwrap(),
            denied
        );
    }

    #[test]
    fn authorization_response_errors_are_typed() {
        use AuthorizationResponseError as E;
        type Case = (&'static str, fn(&E) -> bool);
        let cases: [Case; 5] = [
            ("state=x", |e| matches!(e, E::NoOutcome)),
            ("code=c&error=access_denied", |e| {
                matches!(e, E::BothOutcomes)
            }),
            ("code=", |e| matches!(e, E::InvalidCode(_))),
            ("code=a%0Ab", |e| matches!(e, E::InvalidCode(_))),
            ("code=a&code=b", |e| {
                matches!(e, E::Form(FormError::Duplicate(_)))
            }),
        ];
        for (query, expected) in cases {
            let error = AuthorizationResponse::from_query(query).unwrap_err();
            assert!(expected(&error), "{query}: {error:?}");
        }
    }

    /// Whether an error is the expected one.
    type Check<E> = fn(&E) -> bool;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn request() -> AuthorizationRequest {
        let mut request = AuthorizationRequest::new(
            "wallet",
            CHALLENGE,
            vec![AuthorizationDetail::for_configuration(
                "registration-certificate".parse().unwrap(),
            )],
        );
        request.redirect_uri = Some("https://wallet.example/cb".into());
        request.state = Some("s 1".into());
        request.issuer_state = Some("st".parse().unwrap());
        request
    }

    #[test]
    fn round_trips_through_the_form() {
        let form = request().to_form();
        assert!(form.starts_with("response_type=code&client_id=wallet"));
        assert_eq!(AuthorizationRequest::from_form(&form).unwrap(), request());
        let AuthorizeQuery::Request(back) = AuthorizeQuery::parse(&form).unwrap() else {
            panic!("expected a full request");
        };
        assert_eq!(back, request());
    }

    #[test]
    fn pushed_reference_is_recognised() {
        assert_eq!(
            AuthorizeQuery::parse("client_id=c&request_uri=urn%3Ax").unwrap(),
            AuthorizeQuery::Pushed {
                client_id: "c".into(),
                request_uri: "urn:x".into()
            }
        );
        assert!(matches!(
            AuthorizeQuery::parse("request_uri=urn%3Ax"),
            Err(AuthorizationRequestError::MissingParameter("client_id"))
        ));
    }

    #[test]
    fn every_rule_has_its_error() {
        use AuthorizationRequestError as E;
        let ok = format!("response_type=code&client_id=c&scope=s&code_challenge={CHALLENGE}");
        let cases: Vec<(String, Check<E>)> = vec![
            ("client_id=c&scope=s".into(), |e| matches!(e, E::MissingParameter("response_type"))),
            ("response_type=code&scope=s".into(), |e| matches!(e, E::MissingParameter("client_id"))),
            ("response_type=token&client_id=c".into(), |e| matches!(e, E::UnsupportedResponseType(t) if t == "token")),
            (format!("{ok}&code_challenge_method=plain"), |e| matches!(e, E::UnsupportedChallengeMethod(m) if m == "plain")),
            (ok.clone(), |e| matches!(e, E::UnsupportedChallengeMethod(m) if m == "plain")),
            ("response_type=code&client_id=c&scope=s&code_challenge_method=S256".into(), |e| matches!(e, E::MethodWithoutChallenge)),
            ("response_type=code&client_id=c&scope=s&code_challenge=short&code_challenge_method=S256".into(), |e| matches!(e, E::InvalidCodeChallenge)),
            ("response_type=code&client_id=c&authorization_details=%5B%7B%22type%22%3A%22x%22%7D%5D".into(), |e| matches!(e, E::InvalidAuthorizationDetails(_))),
            ("response_type=code&client_id=c&scope=s&issuer_state=%20".into(), |e| matches!(e, E::InvalidIssuerState(IdError::Blank(_)))),
            ("response_type=code&client_id=c".into(), |e| matches!(e, E::NothingRequested)),
            ("response_type=code&response_type=code".into(), |e| matches!(e, E::Form(FormError::Duplicate(_)))),
        ];
        for (input, expected) in cases {
            let error = AuthorizationRequest::from_form(&input).unwrap_err();
            assert!(expected(&error), "{input}: {error:?}");
        }
    }

    #[test]
    fn error_codes_for_the_redirect() {
        use AuthorizationRequestError as E;
        assert_eq!(
            E::UnsupportedResponseType("x".into()).error_code(),
            "unsupported_response_type"
        );
        let json = serde_json::from_str::<Value>("[").unwrap_err();
        assert_eq!(
            E::InvalidAuthorizationDetails(json).error_code(),
            "invalid_authorization_details"
        );
        assert_eq!(E::NothingRequested.error_code(), "invalid_request");
    }
}
