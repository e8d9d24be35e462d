//! Client Identifier and Client Identifier Prefixes — OpenID4VP 1.0 §5.9.
//!
//! <https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#name-client-identifier-prefix-an>
//!
//! A `client_id` is `<client_id_prefix>:<orig_client_id>` (§5.9.1). The
//! prefix is the text before the first `:`. Known prefixes are parsed
//! strictly, each by its own rule (§5.9.3). A value without `:`, or whose
//! text before the first `:` is not a prefix we know, is a pre-registered
//! client (§5.9.2 lets a Wallet treat an unknown prefix that way). The
//! reserved prefix `origin:` is refused, as §5.9.3 requires.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::jose::{b64url_decode, b64url_encode};

/// The Client Identifier Prefixes of OpenID4VP 1.0 §5.9.3, plus the
/// fallback to a pre-registered client (§5.9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientIdPrefix {
    /// No recognised prefix: the client is known to the Wallet in advance.
    PreRegistered,
    /// `redirect_uri:` — the rest is the Redirect URI (or Response URI).
    /// Unsigned requests only; Intyg uses it in development mode only.
    RedirectUri,
    /// `x509_san_dns:` — the rest is a DNS name found as a `dNSName` SAN of
    /// the leaf certificate in the request object's `x5c`.
    X509SanDns,
    /// `x509_hash:` — the rest is the base64url SHA-256 hash of the DER leaf
    /// certificate in the request object's `x5c` (the HAIP 1.0 default).
    X509Hash,
    /// `decentralized_identifier:` — the rest is a DID.
    DecentralizedIdentifier,
    /// `verifier_attestation:` — the rest is the `sub` of a Verifier
    /// Attestation JWT (§12).
    VerifierAttestation,
    /// `openid_federation:` — the rest is an OpenID Federation Entity
    /// Identifier.
    OpenidFederation,
}

impl ClientIdPrefix {
    /// The prefix as written before the `:`; `None` for a pre-registered
    /// client, which has no prefix.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Self::PreRegistered => None,
            Self::RedirectUri => Some("redirect_uri"),
            Self::X509SanDns => Some("x509_san_dns"),
            Self::X509Hash => Some("x509_hash"),
            Self::DecentralizedIdentifier => Some("decentralized_identifier"),
            Self::VerifierAttestation => Some("verifier_attestation"),
            Self::OpenidFederation => Some("openid_federation"),
        }
    }

    /// The value of `client_id_prefixes_supported` (§10.1) naming this
    /// prefix (`pre-registered` for no prefix).
    pub fn metadata_name(self) -> &'static str {
        self.as_str().unwrap_or("pre-registered")
    }

    /// Whether a request with this prefix must be a signed Request Object
    /// (§5.9.3): every prefix except `redirect_uri` and pre-registered
    /// clients authenticates the Verifier by a signature.
    pub fn requires_signed_request(self) -> bool {
        !matches!(self, Self::PreRegistered | Self::RedirectUri)
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Some(match prefix {
            "redirect_uri" => Self::RedirectUri,
            "x509_san_dns" => Self::X509SanDns,
            "x509_hash" => Self::X509Hash,
            "decentralized_identifier" => Self::DecentralizedIdentifier,
            "verifier_attestation" => Self::VerifierAttestation,
            "openid_federation" => Self::OpenidFederation,
            _ => return None,
        })
    }
}

impl fmt::Display for ClientIdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metadata_name())
    }
}

/// Why a `client_id` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    /// The value is empty, or the part after a known prefix is empty.
    #[error("the client_id is empty")]
    Empty,
    /// `origin:` is reserved for the Digital Credentials API and MUST NOT be
    /// accepted in requests (§5.9.3).
    #[error("the client_id prefix `origin` is reserved and not accepted in requests")]
    ReservedOrigin,
    /// `x509_hash:` is not followed by the unpadded base64url encoding of 32
    /// bytes (a SHA-256 hash).
    #[error("x509_hash client_id `{0}` is not a base64url SHA-256 hash")]
    InvalidX509Hash(String),
    /// `x509_san_dns:` is not followed by a DNS name.
    #[error("x509_san_dns client_id `{0}` is not a DNS name")]
    InvalidDnsName(String),
    /// `redirect_uri:` or `openid_federation:` is not followed by an
    /// absolute `https` (or, for `redirect_uri` only, `http`) URL.
    #[error("client_id `{0}` does not hold a usable URL")]
    InvalidUrl(String),
    /// `decentralized_identifier:` is not followed by a `did:` URI.
    #[error("decentralized_identifier client_id `{0}` is not a DID")]
    InvalidDid(String),
}

