//! [`TransactionKeyStore`] for the embedded (sled) deployment: one file
//! per transaction key in its own directory, not in sled.
//!
//! sled appends every record version to its log and keeps old versions
//! until it rewrites a segment, so a key removed from a tree could still
//! be read from the data directory. A file is overwritten with zeros,
//! synced and unlinked instead, and the directory synced after (one
//! directory sync for the keys put or destroyed at the same time). (A
//! copy-on-write or journalling file system may still keep old blocks; the
//! claims themselves never reach the disk unsealed.)

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
    /// Keys put or destroyed at the same time share one directory sync.
    group: Arc<GroupSync>,
}

impl FileKeys {
    /// Creates the directory if needed (mode 0700 on Unix).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            group: Arc::default(),
        })
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
        let group = self.group.clone();
        let key = key.to_vec();
        let ticket = blocking(move || {
            let partial = path.with_extension("partial");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&partial)?;
            file.write_all(&key)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)?;
            Ok(group.wrote())
        })
        .await?;
        self.sync_dir(ticket).await
    }

    async fn get(&self, transaction_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(transaction_id)?;
        blocking(move || match std::fs::read(&path) {
            // Zeros: `destroy` is overwriting the key before it unlinks
            // the file. The key is gone, not corrupt.
            Ok(key) if key.iter().all(|&b| b == 0) => Ok(None),
            Ok(key) => Ok(Some(key)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await
    }

    async fn destroy(&self, transaction_id: &str) -> Result<(), StoreError> {
        let path = self.path(transaction_id)?;
        let group = self.group.clone();
        let ticket = blocking(move || {
            match std::fs::OpenOptions::new().write(true).open(&path) {
                Ok(mut file) => {
                    let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
                    file.write_all(&vec![0u8; len])?;
                    file.sync_all()?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            std::fs::remove_file(&path)?;
            Ok(Some(group.wrote()))
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

    #[tokio::test]
    async fn a_key_read_while_it_is_being_destroyed_is_gone() {
        let dir = std::env::temp_dir().join(format!("intyg-keys-{}", std::process::id()));
        let keys = FileKeys::open(&dir).unwrap();
        keys.put("tx-1", &[7u8; 32]).await.unwrap();
        keys.put("tx-2", &[9u8; 32]).await.unwrap();
        assert_eq!(keys.get("tx-1").await.unwrap(), Some(vec![7u8; 32]));
        // What `destroy` leaves between overwriting and unlinking.
        std::fs::write(dir.join("tx-1.key"), [0u8; 32]).unwrap();
        assert_eq!(keys.get("tx-1").await.unwrap(), None);
        keys.destroy("tx-2").await.unwrap();
        assert_eq!(keys.get("tx-2").await.unwrap(), None);
        assert!(!dir.join("tx-2.key").exists());
        keys.destroy("tx-2").await.unwrap();
        assert!(keys.put("../escape", &[1u8; 32]).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
