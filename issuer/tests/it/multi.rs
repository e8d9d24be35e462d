//! Two issuer instances on one PostgreSQL database, behind one public URL
//! (as behind a load balancer), sharing one data directory for the key:
//! traffic split between them must behave as one issuer.

use std::collections::HashSet;

use intyg_core::jose::SigningKey;
use intyg_core::oid4vci::credential::{CredentialRequest, CredentialResponse};
use intyg_core::oid4vci::id::CredentialConfigurationId;
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_core::status_list::{DecodeLimits, StatusListToken, StatusType};
use intyg_testkit::{KARIN, REGISTRATION_CERTIFICATE, TempDir, TestIssuer, TestPg};
use reqwest::StatusCode;
use serde_json::Value;

/// Two instances on a fresh database: A, then B (which finds A's schema
/// and key), both announcing A's URL as their public URL.
async fn pair(name: &str) -> (TestIssuer, TestIssuer, TempDir) {
    let url = TestPg::cluster().database(name).await;
    let dir = TempDir::new(&format!("{name}-shared"));
    let shared = dir.path().to_owned();
    let a = TestIssuer::start_with(&format!("{name}-a"), |config| {
        config.database_url = Some(url.clone());
        config.database_pool_size = 8;
        config.data_dir = shared.clone();
    })
    .await;
    let public_url = a.url.clone();
    let b = TestIssuer::start_with(&format!("{name}-b"), |config| {
        config.database_url = Some(url.clone());
        config.database_pool_size = 8;
        config.data_dir = shared.clone();
        config.public_url = public_url;
    })
    .await;
    (a, b, dir)
}

/// The pre-authorized code in an offer URI (by reference: fetched at
/// `issuer`).
async fn code_of(issuer: &TestIssuer, offer_uri: &str) -> String {
    let query = offer_uri.split_once('?').unwrap().1;
    let url: String = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "credential_offer_uri")
        .unwrap()
        .1
        .into_owned();
    // Fetched from `issuer`, whatever host the URI names.
    let path = url.split_once("/offers/").unwrap().1;
    let offer: Value = issuer
        .http
        .get(format!("{}/offers/{path}", issuer.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn token(issuer: &TestIssuer, code: &str, pin: &str) -> reqwest::Response {
    issuer
        .http
        .post(format!("{}/token", issuer.url))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code),
            ("tx_code", pin),
        ])
        .send()
        .await
        .unwrap()
}

/// Redeems an offer: `/token` at `token_at`, `/nonce` and `/credential` at
/// `credential_at`; the issued compact credentials.
async fn redeem(
    token_at: &TestIssuer,
    credential_at: &TestIssuer,
    offer_uri: &str,
    pin: &str,
    copies: usize,
) -> Vec<String> {
    let code = code_of(token_at, offer_uri).await;
    let response = token(token_at, &code, pin).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let c_nonce = credential_at.nonce().await;
    let audience = &token_at.state.config.public_url;
    let proofs = (0..copies)
        .map(|_| {
            let key = SigningKey::generate().unwrap();
            build_jwt_proof(&key, audience, Some(&c_nonce), intyg_issuer::now(), None).unwrap()
        })
        .collect();
    let configuration = CredentialConfigurationId::try_from(REGISTRATION_CERTIFICATE).unwrap();
    let request = CredentialRequest::for_configuration(configuration, proofs);
    let response = credential_at.credential(&access_token, &request).await;
    assert_eq!(response.status(), StatusCode::OK);
    CredentialResponse::from_json(&response.bytes().await.unwrap())
        .unwrap()
        .credentials
        .unwrap()
        .iter()
        .map(|c| c.as_compact().unwrap().to_owned())
        .collect()
}

