//! `POST /erasure` — erasure on request (GDPR Art. 17), an Intyg
//! extension (`intyg_core::rights::erasure`, `specs/PROFILE.md`).
//!
//! The request must be signed by a holder key of the transaction's
//! presentations, fresh and single use (`ReplayStore`, prefix
//! `erasure:`). A posting with a legal basis to keep the data gets a
//! signed refusal naming it. Otherwise the erasure runs in three durable
//! steps, each safe to repeat, so a crash anywhere is finished by the
//! next request or by [`resume`] (run at start and with the retention
//! task):
//!
//! 1. the transaction records the accepted request (`erasure`, pending);
//! 2. its personal-data key is destroyed (the sealed claims, wherever a
//!    store still keeps a copy, can no longer be read), and the
//!    `presentation.erased` webhook event is queued (its deliveries'
//!    ids fixed by the presentation, so a repeated step queues nothing
//!    more: one event per erasure);
//! 3. the consent record gets `erased_at`, and the transaction drops its
//!    credentials and sealed claims and records `erased_at`.

use axum::Json;
use axum::extract::State;
use intyg_core::rights::{
    ErasureAnswer, ErasureAnswerBody, ErasureRequest, ErasureRequestBody, ErasureStatus, Refusal,
    erasure::MAX_AGE_SECONDS,
};

use crate::error::ApiError;
use crate::model::{Erasure, Outcome, Transaction};
use crate::{AppState, now};

/// How often a step retries a compare-and-swap lost to a concurrent one.
const SWAP_ATTEMPTS: usize = 5;

