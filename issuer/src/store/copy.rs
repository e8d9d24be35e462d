//! From sled to PostgreSQL: one copy of a stopped sled deployment's state
//! into an empty database, every kind of record counted on both sides
//! (`intyg-issuer --database-url URL --copy-from-sled DIR/db`).

use intyg_service::pg::{Pg, PgConfig};

use super::{NEXT_INDEX, StoreError, Stores, decode, status_entry};
use crate::auth_code::store::{IssuedCode, PendingLogin, PushedRequest};
use crate::model::{AccessGrant, CredentialRecord, Offer, Person};

/// How many records of each kind were copied (and found in PostgreSQL).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Credential offers.
    pub offers: usize,
    /// Access grants.
    pub grants: usize,
    /// Used `c_nonce`s (each stays spent).
    pub nonces: usize,
    /// Credential records.
    pub credentials: usize,
    /// Registered persons.
    pub persons: usize,
    /// Status entries that are not valid (revoked, suspended).
    pub statuses: usize,
    /// Pushed requests, logins in progress and authorization codes.
    pub authorizations: usize,
    /// Remembered `jti`s.
    pub replay: usize,
    /// The next status index, carried over so none is handed out again.
    pub next_index: u64,
}

/// Why the copy did not happen or did not check out.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading sled or writing PostgreSQL failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target database already holds issuer records.
    #[error("the PostgreSQL database already holds issuer records; copy into an empty one")]
    NotEmpty,
    /// A sled key or value has an unexpected shape.
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

fn be_i64(bytes: &[u8], tree: &'static str) -> Result<i64, CopyError> {
    <[u8; 8]>::try_from(bytes)
        .map(i64::from_be_bytes)
        .map_err(|_| CopyError::Malformed(tree))
}

fn be_u64(bytes: &[u8], tree: &'static str) -> Result<u64, CopyError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| CopyError::Malformed(tree))
}

fn text(bytes: &[u8], tree: &'static str) -> Result<String, CopyError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| CopyError::Malformed(tree))
}

fn record<T: serde::de::DeserializeOwned>(
    value: sled::IVec,
    tree: &'static str,
) -> Result<T, CopyError> {
    decode(Some(value))?.ok_or(CopyError::Malformed(tree))
}

/// Copies everything in the sled database `db` (the issuer's, not in use)
/// into the empty database of `target`, then counts each kind there.
/// Signed status list tokens are not copied: they are signed anew.
pub async fn copy_sled_to_postgres(db: &sled::Db, target: &PgConfig) -> Result<Copied, CopyError> {
    let to = Stores::open_pg(target).await?;
    let pg = Pg::connect(target)?;
    let count = |table: &'static str, filter: &'static str| {
        let pg = pg.clone();
        async move {
            let row = pg
                .query_one(&format!("SELECT count(*) FROM {table} {filter}"), &[])
                .await?;
            let n: i64 = row.try_get(0).map_err(intyg_service::pg::PgError::from)?;
            Ok::<usize, CopyError>(usize::try_from(n).unwrap_or(usize::MAX))
        }
    };
    if count("issuer_offers", "").await?
        + count("issuer_credentials", "").await?
        + count("issuer_persons", "").await?
        > 0
    {
        return Err(CopyError::NotEmpty);
    }
    let mut copied = Copied::default();
    for entry in db.open_tree("offers")?.iter() {
        to.offers
            .insert(&record::<Offer>(entry?.1, "offers")?)
            .await?;
        copied.offers += 1;
    }
    for entry in db.open_tree("grants")?.iter() {
        to.grants
            .insert(&record::<AccessGrant>(entry?.1, "grants")?)
            .await?;
        copied.grants += 1;
    }
    for entry in db.open_tree("nonces")?.iter() {
        let (key, value) = entry?;
        let nonce = text(&key, "nonces")?;
        to.nonces
            .use_once(&nonce, be_i64(&value, "nonces")?)
            .await?;
        copied.nonces += 1;
    }
    for entry in db.open_tree("credentials")?.iter() {
        let credential = record::<CredentialRecord>(entry?.1, "credentials")?;
        to.credentials.put(&credential).await?;
        copied.credentials += 1;
    }
    for entry in db.open_tree("persons")?.iter() {
        to.persons
            .put(&record::<Person>(entry?.1, "persons")?)
            .await?;
        copied.persons += 1;
    }
    for entry in db.open_tree("status")?.iter() {
        let (key, value) = entry?;
        let index = be_u64(&key, "status")?;
        let (status, _) = status_entry(&value).ok_or(CopyError::Malformed("status"))?;
        if status != 0 {
            to.status.set(index, status).await?;
            copied.statuses += 1;
        }
    }
    let next = db
        .open_tree("meta")?
        .get(NEXT_INDEX)?
        .map(|b| be_u64(&b, "meta"))
        .transpose()?
        .unwrap_or(0);
    if next > 0 {
        // The sequence's next value is `next`: no index is handed out twice.
        let last = i64::try_from(next - 1).map_err(|_| CopyError::Malformed("meta"))?;
        pg.query_one("SELECT setval('issuer_status_index', $1, true)", &[&last])
            .await?;
    }
    copied.next_index = next;
    for entry in db.open_tree("authorizations")?.iter() {
        let (key, value) = entry?;
        let key = text(&key, "authorizations")?;
        let (kind, secret) = key
            .split_once('\0')
            .ok_or(CopyError::Malformed("authorizations"))?;
        match kind {
            "par" => {
                let pushed: PushedRequest = record(value, "authorizations")?;
                to.authorizations.put_pushed(secret, &pushed).await?;
            }
            "login" => {
                let login: PendingLogin = record(value, "authorizations")?;
                to.authorizations.put_login(secret, &login).await?;
            }
            "code" => {
                let code: IssuedCode = record(value, "authorizations")?;
                to.authorizations.put_code(secret, &code).await?;
            }
            _ => return Err(CopyError::Malformed("authorizations")),
        }
        copied.authorizations += 1;
    }
    for entry in db.open_tree("replay")?.iter() {
        let (key, value) = entry?;
        let key = text(&key, "replay")?;
        to.replay
            .insert_if_absent(&key, be_i64(&value, "replay")?, i64::MIN)
            .await?;
        copied.replay += 1;
    }
    let checks = [
        ("offers", copied.offers, count("issuer_offers", "").await?),
        ("grants", copied.grants, count("issuer_grants", "").await?),
        ("nonces", copied.nonces, count("issuer_nonces", "").await?),
        (
            "credentials",
            copied.credentials,
            count("issuer_credentials", "").await?,
        ),
        (
            "persons",
            copied.persons,
            count("issuer_persons", "").await?,
        ),
        (
            "statuses",
            copied.statuses,
            count("issuer_status", "WHERE status <> 0").await?,
        ),
        (
            "authorizations",
            copied.authorizations,
            count("issuer_authorizations", "").await?,
        ),
        ("replay", copied.replay, count("issuer_replay", "").await?),
    ];
    for (what, sled, postgres) in checks {
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
