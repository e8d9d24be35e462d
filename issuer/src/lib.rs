//! `intyg-issuer`: the agency's OpenID4VCI 1.0 credential issuer.
//!
//! [`app`] builds the router over an [`AppState`]; `main.rs` only loads the
//! configuration, opens the store, binds the socket and calls it. Protocol
//! messages come from `intyg_core::oid4vci`; this crate does the HTTP, the
//! storage (behind the traits of [`store`]) and the bookkeeping.
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-credential-issuer` | Credential Issuer Metadata (§12.2) |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata |
//! | `GET /.well-known/jwt-vc-issuer` | the keys that verify our credentials (SD-JWT VC §5) |
//! | `GET /offers/{id}` | a Credential Offer by reference (§4.1.3) |
//! | `POST /token`, `POST /nonce`, `POST /credential` | §6, §7, §8 |
//! | `POST /par`, `GET /authorize`, `GET /authorize/callback` | authorization code flow with PKCE; login at the configured OpenID Provider (`auth_code`) |
//! | `/portal/...` | the officer portal (`portal`) |
//! | `GET /status/{n}` | Status List Token n (`application/statuslist+jwt`) |
//! | `POST /api/offers` | admin API: make an offer (Bearer API key) |
//! | `GET /api/credentials?subject=` | admin API: what a person was issued |
//! | `POST /api/credentials/{id}/revoke` (`suspend`, `unsuspend`) | admin API |
//! | `POST /api/persons`, `GET /api/persons/{personal_identity_number}` | admin API: register a job seeker, look one up |
//! | `GET /api/keys`, `POST /api/keys/reload` | admin API: the signing keys and their state; read them again (key rollover, `rollover`) |
//! | `GET /openapi.json` | the admin API's OpenAPI document |
//! | `GET /healthz`, `GET /metrics` | operations |

pub mod admin;
pub mod attestation_status;
pub mod audit;
pub mod auth_code;
pub mod claims;
pub mod config;
pub mod dev_idp;
pub mod dpop;
pub mod error;
pub mod issuance;
pub mod key_attestation;
pub mod keys;
pub mod model;
pub mod ops;
pub mod policy;
pub mod portal;
pub mod predicates;
pub mod rollover;
pub mod signing;
pub mod status;
pub mod store;
pub mod wallet_attestation;
pub mod wallet_providers;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use intyg_core::vc::metadata::CredentialType;

use crate::config::Config;
use crate::signing::{KeySet, LiveKeys};
use crate::status::StatusLists;
use crate::store::Stores;

/// Everything a handler needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Storage.
    pub stores: Stores,
    /// The signing credentials (key + `x5c` chain) in force; reloadable.
    pub keys: Arc<LiveKeys>,
    /// Credential types by credential configuration id (folder name).
    pub types: Arc<BTreeMap<String, CredentialType>>,
    /// Status lists.
    pub status: Arc<StatusLists>,
    /// Counters for `/metrics`.
    pub metrics: Arc<ops::Metrics>,
    /// The officer portal's accounts and sessions.
    pub portal: Arc<portal::PortalState>,
    /// DPoP nonces and settings.
    pub dpop: Arc<dpop::Dpop>,
    /// `c_nonce`s (OpenID4VCI §7), sealed under `c-nonce.key` in the data
    /// directory so every instance on it accepts the others'.
    pub c_nonces: Arc<intyg_core::oid4vci::nonce::SealedNonces>,
    /// Roots that wallet and key attestations must chain to (configured,
    /// and from the trust lists).
    pub wallet_providers: Arc<wallet_providers::WalletProviders>,
    /// The configured Lists of Trusted Entities (wallet providers).
    pub trust_lists: Arc<intyg_service::trust_lists::TrustLists>,
    /// Status lists of wallet providers.
    pub attestation_status: Arc<attestation_status::StatusChecker>,
    /// The audit trail (see [`audit`]).
    pub audit: audit::Trail,
}

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Storage failed to open.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A key file failed to load.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The signing credentials failed to load or be made.
    #[error(transparent)]
    Signing(#[from] signing::SigningError),
    /// A wallet provider root file failed to load.
    #[error(transparent)]
    TrustLists(#[from] intyg_service::trust_lists::TrustListsError),
    /// Wallet provider roots could not be read.
    #[error("wallet provider roots {path}: {reason}")]
    WalletProviderRoots {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The attestation status fetcher could not be built.
    #[error(transparent)]
    StatusFetch(#[from] attestation_status::StatusError),
    /// The audit trail failed to open or to take its start entries.
    #[error(transparent)]
    Audit(#[from] intyg_service::audit::AuditError),
    /// A credential type failed to load.
    #[error("credential type {name}: {reason}")]
    CredentialType {
        /// Folder name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

impl AppState {
    /// Opens the store (PostgreSQL when `database_url` is set, migrated
    /// first; else sled in the data directory), loads or creates the
    /// signing key and loads the credential types. Must run inside a Tokio
    /// runtime (the sled flusher is a task).
    pub async fn open(config: Config) -> Result<Self, StartError> {
        let stores = match config.database() {
            Some(database) => Stores::open_pg(&database).await?,
            None => Stores::open_sled(&config.data_dir.join("db"))?,
        };
        let keys = KeySet::load(&config)?;
        let types = load_types(&config.credential_types_dir)?;
        let status = StatusLists::new(
            &config.public_url,
            config.status_list.size,
            config.status_list.ttl_seconds,
        );
        let portal = Arc::new(portal::PortalState::new(&config, stores.sessions.clone()));
        let dpop = dpop::Dpop::open(&config)?;
        let c_nonces =
            keys::load_or_create_secret(&config.data_dir, "c-nonce.key").and_then(|secret| {
                intyg_core::oid4vci::nonce::SealedNonces::new(&secret).map_err(|e| {
                    keys::KeyError::Invalid {
                        path: "c-nonce.key".into(),
                        reason: e.to_string(),
                    }
                })
            })?;
        let wallet_providers = Arc::new(wallet_providers::WalletProviders::new(
            load_wallet_providers(&config.wallet_provider_roots)?,
        ));
        let trust_lists = Arc::new(intyg_service::trust_lists::TrustLists::load(
            &config.trust_lists,
            &config.trust_list_refresh,
            config.dev,
        )?);
        let providers = wallet_providers.clone();
        trust_lists
            .clone()
            .spawn(move |lists| providers.apply(lists));
        let attestation_status = attestation_status::StatusChecker::new(config.dev)?;
        // Audit checkpoints are signed by the data directory's key (the
        // development signing key; in production a key of its own), which
        // `audit verify` reads: credential signing keys may roll over.
        let checkpoint_key = Arc::new(keys::IssuerKey::load_or_create(&config.data_dir)?);
        let audit = audit::open(&config, &stores, &checkpoint_key).await?;
        let state = Self {
            audit,
            dpop: Arc::new(dpop),
            c_nonces: Arc::new(c_nonces),
            wallet_providers,
            trust_lists,
            attestation_status: Arc::new(attestation_status),
            portal,
            config: Arc::new(config),
            stores,
            keys: Arc::new(LiveKeys::new(keys)),
            types: Arc::new(types),
            status: Arc::new(status),
            metrics: Arc::new(ops::Metrics::default()),
        };
        Ok(state)
    }
}

fn load_wallet_providers(
    files: &[std::path::PathBuf],
) -> Result<intyg_core::trust::TrustAnchors, StartError> {
    let mut roots = Vec::new();
    for path in files {
        let failed = |reason: String| StartError::WalletProviderRoots {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        roots.extend(
            intyg_core::trust::Certificate::from_pem(&pem).map_err(|e| failed(e.to_string()))?,
        );
    }
    intyg_core::trust::TrustAnchors::new(roots).map_err(|e| StartError::WalletProviderRoots {
        path: "(all)".into(),
        reason: e.to_string(),
    })
}

impl AppState {
    /// What a wallet must prove for the credential type `configuration`.
    pub fn requirements(&self, configuration: &str) -> policy::Requirements {
        policy::Requirements::resolve(
            self.config.profile,
            self.config.credential_policies.get(configuration),
        )
    }
}

fn load_types(dir: &std::path::Path) -> Result<BTreeMap<String, CredentialType>, StartError> {
    let failed = |name: &str, reason: String| StartError::CredentialType {
        name: name.to_owned(),
        reason,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| failed(&dir.display().to_string(), e.to_string()))?;
    let mut types = BTreeMap::new();
    for entry in entries {
        let path = entry
            .map_err(|e| failed(&dir.display().to_string(), e.to_string()))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !path.join("type-metadata.json").is_file() {
            continue;
        }
        let read = |file: &str| {
            std::fs::read_to_string(path.join(file)).map_err(|e| failed(&name, e.to_string()))
        };
        let mut credential_type =
            CredentialType::from_documents(&read("type-metadata.json")?, &read("schema.json")?)
                .map_err(|e| failed(&name, e.to_string()))?;
        if path.join("rules.json").is_file() {
            credential_type = credential_type
                .with_rules(&read("rules.json")?)
                .map_err(|e| failed(&name, e.to_string()))?;
        }
        types.insert(name, credential_type);
    }
    Ok(types)
}

/// The issuer's router.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(issuance::issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(issuance::authorization_server_metadata),
        )
        .route(
            "/.well-known/jwt-vc-issuer",
            get(issuance::jwt_vc_issuer_metadata),
        )
        .route("/offers/{id}", get(issuance::offer))
        .route("/token", post(issuance::token))
        .route("/nonce", post(issuance::nonce))
        .route("/credential", post(issuance::credential))
        .route("/status/{number}", get(ops::status_list))
        .route("/api/offers", post(admin::create_offer))
        .route("/api/credentials", get(admin::list_credentials))
        .route("/api/credentials/{id}/{action}", post(admin::change_status))
        .route("/api/persons", post(admin::register_person))
        .route(
            "/api/persons/{personal_identity_number}",
            get(admin::person),
        )
        .route("/api/keys", get(rollover::list))
        .route("/api/keys/reload", post(rollover::reload))
        .route("/openapi.json", get(admin::openapi))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .merge(portal::routes())
        .merge(auth_code::routes())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

pub use intyg_service::time::now;

/// `len` random bytes from the system CSPRNG, base64url-encoded.
pub fn random_token(len: usize) -> Result<String, error::ApiError> {
    intyg_service::session::random_token(len).map_err(|e| error::ApiError::Issuance(e.to_string()))
}

/// SHA-256 of `text`, hex.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
