//! Storage: one small trait per aggregate, and the sled implementation.
//!
//! Traits hold no business logic: they put, get and atomically swap
//! records. Writes land in sled's log at once; [`GroupCommit`] makes them
//! durable, one fsync for every request that waits at the same time, so a
//! handler answers only after what it wrote is on disk.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use intyg_service::GroupCommit;
use intyg_service::pg::{Pg, PgConfig, RunOnce};
use intyg_service::session::PgSessions;

mod copy;
mod pg;
pub use copy::{Copied, CopyError, copy_sled_to_postgres};
use intyg_service::backup::Tree;
pub use pg::MIGRATIONS;

/// The owner of this service's tables (prefix `issuer_`) and migrations.
pub const SERVICE: &str = "issuer";
use serde::{Serialize, de::DeserializeOwned};

use crate::model::{AccessGrant, CredentialRecord, Offer, Person};

/// A storage failure. Details go to the log; clients see a generic 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (I/O, corruption).
    #[error("database: {0}")]
    Database(#[from] sled::Error),
    /// A stored record does not decode: written by an incompatible version.
    #[error("stored record does not decode: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// PostgreSQL failed.
    #[error(transparent)]
    Postgres(#[from] intyg_service::pg::PgError),
    /// Writes could not be made durable: the flush failed or the flusher
    /// stopped (shutting down).
    #[error(transparent)]
    NotDurable(#[from] intyg_service::NotDurable),
    /// A status index or count does not fit PostgreSQL's `bigint`.
    #[error("status index {0} is out of range")]
    OutOfRange(u64),
}

/// Credential offers, found by id and by pre-authorized code.
#[async_trait]
pub trait OfferStore: Send + Sync {
    /// Stores a new offer.
    async fn insert(&self, offer: &Offer) -> Result<(), StoreError>;
    /// The offer with this id.
    async fn by_id(&self, id: &str) -> Result<Option<Offer>, StoreError>;
    /// The offer with this pre-authorized code.
    async fn by_code(&self, code: &str) -> Result<Option<Offer>, StoreError>;
    /// Replaces `current` with `next` if the stored offer still equals
    /// `current`; returns whether it did. This makes redemption single-use.
    async fn swap(&self, current: &Offer, next: &Offer) -> Result<bool, StoreError>;
}

/// Access tokens and what they grant.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a grant under its token.
    async fn insert(&self, grant: &AccessGrant) -> Result<(), StoreError>;
    /// The grant of this access token.
    async fn get(&self, token: &str) -> Result<Option<AccessGrant>, StoreError>;
}

/// `c_nonce`s that key proofs used. Sealed nonces
/// ([`SealedNonces`](intyg_core::oid4vci::nonce::SealedNonces)) are not
/// stored when handed out, only once used, until they expire: a nonce
/// found here is spent.
#[async_trait]
pub trait NonceStore: Send + Sync {
    /// Records `nonce` as used until `expires_at`; false if it already
    /// was. Atomic: of two concurrent calls one wins.
    async fn use_once(&self, nonce: &str, expires_at: i64) -> Result<bool, StoreError>;
    /// Forgets every used nonce that expired at or before `now` (no proof
    /// can carry it any more); returns how many.
    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError>;
}

/// A `c_nonce` a key proof carries, with the expiry sealed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedNonce {
    /// The nonce.
    pub nonce: String,
    /// When it expires (seconds since the epoch).
    pub expires_at: i64,
}

/// Single-use identifiers (DPoP proof `jti`s, wallet attestation PoP
/// `jti`s), remembered until they expire. Keys carry a prefix per kind
/// (`dpop:`, `wapop:`), so kinds never collide.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `key` until `expires_at` (seconds since the epoch) unless it
    /// is already recorded and unexpired; returns whether it recorded it
    /// (false: a replay). Atomic: of two concurrent calls one wins.
    async fn insert_if_absent(
        &self,
        key: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Forgets every entry that expired before `now`; returns how many.
    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError>;
}

