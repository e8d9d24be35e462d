//! The pre-authorized code flow (OpenID4VCI 1.0 §3.5) end to end, with the
//! wallet played by a client built on `intyg_core`, and every error path of
//! `/token`, `/nonce` and `/credential`.

use intyg_core::jose::{SigningKey, VerifyingKey};
use intyg_core::oid4vci::UrlRules;
use intyg_core::oid4vci::credential::{CredentialRequest, CredentialResponse};
use intyg_core::oid4vci::id::{CNonce, CredentialConfigurationId, PreAuthorizedCode, TxCode};
use intyg_core::oid4vci::metadata::{AuthorizationServerMetadata, CredentialIssuerMetadata};
use intyg_core::oid4vci::offer::{CredentialOffer, CredentialOfferRequest, OfferError};
use intyg_core::oid4vci::proof::build_jwt_proof;
use intyg_core::oid4vci::token::{PreAuthorizedCodeTokenRequest, TokenRequest, TokenResponse};
use intyg_core::sd_jwt::{SdJwt, VerifyOptions};
use intyg_core::status_list::{DecodeLimits, StatusListToken, StatusType};
use intyg_core::vc;
use intyg_testkit::{
    Fetch, KARIN as SUBJECT, OfferCreated as Handed, REGISTRATION_CERTIFICATE, TestIssuer,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const LOOPBACK: UrlRules = UrlRules::DangerousAllowHttpLoopback;

/// What the officer hands the job seeker: the link and the PIN.
async fn hand_over(issuer: &TestIssuer) -> Handed {
    issuer.admin.offer(REGISTRATION_CERTIFICATE, SUBJECT).await
}

async fn fetch_offer(issuer: &TestIssuer, uri: &str) -> CredentialOffer {
    // The development issuer serves http on loopback; production wallets
    // keep the https-only default, which refuses this link.
    assert!(matches!(
        CredentialOffer::from_uri(uri),
        Err(OfferError::OfferUriNotHttps(_))
    ));
    let CredentialOfferRequest::ByReference(url) =
        CredentialOffer::from_uri_with(uri, LOOPBACK).unwrap()
    else {
        panic!("offers are made by reference");
    };
    let body = issuer.http.get(url).fetch_text().await;
    CredentialOffer::from_json_with(&body, LOOPBACK).unwrap()
}

async fn token(
    issuer: &TestIssuer,
    code: &PreAuthorizedCode,
    pin: Option<&str>,
) -> reqwest::Response {
    let request = TokenRequest::PreAuthorizedCode(PreAuthorizedCodeTokenRequest {
        pre_authorized_code: code.clone(),
        tx_code: pin.map(|p| TxCode::try_from(p).unwrap()),
        client_id: None,
        authorization_details: None,
        extra: Default::default(),
    });
    issuer
        .http
        .post(format!("{}/token", issuer.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(request.to_form())
        .send()
        .await
        .unwrap()
}

fn request_for(proofs: Vec<String>) -> Value {
    let configuration = CredentialConfigurationId::try_from("registration-certificate").unwrap();
    serde_json::to_value(CredentialRequest::for_configuration(configuration, proofs)).unwrap()
}

/// The pre-authorized code of the offer `handed` links to.
async fn code_of(issuer: &TestIssuer, handed: &Handed) -> PreAuthorizedCode {
    let offer = fetch_offer(issuer, &handed.offer_uri).await;
    offer
        .pre_authorized_grant()
        .unwrap()
        .pre_authorized_code
        .clone()
}

/// A PIN that is not `pin`.
fn wrong_pin(pin: &str) -> &'static str {
    if pin == "000000" { "111111" } else { "000000" }
}

async fn access_token(issuer: &TestIssuer, handed: &Handed) -> String {
    let code = code_of(issuer, handed).await;
    let response = token(issuer, &code, Some(&handed.tx_code)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: TokenResponse = response.json().await.unwrap();
    token.access_token.as_str().to_owned()
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// The `error` of a response's JSON body.
async fn error(response: reqwest::Response) -> String {
    error_of(&response.json().await.unwrap()).to_owned()
}

#[tokio::test]
async fn pre_authorized_flow_issues_a_batch_that_verifies_and_can_be_revoked() {
    let issuer = TestIssuer::start("flow").await;
    let handed = hand_over(&issuer).await;

    // Discovery, as a wallet does it.
    let well_known = CredentialIssuerMetadata::well_known_url_with(&issuer.url, LOOPBACK).unwrap();
    let body = issuer.http.get(well_known).fetch_text().await;
    let metadata =
        CredentialIssuerMetadata::from_json_for_with(&body, &issuer.url, LOOPBACK).unwrap();
    assert_eq!(
        metadata.nonce_endpoint.as_deref(),
        Some(format!("{}/nonce", issuer.url).as_str())
    );
    assert_eq!(
        metadata
            .batch_credential_issuance
            .as_ref()
            .unwrap()
            .batch_size,
        10
    );
    let config = &metadata.credential_configurations_supported
        [&CredentialConfigurationId::try_from("registration-certificate").unwrap()];
    assert_eq!(config.format.as_str(), "dc+sd-jwt");
    let display = config
        .credential_metadata
        .as_ref()
        .unwrap()
        .display
        .as_ref()
        .unwrap();
    assert!(
        display.iter().any(|d| d.locale.as_deref() == Some("sv"))
            && display.iter().any(|d| d.locale.as_deref() == Some("en"))
    );
    let as_metadata: AuthorizationServerMetadata = issuer
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.url
        ))
        .fetch_json()
        .await;
    assert_eq!(
        as_metadata.pre_authorized_grant_anonymous_access_supported,
        Some(true)
    );

    let access_token = access_token(&issuer, &handed).await;
    let c_nonce = issuer.nonce().await;
    let holders = [
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    ];
    let now = intyg_issuer::now();
    let proofs = holders
        .iter()
        .map(|k| build_jwt_proof(k, &issuer.url, Some(&c_nonce), now, None).unwrap())
        .collect();
    let response = issuer.credential(&access_token, &request_for(proofs)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = CredentialResponse::from_json(&response.bytes().await.unwrap()).unwrap();
    let credentials = response.credentials.unwrap();
    assert_eq!(credentials.len(), 2);

    let issuer_jwk = issuer.published_jwk().await;
    let issuer_key = VerifyingKey::from_jwk(&issuer_jwk).unwrap();
    let kind = &issuer.state.types["registration-certificate"];
    let mut references = Vec::new();
    for (issued, holder) in credentials.iter().zip(&holders) {
        let sd_jwt = SdJwt::parse(issued.as_compact().unwrap()).unwrap();
        assert_eq!(sd_jwt.header().kid.as_deref(), issuer_jwk.key_id.as_deref());
        let verified =
            vc::verify(sd_jwt, &issuer_key, &VerifyOptions::at(now), Some(kind)).unwrap();
        assert_eq!(
            verified.sd_jwt.claims["registration_status"],
            "in_programme"
        );
        assert_eq!(
            verified.sd_jwt.holder_key.as_ref(),
            Some(&holder.public_jwk())
        );
        references.push(verified.status.unwrap().status_list.unwrap());
    }
    assert_ne!(
        references[0].idx, references[1].idx,
        "each copy has its own status entry"
    );

    // The officer revokes; the next fetch of the list shows it.
    issuer
        .admin
        .change_status(&handed.credential_ids[0], "revoke")
        .await;
    for reference in &references {
        let jwt = issuer.http.get(&reference.uri).fetch_text().await;
        let token = StatusListToken::verify(
            &jwt,
            &issuer_jwk,
            &reference.uri,
            now,
            DecodeLimits::default(),
        )
        .unwrap();
        assert_eq!(token.status(reference.idx).unwrap(), StatusType::Invalid);
    }
}

#[tokio::test]
async fn token_errors() {
    let issuer = TestIssuer::start("token-errors").await;
    let handed = hand_over(&issuer).await;
    let code = code_of(&issuer, &handed).await;

    let unknown = token(
        &issuer,
        &PreAuthorizedCode::try_from("not-a-code").unwrap(),
        Some(&handed.tx_code),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error(unknown).await, "invalid_grant");

    let no_pin = token(&issuer, &code, None).await;
    assert_eq!(error(no_pin).await, "invalid_request");

    let wrong = wrong_pin(&handed.tx_code);
    let wrong_pin = token(&issuer, &code, Some(wrong)).await;
    assert_eq!(error(wrong_pin).await, "invalid_grant");

    let ok = token(&issuer, &code, Some(&handed.tx_code)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let replay = token(&issuer, &code, Some(&handed.tx_code)).await;
    assert_eq!(error(replay).await, "invalid_grant");

    let bad_grant = issuer
        .http
        .post(format!("{}/token", issuer.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password&username=a")
        .send()
        .await
        .unwrap();
    assert_eq!(error(bad_grant).await, "unsupported_grant_type");

    // The offer was used: its credential_offer_uri is gone.
    let CredentialOfferRequest::ByReference(url) =
        CredentialOffer::from_uri_with(&handed.offer_uri, LOOPBACK).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        issuer.http.get(url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn five_wrong_pins_kill_the_offer() {
    let issuer = TestIssuer::start("pins").await;
    let handed = hand_over(&issuer).await;
    let code = code_of(&issuer, &handed).await;
    let wrong = wrong_pin(&handed.tx_code);
    for _ in 0..5 {
        token(&issuer, &code, Some(wrong)).await;
    }
    let right_too_late = token(&issuer, &code, Some(&handed.tx_code)).await;
    let body: Value = right_too_late.json().await.unwrap();
    assert_eq!(error_of(&body), "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too many")
    );
}

#[tokio::test]
async fn credential_errors() {
    let issuer = TestIssuer::start("credential-errors").await;
    let handed = hand_over(&issuer).await;
    let access_token = access_token(&issuer, &handed).await;
    let holder = SigningKey::generate().unwrap();
    let now = intyg_issuer::now();
    let refused = async |body: &Value| error(issuer.credential(&access_token, body).await).await;

    let no_token = issuer
        .http
        .post(format!("{}/credential", issuer.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error(no_token).await, "invalid_token");
    let bad_token = issuer.credential("nope", &json!({})).await;
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);

    // The pre-final singular `proof` is refused with a message saying so.
    let c_nonce = issuer.nonce().await;
    let proof = build_jwt_proof(&holder, &issuer.url, Some(&c_nonce), now, None).unwrap();
    let singular = issuer.credential(&access_token, &json!({"credential_configuration_id": "registration-certificate", "proof": {"proof_type": "jwt", "jwt": proof}})).await;
    let singular: Value = singular.json().await.unwrap();
    assert_eq!(error_of(&singular), "invalid_proof");
    assert!(
        singular["error_description"]
            .as_str()
            .unwrap()
            .contains("proofs"),
        "{singular}"
    );

    let other_type = json!({"credential_configuration_id": "education-diploma", "proofs": {"jwt": [proof.clone()]}});
    assert_eq!(
        refused(&other_type).await,
        "unknown_credential_configuration"
    );

    let wrong_aud = build_jwt_proof(
        &holder,
        "https://other-issuer.example",
        Some(&c_nonce),
        now,
        None,
    )
    .unwrap();
    assert_eq!(
        refused(&request_for(vec![wrong_aud])).await,
        "invalid_proof"
    );

    let no_nonce = build_jwt_proof(&holder, &issuer.url, None, now, None).unwrap();
    assert_eq!(refused(&request_for(vec![no_nonce])).await, "invalid_nonce");

    let made_up = build_jwt_proof(
        &holder,
        &issuer.url,
        Some(&CNonce::try_from("made-up").unwrap()),
        now,
        None,
    )
    .unwrap();
    let made_up: Value = issuer
        .credential(&access_token, &request_for(vec![made_up]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error_of(&made_up), "invalid_nonce");
    assert!(
        made_up["error_description"]
            .as_str()
            .unwrap()
            .starts_with("the c_nonce was not issued here"),
        "{made_up}"
    );

    let too_many = request_for(vec![proof.clone(); 11]);
    assert_eq!(refused(&too_many).await, "invalid_credential_request");

    // A good request works once; the nonce and the offer are then spent.
    let ok = issuer
        .credential(&access_token, &request_for(vec![proof.clone()]))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let again = issuer
        .credential(&access_token, &request_for(vec![proof]))
        .await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(error_of(&again), "invalid_nonce");
    assert!(
        again["error_description"]
            .as_str()
            .unwrap()
            .starts_with("the c_nonce was already used"),
        "{again}"
    );
    let fresh = issuer.nonce().await;
    let proof = build_jwt_proof(&holder, &issuer.url, Some(&fresh), now, None).unwrap();
    let second = issuer
        .credential(&access_token, &request_for(vec![proof]))
        .await;
    assert_eq!(error(second).await, "credential_request_denied");
}
