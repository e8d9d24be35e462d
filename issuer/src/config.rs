//! Configuration: a TOML file, then environment overrides.
//!
//! ```toml
//! public_url = "https://intyg.arbetsformedlingen.se"
//! listen = "0.0.0.0:8080"
//! data_dir = "/var/lib/intyg-issuer"
//! credential_types_dir = "/etc/intyg/credentials"
//! # api_key: better from the environment, INTYG_API_KEY
//! # HAIP 1.0 (DPoP, wallet and key attestation required) or basic
//! profile = "haip"
//! wallet_provider_roots = ["/etc/intyg/wallet-providers.pem"]
//! # "haip-vci" emits offers as haip-vci:// links
//! offer_scheme = "openid-credential-offer"
//! [status_list]
//! size = 131072
//! ttl_seconds = 300
//! # per credential type (folder name): overrides of the profile
//! [credential_policies.registration-certificate]
//! key_storage = ["iso_18045_high"]
//! # the issuer's key in an HSM (PKCS#11) with its chain; or key_file
//! [[signing]]
//! chain_file = "/etc/intyg/issuer-chain.pem"
//! pkcs11 = { module = "/usr/lib/softhsm/libsofthsm2.so", token = "intyg", key = "issuer-2026", pin_file = "/run/credentials/intyg-issuer/pkcs11-pin" }
//! # a credential type signed under its own chain (a PID provider's)
//! [[type_signing.pid]]
//! key_file = "/etc/intyg/pid-provider-key.jwk"
//! chain_file = "/etc/intyg/pid-provider-chain.pem"
//! ```
//!
//! Environment overrides: `INTYG_ISSUER_PUBLIC_URL`, `INTYG_ISSUER_LISTEN`,
//! `INTYG_ISSUER_DATA_DIR`, `INTYG_ISSUER_CREDENTIAL_TYPES_DIR`,
//! `INTYG_ISSUER_STATUS_TTL` (seconds), `INTYG_ISSUER_PROFILE`,
//! `INTYG_API_KEY`, `INTYG_DATABASE_URL`, `INTYG_DATABASE_POOL_SIZE`,
//! `INTYG_DATABASE_STATEMENT_TIMEOUT_MS` (PostgreSQL instead of sled:
//! `database_url`, `database_pool_size`, `database_statement_timeout_ms`),
//! `INTYG_PKCS11_PIN` (the token's user PIN when `pin_file` is not given).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// The issuer's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Credential Issuer Identifier: the public https URL of this service.
    pub public_url: String,
    /// Socket address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// PostgreSQL for the state (several instances on one database); unset:
    /// sled in `data_dir`. With it, `data_dir` keeps only keys and
    /// certificates. Env `INTYG_DATABASE_URL`, flag `--database-url`.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Connections in the PostgreSQL pool. Env `INTYG_DATABASE_POOL_SIZE`.
    #[serde(default = "default_pool_size")]
    pub database_pool_size: usize,
    /// PostgreSQL `statement_timeout`, milliseconds (0: none). Env
    /// `INTYG_DATABASE_STATEMENT_TIMEOUT_MS`.
    #[serde(default = "default_statement_timeout_ms")]
    pub database_statement_timeout_ms: u64,
    /// Where the database and the signing key live.
    pub data_dir: PathBuf,
    /// The agency's name, shown by wallets (issuer metadata `display`);
    /// unset: "Intyg utfärdare" / "Intyg issuer". Env `INTYG_ISSUER_NAME`.
    #[serde(default)]
    pub name: Option<String>,
    /// Folder of credential types (`<type>/type-metadata.json`, `schema.json`).
    #[serde(default = "default_types_dir")]
    pub credential_types_dir: PathBuf,
    /// Bearer key of the admin API; unset disables the API.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Development mode: http on loopback allowed, development IdP on.
    #[serde(default)]
    pub dev: bool,
    /// Status list settings.
    #[serde(default)]
    pub status_list: StatusListConfig,
    /// Lifetimes of offers, tokens and nonces.
    #[serde(default)]
    pub lifetimes: Lifetimes,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// The officer portal: accounts and sessions.
    #[serde(default)]
    pub portal: PortalConfig,
    /// The external OpenID Provider for the authorization code flow
    /// (`[oidc]`, see `auth_code::OidcConfig`); unset disables the flow.
    /// Env overrides: `INTYG_OIDC_ISSUER_URL`, `INTYG_OIDC_CLIENT_ID`,
    /// `INTYG_OIDC_CLIENT_SECRET`.
    #[serde(default)]
    pub oidc: Option<crate::auth_code::OidcConfig>,
    /// What wallets must prove (`policy`): `basic` (default) or `haip`.
    /// Env `INTYG_ISSUER_PROFILE`.
    #[serde(default)]
    pub profile: crate::policy::Profile,
    /// PEM files of the wallet provider roots that wallet and key
    /// attestations must chain to.
    #[serde(default)]
    pub wallet_provider_roots: Vec<PathBuf>,
    /// Lists of Trusted Entities (ETSI TS 119 602) whose
    /// `WalletSolution/Issuance` services are trusted wallet providers too.
    #[serde(default)]
    pub trust_lists: Vec<intyg_service::trust_lists::TrustListSource>,
    /// How the lists are refreshed, and their grace period.
    #[serde(default)]
    pub trust_list_refresh: intyg_service::trust_lists::RefreshSettings,
    /// Signing credentials (`[[signing]]`: `key_file`, `chain_file`,
    /// optional `signing_from` and `retired_at`); several during a
    /// rollover: the one that started last among those that may sign
    /// signs, and all are published (see `signing`). Read again by
    /// `POST /api/keys/reload` and SIGHUP. Unset: in development a generated CA and leaf, else the
    /// bare key in `data_dir`.
    #[serde(default)]
    pub signing: Vec<crate::signing::SigningConfig>,
    /// The issuer's signing key in a PKCS#11 token (`--pkcs11-module`,
    /// `--pkcs11-token`, `--pkcs11-key`, `--pkcs11-pin-file`): the key of
    /// the `[[signing]]` entries that name none, and without `[[signing]]`
    /// the key instead of `DIR/issuer-key.jwk` (in development certified
    /// by the development CA).
    #[serde(default)]
    pub pkcs11: Option<intyg_service::pkcs11::Pkcs11Config>,
    /// Signing credentials of one credential type (folder name), signing
    /// it instead of `[[signing]]` (`[[type_signing.pid]]`: a PID
    /// provider's chain). The test PID (`pid`) is issued only under its
    /// own; published in `/.well-known/jwt-vc-issuer` with the others.
    #[serde(default)]
    pub type_signing: std::collections::BTreeMap<String, Vec<crate::signing::SigningConfig>>,
    /// The file this configuration was read from (`--config`), read again
    /// when the keys are reloaded; unset in development.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// In development without `[[type_signing.pid]]`: make a local PID
    /// provider CA (`DIR/pid-provider-ca.pem`) and leaf that sign the test
    /// PID (default true).
    #[serde(default = "default_true")]
    pub dev_pid_provider: bool,
    /// Per credential type (folder name): overrides of the profile.
    #[serde(default)]
    pub credential_policies: std::collections::BTreeMap<String, crate::policy::CredentialPolicy>,
    /// Whether DPoP proofs must carry a server nonce (RFC 9449 §8); unset:
    /// no. `--dpop-nonce` sets it.
    #[serde(default)]
    pub dpop_nonce: Option<bool>,
    /// The scheme of offer links: `openid-credential-offer` (default) or
    /// HAIP 1.0's `haip-vci`.
    #[serde(default)]
    pub offer_scheme: crate::policy::OfferScheme,
}