/// The writes of one issuance step that span aggregates (offer and grant,
/// nonces and credential record), each one atomic commit: on PostgreSQL
/// one statement, so an endpoint answers after a single commit.
#[async_trait]
pub trait IssuanceStore: Send + Sync {
    /// Replaces `current` with `next` if the stored offer still equals
    /// `current` and, only then, stores `grant`, together; returns whether
    /// it did (false: the offer changed, nothing was written).
    async fn redeem(
        &self,
        current: &Offer,
        next: &Offer,
        grant: &AccessGrant,
    ) -> Result<bool, StoreError>;
    /// Reads the record `id` and whether none of `nonces` was used yet;
    /// only when the record is still
    /// [`CredentialState::Offered`](crate::model::CredentialState) and
    /// the nonces unused, reserves `count` status indices never handed
    /// out before. Uses no nonce.
    async fn reserve(
        &self,
        id: &str,
        nonces: &[UsedNonce],
        count: u64,
    ) -> Result<Reservation, StoreError>;
    /// Records `nonces` as used and replaces `current` with `next`,
    /// together: the record only if none of the nonces was used before and
    /// the record still equals `current`. The nonces are spent even when
    /// the record changed.
    async fn issue(
        &self,
        current: &CredentialRecord,
        next: &CredentialRecord,
        nonces: &[UsedNonce],
    ) -> Result<IssueOutcome, StoreError>;
}

/// What [`IssuanceStore::reserve`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// The record, if there is one.
    pub record: Option<CredentialRecord>,
    /// Whether no nonce was used before.
    pub nonces_unused: bool,
    /// The reserved status indices, ascending; empty unless the record is
    /// offered and the nonces unused.
    pub indices: Vec<u64>,
}

/// What [`IssuanceStore::issue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOutcome {
    /// The nonces were spent and the record replaced.
    Issued,
    /// A nonce was used before (by another request): the record is
    /// unchanged.
    NonceGone,
    /// The record changed since it was read: it is unchanged.
    RecordChanged,
}

/// Records of what was offered and issued, for revocation and the portal.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Stores or replaces a record.
    async fn put(&self, record: &CredentialRecord) -> Result<(), StoreError>;
    /// The record with this id.
    async fn get(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError>;
    /// Every record about one subject (personal identity number).
    async fn by_subject(&self, subject: &str) -> Result<Vec<CredentialRecord>, StoreError>;
}

/// Registered job seekers, by personal identity number.
#[async_trait]
pub trait PersonStore: Send + Sync {
    /// Stores a person unless one with the same number is already there
    /// (atomically, so two registrations of one number cannot both win);
    /// returns whether it stored it.
    async fn put(&self, person: &Person) -> Result<bool, StoreError>;
    /// The person with this personal identity number.
    async fn get(&self, personal_identity_number: &str) -> Result<Option<Person>, StoreError>;
}

/// Status list entries: indices are handed out once and never again.
#[async_trait]
pub trait StatusStore: Send + Sync {
    /// Reserves `count` indices never handed out before (by any instance)
    /// and returns them, ascending.
    async fn allocate(&self, count: u64) -> Result<Vec<u64>, StoreError>;
    /// How many indices were ever handed out (one past the highest).
    async fn allocated(&self) -> Result<u64, StoreError>;
    /// Sets the status value of an index; the version of every range
    /// holding it grows.
    async fn set(&self, index: u64, status: u8) -> Result<(), StoreError>;
    /// Every index in `range` whose status is not 0 (valid).
    async fn non_valid(&self, range: Range<u64>) -> Result<Vec<(u64, u8)>, StoreError>;
    /// The version of `range`: 0 before any change to it, and larger after
    /// every change to one of its indices.
    async fn version(&self, range: Range<u64>) -> Result<u64, StoreError>;
    /// The newest signed token of list `list`.
    async fn token(&self, list: u64) -> Result<Option<SignedList>, StoreError>;
    /// Stores `token` for `list` unless a newer one (by version, then
    /// signing time) is there; returns the one in force.
    async fn put_token(&self, list: u64, token: &SignedList) -> Result<SignedList, StoreError>;
}

/// A signed Status List Token as stored, shared by the instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedList {
    /// The version of the list's range it shows (see
    /// [`StatusStore::version`]).
    pub version: u64,
    /// When it was signed, seconds since the epoch.
    pub signed_at: i64,
    /// The compact JWS.
    pub jwt: String,
}

