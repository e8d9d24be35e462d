//! The audit trail of PostgreSQL deployments: table `<prefix>_audit`
//! (created by the service's migrations), one row per entry with the
//! entry's JSON as it was hashed. Appenders on every instance first take
//! one transaction-scoped advisory lock, then read the last row and
//! insert after it, so two instances make one chain.

use async_trait::async_trait;

use super::{AuditError, AuditStore, Entry, MakeEvent};
use crate::pg::{Pg, PgError};

/// The trail in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAudit {
    pg: Pg,
    lock_key: i64,
    last: String,
    insert: String,
    all: String,
    by_subject: String,
}

impl PgAudit {
    /// The trail in table `<prefix>_audit` (`issuer`, `verifier`).
    pub fn new(pg: Pg, prefix: &'static str) -> Self {
        let table = format!("{prefix}_audit");
        // The advisory lock's key: fixed per table, from its name.
        let lock_key = table.bytes().fold(0x1d_a0d1_7000_i64, |k, b| {
            k.wrapping_mul(31).wrapping_add(i64::from(b))
        });
        Self {
            pg,
            lock_key,
            last: format!("SELECT seq, entry FROM {table} ORDER BY seq DESC LIMIT 1"),
            insert: format!("INSERT INTO {table} (seq, subject, entry) VALUES ($1, $2, $3)"),
            all: format!("SELECT seq, entry FROM {table} ORDER BY seq"),
            by_subject: format!("SELECT seq, entry FROM {table} WHERE subject = $1 ORDER BY seq"),
        }
    }

    /// The table's rows by `sql`, decoded.
    async fn rows(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Result<Entry, AuditError>>, AuditError> {
        let rows = self.pg.query(sql, params).await?;
        rows.iter().map(decode).collect()
    }
}

fn decode(row: &tokio_postgres::Row) -> Result<Result<Entry, AuditError>, AuditError> {
    let seq: i64 = row.try_get(0).map_err(PgError::from)?;
    let json: String = row.try_get(1).map_err(PgError::from)?;
    Ok(
        serde_json::from_str(&json).map_err(|e| AuditError::Corrupt {
            seq: u64::try_from(seq).unwrap_or(0),
            reason: e.to_string(),
        }),
    )
}

#[async_trait]
impl AuditStore for PgAudit {
    async fn append(&self, make: &MakeEvent<'_>) -> Result<Entry, AuditError> {
        let mut client = self.pg.client().await?;
        let tx = client.transaction().await.map_err(PgError::from)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&self.lock_key])
            .await
            .map_err(PgError::from)?;
        let last = match tx.query_opt(&self.last, &[]).await.map_err(PgError::from)? {
            Some(row) => Some(decode(&row)??),
            None => None,
        };
        let entry = Entry::next(last.as_ref(), make(last.as_ref())?);
        let json = serde_json::to_string(&entry).map_err(|e| AuditError::Corrupt {
            seq: entry.seq,
            reason: e.to_string(),
        })?;
        let seq = i64::try_from(entry.seq).map_err(|e| AuditError::Corrupt {
            seq: entry.seq,
            reason: e.to_string(),
        })?;
        tx.execute(&self.insert, &[&seq, &entry.event.subject, &json])
            .await
            .map_err(PgError::from)?;
        tx.commit().await.map_err(PgError::from)?;
        Ok(entry)
    }

    async fn entries(&self) -> Result<Vec<Result<Entry, AuditError>>, AuditError> {
        self.rows(&self.all, &[]).await
    }

    async fn by_subject(&self, subject: &str) -> Result<Vec<Entry>, AuditError> {
        self.rows(&self.by_subject, &[&subject])
            .await?
            .into_iter()
            .collect()
    }
}
