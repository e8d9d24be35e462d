//! Sealing records: XChaCha20-Poly1305 under a random 256-bit data key,
//! and the data key wrapped under a key derived from the PIN with
//! argon2id (RFC 9106).
//!
//! A sealed record is `nonce (24 bytes) || ciphertext || tag`. The
//! associated data names the place the record lives (tree and key), so a
//! record moved to another place no longer opens.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const SALT_LEN: usize = 16;

/// Why sealing, opening or deriving a key failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The ciphertext does not open under this key and place: a wrong key,
    /// or a record that was altered or moved.
    #[error("a sealed record does not open (wrong key, or altered)")]
    Open,
    /// The AEAD refused to encrypt (input too long).
    #[error("sealing failed")]
    Seal,
    /// The argon2 parameters are outside what argon2 accepts.
    #[error("invalid argon2id parameters: {0}")]
    KdfParams(String),
}

/// Random bytes from the system generator.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// A random identifier: 8 random bytes as 16 lowercase hex digits. It says
/// nothing about what it names.
pub(crate) fn random_id() -> Result<String, CryptoError> {
    Ok(random::<8>()?.iter().map(|b| format!("{b:02x}")).collect())
}

/// The key every record is sealed under. Zeroed on drop.
#[derive(Clone)]
pub(crate) struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub(crate) fn generate() -> Result<Self, CryptoError> {
        Ok(Self(Zeroizing::new(random::<KEY_LEN>()?)))
    }

    /// Seals `plaintext` for the place named by `aad`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(&self.0, aad, plaintext)
    }

    /// Opens a record sealed for the place named by `aad`.
    pub(crate) fn open(
        &self,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_with(&self.0, aad, sealed)
    }
}

fn seal_with(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = random::<NONCE_LEN>()?;
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Seal)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn open_with(
    key: &[u8; KEY_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Open);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Open)?;
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Open)
}

/// argon2id cost parameters, stored beside the wrapped key so that a
/// wallet keeps opening when the defaults change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for KdfParams {
    /// OWASP's first argon2id choice: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        }
    }
}

impl KdfParams {
    /// The cheapest parameters argon2 accepts (8 KiB, 1 pass). A PIN under
    /// them falls to brute force at once: for tests and benchmarks only.
    pub fn dangerous_insecure_for_tests() -> Self {
        Self {
            m_kib: 8,
            t: 1,
            p: 1,
        }
    }
}

/// The data key, wrapped under a PIN-derived key: what the store keeps in
/// the clear, and what a backup file carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WrappedKey {
    /// Always `argon2id`.
    pub(crate) kdf: String,
    pub(crate) params: KdfParams,
    /// base64url salt.
    pub(crate) salt: String,
    /// base64url sealed data key.
    pub(crate) wrapped: String,
}

const WRAP_AAD: &[u8] = b"intyg-wallet data key v1";

impl WrappedKey {
    /// Wraps `key` under `secret` with a fresh salt.
    pub(crate) fn wrap(
        key: &DataKey,
        secret: &str,
        params: KdfParams,
    ) -> Result<Self, CryptoError> {
        let salt = random::<SALT_LEN>()?;
        let kek = derive(secret, &salt, params)?;
        let wrapped = seal_with(&kek, WRAP_AAD, key.0.as_slice())?;
        Ok(Self {
            kdf: "argon2id".into(),
            params,
            salt: URL_SAFE_NO_PAD.encode(salt),
            wrapped: URL_SAFE_NO_PAD.encode(wrapped),
        })
    }

    /// Unwraps the data key; [`CryptoError::Open`] when `secret` is wrong.
    pub(crate) fn unwrap_key(&self, secret: &str) -> Result<DataKey, CryptoError> {
        if self.kdf != "argon2id" {
            return Err(CryptoError::KdfParams(format!("unknown kdf {}", self.kdf)));
        }
        let salt = URL_SAFE_NO_PAD
            .decode(&self.salt)
            .map_err(|_| CryptoError::Open)?;
        let wrapped = URL_SAFE_NO_PAD
            .decode(&self.wrapped)
            .map_err(|_| CryptoError::Open)?;
        let kek = derive(secret, &salt, self.params)?;
        let raw = open_with(&kek, WRAP_AAD, &wrapped)?;
        let bytes: [u8; KEY_LEN] = raw.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(DataKey(Zeroizing::new(bytes)))
    }
}

fn derive(
    secret: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
    let argon_params = Params::new(params.m_kib, params.t, params.p, Some(KEY_LEN))
        .map_err(|e| CryptoError::KdfParams(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(secret.as_bytes(), salt, out.as_mut_slice())
        .map_err(|e| CryptoError::KdfParams(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_open_only_in_their_place_and_under_their_key() {
        let key = DataKey::generate().unwrap();
        let sealed = key.seal(b"credentials/1", b"hello").unwrap();
        assert_eq!(
            key.open(b"credentials/1", &sealed).unwrap().as_slice(),
            b"hello"
        );
        assert!(matches!(
            key.open(b"credentials/2", &sealed),
            Err(CryptoError::Open)
        ));
        let other = DataKey::generate().unwrap();
        assert!(matches!(
            other.open(b"credentials/1", &sealed),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            key.open(b"credentials/1", &sealed[..10]),
            Err(CryptoError::Open)
        ));
    }

    #[test]
    fn wrapped_key_opens_only_with_its_pin() {
        let key = DataKey::generate().unwrap();
        let params = KdfParams::dangerous_insecure_for_tests();
        let wrapped = WrappedKey::wrap(&key, "123456", params).unwrap();
        let back = wrapped.unwrap_key("123456").unwrap();
        assert_eq!(back.0.as_slice(), key.0.as_slice());
        assert!(matches!(
            wrapped.unwrap_key("654321"),
            Err(CryptoError::Open)
        ));
    }
}
