//! The delivery worker: takes due deliveries from the outbox with a lease,
//! signs and POSTs each, and records the outcome: delivered, retried later
//! (exponential backoff with jitter), or dead after `max_attempts`.
//!
//! Every instance runs one; the outbox's lease makes each attempt one
//! instance's. A delivery whose instance died mid-attempt is taken again
//! once its lease runs out; the receiver drops the repeat by `webhook-id`.
//!
//! Beside it, every `purge_interval_ms` and on one instance at a time,
//! [`prune`] deletes the deliveries finished (delivered or dead) more than
//! `[webhooks] retention_seconds` ago.

use std::time::Duration;

use intyg_core::webhook::{ID_HEADER, SIGNATURE_HEADER, Secret, TIMESTAMP_HEADER};
use intyg_service::fetch::Fetcher;
use tokio::sync::Notify;

use super::now_ms;
use crate::config::WebhookSettings;
use crate::store::{Delivery, DeliveryState, StoreError};
use crate::{AppState, now};

/// How many deliveries one round takes.
const BATCH: usize = 16;

/// The webhook worker's handle in the state: its HTTP client and its
/// wake-up.
#[derive(Debug)]
pub struct Webhooks {
    /// Outgoing POSTs: the SSRF rules of every outgoing call (loopback in
    /// `--dev`, private addresses only when `allow_private_addresses`).
    pub fetcher: Fetcher,
    wake: Notify,
}

impl Webhooks {
    /// The client for `settings`; `dev` allows loopback.
    pub fn new(
        settings: &WebhookSettings,
        dev: bool,
    ) -> Result<Self, intyg_service::fetch::FetchError> {
        let mut fetcher = Fetcher::new(settings.timeout_ms, 64 * 1024, dev)?;
        if settings.allow_private_addresses {
            fetcher = fetcher.dangerous_allow_private_addresses()?;
        }
        Ok(Self {
            fetcher,
            wake: Notify::new(),
        })
    }

    /// Starts a round now instead of at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The delay before attempt `attempts + 1`, after `attempts` failed ones:
/// `first_retry_ms · 2^(attempts−1)`, at most `max_backoff_ms`, times a
/// random factor in [1 − jitter, 1 + jitter].
pub fn backoff_ms(settings: &WebhookSettings, attempts: u32, random: u32) -> i64 {
    let exponent = attempts.saturating_sub(1).min(30);
    let base = settings
        .first_retry_ms
        .saturating_mul(1u64 << exponent)
        .min(settings.max_backoff_ms);
    let jitter = settings.jitter.clamp(0.0, 1.0);
    let unit = f64::from(random) / f64::from(u32::MAX);
    let factor = 1.0 - jitter + 2.0 * jitter * unit;
    // Bounded above by max_backoff_ms · 2, far inside i64.
    (base as f64 * factor).round() as i64
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    // The system RNG failing leaves no jitter, not a failed delivery.
    match aws_lc_rs::rand::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => u32::MAX / 2,
    }
}

/// Starts the worker (a round at every wake-up or `poll_interval_ms`)
/// and the outbox's pruning (every `purge_interval_ms`).
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let deliver = async {
            let poll = Duration::from_millis(state.config.webhooks.poll_interval_ms.max(10));
            loop {
                match round(&state).await {
                    Ok(taken) if taken >= BATCH => continue,
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "webhook delivery round failed"),
                }
                let _woken_or_timed_out =
                    tokio::time::timeout(poll, state.webhooks.wake.notified()).await;
            }
        };
        let pruning = async {
            let mut ticker = tokio::time::interval(Duration::from_millis(
                state.config.purge_interval_ms.max(10),
            ));
            loop {
                ticker.tick().await;
                // Once across the instances sharing a database.
                match state.stores.jobs.run(PRUNE_JOB, prune(&state)).await {
                    Ok(None | Some(Ok(_))) => {}
                    Ok(Some(Err(error))) => {
                        tracing::error!(%error, "webhook outbox pruning failed")
                    }
                    Err(error) => {
                        tracing::error!(%error, "webhook outbox pruning could not take its lock")
                    }
                }
            }
        };
        tokio::join!(deliver, pruning);
    })
}

/// The advisory lock key of the outbox's pruning ("vwhprune").
const PRUNE_JOB: i64 = 0x7677_6870_7275_6e65;

/// Deletes the deliveries finished more than `retention_seconds` ago;
/// returns how many.
pub async fn prune(state: &AppState) -> Result<usize, StoreError> {
    let retention_ms = state
        .config
        .webhooks
        .retention_seconds
        .saturating_mul(1_000);
    let before = now_ms().saturating_sub(i64::try_from(retention_ms).unwrap_or(i64::MAX));
    let pruned = state.stores.outbox.prune(before).await?;
    if pruned > 0 {
        state.stores.durable().await?;
        tracing::info!(
            pruned,
            "finished webhook deliveries deleted after the retention period"
        );
    }
    Ok(pruned)
}

