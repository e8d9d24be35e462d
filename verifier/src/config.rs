//! Configuration: a TOML file, then environment overrides.
//!
//! ```toml
//! public_url = "https://verifier.employer.example"
//! listen = "0.0.0.0:8080"
//! data_dir = "/var/lib/intyg-verifier"
//! name = "Exempel AB"
//! client_id_prefix = "x509_hash"        # or "x509_san_dns"
//! san_dns = "verifier.employer.example" # the DNS name for x509_san_dns
//! response_mode = "direct_post.jwt"     # or "direct_post"
//! request_uri_method = "get"            # or "post" (OpenID4VP 1.0 §5.10)
//! invocation_scheme = "openid4vp"       # or "haip-vp" (HAIP 1.0)
//! retention_seconds = 2592000
//! trust_list_file = "/etc/intyg/trust-list.json"
//! trust_issuers = ["https://intyg.arbetsformedlingen.se"]
//! trust_pid_providers = ["/etc/intyg/pid-provider-ca.pem"] # for urn:eudi:pid:1 only
//!
//! [[trust_lists]]
//! url = "https://trust.example.eu/pub-eaa-providers.jwt"
//! signer = "/etc/intyg/lote-operator.pem"
//!
//! [trust_list_refresh]
//! grace_seconds = 604800   # after NextUpdate; interval_seconds = 600 to override NextUpdate
//!
//! [x509]
//! key_file = "/etc/intyg/verifier-key.jwk"   # private P-256 JWK
//! chain_file = "/etc/intyg/verifier-chain.pem" # leaf first
//! # or the key in an HSM instead of key_file (PIN from INTYG_PKCS11_PIN
//! # when pin_file is not given):
//! # pkcs11 = { module = "/usr/lib/softhsm/libsofthsm2.so", token = "intyg", key = "verifier", pin_file = "/run/credentials/intyg-verifier/pkcs11-pin" }
//! ```
//!
//! Environment overrides: `INTYG_VERIFIER_PUBLIC_URL`,
//! `INTYG_VERIFIER_LISTEN`, `INTYG_VERIFIER_DATA_DIR`, `INTYG_API_KEY`,
//! `INTYG_DATABASE_URL`, `INTYG_DATABASE_POOL_SIZE`,
//! `INTYG_DATABASE_STATEMENT_TIMEOUT_MS` (PostgreSQL instead of sled:
//! `database_url`, `database_pool_size`, `database_statement_timeout_ms`).

use std::net::SocketAddr;
use std::path::PathBuf;

use intyg_core::oid4vp::RequestUriMethod;
use serde::Deserialize;

/// Which Client Identifier Prefix the verifier uses (OpenID4VP 1.0 §5.9.3)
/// by default; the HR API can choose per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientIdPrefixChoice {
    /// `x509_hash:` (the HAIP 1.0 default).
    #[default]
    X509Hash,
    /// `x509_san_dns:` (the only one Digg's national wallet accepts).
    X509SanDns,
}

impl ClientIdPrefixChoice {
    /// Reads the HR API's `client_id_prefix` value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "x509_hash" => Some(Self::X509Hash),
            "x509_san_dns" => Some(Self::X509SanDns),
            _ => None,
        }
    }
}

/// The default response mode of new requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ResponseModeChoice {
    /// `direct_post.jwt`: the response is encrypted to a per-transaction key.
    #[default]
    #[serde(rename = "direct_post.jwt")]
    DirectPostJwt,
    /// `direct_post`: plain form post.
    #[serde(rename = "direct_post")]
    DirectPost,
}

/// The scheme of the invocation links (and QR codes) the verifier makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum InvocationScheme {
    /// `openid4vp://` (OpenID4VP 1.0 §13.1.2).
    #[default]
    #[serde(rename = "openid4vp")]
    Openid4vp,
    /// `haip-vp://` (HAIP 1.0), which Digg's national wallet registers.
    #[serde(rename = "haip-vp")]
    HaipVp,
}

impl InvocationScheme {
    /// The scheme with `://`, the base of the link.
    pub fn base(self) -> &'static str {
        match self {
            Self::Openid4vp => intyg_core::oid4vp::OPENID4VP_SCHEME,
            Self::HaipVp => intyg_core::oid4vp::HAIP_VP_SCHEME,
        }
    }
}

