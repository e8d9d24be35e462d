//! The PostgreSQL implementation of the issuer's stores, for several
//! instances on one database (tables `issuer_*`, `migrations/`).
//!
//! Every method is one statement, committed (with `synchronous_commit =
//! on`) before it returns; an issuance step that writes to several tables
//! ([`IssuanceStore`]) is one statement with data-modifying `WITH` parts,
//! so each endpoint of an issuance commits once. Single-use values are taken by one
//! `DELETE .. RETURNING` or `UPDATE .. WHERE <still as read>`, so two
//! instances cannot both use one; status indices come from a sequence.

use std::ops::Range;

use async_trait::async_trait;
use intyg_service::pg::{Migration, Pg, PgError, Row};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    CredentialStore, GrantStore, IssuanceStore, IssueOutcome, NonceStore, OfferStore, PersonStore,
    ReplayStore, Reservation, SignedList, StatusStore, StoreError, UsedNonce,
};
use crate::auth_code::store::{AuthorizationStore, IssuedCode, PendingLogin, PushedRequest};
use crate::model::{AccessGrant, CredentialRecord, Offer, Person};

/// The issuer's schema, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init.sql",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_replay.sql",
        sql: include_str!("../../migrations/0002_replay.sql"),
    },
    Migration {
        version: 3,
        name: "0003_audit_throttle.sql",
        sql: include_str!("../../migrations/0003_audit_throttle.sql"),
    },
    Migration {
        version: 4,
        name: "0004_audit_trail.sql",
        sql: include_str!("../../migrations/0004_audit_trail.sql"),
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
            .map(|row| decode(&row, 0))
            .transpose()
    }
}

fn encode(value: &impl Serialize) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

fn decode<T: DeserializeOwned>(row: &Row, column: usize) -> Result<T, StoreError> {
    let text: &str = row
        .try_get(column)
        .map_err(intyg_service::pg::PgError::from)?;
    Ok(serde_json::from_str(text)?)
}

/// A status index or count as PostgreSQL's `bigint`.
fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange(value))
}

/// A `bigint` column that holds an index, count or version (never
/// negative: the sequences start at 0 and 1).
fn to_u64(row: &Row, column: usize) -> Result<u64, StoreError> {
    let value: i64 = row.try_get(column).map_err(PgError::from)?;
    u64::try_from(value).map_err(|_| StoreError::OutOfRange(value.unsigned_abs()))
}

#[async_trait]
impl OfferStore for PgStore {
    async fn insert(&self, offer: &Offer) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO issuer_offers (id, pre_authorized_code, record) VALUES ($1, $2, $3)",
                &[&offer.id, &offer.pre_authorized_code, &encode(offer)?],
            )
            .await?;
        Ok(())
    }

    async fn by_id(&self, id: &str) -> Result<Option<Offer>, StoreError> {
        self.record("SELECT record FROM issuer_offers WHERE id = $1", id)
            .await
    }

    async fn by_code(&self, code: &str) -> Result<Option<Offer>, StoreError> {
        self.record(
            "SELECT record FROM issuer_offers WHERE pre_authorized_code = $1",
            code,
        )
        .await
    }

    async fn swap(&self, current: &Offer, next: &Offer) -> Result<bool, StoreError> {
        let changed = self
            .pg
            .execute(
                "UPDATE issuer_offers SET record = $3 WHERE id = $1 AND record = $2",
                &[&next.id, &encode(current)?, &encode(next)?],
            )
            .await?;
        Ok(changed == 1)
    }
}

#[async_trait]
impl GrantStore for PgStore {
    async fn insert(&self, grant: &AccessGrant) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO issuer_grants (token_hash, expires_at, record) VALUES ($1, $2, $3) \
                 ON CONFLICT (token_hash) DO UPDATE SET expires_at = $2, record = $3",
                &[&grant.token_hash, &grant.expires_at, &encode(grant)?],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> Result<Option<AccessGrant>, StoreError> {
        self.record(
            "SELECT record FROM issuer_grants WHERE token_hash = $1",
            token_hash,
        )
        .await
    }
}

