//! Erasure on request (GDPR Art. 17), an Intyg extension
//! (`intyg_core::rights::erasure`): from a history entry whose verifier
//! sent a verified receipt, [`Wallet::erase`] signs an erasure request
//! with the holder key of that presentation's KB-JWT, posts it to the
//! receipt's erasure endpoint, checks the signed answer with the
//! verifier's certificate (validated again against the wallet's roots)
//! and records it in the entry.

use intyg_core::jose::SigningKey;
use intyg_core::rights::{
    ErasureAnswer, ErasureAnswerBody, ErasureError, ErasureRequest, ErasureRequestBody,
    ErasureStatus,
};
use intyg_core::trust::{CertificateChain, TrustAnchors, X509Error};
use serde_json::Value;

use crate::crypto::{CryptoError, random_id};
use crate::http::FetchError;
use crate::model::{ErasureRecord, ErasureState, HistoryEntry};
use crate::present::fetch_code;
use crate::trust::TrustError;
use crate::{StoreError, Wallet, now};

/// Why an erasure could not be asked or its answer was refused.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// No history entry has that id.
    #[error("no history entry `{0}`")]
    UnknownEntry(String),
    /// The entry has no verified receipt: the verifier did not say where
    /// or for which transaction to ask.
    #[error(
        "this share has no verified receipt from the verifier, so there is no erasure endpoint to ask"
    )]
    NoReceipt,
    /// The holder key of the presentation was deleted with its credential.
    #[error("the key that signed this presentation is gone (its credential was deleted)")]
    HolderKeyGone,
    /// The verifier's certificate no longer chains to a trusted root, or
    /// does not authenticate its client identifier.
    #[error("the verifier's certificate: {0}")]
    Certificate(#[from] X509Error),
    /// The verifier roots could not be read.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The request could not be posted.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The verifier refused the request.
    #[error("the verifier refused the erasure request (HTTP {status}){}", error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    VerifierRejected {
        /// HTTP status.
        status: u16,
        /// Its `error`, `reason` and description, if any.
        error: Option<String>,
    },
    /// The answer is not an erasure answer.
    #[error("the verifier's answer is not an erasure answer")]
    MalformedAnswer,
    /// The signed answer failed a check.
    #[error("the verifier's erasure answer: {0}")]
    Answer(#[from] ErasureError),
    /// Signing the request failed, or the holder key is unusable.
    #[error("signing the erasure request: {0}")]
    Key(#[from] intyg_core::jose::JoseError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Ids could not be generated.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl EraseError {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEntry(_) => "not_found",
            Self::NoReceipt => "no_receipt",
            Self::HolderKeyGone => "holder_key_gone",
            Self::Certificate(_) | Self::Trust(_) => "verifier_not_authenticated",
            Self::Fetch(e) => fetch_code(e),
            Self::VerifierRejected { .. } => "verifier_rejected",
            Self::MalformedAnswer | Self::Answer(_) => "invalid_erasure_answer",
            Self::Key(_) | Self::Crypto(_) => "crypto_failure",
            Self::Store(_) => "store_failure",
        }
    }
}

/// What [`Wallet::erase`] did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Erasure {
    /// The history entry.
    pub history_id: String,
    /// True when the entry already had the verifier's answer: nothing was
    /// sent.
    pub already: bool,
    /// The verifier's answer.
    #[serde(flatten)]
    pub record: ErasureRecord,
}

impl Wallet {
    /// Asks the verifier of a share to erase what it received; a share
    /// already answered is reported as it stands.
    pub async fn erase(&mut self, history_id: &str) -> Result<Erasure, EraseError> {
        let mut entry = self
            .history()?
            .into_iter()
            .find(|e| e.id == history_id)
            .ok_or_else(|| EraseError::UnknownEntry(history_id.to_owned()))?;
        if let Some(record) = entry.erasure.clone().filter(|r| r.verified) {
            return Ok(Erasure {
                history_id: entry.id,
                already: true,
                record,
            });
        }
        let (transaction, endpoint) = match &entry.receipt {
            Some(receipt) if receipt.verified => (
                receipt.transaction.clone().ok_or(EraseError::NoReceipt)?,
                receipt
                    .erasure_endpoint
                    .clone()
                    .ok_or(EraseError::NoReceipt)?,
            ),
            _ => return Err(EraseError::NoReceipt),
        };
        let key_id = entry
            .holder_key_ids
            .first()
            .ok_or(EraseError::HolderKeyGone)?;
        let holder = match self.store.holder_key(&self.key, key_id) {
            Ok(jwk) => SigningKey::from_jwk(&jwk)?,
            Err(StoreError::NotFound(_)) => return Err(EraseError::HolderKeyGone),
            Err(e) => return Err(e.into()),
        };
        let now = now();
        let anchors = TrustAnchors::new(self.verifier_anchors()?).map_err(TrustError::from)?;
        let leaf = CertificateChain::from_x5c(&entry.verifier_x5c)?.validate(&anchors, now)?;
        let client_id = entry
            .counterparty
            .parse()
            .map_err(|_| EraseError::NoReceipt)?;
        leaf.authenticates(&client_id)?;
        let request = ErasureRequest {
            aud: entry.counterparty.clone(),
            txn: transaction.clone(),
            iat: now,
            jti: format!("{}{}", random_id()?, random_id()?),
        };
        let body = serde_json::to_value(ErasureRequestBody {
            erasure_request: request.sign(&holder)?,
        })
        .map_err(|_| EraseError::MalformedAnswer)?;
        let reply = self.http().post_json(&endpoint, Some(&body), None).await?;
        if !reply.is_success() {
            return Err(EraseError::VerifierRejected {
                status: reply.status,
                error: rejection(&reply.body),
            });
        }
        let answer: ErasureAnswerBody =
            serde_json::from_slice(&reply.body).map_err(|_| EraseError::MalformedAnswer)?;
        let answer_jwt = answer.erasure_answer;
        let checked =
            ErasureAnswer::verify(&answer_jwt, &leaf.key, &entry.counterparty, &transaction)?;
        let record = ErasureRecord {
            status: match checked.status {
                ErasureStatus::Erased => ErasureState::Erased,
                ErasureStatus::Refused => ErasureState::Refused,
            },
            verified: true,
            requested_at: now,
            erased_at: checked.erased_at,
            legal_basis: checked.legal_basis,
            answer: answer_jwt,
        };
        entry.erasure = Some(record.clone());
        self.store.replace_history(&self.key, &entry)?;
        tracing::info!(status = record.status_str(), "erasure answered");
        Ok(Erasure {
            history_id: entry.id,
            already: false,
            record,
        })
    }

    /// One history entry.
    pub fn history_entry(&self, id: &str) -> Result<Option<HistoryEntry>, StoreError> {
        Ok(self.history()?.into_iter().find(|e| e.id == id))
    }
}

impl ErasureRecord {
    /// `erased` or `refused`.
    pub fn status_str(&self) -> &'static str {
        match self.status {
            ErasureState::Erased => "erased",
            ErasureState::Refused => "refused",
        }
    }
}

/// `error (reason): description` of an OAuth-style error body.
fn rejection(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?.as_str()?;
    let mut text = error.to_owned();
    if let Some(reason) = value.get("reason").and_then(Value::as_str) {
        text.push_str(&format!(" [{reason}]"));
    }
    if let Some(description) = value.get("error_description").and_then(Value::as_str) {
        text.push_str(&format!(": {description}"));
    }
    Some(text)
}
