//! Request URI Method `post` — OpenID4VP 1.0 §5.10, with the Wallet
//! Metadata of §10 (RFC 8414 parameters).
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-request-uri-method-post>
//!
//! When a request says `request_uri_method=post`, the Wallet POSTs
//! `application/x-www-form-urlencoded` to the `request_uri` with an
//! optional `wallet_metadata` (a JSON object as text: what the Wallet
//! supports) and an optional `wallet_nonce` (fresh randomness the signed
//! Request Object must echo, §5.10.1). [`RequestUriPost`] is that body,
//! both ways: [`RequestUriPost::from_form`] for the Verifier,
//! [`RequestUriPost::to_form`] for the Wallet.
//!
//! The Verifier then decides whether it can make a request the Wallet
//! accepts: [`WalletMetadata::negotiate`] checks, against what the
//! Verifier is about to send ([`VerifierOffer`]), the Client Identifier
//! Prefix, the Request Object signing algorithm, the Credential Format
//! and its algorithms, the Response Mode, and the response encryption
//! algorithms; it narrows the `enc` values to those both sides support.
//! A parameter the Wallet leaves out constrains nothing. The Request
//! Object is never encrypted to the Wallet's `jwks` (signed only, which
//! §5.10.1 allows): a Wallet that needs encryption of the Request Object
//! cannot be served.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client_id::ClientIdPrefix;
use super::request::{Jwks, ResponseMode};

/// The `Content-Type` of the POST body (§5.10).
pub const REQUEST_URI_POST_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The `Accept` header of the POST, and the `Content-Type` of the answer
/// (§5.10, §5.10.1).
pub const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";
/// The longest `wallet_nonce` we accept, in bytes. The spec sets no
/// limit; the value is echoed in a signed JWT, so it is bounded.
pub const WALLET_NONCE_MAX_LEN: usize = 256;

/// `wallet_nonce` (§5.10): echoed in the signed Request Object. Any
/// non-empty string of printable ASCII up to [`WALLET_NONCE_MAX_LEN`]
/// bytes (wallets in the field send standard base64 with `/` and `=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WalletNonce(String);

impl WalletNonce {
    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WalletNonce {
    type Error = RequestUriPostError;

    fn try_from(value: String) -> Result<Self, RequestUriPostError> {
        if value.is_empty() {
            return Err(RequestUriPostError::EmptyWalletNonce);
        }
        if value.len() > WALLET_NONCE_MAX_LEN {
            return Err(RequestUriPostError::WalletNonceTooLong(value.len()));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(RequestUriPostError::WalletNonceCharacter);
        }
        Ok(Self(value))
    }
}

impl std::str::FromStr for WalletNonce {
    type Err = RequestUriPostError;

    fn from_str(value: &str) -> Result<Self, RequestUriPostError> {
        Self::try_from(value.to_owned())
    }
}

impl From<WalletNonce> for String {
    fn from(value: WalletNonce) -> Self {
        value.0
    }
}

impl fmt::Display for WalletNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Wallet Metadata (§10, RFC 8414 §2): the parameters a Verifier reads to
/// fit its request to the Wallet. Every list is optional here; an absent
/// one constrains nothing. Unknown parameters are kept in `extra` and
/// ignored (§10.1: the Verifier MUST ignore them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WalletMetadata {
    /// `vp_formats_supported` (§10.1): per Credential Format Identifier,
    /// its format-specific parameters (for `dc+sd-jwt`: `sd-jwt_alg_values`,
    /// `kb-jwt_alg_values`, Appendix B.3.4). REQUIRED by §10.1; a Wallet
    /// that leaves it out is read as constraining nothing, for interop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_formats_supported: Option<Map<String, Value>>,
    /// `client_id_prefixes_supported` (§10.1); absent means
    /// `pre-registered` only in the spec, read here as no constraint since
    /// a Wallet that posts to our `request_uri` already chose to talk to an
    /// `x509_*` client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_prefixes_supported: Option<Vec<String>>,
    /// `request_object_signing_alg_values_supported` (RFC 8414, §5.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg_values_supported: Option<Vec<String>>,
    /// `authorization_encryption_alg_values_supported` (§5.10, JARM):
    /// JWE `alg` values for an encrypted Authorization Response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encryption_alg_values_supported: Option<Vec<String>>,
    /// `authorization_encryption_enc_values_supported` (§5.10, JARM):
    /// JWE `enc` values for an encrypted Authorization Response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encryption_enc_values_supported: Option<Vec<String>>,
    /// `response_modes_supported` (RFC 8414).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_modes_supported: Option<Vec<String>>,
    /// `response_types_supported` (RFC 8414).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// `jwks` (§5.10): keys to encrypt the Request Object to. We sign
    /// Request Objects and never encrypt them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// Other parameters (`issuer`, `authorization_endpoint`...), ignored.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of a POST to the Request URI (§5.10).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestUriPost {
    /// `wallet_metadata`: what the Wallet supports.
    pub wallet_metadata: Option<WalletMetadata>,
    /// `wallet_nonce`: to be echoed in the Request Object.
    pub wallet_nonce: Option<WalletNonce>,
}

