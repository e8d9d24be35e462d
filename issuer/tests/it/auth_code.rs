//! The authorization code flow (OpenID4VCI 1.0 §3.4, §5, §6) end to end
//! over loopback: the wallet is a client built on `intyg_core` that
//! follows every redirect by hand, the login happens at `intyg-dev-idp`
//! running as a separate process, and the issuer talks to it over HTTP.
//! Then every error path: at `/authorize` and `/par`, at `/token`, after
//! the login (`access_denied` on the redirect), and ID tokens that must be
//! refused, from a tiny fake provider inside the test.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use intyg_core::jose::{Algorithm, Header, SigningKey, sign_compact};
use intyg_core::oid4vci::authorization::{
    AuthorizationDetail, AuthorizationRequest, PushedAuthorizationResponse,
};
use intyg_core::oid4vci::credential::{CredentialRequest, CredentialResponse};
use intyg_core::oid4vci::id::{AuthorizationCode, CredentialConfigurationId};
use intyg_core::oid4vci::metadata::AuthorizationServerMetadata;
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_core::oid4vci::token::{
    AuthorizationCodeTokenRequest, CodeVerifier, TokenRequest, TokenResponse,
};
use intyg_core::sd_jwt::{SdJwt, VerifyOptions};
use intyg_core::vc;
use intyg_issuer::auth_code::OidcConfig;
use intyg_issuer::sha256_hex;
use intyg_testkit::{
    AMIRA, Browser, Fetch, KARIN, Login, REGISTRATION_CERTIFICATE as CONFIGURATION, TestIssuer,
    location,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CLIENT_ID: &str = "intyg-issuer";
const CLIENT_SECRET: &str = "dev-secret-for-tests";
const WALLET: &str = "https://wallet.example";
const WALLET_REDIRECT: &str = "intyg-wallet://callback";

/// `intyg-dev-idp` as a child process, killed on drop.
struct DevIdp {
    child: Child,
    url: String,
}

impl DevIdp {
    fn spawn(redirect_uri: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_intyg-dev-idp"))
            .args(["--listen", "127.0.0.1:0", "--client-id", CLIENT_ID])
            .args(["--redirect-uri", redirect_uri, "--auto-login"])
            .env("INTYG_DEV_IDP_CLIENT_SECRET", CLIENT_SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for DevIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An issuer whose identity provider is at whatever `provider` returns,
/// given the issuer's callback URL.
async fn start_with<P>(name: &str, provider: impl FnOnce(&str) -> (String, P)) -> (TestIssuer, P) {
    let mut guard = None;
    let issuer = TestIssuer::start_with(name, |config| {
        let (provider_url, provider) =
            provider(&format!("http://{}/authorize/callback", config.listen));
        guard = Some(provider);
        config.oidc = Some(OidcConfig {
            issuer_url: provider_url,
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            identity_claim: "personal_identity_number".into(),
            scopes: vec!["openid".into(), "profile".into()],
        });
    })
    .await;
    (issuer, guard.expect("the provider started"))
}

async fn start(name: &str) -> (TestIssuer, DevIdp) {
    start_with(name, |callback| {
        let idp = DevIdp::spawn(callback);
        (idp.url.clone(), idp)
    })
    .await
}

/// The officer registers a credential for `subject`; returns the record id.
async fn offer_for(issuer: &TestIssuer, subject: &str) -> String {
    let created = issuer.admin.offer(CONFIGURATION, subject).await;
    created.credential_ids[0].clone()
}

/// The wallet: a browser that does not follow redirects by itself.
struct Wallet {
    browser: Browser,
    verifier: CodeVerifier,
}

impl Wallet {
    fn new() -> Self {
        Self {
            browser: Browser::new(),
            verifier: CodeVerifier::generate().unwrap(),
        }
    }

    fn request(&self, login_hint: Option<&str>) -> AuthorizationRequest {
        let configuration = CredentialConfigurationId::try_from(CONFIGURATION).unwrap();
        let mut request = AuthorizationRequest::new(
            WALLET,
            self.verifier.s256_challenge(),
            vec![AuthorizationDetail::for_configuration(configuration)],
        );
        request.redirect_uri = Some(WALLET_REDIRECT.into());
        request.state = Some("wallet-state-1".into());
        if let Some(hint) = login_hint {
            request.extra.insert("login_hint".into(), hint.into());
        }
        request
    }

    /// Follows redirects until one goes back to the wallet; returns its
    /// query parameters.
    async fn follow(&self, mut url: String) -> BTreeMap<String, String> {
        for _ in 0..6 {
            if let Some(query) = url.strip_prefix(&format!("{WALLET_REDIRECT}?")) {
                return url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
            }
            let response = self.browser.http.get(&url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "GET {url}");
            url = location(&response);
        }
        panic!("too many redirects, last {url}");
    }

    async fn authorize(
        &self,
        issuer: &TestIssuer,
        request: &AuthorizationRequest,
    ) -> BTreeMap<String, String> {
        self.follow(format!("{}/authorize?{}", issuer.url, request.to_form()))
            .await
    }

    /// A full login as `who`; the code sent back.
    async fn code(&self, issuer: &TestIssuer, who: &str) -> String {
        let back = self.authorize(issuer, &self.request(Some(who))).await;
        assert_eq!(
            back.get("state").map(String::as_str),
            Some("wallet-state-1")
        );
        assert_eq!(back.get("iss"), Some(&issuer.url));
        back.get("code")
            .unwrap_or_else(|| panic!("no code: {back:?}"))
            .clone()
    }

    async fn token(
        &self,
        issuer: &TestIssuer,
        code: &str,
        change: impl FnOnce(&mut AuthorizationCodeTokenRequest),
    ) -> reqwest::Response {
        let mut request = AuthorizationCodeTokenRequest {
            code: AuthorizationCode::try_from(code).unwrap(),
            redirect_uri: Some(WALLET_REDIRECT.into()),
            code_verifier: Some(self.verifier.clone()),
            client_id: Some(WALLET.into()),
            authorization_details: None,
            extra: Default::default(),
        };
        change(&mut request);
        self.browser
            .http
            .post(format!("{}/token", issuer.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(TokenRequest::AuthorizationCode(request).to_form())
            .send()
            .await
            .unwrap()
    }
}

/// A request for one registration certificate bound to `holder`, with a
/// fresh nonce.
async fn credential_request(issuer: &TestIssuer, holder: &SigningKey) -> CredentialRequest {
    let nonce = issuer.nonce().await;
    let proof = build_jwt_proof(holder, &issuer.url, Some(&nonce), intyg_issuer::now(), None);
    CredentialRequest::for_configuration(
        CredentialConfigurationId::try_from(CONFIGURATION).unwrap(),
        vec![proof.unwrap()],
    )
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn authorization_code_flow_issues_a_credential_that_verifies() {
    let (issuer, _idp) = start("ac-flow").await;
    let credential_id = offer_for(&issuer, KARIN).await;
    let wallet = Wallet::new();

    let metadata: AuthorizationServerMetadata = wallet
        .browser
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.url
        ))
        .fetch_json()
        .await;
    let authorization_endpoint = metadata.authorization_endpoint.unwrap();
    assert_eq!(authorization_endpoint, format!("{}/authorize", issuer.url));
    assert_eq!(
        metadata.pushed_authorization_request_endpoint.as_deref(),
        Some(format!("{}/par", issuer.url).as_str())
    );
    assert!(
        metadata
            .grant_types_supported
            .unwrap()
            .contains(&"authorization_code".to_owned())
    );
    assert_eq!(
        metadata.code_challenge_methods_supported,
        Some(vec!["S256".to_owned()])
    );

    // Wallet → issuer → dev IdP (login_hint, --auto-login) → issuer → wallet.
    let request = wallet.request(Some(KARIN));
    let first = wallet
        .browser
        .http
        .get(format!("{authorization_endpoint}?{}", request.to_form()))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let to_idp = location(&first);
    assert!(to_idp.starts_with(&_idp.url), "{to_idp}");
    for pkce in [
        "code_challenge=",
        "code_challenge_method=S256",
        "nonce=",
        "state=",
    ] {
        assert!(to_idp.contains(pkce), "{to_idp} lacks {pkce}");
    }
    let back = wallet.follow(to_idp).await;
    assert_eq!(back["state"], "wallet-state-1");
    let code = back["code"].clone();

    let response = wallet.token(&issuer, &code, |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let token: TokenResponse = response.json().await.unwrap();

    // The code is single-use.
    let (status, error, _) = error_of(wallet.token(&issuer, &code, |_| {}).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );

    let holder = SigningKey::generate().unwrap();
    let now = intyg_issuer::now();
    let request = credential_request(&issuer, &holder).await;
    let response = issuer
        .credential(token.access_token.as_str(), &request)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = CredentialResponse::from_json(&response.bytes().await.unwrap()).unwrap();
    let credentials = response.credentials.unwrap();

    let sd_jwt = SdJwt::parse(credentials[0].as_compact().unwrap()).unwrap();
    let verified = vc::verify(
        sd_jwt,
        &issuer.published_key().await,
        &VerifyOptions::at(now),
        Some(&issuer.state.types[CONFIGURATION]),
    )
    .unwrap();
    assert_eq!(verified.sd_jwt.claims["personal_identity_number"], KARIN);
    assert_eq!(
        verified.sd_jwt.holder_key.as_ref(),
        Some(&holder.public_jwk())
    );

    let listed = issuer.admin.credentials(KARIN).await;
    assert_eq!(listed[0]["id"], credential_id.as_str());
    assert_eq!(listed[0]["state"], "issued");
}

#[tokio::test]
async fn pushed_request_with_scope_and_the_login_page() {
    let (issuer, idp) = start("ac-par").await;
    offer_for(&issuer, KARIN).await;
    let wallet = Wallet::new();
    let mut request = wallet.request(None);
    request.authorization_details = None;
    request.scope = Some(CONFIGURATION.into());

    let pushed = wallet
        .browser
        .http
        .post(format!("{}/par", issuer.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(request.to_form())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::CREATED);
    let pushed: PushedAuthorizationResponse = pushed.json().await.unwrap();
    assert!(
        pushed
            .request_uri
            .starts_with("urn:ietf:params:oauth:request_uri:")
    );
    assert!(pushed.expires_in > 0);
    let by_reference = |client_id: &str| {
        format!(
            "{}/authorize?{}",
            issuer.url,
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", client_id)
                .append_pair("request_uri", &pushed.request_uri)
                .finish()
        )
    };

    let to_idp = wallet
        .browser
        .http
        .get(by_reference(WALLET))
        .send()
        .await
        .unwrap();
    assert_eq!(to_idp.status(), StatusCode::SEE_OTHER);
    // No login_hint: the development IdP shows its page of test persons.
    let page = wallet
        .browser
        .http
        .get(location(&to_idp))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(KARIN) && html.contains(AMIRA), "{html}");
    let chosen = wallet
        .browser
        .answer(&idp.url, &html, Login::As(KARIN))
        .await;
    let back = wallet.follow(chosen).await;
    let response = wallet.token(&issuer, &back["code"], |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);

    // A request_uri is single-use.
    let (status, error, description) = error_of(
        wallet
            .browser
            .http
            .get(by_reference(WALLET))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert!(description.contains("request_uri"), "{description}");
}

/// OpenID4VCI 1.0 §6.2: a request by `authorization_details` gets its
/// `credential_identifiers` in the Token Response, and (§8.2) the wallet
/// then asks by `credential_identifier`. A request by `scope` gets none.
#[tokio::test]
async fn token_response_names_the_dataset_when_authorization_details_were_used() {
    let (issuer, _idp) = start("ac-identifiers").await;
    let credential_id = offer_for(&issuer, KARIN).await;
    let wallet = Wallet::new();
    let code = wallet.code(&issuer, KARIN).await;
    let response = wallet.token(&issuer, &code, |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: TokenResponse = response.json().await.unwrap();
    let details = token
        .authorization_details
        .expect("§6.2: REQUIRED after authorization_details");
    assert_eq!(details.len(), 1);
    assert_eq!(
        details[0].credential_configuration_id.as_str(),
        CONFIGURATION
    );
    let identifiers: Vec<String> = details[0]
        .credential_identifiers
        .iter()
        .flatten()
        .map(|i| i.as_str().to_owned())
        .collect();
    assert_eq!(identifiers, vec![credential_id.clone()]);

    let credential = async |identifier: &str| {
        let holder = SigningKey::generate().unwrap();
        let mut request = credential_request(&issuer, &holder).await;
        request.credential_configuration_id = None;
        request.credential_identifier = Some(identifier.parse().unwrap());
        issuer
            .credential(token.access_token.as_str(), &request)
            .await
    };
    let (status, error, _) = error_of(credential("another-dataset").await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "unknown_credential_identifier")
    );
    let issued = credential(&credential_id).await;
    assert_eq!(issued.status(), StatusCode::OK);
    let issued = CredentialResponse::from_json(&issued.bytes().await.unwrap()).unwrap();
    assert_eq!(issued.credentials.unwrap().len(), 1);

    // By scope: no authorization_details in the Token Response.
    offer_for(&issuer, KARIN).await;
    let mut by_scope = wallet.request(Some(KARIN));
    by_scope.authorization_details = None;
    by_scope.scope = Some(CONFIGURATION.into());
    let back = wallet.authorize(&issuer, &by_scope).await;
    let token: TokenResponse = wallet
        .token(&issuer, &back["code"], |_| {})
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(token.authorization_details, None);
}

#[tokio::test]
async fn authorization_request_errors_are_shown_not_redirected() {
    let (issuer, _idp) = start("ac-request-errors").await;
    let wallet = Wallet::new();
    let get = |query: String| {
        let http = wallet.browser.http.clone();
        let url = format!("{}/authorize?{query}", issuer.url);
        async move { error_of(http.get(url).send().await.unwrap()).await }
    };

    let mut no_pkce = wallet.request(None);
    no_pkce.code_challenge = None;
    no_pkce.code_challenge_method = None;
    let (status, error, description) = get(no_pkce.to_form()).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert!(description.contains("code_challenge"), "{description}");

    let plain = wallet
        .request(None)
        .to_form()
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let (_, error, description) = get(plain).await;
    assert_eq!(error, "invalid_request");
    assert!(description.contains("S256"), "{description}");

    let no_method = wallet
        .request(None)
        .to_form()
        .replace("&code_challenge_method=S256", "");
    let (_, error, description) = get(no_method).await;
    assert_eq!(error, "invalid_request");
    assert!(description.contains("plain"), "{description}");

    for (redirect_uri, why) in [
        (None, "redirect_uri is required"),
        (Some("http://wallet.example/cb"), "https"),
        (Some("https://wallet.example/cb#x"), "fragment"),
    ] {
        let mut request = wallet.request(None);
        request.redirect_uri = redirect_uri.map(str::to_owned);
        let (status, error, description) = get(request.to_form()).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );
        assert!(description.contains(why), "{redirect_uri:?}: {description}");
    }

    let mut unknown = wallet.request(None);
    unknown.authorization_details = Some(vec![AuthorizationDetail::for_configuration(
        "no-such-type".parse().unwrap(),
    )]);
    assert_eq!(
        get(unknown.to_form()).await.1,
        "invalid_authorization_details"
    );
    let mut unknown_scope = wallet.request(None);
    unknown_scope.authorization_details = None;
    unknown_scope.scope = Some("openid email".into());
    assert_eq!(get(unknown_scope.to_form()).await.1, "invalid_scope");

    let (_, error, _) = get("response_type=token&client_id=w&scope=x".into()).await;
    assert_eq!(error, "unsupported_response_type");

    // PAR: the same rules, and a pushed request is bound to its client_id.
    let mut no_pkce = wallet.request(None);
    no_pkce.code_challenge = None;
    no_pkce.code_challenge_method = None;
    let par = |body: String| {
        let http = wallet.browser.http.clone();
        let url = format!("{}/par", issuer.url);
        async move {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        error_of(par(no_pkce.to_form()).await).await.1,
        "invalid_request"
    );
    let pushed: PushedAuthorizationResponse = par(wallet.request(None).to_form())
        .await
        .json()
        .await
        .unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "another-wallet")
        .append_pair("request_uri", &pushed.request_uri)
        .finish();
    let (_, error, description) = get(query).await;
    assert_eq!(error, "invalid_request");
    assert!(description.contains("client_id"), "{description}");
}

#[tokio::test]
async fn token_endpoint_checks_pkce_redirect_uri_client_and_expiry() {
    let (issuer, _idp) = start("ac-token-errors").await;
    offer_for(&issuer, KARIN).await;
    let wallet = Wallet::new();
    type Change = Box<dyn FnOnce(&mut AuthorizationCodeTokenRequest)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "wrong code_verifier",
            Box::new(|r| r.code_verifier = Some(CodeVerifier::generate().unwrap())),
            "invalid_grant",
        ),
        (
            "no code_verifier",
            Box::new(|r| r.code_verifier = None),
            "invalid_request",
        ),
        (
            "other redirect_uri",
            Box::new(|r| r.redirect_uri = Some("intyg-wallet://elsewhere".into())),
            "invalid_grant",
        ),
        (
            "no redirect_uri",
            Box::new(|r| r.redirect_uri = None),
            "invalid_grant",
        ),
        (
            "other client_id",
            Box::new(|r| r.client_id = Some("https://other-wallet.example".into())),
            "invalid_grant",
        ),
        (
            "other configuration",
            Box::new(|r| {
                r.authorization_details = Some(vec![AuthorizationDetail::for_configuration(
                    "education-diploma".parse().unwrap(),
                )])
            }),
            "invalid_authorization_details",
        ),
    ];
    for (what, change, expected) in cases {
        let code = wallet.code(&issuer, KARIN).await;
        let (status, error, _) = error_of(wallet.token(&issuer, &code, change).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, expected),
            "{what}"
        );
        // A failed attempt burns the code.
        let (_, error, _) = error_of(wallet.token(&issuer, &code, |_| {}).await).await;
        assert_eq!(error, "invalid_grant", "{what}: retry");
    }

    // An expired code: age the stored record.
    let code = wallet.code(&issuer, KARIN).await;
    let store = &issuer.state.stores.authorizations;
    let mut stored = store.take_code(&sha256_hex(&code)).await.unwrap().unwrap();
    assert!(stored.expires_at <= intyg_issuer::now() + 60);
    stored.expires_at = intyg_issuer::now() - 1;
    store.put_code(&sha256_hex(&code), &stored).await.unwrap();
    let (_, error, description) = error_of(wallet.token(&issuer, &code, |_| {}).await).await;
    assert_eq!(error, "invalid_grant");
    assert!(description.contains("expired"), "{description}");

    // The record is still on offer: a good exchange works.
    let code = wallet.code(&issuer, KARIN).await;
    assert_eq!(
        wallet.token(&issuer, &code, |_| {}).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn nothing_on_offer_or_a_cancelled_login_is_access_denied_on_the_redirect() {
    let (issuer, idp) = start("ac-denied").await;
    offer_for(&issuer, KARIN).await;
    let wallet = Wallet::new();

    let back = wallet
        .authorize(&issuer, &wallet.request(Some(AMIRA)))
        .await;
    assert_eq!(back["error"], "access_denied", "{back:?}");
    assert_eq!(back["state"], "wallet-state-1");
    assert!(
        back["error_description"].contains(CONFIGURATION),
        "{back:?}"
    );
    assert!(!back.contains_key("code"));

    // Karin was offered a registration certificate, not a diploma.
    let mut diploma = wallet.request(Some(KARIN));
    diploma.authorization_details = Some(vec![AuthorizationDetail::for_configuration(
        "education-diploma".parse().unwrap(),
    )]);
    let back = wallet.authorize(&issuer, &diploma).await;
    assert_eq!(back["error"], "access_denied", "{back:?}");

    // The person cancels at the identity provider.
    let to_idp = wallet
        .browser
        .http
        .get(format!(
            "{}/authorize?{}",
            issuer.url,
            wallet.request(None).to_form()
        ))
        .send()
        .await
        .unwrap();
    let html = wallet
        .browser
        .http
        .get(location(&to_idp))
        .fetch_text()
        .await;
    let cancelled = wallet.browser.answer(&idp.url, &html, Login::Cancel).await;
    let back = wallet.follow(cancelled).await;
    assert_eq!(back["error"], "access_denied", "{back:?}");
    assert_eq!(back["state"], "wallet-state-1");

    // A callback with an unknown state is shown, not redirected.
    let unknown = wallet
        .browser
        .http
        .get(format!(
            "{}/authorize/callback?code=x&state=forged",
            issuer.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(unknown).await.1, "invalid_request");
}

/// A fake OpenID Provider whose token endpoint answers with the ID token
/// the test put in `id_token`.
#[derive(Clone)]
struct Fake {
    url: String,
    key: Arc<SigningKey>,
    id_token: Arc<Mutex<String>>,
}

impl Fake {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = Self {
            url,
            key: Arc::new(SigningKey::generate().unwrap()),
            id_token: Arc::default(),
        };
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(f): State<Fake>| async move {
                    axum::Json(json!({
                        "issuer": f.url,
                        "authorization_endpoint": format!("{}/authorize", f.url),
                        "token_endpoint": format!("{}/token", f.url),
                        "jwks_uri": format!("{}/jwks", f.url),
                    }))
                }),
            )
            .route(
                "/jwks",
                get(|State(f): State<Fake>| async move {
                    let mut jwk = serde_json::to_value(f.key.public_jwk()).unwrap();
                    jwk["kid"] = "fake".into();
                    axum::Json(json!({ "keys": [jwk] }))
                }),
            )
            .route(
                "/token",
                post(|State(f): State<Fake>| async move {
                    let id_token = f.id_token.lock().unwrap().clone();
                    axum::Json(
                        json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}),
                    )
                }),
            )
            .with_state(fake.clone());
        tokio::spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap()
        });
        fake
    }

    fn sign(&self, key: &SigningKey, claims: &Value) -> String {
        sign_compact(
            &Header::new(Algorithm::ES256).kid("fake"),
            &serde_json::to_vec(claims).unwrap(),
            key,
        )
        .unwrap()
    }
}

