//! The wallet engine against the real issuer (in-process, over loopback)
//! and a test verifier built from `intyg-core`, with real sled stores in
//! temporary directories.

mod authorize;
mod dpop;
mod lists;
mod present;
mod receive;
mod status;
mod store;

use intyg_testkit::{KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer};
use intyg_wallet::{KdfParams, Wallet, WalletConfig};

pub(crate) const PIN: &str = "246810";

/// Dev mode (http on loopback) and cheap argon2 so tests run fast.
pub(crate) fn dev_config() -> WalletConfig {
    WalletConfig {
        kdf: KdfParams::dangerous_insecure_for_tests(),
        ..WalletConfig::dangerous_dev()
    }
}

pub(crate) fn new_wallet(dir: &TempDir) -> Wallet {
    Wallet::create(&dir.path().join("wallet"), PIN, dev_config()).unwrap()
}

/// A wallet outside dev mode (https only, no private addresses) in `dir`.
pub(crate) fn production_wallet(dir: &TempDir) -> Wallet {
    let config = WalletConfig {
        dev: false,
        ..dev_config()
    };
    Wallet::create(&dir.path().join("wallet"), PIN, config).unwrap()
}

/// A registration certificate for Karin offered by `issuer` and received
/// with its PIN: its id in the wallet and its record id at the issuer.
pub(crate) async fn receive(wallet: &mut Wallet, issuer: &TestIssuer) -> (String, String) {
    let created = issuer.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let offer = wallet.fetch_offer(&created.offer_uri).await.unwrap();
    let received = wallet.accept(offer, Some(&created.tx_code)).await.unwrap();
    (
        received.credentials[0].id.clone(),
        created.credential_ids[0].clone(),
    )
}

/// A new wallet in `dir` holding one credential from `issuer`.
pub(crate) async fn wallet_with_credential(dir: &TempDir, issuer: &TestIssuer) -> Wallet {
    let mut wallet = new_wallet(dir);
    receive(&mut wallet, issuer).await;
    wallet
}
