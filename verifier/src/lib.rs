//! `intyg-verifier`: the employer's OpenID4VP 1.0 verifier.
//!
//! [`app`] builds the router over an [`AppState`]; `main.rs` only loads the
//! configuration, opens the store, binds the socket and calls it. Protocol
//! types and every cryptographic check come from `intyg_core` (`oid4vp`,
//! `dcql`, `vc`, `status_list`, `trust`); this crate does the HTTP, the
//! storage (behind the traits of [`store`]), the outgoing fetches
//! ([`fetch`]) and the bookkeeping.
//!
//! | route | what |
//! |---|---|
//! | `GET /request/{id}` | the signed Request Object (OpenID4VP 1.0 §5.10, RFC 9101) |
//! | `POST /request/{id}` | the same for `request_uri_method=post`: `wallet_metadata` checked, `wallet_nonce` echoed (§5.10) |
//! | `POST /response/{id}` | the Response URI: `direct_post` / `direct_post.jwt` (§8.2, §8.3.1); on acceptance its answer carries a signed receipt (Intyg extension, [`receipt`]) |
//! | `POST /erasure` | erasure on request of a transaction's personal data (Intyg extension, [`erasure`]) |
//! | `POST /api/presentations` | HR API: make a request from a template or a DCQL query |
//! | `GET /api/presentations/{id}` | HR API: status, reason, verified claims, consent record |
//! | `GET /api/presentations/{id}/events` | HR API: the status as Server-Sent Events, ending with the transaction ([`events`]) |
//! | `POST, GET /api/webhooks`, `DELETE /api/webhooks/{id}` | HR API: webhook subscriptions ([`webhooks`]) |
//! | `GET /api/webhook-deliveries`, `POST /api/webhook-deliveries/{id}/retry` | HR API: the outbox (`?state=dead`: dead letters), a dead delivery queued again |
//! | `GET /.well-known/openid-configuration`, `/authorize`, `POST /token`, `/userinfo`, `/jwks` | the OpenID Provider bridge ([`oidc`]) |
//! | `GET /openapi.json` | the HR API's OpenAPI document |
//! | `GET /healthz`, `GET /metrics` | operations |
//! | `/`, `/portal/...` | the employer portal (see [`portal`]) |
//!
//! The pipeline of a response: [`verify::check`] decrypts, checks `state`,
//! the VP Token's shape against the DCQL query, then each SD-JWT VC
//! (trusted issuer for its `vct`, signature, times, KB-JWT `aud`, `nonce`,
//! `sd_hash`), the query's claims and `values`, and the status list entry.
//! Each failure is a [`verify::Reason`] with its own code.

pub mod api;
pub mod audit;
pub mod config;
pub mod erasure;
pub mod error;
pub mod events;
pub mod fetch;
pub mod identity;
pub mod model;
pub mod oidc;
pub mod ops;
pub mod personal;
pub mod portal;
pub mod postings;
pub mod presentation;
pub mod qr;
pub mod receipt;
pub mod registration;
pub mod same_person;
pub mod store;
pub mod templates;
pub mod verify;
pub mod webhooks;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::{get, post};
use intyg_core::trust::{ListedAnchors, TrustAnchors, TrustList, TrustListDocument};
use intyg_service::trust_lists::TrustLists;

use crate::config::Config;
use crate::fetch::{FetchError, Fetcher, StatusLists};
use crate::identity::Identity;
use crate::store::Stores;

