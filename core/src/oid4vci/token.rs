//! `POST /token` — OpenID4VCI 1.0 §6 (with RFC 6749 §4.1.3, §5 and
//! RFC 7636 PKCE).
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-token-endpoint>
//! <https://www.rfc-editor.org/rfc/rfc7636#section-4.6>
//!
//! The request is form-encoded, so [`TokenRequest`] reads and writes it
//! with [`TokenRequest::from_form`] and [`TokenRequest::to_form`] rather
//! than serde: each failure gets its own [`TokenRequestError`], and the one
//! mapping to the wire is [`TokenRequestError::to_response`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::authorization::AuthorizationDetail;
use super::form::{self, FormError};
use super::id::{AccessToken, AuthorizationCode, IdError, PreAuthorizedCode, RefreshToken, TxCode};
use super::{PRE_AUTHORIZED_CODE_GRANT, error_description};
use crate::jose::b64url_encode;

/// `grant_type` of the authorization code flow (RFC 6749 §4.1.3).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";

/// A Token Request (§6.1), by `grant_type`.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenRequest {
    /// `grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    PreAuthorizedCode(PreAuthorizedCodeTokenRequest),
    /// `grant_type=authorization_code`.
    AuthorizationCode(AuthorizationCodeTokenRequest),
}

/// The parameters of the pre-authorized code grant (§6.1).
#[derive(Debug, Clone, PartialEq)]
pub struct PreAuthorizedCodeTokenRequest {
    /// `pre-authorized_code`, from the offer.
    pub pre_authorized_code: PreAuthorizedCode,
    /// `tx_code`: required if the offer had a `tx_code` object.
    pub tx_code: Option<TxCode>,
    /// `client_id`: absent for anonymous access.
    pub client_id: Option<String>,
    /// `authorization_details` (§6.1.1).
    pub authorization_details: Option<Vec<AuthorizationDetail>>,
    /// Other parameters, e.g. client authentication; unrecognised ones are
    /// to be ignored.
    pub extra: BTreeMap<String, String>,
}

/// The parameters of the authorization code grant (RFC 6749 §4.1.3,
/// RFC 7636 §4.5).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationCodeTokenRequest {
    /// `code`.
    pub code: AuthorizationCode,
    /// `redirect_uri`: required if the Authorization Request had one.
    pub redirect_uri: Option<String>,
    /// `code_verifier` (PKCE).
    pub code_verifier: Option<CodeVerifier>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `authorization_details` (§6.1.1).
    pub authorization_details: Option<Vec<AuthorizationDetail>>,
    /// Other parameters, e.g. client authentication.
    pub extra: BTreeMap<String, String>,
}

