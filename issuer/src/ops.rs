//! Operations: `/healthz`, Prometheus `/metrics`, and the published status
//! lists (`/status/{n}`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

use std::time::Duration;

use crate::AppState;
use crate::error::ApiError;
use crate::status::PublishError;

/// Issuance counters and latencies.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Credentials issued, by credential configuration.
    pub issued: IntCounterVec,
    /// Status changes, by action.
    pub status_changes: IntCounterVec,
    /// Request latency of the OpenID4VCI endpoints, by endpoint.
    pub latency: HistogramVec,
    /// The trust lists' age and state.
    pub lists: intyg_service::trust_lists::ListGauges,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        // These names and labels are constants: registration cannot fail.
        #[allow(clippy::expect_used)]
        let issued = IntCounterVec::new(
            Opts::new(
                "intyg_issuer_credentials_issued_total",
                "Credentials issued",
            ),
            &["configuration"],
        )
        .expect("valid metric");
        #[allow(clippy::expect_used)]
        let status_changes = IntCounterVec::new(
            Opts::new(
                "intyg_issuer_status_changes_total",
                "Revocations, suspensions and unsuspensions",
            ),
            &["action"],
        )
        .expect("valid metric");
        #[allow(clippy::expect_used)]
        let latency = HistogramVec::new(
            HistogramOpts::new("intyg_issuer_request_seconds", "OpenID4VCI request latency"),
            &["endpoint"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(issued.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(status_changes.clone()),
            Box::new(latency.clone()),
        ] {
            if let Err(e) = registry.register(collector) {
                tracing::error!(error = %e, "registering a metric failed");
            }
        }
        let lists = intyg_service::trust_lists::ListGauges::register(&registry);
        Self {
            registry,
            issued,
            status_changes,
            latency,
            lists,
        }
    }
}

/// `GET /healthz`: the store answers.
///
/// With trust lists configured, also each list's state as JSON, and 503
/// `"starting"` until every configured list has been fetched good once.
pub async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.stores.status.allocated().await?;
    Ok(state
        .trust_lists
        .health()
        .unwrap_or_else(|| "ok".into_response()))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.lists.update(&state.trust_lists);
    let mut out = Vec::new();
    match TextEncoder::new().encode(&state.metrics.registry.gather(), &mut out) {
        Ok(()) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "encoding metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /status/{n}`: the Status List Token (draft-ietf-oauth-status-list
/// §8.1), revalidated by ETag on every use so a revocation shows at once.
pub async fn status_list(
    State(state): State<AppState>,
    Path(number): Path<u64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let published = match state
        .status
        .published(
            number,
            state.stores.status.as_ref(),
            &state.keys.get(),
            crate::now(),
        )
        .await
    {
        Err(PublishError::Unknown(_)) => {
            return Err(ApiError::client(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no status list {number}"),
            ));
        }
        other => other?,
    };
    let cache = [(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    )];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(published.etag.as_str())
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            cache,
            [(header::ETAG, published.etag.clone())],
        )
            .into_response());
    }
    Ok((
        cache,
        [
            (
                header::CONTENT_TYPE,
                "application/statuslist+jwt".to_owned(),
            ),
            (header::ETAG, published.etag.clone()),
        ],
        published.jwt.clone(),
    )
        .into_response())
}

/// The advisory lock key of the sweep job ("isweep").
pub const SWEEP_JOB: i64 = 0x0000_6973_7765_6570;

/// What one sweep forgot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Expired replay entries (`jti`s).
    pub replay: usize,
    /// Expired, never consumed `c_nonce`s.
    pub nonces: usize,
}

/// Forgets expired replay entries (`jti`s), unused `c_nonce`s and portal
/// sessions as of `now`, unless another instance on the same database
/// sweeps now (`None`).
pub async fn sweep(stores: &crate::store::Stores, now: i64) -> Result<Option<Swept>, ApiError> {
    let job = async {
        let replay = stores.replay.purge_expired(now).await?;
        let nonces = stores.nonces.purge_expired(now).await?;
        stores.sessions.sweep(now).await?;
        Ok::<Swept, ApiError>(Swept { replay, nonces })
    };
    match stores.jobs.run(SWEEP_JOB, job).await {
        Ok(outcome) => outcome.transpose(),
        Err(e) => Err(crate::store::StoreError::from(e).into()),
    }
}

/// Every `interval`, [`sweep`]s, on one instance at a time when several
/// share a database.
pub fn spawn_sweeps(
    stores: crate::store::Stores,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            match sweep(&stores, crate::now()).await {
                Ok(None) => {}
                Ok(Some(swept)) => tracing::debug!(?swept, "expired entries forgotten"),
                Err(e) => tracing::error!(error = %e, "sweep failed"),
            }
        }
    })
}
