//! The encrypted store: no plaintext on disk, the PIN and its change,
//! backup and restore, deletion.

use intyg_testkit::{TempDir, TestIssuer, files_containing};
use intyg_wallet::{BackupError, EventKind, UnlockError, Wallet};

use crate::{PIN, dev_config, new_wallet, wallet_with_credential};

/// Claim values of the registration certificate example.
const SECRETS: [&str; 4] = [
    "Lindqvist",
    "199403172381",
    "Karin Elisabet",
    "job_and_development_guarantee",
];

#[tokio::test]
async fn store_files_hold_no_claim_values_and_open_only_with_the_pin() {
    let issuer = TestIssuer::start("store").await;
    let dir = TempDir::new("store");
    let wallet = wallet_with_credential(&dir, &issuer).await;
    let id = wallet.credentials()[0].id.clone();
    assert_eq!(
        wallet.credentials()[0].claims["family_name"],
        "Lindqvist",
        "the wallet itself reads the claims"
    );
    drop(wallet);
    for secret in SECRETS {
        let hits = files_containing(dir.path(), secret.as_bytes());
        assert!(hits.is_empty(), "`{secret}` in plaintext in {hits:?}");
    }
    // Not even the key names say anything: ids are random.
    assert!(files_containing(dir.path(), b"registration_status").is_empty());

    let path = dir.path().join("wallet");
    let locked = Wallet::open(&path, dev_config()).unwrap();
    assert!(matches!(
        locked.unlock("000000"),
        Err(UnlockError::WrongPin)
    ));
    let wallet = Wallet::open(&path, dev_config())
        .unwrap()
        .unlock(PIN)
        .unwrap();
    assert_eq!(wallet.credentials()[0].id, id);
    assert_eq!(wallet.credential(&id[..6]).unwrap().copies.len(), 3);
}

#[tokio::test]
async fn changing_the_pin_rewraps_the_key() {
    let dir = TempDir::new("pin");
    let mut wallet = new_wallet(&dir);
    assert!(matches!(
        wallet.change_pin("999999", "13579"),
        Err(UnlockError::WrongPin)
    ));
    assert!(matches!(
        wallet.change_pin(PIN, "12"),
        Err(UnlockError::WeakPin)
    ));
    wallet.change_pin(PIN, "13579").unwrap();
    let locked = wallet.lock().unwrap();
    let locked = match locked.unlock(PIN) {
        Err(UnlockError::WrongPin) => {
            Wallet::open(&dir.path().join("wallet"), dev_config()).unwrap()
        }
        other => panic!("the old PIN must fail: {other:?}"),
    };
    locked.unlock("13579").unwrap();
}

#[tokio::test]
async fn backup_restores_everything_under_a_new_pin() {
    let issuer = TestIssuer::start("backup").await;
    let dir = TempDir::new("backup");
    let wallet = wallet_with_credential(&dir, &issuer).await;
    let backup = wallet.export_backup("correct horse").unwrap();
    for secret in SECRETS {
        assert!(!backup.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    let target = dir.path().join("restored");
    assert!(matches!(
        Wallet::restore_backup(&target, &backup, "wrong horse", "11111", dev_config()),
        Err(BackupError::WrongPassphrase)
    ));
    assert!(
        !target.join("store").exists(),
        "a failed restore writes nothing"
    );
    let mut tampered = backup.clone();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    assert!(
        Wallet::restore_backup(&target, &tampered, "correct horse", "11111", dev_config()).is_err()
    );

    let restored =
        Wallet::restore_backup(&target, &backup, "correct horse", "11111", dev_config()).unwrap();
    assert_eq!(restored.credentials(), wallet.credentials());
    let id = &wallet.credentials()[0].id;
    assert_eq!(
        restored.credential(id).unwrap(),
        wallet.credential(id).unwrap()
    );
    assert_eq!(restored.history().unwrap(), wallet.history().unwrap());
    drop(restored);
    Wallet::open(&target, dev_config())
        .unwrap()
        .unlock("11111")
        .unwrap();
    assert!(matches!(
        Wallet::restore_backup(&target, b"{}", "correct horse", "11111", dev_config()),
        Err(BackupError::NotABackup(_))
    ));
}

#[tokio::test]
async fn deleting_removes_the_credential_and_keeps_the_history() {
    let issuer = TestIssuer::start("delete").await;
    let dir = TempDir::new("delete");
    let mut wallet = wallet_with_credential(&dir, &issuer).await;
    let id = wallet.credentials()[0].id.clone();
    assert_eq!(wallet.delete(&id).unwrap(), id);
    assert!(wallet.credentials().is_empty());
    assert!(wallet.credential(&id).is_err());
    assert_eq!(wallet.history().unwrap()[0].kind, EventKind::Issuance);
}

#[tokio::test]
async fn wrong_pins_make_the_wallet_wait_and_reopening_does_not_reset_it() {
    let dir = TempDir::new("pin-guessing");
    drop(new_wallet(&dir));
    let path = dir.path().join("wallet");
    let attempt = |pin: &str| Wallet::open(&path, dev_config()).unwrap().unlock(pin);
    // The first wrong PINs only cost the key derivation.
    for guess in 0..intyg_wallet::FREE_PIN_ATTEMPTS {
        assert!(matches!(
            attempt(&format!("00{guess:04}")),
            Err(UnlockError::WrongPin)
        ));
    }
    // Then the wallet waits, the right PIN included: it is not even tried.
    match attempt(PIN) {
        Err(UnlockError::TooManyAttempts { retry_after }) => {
            assert!((1..=30).contains(&retry_after), "{retry_after}");
        }
        other => panic!("{other:?}"),
    }
    // Each refused attempt is refused again, from a freshly opened store.
    let error = attempt("000000").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("too many wrong PINs: try again in")
    );
    assert_eq!(intyg_wallet::pin_wait(intyg_wallet::FREE_PIN_ATTEMPTS), 30);
    assert_eq!(
        intyg_wallet::pin_wait(intyg_wallet::FREE_PIN_ATTEMPTS + 1),
        60
    );
    assert_eq!(intyg_wallet::pin_wait(40), 3600);
    assert_eq!(intyg_wallet::pin_wait(0), 0);
}

#[tokio::test]
async fn a_right_pin_clears_the_count_of_wrong_ones() {
    let dir = TempDir::new("pin-count");
    drop(new_wallet(&dir));
    let path = dir.path().join("wallet");
    let attempt = |pin: &str| Wallet::open(&path, dev_config()).unwrap().unlock(pin);
    for _ in 0..2 {
        for _ in 1..intyg_wallet::FREE_PIN_ATTEMPTS {
            assert!(matches!(attempt("000000"), Err(UnlockError::WrongPin)));
        }
        // Without the reset the second round would end past the limit.
        drop(attempt(PIN).unwrap());
    }
}
