//! Authorization Response — OpenID4VP 1.0 §8: the VP Token (§8.1), the
//! `direct_post` body and the Response URI's answer (§8.2), encrypted
//! responses and `direct_post.jwt` (§8.3, §8.3.1), and the error response
//! (§8.5).
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-response>
//!
//! Encryption follows §8.3 of the 1.0 final text: the Wallet picks a key
//! from `client_metadata.jwks` by `kty`, `crv`, `use` and `alg` (which MUST
//! be present and equal the JWE `alg`, here `ECDH-ES`), puts the key's
//! `kid` in the JWE header, and takes `enc` from
//! `encrypted_response_enc_values_supported` (default `A128GCM`). The
//! final text requires no `apu`/`apv` (they were for the mdoc handover in
//! earlier drafts), so none are sent; a received `apu`/`apv` is still
//! honoured by the key derivation. An error response is encrypted in the
//! same way when the request asked for `direct_post.jwt` and the Wallet
//! can (the Response Mode applies to it too); a plain error response is
//! accepted in either mode, as §8.3.1 allows one from a Wallet that cannot
//! encrypt.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::request::{ClientMetadata, RequestError, State, TokenValueError};
use super::request_object::RequestObjectError;
use crate::dcql::DcqlQuery;
use crate::jose::Jwk;
use crate::jose::jwe::{
    self, ContentEncryption, JweError, JweHeader, JweHeaderParams, KeyAgreement,
};

/// One Presentation in a VP Token: a string (`dc+sd-jwt`, `jwt_vc_json`,
/// `mso_mdoc`) or an object (`ldp_vc`), per Appendix B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Presentation {
    /// A compact presentation, e.g. an SD-JWT with its KB-JWT.
    Compact(String),
    /// A JSON presentation, e.g. a W3C Verifiable Presentation with a
    /// Data Integrity proof.
    Object(Map<String, Value>),
}

/// The VP Token (§8.1): per DCQL Credential Query `id`, one or more
/// Presentations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpToken(pub BTreeMap<String, Vec<Presentation>>);

/// Why a VP Token does not answer the DCQL query (§8.1, §6.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VpTokenError {
    /// A key is no Credential Query `id` of the request.
    #[error("vp_token answers unknown credential query `{0}`")]
    UnknownCredentialQuery(String),
    /// An entry has an empty array.
    #[error("vp_token entry `{0}` has no presentation")]
    NoPresentations(String),
    /// More than one Presentation for a query without `multiple: true`.
    #[error("vp_token entry `{id}` has {count} presentations, but multiple is not allowed")]
    TooManyPresentations {
        /// The Credential Query `id`.
        id: String,
        /// How many were sent.
        count: usize,
    },
    /// Without `credential_sets` every Credential Query is required, and
    /// this one has no entry.
    #[error("vp_token has no entry for required credential query `{0}`")]
    MissingCredential(String),
    /// No option of a required Credential Set Query is fully answered.
    #[error("vp_token satisfies no option of required credential set {0}")]
    UnsatisfiedCredentialSet(usize),
}

impl VpToken {
    /// The Presentations for a Credential Query.
    pub fn presentations(&self, id: &str) -> Option<&[Presentation]> {
        self.0.get(id).map(Vec::as_slice)
    }

    /// Checks the shape rules of §8.1 against the request's DCQL query:
    /// known ids, non-empty arrays, one Presentation unless `multiple`,
    /// and every required Credential Query or Credential Set answered.
    /// Checking each Presentation is the caller's next step.
    pub fn check_against(&self, query: &DcqlQuery) -> Result<(), VpTokenError> {
        for (id, presentations) in &self.0 {
            let credential = query
                .credential(id)
                .ok_or_else(|| VpTokenError::UnknownCredentialQuery(id.clone()))?;
            match presentations.len() {
                0 => return Err(VpTokenError::NoPresentations(id.clone())),
                1 => {}
                count if !credential.multiple => {
                    return Err(VpTokenError::TooManyPresentations {
                        id: id.clone(),
                        count,
                    });
                }
                _ => {}
            }
        }
        match &query.credential_sets {
            None => match query
                .credentials
                .iter()
                .find(|c| !self.0.contains_key(&c.id))
            {
                Some(missing) => Err(VpTokenError::MissingCredential(missing.id.clone())),
                None => Ok(()),
            },
            Some(sets) => {
                for (index, set) in sets.iter().enumerate() {
                    let satisfied = set
                        .options
                        .iter()
                        .any(|option| option.iter().all(|id| self.0.contains_key(id)));
                    if set.required && !satisfied {
                        return Err(VpTokenError::UnsatisfiedCredentialSet(index));
                    }
                }
                Ok(())
            }
        }
    }
}

