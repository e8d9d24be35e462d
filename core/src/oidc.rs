//! OpenID Connect as a Provider: the messages of the verifier's bridge
//! that turns a verified presentation into an ID token.
//!
//! - [`ProviderMetadata`]: OpenID Connect Discovery 1.0 §3.
//! - [`IdTokenClaims`]: OpenID Connect Core 1.0 §2 (ID Token).
//! - [`TokenResponse`]: OpenID Connect Core 1.0 §3.1.3.3.
//! - [`pkce_s256_matches`]: RFC 7636 §4.6 (`S256` only).
//! - [`ClientAssertionClaims`]: `private_key_jwt` (Core §9, RFC 7523 §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// OpenID Provider Metadata (Discovery 1.0 §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier (`iss` of ID tokens).
    pub issuer: String,
    /// `/authorize`.
    pub authorization_endpoint: String,
    /// `/token`.
    pub token_endpoint: String,
    /// `/userinfo`.
    pub userinfo_endpoint: String,
    /// `/jwks`.
    pub jwks_uri: String,
    /// `openid` and one scope per template.
    pub scopes_supported: Vec<String>,
    /// `code`.
    pub response_types_supported: Vec<String>,
    /// `query`.
    pub response_modes_supported: Vec<String>,
    /// `authorization_code`.
    pub grant_types_supported: Vec<String>,
    /// `pairwise`.
    pub subject_types_supported: Vec<String>,
    /// `ES256`.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `client_secret_basic`, `private_key_jwt`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `ES256` for `private_key_jwt`.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `S256` (RFC 8414 §2).
    pub code_challenge_methods_supported: Vec<String>,
    /// The `acr` values the provider asserts.
    pub acr_values_supported: Vec<String>,
    /// Claims that may appear.
    pub claims_supported: Vec<String>,
    /// Whether the `claims` request parameter is supported (absent: no).
    #[serde(default)]
    pub claims_parameter_supported: bool,
    /// Whether the `request` parameter is supported (absent: no).
    #[serde(default)]
    pub request_parameter_supported: bool,
    /// Whether the `request_uri` parameter is supported (absent: yes).
    #[serde(default = "yes")]
    pub request_uri_parameter_supported: bool,
}

/// Discovery 1.0 §3's default of `request_uri_parameter_supported`.
fn yes() -> bool {
    true
}

/// The claims of an ID token (Core 1.0 §2): the registered ones and the
/// verified, disclosed claims at the top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer identifier.
    pub iss: String,
    /// Pairwise subject identifier.
    pub sub: String,
    /// The client id.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// When the holder presented.
    pub auth_time: i64,
    /// The authorization request's `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The authentication context: the wallet flow.
    pub acr: String,
    /// The authentication methods.
    pub amr: Vec<String>,
    /// The authorized party (the client).
    pub azp: String,
    /// The disclosed claims, named as in the credentials. Names of
    /// [`PROTOCOL_CLAIMS`] are left out when serialized: a credential's
    /// `sub` (or `aud`, `nonce`...) never stands beside or over the
    /// provider's own.
    #[serde(flatten, serialize_with = "serialize_disclosed")]
    pub claims: Map<String, Value>,
}

/// The claim names an ID token or a UserInfo response gives its own
/// meaning to: the JWT and ID token claims (Core 1.0 §2, §3.1.3.6,
/// RFC 7519 §4.1, Front-Channel Logout `sid`) and the registered claims of
/// SD-JWT VCs (`cnf`, `vct`, `vct#integrity`, `status`). Disclosed claims
/// with these names are never passed on.
pub const PROTOCOL_CLAIMS: [&str; 19] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "acr",
    "amr",
    "azp",
    "auth_time",
    "at_hash",
    "c_hash",
    "sid",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
];

/// `claims` without the [`PROTOCOL_CLAIMS`].
pub fn disclosed_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter(|(name, _)| !PROTOCOL_CLAIMS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn serialize_disclosed<S: serde::Serializer>(
    claims: &Map<String, Value>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        claims
            .iter()
            .filter(|(name, _)| !PROTOCOL_CLAIMS.contains(&name.as_str())),
    )
}

/// A successful token response (Core 1.0 §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// For `/userinfo`.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The signed ID token.
    pub id_token: String,
    /// The granted scopes.
    pub scope: String,
}

/// The claims of a `private_key_jwt` client assertion (RFC 7523 §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientAssertionClaims {
    /// The client id.
    pub iss: String,
    /// The client id.
    pub sub: String,
    /// The token endpoint (or the issuer).
    pub aud: Audience,
    /// Expiry.
    pub exp: i64,
    /// Unique id.
    #[serde(default)]
    pub jti: Option<String>,
    /// Issued at.
    #[serde(default)]
    pub iat: Option<i64>,
    /// Not before.
    #[serde(default)]
    pub nbf: Option<i64>,
}

/// `aud`: one value or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `value` is among them.
    pub fn contains(&self, value: &str) -> bool {
        match self {
            Self::One(one) => one == value,
            Self::Many(many) => many.iter().any(|v| v == value),
        }
    }
}

/// Whether `verifier` answers `challenge` by `S256` (RFC 7636 §4.6): the
/// base64url SHA-256 of the verifier, which must be 43 to 128 unreserved
/// characters (§4.1).
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && crate::jose::b64url_encode(Sha256::digest(verifier.as_bytes())) == challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_s256() {
        // RFC 7636 Appendix B.
        assert!(pkce_s256_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_s256_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_s256_matches("short", "x"));
    }

    #[test]
    fn flattened_claims_sit_at_the_top_level() {
        let mut claims = Map::new();
        claims.insert("registration_status".into(), "job_seeker".into());
        let token = IdTokenClaims {
            iss: "https://v.example".into(),
            sub: "s".into(),
            aud: "ats".into(),
            exp: 2,
            iat: 1,
            auth_time: 1,
            nonce: Some("n".into()),
            acr: "a".into(),
            amr: vec!["openid4vp".into()],
            azp: "ats".into(),
            claims,
        };
        let json = serde_json::to_value(&token).unwrap();
        assert_eq!(json["registration_status"], "job_seeker");
        assert_eq!(json["nonce"], "n");
    }

    /// A credential may carry `sub` (and in principle any registered
    /// name): the ID token keeps one `sub`, the pairwise one, and none of
    /// the disclosed protocol names.
    #[test]
    fn regression_disclosed_protocol_claims_do_not_collide() {
        let mut claims = Map::new();
        for name in PROTOCOL_CLAIMS {
            claims.insert(name.into(), "from the credential".into());
        }
        claims.insert("given_name".into(), "Karin".into());
        let token = IdTokenClaims {
            iss: "https://v.example".into(),
            sub: "pairwise".into(),
            aud: "ats".into(),
            exp: 2,
            iat: 1,
            auth_time: 1,
            nonce: None,
            acr: "a".into(),
            amr: vec!["pop".into()],
            azp: "ats".into(),
            claims: claims.clone(),
        };
        let text = serde_json::to_string(&token).unwrap();
        assert_eq!(text.matches("\"sub\"").count(), 1, "{text}");
        assert_eq!(text.matches("\"iss\"").count(), 1, "{text}");
        assert!(!text.contains("from the credential"), "{text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["sub"], "pairwise");
        assert_eq!(json["given_name"], "Karin");
        assert_eq!(json.get("nonce"), None);
        assert_eq!(json.get("jti"), None);
        let kept = disclosed_claims(&claims);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["given_name"], "Karin");
    }
}
