//! The issuer's signing credentials: each a [`Signer`] (a key in memory,
//! or a key in a PKCS#11 token, [`Pkcs11Signer`]) with its X.509 chain
//! (leaf + intermediates, never the root), sent as `x5c` in every
//! credential and status list token it signs.
//!
//! Rollover: the configuration lists several (`[[signing]]`). Among those
//! whose certificate is valid now, whose `signing_from` has come and whose
//! `retired_at` has not, the one that started last signs (its
//! `signing_from`, else its certificate's notBefore); every listed one
//! stays published in `/.well-known/jwt-vc-issuer` (by `kid`, with its
//! `x5c`) so credentials and status list tokens signed under an older one
//! keep verifying until they expire. A key with a future `signing_from` is
//! staged: published, not yet signing, so every instance and every
//! verifier's cache knows it before the first credential under it. The
//! set is [`LiveKeys`]: `POST /api/keys/reload` or SIGHUP reads the
//! `[[signing]]` sections of the configuration file again without a
//! restart (docs/deploy.md, "Key rollover").
//!
//! Development (`--dev`, no `[[signing]]`): the first start makes a local
//! issuer CA whose subject O is the issuer's name (as a trust list's
//! `TEName` gives it) and writes its certificate to `DIR/issuer-ca.pem`
//! (the CA's private key is never written), and a leaf for the key in
//! `DIR/issuer-key.jwk` naming the issuer URL (URI SAN) and its host,
//! kept in `DIR/issuer-chain.pem`. Later starts reuse them.
//!
//! Keys in an HSM: a `[[signing]]` entry names its key by `key_file` or
//! by `pkcs11` (module, token, key label, PIN file); an entry with
//! neither takes the token key of `--pkcs11-*` (`pkcs11` at the top of
//! the configuration). Without `[[signing]]` that token key replaces
//! `DIR/issuer-key.jwk`: in development the development CA certifies it
//! (a new CA and leaf when the kept leaf holds another key).
//!
//! A credential type may sign under a chain of its own
//! (`[[type_signing.<type>]]`, [`KeySet::for_type`]): the PID
//! (`urn:eudi:pid:1`) is signed only so, under a PID provider's chain,
//! never the issuer's own. `--dev` makes a development PID provider for
//! the test PID (`pid`): a local CA written to `DIR/pid-provider-ca.pem`
//! and a leaf for `DIR/pid-provider-key.jwk` naming the issuer URL
//! (`DIR/pid-provider-chain.pem`). Status list tokens are signed with the
//! issuer's own chain only, so a type signed under another chain carries
//! no status list reference (a verifier trusting the PID provider for
//! the PID would not trust the list's signer).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use intyg_core::jose::{Jwk, Signer, VerifyingKey, thumbprint};
use intyg_core::trust::pki::{LeafProfile, LocalCa, PkiError, Subject};
use intyg_core::trust::{Certificate, CertificateChain, PID_VCT};
use serde::Deserialize;

use intyg_service::pkcs11::{Pkcs11Config, Pkcs11Error, Pkcs11Signer};

use crate::config::Config;
use crate::keys::KeyError;

/// Why the signing credentials could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// A key file failed to load or be created.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Reading or writing a certificate file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A chain file does not hold a usable chain.
    #[error("{path}: {reason}")]
    Chain {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A key does not match its leaf certificate.
    #[error("{0}: the key does not match the leaf certificate")]
    KeyMismatch(String),
    /// Making the development CA failed.
    #[error("making the development issuer CA: {0}")]
    Pki(#[from] PkiError),
    /// The PKCS#11 key could not be opened.
    #[error("PKCS#11 signing key: {0}")]
    Pkcs11(#[from] Pkcs11Error),
    /// A `[[signing]]` entry names no key, or two.
    #[error(
        "[[signing]] with chain_file {0}: give key_file or pkcs11 (one of them), or --pkcs11-* flags"
    )]
    KeySource(String),
}