/// Why a Token Request body was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenRequestError {
    /// The body is not valid form encoding or repeats a parameter.
    #[error("malformed token request: {0}")]
    Form(#[from] FormError),
    /// A required parameter is absent.
    #[error("the token request lacks `{0}`")]
    MissingParameter(&'static str),
    /// `grant_type` is neither of the two we support.
    #[error("unsupported grant_type `{0}`")]
    UnsupportedGrantType(String),
    /// A code or `tx_code` is empty, blank or has bad characters.
    #[error("invalid `{name}`: {source}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// What is wrong with it.
        #[source]
        source: IdError,
    },
    /// `code_verifier` breaks RFC 7636 §4.1.
    #[error("invalid code_verifier: {0}")]
    InvalidCodeVerifier(#[source] PkceError),
    /// `authorization_details` is not a JSON array of `openid_credential`
    /// objects.
    #[error("invalid authorization_details: {0}")]
    InvalidAuthorizationDetails(#[source] serde_json::Error),
}

impl TokenRequestError {
    /// The error code this failure maps to (RFC 6749 §5.2, RFC 9396 §6).
    pub fn error_code(&self) -> TokenErrorCode {
        match self {
            Self::UnsupportedGrantType(_) => TokenErrorCode::UnsupportedGrantType,
            Self::InvalidAuthorizationDetails(_) => TokenErrorCode::InvalidAuthorizationDetails,
            _ => TokenErrorCode::InvalidRequest,
        }
    }

    /// The Token Error Response for this failure.
    pub fn to_response(&self) -> TokenErrorResponse {
        TokenErrorResponse::new(self.error_code(), Some(&self.to_string()))
    }
}

fn id<T: TryFrom<String, Error = IdError>>(
    name: &'static str,
    value: String,
) -> Result<T, TokenRequestError> {
    T::try_from(value).map_err(|source| TokenRequestError::InvalidParameter { name, source })
}

impl TokenRequest {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn from_form(body: &str) -> Result<Self, TokenRequestError> {
        use TokenRequestError as E;
        let mut params = form::parse(body)?;
        let grant_type = params
            .remove("grant_type")
            .ok_or(E::MissingParameter("grant_type"))?;
        let authorization_details = params
            .remove("authorization_details")
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(E::InvalidAuthorizationDetails)?;
        let client_id = params.remove("client_id");
        match grant_type.as_str() {
            PRE_AUTHORIZED_CODE_GRANT => {
                let code = params
                    .remove("pre-authorized_code")
                    .ok_or(E::MissingParameter("pre-authorized_code"))?;
                Ok(Self::PreAuthorizedCode(PreAuthorizedCodeTokenRequest {
                    pre_authorized_code: id("pre-authorized_code", code)?,
                    tx_code: params
                        .remove("tx_code")
                        .map(|code| id("tx_code", code))
                        .transpose()?,
                    client_id,
                    authorization_details,
                    extra: params,
                }))
            }
            AUTHORIZATION_CODE_GRANT => {
                let code = params.remove("code").ok_or(E::MissingParameter("code"))?;
                Ok(Self::AuthorizationCode(AuthorizationCodeTokenRequest {
                    code: id("code", code)?,
                    redirect_uri: params.remove("redirect_uri"),
                    code_verifier: params
                        .remove("code_verifier")
                        .map(|v| v.parse())
                        .transpose()
                        .map_err(E::InvalidCodeVerifier)?,
                    client_id,
                    authorization_details,
                    extra: params,
                }))
            }
            _ => Err(E::UnsupportedGrantType(grant_type)),
        }
    }

    /// The body, form-encoded.
    pub fn to_form(&self) -> String {
        let (grant_type, pairs, details, extra) = match self {
            Self::PreAuthorizedCode(r) => (
                PRE_AUTHORIZED_CODE_GRANT,
                vec![
                    ("pre-authorized_code", Some(r.pre_authorized_code.as_str())),
                    ("tx_code", r.tx_code.as_ref().map(TxCode::as_str)),
                    ("client_id", r.client_id.as_deref()),
                ],
                &r.authorization_details,
                &r.extra,
            ),
            Self::AuthorizationCode(r) => (
                AUTHORIZATION_CODE_GRANT,
                vec![
                    ("code", Some(r.code.as_str())),
                    ("redirect_uri", r.redirect_uri.as_deref()),
                    (
                        "code_verifier",
                        r.code_verifier.as_ref().map(CodeVerifier::as_str),
                    ),
                    ("client_id", r.client_id.as_deref()),
                ],
                &r.authorization_details,
                &r.extra,
            ),
        };
        // Serializing plain data structs cannot fail; `[]` keeps the body
        // well-formed regardless.
        let details = details
            .as_ref()
            .map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".to_owned()));
        form::serialize(
            [("grant_type", Some(grant_type))]
                .into_iter()
                .chain(pairs)
                .chain([("authorization_details", details.as_deref())])
                .filter_map(|(name, value)| value.map(|v| (name, v)))
                .chain(extra.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        )
    }
}

/// A successful Token Response (§6.2, RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type`: `Bearer` or `DPoP` (compared case-insensitively).
    pub token_type: String,
    /// `expires_in`: lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// `scope`, if it differs from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `authorization_details`, with `credential_identifiers` (§6.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Vec<AuthorizationDetail>>,
}

impl TokenResponse {
    /// A Bearer token valid for `expires_in` seconds.
    pub fn bearer(access_token: AccessToken, expires_in: u64) -> Self {
        Self {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: Some(expires_in),
            refresh_token: None,
            scope: None,
            authorization_details: None,
        }
    }
}

/// Token Error Response codes (§6.3, RFC 6749 §5.2, RFC 9396 §6). Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenErrorCode {
    /// `invalid_request`: a parameter is missing or malformed; with a
    /// pre-authorized code, a `tx_code` is missing (§6.3).
    InvalidRequest,
    /// `invalid_grant`: the code is wrong, expired or used, or the
    /// `tx_code` is wrong (§6.3).
    InvalidGrant,
    /// `invalid_client`: client authentication failed, or anonymous access
    /// with a pre-authorized code is not allowed (§6.3).
    InvalidClient,
    /// `unauthorized_client`: the client may not use this grant type.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `invalid_authorization_details` (RFC 9396 §6).
    InvalidAuthorizationDetails,
}

impl TokenErrorCode {
    /// The HTTP status: 401 for `invalid_client` (RFC 6749 §5.2), else 400.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            _ => 400,
        }
    }
}