impl SignedList {
    fn newer_than(&self, other: &SignedList) -> bool {
        (self.version, self.signed_at) > (other.version, other.signed_at)
    }
}

/// All stores, as the application state holds them.
#[derive(Clone)]
pub struct Stores {
    /// Offers.
    pub offers: Arc<dyn OfferStore>,
    /// Access grants.
    pub grants: Arc<dyn GrantStore>,
    /// Nonces.
    pub nonces: Arc<dyn NonceStore>,
    /// Credential records.
    pub credentials: Arc<dyn CredentialStore>,
    /// Status list entries.
    pub status: Arc<dyn StatusStore>,
    /// Registered persons.
    pub persons: Arc<dyn PersonStore>,
    /// Used DPoP and PoP `jti`s.
    pub replay: Arc<dyn ReplayStore>,
    /// Issuance steps across offers, grants, nonces and records.
    pub issuance: Arc<dyn IssuanceStore>,
    /// Authorization code flow: pushed requests, logins, codes (sled tree
    /// `authorizations`; trait and impl in `auth_code::store`).
    pub authorizations: Arc<dyn crate::auth_code::AuthorizationStore>,
    /// Portal sessions and sign-in attempts (in memory on sled: one
    /// instance, a restart signs everyone out; shared on PostgreSQL).
    pub sessions: Arc<dyn intyg_service::session::SessionStore>,
    /// Durability of the writes above on sled; `None` on PostgreSQL, where
    /// every write has committed when it returns.
    pub commit: Option<Arc<GroupCommit>>,
    /// Where background jobs run once (advisory locks on PostgreSQL).
    pub jobs: RunOnce,
    /// The sled database, for snapshots (`backup`); `None` on PostgreSQL.
    pub sled: Option<intyg_service::backup::Db>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stores")
    }
}

/// Applies the migrations this binary has to the database of `config`
/// (refusing a newer schema) and returns the schema version now in force;
/// `migrate` of the binary, for deployments that migrate before starting.
pub async fn migrate(config: &PgConfig) -> Result<i32, StoreError> {
    Ok(Pg::connect(config)?
        .migrate(SERVICE, pg::MIGRATIONS)
        .await?)
}

impl Stores {
    /// Returns once everything written before the call is on disk (see
    /// [`GroupCommit::durable`]).
    pub async fn durable(&self) -> Result<(), StoreError> {
        match &self.commit {
            Some(commit) => Ok(commit.durable().await?),
            None => Ok(()),
        }
    }

    /// Connects to PostgreSQL, applies the migrations this binary has
    /// (refusing a newer schema) and returns the stores over the pool.
    pub async fn open_pg(config: &PgConfig) -> Result<Self, StoreError> {
        let pg = Pg::connect(config)?;
        pg.migrate(SERVICE, pg::MIGRATIONS).await?;
        let store = Arc::new(pg::PgStore::new(pg.clone()));
        Ok(Self {
            offers: store.clone(),
            grants: store.clone(),
            nonces: store.clone(),
            credentials: store.clone(),
            status: store.clone(),
            persons: store.clone(),
            replay: store.clone(),
            issuance: store.clone(),
            authorizations: store,
            sessions: Arc::new(PgSessions::new(pg.clone(), SERVICE)),
            commit: None,
            jobs: RunOnce::Shared(pg),
            sled: None,
        })
    }

    /// Opens (or creates) the sled database in `dir` and starts its flusher.
    pub fn open_sled(dir: &std::path::Path) -> Result<Self, StoreError> {
        Self::from_db(intyg_service::backup::Db::open(dir)?)
    }

    /// The stores over an open sled database (and its flusher).
    pub fn from_sled(db: sled::Db) -> Result<Self, StoreError> {
        Self::from_db(intyg_service::backup::Db::new(db))
    }

