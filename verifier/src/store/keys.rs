//! [`TransactionKeyStore`] for the embedded (sled) deployment: one file
//! per transaction key in its own directory, not in sled.
//!
//! sled appends every record version to its log and keeps old versions
//! until it rewrites a segment, so a key removed from a tree could still
//! be read from the data directory. A file is first renamed out of
//! readers' way (`<id>.erasing`: a concurrent read finds no key, never a
//! half-overwritten one), then overwritten with zeros, synced and
//! unlinked, and the directory synced after (one directory sync for the
//! keys put or destroyed at the same time); a start finishes what a crash
//! interrupted. (A copy-on-write or journalling file system may still keep
//! old blocks; the claims themselves never reach the disk unsealed.)

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use intyg_service::GroupSync;

use super::{StoreError, TransactionKeyStore};

/// Keys as files `<dir>/<transaction id>.key`.
#[derive(Debug, Clone)]
pub struct FileKeys {
    dir: PathBuf,
    /// The store's backup barrier: a key file changes only while a
    /// snapshot is not being taken, so a backup's keys and records are
    /// of one instant.
    barrier: intyg_service::backup::Barrier,
    /// Keys put or destroyed at the same time share one directory sync.
    group: Arc<GroupSync>,
}

impl FileKeys {
    /// Creates the directory if needed (mode 0700 on Unix), and finishes
    /// the erasures a crash interrupted.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        // The key of such a file was already out of reach.
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == ERASING) {
                wipe(&path)?;
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            barrier: intyg_service::backup::Barrier::default(),
            group: Arc::default(),
        })
    }

    /// The same keys, their changes behind `barrier` (the sled
    /// database's, see [`intyg_service::backup`]).
    pub fn behind(self, barrier: intyg_service::backup::Barrier) -> Self {
        Self { barrier, ..self }
    }

    /// The file of a transaction id; ids are base64url, anything else is
    /// refused so that no id names a path outside the directory.
    fn path(&self, id: &str) -> Result<PathBuf, StoreError> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(StoreError::KeyFile(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "transaction id is not base64url",
            )));
        }
        Ok(self.dir.join(format!("{id}.key")))
    }

    /// Returns once the directory entries made or removed before `ticket`
    /// are on disk.
    async fn sync_dir(&self, ticket: u64) -> Result<(), StoreError> {
        let dir = self.dir.clone();
        Ok(self
            .group
            .synced(ticket, move || std::fs::File::open(&dir)?.sync_all())
            .await?)
    }
}

/// The extension of a key file being erased.
const ERASING: &str = "erasing";

/// Overwrites `path` with zeros, syncs it and unlinks it.
fn wipe(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
    file.write_all(&vec![0u8; len])?;
    file.sync_all()?;
    std::fs::remove_file(path)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::KeyFile(std::io::Error::other(e.to_string())))?
}

#[async_trait]
impl TransactionKeyStore for FileKeys {
    async fn put(&self, transaction_id: &str, key: &[u8]) -> Result<(), StoreError> {
        let path = self.path(transaction_id)?;
        let this = self.clone();
        let key = key.to_vec();
        let ticket = blocking(move || {
            let _hold = this.barrier.hold();
            let partial = path.with_extension("partial");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&partial)?;
            file.write_all(&key)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)?;
            Ok(this.group.wrote())
        })
        .await?;
        self.sync_dir(ticket).await
    }

    async fn get(&self, transaction_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(transaction_id)?;
        blocking(move || match std::fs::read(&path) {
            Ok(key) => Ok(Some(key)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await
    }

    async fn destroy(&self, transaction_id: &str) -> Result<(), StoreError> {
        let path = self.path(transaction_id)?;
        let this = self.clone();
        let ticket = blocking(move || {
            let _hold = this.barrier.hold();
            let erasing = path.with_extension(ERASING);
            match std::fs::rename(&path, &erasing) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            wipe(&erasing)?;
            Ok(Some(this.group.wrote()))
        })
        .await?;
        match ticket {
            Some(ticket) => self.sync_dir(ticket).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("intyg-keys-{name}-{}", uuid::Uuid::new_v4()))
    }

    #[tokio::test]
    async fn a_key_being_erased_is_never_read_half_overwritten() {
        let dir = dir("erase");
        let keys = FileKeys::open(&dir).unwrap();
        keys.put("tx1", &[7u8; 32]).await.unwrap();
        // Readers racing the erasure see the whole key or none.
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let keys = keys.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    for _ in 0..50 {
                        seen.push(keys.get("tx1").await.unwrap());
                    }
                    seen
                })
            })
            .collect();
        keys.destroy("tx1").await.unwrap();
        for reader in readers {
            for key in reader.await.unwrap() {
                assert!(key.as_ref().is_none_or(|k| *k == [7u8; 32]), "{key:?}");
            }
        }
        assert_eq!(keys.get("tx1").await.unwrap(), None);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        // Destroying again, or a path outside the directory, changes nothing.
        keys.destroy("tx1").await.unwrap();
        assert!(keys.put("../escape", &[1u8; 32]).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_start_finishes_an_erasure_a_crash_interrupted() {
        let dir = dir("crash");
        drop(FileKeys::open(&dir).unwrap());
        std::fs::write(dir.join("tx2.erasing"), [9u8; 32]).unwrap();
        std::fs::write(dir.join("tx3.key"), [5u8; 32]).unwrap();
        let keys = FileKeys::open(&dir).unwrap();
        assert!(!dir.join("tx2.erasing").exists());
        assert_eq!(keys.get("tx3").await.unwrap(), Some(vec![5u8; 32]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
