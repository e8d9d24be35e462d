//! `GET /.well-known/openid-credential-issuer` — OpenID4VCI 1.0 §12.2, and
//! `GET /.well-known/oauth-authorization-server` — RFC 8414 §2 with the
//! parameters OpenID4VCI 1.0 §12.3 adds.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-credential-issuer-metadata>
//! <https://www.rfc-editor.org/rfc/rfc8414#section-2>
//!
//! Metadata is open: members this version does not name are kept in
//! `extra` on every object, and unknown credential formats parse as
//! [`CredentialFormat::Other`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::UrlRules;
use super::id::CredentialConfigurationId;
use crate::dcql::ClaimsPath;

/// Path segment of the Credential Issuer metadata (§12.2.2).
pub const CREDENTIAL_ISSUER_WELL_KNOWN: &str = "/.well-known/openid-credential-issuer";
/// Path segment of the Authorization Server metadata (RFC 8414 §3).
pub const AUTHORIZATION_SERVER_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";

/// Credential Issuer Metadata (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialIssuerMetadata {
    /// `credential_issuer`: the Credential Issuer Identifier.
    pub credential_issuer: String,
    /// `authorization_servers`: the OAuth 2.0 Authorization Servers the
    /// issuer relies on. Absent: the issuer is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    /// `credential_endpoint` (§8).
    pub credential_endpoint: String,
    /// `nonce_endpoint` (§7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// `deferred_credential_endpoint` (§9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_credential_endpoint: Option<String>,
    /// `notification_endpoint` (§11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_endpoint: Option<String>,
    /// `credential_request_encryption`: how to encrypt requests (§10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_request_encryption: Option<RequestEncryptionMetadata>,
    /// `credential_response_encryption`: how responses can be encrypted (§10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<ResponseEncryptionMetadata>,
    /// `batch_credential_issuance`: present if several proofs (keys) per
    /// request are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_credential_issuance: Option<BatchCredentialIssuance>,
    /// `display`: how to show the issuer, per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<IssuerDisplay>>,
    /// `credential_configurations_supported`: what can be issued, by id.
    pub credential_configurations_supported:
        BTreeMap<CredentialConfigurationId, CredentialConfiguration>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `credential_request_encryption` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEncryptionMetadata {
    /// `jwks`: the issuer's encryption keys, a JWK Set.
    pub jwks: Value,
    /// `enc_values_supported`: JWE `enc` values.
    pub enc_values_supported: Vec<String>,
    /// `zip_values_supported`: JWE `zip` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// `encryption_required`.
    pub encryption_required: bool,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `credential_response_encryption` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseEncryptionMetadata {
    /// `alg_values_supported`: JWE `alg` values.
    pub alg_values_supported: Vec<String>,
    /// `enc_values_supported`: JWE `enc` values.
    pub enc_values_supported: Vec<String>,
    /// `zip_values_supported`: JWE `zip` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// `encryption_required`.
    pub encryption_required: bool,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `batch_credential_issuance` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchCredentialIssuance {
    /// `batch_size`: the most proofs one Credential Request may carry; at
    /// least 2.
    #[serde(deserialize_with = "super::json::u64")]
    pub batch_size: u64,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of the issuer's `display` (§12.2.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssuerDisplay {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `locale`: a BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `logo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `logo` or `background_image` object (§12.2.4).
///
/// `uri` is REQUIRED by §12.2.4, but drafts named it `url` and real
/// metadata (the EUDI reference library's fixtures) still does. Display
/// data is advisory, so neither is enforced: [`Logo::location`] reads
/// whichever is present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Logo {
    /// `uri`: where the image is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `alt_text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Logo {
    /// The image location: `uri`, or the pre-final `url`.
    pub fn location(&self) -> Option<&str> {
        self.uri
            .as_deref()
            .or_else(|| self.extra.get("url").and_then(Value::as_str))
    }
}

/// A Credential Format Identifier (Appendix A). Open: formats we do not
/// issue still parse, as [`CredentialFormat::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialFormat {
    /// `dc+sd-jwt`: IETF SD-JWT VC (Appendix A.3).
    DcSdJwt,
    /// `mso_mdoc`: ISO mdoc (Appendix A.2).
    MsoMdoc,
    /// `jwt_vc_json`: W3C VCDM as a JWT (Appendix A.1.1).
    JwtVcJson,
    /// `jwt_vc_json-ld` (Appendix A.1.2).
    JwtVcJsonLd,
    /// `ldp_vc`: W3C VCDM with Data Integrity (Appendix A.1.3).
    LdpVc,
    /// Any other identifier, e.g. the pre-final `vc+sd-jwt`.
    Other(String),
}

impl CredentialFormat {
    /// The identifier as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DcSdJwt => "dc+sd-jwt",
            Self::MsoMdoc => "mso_mdoc",
            Self::JwtVcJson => "jwt_vc_json",
            Self::JwtVcJsonLd => "jwt_vc_json-ld",
            Self::LdpVc => "ldp_vc",
            Self::Other(other) => other,
        }
    }
}