/// Why an Authorization Response could not be built, encrypted, read or
/// decrypted.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// A form parameter appears twice.
    #[error("parameter `{0}` appears more than once")]
    DuplicateParameter(String),
    /// A REQUIRED parameter is absent (`vp_token`, `error`).
    #[error("required parameter `{0}` is missing")]
    MissingParameter(&'static str),
    /// A parameter is not the JSON §8 defines (e.g. `vp_token` is not a
    /// JSON object of arrays), or the decrypted payload is not a response.
    #[error("parameter `{parameter}` is malformed: {source}")]
    Malformed {
        /// The parameter.
        parameter: &'static str,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// `state` is not ASCII URL-safe.
    #[error("invalid state: {0}")]
    InvalidState(TokenValueError),
    /// A body mixes `response` (encrypted) with plain response or error
    /// parameters.
    #[error("the body mixes `response` with `{0}`")]
    MixedBody(String),
    /// `error_description` has characters outside RFC 6749 §4.1.2.1's set.
    #[error("error_description has characters RFC 6749 does not allow")]
    InvalidErrorDescription,
    /// `client_metadata.jwks` has no EC P-256 key with `alg: ECDH-ES`
    /// usable for encryption (§8.3).
    #[error("client_metadata.jwks has no EC P-256 ECDH-ES encryption key")]
    NoEncryptionKey,
    /// None of `encrypted_response_enc_values_supported` is A128GCM or
    /// A256GCM.
    #[error("none of the offered enc values {0:?} is supported")]
    UnsupportedEnc(Vec<String>),
    /// JWE encryption or decryption failed.
    #[error("response JWE: {0}")]
    Jwe(#[from] JweError),
    /// The `state` returned differs from the one sent (§5.3).
    #[error("state {found:?} differs from the expected {expected:?}")]
    StateMismatch {
        /// The `state` of the request.
        expected: Option<String>,
        /// The `state` of the response.
        found: Option<String>,
    },
}

/// An Authorization Response with a VP Token (§8.1): the parameters of a
/// `direct_post` body, or the payload of an encrypted response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// `vp_token`.
    pub vp_token: VpToken,
    /// `state`, echoed from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Other parameters (`id_token`, `iss`...), ignored.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The key and algorithms a Wallet encrypts a response with (§8.3).
#[derive(Debug, Clone)]
pub struct ResponseEncryption {
    /// The Verifier's public key.
    pub key: Jwk,
    /// Its `kid`, repeated in the JWE header.
    pub kid: Option<String>,
    /// The content encryption algorithm.
    pub enc: ContentEncryption,
}

impl ResponseEncryption {
    /// Chooses from the Verifier's metadata (§8.3): the first key with
    /// `kty: EC`, `crv: P-256`, `alg: ECDH-ES` and `use` absent or `enc`;
    /// the first offered `enc` we implement, `A128GCM` when none is listed.
    pub fn select(metadata: &ClientMetadata) -> Result<Self, ResponseError> {
        let is_candidate = |key: &&Map<String, Value>| {
            let member = |name: &str| key.get(name).and_then(Value::as_str);
            member("kty") == Some("EC")
                && member("crv") == Some("P-256")
                && member("alg") == Some(KeyAgreement::EcdhEs.as_str())
                && member("use").is_none_or(|u| u == "enc")
        };
        let chosen = metadata
            .jwks
            .as_ref()
            .and_then(|jwks| jwks.keys.iter().find(is_candidate))
            .ok_or(ResponseError::NoEncryptionKey)?;
        let kid = chosen.get("kid").and_then(Value::as_str).map(str::to_owned);
        let key = jwe::encryption_jwk(chosen.clone())?;
        let enc = match &metadata.encrypted_response_enc_values_supported {
            None => ContentEncryption::A128GCM,
            Some(offered) => offered
                .iter()
                .find_map(|enc| enc.parse().ok())
                .ok_or_else(|| ResponseError::UnsupportedEnc(offered.clone()))?,
        };
        Ok(Self { key, kid, enc })
    }
}

impl AuthorizationResponse {
    /// A response with a VP Token and the request's `state`.
    pub fn new(vp_token: VpToken, state: Option<State>) -> Self {
        Self {
            vp_token,
            state,
            extra: Map::new(),
        }
    }

    /// Checks the `state` against the request's (§5.3).
    pub fn check_state(&self, expected: Option<&State>) -> Result<(), ResponseError> {
        if self.state.as_ref() == expected {
            return Ok(());
        }
        Err(ResponseError::StateMismatch {
            expected: expected.map(|s| s.to_string()),
            found: self.state.as_ref().map(|s| s.to_string()),
        })
    }

    /// Encrypts the response as a JWE (§8.3) for `direct_post.jwt` or
    /// `dc_api.jwt`. No `apu`/`apv` are set.
    pub fn encrypt(&self, encryption: &ResponseEncryption) -> Result<String, ResponseError> {
        encrypt_parameters(self, encryption)
    }

    /// Decrypts a `response` JWE with the Verifier's private key (a JWK
    /// that may carry `"alg": "ECDH-ES"`: parse it with
    /// [`jwe::encryption_jwk`]) and reads the response in it.
    pub fn decrypt(jwe: &str, private: &Jwk) -> Result<(JweHeader, Self), ResponseError> {
        match EncryptedResponse::decrypt(jwe, private)? {
            (header, EncryptedResponse::Response(response)) => Ok((header, response)),
            (_, EncryptedResponse::Error(_)) => Err(ResponseError::MissingParameter("vp_token")),
        }
    }
}

/// What a `response` JWE of `direct_post.jwt` holds: the response
/// parameters (§8.1) or an error response (§8.5).
#[derive(Debug, Clone, PartialEq)]
pub enum EncryptedResponse {
    /// `vp_token` and `state`.
    Response(AuthorizationResponse),
    /// `error`, `error_description`, `state`.
    Error(AuthorizationErrorResponse),
}

impl EncryptedResponse {
    /// Decrypts a `response` JWE with the Verifier's private key and reads
    /// the parameters in it: an error response when `error` is present.
    pub fn decrypt(jwe: &str, private: &Jwk) -> Result<(JweHeader, Self), ResponseError> {
        let decrypted = jwe::decrypt(jwe, private)?;
        let malformed = |source| ResponseError::Malformed {
            parameter: "response",
            source,
        };
        let parameters: Map<String, Value> =
            serde_json::from_slice(&decrypted.payload).map_err(malformed)?;
        let read = if parameters.contains_key("error") {
            let error: AuthorizationErrorResponse =
                serde_json::from_value(Value::Object(parameters)).map_err(malformed)?;
            if let Some(description) = &error.error_description {
                check_description(description)?;
            }
            Self::Error(error)
        } else {
            Self::Response(serde_json::from_value(Value::Object(parameters)).map_err(malformed)?)
        };
        Ok((decrypted.header, read))
    }
}

/// Response parameters as the payload of a JWE (§8.3).
fn encrypt_parameters(
    parameters: &impl Serialize,
    encryption: &ResponseEncryption,
) -> Result<String, ResponseError> {
    let payload = serde_json::to_vec(parameters).map_err(|source| ResponseError::Malformed {
        parameter: "response",
        source,
    })?;
    let params = JweHeaderParams {
        kid: encryption.kid.clone(),
        ..JweHeaderParams::default()
    };
    Ok(jwe::encrypt(
        &payload,
        &encryption.key,
        encryption.enc,
        &params,
    )?)
}

/// An error code of an Authorization Error Response: RFC 6749 §4.1.2.1
/// plus OpenID4VP 1.0 §8.5. Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or breaks a rule (e.g. an unsupported
    /// Client Identifier Prefix, no `dcql_query`).
    InvalidRequest,
    /// The client metadata conflicts with what the Wallet knows.
    InvalidClient,
    /// The client may not make this request (RFC 6749).
    UnauthorizedClient,
    /// No matching Credentials, no consent, or no End-User authentication.
    AccessDenied,
    /// The response type is not supported (RFC 6749).
    UnsupportedResponseType,
    /// The `scope` value is invalid, unknown or malformed.
    InvalidScope,
    /// The Wallet failed unexpectedly (RFC 6749).
    ServerError,
    /// The Wallet is overloaded or in maintenance (RFC 6749).
    TemporarilyUnavailable,
    /// None of the requested formats is supported.
    VpFormatsNotSupported,
    /// `request_uri_method` is neither `get` nor `post`.
    InvalidRequestUriMethod,
    /// A `transaction_data` entry is unknown, malformed or unusable.
    InvalidTransactionData,
    /// The Wallet could not be invoked.
    WalletUnavailable,
}

impl From<&RequestError> for ErrorCode {
    /// The one place a request failure becomes a wire error code (§8.5).
    fn from(error: &RequestError) -> Self {
        match error {
            RequestError::InvalidRequestUriMethod(_) => Self::InvalidRequestUriMethod,
            RequestError::InvalidTransactionData { .. } => Self::InvalidTransactionData,
            RequestError::UnsupportedResponseType(_) => Self::UnsupportedResponseType,
            RequestError::ScopeUnsupported(_) => Self::InvalidScope,
            _ => Self::InvalidRequest,
        }
    }
}

impl From<&RequestObjectError> for ErrorCode {
    /// Request Object failures are `invalid_request` (§8.5), except for a
    /// request that is itself refused, which maps as [`RequestError`] does.
    fn from(error: &RequestObjectError) -> Self {
        match error {
            RequestObjectError::Request(request) => request.into(),
            _ => Self::InvalidRequest,
        }
    }
}

/// An Authorization Error Response (§8.5, RFC 6749 §4.1.2.1): plain
/// ([`DirectPostBody::Error`]) or, in `direct_post.jwt`, encrypted
/// ([`AuthorizationErrorResponse::encrypt`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationErrorResponse {
    /// `error`.
    pub error: ErrorCode,
    /// `error_description`: human-readable, ASCII without `"` and `\`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// `state`, echoed from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

impl AuthorizationErrorResponse {
    /// Encrypts the error response as a JWE (§8.3), as
    /// [`AuthorizationResponse::encrypt`] does a response.
    pub fn encrypt(&self, encryption: &ResponseEncryption) -> Result<String, ResponseError> {
        encrypt_parameters(self, encryption)
    }
}

/// What an `access_denied` (§8.5) means. The specification gives one code
/// to "the Wallet did not have the requested Credentials" and "the End-User
/// did not consent"; a verifier must still tell its user which. Intyg's
/// wallet says so in `error_description` (an Intyg profile convention,
/// `specs/PROFILE.md`): `no matching credential: <query ids>` when it holds
/// nothing for the named Credential Queries. Any other description, or
/// none, reads as a decline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The End-User declined (or the wallet did not say why).
    Declined,
    /// The wallet holds no credential for these Credential Query ids.
    NoMatchingCredential(Vec<String>),
}

