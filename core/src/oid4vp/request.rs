//! Authorization Request — OpenID4VP 1.0 §5, with the Response Modes of
//! §8.2, §8.3.1 and Appendix A, and the wallet invocation URI of §9.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-authorization-request>
//!
//! Two stages. [`AuthorizationRequest::from_object`] turns the JSON
//! parameters (from a URI query or a Request Object) into typed fields,
//! each bad field its own [`RequestError`]; unknown parameters are kept in
//! `extra`, as §5 tells a Wallet to ignore them. [`AuthorizationRequest::validate`]
//! then checks the rules between fields (Response Mode against
//! `response_uri`/`redirect_uri`, Client Identifier Prefix against signing,
//! DCQL references...). Requests with `presentation_definition` (DIF
//! Presentation Exchange, dropped from 1.0) or `scope` are refused
//! explicitly: Intyg only speaks DCQL.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client_id::{ClientId, ClientIdError, ClientIdPrefix, is_web_url};
use crate::dcql::{DcqlError, DcqlQuery, ValidatedQuery};
use crate::jose::{b64url_decode, b64url_encode};

/// `openid4vp://`, the custom scheme of OpenID4VP 1.0 §9 and §13.1.2.
pub const OPENID4VP_SCHEME: &str = "openid4vp://";
/// `haip-vp://`, the presentation invocation scheme of HAIP 1.0 (§6.1).
pub const HAIP_VP_SCHEME: &str = "haip-vp://";
/// `haip://`, the scheme of HAIP drafts before 1.0. Still read on input
/// (the parameters are the same), never emitted.
pub const LEGACY_HAIP_SCHEME: &str = "haip://";
/// The schemes a wallet answers as presentation requests, besides https
/// links: [`OPENID4VP_SCHEME`], [`HAIP_VP_SCHEME`], [`LEGACY_HAIP_SCHEME`].
pub const PRESENTATION_SCHEMES: [&str; 3] = [OPENID4VP_SCHEME, HAIP_VP_SCHEME, LEGACY_HAIP_SCHEME];

/// Parameters whose values are JSON objects or arrays. In a URI query they
/// travel as JSON text (§5.1).
const JSON_PARAMETERS: [&str; 6] = [
    "dcql_query",
    "client_metadata",
    "transaction_data",
    "verifier_info",
    "expected_origins",
    "presentation_definition",
];

/// `response_type` (§5.6). Only `vp_token` is supported: `vp_token
/// id_token` (SIOPv2) and `code` are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseType {
    /// The VP Token is returned in the Authorization Response.
    #[serde(rename = "vp_token")]
    VpToken,
}

impl FromStr for ResponseType {
    type Err = RequestError;

    fn from_str(value: &str) -> Result<Self, RequestError> {
        match value {
            "vp_token" => Ok(Self::VpToken),
            other => Err(RequestError::UnsupportedResponseType(other.to_owned())),
        }
    }
}

/// `response_mode` (§5.2). The set is closed: an unknown mode is refused,
/// since it decides where personal data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResponseMode {
    /// HTTP POST of the form-encoded response to `response_uri` (§8.2).
    #[serde(rename = "direct_post")]
    DirectPost,
    /// HTTP POST of `response=<JWE>` to `response_uri` (§8.3.1).
    #[serde(rename = "direct_post.jwt")]
    DirectPostJwt,
    /// Redirect with the response in the fragment of `redirect_uri`, the
    /// default for `vp_token` (§5.6).
    #[serde(rename = "fragment")]
    Fragment,
    /// Redirect with the response in the query of `redirect_uri`.
    #[serde(rename = "query")]
    Query,
    /// Returned through the Digital Credentials API (Appendix A.2).
    #[serde(rename = "dc_api")]
    DcApi,
    /// Returned encrypted through the Digital Credentials API (Appendix A.2).
    #[serde(rename = "dc_api.jwt")]
    DcApiJwt,
}

impl ResponseMode {
    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirectPost => "direct_post",
            Self::DirectPostJwt => "direct_post.jwt",
            Self::Fragment => "fragment",
            Self::Query => "query",
            Self::DcApi => "dc_api",
            Self::DcApiJwt => "dc_api.jwt",
        }
    }

    /// Whether the response is an encrypted JWT (§8.3).
    pub fn is_encrypted(self) -> bool {
        matches!(self, Self::DirectPostJwt | Self::DcApiJwt)
    }

    /// Whether the response is POSTed to `response_uri`.
    pub fn is_direct_post(self) -> bool {
        matches!(self, Self::DirectPost | Self::DirectPostJwt)
    }

    /// Whether the request travels through the Digital Credentials API.
    pub fn is_dc_api(self) -> bool {
        matches!(self, Self::DcApi | Self::DcApiJwt)
    }
}

impl FromStr for ResponseMode {
    type Err = RequestError;

    fn from_str(value: &str) -> Result<Self, RequestError> {
        Ok(match value {
            "direct_post" => Self::DirectPost,
            "direct_post.jwt" => Self::DirectPostJwt,
            "fragment" => Self::Fragment,
            "query" => Self::Query,
            "dc_api" => Self::DcApi,
            "dc_api.jwt" => Self::DcApiJwt,
            other => return Err(RequestError::UnsupportedResponseMode(other.to_owned())),
        })
    }
}

impl fmt::Display for ResponseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `request_uri_method` (§5.1): how the Wallet fetches the Request Object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestUriMethod {
    /// HTTP GET, as in RFC 9101 (the default).
    Get,
    /// HTTP POST with `wallet_metadata` and `wallet_nonce` (§5.10).
    Post,
}

impl RequestUriMethod {
    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
        }
    }
}

impl FromStr for RequestUriMethod {
    type Err = RequestError;

    fn from_str(value: &str) -> Result<Self, RequestError> {
        match value {
            "get" => Ok(Self::Get),
            "post" => Ok(Self::Post),
            other => Err(RequestError::InvalidRequestUriMethod(other.to_owned())),
        }
    }
}

/// Why a `nonce` or `state` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenValueError {
    /// The value is empty.
    #[error("the value is empty")]
    Empty,
    /// The value has a character outside the ASCII URL-safe set (letters,
    /// digits, `-`, `.`, `_`, `~`) that §5.2 allows.
    #[error("the value has a character outside A-Z a-z 0-9 - . _ ~")]
    Character,
}

