//! Errors of key handling and JWS.

/// Why a key, a signature or a JWS was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    /// The compact JWS does not have three base64url parts.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The protected header is not a JSON object or a field has the wrong type.
    #[error("malformed JWS header: {0}")]
    MalformedHeader(String),
    /// `alg` names an algorithm outside our profile (`none`, `HS256`, `RS256`...).
    #[error("unsupported alg `{0}`: only ES256 and EdDSA are accepted")]
    UnsupportedAlg(String),
    /// The header marks an extension as critical (`crit`) that we do not implement.
    #[error("unknown critical header parameter `{0}`")]
    UnknownCrit(String),
    /// The key cannot be used with the header's algorithm (wrong `kty`/`crv`,
    /// or the JWK's own `alg` disagrees).
    #[error("key does not match algorithm {0}")]
    KeyMismatch(&'static str),
    /// The JWK is not a usable key (missing coordinates, bad lengths, not on the curve).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The signature does not verify with the given key.
    #[error("signature does not verify")]
    InvalidSignature,
    /// The system random number generator or the signer failed.
    #[error("signing failed")]
    Signing,
}