/// One `[[signing]]` entry of the configuration: a key, its chain, and
/// when it signs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// The private P-256 JWK (mode 0600); or `pkcs11`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The key in a PKCS#11 token; or `key_file`. Neither: the token key
    /// of `--pkcs11-*` (the configuration's top-level `pkcs11`).
    #[serde(default)]
    pub pkcs11: Option<Pkcs11Config>,
    /// PEM: the leaf certificate of that key, then intermediates (no root).
    pub chain_file: PathBuf,
    /// When it starts signing (RFC 3339, e.g. `2027-01-15T08:00:00Z`);
    /// unset: from its certificate's notBefore. Before, it is published
    /// only (staged).
    #[serde(default)]
    pub signing_from: Option<Rfc3339>,
    /// When it stops signing (RFC 3339). It stays published while it is
    /// listed, so what it signed keeps verifying; remove the entry once
    /// the last credential it signed has expired.
    #[serde(default)]
    pub retired_at: Option<Rfc3339>,
}

/// An instant of the configuration, written as RFC 3339; seconds since
/// the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rfc3339(pub i64);

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse::<jiff::Timestamp>()
            .map(|t| Self(t.as_second()))
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{text}` is not an RFC 3339 instant such as 2027-01-15T08:00:00Z: {e}"
                ))
            })
    }
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match jiff::Timestamp::from_second(self.0) {
            Ok(t) => write!(f, "{t}"),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// When a key signs: from (`signing_from`, else its certificate's
/// notBefore) until `retired_at`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Schedule {
    /// `signing_from`, seconds since the epoch.
    pub signing_from: Option<i64>,
    /// `retired_at`, seconds since the epoch.
    pub retired_at: Option<i64>,
}

/// Where a signing credential stands at an instant (`GET /api/keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published; its `signing_from` or certificate validity is ahead.
    Staged,
    /// Signs now.
    Signing,
    /// Published and able to sign, but a key that started later signs.
    Standby,
    /// Past its `retired_at`: published only, for what it signed.
    Retired,
    /// Its certificate has expired: nothing it signed verifies any more;
    /// remove it from the configuration.
    Expired,
}

/// A signer, its `kid` and its chain.
#[derive(Clone)]
pub struct SigningCredential {
    /// Signs.
    pub signer: Arc<dyn Signer>,
    /// RFC 7638 thumbprint of the public key; the JWS `kid`.
    pub kid: String,
    /// Leaf first; `None` for a bare key (a deployment without
    /// certificates, kept working with `kid` only).
    pub chain: Option<CertificateChain>,
    /// The leaf's notBefore and notAfter.
    validity: Option<(i64, i64)>,
    /// When it signs.
    schedule: Schedule,
    /// Where the key comes from (a file's path), for operators.
    source: String,
}

impl std::fmt::Debug for SigningCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredential")
            .field("kid", &self.kid)
            .field("validity", &self.validity)
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl SigningCredential {
    /// A signer with its chain; the leaf must certify the signer's key.
    pub fn new(
        signer: Arc<dyn Signer>,
        chain: Option<CertificateChain>,
        source: &str,
    ) -> Result<Self, SigningError> {
        let public = signer.public_jwk();
        let kid = thumbprint(&public).map_err(|e| SigningError::Chain {
            path: source.to_owned(),
            reason: e.to_string(),
        })?;
        if let Some(chain) = &chain {
            let key = VerifyingKey::from_jwk(&public).map_err(|e| SigningError::Chain {
                path: source.to_owned(),
                reason: e.to_string(),
            })?;
            if chain.leaf().public_key().ok() != Some(key) {
                return Err(SigningError::KeyMismatch(source.to_owned()));
            }
        }
        let validity = chain.as_ref().and_then(|c| c.leaf().validity());
        Ok(Self {
            signer,
            kid,
            chain,
            validity,
            schedule: Schedule::default(),
            source: source.to_owned(),
        })
    }

    /// This credential signing on `schedule`.
    #[must_use]
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// When it starts signing: `signing_from`, else the certificate's
    /// notBefore.
    fn starts(&self) -> i64 {
        self.schedule
            .signing_from
            .or(self.validity.map(|(not_before, _)| not_before))
            .unwrap_or(i64::MIN)
    }

    /// Whether it may sign at `now`: certificate valid, started, not
    /// retired.
    fn may_sign(&self, now: i64) -> bool {
        self.valid_at(now)
            && self.schedule.signing_from.is_none_or(|from| from <= now)
            && !self.retired(now)
    }

    fn retired(&self, now: i64) -> bool {
        self.schedule.retired_at.is_some_and(|at| at <= now)
    }

    /// The `x5c` header value, if this credential has a chain.
    pub fn x5c(&self) -> Option<Vec<String>> {
        self.chain.as_ref().map(CertificateChain::to_x5c)
    }

    /// The public JWK as published: `kid`, and `x5c` when there is a chain.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.signer.public_jwk();
        jwk.key_id = Some(self.kid.clone());
        jwk.x509_certificate_chain = self.x5c();
        jwk
    }

    fn valid_at(&self, now: i64) -> bool {
        self.validity
            .is_none_or(|(not_before, not_after)| not_before <= now && now <= not_after)
    }
}