/// Everything a handler needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Storage.
    pub stores: Stores,
    /// Signing key, `x5c` chain and client identifier.
    pub identity: Arc<Identity>,
    /// Registration certificates sent in `verifier_info`.
    pub registrations: Arc<registration::Registrations>,
    /// Issuers trusted per credential type. Readers take the `Arc` (a
    /// response checks against one list, however large, without copying
    /// it); writers change a copy (`Arc::make_mut`) that later readers see.
    pub trust: Arc<RwLock<Arc<TrustList>>>,
    /// The configured Lists of Trusted Entities, whose anchors are put in
    /// [`AppState::trust`] after each refresh ([`refresh_trust_lists`]).
    pub trust_lists: Arc<TrustLists>,
    /// Status lists, cached.
    pub status: Arc<StatusLists>,
    /// Issuers' display names, cached.
    pub issuer_names: Arc<fetch::IssuerNames>,
    /// Outgoing HTTP with SSRF checks.
    pub fetcher: Fetcher,
    /// Counters for `/metrics`.
    pub metrics: Arc<ops::Metrics>,
    /// The employer portal's accounts, sessions and claim labels.
    pub portal: Arc<portal::PortalState>,
    /// The audit trail (see [`audit`]).
    pub audit: intyg_service::audit::Audit,
    /// Transactions this instance changed, for live event streams.
    pub changes: Arc<events::Changes>,
    /// The webhook delivery worker's client and wake-up.
    pub webhooks: Arc<webhooks::deliver::Webhooks>,
}

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Storage failed to open.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The X.509 identity failed to load or generate.
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    /// The trust list file failed to load.
    #[error("trust list {path}: {reason}")]
    TrustList {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A `--trust-pid-provider` file failed to load.
    #[error("PID provider {path}: {reason}")]
    PidProvider {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A `--trust-issuer` could not be fetched.
    #[error("trusted issuer: {0}")]
    TrustIssuer(#[from] FetchError),
    /// A configured trust list's signer could not be read.
    #[error(transparent)]
    TrustLists(#[from] intyg_service::trust_lists::TrustListsError),
    /// The audit trail failed to open or to take its start entries.
    #[error(transparent)]
    Audit(#[from] intyg_service::audit::AuditError),
    /// The portal's credential type metadata failed to load.
    #[error(transparent)]
    Portal(#[from] portal::PortalError),
}

impl AppState {
    /// Opens the store (PostgreSQL when `database_url` is set, migrated
    /// first; else sled in the data directory), loads (or in development generates) the X.509
    /// identity, loads the trust list and fetches the metadata of every
    /// `trust_issuers` URL, and starts the retention task. Must run inside a
    /// Tokio runtime.
    pub async fn open(config: Config) -> Result<Self, StartError> {
        let stores = match config.database() {
            Some(database) => Stores::open_pg(&database).await?,
            None => Stores::open_sled(
                &config.data_dir.join("db"),
                &config.data_dir.join("transaction-keys"),
            )?,
        };
        let identity = Identity::load(&config)?;
        let registrations = registration::Registrations::load(&config, &identity, now())?;
        let fetcher = Fetcher::new(
            config.status_fetch.timeout_ms,
            config.status_fetch.max_bytes,
            config.dev,
        )
        .map_err(FetchError::from)?;
        let mut trust = match &config.trust_list_file {
            Some(path) => load_trust_list(path)?,
            None => TrustList::new(),
        };
        for url in &config.trust_issuers {
            let issuer = fetch_with_retries(&fetcher, url).await?;
            for vct in templates::INTYG_TYPES {
                trust.trust(vct, issuer.clone());
            }
        }
        if let Some(anchors) = load_pid_providers(&config.trust_pid_providers)? {
            trust.set_listed(PID_PROVIDERS_SOURCE, anchors);
        }
        let trust_lists = Arc::new(TrustLists::load(
            &config.trust_lists,
            &config.trust_list_refresh,
            config.dev,
        )?);
        let status = StatusLists::new(fetcher.clone(), config.status_fetch.clone());
        let (config_webhooks, config_dev) = (config.webhooks.clone(), config.dev);
        let portal = Arc::new(portal::PortalState::new(&config, stores.sessions.clone())?);
        let identity = Arc::new(identity);
        let audit = audit::open(&config, &stores, &identity).await?;
        let state = Self {
            audit,
            config: Arc::new(config),
            stores,
            identity,
            registrations: Arc::new(registrations),
            trust: Arc::new(RwLock::new(Arc::new(trust))),
            trust_lists,
            status: Arc::new(status),
            issuer_names: Arc::new(fetch::IssuerNames::new(fetcher.clone())),
            fetcher,
            metrics: Arc::new(ops::Metrics::default()),
            portal,
            changes: Arc::new(events::Changes::default()),
            webhooks: Arc::new(
                webhooks::deliver::Webhooks::new(&config_webhooks, config_dev)
                    .map_err(FetchError::from)?,
            ),
        };
        ops::spawn_retention(state.clone());
        let trust = state.trust.clone();
        state
            .trust_lists
            .clone()
            .spawn(move |lists| apply_trust_lists(lists, &trust));
        webhooks::deliver::spawn(state.clone());
        Ok(state)
    }
}

fn load_trust_list(path: &std::path::Path) -> Result<TrustList, StartError> {
    let failed = |reason: String| StartError::TrustList {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let document: TrustListDocument = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|e| failed(e.to_string()))?
    } else {
        serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?
    };
    TrustList::try_from(document).map_err(|e| failed(e.to_string()))
}

/// The trust list source under which the configured PID providers
/// (`trust_pid_providers`) sit beside the anchors of fetched lists: a
/// list's refresh replaces its own source's anchors, never these.
pub const PID_PROVIDERS_SOURCE: &str = "config:trust_pid_providers";

/// The configured PID provider CAs as anchors for the PID only (none for
/// other types); `None` when none are configured.
fn load_pid_providers(files: &[std::path::PathBuf]) -> Result<Option<ListedAnchors>, StartError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut roots = Vec::new();
    for path in files {
        let failed = |reason: String| StartError::PidProvider {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        let certificates =
            intyg_core::trust::Certificate::from_pem(&pem).map_err(|e| failed(e.to_string()))?;
        if certificates.is_empty() {
            return Err(failed("no certificate".into()));
        }
        roots.extend(certificates);
    }
    let pid = TrustAnchors::new(roots).map_err(|e| StartError::PidProvider {
        path: "(all)".into(),
        reason: e.to_string(),
    })?;
    Ok(Some(ListedAnchors {
        list: "configured PID providers".into(),
        pid,
        attestations: TrustAnchors::default(),
    }))
}

/// Puts the anchors of every usable list in force, each under its URL,
/// and drops those of lists no longer usable; issuers configured by hand
/// stay.
fn apply_trust_lists(lists: &TrustLists, trust: &RwLock<Arc<TrustList>>) {
    let usable = lists.usable();
    let mut current = trust.write().unwrap_or_else(|p| p.into_inner());
    let trust = Arc::make_mut(&mut current);
    for url in lists.urls() {
        match usable.get(&url).map(ListedAnchors::from_lote) {
            Some(Ok(anchors)) => trust.set_listed(url, anchors),
            Some(Err(e)) => {
                tracing::error!(list = url, error = %e, "trust list anchors unusable");
                trust.remove_listed(&url);
            }
            None => trust.remove_listed(&url),
        }
    }
}

/// One refresh round of the trust lists at once (the background task does
/// the same on its schedule), their anchors then put in force.
pub async fn refresh_trust_lists(state: &AppState) {
    state.trust_lists.refresh_now().await;
    apply_trust_lists(&state.trust_lists, &state.trust);
}

/// Issuers started alongside the verifier may not be up yet: try for
/// about five seconds.
async fn fetch_with_retries(
    fetcher: &Fetcher,
    url: &str,
) -> Result<intyg_core::trust::TrustedIssuer, FetchError> {
    let mut attempt = 0;
    loop {
        match fetch::issuer_metadata(fetcher, url).await {
            Ok(issuer) => return Ok(issuer),
            Err(
                e @ FetchError::Fetch(
                    intyg_service::fetch::FetchError::Http { .. }
                    | intyg_service::fetch::FetchError::Status { .. },
                ),
            ) if attempt < 20 => {
                tracing::warn!(issuer = url, error = %e, "issuer metadata not yet available");
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The verifier's router.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    Router::new()
        .route(
            "/request/{id}",
            get(presentation::request_object).post(presentation::request_object_post),
        )
        .route("/response/{id}", post(presentation::response))
        .route(
            registration::STATUS_LIST_PATH,
            get(registration::status_list),
        )
        .route(receipt::ERASURE_PATH, post(erasure::request))
        .route("/api/presentations", post(api::create))
        .route("/api/presentations/{id}", get(api::show))
        .route("/api/presentations/{id}/events", get(api::events))
        .route(
            "/api/postings",
            post(api::create_posting).get(api::list_postings),
        )
        .route("/api/postings/{id}", get(api::show_posting))
        .route(
            "/api/postings/{id}/applications",
            post(api::open_application),
        )
        .route(
            "/api/webhooks",
            post(api::create_webhook).get(api::list_webhooks),
        )
        .route(
            "/api/webhooks/{id}",
            axum::routing::delete(api::delete_webhook),
        )
        .route("/api/webhook-deliveries", get(api::list_deliveries))
        .route(
            "/api/webhook-deliveries/{id}/retry",
            post(api::retry_delivery),
        )
        .route(
            "/.well-known/openid-configuration",
            get(oidc::configuration),
        )
        .route(
            "/authorize",
            get(oidc::authorize).post(oidc::authorize_form),
        )
        .route("/authorize/{tx}/events", get(oidc::events))
        .route("/authorize/{tx}/done", get(oidc::done))
        .route("/oidc/authorize.js", get(oidc::script))
        .route("/token", post(oidc::token::token))
        .route(
            "/userinfo",
            get(oidc::token::userinfo).post(oidc::token::userinfo),
        )
        .route("/jwks", get(oidc::jwks))
        .route("/openapi.json", get(api::openapi))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .merge(portal::routes())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

pub use intyg_service::time::now;

/// `len` random bytes from the system CSPRNG, base64url-encoded.
pub fn random_token(len: usize) -> Result<String, error::ApiError> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| error::ApiError::Key(intyg_core::jose::JoseError::Signing))?;
    Ok(intyg_core::jose::b64url_encode(bytes))
}
