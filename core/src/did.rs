//! DIDs as key identifiers: a `kid` such as `did:key:zDn…#zDn…` or
//! `did:jwk:eyJ…#0` resolved to a public JWK, without I/O.
//!
//! - `did:key` — W3C CCG did:key v0.7 §3.1 (format: `z` + base58btc of a
//!   multicodec-prefixed public key) and §3.1.2 (resolve: one verification
//!   method whose fragment is the method-specific identifier). Supported:
//!   P-256 (`zDn…`, compressed point), Ed25519 (`z6Mk…`) and X25519
//!   (`z6LS…`). P-384, P-521 and secp256k1 are recognised and refused with
//!   [`DidError::UnsupportedKeyType`]: our profile (HAIP 1.0) has no use for
//!   them, and `intyg-core` compiles `ssi-jwk` without those curves. The X25519
//!   key an Ed25519 did:key may derive (`#z6LS…` on a `z6Mk…` DID,
//!   the optional `enableEncryptionKeyDerivation`) is not derived.
//! - `did:jwk` — did:jwk spec §Read: the method-specific identifier is the
//!   base64url of the JWK's JSON; its one verification method is `#0`.
//! - `did:web` — W3C CCG did:web §3.2 (Read): only the mapping from the DID
//!   to the HTTPS URL of its `did.json`. Fetching is the caller's job, so a
//!   did:web key cannot be resolved here ([`DidError::DocumentRequired`]).
//!
//! DID syntax follows W3C DID Core 1.0 §3.1 and §3.2 (DID URL). Paths and
//! queries in DID URLs are refused: a `kid` needs only a fragment.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ssi_jwk::{Base64urlUInt, JWK, OctetParams, Params};

use crate::jose::b64url_decode;

/// The DID methods we read (closed: any other method is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DidMethod {
    /// `did:key`.
    Key,
    /// `did:jwk`.
    Jwk,
    /// `did:web`.
    Web,
}

impl DidMethod {
    /// The method name as written in a DID.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Jwk => "jwk",
            Self::Web => "web",
        }
    }
}

/// The public key types a `did:key` can encode, by multicodec code
/// (multiformats table: `ed25519-pub` 0xed, `x25519-pub` 0xec,
/// `p256-pub` 0x1200, `p384-pub` 0x1201, `p521-pub` 0x1202,
/// `secp256k1-pub` 0xe7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCodec {
    /// `ed25519-pub` (0xed).
    Ed25519,
    /// `x25519-pub` (0xec).
    X25519,
    /// `p256-pub` (0x1200), compressed point.
    P256,
    /// `p384-pub` (0x1201).
    P384,
    /// `p521-pub` (0x1202).
    P521,
    /// `secp256k1-pub` (0xe7).
    Secp256k1,
    /// Any other multicodec code.
    Other(u64),
}

impl KeyCodec {
    fn from_code(code: u64) -> Self {
        match code {
            0xed => Self::Ed25519,
            0xec => Self::X25519,
            0x1200 => Self::P256,
            0x1201 => Self::P384,
            0x1202 => Self::P521,
            0xe7 => Self::Secp256k1,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for KeyCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ed25519 => f.write_str("ed25519-pub"),
            Self::X25519 => f.write_str("x25519-pub"),
            Self::P256 => f.write_str("p256-pub"),
            Self::P384 => f.write_str("p384-pub"),
            Self::P521 => f.write_str("p521-pub"),
            Self::Secp256k1 => f.write_str("secp256k1-pub"),
            Self::Other(code) => write!(f, "multicodec {code:#x}"),
        }
    }
}

