//! `POST /nonce` — OpenID4VCI 1.0 §7.
//!
//! <https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#name-nonce-endpoint>
//!
//! The request has no body. The response carries a fresh `c_nonce` that
//! the Wallet puts in its key proofs; the issuer accepts it once and lets
//! it expire. The response must be sent with `Cache-Control: no-store`.
//!
//! [`SealedNonces`] makes nonces the issuer need not store until they are
//! used: each carries its expiry and a MAC under a secret every instance
//! shares, so handing one out writes nothing and any instance can check
//! it. Single use is then kept by recording a nonce when a proof uses it
//! (the issuer does that in the same commit as the issuance).

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};

use super::id::CNonce;
use crate::jose::{JoseError, b64url_decode, b64url_encode};

/// The Nonce Response (§7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// `c_nonce`.
    pub c_nonce: CNonce,
}

/// Makes and opens sealed `c_nonce`s: base64url of the expiry (8 bytes,
/// big-endian seconds), 16 random bytes and a 16-byte HMAC-SHA-256 tag
/// over both.
pub struct SealedNonces {
    key: hmac::Key,
}

impl std::fmt::Debug for SealedNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("SealedNonces").finish_non_exhaustive()
    }
}

/// Why a sealed nonce was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealedNonceError {
    /// Not a nonce this issuer made (wrong length, encoding or tag).
    #[error("the c_nonce was not issued here")]
    Unknown,
    /// Made here, but its lifetime is over.
    #[error("the c_nonce has expired")]
    Expired,
}

const SEALED_LABEL: &[u8] = b"c-nonce";
const SEALED_RANDOM_LEN: usize = 16;
const SEALED_TAG_LEN: usize = 16;
const SEALED_LEN: usize = 8 + SEALED_RANDOM_LEN + SEALED_TAG_LEN;

impl SealedNonces {
    /// Nonces under `secret` (at least 32 bytes, random, shared by every
    /// instance).
    pub fn new(secret: &[u8]) -> Result<Self, JoseError> {
        if secret.len() < 32 {
            return Err(JoseError::InvalidKey(
                "a c_nonce secret must be 32 bytes or more",
            ));
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        })
    }

    fn tag(&self, body: &[u8]) -> [u8; SEALED_TAG_LEN] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(SEALED_LABEL);
        context.update(body);
        let mut tag = [0u8; SEALED_TAG_LEN];
        tag.copy_from_slice(&context.sign().as_ref()[..SEALED_TAG_LEN]);
        tag
    }

    /// A fresh nonce that expires at `expires_at` (Unix seconds).
    pub fn seal(&self, expires_at: i64) -> Result<CNonce, JoseError> {
        let mut bytes = Vec::with_capacity(SEALED_LEN);
        bytes.extend_from_slice(&expires_at.to_be_bytes());
        let mut random = [0u8; SEALED_RANDOM_LEN];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| JoseError::Signing)?;
        bytes.extend_from_slice(&random);
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag);
        CNonce::try_from(b64url_encode(bytes)).map_err(|_| JoseError::Signing)
    }

    /// The expiry of `nonce` if this issuer made it and it is still live
    /// at `now`. Says nothing of whether it was used.
    pub fn open(&self, nonce: &str, now: i64) -> Result<i64, SealedNonceError> {
        let bytes = b64url_decode(nonce).map_err(|_| SealedNonceError::Unknown)?;
        if bytes.len() != SEALED_LEN {
            return Err(SealedNonceError::Unknown);
        }
        let (body, tag) = bytes.split_at(8 + SEALED_RANDOM_LEN);
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.tag(body), tag)
            .map_err(|_| SealedNonceError::Unknown)?;
        let mut expiry = [0u8; 8];
        expiry.copy_from_slice(&body[..8]);
        let expires_at = i64::from_be_bytes(expiry);
        if expires_at <= now {
            return Err(SealedNonceError::Expired);
        }
        Ok(expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_nonces_open_under_their_secret_until_they_expire() {
        let nonces = SealedNonces::new(&[7u8; 32]).unwrap();
        let nonce = nonces.seal(1_000).unwrap();
        assert_ne!(nonce, nonces.seal(1_000).unwrap(), "each is fresh");
        assert_eq!(nonces.open(nonce.as_str(), 999), Ok(1_000));
        assert_eq!(
            nonces.open(nonce.as_str(), 1_000),
            Err(SealedNonceError::Expired)
        );
        let other = SealedNonces::new(&[8u8; 32]).unwrap();
        assert_eq!(
            other.open(nonce.as_str(), 999),
            Err(SealedNonceError::Unknown)
        );
        // A changed expiry breaks the tag.
        let mut bytes = b64url_decode(nonce.as_str()).unwrap();
        bytes[7] ^= 1;
        assert_eq!(
            nonces.open(&b64url_encode(bytes), 0),
            Err(SealedNonceError::Unknown)
        );
        for junk in ["", "not base64!", "AAAA", &"A".repeat(54)] {
            assert_eq!(nonces.open(junk, 0), Err(SealedNonceError::Unknown));
        }
        assert!(SealedNonces::new(&[1u8; 31]).is_err());
    }

    #[test]
    fn wire_form() {
        let response = NonceResponse {
            c_nonce: SealedNonces::new(&[7u8; 32]).unwrap().seal(1).unwrap(),
        };
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(json, format!(r#"{{"c_nonce":"{}"}}"#, response.c_nonce));
        assert_eq!(
            serde_json::from_str::<NonceResponse>(&json).unwrap(),
            response
        );
        assert!(serde_json::from_str::<NonceResponse>(r#"{"c_nonce":""}"#).is_err());
        assert!(serde_json::from_str::<NonceResponse>("{}").is_err());
    }
}
