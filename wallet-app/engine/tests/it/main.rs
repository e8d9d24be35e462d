//! The wallet engine against the real issuer (in-process, over loopback)
//! and a test verifier built from `intyg-core`, with real sled stores in
//! temporary directories.

mod authorize;
mod present;
mod receive;
mod status;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use intyg_issuer::config::Config;
use intyg_issuer::{AppState, app};
use intyg_wallet::{KdfParams, Wallet, WalletConfig};
use serde_json::{Value, json};

pub(crate) const API_KEY: &str = "wallet-test-api-key-0123456789";
pub(crate) const PIN: &str = "246810";

/// A directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "intyg-wallet-{name}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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

/// A running issuer.
pub(crate) struct Issuer {
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
    _dir: TempDir,
}

impl Issuer {
    pub(crate) async fn start(name: &str) -> Self {
        let dir = TempDir::new(&format!("issuer-{name}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::dev(dir.0.clone(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        let state = AppState::open(config).unwrap();
        let router = app(state);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// An offer of `kind` with the type's example claims: (link, PIN).
    pub(crate) async fn offer(&self, kind: &str) -> (String, String) {
        let created: Value = self
            .http
            .post(format!("{}/api/offers", self.url))
            .bearer_auth(API_KEY)
            .json(&json!({"credential_configuration_id": kind, "claims": example(kind), "subject": "199403172381"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            created["offer_uri"].as_str().unwrap().to_owned(),
            created["tx_code"].as_str().unwrap().to_owned(),
        )
    }
}

/// The example claims of a credential type.
pub(crate) fn example(kind: &str) -> Value {
    let path = format!(
        "{}/../../specs/credentials/{kind}/example.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every file under `dir`, read as bytes.
pub(crate) fn files_contain(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                hits.push(path);
            }
        }
    }
    hits
}