impl Denial {
    /// The `error_description` prefix of [`Denial::NoMatchingCredential`].
    pub const NO_MATCH: &'static str = "no matching credential: ";

    /// The `error_description` that carries this denial.
    pub fn description(&self) -> String {
        match self {
            Self::Declined => "the user declined".to_owned(),
            Self::NoMatchingCredential(ids) => format!("{}{}", Self::NO_MATCH, ids.join(", ")),
        }
    }

    /// The access-denied error response with this denial's description.
    pub fn error_response(&self, state: Option<State>) -> AuthorizationErrorResponse {
        AuthorizationErrorResponse {
            error: ErrorCode::AccessDenied,
            error_description: Some(self.description()),
            state,
        }
    }

    /// Reads an `access_denied`'s `error_description`. Query ids are kept
    /// only if they are valid DCQL ids (alphanumerics, `_`, `-`).
    pub fn read(description: Option<&str>) -> Self {
        let Some(list) = description.and_then(|d| d.strip_prefix(Self::NO_MATCH)) else {
            return Self::Declined;
        };
        let ids: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|id| {
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
            .map(str::to_owned)
            .collect();
        Self::NoMatchingCredential(ids)
    }
}

fn check_description(description: &str) -> Result<(), ResponseError> {
    // RFC 6749 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E.
    if description
        .bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    {
        return Ok(());
    }
    Err(ResponseError::InvalidErrorDescription)
}

/// Whether the `application/x-www-form-urlencoded` serializer (URL
/// Standard §5.2) leaves byte `b` as it is.
fn form_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// The name-value pairs of a form body (URL Standard §5.1). A body
/// without `%` or `+` decodes to itself, so it is only split (a large
/// `response` JWE is then borrowed, not copied through the decoder).
fn form_pairs(body: &str) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> + '_> {
    if body.bytes().any(|b| b == b'%' || b == b'+') {
        return Box::new(url::form_urlencoded::parse(body.as_bytes()));
    }
    Box::new(body.split('&').filter(|pair| !pair.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (Cow::Borrowed(name), Cow::Borrowed(value))
    }))
}