#[tokio::test]
async fn id_tokens_with_a_bad_signature_nonce_or_audience_are_refused() {
    let (issuer, fake) = start_with("ac-fake-provider", |_| {
        let fake = Fake::start();
        (fake.url.clone(), fake)
    })
    .await;
    offer_for(&issuer, KARIN).await;
    let wallet = Wallet::new();
    let attacker = SigningKey::generate().unwrap();
    type Defect = fn(&mut Value) -> bool;
    let cases: Vec<(&str, Defect, &str)> = vec![
        ("good", |_| false, ""),
        ("signature", |_| true, "signature"),
        (
            "nonce",
            |c| {
                c["nonce"] = "not-the-one-sent".into();
                false
            },
            "nonce",
        ),
        (
            "audience",
            |c| {
                c["aud"] = "another-client".into();
                false
            },
            "aud",
        ),
        (
            "issuer",
            |c| {
                c["iss"] = "https://evil.example".into();
                false
            },
            "iss",
        ),
        (
            "expired",
            |c| {
                c["exp"] = (intyg_issuer::now() - 3600).into();
                false
            },
            "expired",
        ),
    ];
    for (what, defect, mentioned) in cases {
        let to_provider = wallet
            .browser
            .http
            .get(format!(
                "{}/authorize?{}",
                issuer.url,
                wallet.request(None).to_form()
            ))
            .send()
            .await
            .unwrap();
        let login: BTreeMap<String, String> = url::Url::parse(&location(&to_provider))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let now = intyg_issuer::now();
        let mut claims = json!({
            "iss": fake.url, "sub": "s", "aud": CLIENT_ID, "iat": now, "exp": now + 60,
            "nonce": login["nonce"], "personal_identity_number": KARIN,
        });
        let forged = defect(&mut claims);
        *fake.id_token.lock().unwrap() =
            fake.sign(if forged { &attacker } else { &fake.key }, &claims);
        let back = wallet
            .follow(format!(
                "{}/authorize/callback?code=c&state={}",
                issuer.url, login["state"]
            ))
            .await;
        if what == "good" {
            assert!(back.contains_key("code"), "{back:?}");
            continue;
        }
        assert_eq!(back["error"], "access_denied", "{what}: {back:?}");
        assert!(
            back["error_description"].contains(mentioned),
            "{what}: {back:?}"
        );
    }
}

