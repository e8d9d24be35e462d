//! Webhook subscriptions and the delivery outbox, on sled and PostgreSQL.
//!
//! The outbox is durable: a delivery is written before the answer that
//! caused it, and stays until it is delivered or dead, then for the
//! retention period ([`OutboxStore::prune`], `[webhooks]
//! retention_seconds`), so the outbox does not grow without end and a
//! sled claim does not read every delivery ever made. An instance takes
//! due deliveries with a lease ([`OutboxStore::claim`]: one
//! compare-and-swap per record on sled, one `UPDATE .. FOR UPDATE SKIP
//! LOCKED` on PostgreSQL), so two instances never send one attempt twice;
//! a lease left by a killed instance runs out and the delivery is taken
//! again.

use async_trait::async_trait;
use intyg_service::pg::{Pg, PgError, Row};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// A webhook subscription of the HR API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Random id.
    pub id: String,
    /// Where deliveries go (checked against the SSRF rules when made).
    pub url: String,
    /// The event types it receives (`presentation.verified`, ...).
    pub events: Vec<String>,
    /// The Standard Webhooks signing secret (`whsec_...`). Kept in clear:
    /// an HMAC key must be known to sign.
    pub secret: String,
    /// When it was made, seconds since the epoch.
    pub created_at: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed (or the subscription is gone): dead letter.
    Dead,
}

impl DeliveryState {
    /// The column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}

/// One event for one subscription, in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `webhook-id`: the same on every attempt, the receiver's
    /// idempotency key.
    pub id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The event type.
    pub event: String,
    /// The presentation it is about.
    pub presentation_id: String,
    /// The JSON body, fixed when the event happened.
    pub payload: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due, milliseconds since the epoch; once
    /// delivered or dead, when the last attempt ended.
    pub next_attempt_at: i64,
    /// Until when an instance holds it, milliseconds since the epoch.
    pub leased_until: i64,
    /// What went wrong last (status or network error, no payload).
    pub last_error: Option<String>,
    /// When the event happened, seconds since the epoch.
    pub created_at: i64,
    /// When the receiver took it, seconds since the epoch.
    pub delivered_at: Option<i64>,
}

/// Webhook subscriptions.
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Stores a new subscription.
    async fn insert(&self, subscription: &Subscription) -> Result<(), StoreError>;
    /// The subscription with this id.
    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError>;
    /// Every subscription, in no particular order.
    async fn all(&self) -> Result<Vec<Subscription>, StoreError>;
    /// Deletes one; returns whether it existed.
    async fn delete(&self, id: &str) -> Result<bool, StoreError>;
}

/// The outbox of webhook deliveries.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Adds a delivery, unless one with its id is there already (an event
    /// queued again, after a crash or by a concurrent writer, keeps its
    /// first delivery).
    async fn enqueue(&self, delivery: &Delivery) -> Result<(), StoreError>;
    /// Takes up to `limit` pending deliveries due at `now_ms` whose lease
    /// has run out, leasing them until `lease_until_ms`.
    async fn claim(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Stores the outcome of an attempt (the lease ends).
    async fn update(&self, delivery: &Delivery) -> Result<(), StoreError>;
    /// The delivery with this id.
    async fn get(&self, id: &str) -> Result<Option<Delivery>, StoreError>;
    /// The deliveries in `state` (all when `None`), in no particular order.
    async fn list(&self, state: Option<DeliveryState>) -> Result<Vec<Delivery>, StoreError>;
    /// Deletes the delivered and dead deliveries whose last attempt ended
    /// before `before_ms`; returns how many.
    async fn prune(&self, before_ms: i64) -> Result<usize, StoreError>;
}

/// Whether `delivery` is finished (delivered or dead) since before
/// `before_ms`.
fn prunable(delivery: &Delivery, before_ms: i64) -> bool {
    delivery.state != DeliveryState::Pending && delivery.next_attempt_at < before_ms
}

/// Both on sled.
pub(super) struct SledWebhooks {
    pub(super) subscriptions: intyg_service::backup::Tree,
    pub(super) deliveries: intyg_service::backup::Tree,
}

#[async_trait]
impl SubscriptionStore for SledWebhooks {
    async fn insert(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.subscriptions
            .insert(subscription.id.as_bytes(), super::encode(subscription)?)?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        super::decode(self.subscriptions.get(id.as_bytes())?)
    }

    async fn all(&self) -> Result<Vec<Subscription>, StoreError> {
        self.subscriptions
            .iter()
            .map(|entry| Ok(serde_json::from_slice(&entry?.1)?))
            .collect()
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.subscriptions.remove(id.as_bytes())?.is_some())
    }
}

#[async_trait]
impl OutboxStore for SledWebhooks {
    async fn enqueue(&self, delivery: &Delivery) -> Result<(), StoreError> {
        // Err(_): there is one already, which stays.
        let _added_or_kept = self.deliveries.compare_and_swap(
            delivery.id.as_bytes(),
            None::<&[u8]>,
            Some(super::encode(delivery)?),
        )?;
        Ok(())
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut claimed = Vec::new();
        for entry in self.deliveries.iter() {
            if claimed.len() >= limit {
                break;
            }
            let (key, bytes) = entry?;
            let delivery: Delivery = serde_json::from_slice(&bytes)?;
            if delivery.state != DeliveryState::Pending
                || delivery.next_attempt_at > now_ms
                || delivery.leased_until > now_ms
            {
                continue;
            }
            let mut leased = delivery;
            leased.leased_until = lease_until_ms;
            let swapped = self.deliveries.compare_and_swap(
                key,
                Some(bytes),
                Some(super::encode(&leased)?),
            )?;
            if swapped.is_ok() {
                claimed.push(leased);
            }
        }
        Ok(claimed)
    }