    /// The stores over an open sled database whose writes pass its
    /// backup barrier (and its flusher).
    pub fn from_db(db: intyg_service::backup::Db) -> Result<Self, StoreError> {
        let sled = Arc::new(SledStore {
            offers: db.open_tree("offers")?,
            codes: db.open_tree("offer_codes")?,
            grants: db.open_tree("grants")?,
            nonces: db.open_tree("nonces")?,
            credentials: db.open_tree("credentials")?,
            subjects: db.open_tree("subjects")?,
            status: db.open_tree("status")?,
            meta: db.open_tree("meta")?,
            status_tokens: db.open_tree("status_tokens")?,
            persons: db.open_tree("persons")?,
            replay: db.open_tree("replay")?,
        });
        Ok(Self {
            offers: sled.clone(),
            grants: sled.clone(),
            nonces: sled.clone(),
            credentials: sled.clone(),
            status: sled.clone(),
            persons: sled.clone(),
            replay: sled.clone(),
            issuance: sled,
            authorizations: Arc::new(db.open_tree("authorizations")?),
            sessions: Arc::new(intyg_service::session::MemorySessions::default()),
            commit: Some(GroupCommit::start(db.sled().clone())),
            jobs: RunOnce::Local,
            sled: Some(db),
        })
    }
}

struct SledStore {
    offers: Tree,
    codes: Tree,
    grants: Tree,
    nonces: Tree,
    credentials: Tree,
    subjects: Tree,
    status: Tree,
    meta: Tree,
    status_tokens: Tree,
    persons: Tree,
    replay: Tree,
}

fn encode(value: &impl Serialize) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(value)?)
}

fn decode<T: DeserializeOwned>(bytes: Option<sled::IVec>) -> Result<Option<T>, StoreError> {
    bytes
        .map(|b| serde_json::from_slice(&b))
        .transpose()
        .map_err(StoreError::from)
}

#[async_trait]
impl OfferStore for SledStore {
    async fn insert(&self, offer: &Offer) -> Result<(), StoreError> {
        self.offers.insert(offer.id.as_bytes(), encode(offer)?)?;
        self.codes
            .insert(offer.pre_authorized_code.as_bytes(), offer.id.as_bytes())?;
        Ok(())
    }

    async fn by_id(&self, id: &str) -> Result<Option<Offer>, StoreError> {
        decode(self.offers.get(id.as_bytes())?)
    }

    async fn by_code(&self, code: &str) -> Result<Option<Offer>, StoreError> {
        match self.codes.get(code.as_bytes())? {
            Some(id) => decode(self.offers.get(id)?),
            None => Ok(None),
        }
    }

    async fn swap(&self, current: &Offer, next: &Offer) -> Result<bool, StoreError> {
        let swapped = self.offers.compare_and_swap(
            next.id.as_bytes(),
            Some(encode(current)?),
            Some(encode(next)?),
        )?;
        Ok(swapped.is_ok())
    }
}

#[async_trait]
impl GrantStore for SledStore {
    async fn insert(&self, grant: &AccessGrant) -> Result<(), StoreError> {
        self.grants
            .insert(grant.token_hash.as_bytes(), encode(grant)?)?;
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> Result<Option<AccessGrant>, StoreError> {
        decode(self.grants.get(token_hash.as_bytes())?)
    }
}

#[async_trait]
impl NonceStore for SledStore {
    async fn use_once(&self, nonce: &str, expires_at: i64) -> Result<bool, StoreError> {
        Ok(self
            .nonces
            .compare_and_swap(
                nonce.as_bytes(),
                None::<&[u8]>,
                Some(&expires_at.to_be_bytes()[..]),
            )?
            .is_ok())
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        let mut purged = 0;
        for entry in self.nonces.iter() {
            let (key, value) = entry?;
            let expired = nonce_expiry(&value).is_none_or(|expires_at| expires_at <= now);
            // Only as read.
            if expired
                && self
                    .nonces
                    .compare_and_swap(&key, Some(value), None::<&[u8]>)?
                    .is_ok()
            {
                purged += 1;
            }
        }
        Ok(purged)
    }
}

#[async_trait]
impl CredentialStore for SledStore {
    async fn put(&self, record: &CredentialRecord) -> Result<(), StoreError> {
        self.credentials
            .insert(record.id.as_bytes(), encode(record)?)?;
        let mut key = record.subject.as_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(record.id.as_bytes());
        self.subjects.insert(key, &[])?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        decode(self.credentials.get(id.as_bytes())?)
    }

