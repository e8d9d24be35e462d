//! The PostgreSQL [`SessionStore`]: sessions and throttling buckets shared
//! by every instance on one database. Each service keeps them in its own
//! tables, `<prefix>_portal_sessions` and `<prefix>_portal_throttle`,
//! created by its migrations. An attempt locks its buckets' rows (in key
//! order, so two attempts cannot deadlock) for the read-modify-write.

use async_trait::async_trait;

use super::throttle::{Bucket, Limit};
use super::{SessionStore, StoreError, StoredSession, User};
use crate::pg::{Pg, PgError};

/// Sessions and attempt counts in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSessions {
    pg: Pg,
    sql: Sql,
}

#[derive(Debug, Clone)]
struct Sql {
    bucket_rows: String,
    bucket_lock: String,
    bucket_update: String,
    bucket_clear: String,
    insert: String,
    get: String,
    swap: String,
    remove: String,
    sweep_sessions: String,
    sweep_attempts: String,
}

impl PgSessions {
    /// The store over the tables of `prefix` (`issuer`, `verifier`).
    pub fn new(pg: Pg, prefix: &'static str) -> Self {
        let (s, t) = (
            format!("{prefix}_portal_sessions"),
            format!("{prefix}_portal_throttle"),
        );
        let sql = Sql {
            bucket_rows: format!(
                "INSERT INTO {t} (key, failures, blocked_until, last, forgive_seconds) \
                 SELECT k, 0, 0, $2, 1 FROM unnest($1::text[]) AS k ORDER BY k \
                 ON CONFLICT (key) DO NOTHING"
            ),
            bucket_lock: format!(
                "SELECT key, failures, blocked_until, last FROM {t} \
                 WHERE key = ANY($1) ORDER BY key FOR UPDATE"
            ),
            bucket_update: format!(
                "UPDATE {t} SET failures = $2, blocked_until = $3, last = $4, \
                 forgive_seconds = $5 WHERE key = $1"
            ),
            bucket_clear: format!("DELETE FROM {t} WHERE key = $1"),
            insert: format!(
                "INSERT INTO {s} (key, username, name, csrf, expires_at, data) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            get: format!("SELECT username, name, csrf, expires_at, data FROM {s} WHERE key = $1"),
            swap: format!("UPDATE {s} SET data = $3 WHERE key = $1 AND data = $2"),
            remove: format!("DELETE FROM {s} WHERE key = $1"),
            sweep_sessions: format!("DELETE FROM {s} WHERE expires_at <= $1"),
            sweep_attempts: format!(
                "DELETE FROM {t} WHERE blocked_until <= $1 \
                 AND last + failures::bigint * forgive_seconds <= $1"
            ),
        };
        Self { pg, sql }
    }
}

impl PgSessions {
    async fn update(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        limit: &Limit,
        bucket: Bucket,
    ) -> Result<(), StoreError> {
        let failures = i32::try_from(bucket.failures).unwrap_or(i32::MAX);
        tx.execute(
            &self.sql.bucket_update,
            &[
                &limit.key,
                &failures,
                &bucket.blocked_until,
                &bucket.last,
                &limit.rule.forgive_seconds,
            ],
        )
        .await
        .map_err(PgError::from)?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for PgSessions {
    async fn begin_attempt(
        &self,
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<(), i64>, StoreError> {
        let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
        let mut client = self.pg.client().await?;
        let tx = client.transaction().await.map_err(PgError::from)?;
        tx.execute(&self.sql.bucket_rows, &[&keys, &now])
            .await
            .map_err(PgError::from)?;
        let rows = tx
            .query(&self.sql.bucket_lock, &[&keys])
            .await
            .map_err(PgError::from)?;
        let mut admitted = Vec::with_capacity(limits.len());
        let mut retry_at = None;
        for row in rows {
            let key: String = row.try_get(0).map_err(PgError::from)?;
            let failures: i32 = row.try_get(1).map_err(PgError::from)?;
            let bucket = Bucket {
                failures: u32::try_from(failures).unwrap_or(0),
                blocked_until: row.try_get(2).map_err(PgError::from)?,
                last: row.try_get(3).map_err(PgError::from)?,
            };
            let Some(limit) = limits.iter().find(|l| l.key == key) else {
                continue;
            };
            match bucket.admit(limit.rule, now) {
                Ok(next) => admitted.push((limit, next)),
                Err(at) => retry_at = retry_at.max(Some(at)),
            }
        }
        if let Some(at) = retry_at {
            // Nothing counted: the transaction ends without a commit.
            return Ok(Err(at));
        }
        for (limit, bucket) in admitted {
            self.update(&tx, limit, bucket).await?;
        }
        tx.commit().await.map_err(PgError::from)?;
        Ok(Ok(()))
    }

    async fn settle_success(&self, limits: &[Limit]) -> Result<(), StoreError> {
        let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
        let mut client = self.pg.client().await?;
        let tx = client.transaction().await.map_err(PgError::from)?;
        let rows = tx
            .query(&self.sql.bucket_lock, &[&keys])
            .await
            .map_err(PgError::from)?;
        for row in rows {
            let key: String = row.try_get(0).map_err(PgError::from)?;
            let Some(limit) = limits.iter().find(|l| l.key == key) else {
                continue;
            };
            if limit.cleared_on_success {
                tx.execute(&self.sql.bucket_clear, &[&key])
                    .await
                    .map_err(PgError::from)?;
                continue;
            }
            let failures: i32 = row.try_get(1).map_err(PgError::from)?;
            let bucket = Bucket {
                failures: u32::try_from(failures).unwrap_or(0),
                blocked_until: row.try_get(2).map_err(PgError::from)?,
                last: row.try_get(3).map_err(PgError::from)?,
            };
            self.update(&tx, limit, bucket.forgive(limit.rule)).await?;
        }
        tx.commit().await.map_err(PgError::from)?;
        Ok(())
    }

    async fn insert(&self, key: &str, session: &StoredSession) -> Result<(), StoreError> {
        let client = self.pg.client().await?;
        client
            .execute(
                &self.sql.insert,
                &[
                    &key,
                    &session.user.username,
                    &session.user.name,
                    &session.csrf,
                    &session.expires_at,
                    &session.data,
                ],
            )
            .await
            .map_err(PgError::from)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<StoredSession>, StoreError> {
        let client = self.pg.client().await?;
        let row = client
            .query_opt(&self.sql.get, &[&key])
            .await
            .map_err(PgError::from)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let column = |i: usize| row.try_get::<_, String>(i).map_err(PgError::from);
        Ok(Some(StoredSession {
            user: User {
                username: column(0)?,
                name: column(1)?,
            },
            csrf: column(2)?,
            expires_at: row.try_get(3).map_err(PgError::from)?,
            data: column(4)?,
        }))
    }

    async fn swap_data(&self, key: &str, current: &str, next: &str) -> Result<bool, StoreError> {
        let client = self.pg.client().await?;
        let changed = client
            .execute(&self.sql.swap, &[&key, &current, &next])
            .await
            .map_err(PgError::from)?;
        Ok(changed == 1)
    }

    async fn remove(&self, key: &str) -> Result<(), StoreError> {
        let client = self.pg.client().await?;
        client
            .execute(&self.sql.remove, &[&key])
            .await
            .map_err(PgError::from)?;
        Ok(())
    }

    async fn sweep(&self, now: i64) -> Result<(), StoreError> {
        let client = self.pg.client().await?;
        client
            .execute(&self.sql.sweep_sessions, &[&now])
            .await
            .map_err(PgError::from)?;
        client
            .execute(&self.sql.sweep_attempts, &[&now])
            .await
            .map_err(PgError::from)?;
        Ok(())
    }
}
