//! # intyg-wallet
//!
//! The headless wallet engine under the Tauri app and the `intyg wallet`
//! command. It never depends on Tauri. It holds SD-JWT VCs in an
//! encrypted sled store, receives them over OpenID4VCI 1.0, presents them
//! over OpenID4VP 1.0 after the person's consent, and logs every issuance,
//! share and denial. Protocol messages, verification and DCQL matching
//! come from `intyg-core`; this crate does the I/O.
//!
//! The lifecycle, as types:
//!
//! 1. [`Wallet::create`] (new directory, PIN) or [`Wallet::open`] →
//!    [`LockedWallet`] → [`LockedWallet::unlock`] with the PIN → [`Wallet`].
//! 2. Receive: [`Wallet::fetch_offer`] → [`receive::Offer`] (does it need
//!    a transaction code?) → [`Wallet::accept`] → [`receive::Received`].
//!    Offers with only an authorization code grant, and wallet-initiated
//!    issuance ([`Wallet::fetch_issuer`]): [`Wallet::begin_authorization`]
//!    → [`authorize::PendingAuthorization`] (open its URL, the person logs
//!    in) → [`Wallet::finish_authorization`] with the redirect →
//!    [`receive::Received`].
//! 3. Present: [`Wallet::prepare`] (matching credentials' status refreshed;
//!    revoked and suspended ones offered only when nothing else fits,
//!    marked) →
//!    [`present::ConsentProposal`] (who asks, why, which claims, which are
//!    optional) → [`Wallet::respond`] with a [`present::Decision`] →
//!    [`present::Outcome`].
//! 4. Trust lists (ETSI TS 119 602): [`Wallet::add_trust_list`],
//!    [`Wallet::refresh_trust_lists`]; access CAs, WRPRC providers and
//!    issuers taken from them next to the configured roots.
//! 5. [`Wallet::refresh_status`] (Token Status List, one fetch per list),
//!    [`Wallet::history`], [`Wallet::export_backup`] /
//!    [`Wallet::restore_backup`], [`Wallet::change_pin`], [`Wallet::lock`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use intyg_wallet::{Wallet, WalletConfig};
//! let wallet = Wallet::open("wallet-dir".as_ref(), WalletConfig::default())?.unlock("246810")?;
//! let mut wallet = wallet;
//! let offer = wallet.fetch_offer("openid-credential-offer://?credential_offer_uri=https%3A%2F%2F...").await?;
//! let received = wallet.accept(offer, Some("493817")).await?;
//! println!("stored {}", received.credentials[0].id);
//! # Ok(()) }
//! ```
//!
//! Invariants: claim values never reach the log (`tracing`) or a store
//! key; every store value is sealed; nothing is written when a receive or
//! a presentation fails, except its history entry.

pub mod authorize;
mod backup;
mod crypto;
mod dpop;
pub mod erasure;
pub mod http;
pub mod lists;
pub mod loopback;
pub mod model;
pub mod present;
pub mod receive;
pub mod registration;
pub mod report;
pub mod status;
mod store;
pub mod trust;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use intyg_core::dcql::Candidate;

pub use backup::BackupError;
pub use crypto::{CryptoError, KdfParams};
pub use http::{FetchError, NetLimits};
pub use model::{
    CredentialCopy, CredentialEntry, CredentialStatus, EventKind, EventResult, HistoryEntry,
    StatusCheck, StoredCredential,
};
pub use store::StoreError;

use crypto::{DataKey, WrappedKey};
use store::{FORMAT, Header, Store};

/// The shortest PIN or passphrase accepted.
pub const MIN_PIN_LEN: usize = 4;

/// Wrong PINs in a row that cost nothing more than the key derivation;
/// from then on each attempt waits [`pin_wait`].
pub const FREE_PIN_ATTEMPTS: u32 = 5;