impl From<&str> for CredentialFormat {
    fn from(value: &str) -> Self {
        match value {
            "dc+sd-jwt" => Self::DcSdJwt,
            "mso_mdoc" => Self::MsoMdoc,
            "jwt_vc_json" => Self::JwtVcJson,
            "jwt_vc_json-ld" => Self::JwtVcJsonLd,
            "ldp_vc" => Self::LdpVc,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for CredentialFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CredentialFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CredentialFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(deserializer)?.as_str()))
    }
}

/// One `credential_signing_alg_values_supported` entry: a JOSE name for
/// JWT-based formats, a COSE number for `mso_mdoc` (Appendix A.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// A JOSE algorithm name, e.g. `ES256`, or a Data Integrity suite name.
    Jose(String),
    /// A COSE algorithm identifier, e.g. `-7`.
    Cose(i64),
}

impl Serialize for SigningAlgorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Jose(name) => serializer.serialize_str(name),
            Self::Cose(number) => serializer.serialize_i64(*number),
        }
    }
}

impl<'de> Deserialize<'de> for SigningAlgorithm {
    // Through `Value`, so numbers read right with `arbitrary_precision`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(name) => Ok(Self::Jose(name)),
            Value::Number(n) => n.as_i64().map(Self::Cose).ok_or_else(|| {
                serde::de::Error::custom(format_args!("COSE algorithm {n} is not an integer"))
            }),
            _ => Err(serde::de::Error::custom(
                "a signing algorithm must be a string or an integer",
            )),
        }
    }
}

/// One entry of `credential_configurations_supported` (§12.2.4, with the
/// format-specific members of Appendix A).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// `format`.
    pub format: CredentialFormat,
    /// `scope`: the OAuth scope that requests this configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `cryptographic_binding_methods_supported`, e.g. `jwk`, `did:key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cryptographic_binding_methods_supported: Option<Vec<String>>,
    /// `credential_signing_alg_values_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_signing_alg_values_supported: Option<Vec<SigningAlgorithm>>,
    /// `proof_types_supported`, by proof type (`jwt`, `di_vp`,
    /// `attestation`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_types_supported: Option<BTreeMap<String, ProofTypeMetadata>>,
    /// `credential_metadata`: display data and claim descriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<CredentialMetadata>,
    /// `vct` (Appendix A.3.2, for `dc+sd-jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// Other members: `doctype` (mso_mdoc), `credential_definition` (W3C
    /// formats) and extensions.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CredentialConfiguration {
    /// The `jwt` proof type's metadata, if that proof type is supported.
    pub fn jwt_proof_type(&self) -> Option<&ProofTypeMetadata> {
        self.proof_types_supported.as_ref()?.get("jwt")
    }
}