impl std::str::FromStr for InvocationScheme {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "openid4vp" => Ok(Self::Openid4vp),
            "haip-vp" => Ok(Self::HaipVp),
            other => Err(format!("`{other}` is not openid4vp or haip-vp")),
        }
    }
}

impl ResponseModeChoice {
    /// The OpenID4VP response mode.
    pub fn mode(self) -> intyg_core::oid4vp::ResponseMode {
        match self {
            Self::DirectPostJwt => intyg_core::oid4vp::ResponseMode::DirectPostJwt,
            Self::DirectPost => intyg_core::oid4vp::ResponseMode::DirectPost,
        }
    }
}

/// The verifier's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The public https URL of this service (request and response URIs).
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
    /// Where the database (and, in development, the generated CA) live.
    pub data_dir: PathBuf,
    /// The employer's name, shown to the wallet in `client_metadata`.
    /// Env `INTYG_VERIFIER_NAME`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Bearer key of the HR API; unset disables the API.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Development mode: generated CA, http and loopback URLs allowed.
    #[serde(default)]
    pub dev: bool,
    /// Client Identifier Prefix.
    #[serde(default)]
    pub client_id_prefix: ClientIdPrefixChoice,
    /// The DNS name of an `x509_san_dns:` client identifier; it must be a
    /// `dNSName` SAN of the leaf certificate.
    #[serde(default = "default_san_dns")]
    pub san_dns: String,
    /// Default response mode.
    #[serde(default)]
    pub response_mode: ResponseModeChoice,
    /// Default `request_uri_method` of new requests (`get`: none is sent).
    #[serde(default = "default_request_uri_method")]
    pub request_uri_method: RequestUriMethod,
    /// The scheme of invocation links.
    #[serde(default)]
    pub invocation_scheme: InvocationScheme,
    /// The signing key and certificate chain (production). In development
    /// they are generated in `data_dir`.
    #[serde(default)]
    pub x509: Option<X509Files>,
    /// The request-signing key in a PKCS#11 token (`--pkcs11-module`,
    /// `--pkcs11-token`, `--pkcs11-key`, `--pkcs11-pin-file`): the key of
    /// an `[x509]` that names none, and in development the key the
    /// development CA certifies instead of `verifier-key.jwk`.
    #[serde(default)]
    pub pkcs11: Option<intyg_service::pkcs11::Pkcs11Config>,
    /// The relying party's semantic identifier (ETSI EN 319 412-1, e.g.
    /// `NTRSE-5561234567`): the `organizationIdentifier` of the generated
    /// development access certificate, and the `sub` of the development
    /// registration certificate.
    #[serde(default = "default_organization_identifier")]
    pub organization_identifier: String,
    /// Registration certificates (ETSI TS 119 475 `rc-wrp+jwt`, one compact
    /// JWT per file) sent in every request's `verifier_info`.
    #[serde(default)]
    pub registration_files: Vec<PathBuf>,
    /// In development without `registration_files`: generate a local WRPRC
    /// provider and sign a registration certificate (default true).
    #[serde(default = "default_true")]
    pub dev_registration: bool,
    /// In development: publish the development registration as revoked in
    /// its status list (for tests of the wallet's check).
    #[serde(default)]
    pub dev_registration_revoked: bool,
    /// The privacy policy's URL, named in the development registration.
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
    /// A trust list file (JSON `TrustListDocument`).
    #[serde(default)]
    pub trust_list_file: Option<PathBuf>,
    /// Issuers whose `/.well-known/jwt-vc-issuer` keys are trusted for the
    /// three Intyg credential types.
    #[serde(default)]
    pub trust_issuers: Vec<String>,
    /// PID provider CA certificates (PEM files, `--trust-pid-provider`):
    /// chains to them are trusted for the PID (`urn:eudi:pid:1`) only,
    /// and no other root is trusted for the PID.
    #[serde(default)]
    pub trust_pid_providers: Vec<PathBuf>,
    /// Lists of Trusted Entities (ETSI TS 119 602), each with its pinned
    /// signer: issuers of every `vct` from their Pub-EAA/EAA services, PID
    /// providers from their PID services.
    #[serde(default)]
    pub trust_lists: Vec<intyg_service::trust_lists::TrustListSource>,
    /// How the lists are refreshed, and their grace period.
    #[serde(default)]
    pub trust_list_refresh: intyg_service::trust_lists::RefreshSettings,
    /// How long verified claims are kept, in seconds.
    #[serde(default = "default_retention")]
    pub retention_seconds: i64,
    /// How often the retention task runs, in milliseconds.
    #[serde(default = "default_purge_interval")]
    pub purge_interval_ms: u64,
    /// How long a transaction waits for its response, in seconds.
    #[serde(default = "default_transaction_lifetime")]
    pub transaction_seconds: i64,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// How often an event stream re-reads its transaction from the store,
    /// in milliseconds (a change written by another instance is seen
    /// within this; one made here is seen at once).
    #[serde(default = "default_events_poll_ms")]
    pub events_poll_ms: u64,
    /// Limits on fetching status lists.
    #[serde(default)]
    pub status_fetch: FetchLimits,
    /// The employer portal: accounts, sessions, type metadata.
    #[serde(default)]
    pub portal: PortalConfig,
    /// Settings per request template, by template name.
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, TemplateSettings>,
    /// Webhook delivery: retry schedule, time limit, address rules.
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// Relying parties of the OpenID Provider bridge (`/authorize`).
    #[serde(default)]
    pub oidc_clients: Vec<OidcClient>,
}