/// The body of an HTTP POST to the Response URI (§8.2, §8.3.1), form
/// encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum DirectPostBody {
    /// `direct_post`: `vp_token` (JSON text), `state`.
    Plain(AuthorizationResponse),
    /// `direct_post.jwt`: `response=<JWE>`; decrypt with
    /// [`AuthorizationResponse::decrypt`].
    Encrypted(String),
    /// An error response, unencrypted in either mode.
    Error(AuthorizationErrorResponse),
}

impl DirectPostBody {
    /// The `application/x-www-form-urlencoded` body.
    pub fn to_form(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match self {
            Self::Plain(response) => {
                form.append_pair("vp_token", &json_text(&response.vp_token));
                if let Some(state) = &response.state {
                    form.append_pair("state", state.as_str());
                }
                for (name, value) in &response.extra {
                    match value {
                        Value::String(text) => form.append_pair(name, text),
                        other => form.append_pair(name, &other.to_string()),
                    };
                }
            }
            // A compact JWE is base64url and dots, which the form encoding
            // leaves as they are: no need to look at it byte by byte.
            Self::Encrypted(jwe) if jwe.bytes().all(form_unreserved) => {
                return format!("response={jwe}");
            }
            Self::Encrypted(jwe) => {
                form.append_pair("response", jwe);
            }
            Self::Error(error) => {
                form.append_pair("error", error.error.as_str());
                if let Some(description) = &error.error_description {
                    form.append_pair("error_description", description);
                }
                if let Some(state) = &error.state {
                    form.append_pair("state", state.as_str());
                }
            }
        }
        form.finish()
    }

