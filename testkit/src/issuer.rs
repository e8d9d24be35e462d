//! A real `intyg-issuer` served in-process on a loopback port.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use intyg_core::jose::{Jwk, SigningKey, VerifyingKey};
use intyg_core::oid4vci::id::CNonce;
use intyg_core::oid4vci::nonce::NonceResponse;
use intyg_issuer::auth_code::OidcConfig;
use intyg_issuer::config::Config;
use intyg_issuer::dev_idp::{self, DevIdp, DevIdpConfig};
use intyg_issuer::{AppState, app};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Admin, Browser, Fetch, Login, TempDir};

/// The admin API key every [`TestIssuer`] is configured with.
pub const API_KEY: &str = "intyg-testkit-api-key-0123456789";
/// The issuer's client id at the development IdP.
const IDP_CLIENT_ID: &str = "intyg-issuer";
/// The issuer's client secret at the development IdP.
const IDP_CLIENT_SECRET: &str = "intyg-testkit-idp-secret";

/// An issuer with its `sled` store in a [`TempDir`], configured with
/// `Config::dev` and [`API_KEY`], served on `127.0.0.1` until dropped (or
/// [`TestIssuer::stop`]).
#[derive(Debug)]
pub struct TestIssuer {
    /// `http://127.0.0.1:<port>`, also its credential issuer identifier.
    pub url: String,
    /// The state it serves, for the checks behind the API.
    pub state: AppState,
    /// A plain client (follows redirects).
    pub http: reqwest::Client,
    /// Its admin API.
    pub admin: Admin,
    /// The development IdP's URL, when it has one.
    idp: Option<String>,
    browser: Browser,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
    _dir: TempDir,
}

impl TestIssuer {
    /// An issuer without an OpenID Provider; `name` names its directory.
    pub async fn start(name: &str) -> Self {
        Self::launch(name, false, |_| {}).await
    }

    /// An issuer whose OpenID Provider is the development IdP, served
    /// in-process on a port of its own, showing its login page (no
    /// auto-login): [`TestIssuer::log_in`] plays the person there.
    pub async fn start_with_dev_idp(name: &str) -> Self {
        Self::launch(name, true, |_| {}).await
    }

    /// An issuer with the development IdP whose configuration `configure`
    /// changes last.
    pub async fn start_with_dev_idp_and(name: &str, configure: impl FnOnce(&mut Config)) -> Self {
        Self::launch(name, true, configure).await
    }