/// Seconds the wallet waits after `failures` wrong PINs in a row before
/// it tries another: none for the first [`FREE_PIN_ATTEMPTS`], then 30 s,
/// doubling with each further wrong PIN, up to an hour. Guessing a 6-digit
/// PIN through the wallet then takes decades; the count is kept in the
/// store, so closing the app does not reset it.
pub fn pin_wait(failures: u32) -> i64 {
    const FIRST: i64 = 30;
    const MOST: i64 = 3600;
    match failures.checked_sub(FREE_PIN_ATTEMPTS) {
        None => 0,
        Some(beyond) => FIRST
            .checked_shl(beyond.min(16))
            .map_or(MOST, |wait| wait.min(MOST)),
    }
}

/// How the wallet talks to the network and derives keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletConfig {
    /// Dev mode: http to loopback hosts, private addresses, and unsigned
    /// `redirect_uri:` presentation requests. Never in production.
    pub dev: bool,
    /// Network limits.
    pub limits: NetLimits,
    /// argon2id cost for a new PIN (an existing wallet keeps its own).
    pub kdf: KdfParams,
    /// Preferred locale for labels.
    pub locale: String,
}

impl Default for WalletConfig {
    fn default() -> Self {
        Self {
            dev: false,
            limits: NetLimits::default(),
            kdf: KdfParams::default(),
            locale: "en".into(),
        }
    }
}

impl WalletConfig {
    /// The default configuration with dev mode on: http on loopback,
    /// private addresses, unsigned requests. For development and tests.
    pub fn dangerous_dev() -> Self {
        Self {
            dev: true,
            ..Self::default()
        }
    }
}

/// Why a wallet could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// There is already a wallet in the directory.
    #[error("there is already a wallet in {0}")]
    AlreadyExists(PathBuf),
    /// The PIN is shorter than [`MIN_PIN_LEN`].
    #[error("the PIN must have at least {MIN_PIN_LEN} characters")]
    WeakPin,
    /// The directory cannot be created.
    #[error("creating {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key generation or wrapping failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The HTTP client cannot be built.
    #[error(transparent)]
    Http(#[from] FetchError),
}

/// Why a wallet could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The directory holds no wallet.
    #[error("no wallet in {0} (run `intyg wallet init`)")]
    NotAWallet(PathBuf),
    /// The wallet was written in a format this version does not read.
    #[error("the wallet format `{0}` is not supported")]
    UnsupportedFormat(String),
    /// The store failed (or another process has it open).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why unlocking (or changing the PIN) failed.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    /// The PIN is wrong. Nothing was read.
    #[error("wrong PIN")]
    WrongPin,
    /// Too many wrong PINs in a row: the PIN was not tried.
    #[error("too many wrong PINs: try again in {retry_after} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is taken.
        retry_after: i64,
    },
    /// The new PIN is shorter than [`MIN_PIN_LEN`].
    #[error("the PIN must have at least {MIN_PIN_LEN} characters")]
    WeakPin,
    /// The key derivation failed.
    #[error(transparent)]
    Crypto(CryptoError),
    /// The store failed or a record is corrupt.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client cannot be built.
    #[error(transparent)]
    Http(#[from] FetchError),
}

impl From<CryptoError> for UnlockError {
    fn from(error: CryptoError) -> Self {
        match error {
            CryptoError::Open => Self::WrongPin,
            other => Self::Crypto(other),
        }
    }
}

/// A wallet whose data key is not in memory: only unlocking is possible.
#[derive(Debug)]
pub struct LockedWallet {
    dir: PathBuf,
    store: Store,
    header: Header,
    config: WalletConfig,
}