/// Every signing credential in force, newest last: the issuer's own
/// (`[[signing]]`), and those of credential types signed under another
/// chain (`[[type_signing.<type>]]`, the PID provider's).
#[derive(Debug, Clone)]
pub struct KeySet {
    credentials: Vec<SigningCredential>,
    by_type: BTreeMap<String, Vec<SigningCredential>>,
}

/// Why a credential type cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeSigningError {
    /// A PID (`urn:eudi:pid:1`) is signed only under a PID provider's
    /// chain, and this type has none.
    #[error(
        "no PID provider is configured for `{0}`: a PID is signed only under a PID provider's certificate chain ([[type_signing.{0}]], or the development PID provider of --dev)"
    )]
    NoPidProvider(String),
}

impl KeySet {
    /// A set of credentials; at least one.
    pub fn new(credentials: Vec<SigningCredential>) -> Option<Self> {
        (!credentials.is_empty()).then_some(Self {
            credentials,
            by_type: BTreeMap::new(),
        })
    }

    /// This set with `credentials` signing the credential type
    /// `configuration` (folder name) instead; at least one.
    pub fn with_type(
        mut self,
        configuration: impl Into<String>,
        credentials: Vec<SigningCredential>,
    ) -> Option<Self> {
        if credentials.is_empty() {
            return None;
        }
        self.by_type.insert(configuration.into(), credentials);
        Some(self)
    }

