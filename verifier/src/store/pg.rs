//! The PostgreSQL implementation of the verifier's stores, for several
//! instances on one database (tables `verifier_*`, `migrations/`).
//!
//! Every method is one statement, committed (with `synchronous_commit =
//! on`) before it returns; a response's outcome and its consent record are
//! one statement with a data-modifying `WITH` part. A response is taken by one
//! `UPDATE .. WHERE record = <as read>`, so two instances cannot both
//! accept one.

use async_trait::async_trait;
use intyg_service::pg::{Migration, Pg, PgError, Row};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    Application, ConsentStore, Delivery, Posting, PostingStore, ReplayStore, StoreError,
    TransactionKeyStore, TransactionStore,
};
use crate::model::{ConsentRecord, Outcome, Transaction};

/// The verifier's schema, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init.sql",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_employer_webhooks.sql",
        sql: include_str!("../../migrations/0002_employer_webhooks.sql"),
    },
    Migration {
        version: 3,
        name: "0003_erasure_rights.sql",
        sql: include_str!("../../migrations/0003_erasure_rights.sql"),
    },
    Migration {
        version: 4,
        name: "0004_audit_throttle.sql",
        sql: include_str!("../../migrations/0004_audit_throttle.sql"),
    },
    Migration {
        version: 5,
        name: "0005_audit_trail.sql",
        sql: include_str!("../../migrations/0005_audit_trail.sql"),
    },
    Migration {
        version: 6,
        name: "0006_employer_oidc.sql",
        sql: include_str!("../../migrations/0006_employer_oidc.sql"),
    },
    Migration {
        version: 7,
        name: "0007_transaction_claims.sql",
        sql: include_str!("../../migrations/0007_transaction_claims.sql"),
    },
];

/// The stores over one pool.
#[derive(Debug, Clone)]
pub(super) struct PgStore {
    pg: Pg,
}

impl PgStore {
    pub(super) fn new(pg: Pg) -> Self {
        Self { pg }
    }

    async fn record<T: DeserializeOwned>(
        &self,
        sql: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.pg
            .query_opt(sql, &[&key])
            .await?
            .map(|row| decode(&row))
            .transpose()
    }

    async fn records<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: intyg_service::pg::Params<'_>,
    ) -> Result<Vec<T>, StoreError> {
        self.pg
            .query(sql, params)
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}

fn encode(value: &impl Serialize) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

fn decode<T: DeserializeOwned>(row: &Row) -> Result<T, StoreError> {
    let text: &str = row.try_get(0).map_err(PgError::from)?;
    Ok(serde_json::from_str(text)?)
}

/// When a transaction completed, if it still holds verified claims: the
/// column retention selects on.
fn claims_completed_at(transaction: &Transaction) -> Option<i64> {
    transaction
        .completed_at
        .filter(|_| !transaction.credentials.is_empty())
}

