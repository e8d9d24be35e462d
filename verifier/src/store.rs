//! Storage: one small trait per aggregate, and the sled implementation.
//!
//! Traits hold no business logic: they put, get and atomically swap
//! records. [`GroupCommit`] makes writes durable, one fsync shared by
//! every request that waits at the same time.

use std::sync::Arc;

use async_trait::async_trait;
use intyg_service::GroupCommit;
use intyg_service::backup::Tree;
use intyg_service::pg::{Pg, PgConfig, RunOnce};
use intyg_service::session::PgSessions;

mod copy;
pub mod keys;
pub mod oidc;
mod pg;
pub use copy::{Copied, CopyError, copy_sled_to_postgres};
pub mod webhooks;
pub use pg::MIGRATIONS;
pub use webhooks::{Delivery, DeliveryState, OutboxStore, Subscription, SubscriptionStore};

/// The owner of this service's tables (prefix `verifier_`) and migrations.
pub const SERVICE: &str = "verifier";
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::model::{ConsentRecord, Outcome, Transaction};

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
    /// Writes could not be made durable.
    #[error(transparent)]
    NotDurable(#[from] intyg_service::NotDurable),
    /// A key file could not be written, read or destroyed.
    #[error("key file: {0}")]
    KeyFile(#[from] std::io::Error),
}

/// Presentation transactions.
#[async_trait]
pub trait TransactionStore: Send + Sync {
    /// Stores a new transaction.
    async fn insert(&self, transaction: &Transaction) -> Result<(), StoreError>;
    /// The transaction with this id.
    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError>;
    /// Replaces `current` with `next` if the stored record still equals
    /// `current`; returns whether it did.
    async fn swap(&self, current: &Transaction, next: &Transaction) -> Result<bool, StoreError>;
    /// Marks the transaction `current` (as [`get`](Self::get) returned it)
    /// as answered, once: returns whether this call marked it (false: a
    /// response took it before; PostgreSQL also refuses a record changed
    /// since it was read, sled finds that in `finish`). Of concurrent
    /// calls one wins, across instances. This makes responses single-use.
    /// The mark is small and kept apart from the record (a key in tree
    /// `claims` on sled, column `claimed` on PostgreSQL), so that a
    /// response writes its record once, in [`finish`](Self::finish); it
    /// stays after the outcome is written, and `get` reads it as
    /// `processing` while the outcome is still pending.
    async fn claim(&self, current: &Transaction) -> Result<bool, StoreError>;
    /// Replaces `current` (as read before [`claim`](Self::claim)) with
    /// `done` if the stored record still equals `current` and is claimed
    /// and, only then, stores `consent` and queues `events` (the webhook
    /// deliveries of the outcome; one already queued under the same id
    /// stays as it is): an outcome is never stored without its events.
    /// PostgreSQL writes all of it in one statement; sled queues the
    /// events just before the outcome (and takes them back if the swap
    /// fails), so a crash can leave an event whose outcome was never
    /// written, which the delivery worker then drops. Returns whether it
    /// did.
    async fn finish(
        &self,
        current: &Transaction,
        done: &Transaction,
        consent: Option<&ConsentRecord>,
        events: &[Delivery],
    ) -> Result<bool, StoreError>;
    /// Completed transactions, finished at or before `before`, that still
    /// hold verified claims.
    async fn with_claims_completed_before(
        &self,
        before: i64,
    ) -> Result<Vec<Transaction>, StoreError>;
    /// Transactions with an accepted erasure request not yet carried out
    /// ([`Transaction::erasure_pending`]).
    async fn with_erasure_pending(&self) -> Result<Vec<Transaction>, StoreError>;
}

/// Single-use identifiers (erasure request `jti`s), remembered until
/// they expire.
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

/// The per-transaction keys personal data is sealed under. Destroying a
/// key is what erases the data from disk: the records that hold it
/// (and any old copy a store keeps of them) become ciphertext no one can
/// open.
#[async_trait]
pub trait TransactionKeyStore: Send + Sync {
    /// Stores the key of a transaction (replacing none: ids are fresh).
    async fn put(&self, transaction_id: &str, key: &[u8]) -> Result<(), StoreError>;
    /// The key of a transaction, unless destroyed.
    async fn get(&self, transaction_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Destroys the key; destroying an absent key is not an error.
    async fn destroy(&self, transaction_id: &str) -> Result<(), StoreError>;
}

/// Consent records, one per accepted presentation.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// Stores a record.
    async fn insert(&self, record: &ConsentRecord) -> Result<(), StoreError>;
    /// The record of a transaction.
    async fn get(&self, transaction_id: &str) -> Result<Option<ConsentRecord>, StoreError>;
}

/// An internship posting of the employer portal. It holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    /// Random id, in portal URLs.
    pub id: String,
    /// The title.
    pub title: String,
    /// What the internship is.
    pub description: String,
    /// Why applicants are asked for their credentials; the purpose of each
    /// presentation request.
    pub purpose: String,
    /// When it was made, seconds since the epoch.
    pub created_at: i64,
    /// The username of the employer who made it.
    pub created_by: String,
    /// How old a status list may be for its applications, in seconds
    /// (0: fetched for each); `None`: the template's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_status_age: Option<u64>,
    /// A legal basis that obliges the employer to keep applicants' data
    /// (e.g. a concluded employment contract): erasure requests on this
    /// posting's applications are refused naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
}