    /// An issuer whose configuration `configure` changes last (it sees
    /// the port in `config.listen`).
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut Config)) -> Self {
        Self::launch(name, false, configure).await
    }

    async fn launch(name: &str, dev_idp: bool, configure: impl FnOnce(&mut Config)) -> Self {
        let dir = TempDir::new(&format!("issuer-{name}"));
        let listener = bind().await;
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let (stop, _) = watch::channel(false);
        let mut servers = Vec::new();
        let mut config = Config::dev(dir.path().to_owned(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        let idp = if dev_idp {
            let (idp, server) = serve_dev_idp(&url, &stop).await;
            servers.push(server);
            config.oidc = Some(OidcConfig {
                issuer_url: idp.clone(),
                client_id: IDP_CLIENT_ID.into(),
                client_secret: IDP_CLIENT_SECRET.into(),
                identity_claim: "personal_identity_number".into(),
                scopes: vec!["openid".into()],
            });
            Some(idp)
        } else {
            None
        };
        configure(&mut config);
        let state = AppState::open(config).await.unwrap();
        servers.push(serve(listener, app(state.clone()), &stop));
        let http = reqwest::Client::new();
        Self {
            admin: Admin::new(http.clone(), &url, API_KEY),
            url,
            state,
            http,
            idp,
            browser: Browser::new(),
            stop,
            servers,
            _dir: dir,
        }
    }

    /// Stops serving and closes open connections: the issuer's URLs (and
    /// its IdP's) refuse connections from now on.
    pub async fn stop(&mut self) {
        self.stop.send_replace(true);
        for server in self.servers.drain(..) {
            server.await.unwrap();
        }
    }

    /// The development IdP's URL; panics without one.
    pub fn idp(&self) -> &str {
        self.idp
            .as_deref()
            .expect("an issuer started with TestIssuer::start_with_dev_idp")
    }

    /// The browser: from `authorization_url` through the issuer and the
    /// development IdP's page, where the person does `login`, back to the
    /// first URL outside both (the wallet's redirect URI), which it returns
    /// unfetched. See [`Browser::log_in`].
    pub async fn log_in(&self, authorization_url: &str, login: Login<'_>) -> String {
        self.browser
            .log_in(authorization_url, &self.url, self.idp(), login)
            .await
    }

    /// A credential offer link by value for `configuration` with only an
    /// authorization code grant, carrying `issuer_state`.
    pub fn code_offer(&self, configuration: &str, issuer_state: &str) -> String {
        let offer = json!({
            "credential_issuer": self.url,
            "credential_configuration_ids": [configuration],
            "grants": {"authorization_code": {"issuer_state": issuer_state}},
        });
        format!(
            "openid-credential-offer://?credential_offer={}",
            url::form_urlencoded::byte_serialize(offer.to_string().as_bytes()).collect::<String>()
        )
    }

    /// The first key the issuer publishes at `/.well-known/jwt-vc-issuer`.
    pub async fn published_jwk(&self) -> Jwk {
        let url = format!("{}/.well-known/jwt-vc-issuer", self.url);
        let jwks: Value = self.http.get(url).fetch_json().await;
        serde_json::from_value(jwks["jwks"]["keys"][0].clone()).expect("a JWK")
    }

    /// [`TestIssuer::published_jwk`] as a key to verify with.
    pub async fn published_key(&self) -> VerifyingKey {
        VerifyingKey::from_jwk(&self.published_jwk().await).expect("a verifying key")
    }
}

/// The wallet's side of OpenID4VCI 1.0 after `/token`.
impl TestIssuer {
    /// `POST /nonce` (§7): a fresh `c_nonce`.
    pub async fn nonce(&self) -> CNonce {
        let url = format!("{}/nonce", self.url);
        let response: NonceResponse = self.http.post(url).fetch_json().await;
        response.c_nonce
    }

    /// `POST /credential` (§8) with `access_token` and the JSON `body`,
    /// answered as it is.
    pub async fn credential<B: Serialize + ?Sized>(
        &self,
        access_token: &str,
        body: &B,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/credential", self.url))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .expect("the issuer answers")
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

/// A [`TestIssuer`] served by a multi-threaded runtime of its own, for
/// synchronous tests that block (on child processes, say) while it serves.
/// Derefs to the issuer; run its async helpers with
/// [`BackgroundIssuer::block_on`].
#[derive(Debug)]
pub struct BackgroundIssuer {
    // Dropped before the runtime that serves it.
    issuer: TestIssuer,
    runtime: tokio::runtime::Runtime,
}

impl BackgroundIssuer {
    /// Runs `start` (such as `TestIssuer::start("name")`) on a new runtime.
    pub fn start(start: impl Future<Output = TestIssuer>) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let issuer = runtime.block_on(start);
        Self { issuer, runtime }
    }

    /// Runs `future` to completion on the issuer's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Deref for BackgroundIssuer {
    type Target = TestIssuer;

    fn deref(&self) -> &TestIssuer {
        &self.issuer
    }
}

async fn bind() -> TcpListener {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

/// The development IdP for the issuer at `issuer`, on a port of its own:
/// its URL and its server.
async fn serve_dev_idp(issuer: &str, stop: &watch::Sender<bool>) -> (String, JoinHandle<()>) {
    let listener = bind().await;
    let url = format!("http://{}", listener.local_addr().unwrap());
    let idp = DevIdp::new(
        DevIdpConfig {
            issuer: url.clone(),
            client_id: IDP_CLIENT_ID.into(),
            client_secret: IDP_CLIENT_SECRET.into(),
            redirect_uris: vec![format!("{issuer}/authorize/callback")],
            auto_login: false,
        },
        SigningKey::generate().unwrap(),
    )
    .unwrap();
    (url, serve(listener, dev_idp::app(Arc::new(idp)), stop))
}

/// Serves `router` until `stop` turns true or is dropped, then closes
/// every connection.
fn serve(
    listener: TcpListener,
    router: axum::Router,
    stop: &watch::Sender<bool>,
) -> JoinHandle<()> {
    let mut stopped = stop.subscribe();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            while !*stopped.borrow_and_update() {
                if stopped.changed().await.is_err() {
                    return;
                }
            }
        })
        .await
        .unwrap()
    })
}

/// What a verifier fetches from a credential issuer, served by a stand-in:
/// `status_list` (a Status List Token) at `/status/1` and `metadata` at
/// `/.well-known/openid-credential-issuer`.
pub fn status_and_metadata_routes(
    status_list: String,
    metadata: serde_json::Value,
) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/status/1",
            get(move || {
                let token = status_list.clone();
                async move {
                    (
                        [(
                            "content-type",
                            intyg_core::status_list::StatusListToken::MEDIA_TYPE,
                        )],
                        token,
                    )
                }
            }),
        )
        .route(
            "/.well-known/openid-credential-issuer",
            get(move || {
                let metadata = metadata.clone();
                async move { axum::Json(metadata) }
            }),
        )
}