/// A Verifier's Client Identifier (OpenID4VP 1.0 §5.9), parsed into its
/// prefix. Only [`FromStr`]/[`TryFrom`] construct one, so the prefix rules
/// always hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId {
    full: String,
    prefix: ClientIdPrefix,
}

impl ClientId {
    /// The prefix.
    pub fn prefix(&self) -> ClientIdPrefix {
        self.prefix
    }

    /// The original Client Identifier, without the prefix (the whole value
    /// for a pre-registered client).
    pub fn original(&self) -> &str {
        match self.prefix.as_str() {
            Some(prefix) => &self.full[prefix.len() + 1..],
            None => &self.full,
        }
    }

    /// The whole value, prefix included: what goes on the wire and into the
    /// `aud` of a presentation.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The `x509_hash:` client identifier of a DER-encoded leaf certificate.
    pub fn x509_hash(der: &[u8]) -> Self {
        Self {
            full: format!("x509_hash:{}", x509_hash_of(der)),
            prefix: ClientIdPrefix::X509Hash,
        }
    }
}

/// The base64url-encoded SHA-256 hash of a DER-encoded X.509 certificate:
/// the value of an `x509_hash:` client identifier (§5.9.3).
pub fn x509_hash_of(der: &[u8]) -> String {
    b64url_encode(Sha256::digest(der))
}

impl FromStr for ClientId {
    type Err = ClientIdError;

    fn from_str(value: &str) -> Result<Self, ClientIdError> {
        if value.is_empty() {
            return Err(ClientIdError::Empty);
        }
        let known = value
            .split_once(':')
            .and_then(|(prefix, rest)| Some((ClientIdPrefix::from_prefix(prefix)?, rest)));
        let Some((prefix, rest)) = known else {
            if value.starts_with("origin:") {
                return Err(ClientIdError::ReservedOrigin);
            }
            return Ok(Self {
                full: value.to_owned(),
                prefix: ClientIdPrefix::PreRegistered,
            });
        };
        if rest.is_empty() {
            return Err(ClientIdError::Empty);
        }
        check_original(prefix, rest)?;
        Ok(Self {
            full: value.to_owned(),
            prefix,
        })
    }
}

fn check_original(prefix: ClientIdPrefix, rest: &str) -> Result<(), ClientIdError> {
    match prefix {
        ClientIdPrefix::X509Hash => match b64url_decode(rest) {
            Ok(hash) if hash.len() == 32 => Ok(()),
            _ => Err(ClientIdError::InvalidX509Hash(rest.to_owned())),
        },
        ClientIdPrefix::X509SanDns if is_dns_name(rest) => Ok(()),
        ClientIdPrefix::X509SanDns => Err(ClientIdError::InvalidDnsName(rest.to_owned())),
        ClientIdPrefix::RedirectUri if is_web_url(rest, true) => Ok(()),
        ClientIdPrefix::OpenidFederation if is_web_url(rest, false) => Ok(()),
        ClientIdPrefix::RedirectUri | ClientIdPrefix::OpenidFederation => {
            Err(ClientIdError::InvalidUrl(rest.to_owned()))
        }
        ClientIdPrefix::DecentralizedIdentifier if rest.starts_with("did:") => Ok(()),
        ClientIdPrefix::DecentralizedIdentifier => Err(ClientIdError::InvalidDid(rest.to_owned())),
        ClientIdPrefix::VerifierAttestation | ClientIdPrefix::PreRegistered => Ok(()),
    }
}

/// A DNS name as RFC 1123 writes host names: dot-separated labels of
/// letters, digits and inner hyphens, each 1 to 63 characters, 253 in all.
fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An absolute URL with a host, `https` (or `http` when `allow_http`).
pub(crate) fn is_web_url(text: &str, allow_http: bool) -> bool {
    url::Url::parse(text).is_ok_and(|url| {
        url.host().is_some() && (url.scheme() == "https" || (allow_http && url.scheme() == "http"))
    })
}

impl TryFrom<String> for ClientId {
    type Error = ClientIdError;