/// One applicant session of a posting: a presentation transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// The posting.
    pub posting_id: String,
    /// The transaction.
    pub transaction_id: String,
    /// When the session was opened.
    pub created_at: i64,
}

/// Internship postings and their applications.
#[async_trait]
pub trait PostingStore: Send + Sync {
    /// Stores a new posting.
    async fn insert(&self, posting: &Posting) -> Result<(), StoreError>;
    /// The posting with this id.
    async fn get(&self, id: &str) -> Result<Option<Posting>, StoreError>;
    /// Every posting, in no particular order.
    async fn all(&self) -> Result<Vec<Posting>, StoreError>;
    /// Records an application.
    async fn add_application(&self, application: &Application) -> Result<(), StoreError>;
    /// The applications of a posting, in no particular order.
    async fn applications(&self, posting_id: &str) -> Result<Vec<Application>, StoreError>;
}

/// All stores, as the application state holds them.
#[derive(Clone)]
pub struct Stores {
    /// Transactions.
    pub transactions: Arc<dyn TransactionStore>,
    /// Consent records.
    pub consents: Arc<dyn ConsentStore>,
    /// Internship postings of the portal.
    pub postings: Arc<dyn PostingStore>,
    /// Webhook subscriptions.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// The webhook delivery outbox.
    pub outbox: Arc<dyn OutboxStore>,
    /// Single-use erasure request ids.
    pub replay: Arc<dyn ReplayStore>,
    /// Per-transaction keys of personal data.
    pub keys: Arc<dyn TransactionKeyStore>,
    /// The OpenID Provider bridge's codes and access tokens.
    pub grants: Arc<dyn oidc::GrantStore>,
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
        let webhooks = Arc::new(webhooks::PgWebhooks { pg: pg.clone() });
        Ok(Self {
            transactions: store.clone(),
            consents: store.clone(),
            replay: store.clone(),
            keys: store.clone(),
            postings: store,
            subscriptions: webhooks.clone(),
            outbox: webhooks,
            grants: Arc::new(oidc::PgGrants { pg: pg.clone() }),
            sessions: Arc::new(PgSessions::new(pg.clone(), SERVICE)),
            commit: None,
            jobs: RunOnce::Shared(pg),
            sled: None,
        })
    }

    /// Opens (or creates) the sled database in `dir` and starts its
    /// flusher; per-transaction keys go to the slots file in `keys_dir`
    /// ([`keys::FileKeys`]). Must run inside a Tokio runtime.
    pub fn open_sled(
        dir: &std::path::Path,
        keys_dir: &std::path::Path,
    ) -> Result<Self, StoreError> {
        Self::from_db(intyg_service::backup::Db::open(dir)?, keys_dir)
    }

    /// The stores over an open sled database (and its flusher), keys in
    /// `keys_dir`. Must run inside a Tokio runtime.
    pub fn from_sled(db: sled::Db, keys_dir: &std::path::Path) -> Result<Self, StoreError> {
        Self::from_db(intyg_service::backup::Db::new(db), keys_dir)
    }

    /// The stores over an open sled database whose writes (and key files)
    /// pass its backup barrier, keys in `keys_dir`. Must run inside a Tokio
    /// runtime.
    pub fn from_db(
        db: intyg_service::backup::Db,
        keys_dir: &std::path::Path,
    ) -> Result<Self, StoreError> {
        let deliveries = db.open_tree("webhook_deliveries")?;
        let sled = Arc::new(SledStore {
            transactions: db.open_tree("transactions")?,
            claims: db.open_tree(CLAIMS_TREE)?,
            consents: db.open_tree("consents")?,
            deliveries: deliveries.clone(),
            postings: db.open_tree("postings")?,
            applications: db.open_tree("applications")?,
            replay: db.open_tree("replay")?,
        });
        let webhooks = Arc::new(webhooks::SledWebhooks {
            subscriptions: db.open_tree("webhook_subscriptions")?,
            deliveries,
        });
        Ok(Self {
            transactions: sled.clone(),
            consents: sled.clone(),
            replay: sled.clone(),
            keys: Arc::new(keys::FileKeys::open_behind(keys_dir, db.barrier().clone())?),
            postings: sled,
            subscriptions: webhooks.clone(),
            outbox: webhooks,
            grants: Arc::new(oidc::SledGrants {
                tree: db.open_tree("oidc_grants")?,
            }),
            sessions: Arc::new(intyg_service::session::MemorySessions::default()),
            commit: Some(GroupCommit::start(db.sled().clone())),
            jobs: RunOnce::Local,
            sled: Some(db),
        })
    }
}

