//! Encrypted backup: one file holding every record.
//!
//! The file is JSON: `format`, the data key of the backup wrapped under a
//! key derived from the backup passphrase (argon2id, fresh salt), and
//! `payload`, every record sealed as one blob under that data key. Nothing
//! about the records (how many, which trees) shows outside the blob.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoError, DataKey, WrappedKey};
use crate::store::PlainRecord;
use crate::{CreateError, MIN_PIN_LEN, StoreError, Wallet, WalletConfig};

const BACKUP_FORMAT: &str = "intyg-wallet-backup/1";
const PAYLOAD_AAD: &[u8] = b"intyg-wallet-backup/1 payload";

/// Why a backup could not be written or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file is not a wallet backup, or not one this version reads.
    #[error("not an intyg wallet backup: {0}")]
    NotABackup(String),
    /// The passphrase does not open the backup (or the file was altered).
    #[error("wrong backup passphrase, or the backup was altered")]
    WrongPassphrase,
    /// The passphrase or the new PIN is shorter than [`MIN_PIN_LEN`].
    #[error("the passphrase and PIN must have at least {MIN_PIN_LEN} characters")]
    WeakPin,
    /// Sealing or key derivation failed.
    #[error(transparent)]
    Crypto(CryptoError),
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Creating the target wallet failed (e.g. one exists there).
    #[error(transparent)]
    Create(#[from] CreateError),
}

impl From<CryptoError> for BackupError {
    fn from(error: CryptoError) -> Self {
        match error {
            CryptoError::Open => Self::WrongPassphrase,
            other => Self::Crypto(other),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct BackupFile {
    format: String,
    key: WrappedKey,
    payload: String,
}

impl Wallet {
    /// Every record, sealed under a fresh key wrapped with `passphrase`.
    pub fn export_backup(&self, passphrase: &str) -> Result<Vec<u8>, BackupError> {
        if passphrase.chars().count() < MIN_PIN_LEN {
            return Err(BackupError::WeakPin);
        }
        let records = self.store.dump(&self.key)?;
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&records).map_err(|e| BackupError::NotABackup(e.to_string()))?,
        );
        let backup_key = DataKey::generate()?;
        let file = BackupFile {
            format: BACKUP_FORMAT.into(),
            key: WrappedKey::wrap(&backup_key, passphrase, self.config.kdf)?,
            payload: URL_SAFE_NO_PAD.encode(backup_key.seal(PAYLOAD_AAD, &plain)?),
        };
        serde_json::to_vec_pretty(&file).map_err(|e| BackupError::NotABackup(e.to_string()))
    }

    /// Creates a wallet in `dir` from a backup, protected by `new_pin`.
    /// The backup is opened and checked in full before anything is
    /// written.
    pub fn restore_backup(
        dir: &Path,
        backup: &[u8],
        passphrase: &str,
        new_pin: &str,
        config: WalletConfig,
    ) -> Result<Wallet, BackupError> {
        if new_pin.chars().count() < MIN_PIN_LEN {
            return Err(BackupError::WeakPin);
        }
        let file: BackupFile =
            serde_json::from_slice(backup).map_err(|e| BackupError::NotABackup(e.to_string()))?;
        if file.format != BACKUP_FORMAT {
            return Err(BackupError::NotABackup(format!("format {}", file.format)));
        }
        let backup_key = file.key.unwrap_key(passphrase)?;
        let sealed = URL_SAFE_NO_PAD
            .decode(&file.payload)
            .map_err(|_| BackupError::NotABackup("payload is not base64url".into()))?;
        let plain = backup_key.open(PAYLOAD_AAD, &sealed)?;
        let records: Vec<PlainRecord> =
            serde_json::from_slice(&plain).map_err(|e| BackupError::NotABackup(e.to_string()))?;
        let wallet = Wallet::create(dir, new_pin, config)?;
        wallet.store.load(&wallet.key, &records)?;
        let Wallet {
            dir,
            store,
            key,
            config,
            ..
        } = wallet;
        Wallet::load(dir, store, key, config).map_err(|e| match e {
            crate::UnlockError::Store(e) => BackupError::Store(e),
            other => BackupError::NotABackup(other.to_string()),
        })
    }
}