    /// Loads the configured `[[signing]]` entries, or without any: in
    /// development the generated credential (made on first start), in
    /// production the bare key `DIR/issuer-key.jwk`; then each
    /// `[[type_signing.<type>]]`, and in development without one for
    /// `pid` the development PID provider (made on first start).
    pub fn load(config: &Config) -> Result<Self, SigningError> {
        let credentials = if config.signing.is_empty() {
            vec![data_dir_credential(config)?]
        } else {
            config
                .signing
                .iter()
                .map(|entry| load_configured(entry, config.pkcs11.as_ref()))
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut by_type = BTreeMap::new();
        for (configuration, entries) in &config.type_signing {
            if entries.is_empty() {
                continue;
            }
            // A type's own chain never falls back to the issuer's token key.
            let loaded = entries
                .iter()
                .map(|entry| load_configured(entry, None))
                .collect::<Result<Vec<_>, _>>()?;
            by_type.insert(configuration.clone(), loaded);
        }
        if config.dev && config.dev_pid_provider && !by_type.contains_key(DEV_PID_TYPE) {
            by_type.insert(DEV_PID_TYPE.to_owned(), vec![dev_pid_provider(config)?]);
        }
        Ok(Self {
            credentials,
            by_type,
        })
    }

    /// The issuer's own credential that signs at `now` (status list
    /// tokens, and every type without signers of its own): the valid one
    /// with the latest notBefore; if none is valid, the last listed (its
    /// certificate's expiry shows in every verifier's refusal, not as a
    /// silent stop).
    pub fn current(&self, now: i64) -> &SigningCredential {
        newest(&self.credentials, now)
            // Invariant: `new` and `load` never make an empty set.
            .expect("a key set holds at least one credential")
    }

    /// The credential that signs the type `configuration` (folder name,
    /// `vct` its type) at `now`: the newest of its own
    /// `[[type_signing.<type>]]`, else the issuer's. A PID is never
    /// signed with the issuer's own chain: without a signer of its own it
    /// is refused.
    pub fn for_type(
        &self,
        configuration: &str,
        vct: &str,
        now: i64,
    ) -> Result<&SigningCredential, TypeSigningError> {
        match self
            .by_type
            .get(configuration)
            .and_then(|own| newest(own, now))
        {
            Some(own) => Ok(own),
            None if vct == PID_VCT => {
                Err(TypeSigningError::NoPidProvider(configuration.to_owned()))
            }
            None => Ok(self.current(now)),
        }
    }

    /// Whether the type `configuration` signs under a chain of its own
    /// (then its credentials carry no status list reference: the lists
    /// are signed with the issuer's chain).
    pub fn has_own_signer(&self, configuration: &str) -> bool {
        self.by_type.contains_key(configuration)
    }

    /// Every credential, as published: the issuer's, then each type's.
    pub fn all(&self) -> Vec<&SigningCredential> {
        self.credentials
            .iter()
            .chain(self.by_type.values().flatten())
            .collect()
    }
}

/// Of those that may sign at `now`, the one that started last; if none
/// may, the last listed that is not retired, else the last.
fn newest(credentials: &[SigningCredential], now: i64) -> Option<&SigningCredential> {
    credentials
        .iter()
        .filter(|c| c.may_sign(now))
        .max_by_key(|c| c.starts())
        .or_else(|| credentials.iter().rev().find(|c| !c.retired(now)))
        .or_else(|| credentials.last())
}

fn state_of(credential: &SigningCredential, signing: &str, now: i64) -> KeyState {
    if credential
        .validity
        .is_some_and(|(_, not_after)| not_after < now)
    {
        KeyState::Expired
    } else if credential.retired(now) {
        KeyState::Retired
    } else if credential.kid == signing {
        KeyState::Signing
    } else if credential.may_sign(now) {
        KeyState::Standby
    } else {
        KeyState::Staged
    }
}

/// One signing credential as `GET /api/keys` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyView {
    /// The JWS `kid` (RFC 7638 thumbprint).
    pub kid: String,
    /// `issuer` (the issuer's own: credentials and status lists), or the
    /// credential type it signs (`[[type_signing.<type>]]`).
    pub signs_for: String,
    /// Where it stands now.
    pub state: KeyState,
    /// Where the key comes from.
    pub source: String,
    /// Its certificate's subject common name, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Its certificate's notBefore and notAfter (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// See `not_before`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// The configured `signing_from` (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_from: Option<String>,
    /// The configured `retired_at` (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
    /// Published in `/.well-known/jwt-vc-issuer` (every listed key is).
    pub published: bool,
}

impl KeySet {
    /// Every credential and where it stands at `now`: the issuer's own,
    /// then each type's.
    pub fn view(&self, now: i64) -> Vec<KeyView> {
        let own = self.current(now).kid.clone();
        let mut views: Vec<KeyView> = self
            .credentials
            .iter()
            .map(|c| view_of(c, "issuer", &own, now))
            .collect();
        for (configuration, credentials) in &self.by_type {
            let signing = newest(credentials, now).map_or("", |c| c.kid.as_str());
            views.extend(
                credentials
                    .iter()
                    .map(|c| view_of(c, configuration, signing, now)),
            );
        }
        views
    }
}

fn view_of(credential: &SigningCredential, signs_for: &str, signing: &str, now: i64) -> KeyView {
    let instant = |at: i64| Rfc3339(at).to_string();
    KeyView {
        kid: credential.kid.clone(),
        signs_for: signs_for.to_owned(),
        state: state_of(credential, signing, now),
        source: credential.source.clone(),
        subject: credential
            .chain
            .as_ref()
            .and_then(|c| c.leaf().common_name()),
        not_before: credential.validity.map(|(from, _)| instant(from)),
        not_after: credential.validity.map(|(_, to)| instant(to)),
        signing_from: credential.schedule.signing_from.map(instant),
        retired_at: credential.schedule.retired_at.map(instant),
        published: true,
    }
}

/// The key set in force, replaced whole when the configuration is read
/// again (`POST /api/keys/reload`, SIGHUP): a request keeps the set it
/// started with.
#[derive(Debug)]
pub struct LiveKeys(std::sync::RwLock<Arc<KeySet>>);

impl LiveKeys {
    /// The set `keys` in force.
    pub fn new(keys: KeySet) -> Self {
        Self(std::sync::RwLock::new(Arc::new(keys)))
    }