/// The sled tree of answered transactions ([`TransactionStore::claim`]):
/// transaction id → empty value.
pub const CLAIMS_TREE: &str = "claims";

struct SledStore {
    transactions: Tree,
    /// Ids of the transactions a response has taken.
    claims: Tree,
    consents: Tree,
    /// The webhook outbox ([`webhooks::SledWebhooks`]'s), where a
    /// transaction's outcome queues its events.
    deliveries: Tree,
    postings: Tree,
    /// Keyed `posting id` `/` `transaction id` (ids are base64url).
    applications: Tree,
    /// Single-use ids → big-endian expiry.
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
impl TransactionStore for SledStore {
    async fn insert(&self, transaction: &Transaction) -> Result<(), StoreError> {
        self.transactions
            .insert(transaction.id.as_bytes(), encode(transaction)?)?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        let mut transaction: Option<Transaction> = decode(self.transactions.get(id.as_bytes())?)?;
        if let Some(t) = transaction.as_mut()
            && t.outcome == Outcome::Pending
        {
            t.processing |= self.claims.contains_key(id.as_bytes())?;
        }
        Ok(transaction)
    }

    async fn swap(&self, current: &Transaction, next: &Transaction) -> Result<bool, StoreError> {
        let swapped = self.transactions.compare_and_swap(
            next.id.as_bytes(),
            Some(encode(current)?),
            Some(encode(next)?),
        )?;
        Ok(swapped.is_ok())
    }

    async fn claim(&self, current: &Transaction) -> Result<bool, StoreError> {
        // The record is compared when the outcome is written (`finish`);
        // a response that read it before another's outcome finds the mark.
        let id = current.id.as_bytes();
        if !self.transactions.contains_key(id)? {
            return Ok(false);
        }
        Ok(self
            .claims
            .compare_and_swap(id, None::<&[u8]>, Some(&[][..]))?
            .is_ok())
    }

