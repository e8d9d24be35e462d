//! [`TransactionKeyStore`] for the embedded (sled) deployment: one file
//! per transaction key in its own directory, not in sled.
//!
//! sled appends every record version to its log and keeps old versions
//! until it rewrites a segment, so a key removed from a tree could still
//! be read from the data directory. A file is overwritten with zeros,
//! synced and unlinked instead, and the directory synced after. (A
//! copy-on-write or journalling file system may still keep old blocks; the
//! claims themselves never reach the disk unsealed.)

use std::io::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{StoreError, TransactionKeyStore};

/// Keys as files `<dir>/<transaction id>.key`.
#[derive(Debug, Clone)]
pub struct FileKeys {
    dir: PathBuf,
    /// The store's backup barrier: a key file changes only while a
    /// snapshot is not being taken, so a backup's keys and records are
    /// of one instant.
    barrier: intyg_service::backup::Barrier,
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
            barrier: intyg_service::backup::Barrier::default(),
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

    fn sync_dir(&self) -> std::io::Result<()> {
        std::fs::File::open(&self.dir)?.sync_all()
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
        let this = self.clone();
        let key = key.to_vec();
        blocking(move || {
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
            this.sync_dir()?;
            Ok(())
        })
        .await
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
        blocking(move || {
            let _hold = this.barrier.hold();
            match std::fs::OpenOptions::new().write(true).open(&path) {
                Ok(mut file) => {
                    let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
                    file.write_all(&vec![0u8; len])?;
                    file.sync_all()?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            std::fs::remove_file(&path)?;
            this.sync_dir()?;
            Ok(())
        })
        .await
    }
}
