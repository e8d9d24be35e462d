//! Signed webhooks for HR systems: subscriptions (`POST|GET
//! /api/webhooks`, `DELETE /api/webhooks/{id}`), events queued in a
//! durable outbox when a presentation ends, and [`deliver`]'s worker that
//! sends them signed with Standard Webhooks (`intyg_core::webhook`).
//!
//! Events: `presentation.verified`, `presentation.failed`,
//! `presentation.declined` (a decline or no matching credential) and
//! `presentation.erased` (verified claims erased on the holder's request:
//! `erasure` calls [`presentation_erased`] once the claims are destroyed).
//! Each happens at most once per presentation, so a delivery's id is
//! derived from the event, the presentation and the subscription
//! ([`delivery_id`]): an event queued again (an erasure finished after a
//! crash, two instances finishing it at once) keeps its one delivery. The
//! body names the event type and the presentation id, never a claim
//! value:
//!
//! ```json
//! {"type": "presentation.verified", "timestamp": "2026-12-03T12:00:00Z",
//!  "data": {"presentation_id": "…", "status": "verified"}}
//! ```

pub mod deliver;

use intyg_core::webhook::Payload;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::model::{Outcome, Transaction};
use crate::store::{Delivery, DeliveryState, Subscription};
use crate::{AppState, now};

/// A webhook event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Every check passed.
    PresentationVerified,
    /// A check failed.
    PresentationFailed,
    /// The holder declined, or had no matching credential.
    PresentationDeclined,
    /// The verified claims were erased on the holder's request.
    PresentationErased,
}

impl EventType {
    /// Every event type.
    pub const ALL: [Self; 4] = [
        Self::PresentationVerified,
        Self::PresentationFailed,
        Self::PresentationDeclined,
        Self::PresentationErased,
    ];

    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PresentationVerified => "presentation.verified",
            Self::PresentationFailed => "presentation.failed",
            Self::PresentationDeclined => "presentation.declined",
            Self::PresentationErased => "presentation.erased",
        }
    }

    /// The event type called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The event of a transaction's outcome (none while it is pending).
    pub fn of(outcome: Outcome) -> Option<Self> {
        match outcome {
            Outcome::Pending => None,
            Outcome::Verified => Some(Self::PresentationVerified),
            Outcome::Declined | Outcome::NoMatchingCredential => Some(Self::PresentationDeclined),
            Outcome::Failed => Some(Self::PresentationFailed),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The `webhook-id` of `event` about `presentation_id` for
/// `subscription_id`: `msg_` and 24 base64url characters of their SHA-256.
pub fn delivery_id(event: EventType, presentation_id: &str, subscription_id: &str) -> String {
    let mut hash = Sha256::new();
    for part in [event.as_str(), presentation_id, subscription_id] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!(
        "msg_{}",
        intyg_core::jose::b64url_encode(&hash.finalize()[..18])
    )
}

/// Queues `event` about `transaction` for every subscription to it (once:
/// an event queued again keeps its deliveries) and wakes the delivery
/// worker. The caller makes the writes durable
/// (`Stores::durable`) before it answers.
pub async fn emit(
    state: &AppState,
    event: EventType,
    transaction: &Transaction,
) -> Result<usize, ApiError> {
    let deliveries = deliveries(state, event, transaction).await?;
    for delivery in &deliveries {
        state.stores.outbox.enqueue(delivery).await?;
    }
    if !deliveries.is_empty() {
        state.webhooks.wake();
    }
    Ok(deliveries.len())
}

/// The deliveries of `event` about `transaction`, one per subscription to
/// it, not yet queued: a presentation's outcome queues them with the
/// outcome itself (`TransactionStore::finish`), then wakes the worker.
pub async fn deliveries(
    state: &AppState,
    event: EventType,
    transaction: &Transaction,
) -> Result<Vec<Delivery>, ApiError> {
    let subscribers: Vec<Subscription> = state
        .stores
        .subscriptions
        .all()
        .await?
        .into_iter()
        .filter(|s| s.events.iter().any(|e| e == event.as_str()))
        .collect();
    if subscribers.is_empty() {
        return Ok(Vec::new());
    }
    let mut data = Map::new();
    data.insert("presentation_id".into(), transaction.id.clone().into());
    if event != EventType::PresentationErased {
        data.insert(
            "status".into(),
            serde_json::to_value(transaction.outcome).unwrap_or(Value::Null),
        );
        if let Some(reason) = &transaction.reason {
            data.insert("reason".into(), reason.clone().into());
        }
    }
    let payload = Payload {
        event_type: event.as_str().to_owned(),
        timestamp: jiff::Timestamp::from_second(now())
            .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?
            .to_string(),
        data,
    };
    let body = serde_json::to_string(&payload)
        .map_err(|e| ApiError::bad_request("server_error", e.to_string()))?;
    Ok(subscribers
        .into_iter()
        .map(|subscription| Delivery {
            id: delivery_id(event, &transaction.id, &subscription.id),
            subscription_id: subscription.id,
            event: event.as_str().to_owned(),
            presentation_id: transaction.id.clone(),
            payload: body.clone(),
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: now_ms(),
            leased_until: 0,
            last_error: None,
            created_at: now(),
            delivered_at: None,
        })
        .collect())
}

/// The one call the erasure of a presentation's verified claims makes,
/// once they are destroyed: queues `presentation.erased` for its
/// subscribers (durable before this returns; repeating it adds nothing).
pub async fn presentation_erased(
    state: &AppState,
    transaction: &Transaction,
) -> Result<(), ApiError> {
    emit(state, EventType::PresentationErased, transaction).await?;
    state.stores.durable().await?;
    Ok(())
}