/// A relying party of the OpenID Provider bridge.
///
/// ```toml
/// [[oidc_clients]]
/// client_id = "ats"
/// client_secret = "a long random secret"    # client_secret_basic, and/or
/// jwks = [{kty = "EC", crv = "P-256", x = "...", y = "...", kid = "k1"}] # private_key_jwt
/// redirect_uris = ["https://ats.example/callback"]
/// scopes = ["internship_application"]        # unset: every template
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClient {
    /// The client id.
    pub client_id: String,
    /// Its secret for `client_secret_basic`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Its public keys for `private_key_jwt` (ES256).
    #[serde(default)]
    pub jwks: Vec<intyg_core::jose::Jwk>,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// The template scopes it may ask for (`internship_application`);
    /// unset: all.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl OidcClient {
    /// Reads `--oidc-client ID:SECRET:REDIRECT_URI`, split at the first two
    /// colons (the URI has its own); every template is allowed.
    pub fn from_flag(flag: &str) -> Result<Self, String> {
        let mut parts = flag.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(secret), Some(uri))
                if !id.is_empty() && !secret.is_empty() && !uri.is_empty() =>
            {
                let client = Self {
                    client_id: id.to_owned(),
                    client_secret: Some(secret.to_owned()),
                    jwks: Vec::new(),
                    redirect_uris: vec![uri.to_owned()],
                    scopes: None,
                };
                client
                    .check()
                    .map_err(|problem| format!("`{flag}`: {problem}"))?;
                Ok(client)
            }
            _ => Err(format!("`{flag}` is not ID:SECRET:REDIRECT_URI")),
        }
    }

    /// Whether this client can work: an id, a way to authenticate, absolute
    /// http(s) redirect URIs without a fragment, scopes that name templates.
    pub fn check(&self) -> Result<(), OidcClientProblem> {
        if self.client_id.is_empty() {
            return Err(OidcClientProblem::EmptyId);
        }
        if self.client_secret.as_deref().is_none_or(str::is_empty) && self.jwks.is_empty() {
            return Err(OidcClientProblem::NoCredentials);
        }
        if self.redirect_uris.is_empty() {
            return Err(OidcClientProblem::NoRedirectUri);
        }
        if let Some(uri) = self.redirect_uris.iter().find(|uri| {
            !url::Url::parse(uri).is_ok_and(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.has_host()
                    && url.fragment().is_none()
            })
        }) {
            return Err(OidcClientProblem::RedirectUri(uri.clone()));
        }
        if let Some(scope) = self.scopes.iter().flatten().find(|scope| {
            !crate::templates::TEMPLATES
                .iter()
                .any(|name| name.replace('-', "_") == **scope)
        }) {
            return Err(OidcClientProblem::UnknownScope(scope.clone()));
        }
        Ok(())
    }
}

