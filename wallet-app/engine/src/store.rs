//! The encrypted sled store. Business logic lives in the wallet; this only
//! seals, opens, reads and writes.
//!
//! Trees, each keyed by random ids (history by a sled counter), every value
//! sealed with the data key and bound to its tree and key:
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `header` | [`Header`]: format and the wrapped data key (the only clear value) |
//! | `credentials` | credential id | [`CredentialEntry`] |
//! | `copies` | credential id | `Vec<CredentialCopy>` |
//! | `keys` | key id | the private JWK of a holder key |
//! | `history` | counter, big-endian | [`HistoryEntry`] |
//! | `trust` | root id | a trusted verifier root certificate (DER) |
//! | `wrprc_roots` | root id | a trusted WRPRC provider root (DER) |
//! | `trust_lists` | list URL | a trust-list subscription and its last good list |

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::Tree;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional as _};

use crate::crypto::{CryptoError, DataKey, WrappedKey};
use crate::lists::Subscription;
use crate::model::{CredentialCopy, CredentialEntry, HistoryEntry};

/// The store format this code writes and reads.
pub(crate) const FORMAT: &str = "intyg-wallet/1";

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, or the directory is locked by another process).
    #[error("wallet store: {0}")]
    Sled(#[from] sled::Error),
    /// A record does not open or does not parse: the store was altered.
    #[error("wallet record {tree}/{key} is corrupt: {reason}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// The record key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Sealing failed.
    #[error("sealing a record: {0}")]
    Crypto(#[from] CryptoError),
    /// No credential has this id (or id prefix).
    #[error("no credential `{0}`")]
    NotFound(String),
    /// Several credentials start with this id prefix.
    #[error("`{0}` names more than one credential; give more of the id")]
    Ambiguous(String),
}

/// The clear header: the format and the wrapped data key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: String,
    pub(crate) key: WrappedKey,
}

/// Wrong PINs in a row, kept in the clear beside the header (they say
/// nothing of the holder).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct PinFailures {
    pub(crate) count: u32,
    /// Seconds since the epoch of the last one.
    pub(crate) last_at: i64,
}

/// A record as a backup carries it: tree, key, plaintext JSON.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PlainRecord {
    pub(crate) tree: String,
    pub(crate) key: String,
    pub(crate) value: serde_json::Value,
}

#[derive(Debug)]
pub(crate) struct Store {
    db: sled::Db,
    meta: Tree,
    credentials: Tree,
    copies: Tree,
    keys: Tree,
    history: Tree,
    trust: Tree,
    wrprc_roots: Tree,
    trust_lists: Tree,
}

// Slots of the trees a transaction writes, in `transact`'s order.
const CREDENTIALS: usize = 0;
const COPIES: usize = 1;
const KEYS: usize = 2;
const HISTORY: usize = 3;

const SEALED_TREES: [&str; 7] = [
    "credentials",
    "copies",
    "keys",
    "history",
    "trust",
    "wrprc_roots",
    "trust_lists",
];

/// How long [`open_db`] waits for the store's lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens sled in `path`. sled holds the directory's lock until the last
/// handle of a closed store is gone, its flusher thread's included, which
/// may be a moment after the wallet that used it was dropped (the CLI run
/// twice in a row, the app reopening): the lock is asked for again for up
/// to [`LOCK_WAIT`], then the error is returned.
fn open_db(path: &Path) -> Result<sled::Db, sled::Error> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new().path(path).open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            opened => return opened,
        }
    }
}