/// One value of `proof_types_supported` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofTypeMetadata {
    /// `proof_signing_alg_values_supported`.
    pub proof_signing_alg_values_supported: Vec<String>,
    /// `key_attestations_required`: present if proofs must carry a key
    /// attestation (Appendix D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_attestations_required: Option<KeyAttestationsRequired>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `key_attestations_required` (§12.2.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyAttestationsRequired {
    /// `key_storage`: accepted attack potential resistance values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<Vec<String>>,
    /// `user_authentication`: accepted attack potential resistance values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_authentication: Option<Vec<String>>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `credential_metadata` (§12.2.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// `display`: how to show the credential, per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<CredentialDisplay>>,
    /// `claims`: claims description objects (Appendix B.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimDescription>>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of a credential's `display` (§12.2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialDisplay {
    /// `name`.
    pub name: String,
    /// `locale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `logo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `background_color`: a CSS color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// `background_image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image: Option<Logo>,
    /// `text_color`: a CSS color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A claims description object (Appendix B.2 in metadata, B.1 in
/// authorization details).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimDescription {
    /// `path`: a claims path pointer (Appendix C).
    pub path: ClaimsPath,
    /// `mandatory`: the issuer always includes the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// `display`: label per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<ClaimDisplay>>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A claim's display entry (Appendix B.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimDisplay {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `locale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// OAuth 2.0 Authorization Server Metadata (RFC 8414 §2), with
/// `pre-authorized_grant_anonymous_access_supported` (OpenID4VCI 1.0
/// §12.3) and the members an OpenID4VCI wallet uses. Everything else is in
/// `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// `issuer`: the Authorization Server's identifier.
    pub issuer: String,
    /// `authorization_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// `jwks_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `scopes_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `response_types_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// `grant_types_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported` (RFC 7636).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// `authorization_details_types_supported` (RFC 9396 §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details_types_supported: Option<Vec<String>>,
    /// `pre-authorized_grant_anonymous_access_supported` (§12.3): a Token
    /// Request with a Pre-Authorized Code may omit `client_id`.
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_grant_anonymous_access_supported: Option<bool>,
    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1): the server
    /// accepts DPoP proofs with these algorithms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why metadata was refused.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// Not JSON, or not a metadata object (wrong type, missing member).
    #[error("malformed metadata: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The identifier is not an https URL without query or fragment
    /// (§12.2.1, RFC 8414 §2).
    #[error("`{0}` is not an https URL without query or fragment")]
    NotHttps(String),
    /// The metadata's `credential_issuer` (or `issuer`) is not the
    /// identifier it was fetched for (§12.2.3, RFC 8414 §3.3).
    #[error("metadata is for `{found}`, but was fetched for `{expected}`")]
    IssuerMismatch {
        /// The identifier used to build the well-known URL.
        expected: String,
        /// The identifier inside the metadata.
        found: String,
    },
    /// An endpoint is not an https URL.
    #[error("`{name}` is not an https URL: `{url}`")]
    EndpointNotHttps {
        /// Which member.
        name: &'static str,
        /// Its value.
        url: String,
    },
    /// `batch_size` is below 2 (§12.2.4).
    #[error("`batch_size` must be 2 or more, not {0}")]
    BatchSizeTooSmall(u64),
}

fn check_identifier(identifier: &str, rules: UrlRules) -> Result<(), MetadataError> {
    if rules.allows(identifier) && !identifier.contains(['?', '#']) {
        Ok(())
    } else {
        Err(MetadataError::NotHttps(identifier.to_owned()))
    }
}

/// The well-known URL for an identifier: `suffix` goes between the host
/// and the path (§12.2.2, RFC 8414 §3.1).
fn well_known(identifier: &str, suffix: &str, rules: UrlRules) -> Result<String, MetadataError> {
    check_identifier(identifier, rules)?;
    let (scheme, rest) = identifier
        .split_once("://")
        .ok_or_else(|| MetadataError::NotHttps(identifier.to_owned()))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.trim_end_matches('/');
    Ok(format!("{scheme}://{authority}{suffix}{path}"))
}

impl CredentialIssuerMetadata {
    /// Where the metadata of `credential_issuer` lives (§12.2.2):
    /// `https://host/.well-known/openid-credential-issuer/path`.
    pub fn well_known_url(credential_issuer: &str) -> Result<String, MetadataError> {
        Self::well_known_url_with(credential_issuer, UrlRules::HttpsOnly)
    }