    async fn finish(
        &self,
        current: &Transaction,
        done: &Transaction,
        consent: Option<&ConsentRecord>,
        events: &[Delivery],
    ) -> Result<bool, StoreError> {
        let id = current.id.as_bytes();
        if !self.claims.contains_key(id)? {
            return Ok(false);
        }
        // The deliveries go first: a crash can then leave a delivery
        // whose outcome was never written, never an outcome without its
        // delivery, and the worker sends only what the record confirms
        // (`webhooks::deliver`). A sled transaction over the trees would
        // make this one write, but it takes sled's process-wide write
        // lock: +0.6 ms of CPU per verified presentation under load.
        let mut queued = Vec::new();
        for delivery in events {
            let record = encode(delivery)?;
            let added = self.deliveries.compare_and_swap(
                delivery.id.as_bytes(),
                None::<&[u8]>,
                Some(record.as_slice()),
            )?;
            if added.is_ok() {
                queued.push((delivery.id.as_bytes(), record));
            }
        }
        if !TransactionStore::swap(self, current, done).await? {
            // Not this outcome after all: its deliveries go with it.
            for (key, record) in queued {
                let _removed_or_changed =
                    self.deliveries
                        .compare_and_swap(key, Some(record), None::<&[u8]>)?;
            }
            return Ok(false);
        }
        if let Some(consent) = consent {
            ConsentStore::insert(self, consent).await?;
        }
        // One fsync (`Stores::durable`) covers all of it.
        Ok(true)
    }

    async fn with_claims_completed_before(
        &self,
        before: i64,
    ) -> Result<Vec<Transaction>, StoreError> {
        let mut out = Vec::new();
        for entry in self.transactions.iter() {
            let (_, bytes) = entry?;
            let transaction: Transaction = serde_json::from_slice(&bytes)?;
            if !transaction.credentials.is_empty()
                && transaction.completed_at.is_some_and(|at| at <= before)
            {
                out.push(transaction);
            }
        }
        Ok(out)
    }

    async fn with_erasure_pending(&self) -> Result<Vec<Transaction>, StoreError> {
        let mut out = Vec::new();
        for entry in self.transactions.iter() {
            let (_, bytes) = entry?;
            let transaction: Transaction = serde_json::from_slice(&bytes)?;
            if transaction.erasure_pending() {
                out.push(transaction);
            }
        }
        Ok(out)
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

#[async_trait]
impl ConsentStore for SledStore {
    async fn insert(&self, record: &ConsentRecord) -> Result<(), StoreError> {
        self.consents
            .insert(record.transaction_id.as_bytes(), encode(record)?)?;
        Ok(())
    }

    async fn get(&self, transaction_id: &str) -> Result<Option<ConsentRecord>, StoreError> {
        decode(self.consents.get(transaction_id.as_bytes())?)
    }
}

#[async_trait]
impl PostingStore for SledStore {
    async fn insert(&self, posting: &Posting) -> Result<(), StoreError> {
        self.postings
            .insert(posting.id.as_bytes(), encode(posting)?)?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Posting>, StoreError> {
        decode(self.postings.get(id.as_bytes())?)
    }

    async fn all(&self) -> Result<Vec<Posting>, StoreError> {
        self.postings
            .iter()
            .map(|entry| Ok(serde_json::from_slice(&entry?.1)?))
            .collect()
    }

    async fn add_application(&self, application: &Application) -> Result<(), StoreError> {
        let key = format!("{}/{}", application.posting_id, application.transaction_id);
        self.applications
            .insert(key.as_bytes(), encode(application)?)?;
        Ok(())
    }

    async fn applications(&self, posting_id: &str) -> Result<Vec<Application>, StoreError> {
        self.applications
            .scan_prefix(format!("{posting_id}/").as_bytes())
            .map(|entry| Ok(serde_json::from_slice(&entry?.1)?))
            .collect()
    }
}