    /// The set in force now.
    pub fn get(&self) -> Arc<KeySet> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `keys` in force.
    pub fn replace(&self, keys: KeySet) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
    }
}

/// The signing sections of a configuration file, as a reload reads them
/// (the rest of the file is left to the next start).
#[derive(Debug, Deserialize)]
struct SigningSections {
    #[serde(default)]
    signing: Vec<SigningConfig>,
    #[serde(default)]
    type_signing: BTreeMap<String, Vec<SigningConfig>>,
}

/// Why the keys could not be read again; the set in force stays.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The service was started without `--config`.
    #[error("started without --config: there is no configuration file to read the keys from")]
    NoConfigFile,
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or a `[[signing]]` entry is wrong.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The parse error.
        source: Box<toml::de::Error>,
    },
    /// A key or chain failed to load.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// No key would sign now: every one is staged, retired or expired.
    #[error("no key would sign now: every listed key is staged, retired or expired")]
    NoneSigns,
}

impl KeySet {
    /// Reads `[[signing]]` and `[[type_signing.*]]` of the configuration
    /// file again (`config` otherwise as started) and loads them; the
    /// caller puts the result in force. A new set in which no key of the
    /// issuer's own may sign at `now` is refused.
    pub fn reload(config: &Config, now: i64) -> Result<Self, ReloadError> {
        let path = config
            .config_file
            .as_ref()
            .ok_or(ReloadError::NoConfigFile)?;
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReloadError::Read {
            path: shown.clone(),
            source,
        })?;
        let sections: SigningSections =
            toml::from_str(&text).map_err(|source| ReloadError::Parse {
                path: shown,
                source: Box::new(source),
            })?;
        let mut fresh = config.clone();
        fresh.signing = sections.signing;
        fresh.type_signing = sections.type_signing;
        let keys = Self::load(&fresh)?;
        if !keys.credentials.iter().any(|c| c.may_sign(now)) {
            return Err(ReloadError::NoneSigns);
        }
        Ok(keys)
    }
}

/// The credential type the development PID provider signs: the test PID
/// of `specs/credentials/pid/`.
pub const DEV_PID_TYPE: &str = "pid";

/// An entry's key (`key_file`, its `pkcs11`, else `token`) with its chain.
fn load_configured(
    entry: &SigningConfig,
    token: Option<&Pkcs11Config>,
) -> Result<SigningCredential, SigningError> {
    let (signer, source) = match (&entry.key_file, &entry.pkcs11, token) {
        (Some(path), None, _) => (
            Arc::new(crate::keys::load_key(path)?) as Arc<dyn Signer>,
            path.display().to_string(),
        ),
        (None, Some(pkcs11), _) | (None, None, Some(pkcs11)) => open_token(pkcs11)?,
        _ => {
            return Err(SigningError::KeySource(
                entry.chain_file.display().to_string(),
            ));
        }
    };
    let chain = read_chain(&entry.chain_file)?;
    let schedule = Schedule {
        signing_from: entry.signing_from.map(|t| t.0),
        retired_at: entry.retired_at.map(|t| t.0),
    };
    Ok(SigningCredential::new(signer, Some(chain), &source)?.with_schedule(schedule))
}

/// The token key and its RFC 7512 URI (for messages).
fn open_token(config: &Pkcs11Config) -> Result<(Arc<dyn Signer>, String), SigningError> {
    Ok((Arc::new(Pkcs11Signer::open(config)?), config.uri()))
}

fn read_chain(path: &Path) -> Result<CertificateChain, SigningError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SigningError::Io {
        path: shown.clone(),
        source,
    })?;
    let chain_error = |reason: String| SigningError::Chain {
        path: shown.clone(),
        reason,
    };
    let certificates = Certificate::from_pem(&text).map_err(|e| chain_error(e.to_string()))?;
    CertificateChain::new(certificates).map_err(|e| chain_error(e.to_string()))
}

