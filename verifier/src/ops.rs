//! Operations: `/healthz`, Prometheus `/metrics`, and the retention task
//! that deletes verified claims after the configured period.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use intyg_service::trust_lists::ListGauges;
use prometheus::{Encoder as _, IntCounterVec, Opts, Registry, TextEncoder};

use crate::error::ApiError;
use crate::{AppState, now};

/// Counters for `/metrics`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Presentation requests made, by template.
    pub created: IntCounterVec,
    /// Responses processed, by outcome or failure reason.
    pub outcomes: IntCounterVec,
    /// Webhook delivery attempts, by result (`delivered`, `retry`, `dead`).
    pub webhooks: IntCounterVec,
    /// The trust lists' age and state.
    pub lists: ListGauges,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        // These names and labels are constants: registration cannot fail.
        #[allow(clippy::expect_used)]
        let created = IntCounterVec::new(
            Opts::new(
                "intyg_verifier_requests_total",
                "Presentation requests made",
            ),
            &["template"],
        )
        .expect("valid metric");
        #[allow(clippy::expect_used)]
        let outcomes = IntCounterVec::new(
            Opts::new(
                "intyg_verifier_responses_total",
                "Responses by outcome or failure reason",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        #[allow(clippy::expect_used)]
        let webhooks = IntCounterVec::new(
            Opts::new(
                "intyg_verifier_webhook_attempts_total",
                "Webhook delivery attempts by result",
            ),
            &["result"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(created.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(outcomes.clone()),
            Box::new(webhooks.clone()),
        ] {
            if let Err(e) = registry.register(collector) {
                tracing::error!(error = %e, "registering a metric failed");
            }
        }
        let lists = ListGauges::register(&registry);
        Self {
            registry,
            created,
            outcomes,
            webhooks,
            lists,
        }
    }
}

impl Metrics {
    /// Counts one processed response.
    pub fn outcome(&self, outcome: &str) {
        self.outcomes.with_label_values(&[outcome]).inc();
    }

    /// Counts one webhook delivery attempt.
    pub fn webhook(&self, result: &str) {
        self.webhooks.with_label_values(&[result]).inc();
    }
}

/// `GET /healthz`: the store answers; with trust lists configured, also
/// each list's state as JSON, and 503 `"starting"` until every configured
/// list has been fetched good once.
pub async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.stores.consents.get("healthz").await?;
    Ok(state
        .trust_lists
        .health()
        .unwrap_or_else(|| "ok".into_response()))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.lists.update(&state.trust_lists);
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(e) = encoder.encode(&state.metrics.registry.gather(), &mut buffer) {
        tracing::error!(error = %e, "encoding metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
        buffer,
    )
        .into_response()
}

/// Deletes the verified claims of every transaction completed more than
/// `retention_seconds` ago (their keys destroyed); consent records stay.
/// Finishes interrupted erasures first, and forgets expired erasure
/// request ids and OpenID Provider codes and tokens. Returns how many
/// transactions were purged.
pub async fn purge_expired_claims(state: &AppState) -> Result<usize, ApiError> {
    crate::erasure::resume(state).await?;
    state.stores.replay.purge_expired(now()).await?;
    state.stores.grants.purge_expired(now()).await?;
    let before = now() - state.config.retention_seconds;
    let due = state
        .stores
        .transactions
        .with_claims_completed_before(before)
        .await?;
    let mut purged = 0;
    for current in due {
        let mut next = current.clone();
        next.credentials.clear();
        next.sealed_claims = None;
        next.claims_deleted_at = Some(now());
        state.stores.keys.destroy(&current.id).await?;
        if state.stores.transactions.swap(&current, &next).await? {
            purged += 1;
        }
    }
    if purged > 0 {
        state.stores.durable().await?;
        tracing::info!(purged, "verified claims deleted after the retention period");
    }
    Ok(purged)
}

/// The advisory lock key of the retention job ("vretent").
const RETENTION_JOB: i64 = 0x0076_7265_7465_6e74;

/// Runs [`purge_expired_claims`] every `purge_interval_ms`, on one
/// instance at a time.
pub fn spawn_retention(state: AppState) -> tokio::task::JoinHandle<()> {
    let interval = Duration::from_millis(state.config.purge_interval_ms.max(10));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            // Once across the instances sharing a database.
            match state
                .stores
                .jobs
                .run(RETENTION_JOB, purge_expired_claims(&state))
                .await
            {
                Ok(None | Some(Ok(_))) => {}
                Ok(Some(Err(e))) => tracing::error!(error = %e, "retention task failed"),
                Err(e) => tracing::error!(error = %e, "retention task could not take its lock"),
            }
        }
    })
}