    async fn by_subject(&self, subject: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        let mut prefix = subject.as_bytes().to_vec();
        prefix.push(0);
        let mut out = Vec::new();
        for entry in self.subjects.scan_prefix(&prefix) {
            let (key, _) = entry?;
            if let Some(record) = decode(self.credentials.get(&key[prefix.len()..])?)? {
                out.push(record);
            }
        }
        out.sort_by_key(|record: &CredentialRecord| std::cmp::Reverse(record.created_at));
        Ok(out)
    }
}

#[async_trait]
impl PersonStore for SledStore {
    async fn put(&self, person: &Person) -> Result<bool, StoreError> {
        let stored = self.persons.compare_and_swap(
            person.personal_identity_number.as_str().as_bytes(),
            None::<&[u8]>,
            Some(encode(person)?),
        )?;
        Ok(stored.is_ok())
    }

    async fn get(&self, personal_identity_number: &str) -> Result<Option<Person>, StoreError> {
        decode(self.persons.get(personal_identity_number.as_bytes())?)
    }
}

#[async_trait]
impl ReplayStore for SledStore {
    async fn insert_if_absent(
        &self,
        key: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(intyg_service::replay::insert_if_absent(
            &self.replay,
            key,
            expires_at,
            now,
        )?)
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        Ok(intyg_service::replay::purge_expired(&self.replay, now)?)
    }
}

/// A stored nonce's expiry.
fn nonce_expiry(bytes: &[u8]) -> Option<i64> {
    <[u8; 8]>::try_from(bytes).ok().map(i64::from_be_bytes)
}

#[async_trait]
impl IssuanceStore for SledStore {
    async fn redeem(
        &self,
        current: &Offer,
        next: &Offer,
        grant: &AccessGrant,
    ) -> Result<bool, StoreError> {
        // One fsync (`Stores::durable`) covers both writes.
        if !OfferStore::swap(self, current, next).await? {
            return Ok(false);
        }
        GrantStore::insert(self, grant).await?;
        Ok(true)
    }

    async fn reserve(
        &self,
        id: &str,
        nonces: &[UsedNonce],
        count: u64,
    ) -> Result<Reservation, StoreError> {
        let record: Option<CredentialRecord> = decode(self.credentials.get(id.as_bytes())?)?;
        let mut nonces_unused = true;
        for used in nonces {
            nonces_unused &= !self.nonces.contains_key(used.nonce.as_bytes())?;
        }
        let offered = record
            .as_ref()
            .is_some_and(|r| r.state == crate::model::CredentialState::Offered);
        let indices = if offered && nonces_unused {
            StatusStore::allocate(self, count).await?
        } else {
            Vec::new()
        };
        Ok(Reservation {
            record,
            nonces_unused,
            indices,
        })
    }

    async fn issue(
        &self,
        current: &CredentialRecord,
        next: &CredentialRecord,
        nonces: &[UsedNonce],
    ) -> Result<IssueOutcome, StoreError> {
        let mut all_fresh = true;
        for used in nonces {
            all_fresh &= NonceStore::use_once(self, &used.nonce, used.expires_at).await?;
        }
        if !all_fresh {
            return Ok(IssueOutcome::NonceGone);
        }
        let swapped = self.credentials.compare_and_swap(
            next.id.as_bytes(),
            Some(encode(current)?),
            Some(encode(next)?),
        )?;
        if swapped.is_err() {
            return Ok(IssueOutcome::RecordChanged);
        }
        Ok(IssueOutcome::Issued)
    }
}

const NEXT_INDEX: &[u8] = b"status_next_index";
const LAST_CHANGE: &[u8] = b"status_last_change";

/// A big-endian `u64` counter in `meta`, advanced by `by`; its value
/// before.
fn advance(meta: &Tree, key: &[u8], by: u64) -> Result<u64, StoreError> {
    let mut before = 0;
    meta.update_and_fetch(key, |old| {
        let current = old
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes);
        before = current;
        Some(current.saturating_add(by).to_be_bytes().to_vec())
    })?;
    Ok(before)
}