/// Why a DID or DID URL could not be read or resolved.
#[derive(Debug, thiserror::Error)]
pub enum DidError {
    /// The string does not start with `did:`.
    #[error("not a DID: it does not start with `did:`")]
    NotADid,
    /// The method name is empty or has characters other than `a-z0-9`, or
    /// the `:` after it is missing.
    #[error("invalid DID method name")]
    InvalidMethodName,
    /// The DID uses a method we do not read.
    #[error("unsupported DID method `{0}`: only key, jwk and web are read")]
    UnsupportedMethod(String),
    /// The method-specific identifier is empty, too long, or has characters
    /// outside DID Core's `idchar` (ALPHA, DIGIT, `.`, `-`, `_`, `%XX`, `:`).
    #[error("invalid method-specific identifier: {0}")]
    InvalidMethodSpecificId(&'static str),
    /// The DID URL has a path or a query, which a key identifier never needs.
    #[error("DID URLs with a path or query are not supported")]
    PathOrQuery,
    /// The fragment names no verification method of this DID.
    #[error("the DID has no verification method `#{0}`")]
    UnknownFragment(String),
    /// A did:key identifier is not in base58btc (multibase prefix `z`).
    #[error("did:key multibase prefix `{0}` is not base58btc (`z`)")]
    UnsupportedMultibase(char),
    /// A did:key identifier has a character outside the base58btc alphabet.
    #[error("invalid base58btc character `{0}`")]
    InvalidBase58(char),
    /// A did:key value does not start with a valid unsigned-varint multicodec.
    #[error("invalid multicodec prefix")]
    InvalidMulticodec,
    /// The did:key holds a key type we do not accept.
    #[error("unsupported did:key key type {0}")]
    UnsupportedKeyType(KeyCodec),
    /// The did:key key has the wrong length for its type.
    #[error("{codec} key must be {expected} bytes, not {actual}")]
    InvalidKeyLength {
        /// The key type.
        codec: KeyCodec,
        /// The length the type requires.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// The did:key key bytes are not a valid point of its curve.
    #[error("{0} key is not a valid point")]
    InvalidPoint(KeyCodec),
    /// A did:jwk identifier is not unpadded base64url.
    #[error("did:jwk identifier is not base64url")]
    InvalidBase64,
    /// A did:jwk identifier does not decode to a JWK.
    #[error("did:jwk identifier is not a JWK: {0}")]
    InvalidJwk(#[source] serde_json::Error),
    /// A did:jwk carries private key material, which a DID must never hold.
    #[error("did:jwk holds private key material")]
    PrivateKeyMaterial,
    /// A did:web host is an IP address, which the did:web spec forbids.
    #[error("did:web host `{0}` is an IP address")]
    IpAddressHost(String),
    /// A did:web host is not a domain name with an optional port.
    #[error("did:web host `{0}` is not a domain name with an optional port")]
    InvalidHost(String),
    /// A did:web path has an empty segment (`::`, or a trailing `:`).
    #[error("did:web path has an empty segment")]
    EmptyPathSegment,
    /// did:web keys sit in a DID document that must be fetched first.
    #[error("did:web keys are in the DID document at {0}, which must be fetched")]
    DocumentRequired(String),
}

/// A DID or a DID URL with a fragment (DID Core §3.1, §3.2), checked for
/// syntax and method. Build one with [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DidUrl {
    did: String,
    method: DidMethod,
    fragment: Option<String>,
}

/// A key a DID URL names: its verification method id and its public JWK.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedKey {
    /// The verification method id, `did…#fragment`.
    pub id: String,
    /// The public key.
    pub jwk: JWK,
}

/// Resolves a `kid` that is a did:key or did:jwk DID URL (or bare DID) to
/// its public key.
pub fn resolve_key(kid: &str) -> Result<ResolvedKey, DidError> {
    kid.parse::<DidUrl>()?.resolve_key()
}

impl FromStr for DidUrl {
    type Err = DidError;

    fn from_str(text: &str) -> Result<Self, DidError> {
        let rest = text.strip_prefix("did:").ok_or(DidError::NotADid)?;
        let (without_fragment, fragment) = match rest.split_once('#') {
            Some((head, fragment)) => (head, Some(fragment.to_owned())),
            None => (rest, None),
        };
        if without_fragment.contains(['/', '?']) {
            return Err(DidError::PathOrQuery);
        }
        let (name, id) = without_fragment
            .split_once(':')
            .ok_or(DidError::InvalidMethodName)?;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(DidError::InvalidMethodName);
        }
        let method = match name {
            "key" => DidMethod::Key,
            "jwk" => DidMethod::Jwk,
            "web" => DidMethod::Web,
            other => return Err(DidError::UnsupportedMethod(other.to_owned())),
        };
        check_method_specific_id(id)?;
        Ok(Self {
            did: format!("did:{name}:{id}"),
            method,
            fragment,
        })
    }
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fragment {
            Some(fragment) => write!(f, "{}#{fragment}", self.did),
            None => f.write_str(&self.did),
        }
    }
}