/// A Token Error Response body (§6.3, RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenErrorResponse {
    /// `error`.
    pub error: TokenErrorCode,
    /// `error_description`: ASCII without `"` and `\`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl TokenErrorResponse {
    /// An error with a description, cut down to the characters RFC 6749
    /// §5.2 allows.
    pub fn new(error: TokenErrorCode, description: Option<&str>) -> Self {
        Self {
            error,
            error_description: description.map(error_description),
        }
    }
}

/// A PKCE code verifier (RFC 7636 §4.1): 43 to 128 characters from
/// `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

impl CodeVerifier {
    /// A fresh verifier: 256 random bits, base64url (43 characters), as
    /// RFC 7636 §4.1 recommends.
    pub fn generate() -> Result<Self, crate::jose::JoseError> {
        Ok(Self(super::id::random_token()?))
    }

    /// The verifier as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its S256 challenge: `BASE64URL(SHA256(ASCII(code_verifier)))`.
    pub fn s256_challenge(&self) -> String {
        b64url_encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl FromStr for CodeVerifier {
    type Err = PkceError;

    fn from_str(value: &str) -> Result<Self, PkceError> {
        if !(43..=128).contains(&value.len()) {
            return Err(PkceError::VerifierLength(value.len()));
        }
        if let Some(position) = value
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b"-._~".contains(&b)))
        {
            return Err(PkceError::VerifierCharacter(position));
        }
        Ok(Self(value.to_owned()))
    }
}

/// Why PKCE verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// The verifier is not 43 to 128 characters long.
    #[error("code_verifier must be 43 to 128 characters, not {0}")]
    VerifierLength(usize),
    /// The verifier has a character outside the unreserved set.
    #[error("code_verifier has a character outside [A-Za-z0-9-._~] at {0}")]
    VerifierCharacter(usize),
    /// The Token Request has no `code_verifier` but the authorization
    /// request had a challenge.
    #[error("code_verifier is missing")]
    MissingVerifier,
    /// `BASE64URL(SHA256(code_verifier))` differs from `code_challenge`.
    #[error("code_verifier does not match code_challenge")]
    Mismatch,
}