/// The data directory's key, or the token key of `--pkcs11-*`; in
/// development with its generated chain.
fn data_dir_credential(config: &Config) -> Result<SigningCredential, SigningError> {
    let (key, source) = match &config.pkcs11 {
        Some(pkcs11) => open_token(pkcs11)?,
        None => (
            Arc::new(crate::keys::IssuerKey::load_or_create(&config.data_dir)?.key)
                as Arc<dyn Signer>,
            config.data_dir.join("issuer-key.jwk").display().to_string(),
        ),
    };
    if !config.dev {
        tracing::warn!(
            key = %source,
            "no [[signing]] configured: signing with a bare key, without x5c"
        );
        return SigningCredential::new(key, None, &source);
    }
    let chain_path = config.data_dir.join("issuer-chain.pem");
    let ca_path = config.data_dir.join("issuer-ca.pem");
    if !chain_path.exists() || !ca_path.exists() || !certifies(&chain_path, key.as_ref())? {
        let name = issuer_name(config);
        generate_dev(
            config,
            key.as_ref(),
            &Subject::new(format!("{name} development issuer CA")).organization(name.clone()),
            Subject::new(format!("{name} credential signing")).organization(name),
            (&ca_path, &chain_path),
        )?;
        tracing::info!(ca = %ca_path.display(), "development issuer CA made");
    }
    let chain = read_chain(&chain_path)?;
    SigningCredential::new(key, Some(chain), &source)
}

