//! The one place an error becomes what the UI sees: `{code, message}`.
//! The UI localizes by `code`; `message` is the English detail, shown
//! under the localized text.

use intyg_wallet::present::PresentError;
use intyg_wallet::receive::ReceiveError;
use intyg_wallet::trust::TrustError;
use intyg_wallet::{BackupError, CreateError, OpenError, StoreError, UnlockError};
use serde::ser::SerializeStruct as _;

use intyg_wallet::loopback::CallbackError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// There is no wallet yet: create one first.
    #[error("there is no wallet yet")]
    NoWallet,
    /// The wallet is locked: unlock it first.
    #[error("the wallet is locked")]
    Locked,
    /// The offer or request the UI refers to is no longer pending (it was
    /// answered, replaced, or the wallet was locked meanwhile).
    #[error("this offer or request is no longer pending")]
    NotPending,
    /// The person cancelled the step.
    #[error("cancelled")]
    Cancelled,
    /// The UI asked for a credential configuration the offer does not
    /// have.
    #[error("the offer has no credential configuration `{0}`")]
    UnknownConfiguration(String),
    /// The login's redirect URI failed, timed out or was cancelled.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// Creating the wallet failed.
    #[error(transparent)]
    Create(#[from] CreateError),
    /// Opening the wallet failed.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Unlocking or changing the PIN failed.
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    /// Receiving failed.
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    /// Preparing or answering a presentation request failed.
    #[error(transparent)]
    Present(#[from] PresentError),
    /// Backup or restore failed.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// Adding or reading verifier roots failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// An erasure request could not be sent or its answer was refused.
    #[error(transparent)]
    Erase(#[from] intyg_wallet::erasure::EraseError),
    /// A complaint package could not be made.
    #[error(transparent)]
    Report(#[from] intyg_wallet::report::ReportError),
    /// A trust list could not be added, fetched or removed.
    #[error(transparent)]
    TrustList(#[from] intyg_wallet::lists::TrustListError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file the person chose cannot be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A background task panicked or was aborted.
    #[error("an internal task failed")]
    Task,
}

impl AppError {
    /// A stable code, one per thing the person can act on differently.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoWallet => "no_wallet",
            Self::Locked => "locked",
            Self::NotPending => "not_pending",
            Self::Cancelled | Self::Callback(CallbackError::Cancelled) => "cancelled",
            Self::UnknownConfiguration(_) => "unknown_configuration",
            Self::Callback(CallbackError::Timeout(_)) => "authorization_timeout",
            Self::Callback(CallbackError::Bind(_)) => "loopback_unavailable",
            Self::Create(CreateError::AlreadyExists(_)) => "wallet_exists",
            Self::Create(CreateError::WeakPin)
            | Self::Unlock(UnlockError::WeakPin)
            | Self::Backup(BackupError::WeakPin) => "weak_pin",
            Self::Create(_) => "store_failure",
            Self::Open(OpenError::NotAWallet(_)) => "no_wallet",
            Self::Open(OpenError::UnsupportedFormat(_)) => "unsupported_format",
            Self::Open(OpenError::Store(_)) => "store_failure",
            Self::Unlock(UnlockError::WrongPin) => "wrong_pin",
            Self::Unlock(UnlockError::TooManyAttempts { .. }) => "too_many_attempts",
            Self::Unlock(UnlockError::Http(_)) => "network_error",
            Self::Unlock(_) => "store_failure",
            Self::Receive(e) => e.code(),
            Self::Present(e) => e.code(),
            Self::Erase(e) => e.code(),
            Self::Report(e) => e.code(),
            Self::Backup(BackupError::NotABackup(_)) => "not_a_backup",
            Self::Backup(BackupError::WrongPassphrase) => "wrong_passphrase",
            Self::Backup(BackupError::Create(CreateError::AlreadyExists(_))) => "wallet_exists",
            Self::Backup(_) => "store_failure",
            Self::Trust(TrustError::Certificate(_)) => "invalid_certificate",
            Self::Trust(_) => "store_failure",
            Self::TrustList(e) => e.code(),
            Self::Store(StoreError::NotFound(_)) => "not_found",
            Self::Store(_) => "store_failure",
            Self::File { .. } => "file_error",
            Self::Task => "internal",
        }
    }
}

/// What the UI receives when a command fails.
impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut error = serializer.serialize_struct("AppError", 2)?;
        error.serialize_field("code", self.code())?;
        error.serialize_field("message", &self.to_string())?;
        error.end()
    }
}

impl From<tauri::Error> for AppError {
    fn from(_: tauri::Error) -> Self {
        Self::Task
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let json = serde_json::to_value(AppError::Unlock(UnlockError::WrongPin)).unwrap();
        assert_eq!(json["code"], "wrong_pin");
        assert_eq!(json["message"], "wrong PIN");
    }

    #[test]
    fn every_shell_variant_has_its_own_code() {
        let codes = [
            AppError::NoWallet.code(),
            AppError::Locked.code(),
            AppError::NotPending.code(),
            AppError::Cancelled.code(),
            AppError::UnknownConfiguration("x".into()).code(),
            AppError::Callback(CallbackError::Timeout(std::time::Duration::from_secs(300))).code(),
            AppError::Callback(CallbackError::Bind(std::io::Error::other("x"))).code(),
            AppError::Task.code(),
            AppError::File {
                path: "x".into(),
                source: std::io::Error::other("x"),
            }
            .code(),
        ];
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        // Cancelling the wait for the browser is cancelling.
        assert_eq!(
            AppError::Callback(CallbackError::Cancelled).code(),
            AppError::Cancelled.code()
        );
    }

    #[test]
    fn a_timed_out_login_says_how_long_it_waited() {
        let error = AppError::Callback(CallbackError::Timeout(std::time::Duration::from_secs(300)));
        let json = serde_json::to_value(error).unwrap();
        assert_eq!(json["code"], "authorization_timeout");
        assert_eq!(json["message"], "the login did not come back within 300 s");
    }
}
