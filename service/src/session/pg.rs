//! The PostgreSQL [`SessionStore`]: sessions and attempt counts shared by
//! every instance on one database. Each service keeps them in its own
//! tables, `<prefix>_portal_sessions` and `<prefix>_portal_attempts`,
//! created by its migrations.

use async_trait::async_trait;

use super::{LOCKOUT_SECONDS, MAX_ATTEMPTS, SessionStore, StoreError, StoredSession, User};
use crate::pg::{Pg, PgError};

/// Sessions and attempt counts in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSessions {
    pg: Pg,
    sql: Sql,
}

#[derive(Debug, Clone)]
struct Sql {
    attempt_row: String,
    attempt_lock: String,
    attempt_update: String,
    attempt_clear: String,
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
        let (s, a) = (
            format!("{prefix}_portal_sessions"),
            format!("{prefix}_portal_attempts"),
        );
        let sql = Sql {
            attempt_row: format!(
                "INSERT INTO {a} (username, count, locked_until, last) VALUES ($1, 0, 0, $2) \
                 ON CONFLICT (username) DO NOTHING"
            ),
            attempt_lock: format!(
                "SELECT count, locked_until FROM {a} WHERE username = $1 FOR UPDATE"
            ),
            attempt_update: format!(
                "UPDATE {a} SET count = $2, locked_until = $3, last = $4 WHERE username = $1"
            ),
            attempt_clear: format!("DELETE FROM {a} WHERE username = $1"),
            insert: format!(
                "INSERT INTO {s} (key, username, name, csrf, expires_at, data) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            get: format!("SELECT username, name, csrf, expires_at, data FROM {s} WHERE key = $1"),
            swap: format!("UPDATE {s} SET data = $3 WHERE key = $1 AND data = $2"),
            remove: format!("DELETE FROM {s} WHERE key = $1"),
            sweep_sessions: format!("DELETE FROM {s} WHERE expires_at <= $1"),
            sweep_attempts: format!("DELETE FROM {a} WHERE locked_until <= $1 AND last < $1 - 900"),
        };
        Self { pg, sql }
    }
}

#[async_trait]
impl SessionStore for PgSessions {
    async fn begin_attempt(&self, username: &str, now: i64) -> Result<bool, StoreError> {
        let mut client = self.pg.client().await?;
        let tx = client.transaction().await.map_err(PgError::from)?;
        tx.execute(&self.sql.attempt_row, &[&username, &now])
            .await
            .map_err(PgError::from)?;
        let row = tx
            .query_one(&self.sql.attempt_lock, &[&username])
            .await
            .map_err(PgError::from)?;
        let (count, locked_until): (i32, i64) = (row.get(0), row.get(1));
        if locked_until > now {
            return Ok(false);
        }
        let count = count.saturating_add(1);
        let max = i32::try_from(MAX_ATTEMPTS).unwrap_or(i32::MAX);
        let (count, locked_until) = if count >= max {
            (0, now + LOCKOUT_SECONDS)
        } else {
            (count, locked_until)
        };
        tx.execute(
            &self.sql.attempt_update,
            &[&username, &count, &locked_until, &now],
        )
        .await
        .map_err(PgError::from)?;
        tx.commit().await.map_err(PgError::from)?;
        Ok(true)
    }

    async fn clear_attempts(&self, username: &str) -> Result<(), StoreError> {
        let client = self.pg.client().await?;
        client
            .execute(&self.sql.attempt_clear, &[&username])
            .await
            .map_err(PgError::from)?;
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
        Ok(row.map(|row| StoredSession {
            user: User {
                username: row.get(0),
                name: row.get(1),
            },
            csrf: row.get(2),
            expires_at: row.get(3),
            data: row.get(4),
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