    /// [`well_known_url`](Self::well_known_url) under other URL rules.
    pub fn well_known_url_with(
        credential_issuer: &str,
        rules: UrlRules,
    ) -> Result<String, MetadataError> {
        well_known(credential_issuer, CREDENTIAL_ISSUER_WELL_KNOWN, rules)
    }

    /// Parses metadata fetched for `credential_issuer` and
    /// [validates](Self::validate_for) it.
    pub fn from_json_for(json: &str, credential_issuer: &str) -> Result<Self, MetadataError> {
        Self::from_json_for_with(json, credential_issuer, UrlRules::HttpsOnly)
    }

    /// [`from_json_for`](Self::from_json_for) under other URL rules.
    pub fn from_json_for_with(
        json: &str,
        credential_issuer: &str,
        rules: UrlRules,
    ) -> Result<Self, MetadataError> {
        let metadata: Self = serde_json::from_str(json).map_err(MetadataError::Malformed)?;
        metadata.validate_for_with(credential_issuer, rules)?;
        Ok(metadata)
    }

    /// §12.2.3: `credential_issuer` equals the identifier the metadata was
    /// fetched for; every endpoint is https; `batch_size` is at least 2.
    pub fn validate_for(&self, credential_issuer: &str) -> Result<(), MetadataError> {
        self.validate_for_with(credential_issuer, UrlRules::HttpsOnly)
    }

    /// [`validate_for`](Self::validate_for) under other URL rules.
    pub fn validate_for_with(
        &self,
        credential_issuer: &str,
        rules: UrlRules,
    ) -> Result<(), MetadataError> {
        check_identifier(&self.credential_issuer, rules)?;
        if self.credential_issuer != credential_issuer {
            return Err(MetadataError::IssuerMismatch {
                expected: credential_issuer.to_owned(),
                found: self.credential_issuer.clone(),
            });
        }
        let endpoints = [
            ("credential_endpoint", Some(&self.credential_endpoint)),
            ("nonce_endpoint", self.nonce_endpoint.as_ref()),
            (
                "deferred_credential_endpoint",
                self.deferred_credential_endpoint.as_ref(),
            ),
            ("notification_endpoint", self.notification_endpoint.as_ref()),
        ];
        for (name, url) in endpoints {
            if let Some(url) = url.filter(|url| !rules.allows(url)) {
                return Err(MetadataError::EndpointNotHttps {
                    name,
                    url: url.clone(),
                });
            }
        }
        match &self.batch_credential_issuance {
            Some(batch) if batch.batch_size < 2 => {
                Err(MetadataError::BatchSizeTooSmall(batch.batch_size))
            }
            _ => Ok(()),
        }
    }
}

impl AuthorizationServerMetadata {
    /// Where the metadata of `issuer` lives (RFC 8414 §3.1).
    pub fn well_known_url(issuer: &str) -> Result<String, MetadataError> {
        Self::well_known_url_with(issuer, UrlRules::HttpsOnly)
    }

    /// [`well_known_url`](Self::well_known_url) under other URL rules.
    pub fn well_known_url_with(issuer: &str, rules: UrlRules) -> Result<String, MetadataError> {
        well_known(issuer, AUTHORIZATION_SERVER_WELL_KNOWN, rules)
    }

    /// Parses metadata fetched for `issuer` and checks that `issuer`
    /// matches (RFC 8414 §3.3).
    pub fn from_json_for(json: &str, issuer: &str) -> Result<Self, MetadataError> {
        Self::from_json_for_with(json, issuer, UrlRules::HttpsOnly)
    }