impl DidUrl {
    /// The DID, without the fragment.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The DID method.
    pub fn method(&self) -> DidMethod {
        self.method
    }

    /// The method-specific identifier (after `did:<method>:`).
    pub fn method_specific_id(&self) -> &str {
        // The prefix is "did:" + method name + ":", as built by `from_str`.
        &self.did[self.method.as_str().len() + 5..]
    }

    /// The fragment (after `#`), if any.
    pub fn fragment(&self) -> Option<&str> {
        self.fragment.as_deref()
    }

    /// Resolves the key this DID URL names. A bare DID names its only key.
    /// did:web needs its document fetched: see [`DidUrl::web_document_url`].
    pub fn resolve_key(&self) -> Result<ResolvedKey, DidError> {
        let id = self.method_specific_id();
        let (jwk, own_fragment) = match self.method {
            DidMethod::Key => (did_key_jwk(id)?, id),
            DidMethod::Jwk => (did_jwk_jwk(id)?, "0"),
            DidMethod::Web => return Err(DidError::DocumentRequired(self.web_document_url()?)),
        };
        match self.fragment() {
            Some(fragment) if fragment != own_fragment => {
                Err(DidError::UnknownFragment(fragment.to_owned()))
            }
            _ => Ok(ResolvedKey {
                id: format!("{}#{own_fragment}", self.did),
                jwk,
            }),
        }
    }

    /// The HTTPS URL of a did:web DID document (did:web §3.2 steps 1–5):
    /// `:` separates path segments, `%3A` in the host is a port colon, and a
    /// DID without a path lives under `/.well-known/`.
    pub fn web_document_url(&self) -> Result<String, DidError> {
        if self.method != DidMethod::Web {
            return Err(DidError::UnsupportedMethod(self.method.as_str().to_owned()));
        }
        let mut segments = self.method_specific_id().split(':');
        let host = segments
            .next()
            .unwrap_or_default()
            .replace("%3A", ":")
            .replace("%3a", ":");
        check_web_host(&host)?;
        let path: Vec<&str> = segments.collect();
        if path.iter().any(|segment| segment.is_empty()) {
            return Err(DidError::EmptyPathSegment);
        }
        Ok(if path.is_empty() {
            format!("https://{host}/.well-known/did.json")
        } else {
            format!("https://{host}/{}/did.json", path.join("/"))
        })
    }
}

/// Longest did:key identifier we decode (a 4096-bit RSA did:key is ~750
/// characters); it bounds the quadratic base58 decoding.
const MAX_DID_KEY_LEN: usize = 1024;

/// Checks DID Core's `method-specific-id = *( *idchar ":" ) 1*idchar`.
fn check_method_specific_id(id: &str) -> Result<(), DidError> {
    if id.is_empty() || id.ends_with(':') {
        return Err(DidError::InvalidMethodSpecificId("empty, or ends with `:`"));
    }
    let bytes = id.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).unwrap_or_default();
                if hex.len() != 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(DidError::InvalidMethodSpecificId("bad percent-encoding"));
                }
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':') => i += 1,
            _ => {
                return Err(DidError::InvalidMethodSpecificId(
                    "character outside idchar",
                ));
            }
        }
    }
    Ok(())
}

/// Decodes a did:key method-specific identifier to its public JWK.
fn did_key_jwk(id: &str) -> Result<JWK, DidError> {
    if id.len() > MAX_DID_KEY_LEN {
        return Err(DidError::InvalidMethodSpecificId("too long for a did:key"));
    }
    let mut chars = id.chars();
    match chars.next() {
        Some('z') => {}
        Some(other) => return Err(DidError::UnsupportedMultibase(other)),
        None => return Err(DidError::InvalidMethodSpecificId("empty")),
    }
    let bytes = base58btc_decode(chars.as_str())?;
    let (code, key) = read_varint(&bytes)?;
    let codec = KeyCodec::from_code(code);
    let expect_len = |expected: usize| {
        if key.len() == expected {
            Ok(())
        } else {
            Err(DidError::InvalidKeyLength {
                codec,
                expected,
                actual: key.len(),
            })
        }
    };
    match codec {
        KeyCodec::P256 => {
            expect_len(33)?;
            ssi_jwk::p256_parse(key).map_err(|_| DidError::InvalidPoint(codec))
        }
        KeyCodec::Ed25519 => {
            expect_len(32)?;
            ssi_jwk::ed25519_parse(key).map_err(|_| DidError::InvalidPoint(codec))
        }
        KeyCodec::X25519 => {
            expect_len(32)?;
            Ok(JWK::from(Params::OKP(OctetParams {
                curve: "X25519".to_owned(),
                public_key: Base64urlUInt(key.to_vec()),
                private_key: None,
            })))
        }
        other => Err(DidError::UnsupportedKeyType(other)),
    }
}

