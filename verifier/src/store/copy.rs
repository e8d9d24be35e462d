//! From sled to PostgreSQL: one copy of a stopped sled deployment's state
//! into an empty database, every kind of record counted on both sides
//! (`intyg-verifier --database-url URL --copy-from-sled DIR/db`).
//!
//! The per-transaction keys of personal data (files beside sled) go to
//! their table, or the copied claims could no longer be opened; webhook
//! subscriptions and the outbox (pending, delivered and dead deliveries)
//! are copied too. Portal sessions live in memory on sled and are not
//! copied (employers sign in again); single-use erasure request ids are
//! not copied either: they live minutes, and an erasure repeated after the
//! move finds the transaction already erased (erasure is idempotent).

use intyg_service::pg::{Pg, PgConfig};

use super::{Application, Posting, StoreError, Stores, decode};
use crate::model::{ConsentRecord, Transaction};

/// How many records of each kind were copied (and found in PostgreSQL).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Presentation transactions.
    pub transactions: usize,
    /// Consent records.
    pub consents: usize,
    /// Internship postings.
    pub postings: usize,
    /// Applications to postings.
    pub applications: usize,
    /// Per-transaction keys of personal data.
    pub transaction_keys: usize,
    /// Webhook subscriptions.
    pub webhook_subscriptions: usize,
    /// Webhook deliveries, whatever their state.
    pub webhook_deliveries: usize,
}

/// Why the copy did not happen or did not check out.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading sled or writing PostgreSQL failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target database already holds verifier records.
    #[error("the PostgreSQL database already holds verifier records; copy into an empty one")]
    NotEmpty,
    /// A sled value does not decode as the record its tree holds.
    #[error("sled tree {0} holds a record of an unexpected shape")]
    Malformed(&'static str),
    /// After the copy, PostgreSQL holds another number of records.
    #[error("{what}: {sled} in sled, {postgres} in PostgreSQL")]
    Count {
        /// The kind of record.
        what: &'static str,
        /// Copied from sled.
        sled: usize,
        /// Found in PostgreSQL.
        postgres: usize,
    },
}

impl From<sled::Error> for CopyError {
    fn from(e: sled::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<intyg_service::pg::PgError> for CopyError {
    fn from(e: intyg_service::pg::PgError) -> Self {
        Self::Store(e.into())
    }
}

fn record<T: serde::de::DeserializeOwned>(
    value: sled::IVec,
    tree: &'static str,
) -> Result<T, CopyError> {
    decode(Some(value))
        .map_err(|_| CopyError::Malformed(tree))?
        .ok_or(CopyError::Malformed(tree))
}

/// Copies everything in the sled database `db` (the verifier's, not in
/// use) and the transaction keys in `keys_dir` into the empty database of
/// `target`, then counts each kind there.
pub async fn copy_sled_to_postgres(
    db: &sled::Db,
    keys_dir: &std::path::Path,
    target: &PgConfig,
) -> Result<Copied, CopyError> {
    let from = Stores::from_sled(db.clone(), keys_dir)?;
    let to = Stores::open_pg(target).await?;
    let pg = Pg::connect(target)?;
    let tables = [
        "verifier_transactions",
        "verifier_consents",
        "verifier_postings",
        "verifier_applications",
        "verifier_transaction_keys",
        "verifier_webhook_subscriptions",
        "verifier_webhook_deliveries",
    ];
    let mut found = [0usize; 7];
    for (table, n) in tables.iter().zip(found.iter_mut()) {
        let row = pg
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?;
        let count: i64 = row.try_get(0).map_err(intyg_service::pg::PgError::from)?;
        *n = usize::try_from(count).unwrap_or(usize::MAX);
    }
    if found.iter().any(|n| *n > 0) {
        return Err(CopyError::NotEmpty);
    }
    let mut copied = Copied::default();
    let claims = db.open_tree(super::CLAIMS_TREE)?;
    for entry in db.open_tree("transactions")?.iter() {
        let transaction: Transaction = record(entry?.1, "transactions")?;
        to.transactions.insert(&transaction).await?;
        // A response taken stays taken.
        if claims.contains_key(transaction.id.as_bytes())? {
            to.transactions.claim(&transaction).await?;
        }
        copied.transactions += 1;
        if let Some(key) = from.keys.get(&transaction.id).await? {
            to.keys.put(&transaction.id, &key).await?;
            copied.transaction_keys += 1;
        }
    }
    for subscription in from.subscriptions.all().await? {
        to.subscriptions.insert(&subscription).await?;
        copied.webhook_subscriptions += 1;
    }
    for delivery in from.outbox.list(None).await? {
        to.outbox.enqueue(&delivery).await?;
        copied.webhook_deliveries += 1;
    }
    for entry in db.open_tree("consents")?.iter() {
        let consent: ConsentRecord = record(entry?.1, "consents")?;
        to.consents.insert(&consent).await?;
        copied.consents += 1;
    }
    for entry in db.open_tree("postings")?.iter() {
        let posting: Posting = record(entry?.1, "postings")?;
        to.postings.insert(&posting).await?;
        copied.postings += 1;
    }
    for entry in db.open_tree("applications")?.iter() {
        let application: Application = record(entry?.1, "applications")?;
        to.postings.add_application(&application).await?;
        copied.applications += 1;
    }
    let sled_counts = [
        ("transactions", copied.transactions),
        ("consents", copied.consents),
        ("postings", copied.postings),
        ("applications", copied.applications),
        ("transaction keys", copied.transaction_keys),
        ("webhook subscriptions", copied.webhook_subscriptions),
        ("webhook deliveries", copied.webhook_deliveries),
    ];
    for ((what, sled), table) in sled_counts.into_iter().zip(tables) {
        let row = pg
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?;
        let count: i64 = row.try_get(0).map_err(intyg_service::pg::PgError::from)?;
        let postgres = usize::try_from(count).unwrap_or(usize::MAX);
        if sled != postgres {
            return Err(CopyError::Count {
                what,
                sled,
                postgres,
            });
        }
    }
    Ok(copied)
}