#[async_trait]
impl TransactionStore for PgStore {
    async fn insert(&self, transaction: &Transaction) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_transactions (id, claims_completed_at, record, erasure_pending) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    &transaction.id,
                    &claims_completed_at(transaction),
                    &encode(transaction)?,
                    &transaction.erasure_pending(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        let Some(row) = self
            .pg
            .query_opt(
                "SELECT record, claimed FROM verifier_transactions WHERE id = $1",
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        let mut transaction: Transaction = decode(&row)?;
        let claimed: bool = row.try_get(1).map_err(PgError::from)?;
        if transaction.outcome == Outcome::Pending {
            transaction.processing |= claimed;
        }
        Ok(Some(transaction))
    }

    async fn claim(&self, current: &Transaction) -> Result<bool, StoreError> {
        let claimed = self
            .pg
            .execute(
                "UPDATE verifier_transactions SET claimed = true \
                 WHERE id = $1 AND record = $2 AND NOT claimed",
                &[&current.id, &encode(current)?],
            )
            .await?;
        Ok(claimed == 1)
    }

    async fn swap(&self, current: &Transaction, next: &Transaction) -> Result<bool, StoreError> {
        let changed = self
            .pg
            .execute(
                "UPDATE verifier_transactions \
                 SET claims_completed_at = $3, record = $4, erasure_pending = $5 \
                 WHERE id = $1 AND record = $2",
                &[
                    &next.id,
                    &encode(current)?,
                    &claims_completed_at(next),
                    &encode(next)?,
                    &next.erasure_pending(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn finish(
        &self,
        current: &Transaction,
        done: &Transaction,
        consent: Option<&ConsentRecord>,
        events: &[Delivery],
    ) -> Result<bool, StoreError> {
        let consent = consent.map(encode).transpose()?;
        let ids: Vec<&str> = events.iter().map(|d| d.id.as_str()).collect();
        let due: Vec<i64> = events.iter().map(|d| d.next_attempt_at).collect();
        let records = events.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        // The consent row and the deliveries are inserted only from the
        // row the swap returned: one statement, one commit.
        let row = self
            .pg
            .query_one(
                "WITH finished AS ( \
                     UPDATE verifier_transactions \
                     SET claims_completed_at = $3, record = $4, erasure_pending = $6 \
                     WHERE id = $1 AND record = $2 AND claimed RETURNING id), \
                 consent AS ( \
                     INSERT INTO verifier_consents (transaction_id, record) \
                     SELECT id, $5::text FROM finished WHERE $5::text IS NOT NULL \
                     ON CONFLICT (transaction_id) DO UPDATE SET record = excluded.record), \
                 events AS ( \
                     INSERT INTO verifier_webhook_deliveries \
                     (id, state, next_attempt_at, leased_until, record) \
                     SELECT event.id, 'pending', event.due, 0, event.record \
                     FROM finished, unnest($7::text[], $8::bigint[], $9::text[]) \
                         AS event (id, due, record) \
                     ON CONFLICT (id) DO NOTHING) \
                 SELECT count(*) FROM finished",
                &[
                    &done.id,
                    &encode(current)?,
                    &claims_completed_at(done),
                    &encode(done)?,
                    &consent,
                    &done.erasure_pending(),
                    &ids,
                    &due,
                    &records,
                ],
            )
            .await?;
        let finished: i64 = row.try_get(0).map_err(PgError::from)?;
        Ok(finished == 1)
    }

    async fn with_claims_completed_before(
        &self,
        before: i64,
    ) -> Result<Vec<Transaction>, StoreError> {
        self.records(
            "SELECT record FROM verifier_transactions WHERE claims_completed_at <= $1",
            &[&before],
        )
        .await
    }

    async fn with_erasure_pending(&self) -> Result<Vec<Transaction>, StoreError> {
        self.records(
            "SELECT record FROM verifier_transactions WHERE erasure_pending",
            &[],
        )
        .await
    }
}

#[async_trait]
impl ReplayStore for PgStore {
    async fn insert_if_absent(
        &self,
        key: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        // A live entry is left alone (0 rows): the caller sees a replay.
        let recorded = self
            .pg
            .execute(
                "INSERT INTO verifier_replay (key, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE verifier_replay.expires_at <= $3",
                &[&key, &expires_at, &now],
            )
            .await?;
        Ok(recorded == 1)
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        let purged = self
            .pg
            .execute(
                "DELETE FROM verifier_replay WHERE expires_at <= $1",
                &[&now],
            )
            .await?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }
}

#[async_trait]
impl TransactionKeyStore for PgStore {
    async fn put(&self, transaction_id: &str, key: &[u8]) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_transaction_keys (transaction_id, key) VALUES ($1, $2)",
                &[&transaction_id, &key],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, transaction_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.pg
            .query_opt(
                "SELECT key FROM verifier_transaction_keys WHERE transaction_id = $1",
                &[&transaction_id],
            )
            .await?
            .map(|row| {
                row.try_get::<_, Vec<u8>>(0)
                    .map_err(|e| PgError::from(e).into())
            })
            .transpose()
    }

    async fn destroy(&self, transaction_id: &str) -> Result<(), StoreError> {
        self.pg
            .execute(
                "DELETE FROM verifier_transaction_keys WHERE transaction_id = $1",
                &[&transaction_id],
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl ConsentStore for PgStore {
    async fn insert(&self, record: &ConsentRecord) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_consents (transaction_id, record) VALUES ($1, $2) \
                 ON CONFLICT (transaction_id) DO UPDATE SET record = $2",
                &[&record.transaction_id, &encode(record)?],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, transaction_id: &str) -> Result<Option<ConsentRecord>, StoreError> {
        self.record(
            "SELECT record FROM verifier_consents WHERE transaction_id = $1",
            transaction_id,
        )
        .await
    }
}

#[async_trait]
impl PostingStore for PgStore {
    async fn insert(&self, posting: &Posting) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_postings (id, record) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET record = $2",
                &[&posting.id, &encode(posting)?],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Posting>, StoreError> {
        self.record("SELECT record FROM verifier_postings WHERE id = $1", id)
            .await
    }

    async fn all(&self) -> Result<Vec<Posting>, StoreError> {
        self.records("SELECT record FROM verifier_postings", &[])
            .await
    }

    async fn add_application(&self, application: &Application) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO verifier_applications (posting_id, transaction_id, record) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (posting_id, transaction_id) DO UPDATE SET record = $3",
                &[
                    &application.posting_id,
                    &application.transaction_id,
                    &encode(application)?,
                ],
            )
            .await?;
        Ok(())
    }

    async fn applications(&self, posting_id: &str) -> Result<Vec<Application>, StoreError> {
        self.records(
            "SELECT record FROM verifier_applications WHERE posting_id = $1",
            &[&posting_id],
        )
        .await
    }
}