impl LockedWallet {
    /// Unwraps the data key with `pin` and loads the credential index.
    /// After [`FREE_PIN_ATTEMPTS`] wrong PINs in a row, an attempt made
    /// before [`pin_wait`] has passed since the last one is refused
    /// without trying the PIN; a right PIN clears the count.
    pub fn unlock(self, pin: &str) -> Result<Wallet, UnlockError> {
        let now = now();
        let failures = self.store.pin_failures()?;
        if let Some(failures) = failures {
            let retry_after = pin_wait(failures.count) - (now - failures.last_at);
            if retry_after > 0 {
                return Err(UnlockError::TooManyAttempts { retry_after });
            }
        }
        match self.header.key.unwrap_key(pin) {
            Ok(key) => {
                if failures.is_some() {
                    self.store.clear_pin_failures()?;
                }
                Wallet::load(self.dir, self.store, key, self.config)
            }
            Err(crypto::CryptoError::Open) => {
                let count = failures.map_or(0, |f| f.count).saturating_add(1);
                self.store.set_pin_failures(&store::PinFailures {
                    count,
                    last_at: now,
                })?;
                Err(UnlockError::WrongPin)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The wallet directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// An unlocked wallet.
#[derive(Debug)]
pub struct Wallet {
    dir: PathBuf,
    store: Store,
    key: DataKey,
    config: WalletConfig,
    http: http::Http,
    entries: BTreeMap<String, CredentialEntry>,
    candidates: Vec<Candidate>,
    /// Registration status lists as fetched, by URI, with when: reused
    /// for [`registration::STATUS_CACHE_SECONDS`] (verified at each use).
    registration_statuses: std::sync::Mutex<BTreeMap<String, (i64, String)>>,
}

impl Wallet {
    /// Creates a wallet in `dir` (created if missing), protected by `pin`.
    pub fn create(dir: &Path, pin: &str, config: WalletConfig) -> Result<Self, CreateError> {
        if pin.chars().count() < MIN_PIN_LEN {
            return Err(CreateError::WeakPin);
        }
        std::fs::create_dir_all(dir).map_err(|source| CreateError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let store = Store::open(dir)?;
        if !store.is_new()? {
            return Err(CreateError::AlreadyExists(dir.to_owned()));
        }
        let key = DataKey::generate()?;
        store.set_header(&Header {
            format: FORMAT.into(),
            key: WrappedKey::wrap(&key, pin, config.kdf)?,
        })?;
        let http = http::Http::new(config.dev, config.limits)?;
        Ok(Self {
            dir: dir.to_owned(),
            store,
            key,
            config,
            http,
            entries: BTreeMap::new(),
            candidates: Vec::new(),
            registration_statuses: Default::default(),
        })
    }

    /// Opens the wallet in `dir`, locked.
    pub fn open(dir: &Path, config: WalletConfig) -> Result<LockedWallet, OpenError> {
        if !dir.join("store").exists() {
            return Err(OpenError::NotAWallet(dir.to_owned()));
        }
        let store = Store::open(dir)?;
        let header = store
            .header()?
            .ok_or_else(|| OpenError::NotAWallet(dir.to_owned()))?;
        if header.format != FORMAT {
            return Err(OpenError::UnsupportedFormat(header.format));
        }
        Ok(LockedWallet {
            dir: dir.to_owned(),
            store,
            header,
            config,
        })
    }

    fn load(
        dir: PathBuf,
        store: Store,
        key: DataKey,
        config: WalletConfig,
    ) -> Result<Self, UnlockError> {
        let http = http::Http::new(config.dev, config.limits)?;
        let mut wallet = Self {
            dir,
            store,
            key,
            config,
            http,
            entries: BTreeMap::new(),
            candidates: Vec::new(),
            registration_statuses: Default::default(),
        };
        wallet.reindex()?;
        Ok(wallet)
    }

    /// Reloads the credential index from the store.
    fn reindex(&mut self) -> Result<(), StoreError> {
        self.entries = self
            .store
            .entries(&self.key)?
            .into_iter()
            .map(|entry| (entry.id.clone(), entry))
            .collect();
        self.candidates = self
            .entries
            .values()
            .map(CredentialEntry::candidate)
            .collect();
        Ok(())
    }

    /// Forgets the data key.
    pub fn lock(self) -> Result<LockedWallet, OpenError> {
        let header = self
            .store
            .header()?
            .ok_or_else(|| OpenError::NotAWallet(self.dir.clone()))?;
        Ok(LockedWallet {
            dir: self.dir,
            store: self.store,
            header,
            config: self.config,
        })
    }

    /// Re-wraps the data key under `new_pin`, after checking `old_pin`.
    /// The records are not touched.
    pub fn change_pin(&mut self, old_pin: &str, new_pin: &str) -> Result<(), UnlockError> {
        if new_pin.chars().count() < MIN_PIN_LEN {
            return Err(UnlockError::WeakPin);
        }
        let header = self
            .store
            .header()?
            .ok_or_else(|| StoreError::NotFound("header".into()))?;
        header.key.unwrap_key(old_pin)?;
        let params = header.key.params;
        self.store.set_header(&Header {
            format: FORMAT.into(),
            key: WrappedKey::wrap(&self.key, new_pin, params)?,
        })?;
        Ok(())
    }

    /// The wallet directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration.
    pub fn config(&self) -> &WalletConfig {
        &self.config
    }

    /// The held credentials, oldest first.
    pub fn credentials(&self) -> Vec<&CredentialEntry> {
        let mut list: Vec<&CredentialEntry> = self.entries.values().collect();
        list.sort_by_key(|e| (e.received_at, e.id.clone()));
        list
    }

    /// The DCQL candidates, one per held credential (the index).
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Resolves an id or a unique id prefix.
    pub fn resolve_id(&self, id: &str) -> Result<String, StoreError> {
        if self.entries.contains_key(id) {
            return Ok(id.to_owned());
        }
        let mut found = self
            .entries
            .keys()
            .filter(|k| !id.is_empty() && k.starts_with(id));
        match (found.next(), found.next()) {
            (Some(one), None) => Ok(one.clone()),
            (Some(_), Some(_)) => Err(StoreError::Ambiguous(id.to_owned())),
            (None, _) => Err(StoreError::NotFound(id.to_owned())),
        }
    }

    /// One credential in full (copies included), by id or unique prefix.
    pub fn credential(&self, id: &str) -> Result<StoredCredential, StoreError> {
        let id = self.resolve_id(id)?;
        let entry = self
            .entries
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(id.clone()))?;
        let copies = self.store.copies(&self.key, &id)?;
        Ok(StoredCredential { entry, copies })
    }

    /// Deletes a credential, its copies and their holder keys.
    pub fn delete(&mut self, id: &str) -> Result<String, StoreError> {
        let id = self.resolve_id(id)?;
        self.store.delete(&self.key, &id)?;
        self.reindex()?;
        Ok(id)
    }

    /// Stores a credential obtained outside OpenID4VCI (a backup of
    /// another wallet, a migration, a benchmark) as it is: `entry` with
    /// one copy per `(compact SD-JWT, private holder JWK)`. The caller
    /// is responsible for having verified it. Returns the new id.
    pub fn import(
        &mut self,
        mut entry: CredentialEntry,
        copies: Vec<(String, intyg_core::jose::Jwk)>,
    ) -> Result<String, StoreError> {
        entry.id = crypto::random_id()?;
        entry.copies = copies.len();
        entry.copies_used = 0;
        let mut stored = Vec::new();
        let mut keys = Vec::new();
        for (sd_jwt, jwk) in copies {
            let key_id = crypto::random_id()?;
            stored.push(CredentialCopy {
                sd_jwt,
                key_id: key_id.clone(),
                presentations: 0,
            });
            keys.push((key_id, jwk));
        }
        self.store
            .write(&self.key, Some((&entry, &stored)), &keys, None)?;
        let id = entry.id.clone();
        self.candidates.push(entry.candidate());
        self.entries.insert(id.clone(), entry);
        Ok(id)
    }

    /// The history log, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, StoreError> {
        self.store.history(&self.key)
    }

    fn log(&self, entry: &HistoryEntry) -> Result<(), StoreError> {
        self.store.append_history(&self.key, entry)
    }

    pub(crate) fn http(&self) -> &http::Http {
        &self.http
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
