//! [`TransactionKeyStore`] for the embedded (sled) deployment: every key in
//! one file of fixed slots, `transaction-keys/keys.slots`, not in sled.
//!
//! sled appends every record version to its log and keeps old versions
//! until it rewrites a segment, so a key removed from a tree could still
//! be read from the data directory. A slot is instead overwritten in
//! place: destroying a key writes zeros over its slot and syncs the file
//! before it returns, and the slot is used again for a later key.
//!
//! A slot is [`SLOT`] bytes at a multiple of [`SLOT`], so that no slot
//! straddles a 512-byte sector: byte 0 the length of the transaction id
//! (0: free), then the id, zero-padded to byte 64, then the 32-byte key,
//! then zeros. The file is read once at start into an index (id → slot);
//! reads go to the file and check the id in the slot, so a key destroyed
//! and its slot reused meanwhile is never handed out for another
//! transaction. Keys put or destroyed at the same time share one
//! `fdatasync`. (A copy-on-write or journalling file system may still
//! keep old blocks; the claims themselves never reach the disk unsealed.)
//!
//! Earlier versions kept one file per key (`<id>.key`, `<id>.erasing`
//! while being erased): a start moves such keys into slots and overwrites
//! and removes their files.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use intyg_service::GroupSync;

use super::{StoreError, TransactionKeyStore};

/// The size of a slot, in bytes.
pub const SLOT: usize = 128;
/// The file of slots in the key directory.
pub const SLOTS_FILE: &str = "keys.slots";
/// The length of a key.
const KEY_LEN: usize = 32;
/// The longest transaction id a slot holds.
const MAX_ID: usize = 63;
/// Where the key starts in a slot.
const KEY_AT: usize = 1 + MAX_ID;

/// Keys in slots of `<dir>/keys.slots`.
#[derive(Debug, Clone)]
pub struct FileKeys {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: Arc<std::fs::File>,
    index: Mutex<Index>,
    /// The store's backup barrier: a slot changes only while a snapshot
    /// is not being taken, so a backup's keys and records are of one
    /// instant.
    barrier: intyg_service::backup::Barrier,
    /// Keys put or destroyed at the same time share one sync.
    group: GroupSync,
}

/// Which slot holds which transaction's key, and which are free.
#[derive(Debug, Default)]
struct Index {
    slots: HashMap<String, u64>,
    free: Vec<u64>,
    /// Slots in the file.
    len: u64,
}

impl Index {
    /// A free slot, the file's next one if none is.
    fn take(&mut self) -> u64 {
        self.free.pop().unwrap_or_else(|| {
            self.len += 1;
            self.len - 1
        })
    }
}

fn invalid(why: &'static str) -> StoreError {
    StoreError::KeyFile(std::io::Error::new(std::io::ErrorKind::InvalidInput, why))
}

/// Transaction ids are base64url and short; anything else is refused.
fn check_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty()
        || id.len() > MAX_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid(
            "transaction id is not base64url of at most 63 characters",
        ));
    }
    Ok(())
}

/// The slot of `id` holding `key`.
fn slot(id: &str, key: &[u8]) -> [u8; SLOT] {
    let mut slot = [0u8; SLOT];
    slot[0] = id.len() as u8;
    slot[1..1 + id.len()].copy_from_slice(id.as_bytes());
    slot[KEY_AT..KEY_AT + KEY_LEN].copy_from_slice(key);
    slot
}

/// The id of a used slot, `None` for a free (or unreadable) one.
fn slot_id(slot: &[u8]) -> Option<&str> {
    let len = usize::from(*slot.first()?);
    let id = std::str::from_utf8(slot.get(1..1 + len)?).ok()?;
    check_id(id).ok().map(|()| id)
}

/// The extension of an earlier version's key file being erased.
const ERASING: &str = "erasing";

/// Overwrites `path` with zeros, syncs it and unlinks it.
fn wipe(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
    file.write_all(&vec![0u8; len])?;
    file.sync_all()?;
    std::fs::remove_file(path)
}