/// Whether the leaf of the chain in `path` holds `key`'s public key (a
/// development chain made for another key is made again).
fn certifies(path: &Path, key: &dyn Signer) -> Result<bool, SigningError> {
    let public = VerifyingKey::from_jwk(&key.public_jwk()).map_err(|e| SigningError::Chain {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(read_chain(path)?.leaf().public_key().ok() == Some(public))
}

/// The issuer's name as wallets show it and as its CA's O says it.
pub fn issuer_name(config: &Config) -> String {
    config
        .name
        .clone()
        .unwrap_or_else(|| "Intyg issuer".to_owned())
}

/// The development PID provider (a test PID provider, never a real one):
/// on first start a local CA, `DIR/pid-provider-ca.pem` (its key is not
/// kept), and a leaf for `DIR/pid-provider-key.jwk` naming the issuer URL,
/// kept in `DIR/pid-provider-chain.pem`.
fn dev_pid_provider(config: &Config) -> Result<SigningCredential, SigningError> {
    let key =
        crate::keys::IssuerKey::load_or_create_file(&config.data_dir, "pid-provider-key.jwk")?.key;
    let source = config
        .data_dir
        .join("pid-provider-key.jwk")
        .display()
        .to_string();
    let chain_path = config.data_dir.join("pid-provider-chain.pem");
    let ca_path = config.data_dir.join("pid-provider-ca.pem");
    if !chain_path.exists() || !ca_path.exists() {
        let name = DEV_PID_PROVIDER_NAME.to_owned();
        generate_dev(
            config,
            &key,
            &Subject::new(format!("{name} CA")).organization(name.clone()),
            Subject::new(format!("{name} signing")).organization(name),
            (&ca_path, &chain_path),
        )?;
        tracing::info!(ca = %ca_path.display(), "development PID provider CA made (test PIDs only)");
    }
    let chain = read_chain(&chain_path)?;
    SigningCredential::new(Arc::new(key), Some(chain), &source)
}

/// The development PID provider's name (its certificates' O): marked as
/// a test.
pub const DEV_PID_PROVIDER_NAME: &str = "Intyg development PID provider (test only)";

/// A local CA named `ca_subject` and a leaf for `key` naming the issuer
/// URL (URI SAN) and its host; the leaf goes to `paths.1`, the CA
/// certificate to `paths.0`.
fn generate_dev(
    config: &Config,
    key: &dyn Signer,
    ca_subject: &Subject,
    leaf_subject: Subject,
    (ca_path, chain_path): (&Path, &Path),
) -> Result<(), SigningError> {
    let ca = LocalCa::generate(ca_subject)?;
    let public = VerifyingKey::from_jwk(&key.public_jwk()).map_err(|e| SigningError::Chain {
        path: chain_path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut profile = LeafProfile {
        subject: leaf_subject,
        uris: vec![config.public_url.clone()],
        ..LeafProfile::default()
    };
    if let Some(host) = url::Url::parse(&config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => profile.ip_addresses.push(ip),
            Err(_) => profile.dns_names.push(host),
        }
    }
    let leaf = ca.issue(&public, &profile)?;
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|source| SigningError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    write(chain_path, leaf.to_pem())?;
    write(ca_path, ca.certificate().to_pem())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use intyg_core::jose::SigningKey;

    use super::*;

    fn credential(ca: &LocalCa, not_before: i64, not_after: i64) -> SigningCredential {
        let key = SigningKey::generate().unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        let leaf = ca
            .issue(
                &public,
                &LeafProfile {
                    subject: Subject::new("signer"),
                    not_before: Some(not_before),
                    not_after: Some(not_after),
                    ..LeafProfile::default()
                },
            )
            .unwrap();
        let chain = CertificateChain::new(vec![leaf]).unwrap();
        SigningCredential::new(Arc::new(key), Some(chain), "test").unwrap()
    }

    #[test]
    fn the_newest_valid_certificate_signs() {
        let ca = LocalCa::generate(&Subject::new("CA")).unwrap();
        let old = credential(&ca, 1_000_000, 3_000_000);
        let new = credential(&ca, 2_000_000, 4_000_000);
        let set = KeySet::new(vec![new.clone(), old.clone()]).unwrap();
        // Before the new one is valid, the old one signs.
        assert_eq!(set.current(1_500_000).kid, old.kid);
        // Both valid: the later notBefore.
        assert_eq!(set.current(2_500_000).kid, new.kid);
        // The old one expired.
        assert_eq!(set.current(3_500_000).kid, new.kid);
        // Both published.
        assert_eq!(set.all().len(), 2);
    }

    #[test]
    fn signing_from_and_retired_at_decide_which_key_signs() {
        let ca = LocalCa::generate(&Subject::new("CA")).unwrap();
        let old = credential(&ca, 1_000_000, 9_000_000);
        // Staged: its certificate is valid, its signing_from is ahead.
        let new = credential(&ca, 1_000_000, 9_000_000).with_schedule(Schedule {
            signing_from: Some(3_000_000),
            retired_at: None,
        });
        let set = KeySet::new(vec![old.clone(), new.clone()]).unwrap();
        let states = |now| -> Vec<KeyState> { set.view(now).iter().map(|v| v.state).collect() };
        assert_eq!(set.current(2_000_000).kid, old.kid);
        assert_eq!(states(2_000_000), [KeyState::Signing, KeyState::Staged]);
        // From signing_from on, the one that started last signs.
        assert_eq!(set.current(3_000_000).kid, new.kid);
        assert_eq!(states(3_000_000), [KeyState::Standby, KeyState::Signing]);
        // Retired: published, never signing again, even if the new one
        // is retired too (then the last listed that is not retired).
        let old = old.with_schedule(Schedule {
            signing_from: None,
            retired_at: Some(3_500_000),
        });
        let set = KeySet::new(vec![old.clone(), new.clone()]).unwrap();
        assert_eq!(set.current(4_000_000).kid, new.kid);
        assert_eq!(
            set.view(4_000_000)
                .iter()
                .map(|v| v.state)
                .collect::<Vec<_>>(),
            [KeyState::Retired, KeyState::Signing]
        );
        assert_eq!(
            set.view(9_500_000)
                .iter()
                .map(|v| v.state)
                .collect::<Vec<_>>(),
            [KeyState::Expired, KeyState::Expired]
        );
        assert_eq!(set.all().len(), 2);
    }

    #[test]
    fn configured_instants_are_rfc_3339() {
        #[derive(Deserialize)]
        struct At {
            at: Rfc3339,
        }
        let at: At = toml::from_str("at = \"2027-01-15T08:00:00Z\"").unwrap();
        assert_eq!(at.at, Rfc3339(1_800_000_000));
        assert_eq!(at.at.to_string(), "2027-01-15T08:00:00Z");
        let error = toml::from_str::<At>("at = \"next tuesday\"")
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("RFC 3339"), "{error}");
    }

    #[test]
    fn a_key_must_match_its_leaf() {
        let ca = LocalCa::generate(&Subject::new("CA")).unwrap();
        let other = credential(&ca, 0, 4_000_000);
        let key = SigningKey::generate().unwrap();
        assert!(matches!(
            SigningCredential::new(Arc::new(key), other.chain, "k.jwk"),
            Err(SigningError::KeyMismatch(_))
        ));
    }
}
