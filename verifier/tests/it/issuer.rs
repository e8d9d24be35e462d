//! With the real issuer in process: `--trust-issuer` fetches its
//! `/.well-known/jwt-vc-issuer` keys, the holder gets credentials over
//! OpenID4VCI, presents them, and a revocation at the issuer makes the
//! verifier report `revoked`.

use intyg_core::jose::SigningKey;
use intyg_core::oid4vci::UrlRules;
use intyg_core::oid4vci::credential::{CredentialRequest, CredentialResponse};
use intyg_core::oid4vci::id::{CredentialConfigurationId, PreAuthorizedCode, TxCode};
use intyg_core::oid4vci::nonce::NonceResponse;
use intyg_core::oid4vci::offer::{CredentialOffer, CredentialOfferRequest};
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_core::oid4vci::token::{PreAuthorizedCodeTokenRequest, TokenRequest, TokenResponse};
use intyg_issuer::config::Config as IssuerConfig;
use serde_json::{Value, json};

use crate::flow::Holder;
use crate::{TempDir, Verifier, example};

const ISSUER_KEY: &str = "issuer-admin-key-0123456789";
const SUBJECT: &str = "199403172381";

struct RealIssuer {
    url: String,
    http: reqwest::Client,
    _dir: TempDir,
}

impl RealIssuer {
    async fn start() -> Self {
        Self::with_status_ttl(1).await
    }