/// `POST /erasure`: `{"erasure_request": JWT}` → `{"erasure_answer": JWT}`.
pub async fn request(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<ErasureAnswerBody>, ApiError> {
    let body: ErasureRequestBody =
        serde_json::from_slice(&body).map_err(|_| Refusal::MalformedBody)?;
    let now = now();
    let client_ids: Vec<String> = [
        Some(state.identity.client_id.to_string()),
        state
            .identity
            .x509_san_dns
            .as_ref()
            .map(ToString::to_string),
        state
            .identity
            .client_id_for(crate::config::ClientIdPrefixChoice::X509Hash)
            .map(|c| c.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let audiences: Vec<&str> = client_ids.iter().map(String::as_str).collect();
    let verified =
        ErasureRequest::verify(&body.erasure_request, &audiences, now).map_err(Refusal::Request)?;
    let request = &verified.request;
    let transaction = state
        .stores
        .transactions
        .get(&request.txn)
        .await?
        .filter(|t| t.outcome == Outcome::Verified && t.client_id == request.aud)
        .ok_or(Refusal::UnknownTransaction)?;
    if !transaction.holder_keys.contains(&verified.holder_key) {
        tracing::info!(transaction = %transaction.id, "erasure request by another key refused");
        return Err(Refusal::NotHolderKey.into());
    }
    let expires = now + MAX_AGE_SECONDS + 2 * intyg_core::rights::CLOCK_SKEW_SECONDS;
    if !state
        .stores
        .replay
        .insert_if_absent(&format!("erasure:{}", request.jti), expires, now)
        .await?
    {
        return Err(Refusal::Replay.into());
    }
    state.stores.durable().await?;
    let (status, erased_at, legal_basis) = match transaction.erased_at() {
        Some(at) => (ErasureStatus::Erased, Some(at), None),
        None => match legal_basis(&state, &transaction).await? {
            Some(basis) => {
                record_refusal(&state, transaction, &request.jti, &basis, now).await?;
                tracing::info!(transaction = %request.txn, "erasure refused under a legal basis");
                (ErasureStatus::Refused, None, Some(basis))
            }
            None => {
                let at = erase(&state, transaction, &request.jti, now).await?;
                tracing::info!(transaction = %request.txn, "personal data erased on request");
                (ErasureStatus::Erased, Some(at), None)
            }
        },
    };
    let answer = ErasureAnswer {
        iss: request.aud.clone(),
        txn: request.txn.clone(),
        iat: now,
        status,
        erased_at,
        legal_basis,
        request_jti: request.jti.clone(),
    };
    Ok(Json(ErasureAnswerBody {
        erasure_answer: answer.sign(&state.identity.key, state.identity.chain.to_x5c())?,
    }))
}

/// The legal basis of the transaction's posting, if it has one.
async fn legal_basis(
    state: &AppState,
    transaction: &Transaction,
) -> Result<Option<String>, ApiError> {
    let Some(posting) = &transaction.posting_id else {
        return Ok(None);
    };
    Ok(state
        .stores
        .postings
        .get(posting)
        .await?
        .and_then(|p| p.legal_basis))
}

/// Applies `change` to the stored transaction by compare-and-swap,
/// re-reading on a lost race; returns what is stored after.
async fn update(
    state: &AppState,
    mut current: Transaction,
    change: impl Fn(&mut Transaction),
) -> Result<Transaction, ApiError> {
    for _ in 0..SWAP_ATTEMPTS {
        let mut next = current.clone();
        change(&mut next);
        if next == current || state.stores.transactions.swap(&current, &next).await? {
            state.stores.durable().await?;
            return Ok(next);
        }
        current = state
            .stores
            .transactions
            .get(&current.id)
            .await?
            .ok_or_else(|| ApiError::not_found("transaction"))?;
    }
    Err(ApiError::bad_request(
        "temporarily_unavailable",
        "the transaction changed concurrently; try again",
    ))
}

async fn record_refusal(
    state: &AppState,
    transaction: Transaction,
    jti: &str,
    basis: &str,
    now: i64,
) -> Result<(), ApiError> {
    update(state, transaction, |t| {
        if t.erasure.is_none() {
            t.erasure = Some(Erasure {
                requested_at: now,
                request_jti: jti.to_owned(),
                erased_at: None,
                refused: Some(basis.to_owned()),
            });
        }
    })
    .await?;
    Ok(())
}

/// Steps 1 to 3; returns when the data was erased.
async fn erase(
    state: &AppState,
    transaction: Transaction,
    jti: &str,
    now: i64,
) -> Result<i64, ApiError> {
    let pending = update(state, transaction, |t| {
        if t.erased_at().is_none() && !t.erasure_pending() {
            t.erasure = Some(Erasure {
                requested_at: now,
                request_jti: jti.to_owned(),
                erased_at: None,
                refused: None,
            });
        }
    })
    .await?;
    finish(state, pending, now).await
}

/// Steps 2 and 3 of an accepted request; idempotent.
async fn finish(state: &AppState, transaction: Transaction, now: i64) -> Result<i64, ApiError> {
    if let Some(at) = transaction.erased_at() {
        return Ok(at);
    }
    state.stores.keys.destroy(&transaction.id).await?;
    crate::webhooks::presentation_erased(state, &transaction).await?;
    if let Some(mut consent) = state.stores.consents.get(&transaction.id).await?
        && consent.erased_at.is_none()
    {
        consent.erased_at = Some(now);
        state.stores.consents.insert(&consent).await?;
    }
    let done = update(state, transaction, |t| {
        if let Some(erasure) = t.erasure.as_mut()
            && erasure.erased_at.is_none()
        {
            erasure.erased_at = Some(now);
            erasure.refused = None;
            t.credentials.clear();
            t.sealed_claims = None;
            t.claims_deleted_at.get_or_insert(now);
        }
    })
    .await?;
    done.erased_at()
        .ok_or_else(|| ApiError::bad_request("server_error", "erasure not recorded"))
}

/// Finishes every erasure a crash left under way; returns how many.
pub async fn resume(state: &AppState) -> Result<usize, ApiError> {
    let pending = state.stores.transactions.with_erasure_pending().await?;
    let count = pending.len();
    for transaction in pending {
        finish(state, transaction, now()).await?;
    }
    if count > 0 {
        tracing::info!(count, "interrupted erasures finished");
    }
    Ok(count)
}
