//! The presentation receipt the Response URI returns on acceptance (an
//! Intyg extension, `intyg_core::rights::receipt`): what was received,
//! signed with the access certificate key.

use intyg_core::rights::{Receipt, ReceivedCredential};

use crate::AppState;
use crate::error::ApiError;
use crate::model::{ConsentRecord, Transaction};

/// The path of the erasure endpoint under `public_url`.
pub const ERASURE_PATH: &str = "/erasure";

/// Signs the receipt of an accepted presentation.
pub fn issue(
    state: &AppState,
    transaction: &Transaction,
    consent: &ConsentRecord,
    vp_token_hash: &str,
    now: i64,
) -> Result<String, ApiError> {
    let retention = state.config.retention_seconds;
    let receipt = Receipt {
        iss: transaction.client_id.clone(),
        verifier_name: Some(state.config.name.clone()),
        txn: transaction.id.clone(),
        nonce: transaction.nonce.clone(),
        purpose: transaction.purpose.clone(),
        iat: now,
        received: consent
            .disclosed
            .iter()
            .map(|d| ReceivedCredential {
                query_id: d.query_id.clone(),
                vct: d.vct.clone(),
                claims: d.claims.clone(),
            })
            .collect(),
        vp_token_hash: vp_token_hash.to_owned(),
        retention_seconds: retention,
        retention_until: now.saturating_add(retention),
        erasure_endpoint: format!("{}{ERASURE_PATH}", state.config.public_url),
    };
    Ok(receipt.sign(&state.identity.key, state.identity.chain.to_x5c())?)
}