#[async_trait]
impl NonceStore for PgStore {
    async fn use_once(&self, nonce: &str, expires_at: i64) -> Result<bool, StoreError> {
        let inserted = self
            .pg
            .execute(
                "INSERT INTO issuer_nonces (nonce, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (nonce) DO NOTHING",
                &[&nonce, &expires_at],
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        let purged = self
            .pg
            .execute("DELETE FROM issuer_nonces WHERE expires_at <= $1", &[&now])
            .await?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }
}

/// Distinct nonces, in order of first appearance, and their expiries.
fn distinct(nonces: &[UsedNonce]) -> (Vec<&str>, Vec<i64>) {
    let mut out: (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
    for used in nonces {
        if !out.0.contains(&used.nonce.as_str()) {
            out.0.push(&used.nonce);
            out.1.push(used.expires_at);
        }
    }
    out
}

#[async_trait]
impl IssuanceStore for PgStore {
    async fn redeem(
        &self,
        current: &Offer,
        next: &Offer,
        grant: &AccessGrant,
    ) -> Result<bool, StoreError> {
        // The grant is inserted only from the row the swap returned.
        let stored = self
            .pg
            .execute(
                "WITH redeemed AS ( \
                     UPDATE issuer_offers SET record = $3 WHERE id = $1 AND record = $2 RETURNING 1) \
                 INSERT INTO issuer_grants (token_hash, expires_at, record) \
                 SELECT $4::text, $5::bigint, $6::text FROM redeemed \
                 ON CONFLICT (token_hash) DO UPDATE SET expires_at = $5, record = $6",
                &[
                    &next.id,
                    &encode(current)?,
                    &encode(next)?,
                    &grant.token_hash,
                    &grant.expires_at,
                    &encode(grant)?,
                ],
            )
            .await?;
        Ok(stored == 1)
    }

    async fn reserve(
        &self,
        id: &str,
        nonces: &[UsedNonce],
        count: u64,
    ) -> Result<Reservation, StoreError> {
        let (nonces, _) = distinct(nonces);
        // Indices only for an offered record with unused nonces, as sled.
        let row = self
            .pg
            .query_one(
                "WITH record AS (SELECT record FROM issuer_credentials WHERE id = $1), \
                      unused AS (SELECT NOT EXISTS (SELECT 1 FROM issuer_nonces \
                                                    WHERE nonce = ANY($2)) AS ok) \
                 SELECT (SELECT record FROM record), unused.ok, \
                        CASE WHEN unused.ok AND (SELECT record::jsonb ->> 'state' FROM record) = 'offered' \
                             THEN ARRAY(SELECT nextval('issuer_status_index') \
                                        FROM generate_series(1, $3::bigint)) \
                             ELSE '{}'::bigint[] END \
                 FROM unused",
                &[&id, &nonces, &to_i64(count)?],
            )
            .await?;
        let record: Option<&str> = row.try_get(0).map_err(PgError::from)?;
        let nonces_unused: bool = row.try_get(1).map_err(PgError::from)?;
        let indices: Vec<i64> = row.try_get(2).map_err(PgError::from)?;
        let mut indices = indices
            .into_iter()
            .map(|i| u64::try_from(i).map_err(|_| StoreError::OutOfRange(i.unsigned_abs())))
            .collect::<Result<Vec<u64>, _>>()?;
        indices.sort_unstable();
        Ok(Reservation {
            record: record.map(serde_json::from_str).transpose()?,
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
        let (nonces, expiries) = distinct(nonces);
        let wanted = to_i64(nonces.len() as u64)?;
        // Of two statements inserting one nonce, the second waits for the
        // first to commit and then inserts nothing; the update runs only
        // when every nonce was new.
        let row = self
            .pg
            .query_one(
                "WITH spent AS ( \
                     INSERT INTO issuer_nonces (nonce, expires_at) \
                     SELECT * FROM unnest($4::text[], $5::bigint[]) \
                     ON CONFLICT (nonce) DO NOTHING RETURNING 1), \
                 live AS (SELECT count(*) = $6 AS ok FROM spent), \
                 updated AS ( \
                     UPDATE issuer_credentials SET record = $3 \
                     WHERE id = $1 AND record = $2 AND (SELECT ok FROM live) RETURNING 1) \
                 SELECT (SELECT ok FROM live), (SELECT count(*) FROM updated)",
                &[
                    &next.id,
                    &encode(current)?,
                    &encode(next)?,
                    &nonces,
                    &expiries,
                    &wanted,
                ],
            )
            .await?;
        let live: bool = row.try_get(0).map_err(PgError::from)?;
        let updated: i64 = row.try_get(1).map_err(PgError::from)?;
        Ok(match (live, updated) {
            (false, _) => IssueOutcome::NonceGone,
            (true, 0) => IssueOutcome::RecordChanged,
            (true, _) => IssueOutcome::Issued,
        })
    }
}

#[async_trait]
impl CredentialStore for PgStore {
    async fn put(&self, record: &CredentialRecord) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO issuer_credentials (id, subject, created_at, record) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET subject = $2, created_at = $3, record = $4",
                &[
                    &record.id,
                    &record.subject,
                    &record.created_at,
                    &encode(record)?,
                ],
            )
            .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.record("SELECT record FROM issuer_credentials WHERE id = $1", id)
            .await
    }

    async fn by_subject(&self, subject: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        self.pg
            .query(
                "SELECT record FROM issuer_credentials WHERE subject = $1 \
                 ORDER BY created_at DESC",
                &[&subject],
            )
            .await?
            .iter()
            .map(|row| decode(row, 0))
            .collect()
    }
}

#[async_trait]
impl PersonStore for PgStore {
    async fn put(&self, person: &Person) -> Result<bool, StoreError> {
        let stored = self
            .pg
            .execute(
                "INSERT INTO issuer_persons (personal_identity_number, record) VALUES ($1, $2) \
                 ON CONFLICT (personal_identity_number) DO NOTHING",
                &[&person.personal_identity_number.as_str(), &encode(person)?],
            )
            .await?;
        Ok(stored == 1)
    }

    async fn get(&self, personal_identity_number: &str) -> Result<Option<Person>, StoreError> {
        self.record(
            "SELECT record FROM issuer_persons WHERE personal_identity_number = $1",
            personal_identity_number,
        )
        .await
    }
}

const KINDS: [&str; 3] = ["par", "login", "code"];

impl PgStore {
    async fn put_authorization(
        &self,
        kind: &str,
        key: &str,
        expires_at: i64,
        value: &impl Serialize,
    ) -> Result<(), StoreError> {
        debug_assert!(KINDS.contains(&kind));
        self.pg
            .execute(
                "INSERT INTO issuer_authorizations (kind, key, expires_at, record) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, key) DO UPDATE SET expires_at = $3, record = $4",
                &[&kind, &key, &expires_at, &encode(value)?],
            )
            .await?;
        Ok(())
    }

    async fn take_authorization<T: DeserializeOwned>(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.pg
            .query_opt(
                "DELETE FROM issuer_authorizations WHERE kind = $1 AND key = $2 RETURNING record",
                &[&kind, &key],
            )
            .await?
            .map(|row| decode(&row, 0))
            .transpose()
    }
}

#[async_trait]
impl AuthorizationStore for PgStore {
    async fn put_pushed(&self, key: &str, pushed: &PushedRequest) -> Result<(), StoreError> {
        self.put_authorization("par", key, pushed.expires_at, pushed)
            .await
    }

    async fn take_pushed(&self, key: &str) -> Result<Option<PushedRequest>, StoreError> {
        self.take_authorization("par", key).await
    }

    async fn put_login(&self, key: &str, login: &PendingLogin) -> Result<(), StoreError> {
        self.put_authorization("login", key, login.expires_at, login)
            .await
    }

    async fn take_login(&self, key: &str) -> Result<Option<PendingLogin>, StoreError> {
        self.take_authorization("login", key).await
    }

    async fn put_code(&self, key: &str, code: &IssuedCode) -> Result<(), StoreError> {
        self.put_authorization("code", key, code.expires_at, code)
            .await
    }

    async fn take_code(&self, key: &str) -> Result<Option<IssuedCode>, StoreError> {
        self.take_authorization("code", key).await
    }
}

#[async_trait]
impl StatusStore for PgStore {
    async fn allocate(&self, count: u64) -> Result<Vec<u64>, StoreError> {
        let rows = self
            .pg
            .query(
                "SELECT nextval('issuer_status_index') FROM generate_series(1, $1::bigint)",
                &[&to_i64(count)?],
            )
            .await?;
        let mut indices = rows
            .iter()
            .map(|row| to_u64(row, 0))
            .collect::<Result<Vec<u64>, _>>()?;
        indices.sort_unstable();
        Ok(indices)
    }

    async fn allocated(&self) -> Result<u64, StoreError> {
        let row = self
            .pg
            .query_one(
                "SELECT CASE WHEN is_called THEN last_value + 1 ELSE 0 END \
                 FROM issuer_status_index",
                &[],
            )
            .await?;
        to_u64(&row, 0)
    }

    async fn set(&self, index: u64, status: u8) -> Result<(), StoreError> {
        self.pg
            .execute(
                "INSERT INTO issuer_status (idx, status, change) \
                 VALUES ($1, $2, nextval('issuer_status_change')) \
                 ON CONFLICT (idx) DO UPDATE SET status = excluded.status, change = excluded.change",
                &[&to_i64(index)?, &i16::from(status)],
            )
            .await?;
        Ok(())
    }

    async fn non_valid(&self, range: Range<u64>) -> Result<Vec<(u64, u8)>, StoreError> {
        let rows = self
            .pg
            .query(
                "SELECT idx, status FROM issuer_status \
                 WHERE idx >= $1 AND idx < $2 AND status <> 0 ORDER BY idx",
                &[&to_i64(range.start)?, &to_i64(range.end)?],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let index: i64 = row.try_get(0).map_err(PgError::from)?;
                let status: i16 = row.try_get(1).map_err(PgError::from)?;
                match (u64::try_from(index), u8::try_from(status)) {
                    (Ok(index), Ok(status)) => Ok((index, status)),
                    _ => Err(StoreError::OutOfRange(index.unsigned_abs())),
                }
            })
            .collect()
    }

    async fn version(&self, range: Range<u64>) -> Result<u64, StoreError> {
        let row = self
            .pg
            .query_one(
                "SELECT coalesce(max(change), 0) FROM issuer_status WHERE idx >= $1 AND idx < $2",
                &[&to_i64(range.start)?, &to_i64(range.end)?],
            )
            .await?;
        to_u64(&row, 0)
    }

    async fn token(&self, list: u64) -> Result<Option<SignedList>, StoreError> {
        let row = self
            .pg
            .query_opt(
                "SELECT version, signed_at, jwt FROM issuer_status_tokens WHERE list = $1",
                &[&to_i64(list)?],
            )
            .await?;
        row.map(|row| {
            Ok(SignedList {
                version: to_u64(&row, 0)?,
                signed_at: row.try_get(1).map_err(PgError::from)?,
                jwt: row.try_get(2).map_err(PgError::from)?,
            })
        })
        .transpose()
    }

    async fn put_token(&self, list: u64, token: &SignedList) -> Result<SignedList, StoreError> {
        let list = to_i64(list)?;
        self.pg
            .execute(
                "INSERT INTO issuer_status_tokens (list, version, signed_at, jwt) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (list) DO UPDATE \
                 SET version = excluded.version, signed_at = excluded.signed_at, jwt = excluded.jwt \
                 WHERE (issuer_status_tokens.version, issuer_status_tokens.signed_at) \
                     < (excluded.version, excluded.signed_at)",
                &[&list, &to_i64(token.version)?, &token.signed_at, &token.jwt],
            )
            .await?;
        let in_force = self.token(list.unsigned_abs()).await?;
        Ok(in_force.unwrap_or_else(|| token.clone()))
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
                "INSERT INTO issuer_replay (key, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE issuer_replay.expires_at <= $3",
                &[&key, &expires_at, &now],
            )
            .await?;
        Ok(recorded == 1)
    }

    async fn purge_expired(&self, now: i64) -> Result<usize, StoreError> {
        let purged = self
            .pg
            .execute("DELETE FROM issuer_replay WHERE expires_at <= $1", &[&now])
            .await?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }
}