impl Config {
    /// Checks every `[[oidc_clients]]` entry ([`OidcClient::check`]) and
    /// that no two share a `client_id`: run at startup, after the command
    /// line added its clients.
    pub fn check_oidc_clients(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for client in &self.oidc_clients {
            let refused = |problem| ConfigError::OidcClient {
                client_id: client.client_id.clone(),
                problem,
            };
            client.check().map_err(refused)?;
            if !seen.insert(client.client_id.as_str()) {
                return Err(refused(OidcClientProblem::Duplicate));
            }
        }
        Ok(())
    }
}

/// How webhooks are delivered.
///
/// ```toml
/// [webhooks]
/// first_retry_ms = 2000        # then 4 s, 8 s, ... (attempts 1-3 within ~6 s)
/// max_backoff_ms = 3600000     # never wait more than an hour
/// jitter = 0.2                 # each wait times a random 0.8..1.2
/// max_attempts = 12            # then the delivery is dead (dead letter)
/// timeout_ms = 10000           # per attempt
/// poll_interval_ms = 1000      # how often the outbox is looked at
/// allow_private_addresses = false # https to private/loopback addresses
/// retention_seconds = 604800   # delivered and dead deliveries kept 7 days
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The wait after the first failed attempt, in milliseconds; each
    /// further failure doubles it.
    #[serde(default = "default_first_retry_ms")]
    pub first_retry_ms: u64,
    /// The longest wait between attempts, in milliseconds.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// Each wait is multiplied by a random factor in `1 ± jitter`.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Attempts before a delivery is dead.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Time limit of one attempt, in milliseconds.
    #[serde(default = "default_webhook_timeout_ms")]
    pub timeout_ms: u64,
    /// How often the outbox is looked at, in milliseconds (new events wake
    /// the worker at once on the instance that queued them).
    #[serde(default = "default_webhook_poll_ms")]
    pub poll_interval_ms: u64,
    /// Allow https delivery to private and loopback addresses, given as
    /// literals or resolved from names (the receiver is on the
    /// deployment's own network); never link-local ones. `--dev` allows
    /// http on loopback regardless.
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// How long a delivered or dead delivery stays in the outbox (listed
    /// by the API and the portal, a dead one retryable), in seconds; then
    /// it is deleted, every `purge_interval_ms`.
    #[serde(default = "default_webhook_retention_seconds")]
    pub retention_seconds: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            first_retry_ms: default_first_retry_ms(),
            max_backoff_ms: default_max_backoff_ms(),
            jitter: default_jitter(),
            max_attempts: default_max_attempts(),
            timeout_ms: default_webhook_timeout_ms(),
            poll_interval_ms: default_webhook_poll_ms(),
            allow_private_addresses: false,
            retention_seconds: default_webhook_retention_seconds(),
        }
    }
}

fn default_webhook_retention_seconds() -> u64 {
    7 * 24 * 3600
}

fn default_first_retry_ms() -> u64 {
    2_000
}

fn default_max_backoff_ms() -> u64 {
    3_600_000
}

fn default_jitter() -> f64 {
    0.2
}

fn default_max_attempts() -> u32 {
    12
}

fn default_webhook_timeout_ms() -> u64 {
    10_000
}

fn default_webhook_poll_ms() -> u64 {
    1_000
}

/// Settings of one request template.
///
/// ```toml
/// [templates.internship-application]
/// max_status_age = 0 # fetch the status list for every presentation
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    /// How old a status list may be when a presentation from this template
    /// is checked, in seconds; 0 fetches it for each presentation (a burst
    /// shares one fetch). Unset: as long as the list's `ttl` allows.
    /// A posting or an HR API request may set its own.
    #[serde(default)]
    pub max_status_age: Option<u64>,
}