    /// Reads a form body received at the Response URI.
    pub fn from_form(body: &str) -> Result<Self, ResponseError> {
        let mut params = BTreeMap::new();
        for (name, value) in form_pairs(body.trim()) {
            let name = name.trim().to_owned();
            if params
                .insert(name.clone(), value.trim().to_owned())
                .is_some()
            {
                return Err(ResponseError::DuplicateParameter(name));
            }
        }
        let state = params
            .remove("state")
            .map(|s| s.parse::<State>().map_err(ResponseError::InvalidState))
            .transpose()?;
        if let Some(jwe) = params.remove("response") {
            if let Some(other) = params.keys().next() {
                return Err(ResponseError::MixedBody(other.clone()));
            }
            if state.is_some() {
                return Err(ResponseError::MixedBody("state".into()));
            }
            return Ok(Self::Encrypted(jwe));
        }
        if let Some(error) = params.remove("error") {
            let error = serde_json::from_value(Value::String(error)).map_err(|source| {
                ResponseError::Malformed {
                    parameter: "error",
                    source,
                }
            })?;
            let error_description = params.remove("error_description");
            if let Some(description) = &error_description {
                check_description(description)?;
            }
            return Ok(Self::Error(AuthorizationErrorResponse {
                error,
                error_description,
                state,
            }));
        }
        let vp_token = params
            .remove("vp_token")
            .ok_or(ResponseError::MissingParameter("vp_token"))?;
        let vp_token =
            serde_json::from_str(&vp_token).map_err(|source| ResponseError::Malformed {
                parameter: "vp_token",
                source,
            })?;
        let extra = params
            .into_iter()
            .map(|(name, value)| (name, Value::String(value)))
            .collect();
        Ok(Self::Plain(AuthorizationResponse {
            vp_token,
            state,
            extra,
        }))
    }
}

fn json_text(value: &impl Serialize) -> String {
    // A map of strings to arrays of strings and objects always serializes.
    serde_json::to_string(value).unwrap_or_default()
}

impl ErrorCode {
    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::VpFormatsNotSupported => "vp_formats_not_supported",
            ErrorCode::InvalidRequestUriMethod => "invalid_request_uri_method",
            ErrorCode::InvalidTransactionData => "invalid_transaction_data",
            ErrorCode::WalletUnavailable => "wallet_unavailable",
        }
    }
}

