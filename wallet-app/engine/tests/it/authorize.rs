//! The authorization code flow (OpenID4VCI 1.0 §3.4, §5, §6) against the
//! real issuer with the development IdP, both in-process over loopback.
//! The test plays the browser: it opens the wallet's authorization URL,
//! follows every redirect through the issuer to the IdP's login page,
//! picks a test person (or cancels), and follows the redirects back until
//! one leaves for the wallet's redirect URI. Then the refusals: a forged
//! `state`, a cancelled login, a person with nothing to issue, a tampered
//! PKCE verifier.

use std::sync::Arc;

use intyg_core::jose::{Jwk, SigningKey, VerifyingKey};
use intyg_core::oid4vci::CredentialConfigurationId;
use intyg_core::sd_jwt::{SdJwt, VerifyOptions};
use intyg_core::vc;
use intyg_issuer::auth_code::OidcConfig;
use intyg_issuer::config::Config;
use intyg_issuer::dev_idp::{self, DevIdp, DevIdpConfig};
use intyg_issuer::{AppState, app};
use intyg_wallet::authorize::PendingAuthorization;
use intyg_wallet::receive::ReceiveError;
use intyg_wallet::{CredentialStatus, EventKind, EventResult, Wallet};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{API_KEY, TempDir, example, new_wallet};