/// Checks `code_challenge == BASE64URL(SHA256(code_verifier))` (RFC 7636
/// §4.6), in constant time.
pub fn verify_pkce_s256(
    code_challenge: &str,
    code_verifier: Option<&CodeVerifier>,
) -> Result<(), PkceError> {
    let verifier = code_verifier.ok_or(PkceError::MissingVerifier)?;
    verify_slices_are_equal(
        verifier.s256_challenge().as_bytes(),
        code_challenge.as_bytes(),
    )
    .map_err(|_| PkceError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether an error is the expected one.
    type Check<E> = fn(&E) -> bool;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier: CodeVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
            .parse()
            .unwrap();
        assert_eq!(
            verifier.s256_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            verify_pkce_s256(
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                Some(&verifier)
            ),
            Ok(())
        );
    }

    #[test]
    fn pkce_failures_are_typed() {
        assert_eq!(
            "short".parse::<CodeVerifier>(),
            Err(PkceError::VerifierLength(5))
        );
        assert_eq!(
            "a".repeat(129).parse::<CodeVerifier>(),
            Err(PkceError::VerifierLength(129))
        );
        let bad = format!("{}+", "a".repeat(42));
        assert_eq!(
            bad.parse::<CodeVerifier>(),
            Err(PkceError::VerifierCharacter(42))
        );
        let verifier = CodeVerifier::generate().unwrap();
        assert_eq!(verify_pkce_s256("x", None), Err(PkceError::MissingVerifier));
        assert_eq!(
            verify_pkce_s256(
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                Some(&verifier)
            ),
            Err(PkceError::Mismatch)
        );
        assert_eq!(format!("{verifier:?}"), "CodeVerifier([redacted])");
    }

    #[test]
    fn both_grants_round_trip() {
        let pre = TokenRequest::PreAuthorizedCode(PreAuthorizedCodeTokenRequest {
            pre_authorized_code: "abc".parse().unwrap(),
            tx_code: Some("493536".parse().unwrap()),
            client_id: None,
            authorization_details: None,
            extra: BTreeMap::new(),
        });
        let form = pre.to_form();
        assert_eq!(
            form,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc&tx_code=493536"
        );
        assert_eq!(TokenRequest::from_form(&form).unwrap(), pre);
        let code = TokenRequest::AuthorizationCode(AuthorizationCodeTokenRequest {
            code: "c".parse().unwrap(),
            redirect_uri: Some("https://w.example/cb".into()),
            code_verifier: Some(CodeVerifier::generate().unwrap()),
            client_id: Some("w".into()),
            authorization_details: Some(vec![AuthorizationDetail::for_configuration(
                "x".parse().unwrap(),
            )]),
            extra: BTreeMap::from([("client_assertion".into(), "eyJ".into())]),
        });
        assert_eq!(TokenRequest::from_form(&code.to_form()).unwrap(), code);
    }

    #[test]
    fn request_errors_are_typed_and_mapped() {
        use TokenRequestError as E;
        let cases: Vec<(&str, Check<E>, TokenErrorCode)> = vec![
            (
                "code=x",
                |e| matches!(e, E::MissingParameter("grant_type")),
                TokenErrorCode::InvalidRequest,
            ),
            (
                "grant_type=password",
                |e| matches!(e, E::UnsupportedGrantType(g) if g == "password"),
                TokenErrorCode::UnsupportedGrantType,
            ),
            (
                "grant_type=authorization_code",
                |e| matches!(e, E::MissingParameter("code")),
                TokenErrorCode::InvalidRequest,
            ),
            (
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code",
                |e| matches!(e, E::MissingParameter("pre-authorized_code")),
                TokenErrorCode::InvalidRequest,
            ),
            (
                "grant_type=authorization_code&code=%20",
                |e| {
                    matches!(
                        e,
                        E::InvalidParameter {
                            name: "code",
                            source: IdError::Blank(_)
                        }
                    )
                },
                TokenErrorCode::InvalidRequest,
            ),
            (
                "grant_type=authorization_code&code=c&code_verifier=x",
                |e| matches!(e, E::InvalidCodeVerifier(PkceError::VerifierLength(1))),
                TokenErrorCode::InvalidRequest,
            ),
            (
                "grant_type=authorization_code&code=c&authorization_details=%7B",
                |e| matches!(e, E::InvalidAuthorizationDetails(_)),
                TokenErrorCode::InvalidAuthorizationDetails,
            ),
            (
                "grant_type=a&grant_type=b",
                |e| matches!(e, E::Form(FormError::Duplicate(_))),
                TokenErrorCode::InvalidRequest,
            ),
        ];
        for (body, expected, code) in cases {
            let error = TokenRequest::from_form(body).unwrap_err();
            assert!(expected(&error), "{body}: {error:?}");
            let response = error.to_response();
            assert_eq!(response.error, code);
            assert!(response.error_description.is_some());
        }
    }

    #[test]
    fn error_response_wire_form() {
        let response = TokenErrorResponse::new(
            TokenErrorCode::InvalidGrant,
            Some("tx_code \"12\" är fel\\"),
        );
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({"error": "invalid_grant", "error_description": "tx_code '12' ?r fel/"})
        );
        assert_eq!(TokenErrorCode::InvalidClient.http_status(), 401);
        assert_eq!(TokenErrorCode::InvalidGrant.http_status(), 400);
        for code in [
            "invalid_request",
            "invalid_grant",
            "invalid_client",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "invalid_authorization_details",
        ] {
            let parsed: TokenErrorCode = serde_json::from_value(code.into()).unwrap();
            assert_eq!(serde_json::to_value(parsed).unwrap(), code);
        }
        assert!(serde_json::from_str::<TokenErrorCode>("\"access_denied\"").is_err());
    }

    #[test]
    fn bearer_response() {
        let token = AccessToken::generate().unwrap();
        let response = TokenResponse::bearer(token, 300);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["expires_in"], 300);
        assert_eq!(
            serde_json::from_value::<TokenResponse>(json).unwrap(),
            response
        );
    }
}