/// The officer portal's settings.
///
/// ```toml
/// [portal]
/// session_lifetime_seconds = 28800
/// feedback_email = "tillganglighet@example.se" # in the accessibility statement
/// [[portal.officers]]
/// username = "anna.handlaggare"
/// name = "Anna Handläggare"
/// # argon2id PHC string, e.g. from Debian's `argon2` tool:
/// # printf %s "$PASSWORD" | argon2 "$(head -c 16 /dev/urandom | base64)" -id -t 2 -k 19456 -p 1 -e
/// password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// Who may sign in.
    #[serde(default)]
    pub officers: Vec<Officer>,
    /// How long a sign-in lasts, in seconds.
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime_seconds: i64,
    /// Where the accessibility statement (`/portal/accessibility`) asks for
    /// feedback, as a `mailto:` link.
    #[serde(default = "default_feedback_email")]
    pub feedback_email: String,
    /// Reverse proxies whose `X-Forwarded-For` gives the client's address
    /// for sign-in throttling. Empty (the default): the header is ignored
    /// and the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            officers: Vec::new(),
            session_lifetime_seconds: default_session_lifetime(),
            feedback_email: default_feedback_email(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// An officer account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Officer {
    /// What the officer types to sign in.
    pub username: String,
    /// argon2id hash of the password, as a PHC string.
    pub password_hash: String,
    /// Full name, shown in the portal.
    pub name: String,
}

fn default_feedback_email() -> String {
    intyg_service::portal::statement::DEFAULT_FEEDBACK_EMAIL.to_owned()
}

fn default_session_lifetime() -> i64 {
    8 * 3600
}

/// Status list settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusListConfig {
    /// Entries per list (herd privacy: large lists hide who was revoked).
    pub size: u64,
    /// `ttl` claim: how long a verifier may cache the list, in seconds.
    pub ttl_seconds: i64,
}

impl Default for StatusListConfig {
    fn default() -> Self {
        Self {
            size: 131_072,
            ttl_seconds: 300,
        }
    }
}

/// Lifetimes, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifetimes {
    /// Pre-authorized code of an offer.
    pub offer: i64,
    /// Access token.
    pub access_token: i64,
    /// `c_nonce`.
    pub nonce: i64,
    /// Issued credential (`exp - iat`).
    pub credential: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            offer: 7 * 24 * 3600,
            access_token: 300,
            nonce: 300,
            credential: 365 * 24 * 3600,
        }
    }
}