    async fn update(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let mut done = delivery.clone();
        done.leased_until = 0;
        self.deliveries
            .insert(done.id.as_bytes(), super::encode(&done)?)?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        super::decode(self.deliveries.get(id.as_bytes())?)
    }

    async fn list(&self, state: Option<DeliveryState>) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        for entry in self.deliveries.iter() {
            let delivery: Delivery = serde_json::from_slice(&entry?.1)?;
            if state.is_none_or(|s| s == delivery.state) {
                out.push(delivery);
            }
        }
        Ok(out)
    }

    async fn prune(&self, before_ms: i64) -> Result<usize, StoreError> {
        let mut pruned = 0;
        for entry in self.deliveries.iter() {
            let (key, bytes) = entry?;
            let delivery: Delivery = serde_json::from_slice(&bytes)?;
            // Only as read: a delivery queued again meanwhile stays.
            if prunable(&delivery, before_ms)
                && self
                    .deliveries
                    .compare_and_swap(key, Some(bytes), None::<Vec<u8>>)?
                    .is_ok()
            {
                pruned += 1;
            }
        }
        Ok(pruned)
    }
}

/// Both on PostgreSQL (tables `verifier_webhook_*`).
#[derive(Debug, Clone)]
pub(super) struct PgWebhooks {
    pub(super) pg: Pg,
}

fn decode<T: serde::de::DeserializeOwned>(row: &Row) -> Result<T, StoreError> {
    let text: &str = row.try_get(0).map_err(PgError::from)?;
    Ok(serde_json::from_str(text)?)
}

fn encode(value: &impl Serialize) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

#[async_trait]
impl SubscriptionStore for PgWebhooks {
    async fn insert(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_webhook_subscriptions (id, record) VALUES ($1, $2)",
                &[&subscription.id, &encode(subscription)?],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        self.pg
            .query_opt(
                "SELECT record FROM verifier_webhook_subscriptions WHERE id = $1",
                &[&id],
            )
            .await?
            .map(|row| decode(&row))
            .transpose()
    }

    async fn all(&self) -> Result<Vec<Subscription>, StoreError> {
        self.pg
            .query("SELECT record FROM verifier_webhook_subscriptions", &[])
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self
            .pg
            .execute(
                "DELETE FROM verifier_webhook_subscriptions WHERE id = $1",
                &[&id],
            )
            .await?;
        Ok(deleted == 1)
    }
}

#[async_trait]
impl OutboxStore for PgWebhooks {
    async fn enqueue(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_webhook_deliveries \
                 (id, state, next_attempt_at, leased_until, record) VALUES ($1, $2, $3, 0, $4) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &delivery.id,
                    &delivery.state.as_str(),
                    &delivery.next_attempt_at,
                    &encode(delivery)?,
                ],
            )
            .await?;
        Ok(())
    }

    async fn claim(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .pg
            .query(
                "UPDATE verifier_webhook_deliveries SET leased_until = $2 \
                 WHERE id IN (SELECT id FROM verifier_webhook_deliveries \
                   WHERE state = 'pending' AND next_attempt_at <= $1 AND leased_until <= $1 \
                   ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING record",
                &[&now_ms, &lease_until_ms, &limit],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let mut delivery: Delivery = decode(row)?;
                delivery.leased_until = lease_until_ms;
                Ok(delivery)
            })
            .collect()
    }

    async fn update(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let mut done = delivery.clone();
        done.leased_until = 0;
        self.pg
            .execute(
                "UPDATE verifier_webhook_deliveries \
                 SET state = $2, next_attempt_at = $3, leased_until = 0, record = $4 WHERE id = $1",
                &[
                    &done.id,
                    &done.state.as_str(),
                    &done.next_attempt_at,
                    &encode(&done)?,
                ],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        self.pg
            .query_opt(
                "SELECT record FROM verifier_webhook_deliveries WHERE id = $1",
                &[&id],
            )
            .await?
            .map(|row| decode(&row))
            .transpose()
    }

    async fn list(&self, state: Option<DeliveryState>) -> Result<Vec<Delivery>, StoreError> {
        let rows = match state {
            Some(state) => {
                self.pg
                    .query(
                        "SELECT record FROM verifier_webhook_deliveries WHERE state = $1",
                        &[&state.as_str()],
                    )
                    .await?
            }
            None => {
                self.pg
                    .query("SELECT record FROM verifier_webhook_deliveries", &[])
                    .await?
            }
        };
        rows.iter().map(decode).collect()
    }

    async fn prune(&self, before_ms: i64) -> Result<usize, StoreError> {
        let deleted = self
            .pg
            .execute(
                "DELETE FROM verifier_webhook_deliveries \
                 WHERE state IN ('delivered', 'dead') AND next_attempt_at < $1",
                &[&before_ms],
            )
            .await?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }
}