impl Store {
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = open_db(&dir.join("store"))?;
        Ok(Self {
            meta: db.open_tree("meta")?,
            credentials: db.open_tree("credentials")?,
            copies: db.open_tree("copies")?,
            keys: db.open_tree("keys")?,
            history: db.open_tree("history")?,
            trust: db.open_tree("trust")?,
            wrprc_roots: db.open_tree("wrprc_roots")?,
            trust_lists: db.open_tree("trust_lists")?,
            db,
        })
    }

    fn tree(&self, name: &str) -> Option<&Tree> {
        match name {
            "credentials" => Some(&self.credentials),
            "copies" => Some(&self.copies),
            "keys" => Some(&self.keys),
            "history" => Some(&self.history),
            "trust" => Some(&self.trust),
            "wrprc_roots" => Some(&self.wrprc_roots),
            "trust_lists" => Some(&self.trust_lists),
            _ => None,
        }
    }

    pub(crate) fn header(&self) -> Result<Option<Header>, StoreError> {
        let Some(bytes) = self.meta.get("header")? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt("meta", "header", e))
    }

    pub(crate) fn pin_failures(&self) -> Result<Option<PinFailures>, StoreError> {
        let Some(bytes) = self.meta.get("pin_failures")? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt("meta", "pin_failures", e))
    }

    /// Records wrong PINs, on disk before the answer.
    pub(crate) fn set_pin_failures(&self, failures: &PinFailures) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(failures).map_err(|e| corrupt("meta", "pin_failures", e))?;
        self.meta.insert("pin_failures", bytes)?;
        self.db.flush()?;
        Ok(())
    }

    pub(crate) fn clear_pin_failures(&self) -> Result<(), StoreError> {
        self.meta.remove("pin_failures")?;
        self.db.flush()?;
        Ok(())
    }

    pub(crate) fn set_header(&self, header: &Header) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(header).map_err(|e| corrupt("meta", "header", e))?;
        self.meta.insert("header", bytes)?;
        self.db.flush()?;
        Ok(())
    }

    pub(crate) fn entries(&self, key: &DataKey) -> Result<Vec<CredentialEntry>, StoreError> {
        self.all(key, "credentials")
    }

    pub(crate) fn copies(
        &self,
        key: &DataKey,
        id: &str,
    ) -> Result<Vec<CredentialCopy>, StoreError> {
        self.get(key, "copies", id)?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    pub(crate) fn holder_key(
        &self,
        key: &DataKey,
        key_id: &str,
    ) -> Result<intyg_core::jose::Jwk, StoreError> {
        self.get(key, "keys", key_id)?
            .ok_or_else(|| StoreError::NotFound(format!("key {key_id}")))
    }

    pub(crate) fn history(&self, key: &DataKey) -> Result<Vec<HistoryEntry>, StoreError> {
        self.all(key, "history")
    }

    pub(crate) fn trust_roots(&self, key: &DataKey) -> Result<Vec<Vec<u8>>, StoreError> {
        self.all(key, "trust")
    }

    pub(crate) fn add_trust_root(
        &self,
        key: &DataKey,
        id: &str,
        der: &[u8],
    ) -> Result<(), StoreError> {
        let sealed = seal(key, "trust", id, &der)?;
        self.trust.insert(id, sealed)?;
        self.db.flush()?;
        Ok(())
    }

    /// The trusted WRPRC provider roots (DER).
    pub(crate) fn wrprc_roots(&self, key: &DataKey) -> Result<Vec<Vec<u8>>, StoreError> {
        self.all(key, "wrprc_roots")
    }

    pub(crate) fn add_wrprc_root(
        &self,
        key: &DataKey,
        id: &str,
        der: &[u8],
    ) -> Result<(), StoreError> {
        let sealed = seal(key, "wrprc_roots", id, &der)?;
        self.wrprc_roots.insert(id, sealed)?;
        self.db.flush()?;
        Ok(())
    }

    /// The trust-list subscriptions.
    pub(crate) fn trust_lists(&self, key: &DataKey) -> Result<Vec<Subscription>, StoreError> {
        self.all(key, "trust_lists")
    }

    pub(crate) fn trust_list(
        &self,
        key: &DataKey,
        url: &str,
    ) -> Result<Option<Subscription>, StoreError> {
        self.get(key, "trust_lists", url)
    }

    pub(crate) fn put_trust_list(
        &self,
        key: &DataKey,
        subscription: &Subscription,
    ) -> Result<(), StoreError> {
        let sealed = seal(key, "trust_lists", &subscription.url, subscription)?;
        self.trust_lists.insert(subscription.url.as_str(), sealed)?;
        self.db.flush()?;
        Ok(())
    }

    /// Removes a subscription; whether there was one.
    pub(crate) fn remove_trust_list(&self, url: &str) -> Result<bool, StoreError> {
        let removed = self.trust_lists.remove(url)?.is_some();
        self.db.flush()?;
        Ok(removed)
    }

    pub(crate) fn append_history(
        &self,
        key: &DataKey,
        entry: &HistoryEntry,
    ) -> Result<(), StoreError> {
        self.write(key, None, &[], Some(entry))
    }

    /// Replaces the history entry with `entry.id`, under its counter.
    pub(crate) fn replace_history(
        &self,
        key: &DataKey,
        entry: &HistoryEntry,
    ) -> Result<(), StoreError> {
        for item in self.history.iter() {
            let (counter, sealed) = item?;
            let name = hex(&counter);
            let stored: HistoryEntry = open(key, "history", &name, &sealed)?;
            if stored.id == entry.id {
                self.history
                    .insert(counter, seal(key, "history", &name, entry)?)?;
                self.db.flush()?;
                return Ok(());
            }
        }
        Err(StoreError::NotFound(entry.id.clone()))
    }

    /// Writes a credential (entry, copies and new holder keys) and a
    /// history entry in one transaction. Without `credential`, only the
    /// history entry.
    pub(crate) fn write(
        &self,
        key: &DataKey,
        credential: Option<(&CredentialEntry, &[CredentialCopy])>,
        new_keys: &[(String, intyg_core::jose::Jwk)],
        history: Option<&HistoryEntry>,
    ) -> Result<(), StoreError> {
        let mut puts: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
        if let Some((entry, copies)) = credential {
            puts.push((
                CREDENTIALS,
                entry.id.clone().into_bytes(),
                seal(key, "credentials", &entry.id, entry)?,
            ));
            puts.push((
                COPIES,
                entry.id.clone().into_bytes(),
                seal(key, "copies", &entry.id, &copies)?,
            ));
        }
        for (id, jwk) in new_keys {
            puts.push((KEYS, id.clone().into_bytes(), seal(key, "keys", id, jwk)?));
        }
        if let Some(entry) = history {
            let counter = self.db.generate_id()?.to_be_bytes();
            let name = hex(&counter);
            puts.push((
                HISTORY,
                counter.to_vec(),
                seal(key, "history", &name, entry)?,
            ));
        }
        self.transact(&puts, &[])
    }

    /// Removes a credential, its copies and their keys.
    pub(crate) fn delete(&self, key: &DataKey, id: &str) -> Result<(), StoreError> {
        let copies = self.copies(key, id)?;
        let mut removals: Vec<(usize, Vec<u8>)> = vec![
            (CREDENTIALS, id.as_bytes().to_vec()),
            (COPIES, id.as_bytes().to_vec()),
        ];
        for copy in &copies {
            removals.push((KEYS, copy.key_id.as_bytes().to_vec()));
        }
        self.transact(&[], &removals)
    }

    fn transact(
        &self,
        puts: &[(usize, Vec<u8>, Vec<u8>)],
        removals: &[(usize, Vec<u8>)],
    ) -> Result<(), StoreError> {
        (&self.credentials, &self.copies, &self.keys, &self.history)
            .transaction(|(credentials, copies, keys, history)| {
                let views = [credentials, copies, keys, history];
                for (tree, k, v) in puts {
                    views[*tree].insert(k.as_slice(), v.as_slice())?;
                }
                for (tree, k) in removals {
                    views[*tree].remove(k.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        self.db.flush()?;
        Ok(())
    }

    fn get<T: DeserializeOwned>(
        &self,
        key: &DataKey,
        tree: &'static str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(t) = self.tree(tree) else {
            return Ok(None);
        };
        t.get(id)?
            .map(|sealed| open(key, tree, id, &sealed))
            .transpose()
    }

    fn all<T: DeserializeOwned>(
        &self,
        key: &DataKey,
        tree: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let Some(t) = self.tree(tree) else {
            return Ok(Vec::new());
        };
        t.iter()
            .map(|item| {
                let (k, sealed) = item?;
                open(key, tree, &record_name(tree, &k), &sealed)
            })
            .collect()
    }

    /// Every sealed record, opened: for a backup.
    pub(crate) fn dump(&self, key: &DataKey) -> Result<Vec<PlainRecord>, StoreError> {
        let mut out = Vec::new();
        for tree in SEALED_TREES {
            let Some(t) = self.tree(tree) else { continue };
            for item in t.iter() {
                let (k, sealed) = item?;
                let name = record_name(tree, &k);
                let value = open(key, tree, &name, &sealed)?;
                out.push(PlainRecord {
                    tree: tree.to_owned(),
                    key: name,
                    value,
                });
            }
        }
        Ok(out)
    }

    /// Writes records from a backup into this (empty) store.
    pub(crate) fn load(&self, key: &DataKey, records: &[PlainRecord]) -> Result<(), StoreError> {
        for record in records {
            let Some(tree) = SEALED_TREES.iter().find(|t| **t == record.tree) else {
                return Err(StoreError::Corrupt {
                    tree: "backup",
                    key: record.key.clone(),
                    reason: format!("unknown tree {}", record.tree),
                });
            };
            let Some(t) = self.tree(tree) else { continue };
            let raw_key = if *tree == "history" {
                self.db.generate_id()?.to_be_bytes().to_vec()
            } else {
                record.key.clone().into_bytes()
            };
            let name = record_name(tree, &raw_key);
            t.insert(raw_key, seal(key, tree, &name, &record.value)?)?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// Whether the store has no header yet.
    pub(crate) fn is_new(&self) -> Result<bool, StoreError> {
        Ok(self.header()?.is_none())
    }
}

/// The printable name of a record key: the id itself, or hex for the
/// history counter.
fn record_name(tree: &str, key: &[u8]) -> String {
    if tree == "history" {
        hex(key)
    } else {
        String::from_utf8_lossy(key).into_owned()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn aad(tree: &str, key: &str) -> Vec<u8> {
    format!("{FORMAT}/{tree}/{key}").into_bytes()
}

fn seal<T: Serialize + ?Sized>(
    key: &DataKey,
    tree: &'static str,
    id: &str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    let plain =
        zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(|e| corrupt(tree, id, e))?);
    Ok(key.seal(&aad(tree, id), &plain)?)
}

fn open<T: DeserializeOwned>(
    key: &DataKey,
    tree: &'static str,
    id: &str,
    sealed: &[u8],
) -> Result<T, StoreError> {
    let plain = key
        .open(&aad(tree, id), sealed)
        .map_err(|e| corrupt(tree, id, e))?;
    serde_json::from_slice(&plain).map_err(|e| corrupt(tree, id, e))
}

fn corrupt(tree: &'static str, key: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        tree,
        key: key.to_owned(),
        reason: reason.to_string(),
    }
}