fn default_pool_size() -> usize {
    intyg_service::pg::DEFAULT_POOL_SIZE
}

fn default_statement_timeout_ms() -> u64 {
    intyg_service::pg::DEFAULT_STATEMENT_TIMEOUT_MS
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_types_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/credentials"))
}

fn default_body_limit() -> usize {
    64 * 1024
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: toml::de::Error,
    },
    /// An environment override does not parse.
    #[error("environment variable {0} is invalid")]
    Env(&'static str),
    /// `public_url` is not https outside development mode.
    #[error("public_url must be https outside development mode")]
    InsecureUrl,
}

impl Config {
    /// Reads a TOML file and applies the environment overrides.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut config: Self = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })?;
        config.config_file = Some(path.into());
        config.with_env()
    }

    /// A development configuration: data in `data_dir`, listening on `listen`,
    /// `public_url` = `http://<listen>`, and the development officer
    /// `handlaggare` of the portal (password from `INTYG_OFFICER_PASSWORD`,
    /// else `intyg-dev`).
    pub fn dev(data_dir: PathBuf, listen: SocketAddr) -> Result<Self, ConfigError> {
        Self {
            public_url: format!("http://{listen}"),
            listen,
            database_url: None,
            database_pool_size: default_pool_size(),
            database_statement_timeout_ms: default_statement_timeout_ms(),
            data_dir,
            name: None,
            credential_types_dir: default_types_dir(),
            api_key: None,
            dev: true,
            status_list: StatusListConfig::default(),
            lifetimes: Lifetimes::default(),
            body_limit: default_body_limit(),
            portal: PortalConfig {
                officers: vec![crate::portal::dev_officer()?],
                ..PortalConfig::default()
            },
            oidc: None,
            profile: crate::policy::Profile::default(),
            wallet_provider_roots: Vec::new(),
            trust_lists: Vec::new(),
            trust_list_refresh: Default::default(),
            signing: Vec::new(),
            pkcs11: None,
            type_signing: std::collections::BTreeMap::new(),
            config_file: None,
            dev_pid_provider: true,
            credential_policies: std::collections::BTreeMap::new(),
            dpop_nonce: None,
            offer_scheme: crate::policy::OfferScheme::default(),
        }
        .with_env()
    }

    fn with_env(mut self) -> Result<Self, ConfigError> {
        intyg_service::pg::env_overrides(
            &mut self.database_url,
            &mut self.database_pool_size,
            &mut self.database_statement_timeout_ms,
        )
        .map_err(ConfigError::Env)?;
        if let Ok(url) = std::env::var("INTYG_ISSUER_PUBLIC_URL") {
            self.public_url = url;
        }
        if let Ok(name) = std::env::var("INTYG_ISSUER_NAME")
            && !name.trim().is_empty()
        {
            self.name = Some(name);
        }
        if let Ok(listen) = std::env::var("INTYG_ISSUER_LISTEN") {
            self.listen = listen
                .parse()
                .map_err(|_| ConfigError::Env("INTYG_ISSUER_LISTEN"))?;
        }
        if let Ok(dir) = std::env::var("INTYG_ISSUER_DATA_DIR") {
            self.data_dir = dir.into();
        }
        if let Ok(dir) = std::env::var("INTYG_ISSUER_CREDENTIAL_TYPES_DIR") {
            self.credential_types_dir = dir.into();
        }
        if let Ok(ttl) = std::env::var("INTYG_ISSUER_STATUS_TTL") {
            self.status_list.ttl_seconds = ttl
                .parse()
                .ok()
                .filter(|t: &i64| *t > 0)
                .ok_or(ConfigError::Env("INTYG_ISSUER_STATUS_TTL"))?;
        }
        if let Ok(profile) = std::env::var("INTYG_ISSUER_PROFILE") {
            self.profile = profile
                .parse()
                .map_err(|_| ConfigError::Env("INTYG_ISSUER_PROFILE"))?;
        }
        if let Ok(key) = std::env::var("INTYG_API_KEY") {
            self.api_key = Some(key).filter(|k| !k.is_empty());
        }
        self.oidc = crate::auth_code::OidcConfig::with_env(self.oidc.take())?;
        self.public_url = self.public_url.trim_end_matches('/').to_owned();
        if !self.dev && !self.public_url.starts_with("https://") {
            return Err(ConfigError::InsecureUrl);
        }
        Ok(self)
    }
}

impl Config {
    /// The PostgreSQL settings, when `database_url` is set.
    pub fn database(&self) -> Option<intyg_service::pg::PgConfig> {
        self.database_url
            .as_ref()
            .map(|url| intyg_service::pg::PgConfig {
                url: url.clone(),
                pool_size: self.database_pool_size,
                statement_timeout_ms: self.database_statement_timeout_ms,
            })
    }
}

fn default_true() -> bool {
    true
}
