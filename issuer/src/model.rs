//! What the issuer stores.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A credential offer made to one person for one credential type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Offer id (UUID); also the last segment of its `credential_offer_uri`.
    pub id: String,
    /// The pre-authorized code (high entropy, single use).
    pub pre_authorized_code: String,
    /// SHA-256 (hex) of the transaction code (PIN), when one is required.
    pub tx_code_hash: Option<String>,
    /// Wrong PINs tried so far; the offer dies at the limit.
    pub failed_attempts: u32,
    /// The credential configuration offered.
    pub credential_configuration_id: String,
    /// The credential record this offer issues.
    pub credential_id: String,
    /// Seconds since the epoch after which the code is refused.
    pub expires_at: i64,
    /// Whether the code was exchanged for a token.
    pub redeemed: bool,
}

/// What an access token lets its bearer fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessGrant {
    /// SHA-256 (hex) of the access token; the token itself is never stored.
    pub token_hash: String,
    /// The credential record to issue.
    pub credential_id: String,
    /// The credential configuration granted.
    pub credential_configuration_id: String,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
}

/// Where an issued or offered credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// Offered, not yet fetched by a wallet.
    Offered,
    /// Issued and valid.
    Issued,
    /// Revoked for good (status 0x01).
    Revoked,
    /// Suspended for now (status 0x02).
    Suspended,
}

/// A credential the agency offered and perhaps issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// Record id (UUID).
    pub id: String,
    /// The person: personal identity number.
    pub subject: String,
    /// The credential configuration (type folder name).
    pub credential_configuration_id: String,
    /// The claims about the subject.
    pub claims: Map<String, Value>,
    /// Current state.
    pub state: CredentialState,
    /// Status list indices of the copies issued (one per holder key of a batch).
    pub status_indices: Vec<u64>,
    /// When the offer was made.
    pub created_at: i64,
    /// When the wallet fetched it.
    pub issued_at: Option<i64>,
}