/// The employer portal's settings.
///
/// ```toml
/// [portal]
/// session_lifetime_seconds = 28800
/// feedback_email = "tillganglighet@example.se" # in the accessibility statement
/// credential_types_dir = "/etc/intyg/credentials" # <type>/type-metadata.json: claim labels
/// [portal.issuer_names]
/// "https://intyg.arbetsformedlingen.se" = "Arbetsförmedlingen"
/// [[portal.employers]]
/// username = "anna.rekryterare"
/// name = "Anna Rekryterare"
/// # argon2id PHC string, e.g. from Debian's `argon2` tool:
/// # printf %s "$PASSWORD" | argon2 "$(head -c 16 /dev/urandom | base64)" -id -t 2 -k 19456 -p 1 -e
/// password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// Who may sign in.
    #[serde(default)]
    pub employers: Vec<Employer>,
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
    /// Folders of credential types; each `type-metadata.json` gives the
    /// type's name and its claim labels in Swedish and English.
    #[serde(default = "default_types_dir")]
    pub credential_types_dir: PathBuf,
    /// Display names of issuers by `iss`; others are shown by host name.
    #[serde(default)]
    pub issuer_names: std::collections::BTreeMap<String, String>,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            employers: Vec::new(),
            session_lifetime_seconds: default_session_lifetime(),
            feedback_email: default_feedback_email(),
            trusted_proxies: Vec::new(),
            credential_types_dir: default_types_dir(),
            issuer_names: std::collections::BTreeMap::new(),
        }
    }
}

/// An employer account of the portal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employer {
    /// What the employer types to sign in.
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

fn default_types_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/credentials"))
}

/// Files of the verifier's X.509 identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X509Files {
    /// Private P-256 JWK of the leaf; or `pkcs11`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The leaf's key in a PKCS#11 token; or `key_file`. Neither: the
    /// token key of `--pkcs11-*` (top-level `pkcs11`).
    #[serde(default)]
    pub pkcs11: Option<intyg_service::pkcs11::Pkcs11Config>,
    /// PEM chain, leaf first (the root is left out of `x5c`).
    pub chain_file: PathBuf,
}

/// Limits on outgoing fetches of status lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchLimits {
    /// Whole-request timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Largest response body, in bytes.
    pub max_bytes: usize,
    /// Cache time when a token has no `ttl`, in seconds.
    pub default_ttl_seconds: u64,
    /// Longest cache time, whatever `ttl` says, in seconds.
    pub max_ttl_seconds: u64,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            timeout_ms: 5_000,
            max_bytes: 2 * 1024 * 1024,
            default_ttl_seconds: 300,
            max_ttl_seconds: 24 * 3600,
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
    SocketAddr::from(([127, 0, 0, 1], 8090))
}

fn default_organization_identifier() -> String {
    "NTRSE-0000000000".into()
}

fn default_true() -> bool {
    true
}

fn default_name() -> String {
    "Intyg verifier".into()
}

fn default_request_uri_method() -> RequestUriMethod {
    RequestUriMethod::Get
}

fn default_san_dns() -> String {
    "localhost".into()
}

fn default_retention() -> i64 {
    30 * 24 * 3600
}

fn default_purge_interval() -> u64 {
    60_000
}

fn default_transaction_lifetime() -> i64 {
    600
}

fn default_events_poll_ms() -> u64 {
    500
}

fn default_body_limit() -> usize {
    256 * 1024
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
    /// Production needs the `[x509]` files.
    #[error(
        "the [x509] chain_file and key (key_file, pkcs11 or --pkcs11-*) are required outside development mode"
    )]
    MissingX509,
    /// `[templates.NAME]` names no template.
    #[error("[templates.{0}]: there is no such template")]
    UnknownTemplate(String),
    /// An `[[oidc_clients]]` entry cannot work as configured.
    #[error("[[oidc_clients]] client_id = {client_id:?}: {problem}")]
    OidcClient {
        /// The client.
        client_id: String,
        /// What is wrong with it.
        problem: OidcClientProblem,
    },
}