/// Why a Request URI POST body was refused, or why the Verifier cannot
/// make a request the Wallet supports. [`Self::error_code`] gives the
/// wire `error`.
#[derive(Debug, thiserror::Error)]
pub enum RequestUriPostError {
    /// A parameter appears twice in the form.
    #[error("parameter `{0}` appears more than once")]
    DuplicateParameter(String),
    /// `wallet_metadata` is not a JSON object of Wallet Metadata.
    #[error("wallet_metadata is not a JSON object of wallet metadata: {0}")]
    InvalidWalletMetadata(#[source] serde_json::Error),
    /// `wallet_nonce` is empty.
    #[error("wallet_nonce is empty")]
    EmptyWalletNonce,
    /// `wallet_nonce` is longer than [`WALLET_NONCE_MAX_LEN`].
    #[error("wallet_nonce is {0} bytes long; at most 256 are accepted")]
    WalletNonceTooLong(usize),
    /// `wallet_nonce` has a character outside printable ASCII.
    #[error("wallet_nonce has a character outside printable ASCII")]
    WalletNonceCharacter,
    /// The Wallet lists Client Identifier Prefixes, and not ours.
    #[error("the wallet does not support client_id prefix {0} (client_id_prefixes_supported)")]
    UnsupportedClientIdPrefix(ClientIdPrefix),
    /// The Wallet lists Request Object signing algorithms, and not ours.
    #[error(
        "the wallet does not accept request objects signed with {0} (request_object_signing_alg_values_supported)"
    )]
    UnsupportedSigningAlg(&'static str),
    /// The Wallet supports none of the formats we request, or not with our
    /// algorithms.
    #[error("the wallet does not support {0}")]
    VpFormatsNotSupported(String),
    /// The Wallet lists Response Modes, and not the one of this request.
    #[error("the wallet does not support response_mode {0} (response_modes_supported)")]
    UnsupportedResponseMode(ResponseMode),
    /// The Wallet lists response encryption `alg` values, and not ours.
    #[error(
        "the wallet supports none of the response encryption algorithms {0} (authorization_encryption_alg_values_supported)"
    )]
    UnsupportedEncryptionAlg(String),
    /// The Wallet lists response encryption `enc` values, none of ours.
    #[error(
        "the wallet supports none of the response encryption methods {0} (authorization_encryption_enc_values_supported)"
    )]
    UnsupportedEncryptionEnc(String),
}

impl RequestUriPostError {
    /// The OAuth `error` for the wire: `vp_formats_not_supported` (§8.5)
    /// when formats do not meet, else `invalid_request`.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::VpFormatsNotSupported(_) => "vp_formats_not_supported",
            _ => "invalid_request",
        }
    }
}

impl RequestUriPost {
    /// Reads the form body. Unknown parameters are ignored (§5.10); a
    /// repeated one is refused.
    pub fn from_form(body: &str) -> Result<Self, RequestUriPostError> {
        let mut seen = HashSet::new();
        let mut post = Self::default();
        for (name, value) in url::form_urlencoded::parse(body.as_bytes()) {
            if !seen.insert(name.clone()) {
                return Err(RequestUriPostError::DuplicateParameter(name.into_owned()));
            }
            match &*name {
                "wallet_metadata" => {
                    post.wallet_metadata = Some(
                        serde_json::from_str(&value)
                            .map_err(RequestUriPostError::InvalidWalletMetadata)?,
                    );
                }
                "wallet_nonce" => post.wallet_nonce = Some(value.into_owned().try_into()?),
                _ => {}
            }
        }
        Ok(post)
    }