impl FileKeys {
    /// Opens (or creates, mode 0600 in a 0700 directory) the slots file in
    /// `dir`, reads its index, and moves the keys of an earlier version's
    /// files into slots.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_behind(dir, intyg_service::backup::Barrier::default())
    }

    /// [`FileKeys::open`], every change behind `barrier` (the sled
    /// database's, see [`intyg_service::backup`]).
    pub fn open_behind(
        dir: &Path,
        barrier: intyg_service::backup::Barrier,
    ) -> Result<Self, StoreError> {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        let path = dir.join(SLOTS_FILE);
        let created = !path.exists();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        if created {
            std::fs::File::open(dir)?.sync_all()?;
        }
        let bytes = std::fs::read(&path)?;
        let mut index = Index {
            len: (bytes.len() / SLOT) as u64,
            ..Index::default()
        };
        for (n, chunk) in (0u64..).zip(bytes.chunks_exact(SLOT)) {
            match slot_id(chunk) {
                Some(id) if !index.slots.contains_key(id) => {
                    index.slots.insert(id.to_owned(), n);
                }
                // A free slot, or one no id can be read from.
                _ => index.free.push(n),
            }
        }
        // Highest first, so that `take` fills the file from its start.
        index.free.sort_unstable_by(|a, b| b.cmp(a));
        let keys = Self {
            inner: Arc::new(Inner {
                file: Arc::new(file),
                index: Mutex::new(index),
                barrier,
                group: GroupSync::default(),
            }),
        };
        keys.move_legacy_files(dir)?;
        Ok(keys)
    }

    /// Moves `<id>.key` files into slots (synced first), then overwrites
    /// and removes them; `<id>.erasing` and `<id>.partial` files are
    /// overwritten and removed (their keys were out of reach already).
    fn move_legacy_files(&self, dir: &Path) -> Result<(), StoreError> {
        let mut moved = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("key") => {
                    let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                    let key = std::fs::read(&path)?;
                    if check_id(id).is_ok() && key.len() == KEY_LEN {
                        self.write(id, &key)?;
                    }
                    moved.push(path);
                }
                Some(ERASING | "partial") => wipe(&path)?,
                _ => {}
            }
        }
        if !moved.is_empty() {
            self.inner.file.sync_data()?;
            for path in moved {
                wipe(&path)?;
            }
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Writes the slot of a new key (not yet synced).
    fn write(&self, id: &str, key: &[u8]) -> Result<u64, StoreError> {
        check_id(id)?;
        if key.len() != KEY_LEN {
            return Err(invalid("a transaction key is 32 bytes"));
        }
        let _hold = self.inner.barrier.hold();
        let mut index = self.index();
        if index.slots.contains_key(id) {
            return Err(invalid("this transaction already has a key"));
        }
        let n = index.take();
        if let Err(e) = self
            .inner
            .file
            .write_all_at(&slot(id, key), n * SLOT as u64)
        {
            index.free.push(n);
            return Err(e.into());
        }
        index.slots.insert(id.to_owned(), n);
        Ok(self.inner.group.wrote())
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        // Every change to the index is complete before it unlocks.
        self.inner
            .index
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once the slots written before `ticket` are on disk.
    async fn synced(&self, ticket: u64) -> Result<(), StoreError> {
        let file = self.inner.file.clone();
        Ok(self
            .inner
            .group
            .synced(ticket, move || file.sync_data())
            .await?)
    }
}

#[async_trait]
impl TransactionKeyStore for FileKeys {
    async fn put(&self, transaction_id: &str, key: &[u8]) -> Result<(), StoreError> {
        // One small write to the page cache: not worth a blocking thread.
        let ticket = self.write(transaction_id, key)?;
        self.synced(ticket).await
    }

    async fn get(&self, transaction_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_id(transaction_id)?;
        let Some(n) = self.index().slots.get(transaction_id).copied() else {
            return Ok(None);
        };
        let mut read = [0u8; SLOT];
        self.inner.file.read_exact_at(&mut read, n * SLOT as u64)?;
        // Destroyed (and perhaps reused) since the index was read.
        if slot_id(&read) != Some(transaction_id) {
            return Ok(None);
        }
        Ok(Some(read[KEY_AT..KEY_AT + KEY_LEN].to_vec()))
    }

    async fn destroy(&self, transaction_id: &str) -> Result<(), StoreError> {
        check_id(transaction_id)?;
        let ticket = {
            let _hold = self.inner.barrier.hold();
            let mut index = self.index();
            let Some(n) = index.slots.remove(transaction_id) else {
                return Ok(());
            };
            if let Err(e) = self.inner.file.write_all_at(&[0u8; SLOT], n * SLOT as u64) {
                index.slots.insert(transaction_id.to_owned(), n);
                return Err(e.into());
            }
            index.free.push(n);
            self.inner.group.wrote()
        };
        self.synced(ticket).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("intyg-keys-{name}-{}", uuid::Uuid::new_v4()))
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[tokio::test]
    async fn a_destroyed_key_is_gone_from_the_file_and_its_slot_is_reused() {
        let dir = dir("erase");
        let keys = FileKeys::open(&dir).unwrap();
        keys.put("tx1", &[7u8; 32]).await.unwrap();
        keys.put("tx2", &[8u8; 32]).await.unwrap();
        assert_eq!(keys.get("tx1").await.unwrap(), Some(vec![7u8; 32]));
        let file = dir.join(SLOTS_FILE);
        assert!(contains(&std::fs::read(&file).unwrap(), &[7u8; 32]));
        keys.destroy("tx1").await.unwrap();
        assert_eq!(keys.get("tx1").await.unwrap(), None);
        assert!(!contains(&std::fs::read(&file).unwrap(), &[7u8; 32]));
        // The next key takes the freed slot: the file does not grow.
        keys.put("tx3", &[9u8; 32]).await.unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 2 * SLOT as u64);
        assert_eq!(keys.get("tx1").await.unwrap(), None);
        assert_eq!(keys.get("tx3").await.unwrap(), Some(vec![9u8; 32]));
        // Destroying again changes nothing; bad ids, keys and a second key
        // for one transaction are refused.
        keys.destroy("tx1").await.unwrap();
        assert!(keys.put("../escape", &[1u8; 32]).await.is_err());
        assert!(keys.put(&"a".repeat(64), &[1u8; 32]).await.is_err());
        assert!(keys.put("tx4", &[1u8; 16]).await.is_err());
        assert!(keys.put("tx2", &[1u8; 32]).await.is_err());
        assert_eq!(keys.get("tx2").await.unwrap(), Some(vec![8u8; 32]));
        // What a restart reads is what was written.
        drop(keys);
        let keys = FileKeys::open(&dir).unwrap();
        assert_eq!(keys.get("tx1").await.unwrap(), None);
        assert_eq!(keys.get("tx2").await.unwrap(), Some(vec![8u8; 32]));
        assert_eq!(keys.get("tx3").await.unwrap(), Some(vec![9u8; 32]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_key_being_erased_is_never_read_as_another_transactions() {
        let dir = dir("race");
        let keys = FileKeys::open(&dir).unwrap();
        keys.put("tx1", &[7u8; 32]).await.unwrap();
        // Readers racing the erasure (and the slot's reuse) see the whole
        // key or none.
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let keys = keys.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    for _ in 0..200 {
                        seen.push(keys.get("tx1").await.unwrap());
                    }
                    seen
                })
            })
            .collect();
        keys.destroy("tx1").await.unwrap();
        keys.put("tx2", &[5u8; 32]).await.unwrap();
        for reader in readers {
            for key in reader.await.unwrap() {
                assert!(key.as_ref().is_none_or(|k| *k == [7u8; 32]), "{key:?}");
            }
        }
        assert_eq!(keys.get("tx1").await.unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_start_moves_an_earlier_versions_key_files_into_slots() {
        let dir = dir("legacy");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tx2.erasing"), [9u8; 32]).unwrap();
        std::fs::write(dir.join("tx3.key"), [5u8; 32]).unwrap();
        std::fs::write(dir.join("tx4.partial"), [6u8; 32]).unwrap();
        let keys = FileKeys::open(&dir).unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [SLOTS_FILE]);
        assert_eq!(keys.get("tx3").await.unwrap(), Some(vec![5u8; 32]));
        assert_eq!(keys.get("tx2").await.unwrap(), None);
        let file = std::fs::read(dir.join(SLOTS_FILE)).unwrap();
        assert!(!contains(&file, &[9u8; 32]) && !contains(&file, &[6u8; 32]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