/// One round: claims due deliveries and attempts each. Returns how many
/// it took.
pub async fn round(state: &AppState) -> Result<usize, StoreError> {
    let settings = &state.config.webhooks;
    let now = now_ms();
    let lease = i64::try_from(settings.timeout_ms).unwrap_or(i64::MAX / 4) + 30_000;
    let due = state.stores.outbox.claim(now, now + lease, BATCH).await?;
    let taken = due.len();
    let attempts = due.into_iter().map(|delivery| {
        let state = state.clone();
        async move { attempt(&state, delivery).await }
    });
    for result in futures_util::future::join_all(attempts).await {
        result?;
    }
    if taken > 0 {
        state.stores.durable().await?;
    }
    Ok(taken)
}

/// Where the event a delivery reports stands in its presentation's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// The record says it happened: send.
    Confirms,
    /// The presentation is still being checked: ask again later.
    Pending,
    /// It never happened (an instance stopped between queueing the
    /// event and writing the outcome, which sled writes in that order).
    Denies,
}

/// What `delivery`'s presentation record says of its event.
async fn record_of(state: &AppState, delivery: &Delivery) -> Result<Record, StoreError> {
    let Some(transaction) = state
        .stores
        .transactions
        .get(&delivery.presentation_id)
        .await?
    else {
        return Ok(Record::Denies);
    };
    let happened = match super::EventType::parse(&delivery.event) {
        Some(super::EventType::PresentationErased) => transaction.erasure.is_some(),
        Some(event) => super::EventType::of(transaction.outcome) == Some(event),
        None => false,
    };
    Ok(if happened {
        Record::Confirms
    } else if transaction.outcome == crate::model::Outcome::Pending
        && transaction.processing
        && !transaction.abandoned(now())
    {
        Record::Pending
    } else {
        Record::Denies
    })
}

async fn attempt(state: &AppState, mut delivery: Delivery) -> Result<(), StoreError> {
    let settings = &state.config.webhooks;
    match record_of(state, &delivery).await? {
        Record::Confirms => {}
        Record::Pending => {
            // Not an attempt: the lease ends and it is due again soon.
            let wait = i64::try_from(settings.first_retry_ms).unwrap_or(i64::MAX / 4);
            delivery.leased_until = 0;
            delivery.next_attempt_at = now_ms().saturating_add(wait);
            return state.stores.outbox.update(&delivery).await;
        }
        Record::Denies => {
            delivery.state = DeliveryState::Dead;
            delivery.next_attempt_at = now_ms();
            delivery.last_error =
                Some("the presentation's record does not show this event: not sent".into());
            tracing::warn!(delivery = %delivery.id, "webhook event without its outcome dropped");
            state.metrics.webhook("dropped");
            return state.stores.outbox.update(&delivery).await;
        }
    }
    delivery.attempts += 1;
    let outcome = match state
        .stores
        .subscriptions
        .get(&delivery.subscription_id)
        .await?
    {
        None => Err("the subscription was deleted".to_owned()),
        Some(subscription) => match subscription.secret.parse::<Secret>() {
            Err(e) => Err(e.to_string()),
            Ok(secret) => {
                let timestamp = now();
                let signature = secret.sign(&delivery.id, timestamp, delivery.payload.as_bytes());
                let timestamp = timestamp.to_string();
                let headers = [
                    (ID_HEADER, delivery.id.as_str()),
                    (TIMESTAMP_HEADER, timestamp.as_str()),
                    (SIGNATURE_HEADER, signature.as_str()),
                ];
                state
                    .webhooks
                    .fetcher
                    .post_json(
                        &subscription.url,
                        &headers,
                        delivery.payload.clone().into_bytes(),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        },
    };
    match outcome {
        Ok(()) => {
            delivery.state = DeliveryState::Delivered;
            delivery.next_attempt_at = now_ms();
            delivery.delivered_at = Some(now());
            delivery.last_error = None;
            state.metrics.webhook("delivered");
        }
        Err(error) => {
            let gone = state
                .stores
                .subscriptions
                .get(&delivery.subscription_id)
                .await?
                .is_none();
            delivery.last_error = Some(error);
            if gone || delivery.attempts >= settings.max_attempts {
                delivery.state = DeliveryState::Dead;
                delivery.next_attempt_at = now_ms();
                tracing::warn!(delivery = %delivery.id, attempts = delivery.attempts, "webhook delivery dead");
                state.metrics.webhook("dead");
            } else {
                delivery.next_attempt_at =
                    now_ms() + backoff_ms(settings, delivery.attempts, random_u32());
                state.metrics.webhook("retry");
            }
        }
    }
    state.stores.outbox.update(&delivery).await
}

/// Puts a dead delivery back in the queue with a fresh count of attempts;
/// returns it, or `None` when there is no such dead delivery.
pub async fn retry(state: &AppState, id: &str) -> Result<Option<Delivery>, StoreError> {
    let Some(mut delivery) = state.stores.outbox.get(id).await? else {
        return Ok(None);
    };
    if delivery.state != DeliveryState::Dead {
        return Ok(None);
    }
    delivery.state = DeliveryState::Pending;
    delivery.attempts = 0;
    delivery.next_attempt_at = now_ms();
    state.stores.outbox.update(&delivery).await?;
    state.stores.durable().await?;
    state.webhooks.wake();
    Ok(Some(delivery))
}