    /// The form body, `wallet_metadata` as JSON text.
    pub fn to_form(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        if let Some(metadata) = &self.wallet_metadata {
            // A struct of JSON values always serializes.
            let json = serde_json::to_string(metadata).unwrap_or_default();
            form.append_pair("wallet_metadata", &json);
        }
        if let Some(nonce) = &self.wallet_nonce {
            form.append_pair("wallet_nonce", nonce.as_str());
        }
        form.finish()
    }
}

/// What the Verifier is about to put in the Request Object, for
/// [`WalletMetadata::negotiate`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifierOffer<'a> {
    /// The Client Identifier Prefix of the request.
    pub client_id_prefix: ClientIdPrefix,
    /// The JWS `alg` of the Request Object.
    pub signing_alg: &'static str,
    /// The Credential Format Identifiers the DCQL query asks for.
    pub formats: &'a [&'a str],
    /// The signature algorithms of presentations we accept (issuer
    /// signature and KB-JWT), for `dc+sd-jwt`.
    pub presentation_algs: &'a [&'static str],
    /// The Response Mode.
    pub response_mode: ResponseMode,
    /// For an encrypted mode: the JWE `alg` we decrypt.
    pub encryption_alg: &'static str,
    /// For an encrypted mode: the JWE `enc` values we decrypt, preferred
    /// first.
    pub encryption_enc: &'a [&'static str],
}

/// The outcome of [`WalletMetadata::negotiate`]: what to put in the
/// request so the Wallet can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// For an encrypted mode, the `enc` values both sides support (for
    /// `client_metadata.encrypted_response_enc_values_supported`), in our
    /// order; `None` for a plain mode.
    pub encryption_enc: Option<Vec<String>>,
}

fn lists(values: &Option<Vec<String>>, value: &str) -> bool {
    values.as_ref().is_none_or(|v| v.iter().any(|x| x == value))
}

fn alg_values_include(parameters: &Value, name: &str, algs: &[&str]) -> bool {
    match parameters.get(name).and_then(Value::as_array) {
        None => true,
        Some(values) => values
            .iter()
            .any(|v| v.as_str().is_some_and(|v| algs.contains(&v))),
    }
}