/// A status entry: the value, then (since the version counter) the
/// change number, big-endian.
fn status_entry(value: &[u8]) -> Option<(u8, u64)> {
    let (&status, change) = value.split_first()?;
    let change = <[u8; 8]>::try_from(change).map_or(0, u64::from_be_bytes);
    Some((status, change))
}

fn encode_token(token: &SignedList) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + token.jwt.len());
    out.extend_from_slice(&token.version.to_be_bytes());
    out.extend_from_slice(&token.signed_at.to_be_bytes());
    out.extend_from_slice(token.jwt.as_bytes());
    out
}

fn decode_token(bytes: &[u8]) -> Option<SignedList> {
    let version = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let signed_at = i64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    let jwt = String::from_utf8(bytes.get(16..)?.to_vec()).ok()?;
    Some(SignedList {
        version,
        signed_at,
        jwt,
    })
}

#[async_trait]
impl StatusStore for SledStore {
    async fn allocate(&self, count: u64) -> Result<Vec<u64>, StoreError> {
        let first = advance(&self.meta, NEXT_INDEX, count)?;
        Ok((first..first.saturating_add(count)).collect())
    }

    async fn allocated(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get(NEXT_INDEX)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    async fn set(&self, index: u64, status: u8) -> Result<(), StoreError> {
        let change = advance(&self.meta, LAST_CHANGE, 1)?.saturating_add(1);
        let mut value = vec![status];
        value.extend_from_slice(&change.to_be_bytes());
        self.status.insert(index.to_be_bytes(), value)?;
        Ok(())
    }

    async fn non_valid(&self, range: Range<u64>) -> Result<Vec<(u64, u8)>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .status
            .range(range.start.to_be_bytes()..range.end.to_be_bytes())
        {
            let (key, value) = entry?;
            if let (Ok(index), Some((status, _))) =
                (<[u8; 8]>::try_from(key.as_ref()), status_entry(&value))
                && status != 0
            {
                out.push((u64::from_be_bytes(index), status));
            }
        }
        Ok(out)
    }

    async fn version(&self, range: Range<u64>) -> Result<u64, StoreError> {
        let mut version = 0;
        for entry in self
            .status
            .range(range.start.to_be_bytes()..range.end.to_be_bytes())
        {
            let (_, value) = entry?;
            if let Some((_, change)) = status_entry(&value) {
                version = version.max(change);
            }
        }
        Ok(version)
    }

    async fn token(&self, list: u64) -> Result<Option<SignedList>, StoreError> {
        Ok(self
            .status_tokens
            .get(list.to_be_bytes())?
            .and_then(|bytes| decode_token(&bytes)))
    }

    async fn put_token(&self, list: u64, token: &SignedList) -> Result<SignedList, StoreError> {
        loop {
            let current = self.status_tokens.get(list.to_be_bytes())?;
            if let Some(stored) = current.as_deref().and_then(decode_token)
                && !token.newer_than(&stored)
            {
                return Ok(stored);
            }
            let swapped = self.status_tokens.compare_and_swap(
                list.to_be_bytes(),
                current,
                Some(encode_token(token)),
            )?;
            if swapped.is_ok() {
                return Ok(token.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replay_store_records_once_until_expiry_then_purges() {
        let dir = std::env::temp_dir().join(format!("intyg-replay-{}", uuid::Uuid::new_v4()));
        let stores = Stores::open_sled(&dir).unwrap();
        let replay = &stores.replay;
        assert!(replay.insert_if_absent("dpop:k:1", 100, 50).await.unwrap());
        assert!(
            !replay.insert_if_absent("dpop:k:1", 200, 60).await.unwrap(),
            "a replay"
        );
        assert!(
            replay.insert_if_absent("wapop:k:1", 100, 60).await.unwrap(),
            "another kind"
        );
        // Past its expiry the key is free again.
        assert!(replay.insert_if_absent("dpop:k:1", 300, 100).await.unwrap());
        assert!(replay.insert_if_absent("dpop:k:2", 120, 100).await.unwrap());
        assert_eq!(replay.purge_expired(200).await.unwrap(), 2);
        assert!(!replay.insert_if_absent("dpop:k:1", 400, 200).await.unwrap());
        drop(stores);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