/// HAIP 1.0 in the authorization code flow: DPoP and the wallet
/// attestation at PAR (RFC 9449 §10.1, the attestation draft §13) and at
/// `/token`, and the code bound to the PAR's DPoP key.
mod haip {
    use intyg_core::oauth::client_attestation::{ATTESTATION_HEADER, POP_HEADER};
    use intyg_issuer::policy::Profile;
    use intyg_testkit::{TempDir, WalletInstance, WalletProvider};

    use super::*;

    async fn start_haip(
        name: &str,
        provider: &WalletProvider,
        dir: &TempDir,
    ) -> (TestIssuer, DevIdp) {
        let root = provider.write_root(dir);
        let mut guard = None;
        let issuer = TestIssuer::start_with(name, |config| {
            let idp = DevIdp::spawn(&format!("http://{}/authorize/callback", config.listen));
            config.oidc = Some(OidcConfig {
                issuer_url: idp.url.clone(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                identity_claim: "personal_identity_number".into(),
                scopes: vec!["openid".into(), "profile".into()],
            });
            guard = Some(idp);
            config.profile = Profile::Haip;
            config.wallet_provider_roots = vec![root];
        })
        .await;
        (issuer, guard.unwrap())
    }

    fn nonce(issuer: &TestIssuer) -> Option<String> {
        issuer.state.dpop.fresh_nonce(intyg_issuer::now())
    }

    /// POSTs `form` to `path` with the given DPoP proof key and attestation.
    async fn post(
        issuer: &TestIssuer,
        path: &str,
        form: String,
        dpop: Option<&WalletInstance>,
        attested: Option<(&WalletProvider, &WalletInstance)>,
    ) -> reqwest::Response {
        let mut request = issuer
            .http
            .post(format!("{}{path}", issuer.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if let Some(wallet) = dpop {
            let uri = format!("{}{path}", issuer.url);
            request = request.header("DPoP", wallet.dpop(&uri, nonce(issuer).as_deref(), None));
        }
        if let Some((provider, wallet)) = attested {
            request = request
                .header(
                    ATTESTATION_HEADER,
                    provider.wallet_attestation(&wallet.client_id, &wallet.instance_key),
                )
                .header(POP_HEADER, wallet.pop(&issuer.url));
        }
        request.send().await.unwrap()
    }

    /// PAR with DPoP by `dpop_key` and the attestation, then the login: the code.
    async fn code(
        issuer: &TestIssuer,
        client: &Wallet,
        provider: &WalletProvider,
        wallet: &WalletInstance,
    ) -> String {
        let response = post(
            issuer,
            "/par",
            client.request(Some(KARIN)).to_form(),
            Some(wallet),
            Some((provider, wallet)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let pushed: PushedAuthorizationResponse = response.json().await.unwrap();
        let url = format!(
            "{}/authorize?{}",
            issuer.url,
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", WALLET)
                .append_pair("request_uri", &pushed.request_uri)
                .finish()
        );
        client
            .follow(url)
            .await
            .get("code")
            .expect("a code")
            .clone()
    }

    fn token_form(client: &Wallet, code: &str) -> String {
        TokenRequest::AuthorizationCode(AuthorizationCodeTokenRequest {
            code: AuthorizationCode::try_from(code).unwrap(),
            redirect_uri: Some(WALLET_REDIRECT.into()),
            code_verifier: Some(client.verifier.clone()),
            client_id: Some(WALLET.into()),
            authorization_details: None,
            extra: Default::default(),
        })
        .to_form()
    }

    #[tokio::test]
    async fn haip_par_and_token_need_dpop_and_the_wallet_attestation_and_bind_the_code() {
        let dir = TempDir::new("ac-haip-roots");
        let provider = WalletProvider::new("Provider A");
        let (issuer, _idp) = start_haip("ac-haip", &provider, &dir).await;
        offer_for(&issuer, KARIN).await;
        let wallet = WalletInstance::new(WALLET);
        let client = Wallet::new();
        let form = || client.request(Some(KARIN)).to_form();
        // Server nonces are opt-in (`--dpop-nonce`): none demanded here.
        assert_eq!(nonce(&issuer), None);

        let (status, error, _) =
            error_of(post(&issuer, "/par", form(), None, Some((&provider, &wallet))).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
        );
        let (status, error, description) =
            error_of(post(&issuer, "/par", form(), Some(&wallet), None).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_client")
        );
        assert!(
            description.contains("wallet attestation missing"),
            "{description}"
        );
        let mut other_client = client.request(Some(KARIN));
        other_client.client_id = "https://other-wallet.example".into();
        let (_, error, description) = error_of(
            post(
                &issuer,
                "/par",
                other_client.to_form(),
                Some(&wallet),
                Some((&provider, &wallet)),
            )
            .await,
        )
        .await;
        assert_eq!(error, "invalid_client");
        assert!(
            description.contains("is not the client_id"),
            "{description}"
        );

        // The code is bound to the PAR's DPoP key: another key cannot redeem it.
        let code = code(&issuer, &client, &provider, &wallet).await;
        let thief = WalletInstance::new(WALLET);
        let response = post(
            &issuer,
            "/token",
            token_form(&client, &code),
            Some(&thief),
            Some((&provider, &wallet)),
        )
        .await;
        let (status, error, description) = error_of(response).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
        );
        assert!(
            description.contains("bound to another DPoP key"),
            "{description}"
        );

        // The same key redeems it, DPoP-bound.
        let code = super::haip::code(&issuer, &client, &provider, &wallet).await;
        let response = post(
            &issuer,
            "/token",
            token_form(&client, &code),
            Some(&wallet),
            Some((&provider, &wallet)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let token: TokenResponse = response.json().await.unwrap();
        assert_eq!(token.token_type, "DPoP");
    }
}
