//! JOSE: keys (RFC 7517, thumbprints per RFC 7638), JWS compact
//! serialization (RFC 7515) and JWE with ECDH-ES (RFC 7516, RFC 7518 §4.6).
//!
//! The algorithm set is closed on purpose (HAIP 1.0): `ES256` signs and
//! verifies, `EdDSA` (RFC 8037) verifies. `none`, the HMAC family and every
//! other value of `alg` are rejected before a key is looked at, and so is
//! any `crit` extension, since we understand none.
//!
//! ES256 runs on `aws-lc-rs`, which the dependency tree already carries
//! through rustls: it verifies about five times faster than the pure-Rust
//! `p256` that `ssi` signs with, and signature checks dominate every
//! verification path. `ssi-jwk` supplies the JWK model and RFC 7638
//! thumbprints. JWE (ECDH-ES, AES-GCM) is also on `aws-lc-rs`.

mod error;
pub mod jwe;
mod jws;
mod key;

pub use error::JoseError;
pub(crate) use jws::json_from_bytes;
pub use jws::{Algorithm, CompactJws, Header, sign_compact};
pub use key::{P256Key, Signer, SigningKey, VerifyingKey, thumbprint};
/// A JSON Web Key (RFC 7517), public or private.
pub use ssi_jwk::JWK as Jwk;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes bytes as unpadded base64url (RFC 7515 §2).
pub fn b64url_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; padding and the standard alphabet are
/// rejected, as RFC 7515 §2 requires.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}
