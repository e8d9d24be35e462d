//! The issuer over a real loopback socket, with a real sled store in a
//! temporary directory.

mod admin;
mod auth_code;
mod crash;
mod flow;
mod portal;

use std::net::SocketAddr;
use std::path::PathBuf;

use intyg_issuer::config::Config;
use intyg_issuer::{AppState, app};

pub(crate) const API_KEY: &str = "test-api-key-0123456789";

/// A running issuer.
pub(crate) struct Issuer {
    pub(crate) url: String,
    pub(crate) state: AppState,
    pub(crate) http: reqwest::Client,
    _dir: TempDir,
}

/// A directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("intyg-issuer-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Issuer {
    pub(crate) async fn start(name: &str) -> Self {
        let dir = TempDir::new(name);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::dev(dir.0.clone(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        let state = AppState::open(config).unwrap();
        let router = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            state,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    pub(crate) fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(API_KEY)
    }
}

/// The example claims of a credential type.
pub(crate) fn example(kind: &str) -> serde_json::Value {
    let path = format!(
        "{}/../specs/credentials/{kind}/example.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