    fn try_from(value: String) -> Result<Self, ClientIdError> {
        value.parse()
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.full
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<ClientId, ClientIdError> {
        value.parse()
    }

    #[test]
    fn every_prefix_parses_and_displays_unchanged() {
        let hash = x509_hash_of(b"certificate");
        let cases = [
            ("verifier-1", ClientIdPrefix::PreRegistered, "verifier-1"),
            (
                "redirect_uri:https://client.example.org/cb",
                ClientIdPrefix::RedirectUri,
                "https://client.example.org/cb",
            ),
            (
                "x509_san_dns:client.example.org",
                ClientIdPrefix::X509SanDns,
                "client.example.org",
            ),
            (
                "decentralized_identifier:did:example:123",
                ClientIdPrefix::DecentralizedIdentifier,
                "did:example:123",
            ),
            (
                "verifier_attestation:verifier.example",
                ClientIdPrefix::VerifierAttestation,
                "verifier.example",
            ),
            (
                "openid_federation:https://federation-verifier.example.com",
                ClientIdPrefix::OpenidFederation,
                "https://federation-verifier.example.com",
            ),
        ];
        for (text, prefix, original) in cases {
            let id = parse(text).unwrap();
            assert_eq!(id.prefix(), prefix, "{text}");
            assert_eq!(id.original(), original);
            assert_eq!(id.to_string(), text);
        }
        let id = parse(&format!("x509_hash:{hash}")).unwrap();
        assert_eq!(id.prefix(), ClientIdPrefix::X509Hash);
        assert_eq!(id.original(), hash);
    }

    #[test]
    fn spec_example_x509_hash_is_accepted() {
        let id = parse("x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk").unwrap();
        assert_eq!(id.prefix(), ClientIdPrefix::X509Hash);
    }

    #[test]
    fn unknown_prefix_falls_back_to_pre_registered() {
        let id = parse("https://client.example.org/cb").unwrap();
        assert_eq!(id.prefix(), ClientIdPrefix::PreRegistered);
        assert_eq!(id.original(), "https://client.example.org/cb");
    }

    #[test]
    fn x509_hash_of_is_base64url_sha256() {
        // SHA-256 of the empty string.
        assert_eq!(
            x509_hash_of(b""),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_eq!(
            ClientId::x509_hash(b"").as_str(),
            "x509_hash:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse(""), Err(ClientIdError::Empty));
        assert_eq!(parse("x509_hash:"), Err(ClientIdError::Empty));
        assert_eq!(
            parse("origin:https://verifier.example.com"),
            Err(ClientIdError::ReservedOrigin)
        );
        assert_eq!(
            parse("x509_hash:c2hvcnQ"),
            Err(ClientIdError::InvalidX509Hash("c2hvcnQ".into()))
        );
        assert_eq!(
            parse("x509_san_dns:not a host"),
            Err(ClientIdError::InvalidDnsName("not a host".into()))
        );
        assert_eq!(
            parse("x509_san_dns:-bad.example"),
            Err(ClientIdError::InvalidDnsName("-bad.example".into()))
        );
        assert_eq!(
            parse("redirect_uri:https//client.example.org/cb"),
            Err(ClientIdError::InvalidUrl(
                "https//client.example.org/cb".into()
            ))
        );
        assert_eq!(
            parse("openid_federation:http://fed.example"),
            Err(ClientIdError::InvalidUrl("http://fed.example".into()))
        );
        assert_eq!(
            parse("decentralized_identifier:example:123"),
            Err(ClientIdError::InvalidDid("example:123".into()))
        );
    }

    #[test]
    fn serde_uses_the_full_string() {
        let id: ClientId = serde_json::from_str(r#""x509_san_dns:rp.example.com""#).unwrap();
        assert_eq!(id.prefix(), ClientIdPrefix::X509SanDns);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#""x509_san_dns:rp.example.com""#
        );
        assert!(serde_json::from_str::<ClientId>(r#""origin:x""#).is_err());
    }

    #[test]
    fn signing_requirement_per_prefix() {
        assert!(!ClientIdPrefix::RedirectUri.requires_signed_request());
        assert!(!ClientIdPrefix::PreRegistered.requires_signed_request());
        assert!(ClientIdPrefix::X509Hash.requires_signed_request());
        assert_eq!(
            ClientIdPrefix::PreRegistered.metadata_name(),
            "pre-registered"
        );
        assert_eq!(ClientIdPrefix::X509Hash.to_string(), "x509_hash");
    }
}
