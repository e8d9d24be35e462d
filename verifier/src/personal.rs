//! Personal data at rest: each transaction's verified claims are sealed
//! under a key of its own (AES-256-GCM, aws-lc-rs), kept in the
//! [`TransactionKeyStore`](crate::store::TransactionKeyStore), never in
//! the record. Destroying the key erases the claims from disk too: every
//! copy of the record a store keeps (sled's log, PostgreSQL's old tuple
//! versions) holds only ciphertext.
//!
//! At rest a transaction's `credentials[].claims` are empty and
//! `sealed_claims` holds base64url(nonce ‖ ciphertext) of the claims in
//! `credentials` order, with the transaction id as associated data.
//! [`seal`] before a record is stored (its key stored first),
//! [`open`] after one is read for display.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde_json::{Map, Value};

use crate::AppState;
use crate::model::Transaction;
use crate::store::StoreError;

/// Why claims could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The system random generator or the cipher failed, or a stored
    /// sealed value does not open with its key (corrupt).
    #[error("sealing personal data failed")]
    Crypto,
}

fn cipher(key: &[u8]) -> Result<LessSafeKey, SealError> {
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::Crypto)?,
    ))
}

/// Seals the claims of `transaction.credentials` under a fresh key and
/// empties them in the record; returns the key, for the caller to store
/// (`TransactionKeyStore::put`) before it writes the record.
/// Nothing to seal: no key.
pub fn seal(transaction: &mut Transaction) -> Result<Option<[u8; 32]>, SealError> {
    if transaction.credentials.is_empty() {
        return Ok(None);
    }
    let mut key = [0u8; 32];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut key).map_err(|_| SealError::Crypto)?;
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Crypto)?;
    let claims: Vec<Map<String, Value>> = transaction
        .credentials
        .iter_mut()
        .map(|c| std::mem::take(&mut c.claims))
        .collect();
    let mut sealed = serde_json::to_vec(&claims).map_err(|_| SealError::Crypto)?;
    cipher(&key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(transaction.id.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| SealError::Crypto)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    transaction.sealed_claims = Some(intyg_core::jose::b64url_encode(out));
    Ok(Some(key))
}

/// Fills `credentials[].claims` from `sealed_claims`, if its key still
/// exists; a transaction whose key is destroyed keeps empty claims.
pub async fn open(state: &AppState, transaction: &mut Transaction) -> Result<(), SealError> {
    let Some(sealed) = &transaction.sealed_claims else {
        return Ok(());
    };
    let Some(key) = state.stores.keys.get(&transaction.id).await? else {
        return Ok(());
    };
    let bytes = intyg_core::jose::b64url_decode(sealed).map_err(|_| SealError::Crypto)?;
    if bytes.len() < NONCE_LEN {
        return Err(SealError::Crypto);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Crypto)?;
    let mut buffer = ciphertext.to_vec();
    let plain = cipher(&key)?
        .open_in_place(nonce, Aad::from(transaction.id.as_bytes()), &mut buffer)
        .map_err(|_| SealError::Crypto)?;
    let claims: Vec<Map<String, Value>> =
        serde_json::from_slice(plain).map_err(|_| SealError::Crypto)?;
    for (record, claims) in transaction.credentials.iter_mut().zip(claims) {
        record.claims = claims;
    }
    Ok(())
}