    /// [`from_json_for`](Self::from_json_for) under other URL rules.
    pub fn from_json_for_with(
        json: &str,
        issuer: &str,
        rules: UrlRules,
    ) -> Result<Self, MetadataError> {
        let metadata: Self = serde_json::from_str(json).map_err(MetadataError::Malformed)?;
        check_identifier(&metadata.issuer, rules)?;
        if metadata.issuer != issuer {
            return Err(MetadataError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: metadata.issuer,
            });
        }
        Ok(metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> CredentialIssuerMetadata {
        serde_json::from_value(serde_json::json!({
            "credential_issuer": "https://issuer.example",
            "credential_endpoint": "https://issuer.example/credential",
            "credential_configurations_supported": {
                "x": {"format": "vc+sd-jwt", "future": 1}
            },
            "signed_metadata": "eyJ..."
        }))
        .unwrap()
    }

    #[test]
    fn unknown_members_and_formats_are_kept() {
        let metadata = minimal();
        assert!(metadata.extra.contains_key("signed_metadata"));
        let config = &metadata.credential_configurations_supported
            [&"x".parse::<CredentialConfigurationId>().unwrap()];
        assert_eq!(config.format, CredentialFormat::Other("vc+sd-jwt".into()));
        assert!(config.extra.contains_key("future"));
        assert_eq!(config.jwt_proof_type(), None);
    }

    #[test]
    fn logo_location_falls_back_to_the_draft_url() {
        let logo: Logo = serde_json::from_str(r#"{"url": "https://a.example/l.png"}"#).unwrap();
        assert_eq!(logo.location(), Some("https://a.example/l.png"));
        let logo: Logo = serde_json::from_str(r#"{"uri": "https://a.example/u.png"}"#).unwrap();
        assert_eq!(logo.location(), Some("https://a.example/u.png"));
        assert_eq!(Logo::default().location(), None);
    }

    #[test]
    fn well_known_urls_insert_the_suffix_before_the_path() {
        assert_eq!(
            CredentialIssuerMetadata::well_known_url("https://issuer.example/tenant/").unwrap(),
            "https://issuer.example/.well-known/openid-credential-issuer/tenant"
        );
        assert_eq!(
            AuthorizationServerMetadata::well_known_url("https://as.example").unwrap(),
            "https://as.example/.well-known/oauth-authorization-server"
        );
        assert!(matches!(
            CredentialIssuerMetadata::well_known_url("http://issuer.example"),
            Err(MetadataError::NotHttps(_))
        ));
        assert!(matches!(
            CredentialIssuerMetadata::well_known_url("https://issuer.example?x"),
            Err(MetadataError::NotHttps(_))
        ));
    }

    #[test]
    fn validation_checks_endpoints_and_batch_size() {
        let mut metadata = minimal();
        assert!(metadata.validate_for("https://issuer.example").is_ok());
        metadata.nonce_endpoint = Some("http://issuer.example/nonce".into());
        assert!(matches!(
            metadata.validate_for("https://issuer.example"),
            Err(MetadataError::EndpointNotHttps {
                name: "nonce_endpoint",
                ..
            })
        ));
        let mut metadata = minimal();
        metadata.batch_credential_issuance = Some(BatchCredentialIssuance {
            batch_size: 1,
            extra: Map::new(),
        });
        assert!(matches!(
            metadata.validate_for("https://issuer.example"),
            Err(MetadataError::BatchSizeTooSmall(1))
        ));
    }

    #[test]
    fn signing_algorithms_are_names_or_cose_numbers() {
        let algs: Vec<SigningAlgorithm> = serde_json::from_str(r#"["ES256", -7]"#).unwrap();
        assert_eq!(
            algs,
            [
                SigningAlgorithm::Jose("ES256".into()),
                SigningAlgorithm::Cose(-7)
            ]
        );
        assert_eq!(serde_json::to_string(&algs).unwrap(), r#"["ES256",-7]"#);
        assert!(serde_json::from_str::<Vec<SigningAlgorithm>>("[1.5]").is_err());
        assert!(serde_json::from_str::<Vec<SigningAlgorithm>>("[true]").is_err());
    }

    #[test]
    fn authorization_server_issuer_must_match() {
        let json = r#"{"issuer":"https://as.example","token_endpoint":"https://as.example/token"}"#;
        assert!(AuthorizationServerMetadata::from_json_for(json, "https://as.example").is_ok());
        assert!(matches!(
            AuthorizationServerMetadata::from_json_for(json, "https://other.example"),
            Err(MetadataError::IssuerMismatch { .. })
        ));
        assert!(matches!(
            AuthorizationServerMetadata::from_json_for("[]", "https://as.example"),
            Err(MetadataError::Malformed(_))
        ));
    }
}
