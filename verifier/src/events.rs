//! Live status without polling: Server-Sent Events (WHATWG HTML §9.2) on
//! `GET /api/presentations/{id}/events`, and the same stream for the
//! employer portal's session page.
//!
//! A stream sends the transaction's state when it opens and again each
//! time it changes, and ends after the state that ends the transaction
//! (verified, declined, no matching credential, failed, expired).
//!
//! Several instances may share one PostgreSQL database, and the wallet's
//! response may reach another instance than the one holding the stream.
//! So a watcher does not trust memory alone: it re-reads the transaction
//! through [`TransactionStore`](crate::store::TransactionStore) every
//! `events_poll_ms`, and in between it is woken at once by [`Changes`]
//! when this instance wrote the change itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::model::{Outcome, Transaction};
use crate::{AppState, now};

/// Transactions changed by this instance, by id: wakes local watchers
/// before their next poll of the store.
#[derive(Debug)]
pub struct Changes {
    sender: broadcast::Sender<String>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl Changes {
    /// Announces that transaction `id` changed. Nobody listening is fine.
    pub fn changed(&self, id: &str) {
        // `send` fails only when no watcher is subscribed: nothing to wake.
        let _nobody_listens = self.sender.send(id.to_owned());
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.sender.subscribe()
    }
}

/// Where a transaction stands, as an event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Waiting for the wallet.
    Pending,
    /// Every check passed.
    Verified,
    /// The person declined.
    Declined,
    /// The wallet had nothing for some Credential Queries.
    NoMatchingCredential,
    /// A check failed.
    Failed,
    /// No answer came in time.
    Expired,
}

impl EventStatus {
    /// The state of `transaction` at `now`.
    pub fn of(transaction: &Transaction, now: i64) -> Self {
        match transaction.outcome {
            Outcome::Pending if transaction.expires_at <= now && !transaction.processing => {
                Self::Expired
            }
            Outcome::Pending if transaction.abandoned(now) => Self::Failed,
            Outcome::Pending => Self::Pending,
            Outcome::Verified => Self::Verified,
            Outcome::Declined => Self::Declined,
            Outcome::NoMatchingCredential => Self::NoMatchingCredential,
            Outcome::Failed => Self::Failed,
        }
    }

    /// Whether the transaction has ended.
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }

    /// The event name (`pending`, `verified`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Declined => "declined",
            Self::NoMatchingCredential => "no_matching_credential",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }
}

/// Whether a client reconnecting with `headers` has seen this
/// transaction's final event already: its `Last-Event-ID` (WHATWG HTML
/// §9.2.4) names the final status the transaction has. `EventSource`
/// reconnects whenever a stream ends, so such a request is answered 204
/// No Content, which tells it to stop (§9.2.3); a client without that
/// header still gets the final state.
pub fn seen_the_end(headers: &axum::http::HeaderMap, transaction: &Transaction, now: i64) -> bool {
    let status = EventStatus::of(transaction, now);
    status.is_final()
        && headers
            .get("last-event-id")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|last| last.trim() == status.as_str())
}

/// The data of an HR API event: where the presentation stands. The
/// verified claims are read with `GET /api/presentations/{id}`.
#[derive(Debug, Serialize)]
pub struct PresentationEvent<'a> {
    /// The transaction id.
    pub id: &'a str,
    /// Where it stands.
    pub status: EventStatus,
    /// The failure reason code, or `access_denied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// What failed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_description: Option<&'a str>,
}

/// The HR API's event for `transaction`: named after its status, with a
/// [`PresentationEvent`] as JSON data.
pub fn api_event(transaction: &Transaction, status: EventStatus) -> Event {
    let data = PresentationEvent {
        id: &transaction.id,
        status,
        reason: transaction.reason.as_deref(),
        reason_description: transaction.reason_description.as_deref(),
    };
    Event::default()
        .event(status.as_str())
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(status.as_str()))
}

struct Watch<R> {
    state: AppState,
    id: String,
    changes: broadcast::Receiver<String>,
    last: Option<EventStatus>,
    done: bool,
    render: R,
}

/// The event stream of transaction `id` (which must exist): `render` makes
/// the event of each new state; the stream ends after a final one, or
/// when the transaction disappears or cannot be read.
pub fn watch<R>(
    state: AppState,
    id: String,
    render: R,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    R: Fn(&Transaction, EventStatus) -> Event + Send + 'static,
{
    let poll = Duration::from_millis(state.config.events_poll_ms.max(10));
    let watch = Watch {
        changes: state.changes.subscribe(),
        state,
        id,
        last: None,
        done: false,
        render,
    };
    let stream = stream::unfold(watch, move |mut watch| async move {
        if watch.done {
            return None;
        }
        loop {
            let transaction = match watch.state.stores.transactions.get(&watch.id).await {
                Ok(Some(transaction)) => transaction,
                Ok(None) => return None,
                Err(error) => {
                    tracing::error!(%error, "event stream: reading the transaction failed");
                    return None;
                }
            };
            let status = EventStatus::of(&transaction, now());
            if watch.last != Some(status) {
                watch.last = Some(status);
                watch.done = status.is_final();
                // The claims are sealed in the store (`personal`).
                let mut transaction = transaction;
                if let Err(error) = crate::personal::open(&watch.state, &mut transaction).await {
                    tracing::error!(%error, "event stream: opening the claims failed");
                    return None;
                }
                // The status is the event's id: a client that reconnects
                // after the end names it (`Last-Event-ID`, [`seen_the_end`]).
                let event = (watch.render)(&transaction, status).id(status.as_str());
                return Some((Ok(event), watch));
            }
            // Wake at the next local change of this transaction, the next
            // poll, or the expiry, whichever comes first.
            let ends_at = match transaction.processing {
                true => transaction
                    .expires_at
                    .saturating_add(crate::model::ABANDONED_AFTER),
                false => transaction.expires_at,
            };
            let until_expiry = Duration::from_secs(u64::try_from(ends_at - now()).unwrap_or(0) + 1);
            let wait = poll.min(until_expiry);
            let id = watch.id.clone();
            let changes = &mut watch.changes;
            let woken = async {
                loop {
                    match changes.recv().await {
                        Ok(changed) if changed == id => return,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => return,
                        Err(broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            };
            let _woken_or_timed_out = tokio::time::timeout(wait, woken).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