impl WalletMetadata {
    /// Checks that the Wallet can process what `offer` describes (§5.10):
    /// the Client Identifier Prefix, the Request Object `alg`, at least
    /// one requested format with our presentation algorithms, the Response
    /// Mode, and for an encrypted mode the JWE `alg` and at least one
    /// `enc`. Each mismatch is its own error.
    pub fn negotiate(&self, offer: &VerifierOffer<'_>) -> Result<Negotiated, RequestUriPostError> {
        if !lists(
            &self.client_id_prefixes_supported,
            offer.client_id_prefix.metadata_name(),
        ) {
            return Err(RequestUriPostError::UnsupportedClientIdPrefix(
                offer.client_id_prefix,
            ));
        }
        if !lists(
            &self.request_object_signing_alg_values_supported,
            offer.signing_alg,
        ) {
            return Err(RequestUriPostError::UnsupportedSigningAlg(
                offer.signing_alg,
            ));
        }
        if let Some(formats) = &self.vp_formats_supported {
            let usable = offer.formats.iter().any(|format| {
                formats.get(*format).is_some_and(|parameters| {
                    *format != "dc+sd-jwt"
                        || (alg_values_include(
                            parameters,
                            "sd-jwt_alg_values",
                            offer.presentation_algs,
                        ) && alg_values_include(
                            parameters,
                            "kb-jwt_alg_values",
                            offer.presentation_algs,
                        ))
                })
            });
            if !usable {
                return Err(RequestUriPostError::VpFormatsNotSupported(format!(
                    "the requested formats ({}) with algorithms {}",
                    offer.formats.join(", "),
                    offer.presentation_algs.join(", ")
                )));
            }
        }
        if !lists(&self.response_modes_supported, offer.response_mode.as_str()) {
            return Err(RequestUriPostError::UnsupportedResponseMode(
                offer.response_mode,
            ));
        }
        if !offer.response_mode.is_encrypted() {
            return Ok(Negotiated {
                encryption_enc: None,
            });
        }
        if !lists(
            &self.authorization_encryption_alg_values_supported,
            offer.encryption_alg,
        ) {
            return Err(RequestUriPostError::UnsupportedEncryptionAlg(
                offer.encryption_alg.to_owned(),
            ));
        }
        let enc: Vec<String> = offer
            .encryption_enc
            .iter()
            .filter(|enc| lists(&self.authorization_encryption_enc_values_supported, enc))
            .map(|enc| (*enc).to_owned())
            .collect();
        if enc.is_empty() {
            return Err(RequestUriPostError::UnsupportedEncryptionEnc(
                offer.encryption_enc.join(", "),
            ));
        }
        Ok(Negotiated {
            encryption_enc: Some(enc),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn offer(mode: ResponseMode) -> VerifierOffer<'static> {
        VerifierOffer {
            client_id_prefix: ClientIdPrefix::X509SanDns,
            signing_alg: "ES256",
            formats: &["dc+sd-jwt"],
            presentation_algs: &["ES256"],
            response_mode: mode,
            encryption_alg: "ECDH-ES",
            encryption_enc: &["A128GCM", "A256GCM"],
        }
    }

    fn metadata(value: Value) -> WalletMetadata {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn section_5_10_example_body() {
        // The non-normative example of §5.10.
        let body = "wallet_metadata=%7B%22vp_formats_supported%22%3A%7B%22dc%2Bsd-jwt%22%3A%7B%22sd-jwt_alg_values%22%3A%20%5B%22ES256%22%5D%2C%22kb-jwt_alg_values%22%3A%20%5B%22ES256%22%5D%7D%7D%7D&wallet_nonce=qPmxiNFCR3QTm19POc8u";
        let post = RequestUriPost::from_form(body).unwrap();
        assert_eq!(
            post.wallet_nonce.as_ref().unwrap().as_str(),
            "qPmxiNFCR3QTm19POc8u"
        );
        let metadata = post.wallet_metadata.as_ref().unwrap();
        assert_eq!(
            metadata.vp_formats_supported.as_ref().unwrap()["dc+sd-jwt"]["kb-jwt_alg_values"],
            json!(["ES256"])
        );
        assert_eq!(RequestUriPost::from_form(&post.to_form()).unwrap(), post);
        // Both parameters are optional; unknown ones are ignored.
        assert_eq!(
            RequestUriPost::from_form("other=1").unwrap(),
            RequestUriPost::default()
        );
    }

    #[test]
    fn base64_wallet_nonces_are_accepted() {
        let post =
            RequestUriPost::from_form("wallet_nonce=kxbJ%2F%2FQQ%2FqheqcBnVzjZPg%3D%3D").unwrap();
        assert_eq!(
            post.wallet_nonce.unwrap().as_str(),
            "kxbJ//QQ/qheqcBnVzjZPg=="
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let err = |body: &str| RequestUriPost::from_form(body).unwrap_err();
        assert!(matches!(
            err("wallet_nonce=a&wallet_nonce=b"),
            RequestUriPostError::DuplicateParameter(p) if p == "wallet_nonce"
        ));
        assert!(matches!(
            err("wallet_metadata=%5B1%5D"),
            RequestUriPostError::InvalidWalletMetadata(_)
        ));
        assert!(matches!(
            err("wallet_metadata=%7Bnot"),
            RequestUriPostError::InvalidWalletMetadata(_)
        ));
        assert!(matches!(
            err(
                "wallet_metadata=%7B%22request_object_signing_alg_values_supported%22%3A%22ES256%22%7D"
            ),
            RequestUriPostError::InvalidWalletMetadata(_)
        ));
        assert!(matches!(
            err("wallet_nonce="),
            RequestUriPostError::EmptyWalletNonce
        ));
        assert!(matches!(
            err("wallet_nonce=a%20b"),
            RequestUriPostError::WalletNonceCharacter
        ));
        assert!(matches!(
            err(&format!("wallet_nonce={}", "a".repeat(257))),
            RequestUriPostError::WalletNonceTooLong(257)
        ));
    }

    #[test]
    fn absent_metadata_constrains_nothing() {
        let negotiated = WalletMetadata::default()
            .negotiate(&offer(ResponseMode::DirectPostJwt))
            .unwrap();
        assert_eq!(
            negotiated.encryption_enc.unwrap(),
            vec!["A128GCM", "A256GCM"]
        );
        let plain = WalletMetadata::default()
            .negotiate(&offer(ResponseMode::DirectPost))
            .unwrap();
        assert_eq!(plain.encryption_enc, None);
    }

    #[test]
    fn matching_metadata_narrows_enc() {
        let wallet = metadata(json!({
            "vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256", "ES384"], "kb-jwt_alg_values": ["ES256"]}},
            "client_id_prefixes_supported": ["x509_san_dns", "x509_hash"],
            "request_object_signing_alg_values_supported": ["ES256"],
            "response_modes_supported": ["direct_post", "direct_post.jwt"],
            "authorization_encryption_alg_values_supported": ["ECDH-ES"],
            "authorization_encryption_enc_values_supported": ["A256GCM"],
            "issuer": "https://self-issued.me/v2"
        }));
        assert_eq!(wallet.extra["issuer"], "https://self-issued.me/v2");
        let negotiated = wallet
            .negotiate(&offer(ResponseMode::DirectPostJwt))
            .unwrap();
        assert_eq!(negotiated.encryption_enc.unwrap(), vec!["A256GCM"]);
        // A null format entry (seen in the field) still names the format.
        let null_entry = metadata(json!({"vp_formats_supported": {"dc+sd-jwt": null}}));
        null_entry
            .negotiate(&offer(ResponseMode::DirectPost))
            .unwrap();
    }

    #[test]
    fn each_mismatch_is_refused() {
        let refuse =
            |value: Value, mode: ResponseMode| metadata(value).negotiate(&offer(mode)).unwrap_err();
        let error = refuse(
            json!({"client_id_prefixes_supported": ["x509_hash"]}),
            ResponseMode::DirectPost,
        );
        assert!(matches!(
            error,
            RequestUriPostError::UnsupportedClientIdPrefix(ClientIdPrefix::X509SanDns)
        ));
        assert_eq!(error.error_code(), "invalid_request");
        assert!(matches!(
            refuse(
                json!({"request_object_signing_alg_values_supported": ["EdDSA", "RS256"]}),
                ResponseMode::DirectPost
            ),
            RequestUriPostError::UnsupportedSigningAlg("ES256")
        ));
        let formats = refuse(
            json!({"vp_formats_supported": {"mso_mdoc": {}}}),
            ResponseMode::DirectPost,
        );
        assert!(matches!(
            formats,
            RequestUriPostError::VpFormatsNotSupported(_)
        ));
        assert_eq!(formats.error_code(), "vp_formats_not_supported");
        assert!(matches!(
            refuse(
                json!({"vp_formats_supported": {"dc+sd-jwt": {"kb-jwt_alg_values": ["EdDSA"]}}}),
                ResponseMode::DirectPost
            ),
            RequestUriPostError::VpFormatsNotSupported(_)
        ));
        assert!(matches!(
            refuse(
                json!({"vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES384"]}}}),
                ResponseMode::DirectPost
            ),
            RequestUriPostError::VpFormatsNotSupported(_)
        ));
        assert!(matches!(
            refuse(
                json!({"response_modes_supported": ["direct_post"]}),
                ResponseMode::DirectPostJwt
            ),
            RequestUriPostError::UnsupportedResponseMode(ResponseMode::DirectPostJwt)
        ));
        assert!(matches!(
            refuse(
                json!({"authorization_encryption_alg_values_supported": ["ECDH-ES+A128KW"]}),
                ResponseMode::DirectPostJwt
            ),
            RequestUriPostError::UnsupportedEncryptionAlg(_)
        ));
        assert!(matches!(
            refuse(
                json!({"authorization_encryption_enc_values_supported": ["A192GCM"]}),
                ResponseMode::DirectPostJwt
            ),
            RequestUriPostError::UnsupportedEncryptionEnc(_)
        ));
        // Encryption lists do not matter for a plain response.
        metadata(json!({"authorization_encryption_enc_values_supported": ["A192GCM"]}))
            .negotiate(&offer(ResponseMode::DirectPost))
            .unwrap();
    }
}