/// The Response URI's JSON answer to a `direct_post*` POST (§8.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseUriResponse {
    /// `redirect_uri`: where the Wallet sends the user agent next, with a
    /// fresh random value in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Other members, ignored.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcql::ValidatedQuery;
    use crate::jose::SigningKey;
    use crate::oid4vp::request::Jwks;
    use serde_json::json;

    fn token(entries: Value) -> VpToken {
        serde_json::from_value(entries).unwrap()
    }

    fn query(json: Value) -> DcqlQuery {
        ValidatedQuery::from_json(json.to_string())
            .unwrap()
            .into_query()
    }

    fn two_credentials(sets: Option<Value>) -> DcqlQuery {
        let mut q = json!({"credentials": [
            {"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}},
            {"id": "b", "format": "dc+sd-jwt", "meta": {"vct_values": ["y"]}, "multiple": true}
        ]});
        if let Some(sets) = sets {
            q["credential_sets"] = sets;
        }
        query(q)
    }

    #[test]
    fn section_8_1_vp_token_shape() {
        let q = two_credentials(None);
        token(json!({"a": ["p"], "b": ["p1", "p2"]}))
            .check_against(&q)
            .unwrap();
        assert_eq!(
            token(json!({"a": ["p"], "b": ["p"], "c": ["p"]})).check_against(&q),
            Err(VpTokenError::UnknownCredentialQuery("c".into()))
        );
        assert_eq!(
            token(json!({"a": [], "b": ["p"]})).check_against(&q),
            Err(VpTokenError::NoPresentations("a".into()))
        );
        assert_eq!(
            token(json!({"a": ["p", "q"], "b": ["p"]})).check_against(&q),
            Err(VpTokenError::TooManyPresentations {
                id: "a".into(),
                count: 2
            })
        );
        assert_eq!(
            token(json!({"a": ["p"]})).check_against(&q),
            Err(VpTokenError::MissingCredential("b".into()))
        );
        let sets = two_credentials(Some(json!([
            {"options": [["a"], ["b"]]},
            {"options": [["b"]], "required": false}
        ])));
        token(json!({"b": [{"type": "VerifiablePresentation"}]}))
            .check_against(&sets)
            .unwrap();
        let strict = two_credentials(Some(json!([{"options": [["a", "b"]]}])));
        assert_eq!(
            token(json!({"a": ["p"]})).check_against(&strict),
            Err(VpTokenError::UnsatisfiedCredentialSet(0))
        );
        assert_eq!(
            token(json!({"a": ["p"]})).presentations("a").unwrap().len(),
            1
        );
    }

    fn metadata(keys: Value, enc: Option<Value>) -> ClientMetadata {
        let mut m = json!({"jwks": {"keys": keys}});
        if let Some(enc) = enc {
            m["encrypted_response_enc_values_supported"] = enc;
        }
        serde_json::from_value(m).unwrap()
    }

    fn recipient() -> (Jwk, Map<String, Value>) {
        let key = SigningKey::generate().unwrap();
        let private = key.to_private_jwk().unwrap();
        let Value::Object(mut public) = serde_json::to_value(key.public_jwk()).unwrap() else {
            unreachable!()
        };
        public.insert("kid".into(), json!("k1"));
        public.insert("use".into(), json!("enc"));
        public.insert("alg".into(), json!("ECDH-ES"));
        (private, public)
    }

    #[test]
    fn section_8_3_encrypt_then_decrypt() {
        let (private, public) = recipient();
        let okp = json!({"kty": "OKP", "crv": "X25519", "kid": "x", "alg": "ECDH-ES", "x": "WPX7wnwq10hFNK9aDSyG1QlLswE_CJY14LdhcFUIVVc"});
        let m = metadata(
            json!([okp, public]),
            Some(json!(["A128CBC-HS256", "A256GCM"])),
        );
        let encryption = ResponseEncryption::select(&m).unwrap();
        assert_eq!(encryption.kid.as_deref(), Some("k1"));
        assert_eq!(encryption.enc, ContentEncryption::A256GCM);
        let response = AuthorizationResponse::new(
            token(json!({"reg": ["eyJ...~"]})),
            Some("st".parse().unwrap()),
        );
        let jwe = encryption_round_trip(&response, &encryption, &private);
        let body = DirectPostBody::Encrypted(jwe.clone());
        assert_eq!(DirectPostBody::from_form(&body.to_form()).unwrap(), body);
    }

    fn encryption_round_trip(
        response: &AuthorizationResponse,
        encryption: &ResponseEncryption,
        private: &Jwk,
    ) -> String {
        let jwe = response.encrypt(encryption).unwrap();
        let (header, decrypted) = AuthorizationResponse::decrypt(&jwe, private).unwrap();
        assert_eq!(&decrypted, response);
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(header.enc, encryption.enc);
        assert!(header.apu.is_none() && header.apv.is_none());
        jwe
    }

    #[test]
    fn section_8_3_an_encrypted_error_response_reads_as_an_error() {
        let (private, public) = recipient();
        let encryption = ResponseEncryption::select(&metadata(json!([public]), None)).unwrap();
        let error = AuthorizationErrorResponse {
            error: ErrorCode::AccessDenied,
            error_description: Some("the user declined".into()),
            state: Some("st".parse().unwrap()),
        };
        let jwe = error.encrypt(&encryption).unwrap();
        let (header, read) = EncryptedResponse::decrypt(&jwe, &private).unwrap();
        assert_eq!(read, EncryptedResponse::Error(error));
        assert_eq!(header.kid.as_deref(), Some("k1"));
        // Read as a response, it lacks the VP Token.
        assert!(matches!(
            AuthorizationResponse::decrypt(&jwe, &private),
            Err(ResponseError::MissingParameter("vp_token"))
        ));
        // A response reads as a response.
        let response = AuthorizationResponse::new(token(json!({"reg": ["eyJ...~"]})), None);
        let jwe = response.encrypt(&encryption).unwrap();
        let (_, read) = EncryptedResponse::decrypt(&jwe, &private).unwrap();
        assert_eq!(read, EncryptedResponse::Response(response));
        // An error description outside RFC 6749's characters is refused.
        let quoted = AuthorizationErrorResponse {
            error: ErrorCode::AccessDenied,
            error_description: Some("say \"no\"".into()),
            state: None,
        };
        let jwe = quoted.encrypt(&encryption).unwrap();
        assert!(matches!(
            EncryptedResponse::decrypt(&jwe, &private),
            Err(ResponseError::InvalidErrorDescription)
        ));
    }

    #[test]
    fn section_8_3_default_enc_is_a128gcm() {
        let (_, public) = recipient();
        let encryption = ResponseEncryption::select(&metadata(json!([public]), None)).unwrap();
        assert_eq!(encryption.enc, ContentEncryption::A128GCM);
    }

    #[test]
    fn section_8_3_selection_errors() {
        let (_, public) = recipient();
        assert!(matches!(
            ResponseEncryption::select(&ClientMetadata::default()),
            Err(ResponseError::NoEncryptionKey)
        ));
        let mut no_alg = public.clone();
        no_alg.remove("alg");
        let mut signing = public.clone();
        signing.insert("use".into(), json!("sig"));
        assert!(matches!(
            ResponseEncryption::select(&metadata(json!([no_alg, signing]), None)),
            Err(ResponseError::NoEncryptionKey)
        ));
        assert!(matches!(
            ResponseEncryption::select(&metadata(json!([public]), Some(json!(["A128CBC-HS256"])))),
            Err(ResponseError::UnsupportedEnc(v)) if v == ["A128CBC-HS256"]
        ));
        let mut bad_point = public.clone();
        bad_point.insert("x".into(), json!(42));
        assert!(matches!(
            ResponseEncryption::select(&metadata(json!([bad_point]), None)),
            Err(ResponseError::Jwe(JweError::InvalidJwk(_)))
        ));
        let jwks = Jwks { keys: vec![public] };
        assert!(jwks.key("k1").is_some());
    }

    #[test]
    fn decrypt_errors() {
        let (private, public) = recipient();
        let encryption = ResponseEncryption::select(&metadata(json!([public]), None)).unwrap();
        let jwe = jwe::encrypt(
            b"[1,2]",
            &encryption.key,
            encryption.enc,
            &JweHeaderParams::default(),
        )
        .unwrap();
        assert!(matches!(
            AuthorizationResponse::decrypt(&jwe, &private),
            Err(ResponseError::Malformed {
                parameter: "response",
                ..
            })
        ));
        let other = SigningKey::generate().unwrap().to_private_jwk().unwrap();
        assert!(matches!(
            AuthorizationResponse::decrypt(&jwe, &other),
            Err(ResponseError::Jwe(JweError::Decryption(_)))
        ));
    }

    #[test]
    fn section_8_2_direct_post_round_trip() {
        let mut response = AuthorizationResponse::new(
            token(json!({"reg": ["eyJ...~kb"], "ldp": [{"type": "VerifiablePresentation"}]})),
            Some("eyJhb-6-sVA".parse().unwrap()),
        );
        response
            .extra
            .insert("iss".into(), json!("https://wallet.example"));
        let body = DirectPostBody::Plain(response);
        let form = body.to_form();
        assert!(form.starts_with("vp_token=%7B"));
        assert_eq!(DirectPostBody::from_form(&form).unwrap(), body);
    }

    #[test]
    fn section_8_5_error_round_trip_and_codes() {
        let error = DirectPostBody::Error(AuthorizationErrorResponse {
            error: ErrorCode::AccessDenied,
            error_description: Some("user declined".into()),
            state: Some("s1".parse().unwrap()),
        });
        assert_eq!(DirectPostBody::from_form(&error.to_form()).unwrap(), error);
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidClient,
            ErrorCode::UnauthorizedClient,
            ErrorCode::AccessDenied,
            ErrorCode::UnsupportedResponseType,
            ErrorCode::InvalidScope,
            ErrorCode::ServerError,
            ErrorCode::TemporarilyUnavailable,
            ErrorCode::VpFormatsNotSupported,
            ErrorCode::InvalidRequestUriMethod,
            ErrorCode::InvalidTransactionData,
            ErrorCode::WalletUnavailable,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(
            ErrorCode::from(&RequestError::InvalidRequestUriMethod("put".into())),
            ErrorCode::InvalidRequestUriMethod
        );
        assert_eq!(
            ErrorCode::from(&RequestError::ScopeUnsupported("s".into())),
            ErrorCode::InvalidScope
        );
        assert_eq!(
            ErrorCode::from(&RequestError::UnsupportedResponseType("code".into())),
            ErrorCode::UnsupportedResponseType
        );
        assert_eq!(
            ErrorCode::from(&RequestError::InvalidTransactionData {
                index: 0,
                reason: super::super::request::TransactionDataError::NotBase64url
            }),
            ErrorCode::InvalidTransactionData
        );
        assert_eq!(
            ErrorCode::from(&RequestError::MissingState),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            ErrorCode::from(&RequestObjectError::MissingTyp),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            ErrorCode::from(&RequestObjectError::Request(
                RequestError::InvalidRequestUriMethod("x".into())
            )),
            ErrorCode::InvalidRequestUriMethod
        );
    }

    #[test]
    fn form_fast_paths_agree_with_the_url_standard_codec() {
        for body in [
            "response=eyJhbGciOiJFQ0RILUVTIn0..aGk.dGV4dA.dGFn",
            "a=1&&b=&c&=d&e=f=g",
            "vp_token=%7B%7D&state=a+b",
            "x=%C3%A5&y=å",
            "",
            "&",
        ] {
            let fast: Vec<(String, String)> = form_pairs(body)
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            let reference: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(fast, reference, "{body}");
        }
        for jwe in ["eyJh.bG-c_i.T*x", "not a JWE: 100% & more"] {
            let reference = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("response", jwe)
                .finish();
            assert_eq!(DirectPostBody::Encrypted(jwe.into()).to_form(), reference);
        }
    }

    #[test]
    fn form_errors() {
        let err = |body: &str| DirectPostBody::from_form(body).unwrap_err();
        assert!(
            matches!(err("state=a&state=b"), ResponseError::DuplicateParameter(p) if p == "state")
        );
        assert!(matches!(
            err("state=a"),
            ResponseError::MissingParameter("vp_token")
        ));
        assert!(matches!(
            err("vp_token=%5B%5D"),
            ResponseError::Malformed {
                parameter: "vp_token",
                ..
            }
        ));
        assert!(matches!(
            err("vp_token=%7B%7D&state=a%20b"),
            ResponseError::InvalidState(_)
        ));
        assert!(
            matches!(err("response=x&vp_token=%7B%7D"), ResponseError::MixedBody(p) if p == "vp_token")
        );
        assert!(matches!(err("response=x&state=s"), ResponseError::MixedBody(p) if p == "state"));
        assert!(matches!(
            err("error=made_up"),
            ResponseError::Malformed {
                parameter: "error",
                ..
            }
        ));
        assert!(matches!(
            err("error=access_denied&error_description=%22quoted%22"),
            ResponseError::InvalidErrorDescription
        ));
    }

    #[test]
    fn state_check() {
        let state: State = "s1".parse().unwrap();
        let response = AuthorizationResponse::new(VpToken::default(), Some(state.clone()));
        response.check_state(Some(&state)).unwrap();
        assert!(matches!(
            response.check_state(None),
            Err(ResponseError::StateMismatch {
                expected: None,
                found: Some(_)
            })
        ));
    }

    #[test]
    fn response_uri_response() {
        let answer: ResponseUriResponse = serde_json::from_value(
            json!({"redirect_uri": "https://v.example/cb#response_code=1", "x": 1}),
        )
        .unwrap();
        assert_eq!(
            answer.redirect_uri.as_deref(),
            Some("https://v.example/cb#response_code=1")
        );
        assert_eq!(answer.extra["x"], 1);
    }

    #[test]
    fn a_denial_says_whether_nothing_matched() {
        let none = Denial::NoMatchingCredential(vec!["eligibility".into(), "diploma".into()]);
        let response = none.error_response(None);
        assert_eq!(response.error, ErrorCode::AccessDenied);
        let description = response.error_description.as_deref();
        assert_eq!(
            description,
            Some("no matching credential: eligibility, diploma")
        );
        assert!(check_description(description.unwrap()).is_ok());
        assert_eq!(Denial::read(description), none);
        assert_eq!(Denial::read(Some("the user declined")), Denial::Declined);
        assert_eq!(Denial::read(None), Denial::Declined);
        assert_eq!(
            Denial::read(Some("no matching credential: ok, <bad>")),
            Denial::NoMatchingCredential(vec!["ok".into()])
        );
    }
}