fn check_url_safe(value: &str) -> Result<(), TokenValueError> {
    if value.is_empty() {
        return Err(TokenValueError::Empty);
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return Err(TokenValueError::Character);
    }
    Ok(())
}

macro_rules! url_safe_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The value as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = TokenValueError;

            fn from_str(value: &str) -> Result<Self, TokenValueError> {
                check_url_safe(value)?;
                Ok(Self(value.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = TokenValueError;

            fn try_from(value: String) -> Result<Self, TokenValueError> {
                check_url_safe(&value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

url_safe_newtype!(
    /// The request `nonce` (§5.2): binds presentations to this transaction.
    /// Non-empty, ASCII URL-safe characters only.
    Nonce
);

url_safe_newtype!(
    /// The request `state` (§5.2), echoed in the response. Non-empty,
    /// ASCII URL-safe characters only.
    State
);

/// A JSON Web Key Set (RFC 7517 §5) as found in `client_metadata.jwks`.
///
/// Keys stay JSON objects: encryption keys carry `"alg": "ECDH-ES"`, which
/// `ssi_jwk::JWK` cannot hold. Turn one into a key with
/// [`crate::jose::jwe::encryption_jwk`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Map<String, Value>>,
}

impl Jwks {
    /// The key with this `kid`.
    pub fn key(&self, kid: &str) -> Option<&Map<String, Value>> {
        self.keys
            .iter()
            .find(|key| key.get("kid").and_then(Value::as_str) == Some(kid))
    }
}

/// `client_metadata` (§5.1, §11): the Verifier metadata passed in the
/// request. Unknown members are kept in `extra` (and otherwise ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// `jwks`: public keys, e.g. for response encryption (§8.3). Each has a
    /// unique `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// `encrypted_response_enc_values_supported`: JWE `enc` values the
    /// Verifier accepts; absent means `A128GCM` only. Open: values we do not
    /// implement are kept, and skipped when choosing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_response_enc_values_supported: Option<Vec<String>>,
    /// `vp_formats_supported`: per Credential Format Identifier, the
    /// format-specific parameters (§11.1, Appendix B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_formats_supported: Option<Map<String, Value>>,
    /// Other metadata.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why an entry of `transaction_data` was refused (§5.1, §8.4).
#[derive(Debug, thiserror::Error)]
pub enum TransactionDataError {
    /// The string is not unpadded base64url.
    #[error("not base64url")]
    NotBase64url,
    /// The decoded bytes are not a JSON object with a string `type` and an
    /// array of strings `credential_ids`.
    #[error("not a transaction data object: {0}")]
    Shape(#[source] serde_json::Error),
    /// `credential_ids` is empty.
    #[error("`credential_ids` is empty")]
    NoCredentialIds,
    /// A `credential_ids` entry names no Credential Query of `dcql_query`.
    #[error("`credential_ids` names unknown credential query `{0}`")]
    UnknownCredentialId(String),
}

/// The decoded content of one `transaction_data` entry (§5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionDataContent {
    /// `type`: the transaction data type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `credential_ids`: Credential Query ids that can authorize it.
    pub credential_ids: Vec<String>,
    /// Type-specific parameters.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `transaction_data` entry: the base64url string as sent (which
/// presentations hash) and its decoded content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TransactionData {
    encoded: String,
    content: TransactionDataContent,
}

impl TransactionData {
    /// Encodes `content` as base64url JSON.
    pub fn new(content: TransactionDataContent) -> Result<Self, TransactionDataError> {
        let json = serde_json::to_vec(&content).map_err(TransactionDataError::Shape)?;
        Ok(Self {
            encoded: b64url_encode(json),
            content,
        })
    }

    /// The base64url string as sent.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// The decoded object.
    pub fn content(&self) -> &TransactionDataContent {
        &self.content
    }
}

impl TryFrom<String> for TransactionData {
    type Error = TransactionDataError;

    fn try_from(encoded: String) -> Result<Self, TransactionDataError> {
        let bytes = b64url_decode(&encoded).map_err(|_| TransactionDataError::NotBase64url)?;
        let content: TransactionDataContent =
            serde_json::from_slice(&bytes).map_err(TransactionDataError::Shape)?;
        if content.credential_ids.is_empty() {
            return Err(TransactionDataError::NoCredentialIds);
        }
        Ok(Self { encoded, content })
    }
}

impl From<TransactionData> for String {
    fn from(data: TransactionData) -> Self {
        data.encoded
    }
}

/// One `verifier_info` attestation (§5.1, §5.11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifierInfo {
    /// `format`: how the attestation is encoded.
    pub format: String,
    /// `data`: the attestation, an object or a string such as a JWT.
    pub data: Value,
    /// `credential_ids`: the Credential Queries it is relevant to; absent
    /// means all. Non-empty if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_ids: Option<Vec<String>>,
}

/// Whether the parameters came in a verified signed Request Object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSigning {
    /// Plain parameters (URI query, unsigned DC API request).
    Unsigned,
    /// A Request Object whose signature was verified.
    Signed,
}

/// Why `client_metadata.jwks` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// `keys` is empty.
    #[error("`keys` is empty")]
    Empty,
    /// A key has no string `kid`, which §5.1 requires.
    #[error("key {index} has no `kid`")]
    MissingKid {
        /// Zero-based position in `keys`.
        index: usize,
    },
    /// Two keys share a `kid`.
    #[error("`kid` `{0}` is used twice")]
    DuplicateKid(String),
    /// A key carries private members (`d`, `p`, `q`, `k`...).
    #[error("key `{0}` carries private key material")]
    PrivateKey(String),
}

/// Why an Authorization Request was refused. Each variant is one rule of
/// OpenID4VP 1.0 §5 (or of our profile); `From<&RequestError> for ErrorCode` maps
/// it to the wire.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The invocation URI cannot be parsed, or has no query.
    #[error("the request URI is malformed: {0}")]
    MalformedUri(&'static str),
    /// A parameter appears twice in the URI query.
    #[error("parameter `{0}` appears more than once")]
    DuplicateParameter(String),
    /// A parameter has the wrong JSON shape, or a JSON-valued URI parameter
    /// is not JSON text.
    #[error("parameter `{parameter}` is malformed: {source}")]
    Malformed {
        /// The parameter.
        parameter: &'static str,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// A REQUIRED parameter is absent.
    #[error("required parameter `{0}` is missing")]
    MissingParameter(&'static str),
    /// `response_type` is not `vp_token`.
    #[error("unsupported response_type `{0}`: only vp_token is supported")]
    UnsupportedResponseType(String),
    /// `response_mode` is not one we know.
    #[error("unsupported response_mode `{0}`")]
    UnsupportedResponseMode(String),
    /// `request_uri_method` is neither `get` nor `post` (§5.1).
    #[error("request_uri_method `{0}` is neither `get` nor `post`")]
    InvalidRequestUriMethod(String),
    /// `request_uri_method` without `request_uri` (§5.1).
    #[error("request_uri_method is present without request_uri")]
    RequestUriMethodWithoutRequestUri,
    /// Both `request` and `request_uri` are present (RFC 9101 §5).
    #[error("both `request` and `request_uri` are present")]
    RequestAndRequestUri,
    /// `request_uri`, `response_uri` or `redirect_uri` is not an absolute
    /// http(s) URL.
    #[error("parameter `{0}` is not an absolute http(s) URL")]
    InvalidUrl(&'static str),
    /// The request uses DIF Presentation Exchange (`presentation_definition`
    /// or `presentation_definition_uri`), which OpenID4VP 1.0 removed. We
    /// support DCQL only.
    #[error("presentation_definition is not supported: use dcql_query")]
    PresentationDefinitionUnsupported,
    /// The request asks by `scope`; we map no scope to a DCQL query.
    #[error("scope `{0}` is not supported: use dcql_query")]
    ScopeUnsupported(String),
    /// `client_id` breaks its prefix's rules (§5.9).
    #[error("invalid client_id: {0}")]
    InvalidClientId(#[from] ClientIdError),
    /// `nonce` is not ASCII URL-safe (§5.2).
    #[error("invalid nonce: {0}")]
    InvalidNonce(TokenValueError),
    /// `state` is not ASCII URL-safe (§5.2).
    #[error("invalid state: {0}")]
    InvalidState(TokenValueError),
    /// `dcql_query` is not a valid DCQL query (§6).
    #[error("invalid dcql_query: {0}")]
    InvalidDcql(#[source] DcqlError),
    /// `redirect_uri` is present with Response Mode `direct_post*`, which
    /// §8.2 forbids.
    #[error("redirect_uri must not be present with response_mode {0}")]
    RedirectUriWithDirectPost(ResponseMode),
    /// A `redirect_uri:` client sent a signed request, which §5.9.3 rules
    /// out.
    #[error("a redirect_uri: client cannot send a signed request")]
    SignedRedirectUriClient,
    /// The prefix requires a signed Request Object (§5.9.3), but the
    /// request is unsigned.
    #[error("client_id prefix {0} requires a signed request object")]
    UnsignedRequest(ClientIdPrefix),
    /// A `redirect_uri:` client's identifier differs from the URI the
    /// response goes to (§5.9.3).
    #[error("client_id `{client_id}` does not match {parameter} `{uri}`")]
    ClientIdMismatch {
        /// The client_id.
        client_id: String,
        /// `response_uri` or `redirect_uri`.
        parameter: &'static str,
        /// Its value.
        uri: String,
    },
    /// `client_metadata.jwks` is unusable.
    #[error("invalid client_metadata.jwks: {0}")]
    InvalidJwks(JwksError),
    /// An encrypted Response Mode without any key to encrypt to (§8.3).
    #[error("response_mode {0} needs client_metadata.jwks with an encryption key")]
    MissingEncryptionKeys(ResponseMode),
    /// `encrypted_response_enc_values_supported` is an empty array.
    #[error("encrypted_response_enc_values_supported is empty")]
    EmptyEncValues,
    /// A `transaction_data` entry is invalid (§5.1).
    #[error("transaction_data[{index}]: {reason}")]
    InvalidTransactionData {
        /// Zero-based position.
        index: usize,
        /// What is wrong.
        reason: TransactionDataError,
    },
    /// A `verifier_info` entry has an empty `credential_ids` or names an
    /// unknown Credential Query (§5.1).
    #[error("verifier_info[{index}] has an empty or unknown credential_ids entry")]
    InvalidVerifierInfo {
        /// Zero-based position.
        index: usize,
    },
    /// An array parameter that must be non-empty is empty
    /// (`transaction_data`, `verifier_info`, `expected_origins`).
    #[error("parameter `{0}` must not be empty")]
    EmptyArray(&'static str),
    /// A Credential Query accepts presentations without Holder Binding, so
    /// `state` is REQUIRED (§5.3), but it is absent.
    #[error("state is required when a credential query allows no holder binding")]
    MissingState,
}

impl RequestError {
    fn malformed(parameter: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Self::Malformed { parameter, source }
    }
}

/// An Authorization Request by value (§5): the parameters of a URI query
/// or the claims of a Request Object (without the JWT claims `iss`, `aud`,
/// `exp`, `iat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct AuthorizationRequest {
    /// `response_type`: always `vp_token`.
    pub response_type: ResponseType,
    /// `client_id` (§5.2, §5.9). Absent only in unsigned Digital Credentials
    /// API requests (Appendix A.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// `response_mode`. Absent means `fragment` (§5.6); see
    /// [`AuthorizationRequest::response_mode`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<ResponseMode>,
    /// `response_uri` (§8.2): where `direct_post*` responses go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_uri: Option<String>,
    /// `redirect_uri` (RFC 6749): where redirect-based responses go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// `nonce` (§5.2): REQUIRED.
    pub nonce: Nonce,
    /// `state` (§5.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// `dcql_query` (§5.1, §6), validated.
    pub dcql_query: ValidatedQuery,
    /// `client_metadata` (§5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    /// `transaction_data` (§5.1): non-empty if present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_data: Option<Vec<TransactionData>>,
    /// `verifier_info` (§5.1, §5.11): non-empty if present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verifier_info: Option<Vec<VerifierInfo>>,
    /// `wallet_nonce` (§5.10): echoed from the Wallet's Request URI POST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_nonce: Option<String>,
    /// `expected_origins` (Appendix A.2): REQUIRED in signed DC API requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_origins: Option<Vec<String>>,
    /// Parameters we do not interpret, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Removes `name` and reads it as `T`.
fn take<T: serde::de::DeserializeOwned>(
    map: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<T>, RequestError> {
    map.remove(name)
        .map(|value| serde_json::from_value(value).map_err(RequestError::malformed(name)))
        .transpose()
}

fn take_url(
    map: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, RequestError> {
    let url: Option<String> = take(map, name)?;
    match url {
        Some(url) if !is_web_url(&url, true) => Err(RequestError::InvalidUrl(name)),
        url => Ok(url),
    }
}

impl AuthorizationRequest {
    /// A minimal request: `response_type=vp_token`, the given client,
    /// nonce and query; every other parameter unset.
    pub fn new(client_id: ClientId, nonce: Nonce, dcql_query: ValidatedQuery) -> Self {
        Self {
            response_type: ResponseType::VpToken,
            client_id: Some(client_id),
            response_mode: None,
            response_uri: None,
            redirect_uri: None,
            nonce,
            state: None,
            dcql_query,
            client_metadata: None,
            transaction_data: None,
            verifier_info: None,
            wallet_nonce: None,
            expected_origins: None,
            extra: Map::new(),
        }
    }

    /// The Response Mode, `fragment` when absent (§5.6).
    pub fn response_mode(&self) -> ResponseMode {
        self.response_mode.unwrap_or(ResponseMode::Fragment)
    }

    /// Reads the parameters of a request from a JSON object, each field by
    /// its own rule. Cross-field rules are left to [`Self::validate`].
    pub fn from_object(mut map: Map<String, Value>) -> Result<Self, RequestError> {
        if map.contains_key("presentation_definition")
            || map.contains_key("presentation_definition_uri")
        {
            return Err(RequestError::PresentationDefinitionUnsupported);
        }
        let response_type = take::<String>(&mut map, "response_type")?
            .ok_or(RequestError::MissingParameter("response_type"))?
            .parse()?;
        if let Some(scope) = take::<String>(&mut map, "scope")? {
            return Err(RequestError::ScopeUnsupported(scope));
        }
        let response_mode = take::<String>(&mut map, "response_mode")?
            .map(|mode| mode.parse())
            .transpose()?;
        let client_id = take::<String>(&mut map, "client_id")?
            .map(|id| id.parse())
            .transpose()?;
        let nonce = take::<String>(&mut map, "nonce")?
            .ok_or(RequestError::MissingParameter("nonce"))?
            .parse()
            .map_err(RequestError::InvalidNonce)?;
        let state = take::<String>(&mut map, "state")?
            .map(|state| state.parse().map_err(RequestError::InvalidState))
            .transpose()?;
        let query = map
            .remove("dcql_query")
            .ok_or(RequestError::MissingParameter("dcql_query"))?;
        let query: DcqlQuery = serde_json::from_value(query)
            .map_err(|e| RequestError::InvalidDcql(DcqlError::Syntax(e)))?;
        let dcql_query = ValidatedQuery::try_from(query).map_err(RequestError::InvalidDcql)?;
        let transaction_data = take::<Vec<String>>(&mut map, "transaction_data")?
            .map(|entries| {
                entries
                    .into_iter()
                    .enumerate()
                    .map(|(index, entry)| {
                        TransactionData::try_from(entry).map_err(|reason| {
                            RequestError::InvalidTransactionData { index, reason }
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self {
            response_type,
            client_id,
            response_mode,
            response_uri: take_url(&mut map, "response_uri")?,
            redirect_uri: take_url(&mut map, "redirect_uri")?,
            nonce,
            state,
            dcql_query,
            client_metadata: take(&mut map, "client_metadata")?,
            transaction_data,
            verifier_info: take(&mut map, "verifier_info")?,
            wallet_nonce: take(&mut map, "wallet_nonce")?,
            expected_origins: take(&mut map, "expected_origins")?,
            extra: map,
        })
    }

    /// Checks the rules between parameters (§5, §5.9.3, §8.2, §8.3,
    /// Appendix A.2), given whether they came in a verified signed Request
    /// Object.
    pub fn validate(&self, signing: RequestSigning) -> Result<(), RequestError> {
        let mode = self.response_mode();
        let signed = signing == RequestSigning::Signed;
        self.validate_client(mode, signed)?;
        if mode.is_direct_post() && self.redirect_uri.is_some() {
            return Err(RequestError::RedirectUriWithDirectPost(mode));
        }
        self.validate_metadata(mode)?;
        self.validate_references()?;
        if mode.is_dc_api() && signed {
            match &self.expected_origins {
                None => return Err(RequestError::MissingParameter("expected_origins")),
                Some(origins) if origins.is_empty() => {
                    return Err(RequestError::EmptyArray("expected_origins"));
                }
                Some(_) => {}
            }
        }
        let unbound = self
            .dcql_query
            .query()
            .credentials
            .iter()
            .any(|c| !c.require_cryptographic_holder_binding);
        if unbound && !mode.is_dc_api() && self.state.is_none() {
            return Err(RequestError::MissingState);
        }
        Ok(())
    }

    /// The URI the response goes to for this Response Mode: `response_uri`
    /// for `direct_post*`, else `redirect_uri`; for a `redirect_uri:`
    /// client that omits it, the client identifier itself (§5.9.3).
    pub fn response_destination(&self) -> Option<&str> {
        let explicit = if self.response_mode().is_direct_post() {
            self.response_uri.as_deref()
        } else {
            self.redirect_uri.as_deref()
        };
        explicit.or_else(|| {
            self.client_id
                .as_ref()
                .filter(|id| id.prefix() == ClientIdPrefix::RedirectUri)
                .map(ClientId::original)
        })
    }

    fn validate_client(&self, mode: ResponseMode, signed: bool) -> Result<(), RequestError> {
        let Some(client_id) = &self.client_id else {
            // Unsigned DC API requests omit client_id (Appendix A.2).
            if mode.is_dc_api() && !signed {
                return Ok(());
            }
            return Err(RequestError::MissingParameter("client_id"));
        };
        let prefix = client_id.prefix();
        if prefix == ClientIdPrefix::RedirectUri && signed {
            return Err(RequestError::SignedRedirectUriClient);
        }
        if prefix.requires_signed_request() && !signed {
            return Err(RequestError::UnsignedRequest(prefix));
        }
        let (parameter, uri) = if mode.is_direct_post() {
            ("response_uri", &self.response_uri)
        } else {
            ("redirect_uri", &self.redirect_uri)
        };
        if prefix == ClientIdPrefix::RedirectUri {
            if let Some(uri) = uri
                && uri != client_id.original()
            {
                return Err(RequestError::ClientIdMismatch {
                    client_id: client_id.to_string(),
                    parameter,
                    uri: uri.clone(),
                });
            }
        } else if uri.is_none() && !mode.is_dc_api() {
            return Err(RequestError::MissingParameter(parameter));
        }
        Ok(())
    }

    fn validate_metadata(&self, mode: ResponseMode) -> Result<(), RequestError> {
        let jwks = self.client_metadata.as_ref().and_then(|m| m.jwks.as_ref());
        if let Some(jwks) = jwks {
            check_jwks(jwks).map_err(RequestError::InvalidJwks)?;
        }
        let enc_values = self
            .client_metadata
            .as_ref()
            .and_then(|m| m.encrypted_response_enc_values_supported.as_ref());
        if enc_values.is_some_and(Vec::is_empty) {
            return Err(RequestError::EmptyEncValues);
        }
        // Keys may come from elsewhere only for clients whose metadata the
        // Wallet obtains out of band (pre-registered, federation).
        let metadata_elsewhere = self.client_id.as_ref().is_some_and(|id| {
            matches!(
                id.prefix(),
                ClientIdPrefix::PreRegistered | ClientIdPrefix::OpenidFederation
            )
        });
        if mode.is_encrypted() && jwks.is_none() && !metadata_elsewhere {
            return Err(RequestError::MissingEncryptionKeys(mode));
        }
        Ok(())
    }

    fn validate_references(&self) -> Result<(), RequestError> {
        let query = self.dcql_query.query();
        let known = |id: &String| query.credential(id).is_some();
        if let Some(entries) = &self.transaction_data {
            if entries.is_empty() {
                return Err(RequestError::EmptyArray("transaction_data"));
            }
            for (index, entry) in entries.iter().enumerate() {
                if let Some(id) = entry.content.credential_ids.iter().find(|id| !known(id)) {
                    return Err(RequestError::InvalidTransactionData {
                        index,
                        reason: TransactionDataError::UnknownCredentialId(id.clone()),
                    });
                }
            }
        }
        if let Some(infos) = &self.verifier_info {
            if infos.is_empty() {
                return Err(RequestError::EmptyArray("verifier_info"));
            }
            for (index, info) in infos.iter().enumerate() {
                if let Some(ids) = &info.credential_ids
                    && (ids.is_empty() || !ids.iter().all(known))
                {
                    return Err(RequestError::InvalidVerifierInfo { index });
                }
            }
        }
        Ok(())
    }

    /// The parameters as a JSON object, the claims of a Request Object.
    pub fn to_object(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // Every field serializes to JSON, and a struct to an object.
            _ => Map::new(),
        }
    }

    /// Parses a wallet invocation URI (`openid4vp://?...`, `haip-vp://?...`,
    /// the pre-1.0 `haip://?...`, or an https link): either the whole request by value, or a
    /// reference to a Request Object (`request_uri`, or `request` by
    /// value). A by-value request is validated as unsigned.
    pub fn from_uri(uri: &str) -> Result<Invocation, RequestError> {
        let url = url::Url::parse(uri).map_err(|_| RequestError::MalformedUri("not a URI"))?;
        if url.query().is_none_or(str::is_empty) {
            return Err(RequestError::MalformedUri("no query"));
        }
        let mut map = Map::new();
        for (name, value) in url.query_pairs() {
            let value = match JSON_PARAMETERS.iter().find(|p| **p == name) {
                Some(parameter) => {
                    serde_json::from_str(&value).map_err(RequestError::malformed(parameter))?
                }
                None => Value::String(value.into_owned()),
            };
            if map.insert(name.clone().into_owned(), value).is_some() {
                return Err(RequestError::DuplicateParameter(name.into_owned()));
            }
        }
        if map.contains_key("request") || map.contains_key("request_uri") {
            return RequestReference::from_object(map).map(Invocation::ByReference);
        }
        if map.contains_key("request_uri_method") {
            return Err(RequestError::RequestUriMethodWithoutRequestUri);
        }
        let request = Self::from_object(map)?;
        request.validate(RequestSigning::Unsigned)?;
        Ok(Invocation::ByValue(Box::new(request)))
    }
}

impl TryFrom<Map<String, Value>> for AuthorizationRequest {
    type Error = RequestError;

    fn try_from(map: Map<String, Value>) -> Result<Self, RequestError> {
        Self::from_object(map)
    }
}

/// Checks `client_metadata.jwks` (§5.1): keys present, each with a unique
/// `kid`, none with private members.
fn check_jwks(jwks: &Jwks) -> Result<(), JwksError> {
    if jwks.keys.is_empty() {
        return Err(JwksError::Empty);
    }
    let mut seen = HashSet::new();
    for (index, key) in jwks.keys.iter().enumerate() {
        let Some(kid) = key.get("kid").and_then(Value::as_str) else {
            return Err(JwksError::MissingKid { index });
        };
        if !seen.insert(kid) {
            return Err(JwksError::DuplicateKid(kid.to_owned()));
        }
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|member| key.contains_key(*member))
        {
            return Err(JwksError::PrivateKey(kid.to_owned()));
        }
    }
    Ok(())
}

/// Where the Request Object is: fetched from `request_uri`, or passed by
/// value in `request` (RFC 9101 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestObjectSource {
    /// `request_uri` (+ `request_uri_method`, default `get`).
    Uri {
        /// `request_uri`: an absolute http(s) URL.
        request_uri: String,
        /// `request_uri_method`.
        method: Option<RequestUriMethod>,
    },
    /// `request`: the signed Request Object itself.
    Value(String),
}

/// An Authorization Request by reference (RFC 9101 §5 with OpenID4VP 1.0
/// §5.10): `client_id` plus the Request Object's source. Other parameters
/// in the URI are kept in `extra` and must not be used (§5.10.1).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestReference {
    /// `client_id`: must equal the Request Object's (§5.10.1).
    pub client_id: ClientId,
    /// Where the Request Object is.
    pub source: RequestObjectSource,
    /// Other parameters: ignored by a Wallet (§5.10.1), written by
    /// [`Invocation::to_uri`] (e.g. `client_metadata`, §5.1).
    pub extra: Map<String, Value>,
}

impl RequestReference {
    fn from_object(mut map: Map<String, Value>) -> Result<Self, RequestError> {
        let client_id = take::<String>(&mut map, "client_id")?
            .ok_or(RequestError::MissingParameter("client_id"))?
            .parse()?;
        let request: Option<String> = take(&mut map, "request")?;
        let request_uri = take_url(&mut map, "request_uri")?;
        let method = take::<String>(&mut map, "request_uri_method")?
            .map(|method| method.parse())
            .transpose()?;
        let source = match (request, request_uri) {
            (Some(_), Some(_)) => return Err(RequestError::RequestAndRequestUri),
            (Some(_), None) if method.is_some() => {
                return Err(RequestError::RequestUriMethodWithoutRequestUri);
            }
            (Some(jwt), None) => RequestObjectSource::Value(jwt),
            (None, Some(request_uri)) => RequestObjectSource::Uri {
                request_uri,
                method,
            },
            (None, None) => return Err(RequestError::MissingParameter("request_uri")),
        };
        Ok(Self {
            client_id,
            source,
            extra: map,
        })
    }
}

/// A parsed wallet invocation URI (§9).
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// All parameters in the URI (unsigned).
    ByValue(Box<AuthorizationRequest>),
    /// A reference to a signed Request Object.
    ByReference(RequestReference),
}

impl Invocation {
    /// Builds the URI: `endpoint` (e.g. [`OPENID4VP_SCHEME`], [`HAIP_VP_SCHEME`]
    /// or a wallet's https link), `?`, then the form-encoded parameters;
    /// object and array parameters as JSON text.
    pub fn to_uri(&self, endpoint: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        match self {
            Self::ByValue(request) => {
                for (name, value) in request.to_object() {
                    match value {
                        Value::String(text) => query.append_pair(&name, &text),
                        other => query.append_pair(&name, &other.to_string()),
                    };
                }
            }
            Self::ByReference(reference) => {
                query.append_pair("client_id", reference.client_id.as_str());
                match &reference.source {
                    RequestObjectSource::Uri {
                        request_uri,
                        method,
                    } => {
                        query.append_pair("request_uri", request_uri);
                        if let Some(method) = method {
                            query.append_pair("request_uri_method", method.as_str());
                        }
                    }
                    RequestObjectSource::Value(jwt) => {
                        query.append_pair("request", jwt);
                    }
                }
                // Further parameters, e.g. `client_metadata` beside
                // `request_uri_method=post` (§5.1).
                for (name, value) in &reference.extra {
                    match value {
                        Value::String(text) => query.append_pair(name, text),
                        other => query.append_pair(name, &other.to_string()),
                    };
                }
            }
        }
        format!("{endpoint}?{}", query.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": "redirect_uri:https://verifier.example/post",
            "response_uri": "https://verifier.example/post",
            "nonce": "n-0S6_WzA2Mj",
            "state": "st-1",
            "dcql_query": {"credentials": [{
                "id": "reg", "format": "dc+sd-jwt",
                "meta": {"vct_values": ["https://example.com/reg"]}
            }]}
        })
    }

    fn parse(
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<AuthorizationRequest, RequestError> {
        let Value::Object(mut map) = base() else {
            unreachable!()
        };
        edit(&mut map);
        AuthorizationRequest::from_object(map)
    }

    fn check(
        signing: RequestSigning,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<AuthorizationRequest, RequestError> {
        let request = parse(edit)?;
        request.validate(signing)?;
        Ok(request)
    }

    fn unsigned(edit: impl FnOnce(&mut Map<String, Value>)) -> RequestError {
        check(RequestSigning::Unsigned, edit).unwrap_err()
    }

    fn signed(edit: impl FnOnce(&mut Map<String, Value>)) -> RequestError {
        check(RequestSigning::Signed, edit).unwrap_err()
    }

    fn x509(map: &mut Map<String, Value>) {
        map.insert("client_id".into(), json!("x509_san_dns:verifier.example"));
    }

    fn p256_key(kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "enc", "alg": "ECDH-ES",
               "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk",
               "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk"})
    }

    #[test]
    fn base_request_is_valid_and_round_trips() {
        let request = check(RequestSigning::Unsigned, |_| {}).unwrap();
        assert_eq!(request.response_mode(), ResponseMode::DirectPost);
        assert_eq!(
            request.response_destination(),
            Some("https://verifier.example/post")
        );
        let again: AuthorizationRequest =
            serde_json::from_value(Value::Object(request.to_object())).unwrap();
        assert_eq!(again, request);
    }

    #[test]
    fn unknown_parameters_are_kept() {
        let request = check(RequestSigning::Unsigned, |m| {
            m.insert("ui_locales".into(), json!("sv"));
        })
        .unwrap();
        assert_eq!(request.extra["ui_locales"], "sv");
    }

    #[test]
    fn field_errors() {
        assert!(matches!(
            unsigned(|m| {
                m.insert("presentation_definition".into(), json!({}));
            }),
            RequestError::PresentationDefinitionUnsupported
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("scope".into(), json!("com.example.pid"));
            }),
            RequestError::ScopeUnsupported(s) if s == "com.example.pid"
        ));
        assert!(matches!(
            unsigned(|m| {
                m.remove("response_type");
            }),
            RequestError::MissingParameter("response_type")
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("response_type".into(), json!("vp_token id_token"));
            }),
            RequestError::UnsupportedResponseType(t) if t == "vp_token id_token"
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("response_mode".into(), json!("form_post"));
            }),
            RequestError::UnsupportedResponseMode(t) if t == "form_post"
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("nonce".into(), json!(42));
            }),
            RequestError::Malformed {
                parameter: "nonce",
                ..
            }
        ));
        assert!(matches!(
            unsigned(|m| {
                m.remove("nonce");
            }),
            RequestError::MissingParameter("nonce")
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("nonce".into(), json!("a b"));
            }),
            RequestError::InvalidNonce(TokenValueError::Character)
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("state".into(), json!(""));
            }),
            RequestError::InvalidState(TokenValueError::Empty)
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("client_id".into(), json!("origin:https://x.example"));
            }),
            RequestError::InvalidClientId(ClientIdError::ReservedOrigin)
        ));
        assert!(matches!(
            unsigned(|m| {
                m.remove("dcql_query");
            }),
            RequestError::MissingParameter("dcql_query")
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("dcql_query".into(), json!({"credentials": []}));
            }),
            RequestError::InvalidDcql(DcqlError::EmptyCredentials)
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("dcql_query".into(), json!("not an object"));
            }),
            RequestError::InvalidDcql(DcqlError::Syntax(_))
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("response_uri".into(), json!("/relative"));
            }),
            RequestError::InvalidUrl("response_uri")
        ));
    }

    #[test]
    fn section_8_2_direct_post_rules() {
        assert!(matches!(
            unsigned(|m| {
                m.insert("redirect_uri".into(), json!("https://verifier.example/cb"));
            }),
            RequestError::RedirectUriWithDirectPost(ResponseMode::DirectPost)
        ));
        assert!(matches!(
            signed(|m| {
                x509(m);
                m.remove("response_uri");
            }),
            RequestError::MissingParameter("response_uri")
        ));
        // A redirect_uri: client may omit response_uri: the client_id is it.
        let request = check(RequestSigning::Unsigned, |m| {
            m.remove("response_uri");
        })
        .unwrap();
        assert_eq!(
            request.response_destination(),
            Some("https://verifier.example/post")
        );
    }

    #[test]
    fn section_5_9_3_prefix_rules() {
        assert!(matches!(
            signed(|_| {}),
            RequestError::SignedRedirectUriClient
        ));
        assert!(matches!(
            unsigned(x509),
            RequestError::UnsignedRequest(ClientIdPrefix::X509SanDns)
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("response_uri".into(), json!("https://evil.example/post"));
            }),
            RequestError::ClientIdMismatch {
                parameter: "response_uri",
                ..
            }
        ));
        assert!(matches!(
            unsigned(|m| {
                m.remove("client_id");
            }),
            RequestError::MissingParameter("client_id")
        ));
        check(RequestSigning::Signed, x509).unwrap();
    }

    #[test]
    fn section_8_3_encryption_metadata() {
        assert!(matches!(
            signed(|m| {
                x509(m);
                m.insert("response_mode".into(), json!("direct_post.jwt"));
            }),
            RequestError::MissingEncryptionKeys(ResponseMode::DirectPostJwt)
        ));
        let with_keys = |keys: Value| {
            move |m: &mut Map<String, Value>| {
                x509(m);
                m.insert("response_mode".into(), json!("direct_post.jwt"));
                m.insert("client_metadata".into(), json!({"jwks": {"keys": keys}}));
            }
        };
        check(RequestSigning::Signed, with_keys(json!([p256_key("k1")]))).unwrap();
        assert!(matches!(
            signed(with_keys(json!([]))),
            RequestError::InvalidJwks(JwksError::Empty)
        ));
        let mut no_kid = p256_key("x");
        no_kid.as_object_mut().unwrap().remove("kid");
        assert!(matches!(
            signed(with_keys(json!([no_kid]))),
            RequestError::InvalidJwks(JwksError::MissingKid { index: 0 })
        ));
        assert!(matches!(
            signed(with_keys(json!([p256_key("a"), p256_key("a")]))),
            RequestError::InvalidJwks(JwksError::DuplicateKid(k)) if k == "a"
        ));
        let mut private = p256_key("p");
        private["d"] = json!("Et-3ce0omz8_TuZ96Df9lp0GAaaDoUnDe6X-CRO7Aww");
        assert!(matches!(
            signed(with_keys(json!([private]))),
            RequestError::InvalidJwks(JwksError::PrivateKey(k)) if k == "p"
        ));
        assert!(matches!(
            signed(|m| {
                x509(m);
                m.insert(
                    "client_metadata".into(),
                    json!({"encrypted_response_enc_values_supported": []}),
                );
            }),
            RequestError::EmptyEncValues
        ));
    }

    fn transaction_data(content: Value) -> String {
        b64url_encode(content.to_string())
    }

    #[test]
    fn section_5_1_transaction_data() {
        let ok = transaction_data(json!({"type": "t", "credential_ids": ["reg"], "amount": 1}));
        let request = check(RequestSigning::Unsigned, |m| {
            m.insert("transaction_data".into(), json!([ok]));
        })
        .unwrap();
        let entry = &request.transaction_data.as_ref().unwrap()[0];
        assert_eq!(entry.encoded(), ok);
        assert_eq!(entry.content().kind, "t");
        assert_eq!(entry.content().extra["amount"], 1);

        let err = |value: Value| {
            unsigned(move |m| {
                m.insert("transaction_data".into(), value);
            })
        };
        assert!(matches!(
            err(json!([])),
            RequestError::EmptyArray("transaction_data")
        ));
        assert!(matches!(
            err(json!(["***"])),
            RequestError::InvalidTransactionData {
                index: 0,
                reason: TransactionDataError::NotBase64url
            }
        ));
        assert!(matches!(
            err(json!([transaction_data(json!({"type": 1}))])),
            RequestError::InvalidTransactionData {
                reason: TransactionDataError::Shape(_),
                ..
            }
        ));
        assert!(matches!(
            err(json!([transaction_data(
                json!({"type": "t", "credential_ids": []})
            )])),
            RequestError::InvalidTransactionData {
                reason: TransactionDataError::NoCredentialIds,
                ..
            }
        ));
        assert!(matches!(
            err(json!([ok, transaction_data(json!({"type": "t", "credential_ids": ["nope"]}))])),
            RequestError::InvalidTransactionData { index: 1, reason: TransactionDataError::UnknownCredentialId(id) } if id == "nope"
        ));
        let built = TransactionData::new(TransactionDataContent {
            kind: "t".into(),
            credential_ids: vec!["reg".into()],
            extra: Map::new(),
        })
        .unwrap();
        assert_eq!(
            TransactionData::try_from(built.encoded().to_owned()).unwrap(),
            built
        );
    }

    #[test]
    fn section_5_1_verifier_info() {
        let info = |ids: Value| json!([{"format": "jwt", "data": "eyJ...", "credential_ids": ids}]);
        check(RequestSigning::Unsigned, |m| {
            m.insert("verifier_info".into(), info(json!(["reg"])));
        })
        .unwrap();
        assert!(matches!(
            unsigned(|m| {
                m.insert("verifier_info".into(), info(json!(["other"])));
            }),
            RequestError::InvalidVerifierInfo { index: 0 }
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("verifier_info".into(), info(json!([])));
            }),
            RequestError::InvalidVerifierInfo { index: 0 }
        ));
        assert!(matches!(
            unsigned(|m| {
                m.insert("verifier_info".into(), json!([]));
            }),
            RequestError::EmptyArray("verifier_info")
        ));
    }

    #[test]
    fn section_5_3_state_required_without_holder_binding() {
        let err = unsigned(|m| {
            m.remove("state");
            m["dcql_query"]["credentials"][0]["require_cryptographic_holder_binding"] =
                json!(false);
        });
        assert!(matches!(err, RequestError::MissingState));
    }

    #[test]
    fn appendix_a_dc_api_rules() {
        let dc_api = |m: &mut Map<String, Value>| {
            m.insert("response_mode".into(), json!("dc_api"));
            m.remove("response_uri");
            m.remove("client_id");
        };
        check(RequestSigning::Unsigned, dc_api).unwrap();
        assert!(matches!(
            signed(|m| {
                dc_api(m);
                x509(m);
            }),
            RequestError::MissingParameter("expected_origins")
        ));
        assert!(matches!(
            signed(|m| {
                dc_api(m);
                x509(m);
                m.insert("expected_origins".into(), json!([]));
            }),
            RequestError::EmptyArray("expected_origins")
        ));
    }

    fn uri_of(query: &str) -> String {
        format!("{OPENID4VP_SCHEME}?{query}")
    }

    #[test]
    fn section_5_10_by_reference_uri() {
        let uri = uri_of(
            "client_id=x509_san_dns%3Aclient.example.org\
             &request_uri=https%3A%2F%2Fclient.example.org%2Frequest%2Fvapof4ql2i7m41m68uep\
             &request_uri_method=post",
        );
        let Invocation::ByReference(reference) = AuthorizationRequest::from_uri(&uri).unwrap()
        else {
            panic!("expected a reference")
        };
        assert_eq!(reference.client_id.prefix(), ClientIdPrefix::X509SanDns);
        assert_eq!(
            reference.source,
            RequestObjectSource::Uri {
                request_uri: "https://client.example.org/request/vapof4ql2i7m41m68uep".into(),
                method: Some(RequestUriMethod::Post),
            }
        );
        let mut reference = reference;
        reference.extra.insert(
            "client_metadata".into(),
            json!({"client_name": "Exempel AB"}),
        );
        let rebuilt = Invocation::ByReference(reference.clone()).to_uri(HAIP_VP_SCHEME);
        assert!(
            rebuilt.contains("&client_metadata=%7B%22client_name%22"),
            "{rebuilt}"
        );
        assert!(rebuilt.starts_with("haip-vp://?client_id=x509_san_dns%3Aclient.example.org"));
        assert_eq!(
            AuthorizationRequest::from_uri(&rebuilt).unwrap(),
            Invocation::ByReference(reference.clone())
        );
        // The pre-1.0 `haip://` scheme is still read.
        let legacy = rebuilt.replacen(HAIP_VP_SCHEME, LEGACY_HAIP_SCHEME, 1);
        assert_eq!(
            AuthorizationRequest::from_uri(&legacy).unwrap(),
            Invocation::ByReference(reference)
        );
    }

    #[test]
    fn uri_errors() {
        let err = |uri: &str| AuthorizationRequest::from_uri(uri).unwrap_err();
        assert!(matches!(
            err("not a uri"),
            RequestError::MalformedUri("not a URI")
        ));
        assert!(matches!(
            err("openid4vp://"),
            RequestError::MalformedUri("no query")
        ));
        assert!(matches!(
            err(&uri_of("client_id=a&client_id=b&request_uri=https%3A%2F%2Fx.example")),
            RequestError::DuplicateParameter(p) if p == "client_id"
        ));
        assert!(matches!(
            err(&uri_of("client_id=a&request_uri=https%3A%2F%2Fx.example&request_uri_method=put")),
            RequestError::InvalidRequestUriMethod(m) if m == "put"
        ));
        assert!(matches!(
            err(&uri_of("client_id=a&request=eyJ&request_uri_method=get")),
            RequestError::RequestUriMethodWithoutRequestUri
        ));
        assert!(matches!(
            err(&uri_of("client_id=a&nonce=n&request_uri_method=get")),
            RequestError::RequestUriMethodWithoutRequestUri
        ));
        assert!(matches!(
            err(&uri_of(
                "client_id=a&request=eyJ&request_uri=https%3A%2F%2Fx.example"
            )),
            RequestError::RequestAndRequestUri
        ));
        assert!(matches!(
            err(&uri_of("request_uri=https%3A%2F%2Fx.example")),
            RequestError::MissingParameter("client_id")
        ));
        assert!(matches!(
            err(&uri_of("client_id=a&request_uri=ftp%3A%2F%2Fx.example")),
            RequestError::InvalidUrl("request_uri")
        ));
        assert!(matches!(
            err(&uri_of("client_id=a&dcql_query=%7Bnot-json")),
            RequestError::Malformed {
                parameter: "dcql_query",
                ..
            }
        ));
    }

    #[test]
    fn by_value_uri_round_trip() {
        let request = check(RequestSigning::Unsigned, |_| {}).unwrap();
        let uri = Invocation::ByValue(Box::new(request.clone())).to_uri(OPENID4VP_SCHEME);
        assert_eq!(
            AuthorizationRequest::from_uri(&uri).unwrap(),
            Invocation::ByValue(Box::new(request))
        );
        let Invocation::ByReference(by_value_jwt) =
            AuthorizationRequest::from_uri(&uri_of("client_id=verifier&request=eyJ.e30.sig"))
                .unwrap()
        else {
            panic!("expected a reference")
        };
        assert_eq!(
            by_value_jwt.source,
            RequestObjectSource::Value("eyJ.e30.sig".into())
        );
        assert!(by_value_jwt.to_uri_round_trips());
    }

    impl RequestReference {
        fn to_uri_round_trips(&self) -> bool {
            let uri = Invocation::ByReference(self.clone()).to_uri(OPENID4VP_SCHEME);
            AuthorizationRequest::from_uri(&uri).unwrap() == Invocation::ByReference(self.clone())
        }
    }

    #[test]
    fn enum_wire_names() {
        for mode in [
            ResponseMode::DirectPost,
            ResponseMode::DirectPostJwt,
            ResponseMode::Fragment,
            ResponseMode::Query,
            ResponseMode::DcApi,
            ResponseMode::DcApiJwt,
        ] {
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
            assert_eq!(mode.as_str().parse::<ResponseMode>().unwrap(), mode);
            assert_eq!(mode.to_string(), mode.as_str());
        }
        assert_eq!(
            serde_json::to_value(RequestUriMethod::Post).unwrap(),
            "post"
        );
        assert_eq!(RequestUriMethod::Get.as_str(), "get");
        assert!("GET".parse::<RequestUriMethod>().is_err());
    }
}