/// Decodes a did:jwk method-specific identifier to its public JWK.
fn did_jwk_jwk(id: &str) -> Result<JWK, DidError> {
    let json = b64url_decode(id).map_err(|_| DidError::InvalidBase64)?;
    let jwk: JWK = serde_json::from_slice(&json).map_err(DidError::InvalidJwk)?;
    if !jwk.is_public() {
        return Err(DidError::PrivateKeyMaterial);
    }
    Ok(jwk)
}

/// Checks a did:web host: a domain name (LDH labels), not an IPv4 address,
/// with an optional decimal port.
fn check_web_host(host: &str) -> Result<(), DidError> {
    let invalid = || DidError::InvalidHost(host.to_owned());
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    if let Some(port) = port
        && (port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err())
    {
        return Err(invalid());
    }
    if name.parse::<Ipv4Addr>().is_ok() {
        return Err(DidError::IpAddressHost(host.to_owned()));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(invalid());
    }
    Ok(())
}

/// Decodes base58btc (multibase prefix `z`).
fn base58btc_decode(text: &str) -> Result<Vec<u8>, DidError> {
    bs58::decode(text).into_vec().map_err(|e| {
        let offending = match e {
            bs58::decode::Error::InvalidCharacter { character, .. } => character,
            bs58::decode::Error::NonAsciiCharacter { index } => text
                .get(index..)
                .and_then(|rest| rest.chars().next())
                .unwrap_or('?'),
            _ => '?',
        };
        DidError::InvalidBase58(offending)
    })
}

/// Reads a minimal unsigned varint (multiformats).
fn read_varint(bytes: &[u8]) -> Result<(u64, &[u8]), DidError> {
    unsigned_varint::decode::u64(bytes).map_err(|_| DidError::InvalidMulticodec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_known_values() {
        assert_eq!(base58btc_decode("").unwrap(), b"");
        assert_eq!(base58btc_decode("11").unwrap(), [0, 0]);
        assert_eq!(
            base58btc_decode("2NEpo7TZRRrLZSi2U").unwrap(),
            b"Hello World!"
        );
        assert_eq!(base58btc_decode("1112").unwrap(), [0, 0, 0, 1]);
        assert!(matches!(
            base58btc_decode("0OIl"),
            Err(DidError::InvalidBase58('0'))
        ));
    }

    #[test]
    fn varint_rules() {
        assert_eq!(read_varint(&[0xed, 0x01, 7]).unwrap(), (0xed, &[7u8][..]));
        assert_eq!(read_varint(&[0x80, 0x24]).unwrap(), (0x1200, &[][..]));
        assert!(matches!(
            read_varint(&[0x80]),
            Err(DidError::InvalidMulticodec)
        ));
        assert!(matches!(
            read_varint(&[0xed, 0x00]),
            Err(DidError::InvalidMulticodec)
        ));
        assert!(matches!(
            read_varint(&[0xff; 10]),
            Err(DidError::InvalidMulticodec)
        ));
        assert!(matches!(read_varint(&[]), Err(DidError::InvalidMulticodec)));
    }

    #[test]
    fn parts_of_a_did_url() {
        let url: DidUrl = "did:jwk:abc#0".parse().unwrap();
        assert_eq!(url.did(), "did:jwk:abc");
        assert_eq!(url.method(), DidMethod::Jwk);
        assert_eq!(url.method_specific_id(), "abc");
        assert_eq!(url.fragment(), Some("0"));
        assert_eq!(url.to_string(), "did:jwk:abc#0");
        assert_eq!(
            "did:web:a.example".parse::<DidUrl>().unwrap().to_string(),
            "did:web:a.example"
        );
    }
}