    /// An issuer whose status list tokens say `ttl` (seconds).
    async fn with_status_ttl(ttl: i64) -> Self {
        let dir = TempDir::new("real-issuer");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = IssuerConfig::dev(dir.0.clone(), addr).unwrap();
        config.api_key = Some(ISSUER_KEY.into());
        config.status_list.ttl_seconds = ttl;
        let state = intyg_issuer::AppState::open(config).await.unwrap();
        let router = intyg_issuer::app(state);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Offers `kind` and runs the pre-authorized flow as a wallet; returns
    /// the credential and the issuer's record id.
    async fn obtain(&self, kind: &str, holder: &SigningKey) -> (String, String) {
        let created: Value = self
            .http
            .post(format!("{}/api/offers", self.url))
            .bearer_auth(ISSUER_KEY)
            .json(&json!({"credential_configuration_id": kind, "claims": example(kind), "subject": SUBJECT}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rules = UrlRules::DangerousAllowHttpLoopback;
        let CredentialOfferRequest::ByReference(url) =
            CredentialOffer::from_uri_with(created["offer_uri"].as_str().unwrap(), rules).unwrap()
        else {
            panic!("offers are by reference");
        };
        let body = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let offer = CredentialOffer::from_json_with(&body, rules).unwrap();
        let code: PreAuthorizedCode = offer
            .pre_authorized_grant()
            .unwrap()
            .pre_authorized_code
            .clone();
        let token = TokenRequest::PreAuthorizedCode(PreAuthorizedCodeTokenRequest {
            pre_authorized_code: code,
            tx_code: Some(TxCode::try_from(created["tx_code"].as_str().unwrap()).unwrap()),
            client_id: None,
            authorization_details: None,
            extra: Default::default(),
        });
        let token: TokenResponse = self
            .http
            .post(format!("{}/token", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(token.to_form())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let nonce: NonceResponse = self
            .http
            .post(format!("{}/nonce", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let proof = build_jwt_proof(
            holder,
            &self.url,
            Some(&nonce.c_nonce),
            intyg_issuer::now(),
            None,
        )
        .unwrap();
        let request = CredentialRequest::for_configuration(
            CredentialConfigurationId::try_from(kind).unwrap(),
            vec![proof],
        );
        let response = self
            .http
            .post(format!("{}/credential", self.url))
            .bearer_auth(token.access_token.as_str())
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let response = CredentialResponse::from_json(&response.bytes().await.unwrap()).unwrap();
        let credential = response.credentials.unwrap()[0]
            .as_compact()
            .unwrap()
            .to_owned();
        (
            credential,
            created["credential_ids"][0].as_str().unwrap().to_owned(),
        )
    }
}

#[tokio::test]
async fn real_issuer_credentials_verify_and_revocation_is_seen() {
    let issuer = RealIssuer::start().await;
    let issuer_url = issuer.url.clone();
    let verifier = Verifier::start("real-issuer", move |config| {
        config.trust_issuers = vec![issuer_url];
        config.status_fetch.max_ttl_seconds = 1;
    })
    .await;
    let key = SigningKey::generate().unwrap();
    let (registration, registration_id) = issuer.obtain("registration-certificate", &key).await;
    let (eligibility, _) = issuer.obtain("internship-eligibility", &key).await;
    let holder = Holder {
        key,
        credentials: vec![
            ("registration".into(), registration),
            ("eligibility".into(), eligibility),
        ],
    };

    let session = verifier.session().await;
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 200);
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["status"], "verified", "{shown}");
    assert_eq!(shown["credentials"][0]["issuer"], issuer.url.as_str());

    let revoked = issuer
        .http
        .post(format!(
            "{}/api/credentials/{registration_id}/revoke",
            issuer.url
        ))
        .bearer_auth(ISSUER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    // The verifier's cached list lives at most a second.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let session = verifier.session().await;
    let response = verifier.post(&session, holder.respond(&session)).await;
    assert_eq!(response.status(), 400);
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["status"], "failed");
    assert_eq!(shown["reason"], "revoked");
}

impl RealIssuer {
    async fn revoke(&self, id: &str) {
        let revoked = self
            .http
            .post(format!("{}/api/credentials/{id}/revoke", self.url))
            .bearer_auth(ISSUER_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
    }
}

/// A holder with a registration certificate and an eligibility from
/// `issuer`, and the issuer's id of the registration certificate.
async fn holder_from(issuer: &RealIssuer) -> (Holder, String) {
    let key = SigningKey::generate().unwrap();
    let (registration, registration_id) = issuer.obtain("registration-certificate", &key).await;
    let (eligibility, _) = issuer.obtain("internship-eligibility", &key).await;
    let holder = Holder {
        key,
        credentials: vec![
            ("registration".into(), registration),
            ("eligibility".into(), eligibility),
        ],
    };
    (holder, registration_id)
}

/// Presents everything `holder` has to a new request from the template
/// and returns the presentation as the HR API shows it.
async fn present_to(verifier: &Verifier, holder: &Holder) -> Value {
    let session = verifier.session().await;
    verifier.post(&session, holder.respond(&session)).await;
    verifier.show(&session.id).await
}

/// The issuer's lists live 300 s. With `max_status_age = 0` for the
/// template the verifier fetches the list for each presentation, so a
/// revocation made a second before is caught although the list it
/// fetched for the previous presentation has not expired.
#[tokio::test]
async fn max_status_age_zero_catches_a_revocation_made_a_second_earlier() {
    let issuer = RealIssuer::with_status_ttl(300).await;
    let issuer_url = issuer.url.clone();
    let verifier = Verifier::start("max-status-age", move |config| {
        config.trust_issuers = vec![issuer_url];
        config.templates.insert(
            "internship-application".into(),
            intyg_verifier::config::TemplateSettings {
                max_status_age: Some(0),
            },
        );
    })
    .await;
    let (holder, registration_id) = holder_from(&issuer).await;
    let first = present_to(&verifier, &holder).await;
    assert_eq!(first["status"], "verified", "{first}");
    let credential = &first["credentials"][0];
    let checked = credential["status_checked_at"].as_i64().unwrap();
    assert_eq!(
        credential["status_list_fetched_at"].as_i64().unwrap(),
        checked
    );
    assert!(credential["status_list_issued_at"].as_i64().unwrap() <= checked);

    issuer.revoke(&registration_id).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let second = present_to(&verifier, &holder).await;
    assert_eq!(second["status"], "failed", "{second}");
    assert_eq!(second["reason"], "revoked");
}

/// The same revocation with the default policy: the list fetched for the
/// first presentation is still within its `ttl`, so the verifier uses it
/// and does not see the revocation (what `max_status_age` is for).
#[tokio::test]
async fn without_max_status_age_the_cached_list_is_used_for_its_ttl() {
    let issuer = RealIssuer::with_status_ttl(300).await;
    let issuer_url = issuer.url.clone();
    let verifier = Verifier::start("status-ttl", move |config| {
        config.trust_issuers = vec![issuer_url];
    })
    .await;
    let (holder, registration_id) = holder_from(&issuer).await;
    let first = present_to(&verifier, &holder).await;
    assert_eq!(first["status"], "verified", "{first}");
    issuer.revoke(&registration_id).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let second = present_to(&verifier, &holder).await;
    assert_eq!(second["status"], "verified", "{second}");
    let credential = &second["credentials"][0];
    assert!(
        credential["status_list_fetched_at"].as_i64().unwrap()
            < credential["status_checked_at"].as_i64().unwrap(),
        "the list of the first presentation was used: {credential}"
    );
}

/// A posting's `max_status_age` (HR API) applies to its applications.
#[tokio::test]
async fn a_postings_max_status_age_applies_to_its_applications() {
    let issuer = RealIssuer::with_status_ttl(300).await;
    let issuer_url = issuer.url.clone();
    let verifier = Verifier::start("posting-status-age", move |config| {
        config.trust_issuers = vec![issuer_url];
    })
    .await;
    let (holder, registration_id) = holder_from(&issuer).await;
    let first = present_to(&verifier, &holder).await;
    assert_eq!(first["status"], "verified", "{first}");
    let posting: Value = verifier
        .post_json(
            "/api/postings",
            &json!({"title": "Lager", "description": "Tolv veckor", "purpose": "Ansökan", "max_status_age": 0}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(posting["max_status_age"], 0);
    issuer.revoke(&registration_id).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let opened: Value = verifier
        .post_json(
            &format!(
                "/api/postings/{}/applications",
                posting["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let session = verifier
        .session_of(
            opened["request_uri"].as_str().unwrap(),
            opened["id"].as_str().unwrap(),
        )
        .await;
    verifier.post(&session, holder.respond(&session)).await;
    let shown = verifier.show(&session.id).await;
    assert_eq!(shown["reason"], "revoked", "{shown}");
}