/// The status list index and list number of a credential.
fn status_of(compact: &str) -> (u64, String) {
    use base64::Engine as _;
    let jwt = compact.split('~').next().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    let list = &claims["status"]["status_list"];
    (
        list["idx"].as_u64().unwrap(),
        list["uri"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_made_at_one_instance_is_redeemed_at_the_other_once() {
    let (a, b, _dir) = pair("multi_offer").await;
    let offer = a.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let code = code_of(&a, &offer.offer_uri).await;
    let credentials = redeem(&b, &b, &offer.offer_uri, &offer.tx_code, 2).await;
    assert_eq!(credentials.len(), 2);
    // The code was used at B: A refuses it.
    let again = token(&a, &code, &offer.tx_code).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    // Both instances sign with the one key in the shared directory.
    assert_eq!(a.published_jwk().await, b.published_jwk().await);
    // A's admin API sees what B issued.
    let listed = a.admin.credentials(KARIN).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_at_one_instance_is_in_the_other_instances_next_status_list() {
    let (a, b, _dir) = pair("multi_revoke").await;
    let offer = a.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await;
    let credentials = redeem(&a, &a, &offer.offer_uri, &offer.tx_code, 1).await;
    let (idx, uri) = status_of(&credentials[0]);
    let list_path = uri.split_once("/status/").unwrap().1.to_owned();
    let key = a.published_jwk().await;
    let fetch = |issuer: &TestIssuer| {
        let url = format!("{}/status/{list_path}", issuer.url);
        let (http, key, uri) = (issuer.http.clone(), key.clone(), uri.clone());
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            let jwt = response.text().await.unwrap();
            let token = StatusListToken::verify(
                &jwt,
                &key,
                &uri,
                intyg_issuer::now(),
                DecodeLimits::default(),
            )
            .unwrap();
            let index = intyg_core::status_list::StatusIndex::from(idx);
            (token.status(index).unwrap(), etag)
        }
    };
    let (before, etag_a) = fetch(&a).await;
    let (before_b, etag_b) = fetch(&b).await;
    assert_eq!((before, before_b), (StatusType::Valid, StatusType::Valid));
    assert_eq!(etag_a, etag_b, "both instances serve the one signed token");

    a.admin
        .change_status(&offer.credential_ids[0], "revoke")
        .await;
    let (after, etag_after) = fetch(&b).await;
    assert_eq!(
        after,
        StatusType::Invalid,
        "B serves A's revocation at once"
    );
    assert_ne!(etag_after, etag_b);
    let (at_a, etag_a_after) = fetch(&a).await;
    assert_eq!(at_a, StatusType::Invalid);
    assert_eq!(etag_a_after, etag_after, "signed once, served by both");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_issuance_at_both_instances_never_shares_a_status_index() {
    let (a, b, _dir) = pair("multi_indices").await;
    let mut offers = Vec::new();
    for i in 0..12 {
        let at = if i % 2 == 0 { &a } else { &b };
        offers.push(at.admin.offer(REGISTRATION_CERTIFICATE, KARIN).await);
    }
    let runs = offers.iter().enumerate().map(|(i, offer)| {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        redeem(first, second, &offer.offer_uri, &offer.tx_code, 3)
    });
    let issued: Vec<Vec<String>> = futures_util::future::join_all(runs).await;
    let mut seen = HashSet::new();
    for credential in issued.iter().flatten() {
        let (idx, uri) = status_of(credential);
        assert!(
            seen.insert((uri, idx)),
            "status index {idx} handed out twice"
        );
    }
    assert_eq!(seen.len(), 36);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_throttling_is_shared_by_the_instances() {
    use intyg_issuer::portal::{DEV_OFFICER, DEV_PASSWORD};
    use intyg_testkit::PortalBrowser;
    let (a, b, _dir) = pair("multi-throttle").await;
    let guesser = "127.0.0.2".parse().unwrap();
    let mut at_a = PortalBrowser::from_address(&a.url, guesser);
    let mut at_b = PortalBrowser::from_address(&b.url, guesser);
    // Guesses alternate between the instances: the fifth is held either way.
    let mut held = None;
    for n in 0..12 {
        let browser = if n % 2 == 0 { &mut at_a } else { &mut at_b };
        let page = browser.sign_in(DEV_OFFICER, "gissning").await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            held = Some(n);
            break;
        }
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let held = held.expect("throttled across instances");
    assert!(held >= 5, "{held}");
    // Another address signs in at B at once.
    let password =
        std::env::var("INTYG_OFFICER_PASSWORD").unwrap_or_else(|_| DEV_PASSWORD.to_owned());
    let mut officer = PortalBrowser::from_address(&b.url, "127.0.0.3".parse().unwrap());
    let ok = officer.sign_in(DEV_OFFICER, &password).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
}