/// What is wrong with a relying party of the OpenID Provider bridge.
#[derive(Debug, thiserror::Error)]
pub enum OidcClientProblem {
    /// Another entry has the same `client_id`.
    #[error("another client has the same client_id")]
    Duplicate,
    /// The `client_id` is empty.
    #[error("client_id is empty")]
    EmptyId,
    /// Neither `client_secret` nor `jwks`: it could never authenticate.
    #[error("it has neither a client_secret nor jwks, so it could never authenticate at /token")]
    NoCredentials,
    /// No `redirect_uris`.
    #[error("redirect_uris is empty")]
    NoRedirectUri,
    /// A redirect URI that is not an absolute http(s) URL, or has a
    /// fragment (RFC 6749 §3.1.2).
    #[error("redirect URI {0:?} must be an absolute http or https URL without a fragment")]
    RedirectUri(String),
    /// A scope that names no template.
    #[error(
        "scope {0:?} names no template (scopes are template names with _ for -, e.g. internship_application)"
    )]
    UnknownScope(String),
}

impl Config {
    /// Reads a TOML file and applies the environment overrides.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })?;
        config.with_env()
    }

    /// A development configuration: data and the generated CA in
    /// `data_dir`, `public_url` = `http://localhost:<port>` on a loopback
    /// address (so the response URI's host is a DNS name of the dev leaf
    /// certificate, as wallets check), else `http://<listen>`, and the portal's
    /// development employer `arbetsgivare` (password from
    /// `INTYG_EMPLOYER_PASSWORD`, else `intyg-dev`).
    pub fn dev(data_dir: PathBuf, listen: SocketAddr) -> Result<Self, ConfigError> {
        let public_url = if listen.ip().is_loopback() {
            format!("http://localhost:{}", listen.port())
        } else {
            format!("http://{listen}")
        };
        Self {
            public_url,
            listen,
            database_url: None,
            database_pool_size: default_pool_size(),
            database_statement_timeout_ms: default_statement_timeout_ms(),
            data_dir,
            name: default_name(),
            api_key: None,
            dev: true,
            client_id_prefix: ClientIdPrefixChoice::default(),
            san_dns: default_san_dns(),
            response_mode: ResponseModeChoice::default(),
            request_uri_method: default_request_uri_method(),
            invocation_scheme: InvocationScheme::default(),
            x509: None,
            pkcs11: None,
            organization_identifier: default_organization_identifier(),
            registration_files: Vec::new(),
            dev_registration: true,
            dev_registration_revoked: false,
            privacy_policy_url: None,
            trust_list_file: None,
            trust_issuers: Vec::new(),
            trust_pid_providers: Vec::new(),
            trust_lists: Vec::new(),
            trust_list_refresh: Default::default(),
            retention_seconds: default_retention(),
            purge_interval_ms: default_purge_interval(),
            transaction_seconds: default_transaction_lifetime(),
            body_limit: default_body_limit(),
            events_poll_ms: default_events_poll_ms(),
            status_fetch: FetchLimits::default(),
            templates: std::collections::BTreeMap::new(),
            webhooks: WebhookSettings::default(),
            oidc_clients: Vec::new(),
            portal: PortalConfig {
                employers: vec![crate::portal::dev_employer()?],
                ..PortalConfig::default()
            },
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
        if let Ok(url) = std::env::var("INTYG_VERIFIER_PUBLIC_URL") {
            self.public_url = url;
        }
        if let Ok(name) = std::env::var("INTYG_VERIFIER_NAME")
            && !name.trim().is_empty()
        {
            self.name = name;
        }
        if let Ok(listen) = std::env::var("INTYG_VERIFIER_LISTEN") {
            self.listen = listen
                .parse()
                .map_err(|_| ConfigError::Env("INTYG_VERIFIER_LISTEN"))?;
        }
        if let Ok(dir) = std::env::var("INTYG_VERIFIER_DATA_DIR") {
            self.data_dir = dir.into();
        }
        if let Ok(key) = std::env::var("INTYG_API_KEY") {
            self.api_key = Some(key).filter(|k| !k.is_empty());
        }
        self.public_url = self.public_url.trim_end_matches('/').to_owned();
        if !self.dev && !self.public_url.starts_with("https://") {
            return Err(ConfigError::InsecureUrl);
        }
        if !self.dev && self.x509.is_none() {
            return Err(ConfigError::MissingX509);
        }
        if let Some(name) = self
            .templates
            .keys()
            .find(|name| !crate::templates::TEMPLATES.contains(&name.as_str()))
        {
            return Err(ConfigError::UnknownTemplate(name.clone()));
        }
        self.check_oidc_clients()?;
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