/// A test person of the development IdP.
pub(crate) const KARIN: &str = "199403172381";
/// A test person with nothing offered to her.
const AMIRA: &str = "198507099805";
const CONFIGURATION: &str = "registration-certificate";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// The issuer with the development IdP as its OpenID Provider; both served
/// in-process until dropped (or [`LoginIssuer::stop`]).
pub(crate) struct LoginIssuer {
    pub(crate) url: String,
    idp: String,
    browser: reqwest::Client,
    stop: tokio::sync::watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

impl Drop for LoginIssuer {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

/// Serves `router` until `stop` turns true, then closes every connection.
fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    stop: &tokio::sync::watch::Sender<bool>,
) -> tokio::task::JoinHandle<()> {
    let mut stopped = stop.subscribe();
    tokio::spawn(async move {
        axum::serve(listener, router)
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

impl LoginIssuer {
    pub(crate) async fn start(name: &str) -> Self {
        const SECRET: &str = "wallet-test-idp-secret";
        let dir = TempDir::new(&format!("login-issuer-{name}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let idp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let idp_url = format!("http://{}", idp_listener.local_addr().unwrap());
        let idp = DevIdp::new(
            DevIdpConfig {
                issuer: idp_url.clone(),
                client_id: "intyg-issuer".into(),
                client_secret: SECRET.into(),
                redirect_uris: vec![format!("{url}/authorize/callback")],
                auto_login: false,
            },
            SigningKey::generate().unwrap(),
        )
        .unwrap();
        let (stop, _) = tokio::sync::watch::channel(false);
        let idp_server = serve(idp_listener, dev_idp::app(Arc::new(idp)), &stop);
        let mut config = Config::dev(dir.0.clone(), addr).unwrap();
        config.api_key = Some(API_KEY.into());
        config.oidc = Some(OidcConfig {
            issuer_url: idp_url.clone(),
            client_id: "intyg-issuer".into(),
            client_secret: SECRET.into(),
            identity_claim: "personal_identity_number".into(),
            scopes: vec!["openid".into()],
        });
        let server = serve(listener, app(AppState::open(config).unwrap()), &stop);
        Self {
            url,
            idp: idp_url,
            browser: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            stop,
            servers: vec![server, idp_server],
            _dir: dir,
        }
    }

    /// Stops serving and closes open connections: the issuer's URLs
    /// refuse connections from now on.
    pub(crate) async fn stop(&mut self) {
        self.stop.send_replace(true);
        for server in self.servers.drain(..) {
            server.await.unwrap();
        }
    }

    /// The officer registers a credential for `subject`: the record id and
    /// the pre-authorized offer link and PIN.
    pub(crate) async fn offer_for(&self, subject: &str) -> (String, String, String) {
        let created: Value = self
            .browser
            .post(format!("{}/api/offers", self.url))
            .bearer_auth(API_KEY)
            .json(&json!({"credential_configuration_id": CONFIGURATION, "claims": example(CONFIGURATION), "subject": subject}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            created["credential_ids"][0].as_str().unwrap().to_owned(),
            created["offer_uri"].as_str().unwrap().to_owned(),
            created["tx_code"].as_str().unwrap().to_owned(),
        )
    }

    /// The issuer's view of a credential record.
    pub(crate) async fn record(&self, subject: &str) -> Value {
        self.browser
            .get(format!("{}/api/credentials?subject={subject}", self.url))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// An offer link with only an authorization code grant, by value.
    fn code_offer(&self, issuer_state: &str) -> String {
        let offer = json!({
            "credential_issuer": self.url,
            "credential_configuration_ids": [CONFIGURATION],
            "grants": {"authorization_code": {"issuer_state": issuer_state}},
        });
        format!(
            "openid-credential-offer://?credential_offer={}",
            url::form_urlencoded::byte_serialize(offer.to_string().as_bytes()).collect::<String>()
        )
    }

    /// The browser: from the authorization URL through the issuer and the
    /// IdP's page, where it picks `person` (or cancels with `None`), back
    /// to the URL that leaves for `redirect_uri`, which it returns.
    pub(crate) async fn log_in(
        &self,
        authorization_url: &str,
        redirect_uri: &str,
        person: Option<&str>,
    ) -> String {
        let mut url = authorization_url.to_owned();
        let mut picked = false;
        for _ in 0..8 {
            if url.starts_with(redirect_uri) {
                assert!(picked, "the login page was skipped");
                return url;
            }
            let response = self.browser.get(&url).send().await.unwrap();
            if response.status().is_redirection() {
                url = location(&response);
                continue;
            }
            assert_eq!(response.status(), StatusCode::OK, "GET {url}");
            assert!(url.starts_with(&self.idp), "a page outside the IdP: {url}");
            let html = response.text().await.unwrap();
            let marker = "name=\"request\" value=\"";
            let start = html.find(marker).expect("the IdP's login form") + marker.len();
            let request = &html[start..start + html[start..].find('"').unwrap()];
            let choice = match person {
                Some(person) => ("person", person),
                None => ("cancel", "1"),
            };
            let chosen = self
                .browser
                .post(format!("{}/authorize/login", self.idp))
                .form(&[("request", request), choice])
                .send()
                .await
                .unwrap();
            assert!(chosen.status().is_redirection(), "{}", chosen.status());
            url = location(&chosen);
            picked = true;
        }
        panic!("too many redirects; last {url}")
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn configuration() -> Vec<CredentialConfigurationId> {
    vec![CredentialConfigurationId::try_from(CONFIGURATION).unwrap()]
}

async fn issuer_key(issuer: &LoginIssuer) -> VerifyingKey {
    let jwks: Value = issuer
        .browser
        .get(format!("{}/.well-known/jwt-vc-issuer", issuer.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk: Jwk = serde_json::from_value(jwks["jwks"]["keys"][0].clone()).unwrap();
    VerifyingKey::from_jwk(&jwk).unwrap()
}

fn assert_nothing_stored(wallet: &Wallet) {
    assert!(wallet.credentials().is_empty());
    assert!(wallet.history().unwrap().is_empty());
}

#[tokio::test]
async fn offer_with_an_authorization_code_grant_is_received_after_a_browser_login() {
    let issuer = LoginIssuer::start("code-offer").await;
    issuer.offer_for(KARIN).await;
    let dir = TempDir::new("code-offer");
    let mut wallet = new_wallet(&dir);

    let offer = wallet
        .fetch_offer(&issuer.code_offer("issuer-state-1"))
        .await
        .unwrap();
    assert!(!offer.has_pre_authorized_code());
    assert!(offer.supports_authorization_code());
    assert!(matches!(
        wallet.accept(offer.clone(), None).await,
        Err(ReceiveError::NoPreAuthorizedGrant)
    ));

    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    // The issuer has a PAR endpoint: the URL carries only a request_uri.
    let url = pending.authorization_url();
    assert!(
        url.starts_with(&format!(
            "{}/authorize?client_id=intyg-wallet&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A",
            issuer.url
        )),
        "{url}"
    );
    assert!(!url.contains("code_challenge"), "{url}");
    assert_eq!(pending.redirect_uri(), REDIRECT_URI);
    assert_nothing_stored(&wallet);

    let callback = issuer.log_in(url, REDIRECT_URI, Some(KARIN)).await;
    assert!(
        callback.contains(&format!("state={}", pending.state())),
        "{callback}"
    );
    let received = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();

    assert_eq!(received.credentials.len(), 1);
    let entry = &received.credentials[0];
    assert_eq!(entry.copies, 3);
    assert_eq!(entry.claims["personal_identity_number"], KARIN);
    assert_eq!(entry.configuration_id.as_deref(), Some(CONFIGURATION));
    assert_eq!(entry.status.status, CredentialStatus::Valid);
    assert!(entry.status.checked_at.is_some());
    let key = issuer_key(&issuer).await;
    let stored = wallet.credential(&entry.id).unwrap();
    assert_eq!(stored.copies.len(), 3);
    for copy in &stored.copies {
        vc::verify(
            SdJwt::parse(&copy.sd_jwt).unwrap(),
            &key,
            &VerifyOptions::at(intyg_issuer::now()),
            None,
        )
        .unwrap();
    }
    let history = wallet.history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, EventKind::Issuance);
    assert_eq!(history[0].counterparty, issuer.url);
    assert_eq!(history[0].result, EventResult::Success);
    assert_eq!(issuer.record(KARIN).await[0]["state"], "issued");
}

#[tokio::test]
async fn wallet_initiated_request_survives_a_restart_of_the_app() {
    let issuer = LoginIssuer::start("wallet-initiated").await;
    issuer.offer_for(KARIN).await;
    let dir = TempDir::new("wallet-initiated");
    let mut wallet = new_wallet(&dir);

    let offer = wallet
        .fetch_issuer(&format!("{}/", issuer.url))
        .await
        .unwrap();
    assert_eq!(offer.issuer(), issuer.url);
    let offered: Vec<String> = offer.credentials("en").into_iter().map(|c| c.0).collect();
    assert!(offered.contains(&CONFIGURATION.to_owned()), "{offered:?}");
    assert!(offer.supports_authorization_code());
    assert!(matches!(
        wallet.begin_authorization(&offer, &[], REDIRECT_URI).await,
        Err(ReceiveError::NoConfiguration)
    ));
    assert!(matches!(
        wallet
            .begin_authorization(&offer, &configuration(), "/relative")
            .await,
        Err(ReceiveError::InvalidRedirectUri(_))
    ));
    // The issuer refuses a plain-http redirect off the machine at PAR.
    match wallet
        .begin_authorization(&offer, &configuration(), "http://wallet.example/cb")
        .await
    {
        Err(ReceiveError::ParRefused { error, description }) => {
            assert_eq!(error, "invalid_request");
            assert!(
                description
                    .as_deref()
                    .unwrap_or_default()
                    .contains("redirect_uri"),
                "{description:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    let callback = issuer
        .log_in(pending.authorization_url(), REDIRECT_URI, Some(KARIN))
        .await;

    // The app is stopped during the login and picks up where it was.
    let saved = serde_json::to_string(&pending).unwrap();
    drop(pending);
    let pending: PendingAuthorization = serde_json::from_str(&saved).unwrap();
    let received = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();
    assert_eq!(
        received.credentials[0].claims["personal_identity_number"],
        KARIN
    );
    assert_eq!(wallet.credentials().len(), 1);
}

#[tokio::test]
async fn a_forged_state_or_another_redirect_is_refused_and_the_code_survives() {
    let issuer = LoginIssuer::start("forged-state").await;
    issuer.offer_for(KARIN).await;
    let dir = TempDir::new("forged-state");
    let mut wallet = new_wallet(&dir);
    let offer = wallet.fetch_offer(&issuer.code_offer("st")).await.unwrap();
    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    let callback = issuer
        .log_in(pending.authorization_url(), REDIRECT_URI, Some(KARIN))
        .await;

    let forged = callback.replace(
        &format!("state={}", pending.state()),
        "state=0123456789abcdef0123456789abcdef",
    );
    assert_ne!(forged, callback);
    let refused = wallet
        .finish_authorization(pending.clone(), &forged)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ReceiveError::StateMismatch),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "state_mismatch");
    let stateless = callback.replace(&format!("state={}", pending.state()), "");
    assert!(matches!(
        wallet
            .finish_authorization(pending.clone(), &stateless)
            .await,
        Err(ReceiveError::StateMismatch)
    ));
    let elsewhere = callback.replace("http://127.0.0.1:9/callback", "http://127.0.0.1:9/other");
    let refused = wallet
        .finish_authorization(pending.clone(), &elsewhere)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ReceiveError::CallbackMismatch(_)),
        "{refused:?}"
    );
    assert!(!refused.to_string().contains("code="), "{refused}");
    // RFC 9207: an answer naming another authorization server (mix-up).
    let iss: String = url::form_urlencoded::byte_serialize(issuer.url.as_bytes()).collect();
    assert!(callback.contains(&format!("iss={iss}")), "{callback}");
    let mixed_up = callback.replace(&format!("iss={iss}"), "iss=https%3A%2F%2Fother-as.example");
    let refused = wallet
        .finish_authorization(pending.clone(), &mixed_up)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ReceiveError::AuthorizationServerMismatch { .. }),
        "{refused:?}"
    );
    let doubled = format!("{callback}&code=again");
    assert!(matches!(
        wallet.finish_authorization(pending.clone(), &doubled).await,
        Err(ReceiveError::InvalidCallback(_))
    ));
    assert_nothing_stored(&wallet);

    // None of those redeemed the code: the real callback still works.
    wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap();
    assert_eq!(wallet.credentials().len(), 1);
}

#[tokio::test]
async fn a_cancelled_login_or_nothing_to_issue_is_access_denied() {
    let issuer = LoginIssuer::start("denied").await;
    issuer.offer_for(KARIN).await;
    let dir = TempDir::new("denied");
    let mut wallet = new_wallet(&dir);
    let offer = wallet.fetch_issuer(&issuer.url).await.unwrap();

    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    let callback = issuer
        .log_in(pending.authorization_url(), REDIRECT_URI, None)
        .await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let refused = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap_err();
    match &refused {
        ReceiveError::AuthorizationRefused { error, .. } => assert_eq!(error, "access_denied"),
        other => panic!("{other:?}"),
    }
    assert_eq!(refused.code(), "access_denied");

    // Amira logs in, but the agency registered nothing for her.
    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    let callback = issuer
        .log_in(pending.authorization_url(), REDIRECT_URI, Some(AMIRA))
        .await;
    let refused = wallet
        .finish_authorization(pending, &callback)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "access_denied");
    assert!(
        refused
            .to_string()
            .contains("no registration-certificate waiting"),
        "{refused}"
    );
    assert_nothing_stored(&wallet);
    assert_eq!(issuer.record(KARIN).await[0]["state"], "offered");
}

#[tokio::test]
async fn a_tampered_code_verifier_is_refused_by_the_issuer() {
    let issuer = LoginIssuer::start("pkce").await;
    issuer.offer_for(KARIN).await;
    let dir = TempDir::new("pkce");
    let mut wallet = new_wallet(&dir);
    let offer = wallet.fetch_issuer(&issuer.url).await.unwrap();
    let pending = wallet
        .begin_authorization(&offer, &configuration(), REDIRECT_URI)
        .await
        .unwrap();
    let callback = issuer
        .log_in(pending.authorization_url(), REDIRECT_URI, Some(KARIN))
        .await;

    let mut saved = serde_json::to_value(&pending).unwrap();
    let original = saved["code_verifier"].as_str().unwrap().to_owned();
    assert_eq!(original.len(), 43, "256 random bits, base64url");
    let mut bad = saved.clone();
    bad["code_verifier"] = "too-short".into();
    assert!(serde_json::from_value::<PendingAuthorization>(bad).is_err());
    saved["code_verifier"] = "x".repeat(43).into();
    let tampered: PendingAuthorization = serde_json::from_value(saved).unwrap();
    match wallet.finish_authorization(tampered, &callback).await {
        Err(ReceiveError::TokenRefused { error, description }) => {
            assert_eq!(error, "invalid_grant");
            assert!(
                description
                    .as_deref()
                    .unwrap_or_default()
                    .contains("code_verifier"),
                "{description:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_nothing_stored(&wallet);
    assert_eq!(issuer.record(KARIN).await[0]["state"], "offered");
}
